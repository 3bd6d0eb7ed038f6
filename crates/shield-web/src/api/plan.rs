//! The plan, briefings and outreach API: the same operations as the pages, through the same
//! guards and shared functions. Writes need `x-csrf-token`.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use shield_domain::CandidateId;
use shield_domain::plan::{Status, Step};

use super::{Api, ApiError};
use crate::auth::guard::Authorized;
use crate::auth::passkey::CsrfHeader;
use crate::auth::plan_guard::{
    BriefingGuard, EditPlanGuard, ManageBriefingsGuard, OutreachGuard, RegisterBriefingGuard,
    ViewPlanGuard,
};
use crate::html::briefings::{BriefingForm, check_briefing, scope_of};
use crate::html::plan::target_candidate;
use crate::{AppError, AppState};

fn bad_json(e: JsonRejection) -> ApiError {
    ApiError(AppError::bad_request("body", e.body_text()))
}

async fn plan_json(state: &AppState, candidate: CandidateId) -> Result<Value, AppError> {
    let plan = state.store.plan(candidate).await?;
    let statuses = plan.statuses();
    Ok(json!({
        "candidate_id": candidate.0,
        "score": shield_domain::plan::readiness(&statuses),
        "nudges_opt_out": plan.nudges_opt_out,
        "steps": statuses.iter().map(|(step, status)| json!({
            "step": step.key(),
            "title": step.title(),
            "status": status.key(),
            "automatic": step.evidence_kind().is_some(),
        })).collect::<Vec<_>>(),
    }))
}

/// `GET /api/plan`: the steps, their statuses and the readiness score.
pub(crate) async fn show(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<ViewPlanGuard>>,
) -> Result<Json<Value>, ApiError> {
    let id = target_candidate(&auth.target)?;
    Ok(Json(plan_json(&state, id).await?))
}

#[derive(Debug, Deserialize)]
pub(crate) struct StepBody {
    status: String,
}

/// `POST /api/plan/{step}`: set a step's status; answers the whole plan.
pub(crate) async fn set_step(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<EditPlanGuard>>,
    Api(_csrf): Api<CsrfHeader>,
    Path(key): Path<String>,
    json: Result<Json<StepBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(b) = json.map_err(bad_json)?;
    let step = Step::parse(&key).map_err(|_| AppError::NotFound)?;
    let status = Status::parse(&b.status).map_err(|_| {
        AppError::bad_request(
            "status",
            "one of not_started, in_progress, done, not_applicable",
        )
    })?;
    let id = target_candidate(&auth.target)?;
    crate::html::plan::set_status(&state, &auth.actor, id, step, status).await?;
    Ok(Json(plan_json(&state, id).await?))
}

#[derive(Debug, Deserialize)]
pub(crate) struct RemindersBody {
    reminders: bool,
}

/// `POST /api/plan/reminders`: `{"reminders": false}` stops the scheduled reminders.
pub(crate) async fn reminders(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<EditPlanGuard>>,
    Api(_csrf): Api<CsrfHeader>,
    json: Result<Json<RemindersBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(b) = json.map_err(bad_json)?;
    let id = target_candidate(&auth.target)?;
    crate::html::plan::set_reminders(&state, &auth.actor, id, !b.reminders).await?;
    Ok(Json(plan_json(&state, id).await?))
}

fn briefing_json(b: &shield_store::BriefingRecord, mine: Option<&str>) -> Value {
    json!({
        "id": b.id,
        "title": b.title,
        "force": b.force_code,
        "online_url": b.online_url,
        "venue": b.venue,
        "starts_at_ms": b.starts_at_ms,
        "ends_at_ms": b.ends_at_ms,
        "capacity": b.capacity,
        "registered": b.registered,
        "description": b.description,
        "materials": b.material_links(),
        "mine": mine,
    })
}

/// `GET /api/briefings`: upcoming briefings open to the candidate, with their own state.
pub(crate) async fn list(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<ViewPlanGuard>>,
) -> Result<Json<Value>, ApiError> {
    let id = target_candidate(&auth.target)?;
    let forces = match &auth.target {
        crate::auth::guard::Target::Candidate { forces, .. } => forces.clone(),
        _ => Vec::new(),
    };
    let regs = state
        .store
        .candidate_registrations(id)
        .await
        .map_err(AppError::from)?;
    let items: Vec<Value> = state
        .store
        .briefings_for(&forces, state.clock.now_ms())
        .await
        .map_err(AppError::from)?
        .iter()
        .map(|b| {
            let mine = regs.iter().find(|r| r.briefing_id == b.id).map(|r| {
                if r.attended {
                    "attended"
                } else if r.cancelled_at_ms.is_some() {
                    "cancelled"
                } else {
                    "registered"
                }
            });
            briefing_json(b, mine)
        })
        .collect();
    Ok(Json(json!({ "briefings": items })))
}

#[derive(Debug, Deserialize)]
pub(crate) struct BriefingBody {
    title: String,
    #[serde(default)]
    online_url: String,
    #[serde(default)]
    venue: String,
    /// UK local time, `2026-05-07T18:00`.
    starts: String,
    ends: String,
    capacity: i64,
    #[serde(default)]
    description: String,
    #[serde(default)]
    materials: Vec<String>,
}

