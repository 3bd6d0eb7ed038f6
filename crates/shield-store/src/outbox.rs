//! The transactional outbox: `outbox` rows are messages to send (an email now, a webhook later),
//! written by the store and delivered by the worker (`shield-jobs`).
//!
//! # One transaction per user action
//!
//! A store method that changes something and must tell someone calls
//! `Self::enqueue_outbox(&mut *tx, &msg, now_ms)` inside its own transaction, next to
//! `Self::append_audit(&mut *tx, …)`, before it commits: the change, its audit event and its
//! outbox rows commit together or not at all. Nothing is sent from a request handler; the handler
//! only wakes the worker once the transaction has committed. [`OutboxStore::enqueue`] (a
//! transaction of its own) is for tests and the CLI.
//!
//! # Claiming, leases and fencing
//!
//! [`OutboxStore::claim_due`] takes up to `limit` pending rows that are due and not leased (or
//! whose lease has run out), sets `lease_owner` and `lease_until_ms`, counts the attempt, and
//! returns them. On PostgreSQL the rows are picked with `SELECT … FOR UPDATE SKIP LOCKED`, so
//! instances claiming at the same moment take different rows instead of queueing; on SQLite the
//! claim is one conditional `UPDATE … WHERE id IN (SELECT …) RETURNING` inside a `BEGIN
//! IMMEDIATE` transaction, so there is one claimer at a time.
//!
//! [`OutboxStore::mark_sent`] succeeds only while the caller still holds an unexpired lease: a
//! worker that stalled past its lease (and whose row another worker may have taken over) gets
//! `false` and must not treat the row as its own. Delivery is therefore at-least-once; the stable
//! `message_id` (the `Message-ID` header) lets a recipient recognise a duplicate.
//!
//! Rows carry ids only: `params` is a flat JSON object of id-like values ([`OutboxParams`]) and
//! `last_error` a short reason class. `secret` is bytes the caller sealed (for example an
//! invitation token); the store never interprets them.

use async_trait::async_trait;
use serde_json::{Map, Value};
use shield_domain::{EpochMs, FieldError};

use crate::StoreError;

/// How a message leaves the building.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxChannel {
    Email,
    Webhook,
}

impl OutboxChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Webhook => "webhook",
        }
    }

    pub fn parse(value: &str) -> Result<Self, StoreError> {
        match value {
            "email" => Ok(Self::Email),
            "webhook" => Ok(Self::Webhook),
            other => Err(StoreError::Corrupt(format!(
                "unknown outbox channel {other:?}"
            ))),
        }
    }
}

/// Where a row is in its life: `pending` until sent, or `failed` once the worker gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxStatus {
    Pending,
    Sent,
    Failed,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Result<Self, StoreError> {
        match value {
            "pending" => Ok(Self::Pending),
            "sent" => Ok(Self::Sent),
            "failed" => Ok(Self::Failed),
            other => Err(StoreError::Corrupt(format!(
                "unknown outbox status {other:?}"
            ))),
        }
    }
}

/// Longest id-like value or key in [`OutboxParams`].
pub const MAX_PARAM_CHARS: usize = 64;

fn id_like(value: &str, what: &str) -> Result<(), FieldError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-');
    if value.is_empty() || value.len() > MAX_PARAM_CHARS || !value.chars().all(ok_char) {
        return Err(FieldError::new(format!(
            "{what} must be 1 to {MAX_PARAM_CHARS} characters of A-Z, a-z, 0-9, '.', '_', ':' \
             or '-'"
        )));
    }
    Ok(())
}

/// A template's parameters: a flat map of ids (integers, or short strings of id characters).
/// Free text cannot be put here, so an outbox row cannot carry report content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxParams(Map<String, Value>);

impl OutboxParams {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an integer id (a report id, a priority).
    pub fn with_int(mut self, key: &str, value: i64) -> Result<Self, FieldError> {
        id_like(key, "a parameter name")?;
        self.0.insert(key.to_owned(), Value::from(value));
        Ok(self)
    }

