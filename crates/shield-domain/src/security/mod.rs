//! Requests for additional security (journey 5): what a candidate asks for, the force's
//! structured risk assessment, the coordinator's decision with reasons, and the deadlines that
//! keep a request moving. Pure rules; the store keeps the rows and the worker fires deadlines.
//!
//! A request moves `awaiting_assessment` → `awaiting_decision` → `decided`, and back to
//! `awaiting_assessment` when the candidate asks for reconsideration with new information.

pub mod assessment;
pub mod consistency;
pub mod decision;

pub use assessment::{Assessment, Factor, FactorGroup, Level, Rating, Scores, assess};
pub use consistency::{Consistency, ConsistencyRow, DecisionCounts};
pub use decision::{DecideRefusal, Outcome, may_decide};

use serde::Serialize;

use crate::error::FieldError;
use crate::report::Tier;

/// What kind of additional security is asked for (also the measures a recommendation names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    HomeSurvey,
    Alarm,
    PrivateSecurity,
    PolicePresence,
    CloseProtection,
    Other,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::HomeSurvey,
        Kind::Alarm,
        Kind::PrivateSecurity,
        Kind::PolicePresence,
        Kind::CloseProtection,
        Kind::Other,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::HomeSurvey => "home_survey",
            Self::Alarm => "alarm",
            Self::PrivateSecurity => "private_security",
            Self::PolicePresence => "police_presence",
            Self::CloseProtection => "close_protection",
            Self::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::HomeSurvey => "Home security survey",
            Self::Alarm => "Alarm or panic-button installation",
            Self::PrivateSecurity => "Private security at an event",
            Self::PolicePresence => "Police presence at a hustings, surgery or the count",
            Self::CloseProtection => "Close protection",
            Self::Other => "Something else",
        }
    }

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|k| k.key() == value)
            .ok_or_else(|| FieldError::new("Select what kind of security you need"))
    }
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    AwaitingAssessment,
    AwaitingDecision,
    Decided,
}

impl Status {
    pub const ALL: [Status; 3] = [
        Status::AwaitingAssessment,
        Status::AwaitingDecision,
        Status::Decided,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::AwaitingAssessment => "awaiting_assessment",
            Self::AwaitingDecision => "awaiting_decision",
            Self::Decided => "decided",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::AwaitingAssessment => "Waiting for a risk assessment",
            Self::AwaitingDecision => "Waiting for a decision",
            Self::Decided => "Decided",
        }
    }

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|s| s.key() == value)
            .ok_or_else(|| FieldError::new("Unknown request status"))
    }
}

/// Which step a deadline is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Assessment,
    Decision,
}

impl Stage {
    pub fn key(self) -> &'static str {
        match self {
            Self::Assessment => "assessment",
            Self::Decision => "decision",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "assessment" => Some(Self::Assessment),
            "decision" => Some(Self::Decision),
            _ => None,
        }
    }
}

const HOUR: i64 = 3_600_000;

/// How long each step may take (per deployment; the defaults below). A request linked to one
/// of the candidate's P1 reports is urgent: each step then gets `urgent_ms` (same day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    pub assessment_ms: i64,
    pub decision_ms: i64,
    pub urgent_ms: i64,
}

impl Default for Windows {
    fn default() -> Self {
        Self {
            assessment_ms: 72 * HOUR,
            decision_ms: 48 * HOUR,
            urgent_ms: 4 * HOUR,
        }
    }
}

impl Windows {
    /// The time the first tier of `stage` has.
    pub fn window(&self, stage: Stage, urgent: bool) -> i64 {
        match (stage, urgent) {
            (_, true) => self.urgent_ms,
            (Stage::Assessment, false) => self.assessment_ms,
            (Stage::Decision, false) => self.decision_ms,
        }
    }
}

/// The tier told first for a stage: the force's lead contact for an assessment, the
/// coordinators for a decision.
pub fn first_tier(stage: Stage) -> Tier {
    match stage {
        Stage::Assessment => Tier::Lead,
        Stage::Decision => Tier::Coordinator,
    }
}

/// Who is told when `tier`'s deadline passes, as for reports: lead → deputy → coordinator. A
/// missed decision is a coordinator's, so it is told to every coordinator again and stops there.
/// `None`: nothing further (the request stays overdue on the coordinators' list).
pub fn escalate_to(stage: Stage, tier: Tier) -> Option<Tier> {
    match (stage, tier) {
        (Stage::Assessment, Tier::Lead) => Some(Tier::Deputy),
        (Stage::Assessment, Tier::Deputy) => Some(Tier::Coordinator),
        (Stage::Decision, Tier::Coordinator) => Some(Tier::Coordinator),
        _ => None,
    }
}

/// Whether a tier reached by escalation gets a deadline of its own: a deputy does (as long as
/// the lead had); the coordinators are the last tier.
pub fn escalated_window(stage: Stage, tier: Tier, window_ms: i64) -> Option<i64> {
    match (stage, tier) {
        (Stage::Assessment, Tier::Deputy) => Some(window_ms),
        _ => None,
    }
}

/// A request's reference as people quote it: `SR-000042`.
pub fn reference(id: i64) -> String {
    format!("SR-{id:06}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_statuses_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.key()).unwrap(), k);
        }
        for s in Status::ALL {
            assert_eq!(Status::parse(s.key()).unwrap(), s);
        }
        assert!(Kind::parse("tank").is_err());
    }

    #[test]
    fn urgent_requests_get_the_same_day() {
        let w = Windows::default();
        assert_eq!(w.window(Stage::Assessment, false), 72 * HOUR);
        assert_eq!(w.window(Stage::Decision, false), 48 * HOUR);
        assert_eq!(w.window(Stage::Assessment, true), 4 * HOUR);
        assert_eq!(w.window(Stage::Decision, true), 4 * HOUR);
    }

    #[test]
    fn assessment_escalates_like_a_report_and_decision_to_coordinators() {
        assert_eq!(first_tier(Stage::Assessment), Tier::Lead);
        assert_eq!(
            escalate_to(Stage::Assessment, Tier::Lead),
            Some(Tier::Deputy)
        );
        assert_eq!(
            escalate_to(Stage::Assessment, Tier::Deputy),
            Some(Tier::Coordinator)
        );
        assert_eq!(escalate_to(Stage::Assessment, Tier::Coordinator), None);
        assert_eq!(
            escalated_window(Stage::Assessment, Tier::Deputy, 5),
            Some(5)
        );
        assert_eq!(
            escalated_window(Stage::Assessment, Tier::Coordinator, 5),
            None
        );
        assert_eq!(
            escalate_to(Stage::Decision, Tier::Coordinator),
            Some(Tier::Coordinator)
        );
        assert_eq!(
            escalated_window(Stage::Decision, Tier::Coordinator, 5),
            None
        );
        assert_eq!(reference(42), "SR-000042");
    }
}
