//! Registered campaign activities (journey 6) and the per-user calendar feed tokens that let
//! the police subscribe to them.
//!
//! An activity's `place` is sealed like a check-in session's, bound to `(activities, place,
//! id)`: the store inserts the row, has the [`Sealer`] seal the place for that id and writes
//! it, in one transaction. The store never opens it; the web layer does, for the candidate's
//! side and for the police of the candidate's forces.
//!
//! A calendar token is a bearer credential in a URL, so only its SHA-256 is kept; one per
//! person, replaced on rotation and deleted on revocation.

use async_trait::async_trait;
use shield_domain::audit::AuditEvent;
use shield_domain::{CandidateId, EpochMs, ForceCode, UserId};

use crate::StoreError;
use crate::reports::Sealer;

/// An activity to register. `place` is sealed as `activities.place`; `Debug` leaves it out.
#[derive(Clone)]
pub struct NewActivity {
    pub candidate_id: CandidateId,
    pub created_by: UserId,
    /// `shield_domain::checkin::ActivityKind::key()`.
    pub kind: String,
    pub starts_at_ms: EpochMs,
    pub ends_at_ms: EpochMs,
    pub place: String,
    pub people: i64,
    pub alone: bool,
    /// Checklist keys ticked (hustings and surgeries).
    pub checklist: Vec<String>,
}

impl std::fmt::Debug for NewActivity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewActivity")
            .field("candidate_id", &self.candidate_id)
            .field("kind", &self.kind)
            .field("starts_at_ms", &self.starts_at_ms)
            .field("ends_at_ms", &self.ends_at_ms)
            .finish_non_exhaustive()
    }
}

/// An activity as stored, with its candidate's name and constituency for the police's lists.
/// `sealed_place` is opened by the caller with `(activities, place, id)`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ActivityRecord {
    pub id: i64,
    pub candidate_id: i64,
    pub candidate_name: String,
    pub constituency: String,
    pub kind: String,
    pub starts_at_ms: i64,
    pub ends_at_ms: i64,
    #[sqlx(rename = "place")]
    pub sealed_place: Vec<u8>,
    pub people: i64,
    pub alone: bool,
    /// Comma-separated checklist keys ticked.
    pub checklist: String,
    pub created_at_ms: i64,
    /// When it was called off; a cancelled activity stays listed, marked as such.
    pub cancelled_at_ms: Option<i64>,
    /// Bumped by every change: the feed's `SEQUENCE`.
    pub revision: i64,
}

impl ActivityRecord {
    pub fn checklist_items(&self) -> Vec<&str> {
        self.checklist
            .split(',')
            .filter(|s| !s.is_empty())
            .collect()
    }
}

pub(crate) const ACTIVITY_SELECT: &str = "SELECT a.id, a.candidate_id, c.name AS candidate_name,
        k.name AS constituency, a.kind, a.starts_at_ms, a.ends_at_ms, a.place, a.people, a.alone,
        a.checklist, a.created_at_ms, a.cancelled_at_ms, a.revision
     FROM activities a
     JOIN candidates c ON c.id = a.candidate_id
     JOIN constituencies k ON k.code = c.constituency_code";

