//! Removing personal data that must not be stored from text: card numbers (13-19 digits,
//! spaces or dashes allowed, Luhn-valid), IBANs, and US social security numbers. Which kinds
//! are removed is configured (`[privacy] redact`). Order numbers (six digits), ZIP codes and
//! phone numbers are not touched: the service needs them.

use std::borrow::Cow;

use regex::Regex;

/// A kind of data to remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PiiKind {
    Card,
    Iban,
    Ssn,
}

impl PiiKind {
    pub fn parse(name: &str) -> Option<PiiKind> {
        match name {
            "card" => Some(PiiKind::Card),
            "iban" => Some(PiiKind::Iban),
            "ssn" => Some(PiiKind::Ssn),
            _ => None,
        }
    }

    fn mask(self) -> &'static str {
        match self {
            PiiKind::Card => "[card number]",
            PiiKind::Iban => "[bank account]",
            PiiKind::Ssn => "[social security number]",
        }
    }
}

#[derive(Debug)]
pub struct Redactor {
    rules: Vec<(PiiKind, Regex)>,
}

impl Redactor {
    pub fn new(kinds: &[PiiKind]) -> Redactor {
        let rules = kinds
            .iter()
            .map(|&kind| {
                let pattern = match kind {
                    // 13-19 digits in groups separated by single spaces or dashes.
                    PiiKind::Card => r"\b\d(?:[ -]?\d){12,18}\b",
                    PiiKind::Iban => r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b",
                    PiiKind::Ssn => r"\b\d{3}-\d{2}-\d{4}\b",
                };
                // The patterns are constants; a failure here is a bug caught by the tests.
                (kind, Regex::new(pattern).expect("redaction pattern"))
            })
            .collect();
        Redactor { rules }
    }

    /// `text` with every configured kind replaced by a marker.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for (kind, re) in &self.rules {
            if !re.is_match(&out) {
                continue;
            }
            let replaced = re
                .replace_all(&out, |caps: &regex::Captures| {
                    let found = &caps[0];
                    let digits: Vec<u32> = found.chars().filter_map(|c| c.to_digit(10)).collect();
                    if *kind == PiiKind::Card && !luhn(&digits) {
                        found.to_string()
                    } else {
                        kind.mask().to_string()
                    }
                })
                .into_owned();
            out = Cow::Owned(replaced);
        }
        out
    }
}

/// The Luhn checksum every payment card number satisfies.
fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    !digits.is_empty() && sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Redactor {
        Redactor::new(&[PiiKind::Card, PiiKind::Iban, PiiKind::Ssn])
    }

    #[test]
    fn card_numbers_in_any_grouping_are_removed() {
        let r = all();
        assert_eq!(
            r.redact("my card is 4111 1111 1111 1111, expiry soon"),
            "my card is [card number], expiry soon"
        );
        assert_eq!(r.redact("5500-0000-0000-0004"), "[card number]");
        assert_eq!(r.redact("4111111111111111"), "[card number]");
    }

    #[test]
    fn what_the_service_needs_stays() {
        let r = all();
        for text in [
            "order 100042, zip 94110",
            "call me on +14155550123",
            // 16 digits that fail the Luhn check are not a card.
            "reference 4111111111111112",
        ] {
            assert_eq!(r.redact(text), text);
        }
    }

    #[test]
    fn ibans_and_ssns_are_removed_when_configured() {
        let r = all();
        assert_eq!(
            r.redact("IBAN DE89 3704 0044 0532 0130 00 please"),
            "IBAN [bank account] please"
        );
        assert_eq!(r.redact("ssn 078-05-1120"), "ssn [social security number]");
        let cards_only = Redactor::new(&[PiiKind::Card]);
        assert_eq!(cards_only.redact("ssn 078-05-1120"), "ssn 078-05-1120");
    }
}
