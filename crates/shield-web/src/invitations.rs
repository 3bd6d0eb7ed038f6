//! Issuing invitations: an account for the person (if new), a one-time link, and the email
//! carrying it, all in one transaction with its audit event. The link's token exists in clear
//! only in memory and in the email: the database keeps its hash, and the outbox row a copy
//! sealed with the field-encryption keys, opened by the worker at send time.

use std::sync::Arc;

use secrecy::SecretString;
use shield_crypto::{Aad, KeyRing};
use shield_domain::audit::{AuditAction, AuditActor, AuditEvent, AuditOutcome};
use shield_domain::policy::Actor;
use shield_domain::{Email, UserId};
use shield_jobs::templates::{OpenError, SecretContext, SecretOpener};
use shield_store::accounts::{NewInvitation, NewUser};
use shield_store::{NewOutboxMessage, OutboxParams};

use crate::auth::token;
use crate::{AppError, AppState};

/// How long an invitation link works.
pub const INVITATION_TTL_MS: i64 = 14 * 24 * 60 * 60 * 1000;

/// Lowercase hex, for binding a token's hash into associated data and outbox params.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An invitation ready to store: its hash and expiry, the email carrying the link, the audit
/// event, and the token in clear (dropped by every caller but the demo).
#[derive(Debug)]
pub struct PreparedInvitation {
    pub invitation: NewInvitation,
    pub message: NewOutboxMessage,
    pub audit: AuditEvent,
    pub token: String,
}

/// Makes a one-time invitation token for `email`, seals it into its outbox message, and
/// builds the audit event (`invitation_created` for `role`, by `by`).
pub fn prepare(
    state: &AppState,
    role: shield_domain::Role,
    email: &str,
    by: Option<&Actor>,
) -> Result<PreparedInvitation, AppError> {
    let email = Email::parse(email).map_err(|e| AppError::bad_request("email", e.message))?;
    let now = state.clock.now_ms();
    let token = token::new_token();
    let token_hash = token::hash(&token);
    let reference = hex(&token_hash);
    let sealed = shield_crypto::seal_str(
        &state.keys,
        Aad::new("invitations", "token", &reference),
        &token,
    );
    let internal = |e: shield_domain::FieldError| AppError::Internal(e.message);
    let params = OutboxParams::new()
        .with_id("invitation", &reference)
        .map_err(internal)?;
    let message = NewOutboxMessage::email(&email, shield_jobs::templates::INVITATION, params)
        .map_err(internal)?
        .with_secret(sealed);
    let at = chrono::DateTime::from_timestamp_millis(now).unwrap_or_default();
    let mut audit = AuditEvent::new(
        AuditAction::parse("invitation_created").map_err(internal)?,
        AuditOutcome::Success,
        at,
    )
    .with_detail("role", role.key())
    .map_err(internal)?;
    if let Some(actor) = by {
        audit =
            audit.with_actor(AuditActor::new(actor.user_id.0, actor.role.key()).map_err(internal)?);
    }
    let invitation = NewInvitation {
        token_hash,
        expires_at_ms: now + INVITATION_TTL_MS,
        created_by: by.map(|a| a.user_id),
    };
    Ok(PreparedInvitation {
        invitation,
        message,
        audit,
        token,
    })
}

/// Creates (or re-sends) an invitation and queues its email. Returns the user and the token;
/// callers other than the demo drop the token.
pub async fn issue(
    state: &AppState,
    user: &NewUser,
    by: Option<&Actor>,
) -> Result<(UserId, String), AppError> {
    let prepared = prepare(state, user.role, &user.email, by)?;
    let (user_id, _) = state
        .store
        .invite(
            user,
            &prepared.invitation,
            state.clock.now_ms(),
            &prepared.audit,
            Some(&prepared.message),
        )
        .await?;
    state.wake_worker();
    Ok((user_id, prepared.token))
}

/// Opens the sealed secret of an outbox row for the worker: an invitation's token, a webhook's
/// signing secret, or a briefing registration's calendar invitation.
#[derive(Debug, Clone)]
pub struct InvitationOpener {
    keys: Arc<KeyRing>,
}

impl InvitationOpener {
    pub fn new(keys: Arc<KeyRing>) -> Self {
        Self { keys }
    }
}

impl SecretOpener for InvitationOpener {
    /// Opens an invitation's token, a force webhook's signing secret (sealed as
    /// `force_webhooks.secret` of the row the `webhook` parameter names), or the candidate's
    /// name in a buddy's alarm email (sealed as `buddy_alerts.name` of the alarm report).
    fn open(&self, sealed: &[u8], context: SecretContext<'_>) -> Result<SecretString, OpenError> {
        if let Some(report) = context.params.int("buddy_alarm") {
            return shield_crypto::open_string(
                &self.keys,
                Aad::new("buddy_alerts", "name", &report.to_string()),
                sealed,
            )
            .map(|t| SecretString::from(t.to_string()))
            .map_err(|_| OpenError);
        }
        if context.template == shield_jobs::templates::BRIEFING_INVITATION {
            // A briefing's calendar invitation, sealed to (briefing, candidate).
            let briefing = context.params.int("briefing").ok_or(OpenError)?;
            let candidate = context.params.int("candidate").ok_or(OpenError)?;
            return shield_crypto::open_string(
                &self.keys,
                Aad::new(
                    shield_jobs::templates::BRIEFING_INVITATION,
                    "ics",
                    &format!("{briefing}.{candidate}"),
                ),
                sealed,
            )
            .map(|t| SecretString::from(t.to_string()))
            .map_err(|_| OpenError);
        }
        if let Some(webhook) = context.params.int("webhook") {
            return shield_crypto::open_string(
                &self.keys,
                Aad::new("force_webhooks", "secret", &webhook.to_string()),
                sealed,
            )
            .map(|t| SecretString::from(t.to_string()))
            .map_err(|_| OpenError);
        }
        let reference = context.params.id("invitation").ok_or(OpenError)?;
        shield_crypto::open_string(
            &self.keys,
            Aad::new("invitations", "token", reference),
            sealed,
        )
        .map(|t| SecretString::from(t.to_string()))
        .map_err(|_| OpenError)
    }
}
