//! Reports of concern, their timeline, secure messages, evidence, links and acknowledge-by
//! deadlines.
//!
//! # One transaction per action
//!
//! Each write method is one transaction holding the change, its `report_events` timeline
//! row(s), its audit event (the caller's event, with the report as subject) and the outbox rows
//! that tell people about it. Recipients are found inside that transaction from the roster
//! (`force_contacts`) and the accounts, so a report can never be committed without its
//! notifications, nor a notification sent for a report that was rolled back.
//!
//! # Sealing without keys
//!
//! Report details, messages, evidence and notes are sealed with associated data that binds the
//! row id, which only exists once the row is inserted. The store therefore takes a [`Sealer`]:
//! it inserts the row, asks the sealer to seal the plaintext for `(table, column, id)` and
//! writes the result, all inside the transaction. The store never holds a key.
//!
//! # Deadlines
//!
//! An unacknowledged report has one live `report_deadlines` row. [`DeadlineStore::fire_due_deadlines`]
//! fires due rows, each in one transaction: mark it fired, move the report to the next tier,
//! enqueue that tier's emails, write the timeline and audit rows, and insert the next tier's
//! deadline. On PostgreSQL due rows are picked `FOR UPDATE SKIP LOCKED` and the fired row is
//! re-checked, so two instances never fire the same deadline; on SQLite `BEGIN IMMEDIATE`
//! serialises the firers. Acknowledging cancels the live deadline in the same transaction.

use async_trait::async_trait;
use serde_json::{Map, Value};
use shield_domain::audit::AuditEvent;
use shield_domain::report::{Category, Outcome, Priority, Status, Tier};
use shield_domain::{CandidateId, EpochMs, ForceCode, UserId};

use crate::StoreError;

/// Seals plaintext for one column of one row. Implemented over the key ring by the web layer.
pub trait Sealer: Send + Sync {
    fn seal(&self, table: &'static str, column: &'static str, row_id: i64, plaintext: &[u8])
    -> Vec<u8>;
}

/// An uploaded file, already checked by content. `Debug` leaves out the name and the bytes.
#[derive(Clone)]
pub struct NewEvidence {
    /// `shield_domain::evidence::EvidenceKind::key()`.
    pub kind: String,
    /// A safe display name (no path), sealed as `evidence.filename`.
    pub filename: String,
    /// The file, sealed as `evidence.content`.
    pub content: Vec<u8>,
    /// SHA-256 of `content`, lower-case hex: chain of custody.
    pub sha256: String,
}

impl std::fmt::Debug for NewEvidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewEvidence")
            .field("kind", &self.kind)
            .field("size", &self.content.len())
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}

/// A report to create. `details` is plaintext JSON (what, when, where, who, pasted messages,
/// links), sealed through the [`Sealer`] as `reports.details`. `Debug` leaves it out.
#[derive(Clone)]
pub struct NewReport {
    pub candidate_id: CandidateId,
    pub reported_by: UserId,
    pub category: Category,
    pub happening_now: bool,
    pub priority: Priority,
    /// Triage's reasons, shown on the report.
    pub reasons: Vec<String>,
    pub details: Vec<u8>,
    /// Keyed blind-index tokens of the offender identifiers (HMAC by the caller), for finding
    /// the same offender across reports without storing the identifiers in the clear.
    pub offender_tokens: Vec<Vec<u8>>,
    pub evidence: Vec<NewEvidence>,
}

impl std::fmt::Debug for NewReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewReport")
            .field("candidate_id", &self.candidate_id)
            .field("category", &self.category)
            .field("priority", &self.priority)
            .field("evidence", &self.evidence)
            .finish_non_exhaustive()
    }
}

/// What creating a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedReport {
    pub id: i64,
    pub reference: String,
    /// The force that owns it (the constituency's primary force).
    pub owner_force: ForceCode,
    /// The other force of a cross-force constituency, told but not owning.
    pub informed_forces: Vec<ForceCode>,
    /// Outbox rows enqueued.
    pub notifications: usize,
}

