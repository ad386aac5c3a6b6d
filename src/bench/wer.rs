//! Word error rate: word-level edit distance over the reference length; and character error
//! rate, its counterpart for Mandarin, which is written without spaces between words.

/// Lower-case words without punctuation (hyphens split words, apostrophes stay).
pub fn normalize_words(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == '-')
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .collect::<String>()
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// (substitutions + deletions + insertions) / reference words.
pub fn wer(reference: &str, hypothesis: &str) -> f64 {
    error_rate(&normalize_words(reference), &normalize_words(hypothesis))
}

/// Letters, digits and hanzi without punctuation or spaces, lower-case.
pub fn normalize_chars(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// (substitutions + deletions + insertions) / reference characters, punctuation left out.
pub fn cer(reference: &str, hypothesis: &str) -> f64 {
    error_rate(&normalize_chars(reference), &normalize_chars(hypothesis))
}

fn error_rate<T: PartialEq>(r: &[T], h: &[T]) -> f64 {
    if r.is_empty() {
        return if h.is_empty() { 0.0 } else { 1.0 };
    }
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    let mut cur = vec![0; h.len() + 1];
    for (i, rw) in r.iter().enumerate() {
        cur[0] = i + 1;
        for (j, hw) in h.iter().enumerate() {
            let sub = prev[j] + usize::from(rw != hw);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[h.len()] as f64 / r.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_edits() {
        assert_eq!(wer("ask not what", "Ask not, what"), 0.0);
        assert_eq!(wer("a b c d", "a x c d"), 0.25);
        assert_eq!(wer("a b c d", "a c d"), 0.25);
        assert_eq!(wer("a b", "a b c d"), 1.0);
        assert_eq!(wer("", ""), 0.0);
        assert_eq!(wer("", "x"), 1.0);
    }

    #[test]
    fn counts_character_edits_without_punctuation() {
        assert_eq!(cer("请问您要退货？", "请问您要退货。"), 0.0);
        assert!((cer("请问您要退货", "请问你要退货") - 1.0 / 6.0).abs() < 1e-9);
        assert_eq!(cer("ab", ""), 1.0);
    }
}
