//! Passkeys (WebAuthn, via webauthn-rs): the relying party, the ceremony state kept in the
//! session row, the CSRF header check for the JSON endpoints, and the guard for managing one's
//! own passkeys. The pages and endpoints are in `html::passkeys`.
//!
//! - **Relying party.** With `SHIELD_PUBLIC_ORIGIN` set (for example
//!   `https://shield.example.org`), that origin is the only one accepted and its host is the
//!   RP ID; a request whose `Host` is anything else cannot start a ceremony. Without it, only
//!   `localhost` (any port, plain http, which browsers treat as a secure context) is accepted,
//!   for development and tests. `127.0.0.1` cannot be used: an IP address is not a valid RP ID
//!   for browsers or for webauthn-rs.
//! - **Ceremony state stays on the server** (SECURITY.md, webauthn-rs caveat): the
//!   `PasskeyRegistration` / `DiscoverableAuthentication` is serialised into the session's
//!   `state` column (webauthn-rs feature `danger-allow-state-serialisation`), never sent to the
//!   browser. It is taken exactly once ([`take`] is compare-and-clear), so a challenge answers
//!   one ceremony only and a replayed assertion finds no state (ASVS V6.7.2; the challenge is
//!   webauthn-rs's 32 random bytes). It expires after [`CEREMONY_TIMEOUT_MS`].
//! - **User handle.** Each account's WebAuthn user id is derived from its user id
//!   (SHA-256 under a domain tag, 16 bytes), so no new column is needed; sign-in finds the
//!   account from the credential id and then checks the handle matches.
//! - **Discoverable credentials.** Registration asks for a resident key, so "Sign in with a
//!   passkey" needs no email first.

use std::sync::LazyLock;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shield_domain::UserId;
use shield_domain::policy::{Action, Actor};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, PasskeyRegistration, Url, Uuid, Webauthn, WebauthnBuilder,
};

use super::guard::{Guard, Target};
use super::session::CurrentSession;
use super::token;
use crate::{AppError, AppState};

/// The variable naming the service's public origin, when it is not served on localhost.
pub const PUBLIC_ORIGIN_ENV: &str = "SHIELD_PUBLIC_ORIGIN";

/// How long a started ceremony may take (the authenticator's own timeout is 5 minutes).
pub const CEREMONY_TIMEOUT_MS: i64 = 10 * 60 * 1000;

/// The header the JSON endpoints carry the session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

static CONFIGURED_ORIGIN: LazyLock<Option<Url>> = LazyLock::new(|| {
    let raw = std::env::var(PUBLIC_ORIGIN_ENV).ok()?;
    match Url::parse(raw.trim()) {
        Ok(url) if url.domain().is_some() => Some(url),
        _ => {
            tracing::error!(
                "{PUBLIC_ORIGIN_ENV} is not an origin with a domain name; passkeys are off"
            );
            None
        }
    }
});

/// The relying party for this request (see the module documentation).
pub fn relying_party(headers: &HeaderMap) -> Result<Webauthn, AppError> {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    relying_party_for(host, CONFIGURED_ORIGIN.as_ref())
}

fn relying_party_for(host: &str, configured: Option<&Url>) -> Result<Webauthn, AppError> {
    let origin = match configured {
        Some(url) => {
            let authority = match url.port() {
                Some(port) => format!("{}:{port}", url.domain().unwrap_or_default()),
                None => url.domain().unwrap_or_default().to_owned(),
            };
            if !host.eq_ignore_ascii_case(&authority) {
                return Err(AppError::bad_request(
                    "passkey",
                    "Passkeys are not available at this address",
                ));
            }
            url.clone()
        }
        None => {
            let (name, port) = match host.split_once(':') {
                Some((name, port))
                    if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    (name, Some(port))
                }
                Some(_) => {
                    return Err(AppError::bad_request(
                        "passkey",
                        "Passkeys are not available at this address",
                    ));
                }
                None => (host, None),
            };
            if name != "localhost" {
                return Err(AppError::bad_request(
                    "passkey",
                    "Passkeys are not available at this address",
                ));
            }
            let text = match port {
                Some(p) => format!("http://localhost:{p}"),
                None => "http://localhost".to_owned(),
            };
            Url::parse(&text).map_err(|e| AppError::Internal(format!("origin: {e}")))?
        }
    };
    let rp_id = origin
        .domain()
        .ok_or_else(|| AppError::Internal("origin without a domain".into()))?
        .to_owned();
    WebauthnBuilder::new(&rp_id, &origin)
        .and_then(|b| b.rp_name("Candidate Shield").build())
        .map_err(|e| AppError::Internal(format!("relying party: {e}")))
}

