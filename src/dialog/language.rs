//! The language of a conversation: replies, prompts and fact templates follow it.

use serde::{Deserialize, Serialize};

/// A language the assistant answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    En,
    Zh,
}

impl Language {
    /// The language `text` is written in, when it tells: any Han character means Chinese,
    /// Latin letters without one mean English; digits and punctuation alone tell nothing.
    pub fn detect(text: &str) -> Option<Language> {
        if text.chars().any(is_han) {
            Some(Language::Zh)
        } else if text.chars().any(|c| c.is_ascii_alphabetic()) {
            Some(Language::En)
        } else {
            None
        }
    }

    /// `en` or `zh`.
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Zh => "zh",
        }
    }
}

/// A CJK unified ideograph (the common block and extension A).
pub fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_from_the_script() {
        assert_eq!(Language::detect("Where is my order?"), Some(Language::En));
        assert_eq!(Language::detect("我的订单100042在哪里"), Some(Language::Zh));
        assert_eq!(Language::detect("100042"), None);
        assert_eq!(Language::detect(""), None);
    }
}
