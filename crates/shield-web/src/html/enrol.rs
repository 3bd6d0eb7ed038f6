//! Accepting an invitation: choose a password, set up an authenticator app, keep recovery
//! codes; then the person is signed in and sees their named police contact.
//!
//! Between steps the half-finished enrolment lives in the session (`state`), with the new
//! TOTP seed sealed to that session, so nothing is written to the account until the person
//! has proved the app works; then one transaction writes it all with its audit event.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use shield_domain::audit::{AuditAction, AuditActor, AuditEvent, AuditOutcome};
use shield_domain::{Role, UserId};
use shield_store::accounts::{Enrolment, InvitationView};

use super::layout::FieldProblem;
use super::sign_in::{totp_aad, with_cookie};
use crate::auth::csrf::CsrfForm;
use crate::auth::guard::chrono_now;
use crate::auth::session::{CurrentSession, MaybeSession, ensure, new_session};
use crate::auth::{password, token, totp};
use crate::{AppError, AppState};

#[derive(Debug, Template)]
#[template(path = "enrol/password.html")]
struct PasswordPage {
    section: &'static str,
    csrf: String,
    token: String,
    name: String,
    role: &'static str,
    passkey_only: bool,
    problems: Vec<FieldProblem>,
}

#[derive(Debug, Template)]
#[template(path = "enrol/invalid.html")]
struct InvalidPage {
    section: &'static str,
}

/// What is carried between the steps.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    invitation_id: i64,
    user_id: i64,
    phc: String,
    /// The new TOTP seed, sealed to this session.
    totp: String,
}

impl PasswordPage {
    fn problem_for(&self, field: &str) -> Option<&str> {
        super::layout::problem_for(&self.problems, field)
    }
}

impl AuthenticatorPage {
    fn problem_for(&self, field: &str) -> Option<&str> {
        super::layout::problem_for(&self.problems, field)
    }
}

async fn valid_invitation(
    state: &AppState,
    token: &str,
) -> Result<Option<InvitationView>, AppError> {
    let view = state.store.invitation_by_token(&token::hash(token)).await?;
    let now = state.clock.now_ms();
    Ok(view.filter(|v| !v.used && !v.revoked && v.expires_at_ms > now))
}

fn role_words(role: Role) -> &'static str {
    match role {
        Role::Candidate => "a candidate",
        Role::Delegate => "someone acting for a candidate",
        Role::ForceContact => "a named police contact",
        Role::Coordinator => "a coordinator",
        Role::Admin => "an administrator",
    }
}

pub(crate) async fn start(
    State(state): State<AppState>,
    Path(token): Path<String>,
    MaybeSession(session): MaybeSession,
) -> Result<Response, AppError> {
    let Some(view) = valid_invitation(&state, &token).await? else {
        return super::page(StatusCode::NOT_FOUND, &InvalidPage { section: "" });
    };
    let (session, cookie) = ensure(&state, session).await?;
    let page = PasswordPage {
        section: "",
        csrf: session.record.csrf_token,
        token,
        name: view.display_name,
        role: role_words(view.role),
        passkey_only: view.role.requires_passkey(),
        problems: Vec::new(),
    };
    with_cookie(super::page(StatusCode::OK, &page)?, cookie)
}