    /// Adds a textual id (a reference such as `R-2024-00042`).
    pub fn with_id(mut self, key: &str, value: &str) -> Result<Self, FieldError> {
        id_like(key, "a parameter name")?;
        id_like(value, "a parameter value")?;
        self.0.insert(key.to_owned(), Value::from(value));
        Ok(self)
    }

    pub fn int(&self, key: &str) -> Option<i64> {
        self.0.get(key).and_then(Value::as_i64)
    }

    pub fn id(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }

    pub fn to_json(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }

    /// Reads stored parameters back, checking they are still ids only.
    pub fn from_json(text: &str) -> Result<Self, FieldError> {
        let bad = || FieldError::new("outbox params are not a flat JSON object of ids");
        let Value::Object(map) = serde_json::from_str::<Value>(text).map_err(|_| bad())? else {
            return Err(bad());
        };
        for (key, value) in &map {
            id_like(key, "a parameter name")?;
            match value {
                Value::Number(n) if n.is_i64() => {}
                Value::String(s) => id_like(s, "a parameter value")?,
                _ => return Err(bad()),
            }
        }
        Ok(Self(map))
    }
}

/// A message to enqueue. Its `Debug` leaves out the address and the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct NewOutboxMessage {
    pub channel: OutboxChannel,
    pub to_address: String,
    pub template: String,
    pub params: OutboxParams,
    /// Bytes the caller sealed; handed back to the worker untouched.
    pub secret: Option<Vec<u8>>,
    /// When to send; `None` is "now" (the `now_ms` given to enqueue).
    pub due_at_ms: Option<EpochMs>,
}

impl NewOutboxMessage {
    /// An email to `to`, rendered from `template` with `params`, due at once.
    pub fn email(
        to: &shield_domain::Email,
        template: &str,
        params: OutboxParams,
    ) -> Result<Self, FieldError> {
        id_like(template, "a template name")?;
        Ok(Self {
            channel: OutboxChannel::Email,
            to_address: to.as_str().to_owned(),
            template: template.to_owned(),
            params,
            secret: None,
            due_at_ms: None,
        })
    }

    /// A signed webhook POST to `url` (a force's endpoint), with event type `template`
    /// (`report.created`) and `params`, due at once. The signing secret goes in with
    /// [`Self::with_secret`], still sealed.
    pub fn webhook(url: &str, template: &str, params: OutboxParams) -> Result<Self, FieldError> {
        id_like(template, "a template name")?;
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2048 {
            return Err(FieldError::new("a webhook URL must be an http(s) URL"));
        }
        Ok(Self {
            channel: OutboxChannel::Webhook,
            to_address: url.to_owned(),
            template: template.to_owned(),
            params,
            secret: None,
            due_at_ms: None,
        })
    }

    pub fn with_secret(mut self, sealed: Vec<u8>) -> Self {
        self.secret = Some(sealed);
        self
    }

    pub fn due_at(mut self, at_ms: EpochMs) -> Self {
        self.due_at_ms = Some(at_ms);
        self
    }
}

impl std::fmt::Debug for NewOutboxMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewOutboxMessage")
            .field("channel", &self.channel)
            .field("template", &self.template)
            .field("params", &self.params)
            .field("secret", &self.secret.as_ref().map(|_| "[sealed]"))
            .field("due_at_ms", &self.due_at_ms)
            .finish_non_exhaustive()
    }
}

/// A row a worker has claimed: everything needed to deliver it, until `lease_until_ms`.
/// Its `Debug` leaves out the address and the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ClaimedMessage {
    pub id: i64,
    pub message_id: String,
    pub channel: OutboxChannel,
    pub to_address: String,
    pub template: String,
    pub params: OutboxParams,
    pub secret: Option<Vec<u8>>,
    /// This attempt's number, from 1 (a claim counts an attempt).
    pub attempts: u32,
    pub created_at_ms: EpochMs,
    pub due_at_ms: EpochMs,
    pub lease_until_ms: EpochMs,
}

