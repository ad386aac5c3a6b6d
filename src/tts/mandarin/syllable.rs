//! One pinyin syllable ("hao3", "lv4", "de5") to the phonemes Kokoro v1.0 was trained on: the
//! IPA of its initial and final, with the tone as an arrow right after the syllable's nucleus
//! (1 → level, 2 ↗ rising, 3 ↓ dipping, 4 ↘ falling, 5 and toneless: none).
//!
//! The mapping follows misaki 0.9.4's `transcription.py` (itself after pinyin-to-ipa; Duanmu
//! 2007, Lin 2007), which produced Kokoro's Mandarin training data: the first IPA variant of
//! each part, the non-syllabic diacritic dropped, and the apical vowels of zhi/chi/shi/ri and
//! zi/ci/si written as `ɨ`. Written here from the tables, not translated from the code.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyllableError {
    #[error("{0:?} is not a pinyin syllable")]
    NotPinyin(String),
}

/// Initials, two-letter ones first so that "zh" is not read as "z".
const INITIALS: [(&str, &str); 21] = [
    ("zh", "ꭧ"),
    ("ch", "ꭧʰ"),
    ("sh", "ʂ"),
    ("b", "p"),
    ("p", "pʰ"),
    ("m", "m"),
    ("f", "f"),
    ("d", "t"),
    ("t", "tʰ"),
    ("n", "n"),
    ("l", "l"),
    ("g", "k"),
    ("k", "kʰ"),
    ("h", "x"),
    ("j", "ʨ"),
    ("q", "ʨʰ"),
    ("x", "ɕ"),
    ("r", "ɻ"),
    ("z", "ʦ"),
    ("c", "ʦʰ"),
    ("s", "s"),
];

/// Finals in their full ("strict") spelling; `0` marks where the tone goes.
const FINALS: [(&str, &str); 37] = [
    ("a", "a0"),
    ("ai", "ai0"),
    ("an", "a0n"),
    ("ang", "a0ŋ"),
    ("ao", "au0"),
    ("e", "ɤ0"),
    ("ei", "ei0"),
    ("en", "ə0n"),
    ("eng", "ə0ŋ"),
    ("i", "i0"),
    ("ia", "ja0"),
    ("ian", "jɛ0n"),
    ("iang", "ja0ŋ"),
    ("iao", "jau0"),
    ("ie", "je0"),
    ("in", "i0n"),
    ("iou", "jou0"),
    ("ing", "i0ŋ"),
    ("iong", "jʊ0ŋ"),
    ("io", "jɔ0"),
    ("ong", "ʊ0ŋ"),
    ("ou", "ou0"),
    ("u", "u0"),
    ("uei", "wei0"),
    ("ua", "wa0"),
    ("uai", "wai0"),
    ("uan", "wa0n"),
    ("uen", "wə0n"),
    ("uang", "wa0ŋ"),
    ("ueng", "wə0ŋ"),
    ("uo", "wo0"),
    // "o" after b, p, m, f is "uo".
    ("o", "wo0"),
    ("ü", "y0"),
    ("üe", "ɥe0"),
    ("üan", "ɥɛ0n"),
    ("ün", "y0n"),
    ("ê", "ɛ0"),
];

/// Whole syllables with no initial-final split: interjections and syllabic nasals.
const WHOLE: [(&str, &str); 8] = [
    ("er", "ɚ0"),
    ("o", "ɔ0"),
    ("ê", "ɛ0"),
    ("hm", "hm0"),
    ("hng", "hŋ0"),
    ("m", "m0"),
    ("n", "n0"),
    ("ng", "ŋ0"),
];

/// The arrow for tone 1-4; tone 5 (neutral) has none.
fn arrow(tone: u8) -> &'static str {
    match tone {
        1 => "→",
        2 => "↗",
        3 => "↓",
        4 => "↘",
        _ => "",
    }
}

/// `pinyin` with a tone number (1-5) or none (neutral), `v` or `ü` for ü, in Kokoro's phonemes.
pub fn to_phonemes(pinyin: &str) -> Result<String, SyllableError> {
    let bad = || SyllableError::NotPinyin(pinyin.to_string());
    let lower = pinyin.trim().to_lowercase();
    let (base, tone) = match lower.chars().last() {
        Some(d @ '1'..='5') => (&lower[..lower.len() - 1], d as u8 - b'0'),
        Some(_) => (lower.as_str(), 5),
        None => return Err(bad()),
    };
    let base = base.replace('v', "ü").replace("u:", "ü");
    if let Some((_, ipa)) = WHOLE.iter().find(|(w, _)| *w == base) {
        return Ok(ipa.replace('0', arrow(tone)));
    }
    let (initial, rest) = match INITIALS.iter().find(|(i, _)| base.starts_with(i)) {
        Some((i, ipa)) => (Some((*i, *ipa)), &base[i.len()..]),
        None => (None, base.as_str()),
    };
    let final_ = strict_final(initial.map(|(i, _)| i), rest).ok_or_else(bad)?;
    let nucleus = match (initial.map(|(i, _)| i), final_.as_str()) {
        // The apical vowels: [ɻ̩] after zh ch sh r, [ɹ̩] after z c s; Kokoro writes both `ɨ`.
        (Some("zh" | "ch" | "sh" | "r" | "z" | "c" | "s"), "i") => "ɨ0",
        (_, f) => {
            FINALS
                .iter()
                .find(|(name, _)| *name == f)
                .ok_or_else(bad)?
                .1
        }
    };
    let mut out = String::new();
    if let Some((_, ipa)) = initial {
        out.push_str(ipa);
    }
    out.push_str(&nucleus.replace('0', arrow(tone)));
    Ok(out)
}