/// A report as stored. `sealed_details` is opened by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRecord {
    pub id: i64,
    pub reference: String,
    pub candidate_id: CandidateId,
    pub candidate_name: String,
    pub constituency_name: String,
    pub owner_force: ForceCode,
    pub informed_forces: Vec<ForceCode>,
    pub reported_by: UserId,
    pub category: Category,
    pub happening_now: bool,
    pub priority: Priority,
    pub reasons: Vec<String>,
    pub status: Status,
    pub outcome: Option<Outcome>,
    /// The tier currently asked to acknowledge (lead until escalated).
    pub tier: Tier,
    /// The live acknowledge-by deadline, if the report is unacknowledged and one is set.
    pub ack_due_at_ms: Option<EpochMs>,
    pub acknowledged_by: Option<UserId>,
    pub acknowledged_by_name: Option<String>,
    pub acknowledged_at_ms: Option<EpochMs>,
    pub created_at_ms: EpochMs,
    pub updated_at_ms: EpochMs,
    pub sealed_details: Vec<u8>,
}

/// A row of a queue or a list.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSummary {
    pub id: i64,
    pub reference: String,
    pub candidate_id: CandidateId,
    pub candidate_name: String,
    pub constituency_name: String,
    pub owner_force: ForceCode,
    pub category: Category,
    pub priority: Priority,
    pub status: Status,
    pub tier: Tier,
    pub ack_due_at_ms: Option<EpochMs>,
    pub acknowledged_by_name: Option<String>,
    pub created_at_ms: EpochMs,
    pub updated_at_ms: EpochMs,
}

/// Which reports a list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportFilter {
    /// Reports owned by or shared with this force.
    pub force: Option<ForceCode>,
    pub candidate: Option<CandidateId>,
    pub open_only: bool,
    /// Only P1 and P2, or anything escalated past the lead (the coordinator's home).
    pub urgent_or_escalated: bool,
}

/// One line of a report's timeline. `detail` is a flat JSON object of ids and enum keys;
/// `sealed_note` (a priority change's reason) is opened by the caller with
/// `(report_events, note, id)`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportEvent {
    pub id: i64,
    pub at_ms: EpochMs,
    pub actor: Option<UserId>,
    pub actor_name: Option<String>,
    /// `created`, `notified`, `escalated`, `acknowledged`, `status`, `priority`, `message`,
    /// `note`, `linked`, `evidence`.
    pub kind: String,
    pub detail: Map<String, Value>,
    pub sealed_note: Option<Vec<u8>>,
}

/// A secure message or an internal police note. `sealed_body` is opened with
/// `(report_messages, body, id)`.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRecord {
    pub id: i64,
    pub author: UserId,
    pub author_name: String,
    pub author_role: shield_domain::Role,
    /// An internal police note: never shown to the candidate or their delegates.
    pub internal: bool,
    pub created_at_ms: EpochMs,
    pub sealed_body: Vec<u8>,
}

/// Evidence as listed (no content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceMeta {
    pub id: i64,
    pub report_id: i64,
    pub kind: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: UserId,
    pub created_at_ms: EpochMs,
    /// Opened with `(evidence, filename, id)`.
    pub sealed_filename: Vec<u8>,
}

/// A status change asked for by the police.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChange {
    pub to: Status,
    /// Required when closing.
    pub outcome: Option<Outcome>,
}

/// Why a report action was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportRefusal {
    /// Someone else acknowledged it first (or it was already acknowledged).
    AlreadyAcknowledged,
    /// The move is not allowed from the current status.
    BadTransition,
    /// Closing needs an outcome.
    OutcomeRequired,
}

/// A signed webhook endpoint a force asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForceWebhook {
    pub id: i64,
    pub force: ForceCode,
    pub url: String,
}

