//! Who must acknowledge a report by when. Each unacknowledged report has one live deadline row;
//! when it passes, the worker fires it: the next tier is told and gets a deadline of its own.
//! The first person to acknowledge owns the report and stops the chain.

use serde::Serialize;

use super::Priority;

/// The tiers of escalation, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// The lead named contact of the report's owning force.
    Lead,
    /// That force's deputies.
    Deputy,
    /// The coordinators on duty.
    Coordinator,
}

impl Tier {
    pub fn key(self) -> &'static str {
        match self {
            Self::Lead => "lead",
            Self::Deputy => "deputy",
            Self::Coordinator => "coordinator",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "lead" => Some(Self::Lead),
            "deputy" => Some(Self::Deputy),
            "coordinator" => Some(Self::Coordinator),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Lead => "lead contact",
            Self::Deputy => "deputy contact",
            Self::Coordinator => "coordinator on duty",
        }
    }
}

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

/// How long `tier` has to acknowledge a report of `priority` before it escalates further.
/// `None`: this tier is the last and nothing fires after it (the report stays on the
/// coordinators' "overdue" list instead).
pub fn ack_window_ms(priority: Priority, tier: Tier) -> Option<i64> {
    use Priority::*;
    use Tier::*;
    match (priority, tier) {
        (P1, Lead | Deputy) => Some(15 * MINUTE),
        (P2, Lead) => Some(4 * HOUR),
        (P2, Deputy) => Some(2 * HOUR),
        (P3, Lead) => Some(24 * HOUR),
        (P3, Deputy) => Some(24 * HOUR),
        (P4, Lead) => Some(72 * HOUR),
        (P4, Deputy) => Some(72 * HOUR),
        (_, Coordinator) => None,
    }
}

/// The tier after `tier`, if any.
pub fn next_tier(tier: Tier) -> Option<Tier> {
    match tier {
        Tier::Lead => Some(Tier::Deputy),
        Tier::Deputy => Some(Tier::Coordinator),
        Tier::Coordinator => None,
    }
}

/// The first acknowledge-by deadline of a report made at `now_ms`: the lead's.
pub fn first_deadline(priority: Priority, now_ms: i64) -> i64 {
    now_ms + ack_window_ms(priority, Tier::Lead).unwrap_or(0)
}
