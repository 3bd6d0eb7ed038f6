//! The personal security plan: what each candidate set for each step, what the service can see
//! for itself (a passkey, an activity, a briefing attended), the nudge opt-out, and a summary of
//! every candidate of a force (or all) with their readiness, for the police's lists and outreach.
//! Scores are computed by `shield_domain::plan`, never in SQL, so every page agrees.

use async_trait::async_trait;
use shield_domain::audit::AuditEvent;
use shield_domain::plan::{Facts, Standing, Status, Step};
use shield_domain::{CandidateId, EpochMs, ForceCode, UserId};

use crate::StoreError;

/// A candidate's plan as stored, with the facts that complete steps by themselves.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlanRecord {
    pub stored: Vec<(Step, Status)>,
    pub facts: Facts,
    pub nudges_opt_out: bool,
}

impl PlanRecord {
    /// Every step with its effective status, and the readiness score.
    pub fn statuses(&self) -> Vec<(Step, Status)> {
        shield_domain::plan::statuses(&self.stored, self.facts)
    }

    pub fn score(&self) -> u8 {
        shield_domain::plan::readiness(&self.statuses())
    }
}

/// One candidate of a force (or of all), with where they stand: for the enrolment view, the
/// outreach lists and the scheduled nudges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateStanding {
    pub candidate_id: CandidateId,
    pub name: String,
    pub party: String,
    pub constituency: String,
    /// The address on the candidate list (for invitations), if any.
    pub list_email: Option<String>,
    /// The account, if one exists (invited or active), and its email.
    pub user: Option<(UserId, String)>,
    pub standing: Standing,
    pub nudges_opt_out: bool,
    /// When they were last reminded (any kind).
    pub last_nudged_at_ms: Option<EpochMs>,
}

fn parse_pair(step: &str, status: &str) -> Result<(Step, Status), StoreError> {
    let bad =
        |e: shield_domain::FieldError| StoreError::Corrupt(format!("plan step: {}", e.message));
    Ok((
        Step::parse(step).map_err(bad)?,
        Status::parse(status).map_err(bad)?,
    ))
}

/// Builds standings from the rows the backends read (shared by both).
#[allow(clippy::type_complexity, clippy::too_many_arguments)]
pub(crate) fn assemble_standings(
    candidates: Vec<(
        i64,
        String,
        String,
        String,
        Option<String>,
        Option<i64>,
        Option<String>,
        Option<String>,
        Option<i64>,
    )>,
    steps: Vec<(i64, String, String)>,
    passkey_candidates: Vec<(i64,)>,
    activity_candidates: Vec<(i64,)>,
    attended: Vec<(i64,)>,
    registered: Vec<(i64, i64)>,
    opt_outs: Vec<(i64,)>,
    nudged: Vec<(i64, i64)>,
) -> Result<Vec<CandidateStanding>, StoreError> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut stored: BTreeMap<i64, Vec<(Step, Status)>> = BTreeMap::new();
    for (c, step, status) in steps {
        stored
            .entry(c)
            .or_default()
            .push(parse_pair(&step, &status)?);
    }
    let set = |rows: Vec<(i64,)>| rows.into_iter().map(|(c,)| c).collect::<BTreeSet<_>>();
    let passkeys = set(passkey_candidates);
    let activities = set(activity_candidates);
    let attended = set(attended);
    let opt_outs = set(opt_outs);
    let registered: BTreeMap<i64, i64> = registered.into_iter().collect();
    let nudged: BTreeMap<i64, i64> = nudged.into_iter().collect();
    let mut out = Vec::with_capacity(candidates.len());
    for (id, name, party, constituency, list_email, user_id, user_email, status, enrolled_at) in
        candidates
    {
        let facts = Facts {
            has_passkey: passkeys.contains(&id),
            has_activity: activities.contains(&id),
            attended_briefing: attended.contains(&id),
        };
        let statuses = shield_domain::plan::statuses(stored.get(&id).map_or(&[][..], |v| v), facts);
        let active = status.as_deref() == Some("active");
        out.push(CandidateStanding {
            candidate_id: CandidateId(id),
            name,
            party,
            constituency,
            list_email,
            user: match (user_id, user_email) {
                (Some(u), Some(e)) => Some((UserId(u), e)),
                _ => None,
            },
            standing: Standing {
                enrolled_at_ms: if active {
                    Some(enrolled_at.unwrap_or(0))
                } else {
                    None
                },
                score: shield_domain::plan::readiness(&statuses),
                registered_briefing_at_ms: registered.get(&id).copied(),
                attended_briefing: facts.attended_briefing,
            },
            nudges_opt_out: opt_outs.contains(&id),
            last_nudged_at_ms: nudged.get(&id).copied(),
        });
    }
    out.sort_by(|a, b| {
        (a.constituency.to_lowercase(), a.name.to_lowercase())
            .cmp(&(b.constituency.to_lowercase(), b.name.to_lowercase()))
    });
    Ok(out)
}

