//! Sessions: a random token in a `__Host-` cookie (Secure, HttpOnly, SameSite=Lax, Path=/),
//! its SHA-256 in the database. The middleware loads the session on every request and ends it
//! server-side when idle for 30 minutes or 12 hours old, so a copied cookie dies with it.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use shield_domain::UserId;
use shield_domain::session::{ABSOLUTE_TIMEOUT_MS, SessionState, session_state};
use shield_store::accounts::SessionRecord;

use super::token;
use crate::{AppError, AppState};

/// The cookie's name. The `__Host-` prefix makes browsers refuse it unless it is Secure, has
/// `Path=/` and no `Domain`, so no subdomain can plant or read it.
pub const COOKIE: &str = "__Host-shield";

/// The session of this request, when there is a live one.
#[derive(Debug, Clone)]
pub struct CurrentSession {
    pub token_hash: Vec<u8>,
    pub record: SessionRecord,
}

impl CurrentSession {
    pub fn user(&self) -> Option<UserId> {
        self.record.user_id
    }
}

tokio::task_local! {
    /// Whether this request carries a live, signed-in session; set by [`load`] around the
    /// handler so the page header can offer "Your account" instead of "Sign in" without every
    /// page's template struct carrying the flag.
    static SIGNED_IN: bool;
}

/// Whether the request being handled has a signed-in session (false outside a request).
pub fn signed_in() -> bool {
    SIGNED_IN.try_with(|s| *s).unwrap_or(false)
}

/// Loads the session named by the cookie into the request's extensions.
pub async fn load(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if let Some(token) = cookie(request.headers(), COOKIE) {
        let hash = token::hash(&token).to_vec();
        match state.store.session(&hash).await {
            Ok(Some(record)) => {
                let now = state.clock.now_ms();
                match session_state(now, record.last_seen_ms, record.expires_at_ms) {
                    SessionState::Live => {
                        // Writing on every request would serialise readers on SQLite; a
                        // minute's precision is plenty for a 30-minute idle timeout.
                        if now - record.last_seen_ms > 60_000 {
                            let _ = state.store.touch_session(&hash, now).await;
                        }
                        request.extensions_mut().insert(CurrentSession {
                            token_hash: hash,
                            record,
                        });
                    }
                    SessionState::IdleExpired | SessionState::Expired => {
                        let _ = state.store.delete_session(&hash, None).await;
                    }
                }
            }
            Ok(None) => {}
            Err(error) => {
                return axum::response::IntoResponse::into_response(AppError::from(error));
            }
        }
    }
    let signed_in = request
        .extensions()
        .get::<CurrentSession>()
        .is_some_and(|s| s.user().is_some());
    SIGNED_IN.scope(signed_in, next.run(request)).await
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentSession {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentSession>()
            .cloned()
            .ok_or(AppError::SignInRequired)
    }
}

/// The session if there is one; never rejects.
#[derive(Debug, Clone)]
pub struct MaybeSession(pub Option<CurrentSession>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeSession {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<CurrentSession>().cloned()))
    }
}

/// The session to put a form's CSRF token in: the current one, or a fresh anonymous one
/// (returned with its cookie) for a visitor who has none yet.
pub async fn ensure(
    state: &AppState,
    existing: Option<CurrentSession>,
) -> Result<(CurrentSession, Option<HeaderValue>), AppError> {
    if let Some(session) = existing {
        return Ok((session, None));
    }
    let (record, cookie) = new_session(state.clock.now_ms(), None, None, None);
    state.store.create_session(&record).await?;
    Ok((
        CurrentSession {
            token_hash: record.token_hash.clone(),
            record,
        },
        Some(cookie),
    ))
}

/// A new session record and the cookie carrying its token.
pub fn new_session(
    now_ms: i64,
    user: Option<UserId>,
    pending: Option<UserId>,
    authenticated_at_ms: Option<i64>,
) -> (SessionRecord, HeaderValue) {
    let token = token::new_token();
    let record = SessionRecord {
        token_hash: token::hash(&token).to_vec(),
        user_id: user,
        pending_user_id: pending,
        csrf_token: token::new_token(),
        created_at_ms: now_ms,
        last_seen_ms: now_ms,
        authenticated_at_ms,
        expires_at_ms: now_ms + ABSOLUTE_TIMEOUT_MS,
        state: None,
    };
    (record, set_cookie(&token))
}

pub fn set_cookie(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Lax"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("__Host-shield=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// One cookie's value from the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}
