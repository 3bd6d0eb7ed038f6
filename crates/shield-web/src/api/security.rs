//! The JSON API for requests for additional security: the same checks and store writes as the
//! pages (`html::security`), the same guards. Writes need `x-csrf-token`. Answers carry what the
//! caller's side may see: the candidate's side never gets the rating or the rationale.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use shield_domain::security::{Factor, Status};
use shield_store::SecurityFilter;

use super::{Api, ApiError};
use crate::auth::guard::{Authorized, Target};
use crate::auth::passkey::CsrfHeader;
use crate::auth::security_guard::{
    AssessSecurityGuard, DecideSecurityGuard, ReconsiderSecurityGuard, RequestSecurityGuard,
    SecurityConsistencyGuard, SecurityListGuard, ViewSecurityGuard,
};
use crate::html::layout::FieldProblem;
use crate::html::security::list::{ListQuery, consistency_of, filter};
use crate::html::security::show::{assessment_view, decision_view, request_view, timeline};
use crate::html::security::{
    FieldProblemOr, check_assessment, check_decision, check_request, create, police_side,
    record_assessment, record_decision, record_reconsideration,
};
use crate::{AppError, AppState};

fn first_problem(problems: Vec<FieldProblem>) -> ApiError {
    let first = problems.into_iter().next();
    ApiError(AppError::bad_request(
        first.as_ref().map_or("body", |f| f.field),
        first.map(|f| f.message).unwrap_or_default(),
    ))
}

fn body<T>(json: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    json.map(|Json(b)| b)
        .map_err(|e| ApiError(AppError::bad_request("body", e.body_text())))
}

/// A list line: keys and ratings, no written text.
fn summary_json(r: &shield_store::SecurityRequestRecord, police: bool) -> Value {
    json!({
        "id": r.id,
        "reference": shield_domain::security::reference(r.id),
        "candidate_id": r.candidate_id,
        "force": r.owner_force,
        "kind": r.kind,
        "status": r.status,
        "urgent": r.urgent,
        "rating": if police { json!(r.rating) } else { Value::Null },
        "decision": if r.status == Status::Decided.key() { json!(r.decision) } else { Value::Null },
        "created_at_ms": r.created_at_ms,
        "due_at_ms": r.due_at_ms,
    })
}

/// `GET /api/security-requests`: a force's requests (`?force=`), or all for coordinators;
/// `?status=` filters.
pub(crate) async fn list(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<SecurityListGuard>>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let f = filter(&auth.target, &q)?;
    let rows = state
        .store
        .security_requests(&f)
        .await
        .map_err(AppError::from)?;
    Ok(Json(
        json!({ "requests": rows.iter().map(|r| summary_json(r, true)).collect::<Vec<_>>() }),
    ))
}

/// `GET /api/security-requests/mine`: the candidate's own (or `?candidate=ID`'s).
pub(crate) async fn mine(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<RequestSecurityGuard>>,
) -> Result<Json<Value>, ApiError> {
    let Target::Candidate { id, .. } = auth.target else {
        return Err(AppError::Forbidden.into());
    };
    let rows = state
        .store
        .security_requests(&SecurityFilter {
            candidate: Some(id),
            ..SecurityFilter::default()
        })
        .await
        .map_err(AppError::from)?;
    Ok(Json(
        json!({ "requests": rows.iter().map(|r| summary_json(r, false)).collect::<Vec<_>>() }),
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct NewBody {
    kind: String,
    period: String,
    reasons: String,
    #[serde(default)]
    reports: Vec<i64>,
}

/// `POST /api/security-requests`.
pub(crate) async fn create_request(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<RequestSecurityGuard>>,
    Api(_csrf): Api<CsrfHeader>,
    json: Result<Json<NewBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let b = body(json)?;
    let Target::Candidate { id, .. } = auth.target else {
        return Err(AppError::Forbidden.into());
    };
    let checked =
        check_request(&b.kind, &b.period, &b.reasons, b.reports).map_err(first_problem)?;
    let request = create(&state, &auth.actor, id, checked).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": request, "reference": shield_domain::security::reference(request) })),
    ))
}

/// `GET /api/security-requests/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<ViewSecurityGuard>>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let r = state
        .store
        .security_request(id)
        .await
        .map_err(AppError::from)?
        .ok_or(AppError::NotFound)?;
    let events = state
        .store
        .security_events(id)
        .await
        .map_err(AppError::from)?;
    let police = police_side(&auth.actor);
    let v = request_view(&state, &r)?;
    let assessment = if police {
        assessment_view(&state, &r, &events)?.map(|a| {
            json!({
                "rating": r.rating, "reasons": a.reasons, "drivers": a.drivers,
                "scores": r.scores, "recommendation": r.recommendation,
                "measures": r.measure_keys(), "rationale": a.rationale,
                "assessed_by": r.assessed_by, "assessed_at_ms": r.assessed_at_ms,
            })
        })
    } else {
        None
    };
    let decision = decision_view(&state, &r, &events)?.map(|d| {
        json!({ "decision": r.decision, "reasons": d.reasons, "review_at_ms": r.review_at_ms,
                "decided_at_ms": r.decided_at_ms })
    });
    let events: Vec<Value> = timeline(&state, &auth.actor, &events)?
        .into_iter()
        .map(|e| json!({ "at": e.at, "who": e.who, "what": e.what, "note": e.note }))
        .collect();
    let mut out = summary_json(&r, police);
    if let Some(map) = out.as_object_mut() {
        map.insert("period".into(), json!(v.period));
        map.insert("reasons".into(), json!(v.reasons));
        map.insert("linked_reports".into(), json!(r.linked_report_ids()));
        map.insert("assessment".into(), json!(assessment));
        map.insert("decision_detail".into(), json!(decision));
        map.insert("timeline".into(), json!(events));
    }
    Ok(Json(out))
}

