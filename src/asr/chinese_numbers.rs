//! Chinese numerals in a Mandarin transcript written as digits where they are data: order and
//! phone numbers read digit by digit (幺零零零四二 → 100042, 二零二六年 → 2026年), amounts
//! (七十九点九九元 → 79.99元), dates (十一月二十九号 → 11月29号) and percentages (百分之二十 →
//! 20%). Numbers in ordinary words stay as they are (一个, 两件, 一下, 十分).
//!
//! Whisper mostly writes such numbers in digits already; this catches the rest, so the dialog
//! core finds an order number however it was transcribed.

/// Digits as said one by one (幺 and 两 are 1 and 2 in phone and order numbers).
fn digit_value(c: char) -> Option<u64> {
    Some(match c {
        '零' | '〇' => 0,
        '一' | '幺' => 1,
        '二' | '两' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

fn unit_value(c: char) -> Option<u64> {
    Some(match c {
        '十' => 10,
        '百' => 100,
        '千' => 1_000,
        '万' => 10_000,
        '亿' => 100_000_000,
        _ => return None,
    })
}

/// Words after a number that make it an amount or a date.
const AMOUNT_OR_DATE_AFTER: &str = "元块月日号年";

/// Digit runs this long (said one by one) are identifiers or years.
const MIN_ID_DIGITS: usize = 3;

/// Words right before an identifier said digit by digit.
const ID_WORDS: [&str; 5] = ["订单", "单号", "号码", "尾号", "编号"];

/// 幺 (yāo, "one" in numbers said digit by digit) as Whisper often writes it: 要 (yào, "want"),
/// or as 一 next to digits it wrote as digits ("订单要0042", "1000四二"). Taken as one where
/// it stands in a digit run: right after a digit or an order word, and right before a digit.
fn spoken_ones(chars: &[char]) -> Vec<char> {
    let is_digit =
        |c: Option<&char>| c.is_some_and(|c| c.is_ascii_digit() || digit_value(*c).is_some());
    let mut out: Vec<char> = Vec::with_capacity(chars.len());
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1);
        let after_id_word = ID_WORDS.iter().any(|w| {
            let w: Vec<char> = w.chars().collect();
            out.ends_with(&w)
        });
        let one = matches!(c, '要' | '幺' | '一')
            && is_digit(next)
            && (after_id_word || is_digit(out.last()));
        out.push(match (one, next) {
            (true, Some(n)) if n.is_ascii_digit() => '1',
            (true, _) => '幺',
            (false, _) => c,
        });
    }
    out
}

/// `text` with the numerals that are data written as digits.
pub fn chinese_numbers_as_digits(text: &str) -> String {
    let chars: Vec<char> = spoken_ones(&text.chars().collect::<Vec<_>>());
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let is_numeral = |c: char| digit_value(c).is_some() || unit_value(c).is_some();
        if !is_numeral(chars[i]) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_numeral(chars[i]) {
            i += 1;
        }
        // A decimal part: 点 and digits said one by one.
        let mut fraction = String::new();
        if chars.get(i) == Some(&'点') {
            let mut j = i + 1;
            while let Some(d) = chars.get(j).copied().and_then(digit_value) {
                fraction.push(char::from(b'0' + d as u8));
                j += 1;
            }
            if !fraction.is_empty() {
                i = j;
            }
        }
        let run: String = chars[start..i].iter().collect();
        let numeral = &chars[start..i - if fraction.is_empty() {
            0
        } else {
            fraction.len() + 1
        }];
        let next = chars.get(i).copied();
        let percent = out.ends_with("百分之");
        let has_units = numeral.iter().any(|&c| unit_value(c).is_some());
        // 一块 is as often "together" as "one yuan": left as said.
        let together = numeral == ['一'] && next == Some('块');
        let is_data =
            (next.is_some_and(|n| AMOUNT_OR_DATE_AFTER.contains(n)) && !together) || percent;
        let written = if !has_units && numeral.len() >= MIN_ID_DIGITS && fraction.is_empty() {
            numeral
                .iter()
                .filter_map(|&c| digit_value(c))
                .map(|d| char::from(b'0' + d as u8))
                .collect::<String>()
                .into()
        } else if is_data {
            value(numeral).map(|n| {
                let mut s = n.to_string();
                if !fraction.is_empty() {
                    s.push('.');
                    s.push_str(&fraction);
                }
                s
            })
        } else {
            None
        };
        match written {
            Some(digits) if percent => {
                out.truncate(out.len() - "百分之".len());
                out.push_str(&digits);
                out.push('%');
            }
            Some(digits) => out.push_str(&digits),
            None => out.push_str(&run),
        }
    }
    out
}

