//! The personal security plan (journey 3): the steps a new candidate works through, each with a
//! status, and the readiness score the candidate and their police contact both see.
//!
//! Some steps the service can see done for itself (a passkey registered, a campaign activity
//! registered, a briefing attended); [`effective`] lets such evidence mark a step done whatever
//! the stored status says, so the candidate never has to tick what the service already knows.
//! The score is a pure function of the effective statuses, so the candidate's page, the
//! police's lists and the outreach filters all agree.

use serde::Serialize;

use crate::FieldError;

/// One step of the plan, in the order the task list shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    MeetContact,
    Passkey,
    CheckPasswords,
    TwoStep,
    HomeAddress,
    HomeSecurity,
    CanvassInPairs,
    RegisterActivities,
    AttendBriefing,
    EmergencyNumbers,
    KnowWhatToReport,
}

impl Step {
    pub const ALL: [Step; 11] = [
        Step::MeetContact,
        Step::Passkey,
        Step::CheckPasswords,
        Step::TwoStep,
        Step::HomeAddress,
        Step::HomeSecurity,
        Step::CanvassInPairs,
        Step::RegisterActivities,
        Step::AttendBriefing,
        Step::EmergencyNumbers,
        Step::KnowWhatToReport,
    ];

    /// The URL slug and stored key.
    pub fn key(self) -> &'static str {
        match self {
            Self::MeetContact => "meet-contact",
            Self::Passkey => "passkey",
            Self::CheckPasswords => "check-passwords",
            Self::TwoStep => "two-step",
            Self::HomeAddress => "home-address",
            Self::HomeSecurity => "home-security",
            Self::CanvassInPairs => "canvass-in-pairs",
            Self::RegisterActivities => "register-activities",
            Self::AttendBriefing => "attend-briefing",
            Self::EmergencyNumbers => "emergency-numbers",
            Self::KnowWhatToReport => "know-what-to-report",
        }
    }

    pub fn parse(key: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|s| s.key() == key)
            .ok_or_else(|| FieldError::new("unknown plan step"))
    }

    /// The task list's wording.
    pub fn title(self) -> &'static str {
        match self {
            Self::MeetContact => "Meet your named police contact",
            Self::Passkey => "Set up a passkey",
            Self::CheckPasswords => "Check your passwords",
            Self::TwoStep => "Turn on 2-step verification on email and social media",
            Self::HomeAddress => "Keep your home address off nomination papers and public lists",
            Self::HomeSecurity => "Check your home security",
            Self::CanvassInPairs => "Plan canvassing in pairs",
            Self::RegisterActivities => "Register your campaign activities",
            Self::AttendBriefing => "Attend a security briefing",
            Self::EmergencyNumbers => "Save emergency numbers in your phone",
            Self::KnowWhatToReport => "Know what to report",
        }
    }

    /// Whether the service can see this step done by itself (the candidate may still tick it).
    pub fn evidence_kind(self) -> Option<Evidence> {
        match self {
            Self::Passkey => Some(Evidence::Passkey),
            Self::RegisterActivities => Some(Evidence::Activity),
            Self::AttendBriefing => Some(Evidence::BriefingAttended),
            _ => None,
        }
    }
}

/// What the service can see for itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    Passkey,
    Activity,
    BriefingAttended,
}

/// The facts the service holds about a candidate that complete steps by themselves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Facts {
    pub has_passkey: bool,
    pub has_activity: bool,
    pub attended_briefing: bool,
}

impl Facts {
    fn shows(self, evidence: Evidence) -> bool {
        match evidence {
            Evidence::Passkey => self.has_passkey,
            Evidence::Activity => self.has_activity,
            Evidence::BriefingAttended => self.attended_briefing,
        }
    }
}

/// A step's status, as the GOV.UK task list names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    NotStarted,
    InProgress,
    Done,
    NotApplicable,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::NotStarted,
        Status::InProgress,
        Status::Done,
        Status::NotApplicable,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::NotStarted => "not_started",
            Self::InProgress => "in_progress",
            Self::Done => "done",
            Self::NotApplicable => "not_applicable",
        }
    }

    pub fn parse(key: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|s| s.key() == key)
            .ok_or_else(|| FieldError::new("choose a status"))
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::NotStarted => "Not yet started",
            Self::InProgress => "In progress",
            Self::Done => "Completed",
            Self::NotApplicable => "Does not apply",
        }
    }
}

/// A step's status after the service's own evidence: evidence makes it done (unless the
/// candidate said it does not apply, which they may have good reason for).
pub fn effective(step: Step, stored: Status, facts: Facts) -> Status {
    match step.evidence_kind() {
        Some(e) if facts.shows(e) && stored != Status::NotApplicable => Status::Done,
        _ => stored,
    }
}

