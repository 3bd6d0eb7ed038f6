//! What people do on a report: acknowledge (the first owns it), move its status, change its
//! priority with a reason, write secure messages and internal notes, and link related reports.
//! Each is one store transaction with its timeline row, audit event and notifications.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shield_domain::report::{Outcome, Priority, Status, parse_reference};
use shield_store::{ReportRefusal, StatusChange};

use super::show::{View, build};
use super::{KeySealer, audit_event};
use crate::auth::csrf::CsrfForm;
use crate::auth::guard::Authorized;
use crate::auth::report_guard::{HandleReportGuard, MessageReportGuard};
use crate::html::layout::FieldProblem;
use crate::{AppError, AppState};

fn back(id: i64, anchor: &str) -> Response {
    Redirect::to(&format!("/reports/{id}#{anchor}")).into_response()
}

async fn again(
    state: &AppState,
    view: View<'_>,
    id: i64,
    field: &'static str,
    message: impl Into<String>,
) -> Result<Response, AppError> {
    let page = build(
        state,
        view,
        id,
        vec![FieldProblem::new(field, message)],
        false,
    )
    .await?;
    crate::html::page(StatusCode::BAD_REQUEST, &page)
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfOnly {
    csrf: String,
}

pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    auth: Authorized<HandleReportGuard>,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, AppError> {
    let audit = audit_event(&state, &auth.actor, "report_acknowledged", Some(id))?;
    match state
        .store
        .acknowledge(id, auth.actor.user_id, state.clock.now_ms(), &audit)
        .await?
    {
        Ok(()) => {
            state.wake_worker();
            Ok(back(id, "status"))
        }
        Err(_) => {
            again(
                &state,
                View::from(&auth),
                id,
                "acknowledge",
                "Someone else has already acknowledged this report: they own it now",
            )
            .await
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct StatusForm {
    csrf: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    outcome: String,
}

pub(crate) async fn status(
    State(state): State<AppState>,
    auth: Authorized<HandleReportGuard>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> Result<Response, AppError> {
    let Ok(to) = Status::parse(&form.status) else {
        return again(&state, View::from(&auth), id, "status", "Select a status").await;
    };
    let outcome = Outcome::parse(&form.outcome).ok();
    if to == Status::Closed && outcome.is_none() {
        return again(
            &state,
            View::from(&auth),
            id,
            "outcome",
            "Select an outcome to close the report",
        )
        .await;
    }
    let audit = audit_event(&state, &auth.actor, "report_status_changed", Some(id))?;
    let change = StatusChange { to, outcome };
    match state
        .store
        .change_status(id, auth.actor.user_id, change, state.clock.now_ms(), &audit)
        .await?
    {
        Ok(()) => {
            state.wake_worker();
            Ok(back(id, "status"))
        }
        Err(ReportRefusal::OutcomeRequired) => {
            again(
                &state,
                View::from(&auth),
                id,
                "outcome",
                "Select an outcome to close the report",
            )
            .await
        }
        Err(_) => {
            again(
                &state,
                View::from(&auth),
                id,
                "status",
                "The report cannot move to that status now: acknowledge it first",
            )
            .await
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct PriorityForm {
    csrf: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    reason: String,
}

pub(crate) async fn priority(
    State(state): State<AppState>,
    auth: Authorized<HandleReportGuard>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<PriorityForm>,
) -> Result<Response, AppError> {
    let Ok(priority) = Priority::parse(&form.priority) else {
        return again(
            &state,
            View::from(&auth),
            id,
            "priority",
            "Select a priority",
        )
        .await;
    };
    let reason = form.reason.trim();
    if reason.is_empty() || reason.chars().count() > 2_000 {
        return again(
            &state,
            View::from(&auth),
            id,
            "reason",
            "Enter the reason for the change (up to 2,000 characters)",
        )
        .await;
    }
    let audit = audit_event(&state, &auth.actor, "report_priority_changed", Some(id))?;
    state
        .store
        .change_priority(
            id,
            auth.actor.user_id,
            priority,
            reason,
            &KeySealer(&state.keys),
            state.clock.now_ms(),
            &audit,
        )
        .await?;
    state.wake_worker();
    Ok(back(id, "triage"))
}

#[derive(Debug, Deserialize)]
pub(crate) struct MessageForm {
    csrf: String,
    #[serde(default)]
    body: String,
}

fn check_body(body: &str) -> Result<&str, &'static str> {
    let body = body.trim();
    if body.is_empty() {
        Err("Enter a message")
    } else if body.chars().count() > 10_000 {
        Err("The message must be 10,000 characters or fewer")
    } else {
        Ok(body)
    }
}

/// A secure message (`internal: false`, the other side is emailed) or an internal police note
/// (`internal: true`, no email): the same write, told apart by the guard each handler takes.
async fn write_message(
    state: &AppState,
    view: View<'_>,
    id: i64,
    form: &MessageForm,
    internal: bool,
) -> Result<Response, AppError> {
    let (field, action) = if internal {
        ("note", "report_note_added")
    } else {
        ("body", "report_message_sent")
    };
    let body = match check_body(&form.body) {
        Ok(b) => b,
        Err(m) => return again(state, view, id, field, m).await,
    };
    let audit = audit_event(state, view.actor, action, Some(id))?;
    state
        .store
        .add_message(
            id,
            view.actor.user_id,
            internal,
            body,
            &KeySealer(&state.keys),
            state.clock.now_ms(),
            &audit,
        )
        .await?;
    state.wake_worker();
    Ok(back(id, "messages"))
}

pub(crate) async fn message(
    State(state): State<AppState>,
    auth: Authorized<MessageReportGuard>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<MessageForm>,
) -> Result<Response, AppError> {
    write_message(&state, View::from(&auth), id, &form, false).await
}

pub(crate) async fn note(
    State(state): State<AppState>,
    auth: Authorized<HandleReportGuard>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<MessageForm>,
) -> Result<Response, AppError> {
    write_message(&state, View::from(&auth), id, &form, true).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct LinkForm {
    csrf: String,
    #[serde(default)]
    reference: String,
}

pub(crate) async fn link(
    State(state): State<AppState>,
    auth: Authorized<HandleReportGuard>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<LinkForm>,
) -> Result<Response, AppError> {
    let other = match parse_reference(&form.reference) {
        Some(other) if other != id => other,
        _ => {
            return again(
                &state,
                View::from(&auth),
                id,
                "reference",
                "Enter a report reference like R-00042",
            )
            .await;
        }
    };
    // The other report must be one this person may handle too.
    let Some((candidate, forces)) = state.store.report_scope(other).await? else {
        return again(
            &state,
            View::from(&auth),
            id,
            "reference",
            "There is no report with that reference",
        )
        .await;
    };
    let resource = shield_domain::policy::Resource::Candidate {
        id: candidate,
        forces: &forces,
    };
    if !shield_domain::policy::can(
        &auth.actor,
        shield_domain::policy::Action::HandleReport,
        &resource,
        state.clock.now_ms(),
    )
    .is_allowed()
    {
        return again(
            &state,
            View::from(&auth),
            id,
            "reference",
            "There is no report with that reference",
        )
        .await;
    }
    let audit = audit_event(&state, &auth.actor, "report_linked", Some(id))?;
    state
        .store
        .link_reports(id, other, auth.actor.user_id, state.clock.now_ms(), &audit)
        .await?;
    Ok(back(id, "linked"))
}

crate::has_csrf!(CsrfOnly, StatusForm, PriorityForm, MessageForm, LinkForm);