/// The full spelling of a final as written after `initial`: y- and w- spellings, the
/// abbreviations iu, ui, un, and u for ü after j, q, x undone.
fn strict_final(initial: Option<&str>, rest: &str) -> Option<String> {
    if rest.is_empty() {
        return None;
    }
    let full = match initial {
        None => {
            if let Some(r) = rest.strip_prefix("yu") {
                format!("ü{r}")
            } else if let Some(r) = rest.strip_prefix("yi") {
                format!("i{r}")
            } else if let Some(r) = rest.strip_prefix('y') {
                format!("i{r}")
            } else if let Some(r) = rest.strip_prefix("wu") {
                format!("u{r}")
            } else if let Some(r) = rest.strip_prefix('w') {
                format!("u{r}")
            } else {
                rest.to_string()
            }
        }
        Some("j" | "q" | "x") => match rest.strip_prefix('u') {
            Some(r) => format!("ü{r}"),
            None => rest.to_string(),
        },
        Some(_) => rest.to_string(),
    };
    Some(match full.as_str() {
        "iu" => "iou".to_string(),
        "ui" => "uei".to_string(),
        "un" => "uen".to_string(),
        _ => full,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipa(p: &str) -> String {
        to_phonemes(p).unwrap()
    }

    #[test]
    fn initials_finals_and_tones() {
        assert_eq!(ipa("ni3"), "ni↓");
        assert_eq!(ipa("hao3"), "xau↓");
        assert_eq!(ipa("zhong1"), "ꭧʊ→ŋ");
        assert_eq!(ipa("guo2"), "kwo↗");
        assert_eq!(ipa("chang2"), "ꭧʰa↗ŋ");
        assert_eq!(ipa("qian2"), "ʨʰjɛ↗n");
        assert_eq!(ipa("dan1"), "ta→n");
        assert_eq!(ipa("bo1"), "pwo→");
        assert_eq!(ipa("kuai4"), "kʰwai↘");
    }

    #[test]
    fn apical_vowels_after_retroflexes_and_sibilants() {
        assert_eq!(ipa("shi4"), "ʂɨ↘");
        assert_eq!(ipa("ri4"), "ɻɨ↘");
        assert_eq!(ipa("zi3"), "ʦɨ↓");
        assert_eq!(ipa("ci4"), "ʦʰɨ↘");
        // Elsewhere i is i.
        assert_eq!(ipa("ji1"), "ʨi→");
    }

    #[test]
    fn y_w_spellings_and_abbreviations_are_undone() {
        assert_eq!(ipa("yi1"), "i→");
        assert_eq!(ipa("ying2"), "i↗ŋ");
        assert_eq!(ipa("you3"), "jou↓");
        assert_eq!(ipa("yan4"), "jɛ↘n");
        assert_eq!(ipa("yong4"), "jʊ↘ŋ");
        assert_eq!(ipa("wu3"), "u↓");
        assert_eq!(ipa("wei4"), "wei↘");
        assert_eq!(ipa("wen4"), "wə↘n");
        assert_eq!(ipa("liu2"), "ljou↗");
        assert_eq!(ipa("gui4"), "kwei↘");
        assert_eq!(ipa("dun4"), "twə↘n");
    }

    #[test]
    fn u_umlaut_in_all_its_spellings() {
        assert_eq!(ipa("yu2"), "y↗");
        assert_eq!(ipa("yue4"), "ɥe↘");
        assert_eq!(ipa("yuan2"), "ɥɛ↗n");
        assert_eq!(ipa("jun1"), "ʨy→n");
        assert_eq!(ipa("jue2"), "ʨɥe↗");
        assert_eq!(ipa("quan2"), "ʨʰɥɛ↗n");
        assert_eq!(ipa("xu1"), "ɕy→");
        assert_eq!(ipa("lv4"), "ly↘");
        assert_eq!(ipa("lü4"), "ly↘");
        assert_eq!(ipa("nve4"), "nɥe↘");
        // lu and nu stay u.
        assert_eq!(ipa("lu4"), "lu↘");
    }

    #[test]
    fn neutral_tone_whole_syllables_and_nonsense() {
        assert_eq!(ipa("de5"), "tɤ");
        assert_eq!(ipa("de"), "tɤ");
        assert_eq!(ipa("ma5"), "ma");
        assert_eq!(ipa("er4"), "ɚ↘");
        assert_eq!(ipa("o4"), "ɔ↘");
        assert_eq!(ipa("ng2"), "ŋ↗");
        assert_eq!(ipa("hm5"), "hm");
        for bad in ["", "3", "zh", "xyz2", "bz3", "hello"] {
            assert!(to_phonemes(bad).is_err(), "{bad:?}");
        }
    }
}