impl std::fmt::Debug for ClaimedMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimedMessage")
            .field("id", &self.id)
            .field("message_id", &self.message_id)
            .field("channel", &self.channel)
            .field("template", &self.template)
            .field("params", &self.params)
            .field("attempts", &self.attempts)
            .field("due_at_ms", &self.due_at_ms)
            .field("lease_until_ms", &self.lease_until_ms)
            .finish_non_exhaustive()
    }
}

/// A row's delivery status, for showing "sent", "retrying" or "undelivered". No address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxDelivery {
    pub id: i64,
    pub message_id: String,
    pub channel: OutboxChannel,
    pub template: String,
    pub status: OutboxStatus,
    pub attempts: u32,
    pub created_at_ms: EpochMs,
    pub due_at_ms: EpochMs,
    pub sent_at_ms: Option<EpochMs>,
    pub last_error: Option<String>,
}

/// How many rows are in each state, and how late the oldest pending one is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: u64,
    pub sent: u64,
    pub failed: u64,
    /// The earliest `due_at_ms` of a pending row: a dashboard compares it with now to show
    /// "undelivered for N seconds".
    pub oldest_pending_due_ms: Option<EpochMs>,
}

/// The outbox. Every [`crate::Store`] is one.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Enqueues one message in a transaction of its own and returns its row id. A change that
    /// must notify someone enqueues inside its own transaction instead (module documentation).
    async fn enqueue(&self, msg: &NewOutboxMessage, now_ms: EpochMs) -> Result<i64, StoreError>;

    /// Leases up to `limit` due, pending, unleased (or lease-expired) rows to `owner` until
    /// `now_ms + lease_ms`, counting an attempt on each; oldest due first.
    async fn claim_due(
        &self,
        owner: &str,
        now_ms: EpochMs,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<ClaimedMessage>, StoreError>;

    /// Marks a row sent if `owner` still holds its lease at `now_ms`; `false` means the lease was
    /// lost (expired or taken over) and the row is not this caller's to close.
    async fn mark_sent(&self, id: i64, owner: &str, now_ms: EpochMs) -> Result<bool, StoreError>;

    /// [`OutboxStore::mark_sent`] for several rows in one transaction (one durable commit for a
    /// worker's batch); one answer per id, in order.
    async fn mark_sent_all(
        &self,
        ids: &[i64],
        owner: &str,
        now_ms: EpochMs,
    ) -> Result<Vec<bool>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.mark_sent(*id, owner, now_ms).await?);
        }
        Ok(out)
    }

    /// Releases a row after a failed attempt: pending again from `next_due_ms` with
    /// `error_class` recorded, or `failed` for good when `give_up`. `false` when `owner` no longer
    /// holds the row (another worker took it over).
    async fn mark_retry(
        &self,
        id: i64,
        owner: &str,
        error_class: &str,
        next_due_ms: EpochMs,
        give_up: bool,
    ) -> Result<bool, StoreError>;

    /// One row's delivery status.
    async fn outbox_status(&self, id: i64) -> Result<Option<OutboxDelivery>, StoreError>;

    async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError>;
}

/// SQLite's claim: one conditional UPDATE. `$1` owner, `$2` now, `$3` lease length, `$4` limit.
/// Run inside `BEGIN IMMEDIATE`, so no other writer runs between the pick and the update.
pub(crate) const SQLITE_CLAIM: &str = "UPDATE outbox
    SET lease_owner = $1, lease_until_ms = $2 + $3, attempts = attempts + 1
    WHERE id IN (
        SELECT id FROM outbox
        WHERE status = 'pending' AND due_at_ms <= $2
          AND (lease_until_ms IS NULL OR lease_until_ms < $2)
        ORDER BY due_at_ms, id LIMIT $4)
    RETURNING id, message_id, channel, to_address, template, params, secret, attempts,
        created_at_ms, due_at_ms, lease_until_ms";

