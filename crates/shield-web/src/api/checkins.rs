//! The check-in API: start a session, "I'm safe", end it with a PIN (the duress PIN answers
//! exactly as a normal end and raises a silent P1), and the panic button. Writes need the
//! session's CSRF token in `x-csrf-token`, as the reports API does.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use shield_domain::checkin::AlarmReason;
use shield_store::{CheckinRecord, CheckinStatus};

use super::{Api, ApiError};
use crate::auth::guard::{Authorized, EditOwnSensitive, Target};
use crate::auth::passkey::CsrfHeader;
use crate::auth::report_guard::{CheckinGuard, ReportForGuard};
use crate::html::buddy::{read_buddy, save_buddy};
use crate::html::checkin::{
    PinOutcome, check_session_buddy, check_start, end_with_pin, raise_panic, start_session,
};
use crate::html::reports::{audit_event, open_text};
use crate::{AppError, AppState};

fn body<T>(json: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    json.map(|Json(t)| t)
        .map_err(|e| ApiError(AppError::bad_request("body", e.body_text())))
}

/// A session as the candidate's side sees it: a duress end reads `ended`.
fn session_json(state: &AppState, s: &CheckinRecord) -> Result<Value, AppError> {
    let status = match (s.status, s.alarm) {
        (CheckinStatus::Alarm, Some(AlarmReason::Duress)) => "ended",
        (status, _) => status.key(),
    };
    Ok(json!({
        "id": s.id,
        "candidate_id": s.candidate_id.0,
        "kind": s.kind,
        "place": open_text(state, "checkin_sessions", "place", s.id, &s.sealed_place)?,
        "status": status,
        "interval_minutes": s.interval_ms / 60_000,
        "started_at_ms": s.started_at_ms,
        "last_safe_at_ms": s.last_safe_at_ms,
        "next_due_at_ms": s.next_due_at_ms,
        "ends_at_ms": s.ends_at_ms,
    }))
}

async fn load(state: &AppState, id: i64) -> Result<Value, AppError> {
    let s = state
        .store
        .checkin_session(id)
        .await?
        .ok_or(AppError::NotFound)?;
    session_json(state, &s)
}

#[derive(Debug, Deserialize)]
pub(crate) struct StartBody {
    kind: String,
    place: String,
    interval_minutes: i64,
    hours: i64,
    /// Someone to tell for this session only, instead of the standing buddy.
    #[serde(default)]
    buddy: Option<BuddyBody>,
}

/// `POST /api/check-ins` (`?candidate=ID` for a delegate).
pub(crate) async fn start(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<ReportForGuard>>,
    Api(_csrf): Api<CsrfHeader>,
    json: Result<Json<StartBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b = body(json)?;
    let Target::Candidate { id: candidate, .. } = &auth.target else {
        return Err(AppError::Forbidden.into());
    };
    let checked = check_start(&b.kind, &b.place, b.interval_minutes, b.hours).map_err(|p| {
        let first = p.into_iter().next();
        AppError::bad_request(
            first.as_ref().map_or("body", |f| f.field),
            first.map(|f| f.message).unwrap_or_default(),
        )
    })?;
    let buddy = match &b.buddy {
        Some(bb) => check_session_buddy(&bb.name, &bb.email, &bb.phone).map_err(|p| {
            let first = p.into_iter().next();
            AppError::bad_request(
                first.as_ref().map_or("buddy", |f| f.field),
                first.map(|f| f.message).unwrap_or_default(),
            )
        })?,
        None => None,
    };
    let Some(id) = start_session(&state, &auth.actor, *candidate, checked, buddy).await? else {
        return Err(AppError::bad_request("pin", "Set your PINs first, at /check-in").into());
    };
    Ok((StatusCode::CREATED, Json(load(&state, id).await?)))
}

/// `GET /api/check-ins/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Api(_auth): Api<Authorized<CheckinGuard>>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(load(&state, id).await?))
}

