//! Requests for additional security (journey 5): the request, the force's risk assessment, the
//! coordinator's decision, reconsideration, the timeline and the assess-by / decide-by
//! deadlines.
//!
//! Each write is one transaction holding the change, its timeline row(s), its audit event and
//! the outbox rows that tell people (force leads when requested, coordinators when assessed,
//! the candidate when decided). Written text (the candidate's reasons, the assessor's
//! rationale, the decision's reasons, new information) is sealed through the caller's
//! [`Sealer`], bound to the row it lives in; the store never holds a key.
//!
//! The same person can never both recommend and decide: the decision's `UPDATE` is conditional
//! on `assessed_by <> decider` (and a CHECK constraint backs it), whatever the caller checked.
//!
//! Deadlines are rows (`security_deadlines`, at most one live per request) fired by the worker
//! exactly as report deadlines are: one transaction per firing, PostgreSQL picks with
//! `FOR NO KEY UPDATE SKIP LOCKED`, SQLite serialises firers with `BEGIN IMMEDIATE`, and the
//! firing `UPDATE` re-checks that the row is live and the request still at that stage.

use async_trait::async_trait;
use shield_domain::audit::AuditEvent;
use shield_domain::security::Windows;
use shield_domain::{CandidateId, EpochMs, ForceCode, UserId};

use crate::StoreError;
use crate::reports::{FiredDeadlines, Sealer};

/// A request to make. `details` is the plaintext JSON the store seals as
/// `security_requests.details`; `Debug` leaves it out.
#[derive(Clone)]
pub struct NewSecurityRequest {
    pub candidate_id: CandidateId,
    pub requested_by: UserId,
    /// `shield_domain::security::Kind::key()`.
    pub kind: String,
    pub details: Vec<u8>,
    /// Report ids of the candidate's own reports.
    pub linked_reports: Vec<i64>,
}

impl std::fmt::Debug for NewSecurityRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSecurityRequest")
            .field("candidate_id", &self.candidate_id)
            .field("kind", &self.kind)
            .field("linked_reports", &self.linked_reports)
            .finish_non_exhaustive()
    }
}

/// An assessment to record. `rationale` is sealed; `Debug` leaves it out.
#[derive(Clone)]
pub struct NewAssessment {
    /// `Scores::encode()`.
    pub scores: String,
    pub rating: String,
    pub recommendation: String,
    /// Measure keys (request kinds).
    pub measures: Vec<String>,
    pub rationale: String,
}

impl std::fmt::Debug for NewAssessment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAssessment")
            .field("rating", &self.rating)
            .field("recommendation", &self.recommendation)
            .finish_non_exhaustive()
    }
}

/// A decision to record. `reasons` (plain English, for the candidate) is sealed.
#[derive(Clone)]
pub struct NewDecision {
    pub decision: String,
    pub reasons: String,
    pub review_at_ms: EpochMs,
}

impl std::fmt::Debug for NewDecision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewDecision")
            .field("decision", &self.decision)
            .field("review_at_ms", &self.review_at_ms)
            .finish_non_exhaustive()
    }
}

/// Why a write was refused; nothing was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityRefusal {
    NotFound,
    /// The request is not at the step this action is for.
    WrongStatus,
    /// The would-be decider assessed it.
    OwnRecommendation,
    /// A linked report is not one of the candidate's.
    NotTheirReport,
}

/// A request as stored, with names for pages and lists. `sealed_details` is opened with
/// `(security_requests, details, id)`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SecurityRequestRecord {
    pub id: i64,
    pub candidate_id: i64,
    pub candidate_name: String,
    pub constituency: String,
    pub owner_force: String,
    pub force_name: String,
    pub requested_by: i64,
    pub kind: String,
    #[sqlx(rename = "details")]
    pub sealed_details: Vec<u8>,
    pub linked_reports: String,
    pub urgent: bool,
    pub status: String,
    pub tier: String,
    pub assessed_by: Option<i64>,
    pub assessed_by_name: Option<String>,
    pub assessed_at_ms: Option<i64>,
    pub scores: Option<String>,
    pub rating: Option<String>,
    pub recommendation: Option<String>,
    pub measures: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_by_name: Option<String>,
    pub decided_at_ms: Option<i64>,
    pub decision: Option<String>,
    pub review_at_ms: Option<i64>,
    pub reconsiderations: i64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// The live deadline of the current step, if any.
    pub due_at_ms: Option<i64>,
}

