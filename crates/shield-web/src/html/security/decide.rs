//! The decision (`/security-requests/{id}/decide`): a coordinator who did not assess the
//! request reads the assessment and decides, with reasons written for the candidate and a
//! review date. The guard refuses the assessor (the policy), and so does the store.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shield_domain::security::{Outcome, Status};

use super::show::{AssessmentView, RequestView, assessment_view, request_view};
use super::{check_decision, record_decision};
use crate::auth::csrf::CsrfForm;
use crate::auth::guard::Authorized;
use crate::auth::security_guard::DecideSecurityGuard;
use crate::html::layout::FieldProblem;
use crate::{AppError, AppState};

#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct DecideForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub reasons: String,
    #[serde(default)]
    pub review: String,
}

crate::has_csrf!(DecideForm);

#[derive(Debug)]
pub(crate) struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

#[derive(Debug, Template)]
#[template(path = "security/decide.html")]
pub(crate) struct DecidePage {
    section: &'static str,
    csrf: String,
    request: RequestView,
    assessment: Option<AssessmentView>,
    outcomes: Vec<Choice>,
    form: DecideForm,
    problems: Vec<FieldProblem>,
}

impl DecidePage {
    fn problem_for(&self, field: &str) -> Option<&str> {
        crate::html::layout::problem_for(&self.problems, field)
    }
}

async fn decide_page(
    state: &AppState,
    csrf: String,
    id: i64,
    form: DecideForm,
    problems: Vec<FieldProblem>,
) -> Result<DecidePage, AppError> {
    let r = state
        .store
        .security_request(id)
        .await?
        .ok_or(AppError::NotFound)?;
    if r.status != Status::AwaitingDecision.key() {
        return Err(AppError::bad_request(
            "status",
            "This request is not waiting for a decision",
        ));
    }
    let events = state.store.security_events(id).await?;
    Ok(DecidePage {
        section: "home",
        csrf,
        request: request_view(state, &r)?,
        assessment: assessment_view(state, &r, &events)?,
        outcomes: Outcome::ALL
            .iter()
            .map(|o| Choice {
                value: o.key(),
                label: o.label(),
                checked: form.decision == o.key(),
            })
            .collect(),
        form,
        problems,
    })
}

/// `GET /security-requests/{id}/decide`.
pub(crate) async fn form(
    State(state): State<AppState>,
    auth: Authorized<DecideSecurityGuard>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let page = decide_page(
        &state,
        auth.session.record.csrf_token.clone(),
        id,
        DecideForm::default(),
        Vec::new(),
    )
    .await?;
    crate::html::page(StatusCode::OK, &page)
}

/// `POST /security-requests/{id}/decide`.
pub(crate) async fn submit(
    State(state): State<AppState>,
    auth: Authorized<DecideSecurityGuard>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<DecideForm>,
) -> Result<Response, AppError> {
    match check_decision(
        &form.decision,
        &form.reasons,
        &form.review,
        state.clock.now_ms(),
    ) {
        Ok(checked) => {
            record_decision(&state, &auth.actor, id, checked).await?;
            Ok(Redirect::to(&format!("/security-requests/{id}")).into_response())
        }
        Err(problems) => {
            let csrf = auth.session.record.csrf_token.clone();
            let page = decide_page(&state, csrf, id, form, problems).await?;
            crate::html::page(StatusCode::BAD_REQUEST, &page)
        }
    }
}
