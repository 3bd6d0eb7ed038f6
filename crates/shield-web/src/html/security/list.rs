//! The police's and coordinators' view of requests: the list with age, status, force and
//! rating (`/security-requests`, filterable by force and status), the CSV export and the
//! consistency view (coordinators only).
//!
//! The CSV holds references, times, keys and ratings, never names or written text: a file
//! that leaves the service should say nothing about anyone's risk in words.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shield_domain::Role;
use shield_domain::security::{Consistency, Kind, Outcome, Rating, Status};
use shield_store::{SecurityFilter, SecurityRequestRecord};

use crate::auth::guard::{Authorized, Target};
use crate::auth::security_guard::{SecurityConsistencyGuard, SecurityListGuard};
use crate::html::layout::SelectOption;
use crate::html::reports::due_words;
use crate::{AppError, AppState};

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    #[serde(default)]
    pub force: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

/// The filter a guard's target and the query make. An unknown status is a 400.
pub(crate) fn filter(target: &Target, q: &ListQuery) -> Result<SecurityFilter, AppError> {
    let force = match target {
        Target::Force(f) => Some(f.clone()),
        Target::Service => None,
        _ => return Err(AppError::Forbidden),
    };
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            Status::parse(s)
                .map_err(|e| AppError::bad_request("status", e.message))?
                .key()
                .to_owned(),
        ),
        None => None,
    };
    Ok(SecurityFilter {
        force,
        candidate: None,
        status,
    })
}

/// Age as people say it: "3 days", "5 hours".
pub(crate) fn age(created_ms: i64, now_ms: i64) -> String {
    let hours = (now_ms - created_ms).max(0) / 3_600_000;
    match hours {
        0 => "under an hour".to_owned(),
        1 => "1 hour".to_owned(),
        h if h < 48 => format!("{h} hours"),
        h => format!("{} days", h / 24),
    }
}

#[derive(Debug)]
pub(crate) struct Row {
    pub id: i64,
    pub reference: String,
    pub candidate: String,
    pub force: String,
    pub kind: &'static str,
    pub status: &'static str,
    pub rating: &'static str,
    pub decision: &'static str,
    pub age: String,
    pub due: String,
    pub urgent: bool,
}

fn row(r: &SecurityRequestRecord, now_ms: i64) -> Row {
    Row {
        id: r.id,
        reference: shield_domain::security::reference(r.id),
        candidate: r.candidate_name.clone(),
        force: r.force_name.clone(),
        kind: Kind::parse(&r.kind).map_or("", |k| k.label()),
        status: Status::parse(&r.status).map_or("", |s| s.label()),
        rating: r
            .rating
            .as_deref()
            .and_then(Rating::parse)
            .map_or("", |x| x.label()),
        decision: match (r.status.as_str(), r.decision.as_deref()) {
            ("decided", Some(d)) => Outcome::parse(d).map_or("", |o| o.label()),
            _ => "",
        },
        age: age(r.created_at_ms, now_ms),
        due: due_words(r.due_at_ms, now_ms),
        urgent: r.urgent,
    }
}

#[derive(Debug, Template)]
#[template(path = "security/list.html")]
pub(crate) struct ListPage {
    section: &'static str,
    coordinator: bool,
    forces: Vec<SelectOption>,
    statuses: Vec<SelectOption>,
    rows: Vec<Row>,
}

/// `GET /security-requests`.
pub(crate) async fn index(
    State(state): State<AppState>,
    auth: Authorized<SecurityListGuard>,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let filter = filter(&auth.target, &q)?;
    let now = state.clock.now_ms();
    let rows = state
        .store
        .security_requests(&filter)
        .await?
        .iter()
        .map(|r| row(r, now))
        .collect();
    let coordinator = auth.actor.role == Role::Coordinator;
    let chosen = filter
        .force
        .as_ref()
        .map(|f| f.to_string())
        .unwrap_or_default();
    let forces = if coordinator {
        state
            .store
            .force_summaries(None)
            .await?
            .into_iter()
            .map(|f| SelectOption {
                selected: f.code.to_string() == chosen,
                value: f.code.to_string(),
                label: f.force_name,
            })
            .collect()
    } else {
        auth.actor
            .forces
            .iter()
            .map(|f| SelectOption {
                selected: f.to_string() == chosen,
                value: f.to_string(),
                label: f.to_string(),
            })
            .collect()
    };
    let statuses = Status::ALL
        .iter()
        .map(|s| SelectOption {
            value: s.key().to_owned(),
            label: s.label().to_owned(),
            selected: filter.status.as_deref() == Some(s.key()),
        })
        .collect();
    let page = ListPage {
        section: "home",
        coordinator,
        forces,
        statuses,
        rows,
    };
    crate::html::page(StatusCode::OK, &page)
}