/// PostgreSQL's claim: rows locked by a concurrent claimer are skipped, not waited for, and a
/// row another claimer leased and committed meanwhile fails the re-checked WHERE.
pub(crate) const POSTGRES_CLAIM: &str = "WITH due AS (
        SELECT id FROM outbox
        WHERE status = 'pending' AND due_at_ms <= $2
          AND (lease_until_ms IS NULL OR lease_until_ms < $2)
        ORDER BY due_at_ms, id LIMIT $4
        FOR UPDATE SKIP LOCKED)
    UPDATE outbox AS o
    SET lease_owner = $1, lease_until_ms = $2 + $3, attempts = o.attempts + 1
    FROM due WHERE o.id = due.id
    RETURNING o.id, o.message_id, o.channel, o.to_address, o.template, o.params, o.secret,
        o.attempts, o.created_at_ms, o.due_at_ms, o.lease_until_ms";

/// A claimed row as stored.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ClaimedRecord {
    pub id: i64,
    pub message_id: String,
    pub channel: String,
    pub to_address: String,
    pub template: String,
    pub params: String,
    pub secret: Option<Vec<u8>>,
    pub attempts: i32,
    pub created_at_ms: i64,
    pub due_at_ms: i64,
    pub lease_until_ms: Option<i64>,
}

fn params(id: i64, text: &str) -> Result<OutboxParams, StoreError> {
    OutboxParams::from_json(text)
        .map_err(|e| StoreError::Corrupt(format!("outbox row {id}: {}", e.message)))
}

fn attempts(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

impl ClaimedRecord {
    pub(crate) fn into_claimed(self) -> Result<ClaimedMessage, StoreError> {
        Ok(ClaimedMessage {
            params: params(self.id, &self.params)?,
            channel: OutboxChannel::parse(&self.channel)?,
            lease_until_ms: self.lease_until_ms.ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "outbox row {} was claimed without a lease",
                    self.id
                ))
            })?,
            id: self.id,
            message_id: self.message_id,
            to_address: self.to_address,
            template: self.template,
            secret: self.secret,
            attempts: attempts(self.attempts),
            created_at_ms: self.created_at_ms,
            due_at_ms: self.due_at_ms,
        })
    }
}

/// A row's status as stored.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct DeliveryRecord {
    pub id: i64,
    pub message_id: String,
    pub channel: String,
    pub template: String,
    pub status: String,
    pub attempts: i32,
    pub created_at_ms: i64,
    pub due_at_ms: i64,
    pub sent_at_ms: Option<i64>,
    pub last_error: Option<String>,
}

impl DeliveryRecord {
    pub(crate) fn into_delivery(self) -> Result<OutboxDelivery, StoreError> {
        Ok(OutboxDelivery {
            channel: OutboxChannel::parse(&self.channel)?,
            status: OutboxStatus::parse(&self.status)?,
            id: self.id,
            message_id: self.message_id,
            template: self.template,
            attempts: attempts(self.attempts),
            created_at_ms: self.created_at_ms,
            due_at_ms: self.due_at_ms,
            sent_at_ms: self.sent_at_ms,
            last_error: self.last_error,
        })
    }
}

/// Longest `error_class` kept (it is meant to be a word, not a reply).
pub(crate) const MAX_ERROR_CLASS: usize = 40;

/// Keeps the leading word of `class` (letters, digits, `_`): whatever a caller appended, such
/// as a server's reply that may echo an address, is not stored.
pub(crate) fn error_class(class: &str) -> String {
    class
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(MAX_ERROR_CLASS)
        .collect()
}