/// Reports. Every [`crate::Store`] is one.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Creates a report with its evidence, offender tokens, timeline, audit event, the live
    /// lead deadline and every notification, in one transaction (module documentation).
    async fn create_report(
        &self,
        report: &NewReport,
        sealer: &dyn Sealer,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<CreatedReport, StoreError>;

    async fn report(&self, id: i64) -> Result<Option<ReportRecord>, StoreError>;

    /// The forces a report's candidate belongs to (for the policy), primary first; `None` when
    /// the report does not exist.
    async fn report_scope(&self, id: i64)
    -> Result<Option<(CandidateId, Vec<ForceCode>)>, StoreError>;

    async fn reports(&self, filter: &ReportFilter) -> Result<Vec<ReportSummary>, StoreError>;

    async fn report_timeline(&self, id: i64) -> Result<Vec<ReportEvent>, StoreError>;

    async fn report_messages(
        &self,
        id: i64,
        include_internal: bool,
    ) -> Result<Vec<MessageRecord>, StoreError>;

    async fn report_evidence(&self, id: i64) -> Result<Vec<EvidenceMeta>, StoreError>;

    /// One piece of evidence and its sealed content, if it belongs to `report_id`.
    async fn evidence_content(
        &self,
        report_id: i64,
        evidence_id: i64,
    ) -> Result<Option<(EvidenceMeta, Vec<u8>)>, StoreError>;

    /// The first to acknowledge owns the report: sets status `acknowledged`, cancels the live
    /// deadline, tells the candidate (content-free email). `Err(AlreadyAcknowledged)` for
    /// everyone after the first.
    async fn acknowledge(
        &self,
        id: i64,
        by: UserId,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<Result<(), ReportRefusal>, StoreError>;

    /// Moves status (domain rules: `Status::can_move_to`), tells the candidate.
    async fn change_status(
        &self,
        id: i64,
        by: UserId,
        change: StatusChange,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<Result<(), ReportRefusal>, StoreError>;

    /// Changes priority with a reason (sealed through `sealer` as `report_events.note`); if the
    /// report is unacknowledged its live deadline is re-set for the new priority.
    async fn change_priority(
        &self,
        id: i64,
        by: UserId,
        priority: Priority,
        reason: &str,
        sealer: &dyn Sealer,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;

    /// Adds a secure message (or, `internal`, a police note) sealed as `report_messages.body`,
    /// and tells the other side: a message from the police emails the candidate; one from the
    /// candidate's side emails whoever acknowledged it, or the owning force's leads.
    /// Internal notes email no one.
    async fn add_message(
        &self,
        id: i64,
        by: UserId,
        internal: bool,
        body: &str,
        sealer: &dyn Sealer,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<i64, StoreError>;

    /// Links two reports (both ways; linking twice is a no-op).
    async fn link_reports(
        &self,
        a: i64,
        b: i64,
        by: UserId,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;

    async fn linked_reports(&self, id: i64) -> Result<Vec<ReportSummary>, StoreError>;

    /// Reports carrying any of these offender tokens (the caller filters by policy).
    async fn reports_by_offender(
        &self,
        tokens: &[Vec<u8>],
    ) -> Result<Vec<ReportSummary>, StoreError>;

    /// Sets (or replaces) a force's webhook endpoint; the signing secret is sealed through
    /// `sealer` as `force_webhooks.secret`. Returns its id.
    async fn set_force_webhook(
        &self,
        force: &ForceCode,
        url: &str,
        secret: &str,
        sealer: &dyn Sealer,
        now_ms: EpochMs,
    ) -> Result<i64, StoreError>;

    async fn force_webhooks(&self) -> Result<Vec<ForceWebhook>, StoreError>;
}

/// What firing deadlines did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FiredDeadlines {
    pub fired: usize,
    /// Outbox rows enqueued by the escalations.
    pub notifications: usize,
}

/// The acknowledge-by deadlines, fired by the worker.
#[async_trait]
pub trait DeadlineStore: Send + Sync {
    /// Fires up to `limit` deadlines due at `now_ms`, each exactly once (module documentation).
    async fn fire_due_deadlines(
        &self,
        now_ms: EpochMs,
        limit: u32,
    ) -> Result<FiredDeadlines, StoreError>;

    /// The earliest live deadline, so a worker can sleep until then.
    async fn next_deadline(&self) -> Result<Option<EpochMs>, StoreError>;
}
