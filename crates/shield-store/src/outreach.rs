//! Outreach: reminders to candidates who have not enrolled, are not ready or not briefed, sent
//! in bulk by a force's contacts or coordinators, and the worker's scheduled nudges to enrolled
//! candidates until their plan is done. Every reminder is an `outreach_nudges` row (who, why,
//! by whom, the score then), written in the same transaction as its outbox row, so the record
//! of who was reminded is exactly what was sent. The limits are checked inside that
//! transaction.

use async_trait::async_trait;
use shield_domain::audit::AuditEvent;
use shield_domain::plan::{NudgeKind, NudgeLimits};
use shield_domain::{CandidateId, EpochMs, ForceCode, UserId};

use crate::StoreError;
use crate::outbox::NewOutboxMessage;

/// One reminder to send.
#[derive(Debug, Clone)]
pub struct NewNudge {
    pub candidate_id: CandidateId,
    pub score: u8,
    /// The email; `None` when the caller sends it another way after the record commits (a
    /// fresh invitation, which has its own transaction).
    pub message: Option<NewOutboxMessage>,
}

/// What a bulk send came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NudgeOutcome {
    pub sent: Vec<CandidateId>,
    /// Reminded within the gap already.
    pub too_recent: usize,
    /// Over the force's daily limit.
    pub over_limit: usize,
}

/// A reminder as recorded.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NudgeRecord {
    pub id: i64,
    pub candidate_id: i64,
    pub name: String,
    pub kind: String,
    pub force_code: Option<String>,
    pub sent_by: Option<i64>,
    pub sent_at_ms: i64,
    pub score_at_send: i64,
}

/// The plan reminder template (scheduled, and the "not ready" list).
pub const PLAN_NUDGE: &str = "plan_nudge";
/// The "briefings are open" reminder template (the "not briefed" list).
pub const BRIEFING_NUDGE: &str = "briefing_nudge";

