//! One request (`/security-requests/{id}`): the request, the assessment and recommendation
//! (police and coordinators only), the decision with its reasons and review date, the timeline,
//! and the candidate's "ask again with new information" form.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shield_domain::Role;
use shield_domain::policy::Actor;
use shield_domain::report::Tier;
use shield_domain::security::{Factor, Kind, Outcome, Rating, Scores, Status, assess};
use shield_store::{SecurityEventRecord, SecurityRequestRecord};

use super::{FieldProblemOr, RequestDetails, police_side, record_reconsideration};
use crate::auth::csrf::CsrfForm;
use crate::auth::guard::Authorized;
use crate::auth::security_guard::{ReconsiderSecurityGuard, ViewSecurityGuard};
use crate::html::layout::FieldProblem;
use crate::html::reports::{due_words, open_text, when};
use crate::{AppError, AppState};

/// The request as its pages show it.
#[derive(Debug)]
pub(crate) struct RequestView {
    pub id: i64,
    pub reference: String,
    pub candidate: String,
    pub constituency: String,
    pub force: String,
    pub kind: &'static str,
    pub status: &'static str,
    pub status_key: String,
    pub urgent: bool,
    pub created: String,
    pub period: String,
    pub reasons: String,
    pub linked: Vec<(i64, String)>,
    pub due: String,
    pub tier: &'static str,
}

/// One factor's score as a row.
#[derive(Debug)]
pub(crate) struct ScoreRow {
    pub group: &'static str,
    pub factor: &'static str,
    pub level: u8,
    pub level_label: &'static str,
}

/// The latest assessment.
#[derive(Debug)]
pub(crate) struct AssessmentView {
    pub by: String,
    pub at: String,
    pub rating: &'static str,
    pub rating_key: &'static str,
    pub reasons: Vec<String>,
    pub drivers: Vec<&'static str>,
    pub scores: Vec<ScoreRow>,
    pub recommendation: &'static str,
    pub measures: Vec<&'static str>,
    pub rationale: String,
}

/// The decision as the candidate reads it.
#[derive(Debug)]
pub(crate) struct DecisionView {
    pub outcome: &'static str,
    pub reasons: String,
    pub review: String,
    pub at: String,
}

#[derive(Debug)]
pub(crate) struct EventView {
    pub at: String,
    pub who: String,
    pub what: String,
    pub note: Option<String>,
}

pub(crate) fn request_view(
    state: &AppState,
    r: &SecurityRequestRecord,
) -> Result<RequestView, AppError> {
    let json = open_text(
        state,
        "security_requests",
        "details",
        r.id,
        &r.sealed_details,
    )?;
    let details: RequestDetails = serde_json::from_str(&json)
        .map_err(|e| AppError::Internal(format!("request {} details: {e}", r.id)))?;
    Ok(RequestView {
        id: r.id,
        reference: shield_domain::security::reference(r.id),
        candidate: r.candidate_name.clone(),
        constituency: r.constituency.clone(),
        force: r.force_name.clone(),
        kind: Kind::parse(&r.kind).map_or("Unknown", |k| k.label()),
        status: Status::parse(&r.status).map_or("Unknown", |s| s.label()),
        status_key: r.status.clone(),
        urgent: r.urgent,
        created: when(r.created_at_ms),
        period: details.period,
        reasons: details.reasons,
        linked: r
            .linked_report_ids()
            .into_iter()
            .map(|id| (id, shield_domain::report::reference(id)))
            .collect(),
        due: due_words(r.due_at_ms, state.clock.now_ms()),
        tier: Tier::parse(&r.tier).map_or("", |t| t.label()),
    })
}

fn latest_note(
    state: &AppState,
    events: &[SecurityEventRecord],
    kind: &str,
) -> Result<Option<(SecurityEventRecord, String)>, AppError> {
    match events.iter().rev().find(|e| e.kind == kind) {
        Some(e) => {
            let note = match &e.note {
                Some(n) => open_text(state, "security_request_events", "note", e.id, n)?,
                None => String::new(),
            };
            Ok(Some((e.clone(), note)))
        }
        None => Ok(None),
    }
}

