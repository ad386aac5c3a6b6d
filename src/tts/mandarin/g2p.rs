//! Mandarin text to Kokoro v1.0's phoneme string, as its Mandarin voices were trained (the path
//! misaki 0.9.4 takes for Kokoro v1.0, its "legacy" Mandarin path): numbers written out in hanzi, full-width punctuation made
//! ASCII, each run of hanzi segmented into words by jieba, each word read in pinyin by phrase
//! (so 便宜 is pián yi and 银行 yín háng), each syllable in IPA with its tone arrow; syllables of a
//! word run together, words are separated by spaces. No tone sandhi: the voices learnt it.

use jieba_rs::Jieba;
use pinyin::{Converter, ToneStyle};

use super::latin::latin_phonemes;
use super::numbers::read_numbers;
use super::syllable::to_phonemes;
use crate::dialog::language::is_han;

/// A word of the text and how it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// A word of hanzi and its syllables in pinyin with tone numbers (5: neutral).
    Word { text: String, pinyin: Vec<String> },
    /// Anything else, passed through (punctuation, spaces, Latin letters).
    Other(String),
}

/// Segmentation and pronunciation dictionaries, loaded once (jieba's takes about 0.1 s).
pub struct MandarinG2p {
    jieba: Jieba,
}

impl Default for MandarinG2p {
    fn default() -> Self {
        Self::new()
    }
}

impl MandarinG2p {
    pub fn new() -> MandarinG2p {
        MandarinG2p {
            jieba: Jieba::new(),
        }
    }

    /// `text` as words with their pinyin, after numbers and punctuation are written out.
    pub fn pieces(&self, text: &str) -> Vec<Piece> {
        let text = ascii_punctuation(&read_numbers(text));
        let mut pieces = Vec::new();
        let mut rest = text.trim();
        while let Some(first) = rest.chars().next() {
            let run_len = rest
                .char_indices()
                .find(|&(_, c)| is_han(c) != is_han(first))
                .map_or(rest.len(), |(i, _)| i);
            let (run, tail) = rest.split_at(run_len);
            if is_han(first) {
                for token in self.jieba.cut(run, true) {
                    pieces.push(Piece::Word {
                        text: token.word.to_string(),
                        pinyin: pinyin_of(token.word),
                    });
                }
            } else {
                pieces.push(Piece::Other(run.to_string()));
            }
            rest = tail;
        }
        pieces
    }

    /// `text` as the phoneme string Kokoro reads.
    pub fn phonemes(&self, text: &str) -> String {
        let mut out = String::new();
        let mut after_word = false;
        for piece in self.pieces(text) {
            match piece {
                Piece::Word { text, pinyin } => {
                    if after_word {
                        out.push(' ');
                    }
                    for syllable in &pinyin {
                        match to_phonemes(syllable) {
                            Ok(p) => out.push_str(&p),
                            Err(e) => tracing::debug!(word = %text, "unread syllable: {e}"),
                        }
                    }
                    after_word = true;
                }
                Piece::Other(other) => {
                    out.push_str(&latin_phonemes(&other));
                    after_word = false;
                }
            }
        }
        out
    }
}

/// Words of one character that the dictionary reads by a rarer reading when they stand alone
/// (its first reading for 的 is dī, for 重 chóng), as jieba leaves them: particles, and the
/// reading a shop's caller means.
const ALONE: [(&str, &str); 8] = [
    ("的", "de5"),
    ("得", "de5"),
    ("过", "guo4"),
    ("都", "dou1"),
    ("重", "zhong4"),
    ("种", "zhong3"),
    ("长", "chang2"),
    ("地", "di4"),
];

/// The syllables of one word, by phrase, with tone numbers; a neutral syllable gets 5.
fn pinyin_of(word: &str) -> Vec<String> {
    if let Some((_, reading)) = ALONE.iter().find(|(w, _)| *w == word) {
        return vec![reading.to_string()];
    }
    Converter::new(word)
        .with_tone_style(ToneStyle::Number)
        .yu_to_v()
        .convert()
        .iter()
        .flat_map(|p| {
            p.split_whitespace()
                .map(|s| {
                    if s.ends_with(|c: char| c.is_ascii_digit()) {
                        s.to_string()
                    } else {
                        format!("{s}5")
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Full-width punctuation as the ASCII marks Kokoro knows, with the space after them.
fn ascii_punctuation(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '、' | '，' => out.push_str(", "),
            '。' | '．' => out.push_str(". "),
            '！' => out.push_str("! "),
            '：' => out.push_str(": "),
            '；' => out.push_str("; "),
            '？' => out.push_str("? "),
            '«' | '《' | '「' | '【' => out.push_str(" “"),
            '»' | '》' | '」' | '】' => out.push_str("” "),
            '（' => out.push_str(" ("),
            '）' => out.push_str(") "),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pinyin(g2p: &MandarinG2p, text: &str) -> String {
        g2p.pieces(text)
            .into_iter()
            .filter_map(|p| match p {
                Piece::Word { pinyin, .. } => Some(pinyin.join(" ")),
                Piece::Other(_) => None,
            })
            .collect::<Vec<_>>()
            .join(" | ")
    }

    #[test]
    fn polyphones_are_read_by_their_word() {
        let g2p = MandarinG2p::new();
        for (text, expected) in [
            // (The dictionary has 便宜 as pián yí; people say pián yi.)
            ("这个很便宜", "pian2 yi"),
            ("方便", "fang1 bian4"),
            ("银行卡", "yin2 hang2"),
            ("我们发货很快", "fa1 huo4"),
            ("重新发货", "chong2 xin1"),
            ("这件很重", "hen3 | zhong4"),
            ("这种颜色", "zhong3"),
            ("都到了", "dou1"),
            ("说得对", "de5"),
            ("退还货款", "tui4 huan2"),
            ("还有别的问题吗", "hai2 you3"),
            ("我受不了", "bu4 liao3"),
            ("好了", "le5"),
            ("我的订单", "wo3 | de5 | ding4 dan1"),
        ] {
            let got = pinyin(&g2p, text);
            assert!(got.contains(expected), "{text}: {got}");
        }
    }

    #[test]
    fn a_shop_sentence_in_phonemes() {
        let g2p = MandarinG2p::new();
        assert_eq!(g2p.phonemes("你好"), "ni↓xau↓");
        assert_eq!(
            g2p.phonemes("您的订单已发货。"),
            "ni↗n tɤ ti↘ŋta→n i↓ fa→xwo↘."
        );
        // Numbers first become hanzi: the order number digit by digit, the amount as a number.
        let said = g2p.phonemes("订单100042退款79.99元");
        assert!(
            said.starts_with("ti↘ŋta→n jau→ li↗ŋ") && said.contains("sɨ↘ɚ↘"),
            "{said}"
        );
        assert!(said.contains("ʨʰi→ʂɨ↗ʨjou↓"), "{said}");
    }

    #[test]
    fn punctuation_becomes_ascii_and_other_text_passes_through() {
        let g2p = MandarinG2p::new();
        assert_eq!(g2p.phonemes("好的，谢谢！"), "xau↓ tɤ, ɕje↘ɕje!");
        assert_eq!(g2p.phonemes(""), "");
        // English in between is read with English sounds (spelled out when in capitals).
        assert_eq!(
            g2p.phonemes("OK"),
            super::super::latin::latin_phonemes("OK")
        );
        assert!(g2p.phonemes("OK").contains("kˈA"), "{}", g2p.phonemes("OK"));
    }
}
