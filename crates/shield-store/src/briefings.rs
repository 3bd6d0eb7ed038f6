//! Security briefings: scheduled by coordinators (national, `force_code` NULL) or a force's
//! contacts (their force), registered for by candidates, with a day-before reminder that is a
//! timer row the worker fires once, and attendance recorded by the organiser.
//!
//! Capacity holds under concurrency on both backends without `FOR UPDATE`: a registration
//! raises `briefings.registered` with `UPDATE … WHERE registered < capacity` (PostgreSQL
//! re-checks the condition after waiting on the row lock; SQLite writers are serialised), and a
//! `CHECK (registered <= capacity)` backs it. The registration row, the counter, the
//! invitation email (outbox) and the audit event commit together.

use async_trait::async_trait;
use shield_domain::audit::AuditEvent;
use shield_domain::{CandidateId, EpochMs, ForceCode, UserId};

use crate::StoreError;
use crate::outbox::NewOutboxMessage;

/// A briefing to schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBriefing {
    pub title: String,
    /// `None`: national (coordinators only).
    pub force: Option<ForceCode>,
    pub online_url: String,
    pub venue: String,
    pub starts_at_ms: EpochMs,
    pub ends_at_ms: EpochMs,
    pub capacity: i64,
    pub description: String,
    /// Links to materials.
    pub materials: Vec<String>,
    pub created_by: UserId,
}

/// A briefing as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BriefingRecord {
    pub id: i64,
    pub title: String,
    pub force_code: Option<String>,
    pub online_url: String,
    pub venue: String,
    pub starts_at_ms: i64,
    pub ends_at_ms: i64,
    pub capacity: i64,
    pub registered: i64,
    pub description: String,
    pub materials: String,
    pub created_by: i64,
    pub created_at_ms: i64,
}

impl BriefingRecord {
    pub fn material_links(&self) -> Vec<&str> {
        self.materials
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    }

    pub fn force(&self) -> Option<ForceCode> {
        self.force_code
            .as_deref()
            .and_then(|c| ForceCode::parse(c).ok())
    }

    pub fn places_left(&self) -> i64 {
        (self.capacity - self.registered).max(0)
    }
}

/// One candidate's place on a briefing, for the organiser's attendance list.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Registrant {
    pub candidate_id: i64,
    pub name: String,
    pub constituency: String,
    pub registered_at_ms: i64,
    pub cancelled_at_ms: Option<i64>,
    pub attended: bool,
}

/// A candidate's own registrations.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Registration {
    pub briefing_id: i64,
    pub registered_at_ms: i64,
    pub cancelled_at_ms: Option<i64>,
    pub attended: bool,
}

/// What a registration came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterOutcome {
    Registered,
    AlreadyRegistered,
    Full,
    /// Unknown, or already started.
    Closed,
}

pub(crate) const BRIEFING_SELECT: &str = "SELECT id, title, force_code, online_url, venue,
        starts_at_ms, ends_at_ms, capacity, registered, description, materials, created_by,
        created_at_ms FROM briefings";

