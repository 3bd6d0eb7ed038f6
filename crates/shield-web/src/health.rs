//! Probes for the load balancer or orchestrator. JSON, tiny, and free of anything sensitive.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::AppState;

/// Shorter than the request timeout, so a hung database gives the probe its JSON 503 rather
/// than the timeout's HTML page.
const PING_TIMEOUT: Duration = Duration::from_secs(3);

/// Liveness: the process answers. Never touches the database, so a database outage does not
/// get healthy instances restarted.
pub(crate) async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: the process can serve pages, which needs the database.
pub(crate) async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match tokio::time::timeout(PING_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "database": state.store.backend().name() })),
        ),
        Ok(Err(error)) => {
            tracing::warn!(error = %error, "readiness check failed");
            unavailable()
        }
        Err(_) => {
            tracing::warn!(
                timeout_secs = PING_TIMEOUT.as_secs(),
                "readiness check timed out"
            );
            unavailable()
        }
    }
}

fn unavailable() -> (StatusCode, Json<Value>) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "unavailable" })),
    )
}
