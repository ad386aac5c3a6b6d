//! Removing Whisper's repetition loops. On short clips Whisper can get stuck and say the same
//! phrase again and again ("Where is my order? Where is my order? Where is my ..."). A caller
//! does not repeat themselves word for word within one turn, so a text whose tail is the same
//! run of words two or more times over keeps only the first copy.

/// Loops this long (in words) or longer are collapsed from two copies on.
const MIN_PERIOD: usize = 3;
/// Shorter loops ("no, no, no" is real speech) only from this many copies on.
const SHORT_LOOP_COPIES: usize = 4;
/// Texts longer than this (words) are left alone: the search is quadratic.
const MAX_WORDS: usize = 400;

/// `text` with a trailing repetition loop reduced to its first copy.
///
/// Words compare without case and punctuation.
pub fn collapse_repeats(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let n = words.len();
    if !(SHORT_LOOP_COPIES..=MAX_WORDS).contains(&n) {
        return text.to_string();
    }
    let key = |w: &str| {
        w.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
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
    fn ordinary_speech_is_untouched() {
        for text in [
            "ask not what your country can do for you, ask what you can do for your country",
            "no, no, no",
            "one two three",
            "",
            "yes yes",
            "no, no, no",
        ] {
            assert_eq!(collapse_repeats(text), text);
        }
    }
}
