//! ISO-8601 dates as the database stores them, without a date crate: days since 1970-01-01
//! to `YYYY-MM-DD` (Howard Hinnant's `civil_from_days`), and the current UTC time.

use std::time::{SystemTime, UNIX_EPOCH};

/// English month names, January first.
pub const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `YYYY-MM-DD` of day `days` since 1970-01-01 (proleptic Gregorian).
pub fn date_of_day(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Day number since 1970-01-01 of a `YYYY-MM-DD` date (a longer timestamp is cut to its date),
/// or `None` when it is not a valid date.
pub fn day_of_date(date: &str) -> Option<i64> {
    let date = date.get(..10)?;
    let b = date.as_bytes();
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = date[0..4].parse().ok()?;
    let m: u32 = date[5..7].parse().ok()?;
    let d: u32 = date[8..10].parse().ok()?;
    if !(1..=12).contains(&m) || d == 0 || d > 31 {
        return None;
    }
    let day = days_from_civil(y, m, d);
    // 2026-02-31 would roll over into March: not a date.
    (date_of_day(day) == date).then_some(day)
}

/// Day number since 1970-01-01 of `y-m-d`.
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `YYYY-MM-DDTHH:MM:SSZ` of `secs` since the Unix epoch.
pub fn timestamp(secs: i64) -> String {
    let day = secs.div_euclid(86_400);
    let s = secs.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        date_of_day(day),
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Seconds since the Unix epoch of a `YYYY-MM-DDTHH:MM:SSZ` timestamp (a bare date is its
/// midnight), or `None` when it is not one.
pub fn unix_of(stamp: &str) -> Option<i64> {
    let day = day_of_date(stamp)?;
    let secs = match stamp.get(10..) {
        None | Some("") => 0,
        Some(rest) => {
            let time = rest.strip_prefix('T')?.get(..8)?;
            let b = time.as_bytes();
            if b[2] != b':' || b[5] != b':' {
                return None;
            }
            let h: i64 = time[0..2].parse().ok()?;
            let m: i64 = time[3..5].parse().ok()?;
            let s: i64 = time[6..8].parse().ok()?;
            if h > 23 || m > 59 || s > 60 {
                return None;
            }
            h * 3600 + m * 60 + s
        }
    };
    Some(day * 86_400 + secs)
}

/// The current time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn now_utc() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    timestamp(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_back_to_their_seconds() {
        for secs in [0, 86_399, 1_764_000_000, 1_798_761_599] {
            assert_eq!(unix_of(&timestamp(secs)), Some(secs));
        }
        assert_eq!(unix_of("2026-11-28"), unix_of("2026-11-28T00:00:00Z"));
        for bad in [
            "2026-11-28T25:00:00Z",
            "2026-11-28 12:00:00",
            "2026-11-28T12:00",
            "x",
        ] {
            assert_eq!(unix_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn days_and_dates_agree() {
        assert_eq!(date_of_day(0), "1970-01-01");
        assert_eq!(date_of_day(days_from_civil(2024, 2, 29)), "2024-02-29");
        assert_eq!(date_of_day(days_from_civil(2026, 1, 5) + 30), "2026-02-04");
        assert_eq!(timestamp(86_400 + 3_661), "1970-01-02T01:01:01Z");
        assert_eq!(
            day_of_date("2026-11-28"),
            Some(days_from_civil(2026, 11, 28))
        );
        assert_eq!(
            day_of_date("2026-11-28T10:00:00Z"),
            day_of_date("2026-11-28")
        );
        for bad in [
            "2026-02-31",
            "2026-13-01",
            "26-11-28",
            "2026/11/28",
            "",
            "2026-11-2x",
        ] {
            assert_eq!(day_of_date(bad), None, "{bad}");
        }
        for d in -1000..1000 {
            let date = date_of_day(d * 37);
            let (y, m, dd) = (
                date[0..4].parse().unwrap(),
                date[5..7].parse().unwrap(),
                date[8..10].parse().unwrap(),
            );
            assert_eq!(days_from_civil(y, m, dd), d * 37);
        }
    }
}
