//! Reports of concern: the form (journey 4), the report page with its timeline and secure
//! messages, the police's actions, the queues and evidence downloads.
//!
//! Every handler takes an [`Authorized`](crate::auth::guard::Authorized) guard from
//! `crate::auth::report_guard`, so the access policy has judged the report's candidate and
//! forces before any of it is read. Report content is sealed at rest (details, messages, notes,
//! evidence) and never logged; logs and audit events carry report ids.

pub(crate) mod actions;
pub(crate) mod evidence;
pub(crate) mod list;
pub(crate) mod new;
pub(crate) mod show;

pub(crate) use crate::sealing::KeySealer;
use serde::{Deserialize, Serialize};
use shield_crypto::Aad;
use shield_domain::FieldError;
use shield_domain::audit::{AuditAction, AuditActor, AuditEvent, AuditOutcome, AuditSubject};
use shield_domain::policy::Actor;

use crate::auth::guard::chrono_now;
use crate::{AppError, AppState};

/// The candidate a delegate is acting for on a page that can also be the candidate's own
/// (`?candidate=ID` on the report form and the message scanner), so the page can name them.
#[derive(Debug, Clone)]
pub(crate) struct OnBehalf {
    pub id: i64,
    pub name: String,
}

impl OnBehalf {
    /// `None` when the signed-in person is the candidate themselves.
    pub(crate) async fn of(
        state: &AppState,
        target: &crate::auth::guard::Target,
        own: Option<shield_domain::CandidateId>,
    ) -> Result<Option<OnBehalf>, AppError> {
        let crate::auth::guard::Target::Candidate { id, .. } = target else {
            return Ok(None);
        };
        if Some(*id) == own {
            return Ok(None);
        }
        let overview = state
            .store
            .candidate_overview(*id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(Some(OnBehalf {
            id: id.0,
            name: overview.name,
        }))
    }
}

/// Opens a value sealed by [`KeySealer`](crate::sealing::KeySealer).
pub(crate) fn open_text(
    state: &AppState,
    table: &'static str,
    column: &'static str,
    row_id: i64,
    blob: &[u8],
) -> Result<String, AppError> {
    shield_crypto::open_string(
        &state.keys,
        Aad::new(table, column, &row_id.to_string()),
        blob,
    )
    .map(|s| s.to_string())
    .map_err(|e| AppError::Internal(format!("{table}.{column} {row_id}: {e}")))
}

pub(crate) fn open_bytes(
    state: &AppState,
    table: &'static str,
    column: &'static str,
    row_id: i64,
    blob: &[u8],
) -> Result<Vec<u8>, AppError> {
    shield_crypto::open(
        &state.keys,
        Aad::new(table, column, &row_id.to_string()),
        blob,
    )
    .map(|s| s.to_vec())
    .map_err(|e| AppError::Internal(format!("{table}.{column} {row_id}: {e}")))
}

/// What the candidate told us, sealed as one value (`reports.details`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct ReportDetails {
    pub what: String,
    #[serde(default)]
    pub when: String,
    #[serde(default, rename = "where")]
    pub place: String,
    #[serde(default)]
    pub who: String,
    #[serde(default)]
    pub pasted: String,
    #[serde(default)]
    pub links: Vec<String>,
}

impl ReportDetails {
    /// Everything triage reads.
    pub fn triage_text(&self) -> String {
        [&self.what, &self.place, &self.who, &self.pasted]
            .map(String::as_str)
            .join("\n")
    }
}

pub(crate) fn open_details(
    state: &AppState,
    id: i64,
    sealed: &[u8],
) -> Result<ReportDetails, AppError> {
    let json = open_text(state, "reports", "details", id, sealed)?;
    serde_json::from_str(&json).map_err(|e| AppError::Internal(format!("report {id} details: {e}")))
}

/// The audit event of a report action by `actor`; the store adds the report as subject when
/// it does not exist yet.
pub(crate) fn audit_event(
    state: &AppState,
    actor: &Actor,
    action: &str,
    report: Option<i64>,
) -> Result<AuditEvent, AppError> {
    let internal = |e: FieldError| AppError::Internal(e.message);
    let mut event = AuditEvent::new(
        AuditAction::parse(action).map_err(internal)?,
        AuditOutcome::Success,
        chrono_now(state),
    )
    .with_actor(AuditActor::new(actor.user_id.0, actor.role.key()).map_err(internal)?);
    if let Some(id) = report {
        event = event.with_subject(AuditSubject::new("report", &id.to_string()).map_err(internal)?);
    }
    Ok(event)
}

/// The blind-index purpose for offender identifiers.
pub(crate) const OFFENDER_INDEX: &str = "offender";

/// "5 minutes ago"-style wording is avoided: times are shown as clock times, UTC, which read
/// the same on every device and in a court bundle.
pub(crate) fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%-d %b %Y %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// Time left until a deadline, for queues: "overdue 3 min" or "12 min left".
pub(crate) fn due_words(due_ms: Option<i64>, now_ms: i64) -> String {
    let Some(due) = due_ms else {
        return String::new();
    };
    let mins = (due - now_ms) / 60_000;
    let span = |m: i64| {
        if m.abs() >= 120 {
            format!("{} h", m.abs() / 60)
        } else {
            format!("{} min", m.abs())
        }
    };
    if due < now_ms {
        format!("overdue by {}", span(mins))
    } else {
        format!("{} left", span(mins))
    }
}