impl SecurityRequestRecord {
    pub fn linked_report_ids(&self) -> Vec<i64> {
        self.linked_reports
            .split(',')
            .filter_map(|s| s.parse().ok())
            .collect()
    }

    pub fn measure_keys(&self) -> Vec<&str> {
        self.measures
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
            .collect()
    }
}

/// One timeline row. `note` (sealed, bound to the event id) holds the rationale, the reasons
/// or the new information, when the event has one.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SecurityEventRecord {
    pub id: i64,
    pub at_ms: i64,
    pub actor_user_id: Option<i64>,
    pub actor_name: Option<String>,
    pub kind: String,
    pub detail: String,
    pub note: Option<Vec<u8>>,
}

/// Which requests to list.
#[derive(Debug, Clone, Default)]
pub struct SecurityFilter {
    pub force: Option<ForceCode>,
    pub candidate: Option<CandidateId>,
    /// A status key.
    pub status: Option<String>,
}

pub(crate) const REQUEST_SELECT: &str = "SELECT r.id, r.candidate_id, c.name AS candidate_name,
        k.name AS constituency, r.owner_force, f.force_name, r.requested_by, r.kind, r.details,
        r.linked_reports, r.urgent, r.status, r.tier, r.assessed_by,
        ua.display_name AS assessed_by_name, r.assessed_at_ms, r.scores, r.rating,
        r.recommendation, r.measures, r.decided_by, ud.display_name AS decided_by_name,
        r.decided_at_ms, r.decision, r.review_at_ms, r.reconsiderations, r.created_at_ms,
        r.updated_at_ms,
        (SELECT MIN(d.due_at_ms) FROM security_deadlines d WHERE d.request_id = r.id
           AND d.fired_at_ms IS NULL AND d.cancelled_at_ms IS NULL) AS due_at_ms
     FROM security_requests r
     JOIN candidates c ON c.id = r.candidate_id
     JOIN constituencies k ON k.code = c.constituency_code
     JOIN forces f ON f.code = r.owner_force
     LEFT JOIN users ua ON ua.id = r.assessed_by
     LEFT JOIN users ud ON ud.id = r.decided_by";

/// SQLite's pick of due deadlines (`$1` now), inside `BEGIN IMMEDIATE`.
pub(crate) const SQLITE_DUE_SECURITY: &str =
    "SELECT d.id, d.request_id, d.stage, d.tier, d.window_ms
     FROM security_deadlines d JOIN security_requests r ON r.id = d.request_id
     WHERE d.fired_at_ms IS NULL AND d.cancelled_at_ms IS NULL AND d.due_at_ms <= $1
     ORDER BY d.due_at_ms, d.id LIMIT 1";

/// PostgreSQL's pick: the deadline and its request locked together, locked rows skipped.
pub(crate) const POSTGRES_DUE_SECURITY: &str =
    "SELECT d.id, d.request_id, d.stage, d.tier, d.window_ms
     FROM security_deadlines d JOIN security_requests r ON r.id = d.request_id
     WHERE d.fired_at_ms IS NULL AND d.cancelled_at_ms IS NULL AND d.due_at_ms <= $1
     ORDER BY d.due_at_ms, d.id LIMIT 1
     FOR NO KEY UPDATE SKIP LOCKED";

