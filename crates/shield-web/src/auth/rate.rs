//! Per-address limits on the requests that check a credential (ASVS V2.4.1 anti-automation).
//! They sit in front of the per-account lock-out, which is in the database and holds across
//! instances; these counters are per process, which is enough to blunt one address hammering
//! one instance. Behind a proxy the peer is the proxy: a trusted-proxy setting is still to come.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
pub use governor::Quota;
use governor::{DefaultKeyedRateLimiter, RateLimiter};

use crate::AppState;

/// Credential checks per address: a burst of 20, then one every 2 seconds.
pub type Limiter = Arc<DefaultKeyedRateLimiter<IpAddr>>;

pub fn limiter() -> Limiter {
    let burst = NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN);
    let per_minute = NonZeroU32::new(30).unwrap_or(NonZeroU32::MIN);
    limiter_with(Quota::per_minute(per_minute).allow_burst(burst))
}

/// A limiter with another quota (tests use a slow refill, so timing cannot matter).
pub fn limiter_with(quota: Quota) -> Limiter {
    Arc::new(RateLimiter::keyed(quota))
}

fn checks_a_credential(method: &Method, path: &str) -> bool {
    *method == Method::POST && matches!(path, "/sign-in" | "/sign-in/code" | "/sign-in/passkey")
}

pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if checks_a_credential(request.method(), request.uri().path())
        && let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>()
        && state.limiter.check_key(&peer.ip()).is_err()
    {
        tracing::warn!("sign-in rate limit reached");
        return (
            StatusCode::TOO_MANY_REQUESTS,
            crate::html::errors::too_many(),
        )
            .into_response();
    }
    next.run(request).await
}
