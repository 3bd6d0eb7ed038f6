//! A minimal iCalendar (RFC 5545) writer for the activities feed: text escaping (§3.3.11),
//! line folding at 75 octets (§3.1) and CRLF line ends.

/// One event of the feed.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub uid: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub summary: String,
    pub location: String,
    pub description: String,
    /// Called off: `STATUS:CANCELLED`, so subscribed calendars strike or drop it.
    pub cancelled: bool,
    /// `SEQUENCE`: the activity's revision, bumped by every change.
    pub sequence: i64,
}

/// Escapes a TEXT value: backslash, semicolon, comma and newlines.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds one content line so no physical line exceeds 75 octets (never splitting a UTF-8
/// character), and ends it with CRLF.
pub(crate) fn fold(line: &str, out: &mut String) {
    let mut used = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        // Continuation lines start with a space, which counts.
        if used + len > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += len;
    }
    out.push_str("\r\n");
}

/// UTC date-time form: `20260507T180000Z`.
pub(crate) fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_default()
}

/// The whole calendar.
pub(crate) fn calendar(name: &str, events: &[Event], now_ms: i64) -> String {
    let mut out = String::new();
    let stamp = utc(now_ms);
    for line in [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//Candidate Shield//Activities//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        format!("X-WR-CALNAME:{}", escape(name)),
    ] {
        fold(&line, &mut out);
    }
    for e in events {
        for line in [
            "BEGIN:VEVENT".to_owned(),
            format!("UID:{}", e.uid),
            format!("DTSTAMP:{stamp}"),
            format!("DTSTART:{}", utc(e.start_ms)),
            format!("DTEND:{}", utc(e.end_ms)),
            format!("SUMMARY:{}", escape(&e.summary)),
            format!("LOCATION:{}", escape(&e.location)),
            format!("DESCRIPTION:{}", escape(&e.description)),
            format!("SEQUENCE:{}", e.sequence.max(0)),
            format!(
                "STATUS:{}",
                if e.cancelled {
                    "CANCELLED"
                } else {
                    "CONFIRMED"
                }
            ),
            "END:VEVENT".to_owned(),
        ] {
            fold(&line, &mut out);
        }
    }
    fold("END:VCALENDAR", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_folds() {
        assert_eq!(escape("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
        let mut out = String::new();
        fold(&format!("DESCRIPTION:{}", "é".repeat(60)), &mut out);
        for line in out.split("\r\n") {
            assert!(line.len() <= 75, "{line:?}");
        }
        assert_eq!(
            out.replace("\r\n ", ""),
            format!("DESCRIPTION:{}\r\n", "é".repeat(60))
        );
    }
}
