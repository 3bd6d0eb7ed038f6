//! Accounts, invitations, credentials, sessions and candidates' sealed details.
//!
//! The store holds only what cannot be used if the database is copied: token and session ids
//! as SHA-256 hashes, passwords and recovery codes as Argon2id PHC strings, and TOTP seeds,
//! home addresses and emergency contacts as blobs sealed by the caller (shield-crypto). It
//! never sees a key. Each user action that changes something appends its audit event in the
//! same transaction (`Self::append_audit`).

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use shield_domain::audit::AuditEvent;
use shield_domain::policy::{Actor, Grant};
use shield_domain::{CandidateId, ForceCode, Role, UserId};

use crate::StoreError;

/// Where an account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Invited,
    Active,
    Disabled,
}

impl UserStatus {
    pub fn key(self) -> &'static str {
        match self {
            Self::Invited => "invited",
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }

    pub(crate) fn parse(value: &str) -> Result<Self, StoreError> {
        match value {
            "invited" => Ok(Self::Invited),
            "active" => Ok(Self::Active),
            "disabled" => Ok(Self::Disabled),
            other => Err(StoreError::Corrupt(format!(
                "unknown user status {other:?}"
            ))),
        }
    }
}

/// An account to create (or find) before inviting its person.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub role: Role,
    pub display_name: String,
    pub email: String,
    pub candidate_id: Option<CandidateId>,
    pub forces: Vec<ForceCode>,
}

/// A fresh invitation: the caller made the token, keeps it only long enough to seal it into
/// the outbox row, and gives the store its hash.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub token_hash: [u8; 32],
    pub expires_at_ms: i64,
    pub created_by: Option<UserId>,
}

/// What an invitation link leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationView {
    pub id: i64,
    pub user_id: UserId,
    pub role: Role,
    pub display_name: String,
    pub email: String,
    pub candidate_id: Option<CandidateId>,
    pub expires_at_ms: i64,
    pub used: bool,
    pub revoked: bool,
}

/// What sign-in needs to know about an account.
#[derive(Debug, Clone)]
pub struct UserAuth {
    pub id: UserId,
    pub role: Role,
    pub status: UserStatus,
    pub display_name: String,
    pub password_phc: Option<String>,
    pub failed_attempts: i64,
    pub locked_until_ms: Option<i64>,
    pub has_totp: bool,
    pub passkeys: i64,
}

/// Everything enrolment writes, in one transaction.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub invitation_id: i64,
    pub user_id: UserId,
    pub password_phc: Option<String>,
    pub sealed_totp_secret: Option<Vec<u8>>,
    /// The TOTP step the person proved at set-up: later codes must be for a later step.
    pub totp_step: i64,
    pub recovery_code_hashes: Vec<String>,
}

impl Enrolment {
    /// An enrolment with no password, authenticator app or recovery codes: accounts that tests
    /// and benchmarks seed, which then sign in through a session they make themselves.
    pub fn without_secrets(invitation_id: i64, user_id: UserId) -> Self {
        Self {
            invitation_id,
            user_id,
            password_phc: None,
            sealed_totp_secret: None,
            totp_step: 0,
            recovery_code_hashes: Vec::new(),
        }
    }
}

/// A session row as stored (the token itself is never stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub token_hash: Vec<u8>,
    pub user_id: Option<UserId>,
    pub pending_user_id: Option<UserId>,
    pub csrf_token: String,
    pub created_at_ms: i64,
    pub last_seen_ms: i64,
    pub authenticated_at_ms: Option<i64>,
    pub expires_at_ms: i64,
    /// Step-to-step state of a flow in progress (enrolment), JSON; secrets in it are sealed.
    pub state: Option<String>,
}

/// A named police contact as a candidate sees them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NamedContact {
    pub force_code: ForceCode,
    pub force_name: String,
    pub is_primary_force: bool,
    pub role: String,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
}

/// A candidate's own page: who they are, where they stand, and who to call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateOverview {
    pub candidate_id: CandidateId,
    pub name: String,
    pub party: String,
    pub constituency_code: String,
    pub constituency_name: String,
    pub election_name: String,
    pub forces: Vec<ForceCode>,
    pub contacts: Vec<NamedContact>,
}

/// The sealed details of a candidate, opened by the caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SealedProfile {
    pub home_address: Option<Vec<u8>>,
    pub emergency_contact: Option<Vec<u8>>,
    pub confirmed_at_ms: Option<i64>,
}

