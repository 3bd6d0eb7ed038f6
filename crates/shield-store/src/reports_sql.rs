//! Rows as `reports_impl!` reads them, the statements that differ by backend, and the pure
//! helpers the macro calls (turning rows into [`crate::reports`] values, building timeline
//! details and notification parameters, ordering lists).

use std::collections::BTreeSet;

use serde_json::{Map, Value};
use shield_domain::report::{Category, Outcome, Priority, Status, Tier};
use shield_domain::{CandidateId, FieldError, ForceCode, Role, UserId};

use crate::StoreError;
use crate::outbox::{NewOutboxMessage, OutboxParams};
use crate::reports::{
    EvidenceMeta, MessageRecord, ReportEvent, ReportRecord, ReportSummary, StatusChange,
};

/// SQLite's pick of due deadlines: `$1` now, `$2` limit. Run inside `BEGIN IMMEDIATE`, so no
/// other writer (firer or acknowledger) runs between the pick and the firing.
pub(crate) const SQLITE_DUE_DEADLINES: &str = "SELECT d.id, d.report_id, d.tier
    FROM report_deadlines d JOIN reports r ON r.id = d.report_id
    WHERE d.fired_at_ms IS NULL AND d.cancelled_at_ms IS NULL AND d.due_at_ms <= $1
    ORDER BY d.due_at_ms, d.id LIMIT $2";

/// PostgreSQL's pick: the deadline and its report are locked together, and rows another
/// firer (or an acknowledger, a priority change…) holds are skipped rather than waited for, so
/// a firer never waits while holding a lock: no deadlock with an acknowledger, which locks the
/// report first. `NO KEY UPDATE` leaves the report's key lock free for foreign-key checks of
/// rows being added to it (messages, timeline). A row fired and committed meanwhile fails the
/// re-checked WHERE.
pub(crate) const POSTGRES_DUE_DEADLINES: &str = "SELECT d.id, d.report_id, d.tier
    FROM report_deadlines d JOIN reports r ON r.id = d.report_id
    WHERE d.fired_at_ms IS NULL AND d.cancelled_at_ms IS NULL AND d.due_at_ms <= $1
    ORDER BY d.due_at_ms, d.id LIMIT $2
    FOR NO KEY UPDATE SKIP LOCKED";

/// The columns of a [`ReportSummary`]; callers append `WHERE …`.
pub(crate) const SUMMARY_SELECT: &str = "SELECT r.id, r.candidate_id, c.name AS candidate_name,
        k.name AS constituency_name, r.owner_force, r.category, r.priority, r.status, r.tier,
        (SELECT MIN(d.due_at_ms) FROM report_deadlines d
         WHERE d.report_id = r.id AND r.status = 'new'
           AND d.fired_at_ms IS NULL AND d.cancelled_at_ms IS NULL) AS ack_due_at_ms,
        a.display_name AS acknowledged_by_name, r.created_at_ms, r.updated_at_ms
     FROM reports r
     JOIN candidates c ON c.id = r.candidate_id
     JOIN constituencies k ON k.code = c.constituency_code
     LEFT JOIN users a ON a.id = r.acknowledged_by";

/// The columns of a [`ReportRecord`] but its informed forces; callers append `WHERE …`.
pub(crate) const REPORT_SELECT: &str = "SELECT r.id, r.candidate_id, c.name AS candidate_name,
        k.name AS constituency_name, r.owner_force, r.reported_by, r.category, r.happening_now,
        r.priority, r.reasons, r.status, r.outcome, r.tier,
        (SELECT MIN(d.due_at_ms) FROM report_deadlines d
         WHERE d.report_id = r.id AND r.status = 'new'
           AND d.fired_at_ms IS NULL AND d.cancelled_at_ms IS NULL) AS ack_due_at_ms,
        r.acknowledged_by, a.display_name AS acknowledged_by_name, r.acknowledged_at_ms,
        r.created_at_ms, r.updated_at_ms, r.details, r.silent
     FROM reports r
     JOIN candidates c ON c.id = r.candidate_id
     JOIN constituencies k ON k.code = c.constituency_code
     LEFT JOIN users a ON a.id = r.acknowledged_by";

pub(crate) fn field(e: FieldError) -> StoreError {
    StoreError::Corrupt(e.message)
}

fn corrupt(what: &str, id: i64, value: &str) -> StoreError {
    StoreError::Corrupt(format!("report {id}: unknown {what} {value:?}"))
}

fn priority(id: i64, n: i32) -> Result<Priority, StoreError> {
    Priority::from_number(i64::from(n)).map_err(|_| corrupt("priority", id, &n.to_string()))
}

pub(crate) fn status(id: i64, value: &str) -> Result<Status, StoreError> {
    Status::parse(value).map_err(|_| corrupt("status", id, value))
}