/// The CSV export as bytes: one header line, one line per request.
pub(crate) fn csv_bytes(rows: &[SecurityRequestRecord], now_ms: i64) -> Result<Vec<u8>, AppError> {
    let internal = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "reference",
        "created_utc",
        "age_hours",
        "force_code",
        "force",
        "kind",
        "status",
        "linked_to_p1",
        "rating",
        "recommendation",
        "measures",
        "decision",
        "review_date",
        "reconsiderations",
    ])
    .map_err(internal)?;
    let date = |ms: Option<i64>, fmt: &str| {
        ms.and_then(chrono::DateTime::from_timestamp_millis)
            .map(|t| t.format(fmt).to_string())
            .unwrap_or_default()
    };
    for r in rows {
        let decided = r.status == Status::Decided.key();
        w.write_record([
            shield_domain::security::reference(r.id),
            date(Some(r.created_at_ms), "%Y-%m-%dT%H:%M:%SZ"),
            ((now_ms - r.created_at_ms).max(0) / 3_600_000).to_string(),
            r.owner_force.clone(),
            r.force_name.clone(),
            r.kind.clone(),
            r.status.clone(),
            if r.urgent { "yes" } else { "no" }.to_owned(),
            r.rating.clone().unwrap_or_default(),
            r.recommendation.clone().unwrap_or_default(),
            r.measure_keys().join(" "),
            if decided {
                r.decision.clone().unwrap_or_default()
            } else {
                String::new()
            },
            if decided {
                date(r.review_at_ms, "%Y-%m-%d")
            } else {
                String::new()
            },
            r.reconsiderations.to_string(),
        ])
        .map_err(internal)?;
    }
    w.into_inner()
        .map_err(|e| AppError::Internal(format!("csv: {e}")))
}

/// `GET /security-requests/export.csv`: every request (or `?force=`/`?status=`), coordinators.
pub(crate) async fn export(
    State(state): State<AppState>,
    _auth: Authorized<SecurityConsistencyGuard>,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let target = match q.force.as_deref().filter(|f| !f.is_empty()) {
        Some(code) => Target::Force(
            shield_domain::ForceCode::parse(code)
                .map_err(|e| AppError::bad_request("force", e.message))?,
        ),
        None => Target::Service,
    };
    let rows = state.store.security_requests(&filter(&target, &q)?).await?;
    let body = csv_bytes(&rows, state.clock.now_ms())?;
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"security-requests.csv\""),
    );
    Ok(response)
}

/// The consistency counts of every decided request.
pub(crate) async fn consistency_of(state: &AppState) -> Result<Consistency, AppError> {
    let rows = state
        .store
        .security_requests(&SecurityFilter {
            status: Some(Status::Decided.key().to_owned()),
            ..SecurityFilter::default()
        })
        .await?;
    let decided: Vec<(String, Rating, Outcome)> = rows
        .iter()
        .filter_map(|r| {
            let rating = Rating::parse(r.rating.as_deref()?)?;
            let outcome = Outcome::parse(r.decision.as_deref()?).ok()?;
            Some((r.force_name.clone(), rating, outcome))
        })
        .collect();
    Ok(Consistency::count(
        decided.iter().map(|(f, r, o)| (f.as_str(), *r, *o)),
    ))
}

#[derive(Debug)]
pub(crate) struct CountRow {
    pub label: String,
    pub total: u64,
    pub approve: String,
    pub part: String,
    pub decline: String,
}

fn count_row(label: String, c: &shield_domain::security::DecisionCounts) -> CountRow {
    let cell = |n: u64, o: Outcome| format!("{n} ({}%)", c.percent(o));
    CountRow {
        label,
        total: c.total(),
        approve: cell(c.approve, Outcome::Approve),
        part: cell(c.approve_in_part, Outcome::ApproveInPart),
        decline: cell(c.decline, Outcome::Decline),
    }
}

#[derive(Debug, Template)]
#[template(path = "security/consistency.html")]
pub(crate) struct ConsistencyPage {
    section: &'static str,
    total: CountRow,
    by_rating: Vec<CountRow>,
    by_force: Vec<CountRow>,
    /// (rating label, rows by force) for each rating with decisions.
    by_rating_and_force: Vec<(String, Vec<CountRow>)>,
}

/// `GET /security-requests/consistency`: decisions by rating and by force.
pub(crate) async fn consistency(
    State(state): State<AppState>,
    _auth: Authorized<SecurityConsistencyGuard>,
) -> Result<Response, AppError> {
    let c = consistency_of(&state).await?;
    let label = |key: &str| Rating::parse(key).map_or(key.to_owned(), |r| r.label().to_owned());
    let mut by_rating_and_force: Vec<(String, Vec<CountRow>)> = Vec::new();
    for (rating, row) in &c.by_rating_and_force {
        let l = label(rating);
        let r = count_row(row.key.clone(), &row.counts);
        match by_rating_and_force.last_mut() {
            Some((last, rows)) if *last == l => rows.push(r),
            _ => by_rating_and_force.push((l, vec![r])),
        }
    }
    let page = ConsistencyPage {
        section: "home",
        total: count_row("All decisions".into(), &c.total),
        by_rating: c
            .by_rating
            .iter()
            .map(|r| count_row(label(&r.key), &r.counts))
            .collect(),
        by_force: c
            .by_force
            .iter()
            .map(|r| count_row(r.key.clone(), &r.counts))
            .collect(),
        by_rating_and_force,
    };
    crate::html::page(StatusCode::OK, &page)
}
