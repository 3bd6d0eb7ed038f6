//! Lone-working check-in sessions (journey 6): what a candidate is doing, how often they check
//! in, and why an alarm was raised. The timers themselves are rows fired by the worker.

use serde::Serialize;

use crate::error::FieldError;

pub const MINUTE_MS: i64 = 60_000;

/// The check-in intervals offered, in minutes.
pub const INTERVALS_MIN: [i64; 3] = [15, 30, 60];

/// The longest a session may run: a long day's canvassing, or the count.
pub const MAX_SESSION_MS: i64 = 16 * 60 * MINUTE_MS;

/// What the candidate is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    Canvassing,
    StreetStall,
    Hustings,
    Surgery,
    PublicMeeting,
    TheCount,
    Other,
}

impl ActivityKind {
    pub const ALL: [ActivityKind; 7] = [
        Self::Canvassing,
        Self::StreetStall,
        Self::Hustings,
        Self::Surgery,
        Self::PublicMeeting,
        Self::TheCount,
        Self::Other,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::Canvassing => "canvassing",
            Self::StreetStall => "street_stall",
            Self::Hustings => "hustings",
            Self::Surgery => "surgery",
            Self::PublicMeeting => "public_meeting",
            Self::TheCount => "the_count",
            Self::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Canvassing => "Canvassing",
            Self::StreetStall => "Street stall",
            Self::Hustings => "Hustings",
            Self::Surgery => "Surgery",
            Self::PublicMeeting => "Public meeting",
            Self::TheCount => "The count",
            Self::Other => "Something else",
        }
    }

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|k| k.key() == value.trim())
            .ok_or_else(|| FieldError::new("Select what you are doing"))
    }
}

/// Why an alarm was raised. The reason is the report's triage reason, so the police see at
/// once what happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmReason {
    MissedCheckIn,
    Overran,
    Panic,
    Duress,
}

impl AlarmReason {
    pub fn key(self) -> &'static str {
        match self {
            Self::MissedCheckIn => "missed_check_in",
            Self::Overran => "overran",
            Self::Panic => "panic",
            Self::Duress => "duress",
        }
    }

    /// The triage reason shown on the report.
    pub fn reason(self) -> &'static str {
        match self {
            Self::MissedCheckIn => "Missed check-in",
            Self::Overran => "Session overran its expected end",
            Self::Panic => "Panic button",
            Self::Duress => "Duress PIN",
        }
    }

    /// What the report says happened, for the police.
    pub fn what(self) -> &'static str {
        match self {
            Self::MissedCheckIn => {
                "Lone-working alarm: the candidate did not check in by the time they set. They may be unable to."
            }
            Self::Overran => {
                "Lone-working alarm: the candidate's session passed its expected end without being ended."
            }
            Self::Panic => "Lone-working alarm: the candidate pressed the panic button.",
            Self::Duress => {
                "Lone-working alarm: the candidate ended their session with their duress PIN. They may be with someone who is forcing them. Do not contact them in a way that reveals the alarm."
            }
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::MissedCheckIn,
            Self::Overran,
            Self::Panic,
            Self::Duress,
        ]
        .into_iter()
        .find(|r| r.key() == value)
    }
}

/// Checks a new PIN: 4 to 8 digits.
pub fn check_pin(pin: &str) -> Result<(), FieldError> {
    let ok = (4..=8).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(FieldError::new("A PIN must be 4 to 8 digits"))
    }
}

/// Checks a check-in interval in minutes against the offered ones.
pub fn interval_ms(minutes: i64) -> Result<i64, FieldError> {
    if INTERVALS_MIN.contains(&minutes) {
        Ok(minutes * MINUTE_MS)
    } else {
        Err(FieldError::new("Select how often you will check in"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_four_to_eight_digits() {
        assert!(check_pin("1234").is_ok());
        assert!(check_pin("12345678").is_ok());
        assert!(check_pin("123").is_err());
        assert!(check_pin("123456789").is_err());
        assert!(check_pin("12a4").is_err());
    }

    #[test]
    fn intervals_are_the_offered_ones() {
        assert_eq!(interval_ms(15).unwrap(), 15 * MINUTE_MS);
        assert!(interval_ms(7).is_err());
    }
}
