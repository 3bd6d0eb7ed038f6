//! The JSON API. Every operation is in the OpenAPI document at `/api/openapi.json`; operations
//! open without sign-in carry an empty security requirement, the rest answer 401 (no session)
//! or 403 (the policy refused) as JSON, never a redirect.

pub(crate) mod activities;
pub(crate) mod checkins;
pub(crate) mod guidance;
pub(crate) mod me;
pub(crate) mod openapi;
pub(crate) mod plan;
pub(crate) mod range;
pub(crate) mod reports;
pub(crate) mod scan;
pub(crate) mod security;

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use crate::{AppError, AppState};

/// Wraps a page extractor (`SignedIn`, `Authorized<G>`) so its refusals come back as JSON.
#[derive(Debug)]
pub struct Api<E>(pub E);

impl<E> FromRequestParts<AppState> for Api<E>
where
    E: FromRequestParts<AppState, Rejection = AppError> + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        E::from_request_parts(parts, state)
            .await
            .map(Api)
            .map_err(ApiError)
    }
}

/// An [`AppError`] rendered as `{"error": "..."}` with the matching status.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        Self(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = match &self.0 {
            AppError::SignInRequired => (StatusCode::UNAUTHORIZED, "sign-in required"),
            AppError::StepUpRequired => (StatusCode::UNAUTHORIZED, "a recent sign-in is required"),
            AppError::Forbidden => (StatusCode::FORBIDDEN, "not allowed"),
            AppError::NotFound => (StatusCode::NOT_FOUND, "not found"),
            AppError::BadRequest { field, message } => {
                let body = serde_json::json!({ "error": "bad request", "field": field, "message": message });
                return (StatusCode::BAD_REQUEST, Json(body)).into_response();
            }
            AppError::TooLarge { field, message } => {
                let body =
                    serde_json::json!({ "error": "too large", "field": field, "message": message });
                return (StatusCode::PAYLOAD_TOO_LARGE, Json(body)).into_response();
            }
            AppError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            AppError::Internal(cause) => {
                tracing::error!(cause = %cause, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
        };
        (status, Json(serde_json::json!({ "error": message }))).into_response()
    }
}
