//! Lone-working check-in sessions (journey 6): what a candidate is doing, how often they check
//! in, and why an alarm was raised. The timers themselves are rows fired by the worker.

use serde::Serialize;

use crate::error::FieldError;

pub const MINUTE_MS: i64 = 60_000;

/// The check-in intervals offered, in minutes.
pub const INTERVALS_MIN: [i64; 3] = [15, 30, 60];

/// The longest a session may run: a long day's canvassing, or the count.
pub const MAX_SESSION_MS: i64 = 16 * 60 * MINUTE_MS;

/// How long before a check-in falls due the candidate is reminded (a third of the interval if
/// that is shorter, so a 15-minute interval is reminded at 10 minutes).
pub const REMINDER_LEAD_MS: i64 = 5 * MINUTE_MS;

/// Wrong PINs a session takes before it stops accepting PINs and raises an alarm: someone
/// guessing may have the candidate's phone.
pub const MAX_PIN_FAILURES: i64 = 5;

/// When to remind the candidate of the check-in due at `next_due_ms`.
pub fn reminder_at(next_due_ms: i64, interval_ms: i64) -> i64 {
    next_due_ms - REMINDER_LEAD_MS.min(interval_ms / 3)
}

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
    /// [`MAX_PIN_FAILURES`] wrong PINs on one session.
    PinGuesses,
}

impl AlarmReason {
    pub const ALL: [AlarmReason; 5] = [
        Self::MissedCheckIn,
        Self::Overran,
        Self::Panic,
        Self::Duress,
        Self::PinGuesses,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::MissedCheckIn => "missed_check_in",
            Self::Overran => "overran",
            Self::Panic => "panic",
            Self::Duress => "duress",
            Self::PinGuesses => "pin_guesses",
        }
    }

    /// Whether the candidate's buddy is emailed. Not for a duress alarm: a buddy's natural
    /// answer is to ring the candidate at once, and a phone ringing with "are you all right?"
    /// in front of whoever is forcing them gives the alarm away. The police are told how to
    /// approach; a buddy is not briefed.
    pub fn tells_buddy(self) -> bool {
        self != Self::Duress
    }

    /// What the buddy's email says happened (no place, no details).
    pub fn buddy_words(self) -> &'static str {
        match self {
            Self::MissedCheckIn => "missed a check-in while out campaigning",
            Self::Overran => "did not end their session by the time they expected to finish",
            Self::Panic => "pressed the panic button",
            Self::PinGuesses => {
                "had a wrong PIN entered on their phone several times, so someone else may have it"
            }
            Self::Duress => "needs help",
        }
    }

    /// The triage reason shown on the report.
    pub fn reason(self) -> &'static str {
        match self {
            Self::MissedCheckIn => "Missed check-in",
            Self::Overran => "Session overran its expected end",
            Self::Panic => "Panic button",
            Self::Duress => "Duress PIN",
            Self::PinGuesses => "Too many wrong PINs",
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
            Self::PinGuesses => {
                "Lone-working alarm: a wrong PIN was entered five times trying to end the candidate's session. Someone else may have their phone."
            }
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.key() == value)
    }
}

/// The person a candidate asks to be told first when an alarm is raised: a friend, a partner,
/// their agent. Sealed at rest as one JSON value; `Debug` leaves it out.
#[derive(Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Buddy {
    pub name: String,
    pub email: String,
    pub phone: String,
}

impl std::fmt::Debug for Buddy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Buddy(..)")
    }
}

/// Checks a buddy's details; each problem names its field (`buddy_name`, `buddy_email`,
/// `buddy_phone`). The email is where the alarm goes, so it must parse; the phone is for the
/// police, so it must be a UK number.
pub fn check_buddy(
    name: &str,
    email: &str,
    phone: &str,
) -> Result<Buddy, Vec<(&'static str, FieldError)>> {
    let mut problems = Vec::new();
    let name = name.trim();
    if name.is_empty() {
        problems.push(("buddy_name", FieldError::new("Enter your buddy's name")));
    } else if name.chars().count() > 100 || name.chars().any(char::is_control) {
        problems.push((
            "buddy_name",
            FieldError::new("Your buddy's name must be 100 characters or fewer"),
        ));
    }
    let email = crate::Email::parse(email).map_err(|_| {
        problems.push((
            "buddy_email",
            FieldError::new("Enter your buddy's email address, like name@example.com"),
        ))
    });
    let phone = crate::Phone::parse(phone).map_err(|_| {
        problems.push((
            "buddy_phone",
            FieldError::new("Enter your buddy's UK phone number, like 07700 900123"),
        ))
    });
    match (email, phone) {
        (Ok(email), Ok(phone)) if problems.is_empty() => Ok(Buddy {
            name: name.to_owned(),
            email: email.as_str().to_owned(),
            phone: phone.as_str().to_owned(),
        }),
        _ => Err(problems),
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
    fn reminders_come_before_the_check_in() {
        assert_eq!(reminder_at(60 * MINUTE_MS, 30 * MINUTE_MS), 55 * MINUTE_MS);
        assert_eq!(reminder_at(15 * MINUTE_MS, 15 * MINUTE_MS), 10 * MINUTE_MS);
    }

    #[test]
    fn a_buddy_needs_a_name_an_email_and_a_phone() {
        let b = check_buddy(" Sam Whitfield ", "Sam@Example.org", "07700 900456").unwrap();
        assert_eq!(
            (b.name.as_str(), b.email.as_str(), b.phone.as_str()),
            ("Sam Whitfield", "Sam@example.org", "07700900456")
        );
        let fields: Vec<_> = check_buddy("", "nope", "12")
            .unwrap_err()
            .into_iter()
            .map(|(f, _)| f)
            .collect();
        assert_eq!(fields, vec!["buddy_name", "buddy_email", "buddy_phone"]);
    }

    #[test]
    fn duress_alone_keeps_the_buddy_out() {
        for r in AlarmReason::ALL {
            assert_eq!(r.tells_buddy(), r != AlarmReason::Duress);
            assert_eq!(AlarmReason::parse(r.key()), Some(r));
        }
    }

    #[test]
    fn intervals_are_the_offered_ones() {
        assert_eq!(interval_ms(15).unwrap(), 15 * MINUTE_MS);
        assert!(interval_ms(7).is_err());
    }
}
