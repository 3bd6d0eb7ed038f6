//! Signing in with a password and an authenticator-app code, and signing out.
//!
//! The first step answers the same way, after the same work, whether or not the email belongs
//! to anyone (ASVS V6.3.8); failures are counted in the database, so a soft lock-out holds
//! across addresses and app instances (V6.3.1). Each step issues a fresh session id (V7.2.4).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shield_domain::audit::{AuditAction, AuditActor, AuditEvent, AuditOutcome};
use shield_domain::session::{PENDING_TIMEOUT_MS, lockout_ms};
use shield_domain::{Email, Role, UserId};
use shield_store::accounts::UserStatus;

use super::layout::FieldProblem;
use crate::auth::csrf::CsrfForm;
use crate::auth::guard::chrono_now;
use crate::auth::session::{CurrentSession, MaybeSession, clear_cookie, ensure, new_session};
use crate::auth::{password, totp};
use crate::{AppError, AppState};

const WRONG: &str = "Enter a correct email address and password";
const WRONG_CODE: &str =
    "Enter a correct code from your authenticator app, or one of your recovery codes";

#[derive(Debug, Template)]
#[template(path = "sign_in/form.html")]
struct SignInPage {
    section: &'static str,
    csrf: String,
    email: String,
    problems: Vec<FieldProblem>,
    notice: Option<&'static str>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SignInQuery {
    #[serde(default)]
    signed_out: Option<String>,
    #[serde(default)]
    again: Option<String>,
}

pub(crate) async fn form(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
    Query(query): Query<SignInQuery>,
) -> Result<Response, AppError> {
    if let Some(user) = session.as_ref().and_then(|s| s.record.user_id) {
        let role = state
            .store
            .user_auth(user)
            .await?
            .map(|u| u.role)
            .unwrap_or(Role::Admin);
        return Ok(Redirect::to(home_of(role)).into_response());
    }
    let (session, cookie) = ensure(&state, session).await?;
    let notice = if query.signed_out.is_some() {
        Some("You have signed out.")
    } else if query.again.is_some() {
        Some("For your security, sign in again to continue.")
    } else {
        None
    };
    let page = SignInPage {
        section: "",
        csrf: session.record.csrf_token,
        email: String::new(),
        problems: Vec::new(),
        notice,
    };
    with_cookie(super::page(StatusCode::OK, &page)?, cookie)
}

#[derive(Debug, Deserialize)]
pub(crate) struct SignInForm {
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    session: CurrentSession,
    CsrfForm(form): CsrfForm<SignInForm>,
) -> Result<Response, AppError> {
    let now = state.clock.now_ms();
    let email = Email::parse(&form.email).ok();
    let user = match &email {
        Some(e) => state.store.user_auth_by_email(e.as_str()).await?,
        None => None,
    };
    let ok = match &user {
        Some(u)
            if u.status == UserStatus::Active
                && !u.role.requires_passkey()
                && u.locked_until_ms.is_none_or(|t| t <= now) =>
        {
            match &u.password_phc {
                Some(phc) => password::verify(&form.password, phc),
                None => {
                    password::verify_dummy(&form.password);
                    false
                }
            }
        }
        _ => {
            password::verify_dummy(&form.password);
            false
        }
    };
    let user = match user {
        Some(u) if ok => u,
        other => {
            if let Some(u) = &other {
                failure(&state, u.id, u.role, u.failed_attempts, "password").await?;
            } else {
                let event = AuditEvent::new(
                    AuditAction::SIGN_IN_FAILED,
                    AuditOutcome::Failure,
                    chrono_now(&state),
                )
                .with_detail("step", "password")
                .map_err(|e| AppError::Internal(e.message))?;
                state.store.record_audit(&event).await?;
            }
            let page = SignInPage {
                section: "",
                csrf: session.record.csrf_token,
                email: form.email,
                problems: vec![FieldProblem::new("email", WRONG)],
                notice: None,
            };
            return super::page(StatusCode::UNAUTHORIZED, &page);
        }
    };
    // Password accepted: a new session id, holding only "second factor pending".
    let (record, cookie) = new_session(now, None, Some(user.id), None);
    let event = event(
        &state,
        AuditAction::parse("password_accepted"),
        user.id,
        user.role,
    )?;
    state
        .store
        .sign_in(Some(&session.token_hash), &record, &event)
        .await?;
    with_cookie(Redirect::to("/sign-in/code").into_response(), Some(cookie))
}

