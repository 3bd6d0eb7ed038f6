//! The report page: what was reported, triage and its reasons, the timeline of every change,
//! notification and escalation (with delivery status), secure messages, internal police notes
//! (police and coordinators only), evidence, linked reports, and the police's actions.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use shield_domain::policy::{self, Action};
use shield_domain::report::{Outcome, Priority, Status};
use shield_domain::{Role, evidence::EvidenceKind};
use shield_store::{OutboxStatus, ReportEvent, ReportRecord, ReportSummary};

use super::{ReportDetails, open_details, open_text, when};
use crate::auth::guard::Authorized;
use crate::auth::report_guard::ViewReportGuard;
use crate::html::layout::FieldProblem;
use crate::{AppError, AppState};

#[derive(Debug)]
pub(crate) struct TimelineLine {
    pub when: String,
    pub text: String,
}

#[derive(Debug)]
pub(crate) struct MessageLine {
    pub when: String,
    pub who: String,
    pub internal: bool,
    pub body: String,
}

#[derive(Debug)]
pub(crate) struct EvidenceLine {
    pub id: i64,
    pub name: String,
    pub label: &'static str,
    pub size: String,
    pub sha256: String,
}

#[derive(Debug)]
pub(crate) struct Choice {
    pub value: &'static str,
    pub label: &'static str,
}

#[derive(Debug, Template)]
#[template(path = "reports/show.html")]
pub(crate) struct ReportPage {
    pub section: &'static str,
    pub csrf: String,
    pub sent: bool,
    pub r: ReportRecord,
    pub d: ReportDetails,
    pub category: &'static str,
    pub priority_meaning: &'static str,
    pub status_label: &'static str,
    pub outcome: Option<&'static str>,
    pub created: String,
    pub due: String,
    pub acknowledged: String,
    pub timeline: Vec<TimelineLine>,
    pub messages: Vec<MessageLine>,
    pub evidence: Vec<EvidenceLine>,
    pub linked: Vec<ReportSummary>,
    pub can_handle: bool,
    pub can_message: bool,
    pub is_new: bool,
    pub is_closed: bool,
    pub moves: Vec<Choice>,
    pub outcomes: Vec<Choice>,
    pub priorities: Vec<Choice>,
    pub problems: Vec<FieldProblem>,
}

