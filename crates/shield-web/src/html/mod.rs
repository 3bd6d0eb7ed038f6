//! Server-rendered pages. Every page is an askama template (`templates/`), so every value is
//! HTML-escaped on the way out; no HTML is ever assembled from strings in Rust.

pub(crate) mod activities;
pub(crate) mod activity;
pub(crate) mod briefings;
pub(crate) mod buddy;
pub(crate) mod calendar_month;
pub(crate) mod checkin;
pub(crate) mod constituencies;
pub(crate) mod delegates;
pub(crate) mod enrol;
pub(crate) mod enrolment;
pub(crate) mod errors;
pub(crate) mod forces;
pub(crate) mod guidance;
pub(crate) mod home;
pub(crate) mod layout;
pub(crate) mod outreach;
pub(crate) mod passkeys;
pub(crate) mod passwords;
pub(crate) mod plan;
pub(crate) mod reports;
pub(crate) mod scan;
pub(crate) mod security;
pub(crate) mod sign_in;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::AppError;

/// Renders a page with a status. A template that fails to render is a bug: a 500.
pub(crate) fn page(status: StatusCode, template: &impl Template) -> Result<Response, AppError> {
    let body = template.render()?;
    Ok((status, Html(body)).into_response())
}

/// Any path no route matches.
pub(crate) async fn not_found() -> AppError {
    AppError::NotFound
}

/// A known path with a method it does not accept (axum adds the `Allow` header).
pub(crate) async fn method_not_allowed() -> Response {
    errors::method_not_allowed()
}
