//! The activities API: a candidate's (or, with `?candidate=ID`, a delegate's candidate's)
//! upcoming activities, and registering one. Writes need `x-csrf-token`.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Api, ApiError};
use crate::auth::guard::{Authorized, Target};
use crate::auth::passkey::CsrfHeader;
use crate::auth::report_guard::ReportForGuard;
use crate::html::activities::{ActivityForm, activity_view, check_activity, register};
use crate::{AppError, AppState};

fn activity_json(state: &AppState, a: &shield_store::ActivityRecord) -> Result<Value, AppError> {
    let v = activity_view(state, a)?;
    Ok(json!({
        "id": a.id,
        "candidate_id": a.candidate_id,
        "kind": v.kind_key,
        "starts_at_ms": a.starts_at_ms,
        "ends_at_ms": a.ends_at_ms,
        "place": v.place,
        "people": a.people,
        "alone": a.alone,
        "checklist": a.checklist_items(),
    }))
}

fn candidate(auth: &Authorized<ReportForGuard>) -> Result<shield_domain::CandidateId, ApiError> {
    match &auth.target {
        Target::Candidate { id, .. } => Ok(*id),
        _ => Err(AppError::Forbidden.into()),
    }
}

/// `GET /api/activities`: upcoming activities, soonest first.
pub(crate) async fn list(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<ReportForGuard>>,
) -> Result<Json<Value>, ApiError> {
    let id = candidate(&auth)?;
    let rows = state
        .store
        .candidate_activities(id, state.clock.now_ms(), 100)
        .await
        .map_err(AppError::from)?;
    let items = rows
        .iter()
        .map(|a| activity_json(&state, a))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({ "activities": items })))
}

#[derive(Debug, Deserialize)]
pub(crate) struct NewBody {
    kind: String,
    /// UK local time, `2026-05-07T18:00`.
    starts: String,
    ends: String,
    place: String,
    people: i64,
    alone: bool,
    #[serde(default)]
    checklist: Vec<String>,
}

/// `POST /api/activities`: register one.
pub(crate) async fn create(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<ReportForGuard>>,
    Api(_csrf): Api<CsrfHeader>,
    json: Result<Json<NewBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(b) = json.map_err(|e| ApiError(AppError::bad_request("body", e.body_text())))?;
    let id = candidate(&auth)?;
    let tick = |k: &str| {
        if b.checklist.iter().any(|c| c == k) {
            "yes".to_owned()
        } else {
            String::new()
        }
    };
    let form = ActivityForm {
        kind: b.kind.clone(),
        starts: b.starts.clone(),
        ends: b.ends.clone(),
        place: b.place.clone(),
        people: b.people.to_string(),
        alone: if b.alone { "yes" } else { "no" }.to_owned(),
        check_exits: tick("exits"),
        check_someone_knows: tick("someone_knows"),
        check_police: tick("police"),
        ..ActivityForm::default()
    };
    let checked = check_activity(&form, state.clock.now_ms()).map_err(|p| {
        let first = p.into_iter().next();
        AppError::bad_request(
            first.as_ref().map_or("body", |f| f.field),
            first.map(|f| f.message).unwrap_or_default(),
        )
    })?;
    let new_id = register(&state, &auth.actor, id, checked).await?;
    let record = state
        .store
        .activity(new_id)
        .await
        .map_err(AppError::from)?
        .ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(activity_json(&state, &record)?)))
}