pub(crate) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Implements [`OutboxStore`] and the in-transaction `enqueue_outbox` for one backend.
/// `$claim_sql` is the backend's claim statement ([`SQLITE_CLAIM`] or [`POSTGRES_CLAIM`]).
macro_rules! outbox_impl {
    ($store:ty, $db:ty, $claim_sql:expr) => {
        impl $store {
            /// Writes one outbox row inside the caller's transaction and returns its id. The
            /// caller commits: the row lands with the change that caused it, or not at all.
            pub(crate) async fn enqueue_outbox(
                conn: &mut <$db as sqlx::Database>::Connection,
                msg: &crate::outbox::NewOutboxMessage,
                now_ms: shield_domain::EpochMs,
            ) -> Result<i64, crate::StoreError> {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO outbox (channel, to_address, template, params, secret,
                        created_at_ms, due_at_ms, attempts, status)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 'pending')
                     RETURNING id",
                )
                .bind(msg.channel.as_str())
                .bind(&msg.to_address)
                .bind(&msg.template)
                .bind(msg.params.to_json())
                .bind(msg.secret.as_deref())
                .bind(now_ms)
                .bind(msg.due_at_ms.unwrap_or(now_ms))
                .fetch_one(&mut *conn)
                .await?;
                Ok(id)
            }
        }

        #[async_trait::async_trait]
        impl crate::outbox::OutboxStore for $store {
            async fn enqueue(
                &self,
                msg: &crate::outbox::NewOutboxMessage,
                now_ms: shield_domain::EpochMs,
            ) -> Result<i64, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let id = Self::enqueue_outbox(&mut *tx, msg, now_ms).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn claim_due(
                &self,
                owner: &str,
                now_ms: shield_domain::EpochMs,
                lease_ms: i64,
                limit: u32,
            ) -> Result<Vec<crate::outbox::ClaimedMessage>, crate::StoreError> {
                // A cheap read first: most ticks find nothing, and need not queue to write.
                let due: Option<(i64,)> = sqlx::query_as(
                    "SELECT id FROM outbox WHERE status = 'pending' AND due_at_ms <= $1
                       AND (lease_until_ms IS NULL OR lease_until_ms < $1) LIMIT 1",
                )
                .bind(now_ms)
                .fetch_optional(&self.pool)
                .await?;
                if due.is_none() {
                    return Ok(Vec::new());
                }
                let mut tx = self.begin_write().await?;
                let rows: Vec<crate::outbox::ClaimedRecord> = sqlx::query_as($claim_sql)
                    .bind(owner)
                    .bind(now_ms)
                    .bind(lease_ms.max(0))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                let mut claimed = rows
                    .into_iter()
                    .map(crate::outbox::ClaimedRecord::into_claimed)
                    .collect::<Result<Vec<_>, _>>()?;
                // RETURNING has no order of its own.
                claimed.sort_by_key(|m| (m.due_at_ms, m.id));
                Ok(claimed)
            }

            async fn mark_sent(
                &self,
                id: i64,
                owner: &str,
                now_ms: shield_domain::EpochMs,
            ) -> Result<bool, crate::StoreError> {
                let _turn = self.write_turn().await;
                let done = sqlx::query(
                    "UPDATE outbox SET status = 'sent', sent_at_ms = $3, lease_until_ms = NULL,
                        last_error = NULL
                     WHERE id = $1 AND status = 'pending' AND lease_owner = $2
                       AND lease_until_ms >= $3",
                )
                .bind(id)
                .bind(owner)
                .bind(now_ms)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn mark_sent_all(
                &self,
                ids: &[i64],
                owner: &str,
                now_ms: shield_domain::EpochMs,
            ) -> Result<Vec<bool>, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    let done = sqlx::query(
                        "UPDATE outbox SET status = 'sent', sent_at_ms = $3, lease_until_ms = NULL,
                            last_error = NULL
                         WHERE id = $1 AND status = 'pending' AND lease_owner = $2
                           AND lease_until_ms >= $3",
                    )
                    .bind(*id)
                    .bind(owner)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                    out.push(done.rows_affected() == 1);
                }
                tx.commit().await?;
                Ok(out)
            }

            async fn mark_retry(
                &self,
                id: i64,
                owner: &str,
                error_class: &str,
                next_due_ms: shield_domain::EpochMs,
                give_up: bool,
            ) -> Result<bool, crate::StoreError> {
                let status = if give_up {
                    crate::outbox::OutboxStatus::Failed
                } else {
                    crate::outbox::OutboxStatus::Pending
                };
                let _turn = self.write_turn().await;
                let done = sqlx::query(
                    "UPDATE outbox SET status = $3, last_error = $4, due_at_ms = $5,
                        lease_owner = NULL, lease_until_ms = NULL
                     WHERE id = $1 AND status = 'pending' AND lease_owner = $2",
                )
                .bind(id)
                .bind(owner)
                .bind(status.as_str())
                .bind(crate::outbox::error_class(error_class))
                .bind(next_due_ms)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn outbox_status(
                &self,
                id: i64,
            ) -> Result<Option<crate::outbox::OutboxDelivery>, crate::StoreError> {
                let row: Option<crate::outbox::DeliveryRecord> = sqlx::query_as(
                    "SELECT id, message_id, channel, template, status, attempts, created_at_ms,
                        due_at_ms, sent_at_ms, last_error
                     FROM outbox WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.map(crate::outbox::DeliveryRecord::into_delivery)
                    .transpose()
            }

            async fn outbox_counts(
                &self,
            ) -> Result<crate::outbox::OutboxCounts, crate::StoreError> {
                let rows: Vec<(String, i64, Option<i64>)> = sqlx::query_as(
                    "SELECT status, COUNT(*), MIN(due_at_ms) FROM outbox GROUP BY status",
                )
                .fetch_all(&self.pool)
                .await?;
                let mut counts = crate::outbox::OutboxCounts::default();
                for (status, n, oldest) in rows {
                    let n = crate::outbox::count(n);
                    match crate::outbox::OutboxStatus::parse(&status)? {
                        crate::outbox::OutboxStatus::Pending => {
                            counts.pending = n;
                            counts.oldest_pending_due_ms = oldest;
                        }
                        crate::outbox::OutboxStatus::Sent => counts.sent = n,
                        crate::outbox::OutboxStatus::Failed => counts.failed = n,
                    }
                }
                Ok(counts)
            }
        }
    };
}