/// Activities and calendar feed tokens. Every [`crate::Store`] is one.
#[async_trait]
pub trait ActivityStore: Send + Sync {
    /// Registers an activity; its end must be after its start.
    async fn create_activity(
        &self,
        activity: &NewActivity,
        sealer: &dyn Sealer,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<i64, StoreError>;

    async fn activity(&self, id: i64) -> Result<Option<ActivityRecord>, StoreError>;

    /// A candidate's activities that have not ended by `from_ms`, soonest first.
    async fn candidate_activities(
        &self,
        candidate: CandidateId,
        from_ms: EpochMs,
        limit: u32,
    ) -> Result<Vec<ActivityRecord>, StoreError>;

    /// Activities not ended by `from_ms` of the candidates of a force (or of all, for
    /// coordinators), soonest first.
    async fn force_activities(
        &self,
        force: Option<&ForceCode>,
        from_ms: EpochMs,
        limit: u32,
    ) -> Result<Vec<ActivityRecord>, StoreError>;

    /// Activities of the candidates of a force (or of all) that overlap `[from_ms, to_ms)`,
    /// cancelled ones included, soonest first: a month of the force's calendar.
    async fn force_activities_between(
        &self,
        force: Option<&ForceCode>,
        from_ms: EpochMs,
        to_ms: EpochMs,
        limit: u32,
    ) -> Result<Vec<ActivityRecord>, StoreError>;

    /// Replaces the ticked checklist items of an activity not cancelled; `false` if it is
    /// cancelled or gone.
    async fn set_activity_checklist(
        &self,
        id: i64,
        checklist: &[String],
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// Cancels an activity; `false` if it was already cancelled or is gone.
    async fn cancel_activity(
        &self,
        id: i64,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// Sets (or replaces) a person's calendar feed token.
    async fn set_calendar_token(
        &self,
        user: UserId,
        token_hash: &[u8],
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;

    /// Revokes a person's calendar feed token; `false` if they had none.
    async fn revoke_calendar_token(
        &self,
        user: UserId,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// When a person's calendar token was made, if they have one.
    async fn calendar_token_created(&self, user: UserId) -> Result<Option<EpochMs>, StoreError>;

    /// Whose calendar token this is.
    async fn calendar_token_user(&self, token_hash: &[u8]) -> Result<Option<UserId>, StoreError>;
}

/// Implements [`ActivityStore`] for one backend.
macro_rules! activities_impl {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl crate::activities::ActivityStore for $store {
            async fn create_activity(
                &self,
                activity: &crate::activities::NewActivity,
                sealer: &dyn crate::reports::Sealer,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<i64, crate::StoreError> {
                if activity.ends_at_ms <= activity.starts_at_ms || activity.people < 1 {
                    return Err(crate::StoreError::Conflict(
                        "an activity ends after it starts and has at least one person".into(),
                    ));
                }
                let mut tx = self.begin_write().await?;
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO activities (candidate_id, created_by, kind, starts_at_ms,
                        ends_at_ms, place, people, alone, checklist, created_at_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                )
                .bind(activity.candidate_id.0)
                .bind(activity.created_by.0)
                .bind(&activity.kind)
                .bind(activity.starts_at_ms)
                .bind(activity.ends_at_ms)
                .bind(Vec::<u8>::new())
                .bind(activity.people)
                .bind(activity.alone)
                .bind(activity.checklist.join(","))
                .bind(now_ms)
                .fetch_one(&mut *tx)
                .await?;
                let sealed = sealer.seal("activities", "place", id, activity.place.as_bytes());
                sqlx::query("UPDATE activities SET place = $2 WHERE id = $1")
                    .bind(id)
                    .bind(sealed)
                    .execute(&mut *tx)
                    .await?;
                let subject = shield_domain::audit::AuditSubject::new("activity", &id.to_string())
                    .map_err(crate::reports_sql::field)?;
                Self::append_audit(&mut *tx, &audit.clone().with_subject(subject)).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn activity(
                &self,
                id: i64,
            ) -> Result<Option<crate::activities::ActivityRecord>, crate::StoreError> {
                let sql = format!("{} WHERE a.id = $1", crate::activities::ACTIVITY_SELECT);
                Ok(sqlx::query_as(&sql).bind(id).fetch_optional(&self.pool).await?)
            }

            async fn candidate_activities(
                &self,
                candidate: shield_domain::CandidateId,
                from_ms: shield_domain::EpochMs,
                limit: u32,
            ) -> Result<Vec<crate::activities::ActivityRecord>, crate::StoreError> {
                let sql = format!(
                    "{} WHERE a.candidate_id = $1 AND a.ends_at_ms > $2
                     ORDER BY a.starts_at_ms, a.id LIMIT $3",
                    crate::activities::ACTIVITY_SELECT
                );
                Ok(sqlx::query_as(&sql)
                    .bind(candidate.0)
                    .bind(from_ms)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn force_activities(
                &self,
                force: Option<&shield_domain::ForceCode>,
                from_ms: shield_domain::EpochMs,
                limit: u32,
            ) -> Result<Vec<crate::activities::ActivityRecord>, crate::StoreError> {
                let sql = format!(
                    "{} WHERE a.ends_at_ms > $2
                       AND ($1 IS NULL OR EXISTS (SELECT 1 FROM constituency_forces l
                          WHERE l.constituency_code = c.constituency_code AND l.force_code = $1))
                     ORDER BY a.starts_at_ms, a.id LIMIT $3",
                    crate::activities::ACTIVITY_SELECT
                );
                Ok(sqlx::query_as(&sql)
                    .bind(force.map(|f| f.as_str().to_owned()))
                    .bind(from_ms)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn force_activities_between(
                &self,
                force: Option<&shield_domain::ForceCode>,
                from_ms: shield_domain::EpochMs,
                to_ms: shield_domain::EpochMs,
                limit: u32,
            ) -> Result<Vec<crate::activities::ActivityRecord>, crate::StoreError> {
                let sql = format!(
                    "{} WHERE a.ends_at_ms > $2 AND a.starts_at_ms < $3
                       AND ($1 IS NULL OR EXISTS (SELECT 1 FROM constituency_forces l
                          WHERE l.constituency_code = c.constituency_code AND l.force_code = $1))
                     ORDER BY a.starts_at_ms, a.id LIMIT $4",
                    crate::activities::ACTIVITY_SELECT
                );
                Ok(sqlx::query_as(&sql)
                    .bind(force.map(|f| f.as_str().to_owned()))
                    .bind(from_ms)
                    .bind(to_ms)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn set_activity_checklist(
                &self,
                id: i64,
                checklist: &[String],
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<bool, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE activities SET checklist = $2, revision = revision + 1
                     WHERE id = $1 AND cancelled_at_ms IS NULL",
                )
                .bind(id)
                .bind(checklist.join(","))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if done != 1 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                let subject = shield_domain::audit::AuditSubject::new("activity", &id.to_string())
                    .map_err(crate::reports_sql::field)?;
                Self::append_audit(&mut *tx, &audit.clone().with_subject(subject)).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn cancel_activity(
                &self,
                id: i64,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<bool, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE activities SET cancelled_at_ms = $2, revision = revision + 1
                     WHERE id = $1 AND cancelled_at_ms IS NULL",
                )
                .bind(id)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if done != 1 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                let subject = shield_domain::audit::AuditSubject::new("activity", &id.to_string())
                    .map_err(crate::reports_sql::field)?;
                Self::append_audit(&mut *tx, &audit.clone().with_subject(subject)).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn set_calendar_token(
                &self,
                user: shield_domain::UserId,
                token_hash: &[u8],
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<(), crate::StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO calendar_tokens (user_id, token_hash, created_at_ms)
                     VALUES ($1, $2, $3)
                     ON CONFLICT (user_id) DO UPDATE SET token_hash = excluded.token_hash,
                        created_at_ms = excluded.created_at_ms",
                )
                .bind(user.0)
                .bind(token_hash)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
                Self::append_audit(&mut *tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn revoke_calendar_token(
                &self,
                user: shield_domain::UserId,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<bool, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let gone = sqlx::query("DELETE FROM calendar_tokens WHERE user_id = $1")
                    .bind(user.0)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if gone == 0 {
                    tx.rollback().await?;
                    return Ok(false);
                }
                Self::append_audit(&mut *tx, audit).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn calendar_token_created(
                &self,
                user: shield_domain::UserId,
            ) -> Result<Option<shield_domain::EpochMs>, crate::StoreError> {
                let row: Option<(i64,)> = sqlx::query_as(
                    "SELECT created_at_ms FROM calendar_tokens WHERE user_id = $1",
                )
                .bind(user.0)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|(at,)| at))
            }

            async fn calendar_token_user(
                &self,
                token_hash: &[u8],
            ) -> Result<Option<shield_domain::UserId>, crate::StoreError> {
                let row: Option<(i64,)> =
                    sqlx::query_as("SELECT user_id FROM calendar_tokens WHERE token_hash = $1")
                        .bind(token_hash)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(|(id,)| shield_domain::UserId(id)))
            }
        }
    };
}

pub(crate) use activities_impl;