/// The WebAuthn user handle of an account: stable, 16 bytes, not the raw id.
pub fn user_handle(user: UserId) -> Uuid {
    let digest = Sha256::new()
        .chain_update(b"candidate-shield/webauthn-user/v1")
        .chain_update(user.0.to_be_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

/// A ceremony in progress, kept in the session's `state` column.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "passkey_ceremony", rename_all = "snake_case")]
pub enum Ceremony {
    /// Creating the first passkey from an invitation.
    Enrol {
        invitation_id: i64,
        user_id: i64,
        started_at_ms: i64,
        registration: PasskeyRegistration,
    },
    /// A signed-in person adding a passkey.
    Add {
        user_id: i64,
        started_at_ms: i64,
        registration: PasskeyRegistration,
    },
    /// Signing in with a discoverable passkey.
    SignIn {
        started_at_ms: i64,
        authentication: DiscoverableAuthentication,
    },
}

impl Ceremony {
    fn started_at_ms(&self) -> i64 {
        match self {
            Self::Enrol { started_at_ms, .. }
            | Self::Add { started_at_ms, .. }
            | Self::SignIn { started_at_ms, .. } => *started_at_ms,
        }
    }
}

/// Saves a started ceremony in the session (replacing any other step-to-step state).
pub async fn save(
    state: &AppState,
    session: &CurrentSession,
    ceremony: &Ceremony,
) -> Result<(), AppError> {
    let json = serde_json::to_string(ceremony)
        .map_err(|e| AppError::Internal(format!("ceremony: {e}")))?;
    state
        .store
        .set_session_state(&session.token_hash, Some(&json))
        .await?;
    Ok(())
}

/// Takes the session's ceremony: at most once (compare-and-clear, so two requests racing with
/// one challenge cannot both use it), and only while it is fresh.
pub async fn take(
    state: &AppState,
    session: &CurrentSession,
) -> Result<Option<Ceremony>, AppError> {
    let Some(json) = session.record.state.as_deref() else {
        return Ok(None);
    };
    let Ok(ceremony) = serde_json::from_str::<Ceremony>(json) else {
        return Ok(None);
    };
    if !state
        .store
        .take_session_state(&session.token_hash, json)
        .await?
    {
        return Ok(None);
    }
    if state.clock.now_ms() - ceremony.started_at_ms() > CEREMONY_TIMEOUT_MS {
        return Ok(None);
    }
    Ok(Some(ceremony))
}

/// The session of a JSON request whose `x-csrf-token` header matches the session's token
/// (the global Origin/Fetch-Metadata check has already run). Anything else is a 403.
#[derive(Debug, Clone)]
pub struct CsrfHeader(pub CurrentSession);

impl<S: Send + Sync> FromRequestParts<S> for CsrfHeader {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let session = parts
            .extensions
            .get::<CurrentSession>()
            .cloned()
            .ok_or(AppError::Forbidden)?;
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if token::same(&session.record.csrf_token, sent) {
            Ok(Self(session))
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// Adding or removing one's own passkeys (needs a recent sign-in).
#[derive(Debug)]
pub struct OwnCredentials;

impl Guard for OwnCredentials {
    const ACTION: Action = Action::ManageOwnCredentials;

    async fn target(_: &mut Parts, _: &AppState, _: &Actor) -> Result<Target, AppError> {
        Ok(Target::OwnAccount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_localhost_without_a_configured_origin() {
        assert!(relying_party_for("localhost:8080", None).is_ok());
        assert!(relying_party_for("localhost", None).is_ok());
        for host in [
            "127.0.0.1:8080",
            "evil.example",
            "localhost.evil.example",
            "localhost:",
            "localhost:8x",
            "",
        ] {
            assert!(relying_party_for(host, None).is_err(), "{host}");
        }
    }

    #[test]
    fn a_configured_origin_is_the_only_one() {
        let url = Url::parse("https://shield.example.org").unwrap();
        assert!(relying_party_for("shield.example.org", Some(&url)).is_ok());
        assert!(relying_party_for("localhost:8080", Some(&url)).is_err());
        assert!(relying_party_for("evil.example", Some(&url)).is_err());
        let with_port = Url::parse("https://shield.example.org:8443").unwrap();
        assert!(relying_party_for("shield.example.org:8443", Some(&with_port)).is_ok());
        assert!(relying_party_for("shield.example.org", Some(&with_port)).is_err());
    }

    #[test]
    fn user_handles_are_stable_and_distinct() {
        assert_eq!(user_handle(UserId(1)), user_handle(UserId(1)));
        assert_ne!(user_handle(UserId(1)), user_handle(UserId(2)));
    }
}