/// The value of a numeral with units (一百零五 → 105, 十一 → 11, 三万二千 → 32000); `None`
/// for what is not one number: a unit with no digit before it (几万, 数千: the 几 and 数 are not
/// numerals) and digits side by side (两三块 is "two or three").
fn value(numeral: &[char]) -> Option<u64> {
    let mut total = 0u64;
    let mut section = 0u64;
    let mut number: Option<u64> = None;
    for (i, &c) in numeral.iter().enumerate() {
        if let Some(d) = digit_value(c) {
            if number.is_some() {
                return None;
            }
            // 零 only holds a place (一百零五).
            number = (d != 0).then_some(d);
        } else if let Some(unit) = unit_value(c) {
            if unit >= 10_000 {
                section = section.checked_add(number.take().unwrap_or(0))?;
                if section == 0 {
                    return None;
                }
                total = total.checked_add(section.checked_mul(unit)?)?;
                section = 0;
            } else {
                // 十 at the very start is 一十; any other unit needs its digit.
                let n = match number.take() {
                    Some(n) => n,
                    None if unit == 10 && i == 0 => 1,
                    None => return None,
                };
                section = section.checked_add(n.checked_mul(unit)?)?;
            }
        } else {
            return None;
        }
    }
    total.checked_add(section)?.checked_add(number.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_written_as_yao_or_yi_inside_a_number() {
        assert_eq!(
            chinese_numbers_as_digits("订单要0042的状态"),
            "订单10042的状态"
        );
        assert_eq!(
            chinese_numbers_as_digits("订单号要零零零四二"),
            "订单号100042"
        );
        assert_eq!(chinese_numbers_as_digits("10004要"), "10004要");
        assert_eq!(chinese_numbers_as_digits("1000四二"), "1000四二");
        assert_eq!(chinese_numbers_as_digits("我要1件"), "我要1件");
        assert_eq!(chinese_numbers_as_digits("我要两件"), "我要两件");
        assert_eq!(chinese_numbers_as_digits("第一2"), "第一2");
    }

    #[test]
    fn identifiers_said_digit_by_digit() {
        assert_eq!(
            chinese_numbers_as_digits("我的订单号是幺零零零四二"),
            "我的订单号是100042"
        );
        assert_eq!(chinese_numbers_as_digits("尾号一三八零"), "尾号1380");
        assert_eq!(chinese_numbers_as_digits("二零二六年"), "2026年");
    }

    #[test]
    fn amounts_dates_and_percentages() {
        assert_eq!(
            chinese_numbers_as_digits("退款七十九点九九元"),
            "退款79.99元"
        );
        assert_eq!(chinese_numbers_as_digits("一百零五块"), "105块");
        assert_eq!(
            chinese_numbers_as_digits("十一月二十九号送到"),
            "11月29号送到"
        );
        assert_eq!(chinese_numbers_as_digits("三万二千元"), "32000元");
        assert_eq!(chinese_numbers_as_digits("打折百分之二十"), "打折20%");
        assert_eq!(chinese_numbers_as_digits("两百元"), "200元");
    }

    #[test]
    fn numbers_in_words_stay() {
        for text in [
            "我们一块去",
            "几万元",
            "数千元",
            "两三块",
            "我买了一个杯子",
            "两件衣服",
            "等一下",
            "十分感谢",
            "一点点",
            "已经发货了",
            "",
        ] {
            assert_eq!(chinese_numbers_as_digits(text), text);
        }
    }

    #[test]
    fn numeral_values() {
        let v = |s: &str| value(&s.chars().collect::<Vec<_>>());
        assert_eq!(v("十"), Some(10));
        assert_eq!(v("十一"), Some(11));
        assert_eq!(v("二十九"), Some(29));
        assert_eq!(v("一百零五"), Some(105));
        assert_eq!(v("一千零一十"), Some(1010));
        assert_eq!(v("十万零四十二"), Some(100_042));
        assert_eq!(v("一亿二千万"), Some(120_000_000));
        assert_eq!(v("一百零五"), Some(105));
        for bad in ["万", "百", "两三", "九八", "一十百"] {
            assert_eq!(v(bad), None, "{bad}");
        }
    }
}
