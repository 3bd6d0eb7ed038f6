//! Delegates: people a candidate authorises to act for them (an election agent, staff), each
//! with the grants the candidate chose (`view`, `report`, `edit`). A delegation is a row in
//! `delegations`; revoking sets `revoked_at_ms`, and since the access policy's `Actor` is
//! rebuilt from these rows on every request, a revoked grant stops working at once.
//!
//! Adding a delegate creates (or reuses) the delegate's account, upserts the delegation, issues
//! an invitation if the account has not enrolled yet, and queues its email, in one transaction
//! with the audit event.

use std::collections::BTreeSet;

use async_trait::async_trait;
use shield_domain::audit::AuditEvent;
use shield_domain::policy::Grant;
use shield_domain::{CandidateId, UserId};

use crate::StoreError;
use crate::accounts::{NewInvitation, UserStatus};

/// Grants as stored: a comma-separated list in a fixed order.
pub fn grants_text(grants: &BTreeSet<Grant>) -> String {
    grants
        .iter()
        .map(|g| match g {
            Grant::View => "view",
            Grant::Report => "report",
            Grant::Edit => "edit",
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A delegate as their candidate sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegateRow {
    pub user_id: UserId,
    pub display_name: String,
    pub email: String,
    pub status: UserStatus,
    pub grants: BTreeSet<Grant>,
    pub created_at_ms: i64,
}

/// A candidate a delegate acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActingFor {
    pub candidate_id: CandidateId,
    pub candidate_name: String,
    pub constituency_name: String,
    pub grants: BTreeSet<Grant>,
}

/// A delegate to add.
#[derive(Debug, Clone)]
pub struct NewDelegate {
    pub display_name: String,
    /// Lower-cased by the caller.
    pub email: String,
    pub grants: BTreeSet<Grant>,
}

/// What adding a delegate did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DelegateAdded {
    /// A new or not-yet-enrolled account: the invitation was issued and its email queued.
    Invited(UserId),
    /// An enrolled delegate account: the delegation was added, no invitation needed.
    Existing(UserId),
}

#[async_trait]
pub trait DelegateStore: Send + Sync {
    /// Adds (or re-grants) a delegate. The email must be new or belong to a delegate account;
    /// another kind of account is a [`StoreError::Conflict`] and nothing is written. An
    /// account that has not enrolled gets `invitation` (replacing an earlier unused one) and
    /// `email`; an enrolled one gets neither. One transaction with `audit`.
    async fn add_delegate(
        &self,
        candidate: CandidateId,
        delegate: &NewDelegate,
        invitation: &NewInvitation,
        now_ms: i64,
        audit: &AuditEvent,
        email: Option<&crate::NewOutboxMessage>,
    ) -> Result<DelegateAdded, StoreError>;

    /// The candidate's current (unrevoked) delegates, oldest first.
    async fn delegates(&self, candidate: CandidateId) -> Result<Vec<DelegateRow>, StoreError>;

    /// Changes what a current delegate may do; audited. Returns whether there was one.
    async fn set_delegate_grants(
        &self,
        candidate: CandidateId,
        delegate: UserId,
        grants: &BTreeSet<Grant>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// Revokes a delegation at once; audited. Returns whether there was one to revoke.
    async fn revoke_delegate(
        &self,
        candidate: CandidateId,
        delegate: UserId,
        now_ms: i64,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// The candidates a delegate currently acts for, by name.
    async fn acting_for(&self, delegate: UserId) -> Result<Vec<ActingFor>, StoreError>;
}

macro_rules! delegates_impl {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl crate::delegates::DelegateStore for $store {
            async fn add_delegate(
                &self,
                candidate: shield_domain::CandidateId,
                d: &crate::delegates::NewDelegate,
                invitation: &crate::accounts::NewInvitation,
                now_ms: i64,
                audit: &shield_domain::audit::AuditEvent,
                email: Option<&crate::NewOutboxMessage>,
            ) -> Result<crate::delegates::DelegateAdded, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let existing: Option<(i64, String, String)> =
                    sqlx::query_as("SELECT id, role, status FROM users WHERE email = $1")
                        .bind(&d.email)
                        .fetch_optional(&mut *tx)
                        .await?;
                let (user_id, status) = match existing {
                    Some((_, role, _)) if role != "delegate" => {
                        return Err(crate::StoreError::Conflict(
                            "this email belongs to an account that cannot be a delegate".into(),
                        ));
                    }
                    Some((id, _, status)) => (id, status),
                    None => {
                        let (id,): (i64,) = sqlx::query_as(
                            "INSERT INTO users (role, display_name, email, candidate_id, status, created_at_ms)
                             VALUES ('delegate', $1, $2, NULL, 'invited', $3) RETURNING id",
                        )
                        .bind(&d.display_name)
                        .bind(&d.email)
                        .bind(now_ms)
                        .fetch_one(&mut *tx)
                        .await?;
                        (id, "invited".to_owned())
                    }
                };
                if status == "disabled" {
                    return Err(crate::StoreError::Conflict("this account is disabled".into()));
                }
                sqlx::query(
                    "INSERT INTO delegations (candidate_id, delegate_user_id, grants, created_at_ms, revoked_at_ms)
                     VALUES ($1, $2, $3, $4, NULL)
                     ON CONFLICT (candidate_id, delegate_user_id)
                     DO UPDATE SET grants = excluded.grants, created_at_ms = excluded.created_at_ms, revoked_at_ms = NULL",
                )
                .bind(candidate.0)
                .bind(user_id)
                .bind(crate::delegates::grants_text(&d.grants))
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
                let subject = |kind: &str, id: String| {
                    shield_domain::audit::AuditSubject::new(kind, &id)
                        .map_err(|e| crate::StoreError::Corrupt(e.message))
                };
                let added = if status == "invited" {
                    sqlx::query(
                        "UPDATE invitations SET revoked_at_ms = $2 WHERE user_id = $1 AND used_at_ms IS NULL AND revoked_at_ms IS NULL",
                    )
                    .bind(user_id)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO invitations (user_id, token_hash, created_by, created_at_ms, expires_at_ms)
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(user_id)
                    .bind(invitation.token_hash.to_vec())
                    .bind(invitation.created_by.map(|u| u.0))
                    .bind(now_ms)
                    .bind(invitation.expires_at_ms)
                    .execute(&mut *tx)
                    .await?;
                    if let Some(email) = email {
                        Self::enqueue_outbox(&mut *tx, email, now_ms).await?;
                    }
                    crate::delegates::DelegateAdded::Invited(shield_domain::UserId(user_id))
                } else {
                    crate::delegates::DelegateAdded::Existing(shield_domain::UserId(user_id))
                };
                let audit = audit
                    .clone()
                    .with_subject(subject("candidate", candidate.to_string())?)
                    .with_detail("delegate", &user_id.to_string())
                    .map_err(|e| crate::StoreError::Corrupt(e.message))?;
                Self::append_audit(&mut *tx, &audit).await?;
                tx.commit().await?;
                Ok(added)
            }

            async fn delegates(
                &self,
                candidate: shield_domain::CandidateId,
            ) -> Result<Vec<crate::delegates::DelegateRow>, crate::StoreError> {
                let rows: Vec<(i64, String, String, String, String, i64)> = sqlx::query_as(
                    "SELECT u.id, u.display_name, u.email, u.status, d.grants, d.created_at_ms
                     FROM delegations d JOIN users u ON u.id = d.delegate_user_id
                     WHERE d.candidate_id = $1 AND d.revoked_at_ms IS NULL
                     ORDER BY d.created_at_ms, u.id",
                )
                .bind(candidate.0)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(id, name, email, status, grants, created)| {
                        Ok(crate::delegates::DelegateRow {
                            user_id: shield_domain::UserId(id),
                            display_name: name,
                            email,
                            status: crate::accounts::UserStatus::parse(&status)?,
                            grants: crate::accounts::parse_grants(&grants),
                            created_at_ms: created,
                        })
                    })
                    .collect()
            }

            async fn set_delegate_grants(
                &self,
                candidate: shield_domain::CandidateId,
                delegate: shield_domain::UserId,
                grants: &std::collections::BTreeSet<shield_domain::policy::Grant>,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<bool, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE delegations SET grants = $3
                     WHERE candidate_id = $1 AND delegate_user_id = $2 AND revoked_at_ms IS NULL",
                )
                .bind(candidate.0)
                .bind(delegate.0)
                .bind(crate::delegates::grants_text(grants))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if done == 1 {
                    Self::append_audit(&mut *tx, audit).await?;
                    tx.commit().await?;
                }
                Ok(done == 1)
            }

            async fn revoke_delegate(
                &self,
                candidate: shield_domain::CandidateId,
                delegate: shield_domain::UserId,
                now_ms: i64,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<bool, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "UPDATE delegations SET revoked_at_ms = $3
                     WHERE candidate_id = $1 AND delegate_user_id = $2 AND revoked_at_ms IS NULL",
                )
                .bind(candidate.0)
                .bind(delegate.0)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if done == 1 {
                    Self::append_audit(&mut *tx, audit).await?;
                    tx.commit().await?;
                }
                Ok(done == 1)
            }

            async fn acting_for(
                &self,
                delegate: shield_domain::UserId,
            ) -> Result<Vec<crate::delegates::ActingFor>, crate::StoreError> {
                let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
                    "SELECT c.id, c.name, k.name, d.grants
                     FROM delegations d JOIN candidates c ON c.id = d.candidate_id
                     JOIN constituencies k ON k.code = c.constituency_code
                     WHERE d.delegate_user_id = $1 AND d.revoked_at_ms IS NULL
                     ORDER BY c.name, c.id",
                )
                .bind(delegate.0)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, name, constituency, grants)| crate::delegates::ActingFor {
                        candidate_id: shield_domain::CandidateId(id),
                        candidate_name: name,
                        constituency_name: constituency,
                        grants: crate::accounts::parse_grants(&grants),
                    })
                    .collect())
            }
        }
    };
}

pub(crate) use delegates_impl;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_round_trip_in_a_fixed_order() {
        let grants: BTreeSet<Grant> = [Grant::Edit, Grant::View].into_iter().collect();
        assert_eq!(grants_text(&grants), "view,edit");
        assert_eq!(crate::accounts::parse_grants("view,edit"), grants);
        assert_eq!(grants_text(&BTreeSet::new()), "");
    }
}