pub(crate) fn tier(id: i64, value: &str) -> Result<Tier, StoreError> {
    Tier::parse(value).ok_or_else(|| corrupt("tier", id, value))
}

fn category(id: i64, value: &str) -> Result<Category, StoreError> {
    Category::parse(value).map_err(|_| corrupt("category", id, value))
}

fn outcome(id: i64, value: Option<&str>) -> Result<Option<Outcome>, StoreError> {
    value
        .map(|v| Outcome::parse(v).map_err(|_| corrupt("outcome", id, v)))
        .transpose()
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SummaryRow {
    pub id: i64,
    pub candidate_id: i64,
    pub candidate_name: String,
    pub constituency_name: String,
    pub owner_force: String,
    pub category: String,
    pub priority: i32,
    pub status: String,
    pub tier: String,
    pub ack_due_at_ms: Option<i64>,
    pub acknowledged_by_name: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl SummaryRow {
    pub(crate) fn into_summary(self) -> Result<ReportSummary, StoreError> {
        let id = self.id;
        Ok(ReportSummary {
            id,
            reference: shield_domain::report::reference(id),
            candidate_id: CandidateId(self.candidate_id),
            candidate_name: self.candidate_name,
            constituency_name: self.constituency_name,
            owner_force: crate::records::force_code(&self.owner_force)?,
            category: category(id, &self.category)?,
            priority: priority(id, self.priority)?,
            status: status(id, &self.status)?,
            tier: tier(id, &self.tier)?,
            ack_due_at_ms: self.ack_due_at_ms,
            acknowledged_by_name: self.acknowledged_by_name,
            created_at_ms: self.created_at_ms,
            updated_at_ms: self.updated_at_ms,
        })
    }
}

/// Open reports first; among them the earliest live deadline first (none last), then the most
/// urgent, then the oldest. Sorted here so both backends agree.
pub(crate) fn sort_summaries(rows: Vec<SummaryRow>) -> Result<Vec<ReportSummary>, StoreError> {
    let mut out = rows
        .into_iter()
        .map(SummaryRow::into_summary)
        .collect::<Result<Vec<_>, _>>()?;
    out.sort_by_key(|r| {
        (
            !r.status.is_open(),
            r.ack_due_at_ms.is_none(),
            r.ack_due_at_ms,
            r.priority,
            r.created_at_ms,
            r.id,
        )
    });
    Ok(out)
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ReportRow {
    pub id: i64,
    pub candidate_id: i64,
    pub candidate_name: String,
    pub constituency_name: String,
    pub owner_force: String,
    pub reported_by: i64,
    pub category: String,
    pub happening_now: bool,
    pub priority: i32,
    pub reasons: String,
    pub status: String,
    pub outcome: Option<String>,
    pub tier: String,
    pub ack_due_at_ms: Option<i64>,
    pub acknowledged_by: Option<i64>,
    pub acknowledged_by_name: Option<String>,
    pub acknowledged_at_ms: Option<i64>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub details: Vec<u8>,
    pub silent: bool,
}

impl ReportRow {
    /// `forces` are the report's `(force_code, is_owner)` rows.
    pub(crate) fn into_record(
        self,
        forces: Vec<(String, bool)>,
    ) -> Result<ReportRecord, StoreError> {
        let id = self.id;
        let reasons: Vec<String> = serde_json::from_str(&self.reasons)
            .map_err(|_| StoreError::Corrupt(format!("report {id}: reasons are not a list")))?;
        let mut informed = forces
            .into_iter()
            .filter(|(_, owner)| !owner)
            .map(|(f, _)| crate::records::force_code(&f))
            .collect::<Result<Vec<_>, _>>()?;
        informed.sort();
        Ok(ReportRecord {
            id,
            reference: shield_domain::report::reference(id),
            candidate_id: CandidateId(self.candidate_id),
            candidate_name: self.candidate_name,
            constituency_name: self.constituency_name,
            owner_force: crate::records::force_code(&self.owner_force)?,
            informed_forces: informed,
            reported_by: UserId(self.reported_by),
            category: category(id, &self.category)?,
            happening_now: self.happening_now,
            priority: priority(id, self.priority)?,
            reasons,
            status: status(id, &self.status)?,
            outcome: outcome(id, self.outcome.as_deref())?,
            tier: tier(id, &self.tier)?,
            ack_due_at_ms: self.ack_due_at_ms,
            acknowledged_by: self.acknowledged_by.map(UserId),
            acknowledged_by_name: self.acknowledged_by_name,
            acknowledged_at_ms: self.acknowledged_at_ms,
            created_at_ms: self.created_at_ms,
            updated_at_ms: self.updated_at_ms,
            sealed_details: self.details,
            silent: self.silent,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct EventRow {
    pub id: i64,
    pub at_ms: i64,
    pub actor_user_id: Option<i64>,
    pub actor_name: Option<String>,
    pub kind: String,
    pub detail: String,
    pub note: Option<Vec<u8>>,
}

impl EventRow {
    pub(crate) fn into_event(self) -> Result<ReportEvent, StoreError> {
        let Ok(Value::Object(detail)) = serde_json::from_str::<Value>(&self.detail) else {
            return Err(StoreError::Corrupt(format!(
                "report event {}: detail is not a JSON object",
                self.id
            )));
        };
        Ok(ReportEvent {
            id: self.id,
            at_ms: self.at_ms,
            actor: self.actor_user_id.map(UserId),
            actor_name: self.actor_name,
            kind: self.kind,
            detail,
            sealed_note: self.note,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct MessageRow {
    pub id: i64,
    pub author_user_id: i64,
    pub author_name: String,
    pub author_role: String,
    pub internal: bool,
    pub created_at_ms: i64,
    pub body: Vec<u8>,
}

impl MessageRow {
    pub(crate) fn into_message(self) -> Result<MessageRecord, StoreError> {
        Ok(MessageRecord {
            id: self.id,
            author: UserId(self.author_user_id),
            author_name: self.author_name,
            author_role: Role::parse(&self.author_role).map_err(field)?,
            internal: self.internal,
            created_at_ms: self.created_at_ms,
            sealed_body: self.body,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct EvidenceRow {
    pub id: i64,
    pub report_id: i64,
    pub kind: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: i64,
    pub created_at_ms: i64,
    pub filename: Vec<u8>,
}

impl From<EvidenceRow> for EvidenceMeta {
    fn from(r: EvidenceRow) -> Self {
        Self {
            id: r.id,
            report_id: r.report_id,
            kind: r.kind,
            size: r.size,
            sha256: r.sha256,
            uploaded_by: UserId(r.uploaded_by),
            created_at_ms: r.created_at_ms,
            sealed_filename: r.filename,
        }
    }
}

pub(crate) const EVIDENCE_SELECT: &str = "SELECT id, report_id, kind, size, sha256, uploaded_by,
        created_at_ms, filename FROM evidence";

/// A timeline detail: a flat JSON object.
pub(crate) fn detail(pairs: &[(&str, Value)]) -> String {
    let map: Map<String, Value> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    Value::Object(map).to_string()
}

/// The parameters every report notification carries: the report id and its reference.
pub(crate) fn base_params(report: i64) -> Result<OutboxParams, StoreError> {
    OutboxParams::new()
        .with_int("report", report)
        .and_then(|p| p.with_id("ref", &shield_domain::report::reference(report)))
        .map_err(field)
}

/// One email per address, all with the same template and parameters.
pub(crate) fn emails(
    addresses: &[String],
    template: &str,
    params: &OutboxParams,
) -> Result<Vec<NewOutboxMessage>, StoreError> {
    let unique: BTreeSet<&String> = addresses.iter().collect();
    unique
        .into_iter()
        .map(|a| {
            let to = shield_domain::Email::parse(a).map_err(field)?;
            NewOutboxMessage::email(&to, template, params.clone()).map_err(field)
        })
        .collect()
}

/// A force's webhook as stored: id, URL and the sealed secret.
pub(crate) type WebhookRow = (i64, String, Vec<u8>);

/// A webhook notification for a force: the parameters plus `force` and `webhook` (the row id the
/// sealed secret is bound to), and a copy of that sealed secret for the worker to open.
pub(crate) fn webhook(
    hook: &WebhookRow,
    force: &ForceCode,
    template: &str,
    params: &OutboxParams,
) -> Result<NewOutboxMessage, StoreError> {
    let (id, url, secret) = hook;
    let params = params
        .clone()
        .with_id("force", force.as_str())
        .and_then(|p| p.with_int("webhook", *id))
        .map_err(field)?;
    Ok(NewOutboxMessage::webhook(url, template, params)
        .map_err(field)?
        .with_secret(secret.clone()))
}

/// Checks a status change against the domain's rules.
pub(crate) fn check_change(
    from: Status,
    change: StatusChange,
) -> Result<Option<Outcome>, crate::reports::ReportRefusal> {
    use crate::reports::ReportRefusal;
    if !from.can_move_to(change.to) {
        return Err(ReportRefusal::BadTransition);
    }
    match change.to {
        Status::Closed => change
            .outcome
            .map(Some)
            .ok_or(ReportRefusal::OutcomeRequired),
        // Reopening (or moving on) clears any earlier outcome.
        _ => Ok(None),
    }
}

/// Whether a role writes from the candidate's side of a report.
pub(crate) fn candidate_side(role: &str) -> bool {
    matches!(role, "candidate" | "delegate")
}
