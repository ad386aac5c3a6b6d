//! Numbers in Mandarin text written out in hanzi, the way a Mandarin speaker on a shop's line
//! says them, before the text goes to pinyin:
//!
//! - order, tracking and phone numbers digit by digit, 1 as 幺 (订单号100042 → 幺零零零四二);
//! - amounts and other quantities as numbers (79.99元 → 七十九点九九元, ¥5 → 五元);
//! - years digit by digit, months, days and clock times as numbers (2026年11月29日 →
//!   二零二六年十一月二十九日, 2026-11-29 the same, 10:05 → 十点零五分);
//! - percentages (20% → 百分之二十); 2 before a measure word as 两 (2件 → 两件).

const DIGITS: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

/// Words after which a run of digits is an identifier, read digit by digit.
const ID_CONTEXT: [&str; 14] = [
    "订单",
    "单号",
    "编号",
    "号码",
    "电话",
    "手机",
    "尾号",
    "邮编",
    "运单",
    "快递",
    "验证码",
    "卡号",
    "账号",
    "工号",
];

/// What follows the numbers of a date or a clock time.
const DATE_TIME_UNITS: &str = "月日号点时分";

/// Measure words before which 2 is said 两.
const MEASURE_WORDS: &str = "个件位天次台双条张本瓶盒份周年小颗只把";

/// Runs of this many digits or more are identifiers whatever comes before them.
const ID_MIN_DIGITS: usize = 5;

/// Whole numbers up to this are read as numbers; longer ones digit by digit.
const MAX_CARDINAL: u64 = 999_999_999_999;

/// `text` with every number written out in hanzi.
pub fn read_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() * 2);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if !c.is_ascii_digit() {
            // Currency signs become a unit after the amount.
            if matches!(c, '¥' | '￥' | '$') && chars.get(i + 1).is_some_and(char::is_ascii_digit)
            {
                let (amount, end) = decimal_at(&chars, i + 1);
                out.push_str(&amount);
                out.push_str(if c == '$' { "美元" } else { "元" });
                i = end;
                continue;
            }
            out.push(c);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let digits: String = chars[start..i].iter().collect();
        let next = chars.get(i).copied();
        // 2026-11-29: an ISO date.
        if digits.len() == 4
            && next == Some('-')
            && let Some((month, day, end)) = iso_month_day(&chars, i + 1)
        {
            out.push_str(&digit_by_digit(&digits, false));
            out.push('年');
            out.push_str(&cardinal(month));
            out.push('月');
            out.push_str(&cardinal(day));
            out.push('日');
            i = end;
            continue;
        }
        // 10:05: a clock time.
        if digits.len() <= 2
            && matches!(next, Some(':' | '：'))
            && let Some(minutes) = two_digits_at(&chars, i + 1)
        {
            let hour: u64 = digits.parse().unwrap_or(0);
            if hour == 2 {
                out.push('两');
            } else {
                out.push_str(&cardinal(hour));
            }
            out.push('点');
            if minutes > 0 {
                if minutes < 10 {
                    out.push('零');
                }
                out.push_str(&cardinal(minutes));
                out.push('分');
            }
            i += 3;
            continue;
        }
        if next == Some('年') && digits.len() == 4 {
            out.push_str(&digit_by_digit(&digits, false));
            continue;
        }
        let decimal = next == Some('.') && chars.get(i + 1).is_some_and(char::is_ascii_digit);
        // 05月03日, 3点: the numbers of a date or a time, zero-padded or not.
        if !decimal && digits.len() <= 2 && next.is_some_and(|n| DATE_TIME_UNITS.contains(n)) {
            let n: u64 = digits.parse().unwrap_or(0);
            if n == 2 && next == Some('点') {
                out.push('两');
            } else {
                out.push_str(&cardinal(n));
            }
            continue;
        }
        let quantity = next.is_some_and(|n| MEASURE_WORDS.contains(n) || "%元块".contains(n));
        let is_id = !decimal
            && !quantity
            && (digits.len() >= ID_MIN_DIGITS
                || follows_id_word(&chars[..start])
                || (digits.len() > 1 && digits.starts_with('0')));
        if is_id {
            out.push_str(&digit_by_digit(&digits, true));
            // 400-820-8820: a phone number's groups, with a pause between them.
            while chars.get(i) == Some(&'-') && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
                let group = i + 1;
                i = group;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                out.push(' ');
                out.push_str(&digit_by_digit(
                    &chars[group..i].iter().collect::<String>(),
                    true,
                ));
            }
            continue;
        }
        let (amount, end) = decimal_at(&chars, start);
        if chars.get(end) == Some(&'%') {
            out.push_str("百分之");
            out.push_str(&amount);
            i = end + 1;
            continue;
        }
        if digits == "2" && end == i && next.is_some_and(|n| MEASURE_WORDS.contains(n)) {
            out.push('两');
        } else {
            out.push_str(&amount);
        }
        i = end;
    }
    out
}

