//! Guards for requests for additional security: each finds the request's candidate and forces
//! (and, to decide, who assessed it) from the path, so the policy judges the real scope before a
//! handler runs. The decision guard hands the assessor to the policy, which refuses the person
//! who recommended: a coordinator who assessed a request gets a 403 on its decision.

use axum::http::request::Parts;
use shield_domain::policy::{Action, Actor};

use super::guard::{Guard, Target};
use super::report_guard::{candidate_target, force_target};
use crate::{AppError, AppState};

/// The request id in `/security-requests/{id}/…` or `/api/security-requests/{id}/…`.
pub(crate) fn request_id(parts: &Parts) -> Result<i64, AppError> {
    let mut segments = parts.uri.path().split('/');
    segments
        .by_ref()
        .find(|s| *s == "security-requests")
        .ok_or(AppError::NotFound)?;
    segments
        .next()
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|id| *id > 0)
        .ok_or(AppError::NotFound)
}

async fn request_target(parts: &Parts, state: &AppState) -> Result<Target, AppError> {
    let id = request_id(parts)?;
    let (candidate, forces, _) = state
        .store
        .security_request_scope(id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Target::Candidate {
        id: candidate,
        forces,
    })
}

macro_rules! request_guard {
    ($(#[$doc:meta])* $name:ident, $action:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name;

        impl Guard for $name {
            const ACTION: Action = $action;

            async fn target(
                parts: &mut Parts,
                state: &AppState,
                _: &Actor,
            ) -> Result<Target, AppError> {
                request_target(parts, state).await
            }
        }
    };
}

request_guard!(
    /// Seeing a request, its timeline and its decision.
    ViewSecurityGuard,
    Action::ViewSecurityRequest
);
request_guard!(
    /// The risk assessment and recommendation: the police of the candidate's forces, coordinators.
    AssessSecurityGuard,
    Action::AssessSecurityRequest
);
request_guard!(
    /// Asking for reconsideration with new information: the candidate, or a delegate granted
    /// `Report`.
    ReconsiderSecurityGuard,
    Action::RequestSecurity
);

/// Deciding a request: coordinators other than its assessor.
#[derive(Debug)]
pub struct DecideSecurityGuard;

impl Guard for DecideSecurityGuard {
    const ACTION: Action = Action::DecideSecurityRequest;

    async fn target(parts: &mut Parts, state: &AppState, _: &Actor) -> Result<Target, AppError> {
        let id = request_id(parts)?;
        let (_, _, assessed_by) = state
            .store
            .security_request_scope(id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(Target::SecurityDecision {
            request: id,
            assessed_by,
        })
    }
}

/// Asking for additional security for a candidate: `?candidate=ID` (a delegate), else the
/// signed-in candidate's own candidacy, or a delegate's only candidate.
#[derive(Debug)]
pub struct RequestSecurityGuard;

impl Guard for RequestSecurityGuard {
    const ACTION: Action = Action::RequestSecurity;

    async fn target(
        parts: &mut Parts,
        state: &AppState,
        actor: &Actor,
    ) -> Result<Target, AppError> {
        candidate_target(parts, state, actor).await
    }
}

/// The list of requests: `?force=CODE`, a force contact's first force, or all (coordinators).
#[derive(Debug)]
pub struct SecurityListGuard;

impl Guard for SecurityListGuard {
    const ACTION: Action = Action::ViewSecurityRequests;

    async fn target(parts: &mut Parts, _: &AppState, actor: &Actor) -> Result<Target, AppError> {
        force_target(parts, actor)
    }
}

/// The consistency view and the CSV export: coordinators only.
#[derive(Debug)]
pub struct SecurityConsistencyGuard;

impl Guard for SecurityConsistencyGuard {
    const ACTION: Action = Action::ViewSecurityConsistency;

    async fn target(_: &mut Parts, _: &AppState, _: &Actor) -> Result<Target, AppError> {
        Ok(Target::Service)
    }
}
