//! Reports of concern: what a candidate tells the service, how urgent it is, where it stands,
//! and who must acknowledge it by when. Pure rules; the store keeps the rows and the worker fires
//! the deadlines.

mod escalation;
mod triage;

pub use escalation::{Tier, ack_window_ms, first_deadline, next_tier};
pub use triage::{Triage, TriageInput, triage};

use serde::Serialize;

use crate::error::FieldError;

/// What happened, in the words of the report form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    ThreatOfViolence,
    SexualThreat,
    OnlineAbuse,
    HarassmentInPerson,
    Stalking,
    ProtestAtHome,
    SuspiciousActivity,
    PersonalDetailsExposed,
    CyberIncident,
    Other,
    /// Raised by a lone-working check-in session (missed check-in, overrun, panic, duress
    /// PIN), never chosen on the report form: not in [`Category::ALL`].
    LoneWorkingAlarm,
}

impl Category {
    pub const ALL: [Category; 10] = [
        Category::ThreatOfViolence,
        Category::SexualThreat,
        Category::OnlineAbuse,
        Category::HarassmentInPerson,
        Category::Stalking,
        Category::ProtestAtHome,
        Category::SuspiciousActivity,
        Category::PersonalDetailsExposed,
        Category::CyberIncident,
        Category::Other,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::ThreatOfViolence => "threat_of_violence",
            Self::SexualThreat => "sexual_threat",
            Self::OnlineAbuse => "online_abuse",
            Self::HarassmentInPerson => "harassment_in_person",
            Self::Stalking => "stalking",
            Self::ProtestAtHome => "protest_at_home",
            Self::SuspiciousActivity => "suspicious_activity",
            Self::PersonalDetailsExposed => "personal_details_exposed",
            Self::CyberIncident => "cyber_incident",
            Self::Other => "other",
            Self::LoneWorkingAlarm => "lone_working_alarm",
        }
    }

    /// The form's wording.
    pub fn label(self) -> &'static str {
        match self {
            Self::ThreatOfViolence => "Threat of violence",
            Self::SexualThreat => "Sexual threat",
            Self::OnlineAbuse => "Online abuse or harassment",
            Self::HarassmentInPerson => "Harassment in person",
            Self::Stalking => "Stalking",
            Self::ProtestAtHome => "Protest at your home or office",
            Self::SuspiciousActivity => "Suspicious activity or item",
            Self::PersonalDetailsExposed => "Your personal details exposed",
            Self::CyberIncident => "Cyber incident or phishing",
            Self::Other => "Something else",
            Self::LoneWorkingAlarm => "Lone-working alarm",
        }
    }

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .chain([Self::LoneWorkingAlarm])
            .find(|c| c.key() == value.trim())
            .ok_or_else(|| FieldError::new("Select what happened"))
    }
}

/// How urgent: P1 needs a person within minutes, P4 within days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Priority {
    P1,
    P2,
    P3,
    P4,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::P1, Priority::P2, Priority::P3, Priority::P4];

    pub fn number(self) -> i64 {
        match self {
            Self::P1 => 1,
            Self::P2 => 2,
            Self::P3 => 3,
            Self::P4 => 4,
        }
    }

    pub fn from_number(n: i64) -> Result<Self, FieldError> {
        match n {
            1 => Ok(Self::P1),
            2 => Ok(Self::P2),
            3 => Ok(Self::P3),
            4 => Ok(Self::P4),
            _ => Err(FieldError::new("Priority must be P1, P2, P3 or P4")),
        }
    }

    /// Accepts `P1`…`P4` or `1`…`4`.
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        let v = value.trim();
        let digits = v.strip_prefix(['P', 'p']).unwrap_or(v);
        digits
            .parse::<i64>()
            .map_err(|_| FieldError::new("Priority must be P1, P2, P3 or P4"))
            .and_then(Self::from_number)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::P1 => "P1",
            Self::P2 => "P2",
            Self::P3 => "P3",
            Self::P4 => "P4",
        }
    }

    /// What the priority promises, in the candidate's words.
    pub fn meaning(self) -> &'static str {
        match self {
            Self::P1 => "urgent: a named police contact must respond within 15 minutes",
            Self::P2 => "high: a named police contact must respond within 4 hours",
            Self::P3 => "a named police contact will respond within 1 day",
            Self::P4 => "a named police contact will respond within 3 days",
        }
    }
}