/// Whether the text before a number ends with a word that makes the number an identifier
/// (订单, 电话, 尾号...), with at most 是, 为, a colon or spaces between.
fn follows_id_word(before: &[char]) -> bool {
    let mut end = before.len();
    while end > 0 && matches!(before[end - 1], '是' | '为' | '：' | ':' | '#' | ' ') {
        end -= 1;
    }
    let tail: String = before[end.saturating_sub(3)..end].iter().collect();
    ID_CONTEXT.iter().any(|w| tail.ends_with(w))
}

/// The number (with decimals) that starts at `start`, in hanzi, and where it ends.
fn decimal_at(chars: &[char], start: usize) -> (String, usize) {
    let mut i = start;
    while i < chars.len() && chars[i].is_ascii_digit() {
        i += 1;
    }
    let mut whole: String = chars[start..i].iter().collect();
    // 1,299: thousands separators.
    while chars.get(i) == Some(&',')
        && (1..=3).all(|k| chars.get(i + k).is_some_and(char::is_ascii_digit))
        && !chars.get(i + 4).is_some_and(char::is_ascii_digit)
    {
        whole.extend(&chars[i + 1..i + 4]);
        i += 4;
    }
    let mut out = match whole.parse::<u64>() {
        Ok(n) if n <= MAX_CARDINAL => cardinal(n),
        _ => digit_by_digit(&whole, false),
    };
    if chars.get(i) == Some(&'.') && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
        let frac_start = i + 1;
        i = frac_start;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let frac: String = chars[frac_start..i].iter().collect();
        out.push('点');
        out.push_str(&digit_by_digit(&frac, false));
    }
    (out, i)
}

/// "-11-29" after a year: the month and day, and where the date ends.
fn iso_month_day(chars: &[char], start: usize) -> Option<(u64, u64, usize)> {
    let field = |from: usize| -> Option<(u64, usize)> {
        let mut i = from;
        while i < chars.len() && chars[i].is_ascii_digit() && i - from < 2 {
            i += 1;
        }
        if i == from || chars.get(i).is_some_and(char::is_ascii_digit) {
            return None;
        }
        let n: String = chars[from..i].iter().collect();
        Some((n.parse().ok()?, i))
    };
    let (month, end) = field(start)?;
    if chars.get(end) != Some(&'-') {
        return None;
    }
    let (day, end) = field(end + 1)?;
    ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some((month, day, end))
}

/// Exactly two digits at `start` (the minutes of a clock time), not followed by a third.
fn two_digits_at(chars: &[char], start: usize) -> Option<u64> {
    let a = chars.get(start)?.to_digit(10)?;
    let b = chars.get(start + 1)?.to_digit(10)?;
    if chars.get(start + 2).is_some_and(char::is_ascii_digit) || a > 5 {
        return None;
    }
    Some(u64::from(a * 10 + b))
}

/// Each digit on its own; as in phone and order numbers, 1 as 幺 when `yao`.
fn digit_by_digit(digits: &str, yao: bool) -> String {
    digits
        .chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| {
            if yao && d == 1 {
                '幺'
            } else {
                DIGITS[d as usize]
            }
        })
        .collect()
}

/// A whole number as a number: 42 → 四十二, 100042 → 十万零四十二, 10 → 十.
pub fn cardinal(n: u64) -> String {
    if n == 0 {
        return "零".to_string();
    }
    if n > MAX_CARDINAL {
        return digit_by_digit(&n.to_string(), false);
    }
    let groups = [
        (n / 100_000_000, "亿"),
        (n / 10_000 % 10_000, "万"),
        (n % 10_000, ""),
    ];
    let mut out = String::new();
    let mut zero_pending = false;
    for (group, unit) in groups {
        if group == 0 {
            zero_pending |= !out.is_empty();
            continue;
        }
        if !out.is_empty() && (zero_pending || group < 1000) {
            out.push('零');
        }
        out.push_str(&below_ten_thousand(group, out.is_empty()));
        out.push_str(unit);
        zero_pending = false;
    }
    out
}

