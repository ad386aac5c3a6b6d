//! English inside Mandarin text (a carrier's name, a product's, a tracking number's letters),
//! in the phonemes Kokoro v1.0 was trained on (see [`misaki`]), word by word. Capitals-only
//! words (UPS, USB) and lone letters are spelled out letter by letter.

use crate::tts::{espeak, misaki};

/// A run of non-Han text with its English words read as Kokoro's phonemes; spaces,
/// punctuation and anything else stay as they are. A word espeak-ng cannot read is left out.
pub fn latin_phonemes(run: &str) -> String {
    let mut out = String::with_capacity(run.len() * 2);
    let mut word = String::new();
    for c in run.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_alphabetic() || (c == '\'' && !word.is_empty()) {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            out.push_str(&word_phonemes(&word));
            word.clear();
        }
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

fn word_phonemes(word: &str) -> String {
    let spelled;
    let said =
        if word.len() == 1 || (word.len() <= 5 && word.chars().all(|c| c.is_ascii_uppercase())) {
            // Letter names: espeak-ng reads a lone letter as its name.
            spelled = word
                .chars()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(" ");
            spelled.as_str()
        } else {
            word
        };
    match espeak::phonemes(said, "en-us") {
        Ok(ipa) => misaki::from_espeak(&ipa),
        Err(e) => {
            tracing::debug!(word, "English word not read: {e}");
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_letters_are_read_and_the_rest_kept() {
        let ups = latin_phonemes("UPS");
        // Three letter names: "you", "pee", "ess".
        assert!(
            ups.contains("jˈu") && ups.contains("pˈi") && ups.contains("ˈɛs"),
            "{ups}"
        );
        let phones = latin_phonemes("Wireless Headphones, ");
        assert!(phones.starts_with("wˈI"), "{phones}");
        assert!(phones.ends_with(", "), "{phones}");
        assert!(
            !phones.chars().any(|c| c.is_ascii_uppercase()
                && c != 'I'
                && c != 'O'
                && c != 'A'
                && c != 'W'
                && c != 'Y'),
            "{phones}"
        );
        assert_eq!(latin_phonemes("。 "), "。 ");
    }
}
