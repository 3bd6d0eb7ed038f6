//! Guards for reports: each finds the report's candidate and forces from the path (or the
//! candidate being reported for), so the policy judges the real scope before a handler runs.

use axum::http::request::Parts;
use shield_domain::policy::{Action, Actor};
use shield_domain::{CandidateId, ForceCode, Role};

use super::guard::{Guard, Target};
use crate::{AppError, AppState};

/// The report id in `/reports/{id}/…` or `/api/reports/{id}/…`.
fn report_id(parts: &Parts) -> Result<i64, AppError> {
    let mut segments = parts.uri.path().split('/');
    segments
        .by_ref()
        .find(|s| *s == "reports")
        .ok_or(AppError::NotFound)?;
    segments
        .next()
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|id| *id > 0)
        .ok_or(AppError::NotFound)
}

async fn report_target(parts: &Parts, state: &AppState, actor: &Actor) -> Result<Target, AppError> {
    let id = report_id(parts)?;
    let (candidate, forces) = state
        .store
        .report_scope(id)
        .await?
        .ok_or(AppError::NotFound)?;
    // A silent report (a duress alarm) does not exist as far as the candidate's side can tell:
    // whoever forced the candidate may be looking at their screen.
    if matches!(actor.role, Role::Candidate | Role::Delegate)
        && state.store.report(id).await?.is_some_and(|r| r.silent)
    {
        return Err(AppError::NotFound);
    }
    Ok(Target::Candidate {
        id: candidate,
        forces,
    })
}

fn query_value<'a>(parts: &'a Parts, key: &str) -> Option<&'a str> {
    parts
        .uri
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
        .filter(|v| !v.is_empty())
}

macro_rules! report_guard {
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
                report_target(parts, state, actor).await
            }
        }
    };
}

report_guard!(
    /// Seeing a report, its timeline, messages and evidence.
    ViewReportGuard,
    Action::ViewReport
);
report_guard!(
    /// Acknowledging, changing status or priority, notes and links: the police and coordinators.
    HandleReportGuard,
    Action::HandleReport
);
report_guard!(
    /// Writing a secure message on a report.
    MessageReportGuard,
    Action::MessageOnReport
);

/// Reporting a concern for a candidate: `?candidate=ID` (a delegate acting for a candidate),
/// otherwise the signed-in candidate's own candidacy, or a delegate's only candidate.
#[derive(Debug)]
pub struct ReportForGuard;

impl Guard for ReportForGuard {
    const ACTION: Action = Action::ReportConcern;

    async fn target(
        parts: &mut Parts,
        state: &AppState,
        actor: &Actor,
    ) -> Result<Target, AppError> {
        candidate_target(parts, state, actor).await
    }
}

/// Changing a candidate's settings (the scanner's automatic reports): the candidate, or a
/// delegate granted `Edit`; the candidate is found as for [`ReportForGuard`].
#[derive(Debug)]
pub struct CandidateSettingsGuard;

impl Guard for CandidateSettingsGuard {
    const ACTION: Action = Action::EditCandidate;

    async fn target(
        parts: &mut Parts,
        state: &AppState,
        actor: &Actor,
    ) -> Result<Target, AppError> {
        candidate_target(parts, state, actor).await
    }
}

/// `?candidate=ID`, else the actor's own candidacy, else a delegate's only candidate.
pub(crate) async fn candidate_target(
    parts: &Parts,
    state: &AppState,
    actor: &Actor,
) -> Result<Target, AppError> {
    let id = match query_value(parts, "candidate") {
        Some(v) => CandidateId(
            v.parse()
                .map_err(|_| AppError::bad_request("candidate", "Candidate must be a number"))?,
        ),
        None => match (actor.candidate, actor.delegations.keys().next()) {
            (Some(own), _) => own,
            (None, Some(first)) if actor.delegations.len() == 1 => *first,
            _ => return Err(AppError::Forbidden),
        },
    };
    let forces = state.store.candidate_forces(id).await?;
    if forces.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(Target::Candidate { id, forces })
}

/// A queue of reports: `?force=CODE`, a force contact's first force, or (coordinators) all.
#[derive(Debug)]
pub struct ReportQueueGuard;

impl Guard for ReportQueueGuard {
    const ACTION: Action = Action::ViewReportQueue;

    async fn target(parts: &mut Parts, _: &AppState, actor: &Actor) -> Result<Target, AppError> {
        force_target(parts, actor)
    }
}

/// `?force=CODE`, a force contact's first force, or (coordinators) the whole service.
pub(crate) fn force_target(parts: &Parts, actor: &Actor) -> Result<Target, AppError> {
    match query_value(parts, "force") {
        Some(code) => ForceCode::parse(code)
            .map(Target::Force)
            .map_err(|e| AppError::bad_request("force", e.message)),
        None => match actor.forces.iter().next() {
            Some(first) if actor.role == Role::ForceContact => Ok(Target::Force(first.clone())),
            _ => Ok(Target::Service),
        },
    }
}

/// Upcoming activities of a force (`?force=CODE`, a force contact's first force, or all for
/// coordinators), and the calendar feed of them.
#[derive(Debug)]
pub struct ForceActivitiesGuard;

impl Guard for ForceActivitiesGuard {
    const ACTION: Action = Action::ViewForceActivities;

    async fn target(parts: &mut Parts, _: &AppState, actor: &Actor) -> Result<Target, AppError> {
        force_target(parts, actor)
    }
}

/// A check-in session in `/check-in/{id}/…` or `/api/check-ins/{id}/…`: acting on it is
/// reporting for its candidate (the candidate, or a delegate granted `Report`).
#[derive(Debug)]
pub struct CheckinGuard;

impl Guard for CheckinGuard {
    const ACTION: Action = Action::ReportConcern;

    async fn target(parts: &mut Parts, state: &AppState, _: &Actor) -> Result<Target, AppError> {
        let mut segments = parts.uri.path().split('/');
        segments
            .by_ref()
            .find(|s| *s == "check-in" || *s == "check-ins")
            .ok_or(AppError::NotFound)?;
        let id = segments
            .next()
            .and_then(|s| s.parse::<i64>().ok())
            .filter(|id| *id > 0)
            .ok_or(AppError::NotFound)?;
        let session = state
            .store
            .checkin_session(id)
            .await?
            .ok_or(AppError::NotFound)?;
        let forces = state.store.candidate_forces(session.candidate_id).await?;
        Ok(Target::Candidate {
            id: session.candidate_id,
            forces,
        })
    }
}
