//! UK local time (GMT in winter, BST in summer) worked out by hand, so pages, emails and the
//! calendar show the times a candidate in the UK reads on their own clock. Summer time runs
//! from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October.

use chrono::{Datelike, NaiveDate, NaiveDateTime};

const HOUR_MS: i64 = 3_600_000;

/// Whether UK clocks are on summer time at this UTC instant.
pub fn is_bst(utc: NaiveDateTime) -> bool {
    let last_sunday = |month: u32| {
        let mut d = NaiveDate::from_ymd_opt(utc.year(), month, 31).unwrap_or_default();
        while d.weekday() != chrono::Weekday::Sun {
            d = d.pred_opt().unwrap_or(d);
        }
        d.and_hms_opt(1, 0, 0).unwrap_or_default()
    };
    utc >= last_sunday(3) && utc < last_sunday(10)
}

/// The UK wall-clock time of an instant (epoch ms).
pub fn to_local(ms: i64) -> NaiveDateTime {
    let utc = chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .naive_utc();
    if is_bst(utc) {
        utc + chrono::Duration::hours(1)
    } else {
        utc
    }
}

/// The instant (epoch ms) of a UK wall-clock time. In the hour the clocks go back, the first
/// (summer) reading is taken; a time in the skipped spring hour is read as winter time.
pub fn from_local(local: NaiveDateTime) -> i64 {
    let as_utc = local.and_utc().timestamp_millis();
    if is_bst(local - chrono::Duration::hours(1)) {
        as_utc - HOUR_MS
    } else {
        as_utc
    }
}

/// "18:45" in UK time.
pub fn clock_time(ms: i64) -> String {
    to_local(ms).format("%H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn summer_and_winter() {
        // 7 May 2026 17:00 UTC is 18:00 BST; 10 December 17:00 UTC is 17:00 GMT.
        let may = at("2026-05-07 17:00").and_utc().timestamp_millis();
        assert_eq!(to_local(may), at("2026-05-07 18:00"));
        assert_eq!(from_local(at("2026-05-07 18:00")), may);
        let dec = at("2026-12-10 17:00").and_utc().timestamp_millis();
        assert_eq!(to_local(dec), at("2026-12-10 17:00"));
        assert_eq!(clock_time(dec), "17:00");
    }

    #[test]
    fn the_changes() {
        // 2026: clocks go forward 29 March 01:00 UTC, back 25 October 01:00 UTC.
        let before = at("2026-03-29 00:59").and_utc().timestamp_millis();
        assert_eq!(to_local(before), at("2026-03-29 00:59"));
        let after = at("2026-03-29 01:00").and_utc().timestamp_millis();
        assert_eq!(to_local(after), at("2026-03-29 02:00"));
        let back = at("2026-10-25 01:00").and_utc().timestamp_millis();
        assert_eq!(to_local(back), at("2026-10-25 01:00"));
    }
}