#[derive(Debug, Template)]
#[template(path = "sign_in/code.html")]
struct CodePage {
    section: &'static str,
    csrf: String,
    problems: Vec<FieldProblem>,
}

pub(crate) async fn code_form(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Response, AppError> {
    pending_user(&state, &session)?;
    super::page(
        StatusCode::OK,
        &CodePage {
            section: "",
            csrf: session.record.csrf_token,
            problems: Vec::new(),
        },
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct CodeForm {
    csrf: String,
    #[serde(default)]
    code: String,
}

pub(crate) async fn code_submit(
    State(state): State<AppState>,
    session: CurrentSession,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<Response, AppError> {
    let user_id = pending_user(&state, &session)?;
    let now = state.clock.now_ms();
    let user = state
        .store
        .user_auth(user_id)
        .await?
        .ok_or(AppError::SignInRequired)?;
    let locked = user.locked_until_ms.is_some_and(|t| t > now);
    let accepted = !locked
        && user.status == UserStatus::Active
        && check_second_factor(&state, user_id, &form.code, now).await?;
    if !accepted {
        failure(&state, user.id, user.role, user.failed_attempts, "code").await?;
        let page = CodePage {
            section: "",
            csrf: session.record.csrf_token,
            problems: vec![FieldProblem::new("code", WRONG_CODE)],
        };
        return super::page(StatusCode::UNAUTHORIZED, &page);
    }
    let (record, cookie) = new_session(now, Some(user.id), None, Some(now));
    let event = event(
        &state,
        Ok(AuditAction::SIGN_IN_SUCCEEDED),
        user.id,
        user.role,
    )?;
    state
        .store
        .sign_in(Some(&session.token_hash), &record, &event)
        .await?;
    with_cookie(
        Redirect::to(home_of(user.role)).into_response(),
        Some(cookie),
    )
}

/// Where each role goes once enrolment is complete: a candidate's personal security plan is the
/// first thing they see (journey 3); everyone else lands where a sign-in does.
pub(crate) fn after_enrolment(role: Role) -> &'static str {
    match role {
        Role::Candidate => "/plan",
        other => home_of(other),
    }
}

/// Where each role lands after signing in.
pub(crate) fn home_of(role: Role) -> &'static str {
    match role {
        Role::Candidate => "/home",
        Role::ForceContact | Role::Coordinator => "/reports",
        Role::Delegate => "/acting-for",
        Role::Admin => "/",
    }
}

/// A current authenticator code (single use), or an unused recovery code (then spent).
async fn check_second_factor(
    state: &AppState,
    user: UserId,
    code: &str,
    now: i64,
) -> Result<bool, AppError> {
    if let Some((sealed, _)) = state.store.totp_secret(user).await? {
        let secret = shield_crypto::open(&state.keys, totp_aad(user).aad(), &sealed)
            .map_err(|e| AppError::Internal(format!("totp secret: {e}")))?;
        if let Some(step) = totp::matching_step(&secret, code, now) {
            // Claiming the step is what makes the code single-use.
            return Ok(state.store.use_totp_step(user, step).await?);
        }
    }
    let typed: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    if typed.len() == 12 {
        for (id, hash) in state.store.recovery_codes(user).await? {
            if password::verify(&typed, &hash) {
                let notice =
                    crate::notices::credential_changed(state, user, "recovery_code_used").await?;
                return Ok(state
                    .store
                    .use_recovery_code(id, now, notice.as_ref())
                    .await?);
            }
        }
    }
    Ok(false)
}

/// Where a user's TOTP seed is sealed: bound to its table, column and user.
pub(crate) struct TotpAad(String);

impl TotpAad {
    pub(crate) fn aad(&self) -> shield_crypto::Aad<'_> {
        shield_crypto::Aad::new("totp_credentials", "sealed_secret", &self.0)
    }
}

pub(crate) fn totp_aad(user: UserId) -> TotpAad {
    TotpAad(user.to_string())
}

fn pending_user(state: &AppState, session: &CurrentSession) -> Result<UserId, AppError> {
    match session.record.pending_user_id {
        Some(user) if state.clock.now_ms() - session.record.created_at_ms <= PENDING_TIMEOUT_MS => {
            Ok(user)
        }
        _ => Err(AppError::SignInRequired),
    }
}

async fn failure(
    state: &AppState,
    user: UserId,
    role: Role,
    failures: i64,
    step: &str,
) -> Result<(), AppError> {
    let lock = lockout_ms(failures + 1).map(|ms| state.clock.now_ms() + ms);
    let event = event(state, Ok(AuditAction::SIGN_IN_FAILED), user, role)?
        .with_detail("step", step)
        .map_err(|e| AppError::Internal(e.message))?;
    state
        .store
        .record_sign_in_failure(user, lock, &event)
        .await?;
    tracing::info!(user = %user, step, "sign-in failed");
    Ok(())
}

fn event(
    state: &AppState,
    action: Result<AuditAction, shield_domain::FieldError>,
    user: UserId,
    role: Role,
) -> Result<AuditEvent, AppError> {
    let action = action.map_err(|e| AppError::Internal(e.message))?;
    let outcome = if action == AuditAction::SIGN_IN_FAILED {
        AuditOutcome::Failure
    } else {
        AuditOutcome::Success
    };
    let actor = AuditActor::new(user.0, role.key()).map_err(|e| AppError::Internal(e.message))?;
    Ok(AuditEvent::new(action, outcome, chrono_now(state)).with_actor(actor))
}

#[derive(Debug, Template)]
#[template(path = "sign_in/again.html")]
struct AgainPage {
    section: &'static str,
    csrf: String,
}

/// Re-authentication for sensitive actions: explains, and offers to sign in again. A GET never
/// changes anything; the button posts to [`again_submit`].
pub(crate) async fn again(
    State(state): State<AppState>,
    MaybeSession(session): MaybeSession,
) -> Result<Response, AppError> {
    let (session, cookie) = ensure(&state, session).await?;
    with_cookie(
        super::page(
            StatusCode::OK,
            &AgainPage {
                section: "",
                csrf: session.record.csrf_token,
            },
        )?,
        cookie,
    )
}

/// Ends the current session and starts a fresh sign-in.
pub(crate) async fn again_submit(
    State(state): State<AppState>,
    session: CurrentSession,
    CsrfForm(_): CsrfForm<SignOutForm>,
) -> Result<Response, AppError> {
    state
        .store
        .delete_session(&session.token_hash, None)
        .await?;
    with_cookie(
        Redirect::to("/sign-in?again=1").into_response(),
        Some(clear_cookie()),
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct SignOutForm {
    csrf: String,
}

pub(crate) async fn sign_out(
    State(state): State<AppState>,
    session: CurrentSession,
    CsrfForm(_): CsrfForm<SignOutForm>,
) -> Result<Response, AppError> {
    let audit = match session.record.user_id {
        Some(user) => {
            let role = state
                .store
                .user_auth(user)
                .await?
                .map(|u| u.role)
                .unwrap_or(Role::Candidate);
            Some(event(&state, Ok(AuditAction::SIGNED_OUT), user, role)?)
        }
        None => None,
    };
    state
        .store
        .delete_session(&session.token_hash, audit.as_ref())
        .await?;
    with_cookie(
        Redirect::to("/sign-in?signed_out=1").into_response(),
        Some(clear_cookie()),
    )
}

/// Signs the person out on every device: every session of theirs is deleted on the server
/// (this one included), audited, and the account holder is told by email.
pub(crate) async fn sign_out_everywhere(
    State(state): State<AppState>,
    signed_in: crate::auth::guard::SignedIn,
    CsrfForm(_): CsrfForm<SignOutForm>,
) -> Result<Response, AppError> {
    let user = signed_in.actor.user_id;
    let audit = event(
        &state,
        AuditAction::parse("signed_out_everywhere"),
        user,
        signed_in.actor.role,
    )?;
    let notice = crate::notices::credential_changed(&state, user, "signed_out_everywhere").await?;
    let ended = state
        .store
        .delete_user_sessions(user, state.clock.now_ms(), &audit, notice.as_ref())
        .await?;
    tracing::info!(%user, ended, "signed out everywhere");
    state.wake_worker();
    with_cookie(
        Redirect::to("/sign-in?signed_out=1").into_response(),
        Some(clear_cookie()),
    )
}

pub(crate) fn with_cookie(
    mut response: Response,
    cookie: Option<axum::http::HeaderValue>,
) -> Result<Response, AppError> {
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

crate::has_csrf!(SignInForm, CodeForm, SignOutForm);