/// Every step with its effective status, in task-list order. `stored` holds what the
/// candidate (or a delegate) set; missing steps are not started.
pub fn statuses(stored: &[(Step, Status)], facts: Facts) -> Vec<(Step, Status)> {
    Step::ALL
        .into_iter()
        .map(|step| {
            let s = stored
                .iter()
                .rev()
                .find(|(k, _)| *k == step)
                .map_or(Status::NotStarted, |(_, s)| *s);
            (step, effective(step, s, facts))
        })
        .collect()
}

/// Readiness: the percentage (0–100, rounded down) of applicable steps done. A plan where
/// nothing applies is fully ready (there is nothing left to do).
pub fn readiness(statuses: &[(Step, Status)]) -> u8 {
    let applicable = statuses
        .iter()
        .filter(|(_, s)| *s != Status::NotApplicable)
        .count();
    if applicable == 0 {
        return 100;
    }
    let done = statuses.iter().filter(|(_, s)| *s == Status::Done).count();
    u8::try_from(done * 100 / applicable).unwrap_or(100)
}

/// Whether a plan has nothing left to do (scheduled nudges stop then).
pub fn complete(statuses: &[(Step, Status)]) -> bool {
    readiness(statuses) == 100
}

/// Why a candidate was reminded: one of the outreach lists, or the worker's scheduled nudge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NudgeKind {
    NotEnrolled,
    NotReady,
    NotBriefed,
    Scheduled,
}

impl NudgeKind {
    pub const LISTS: [NudgeKind; 3] = [Self::NotEnrolled, Self::NotReady, Self::NotBriefed];

    pub fn key(self) -> &'static str {
        match self {
            Self::NotEnrolled => "not_enrolled",
            Self::NotReady => "not_ready",
            Self::NotBriefed => "not_briefed",
            Self::Scheduled => "scheduled",
        }
    }

    pub fn parse(key: &str) -> Result<Self, FieldError> {
        [
            Self::NotEnrolled,
            Self::NotReady,
            Self::NotBriefed,
            Self::Scheduled,
        ]
        .into_iter()
        .find(|k| k.key() == key)
        .ok_or_else(|| FieldError::new("choose a list"))
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::NotEnrolled => "Not enrolled",
            Self::NotReady => "Not ready",
            Self::NotBriefed => "Not briefed",
            Self::Scheduled => "Scheduled reminder",
        }
    }
}

/// Where a candidate stands now, for outreach lists and for judging whether a reminder worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub enrolled_at_ms: Option<i64>,
    pub score: u8,
    /// When they last registered for a briefing (not cancelled).
    pub registered_briefing_at_ms: Option<i64>,
    pub attended_briefing: bool,
}

impl Standing {
    /// Whether the candidate belongs on a list (`threshold`: "not ready" means a score below it).
    pub fn on_list(&self, kind: NudgeKind, threshold: u8) -> bool {
        match kind {
            NudgeKind::NotEnrolled => self.enrolled_at_ms.is_none(),
            NudgeKind::NotReady | NudgeKind::Scheduled => {
                self.enrolled_at_ms.is_some() && self.score < threshold
            }
            NudgeKind::NotBriefed => {
                self.enrolled_at_ms.is_some()
                    && !self.attended_briefing
                    && self.registered_briefing_at_ms.is_none()
            }
        }
    }

    /// Whether the candidate acted on a reminder of `kind` sent at `sent_at_ms` when their score
    /// was `score_then`: enrolled after it, raised their score, or registered for a briefing.
    pub fn acted_since(&self, kind: NudgeKind, sent_at_ms: i64, score_then: u8) -> bool {
        match kind {
            NudgeKind::NotEnrolled => self.enrolled_at_ms.is_some_and(|t| t >= sent_at_ms),
            NudgeKind::NotReady | NudgeKind::Scheduled => self.score > score_then,
            NudgeKind::NotBriefed => {
                self.attended_briefing
                    || self
                        .registered_briefing_at_ms
                        .is_some_and(|t| t >= sent_at_ms)
            }
        }
    }
}

/// Limits on reminders: at most `per_force_per_day` bulk reminders per force in any 24 hours,
/// and no candidate reminded twice within `candidate_gap_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NudgeLimits {
    pub per_force_per_day: usize,
    pub candidate_gap_ms: i64,
}

