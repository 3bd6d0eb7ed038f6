//! The audit chain's storage: `audit_events` (append-only rows, each hashed over the one before)
//! and `audit_head` (one row: the last seq and hash).
//!
//! # One transaction per user action
//!
//! A store method that changes something *and* must be audited calls
//! `Self::append_audit(&mut *tx, &event)` inside its own transaction, before it commits: the
//! change and its audit event commit together or not at all, so there is never a change without
//! its event nor an event for a change that rolled back. [`AuditStore::record_audit`] is only for
//! events with no other change (a failed sign-in, a sensitive read).
//!
//! # Serialisation
//!
//! An append starts with `UPDATE audit_head SET seq = seq + 1 … RETURNING seq, hash`. On
//! PostgreSQL that row lock is held until the transaction ends, so concurrent appends (from any
//! number of app instances) queue behind each other and the chain has no gaps or forks. On SQLite
//! write transactions begin with `BEGIN IMMEDIATE` (`begin_write`), so there is one writer at a
//! time anyway. The hash is computed in Rust with [`shield_domain::audit::chain_hash`].

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use shield_domain::audit::{
    AuditAction, AuditActor, AuditEvent, AuditOutcome, AuditSubject, ChainBreak, StoredAuditRow,
    VerifiedHead,
};

use crate::{ImportOutcome, StoreError};

/// Rows read per query while verifying.
pub(crate) const VERIFY_PAGE: i64 = 1000;

/// What [`AuditStore::verify_audit`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditVerification {
    /// Every row links to the one before and the last matches the recorded head.
    Intact(VerifiedHead),
    /// The first broken link.
    Broken(ChainBreak),
}

/// The audit trail. Every [`crate::Store`] is one.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends one event in a transaction of its own and returns its seq. For events that come
    /// with no other change; a change that must be audited appends its event inside its own
    /// transaction instead (see the module documentation).
    async fn record_audit(&self, event: &AuditEvent) -> Result<i64, StoreError>;

    /// Up to `limit` rows with seq greater than `after_seq`, in seq order.
    async fn audit_events(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<StoredAuditRow>, StoreError>;

    /// Reads the whole chain in seq order, a page at a time, in one consistent snapshot, and
    /// checks every link and the recorded head. A broken chain is `Ok(Broken(…))`; `Err` is
    /// only for failing to read it.
    async fn verify_audit(&self) -> Result<AuditVerification, StoreError>;

    /// The latest `limit` events about one subject, newest first: for example who viewed a
    /// candidate's record (`"candidate"`, `"42"`).
    async fn audit_for_subject(
        &self,
        subject_type: &str,
        subject_id: &str,
        limit: u32,
    ) -> Result<Vec<StoredAuditRow>, StoreError>;
}

/// `audit_events` as stored.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AuditRecord {
    pub seq: i64,
    pub at_ms: i64,
    pub action: String,
    pub actor_user_id: Option<i64>,
    pub actor_role: Option<String>,
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    pub outcome: String,
    pub details: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

fn hash32(bytes: &[u8], what: &str) -> Result<[u8; 32], String> {
    <[u8; 32]>::try_from(bytes).map_err(|_| format!("{what} is {} bytes, not 32", bytes.len()))
}

impl AuditRecord {
    /// The row as the domain sees it, or why it cannot be (for the verifier to report).
    pub(crate) fn to_row(&self) -> Result<StoredAuditRow, String> {
        let text = |e: shield_domain::FieldError| e.message;
        let mut event = AuditEvent::from_millis(
            AuditAction::parse(&self.action).map_err(text)?,
            AuditOutcome::parse(&self.outcome).map_err(text)?,
            self.at_ms,
        )
        .map_err(text)?;
        match (self.actor_user_id, &self.actor_role) {
            (None, None) => {}
            (Some(id), Some(role)) => {
                event = event.with_actor(AuditActor::new(id, role).map_err(text)?)
            }
            _ => return Err("actor user id and role must both be set or both be empty".into()),
        }
        match (&self.subject_type, &self.subject_id) {
            (None, None) => {}
            (Some(kind), Some(id)) => {
                event = event.with_subject(AuditSubject::new(kind, id).map_err(text)?)
            }
            _ => return Err("subject type and id must both be set or both be empty".into()),
        }
        let details: BTreeMap<String, String> = serde_json::from_str(&self.details)
            .map_err(|_| "details are not a JSON object of strings".to_owned())?;
        for (k, v) in &details {
            event = event.with_detail(k, v).map_err(text)?;
        }
        Ok(StoredAuditRow {
            seq: self.seq,
            event,
            prev_hash: hash32(&self.prev_hash, "prev_hash")?,
            hash: hash32(&self.hash, "hash")?,
        })
    }

