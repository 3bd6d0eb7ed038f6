//! Lists of reports: the candidate's own, a force's queue ordered by deadline, the
//! coordinator's view of every open P1/P2 and anything escalated, and the search for an
//! offender across reports within what the policy allows.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use shield_domain::Role;
use shield_domain::policy::{self, Action, Resource};
use shield_domain::report::{Tier, identifiers};
use shield_store::{ReportFilter, ReportSummary};

use super::{OFFENDER_INDEX, due_words, when};
use crate::auth::guard::{Authorized, OwnRecord, Target};
use crate::auth::report_guard::ReportQueueGuard;
use crate::html::layout::FieldProblem;
use crate::{AppError, AppState};

#[derive(Debug)]
pub(crate) struct Row {
    pub id: i64,
    pub reference: String,
    pub candidate: String,
    pub constituency: String,
    pub category: &'static str,
    pub priority: &'static str,
    pub status: &'static str,
    pub escalated: bool,
    pub due: String,
    pub overdue: bool,
    pub owner: String,
    pub created: String,
}

pub(crate) fn rows(list: &[ReportSummary], now: i64) -> Vec<Row> {
    list.iter()
        .map(|r| Row {
            id: r.id,
            reference: r.reference.clone(),
            candidate: r.candidate_name.clone(),
            constituency: r.constituency_name.clone(),
            category: r.category.label(),
            priority: r.priority.label(),
            status: r.status.label(),
            escalated: r.tier != Tier::Lead,
            due: due_words(r.ack_due_at_ms, now),
            overdue: r.ack_due_at_ms.is_some_and(|d| d < now),
            owner: r.acknowledged_by_name.clone().unwrap_or_default(),
            created: when(r.created_at_ms),
        })
        .collect()
}

#[derive(Debug, Template)]
#[template(path = "reports/queue.html")]
struct QueuePage {
    section: &'static str,
    title: String,
    showing_all: bool,
    coordinator: bool,
    force: String,
    rows: Vec<Row>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct QueueQuery {
    #[serde(default)]
    force: Option<String>,
    #[serde(default)]
    all: Option<String>,
}

/// `/reports`: a force contact's queue (their force, or `?force=`), or the coordinator's view.
pub(crate) async fn queue(
    State(state): State<AppState>,
    auth: Authorized<ReportQueueGuard>,
    Query(q): Query<QueueQuery>,
) -> Result<Response, AppError> {
    let showing_all = q.all.is_some();
    let coordinator = auth.actor.role == Role::Coordinator;
    let (filter, title) = match &auth.target {
        Target::Force(f) => {
            let name = state
                .store
                .force_summaries(None)
                .await?
                .into_iter()
                .find(|s| &s.code == f)
                .map_or_else(|| f.to_string(), |s| s.force_name);
            (
                ReportFilter {
                    force: Some(f.clone()),
                    open_only: !showing_all,
                    ..ReportFilter::default()
                },
                format!("Reports for {name}"),
            )
        }
        _ => (
            ReportFilter {
                open_only: true,
                urgent_or_escalated: !showing_all,
                ..ReportFilter::default()
            },
            if showing_all {
                "All open reports".to_owned()
            } else {
                "Open P1 and P2 reports, and anything escalated".to_owned()
            },
        ),
    };
    let list = state.store.reports(&filter).await?;
    let page = QueuePage {
        section: "reports",
        title,
        showing_all,
        coordinator,
        force: q.force.unwrap_or_default(),
        rows: rows(&list, state.clock.now_ms()),
    };
    crate::html::page(StatusCode::OK, &page)
}

#[derive(Debug, Template)]
#[template(path = "reports/mine.html")]
struct MinePage {
    section: &'static str,
    rows: Vec<Row>,
}

/// `/reports/mine`: the candidate's own reports, open first.
pub(crate) async fn mine(
    State(state): State<AppState>,
    auth: Authorized<OwnRecord>,
) -> Result<Response, AppError> {
    let id = auth.actor.candidate.ok_or(AppError::Forbidden)?;
    let list = state
        .store
        .reports(&ReportFilter {
            candidate: Some(id),
            hide_silent: true,
            ..ReportFilter::default()
        })
        .await?;
    crate::html::page(
        StatusCode::OK,
        &MinePage {
            section: "reports",
            rows: rows(&list, state.clock.now_ms()),
        },
    )
}

#[derive(Debug, Template)]
#[template(path = "reports/search.html")]
struct SearchPage {
    section: &'static str,
    offender: String,
    searched: bool,
    rows: Vec<Row>,
    problems: Vec<FieldProblem>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    offender: String,
}

/// `/reports/search?offender=…`: reports naming the same offender identifier (handle, name,
/// vehicle), matched by blind index, showing only reports this person may handle.
pub(crate) async fn search(
    State(state): State<AppState>,
    auth: Authorized<ReportQueueGuard>,
    Query(q): Query<SearchQuery>,
) -> Result<Response, AppError> {
    let actor = &auth.actor;
    let offender = q.offender.trim().to_owned();
    let mut problems = Vec::new();
    let mut found = Vec::new();
    let searched = !offender.is_empty();
    if searched {
        let ids = identifiers(&offender);
        if ids.is_empty() {
            problems.push(FieldProblem::new(
                "offender",
                "Enter a handle, name or vehicle registration of at least 3 characters",
            ));
        } else {
            let tokens: Vec<Vec<u8>> = ids
                .iter()
                .flat_map(|i| shield_crypto::blind_index_all(&state.keys, OFFENDER_INDEX, i))
                .collect();
            let now = state.clock.now_ms();
            for r in state.store.reports_by_offender(&tokens).await? {
                let Some((candidate, forces)) = state.store.report_scope(r.id).await? else {
                    continue;
                };
                let resource = Resource::Candidate {
                    id: candidate,
                    forces: &forces,
                };
                if policy::can(actor, Action::HandleReport, &resource, now).is_allowed() {
                    found.push(r);
                }
            }
        }
    }
    let page = SearchPage {
        section: "reports",
        offender,
        searched,
        rows: rows(&found, state.clock.now_ms()),
        problems,
    };
    crate::html::page(
        if page.problems.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        },
        &page,
    )
}