/// Where a report stands. Closed reports can be reopened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    New,
    Acknowledged,
    InProgress,
    Closed,
}

impl Status {
    pub fn key(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Acknowledged => "acknowledged",
            Self::InProgress => "in_progress",
            Self::Closed => "closed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::New => "New",
            Self::Acknowledged => "Acknowledged",
            Self::InProgress => "In progress",
            Self::Closed => "Closed",
        }
    }

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        match value.trim() {
            "new" => Ok(Self::New),
            "acknowledged" => Ok(Self::Acknowledged),
            "in_progress" => Ok(Self::InProgress),
            "closed" => Ok(Self::Closed),
            other => Err(FieldError::new(format!("unknown report status {other:?}"))),
        }
    }

    pub fn is_open(self) -> bool {
        self != Self::Closed
    }

    /// The moves the police may make by hand. Acknowledging is its own action (it stops the
    /// escalation and makes the acknowledger the owner); reopening puts a closed report back
    /// in progress with its owner.
    pub fn can_move_to(self, to: Status) -> bool {
        use Status::*;
        matches!(
            (self, to),
            (Acknowledged, InProgress)
                | (Acknowledged, Closed)
                | (InProgress, Closed)
                | (Closed, InProgress)
        )
    }
}

/// How a closed report ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    AdviceGiven,
    SecurityMeasures,
    CrimeRecorded,
    ReferredToPlatform,
    NoFurtherAction,
    Duplicate,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [
        Outcome::AdviceGiven,
        Outcome::SecurityMeasures,
        Outcome::CrimeRecorded,
        Outcome::ReferredToPlatform,
        Outcome::NoFurtherAction,
        Outcome::Duplicate,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::AdviceGiven => "advice_given",
            Self::SecurityMeasures => "security_measures",
            Self::CrimeRecorded => "crime_recorded",
            Self::ReferredToPlatform => "referred_to_platform",
            Self::NoFurtherAction => "no_further_action",
            Self::Duplicate => "duplicate",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::AdviceGiven => "Advice given",
            Self::SecurityMeasures => "Security measures put in place",
            Self::CrimeRecorded => "Crime recorded and under investigation",
            Self::ReferredToPlatform => "Referred to the platform",
            Self::NoFurtherAction => "No further action",
            Self::Duplicate => "Duplicate of another report",
        }
    }

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|o| o.key() == value.trim())
            .ok_or_else(|| FieldError::new("Select an outcome"))
    }
}

/// A report's reference as people say it: `R-00042` from row id 42.
pub fn reference(id: i64) -> String {
    format!("R-{id:05}")
}

/// The row id inside a reference (`R-00042` or `r-42` → 42).
pub fn parse_reference(value: &str) -> Option<i64> {
    let v = value.trim();
    let digits = v.strip_prefix("R-").or_else(|| v.strip_prefix("r-"))?;
    digits.parse().ok().filter(|n| *n > 0)
}

/// An offender identifier as matched across reports: a handle, a name, a vehicle registration,
/// an email or a phone number, folded so the same offender matches however it was typed
/// (case, spaces, a leading `@`). Empty when nothing identifying is left.
pub fn normalise_identifier(value: &str) -> String {
    value
        .trim()
        .trim_start_matches('@')
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '@'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Splits the form's "who" box into identifiers: one per line or comma.
pub fn identifiers(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .split([',', '\n', ';'])
        .map(normalise_identifier)
        .filter(|s| s.chars().count() >= 3)
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests;
