//! Passkeys (WebAuthn credentials). The store keeps each one as the web layer hands it over:
//! the credential id (unique across all accounts, so a sign-in finds its account from it) and
//! the serialised `webauthn_rs::Passkey` (public key, counter, backup state), which holds no
//! secret. The store never parses it, so it does not depend on webauthn-rs.
//!
//! Changes that matter to security commit with their audit event, like every other account
//! change: adding a passkey, enrolling with one, removing one.

use async_trait::async_trait;
use shield_domain::UserId;
use shield_domain::audit::AuditEvent;

use crate::StoreError;

/// A passkey as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPasskey {
    pub id: i64,
    pub user_id: UserId,
    pub credential_id: Vec<u8>,
    /// The serialised `webauthn_rs::Passkey` (JSON).
    pub passkey: String,
    /// A label the person sees ("Passkey added 3 May 2026"); never shown to anyone else.
    pub name: String,
    pub created_at_ms: i64,
    pub last_used_at_ms: Option<i64>,
}

/// A passkey to add.
#[derive(Debug, Clone)]
pub struct NewPasskey {
    pub credential_id: Vec<u8>,
    pub passkey: String,
    pub name: String,
}

#[async_trait]
pub trait PasskeyStore: Send + Sync {
    /// Adds a passkey to an active account; the audit event and `notice` (the email telling the
    /// account holder) commit with it. A credential id
    /// already registered (to anyone) is a [`StoreError::Conflict`] and nothing is written.
    async fn add_passkey(
        &self,
        user: UserId,
        passkey: &NewPasskey,
        now_ms: i64,
        audit: &AuditEvent,
        notice: Option<&crate::NewOutboxMessage>,
    ) -> Result<i64, StoreError>;

    /// Enrolment with a passkey as the only sign-in method: claims the invitation, adds the
    /// passkey and makes the account active, in one transaction with the audit events. Fails
    /// with [`StoreError::Conflict`] (and writes nothing) if the invitation was used, revoked
    /// or expired meanwhile, or the credential is already registered.
    async fn complete_passkey_enrolment(
        &self,
        invitation_id: i64,
        user: UserId,
        passkey: &NewPasskey,
        now_ms: i64,
        audit: &[AuditEvent],
    ) -> Result<(), StoreError>;

    async fn passkey_by_credential_id(
        &self,
        credential_id: &[u8],
    ) -> Result<Option<StoredPasskey>, StoreError>;

    /// A user's passkeys, oldest first.
    async fn passkeys(&self, user: UserId) -> Result<Vec<StoredPasskey>, StoreError>;