pub(crate) fn assessment_view(
    state: &AppState,
    r: &SecurityRequestRecord,
    events: &[SecurityEventRecord],
) -> Result<Option<AssessmentView>, AppError> {
    let (Some(scores), Some(rec)) = (&r.scores, &r.recommendation) else {
        return Ok(None);
    };
    let scores = Scores::parse(scores).map_err(|e| AppError::Internal(e.message))?;
    let derived = assess(&scores);
    let rationale = latest_note(state, events, "assessed")?
        .map(|(_, n)| n)
        .unwrap_or_default();
    Ok(Some(AssessmentView {
        by: r.assessed_by_name.clone().unwrap_or_default(),
        at: r.assessed_at_ms.map(when).unwrap_or_default(),
        rating: derived.rating.label(),
        rating_key: r
            .rating
            .as_deref()
            .and_then(Rating::parse)
            .map_or("", |x| x.key()),
        reasons: derived.reasons,
        drivers: derived.drivers.iter().map(|f| f.label()).collect(),
        scores: Factor::ALL
            .iter()
            .map(|f| {
                let level = scores.get(*f);
                ScoreRow {
                    group: f.group().label(),
                    factor: f.label(),
                    level,
                    level_label: f.level_labels()[usize::from(level)],
                }
            })
            .collect(),
        recommendation: Outcome::parse(rec).map_or("", |o| o.label()),
        measures: r
            .measure_keys()
            .into_iter()
            .filter_map(|k| Kind::parse(k).ok())
            .map(|k| k.label())
            .collect(),
        rationale,
    }))
}

pub(crate) fn decision_view(
    state: &AppState,
    r: &SecurityRequestRecord,
    events: &[SecurityEventRecord],
) -> Result<Option<DecisionView>, AppError> {
    if r.status != Status::Decided.key() {
        return Ok(None);
    }
    let Some(outcome) = r.decision.as_deref().and_then(|d| Outcome::parse(d).ok()) else {
        return Ok(None);
    };
    let reasons = latest_note(state, events, "decided")?
        .map(|(_, n)| n)
        .unwrap_or_default();
    Ok(Some(DecisionView {
        outcome: outcome.candidate_label(),
        reasons,
        review: r
            .review_at_ms
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|t| t.format("%-d %B %Y").to_string())
            .unwrap_or_default(),
        at: r.decided_at_ms.map(when).unwrap_or_default(),
    }))
}

fn detail_value(detail: &str, key: &str) -> String {
    serde_json::from_str::<serde_json::Value>(detail)
        .ok()
        .and_then(|v| match &v[key] {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        })
        .unwrap_or_default()
}

