//! The risk assessment form (`/security-requests/{id}/assess`): every factor on its scale with
//! its guiding questions, a written rationale, and a recommendation naming the measures. "Work
//! out the rating" shows the derived rating and why without saving; "Save" records it.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shield_domain::policy::Actor;
use shield_domain::security::{Assessment, Factor, Kind, Outcome, Status};

use super::show::{RequestView, request_view};
use super::{check_assessment, check_scores, record_assessment};
use crate::auth::csrf::CsrfForm;
use crate::auth::guard::Authorized;
use crate::auth::security_guard::AssessSecurityGuard;
use crate::html::layout::FieldProblem;
use crate::{AppError, AppState};

#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct AssessForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub recommendation: String,
    #[serde(default)]
    pub rationale: String,
    /// `preview` to work out the rating without saving.
    #[serde(default)]
    pub action: String,
    /// One field per factor (its key, `0`–`3`) and `measure_KIND` checkboxes.
    #[serde(flatten)]
    pub rest: BTreeMap<String, String>,
}

crate::has_csrf!(AssessForm);

impl AssessForm {
    pub fn levels(&self) -> BTreeMap<Factor, Option<u8>> {
        Factor::ALL
            .iter()
            .map(|f| {
                (
                    *f,
                    self.rest.get(f.key()).and_then(|v| v.trim().parse().ok()),
                )
            })
            .collect()
    }

    pub fn measures(&self) -> Vec<String> {
        self.rest
            .keys()
            .filter_map(|k| k.strip_prefix("measure_"))
            .map(str::to_owned)
            .collect()
    }
}

#[derive(Debug)]
pub(crate) struct LevelChoice {
    pub value: u8,
    pub label: &'static str,
    pub checked: bool,
}

#[derive(Debug)]
pub(crate) struct FactorRow {
    pub key: &'static str,
    pub group: &'static str,
    pub first_in_group: bool,
    pub label: &'static str,
    pub questions: &'static str,
    pub levels: Vec<LevelChoice>,
    pub problem: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

#[derive(Debug, Template)]
#[template(path = "security/assess.html")]
pub(crate) struct AssessPage {
    section: &'static str,
    csrf: String,
    request: RequestView,
    factors: Vec<FactorRow>,
    outcomes: Vec<Choice>,
    measures: Vec<Choice>,
    form: AssessForm,
    derived: Option<Assessment>,
    problems: Vec<FieldProblem>,
}

impl AssessPage {
    fn problem_for(&self, field: &str) -> Option<&str> {
        crate::html::layout::problem_for(&self.problems, field)
    }
}

async fn assess_page(
    state: &AppState,
    csrf: String,
    id: i64,
    form: AssessForm,
    derived: Option<Assessment>,
    problems: Vec<FieldProblem>,
) -> Result<AssessPage, AppError> {
    let r = state
        .store
        .security_request(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let levels = form.levels();
    let ticked = form.measures();
    let mut last_group = "";
    let factors = Factor::ALL
        .iter()
        .map(|f| {
            let group = f.group().label();
            let first_in_group = group != last_group;
            last_group = group;
            FactorRow {
                key: f.key(),
                group,
                first_in_group,
                label: f.label(),
                questions: f.questions(),
                levels: f
                    .level_labels()
                    .iter()
                    .enumerate()
                    .map(|(i, label)| LevelChoice {
                        value: i as u8,
                        label,
                        checked: levels.get(f).copied().flatten() == Some(i as u8),
                    })
                    .collect(),
                problem: crate::html::layout::problem_for(&problems, f.key()).map(str::to_owned),
            }
        })
        .collect();
    Ok(AssessPage {
        section: "home",
        csrf,
        request: request_view(state, &r)?,
        factors,
        outcomes: Outcome::ALL
            .iter()
            .map(|o| Choice {
                value: o.key(),
                label: o.label(),
                checked: form.recommendation == o.key(),
            })
            .collect(),
        measures: Kind::ALL
            .iter()
            .map(|k| Choice {
                value: k.key(),
                label: k.label(),
                checked: ticked.iter().any(|t| t == k.key()),
            })
            .collect(),
        form,
        derived,
        problems,
    })
}

fn must_await_assessment(status: &str) -> Result<(), AppError> {
    if status == Status::AwaitingAssessment.key() {
        Ok(())
    } else {
        Err(AppError::bad_request(
            "status",
            "This request is not waiting for an assessment",
        ))
    }
}

async fn status_of(state: &AppState, id: i64) -> Result<String, AppError> {
    Ok(state
        .store
        .security_request(id)
        .await?
        .ok_or(AppError::NotFound)?
        .status)
}

/// `GET /security-requests/{id}/assess`.
pub(crate) async fn form(
    State(state): State<AppState>,
    auth: Authorized<AssessSecurityGuard>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    must_await_assessment(&status_of(&state, id).await?)?;
    let page = assess_page(
        &state,
        auth.session.record.csrf_token.clone(),
        id,
        AssessForm::default(),
        None,
        Vec::new(),
    )
    .await?;
    crate::html::page(StatusCode::OK, &page)
}

/// `POST /security-requests/{id}/assess`: preview the rating, or save the assessment.
pub(crate) async fn submit(
    State(state): State<AppState>,
    auth: Authorized<AssessSecurityGuard>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<AssessForm>,
) -> Result<Response, AppError> {
    let csrf = auth.session.record.csrf_token.clone();
    let actor: &Actor = &auth.actor;
    must_await_assessment(&status_of(&state, id).await?)?;
    if form.action == "preview" {
        let (derived, problems) = match check_scores(&form.levels()) {
            Ok((_, a)) => (Some(a), Vec::new()),
            Err(p) => (None, p),
        };
        let status = if problems.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        };
        let page = assess_page(&state, csrf, id, form, derived, problems).await?;
        return crate::html::page(status, &page);
    }
    match check_assessment(
        &form.levels(),
        &form.recommendation,
        &form.measures(),
        &form.rationale,
    ) {
        Ok(checked) => {
            record_assessment(&state, actor, id, checked).await?;
            Ok(Redirect::to(&format!("/security-requests/{id}")).into_response())
        }
        Err(problems) => {
            let derived = check_scores(&form.levels()).ok().map(|(_, a)| a);
            let page = assess_page(&state, csrf, id, form, derived, problems).await?;
            crate::html::page(StatusCode::BAD_REQUEST, &page)
        }
    }
}