impl Default for NudgeLimits {
    fn default() -> Self {
        Self {
            per_force_per_day: 200,
            candidate_gap_ms: 3 * 24 * 3_600_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_are_unique() {
        for s in Step::ALL {
            assert_eq!(Step::parse(s.key()).unwrap(), s);
        }
        for s in Status::ALL {
            assert_eq!(Status::parse(s.key()).unwrap(), s);
        }
        let mut keys: Vec<_> = Step::ALL.iter().map(|s| s.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), 11);
        assert!(Step::parse("nope").is_err() && Status::parse("").is_err());
    }

    #[test]
    fn a_new_plan_scores_zero() {
        let all = statuses(&[], Facts::default());
        assert_eq!(all.len(), 11);
        assert!(all.iter().all(|(_, s)| *s == Status::NotStarted));
        assert_eq!(readiness(&all), 0);
    }

    #[test]
    fn score_is_done_over_applicable_rounded_down() {
        let stored = [
            (Step::MeetContact, Status::Done),
            (Step::TwoStep, Status::Done),
            (Step::HomeSecurity, Status::InProgress),
        ];
        // 2 of 11.
        assert_eq!(readiness(&statuses(&stored, Facts::default())), 18);
        let stored = [
            (Step::MeetContact, Status::Done),
            (Step::TwoStep, Status::NotApplicable),
            (Step::HomeAddress, Status::NotApplicable),
        ];
        // 1 of 9.
        assert_eq!(readiness(&statuses(&stored, Facts::default())), 11);
        let all_na: Vec<_> = Step::ALL
            .iter()
            .map(|s| (*s, Status::NotApplicable))
            .collect();
        assert_eq!(readiness(&statuses(&all_na, Facts::default())), 100);
        let all_done: Vec<_> = Step::ALL.iter().map(|s| (*s, Status::Done)).collect();
        assert!(complete(&statuses(&all_done, Facts::default())));
    }

    #[test]
    fn evidence_completes_its_steps_only() {
        let facts = Facts {
            has_passkey: true,
            has_activity: true,
            attended_briefing: true,
        };
        let all = statuses(&[], facts);
        let done: Vec<Step> = all
            .iter()
            .filter(|(_, s)| *s == Status::Done)
            .map(|(k, _)| *k)
            .collect();
        assert_eq!(
            done,
            vec![
                Step::Passkey,
                Step::RegisterActivities,
                Step::AttendBriefing
            ]
        );
        assert_eq!(readiness(&all), 27);
        // "Does not apply" wins over evidence; the candidate chose it.
        assert_eq!(
            effective(Step::Passkey, Status::NotApplicable, facts),
            Status::NotApplicable
        );
        // Evidence of one kind does not complete another step.
        let only_passkey = Facts {
            has_passkey: true,
            ..Facts::default()
        };
        assert_eq!(
            effective(Step::AttendBriefing, Status::InProgress, only_passkey),
            Status::InProgress
        );
    }

    #[test]
    fn lists_and_acting_on_a_reminder() {
        let invited = Standing {
            enrolled_at_ms: None,
            score: 0,
            registered_briefing_at_ms: None,
            attended_briefing: false,
        };
        assert!(invited.on_list(NudgeKind::NotEnrolled, 50));
        assert!(!invited.on_list(NudgeKind::NotReady, 50));
        assert!(!invited.on_list(NudgeKind::NotBriefed, 50));
        let enrolled = Standing {
            enrolled_at_ms: Some(2_000),
            score: 40,
            ..invited
        };
        assert!(!enrolled.on_list(NudgeKind::NotEnrolled, 50));
        assert!(enrolled.on_list(NudgeKind::NotReady, 50));
        assert!(!enrolled.on_list(NudgeKind::NotReady, 40));
        assert!(enrolled.on_list(NudgeKind::NotBriefed, 50));
        // Enrolled after a reminder sent at 1 000: acted; a reminder after enrolling: not.
        assert!(enrolled.acted_since(NudgeKind::NotEnrolled, 1_000, 0));
        assert!(!enrolled.acted_since(NudgeKind::NotEnrolled, 3_000, 0));
        assert!(enrolled.acted_since(NudgeKind::NotReady, 1_000, 30));
        assert!(!enrolled.acted_since(NudgeKind::Scheduled, 1_000, 40));
        let registered = Standing {
            registered_briefing_at_ms: Some(5_000),
            ..enrolled
        };
        assert!(!registered.on_list(NudgeKind::NotBriefed, 50));
        assert!(registered.acted_since(NudgeKind::NotBriefed, 4_000, 0));
        assert!(!registered.acted_since(NudgeKind::NotBriefed, 6_000, 0));
        for k in [
            NudgeKind::NotEnrolled,
            NudgeKind::NotReady,
            NudgeKind::NotBriefed,
            NudgeKind::Scheduled,
        ] {
            assert_eq!(NudgeKind::parse(k.key()).unwrap(), k);
        }
    }

    #[test]
    fn the_last_stored_status_of_a_step_counts() {
        let stored = [
            (Step::MeetContact, Status::Done),
            (Step::MeetContact, Status::InProgress),
        ];
        assert_eq!(
            statuses(&stored, Facts::default())[0],
            (Step::MeetContact, Status::InProgress)
        );
    }
}