/// Briefings. Every [`crate::Store`] is one.
#[async_trait]
pub trait BriefingStore: Send + Sync {
    async fn create_briefing(
        &self,
        briefing: &NewBriefing,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<i64, StoreError>;

    async fn briefing(&self, id: i64) -> Result<Option<BriefingRecord>, StoreError>;

    /// Briefings not yet ended at `from_ms` that are national or for one of `forces`,
    /// soonest first (what a candidate of those forces may register for).
    async fn briefings_for(
        &self,
        forces: &[ForceCode],
        from_ms: EpochMs,
    ) -> Result<Vec<BriefingRecord>, StoreError>;

    /// Briefings an organiser manages: one force's, or (None) every briefing; soonest first,
    /// including those ended in the last 30 days (to record attendance).
    async fn managed_briefings(
        &self,
        force: Option<&ForceCode>,
        from_ms: EpochMs,
    ) -> Result<Vec<BriefingRecord>, StoreError>;

    /// Registers a candidate: capacity enforced in the transaction; `email` (the invitation
    /// with its calendar attachment) and `audit` commit with it. `remind_at_ms` sets the
    /// day-before reminder (None when the briefing is less than a day away).
    #[allow(clippy::too_many_arguments)]
    async fn register_briefing(
        &self,
        briefing: i64,
        candidate: CandidateId,
        by: UserId,
        remind_at_ms: Option<EpochMs>,
        email: Option<&NewOutboxMessage>,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<RegisterOutcome, StoreError>;

    /// Cancels a live registration (the place is freed, the reminder dropped); `false` if there
    /// was none.
    async fn cancel_briefing(
        &self,
        briefing: i64,
        candidate: CandidateId,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    async fn registrants(&self, briefing: i64) -> Result<Vec<Registrant>, StoreError>;

    async fn candidate_registrations(
        &self,
        candidate: CandidateId,
    ) -> Result<Vec<Registration>, StoreError>;

    /// Records whether a registered candidate attended; `false` if they were not registered.
    async fn record_attendance(
        &self,
        briefing: i64,
        candidate: CandidateId,
        attended: bool,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// Fires up to `limit` due day-before reminders, each once: marks it sent and queues its
    /// email (to the candidate's account) in one transaction. Returns how many fired.
    async fn fire_due_briefing_reminders(
        &self,
        now_ms: EpochMs,
        limit: u32,
    ) -> Result<usize, StoreError>;

    /// The earliest pending reminder.
    async fn next_briefing_reminder(&self) -> Result<Option<EpochMs>, StoreError>;
}

/// Implements [`BriefingStore`] for one backend.
macro_rules! briefings_impl {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl crate::briefings::BriefingStore for $store {
            async fn create_briefing(
                &self,
                b: &crate::briefings::NewBriefing,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<i64, crate::StoreError> {
                if b.ends_at_ms <= b.starts_at_ms || b.capacity < 1 {
                    return Err(crate::StoreError::Conflict(
                        "a briefing ends after it starts and has at least one place".into(),
                    ));
                }
                let mut tx = self.begin_write().await?;
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO briefings (title, force_code, online_url, venue, starts_at_ms,
                        ends_at_ms, capacity, registered, description, materials, created_by,
                        created_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $10, $11) RETURNING id",
                )
                .bind(&b.title)
                .bind(b.force.as_ref().map(|f| f.as_str().to_owned()))
                .bind(&b.online_url)
                .bind(&b.venue)
                .bind(b.starts_at_ms)
                .bind(b.ends_at_ms)
                .bind(b.capacity)
                .bind(&b.description)
                .bind(b.materials.join("\n"))
                .bind(b.created_by.0)
                .bind(now_ms)
                .fetch_one(&mut *tx)
                .await?;
                let subject = shield_domain::audit::AuditSubject::new("briefing", &id.to_string())
                    .map_err(crate::reports_sql::field)?;
                Self::append_audit(&mut *tx, &audit.clone().with_subject(subject)).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn briefing(
                &self,
                id: i64,
            ) -> Result<Option<crate::briefings::BriefingRecord>, crate::StoreError> {
                let sql = format!("{} WHERE id = $1", crate::briefings::BRIEFING_SELECT);
                Ok(sqlx::query_as(&sql).bind(id).fetch_optional(&self.pool).await?)
            }

            async fn briefings_for(
                &self,
                forces: &[shield_domain::ForceCode],
                from_ms: shield_domain::EpochMs,
            ) -> Result<Vec<crate::briefings::BriefingRecord>, crate::StoreError> {
                let sql = format!(
                    "{} WHERE ends_at_ms > $1 ORDER BY starts_at_ms, id",
                    crate::briefings::BRIEFING_SELECT
                );
                let all: Vec<crate::briefings::BriefingRecord> =
                    sqlx::query_as(&sql).bind(from_ms).fetch_all(&self.pool).await?;
                Ok(all
                    .into_iter()
                    .filter(|b| match &b.force_code {
                        None => true,
                        Some(code) => forces.iter().any(|f| f.as_str() == code),
                    })
                    .collect())
            }

            async fn managed_briefings(
                &self,
                force: Option<&shield_domain::ForceCode>,
                from_ms: shield_domain::EpochMs,
            ) -> Result<Vec<crate::briefings::BriefingRecord>, crate::StoreError> {
                let sql = format!(
                    "{} WHERE ends_at_ms > $1 AND ($2 IS NULL OR force_code = $2)
                     ORDER BY starts_at_ms, id",
                    crate::briefings::BRIEFING_SELECT
                );
                Ok(sqlx::query_as(&sql)
                    .bind(from_ms - 30 * 24 * 3_600_000)
                    .bind(force.map(|f| f.as_str().to_owned()))
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn register_briefing(
                &self,
                briefing: i64,
                candidate: shield_domain::CandidateId,
                by: shield_domain::UserId,
                remind_at_ms: Option<shield_domain::EpochMs>,
                email: Option<&crate::outbox::NewOutboxMessage>,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<crate::briefings::RegisterOutcome, crate::StoreError> {
                use crate::briefings::RegisterOutcome;
                let mut tx = self.begin_write().await?;
                let open: Option<(i64,)> = sqlx::query_as(
                    "SELECT id FROM briefings WHERE id = $1 AND starts_at_ms > $2",
                )
                .bind(briefing)
                .bind(now_ms)
                .fetch_optional(&mut *tx)
                .await?;
                if open.is_none() {
                    tx.rollback().await?;
                    return Ok(RegisterOutcome::Closed);
                }
                // The row first (a live one means already registered; PostgreSQL waits on a
                // concurrent upsert of the same row and then sees it live).
                let placed: Option<(i64,)> = sqlx::query_as(
                    "INSERT INTO briefing_registrations (briefing_id, candidate_id,
                        registered_by, registered_at_ms, attended, remind_at_ms)
                     VALUES ($1, $2, $3, $4, FALSE, $5)
                     ON CONFLICT (briefing_id, candidate_id) DO UPDATE SET
                        registered_by = excluded.registered_by,
                        registered_at_ms = excluded.registered_at_ms,
                        cancelled_at_ms = NULL, remind_at_ms = excluded.remind_at_ms,
                        reminded_at_ms = NULL
                     WHERE briefing_registrations.cancelled_at_ms IS NOT NULL
                     RETURNING briefing_id",
                )
                .bind(briefing)
                .bind(candidate.0)
                .bind(by.0)
                .bind(now_ms)
                .bind(remind_at_ms)
                .fetch_optional(&mut *tx)
                .await?;
                if placed.is_none() {
                    tx.rollback().await?;
                    return Ok(RegisterOutcome::AlreadyRegistered);
                }
                let seat = sqlx::query(
                    "UPDATE briefings SET registered = registered + 1
                     WHERE id = $1 AND registered < capacity",
                )
                .bind(briefing)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if seat == 0 {
                    tx.rollback().await?;
                    return Ok(RegisterOutcome::Full);
                }
                if let Some(email) = email {
                    Self::enqueue_outbox(&mut *tx, email, now_ms).await?;
                }
                let subject =
                    shield_domain::audit::AuditSubject::new("briefing", &briefing.to_string())
                        .map_err(crate::reports_sql::field)?;
                Self::append_audit(&mut *tx, &audit.clone().with_subject(subject)).await?;
                tx.commit().await?;
                Ok(RegisterOutcome::Registered)
            }

            async fn cancel_briefing(
                &self,
                briefing: i64,
                candidate: shield_domain::CandidateId,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<bool, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let gone = sqlx::query(
                    "UPDATE briefing_registrations SET cancelled_at_ms = $3, remind_at_ms = NULL
                     WHERE briefing_id = $1 AND candidate_id = $2 AND cancelled_at_ms IS NULL",
                )
                .bind(briefing)
                .bind(candidate.0)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if gone == 0 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                sqlx::query(
                    "UPDATE briefings SET registered = registered - 1
                     WHERE id = $1 AND registered > 0",
                )
                .bind(briefing)
                .execute(&mut *tx)
                .await?;
                let subject =
                    shield_domain::audit::AuditSubject::new("briefing", &briefing.to_string())
                        .map_err(crate::reports_sql::field)?;
                Self::append_audit(&mut *tx, &audit.clone().with_subject(subject)).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn registrants(
                &self,
                briefing: i64,
            ) -> Result<Vec<crate::briefings::Registrant>, crate::StoreError> {
                let mut rows: Vec<crate::briefings::Registrant> = sqlx::query_as(
                    "SELECT r.candidate_id, c.name, k.name AS constituency, r.registered_at_ms,
                        r.cancelled_at_ms, r.attended
                     FROM briefing_registrations r JOIN candidates c ON c.id = r.candidate_id
                     JOIN constituencies k ON k.code = c.constituency_code
                     WHERE r.briefing_id = $1",
                )
                .bind(briefing)
                .fetch_all(&self.pool)
                .await?;
                rows.sort_by_key(|r| (r.name.to_lowercase(), r.candidate_id));
                Ok(rows)
            }

            async fn candidate_registrations(
                &self,
                candidate: shield_domain::CandidateId,
            ) -> Result<Vec<crate::briefings::Registration>, crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT briefing_id, registered_at_ms, cancelled_at_ms, attended
                     FROM briefing_registrations WHERE candidate_id = $1",
                )
                .bind(candidate.0)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn record_attendance(
                &self,
                briefing: i64,
                candidate: shield_domain::CandidateId,
                attended: bool,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<bool, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let n = sqlx::query(
                    "UPDATE briefing_registrations SET attended = $3
                     WHERE briefing_id = $1 AND candidate_id = $2 AND cancelled_at_ms IS NULL",
                )
                .bind(briefing)
                .bind(candidate.0)
                .bind(attended)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                let subject =
                    shield_domain::audit::AuditSubject::new("candidate", &candidate.to_string())
                        .map_err(crate::reports_sql::field)?;
                let event = audit
                    .clone()
                    .with_subject(subject)
                    .with_detail("briefing", &briefing.to_string())
                    .map_err(crate::reports_sql::field)?;
                Self::append_audit(&mut *tx, &event).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn fire_due_briefing_reminders(
                &self,
                now_ms: shield_domain::EpochMs,
                limit: u32,
            ) -> Result<usize, crate::StoreError> {
                let due: Vec<(i64, i64, String)> = sqlx::query_as(
                    "SELECT r.briefing_id, r.candidate_id, u.email
                     FROM briefing_registrations r JOIN users u ON u.candidate_id = r.candidate_id
                     WHERE r.remind_at_ms <= $1 AND r.reminded_at_ms IS NULL
                       AND r.cancelled_at_ms IS NULL AND u.status = 'active'
                     ORDER BY r.remind_at_ms LIMIT $2",
                )
                .bind(now_ms)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                if due.is_empty() {
                    return Ok(0);
                }
                let mut fired = 0;
                let mut tx = self.begin_write().await?;
                for (briefing, candidate, email) in due {
                    // Conditional: a second worker that picked the same row changes nothing.
                    let claimed = sqlx::query(
                        "UPDATE briefing_registrations SET reminded_at_ms = $3
                         WHERE briefing_id = $1 AND candidate_id = $2
                           AND reminded_at_ms IS NULL AND cancelled_at_ms IS NULL",
                    )
                    .bind(briefing)
                    .bind(candidate)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if claimed == 0 {
                        continue;
                    }
                    let Ok(to) = shield_domain::Email::parse(&email) else {
                        continue;
                    };
                    let params = crate::outbox::OutboxParams::new()
                        .with_int("briefing", briefing)
                        .map_err(crate::reports_sql::field)?;
                    let msg = crate::outbox::NewOutboxMessage::email(
                        &to,
                        crate::briefings::BRIEFING_REMINDER,
                        params,
                    )
                    .map_err(crate::reports_sql::field)?;
                    Self::enqueue_outbox(&mut *tx, &msg, now_ms).await?;
                    fired += 1;
                }
                tx.commit().await?;
                Ok(fired)
            }

            async fn next_briefing_reminder(
                &self,
            ) -> Result<Option<shield_domain::EpochMs>, crate::StoreError> {
                let (at,): (Option<i64>,) = sqlx::query_as(
                    "SELECT MIN(r.remind_at_ms) FROM briefing_registrations r
                     JOIN users u ON u.candidate_id = r.candidate_id
                     WHERE r.reminded_at_ms IS NULL AND r.cancelled_at_ms IS NULL
                       AND u.status = 'active'",
                )
                .fetch_one(&self.pool)
                .await?;
                Ok(at)
            }
        }
    };
}

pub(crate) use briefings_impl;

/// The outbox template of the day-before reminder (rendered by `shield-jobs`): param `briefing`.
pub const BRIEFING_REMINDER: &str = "briefing_reminder";
