//! `GET /passwords/check`: check whether a password is in the breached-password list, done in
//! the browser. `static/password-check.js` hashes the password with SHA-1
//! (`crypto.subtle.digest`), asks `GET /range/{first five hex digits}` (padded, without
//! cookies) and compares the other 35 digits itself. The password field has no `name` and the
//! form is never submitted, so the password cannot reach the server even by accident; without
//! JavaScript the form stays hidden and the page says the check needs it. This is one of the
//! few places the service needs JavaScript: any server-side check would have to see the
//! password.

use std::sync::LazyLock;

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppError;
use crate::assets::fnv1a;

pub(crate) const JS_PATH: &str = "/static/password-check.js";

const JS: &str = include_str!("../../static/password-check.js");

/// The script's URL, fingerprinted like the stylesheet so it can be cached for a year.
pub(crate) fn js_href() -> &'static str {
    static HREF: LazyLock<String> =
        LazyLock::new(|| format!("{JS_PATH}?v={:016x}", fnv1a(JS.as_bytes())));
    &HREF
}

pub(crate) async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        JS,
    )
}

#[derive(Debug, Template)]
#[template(path = "passwords/check.html")]
struct CheckPage {
    section: &'static str,
}

pub(crate) async fn check() -> Result<Response, AppError> {
    super::page(StatusCode::OK, &CheckPage { section: "" })
}
