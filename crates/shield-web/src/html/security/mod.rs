//! Requests for additional security (journey 5): the candidate's request, the force's risk
//! assessment, the coordinator's decision with reasons, reconsideration, the coordinators' list,
//! CSV export and consistency view.
//!
//! Checking input and writing through the store live here, shared by the pages and the JSON
//! API (`api::security`), so both refuse the same things with the same words. Written text is
//! sealed by the store through [`KeySealer`]; logs and audit events carry request ids only.

pub(crate) mod assess;
pub(crate) mod decide;
pub(crate) mod list;
pub(crate) mod request;
pub(crate) mod show;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use shield_domain::policy::Actor;
use shield_domain::security::{Assessment, Factor, Kind, Outcome, Scores, assess as derive};
use shield_domain::{CandidateId, Role};
use shield_store::{NewAssessment, NewDecision, NewSecurityRequest, SecurityRefusal};

use crate::html::layout::FieldProblem;
use crate::html::reports::KeySealer;
use crate::{AppError, AppState};

/// What the candidate wrote, sealed as one value (`security_requests.details`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct RequestDetails {
    pub period: String,
    pub reasons: String,
}

/// The police and coordinators see assessments, ratings and the whole timeline; the
/// candidate's side sees the request, the decision with its reasons, and their own notes.
pub(crate) fn police_side(actor: &Actor) -> bool {
    matches!(actor.role, Role::ForceContact | Role::Coordinator)
}

/// The audit event of a request action by `actor` (the store adds the request as subject).
pub(crate) fn audit(
    state: &AppState,
    actor: &Actor,
    action: &str,
) -> Result<shield_domain::audit::AuditEvent, AppError> {
    crate::html::reports::audit_event(state, actor, action, None)
}

fn text(value: &str, field: &'static str, what: &str, max: usize) -> Result<String, FieldProblem> {
    let v = value.trim();
    if v.is_empty() {
        Err(FieldProblem::new(field, format!("Enter {what}")))
    } else if v.chars().count() > max {
        Err(FieldProblem::new(
            field,
            format!("{} must be {max} characters or fewer", capitalise(what)),
        ))
    } else {
        Ok(v.to_owned())
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// A checked request.
#[derive(Debug)]
pub(crate) struct CheckedRequest {
    pub kind: Kind,
    pub details: RequestDetails,
    pub linked: Vec<i64>,
}

pub(crate) fn check_request(
    kind: &str,
    period: &str,
    reasons: &str,
    linked: Vec<i64>,
) -> Result<CheckedRequest, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let kind = Kind::parse(kind)
        .map_err(|e| problems.push(FieldProblem::new("kind", e.message)))
        .ok();
    let period = text(
        period,
        "period",
        "the events or the period this is for",
        1000,
    )
    .map_err(|p| problems.push(p))
    .ok();
    let reasons = text(reasons, "reasons", "why you need it", 5000)
        .map_err(|p| problems.push(p))
        .ok();
    match (kind, period, reasons) {
        (Some(kind), Some(period), Some(reasons)) if problems.is_empty() => Ok(CheckedRequest {
            kind,
            details: RequestDetails { period, reasons },
            linked,
        }),
        _ => Err(problems),
    }
}

/// A checked assessment with its derived rating.
#[derive(Debug)]
pub(crate) struct CheckedAssessment {
    pub scores: Scores,
    pub derived: Assessment,
    pub recommendation: Outcome,
    pub measures: Vec<Kind>,
    pub rationale: String,
}

/// Reads every factor's level; the missing ones are named, and the rating is derived when all
/// are there (so a preview can show it before the rest is complete).
pub(crate) fn check_scores(
    levels: &BTreeMap<Factor, Option<u8>>,
) -> Result<(Scores, Assessment), Vec<FieldProblem>> {
    Scores::from_levels(levels)
        .map(|s| {
            let a = derive(&s);
            (s, a)
        })
        .map_err(|missing| {
            missing
                .into_iter()
                .map(|f| {
                    FieldProblem::new(
                        f.key(),
                        format!("Select a level for {}", f.label().to_lowercase()),
                    )
                })
                .collect()
        })
}

pub(crate) fn check_assessment(
    levels: &BTreeMap<Factor, Option<u8>>,
    recommendation: &str,
    measures: &[String],
    rationale: &str,
) -> Result<CheckedAssessment, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let scores = check_scores(levels).map_err(|p| problems.extend(p)).ok();
    let recommendation = Outcome::parse(recommendation)
        .map_err(|_| {
            problems.push(FieldProblem::new(
                "recommendation",
                "Select approve, approve in part or decline",
            ))
        })
        .ok();
    let mut kinds = Vec::new();
    for m in measures {
        match Kind::parse(m) {
            Ok(k) if !kinds.contains(&k) => kinds.push(k),
            Ok(_) => {}
            Err(_) => problems.push(FieldProblem::new("measures", "Unknown measure")),
        }
    }
    if kinds.is_empty()
        && matches!(
            recommendation,
            Some(Outcome::Approve | Outcome::ApproveInPart)
        )
    {
        problems.push(FieldProblem::new(
            "measures",
            "Select the measures you recommend",
        ));
    }
    let rationale = text(
        rationale,
        "rationale",
        "the rationale for the assessment",
        10_000,
    )
    .map_err(|p| problems.push(p))
    .ok();
    match (scores, recommendation, rationale) {
        (Some((scores, derived)), Some(recommendation), Some(rationale)) if problems.is_empty() => {
            Ok(CheckedAssessment {
                scores,
                derived,
                recommendation,
                measures: kinds,
                rationale,
            })
        }
        _ => Err(problems),
    }
}