/// Outreach. Every [`crate::Store`] is one.
#[async_trait]
pub trait OutreachStore: Send + Sync {
    /// Sends reminders of `kind` for `force` (None: the national bucket): each candidate not
    /// reminded within `limits.candidate_gap_ms`, up to what is left of the force's daily
    /// limit, gets a record and its email; one transaction with one audit event.
    #[allow(clippy::too_many_arguments)]
    async fn send_nudges(
        &self,
        force: Option<&ForceCode>,
        kind: NudgeKind,
        nudges: &[NewNudge],
        by: Option<UserId>,
        limits: NudgeLimits,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<NudgeOutcome, StoreError>;

    /// Reminders sent since `since_ms` to candidates of a force (or all), newest first.
    async fn nudges(
        &self,
        force: Option<&ForceCode>,
        since_ms: EpochMs,
    ) -> Result<Vec<NudgeRecord>, StoreError>;

    /// The worker's scheduled reminders: every enrolled candidate whose plan is not done, who
    /// has not opted out, enrolled at least `gap_ms` ago and was not reminded within `gap_ms`,
    /// gets a [`PLAN_NUDGE`] (up to `limit`). Returns how many were sent.
    async fn fire_scheduled_nudges(
        &self,
        now_ms: EpochMs,
        gap_ms: i64,
        limit: u32,
    ) -> Result<usize, StoreError>;
}

/// Implements [`OutreachStore`] for one backend.
macro_rules! outreach_impl {
    ($store:ty, $db:ty) => {
        impl $store {
            async fn insert_nudge(
                conn: &mut <$db as sqlx::Database>::Connection,
                candidate: i64,
                kind: &str,
                force: Option<String>,
                by: Option<i64>,
                now_ms: i64,
                score: i64,
            ) -> Result<(), crate::StoreError> {
                sqlx::query(
                    "INSERT INTO outreach_nudges (candidate_id, kind, force_code, sent_by,
                        sent_at_ms, score_at_send) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(candidate)
                .bind(kind)
                .bind(force)
                .bind(by)
                .bind(now_ms)
                .bind(score)
                .execute(&mut *conn)
                .await?;
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl crate::outreach::OutreachStore for $store {
            async fn send_nudges(
                &self,
                force: Option<&shield_domain::ForceCode>,
                kind: shield_domain::plan::NudgeKind,
                nudges: &[crate::outreach::NewNudge],
                by: Option<shield_domain::UserId>,
                limits: shield_domain::plan::NudgeLimits,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<crate::outreach::NudgeOutcome, crate::StoreError> {
                let f = force.map(|f| f.as_str().to_owned());
                let mut tx = self.begin_write().await?;
                let (today,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM outreach_nudges
                     WHERE sent_at_ms > $1 AND kind <> 'scheduled'
                       AND (force_code = $2 OR ($2 IS NULL AND force_code IS NULL))",
                )
                .bind(now_ms - 24 * 3_600_000)
                .bind(f.clone())
                .fetch_one(&mut *tx)
                .await?;
                let mut left = limits
                    .per_force_per_day
                    .saturating_sub(usize::try_from(today).unwrap_or(usize::MAX));
                let mut outcome = crate::outreach::NudgeOutcome::default();
                for n in nudges {
                    let (recent,): (i64,) = sqlx::query_as(
                        "SELECT COUNT(*) FROM outreach_nudges
                         WHERE candidate_id = $1 AND sent_at_ms > $2",
                    )
                    .bind(n.candidate_id.0)
                    .bind(now_ms - limits.candidate_gap_ms)
                    .fetch_one(&mut *tx)
                    .await?;
                    if recent > 0 {
                        outcome.too_recent += 1;
                        continue;
                    }
                    if left == 0 {
                        outcome.over_limit += 1;
                        continue;
                    }
                    left -= 1;
                    Self::insert_nudge(
                        &mut *tx,
                        n.candidate_id.0,
                        kind.key(),
                        f.clone(),
                        by.map(|u| u.0),
                        now_ms,
                        i64::from(n.score),
                    )
                    .await?;
                    if let Some(msg) = &n.message {
                        Self::enqueue_outbox(&mut *tx, msg, now_ms).await?;
                    }
                    outcome.sent.push(n.candidate_id);
                }
                let event = audit
                    .clone()
                    .with_detail("kind", kind.key())
                    .and_then(|e| e.with_detail("sent", &outcome.sent.len().to_string()))
                    .map_err(crate::reports_sql::field)?;
                Self::append_audit(&mut *tx, &event).await?;
                tx.commit().await?;
                Ok(outcome)
            }

            async fn nudges(
                &self,
                force: Option<&shield_domain::ForceCode>,
                since_ms: shield_domain::EpochMs,
            ) -> Result<Vec<crate::outreach::NudgeRecord>, crate::StoreError> {
                let sql = format!(
                    "SELECT n.id, n.candidate_id, c.name, n.kind, n.force_code, n.sent_by,
                        n.sent_at_ms, n.score_at_send
                     FROM outreach_nudges n JOIN candidates c ON c.id = n.candidate_id
                     WHERE n.sent_at_ms > $2 AND {}
                     ORDER BY n.sent_at_ms DESC, n.id DESC LIMIT 1000",
                    crate::plan::FORCE_FILTER
                );
                Ok(sqlx::query_as(&sql)
                    .bind(force.map(|f| f.as_str().to_owned()))
                    .bind(since_ms)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn fire_scheduled_nudges(
                &self,
                now_ms: shield_domain::EpochMs,
                gap_ms: i64,
                limit: u32,
            ) -> Result<usize, crate::StoreError> {
                use crate::plan::PlanStore;
                let due: Vec<crate::plan::CandidateStanding> = self
                    .standings(None)
                    .await?
                    .into_iter()
                    .filter(|c| {
                        c.standing
                            .enrolled_at_ms
                            .is_some_and(|t| t <= now_ms - gap_ms)
                            && c.standing.score < 100
                            && !c.nudges_opt_out
                            && c.last_nudged_at_ms.is_none_or(|t| t <= now_ms - gap_ms)
                            && c.user.is_some()
                    })
                    .take(limit as usize)
                    .collect();
                if due.is_empty() {
                    return Ok(0);
                }
                let mut sent = 0;
                let mut tx = self.begin_write().await?;
                for c in due {
                    // Re-checked inside the write: another worker may have just sent one.
                    let (recent,): (i64,) = sqlx::query_as(
                        "SELECT COUNT(*) FROM outreach_nudges
                         WHERE candidate_id = $1 AND sent_at_ms > $2",
                    )
                    .bind(c.candidate_id.0)
                    .bind(now_ms - gap_ms)
                    .fetch_one(&mut *tx)
                    .await?;
                    let Some((_, email)) = &c.user else { continue };
                    let Ok(to) = shield_domain::Email::parse(email) else {
                        continue;
                    };
                    if recent > 0 {
                        continue;
                    }
                    Self::insert_nudge(
                        &mut *tx,
                        c.candidate_id.0,
                        shield_domain::plan::NudgeKind::Scheduled.key(),
                        None,
                        None,
                        now_ms,
                        i64::from(c.standing.score),
                    )
                    .await?;
                    let msg = crate::outbox::NewOutboxMessage::email(
                        &to,
                        crate::outreach::PLAN_NUDGE,
                        crate::outbox::OutboxParams::new()
                            .with_id("kind", "scheduled")
                            .map_err(crate::reports_sql::field)?,
                    )
                    .map_err(crate::reports_sql::field)?;
                    Self::enqueue_outbox(&mut *tx, &msg, now_ms).await?;
                    sent += 1;
                }
                tx.commit().await?;
                Ok(sent)
            }
        }
    };
}

pub(crate) use outreach_impl;
