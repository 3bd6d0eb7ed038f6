//! The reports API: list, create, read, acknowledge, move status and message. Writes need the
//! session's CSRF token in the `x-csrf-token` header as well as the global Origin check.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};
use shield_domain::policy::{self, Action};
use shield_domain::report::{Category, Outcome, Status};
use shield_store::{ReportFilter, ReportRefusal, ReportSummary, StatusChange};

use super::{Api, ApiError};
use crate::auth::guard::{Authorized, OwnRecord, Target};
use crate::auth::passkey::CsrfHeader;
use crate::auth::report_guard::{
    HandleReportGuard, MessageReportGuard, ReportForGuard, ReportQueueGuard, ViewReportGuard,
};
use crate::html::reports::{KeySealer, ReportDetails, audit_event, open_details, open_text};
use crate::{AppError, AppState};

fn summary(r: &ReportSummary) -> Value {
    json!({
        "id": r.id,
        "reference": r.reference,
        "candidate_id": r.candidate_id.0,
        "owner_force": r.owner_force.as_str(),
        "category": r.category.key(),
        "priority": r.priority.label(),
        "status": r.status.key(),
        "tier": r.tier.key(),
        "ack_due_at_ms": r.ack_due_at_ms,
        "created_at_ms": r.created_at_ms,
        "updated_at_ms": r.updated_at_ms,
    })
}

fn body<T>(json: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    json.map(|Json(t)| t)
        .map_err(|e| ApiError(AppError::bad_request("body", e.body_text())))
}

/// `GET /api/reports`: a force's queue (`?force=`) or, for coordinators, every open report.
pub(crate) async fn queue(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<ReportQueueGuard>>,
) -> Result<Json<Value>, ApiError> {
    let filter = match &auth.target {
        Target::Force(f) => ReportFilter {
            force: Some(f.clone()),
            open_only: true,
            ..ReportFilter::default()
        },
        _ => ReportFilter {
            open_only: true,
            ..ReportFilter::default()
        },
    };
    let list = state.store.reports(&filter).await.map_err(AppError::from)?;
    Ok(Json(
        json!({ "reports": list.iter().map(summary).collect::<Vec<_>>() }),
    ))
}