    pub(crate) fn into_row(self) -> Result<StoredAuditRow, StoreError> {
        self.to_row()
            .map_err(|why| StoreError::Corrupt(format!("audit row {}: {why}", self.seq)))
    }
}

/// The columns an append writes, in bind order.
pub(crate) struct AuditColumns {
    pub actor_user_id: Option<i64>,
    pub actor_role: Option<String>,
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    pub details: String,
}

impl AuditColumns {
    pub(crate) fn of(event: &AuditEvent) -> Result<Self, StoreError> {
        Ok(Self {
            actor_user_id: event.actor().map(AuditActor::user_id),
            actor_role: event.actor().map(|a| a.role().to_owned()),
            subject_type: event.subject().map(|s| s.kind().to_owned()),
            subject_id: event.subject().map(|s| s.id().to_owned()),
            details: serde_json::to_string(event.details())
                .map_err(|e| StoreError::Corrupt(format!("audit details: {e}")))?,
        })
    }
}

/// The event a committed import writes: which file kind, and what it did.
pub(crate) fn import_event(
    kind: &str,
    outcome: &ImportOutcome,
    at: DateTime<Utc>,
) -> Result<AuditEvent, StoreError> {
    let bad = |e: shield_domain::FieldError| StoreError::Corrupt(e.message);
    AuditEvent::new(AuditAction::IMPORT_COMMITTED, AuditOutcome::Success, at)
        .with_detail("kind", kind)
        .and_then(|e| e.with_detail("inserted", &outcome.inserted.to_string()))
        .and_then(|e| e.with_detail("updated", &outcome.updated.to_string()))
        .and_then(|e| e.with_detail("unchanged", &outcome.unchanged.to_string()))
        .and_then(|e| e.with_detail("removed", &outcome.removed.to_string()))
        .map_err(bad)
}