/// Requests for additional security. Every [`crate::Store`] is one.
#[async_trait]
pub trait SecurityRequestStore: Send + Sync {
    /// Makes a request: routed to the candidate's primary force, its leads told, an assess-by
    /// deadline set (same day if a linked report is P1).
    async fn create_security_request(
        &self,
        request: &NewSecurityRequest,
        sealer: &dyn Sealer,
        windows: &Windows,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<Result<i64, SecurityRefusal>, StoreError>;

    async fn security_request(&self, id: i64) -> Result<Option<SecurityRequestRecord>, StoreError>;

    /// The request's candidate, the candidate's forces and who assessed it, for the policy.
    async fn security_request_scope(
        &self,
        id: i64,
    ) -> Result<Option<(CandidateId, Vec<ForceCode>, Option<UserId>)>, StoreError>;

    /// Requests, newest first. `force` takes every request whose candidate that force serves
    /// (the owning force and, for a cross-force seat, the other), as the policy lets both act.
    async fn security_requests(
        &self,
        filter: &SecurityFilter,
    ) -> Result<Vec<SecurityRequestRecord>, StoreError>;

    async fn security_events(&self, id: i64) -> Result<Vec<SecurityEventRecord>, StoreError>;

    /// Records the assessment (only while awaiting one): the assess-by deadline is cancelled, a
    /// decide-by deadline set and the coordinators told.
    #[allow(clippy::too_many_arguments)]
    async fn assess_security_request(
        &self,
        id: i64,
        by: UserId,
        assessment: &NewAssessment,
        sealer: &dyn Sealer,
        windows: &Windows,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<Result<(), SecurityRefusal>, StoreError>;

    /// Records the decision (only while awaiting one, and never by the assessor); the
    /// candidate is told.
    async fn decide_security_request(
        &self,
        id: i64,
        by: UserId,
        decision: &NewDecision,
        sealer: &dyn Sealer,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<Result<(), SecurityRefusal>, StoreError>;

    /// The candidate asks again with new information: back to assessment, with a new
    /// assess-by deadline, the force's leads told.
    #[allow(clippy::too_many_arguments)]
    async fn reconsider_security_request(
        &self,
        id: i64,
        by: UserId,
        information: &str,
        sealer: &dyn Sealer,
        windows: &Windows,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<Result<(), SecurityRefusal>, StoreError>;

    /// Fires up to `limit` due assess-by / decide-by deadlines, each once.
    async fn fire_due_security_deadlines(
        &self,
        now_ms: EpochMs,
        limit: u32,
    ) -> Result<FiredDeadlines, StoreError>;

    async fn next_security_deadline(&self) -> Result<Option<EpochMs>, StoreError>;
}

pub(crate) fn params(id: i64) -> Result<crate::outbox::OutboxParams, StoreError> {
    crate::outbox::OutboxParams::new()
        .with_int("request", id)
        .and_then(|p| p.with_id("ref", &shield_domain::security::reference(id)))
        .map_err(crate::reports_sql::field)
}

/// Implements [`SecurityRequestStore`] for one backend; `$due_sql` picks a due deadline.
macro_rules! security_impl {
    ($store:ty, $db:ty, $due_sql:expr) => {
        impl $store {
            async fn security_event(
                conn: &mut <$db as sqlx::Database>::Connection,
                request: i64,
                at_ms: i64,
                actor: Option<i64>,
                kind: &str,
                detail: &str,
                note: Option<(&dyn crate::reports::Sealer, &str)>,
            ) -> Result<i64, crate::StoreError> {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO security_request_events (request_id, at_ms, actor_user_id, kind, detail)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(request)
                .bind(at_ms)
                .bind(actor)
                .bind(kind)
                .bind(detail)
                .fetch_one(&mut *conn)
                .await?;
                if let Some((sealer, text)) = note {
                    let sealed = sealer.seal("security_request_events", "note", id, text.as_bytes());
                    sqlx::query("UPDATE security_request_events SET note = $2 WHERE id = $1")
                        .bind(id)
                        .bind(sealed)
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(id)
            }

            /// Enqueues one email per address and a `notified` timeline row for each.
            async fn notify_security(
                conn: &mut <$db as sqlx::Database>::Connection,
                request: i64,
                to: &[String],
                template: &str,
                params: &crate::outbox::OutboxParams,
                now_ms: i64,
            ) -> Result<usize, crate::StoreError> {
                let msgs = crate::reports_sql::emails(to, template, params)?;
                for msg in &msgs {
                    let outbox = Self::enqueue_outbox(&mut *conn, msg, now_ms).await?;
                    let detail = crate::reports_sql::detail(&[
                        ("outbox", outbox.into()),
                        ("template", msg.template.as_str().into()),
                    ]);
                    Self::security_event(&mut *conn, request, now_ms, None, "notified", &detail, None)
                        .await?;
                }
                Ok(msgs.len())
            }

            async fn coordinator_emails(
                conn: &mut <$db as sqlx::Database>::Connection,
                except: Option<i64>,
            ) -> Result<Vec<String>, crate::StoreError> {
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT email FROM users WHERE role = 'coordinator' AND status = 'active'
                       AND ($1 < 0 OR id <> $1) ORDER BY email",
                )
                .bind(except.unwrap_or(-1))
                .fetch_all(&mut *conn)
                .await?;
                Ok(rows.into_iter().map(|(e,)| e).collect())
            }

            async fn set_security_deadline(
                conn: &mut <$db as sqlx::Database>::Connection,
                request: i64,
                stage: shield_domain::security::Stage,
                tier: shield_domain::report::Tier,
                window_ms: i64,
                now_ms: i64,
            ) -> Result<(), crate::StoreError> {
                sqlx::query(
                    "INSERT INTO security_deadlines (request_id, stage, tier, window_ms, due_at_ms, created_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(request)
                .bind(stage.key())
                .bind(tier.key())
                .bind(window_ms)
                .bind(now_ms + window_ms)
                .bind(now_ms)
                .execute(&mut *conn)
                .await?;
                Ok(())
            }

            async fn cancel_security_deadlines(
                conn: &mut <$db as sqlx::Database>::Connection,
                request: i64,
                now_ms: i64,
            ) -> Result<(), crate::StoreError> {
                sqlx::query(
                    "UPDATE security_deadlines SET cancelled_at_ms = $2
                     WHERE request_id = $1 AND fired_at_ms IS NULL AND cancelled_at_ms IS NULL",
                )
                .bind(request)
                .bind(now_ms)
                .execute(&mut *conn)
                .await?;
                Ok(())
            }

            async fn audit_security(
                conn: &mut <$db as sqlx::Database>::Connection,
                audit: &shield_domain::audit::AuditEvent,
                request: i64,
            ) -> Result<(), crate::StoreError> {
                let subject =
                    shield_domain::audit::AuditSubject::new("security_request", &request.to_string())
                        .map_err(crate::reports_sql::field)?;
                Self::append_audit(&mut *conn, &audit.clone().with_subject(subject)).await?;
                Ok(())
            }

            /// Why a conditional update touched nothing.
            async fn security_refusal(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: i64,
                by: i64,
            ) -> Result<crate::security_requests::SecurityRefusal, crate::StoreError> {
                use crate::security_requests::SecurityRefusal;
                let row: Option<(String, Option<i64>)> =
                    sqlx::query_as("SELECT status, assessed_by FROM security_requests WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *conn)
                        .await?;
                Ok(match row {
                    None => SecurityRefusal::NotFound,
                    Some((status, Some(a))) if status == "awaiting_decision" && a == by => {
                        SecurityRefusal::OwnRecommendation
                    }
                    Some(_) => SecurityRefusal::WrongStatus,
                })
            }

            async fn fire_security_deadline(
                conn: &mut <$db as sqlx::Database>::Connection,
                deadline: i64,
                request: i64,
                stage: &str,
                tier: &str,
                window_ms: i64,
                now_ms: i64,
            ) -> Result<Option<usize>, crate::StoreError> {
                use shield_domain::report::Tier;
                use shield_domain::security::{Stage, escalate_to, escalated_window};
                let stage = Stage::parse(stage)
                    .ok_or_else(|| crate::StoreError::Corrupt(format!("deadline {deadline}: stage")))?;
                let status = match stage {
                    Stage::Assessment => "awaiting_assessment",
                    Stage::Decision => "awaiting_decision",
                };
                let fired = sqlx::query(
                    "UPDATE security_deadlines SET fired_at_ms = $2
                     WHERE id = $1 AND fired_at_ms IS NULL AND cancelled_at_ms IS NULL
                       AND EXISTS (SELECT 1 FROM security_requests r
                                   WHERE r.id = security_deadlines.request_id AND r.status = $3)",
                )
                .bind(deadline)
                .bind(now_ms)
                .bind(status)
                .execute(&mut *conn)
                .await?
                .rows_affected();
                if fired != 1 {
                    sqlx::query(
                        "UPDATE security_deadlines SET cancelled_at_ms = $2
                         WHERE id = $1 AND fired_at_ms IS NULL AND cancelled_at_ms IS NULL",
                    )
                    .bind(deadline)
                    .bind(now_ms)
                    .execute(&mut *conn)
                    .await?;
                    return Ok(None);
                }
                let tier = crate::reports_sql::tier(request, tier)?;
                let Some(next) = escalate_to(stage, tier) else {
                    return Ok(Some(0));
                };
                let (owner,): (String,) = sqlx::query_as(
                    "UPDATE security_requests SET tier = $2, updated_at_ms = $3 WHERE id = $1
                     RETURNING owner_force",
                )
                .bind(request)
                .bind(next.key())
                .bind(now_ms)
                .fetch_one(&mut *conn)
                .await?;
                let detail = crate::reports_sql::detail(&[
                    ("stage", stage.key().into()),
                    ("tier", next.key().into()),
                ]);
                Self::security_event(&mut *conn, request, now_ms, None, "escalated", &detail, None)
                    .await?;
                let to = match next {
                    Tier::Lead => Self::contact_emails(&mut *conn, &owner, "lead").await?,
                    Tier::Deputy => Self::contact_emails(&mut *conn, &owner, "deputy").await?,
                    Tier::Coordinator => Self::coordinator_emails(&mut *conn, None).await?,
                };
                let params = crate::security_requests::params(request)?
                    .with_id("stage", stage.key())
                    .and_then(|p| p.with_id("tier", next.key()))
                    .map_err(crate::reports_sql::field)?;
                let sent = Self::notify_security(
                    &mut *conn,
                    request,
                    &to,
                    "security_overdue",
                    &params,
                    now_ms,
                )
                .await?;
                if let Some(window) = escalated_window(stage, next, window_ms) {
                    Self::set_security_deadline(&mut *conn, request, stage, next, window, now_ms)
                        .await?;
                }
                let subject =
                    shield_domain::audit::AuditSubject::new("security_request", &request.to_string())
                        .map_err(crate::reports_sql::field)?;
                let event = shield_domain::audit::AuditEvent::from_millis(
                    shield_domain::audit::AuditAction::parse("security_request_escalated")
                        .map_err(crate::reports_sql::field)?,
                    shield_domain::audit::AuditOutcome::Success,
                    now_ms,
                )
                .map_err(crate::reports_sql::field)?
                .with_subject(subject)
                .with_detail("tier", next.key())
                .and_then(|e| e.with_detail("stage", stage.key()))
                .map_err(crate::reports_sql::field)?;
                Self::append_audit(&mut *conn, &event).await?;
                Ok(Some(sent))
            }
        }

        #[async_trait::async_trait]
        impl crate::security_requests::SecurityRequestStore for $store {
            async fn create_security_request(
                &self,
                request: &crate::security_requests::NewSecurityRequest,
                sealer: &dyn crate::reports::Sealer,
                windows: &shield_domain::security::Windows,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<Result<i64, crate::security_requests::SecurityRefusal>, crate::StoreError> {
                use shield_domain::security::{Stage, first_tier};
                let mut tx = self.begin_write().await?;
                let owner: Option<(String,)> = sqlx::query_as(
                    "SELECT l.force_code FROM candidates c
                     JOIN constituency_forces l ON l.constituency_code = c.constituency_code
                     WHERE c.id = $1 AND l.is_primary",
                )
                .bind(request.candidate_id.0)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((owner,)) = owner else {
                    tx.rollback().await?;
                    return Ok(Err(crate::security_requests::SecurityRefusal::NotFound));
                };
                let mut urgent = false;
                for report in &request.linked_reports {
                    let row: Option<(i64, i32)> =
                        sqlx::query_as("SELECT candidate_id, priority FROM reports WHERE id = $1")
                            .bind(report)
                            .fetch_optional(&mut *tx)
                            .await?;
                    match row {
                        Some((c, p)) if c == request.candidate_id.0 => urgent |= p == 1,
                        _ => {
                            tx.rollback().await?;
                            return Ok(Err(
                                crate::security_requests::SecurityRefusal::NotTheirReport,
                            ));
                        }
                    }
                }
                let tier = first_tier(Stage::Assessment);
                let linked = request
                    .linked_reports
                    .iter()
                    .map(|r| r.to_string())
                    .collect::<Vec<_>>()
                    .join(",");
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO security_requests (candidate_id, owner_force, requested_by, kind,
                        details, linked_reports, urgent, status, tier, created_at_ms, updated_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'awaiting_assessment', $8, $9, $9)
                     RETURNING id",
                )
                .bind(request.candidate_id.0)
                .bind(&owner)
                .bind(request.requested_by.0)
                .bind(&request.kind)
                .bind(Vec::<u8>::new())
                .bind(&linked)
                .bind(urgent)
                .bind(tier.key())
                .bind(now_ms)
                .fetch_one(&mut *tx)
                .await?;
                let sealed = sealer.seal("security_requests", "details", id, &request.details);
                sqlx::query("UPDATE security_requests SET details = $2 WHERE id = $1")
                    .bind(id)
                    .bind(sealed)
                    .execute(&mut *tx)
                    .await?;
                let detail = crate::reports_sql::detail(&[
                    ("kind", request.kind.as_str().into()),
                    ("urgent", urgent.into()),
                ]);
                Self::security_event(
                    &mut *tx,
                    id,
                    now_ms,
                    Some(request.requested_by.0),
                    "requested",
                    &detail,
                    None,
                )
                .await?;
                let window = windows.window(Stage::Assessment, urgent);
                Self::set_security_deadline(&mut *tx, id, Stage::Assessment, tier, window, now_ms)
                    .await?;
                let to = Self::contact_emails(&mut *tx, &owner, "lead").await?;
                let params = crate::security_requests::params(id)?;
                Self::notify_security(&mut *tx, id, &to, "security_requested", &params, now_ms)
                    .await?;
                Self::audit_security(&mut *tx, audit, id).await?;
                tx.commit().await?;
                Ok(Ok(id))
            }

            async fn security_request(
                &self,
                id: i64,
            ) -> Result<Option<crate::security_requests::SecurityRequestRecord>, crate::StoreError>
            {
                let sql = format!("{} WHERE r.id = $1", crate::security_requests::REQUEST_SELECT);
                Ok(sqlx::query_as(&sql).bind(id).fetch_optional(&self.pool).await?)
            }

            async fn security_request_scope(
                &self,
                id: i64,
            ) -> Result<
                Option<(
                    shield_domain::CandidateId,
                    Vec<shield_domain::ForceCode>,
                    Option<shield_domain::UserId>,
                )>,
                crate::StoreError,
            > {
                let row: Option<(i64, Option<i64>)> = sqlx::query_as(
                    "SELECT candidate_id, assessed_by FROM security_requests WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                let Some((candidate, assessed_by)) = row else {
                    return Ok(None);
                };
                let candidate = shield_domain::CandidateId(candidate);
                let forces =
                    crate::accounts::AccountStore::candidate_forces(self, candidate).await?;
                Ok(Some((candidate, forces, assessed_by.map(shield_domain::UserId))))
            }

            async fn security_requests(
                &self,
                filter: &crate::security_requests::SecurityFilter,
            ) -> Result<Vec<crate::security_requests::SecurityRequestRecord>, crate::StoreError>
            {
                let sql = format!(
                    "{} WHERE ($1 = '' OR EXISTS (SELECT 1 FROM constituency_forces l
                          WHERE l.constituency_code = c.constituency_code AND l.force_code = $1))
                       AND ($2 < 0 OR r.candidate_id = $2)
                     ORDER BY r.id DESC",
                    crate::security_requests::REQUEST_SELECT
                );
                let rows: Vec<crate::security_requests::SecurityRequestRecord> =
                    sqlx::query_as(&sql)
                        .bind(filter.force.as_ref().map(|f| f.as_str().to_owned()).unwrap_or_default())
                        .bind(filter.candidate.map_or(-1, |c| c.0))
                        .fetch_all(&self.pool)
                        .await?;
                Ok(match &filter.status {
                    Some(s) => rows.into_iter().filter(|r| &r.status == s).collect(),
                    None => rows,
                })
            }

            async fn security_events(
                &self,
                id: i64,
            ) -> Result<Vec<crate::security_requests::SecurityEventRecord>, crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT e.id, e.at_ms, e.actor_user_id, u.display_name AS actor_name, e.kind,
                        e.detail, e.note
                     FROM security_request_events e LEFT JOIN users u ON u.id = e.actor_user_id
                     WHERE e.request_id = $1 ORDER BY e.id",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn assess_security_request(
                &self,
                id: i64,
                by: shield_domain::UserId,
                assessment: &crate::security_requests::NewAssessment,
                sealer: &dyn crate::reports::Sealer,
                windows: &shield_domain::security::Windows,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<Result<(), crate::security_requests::SecurityRefusal>, crate::StoreError> {
                use shield_domain::security::{Stage, first_tier};
                let mut tx = self.begin_write().await?;
                let tier = first_tier(Stage::Decision);
                let urgent: Option<(bool,)> = sqlx::query_as(
                    "UPDATE security_requests SET status = 'awaiting_decision', tier = $3,
                        assessed_by = $2, assessed_at_ms = $4, scores = $5, rating = $6,
                        recommendation = $7, measures = $8, decided_by = NULL,
                        decided_at_ms = NULL, decision = NULL, review_at_ms = NULL,
                        updated_at_ms = $4
                     WHERE id = $1 AND status = 'awaiting_assessment'
                     RETURNING urgent",
                )
                .bind(id)
                .bind(by.0)
                .bind(tier.key())
                .bind(now_ms)
                .bind(&assessment.scores)
                .bind(&assessment.rating)
                .bind(&assessment.recommendation)
                .bind(assessment.measures.join(","))
                .fetch_optional(&mut *tx)
                .await?;
                let Some((urgent,)) = urgent else {
                    let why = Self::security_refusal(&mut *tx, id, by.0).await?;
                    tx.rollback().await?;
                    return Ok(Err(why));
                };
                Self::cancel_security_deadlines(&mut *tx, id, now_ms).await?;
                let detail = crate::reports_sql::detail(&[
                    ("rating", assessment.rating.as_str().into()),
                    ("recommendation", assessment.recommendation.as_str().into()),
                    ("measures", assessment.measures.join(",").into()),
                    ("scores", assessment.scores.as_str().into()),
                ]);
                Self::security_event(
                    &mut *tx,
                    id,
                    now_ms,
                    Some(by.0),
                    "assessed",
                    &detail,
                    Some((sealer, assessment.rationale.as_str())),
                )
                .await?;
                let window = windows.window(Stage::Decision, urgent);
                Self::set_security_deadline(&mut *tx, id, Stage::Decision, tier, window, now_ms)
                    .await?;
                let to = Self::coordinator_emails(&mut *tx, Some(by.0)).await?;
                let params = crate::security_requests::params(id)?;
                Self::notify_security(&mut *tx, id, &to, "security_assessed", &params, now_ms)
                    .await?;
                Self::audit_security(&mut *tx, audit, id).await?;
                tx.commit().await?;
                Ok(Ok(()))
            }

            async fn decide_security_request(
                &self,
                id: i64,
                by: shield_domain::UserId,
                decision: &crate::security_requests::NewDecision,
                sealer: &dyn crate::reports::Sealer,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<Result<(), crate::security_requests::SecurityRefusal>, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                // The assessor can never decide: checked here whatever the caller checked.
                let done: Option<(i64,)> = sqlx::query_as(
                    "UPDATE security_requests SET status = 'decided', decided_by = $2,
                        decided_at_ms = $3, decision = $4, review_at_ms = $5, updated_at_ms = $3
                     WHERE id = $1 AND status = 'awaiting_decision'
                       AND assessed_by IS NOT NULL AND assessed_by <> $2
                     RETURNING candidate_id",
                )
                .bind(id)
                .bind(by.0)
                .bind(now_ms)
                .bind(&decision.decision)
                .bind(decision.review_at_ms)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((candidate,)) = done else {
                    let why = Self::security_refusal(&mut *tx, id, by.0).await?;
                    tx.rollback().await?;
                    return Ok(Err(why));
                };
                Self::cancel_security_deadlines(&mut *tx, id, now_ms).await?;
                let detail = crate::reports_sql::detail(&[
                    ("decision", decision.decision.as_str().into()),
                    ("review_at_ms", decision.review_at_ms.into()),
                ]);
                Self::security_event(
                    &mut *tx,
                    id,
                    now_ms,
                    Some(by.0),
                    "decided",
                    &detail,
                    Some((sealer, decision.reasons.as_str())),
                )
                .await?;
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT email FROM users WHERE candidate_id = $1 AND status = 'active'",
                )
                .bind(candidate)
                .fetch_all(&mut *tx)
                .await?;
                let to: Vec<String> = rows.into_iter().map(|(e,)| e).collect();
                let params = crate::security_requests::params(id)?;
                Self::notify_security(&mut *tx, id, &to, "security_decided", &params, now_ms)
                    .await?;
                Self::audit_security(&mut *tx, audit, id).await?;
                tx.commit().await?;
                Ok(Ok(()))
            }

            async fn reconsider_security_request(
                &self,
                id: i64,
                by: shield_domain::UserId,
                information: &str,
                sealer: &dyn crate::reports::Sealer,
                windows: &shield_domain::security::Windows,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<Result<(), crate::security_requests::SecurityRefusal>, crate::StoreError> {
                use shield_domain::security::{Stage, first_tier};
                let mut tx = self.begin_write().await?;
                let tier = first_tier(Stage::Assessment);
                let row: Option<(bool, String)> = sqlx::query_as(
                    "UPDATE security_requests SET status = 'awaiting_assessment', tier = $2,
                        assessed_by = NULL, reconsiderations = reconsiderations + 1,
                        updated_at_ms = $3
                     WHERE id = $1 AND status = 'decided'
                     RETURNING urgent, owner_force",
                )
                .bind(id)
                .bind(tier.key())
                .bind(now_ms)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((urgent, owner)) = row else {
                    let why = Self::security_refusal(&mut *tx, id, by.0).await?;
                    tx.rollback().await?;
                    return Ok(Err(why));
                };
                Self::security_event(
                    &mut *tx,
                    id,
                    now_ms,
                    Some(by.0),
                    "reconsideration",
                    "{}",
                    Some((sealer, information)),
                )
                .await?;
                let window = windows.window(Stage::Assessment, urgent);
                Self::set_security_deadline(&mut *tx, id, Stage::Assessment, tier, window, now_ms)
                    .await?;
                let to = Self::contact_emails(&mut *tx, &owner, "lead").await?;
                let params = crate::security_requests::params(id)?;
                Self::notify_security(&mut *tx, id, &to, "security_requested", &params, now_ms)
                    .await?;
                Self::audit_security(&mut *tx, audit, id).await?;
                tx.commit().await?;
                Ok(Ok(()))
            }

            async fn fire_due_security_deadlines(
                &self,
                now_ms: shield_domain::EpochMs,
                limit: u32,
            ) -> Result<crate::reports::FiredDeadlines, crate::StoreError> {
                let mut out = crate::reports::FiredDeadlines::default();
                let due: Option<(i64,)> = sqlx::query_as(
                    "SELECT id FROM security_deadlines
                     WHERE fired_at_ms IS NULL AND cancelled_at_ms IS NULL AND due_at_ms <= $1
                     LIMIT 1",
                )
                .bind(now_ms)
                .fetch_optional(&self.pool)
                .await?;
                if due.is_none() {
                    return Ok(out);
                }
                for _ in 0..limit {
                    let mut tx = self.begin_write().await?;
                    let picked: Option<(i64, i64, String, String, i64)> = sqlx::query_as($due_sql)
                        .bind(now_ms)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some((deadline, request, stage, tier, window)) = picked else {
                        tx.rollback().await?;
                        break;
                    };
                    let fired = Self::fire_security_deadline(
                        &mut *tx, deadline, request, &stage, &tier, window, now_ms,
                    )
                    .await?;
                    tx.commit().await?;
                    if let Some(sent) = fired {
                        out.fired += 1;
                        out.notifications += sent;
                    }
                }
                Ok(out)
            }

            async fn next_security_deadline(
                &self,
            ) -> Result<Option<shield_domain::EpochMs>, crate::StoreError> {
                let (next,): (Option<i64>,) = sqlx::query_as(
                    "SELECT MIN(due_at_ms) FROM security_deadlines
                     WHERE fired_at_ms IS NULL AND cancelled_at_ms IS NULL",
                )
                .fetch_one(&self.pool)
                .await?;
                Ok(next)
            }
        }
    };
}

pub(crate) use security_impl;