/// `GET /api/me/reports`: the signed-in candidate's own reports.
pub(crate) async fn mine(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<OwnRecord>>,
) -> Result<Json<Value>, ApiError> {
    let id = auth.actor.candidate.ok_or(AppError::Forbidden)?;
    let filter = ReportFilter {
        candidate: Some(id),
        hide_silent: true,
        ..ReportFilter::default()
    };
    let list = state.store.reports(&filter).await.map_err(AppError::from)?;
    Ok(Json(
        json!({ "reports": list.iter().map(summary).collect::<Vec<_>>() }),
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct NewReportBody {
    category: String,
    what: String,
    happening_now: bool,
    #[serde(default)]
    when: String,
    #[serde(default, rename = "where")]
    place: String,
    #[serde(default)]
    who: String,
    #[serde(default)]
    pasted: String,
    #[serde(default)]
    links: Vec<String>,
}

/// `POST /api/reports` (`?candidate=ID` for a delegate): the JSON twin of the report form,
/// without file uploads (those go through the form).
pub(crate) async fn create(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<ReportForGuard>>,
    Api(_csrf): Api<CsrfHeader>,
    json: Result<Json<NewReportBody>, JsonRejection>,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    let b = body(json)?;
    let category =
        Category::parse(&b.category).map_err(|e| AppError::bad_request("category", e.message))?;
    if !Category::ALL.contains(&category) {
        return Err(AppError::bad_request("category", "Select what happened").into());
    }
    if b.what.trim().is_empty() || b.what.chars().count() > 10_000 {
        return Err(AppError::bad_request("what", "what must be 1 to 10,000 characters").into());
    }
    let Target::Candidate { id: candidate, .. } = &auth.target else {
        return Err(AppError::Forbidden.into());
    };
    let details = ReportDetails {
        what: b.what.trim().to_owned(),
        when: b.when.chars().take(200).collect(),
        place: b.place.chars().take(1_000).collect(),
        who: b.who.chars().take(2_000).collect(),
        pasted: b.pasted.chars().take(20_000).collect(),
        links: b.links.into_iter().take(50).collect(),
    };
    let id = crate::html::reports::new::create(
        &state,
        &auth.actor,
        *candidate,
        category,
        b.happening_now,
        &details,
        Vec::new(),
    )
    .await?;
    let r = state
        .store
        .report(id)
        .await
        .map_err(AppError::from)?
        .ok_or(AppError::NotFound)?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(json!({
            "id": id,
            "reference": r.reference,
            "priority": r.priority.label(),
            "reasons": r.reasons,
            "ack_due_at_ms": r.ack_due_at_ms,
        })),
    ))
}

/// `GET /api/reports/{id}`: the report, its details, messages (internal notes for the police
/// only) and timeline.
pub(crate) async fn show(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<ViewReportGuard>>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let r = state
        .store
        .report(id)
        .await
        .map_err(AppError::from)?
        .ok_or(AppError::NotFound)?;
    let police = policy::can(
        &auth.actor,
        Action::ViewPoliceNotes,
        &auth.target.as_resource(),
        state.clock.now_ms(),
    )
    .is_allowed();
    let details = open_details(&state, id, &r.sealed_details)?;
    let mut messages = Vec::new();
    for m in state
        .store
        .report_messages(id, police)
        .await
        .map_err(AppError::from)?
    {
        messages.push(json!({
            "id": m.id,
            "author_role": m.author_role.key(),
            "author_name": m.author_name,
            "internal": m.internal,
            "created_at_ms": m.created_at_ms,
            "body": open_text(&state, "report_messages", "body", m.id, &m.sealed_body)?,
        }));
    }
    let timeline: Vec<Value> = state
        .store
        .report_timeline(id)
        .await
        .map_err(AppError::from)?
        .into_iter()
        .filter(|e| {
            police || !(e.kind == "note" || e.detail.get("internal") == Some(&Value::Bool(true)))
        })
        .map(|e| json!({ "at_ms": e.at_ms, "kind": e.kind, "detail": e.detail }))
        .collect();
    Ok(Json(json!({
        "id": r.id,
        "reference": r.reference,
        "candidate_id": r.candidate_id.0,
        "owner_force": r.owner_force.as_str(),
        "informed_forces": r.informed_forces.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
        "category": r.category.key(),
        "happening_now": r.happening_now,
        "priority": r.priority.label(),
        "reasons": r.reasons,
        "status": r.status.key(),
        "outcome": r.outcome.map(Outcome::key),
        "tier": r.tier.key(),
        "ack_due_at_ms": r.ack_due_at_ms,
        "acknowledged_by": r.acknowledged_by.map(|u| u.0),
        "details": details,
        "messages": messages,
        "timeline": timeline,
    })))
}

/// `POST /api/reports/{id}/acknowledge`: 409 when someone else got there first.
pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<HandleReportGuard>>,
    Api(_csrf): Api<CsrfHeader>,
    Path(id): Path<i64>,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    let audit = audit_event(&state, &auth.actor, "report_acknowledged", Some(id))?;
    let done = state
        .store
        .acknowledge(id, auth.actor.user_id, state.clock.now_ms(), &audit)
        .await
        .map_err(AppError::from)?;
    state.wake_worker();
    Ok(match done {
        Ok(()) => (
            axum::http::StatusCode::OK,
            Json(json!({ "status": "acknowledged" })),
        ),
        Err(_) => (
            axum::http::StatusCode::CONFLICT,
            Json(json!({ "error": "already acknowledged" })),
        ),
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct StatusBody {
    status: String,
    #[serde(default)]
    outcome: Option<String>,
}

/// `POST /api/reports/{id}/status`.
pub(crate) async fn status(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<HandleReportGuard>>,
    Api(_csrf): Api<CsrfHeader>,
    Path(id): Path<i64>,
    json: Result<Json<StatusBody>, JsonRejection>,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    let b = body(json)?;
    let to = Status::parse(&b.status).map_err(|e| AppError::bad_request("status", e.message))?;
    let outcome = match b.outcome.as_deref() {
        Some(o) => {
            Some(Outcome::parse(o).map_err(|e| AppError::bad_request("outcome", e.message))?)
        }
        None => None,
    };
    let audit = audit_event(&state, &auth.actor, "report_status_changed", Some(id))?;
    let done = state
        .store
        .change_status(
            id,
            auth.actor.user_id,
            StatusChange { to, outcome },
            state.clock.now_ms(),
            &audit,
        )
        .await
        .map_err(AppError::from)?;
    state.wake_worker();
    Ok(match done {
        Ok(()) => (
            axum::http::StatusCode::OK,
            Json(json!({ "status": to.key() })),
        ),
        Err(ReportRefusal::OutcomeRequired) => (
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "error": "closing needs an outcome", "field": "outcome" })),
        ),
        Err(_) => (
            axum::http::StatusCode::CONFLICT,
            Json(json!({ "error": "not allowed from the current status", "field": "status" })),
        ),
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct MessageBody {
    body: String,
}

/// `POST /api/reports/{id}/messages`: a secure message.
pub(crate) async fn message(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<MessageReportGuard>>,
    Api(_csrf): Api<CsrfHeader>,
    Path(id): Path<i64>,
    json: Result<Json<MessageBody>, JsonRejection>,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    let b = body(json)?;
    let text = b.body.trim();
    if text.is_empty() || text.chars().count() > 10_000 {
        return Err(AppError::bad_request("body", "body must be 1 to 10,000 characters").into());
    }
    let audit = audit_event(&state, &auth.actor, "report_message_sent", Some(id))?;
    let message = state
        .store
        .add_message(
            id,
            auth.actor.user_id,
            false,
            text,
            &KeySealer(&state.keys),
            state.clock.now_ms(),
            &audit,
        )
        .await
        .map_err(AppError::from)?;
    state.wake_worker();
    Ok((
        axum::http::StatusCode::CREATED,
        Json(json!({ "id": message })),
    ))
}
