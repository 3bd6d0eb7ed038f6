//! Guards for the security plan, briefings and outreach. Each finds its target (the candidate,
//! the force, or the briefing's scope) before the policy judges it.

use axum::http::request::Parts;
use shield_domain::policy::{Action, Actor};

use super::guard::{Guard, Target};
use super::report_guard::{candidate_target, force_target};
use crate::{AppError, AppState};

macro_rules! candidate_guard {
    ($(#[$doc:meta])* $name:ident, $action:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;

        impl Guard for $name {
            const ACTION: Action = $action;

            async fn target(
                parts: &mut Parts,
                state: &AppState,
                actor: &Actor,
            ) -> Result<Target, AppError> {
                candidate_target(parts, state, actor).await
            }
        }
    };
}

candidate_guard!(
    /// Seeing a candidate's plan (`?candidate=ID` for a delegate or the police).
    ViewPlanGuard,
    Action::ViewPlan
);
candidate_guard!(
    /// Setting a plan step or the reminder opt-out.
    EditPlanGuard,
    Action::EditPlan
);
candidate_guard!(
    /// Registering for, or cancelling, a briefing.
    RegisterBriefingGuard,
    Action::RegisterForBriefing
);

/// Scheduling briefings: `?force=CODE` (a force's), a force contact's first force, or (for
/// coordinators, without `force`) national briefings.
#[derive(Debug)]
pub struct ManageBriefingsGuard;

impl Guard for ManageBriefingsGuard {
    const ACTION: Action = Action::ManageBriefings;

    async fn target(parts: &mut Parts, _: &AppState, actor: &Actor) -> Result<Target, AppError> {
        force_target(parts, actor)
    }
}

/// One briefing in `/briefings/{id}/…` or `/api/briefings/{id}/…`, as its organiser: a force
/// briefing belongs to that force, a national one to coordinators.
#[derive(Debug)]
pub struct BriefingGuard;

/// The briefing id in the path.
pub(crate) fn briefing_id(parts: &Parts) -> Result<i64, AppError> {
    let mut segments = parts.uri.path().split('/');
    segments
        .by_ref()
        .find(|s| *s == "briefings")
        .ok_or(AppError::NotFound)?;
    segments
        .next()
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|id| *id > 0)
        .ok_or(AppError::NotFound)
}

impl Guard for BriefingGuard {
    const ACTION: Action = Action::ManageBriefings;

    async fn target(parts: &mut Parts, state: &AppState, _: &Actor) -> Result<Target, AppError> {
        let briefing = state
            .store
            .briefing(briefing_id(parts)?)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(match briefing.force() {
            Some(f) => Target::Force(f),
            None => Target::Service,
        })
    }
}

/// Outreach lists and reminders: `?force=CODE`, a force contact's first force, or (for
/// coordinators) every force.
#[derive(Debug)]
pub struct OutreachGuard;

impl Guard for OutreachGuard {
    const ACTION: Action = Action::Outreach;

    async fn target(parts: &mut Parts, _: &AppState, actor: &Actor) -> Result<Target, AppError> {
        force_target(parts, actor)
    }
}
