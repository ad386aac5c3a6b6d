//! Does a caller's transcript sound like a finished turn? Told yes, the turn detector ends the
//! turn after a shorter silence (`call.finished_end_silence_ms`), which is most of what a
//! caller waits for on a small server. The rules are deliberately cautious: a wrong "finished"
//! cuts the caller off (they can still barge in), a wrong "not finished" only costs the usual
//! wait.
//!
//! Finished: Whisper ended the text with a full stop, question or exclamation mark (English or
//! Chinese), and the last word is not one a sentence goes on from: a conjunction, an article
//! or possessive, a preposition, a filler, "is" (as in "my order number is"), or a short
//! number (digits dictated in groups).

/// Words after which an English sentence goes on.
const GOES_ON_EN: &[&str] = &[
    "and", "but", "or", "so", "because", "um", "uh", "er", "erm", "hmm", "the", "a", "an", "my",
    "your", "our", "their", "to", "of", "for", "with", "from", "in", "on", "at", "is", "was",
    "are", "if", "then", "that", "which", "like", "also", "about", "by",
];

/// Endings after which a Mandarin sentence goes on.
const GOES_ON_ZH: &[&str] = &[
    "和", "跟", "还有", "然后", "就是", "那个", "这个", "嗯", "呃", "啊", "因为", "但是", "所以",
    "或者", "是", "的是", "我的", "在",
];

/// The marks that end a sentence, English and Chinese.
pub const SENTENCE_STOPS: [char; 6] = ['.', '?', '!', '。', '？', '！'];

/// A number this short at the end is taken as the first group of a longer one.
const SHORT_NUMBER_DIGITS: usize = 4;

pub fn sounds_finished(text: &str) -> bool {
    let text = text.trim();
    let Some(last) = text.chars().last() else {
        return false;
    };
    if !SENTENCE_STOPS.contains(&last) || text.ends_with("..") {
        return false;
    }
    let body = text.trim_end_matches(SENTENCE_STOPS).trim_end();
    if body.is_empty() || body.ends_with(['…', ',', '，', '、', ':', '：', '-']) {
        return false;
    }
    if GOES_ON_ZH.iter().any(|ending| body.ends_with(ending)) {
        return false;
    }
    let word: String = body
        .rsplit(|c: char| c.is_whitespace() || (c.is_ascii_punctuation() && c != '\''))
        .next()
        .unwrap_or("")
        .to_lowercase();
    if GOES_ON_EN.contains(&word.as_str()) {
        return false;
    }
    let trailing_digits = body
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .count();
    !(1..=SHORT_NUMBER_DIGITS).contains(&trailing_digits)
}

/// A finished sentence that no later words can change: it sounds finished and does not end in
/// a number (a caller who pauses inside an order number or ZIP code may say more of its digits
/// at any length). The speech recognizer keeps such a sentence's words when the caller goes
/// on, and decodes only what comes after (`AsrStream::commit_sentence`).
pub fn sentence_closed(text: &str) -> bool {
    let body = text.trim().trim_end_matches(SENTENCE_STOPS);
    sounds_finished(text) && !body.ends_with(|c: char| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::{sentence_closed, sounds_finished};

    #[test]
    fn whole_sentences_are_finished() {
        for text in [
            "Where is my order?",
            " I'd like to return the headphones. ",
            "Yes.",
            "Yes, please!",
            "My order number is 100042.",
            "My ZIP code is 94107.",
            "我想退货。",
            "订单号100042。",
            "是的！",
            "Can you cancel it, please?",
        ] {
            assert!(sounds_finished(text), "{text:?}");
        }
    }

    #[test]
    fn sentences_that_go_on_are_not() {
        for text in [
            "",
            "   ",
            "I want to return",
            "I want to return the headphones and",
            "I want to return the headphones and.",
            "My order number is.",
            "My order number is 100.",
            "It's for my.",
            "Well, um.",
            "So I was wondering...",
            "Let me see…",
            "The order,",
            "我想退货，然后。",
            "我的订单号是。",
            "还有。",
            ".",
        ] {
            assert!(!sounds_finished(text), "{text:?}");
        }
    }

    #[test]
    fn a_closed_sentence_is_finished_and_ends_in_no_number() {
        for text in [
            "Hi.",
            "I want to make a complaint.",
            "Can you cancel it?",
            "我想退货。",
        ] {
            assert!(sentence_closed(text), "{text:?}");
        }
        for text in [
            "My order number is 100042.",
            "My ZIP code is 94107.",
            "订单号100042。",
            "I want to return the headphones and.",
            "I want to return",
        ] {
            assert!(!sentence_closed(text), "{text:?}");
        }
    }
}