/// `POST /api/check-ins/{id}/safe`: 409 if the session is no longer active.
pub(crate) async fn safe(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<CheckinGuard>>,
    Api(_csrf): Api<CsrfHeader>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let audit = audit_event(&state, &auth.actor, "checkin_safe", None)?;
    match state
        .store
        .check_in_safe(id, state.clock.now_ms(), &audit)
        .await
        .map_err(AppError::from)?
    {
        Some(_) => Ok(Json(load(&state, id).await?)),
        None => Err(AppError::bad_request("session", "The session is no longer active").into()),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct EndBody {
    pin: String,
}

/// `POST /api/check-ins/{id}/end`: `{"status":"ended"}` for the PIN and the duress PIN alike.
pub(crate) async fn end(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<CheckinGuard>>,
    Api(_csrf): Api<CsrfHeader>,
    Path(id): Path<i64>,
    json: Result<Json<EndBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = body(json)?;
    match end_with_pin(&state, &auth.actor, id, &b.pin).await? {
        PinOutcome::Ended => Ok(Json(json!({ "id": id, "status": "ended" }))),
        PinOutcome::Wrong(left) => Err(AppError::bad_request(
            "pin",
            format!("That PIN is not right; {left} tries left"),
        )
        .into()),
        PinOutcome::LockedOut => Err(AppError::bad_request(
            "pin",
            "That PIN is not right, too many times: the session takes no more PINs and an alarm has been raised",
        )
        .into()),
        PinOutcome::Inactive => {
            Err(AppError::bad_request("session", "The session is no longer active").into())
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct PanicBody {
    #[serde(default)]
    session: Option<i64>,
}

/// `POST /api/check-ins/panic` (`?candidate=ID` for a delegate): a P1 at once.
pub(crate) async fn panic(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<ReportForGuard>>,
    Api(_csrf): Api<CsrfHeader>,
    json: Result<Json<PanicBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b = json.map(|Json(b)| b).unwrap_or_default();
    let Target::Candidate { id: candidate, .. } = &auth.target else {
        return Err(AppError::Forbidden.into());
    };
    let created = raise_panic(&state, &auth.actor, *candidate, b.session).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "report": created.id, "reference": created.reference, "priority": "P1" })),
    ))
}

/// `GET /api/check-ins/buddy`: the candidate's buddy (`null` if none). A sensitive read:
/// audited, and it needs a recent sign-in.
pub(crate) async fn buddy(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<EditOwnSensitive>>,
) -> Result<Json<Value>, ApiError> {
    let candidate = auth.actor.candidate.ok_or(AppError::Forbidden)?;
    let buddy = read_buddy(&state, &auth.actor, candidate).await?;
    Ok(Json(json!({ "buddy": buddy })))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct BuddyBody {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    /// `true` removes the buddy.
    #[serde(default)]
    remove: bool,
}

/// `POST /api/check-ins/buddy`: sets (or, with `remove`, removes) the candidate's buddy.
pub(crate) async fn set_buddy(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<EditOwnSensitive>>,
    Api(_csrf): Api<CsrfHeader>,
    json: Result<Json<BuddyBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = body(json)?;
    let candidate = auth.actor.candidate.ok_or(AppError::Forbidden)?;
    if b.remove {
        save_buddy(&state, &auth.actor, candidate, None).await?;
        return Ok(Json(json!({ "buddy": null })));
    }
    let buddy = shield_domain::checkin::check_buddy(&b.name, &b.email, &b.phone).map_err(|p| {
        let (field, e) = p
            .into_iter()
            .next()
            .unwrap_or(("body", shield_domain::FieldError::new("")));
        AppError::bad_request(field, e.message)
    })?;
    save_buddy(&state, &auth.actor, candidate, Some(&buddy)).await?;
    Ok(Json(json!({ "buddy": buddy })))
}