    /// Records a successful use; `updated` is the passkey after its counter and backup state
    /// were updated, when they changed.
    async fn passkey_used(
        &self,
        id: i64,
        updated: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StoreError>;

    /// Clears a session's step-to-step state if it still holds `expected`; returns whether it
    /// did. Whoever gets `true` owns the ceremony: a WebAuthn challenge is used at most once.
    async fn take_session_state(
        &self,
        token_hash: &[u8],
        expected: &str,
    ) -> Result<bool, StoreError>;

    /// Removes one of the user's passkeys; audited, and `notice` (the email telling the account
    /// holder) queued in the same transaction. Returns whether there was one to remove.
    async fn remove_passkey(
        &self,
        user: UserId,
        id: i64,
        now_ms: i64,
        audit: &AuditEvent,
        notice: Option<&crate::NewOutboxMessage>,
    ) -> Result<bool, StoreError>;
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct PasskeyRow {
    pub id: i64,
    pub user_id: i64,
    pub credential_id: Vec<u8>,
    pub passkey: String,
    pub name: String,
    pub created_at_ms: i64,
    pub last_used_at_ms: Option<i64>,
}

impl From<PasskeyRow> for StoredPasskey {
    fn from(r: PasskeyRow) -> Self {
        Self {
            id: r.id,
            user_id: UserId(r.user_id),
            credential_id: r.credential_id,
            passkey: r.passkey,
            name: r.name,
            created_at_ms: r.created_at_ms,
            last_used_at_ms: r.last_used_at_ms,
        }
    }
}

pub(crate) const PASSKEY_SELECT: &str = "SELECT id, user_id, credential_id, passkey, name, created_at_ms, last_used_at_ms FROM passkeys";

macro_rules! passkeys_impl {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl crate::passkeys::PasskeyStore for $store {
            async fn add_passkey(
                &self,
                user: shield_domain::UserId,
                p: &crate::passkeys::NewPasskey,
                now_ms: i64,
                audit: &shield_domain::audit::AuditEvent,
                notice: Option<&crate::NewOutboxMessage>,
            ) -> Result<i64, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let active: Option<(String,)> = sqlx::query_as("SELECT status FROM users WHERE id = $1")
                    .bind(user.0)
                    .fetch_optional(&mut *tx)
                    .await?;
                if !matches!(active, Some((ref s,)) if s == "active") {
                    return Err(crate::StoreError::Conflict("the account is not active".into()));
                }
                let id = Self::insert_passkey(&mut *tx, user, p, now_ms).await?;
                Self::append_audit(&mut *tx, audit).await?;
                if let Some(notice) = notice {
                    Self::enqueue_outbox(&mut *tx, notice, now_ms).await?;
                }
                tx.commit().await?;
                Ok(id)
            }

            async fn complete_passkey_enrolment(
                &self,
                invitation_id: i64,
                user: shield_domain::UserId,
                p: &crate::passkeys::NewPasskey,
                now_ms: i64,
                audit: &[shield_domain::audit::AuditEvent],
            ) -> Result<(), crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let claimed = sqlx::query(
                    "UPDATE invitations SET used_at_ms = $3 WHERE id = $1 AND user_id = $2
                     AND used_at_ms IS NULL AND revoked_at_ms IS NULL AND expires_at_ms > $3",
                )
                .bind(invitation_id)
                .bind(user.0)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if claimed != 1 {
                    return Err(crate::StoreError::Conflict(
                        "the invitation was already used, revoked or has expired".into(),
                    ));
                }
                Self::insert_passkey(&mut *tx, user, p, now_ms).await?;
                sqlx::query("UPDATE users SET status = 'active', enrolled_at_ms = $2 WHERE id = $1")
                    .bind(user.0)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                for event in audit {
                    Self::append_audit(&mut *tx, event).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn passkey_by_credential_id(
                &self,
                credential_id: &[u8],
            ) -> Result<Option<crate::passkeys::StoredPasskey>, crate::StoreError> {
                let sql = format!("{} WHERE credential_id = $1", crate::passkeys::PASSKEY_SELECT);
                let row: Option<crate::passkeys::PasskeyRow> = sqlx::query_as(&sql)
                    .bind(credential_id.to_vec())
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(Into::into))
            }

            async fn passkeys(
                &self,
                user: shield_domain::UserId,
            ) -> Result<Vec<crate::passkeys::StoredPasskey>, crate::StoreError> {
                let sql = format!("{} WHERE user_id = $1 ORDER BY created_at_ms, id", crate::passkeys::PASSKEY_SELECT);
                let rows: Vec<crate::passkeys::PasskeyRow> =
                    sqlx::query_as(&sql).bind(user.0).fetch_all(&self.pool).await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn passkey_used(&self, id: i64, updated: Option<&str>, now_ms: i64) -> Result<(), crate::StoreError> {
                sqlx::query("UPDATE passkeys SET last_used_at_ms = $2, passkey = COALESCE($3, passkey) WHERE id = $1")
                    .bind(id)
                    .bind(now_ms)
                    .bind(updated)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn take_session_state(&self, token_hash: &[u8], expected: &str) -> Result<bool, crate::StoreError> {
                let done = sqlx::query("UPDATE sessions SET state = NULL WHERE token_hash = $1 AND state = $2")
                    .bind(token_hash.to_vec())
                    .bind(expected)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                Ok(done == 1)
            }

            async fn remove_passkey(
                &self,
                user: shield_domain::UserId,
                id: i64,
                now_ms: i64,
                audit: &shield_domain::audit::AuditEvent,
                notice: Option<&crate::NewOutboxMessage>,
            ) -> Result<bool, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
                    .bind(id)
                    .bind(user.0)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if done == 1 {
                    Self::append_audit(&mut *tx, audit).await?;
                    if let Some(notice) = notice {
                        Self::enqueue_outbox(&mut *tx, notice, now_ms).await?;
                    }
                    tx.commit().await?;
                }
                Ok(done == 1)
            }
        }

        impl $store {
            async fn insert_passkey(
                conn: &mut <$db as sqlx::Database>::Connection,
                user: shield_domain::UserId,
                p: &crate::passkeys::NewPasskey,
                now_ms: i64,
            ) -> Result<i64, crate::StoreError> {
                let taken: Option<(i64,)> = sqlx::query_as("SELECT id FROM passkeys WHERE credential_id = $1")
                    .bind(p.credential_id.clone())
                    .fetch_optional(&mut *conn)
                    .await?;
                if taken.is_some() {
                    return Err(crate::StoreError::Conflict("this passkey is already registered".into()));
                }
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO passkeys (user_id, credential_id, passkey, name, created_at_ms)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(user.0)
                .bind(p.credential_id.clone())
                .bind(&p.passkey)
                .bind(&p.name)
                .bind(now_ms)
                .fetch_one(&mut *conn)
                .await?;
                Ok(id)
            }
        }
    };
}

pub(crate) use passkeys_impl;
