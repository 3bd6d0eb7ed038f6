//! The error pages: same layout as every other page, and nothing about the cause.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::layout::FieldProblem;
use crate::AppError;

#[derive(Debug, Template)]
#[template(path = "error.html")]
struct ErrorPage {
    section: &'static str,
    title: &'static str,
    problems: Vec<FieldProblem>,
    paragraphs: &'static [&'static str],
}

pub(crate) fn render(error: &AppError) -> Response {
    match error {
        AppError::NotFound => page(
            StatusCode::NOT_FOUND,
            "Page not found",
            Vec::new(),
            &[
                "If you typed the web address, check it is correct.",
                "If you pasted the web address, check you copied the entire address.",
            ],
        ),
        AppError::BadRequest { field, message } => page(
            StatusCode::BAD_REQUEST,
            "There is a problem with the web address",
            vec![FieldProblem {
                field,
                message: message.clone(),
                // These pages have no form holding the field, so there is nothing to link to.
                linked: false,
            }],
            &["Check the web address, or start again from the list of constituencies."],
        ),
        AppError::TooLarge { field, message } => page(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The upload is too large",
            vec![FieldProblem {
                field,
                message: message.clone(),
                linked: false,
            }],
            &[
                "Go back and choose smaller files: each file can be up to 10 MB, and up to 10 files in one report. Your report has not been sent yet.",
            ],
        ),
        AppError::SignInRequired => redirect("/sign-in"),
        AppError::StepUpRequired => redirect("/sign-in/again"),
        AppError::Forbidden => page(
            StatusCode::FORBIDDEN,
            "You cannot see this page",
            Vec::new(),
            &[
                "You do not have access to this page. If you think you should, contact the coordination team.",
            ],
        ),
        AppError::Unavailable => page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Sorry, the service is unavailable",
            Vec::new(),
            &["Try again in a few minutes."],
        ),
        AppError::Internal(_) => page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sorry, there is a problem with the service",
            Vec::new(),
            &["Try again later."],
        ),
    }
}

fn redirect(to: &'static str) -> Response {
    axum::response::Redirect::to(to).into_response()
}

/// The page for a sign-in attempt refused by the per-address rate limit.
pub(crate) fn too_many() -> Response {
    page(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        Vec::new(),
        &["Too many sign-in attempts have come from your connection. Wait a minute and try again."],
    )
}

pub(crate) fn method_not_allowed() -> Response {
    page(
        StatusCode::METHOD_NOT_ALLOWED,
        "This page cannot do that",
        Vec::new(),
        &["This page can only be viewed: it does not accept forms or other changes."],
    )
}

fn page(
    status: StatusCode,
    title: &'static str,
    problems: Vec<FieldProblem>,
    paragraphs: &'static [&'static str],
) -> Response {
    let template = ErrorPage {
        section: "",
        title,
        problems,
        paragraphs,
    };
    match super::page(status, &template) {
        Ok(response) => response,
        Err(error) => {
            // Not through `AppError::into_response`, which would come straight back here.
            tracing::error!(cause = %error, status = status.as_u16(), "error page failed to render");
            (status, "Sorry, there is a problem with the service.").into_response()
        }
    }
}
