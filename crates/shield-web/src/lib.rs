#![doc = include_str!("../README.md")]
#![recursion_limit = "256"]

pub mod api;
mod assets;
pub mod auth;
mod error;
pub mod guidance;
mod health;
mod html;
mod ical;
pub mod intake;
pub mod invitations;
mod middleware;
pub mod notices;
pub mod scan;
pub mod sealing;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use shield_crypto::KeyRing;
use shield_domain::Clock;
use shield_store::{Store, SystemClock};

pub use error::AppError;

/// What every handler can reach. Cheap to clone: handlers get their own copy per request.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Every "now" in a request comes from here, so tests can move time.
    pub clock: Arc<dyn Clock>,
    /// Field-encryption keys (from a file or the environment, never the database).
    pub keys: Arc<KeyRing>,
    /// Wakes the outbox worker once a transaction that queued mail has committed.
    pub worker: Option<shield_jobs::WorkerHandle>,
    /// Per-address limits on credential checks.
    pub limiter: auth::rate::Limiter,
    /// The message scanner (`shield-detect`, injected by the binary); `None` turns the scan
    /// pages into a plain "not available here".
    pub scanner: Option<Arc<dyn scan::Scanner>>,
    /// Reverse proxies whose `X-Forwarded-For` the limits believe (none by default).
    pub trusted_proxies: Arc<auth::rate::TrustedProxies>,
    /// Group commit for new reports (`intake.rs`).
    pub intake: intake::Intake,
    /// How long a request for additional security may wait for its assessment and decision.
    pub security_windows: shield_domain::security::Windows,
    /// The breached-password range file behind `GET /range/{prefix}` (`None`: the endpoint
    /// answers 503 and the check page says the check is not available).
    pub breached: Option<Arc<shield_breached::RangeStore>>,
    /// Per-address limit on range lookups (public, unauthenticated, cheap but scrapeable).
    pub lookup_limiter: auth::rate::Limiter,
}

impl AppState {
    /// A state with the real clock and a throwaway key ring: fine for pages that read no
    /// sealed data, and for tests. The binary passes the configured keys.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self::with(store, Arc::new(SystemClock), Arc::new(KeyRing::generate()))
    }

    pub fn with(store: Arc<dyn Store>, clock: Arc<dyn Clock>, keys: Arc<KeyRing>) -> Self {
        Self {
            store,
            clock,
            keys,
            worker: None,
            limiter: auth::rate::limiter(),
            scanner: None,
            trusted_proxies: Arc::default(),
            intake: intake::Intake::default(),
            security_windows: shield_domain::security::Windows::default(),
            breached: None,
            lookup_limiter: auth::rate::lookup_limiter(),
        }
    }

    /// Serves range lookups from the range file at this store's path.
    pub fn with_breached_passwords(mut self, list: shield_breached::RangeStore) -> Self {
        self.breached = Some(Arc::new(list));
        self
    }

    pub fn with_scanner(mut self, scanner: Arc<dyn scan::Scanner>) -> Self {
        self.scanner = Some(scanner);
        self
    }

    pub fn with_trusted_proxies(mut self, proxies: auth::rate::TrustedProxies) -> Self {
        self.trusted_proxies = Arc::new(proxies);
        self
    }

    pub fn with_security_windows(mut self, windows: shield_domain::security::Windows) -> Self {
        self.security_windows = windows;
        self
    }

    pub fn with_worker(mut self, worker: shield_jobs::WorkerHandle) -> Self {
        self.worker = Some(worker);
        self
    }

    /// Tells the worker there is mail to send (a no-op without an in-process worker; a
    /// separate `shield worker` polls).
    pub fn wake_worker(&self) {
        if let Some(worker) = &self.worker {
            worker.wake();
        }
    }
}