/// A checked decision.
#[derive(Debug)]
pub(crate) struct CheckedDecision {
    pub outcome: Outcome,
    pub reasons: String,
    pub review_at_ms: i64,
}

/// A review date `YYYY-MM-DD`, after today, as midnight UTC in epoch ms.
pub(crate) fn parse_review(value: &str, now_ms: i64) -> Option<i64> {
    let d = chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").ok()?;
    let ms = d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis();
    (ms > now_ms).then_some(ms)
}

pub(crate) fn check_decision(
    outcome: &str,
    reasons: &str,
    review: &str,
    now_ms: i64,
) -> Result<CheckedDecision, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let outcome = Outcome::parse(outcome)
        .map_err(|_| {
            problems.push(FieldProblem::new(
                "decision",
                "Select approve, approve in part or decline",
            ))
        })
        .ok();
    let reasons = text(
        reasons,
        "reasons",
        "the reasons, in plain English for the candidate",
        5000,
    )
    .map_err(|p| problems.push(p))
    .ok();
    let review = parse_review(review, now_ms);
    if review.is_none() {
        problems.push(FieldProblem::new(
            "review",
            "Enter a review date after today, like 2026-06-01",
        ));
    }
    match (outcome, reasons, review) {
        (Some(outcome), Some(reasons), Some(review_at_ms)) if problems.is_empty() => {
            Ok(CheckedDecision {
                outcome,
                reasons,
                review_at_ms,
            })
        }
        _ => Err(problems),
    }
}

/// What a refused write means to the person who tried.
pub(crate) fn refusal(r: SecurityRefusal) -> AppError {
    match r {
        SecurityRefusal::NotFound => AppError::NotFound,
        SecurityRefusal::OwnRecommendation => AppError::Forbidden,
        SecurityRefusal::WrongStatus => AppError::bad_request(
            "status",
            "This request is not at that step any more: reload the page",
        ),
        SecurityRefusal::NotTheirReport => {
            AppError::bad_request("reports", "Link only your own reports")
        }
    }
}

pub(crate) async fn create(
    state: &AppState,
    actor: &Actor,
    candidate: CandidateId,
    checked: CheckedRequest,
) -> Result<i64, AppError> {
    let details = serde_json::to_vec(&checked.details)
        .map_err(|e| AppError::Internal(format!("request details: {e}")))?;
    let new = NewSecurityRequest {
        candidate_id: candidate,
        requested_by: actor.user_id,
        kind: checked.kind.key().to_owned(),
        details,
        linked_reports: checked.linked,
    };
    let event = audit(state, actor, "security_requested")?;
    let id = state
        .store
        .create_security_request(
            &new,
            &KeySealer(&state.keys),
            &state.security_windows,
            state.clock.now_ms(),
            &event,
        )
        .await?
        .map_err(refusal)?;
    state.wake_worker();
    tracing::info!(request = id, "security request made");
    Ok(id)
}

pub(crate) async fn record_assessment(
    state: &AppState,
    actor: &Actor,
    id: i64,
    checked: CheckedAssessment,
) -> Result<(), AppError> {
    let new = NewAssessment {
        scores: checked.scores.encode(),
        rating: checked.derived.rating.key().to_owned(),
        recommendation: checked.recommendation.key().to_owned(),
        measures: checked
            .measures
            .iter()
            .map(|k| k.key().to_owned())
            .collect(),
        rationale: checked.rationale,
    };
    let event = audit(state, actor, "security_assessed")?;
    state
        .store
        .assess_security_request(
            id,
            actor.user_id,
            &new,
            &KeySealer(&state.keys),
            &state.security_windows,
            state.clock.now_ms(),
            &event,
        )
        .await?
        .map_err(refusal)?;
    state.wake_worker();
    tracing::info!(request = id, "security request assessed");
    Ok(())
}

pub(crate) async fn record_decision(
    state: &AppState,
    actor: &Actor,
    id: i64,
    checked: CheckedDecision,
) -> Result<(), AppError> {
    let new = NewDecision {
        decision: checked.outcome.key().to_owned(),
        reasons: checked.reasons,
        review_at_ms: checked.review_at_ms,
    };
    let event = audit(state, actor, "security_decided")?;
    state
        .store
        .decide_security_request(
            id,
            actor.user_id,
            &new,
            &KeySealer(&state.keys),
            state.clock.now_ms(),
            &event,
        )
        .await?
        .map_err(refusal)?;
    state.wake_worker();
    tracing::info!(request = id, "security request decided");
    Ok(())
}

pub(crate) async fn record_reconsideration(
    state: &AppState,
    actor: &Actor,
    id: i64,
    information: &str,
) -> Result<(), FieldProblemOr> {
    let info = text(information, "information", "the new information", 5000)
        .map_err(FieldProblemOr::Problem)?;
    let event = audit(state, actor, "security_reconsideration")?;
    state
        .store
        .reconsider_security_request(
            id,
            actor.user_id,
            &info,
            &KeySealer(&state.keys),
            &state.security_windows,
            state.clock.now_ms(),
            &event,
        )
        .await
        .map_err(|e| FieldProblemOr::Error(e.into()))?
        .map_err(|r| FieldProblemOr::Error(refusal(r)))?;
    state.wake_worker();
    tracing::info!(request = id, "security request reconsideration asked");
    Ok(())
}

/// A problem with a field (the page is shown again) or another failure.
#[derive(Debug)]
pub(crate) enum FieldProblemOr {
    Problem(FieldProblem),
    Error(AppError),
}

impl From<AppError> for FieldProblemOr {
    fn from(e: AppError) -> Self {
        Self::Error(e)
    }
}