#[derive(Debug, Deserialize)]
pub(crate) struct PasswordForm {
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

pub(crate) async fn set_password(
    State(state): State<AppState>,
    Path(token): Path<String>,
    session: CurrentSession,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, AppError> {
    let Some(view) = valid_invitation(&state, &token).await? else {
        return super::page(StatusCode::NOT_FOUND, &InvalidPage { section: "" });
    };
    if view.role.requires_passkey() {
        return Err(AppError::Forbidden);
    }
    let email_name = view.email.split('@').next().unwrap_or_default().to_owned();
    let mut personal: Vec<&str> = view.display_name.split_whitespace().collect();
    personal.push(&email_name);
    let problem = if let Err(message) = password::check_new(&form.password, &personal) {
        Some(FieldProblem::new("password", message))
    } else if form.password != form.confirm {
        Some(FieldProblem::new("confirm", "The passwords do not match"))
    } else {
        None
    };
    if let Some(problem) = problem {
        let page = PasswordPage {
            section: "",
            csrf: session.record.csrf_token,
            token,
            name: view.display_name,
            role: role_words(view.role),
            passkey_only: false,
            problems: vec![problem],
        };
        return super::page(StatusCode::BAD_REQUEST, &page);
    }
    let phc = password::hash(&form.password).map_err(AppError::Internal)?;
    let secret = totp::new_secret();
    let sealed = shield_crypto::seal(&state.keys, pending_aad(&session).aad(), &secret);
    let pending = Pending {
        invitation_id: view.id,
        user_id: view.user_id.0,
        phc,
        totp: STANDARD.encode(sealed),
    };
    let json = serde_json::to_string(&pending).map_err(|e| AppError::Internal(e.to_string()))?;
    state
        .store
        .set_session_state(&session.token_hash, Some(&json))
        .await?;
    Ok(Redirect::to("/enrol/authenticator").into_response())
}

struct PendingAad(String);

impl PendingAad {
    fn aad(&self) -> shield_crypto::Aad<'_> {
        shield_crypto::Aad::new("sessions", "state", &self.0)
    }
}

fn pending_aad(session: &CurrentSession) -> PendingAad {
    PendingAad(crate::invitations::hex(&session.token_hash))
}

fn pending(state: &AppState, session: &CurrentSession) -> Result<(Pending, Vec<u8>), AppError> {
    let json = session
        .record
        .state
        .as_deref()
        .ok_or(AppError::SignInRequired)?;
    let pending: Pending = serde_json::from_str(json).map_err(|_| AppError::SignInRequired)?;
    let sealed = STANDARD
        .decode(&pending.totp)
        .map_err(|_| AppError::SignInRequired)?;
    let secret = shield_crypto::open(&state.keys, pending_aad(session).aad(), &sealed)
        .map_err(|e| AppError::Internal(format!("pending totp: {e}")))?;
    Ok((pending, secret.to_vec()))
}

#[derive(Debug, Template)]
#[template(path = "enrol/authenticator.html")]
struct AuthenticatorPage {
    section: &'static str,
    csrf: String,
    qr_svg: String,
    secret_text: String,
    problems: Vec<FieldProblem>,
}

impl AuthenticatorPage {
    fn new(
        state: &AppState,
        session: &CurrentSession,
        problems: Vec<FieldProblem>,
    ) -> Result<Self, AppError> {
        let (_, secret) = pending(state, session)?;
        Ok(Self {
            section: "",
            csrf: session.record.csrf_token.clone(),
            qr_svg: totp::qr_svg(&secret, "Candidate Shield").unwrap_or_default(),
            secret_text: totp::secret_text(&secret),
            problems,
        })
    }
}

pub(crate) async fn authenticator(
    State(state): State<AppState>,
    session: CurrentSession,
) -> Result<Response, AppError> {
    super::page(
        StatusCode::OK,
        &AuthenticatorPage::new(&state, &session, Vec::new())?,
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct CodeForm {
    csrf: String,
    #[serde(default)]
    code: String,
}

#[derive(Debug, Template)]
#[template(path = "enrol/recovery.html")]
struct RecoveryPage {
    section: &'static str,
    codes: Vec<String>,
    /// Where the person goes next: their role's landing page.
    home: &'static str,
}

pub(crate) async fn confirm_authenticator(
    State(state): State<AppState>,
    session: CurrentSession,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<Response, AppError> {
    let (pending, secret) = pending(&state, &session)?;
    let now = state.clock.now_ms();
    let Some(step) = totp::matching_step(&secret, &form.code, now) else {
        let problems = vec![FieldProblem::new(
            "code",
            "Enter the 6-digit code your authenticator app shows",
        )];
        return super::page(
            StatusCode::BAD_REQUEST,
            &AuthenticatorPage::new(&state, &session, problems)?,
        );
    };
    let user = UserId(pending.user_id);
    let codes = recovery_codes();
    let hashes = codes
        .iter()
        .map(|c| password::hash(&c.replace('-', "")))
        .collect::<Result<Vec<_>, _>>()
        .map_err(AppError::Internal)?;
    let auth = state
        .store
        .user_auth(user)
        .await?
        .ok_or(AppError::SignInRequired)?;
    let actor =
        AuditActor::new(user.0, auth.role.key()).map_err(|e| AppError::Internal(e.message))?;
    let enrolled = AuditEvent::new(
        AuditAction::parse("enrolment_completed").map_err(|e| AppError::Internal(e.message))?,
        AuditOutcome::Success,
        chrono_now(&state),
    )
    .with_actor(actor.clone());
    state
        .store
        .complete_enrolment(
            &Enrolment {
                invitation_id: pending.invitation_id,
                user_id: user,
                password_phc: Some(pending.phc),
                sealed_totp_secret: Some(shield_crypto::seal(
                    &state.keys,
                    totp_aad(user).aad(),
                    &secret,
                )),
                totp_step: step,
                recovery_code_hashes: hashes,
            },
            now,
            &enrolled,
        )
        .await
        .map_err(|e| match e {
            shield_store::StoreError::Conflict(_) => AppError::NotFound,
            other => other.into(),
        })?;
    // Enrolled: sign the person in with a fresh session id.
    let (record, cookie) = new_session(now, Some(user), None, Some(now));
    let signed_in = AuditEvent::new(
        AuditAction::SIGN_IN_SUCCEEDED,
        AuditOutcome::Success,
        chrono_now(&state),
    )
    .with_actor(actor);
    state
        .store
        .sign_in(Some(&session.token_hash), &record, &signed_in)
        .await?;
    with_cookie(
        super::page(
            StatusCode::OK,
            &RecoveryPage {
                section: "",
                codes,
                home: super::sign_in::after_enrolment(auth.role),
            },
        )?,
        Some(cookie),
    )
}

/// Ten single-use codes of 12 characters (60 bits each), shown once, stored hashed.
fn recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    (0..10)
        .map(|_| {
            let mut bytes = [0u8; 12];
            OsRng.fill_bytes(&mut bytes);
            let raw: String = bytes
                .iter()
                .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
                .collect();
            format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12])
        })
        .collect()
}

crate::has_csrf!(PasswordForm, CodeForm);