/// Implements [`AuditStore`] and the in-transaction `append_audit` for one backend.
/// `$begin_read` starts a read-only transaction that sees one snapshot for all its statements.
macro_rules! audit_impl {
    ($store:ty, $db:ty, $begin_read:expr) => {
        impl $store {
            /// Appends `event` to the chain inside the caller's transaction and returns its seq.
            /// The caller commits: the event lands with the change it records, or not at all.
            pub(crate) async fn append_audit(
                conn: &mut <$db as sqlx::Database>::Connection,
                event: &shield_domain::audit::AuditEvent,
            ) -> Result<i64, crate::StoreError> {
                // Taking the head row's lock first serialises appends until commit.
                let (seq, prev): (i64, Vec<u8>) = sqlx::query_as(
                    "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash",
                )
                .fetch_optional(&mut *conn)
                .await?
                .ok_or_else(|| crate::StoreError::Corrupt("audit_head row is missing".into()))?;
                let prev = <[u8; 32]>::try_from(prev.as_slice()).map_err(|_| {
                    crate::StoreError::Corrupt("audit_head hash is not 32 bytes".into())
                })?;
                let hash = shield_domain::audit::chain_hash(seq, &prev, event);
                sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
                    .bind(hash.to_vec())
                    .execute(&mut *conn)
                    .await?;
                let c = crate::audit::AuditColumns::of(event)?;
                sqlx::query(
                    "INSERT INTO audit_events (seq, at_ms, action, actor_user_id, actor_role,
                        subject_type, subject_id, outcome, details, prev_hash, hash)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(seq)
                .bind(event.at_ms())
                .bind(event.action().as_str())
                .bind(c.actor_user_id)
                .bind(c.actor_role)
                .bind(c.subject_type)
                .bind(c.subject_id)
                .bind(event.outcome().as_str())
                .bind(c.details)
                .bind(prev.to_vec())
                .bind(hash.to_vec())
                .execute(&mut *conn)
                .await?;
                Ok(seq)
            }

            /// Records a committed import that changed something; dry runs and no-op imports
            /// write nothing.
            pub(crate) async fn audit_import(
                conn: &mut <$db as sqlx::Database>::Connection,
                mode: crate::ImportMode,
                kind: &str,
                outcome: &crate::ImportOutcome,
            ) -> Result<(), crate::StoreError> {
                if mode == crate::ImportMode::Commit && outcome.changed() > 0 {
                    let event = crate::audit::import_event(kind, outcome, chrono::Utc::now())?;
                    Self::append_audit(conn, &event).await?;
                }
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl crate::audit::AuditStore for $store {
            async fn record_audit(
                &self,
                event: &shield_domain::audit::AuditEvent,
            ) -> Result<i64, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let seq = Self::append_audit(&mut *tx, event).await?;
                tx.commit().await?;
                Ok(seq)
            }

            async fn audit_events(
                &self,
                after_seq: i64,
                limit: u32,
            ) -> Result<Vec<shield_domain::audit::StoredAuditRow>, crate::StoreError> {
                let rows: Vec<crate::audit::AuditRecord> = sqlx::query_as(
                    "SELECT seq, at_ms, action, actor_user_id, actor_role, subject_type,
                        subject_id, outcome, details, prev_hash, hash
                     FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(after_seq)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(crate::audit::AuditRecord::into_row)
                    .collect()
            }

            async fn verify_audit(
                &self,
            ) -> Result<crate::audit::AuditVerification, crate::StoreError> {
                use crate::audit::AuditVerification::{Broken, Intact};
                let mut tx = self.pool.begin_with($begin_read).await?;
                let head: Option<(i64, Vec<u8>)> =
                    sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                        .fetch_optional(&mut *tx)
                        .await?;
                let mut verifier = shield_domain::audit::ChainVerifier::new();
                let mut after = i64::MIN;
                loop {
                    let page: Vec<crate::audit::AuditRecord> = sqlx::query_as(
                        "SELECT seq, at_ms, action, actor_user_id, actor_role, subject_type,
                            subject_id, outcome, details, prev_hash, hash
                         FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2",
                    )
                    .bind(after)
                    .bind(crate::audit::VERIFY_PAGE)
                    .fetch_all(&mut *tx)
                    .await?;
                    let Some(last) = page.last() else { break };
                    after = last.seq;
                    for record in &page {
                        let result = match record.to_row() {
                            Ok(row) => verifier.push(&row),
                            Err(why) => Err(verifier.push_malformed(record.seq, why)),
                        };
                        if let Err(b) = result {
                            tx.rollback().await?;
                            return Ok(Broken(b));
                        }
                    }
                }
                tx.rollback().await?;
                let verified = match head {
                    Some((seq, hash)) => match <[u8; 32]>::try_from(hash.as_slice()) {
                        Ok(hash) => verifier.check_head(seq, &hash),
                        // An unreadable head hash matches no row's hash.
                        Err(_) => verifier.check_head(seq, &[0xff; 32]),
                    },
                    None => Err(shield_domain::audit::ChainBreak {
                        seq: verifier.head().seq,
                        reason: shield_domain::audit::BreakReason::NoHead,
                    }),
                };
                Ok(match verified {
                    Ok(head) => Intact(head),
                    Err(b) => Broken(b),
                })
            }

            async fn audit_for_subject(
                &self,
                subject_type: &str,
                subject_id: &str,
                limit: u32,
            ) -> Result<Vec<shield_domain::audit::StoredAuditRow>, crate::StoreError> {
                let rows: Vec<crate::audit::AuditRecord> = sqlx::query_as(
                    "SELECT seq, at_ms, action, actor_user_id, actor_role, subject_type,
                        subject_id, outcome, details, prev_hash, hash
                     FROM audit_events WHERE subject_type = $1 AND subject_id = $2
                     ORDER BY seq DESC LIMIT $3",
                )
                .bind(subject_type)
                .bind(subject_id)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(crate::audit::AuditRecord::into_row)
                    .collect()
            }
        }
    };
}

pub(crate) use audit_impl;