/// Enrolment status of one candidate, for force contacts and coordinators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentRow {
    pub candidate_id: CandidateId,
    pub name: String,
    pub party: String,
    pub constituency_name: String,
    pub has_email: bool,
    pub status: Option<UserStatus>,
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Finds the account for this email (or candidacy), creating it as invited if absent, and
    /// issues an invitation; the audit event commits with it. Returns the user and invitation.
    /// `email` (when given) is the invitation email, queued in the same transaction.
    async fn invite(
        &self,
        user: &NewUser,
        invitation: &NewInvitation,
        now_ms: i64,
        audit: &AuditEvent,
        email: Option<&crate::NewOutboxMessage>,
    ) -> Result<(UserId, i64), StoreError>;

    async fn invitation_by_token(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<InvitationView>, StoreError>;

    /// Sets the first sign-in methods, marks the invitation used and the account active.
    /// Fails (and writes nothing) if the invitation was used meanwhile.
    async fn complete_enrolment(
        &self,
        enrolment: &Enrolment,
        now_ms: i64,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;

    async fn user_auth_by_email(&self, email: &str) -> Result<Option<UserAuth>, StoreError>;
    /// The account's email address, for notices to the account holder.
    async fn user_email(&self, user: UserId) -> Result<Option<String>, StoreError>;
    async fn user_auth(&self, user: UserId) -> Result<Option<UserAuth>, StoreError>;

    /// Counts a failed sign-in and sets the lock-out time the caller chose; audited.
    async fn record_sign_in_failure(
        &self,
        user: UserId,
        locked_until_ms: Option<i64>,
        audit: &AuditEvent,
    ) -> Result<i64, StoreError>;

    /// The sealed TOTP seed and the last step used.
    async fn totp_secret(&self, user: UserId) -> Result<Option<(Vec<u8>, i64)>, StoreError>;

    /// Accepts a TOTP step only if it is later than the last one used: atomic, so the same code
    /// can never be used twice, even by two requests at once.
    async fn use_totp_step(&self, user: UserId, step: i64) -> Result<bool, StoreError>;

    /// Unused recovery-code hashes, with their ids.
    async fn recovery_codes(&self, user: UserId) -> Result<Vec<(i64, String)>, StoreError>;
    /// Spends a recovery code (once); `notice` (the email telling the account holder) is
    /// queued in the same transaction when the code was spent.
    async fn use_recovery_code(
        &self,
        id: i64,
        now_ms: i64,
        notice: Option<&crate::NewOutboxMessage>,
    ) -> Result<bool, StoreError>;

    async fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    async fn session(&self, token_hash: &[u8]) -> Result<Option<SessionRecord>, StoreError>;
    async fn touch_session(&self, token_hash: &[u8], now_ms: i64) -> Result<(), StoreError>;
    async fn set_session_state(
        &self,
        token_hash: &[u8],
        state: Option<&str>,
    ) -> Result<(), StoreError>;

    /// Replaces a session with a new one for a signed-in user (a fresh id at sign-in, so a
    /// token planted before sign-in is worthless), clears the failure count, and audits it.
    async fn sign_in(
        &self,
        old_token_hash: Option<&[u8]>,
        session: &SessionRecord,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;

    async fn delete_session(
        &self,
        token_hash: &[u8],
        audit: Option<&AuditEvent>,
    ) -> Result<(), StoreError>;

    /// Signs the person out everywhere: deletes every session of theirs, audited, with
    /// `notice` queued in the same transaction. Returns how many sessions ended.
    async fn delete_user_sessions(
        &self,
        user: UserId,
        now_ms: i64,
        audit: &AuditEvent,
        notice: Option<&crate::NewOutboxMessage>,
    ) -> Result<u64, StoreError>;

    /// The signed-in person as the access policy sees them, built fresh each request.
    async fn actor(
        &self,
        user: UserId,
        authenticated_at_ms: i64,
    ) -> Result<Option<Actor>, StoreError>;

    async fn candidate_overview(
        &self,
        candidate: CandidateId,
    ) -> Result<Option<CandidateOverview>, StoreError>;

    /// The forces of a candidate's constituency, for building policy resources.
    async fn candidate_forces(&self, candidate: CandidateId) -> Result<Vec<ForceCode>, StoreError>;

    async fn profile(&self, candidate: CandidateId) -> Result<SealedProfile, StoreError>;
    async fn save_profile(
        &self,
        candidate: CandidateId,
        profile: &SealedProfile,
        now_ms: i64,
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;

    /// Every sealed value in every encrypted column ([`SEALED_COLUMNS`]), for key rotation.
    async fn sealed_blobs(&self) -> Result<Vec<SealedBlob>, StoreError>;

    /// Swaps one sealed value for its re-encryption, only if it has not changed meanwhile.
    async fn replace_sealed_blob(
        &self,
        old: &SealedBlob,
        new_value: &[u8],
    ) -> Result<bool, StoreError>;

    /// Enrolment status of the candidates of a force (or of all, for coordinators).
    async fn enrolment(&self, force: Option<&ForceCode>) -> Result<Vec<EnrolmentRow>, StoreError>;

    /// Candidate ids of a force (or all) with an email and no account yet, or still invited.
    async fn candidate_invitees(
        &self,
        force: Option<&ForceCode>,
    ) -> Result<Vec<NewUserCandidate>, StoreError>;

    /// Force contacts from the roster with no active account yet.
    async fn contact_invitees(&self) -> Result<Vec<NewUser>, StoreError>;
}

/// Every encrypted column: table, column, and the id column whose value is bound into the
/// ciphertext's associated data. Key rotation and the "no plaintext" schema test use this list.
pub const SEALED_COLUMNS: &[(&str, &str, &str)] = &[
    ("candidate_profiles", "home_address", "candidate_id"),
    ("candidate_profiles", "emergency_contact", "candidate_id"),
    ("totp_credentials", "sealed_secret", "user_id"),
    ("reports", "details", "id"),
    ("report_messages", "body", "id"),
    ("evidence", "content", "id"),
    ("evidence", "filename", "id"),
    ("report_events", "note", "id"),
    ("force_webhooks", "secret", "id"),
    ("activities", "place", "id"),
    ("checkin_sessions", "place", "id"),
    ("checkin_sessions", "buddy", "id"),
    ("checkin_buddies", "contact", "candidate_id"),
    ("security_requests", "details", "id"),
    ("security_request_events", "note", "id"),
];

/// One sealed value and where it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedBlob {
    pub table: &'static str,
    pub column: &'static str,
    pub row_id: String,
    pub value: Vec<u8>,
}

/// A candidate who can be invited.
#[derive(Debug, Clone)]
pub struct NewUserCandidate {
    pub candidate_id: CandidateId,
    pub name: String,
    pub email: String,
}

pub(crate) fn parse_grants(text: &str) -> BTreeSet<Grant> {
    text.split(',')
        .filter_map(|g| match g.trim() {
            "view" => Some(Grant::View),
            "report" => Some(Grant::Report),
            "edit" => Some(Grant::Edit),
            _ => None,
        })
        .collect()
}

pub(crate) fn build_actor(
    user: UserId,
    role: &str,
    candidate: Option<i64>,
    forces: Vec<String>,
    delegations: Vec<(i64, String)>,
    authenticated_at_ms: i64,
) -> Result<Actor, StoreError> {
    let role = Role::parse(role).map_err(|e| StoreError::Corrupt(e.message))?;
    let forces = forces
        .iter()
        .map(|f| ForceCode::parse(f).map_err(|e| StoreError::Corrupt(e.message)))
        .collect::<Result<BTreeSet<_>, _>>()?;
    let delegations: BTreeMap<CandidateId, BTreeSet<Grant>> = delegations
        .into_iter()
        .map(|(c, g)| (CandidateId(c), parse_grants(&g)))
        .collect();
    Ok(Actor {
        user_id: user,
        role,
        candidate: candidate.map(CandidateId),
        delegations,
        forces,
        authenticated_at_ms,
    })
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UserAuthRow {
    pub id: i64,
    pub role: String,
    pub status: String,
    pub display_name: String,
    pub phc: Option<String>,
    pub failed_attempts: i64,
    pub locked_until_ms: Option<i64>,
    pub has_totp: i64,
    pub passkeys: i64,
}

impl UserAuthRow {
    pub fn into_auth(self) -> Result<UserAuth, StoreError> {
        Ok(UserAuth {
            id: UserId(self.id),
            role: Role::parse(&self.role).map_err(|e| StoreError::Corrupt(e.message))?,
            status: UserStatus::parse(&self.status)?,
            display_name: self.display_name,
            password_phc: self.phc,
            failed_attempts: self.failed_attempts,
            locked_until_ms: self.locked_until_ms,
            has_totp: self.has_totp > 0,
            passkeys: self.passkeys,
        })
    }
}

pub(crate) const USER_AUTH_SELECT: &str = "SELECT u.id, u.role, u.status, u.display_name, p.phc,
        CAST(u.failed_attempts AS BIGINT) AS failed_attempts, u.locked_until_ms,
        (SELECT COUNT(*) FROM totp_credentials t WHERE t.user_id = u.id) AS has_totp,
        (SELECT COUNT(*) FROM passkeys k WHERE k.user_id = u.id) AS passkeys
     FROM users u LEFT JOIN password_credentials p ON p.user_id = u.id";

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub token_hash: Vec<u8>,
    pub user_id: Option<i64>,
    pub pending_user_id: Option<i64>,
    pub csrf_token: String,
    pub created_at_ms: i64,
    pub last_seen_ms: i64,
    pub authenticated_at_ms: Option<i64>,
    pub expires_at_ms: i64,
    pub state: Option<String>,
}

impl From<SessionRow> for SessionRecord {
    fn from(r: SessionRow) -> Self {
        Self {
            token_hash: r.token_hash,
            user_id: r.user_id.map(UserId),
            pending_user_id: r.pending_user_id.map(UserId),
            csrf_token: r.csrf_token,
            created_at_ms: r.created_at_ms,
            last_seen_ms: r.last_seen_ms,
            authenticated_at_ms: r.authenticated_at_ms,
            expires_at_ms: r.expires_at_ms,
            state: r.state,
        }
    }
}

macro_rules! accounts_impl {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl crate::accounts::AccountStore for $store {
            async fn invite(
                &self,
                user: &crate::accounts::NewUser,
                invitation: &crate::accounts::NewInvitation,
                now_ms: i64,
                audit: &shield_domain::audit::AuditEvent,
                email: Option<&crate::NewOutboxMessage>,
            ) -> Result<(shield_domain::UserId, i64), crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let existing: Option<(i64,)> = sqlx::query_as(
                    "SELECT id FROM users WHERE email = $1 OR ($2 IS NOT NULL AND candidate_id = $2)",
                )
                .bind(&user.email)
                .bind(user.candidate_id.map(|c| c.0))
                .fetch_optional(&mut *tx)
                .await?;
                let user_id = match existing {
                    Some((id,)) => id,
                    None => {
                        let (id,): (i64,) = sqlx::query_as(
                            "INSERT INTO users (role, display_name, email, candidate_id, status, created_at_ms)
                             VALUES ($1, $2, $3, $4, 'invited', $5) RETURNING id",
                        )
                        .bind(user.role.key())
                        .bind(&user.display_name)
                        .bind(&user.email)
                        .bind(user.candidate_id.map(|c| c.0))
                        .bind(now_ms)
                        .fetch_one(&mut *tx)
                        .await?;
                        id
                    }
                };
                for force in &user.forces {
                    sqlx::query(
                        "INSERT INTO user_forces (user_id, force_code) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    )
                    .bind(user_id)
                    .bind(force.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
                // A new invitation replaces any earlier unused one.
                sqlx::query(
                    "UPDATE invitations SET revoked_at_ms = $2 WHERE user_id = $1 AND used_at_ms IS NULL AND revoked_at_ms IS NULL",
                )
                .bind(user_id)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
                let (invitation_id,): (i64,) = sqlx::query_as(
                    "INSERT INTO invitations (user_id, token_hash, created_by, created_at_ms, expires_at_ms)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(user_id)
                .bind(invitation.token_hash.to_vec())
                .bind(invitation.created_by.map(|u| u.0))
                .bind(now_ms)
                .bind(invitation.expires_at_ms)
                .fetch_one(&mut *tx)
                .await?;
                let audit = audit
                    .clone()
                    .with_subject(
                        shield_domain::audit::AuditSubject::new("user", &user_id.to_string())
                            .map_err(|e| crate::StoreError::Corrupt(e.message))?,
                    );
                Self::append_audit(&mut *tx, &audit).await?;
                if let Some(email) = email {
                    Self::enqueue_outbox(&mut *tx, email, now_ms).await?;
                }
                tx.commit().await?;
                Ok((shield_domain::UserId(user_id), invitation_id))
            }

            async fn invitation_by_token(
                &self,
                token_hash: &[u8; 32],
            ) -> Result<Option<crate::accounts::InvitationView>, crate::StoreError> {
                let row: Option<(i64, i64, String, String, String, Option<i64>, i64, Option<i64>, Option<i64>)> =
                    sqlx::query_as(
                        "SELECT i.id, u.id, u.role, u.display_name, u.email, u.candidate_id, i.expires_at_ms, i.used_at_ms, i.revoked_at_ms
                         FROM invitations i JOIN users u ON u.id = i.user_id WHERE i.token_hash = $1",
                    )
                    .bind(token_hash.to_vec())
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(|(id, user, role, name, email, candidate, expires, used, revoked)| {
                    Ok(crate::accounts::InvitationView {
                        id,
                        user_id: shield_domain::UserId(user),
                        role: shield_domain::Role::parse(&role).map_err(|e| crate::StoreError::Corrupt(e.message))?,
                        display_name: name,
                        email,
                        candidate_id: candidate.map(shield_domain::CandidateId),
                        expires_at_ms: expires,
                        used: used.is_some(),
                        revoked: revoked.is_some(),
                    })
                })
                .transpose()
            }

            async fn complete_enrolment(
                &self,
                e: &crate::accounts::Enrolment,
                now_ms: i64,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<(), crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let claimed = sqlx::query(
                    "UPDATE invitations SET used_at_ms = $3 WHERE id = $1 AND user_id = $2
                     AND used_at_ms IS NULL AND revoked_at_ms IS NULL AND expires_at_ms > $3",
                )
                .bind(e.invitation_id)
                .bind(e.user_id.0)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if claimed != 1 {
                    return Err(crate::StoreError::Conflict("the invitation was already used, revoked or has expired".into()));
                }
                if let Some(phc) = &e.password_phc {
                    sqlx::query(
                        "INSERT INTO password_credentials (user_id, phc, updated_at_ms) VALUES ($1, $2, $3)
                         ON CONFLICT (user_id) DO UPDATE SET phc = excluded.phc, updated_at_ms = excluded.updated_at_ms",
                    )
                    .bind(e.user_id.0)
                    .bind(phc)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                }
                if let Some(secret) = &e.sealed_totp_secret {
                    sqlx::query(
                        "INSERT INTO totp_credentials (user_id, sealed_secret, last_step, created_at_ms) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (user_id) DO UPDATE SET sealed_secret = excluded.sealed_secret, last_step = excluded.last_step, created_at_ms = excluded.created_at_ms",
                    )
                    .bind(e.user_id.0)
                    .bind(secret.clone())
                    .bind(e.totp_step)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                }
                if !e.recovery_code_hashes.is_empty() {
                    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                        .bind(e.user_id.0)
                        .execute(&mut *tx)
                        .await?;
                    for hash in &e.recovery_code_hashes {
                        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                            .bind(e.user_id.0)
                            .bind(hash)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                sqlx::query("UPDATE users SET status = 'active', enrolled_at_ms = $2 WHERE id = $1")
                    .bind(e.user_id.0)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?;
                Self::append_audit(&mut *tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn user_auth_by_email(&self, email: &str) -> Result<Option<crate::accounts::UserAuth>, crate::StoreError> {
                let sql = format!("{} WHERE u.email = $1", crate::accounts::USER_AUTH_SELECT);
                let row: Option<crate::accounts::UserAuthRow> =
                    sqlx::query_as(&sql).bind(email).fetch_optional(&self.pool).await?;
                row.map(crate::accounts::UserAuthRow::into_auth).transpose()
            }

            async fn user_email(&self, user: shield_domain::UserId) -> Result<Option<String>, crate::StoreError> {
                let row: Option<(String,)> = sqlx::query_as("SELECT email FROM users WHERE id = $1")
                    .bind(user.0)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|(e,)| e))
            }

            async fn user_auth(&self, user: shield_domain::UserId) -> Result<Option<crate::accounts::UserAuth>, crate::StoreError> {
                let sql = format!("{} WHERE u.id = $1", crate::accounts::USER_AUTH_SELECT);
                let row: Option<crate::accounts::UserAuthRow> =
                    sqlx::query_as(&sql).bind(user.0).fetch_optional(&self.pool).await?;
                row.map(crate::accounts::UserAuthRow::into_auth).transpose()
            }

            async fn record_sign_in_failure(
                &self,
                user: shield_domain::UserId,
                locked_until_ms: Option<i64>,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<i64, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let (failures,): (i64,) = sqlx::query_as(
                    "UPDATE users SET failed_attempts = failed_attempts + 1,
                        locked_until_ms = COALESCE($2, locked_until_ms)
                     WHERE id = $1 RETURNING CAST(failed_attempts AS BIGINT)",
                )
                .bind(user.0)
                .bind(locked_until_ms)
                .fetch_one(&mut *tx)
                .await?;
                Self::append_audit(&mut *tx, audit).await?;
                tx.commit().await?;
                Ok(failures)
            }

            async fn totp_secret(&self, user: shield_domain::UserId) -> Result<Option<(Vec<u8>, i64)>, crate::StoreError> {
                Ok(sqlx::query_as("SELECT sealed_secret, last_step FROM totp_credentials WHERE user_id = $1")
                    .bind(user.0)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn use_totp_step(&self, user: shield_domain::UserId, step: i64) -> Result<bool, crate::StoreError> {
                let done = sqlx::query("UPDATE totp_credentials SET last_step = $2 WHERE user_id = $1 AND last_step < $2")
                    .bind(user.0)
                    .bind(step)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                Ok(done == 1)
            }

            async fn recovery_codes(&self, user: shield_domain::UserId) -> Result<Vec<(i64, String)>, crate::StoreError> {
                Ok(sqlx::query_as("SELECT id, code_hash FROM recovery_codes WHERE user_id = $1 AND used_at_ms IS NULL")
                    .bind(user.0)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn use_recovery_code(
                &self,
                id: i64,
                now_ms: i64,
                notice: Option<&crate::NewOutboxMessage>,
            ) -> Result<bool, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("UPDATE recovery_codes SET used_at_ms = $2 WHERE id = $1 AND used_at_ms IS NULL")
                    .bind(id)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if done == 1 {
                    if let Some(notice) = notice {
                        Self::enqueue_outbox(&mut *tx, notice, now_ms).await?;
                    }
                    tx.commit().await?;
                }
                Ok(done == 1)
            }

            async fn delete_user_sessions(
                &self,
                user: shield_domain::UserId,
                now_ms: i64,
                audit: &shield_domain::audit::AuditEvent,
                notice: Option<&crate::NewOutboxMessage>,
            ) -> Result<u64, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let ended = sqlx::query("DELETE FROM sessions WHERE user_id = $1 OR pending_user_id = $1")
                    .bind(user.0)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                Self::append_audit(&mut *tx, audit).await?;
                if let Some(notice) = notice {
                    Self::enqueue_outbox(&mut *tx, notice, now_ms).await?;
                }
                tx.commit().await?;
                Ok(ended)
            }

            async fn create_session(&self, s: &crate::accounts::SessionRecord) -> Result<(), crate::StoreError> {
                let mut tx = self.begin_write().await?;
                Self::insert_session(&mut *tx, s).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn session(&self, token_hash: &[u8]) -> Result<Option<crate::accounts::SessionRecord>, crate::StoreError> {
                let row: Option<crate::accounts::SessionRow> = sqlx::query_as(
                    "SELECT token_hash, user_id, pending_user_id, csrf_token, created_at_ms, last_seen_ms, authenticated_at_ms, expires_at_ms, state
                     FROM sessions WHERE token_hash = $1",
                )
                .bind(token_hash.to_vec())
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn touch_session(&self, token_hash: &[u8], now_ms: i64) -> Result<(), crate::StoreError> {
                sqlx::query("UPDATE sessions SET last_seen_ms = $2 WHERE token_hash = $1")
                    .bind(token_hash.to_vec())
                    .bind(now_ms)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn set_session_state(&self, token_hash: &[u8], state: Option<&str>) -> Result<(), crate::StoreError> {
                sqlx::query("UPDATE sessions SET state = $2 WHERE token_hash = $1")
                    .bind(token_hash.to_vec())
                    .bind(state)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn sign_in(
                &self,
                old: Option<&[u8]>,
                s: &crate::accounts::SessionRecord,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<(), crate::StoreError> {
                let mut tx = self.begin_write().await?;
                if let Some(old) = old {
                    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                        .bind(old.to_vec())
                        .execute(&mut *tx)
                        .await?;
                }
                Self::insert_session(&mut *tx, s).await?;
                if let Some(user) = s.user_id {
                    sqlx::query("UPDATE users SET failed_attempts = 0, locked_until_ms = NULL WHERE id = $1")
                        .bind(user.0)
                        .execute(&mut *tx)
                        .await?;
                }
                Self::append_audit(&mut *tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn delete_session(
                &self,
                token_hash: &[u8],
                audit: Option<&shield_domain::audit::AuditEvent>,
            ) -> Result<(), crate::StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(token_hash.to_vec())
                    .execute(&mut *tx)
                    .await?;
                if let Some(audit) = audit {
                    Self::append_audit(&mut *tx, audit).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn actor(
                &self,
                user: shield_domain::UserId,
                authenticated_at_ms: i64,
            ) -> Result<Option<shield_domain::policy::Actor>, crate::StoreError> {
                let row: Option<(String, Option<i64>, String)> =
                    sqlx::query_as("SELECT role, candidate_id, status FROM users WHERE id = $1")
                        .bind(user.0)
                        .fetch_optional(&self.pool)
                        .await?;
                let Some((role, candidate, status)) = row else { return Ok(None) };
                if status != "active" {
                    return Ok(None);
                }
                let forces: Vec<(String,)> = sqlx::query_as("SELECT force_code FROM user_forces WHERE user_id = $1")
                    .bind(user.0)
                    .fetch_all(&self.pool)
                    .await?;
                let delegations: Vec<(i64, String)> = sqlx::query_as(
                    "SELECT candidate_id, grants FROM delegations WHERE delegate_user_id = $1 AND revoked_at_ms IS NULL",
                )
                .bind(user.0)
                .fetch_all(&self.pool)
                .await?;
                crate::accounts::build_actor(
                    user,
                    &role,
                    candidate,
                    forces.into_iter().map(|(f,)| f).collect(),
                    delegations,
                    authenticated_at_ms,
                )
                .map(Some)
            }

            async fn candidate_overview(
                &self,
                candidate: shield_domain::CandidateId,
            ) -> Result<Option<crate::accounts::CandidateOverview>, crate::StoreError> {
                let row: Option<(String, String, String, String, String)> = sqlx::query_as(
                    "SELECT c.name, c.party, c.constituency_code, k.name, e.name
                     FROM candidates c JOIN constituencies k ON k.code = c.constituency_code
                     JOIN elections e ON e.id = c.election_id WHERE c.id = $1",
                )
                .bind(candidate.0)
                .fetch_optional(&self.pool)
                .await?;
                let Some((name, party, code, constituency_name, election_name)) = row else { return Ok(None) };
                let contacts: Vec<(String, String, bool, String, String, String, Option<String>)> = sqlx::query_as(
                    "SELECT l.force_code, f.force_name, l.is_primary, fc.role, fc.name, fc.email, fc.phone
                     FROM constituency_forces l JOIN forces f ON f.code = l.force_code
                     LEFT JOIN force_contacts fc ON fc.force_code = l.force_code AND fc.active
                     WHERE l.constituency_code = $1",
                )
                .bind(&code)
                .fetch_all(&self.pool)
                .await?;
                crate::accounts::assemble_overview(candidate, name, party, code, constituency_name, election_name, contacts)
                    .map(Some)
            }

            async fn candidate_forces(
                &self,
                candidate: shield_domain::CandidateId,
            ) -> Result<Vec<shield_domain::ForceCode>, crate::StoreError> {
                let rows: Vec<(String,)> = sqlx::query_as(
                    "SELECT l.force_code FROM candidates c JOIN constituency_forces l ON l.constituency_code = c.constituency_code WHERE c.id = $1",
                )
                .bind(candidate.0)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(|(f,)| crate::records::force_code(&f)).collect()
            }

            async fn profile(&self, candidate: shield_domain::CandidateId) -> Result<crate::accounts::SealedProfile, crate::StoreError> {
                let row: Option<(Option<Vec<u8>>, Option<Vec<u8>>, Option<i64>)> = sqlx::query_as(
                    "SELECT home_address, emergency_contact, confirmed_at_ms FROM candidate_profiles WHERE candidate_id = $1",
                )
                .bind(candidate.0)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row
                    .map(|(home_address, emergency_contact, confirmed_at_ms)| crate::accounts::SealedProfile {
                        home_address,
                        emergency_contact,
                        confirmed_at_ms,
                    })
                    .unwrap_or_default())
            }

            async fn save_profile(
                &self,
                candidate: shield_domain::CandidateId,
                p: &crate::accounts::SealedProfile,
                now_ms: i64,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<(), crate::StoreError> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO candidate_profiles (candidate_id, home_address, emergency_contact, confirmed_at_ms, updated_at_ms)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (candidate_id) DO UPDATE SET home_address = excluded.home_address,
                        emergency_contact = excluded.emergency_contact, confirmed_at_ms = excluded.confirmed_at_ms,
                        updated_at_ms = excluded.updated_at_ms",
                )
                .bind(candidate.0)
                .bind(p.home_address.clone())
                .bind(p.emergency_contact.clone())
                .bind(p.confirmed_at_ms)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
                Self::append_audit(&mut *tx, audit).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn sealed_blobs(&self) -> Result<Vec<crate::accounts::SealedBlob>, crate::StoreError> {
                let mut out = Vec::new();
                for (table, column, id) in crate::accounts::SEALED_COLUMNS {
                    // Names come from the constant list above, never from input.
                    let sql = format!("SELECT {id}, {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY {id}");
                    let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
                    out.extend(rows.into_iter().map(|(row, value)| crate::accounts::SealedBlob {
                        table,
                        column,
                        row_id: row.to_string(),
                        value,
                    }));
                }
                Ok(out)
            }

            async fn replace_sealed_blob(
                &self,
                old: &crate::accounts::SealedBlob,
                new_value: &[u8],
            ) -> Result<bool, crate::StoreError> {
                let Some((table, column, id)) = crate::accounts::SEALED_COLUMNS
                    .iter()
                    .find(|(t, c, _)| *t == old.table && *c == old.column)
                else {
                    return Err(crate::StoreError::Corrupt(format!("{}.{} is not a sealed column", old.table, old.column)));
                };
                let row: i64 = old.row_id.parse().map_err(|_| crate::StoreError::Corrupt("bad row id".into()))?;
                let sql = format!("UPDATE {table} SET {column} = $1 WHERE {id} = $2 AND {column} = $3");
                let done = sqlx::query(&sql)
                    .bind(new_value.to_vec())
                    .bind(row)
                    .bind(old.value.clone())
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                Ok(done == 1)
            }

            async fn enrolment(
                &self,
                force: Option<&shield_domain::ForceCode>,
            ) -> Result<Vec<crate::accounts::EnrolmentRow>, crate::StoreError> {
                let rows: Vec<(i64, String, String, String, Option<String>, Option<String>)> = sqlx::query_as(
                    "SELECT c.id, c.name, c.party, k.name, c.email, u.status
                     FROM candidates c JOIN constituencies k ON k.code = c.constituency_code
                     LEFT JOIN users u ON u.candidate_id = c.id
                     WHERE $1 IS NULL OR EXISTS (SELECT 1 FROM constituency_forces l
                        WHERE l.constituency_code = c.constituency_code AND l.force_code = $1)",
                )
                .bind(force.map(|f| f.as_str().to_owned()))
                .fetch_all(&self.pool)
                .await?;
                crate::accounts::assemble_enrolment(rows)
            }

            async fn candidate_invitees(
                &self,
                force: Option<&shield_domain::ForceCode>,
            ) -> Result<Vec<crate::accounts::NewUserCandidate>, crate::StoreError> {
                let rows: Vec<(i64, String, String)> = sqlx::query_as(
                    "SELECT c.id, c.name, c.email FROM candidates c LEFT JOIN users u ON u.candidate_id = c.id
                     WHERE c.email IS NOT NULL AND (u.id IS NULL OR u.status = 'invited')
                     AND ($1 IS NULL OR EXISTS (SELECT 1 FROM constituency_forces l
                        WHERE l.constituency_code = c.constituency_code AND l.force_code = $1))
                     ORDER BY c.id",
                )
                .bind(force.map(|f| f.as_str().to_owned()))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, name, email)| crate::accounts::NewUserCandidate {
                        candidate_id: shield_domain::CandidateId(id),
                        name,
                        email,
                    })
                    .collect())
            }

            async fn contact_invitees(&self) -> Result<Vec<crate::accounts::NewUser>, crate::StoreError> {
                let rows: Vec<(String, String, String)> = sqlx::query_as(
                    "SELECT fc.name, fc.email, fc.force_code FROM force_contacts fc
                     LEFT JOIN users u ON u.email = fc.email
                     WHERE fc.active AND (u.id IS NULL OR u.status = 'invited') ORDER BY fc.email, fc.force_code",
                )
                .fetch_all(&self.pool)
                .await?;
                crate::accounts::assemble_contact_invitees(rows)
            }
        }

        impl $store {
            pub(crate) async fn insert_session(
                conn: &mut <$db as sqlx::Database>::Connection,
                s: &crate::accounts::SessionRecord,
            ) -> Result<(), crate::StoreError> {
                sqlx::query(
                    "INSERT INTO sessions (token_hash, user_id, pending_user_id, csrf_token, created_at_ms, last_seen_ms, authenticated_at_ms, expires_at_ms, state)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(s.token_hash.clone())
                .bind(s.user_id.map(|u| u.0))
                .bind(s.pending_user_id.map(|u| u.0))
                .bind(&s.csrf_token)
                .bind(s.created_at_ms)
                .bind(s.last_seen_ms)
                .bind(s.authenticated_at_ms)
                .bind(s.expires_at_ms)
                .bind(&s.state)
                .execute(conn)
                .await?;
                Ok(())
            }
        }
    };
}

pub(crate) use accounts_impl;

#[allow(clippy::type_complexity)]
pub(crate) fn assemble_overview(
    candidate: CandidateId,
    name: String,
    party: String,
    code: String,
    constituency_name: String,
    election_name: String,
    contacts: Vec<(String, String, bool, String, String, String, Option<String>)>,
) -> Result<CandidateOverview, StoreError> {
    let mut forces: Vec<(bool, ForceCode)> = Vec::new();
    let mut named = Vec::new();
    for (force, force_name, primary, role, person, email, phone) in contacts {
        let code = crate::records::force_code(&force)?;
        if !forces.iter().any(|(_, f)| *f == code) {
            forces.push((primary, code.clone()));
        }
        // A force with no contact yet comes back once with empty contact fields (LEFT JOIN).
        if !person.is_empty() {
            named.push(NamedContact {
                force_code: code,
                force_name,
                is_primary_force: primary,
                role,
                name: person,
                email,
                phone,
            });
        }
    }
    forces.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    named.sort_by(|a, b| {
        b.is_primary_force
            .cmp(&a.is_primary_force)
            .then(a.force_code.cmp(&b.force_code))
            .then((a.role != "lead").cmp(&(b.role != "lead")))
            .then(a.name.cmp(&b.name))
    });
    Ok(CandidateOverview {
        candidate_id: candidate,
        name,
        party,
        constituency_code: code,
        constituency_name,
        election_name,
        forces: forces.into_iter().map(|(_, f)| f).collect(),
        contacts: named,
    })
}

#[allow(clippy::type_complexity)]
pub(crate) fn assemble_enrolment(
    rows: Vec<(i64, String, String, String, Option<String>, Option<String>)>,
) -> Result<Vec<EnrolmentRow>, StoreError> {
    let mut out = rows
        .into_iter()
        .map(|(id, name, party, constituency_name, email, status)| {
            Ok(EnrolmentRow {
                candidate_id: CandidateId(id),
                name,
                party,
                constituency_name,
                has_email: email.is_some(),
                status: status.as_deref().map(UserStatus::parse).transpose()?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    out.sort_by(|a, b| {
        crate::shared::name_order(&a.constituency_name, &b.constituency_name)
            .then(crate::shared::name_order(&a.name, &b.name))
    });
    Ok(out)
}

pub(crate) fn assemble_contact_invitees(
    rows: Vec<(String, String, String)>,
) -> Result<Vec<NewUser>, StoreError> {
    let mut out: Vec<NewUser> = Vec::new();
    for (name, email, force) in rows {
        let force = crate::records::force_code(&force)?;
        match out.iter_mut().find(|u| u.email == email) {
            Some(user) => user.forces.push(force),
            None => out.push(NewUser {
                role: Role::ForceContact,
                display_name: name,
                email,
                candidate_id: None,
                forces: vec![force],
            }),
        }
    }
    Ok(out)
}