#[derive(Debug, Deserialize)]
pub(crate) struct AssessBody {
    /// Factor key → level 0–3, for every factor.
    scores: BTreeMap<String, u8>,
    recommendation: String,
    #[serde(default)]
    measures: Vec<String>,
    rationale: String,
}

/// `POST /api/security-requests/{id}/assessment`.
pub(crate) async fn assess(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<AssessSecurityGuard>>,
    Api(_csrf): Api<CsrfHeader>,
    Path(id): Path<i64>,
    json: Result<Json<AssessBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = body(json)?;
    let levels = Factor::ALL
        .iter()
        .map(|f| (*f, b.scores.get(f.key()).copied()))
        .collect();
    let checked = check_assessment(&levels, &b.recommendation, &b.measures, &b.rationale)
        .map_err(first_problem)?;
    let rating = checked.derived.rating.key();
    let reasons = checked.derived.reasons.clone();
    record_assessment(&state, &auth.actor, id, checked).await?;
    Ok(Json(
        json!({ "id": id, "rating": rating, "reasons": reasons }),
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct DecideBody {
    decision: String,
    reasons: String,
    /// `YYYY-MM-DD`, after today.
    review: String,
}

/// `POST /api/security-requests/{id}/decision`.
pub(crate) async fn decide(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<DecideSecurityGuard>>,
    Api(_csrf): Api<CsrfHeader>,
    Path(id): Path<i64>,
    json: Result<Json<DecideBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = body(json)?;
    let checked = check_decision(&b.decision, &b.reasons, &b.review, state.clock.now_ms())
        .map_err(first_problem)?;
    record_decision(&state, &auth.actor, id, checked).await?;
    Ok(Json(json!({ "id": id, "decision": b.decision })))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ReconsiderBody {
    information: String,
}

/// `POST /api/security-requests/{id}/reconsider`.
pub(crate) async fn reconsider(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<ReconsiderSecurityGuard>>,
    Api(_csrf): Api<CsrfHeader>,
    Path(id): Path<i64>,
    json: Result<Json<ReconsiderBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let b = body(json)?;
    match record_reconsideration(&state, &auth.actor, id, &b.information).await {
        Ok(()) => Ok(Json(
            json!({ "id": id, "status": Status::AwaitingAssessment.key() }),
        )),
        Err(FieldProblemOr::Problem(p)) => Err(first_problem(vec![p])),
        Err(FieldProblemOr::Error(e)) => Err(e.into()),
    }
}

/// `GET /api/security-requests/consistency`: decisions by rating, by force, and both.
pub(crate) async fn consistency(
    State(state): State<AppState>,
    Api(_auth): Api<Authorized<SecurityConsistencyGuard>>,
) -> Result<Json<Value>, ApiError> {
    let c = consistency_of(&state).await?;
    Ok(Json(
        serde_json::to_value(&c).map_err(|e| AppError::Internal(e.to_string()))?,
    ))
}
