//! Cross-site request forgery defence in two layers (ASVS V3.5): every state-changing request
//! is refused when the browser says it came from another site (`Sec-Fetch-Site`) or names a
//! foreign `Origin`; and every form carries the session's token, checked by [`CsrfForm`].

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::session::CurrentSession;
use super::token;
use crate::AppError;

/// Refuses cross-site state changes before any handler runs.
pub async fn check_origin(request: Request, next: Next) -> Response {
    if !is_safe(request.method()) && !same_origin(request.headers()) {
        tracing::warn!("cross-site request refused");
        return AppError::Forbidden.into_response();
    }
    next.run(request).await
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// `Sec-Fetch-Site`, when the browser sends it, is authoritative (every current browser
/// does); otherwise `Origin` must name this host. Requests with neither (non-browser clients)
/// pass here and still need the form's token.
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let bare = origin
                .split_once("://")
                .map(|(_, rest)| rest)
                .unwrap_or("null");
            !host.is_empty() && bare == host
        }
    }
}

/// A form whose `csrf` field must match the session's token.
pub trait HasCsrf {
    fn csrf(&self) -> &str;
}

/// Implements [`HasCsrf`] for form structs with a `csrf: String` field.
#[macro_export]
macro_rules! has_csrf {
    ($($form:ty),+ $(,)?) => {
        $(impl $crate::auth::csrf::HasCsrf for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })+
    };
}

/// Extracts a URL-encoded form after checking its token against the session; a missing
/// session or a wrong token is a 403, and the handler never runs.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

impl<S, T> FromRequest<S> for CsrfForm<T>
where
    S: Send + Sync,
    T: DeserializeOwned + HasCsrf + Send,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let session = request.extensions().get::<CurrentSession>().cloned();
        let axum::Form(form) = axum::Form::<T>::from_request(request, state)
            .await
            .map_err(|_| AppError::bad_request("form", "the form could not be read"))?;
        match session {
            Some(s) if token::same(&s.record.csrf_token, form.csrf()) => Ok(Self(form)),
            _ => Err(AppError::Forbidden),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn origins() {
        assert!(same_origin(&headers(&[("host", "127.0.0.1:8080")])));
        assert!(same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "https://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "null")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "a"),
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "a"),
            ("sec-fetch-site", "same-site")
        ])));
        assert!(same_origin(&headers(&[
            ("host", "a"),
            ("sec-fetch-site", "same-origin")
        ])));
    }
}
