//! ISO-8601 UTC timestamps for `core:datetime` (`2026-01-01T12:00:00.000Z`), from the
//! system clock, without a calendar library.

use std::time::{SystemTime, UNIX_EPOCH};

/// Formats `time` as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, millisecond resolution). Times
/// before 1970 are clamped to the epoch.
pub fn iso8601_utc(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// The current time, formatted by [`iso8601_utc`].
pub fn now_iso8601_utc() -> String {
    iso8601_utc(SystemTime::now())
}

/// Whether `s` has the shape `YYYY-MM-DDTHH:MM:SS[.fraction]Z` with fields in range
/// (days are checked against 31, not against the month).
pub fn is_iso8601_utc(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
            && s[r].parse::<u32>().is_ok()
    };
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(u32::MAX);
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return false;
    }
    let shape = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let fraction_ok = match &b[19..b.len() - 1] {
        [] => true,
        [b'.', rest @ ..] => !rest.is_empty() && rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    shape
        && fraction_ok
        && (1..=12).contains(&num(5..7))
        && (1..=31).contains(&num(8..10))
        && num(11..13) < 24
        && num(14..16) < 60
        && num(17..19) < 61
}

/// Proleptic Gregorian date of `days` since 1970-01-01 (H. Hinnant's `civil_from_days`
/// algorithm): (year, month 1..=12, day 1..=31).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn known_instants_format_as_the_calendar_says() {
        // Unix time 0, a leap day, and 2026-12-03 15:59:07.250 (1 796 313 547 s).
        let at = |s: u64, ms: u64| UNIX_EPOCH + Duration::from_millis(s * 1000 + ms);
        assert_eq!(iso8601_utc(at(0, 0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601_utc(at(951_782_400, 0)), "2000-02-29T00:00:00.000Z");
        assert_eq!(
            iso8601_utc(at(1_796_313_547, 250)),
            "2026-12-03T15:59:07.250Z"
        );
        assert_eq!(
            iso8601_utc(at(4_107_542_399, 999)),
            "2100-02-28T23:59:59.999Z"
        );
    }

    #[test]
    fn validator_accepts_the_format_and_refuses_near_misses() {
        assert!(is_iso8601_utc("2026-01-01T00:00:00Z"));
        assert!(is_iso8601_utc("2026-01-01T00:00:00.123456Z"));
        assert!(is_iso8601_utc(&now_iso8601_utc()));
        for bad in [
            "2026-01-01 00:00:00Z",
            "2026-01-01T00:00:00",
            "2026-13-01T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00.Z",
            "2026-1-01T00:00:00Z",
            "yesterday",
        ] {
            assert!(!is_iso8601_utc(bad), "accepted {bad}");
        }
    }
}