/// 1..=9999 with 千 百 十 and one 零 for a run of inner zeros; `leading`: the number starts
/// here, so 1x is 十x rather than 一十x.
fn below_ten_thousand(n: u64, leading: bool) -> String {
    let places = [
        (n / 1000, "千"),
        (n / 100 % 10, "百"),
        (n / 10 % 10, "十"),
        (n % 10, ""),
    ];
    let mut out = String::new();
    let mut zero_pending = false;
    for (d, unit) in places {
        if d == 0 {
            zero_pending |= !out.is_empty();
            continue;
        }
        if zero_pending {
            out.push('零');
            zero_pending = false;
        }
        if !(leading && out.is_empty() && unit == "十" && d == 1) {
            out.push(DIGITS[d as usize]);
        }
        out.push_str(unit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cardinals() {
        for (n, said) in [
            (0, "零"),
            (7, "七"),
            (10, "十"),
            (15, "十五"),
            (20, "二十"),
            (42, "四十二"),
            (100, "一百"),
            (101, "一百零一"),
            (110, "一百一十"),
            (1010, "一千零一十"),
            (1999, "一千九百九十九"),
            (10_000, "一万"),
            (20_005, "二万零五"),
            (100_042, "十万零四十二"),
            (1_000_000, "一百万"),
            (100_000_001, "一亿零一"),
            (120_000_000, "一亿二千万"),
            // Past what anyone says as a number: digit by digit.
            (12_345_678_901_234, "一二三四五六七八九零一二三四"),
        ] {
            assert_eq!(cardinal(n), said, "{n}");
        }
    }

    #[test]
    fn identifiers_digit_by_digit() {
        assert_eq!(
            read_numbers("订单号100042已发货"),
            "订单号幺零零零四二已发货"
        );
        assert_eq!(read_numbers("您的订单 4711 呢"), "您的订单 四七幺幺 呢");
        assert_eq!(read_numbers("手机尾号是1234"), "手机尾号是幺二三四");
        // Long runs are identifiers anywhere; so are numbers with a leading zero.
        assert_eq!(
            read_numbers("单子13800138000"),
            "单子幺三八零零幺三八零零零"
        );
        assert_eq!(read_numbers("邮政区号 02139"), "邮政区号 零二幺三九");
        assert_eq!(
            read_numbers("客服电话400-820-8820"),
            "客服电话四零零 八二零 八八二零"
        );
    }

    #[test]
    fn amounts_and_quantities() {
        assert_eq!(read_numbers("退款79.99元"), "退款七十九点九九元");
        assert_eq!(read_numbers("¥5"), "五元");
        assert_eq!(read_numbers("￥120.5"), "一百二十点五元");
        assert_eq!(read_numbers("$19.99"), "十九点九九美元");
        assert_eq!(read_numbers("共3件"), "共三件");
        assert_eq!(read_numbers("2件商品"), "两件商品");
        assert_eq!(read_numbers("打8折，省20%"), "打八折，省百分之二十");
        // A big amount is an amount, not an identifier.
        assert_eq!(read_numbers("12000元"), "一万二千元");
        assert_eq!(read_numbers("1,299元"), "一千二百九十九元");
        assert_eq!(read_numbers("打折20.5%"), "打折百分之二十点五");
        // An order's amount is an amount, even right after 订单.
        assert_eq!(read_numbers("订单金额79.99元"), "订单金额七十九点九九元");
    }

    #[test]
    fn dates_and_times() {
        assert_eq!(
            read_numbers("2026年11月29日送达"),
            "二零二六年十一月二十九日送达"
        );
        assert_eq!(read_numbers("2026-11-29"), "二零二六年十一月二十九日");
        assert_eq!(read_numbers("2号到货"), "二号到货");
        assert_eq!(read_numbers("10:05前"), "十点零五分前");
        assert_eq!(read_numbers("9:30"), "九点三十分");
        assert_eq!(read_numbers("18:00"), "十八点");
        assert_eq!(read_numbers("2:30"), "两点三十分");
        assert_eq!(read_numbers("下午2点"), "下午两点");
        assert_eq!(read_numbers("2026年05月03日"), "二零二六年五月三日");
        assert_eq!(read_numbers("订单11月29日到"), "订单十一月二十九日到");
    }

    #[test]
    fn text_without_numbers_is_unchanged() {
        for text in ["你好，请问有什么可以帮您？", "", "abc", "价格是多少"] {
            assert_eq!(read_numbers(text), text);
        }
    }
}
