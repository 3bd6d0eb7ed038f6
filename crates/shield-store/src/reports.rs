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
//! deadline. On PostgreSQL due rows are picked `FOR NO KEY UPDATE SKIP LOCKED` (with their report) and the fired row is
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
    fn seal(
        &self,
        table: &'static str,
        column: &'static str,
        row_id: i64,
        plaintext: &[u8],
    ) -> Vec<u8>;

    /// Opens a value this sealer sealed for `(table, column, row_id)`; `None` if it cannot
    /// (the default: a sealer that only seals). Used to carry a check-in session's place into
    /// its alarm report.
    fn open(
        &self,
        _table: &'static str,
        _column: &'static str,
        _row_id: i64,
        _sealed: &[u8],
    ) -> Option<Vec<u8>> {
        None
    }
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
    /// A duress alarm: hidden from the candidate's side (migration `0007_silent_reports`).
    pub silent: bool,
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
    /// Hidden from the candidate and their delegates (a duress alarm).
    pub silent: bool,
}

/// A row of a queue or a list.
/// The facts an access decision about one report rests on (see [`ReportStore::report_access`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportAccess {
    pub candidate: CandidateId,
    /// The owning force first, then the others in code order.
    pub forces: Vec<ForceCode>,
    /// A silent (duress) report, hidden from the candidate's side.
    pub silent: bool,
}

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
    /// Leave out silent reports (duress alarms): for every list the candidate's side sees.
    pub hide_silent: bool,
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

    /// Group commit: creates several reports in ONE transaction (one durable commit for the
    /// lot), each inside a savepoint of its own, so one that fails (an unknown candidate…) is
    /// rolled back alone and the others still commit. Each report is exactly what
    /// [`ReportStore::create_report`] would have written. `Err` when the transaction itself
    /// failed: then nothing was written.
    async fn create_reports(
        &self,
        batch: &[(NewReport, AuditEvent)],
        sealer: &dyn Sealer,
        now_ms: EpochMs,
    ) -> Result<Vec<Result<CreatedReport, StoreError>>, StoreError>;

    async fn report(&self, id: i64) -> Result<Option<ReportRecord>, StoreError>;

    /// What an access decision about a report needs, in one read: its candidate, the forces
    /// (owner first) and whether it is silent. `None` when the report does not exist.
    async fn report_access(&self, id: i64) -> Result<Option<ReportAccess>, StoreError>;

    /// The forces a report's candidate belongs to (for the policy), primary first; `None` when
    /// the report does not exist.
    async fn report_scope(
        &self,
        id: i64,
    ) -> Result<Option<(CandidateId, Vec<ForceCode>)>, StoreError> {
        Ok(self
            .report_access(id)
            .await?
            .map(|a| (a.candidate, a.forces)))
    }

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
    #[allow(clippy::too_many_arguments)]
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
    #[allow(clippy::too_many_arguments)]
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