impl ReportPage {
    fn problem_for(&self, field: &str) -> Option<&str> {
        crate::html::layout::problem_for(&self.problems, field)
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ShowQuery {
    #[serde(default)]
    sent: Option<String>,
}

fn size_words(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else if bytes >= 1024 {
        format!("{} KB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

fn audience(template: &str) -> &'static str {
    match template {
        "report_needs_attention" => "Email to the lead police contact",
        "report_informed" => "Email to the other force's lead contact",
        "report_escalated" => "Escalation email",
        "report_update" => "Email to the candidate",
        "report_message" => "New-message email",
        t if t.starts_with("report.") => "Signed webhook to the force's system",
        _ => "Notification",
    }
}

async fn timeline_line(
    state: &AppState,
    e: &ReportEvent,
    police: bool,
) -> Result<Option<TimelineLine>, AppError> {
    let who = e.actor_name.clone().unwrap_or_else(|| "The service".into());
    let get = |k: &str| {
        e.detail
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_owned()
    };
    let int = |k: &str| e.detail.get(k).and_then(serde_json::Value::as_i64);
    let text = match e.kind.as_str() {
        "created" => format!(
            "Report made by {who}; triage set {}",
            int("priority")
                .and_then(|p| Priority::from_number(p).ok())
                .map_or("a priority", Priority::label)
        ),
        "notified" => {
            let status = match int("outbox") {
                Some(id) => match state.store.outbox_status(id).await? {
                    Some(d) => match d.status {
                        OutboxStatus::Sent => "delivered".to_owned(),
                        OutboxStatus::Pending if d.attempts == 0 => "queued".to_owned(),
                        OutboxStatus::Pending => {
                            format!("retrying after {} failed attempt(s)", d.attempts)
                        }
                        OutboxStatus::Failed => "NOT delivered".to_owned(),
                    },
                    None => "unknown".to_owned(),
                },
                None => "unknown".to_owned(),
            };
            format!("{}: {status}", audience(&get("template")))
        }
        "escalated" => format!(
            "Not acknowledged in time: escalated to the {}",
            shield_domain::report::Tier::parse(&get("tier")).map_or("next tier", |t| t.label())
        ),
        "acknowledged" => format!("Acknowledged by {who}, who now owns this report"),
        "status" => {
            let to = Status::parse(&get("to")).map_or("?", Status::label);
            match Outcome::parse(&get("outcome")) {
                Ok(o) => format!("{who} changed the status to {to}: {}", o.label()),
                Err(_) => format!("{who} changed the status to {to}"),
            }
        }
        "priority" => {
            let from = int("from").and_then(|p| Priority::from_number(p).ok());
            let to = int("to").and_then(|p| Priority::from_number(p).ok());
            let reason = match &e.sealed_note {
                Some(blob) => open_text(state, "report_events", "note", e.id, blob)?,
                None => String::new(),
            };
            format!(
                "{who} changed the priority from {} to {}: {reason}",
                from.map_or("?", Priority::label),
                to.map_or("?", Priority::label)
            )
        }
        "message"
            if e.detail
                .get("internal")
                .and_then(serde_json::Value::as_bool)
                == Some(true) =>
        {
            if !police {
                return Ok(None);
            }
            format!("{who} added an internal note")
        }
        "message" => format!("{who} sent a message"),
        "note" if !police => return Ok(None),
        "note" => format!("{who} added an internal note"),
        "linked" => format!(
            "{who} linked report {}",
            shield_domain::report::reference(int("report").unwrap_or(0))
        ),
        "evidence" => "Evidence stored (encrypted; SHA-256 recorded)".to_owned(),
        other => other.replace('_', " "),
    };
    Ok(Some(TimelineLine {
        when: when(e.at_ms),
        text,
    }))
}

/// Who is looking, as the guards found them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    pub actor: &'a shield_domain::policy::Actor,
    pub csrf: &'a str,
    pub target: &'a crate::auth::guard::Target,
}

impl<'a, G> From<&'a Authorized<G>> for View<'a> {
    fn from(auth: &'a Authorized<G>) -> Self {
        Self {
            actor: &auth.actor,
            csrf: &auth.session.record.csrf_token,
            target: &auth.target,
        }
    }
}

/// Builds the page for `id` as `auth` sees it. Shared with the action handlers, which show
/// the page again with errors.
pub(crate) async fn build(
    state: &AppState,
    view: View<'_>,
    id: i64,
    problems: Vec<FieldProblem>,
    sent: bool,
) -> Result<ReportPage, AppError> {
    let r = state.store.report(id).await?.ok_or(AppError::NotFound)?;
    let now = state.clock.now_ms();
    let resource = view.target.as_resource();
    let can_handle = policy::can(view.actor, Action::HandleReport, &resource, now).is_allowed();
    let police = policy::can(view.actor, Action::ViewPoliceNotes, &resource, now).is_allowed();
    let can_message = policy::can(view.actor, Action::MessageOnReport, &resource, now).is_allowed();
    let d = open_details(state, id, &r.sealed_details)?;
    let mut timeline = Vec::new();
    for e in state.store.report_timeline(id).await? {
        if let Some(line) = timeline_line(state, &e, police).await? {
            timeline.push(line);
        }
    }
    let mut messages = Vec::new();
    for m in state.store.report_messages(id, police).await? {
        let who = match m.author_role {
            Role::Candidate => format!("{} (candidate)", m.author_name),
            Role::Delegate => format!("{} (for the candidate)", m.author_name),
            Role::ForceContact => format!("{} (police)", m.author_name),
            Role::Coordinator => format!("{} (coordination team)", m.author_name),
            Role::Admin => m.author_name.clone(),
        };
        messages.push(MessageLine {
            when: when(m.created_at_ms),
            who,
            internal: m.internal,
            body: open_text(state, "report_messages", "body", m.id, &m.sealed_body)?,
        });
    }
    let mut evidence = Vec::new();
    for e in state.store.report_evidence(id).await? {
        evidence.push(EvidenceLine {
            id: e.id,
            name: open_text(state, "evidence", "filename", e.id, &e.sealed_filename)?,
            label: EvidenceKind::parse(&e.kind).map_or("File", EvidenceKind::label),
            size: size_words(e.size),
            sha256: e.sha256,
        });
    }
    let linked = state.store.linked_reports(id).await?;
    let moves = match r.status {
        Status::Acknowledged => vec![
            Choice {
                value: "in_progress",
                label: "In progress",
            },
            Choice {
                value: "closed",
                label: "Closed",
            },
        ],
        Status::InProgress => vec![Choice {
            value: "closed",
            label: "Closed",
        }],
        Status::Closed => vec![Choice {
            value: "in_progress",
            label: "Reopen (in progress)",
        }],
        Status::New => Vec::new(),
    };
    Ok(ReportPage {
        section: "reports",
        csrf: view.csrf.to_owned(),
        sent,
        category: r.category.label(),
        priority_meaning: r.priority.meaning(),
        status_label: r.status.label(),
        outcome: r.outcome.map(Outcome::label),
        created: when(r.created_at_ms),
        due: r
            .ack_due_at_ms
            .map(|due| format!("{} ({})", when(due), super::due_words(Some(due), now)))
            .unwrap_or_default(),
        acknowledged: match (&r.acknowledged_by_name, r.acknowledged_at_ms) {
            (Some(name), Some(at)) => format!("{name}, {}", when(at)),
            _ => String::new(),
        },
        is_new: r.status == Status::New,
        is_closed: r.status == Status::Closed,
        d,
        timeline,
        messages,
        evidence,
        linked,
        can_handle,
        can_message,
        moves,
        outcomes: Outcome::ALL
            .iter()
            .map(|o| Choice {
                value: o.key(),
                label: o.label(),
            })
            .collect(),
        priorities: Priority::ALL
            .iter()
            .map(|p| Choice {
                value: p.label(),
                label: p.label(),
            })
            .collect(),
        problems,
        r,
    })
}

pub(crate) async fn show(
    State(state): State<AppState>,
    auth: Authorized<ViewReportGuard>,
    Path(id): Path<i64>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, AppError> {
    let page = build(&state, View::from(&auth), id, Vec::new(), q.sent.is_some()).await?;
    crate::html::page(StatusCode::OK, &page)
}
