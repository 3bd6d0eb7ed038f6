//! The one error type of the web layer and how each variant looks to the person who hit it.

use axum::response::{IntoResponse, Response};
use shield_store::StoreError;
use thiserror::Error;

/// Every way a request can fail. Each variant has one status code and one page; the page
/// never says more than the person needs (a 500 says nothing of its cause).
#[derive(Debug, Error)]
pub enum AppError {
    /// No such page or record: 404.
    #[error("not found")]
    NotFound,
    /// A value in the URL could not be read: 400, with a GOV.UK error summary naming the field.
    /// `field` is the form field's id (the summary links to it where the page has the field).
    #[error("invalid {field}: {message}")]
    BadRequest {
        field: &'static str,
        message: String,
    },
    /// The database cannot be reached, or the request took too long: 503, worth retrying.
    #[error("service unavailable")]
    Unavailable,
    /// No signed-in session where one is needed: pages redirect to sign-in (303).
    #[error("sign-in required")]
    SignInRequired,
    /// The access policy refused, or a cross-site request: 403.
    #[error("forbidden")]
    Forbidden,
    /// Allowed, but only after the person proves who they are again.
    #[error("sign in again")]
    StepUpRequired,
    /// An upload or a form too large to take: 413, with an error summary naming the field.
    #[error("too large: {field}: {message}")]
    TooLarge {
        field: &'static str,
        message: String,
    },
    /// A bug or a failure the person cannot act on: 500. The cause is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn bad_request(field: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            field,
            message: message.into(),
        }
    }
}

impl From<StoreError> for AppError {
    /// Store errors say what failed, never the rows involved, so the cause is safe to log.
    fn from(error: StoreError) -> Self {
        if is_unreachable(&error) {
            // Logged here rather than in `into_response`: `Unavailable` carries no cause.
            tracing::warn!(error = %error, "database unavailable");
            Self::Unavailable
        } else {
            Self::Internal(error.to_string())
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(error: askama::Error) -> Self {
        Self::Internal(format!("template: {error}"))
    }
}

/// Failures that mean "the database is not there right now" rather than "something is wrong".
fn is_unreachable(error: &StoreError) -> bool {
    matches!(
        error,
        StoreError::Database(
            sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed
        )
    )
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            // The one place an internal error is logged; the span adds method and route.
            tracing::error!(cause = %cause, "internal error");
        }
        crate::html::errors::render(&self)
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use super::*;

    #[test]
    fn each_variant_has_its_status() {
        let cases = [
            (AppError::NotFound, StatusCode::NOT_FOUND),
            (
                AppError::bad_request("nation", "Select a nation"),
                StatusCode::BAD_REQUEST,
            ),
            (AppError::Unavailable, StatusCode::SERVICE_UNAVAILABLE),
            (
                AppError::Internal("boom".into()),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
        ];
        for (error, status) in cases {
            assert_eq!(error.into_response().status(), status);
        }
    }

    #[test]
    fn store_errors_map_by_cause() {
        assert!(matches!(
            AppError::from(StoreError::Database(sqlx::Error::PoolTimedOut)),
            AppError::Unavailable
        ));
        assert!(matches!(
            AppError::from(StoreError::Corrupt("bad nation".into())),
            AppError::Internal(_)
        ));
        assert!(matches!(
            AppError::from(StoreError::Database(sqlx::Error::RowNotFound)),
            AppError::Internal(_)
        ));
    }
}
