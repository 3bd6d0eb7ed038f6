//! Content-free emails to the account holder when their sign-in methods change (ASVS
//! V6.3.5/V6.3.7): a passkey added or removed, a recovery code used, every session signed out.
//! The store queues the email in the same transaction as the change, so one never happens
//! without the other.

use shield_domain::{Email, UserId};
use shield_store::{NewOutboxMessage, OutboxParams};

use crate::{AppError, AppState};

/// The notice for `change` (one of `shield_jobs::templates::CREDENTIAL_CHANGES`) to the account
/// holder, or `None` if the account has no usable email address.
pub async fn credential_changed(
    state: &AppState,
    user: UserId,
    change: &str,
) -> Result<Option<NewOutboxMessage>, AppError> {
    let Some(address) = state.store.user_email(user).await? else {
        return Ok(None);
    };
    let Ok(email) = Email::parse(&address) else {
        return Ok(None);
    };
    let internal = |e: shield_domain::FieldError| AppError::Internal(e.message);
    let params = OutboxParams::new()
        .with_id("change", change)
        .map_err(internal)?;
    NewOutboxMessage::email(&email, shield_jobs::templates::CREDENTIAL_CHANGED, params)
        .map(Some)
        .map_err(internal)
}
