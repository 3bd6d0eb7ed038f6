//! The activities API: a candidate's (or, with `?candidate=ID`, a delegate's candidate's)
//! upcoming activities, and registering one. Writes need `x-csrf-token`.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Api, ApiError};
use crate::auth::guard::{Authorized, Target};
use crate::auth::passkey::CsrfHeader;
use crate::auth::report_guard::{
    ActivityEditGuard, ActivityGuard, ForceActivitiesGuard, ReportForGuard,
};
use crate::html::activities::{ActivityForm, activity_view, check_activity, register};
use crate::html::activity::{Changed, cancel_activity, edit_checklist};
use crate::html::calendar_month::{MonthQuery, month_activities};
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
        "cancelled": a.cancelled_at_ms.is_some(),
        "revision": a.revision,
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

async fn one(state: &AppState, id: i64) -> Result<Value, AppError> {
    let record = state.store.activity(id).await?.ok_or(AppError::NotFound)?;
    let mut v = activity_json(state, &record)?;
    v["candidate"] = json!(record.candidate_name);
    v["constituency"] = json!(record.constituency);
    Ok(v)
}

/// `GET /api/activities/{id}`: the candidate's side and the police of their forces.
pub(crate) async fn show(
    State(state): State<AppState>,
    Api(_auth): Api<Authorized<ActivityGuard>>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(one(&state, id).await?))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ChecklistBody {
    checklist: Vec<String>,
}

/// `POST /api/activities/{id}/checklist`: replaces the ticked items.
pub(crate) async fn checklist(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<ActivityEditGuard>>,
    Api(_csrf): Api<CsrfHeader>,
    Path(id): Path<i64>,
    json: Result<Json<ChecklistBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(b) = json.map_err(|e| ApiError(AppError::bad_request("body", e.body_text())))?;
    if let Some(unknown) = b.checklist.iter().find(|c| {
        !crate::html::activities::CHECKLIST
            .iter()
            .any(|(k, _)| k == c)
    }) {
        return Err(AppError::bad_request(
            "checklist",
            format!("Unknown checklist item {unknown:?}: exits, someone_knows or police"),
        )
        .into());
    }
    let tick = |k: &str| {
        if b.checklist.iter().any(|c| c == k) {
            "yes"
        } else {
            ""
        }
    };
    match edit_checklist(
        &state,
        &auth.actor,
        id,
        tick("exits"),
        tick("someone_knows"),
        tick("police"),
    )
    .await?
    {
        Changed::Done => Ok(Json(one(&state, id).await?)),
        Changed::Refused(why) => Err(AppError::bad_request("checklist", why).into()),
    }
}

/// `POST /api/activities/{id}/cancel`: 200 with the activity; cancelling twice is harmless.
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<ActivityEditGuard>>,
    Api(_csrf): Api<CsrfHeader>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    cancel_activity(&state, &auth.actor, id).await?;
    Ok(Json(one(&state, id).await?))
}

/// `GET /api/activities/force/calendar?force=CODE&month=YYYY-MM`: a month of a force's
/// activities (all forces for coordinators without `force`), cancelled ones included.
pub(crate) async fn month(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<ForceActivitiesGuard>>,
    Query(q): Query<MonthQuery>,
) -> Result<Json<Value>, ApiError> {
    let m = crate::html::calendar_month::month(q.month.as_deref(), state.clock.now_ms())?;
    let records = month_activities(&state, &auth.target, &m).await?;
    let mut items = Vec::new();
    for a in &records {
        let mut v = activity_json(&state, a)?;
        v["candidate"] = json!(a.candidate_name);
        v["constituency"] = json!(a.constituency);
        items.push(v);
    }
    let force = match &auth.target {
        Target::Force(f) => Some(f.to_string()),
        _ => None,
    };
    Ok(Json(json!({
        "month": m.key(),
        "force": force,
        "from_ms": m.from_ms,
        "to_ms": m.to_ms,
        "activities": items,
    })))
}
