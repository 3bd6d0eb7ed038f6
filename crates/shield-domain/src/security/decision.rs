//! Recommendations and decisions, and the rule that keeps them apart: whoever assessed a
//! request (and so recommended) can never also decide it. The policy applies this to every
//! decision request, and the store's conditional update applies it again.

use serde::Serialize;

use crate::account::UserId;
use crate::error::FieldError;

/// A recommendation, or a decision: the same three answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Approve,
    ApproveInPart,
    Decline,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Approve, Outcome::ApproveInPart, Outcome::Decline];

    pub fn key(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::ApproveInPart => "approve_in_part",
            Self::Decline => "decline",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Approve => "Approve",
            Self::ApproveInPart => "Approve in part",
            Self::Decline => "Decline",
        }
    }

    /// How the candidate reads the decision.
    pub fn candidate_label(self) -> &'static str {
        match self {
            Self::Approve => "Approved",
            Self::ApproveInPart => "Approved in part",
            Self::Decline => "Declined",
        }
    }

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|o| o.key() == value)
            .ok_or_else(|| FieldError::new("Select approve, approve in part or decline"))
    }
}

/// Why someone may not decide a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecideRefusal {
    /// Nobody has assessed it yet (or it was sent back for reconsideration).
    NotAssessed,
    /// The would-be decider made the recommendation.
    OwnRecommendation,
}

impl DecideRefusal {
    pub fn message(self) -> &'static str {
        match self {
            Self::NotAssessed => "This request has not been assessed yet",
            Self::OwnRecommendation => {
                "You assessed this request, so another coordinator must decide it"
            }
        }
    }
}

/// Whether `decider` may decide a request assessed by `assessor`.
pub fn may_decide(assessor: Option<UserId>, decider: UserId) -> Result<(), DecideRefusal> {
    match assessor {
        None => Err(DecideRefusal::NotAssessed),
        Some(a) if a == decider => Err(DecideRefusal::OwnRecommendation),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assessor_never_decides() {
        assert_eq!(
            may_decide(Some(UserId(7)), UserId(7)),
            Err(DecideRefusal::OwnRecommendation)
        );
        assert_eq!(may_decide(None, UserId(7)), Err(DecideRefusal::NotAssessed));
        assert_eq!(may_decide(Some(UserId(6)), UserId(7)), Ok(()));
    }

    #[test]
    fn outcomes_round_trip() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.key()).unwrap(), o);
        }
        assert!(Outcome::parse("maybe").is_err());
    }
}
