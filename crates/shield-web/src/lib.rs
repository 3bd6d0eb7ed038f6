#![doc = include_str!("../README.md")]

mod assets;
mod error;
mod health;
mod html;
mod middleware;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use shield_store::Store;

pub use error::AppError;

/// What every handler can reach. Cheap to clone: handlers get their own copy per request.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }
}

/// The whole application: every route, the 404 and 405 pages, and the middleware (security
/// headers, request tracing, timeout). The binary only has to serve it.
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/", get(html::constituencies::index))
        .route("/constituencies/{code}", get(html::constituencies::show))
        .route("/forces", get(html::forces::index))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(assets::APP_CSS_PATH, get(assets::app_css))
        .fallback(html::not_found)
        .method_not_allowed_fallback(html::method_not_allowed)
        .with_state(state);
    middleware::apply(routes)
}