/// `POST /api/briefings?force=CODE`: schedule a briefing (national for coordinators without
/// `force`).
pub(crate) async fn create(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<ManageBriefingsGuard>>,
    Api(_csrf): Api<CsrfHeader>,
    json: Result<Json<BriefingBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(b) = json.map_err(bad_json)?;
    let form = BriefingForm {
        title: b.title,
        online_url: b.online_url,
        venue: b.venue,
        starts: b.starts,
        ends: b.ends,
        capacity: b.capacity.to_string(),
        description: b.description,
        materials: b.materials.join("\n"),
        ..BriefingForm::default()
    };
    let scope = scope_of(&auth.target)?;
    let new =
        check_briefing(&form, scope, auth.actor.user_id, state.clock.now_ms()).map_err(|p| {
            let first = p.into_iter().next();
            AppError::bad_request(
                first.as_ref().map_or("body", |f| f.field),
                first.map(|f| f.message).unwrap_or_default(),
            )
        })?;
    let id = crate::html::briefings::create(&state, &auth.actor, &new).await?;
    let record = state
        .store
        .briefing(id)
        .await
        .map_err(AppError::from)?
        .ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(briefing_json(&record, None))))
}

/// `POST /api/briefings/{id}/register`: 200 registered (the invitation is emailed), 409 full
/// or already started.
pub(crate) async fn register(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<RegisterBriefingGuard>>,
    Api(_csrf): Api<CsrfHeader>,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    match crate::html::briefings::register(&state, &auth.actor, &auth.target, id).await? {
        Ok(()) => Ok((StatusCode::OK, Json(json!({ "registered": true })))),
        Err(problem) => Ok((
            StatusCode::CONFLICT,
            Json(
                json!({ "error": "conflict", "field": problem.field, "message": problem.message }),
            ),
        )),
    }
}

/// `POST /api/briefings/{id}/cancel`.
pub(crate) async fn cancel(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<RegisterBriefingGuard>>,
    Api(_csrf): Api<CsrfHeader>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let cancelled = crate::html::briefings::cancel(&state, &auth.actor, &auth.target, id).await?;
    Ok(Json(json!({ "cancelled": cancelled })))
}

#[derive(Debug, Deserialize)]
pub(crate) struct AttendanceBody {
    candidate_id: i64,
    attended: bool,
}

/// `POST /api/briefings/{id}/attendance`: the organiser records whether a candidate came.
pub(crate) async fn attendance(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<BriefingGuard>>,
    Api(_csrf): Api<CsrfHeader>,
    Path(id): Path<i64>,
    json: Result<Json<AttendanceBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(b) = json.map_err(bad_json)?;
    if !crate::html::briefings::record(
        &state,
        &auth.actor,
        id,
        CandidateId(b.candidate_id),
        b.attended,
    )
    .await?
    {
        return Err(
            AppError::bad_request("candidate_id", "not registered for this briefing").into(),
        );
    }
    Ok(Json(json!({ "recorded": true })))
}

/// `GET /api/briefings/{id}/registrants`: who registered (the organiser).
pub(crate) async fn registrants(
    State(state): State<AppState>,
    Api(_auth): Api<Authorized<BriefingGuard>>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let rows = state.store.registrants(id).await.map_err(AppError::from)?;
    Ok(Json(json!({ "registrants": rows.iter().map(|r| json!({
        "candidate_id": r.candidate_id,
        "name": r.name,
        "constituency": r.constituency,
        "registered_at_ms": r.registered_at_ms,
        "cancelled": r.cancelled_at_ms.is_some(),
        "attended": r.attended,
    })).collect::<Vec<_>>() })))
}

/// `GET /api/outreach?force=&list=&threshold=&q=`: the candidates on a list.
pub(crate) async fn outreach(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<OutreachGuard>>,
    Query(f): Query<crate::html::outreach::Filter>,
) -> Result<Json<Value>, ApiError> {
    let filter = crate::html::outreach::check_filter(&f)?;
    let scope = crate::html::outreach::scope_of(&auth.target)?;
    let all = state
        .store
        .standings(scope.as_ref())
        .await
        .map_err(AppError::from)?;
    let list = crate::html::outreach::on_list(&all, &filter);
    Ok(Json(json!({
        "list": filter.kind.key(),
        "threshold": filter.threshold,
        "candidates": list.iter().map(|c| json!({
            "candidate_id": c.candidate_id.0,
            "name": c.name,
            "party": c.party,
            "constituency": c.constituency,
            "enrolled": c.standing.enrolled_at_ms.is_some(),
            "score": c.standing.enrolled_at_ms.map(|_| c.standing.score),
            "last_reminded_at_ms": c.last_nudged_at_ms,
        })).collect::<Vec<_>>(),
    })))
}

#[derive(Debug, Deserialize)]
pub(crate) struct RemindBody {
    list: String,
    #[serde(default)]
    threshold: Option<u8>,
    #[serde(default)]
    q: String,
}

/// `POST /api/outreach/remind?force=`: remind everyone on the list, within the limits.
pub(crate) async fn remind(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<OutreachGuard>>,
    Api(_csrf): Api<CsrfHeader>,
    json: Result<Json<RemindBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(b) = json.map_err(bad_json)?;
    let filter = crate::html::outreach::check_filter(&crate::html::outreach::Filter {
        list: b.list,
        threshold: b.threshold.map(|t| t.to_string()),
        q: b.q,
    })?;
    let r = crate::html::outreach::send(&state, &auth.actor, &auth.target, &filter).await?;
    Ok(Json(json!({
        "sent": r.outcome.sent.iter().map(|c| c.0).collect::<Vec<_>>(),
        "too_recent": r.outcome.too_recent,
        "over_limit": r.outcome.over_limit,
        "no_email": r.no_email,
    })))
}