/// The whole application: every route, the 404 and 405 pages, and the middleware (security
/// headers, request tracing, timeout). The binary only has to serve it.
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/", get(html::constituencies::index))
        .route("/constituencies/{code}", get(html::constituencies::show))
        .route("/forces", get(html::forces::index))
        .route(
            "/sign-in",
            get(html::sign_in::form).post(html::sign_in::submit),
        )
        .route(
            "/sign-in/code",
            get(html::sign_in::code_form).post(html::sign_in::code_submit),
        )
        .route(
            "/sign-in/again",
            get(html::sign_in::again).post(html::sign_in::again_submit),
        )
        .route("/sign-out", post(html::sign_in::sign_out))
        .route(
            "/invitations/{token}",
            get(html::enrol::start).post(html::enrol::set_password),
        )
        .route(
            "/enrol/authenticator",
            get(html::enrol::authenticator).post(html::enrol::confirm_authenticator),
        )
        .route("/home", get(html::home::show))
        .route(
            "/reports",
            get(html::reports::list::queue)
                .post(html::reports::new::submit)
                .layer(axum::extract::DefaultBodyLimit::max(
                    html::reports::new::MAX_REPORT_BODY,
                )),
        )
        .route("/reports/new", get(html::reports::new::form))
        .route("/reports/mine", get(html::reports::list::mine))
        .route(
            "/scan",
            get(html::scan::form).post(html::scan::submit).layer(
                axum::extract::DefaultBodyLimit::max(html::scan::MAX_SCAN_BODY),
            ),
        )
        .route("/scan/report", post(html::scan::report))
        .route("/scan/settings", post(html::scan::settings))
        .route("/reports/search", get(html::reports::list::search))
        .route("/reports/{id}", get(html::reports::show::show))
        .route(
            "/reports/{id}/acknowledge",
            post(html::reports::actions::acknowledge),
        )
        .route("/reports/{id}/status", post(html::reports::actions::status))
        .route(
            "/reports/{id}/priority",
            post(html::reports::actions::priority),
        )
        .route(
            "/reports/{id}/messages",
            post(html::reports::actions::message),
        )
        .route("/reports/{id}/notes", post(html::reports::actions::note))
        .route("/reports/{id}/links", post(html::reports::actions::link))
        .route(
            "/reports/{id}/evidence/{evidence}",
            get(html::reports::evidence::download),
        )
        .route(
            "/check-in",
            get(html::checkin::index).post(html::checkin::start),
        )
        .route("/check-in/pins", post(html::checkin::set_pins))
        .route(
            "/check-in/buddy",
            get(html::buddy::form).post(html::buddy::save),
        )
        .route("/check-in/panic", post(html::checkin::panic))
        .route("/check-in/{id}", get(html::checkin::show))
        .route("/check-in/{id}/safe", post(html::checkin::safe))
        .route("/check-in/{id}/end", post(html::checkin::end))
        .route(
            "/activities",
            get(html::activities::index).post(html::activities::create),
        )
        .route("/activities/force", get(html::activities::force))
        .route(
            "/activities/force/calendar",
            get(html::calendar_month::show),
        )
        .route("/activities/{id}", get(html::activity::show))
        .route(
            "/activities/{id}/checklist",
            post(html::activity::checklist),
        )
        .route("/activities/{id}/cancel", post(html::activity::cancel))
        .route(
            "/calendar",
            get(html::activities::calendar).post(html::activities::calendar_create),
        )
        .route("/calendar/revoke", post(html::activities::calendar_revoke))
        .route("/calendar/{file}", get(html::activities::feed))
        .route(
            "/security-requests",
            get(html::security::list::index).post(html::security::request::submit),
        )
        .route("/security-requests/new", get(html::security::request::form))
        .route(
            "/security-requests/mine",
            get(html::security::request::mine),
        )
        .route(
            "/security-requests/export.csv",
            get(html::security::list::export),
        )
        .route(
            "/security-requests/consistency",
            get(html::security::list::consistency),
        )
        .route("/security-requests/{id}", get(html::security::show::show))
        .route(
            "/security-requests/{id}/assess",
            get(html::security::assess::form).post(html::security::assess::submit),
        )
        .route(
            "/security-requests/{id}/decide",
            get(html::security::decide::form).post(html::security::decide::submit),
        )
        .route(
            "/security-requests/{id}/reconsider",
            post(html::security::show::reconsider),
        )
        .route("/home/viewed", get(html::home::viewed))
        .route("/plan", get(html::plan::index))
        .route("/plan/reminders", post(html::plan::reminders))
        .route(
            "/plan/{step}",
            get(html::plan::step).post(html::plan::save_step),
        )
        .route("/briefings", get(html::briefings::index))
        .route(
            "/briefings/manage",
            get(html::briefings::manage).post(html::briefings::manage_create),
        )
        .route("/briefings/{id}", get(html::briefings::show))
        .route(
            "/briefings/{id}/register",
            post(html::briefings::register_submit),
        )
        .route(
            "/briefings/{id}/cancel",
            post(html::briefings::cancel_submit),
        )
        .route(
            "/briefings/{id}/attendance",
            get(html::briefings::attendance).post(html::briefings::attendance_submit),
        )
        .route("/outreach", get(html::outreach::index))
        .route("/outreach/remind", post(html::outreach::remind))
        .route("/enrolment", get(html::enrolment::index))
        .route(
            "/enrolment/{candidate}/invite",
            post(html::enrolment::invite),
        )
        .route(
            "/details",
            get(html::home::details_form).post(html::home::save_details),
        )
        .route(
            "/sign-in/passkey/options",
            post(html::passkeys::sign_in_options),
        )
        .route("/sign-in/passkey", post(html::passkeys::sign_in_finish))
        .route(
            "/invitations/{token}/passkey/options",
            post(html::passkeys::enrol_options),
        )
        .route(
            "/invitations/{token}/passkey",
            post(html::passkeys::enrol_finish),
        )
        .route(
            "/account/passkeys",
            get(html::passkeys::account).post(html::passkeys::add_finish),
        )
        .route(
            "/account/passkeys/options",
            post(html::passkeys::add_options),
        )
        .route(
            "/account/passkeys/{id}/remove",
            post(html::passkeys::remove),
        )
        .route(html::passkeys::JS_PATH, get(html::passkeys::js))
        .route(
            "/account/sign-out-everywhere",
            post(html::sign_in::sign_out_everywhere),
        )
        .route(
            "/delegates",
            get(html::delegates::index).post(html::delegates::add),
        )
        .route(
            "/delegates/{user}/grants",
            post(html::delegates::change_grants),
        )
        .route("/delegates/{user}/revoke", post(html::delegates::revoke))
        .route("/acting-for", get(html::delegates::acting_for))
        .route(
            "/acting-for/{candidate}/reports",
            get(html::delegates::their_reports),
        )
        .route("/api/openapi.json", get(api::openapi::serve))
        .route("/api/me", get(api::me::me))
        .route("/api/me/contacts", get(api::me::contacts))
        .route("/api/me/reports", get(api::reports::mine))
        .route(
            "/api/reports",
            get(api::reports::queue).post(api::reports::create),
        )
        .route("/api/reports/{id}", get(api::reports::show))
        .route("/api/scan", post(api::scan::scan))
        .route(
            "/api/reports/{id}/acknowledge",
            post(api::reports::acknowledge),
        )
        .route("/api/reports/{id}/status", post(api::reports::status))
        .route("/api/reports/{id}/messages", post(api::reports::message))
        .route("/api/check-ins", post(api::checkins::start))
        .route("/api/check-ins/panic", post(api::checkins::panic))
        .route("/api/check-ins/{id}", get(api::checkins::show))
        .route("/api/check-ins/{id}/safe", post(api::checkins::safe))
        .route("/api/check-ins/{id}/end", post(api::checkins::end))
        .route(
            "/api/activities",
            get(api::activities::list).post(api::activities::create),
        )
        .route(
            "/api/activities/force/calendar",
            get(api::activities::month),
        )
        .route("/api/activities/{id}", get(api::activities::show))
        .route(
            "/api/activities/{id}/checklist",
            post(api::activities::checklist),
        )
        .route("/api/activities/{id}/cancel", post(api::activities::cancel))
        .route(
            "/api/check-ins/buddy",
            get(api::checkins::buddy).post(api::checkins::set_buddy),
        )
        .route(
            "/api/security-requests",
            get(api::security::list).post(api::security::create_request),
        )
        .route("/api/security-requests/mine", get(api::security::mine))
        .route(
            "/api/security-requests/consistency",
            get(api::security::consistency),
        )
        .route("/api/security-requests/{id}", get(api::security::show))
        .route(
            "/api/security-requests/{id}/assessment",
            post(api::security::assess),
        )
        .route(
            "/api/security-requests/{id}/decision",
            post(api::security::decide),
        )
        .route(
            "/api/security-requests/{id}/reconsider",
            post(api::security::reconsider),
        )
        .route(
            "/guidance",
            get(html::guidance::index).post(html::guidance::create),
        )
        .route("/guidance/new", get(html::guidance::new_form))
        .route("/guidance/{slug}", get(html::guidance::show))
        .route(
            "/guidance/{slug}/edit",
            get(html::guidance::edit_form).post(html::guidance::edit),
        )
        .route("/guidance/{slug}/history", get(html::guidance::history))
        .route(
            "/guidance/{slug}/versions/{version}",
            get(html::guidance::version),
        )
        .route("/guidance/{slug}/publish", post(html::guidance::publish))
        .route(
            "/guidance/{slug}/unpublish",
            post(html::guidance::unpublish),
        )
        .route("/api/guidance", get(api::guidance::list))
        .route("/api/guidance/{slug}", get(api::guidance::show))
        .route("/range/{prefix}", get(api::range::range))
        .route("/passwords/check", get(html::passwords::check))
        .route(html::passwords::JS_PATH, get(html::passwords::js))
        .route("/api/plan", get(api::plan::show))
        .route("/api/plan/reminders", post(api::plan::reminders))
        .route("/api/plan/{step}", post(api::plan::set_step))
        .route(
            "/api/briefings",
            get(api::plan::list).post(api::plan::create),
        )
        .route("/api/briefings/{id}/register", post(api::plan::register))
        .route("/api/briefings/{id}/cancel", post(api::plan::cancel))
        .route(
            "/api/briefings/{id}/attendance",
            post(api::plan::attendance),
        )
        .route(
            "/api/briefings/{id}/registrants",
            get(api::plan::registrants),
        )
        .route("/api/outreach", get(api::plan::outreach))
        .route("/api/outreach/remind", post(api::plan::remind))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(assets::APP_CSS_PATH, get(assets::app_css))
        .fallback(html::not_found)
        .method_not_allowed_fallback(html::method_not_allowed)
        .layer(axum::middleware::from_fn(auth::csrf::check_origin))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::rate::limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::session::load,
        ))
        .with_state(state);
    middleware::apply(routes)
}
