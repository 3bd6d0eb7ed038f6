//! Elections, identified as Democracy Club does: `parl.2024-07-04`, `local.leeds.2026-05-07`.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::error::{FieldError, required_text};

/// A Democracy Club election id: a lowercase kind, optional organisation/division segments,
/// and the polling day, separated by dots.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ElectionId(String);

impl ElectionId {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        let value = value.trim();
        let bad = || {
            FieldError::new(format!(
                "invalid election id {value:?}: expected a kind and a polling day such as parl.2024-07-04"
            ))
        };
        let segments: Vec<&str> = value.split('.').collect();
        if segments.len() < 2 {
            return Err(bad());
        }
        let kind = segments[0];
        if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(bad());
        }
        for middle in &segments[1..segments.len() - 1] {
            if middle.is_empty()
                || !middle
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(bad());
            }
        }
        parse_date(segments[segments.len() - 1]).map_err(|_| bad())?;
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The election kind: the first segment (`parl`, `local`, `mayor`, …).
    pub fn kind(&self) -> &str {
        self.0.split('.').next().unwrap_or_default()
    }

    /// The polling day the id names.
    pub fn polling_day(&self) -> NaiveDate {
        let last = self.0.rsplit('.').next().unwrap_or_default();
        // `parse` checked the date, so this cannot fail for a constructed id.
        parse_date(last).unwrap_or_default()
    }
}

impl fmt::Display for ElectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses an ISO date (`YYYY-MM-DD`) strictly.
pub fn parse_date(value: &str) -> Result<NaiveDate, FieldError> {
    let value = value.trim();
    if value.len() != 10 {
        return Err(FieldError::new(format!(
            "invalid date {value:?}: expected YYYY-MM-DD"
        )));
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| FieldError::new(format!("invalid date {value:?}: expected YYYY-MM-DD")))
}

/// An election the service covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Election {
    pub id: ElectionId,
    pub name: String,
    pub kind: String,
    pub polling_day: NaiveDate,
}

impl Election {
    /// Builds an election from its id and the polling day a file states; the two must agree.
    pub fn new(
        id: ElectionId,
        polling_day: NaiveDate,
        name: Option<&str>,
    ) -> Result<Self, FieldError> {
        if id.polling_day() != polling_day {
            return Err(FieldError::new(format!(
                "polling day {polling_day} does not match election id {id}"
            )));
        }
        let name = match name {
            Some(name) => required_text(name, "election name", 200)?,
            None => default_name(&id),
        };
        Ok(Self {
            kind: id.kind().to_owned(),
            id,
            name,
            polling_day,
        })
    }
}

fn default_name(id: &ElectionId) -> String {
    let day = id.polling_day();
    let when = format!("{} {} {}", day.day(), month_name(day.month()), day.year());
    match id.kind() {
        "parl" => format!("UK Parliament general election, {when}"),
        "local" => format!("Local elections, {when}"),
        "mayor" => format!("Mayoral election, {when}"),
        "pcc" => format!("Police and crime commissioner elections, {when}"),
        "sp" => format!("Scottish Parliament election, {when}"),
        "senedd" => format!("Senedd election, {when}"),
        "nia" => format!("Northern Ireland Assembly election, {when}"),
        other => format!("{other} election, {when}"),
    }
}

fn month_name(month: u32) -> &'static str {
    const NAMES: [&str; 12] = [
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
    NAMES[(month as usize).saturating_sub(1) % 12]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_democracy_club_ids() {
        let id = ElectionId::parse("parl.2024-07-04").unwrap();
        assert_eq!(id.kind(), "parl");
        assert_eq!(
            id.polling_day(),
            NaiveDate::from_ymd_opt(2024, 7, 4).unwrap()
        );
        assert!(ElectionId::parse("local.leeds.2026-05-07").is_ok());
    }

    #[test]
    fn rejects_bad_ids() {
        for bad in [
            "",
            "parl",
            "parl.2024-13-04",
            "Parl.2024-07-04",
            "parl..2024-07-04",
            "parl.2024-7-4",
        ] {
            assert!(ElectionId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn polling_day_must_match_id() {
        let id = ElectionId::parse("parl.2024-07-04").unwrap();
        let day = NaiveDate::from_ymd_opt(2024, 7, 5).unwrap();
        assert!(Election::new(id.clone(), day, None).is_err());
        let ok = Election::new(id, NaiveDate::from_ymd_opt(2024, 7, 4).unwrap(), None).unwrap();
        assert_eq!(ok.name, "UK Parliament general election, 4 July 2024");
    }

    #[test]
    fn strict_dates() {
        assert!(parse_date("2024-07-04").is_ok());
        assert!(parse_date("04/07/2024").is_err());
        assert!(parse_date("2024-02-30").is_err());
    }
}
