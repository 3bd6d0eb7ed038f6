//! The candidate's side: asking for additional security (`/security-requests/new`, `POST
//! /security-requests`) and their list of requests (`/security-requests/mine`).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shield_domain::CandidateId;
use shield_domain::security::{Kind, Outcome, Status};
use shield_store::{ReportFilter, SecurityFilter};

use super::{check_request, create};
use crate::auth::csrf::CsrfForm;
use crate::auth::guard::{Authorized, Target};
use crate::auth::security_guard::RequestSecurityGuard;
use crate::html::layout::FieldProblem;
use crate::html::reports::when;
use crate::{AppError, AppState};

/// The form as sent: fixed fields plus `report_ID` checkboxes for linked reports.
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct RequestForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub period: String,
    #[serde(default)]
    pub reasons: String,
    #[serde(flatten)]
    pub rest: BTreeMap<String, String>,
}

crate::has_csrf!(RequestForm);

impl RequestForm {
    fn linked(&self) -> Vec<i64> {
        self.rest
            .keys()
            .filter_map(|k| k.strip_prefix("report_")?.parse().ok())
            .collect()
    }
}

fn candidate(target: &Target) -> Result<CandidateId, AppError> {
    match target {
        Target::Candidate { id, .. } => Ok(*id),
        _ => Err(AppError::Forbidden),
    }
}

/// `?candidate=ID` for a delegate acting for someone else.
fn query_for(auth: &Authorized<RequestSecurityGuard>) -> String {
    match auth.target {
        Target::Candidate { id, .. } if Some(id) != auth.actor.candidate => {
            format!("?candidate={}", id.0)
        }
        _ => String::new(),
    }
}

#[derive(Debug)]
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

#[derive(Debug, Template)]
#[template(path = "security/new.html")]
pub(crate) struct NewPage {
    section: &'static str,
    csrf: String,
    query: String,
    kinds: Vec<Choice>,
    reports: Vec<Choice>,
    form: RequestForm,
    problems: Vec<FieldProblem>,
}

impl NewPage {
    fn problem_for(&self, field: &str) -> Option<&str> {
        crate::html::layout::problem_for(&self.problems, field)
    }
}

async fn new_page(
    state: &AppState,
    auth: &Authorized<RequestSecurityGuard>,
    form: RequestForm,
    problems: Vec<FieldProblem>,
) -> Result<NewPage, AppError> {
    let id = candidate(&auth.target)?;
    let linked = form.linked();
    let reports = state
        .store
        .reports(&ReportFilter {
            candidate: Some(id),
            hide_silent: true,
            ..ReportFilter::default()
        })
        .await?
        .into_iter()
        .map(|r| Choice {
            value: r.id.to_string(),
            label: format!(
                "{} (P{}): {}, {}",
                r.reference,
                r.priority.number(),
                r.category.label(),
                when(r.created_at_ms)
            ),
            checked: linked.contains(&r.id),
        })
        .collect();
    let kinds = Kind::ALL
        .iter()
        .map(|k| Choice {
            value: k.key().to_owned(),
            label: k.label().to_owned(),
            checked: form.kind == k.key(),
        })
        .collect();
    Ok(NewPage {
        section: "home",
        csrf: auth.session.record.csrf_token.clone(),
        query: query_for(auth),
        kinds,
        reports,
        form,
        problems,
    })
}

/// `GET /security-requests/new`.
pub(crate) async fn form(
    State(state): State<AppState>,
    auth: Authorized<RequestSecurityGuard>,
) -> Result<Response, AppError> {
    let page = new_page(&state, &auth, RequestForm::default(), Vec::new()).await?;
    crate::html::page(StatusCode::OK, &page)
}

/// `POST /security-requests`.
pub(crate) async fn submit(
    State(state): State<AppState>,
    auth: Authorized<RequestSecurityGuard>,
    CsrfForm(form): CsrfForm<RequestForm>,
) -> Result<Response, AppError> {
    let id = candidate(&auth.target)?;
    match check_request(&form.kind, &form.period, &form.reasons, form.linked()) {
        Ok(checked) => {
            let request = create(&state, &auth.actor, id, checked).await?;
            Ok(Redirect::to(&format!("/security-requests/{request}")).into_response())
        }
        Err(problems) => {
            let page = new_page(&state, &auth, form, problems).await?;
            crate::html::page(StatusCode::BAD_REQUEST, &page)
        }
    }
}

/// One line of a list of requests.
#[derive(Debug)]
pub(crate) struct MineRow {
    pub id: i64,
    pub reference: String,
    pub kind: &'static str,
    pub status: &'static str,
    pub decision: &'static str,
    pub created: String,
}

#[derive(Debug, Template)]
#[template(path = "security/mine.html")]
pub(crate) struct MinePage {
    section: &'static str,
    query: String,
    rows: Vec<MineRow>,
}

/// `GET /security-requests/mine`: the candidate's requests, newest first.
pub(crate) async fn mine(
    State(state): State<AppState>,
    auth: Authorized<RequestSecurityGuard>,
) -> Result<Response, AppError> {
    let id = candidate(&auth.target)?;
    let rows = state
        .store
        .security_requests(&SecurityFilter {
            candidate: Some(id),
            ..SecurityFilter::default()
        })
        .await?
        .into_iter()
        .map(|r| MineRow {
            id: r.id,
            reference: shield_domain::security::reference(r.id),
            kind: Kind::parse(&r.kind).map_or("Unknown", |k| k.label()),
            status: Status::parse(&r.status).map_or("Unknown", |s| s.label()),
            decision: match (r.status.as_str(), r.decision.as_deref()) {
                ("decided", Some(d)) => Outcome::parse(d).map_or("", |o| o.candidate_label()),
                _ => "",
            },
            created: when(r.created_at_ms),
        })
        .collect();
    let page = MinePage {
        section: "home",
        query: query_for(&auth),
        rows,
    };
    crate::html::page(StatusCode::OK, &page)
}