/// Implements [`ReportStore`] and [`DeadlineStore`] for one backend. `$due_sql` is the
/// backend's pick of due deadlines (`SQLITE_DUE_DEADLINES` or `POSTGRES_DUE_DEADLINES` in
/// `reports_sql.rs`).
///
/// Lock order, for PostgreSQL: a write locks the report row (its first UPDATE) before the
/// deadline rows and before the audit head; the firer takes the deadline and the report together
/// with `SKIP LOCKED`, so it never waits for a lock while holding one.
macro_rules! reports_impl {
    ($store:ty, $db:ty, $due_sql:expr) => {
        impl $store {
            async fn report_event(
                conn: &mut <$db as sqlx::Database>::Connection,
                report: i64,
                at_ms: i64,
                actor: Option<i64>,
                kind: &str,
                detail: &str,
            ) -> Result<i64, crate::StoreError> {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO report_events (report_id, at_ms, actor_user_id, kind, detail)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(report)
                .bind(at_ms)
                .bind(actor)
                .bind(kind)
                .bind(detail)
                .fetch_one(&mut *conn)
                .await?;
                Ok(id)
            }

            /// Enqueues each message and writes its `notified` timeline row, so the report page
            /// can show delivery through `outbox_status`.
            async fn notify_report(
                conn: &mut <$db as sqlx::Database>::Connection,
                report: i64,
                msgs: &[crate::outbox::NewOutboxMessage],
                now_ms: i64,
            ) -> Result<usize, crate::StoreError> {
                for msg in msgs {
                    let outbox = Self::enqueue_outbox(&mut *conn, msg, now_ms).await?;
                    let detail = crate::reports_sql::detail(&[
                        ("outbox", outbox.into()),
                        ("channel", msg.channel.as_str().into()),
                        ("template", msg.template.as_str().into()),
                    ]);
                    Self::report_event(&mut *conn, report, now_ms, None, "notified", &detail)
                        .await?;
                }
                Ok(msgs.len())
            }

            /// Active roster contacts of one role (`lead`, `deputy`) of a force.
            async fn contact_emails(
                conn: &mut <$db as sqlx::Database>::Connection,
                force: &str,
                role: &str,
            ) -> Result<Vec<String>, crate::StoreError> {
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT email FROM force_contacts
                     WHERE force_code = $1 AND role = $2 AND active ORDER BY email",
                )
                .bind(force)
                .bind(role)
                .fetch_all(&mut *conn)
                .await?;
                Ok(rows.into_iter().map(|(e,)| e).collect())
            }

            /// The active account of the report's candidate, if they have one.
            async fn candidate_emails(
                conn: &mut <$db as sqlx::Database>::Connection,
                report: i64,
            ) -> Result<Vec<String>, crate::StoreError> {
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT u.email FROM reports r JOIN users u ON u.candidate_id = r.candidate_id
                     WHERE r.id = $1 AND u.status = 'active' AND r.silent = FALSE",
                )
                .bind(report)
                .fetch_all(&mut *conn)
                .await?;
                Ok(rows.into_iter().map(|(e,)| e).collect())
            }

            async fn webhook_of(
                conn: &mut <$db as sqlx::Database>::Connection,
                force: &str,
            ) -> Result<Option<crate::reports_sql::WebhookRow>, crate::StoreError> {
                Ok(sqlx::query_as("SELECT id, url, secret FROM force_webhooks WHERE force_code = $1")
                    .bind(force)
                    .fetch_optional(&mut *conn)
                    .await?)
            }

            /// The caller's audit event, about this report.
            async fn audit_report(
                conn: &mut <$db as sqlx::Database>::Connection,
                audit: &shield_domain::audit::AuditEvent,
                report: i64,
            ) -> Result<(), crate::StoreError> {
                let subject = shield_domain::audit::AuditSubject::new("report", &report.to_string())
                    .map_err(crate::reports_sql::field)?;
                Self::append_audit(&mut *conn, &audit.clone().with_subject(subject)).await?;
                Ok(())
            }

            /// Tells the candidate's account that the report moved (`status` is the new one).
            async fn tell_candidate(
                conn: &mut <$db as sqlx::Database>::Connection,
                report: i64,
                status: shield_domain::report::Status,
                now_ms: i64,
            ) -> Result<usize, crate::StoreError> {
                let params = crate::reports_sql::base_params(report)?
                    .with_id("status", status.key())
                    .map_err(crate::reports_sql::field)?;
                let to = Self::candidate_emails(&mut *conn, report).await?;
                let msgs = crate::reports_sql::emails(&to, "report_update", &params)?;
                Self::notify_report(&mut *conn, report, &msgs, now_ms).await
            }

            /// Inserts a live deadline for `tier` if that tier has a window at this priority.
            async fn set_deadline(
                conn: &mut <$db as sqlx::Database>::Connection,
                report: i64,
                priority: shield_domain::report::Priority,
                tier: shield_domain::report::Tier,
                now_ms: i64,
            ) -> Result<(), crate::StoreError> {
                if let Some(window) = shield_domain::report::ack_window_ms(priority, tier) {
                    sqlx::query(
                        "INSERT INTO report_deadlines (report_id, tier, due_at_ms, created_at_ms)
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(report)
                    .bind(tier.key())
                    .bind(now_ms + window)
                    .bind(now_ms)
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(())
            }

            async fn cancel_deadline(
                conn: &mut <$db as sqlx::Database>::Connection,
                report: i64,
                now_ms: i64,
            ) -> Result<(), crate::StoreError> {
                sqlx::query(
                    "UPDATE report_deadlines SET cancelled_at_ms = $2
                     WHERE report_id = $1 AND fired_at_ms IS NULL AND cancelled_at_ms IS NULL",
                )
                .bind(report)
                .bind(now_ms)
                .execute(&mut *conn)
                .await?;
                Ok(())
            }

            /// Fires one picked deadline inside the caller's transaction: `None` when its report
            /// is no longer waiting (the row is cancelled instead), else the notifications sent.
            async fn fire_deadline(
                conn: &mut <$db as sqlx::Database>::Connection,
                deadline: i64,
                report: i64,
                tier: &str,
                now_ms: i64,
            ) -> Result<Option<usize>, crate::StoreError> {
                use shield_domain::report::Tier;
                let fired = sqlx::query(
                    "UPDATE report_deadlines SET fired_at_ms = $2
                     WHERE id = $1 AND fired_at_ms IS NULL AND cancelled_at_ms IS NULL
                       AND EXISTS (SELECT 1 FROM reports r
                                   WHERE r.id = report_deadlines.report_id AND r.status = 'new')",
                )
                .bind(deadline)
                .bind(now_ms)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                if fired != 1 {
                    sqlx::query(
                        "UPDATE report_deadlines SET cancelled_at_ms = $2
                         WHERE id = $1 AND fired_at_ms IS NULL AND cancelled_at_ms IS NULL",
                    )
                    .bind(deadline)
                    .bind(now_ms)
                    .execute(&mut *conn)
                    .await?;
                    return Ok(None);
                }
                let tier = crate::reports_sql::tier(report, tier)?;
                let Some(next) = shield_domain::report::next_tier(tier) else {
                    return Ok(Some(0));
                };
                let (priority, owner): (i32, String) = sqlx::query_as(
                    "UPDATE reports SET tier = $2, updated_at_ms = $3 WHERE id = $1
                     RETURNING priority, owner_force",
                )
                .bind(report)
                .bind(next.key())
                .bind(now_ms)
                .fetch_one(&mut *conn)
                .await?;
                let priority = shield_domain::report::Priority::from_number(i64::from(priority))
                    .map_err(crate::reports_sql::field)?;
                let detail = crate::reports_sql::detail(&[("tier", next.key().into())]);
                Self::report_event(&mut *conn, report, now_ms, None, "escalated", &detail).await?;

                let params = crate::reports_sql::base_params(report)?
                    .with_int("priority", priority.number())
                    .and_then(|p| p.with_id("tier", next.key()))
                    .map_err(crate::reports_sql::field)?;
                let to = match next {
                    Tier::Lead => Self::contact_emails(&mut *conn, &owner, "lead").await?,
                    Tier::Deputy => Self::contact_emails(&mut *conn, &owner, "deputy").await?,
                    Tier::Coordinator => {
                        let rows: Vec<(String,)> = sqlx::query_as(
                            "SELECT email FROM users
                             WHERE role = 'coordinator' AND status = 'active' ORDER BY email",
                        )
                        .fetch_all(&mut *conn)
                        .await?;
                        rows.into_iter().map(|(e,)| e).collect()
                    }
                };
                let mut msgs = crate::reports_sql::emails(&to, "report_escalated", &params)?;
                if let Some(hook) = Self::webhook_of(&mut *conn, &owner).await? {
                    let force = crate::records::force_code(&owner)?;
                    msgs.push(crate::reports_sql::webhook(&hook, &force, "report.escalated", &params)?);
                }
                let sent = Self::notify_report(&mut *conn, report, &msgs, now_ms).await?;
                // The next tier's clock starts when it is told, not when the last one ran out:
                // a worker that was down does not skip a tier.
                Self::set_deadline(&mut *conn, report, priority, next, now_ms).await?;

                let subject = shield_domain::audit::AuditSubject::new("report", &report.to_string())
                    .map_err(crate::reports_sql::field)?;
                let event = shield_domain::audit::AuditEvent::from_millis(
                    shield_domain::audit::AuditAction::REPORT_ESCALATED,
                    shield_domain::audit::AuditOutcome::Success,
                    now_ms,
                )
                .map_err(crate::reports_sql::field)?
                .with_subject(subject)
                .with_detail("tier", next.key())
                .map_err(crate::reports_sql::field)?;
                Self::append_audit(&mut *conn, &event).await?;
                Ok(Some(sent))
            }

            /// Creates a report inside the caller's transaction: [`crate::reports::ReportStore::create_report`],
            /// and the check-in alarms, which are raised in the transaction that fires them.
            pub(crate) async fn insert_report(
                conn: &mut <$db as sqlx::Database>::Connection,
                report: &crate::reports::NewReport,
                sealer: &dyn crate::reports::Sealer,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<crate::reports::CreatedReport, crate::StoreError> {
                let forces: Vec<(String, bool)> = sqlx::query_as(
                    "SELECT l.force_code, l.is_primary FROM candidates c
                     JOIN constituency_forces l ON l.constituency_code = c.constituency_code
                     WHERE c.id = $1 ORDER BY l.force_code",
                )
                .bind(report.candidate_id.0)
                .fetch_all(&mut *conn)
                .await?;
                let Some((owner, _)) = forces.iter().find(|(_, primary)| *primary) else {
                    return Err(crate::StoreError::Conflict(
                        "the candidate's constituency has no primary force".into(),
                    ));
                };
                let owner = crate::records::force_code(owner)?;
                let informed = forces
                    .iter()
                    .filter(|(_, primary)| !primary)
                    .map(|(f, _)| crate::records::force_code(f))
                    .collect::<Result<Vec<_>, _>>()?;
                let reasons = serde_json::to_string(&report.reasons)
                    .map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;

                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO reports (candidate_id, owner_force, reported_by, category,
                        happening_now, priority, reasons, status, tier, details, created_at_ms,
                        updated_at_ms, silent)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'new', 'lead', $8, $9, $9, $10) RETURNING id",
                )
                .bind(report.candidate_id.0)
                .bind(owner.as_str())
                .bind(report.reported_by.0)
                .bind(report.category.key())
                .bind(report.happening_now)
                .bind(report.priority.number())
                .bind(reasons)
                .bind(Vec::<u8>::new())
                .bind(now_ms)
                .bind(report.silent)
                .fetch_one(&mut *conn)
                .await?;
                let sealed = sealer.seal("reports", "details", id, &report.details);
                sqlx::query("UPDATE reports SET details = $2 WHERE id = $1")
                    .bind(id)
                    .bind(sealed)
                    .execute(&mut *conn)
                    .await?;
                for (force, primary) in &forces {
                    sqlx::query(
                        "INSERT INTO report_forces (report_id, force_code, is_owner) VALUES ($1, $2, $3)",
                    )
                    .bind(id)
                    .bind(force)
                    .bind(*primary)
                    .execute(&mut *conn)
                    .await?;
                }
                let actor = Some(report.reported_by.0);
                let detail = crate::reports_sql::detail(&[("priority", report.priority.number().into())]);
                Self::report_event(&mut *conn, id, now_ms, actor, "created", &detail).await?;

                for e in &report.evidence {
                    let (evidence,): (i64,) = sqlx::query_as(
                        "INSERT INTO evidence (report_id, kind, size, sha256, filename, content,
                            uploaded_by, created_at_ms)
                         VALUES ($1, $2, $3, $4, $5, $5, $6, $7) RETURNING id",
                    )
                    .bind(id)
                    .bind(&e.kind)
                    .bind(i64::try_from(e.content.len()).unwrap_or(i64::MAX))
                    .bind(&e.sha256)
                    .bind(Vec::<u8>::new())
                    .bind(report.reported_by.0)
                    .bind(now_ms)
                    .fetch_one(&mut *conn)
                    .await?;
                    let filename = sealer.seal("evidence", "filename", evidence, e.filename.as_bytes());
                    let content = sealer.seal("evidence", "content", evidence, &e.content);
                    sqlx::query("UPDATE evidence SET filename = $2, content = $3 WHERE id = $1")
                        .bind(evidence)
                        .bind(filename)
                        .bind(content)
                        .execute(&mut *conn)
                        .await?;
                    let detail = crate::reports_sql::detail(&[("evidence", evidence.into())]);
                    Self::report_event(&mut *conn, id, now_ms, actor, "evidence", &detail).await?;
                }
                for token in &report.offender_tokens {
                    sqlx::query(
                        "INSERT INTO offender_tokens (report_id, token) VALUES ($1, $2)
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(id)
                    .bind(token.as_slice())
                    .execute(&mut *conn)
                    .await?;
                }
                Self::set_deadline(&mut *conn, id, report.priority, shield_domain::report::Tier::Lead, now_ms)
                    .await?;

                let params = crate::reports_sql::base_params(id)?
                    .with_int("priority", report.priority.number())
                    .map_err(crate::reports_sql::field)?;
                let leads = Self::contact_emails(&mut *conn, owner.as_str(), "lead").await?;
                let mut msgs = crate::reports_sql::emails(&leads, "report_needs_attention", &params)?;
                if let Some(hook) = Self::webhook_of(&mut *conn, owner.as_str()).await? {
                    msgs.push(crate::reports_sql::webhook(&hook, &owner, "report.created", &params)?);
                }
                for force in &informed {
                    let told = params
                        .clone()
                        .with_id("force", force.as_str())
                        .map_err(crate::reports_sql::field)?;
                    let leads = Self::contact_emails(&mut *conn, force.as_str(), "lead").await?;
                    msgs.extend(crate::reports_sql::emails(&leads, "report_informed", &told)?);
                    if let Some(hook) = Self::webhook_of(&mut *conn, force.as_str()).await? {
                        msgs.push(crate::reports_sql::webhook(&hook, force, "report.shared", &params)?);
                    }
                }
                let notifications = Self::notify_report(&mut *conn, id, &msgs, now_ms).await?;
                Self::audit_report(&mut *conn, audit, id).await?;
                Ok(crate::reports::CreatedReport {
                    id,
                    reference: shield_domain::report::reference(id),
                    owner_force: owner,
                    informed_forces: informed,
                    notifications,
                })
            }

            async fn summaries(
                &self,
                sql: &str,
                bind: Option<i64>,
            ) -> Result<Vec<crate::reports_sql::SummaryRow>, crate::StoreError> {
                Ok(sqlx::query_as(sql).bind(bind).fetch_all(&self.pool).await?)
            }
        }

        #[async_trait::async_trait]
        impl crate::reports::ReportStore for $store {
            async fn create_report(
                &self,
                report: &crate::reports::NewReport,
                sealer: &dyn crate::reports::Sealer,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<crate::reports::CreatedReport, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let created = Self::insert_report(&mut *tx, report, sealer, now_ms, audit).await?;
                tx.commit().await?;
                Ok(created)
            }

            async fn create_reports(
                &self,
                batch: &[(crate::reports::NewReport, shield_domain::audit::AuditEvent)],
                sealer: &dyn crate::reports::Sealer,
                now_ms: shield_domain::EpochMs,
            ) -> Result<Vec<Result<crate::reports::CreatedReport, crate::StoreError>>, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let mut out = Vec::with_capacity(batch.len());
                for (report, audit) in batch {
                    // Inside a transaction, sqlx's `begin` is a SAVEPOINT.
                    let mut savepoint = sqlx::Connection::begin(&mut *tx).await?;
                    match Self::insert_report(&mut *savepoint, report, sealer, now_ms, audit).await {
                        Ok(created) => {
                            savepoint.commit().await?;
                            out.push(Ok(created));
                        }
                        Err(e) => {
                            savepoint.rollback().await?;
                            out.push(Err(e));
                        }
                    }
                }
                tx.commit().await?;
                Ok(out)
            }

            async fn report(
                &self,
                id: i64,
            ) -> Result<Option<crate::reports::ReportRecord>, crate::StoreError> {
                let sql = format!("{} WHERE r.id = $1", crate::reports_sql::REPORT_SELECT);
                let row: Option<crate::reports_sql::ReportRow> =
                    sqlx::query_as(&sql).bind(id).fetch_optional(&self.pool).await?;
                let Some(row) = row else { return Ok(None) };
                let forces: Vec<(String, bool)> =
                    sqlx::query_as("SELECT force_code, is_owner FROM report_forces WHERE report_id = $1")
                        .bind(id)
                        .fetch_all(&self.pool)
                        .await?;
                row.into_record(forces).map(Some)
            }

            async fn report_access(
                &self,
                id: i64,
            ) -> Result<Option<crate::reports::ReportAccess>, crate::StoreError> {
                let row: Option<(i64, String, bool)> = sqlx::query_as(
                    "SELECT candidate_id, owner_force, silent FROM reports WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                let Some((candidate, owner, silent)) = row else { return Ok(None) };
                // The forces the report went to, and any that serve the candidate's
                // constituency now: owner first, then the rest in code order.
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT force_code FROM report_forces WHERE report_id = $1
                     UNION
                     SELECT l.force_code FROM candidates c
                     JOIN constituency_forces l ON l.constituency_code = c.constituency_code
                     WHERE c.id = $2",
                )
                .bind(id)
                .bind(candidate)
                .fetch_all(&self.pool)
                .await?;
                let mut others = rows
                    .into_iter()
                    .filter(|(f,)| *f != owner)
                    .map(|(f,)| crate::records::force_code(&f))
                    .collect::<Result<Vec<_>, _>>()?;
                others.sort();
                let mut forces = vec![crate::records::force_code(&owner)?];
                forces.extend(others);
                Ok(Some(crate::reports::ReportAccess {
                    candidate: shield_domain::CandidateId(candidate),
                    forces,
                    silent,
                }))
            }

            async fn reports(
                &self,
                filter: &crate::reports::ReportFilter,
            ) -> Result<Vec<crate::reports::ReportSummary>, crate::StoreError> {
                let sql = format!(
                    "{} WHERE ($1 IS NULL OR EXISTS (SELECT 1 FROM report_forces f
                                WHERE f.report_id = r.id AND f.force_code = $1))
                       AND ($2 IS NULL OR r.candidate_id = $2)
                       AND ($3 = FALSE OR r.status <> 'closed')
                       AND ($4 = FALSE OR r.priority <= 2 OR r.tier <> 'lead')
                       AND ($5 = FALSE OR r.silent = FALSE)",
                    crate::reports_sql::SUMMARY_SELECT
                );
                let rows: Vec<crate::reports_sql::SummaryRow> = sqlx::query_as(&sql)
                    .bind(filter.force.as_ref().map(|f| f.as_str().to_owned()))
                    .bind(filter.candidate.map(|c| c.0))
                    .bind(filter.open_only)
                    .bind(filter.urgent_or_escalated)
                    .bind(filter.hide_silent)
                    .fetch_all(&self.pool)
                    .await?;
                crate::reports_sql::sort_summaries(rows)
            }

            async fn report_timeline(
                &self,
                id: i64,
            ) -> Result<Vec<crate::reports::ReportEvent>, crate::StoreError> {
                let rows: Vec<crate::reports_sql::EventRow> = sqlx::query_as(
                    "SELECT e.id, e.at_ms, e.actor_user_id, u.display_name AS actor_name, e.kind,
                        e.detail, e.note
                     FROM report_events e LEFT JOIN users u ON u.id = e.actor_user_id
                     WHERE e.report_id = $1 ORDER BY e.id",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(crate::reports_sql::EventRow::into_event).collect()
            }

            async fn report_messages(
                &self,
                id: i64,
                include_internal: bool,
            ) -> Result<Vec<crate::reports::MessageRecord>, crate::StoreError> {
                let rows: Vec<crate::reports_sql::MessageRow> = sqlx::query_as(
                    "SELECT m.id, m.author_user_id, u.display_name AS author_name,
                        u.role AS author_role, m.internal, m.created_at_ms, m.body
                     FROM report_messages m JOIN users u ON u.id = m.author_user_id
                     WHERE m.report_id = $1 AND ($2 = TRUE OR m.internal = FALSE)
                     ORDER BY m.id",
                )
                .bind(id)
                .bind(include_internal)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(crate::reports_sql::MessageRow::into_message).collect()
            }

            async fn report_evidence(
                &self,
                id: i64,
            ) -> Result<Vec<crate::reports::EvidenceMeta>, crate::StoreError> {
                let sql = format!("{} WHERE report_id = $1 ORDER BY id", crate::reports_sql::EVIDENCE_SELECT);
                let rows: Vec<crate::reports_sql::EvidenceRow> =
                    sqlx::query_as(&sql).bind(id).fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn evidence_content(
                &self,
                report_id: i64,
                evidence_id: i64,
            ) -> Result<Option<(crate::reports::EvidenceMeta, Vec<u8>)>, crate::StoreError> {
                let sql = format!(
                    "{} WHERE report_id = $1 AND id = $2",
                    crate::reports_sql::EVIDENCE_SELECT
                );
                let Some(row): Option<crate::reports_sql::EvidenceRow> = sqlx::query_as(&sql)
                    .bind(report_id)
                    .bind(evidence_id)
                    .fetch_optional(&self.pool)
                    .await?
                else {
                    return Ok(None);
                };
                let (content,): (Vec<u8>,) =
                    sqlx::query_as("SELECT content FROM evidence WHERE id = $1")
                        .bind(evidence_id)
                        .fetch_one(&self.pool)
                        .await?;
                Ok(Some((row.into(), content)))
            }

            async fn acknowledge(
                &self,
                id: i64,
                by: shield_domain::UserId,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<Result<(), crate::reports::ReportRefusal>, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                // First wins: the row lock makes a second acknowledger wait, then fail the
                // re-checked status.
                let done = sqlx::query(
                    "UPDATE reports SET status = 'acknowledged', acknowledged_by = $2,
                        acknowledged_at_ms = $3, updated_at_ms = $3
                     WHERE id = $1 AND status = 'new'",
                )
                .bind(id)
                .bind(by.0)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if done != 1 {
                    let exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM reports WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    tx.rollback().await?;
                    return match exists {
                        Some(_) => Ok(Err(crate::reports::ReportRefusal::AlreadyAcknowledged)),
                        None => Err(crate::StoreError::Conflict(format!("no report {id}"))),
                    };
                }
                Self::cancel_deadline(&mut *tx, id, now_ms).await?;
                Self::report_event(&mut *tx, id, now_ms, Some(by.0), "acknowledged", "{}").await?;
                Self::tell_candidate(&mut *tx, id, shield_domain::report::Status::Acknowledged, now_ms)
                    .await?;
                Self::audit_report(&mut *tx, audit, id).await?;
                tx.commit().await?;
                Ok(Ok(()))
            }

            async fn change_status(
                &self,
                id: i64,
                by: shield_domain::UserId,
                change: crate::reports::StatusChange,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<Result<(), crate::reports::ReportRefusal>, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let row: Option<(String,)> = sqlx::query_as("SELECT status FROM reports WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some((from,)) = row else {
                    return Err(crate::StoreError::Conflict(format!("no report {id}")));
                };
                let from = crate::reports_sql::status(id, &from)?;
                let outcome = match crate::reports_sql::check_change(from, change) {
                    Ok(outcome) => outcome,
                    Err(refusal) => {
                        tx.rollback().await?;
                        return Ok(Err(refusal));
                    }
                };
                // Conditional on the status read, so a move made meanwhile is not overwritten.
                let done = sqlx::query(
                    "UPDATE reports SET status = $3, outcome = $4, updated_at_ms = $5
                     WHERE id = $1 AND status = $2",
                )
                .bind(id)
                .bind(from.key())
                .bind(change.to.key())
                .bind(outcome.map(|o| o.key()))
                .bind(now_ms)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if done != 1 {
                    tx.rollback().await?;
                    return Ok(Err(crate::reports::ReportRefusal::BadTransition));
                }
                let mut pairs = vec![("from", from.key().into()), ("to", change.to.key().into())];
                if let Some(o) = outcome {
                    pairs.push(("outcome", o.key().into()));
                }
                let detail = crate::reports_sql::detail(&pairs);
                Self::report_event(&mut *tx, id, now_ms, Some(by.0), "status", &detail).await?;
                Self::tell_candidate(&mut *tx, id, change.to, now_ms).await?;
                Self::audit_report(&mut *tx, audit, id).await?;
                tx.commit().await?;
                Ok(Ok(()))
            }

            #[allow(clippy::too_many_arguments)]
            async fn change_priority(
                &self,
                id: i64,
                by: shield_domain::UserId,
                priority: shield_domain::report::Priority,
                reason: &str,
                sealer: &dyn crate::reports::Sealer,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<(), crate::StoreError> {
                let mut tx = self.begin_write().await?;
                // Locks the report first and reads it as it is once the lock is held (a
                // deadline fired meanwhile has moved its tier).
                let row: Option<(i32, String, String)> = sqlx::query_as(
                    "UPDATE reports SET updated_at_ms = $2 WHERE id = $1
                     RETURNING priority, status, tier",
                )
                .bind(id)
                .bind(now_ms)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((from, status, tier)) = row else {
                    return Err(crate::StoreError::Conflict(format!("no report {id}")));
                };
                sqlx::query("UPDATE reports SET priority = $2 WHERE id = $1")
                    .bind(id)
                    .bind(priority.number())
                    .execute(&mut *tx)
                    .await?;
                if crate::reports_sql::status(id, &status)? == shield_domain::report::Status::New {
                    let tier = crate::reports_sql::tier(id, &tier)?;
                    Self::cancel_deadline(&mut *tx, id, now_ms).await?;
                    Self::set_deadline(&mut *tx, id, priority, tier, now_ms).await?;
                }
                let detail = crate::reports_sql::detail(&[
                    ("from", i64::from(from).into()),
                    ("to", priority.number().into()),
                ]);
                let event = Self::report_event(&mut *tx, id, now_ms, Some(by.0), "priority", &detail).await?;
                let note = sealer.seal("report_events", "note", event, reason.as_bytes());
                sqlx::query("UPDATE report_events SET note = $2 WHERE id = $1")
                    .bind(event)
                    .bind(note)
                    .execute(&mut *tx)
                    .await?;
                Self::audit_report(&mut *tx, audit, id).await?;
                tx.commit().await?;
                Ok(())
            }

            #[allow(clippy::too_many_arguments)]
            async fn add_message(
                &self,
                id: i64,
                by: shield_domain::UserId,
                internal: bool,
                body: &str,
                sealer: &dyn crate::reports::Sealer,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<i64, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                // Also the report's row lock, taken first (lock order in the macro's notes).
                let row: Option<(String, Option<i64>)> = sqlx::query_as(
                    "UPDATE reports SET updated_at_ms = $2 WHERE id = $1
                     RETURNING owner_force, acknowledged_by",
                )
                .bind(id)
                .bind(now_ms)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((owner, acknowledged_by)) = row else {
                    return Err(crate::StoreError::Conflict(format!("no report {id}")));
                };
                let role: Option<(String,)> = sqlx::query_as("SELECT role FROM users WHERE id = $1")
                    .bind(by.0)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some((role,)) = role else {
                    return Err(crate::StoreError::Conflict(format!("no user {}", by.0)));
                };
                let from_candidate = crate::reports_sql::candidate_side(&role);
                if internal && from_candidate {
                    return Err(crate::StoreError::Conflict(
                        "only the police write internal notes".into(),
                    ));
                }
                let (message,): (i64,) = sqlx::query_as(
                    "INSERT INTO report_messages (report_id, author_user_id, internal, body, created_at_ms)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(id)
                .bind(by.0)
                .bind(internal)
                .bind(Vec::<u8>::new())
                .bind(now_ms)
                .fetch_one(&mut *tx)
                .await?;
                let sealed = sealer.seal("report_messages", "body", message, body.as_bytes());
                sqlx::query("UPDATE report_messages SET body = $2 WHERE id = $1")
                    .bind(message)
                    .bind(sealed)
                    .execute(&mut *tx)
                    .await?;
                let detail = crate::reports_sql::detail(&[
                    ("message", message.into()),
                    ("internal", internal.into()),
                ]);
                Self::report_event(&mut *tx, id, now_ms, Some(by.0), "message", &detail).await?;
                if !internal {
                    let to = if !from_candidate {
                        Self::candidate_emails(&mut *tx, id).await?
                    } else {
                        let acknowledger: Vec<(String,)> = sqlx::query_as(
                            "SELECT email FROM users WHERE id = $1 AND status = 'active'",
                        )
                        .bind(acknowledged_by)
                        .fetch_all(&mut *tx)
                        .await?;
                        if acknowledger.is_empty() {
                            Self::contact_emails(&mut *tx, &owner, "lead").await?
                        } else {
                            acknowledger.into_iter().map(|(e,)| e).collect()
                        }
                    };
                    let params = crate::reports_sql::base_params(id)?;
                    let msgs = crate::reports_sql::emails(&to, "report_message", &params)?;
                    Self::notify_report(&mut *tx, id, &msgs, now_ms).await?;
                }
                Self::audit_report(&mut *tx, audit, id).await?;
                tx.commit().await?;
                Ok(message)
            }

            async fn link_reports(
                &self,
                a: i64,
                b: i64,
                by: shield_domain::UserId,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<(), crate::StoreError> {
                if a == b {
                    return Err(crate::StoreError::Conflict("a report cannot be linked to itself".into()));
                }
                let (low, high) = (a.min(b), a.max(b));
                let mut tx = self.begin_write().await?;
                let (found,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM reports WHERE id = $1 OR id = $2")
                    .bind(low)
                    .bind(high)
                    .fetch_one(&mut *tx)
                    .await?;
                if found != 2 {
                    return Err(crate::StoreError::Conflict("no such report to link".into()));
                }
                let added = sqlx::query(
                    "INSERT INTO report_links (a, b) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(low)
                .bind(high)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if added == 0 {
                    // Already linked: nothing to record.
                    tx.rollback().await?;
                    return Ok(());
                }
                for (report, other) in [(a, b), (b, a)] {
                    let detail = crate::reports_sql::detail(&[("report", other.into())]);
                    Self::report_event(&mut *tx, report, now_ms, Some(by.0), "linked", &detail).await?;
                }
                let audit = audit
                    .clone()
                    .with_detail("linked_report", &b.to_string())
                    .map_err(crate::reports_sql::field)?;
                Self::audit_report(&mut *tx, &audit, a).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn linked_reports(
                &self,
                id: i64,
            ) -> Result<Vec<crate::reports::ReportSummary>, crate::StoreError> {
                let sql = format!(
                    "{} WHERE r.id IN (SELECT b FROM report_links WHERE a = $1)
                        OR r.id IN (SELECT a FROM report_links WHERE b = $1)",
                    crate::reports_sql::SUMMARY_SELECT
                );
                let rows = self.summaries(&sql, Some(id)).await?;
                crate::reports_sql::sort_summaries(rows)
            }

            async fn reports_by_offender(
                &self,
                tokens: &[Vec<u8>],
            ) -> Result<Vec<crate::reports::ReportSummary>, crate::StoreError> {
                let sql = format!(
                    "{} WHERE r.id IN (SELECT report_id FROM offender_tokens WHERE token = $1)",
                    crate::reports_sql::SUMMARY_SELECT
                );
                let mut found = std::collections::BTreeMap::new();
                for token in tokens {
                    let rows: Vec<crate::reports_sql::SummaryRow> = sqlx::query_as(&sql)
                        .bind(token.as_slice())
                        .fetch_all(&self.pool)
                        .await?;
                    for row in rows {
                        found.insert(row.id, row);
                    }
                }
                crate::reports_sql::sort_summaries(found.into_values().collect())
            }

            async fn set_force_webhook(
                &self,
                force: &shield_domain::ForceCode,
                url: &str,
                secret: &str,
                sealer: &dyn crate::reports::Sealer,
                now_ms: shield_domain::EpochMs,
            ) -> Result<i64, crate::StoreError> {
                // The URL must be one an outbox row can carry.
                crate::outbox::NewOutboxMessage::webhook(url, "report.created", crate::outbox::OutboxParams::new())
                    .map_err(|e| crate::StoreError::Conflict(e.message))?;
                let mut tx = self.begin_write().await?;
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO force_webhooks (force_code, url, secret, created_at_ms, updated_at_ms)
                     VALUES ($1, $2, $3, $4, $4)
                     ON CONFLICT (force_code) DO UPDATE SET url = excluded.url,
                        updated_at_ms = excluded.updated_at_ms
                     RETURNING id",
                )
                .bind(force.as_str())
                .bind(url)
                .bind(Vec::<u8>::new())
                .bind(now_ms)
                .fetch_one(&mut *tx)
                .await?;
                let sealed = sealer.seal("force_webhooks", "secret", id, secret.as_bytes());
                sqlx::query("UPDATE force_webhooks SET secret = $2 WHERE id = $1")
                    .bind(id)
                    .bind(sealed)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn force_webhooks(
                &self,
            ) -> Result<Vec<crate::reports::ForceWebhook>, crate::StoreError> {
                let rows: Vec<(i64, String, String)> =
                    sqlx::query_as("SELECT id, force_code, url FROM force_webhooks ORDER BY force_code")
                        .fetch_all(&self.pool)
                        .await?;
                rows.into_iter()
                    .map(|(id, force, url)| {
                        Ok(crate::reports::ForceWebhook {
                            id,
                            force: crate::records::force_code(&force)?,
                            url,
                        })
                    })
                    .collect()
            }
        }

        #[async_trait::async_trait]
        impl crate::reports::DeadlineStore for $store {
            async fn fire_due_deadlines(
                &self,
                now_ms: shield_domain::EpochMs,
                limit: u32,
            ) -> Result<crate::reports::FiredDeadlines, crate::StoreError> {
                let mut out = crate::reports::FiredDeadlines::default();
                // A cheap read first: most ticks find nothing due, and need not queue to write.
                let due: Option<(i64,)> = sqlx::query_as(
                    "SELECT id FROM report_deadlines
                     WHERE fired_at_ms IS NULL AND cancelled_at_ms IS NULL AND due_at_ms <= $1
                     LIMIT 1",
                )
                .bind(now_ms)
                .fetch_optional(&self.pool)
                .await?;
                if due.is_none() {
                    return Ok(out);
                }
                // One transaction per deadline: a failure leaves the ones already fired fired.
                for _ in 0..limit {
                    let mut tx = self.begin_write().await?;
                    let picked: Option<(i64, i64, String)> = sqlx::query_as($due_sql)
                        .bind(now_ms)
                        .bind(1_i64)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some((deadline, report, tier)) = picked else {
                        tx.rollback().await?;
                        break;
                    };
                    let fired = Self::fire_deadline(&mut *tx, deadline, report, &tier, now_ms).await?;
                    tx.commit().await?;
                    if let Some(sent) = fired {
                        out.fired += 1;
                        out.notifications += sent;
                    }
                }
                Ok(out)
            }

            async fn next_deadline(
                &self,
            ) -> Result<Option<shield_domain::EpochMs>, crate::StoreError> {
                let (next,): (Option<i64>,) = sqlx::query_as(
                    "SELECT MIN(due_at_ms) FROM report_deadlines
                     WHERE fired_at_ms IS NULL AND cancelled_at_ms IS NULL",
                )
                .fetch_one(&self.pool)
                .await?;
                Ok(next)
            }
        }
    };
}

pub(crate) use reports_impl;
