//! The stylesheet, compiled into the binary so a deployment is one file with no build step.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;

pub(crate) const APP_CSS_PATH: &str = "/static/app.css";

const APP_CSS: &str = include_str!("../static/app.css");

/// A fingerprint of the stylesheet, computed at compile time (FNV-1a). Pages link to
/// `app.css?v=<fingerprint>`, so the file can be cached for a year and still change on the
/// next deployment: a new stylesheet means a new URL.
const APP_CSS_FINGERPRINT: u64 = fnv1a(APP_CSS.as_bytes());

pub(crate) const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

/// The URL pages use for the stylesheet.
pub(crate) fn app_css_href() -> &'static str {
    static HREF: LazyLock<String> =
        LazyLock::new(|| format!("{APP_CSS_PATH}?v={APP_CSS_FINGERPRINT:016x}"));
    &HREF
}

pub(crate) async fn app_css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            // Set here, so the pages' `no-store` default (middleware.rs) leaves it alone.
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        APP_CSS,
    )
}