/// The timeline; the candidate's side does not see notifications, escalations, ratings or the
/// assessor's rationale.
pub(crate) fn timeline(
    state: &AppState,
    actor: &Actor,
    events: &[SecurityEventRecord],
) -> Result<Vec<EventView>, AppError> {
    let police = police_side(actor);
    let mut out = Vec::new();
    for e in events {
        let what = match e.kind.as_str() {
            "requested" => "Request made".to_owned(),
            "assessed" if police => format!(
                "Risk assessed: {} risk, recommended {}",
                Rating::parse(&detail_value(&e.detail, "rating"))
                    .map_or("", |r| r.label())
                    .to_lowercase(),
                Outcome::parse(&detail_value(&e.detail, "recommendation"))
                    .map_or("", |o| o.label())
                    .to_lowercase()
            ),
            "assessed" => "Risk assessment done by the police".to_owned(),
            "decided" => format!(
                "Decision: {}",
                Outcome::parse(&detail_value(&e.detail, "decision"))
                    .map_or("", |o| o.candidate_label())
            ),
            "reconsideration" => "Reconsideration asked for, with new information".to_owned(),
            "escalated" if police => format!(
                "Overdue {}: escalated to the {}",
                detail_value(&e.detail, "stage"),
                Tier::parse(&detail_value(&e.detail, "tier")).map_or("", |t| t.label())
            ),
            "notified" if police => {
                let status = detail_value(&e.detail, "outbox")
                    .parse::<i64>()
                    .ok()
                    .map(|id| format!(" (email {})", id));
                format!(
                    "Notification queued: {}{}",
                    detail_value(&e.detail, "template").replace('_', " "),
                    status.unwrap_or_default()
                )
            }
            _ => continue,
        };
        let shows_note = match e.kind.as_str() {
            "assessed" => police,
            "decided" | "reconsideration" => true,
            _ => false,
        };
        let note = match (&e.note, shows_note) {
            (Some(n), true) => Some(open_text(
                state,
                "security_request_events",
                "note",
                e.id,
                n,
            )?),
            _ => None,
        };
        out.push(EventView {
            at: when(e.at_ms),
            who: e
                .actor_name
                .clone()
                .unwrap_or_else(|| "Candidate Shield".into()),
            what,
            note,
        });
    }
    Ok(out)
}

#[derive(Debug, Template)]
#[template(path = "security/show.html")]
pub(crate) struct ShowPage {
    section: &'static str,
    csrf: String,
    request: RequestView,
    police: bool,
    can_assess: bool,
    can_decide: bool,
    assessed_by_me: bool,
    can_reconsider: bool,
    assessment: Option<AssessmentView>,
    decision: Option<DecisionView>,
    events: Vec<EventView>,
    information: String,
    problems: Vec<FieldProblem>,
}

async fn show_page(
    state: &AppState,
    actor: &Actor,
    csrf: String,
    id: i64,
    information: String,
    problems: Vec<FieldProblem>,
) -> Result<ShowPage, AppError> {
    let r = state
        .store
        .security_request(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let events = state.store.security_events(id).await?;
    let police = police_side(actor);
    let assessment = if police {
        assessment_view(state, &r, &events)?
    } else {
        None
    };
    let assessed_by_me = r.assessed_by == Some(actor.user_id.0);
    Ok(ShowPage {
        section: "home",
        csrf,
        request: request_view(state, &r)?,
        police,
        can_assess: police && r.status == Status::AwaitingAssessment.key(),
        can_decide: actor.role == Role::Coordinator
            && r.status == Status::AwaitingDecision.key()
            && !assessed_by_me,
        assessed_by_me,
        can_reconsider: !police && r.status == Status::Decided.key(),
        assessment,
        decision: decision_view(state, &r, &events)?,
        events: timeline(state, actor, &events)?,
        information,
        problems,
    })
}

/// `GET /security-requests/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    auth: Authorized<ViewSecurityGuard>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let page = show_page(
        &state,
        &auth.actor,
        auth.session.record.csrf_token.clone(),
        id,
        String::new(),
        Vec::new(),
    )
    .await?;
    crate::html::page(StatusCode::OK, &page)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ReconsiderForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    information: String,
}

crate::has_csrf!(ReconsiderForm);

/// `POST /security-requests/{id}/reconsider`: back to assessment with new information.
pub(crate) async fn reconsider(
    State(state): State<AppState>,
    auth: Authorized<ReconsiderSecurityGuard>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ReconsiderForm>,
) -> Result<Response, AppError> {
    match record_reconsideration(&state, &auth.actor, id, &form.information).await {
        Ok(()) => Ok(Redirect::to(&format!("/security-requests/{id}")).into_response()),
        Err(FieldProblemOr::Problem(p)) => {
            let page = show_page(
                &state,
                &auth.actor,
                auth.session.record.csrf_token.clone(),
                id,
                form.information,
                vec![p],
            )
            .await?;
            crate::html::page(StatusCode::BAD_REQUEST, &page)
        }
        Err(FieldProblemOr::Error(e)) => Err(e),
    }
}
