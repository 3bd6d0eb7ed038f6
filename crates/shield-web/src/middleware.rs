//! What wraps every response: security headers, request tracing, and a timeout.

use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{Next, from_fn};
use axum::response::{IntoResponse, Response};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::{Level, Span};

use crate::AppError;

/// Longest a request may take before the person gets a "try again" page instead of waiting.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// The security headers, sent on every response (including 400, 404, 405 and 500 pages).
/// No page uses JavaScript, inline styles, frames or third-party assets, so the policy can be
/// this strict.
const SECURITY_HEADERS: [(&str, &str); 7] = [
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    (
        "strict-transport-security",
        "max-age=63072000; includeSubDomains",
    ),
    ("x-content-type-options", "nosniff"),
    // `same-origin`, not `no-referrer`: under `no-referrer` browsers send `Origin: null` on
    // same-origin form posts, which the CSRF check must then refuse.
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    ),
];

/// Wraps the routes. `Router::layer` also wraps the 404 and 405 fallbacks, and runs after
/// routing, so the trace span can name the matched route template.
pub(crate) fn apply(routes: Router) -> Router {
    let routes = routes
        .layer(from_fn(timeout))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            // Pages may show candidates' details: nothing is kept by browsers or proxies.
            // Responses that can be cached (the stylesheet) set their own header.
            HeaderValue::from_static("no-store"),
        ));
    SECURITY_HEADERS
        .iter()
        .fold(routes, |routes, &(name, value)| {
            routes.layer(SetResponseHeaderLayer::overriding(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            ))
        })
}

/// The request's span holds the method and the route *template* (`/constituencies/{code}`),
/// never the URI: paths and query strings can hold search terms, and search terms can be
/// people's names. Logs carry ids and enums only.
fn request_span(request: &Request) -> Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("(unmatched)", MatchedPath::as_str);
    tracing::info_span!("request", method = %request.method(), route)
}

/// Gives up on a slow request with the 503 page, so nobody waits on a hung database.
async fn timeout(request: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                timeout_secs = REQUEST_TIMEOUT.as_secs(),
                "request timed out"
            );
            AppError::Unavailable.into_response()
        }
    }
}
