//! English in the phonemes Kokoro v1.0 was trained on: espeak-ng's American English IPA
//! rewritten into misaki's symbols, as misaki's own English fallback does
//! (`EspeakFallback.E2M`, misaki 0.9.4). Used for whole English sentences (an American
//! English Kokoro voice, `af_*` / `am_*`) and for English words inside Mandarin text
//! ([`super::mandarin::latin`]).

use super::espeak;

/// espeak-ng's IPA (without tie marks) to misaki's symbols, longest first: diphthongs and
/// affricates become misaki's one-letter symbols, r-coloured and other sounds its spelling.
const ESPEAK_TO_MISAKI: [(&str, &str); 22] = [
    ("ɜːɹ", "ɜɹ"),
    ("aɪ", "I"),
    ("aʊ", "W"),
    ("dʒ", "ʤ"),
    ("eɪ", "A"),
    ("tʃ", "ʧ"),
    ("ɔɪ", "Y"),
    ("oʊ", "O"),
    ("ɜː", "ɜɹ"),
    ("ɪə", "iə"),
    ("e", "A"),
    ("ɚ", "əɹ"),
    ("r", "ɹ"),
    ("x", "k"),
    ("ç", "k"),
    ("ɐ", "ə"),
    ("ɬ", "l"),
    ("ː", ""),
    ("o", "ɔ"),
    ("ɾ", "T"),
    ("ʔ", "t"),
    ("\u{303}", ""),
];

/// English text (normalized: numbers already words) as Kokoro phonemes, clause by clause: the
/// punctuation between clauses is kept (Kokoro pauses on it), everything else is espeak-ng's.
pub fn english(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len() * 2);
    let mut clause = String::new();
    for c in text.chars().chain(std::iter::once('\0')) {
        if matches!(c, ',' | '.' | ';' | ':' | '!' | '?' | '\0') {
            if !clause.trim().is_empty() {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(&from_espeak(&espeak::phonemes(clause.trim(), "en-us")?));
            }
            clause.clear();
            if c != '\0' {
                out.push(c);
            }
        } else {
            clause.push(c);
        }
    }
    Ok(out)
}

/// espeak-ng IPA in misaki's symbols.
pub fn from_espeak(ipa: &str) -> String {
    let mut s = ipa.trim().to_string();
    for (from, to) in ESPEAK_TO_MISAKI {
        s = s.replace(from, to);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn espeak_symbols_become_misakis() {
        assert_eq!(from_espeak("hˈaɪ"), "hˈI");
        assert_eq!(from_espeak("dʒˈeɪ"), "ʤˈA");
        assert_eq!(from_espeak("ɡˈoʊ"), "ɡˈO");
        assert_eq!(from_espeak("bˈɜːd"), "bˈɜɹd");
        assert_eq!(from_espeak("wˈɔːtɚ"), "wˈɔtəɹ");
    }

    #[test]
    fn english_sentences_keep_their_clause_punctuation() {
        let said = english("Hello, your order was delivered.").unwrap();
        assert!(said.starts_with("həlˈO,"), "{said}");
        assert!(said.ends_with('.'), "{said}");
        assert_eq!(said.matches(',').count(), 1, "{said}");
        assert_eq!(english("").unwrap(), "");
    }
}