pub(crate) fn parse_steps(rows: Vec<(String, String)>) -> Result<Vec<(Step, Status)>, StoreError> {
    rows.iter().map(|(k, s)| parse_pair(k, s)).collect()
}

/// The candidate filter every standing query shares: `$1` a force code or NULL for all.
pub(crate) const FORCE_FILTER: &str = "($1 IS NULL OR EXISTS (SELECT 1 FROM constituency_forces l
        WHERE l.constituency_code = c.constituency_code AND l.force_code = $1))";

/// Plans. Every [`crate::Store`] is one.
#[async_trait]
pub trait PlanStore: Send + Sync {
    async fn plan(&self, candidate: CandidateId) -> Result<PlanRecord, StoreError>;

    /// Sets one step's status; audited in the same transaction.
    async fn set_plan_step(
        &self,
        candidate: CandidateId,
        step: Step,
        status: Status,
        by: UserId,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;

    /// Turns the scheduled plan reminders off (or back on); audited.
    async fn set_nudges_opt_out(
        &self,
        candidate: CandidateId,
        opt_out: bool,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;

    /// Every candidate of a force (or all), with their account, readiness and reminders.
    async fn standings(
        &self,
        force: Option<&ForceCode>,
    ) -> Result<Vec<CandidateStanding>, StoreError>;

    /// The account of a candidate (any status) and its email.
    async fn candidate_account(
        &self,
        candidate: CandidateId,
    ) -> Result<Option<(UserId, String)>, StoreError>;
}

/// Implements [`PlanStore`] for one backend.
macro_rules! plan_impl {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl crate::plan::PlanStore for $store {
            async fn plan(
                &self,
                candidate: shield_domain::CandidateId,
            ) -> Result<crate::plan::PlanRecord, crate::StoreError> {
                let rows: Vec<(String, String)> = sqlx::query_as(
                    "SELECT step, status FROM plan_steps WHERE candidate_id = $1",
                )
                .bind(candidate.0)
                .fetch_all(&self.pool)
                .await?;
                let (passkey,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM passkeys p JOIN users u ON u.id = p.user_id
                     WHERE u.candidate_id = $1",
                )
                .bind(candidate.0)
                .fetch_one(&self.pool)
                .await?;
                let (activity,): (i64,) =
                    sqlx::query_as("SELECT COUNT(*) FROM activities WHERE candidate_id = $1")
                        .bind(candidate.0)
                        .fetch_one(&self.pool)
                        .await?;
                let (attended,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM briefing_registrations
                     WHERE candidate_id = $1 AND attended = TRUE",
                )
                .bind(candidate.0)
                .fetch_one(&self.pool)
                .await?;
                let opt_out: Option<(bool,)> = sqlx::query_as(
                    "SELECT nudges_opt_out FROM plan_preferences WHERE candidate_id = $1",
                )
                .bind(candidate.0)
                .fetch_optional(&self.pool)
                .await?;
                Ok(crate::plan::PlanRecord {
                    stored: crate::plan::parse_steps(rows)?,
                    facts: shield_domain::plan::Facts {
                        has_passkey: passkey > 0,
                        has_activity: activity > 0,
                        attended_briefing: attended > 0,
                    },
                    nudges_opt_out: opt_out.is_some_and(|(o,)| o),
                })
            }

            async fn set_plan_step(
                &self,
                candidate: shield_domain::CandidateId,
                step: shield_domain::plan::Step,
                status: shield_domain::plan::Status,
                by: shield_domain::UserId,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<(), crate::StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO plan_steps (candidate_id, step, status, updated_at_ms, updated_by)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (candidate_id, step) DO UPDATE SET status = excluded.status,
                        updated_at_ms = excluded.updated_at_ms, updated_by = excluded.updated_by",
                )
                .bind(candidate.0)
                .bind(step.key())
                .bind(status.key())
                .bind(now_ms)
                .bind(by.0)
                .execute(&mut *tx)
                .await?;
                Self::append_audit(&mut *tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn set_nudges_opt_out(
                &self,
                candidate: shield_domain::CandidateId,
                opt_out: bool,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<(), crate::StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO plan_preferences (candidate_id, nudges_opt_out, updated_at_ms)
                     VALUES ($1, $2, $3)
                     ON CONFLICT (candidate_id) DO UPDATE SET
                        nudges_opt_out = excluded.nudges_opt_out,
                        updated_at_ms = excluded.updated_at_ms",
                )
                .bind(candidate.0)
                .bind(opt_out)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
                Self::append_audit(&mut *tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn standings(
                &self,
                force: Option<&shield_domain::ForceCode>,
            ) -> Result<Vec<crate::plan::CandidateStanding>, crate::StoreError> {
                let f = force.map(|f| f.as_str().to_owned());
                let filter = crate::plan::FORCE_FILTER;
                let candidates = sqlx::query_as(&format!(
                    "SELECT c.id, c.name, c.party, k.name, c.email, u.id, u.email, u.status,
                        u.enrolled_at_ms
                     FROM candidates c JOIN constituencies k ON k.code = c.constituency_code
                     LEFT JOIN users u ON u.candidate_id = c.id
                     WHERE {filter}"
                ))
                .bind(f.clone())
                .fetch_all(&self.pool)
                .await?;
                let steps = sqlx::query_as(&format!(
                    "SELECT p.candidate_id, p.step, p.status FROM plan_steps p
                     JOIN candidates c ON c.id = p.candidate_id WHERE {filter}"
                ))
                .bind(f.clone())
                .fetch_all(&self.pool)
                .await?;
                let passkeys = sqlx::query_as(&format!(
                    "SELECT DISTINCT c.id FROM passkeys p JOIN users u ON u.id = p.user_id
                     JOIN candidates c ON c.id = u.candidate_id WHERE {filter}"
                ))
                .bind(f.clone())
                .fetch_all(&self.pool)
                .await?;
                let activities = sqlx::query_as(&format!(
                    "SELECT DISTINCT c.id FROM activities a
                     JOIN candidates c ON c.id = a.candidate_id WHERE {filter}"
                ))
                .bind(f.clone())
                .fetch_all(&self.pool)
                .await?;
                let attended = sqlx::query_as(&format!(
                    "SELECT DISTINCT c.id FROM briefing_registrations r
                     JOIN candidates c ON c.id = r.candidate_id
                     WHERE r.attended = TRUE AND {filter}"
                ))
                .bind(f.clone())
                .fetch_all(&self.pool)
                .await?;
                let registered = sqlx::query_as(&format!(
                    "SELECT c.id, MAX(r.registered_at_ms) FROM briefing_registrations r
                     JOIN candidates c ON c.id = r.candidate_id
                     WHERE r.cancelled_at_ms IS NULL AND {filter} GROUP BY c.id"
                ))
                .bind(f.clone())
                .fetch_all(&self.pool)
                .await?;
                let opt_outs = sqlx::query_as(&format!(
                    "SELECT c.id FROM plan_preferences p
                     JOIN candidates c ON c.id = p.candidate_id
                     WHERE p.nudges_opt_out = TRUE AND {filter}"
                ))
                .bind(f.clone())
                .fetch_all(&self.pool)
                .await?;
                let nudged = sqlx::query_as(&format!(
                    "SELECT c.id, MAX(n.sent_at_ms) FROM outreach_nudges n
                     JOIN candidates c ON c.id = n.candidate_id WHERE {filter} GROUP BY c.id"
                ))
                .bind(f)
                .fetch_all(&self.pool)
                .await?;
                crate::plan::assemble_standings(
                    candidates, steps, passkeys, activities, attended, registered, opt_outs,
                    nudged,
                )
            }

            async fn candidate_account(
                &self,
                candidate: shield_domain::CandidateId,
            ) -> Result<Option<(shield_domain::UserId, String)>, crate::StoreError> {
                let row: Option<(i64, String)> =
                    sqlx::query_as("SELECT id, email FROM users WHERE candidate_id = $1")
                        .bind(candidate.0)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(|(id, e)| (shield_domain::UserId(id), e)))
            }
        }
    };
}

pub(crate) use plan_impl;
