//! Removing Whisper's repetition loops. On short clips Whisper can get stuck and say the same
//! phrase again and again ("Where is my order? Where is my order? Where is my ..."). A caller
//! does not repeat themselves word for word within one turn, so a text whose tail is the same
//! run of words two or more times over keeps only the first copy, and a whole sentence said
//! twice in a row ("Yes. Yes.", Whisper's loop on a one-word answer; "好的。好的。") is kept once.

/// Loops this long (in words) or longer are collapsed from two copies on.
const MIN_PERIOD: usize = 3;
/// Shorter loops ("no, no, no" is real speech) only from this many copies on.
const SHORT_LOOP_COPIES: usize = 4;
/// Texts longer than this (words) are left alone: the search is quadratic.
const MAX_WORDS: usize = 400;

/// `text` with a sentence that repeats the one before it removed and a trailing repetition
/// loop reduced to its first copy.
///
/// Words compare without case and punctuation.
pub fn collapse_repeats(text: &str) -> String {
    drop_repeated_sentences(&collapse_loop(text))
}

/// Letters and digits, lower-case: what two words or sentences are compared by.
fn key(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// `text` without any sentence that is the same as the sentence just before it. Repetition
/// within a sentence ("no, no, no") is left alone: that is how people talk; a sentence said
/// twice over adds nothing to what the caller asked.
fn drop_repeated_sentences(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut previous: Option<String> = None;
    let mut dropped = false;
    for sentence in sentences(text) {
        let key = key(sentence);
        if !key.is_empty() && previous.as_deref() == Some(key.as_str()) {
            dropped = true;
        } else {
            out.push_str(sentence);
        }
        previous = Some(key);
    }
    if !dropped {
        return text.to_string();
    }
    out.trim_end().to_string()
}

/// `text` cut after each sentence's end, with the spaces that follow it: `.`, `?` or `!`
/// before a space or the end of the text (not the dot of "79.99"), and `。`, `？` or `！`
/// anywhere (Mandarin puts no space after them).
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        let ends = matches!(c, '。' | '？' | '！')
            || (matches!(c, '.' | '?' | '!') && next.is_none_or(char::is_whitespace));
        if !ends {
            continue;
        }
        let mut end = i + c.len_utf8();
        while let Some(&(j, n)) = chars.peek() {
            if !n.is_whitespace() {
                break;
            }
            end = j + n.len_utf8();
            chars.next();
        }
        out.push(&text[start..end]);
        start = end;
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// `text` with a trailing repetition loop reduced to its first copy.
fn collapse_loop(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let n = words.len();
    if !(SHORT_LOOP_COPIES..=MAX_WORDS).contains(&n) {
        return text.to_string();
    }
    let keys: Vec<String> = words.iter().map(|w| key(w)).collect();
    // Earliest start, then shortest period, such that everything after the first copy repeats
    // it (the last copy may be cut short) and at least two whole copies are present.
    for start in 0..n {
        for period in 1..=(n - start) / 2 {
            let copies = if period < MIN_PERIOD {
                SHORT_LOOP_COPIES
            } else {
                2
            };
            if n - start < copies * period {
                continue;
            }
            let periodic = (start + period..n).all(|i| keys[i] == keys[i - period]);
            if periodic {
                return words[..start + period].join(" ");
            }
        }
    }
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loops_are_cut_to_one_copy() {
        assert_eq!(
            collapse_repeats("Where is my order? Where is my order? Where is my order? Where is"),
            "Where is my order?"
        );
        assert_eq!(
            collapse_repeats("Hi. Cancel my order please. Cancel my order please."),
            "Hi. Cancel my order please."
        );
        assert_eq!(collapse_repeats("Yes. Yes. Yes. Yes. Yes. Yes."), "Yes.");
    }

    #[test]
    fn a_sentence_said_twice_in_a_row_is_kept_once() {
        assert_eq!(collapse_repeats("Yes. Yes."), "Yes.");
        assert_eq!(collapse_repeats("Yes. yes"), "Yes.");
        assert_eq!(
            collapse_repeats("No. No! I want a refund. I want a refund."),
            "No. I want a refund."
        );
        assert_eq!(collapse_repeats("好的。好的。"), "好的。");
        assert_eq!(
            collapse_repeats("It is 79.99. It is 79.99."),
            "It is 79.99."
        );
        // Only in a row: the same sentence apart is left alone.
        assert_eq!(
            collapse_repeats("Yes. The blue one. Yes."),
            "Yes. The blue one. Yes."
        );
    }

    #[test]
    fn ordinary_speech_is_untouched() {
        for text in [
            "ask not what your country can do for you, ask what you can do for your country",
            "no, no, no",
            "one two three",
            "",
            "yes yes",
            "Yes, yes.",
            "no, no, no",
            "Yes. Yes, that's right.",
        ] {
            assert_eq!(collapse_repeats(text), text);
        }
    }
}
