//! Keeping spoken IDs as digits: callers read order numbers digit by digit ("one zero zero
//! zero four two", "double five", "oh"), and Whisper writes them as words or as spaced /
//! hyphenated digit groups. A run of three or more spoken digits, or digit groups that together
//! make five or more digits, becomes one digit string ("100042").

/// The digit a spoken word stands for, if any.
fn digit_word(word: &str) -> Option<char> {
    Some(match word {
        "zero" | "oh" | "o" => '0',
        "one" => '1',
        "two" => '2',
        "three" => '3',
        "four" => '4',
        "five" => '5',
        "six" => '6',
        "seven" => '7',
        "eight" => '8',
        "nine" => '9',
        _ => return None,
    })
}

/// Splits a token into (leading punctuation, core, trailing punctuation).
fn split_punct(token: &str) -> (&str, &str, &str) {
    let start = token
        .find(|c: char| c.is_alphanumeric())
        .unwrap_or(token.len());
    let end = token
        .rfind(|c: char| c.is_alphanumeric())
        .map(|i| i + token[i..].chars().next().map_or(1, char::len_utf8))
        .unwrap_or(start);
    (
        &token[..start],
        &token[start..end.max(start)],
        &token[end.max(start)..],
    )
}

/// One token of a digit run: its digits, whether they were spoken as words, and a pending
/// "double"/"triple" that applies to the next digit.
struct RunToken {
    digits: String,
    /// Groups of written digits in the token ("100-042" has two).
    groups: usize,
    words: bool,
    repeat: usize,
}

fn read_token(core: &str, mut repeat: usize) -> Option<RunToken> {
    let lower = core.to_lowercase();
    if lower.is_empty() {
        return None;
    }
    let mut token = RunToken {
        digits: String::new(),
        groups: 0,
        words: true,
        repeat,
    };
    for piece in lower.split('-') {
        match piece {
            "double" => repeat = 2,
            "triple" => repeat = 3,
            p if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) => {
                token.digits.push_str(p);
                token.groups += 1;
                token.words = false;
                repeat = 1;
            }
            p => {
                let d = digit_word(p)?;
                token.digits.extend(std::iter::repeat_n(d, repeat));
                repeat = 1;
            }
        }
    }
    token.repeat = repeat;
    Some(token)
}

/// Rewrites spoken digit sequences and split digit groups in `text` as digit strings.
pub fn digits_as_ids(text: &str) -> String {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let (leading, _, _) = split_punct(tokens[i]);
        let mut digits = String::new();
        let mut words_only = true;
        let mut trailing = "";
        let mut repeat = 1;
        let mut j = i;
        let mut groups = 0;
        while j < tokens.len() {
            let (lead, core, trail) = split_punct(tokens[j]);
            if j > i && !lead.is_empty() {
                break;
            }
            let Some(token) = read_token(core, repeat) else {
                break;
            };
            repeat = token.repeat;
            groups += token.groups;
            words_only &= token.words;
            digits.push_str(&token.digits);
            trailing = trail;
            j += 1;
            // Punctuation after a token ends the run ("... four two, and").
            if !trail.is_empty() {
                break;
            }
        }
        let is_id = if words_only {
            digits.len() >= 3
        } else {
            groups >= 2 && digits.len() >= 5
        };
        if is_id && repeat == 1 {
            out.push(format!("{leading}{digits}{trailing}"));
            i = j;
        } else {
            out.push(tokens[i].to_string());
            i += 1;
        }
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spoken_digits_become_an_id() {
        assert_eq!(
            digits_as_ids("My order is one zero zero zero four two."),
            "My order is 100042."
        );
        assert_eq!(digits_as_ids("It's one oh oh oh four two"), "It's 100042");
        assert_eq!(digits_as_ids("five five five double one"), "55511");
        assert_eq!(
            digits_as_ids("Order 100-042, please"),
            "Order 100042, please"
        );
        assert_eq!(digits_as_ids("order 1 0 0 0 4 2"), "order 100042");
        assert_eq!(digits_as_ids("Order 100 042."), "Order 100042.");
    }

    #[test]
    fn ordinary_numbers_and_words_are_left_alone() {
        assert_eq!(digits_as_ids("I bought two shirts"), "I bought two shirts");
        assert_eq!(digits_as_ids("one or two"), "one or two");
        assert_eq!(digits_as_ids("It costs 79 dollars"), "It costs 79 dollars");
        assert_eq!(digits_as_ids("Order 100042 please"), "Order 100042 please");
        assert_eq!(digits_as_ids("someone"), "someone");
        assert_eq!(digits_as_ids(""), "");
        assert_eq!(digits_as_ids("¿qué? 🙂 —"), "¿qué? 🙂 —");
    }
}