pub(crate) use outbox_impl;

#[cfg(test)]
mod tests {
    use super::{NewOutboxMessage, OutboxParams, OutboxStore};
    use crate::{SqliteStore, Store};

    /// The in-transaction enqueue commits or rolls back with the caller's transaction.
    #[tokio::test]
    async fn enqueue_outbox_is_part_of_the_callers_transaction() {
        let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        let to = shield_domain::Email::parse("contact@police.example").unwrap();
        let msg =
            NewOutboxMessage::email(&to, "report_needs_attention", OutboxParams::new()).unwrap();

        let mut tx = store.begin_write().await.unwrap();
        SqliteStore::enqueue_outbox(&mut tx, &msg, 1).await.unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(store.outbox_counts().await.unwrap().pending, 0);

        let mut tx = store.begin_write().await.unwrap();
        SqliteStore::enqueue_outbox(&mut tx, &msg, 1).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.outbox_counts().await.unwrap().pending, 1);
    }

    #[test]
    fn error_class_keeps_the_leading_word_only() {
        assert_eq!(super::error_class("smtp_4xx"), "smtp_4xx");
        assert_eq!(super::error_class("smtp_5xx 550 <a@b.example>"), "smtp_5xx");
        assert_eq!(
            super::error_class(&"a".repeat(100)).len(),
            super::MAX_ERROR_CLASS
        );
    }
}
