//! Passkey pages and their JSON endpoints: creating the first passkey from an invitation,
//! signing in with one, and a signed-in person's list of passkeys (add, remove).
//!
//! Each ceremony is two POSTs from `static/passkeys.js`: `…/options` starts it (the state is
//! kept in the session, see `auth::passkey`) and answers the options JSON; the finish endpoint
//! takes the browser's answer as JSON and replies `{"redirect": …}`. Both carry the session's
//! CSRF token in `x-csrf-token` and pass the global Origin/Fetch-Metadata check. A passkey
//! sign-in ignores the password's soft lock-out (a locked password must not lock out the
//! phishing-resistant factor, SECURITY.md V6.3.1), and like every sign-in issues a new session
//! id and clears the failure count.

use std::sync::LazyLock;

use askama::Template;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shield_domain::audit::{AuditAction, AuditActor, AuditEvent, AuditOutcome};
use shield_domain::policy::{self, Decision};
use shield_domain::{Role, UserId};
use shield_store::StoreError;
use shield_store::accounts::{InvitationView, UserStatus};
use shield_store::passkeys::NewPasskey;
use webauthn_rs::prelude::{Passkey, PublicKeyCredential, RegisterPublicKeyCredential, Webauthn};

use super::sign_in::with_cookie;
use crate::auth::csrf::{CsrfForm, HasCsrf};
use crate::auth::guard::{Authorized, SignedIn, chrono_now};
use crate::auth::passkey::{self as pk, Ceremony, CsrfHeader, OwnCredentials};
use crate::auth::session::new_session;
use crate::auth::token;
use crate::{AppError, AppState};

pub(crate) const JS_PATH: &str = "/static/passkeys.js";

const JS: &str = include_str!("../../static/passkeys.js");

const NOT_RECOGNISED: &str =
    "That passkey was not recognised. Try again, or use another way to sign in.";
const TRY_AGAIN: &str = "That took too long or was interrupted. Try again.";

/// The script's URL, fingerprinted like the stylesheet so it can be cached for a year.
pub(crate) fn js_href() -> &'static str {
    static HREF: LazyLock<String> =
        LazyLock::new(|| format!("{JS_PATH}?v={:016x}", fnv1a(JS.as_bytes())));
    &HREF
}

const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

pub(crate) async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        JS,
    )
}

/// A failure the script shows to the person: JSON `{"error": …}` with a status.
fn refused(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

fn redirect_json(to: &str, cookie: Option<axum::http::HeaderValue>) -> Result<Response, AppError> {
    with_cookie(
        Json(serde_json::json!({ "redirect": to })).into_response(),
        cookie,
    )
}

fn home_of(role: Role) -> &'static str {
    crate::html::sign_in::home_of(role)
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

fn actor(user: UserId, role: Role) -> Result<AuditActor, AppError> {
    AuditActor::new(user.0, role.key()).map_err(|e| internal(e.message))
}

fn audit(state: &AppState, action: &str, outcome: AuditOutcome) -> Result<AuditEvent, AppError> {
    let action = AuditAction::parse(action).map_err(|e| internal(e.message))?;
    AuditEvent::new(action, outcome, chrono_now(state))
        .with_detail("method", "passkey")
        .map_err(|e| internal(e.message))
}

/// The creation options as JSON, asking for a discoverable credential (a "passkey" proper), so
/// sign-in needs no email first.
fn creation_json(ccr: &impl serde::Serialize) -> Result<serde_json::Value, AppError> {
    let mut json = serde_json::to_value(ccr).map_err(internal)?;
    if let Some(selection) = json
        .pointer_mut("/publicKey/authenticatorSelection")
        .and_then(|v| v.as_object_mut())
    {
        selection.insert("residentKey".into(), "required".into());
        selection.insert("requireResidentKey".into(), true.into());
    }
    Ok(json)
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    serde_json::from_slice(body)
        .map_err(|_| AppError::bad_request("passkey", "The passkey answer could not be read"))
}

fn new_passkey(passkey: &Passkey, now_ms: i64) -> Result<NewPasskey, AppError> {
    let name = chrono::DateTime::from_timestamp_millis(now_ms)
        .map(|t| format!("Passkey added {}", t.format("%-d %B %Y")))
        .unwrap_or_else(|| "Passkey".to_owned());
    Ok(NewPasskey {
        credential_id: passkey.cred_id().clone(),
        passkey: serde_json::to_string(passkey).map_err(internal)?,
        name,
    })
}

async fn exclude_list(state: &AppState, user: UserId) -> Result<Vec<Vec<u8>>, AppError> {
    Ok(state
        .store
        .passkeys(user)
        .await?
        .into_iter()
        .map(|p| p.credential_id)
        .collect())
}

// ---- Signing in ------------------------------------------------------------------------------

pub(crate) async fn sign_in_options(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfHeader(session): CsrfHeader,
) -> Result<Response, AppError> {
    let webauthn = pk::relying_party(&headers)?;
    let (mut rcr, authentication) = webauthn
        .start_discoverable_authentication()
        .map_err(internal)?;
    // Started by a button, so a modal request rather than conditional (autofill) mediation.
    rcr.mediation = None;
    pk::save(
        &state,
        &session,
        &Ceremony::SignIn {
            started_at_ms: state.clock.now_ms(),
            authentication,
        },
    )
    .await?;
    Ok(Json(rcr).into_response())
}

pub(crate) async fn sign_in_finish(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfHeader(session): CsrfHeader,
    body: Bytes,
) -> Result<Response, AppError> {
    let webauthn = pk::relying_party(&headers)?;
    let Some(Ceremony::SignIn { authentication, .. }) = pk::take(&state, &session).await? else {
        return Ok(refused(StatusCode::BAD_REQUEST, TRY_AGAIN));
    };
    let credential: PublicKeyCredential = parse(&body)?;
    match verify_sign_in(&state, &webauthn, &credential, authentication).await? {
        Ok((user, role)) => {
            let now = state.clock.now_ms();
            let (record, cookie) = new_session(now, Some(user), None, Some(now));
            let event = audit(
                &state,
                AuditAction::SIGN_IN_SUCCEEDED.as_str(),
                AuditOutcome::Success,
            )?
            .with_actor(actor(user, role)?);
            state
                .store
                .sign_in(Some(&session.token_hash), &record, &event)
                .await?;
            redirect_json(home_of(role), Some(cookie))
        }
        Err(known) => {
            let mut event = audit(
                &state,
                AuditAction::SIGN_IN_FAILED.as_str(),
                AuditOutcome::Failure,
            )?;
            if let Some((user, role)) = known {
                event = event.with_actor(actor(user, role)?);
            }
            state.store.record_audit(&event).await?;
            tracing::info!("passkey sign-in failed");
            Ok(refused(StatusCode::UNAUTHORIZED, NOT_RECOGNISED))
        }
    }
}

type Verified = Result<(UserId, Role), Option<(UserId, Role)>>;

/// Finds the account from the credential id, checks the user handle, the account's status and
/// the assertion; saves the new counter and backup state. `Err` names the account when known.
async fn verify_sign_in(
    state: &AppState,
    webauthn: &Webauthn,
    credential: &PublicKeyCredential,
    authentication: webauthn_rs::prelude::DiscoverableAuthentication,
) -> Result<Verified, AppError> {
    let Ok((handle, credential_id)) = webauthn.identify_discoverable_authentication(credential)
    else {
        return Ok(Err(None));
    };
    let Some(stored) = state.store.passkey_by_credential_id(credential_id).await? else {
        return Ok(Err(None));
    };
    let Some(user) = state.store.user_auth(stored.user_id).await? else {
        return Ok(Err(None));
    };
    let who = (user.id, user.role);
    // The password's lock-out (`locked_until_ms`) deliberately does not apply here.
    if handle != pk::user_handle(user.id) || user.status != UserStatus::Active {
        return Ok(Err(Some(who)));
    }
    let mut passkey: Passkey = serde_json::from_str(&stored.passkey)
        .map_err(|e| internal(format!("stored passkey: {e}")))?;
    let Ok(result) =
        webauthn.finish_discoverable_authentication_v2(credential, authentication, &passkey)
    else {
        return Ok(Err(Some(who)));
    };
    let updated = match passkey.update_credential(&result) {
        Some(true) => Some(serde_json::to_string(&passkey).map_err(internal)?),
        _ => None,
    };
    state
        .store
        .passkey_used(stored.id, updated.as_deref(), state.clock.now_ms())
        .await?;
    Ok(Ok(who))
}

// ---- Enrolment from an invitation ------------------------------------------------------------

async fn valid_invitation(state: &AppState, token: &str) -> Result<InvitationView, AppError> {
    let view = state.store.invitation_by_token(&token::hash(token)).await?;
    let now = state.clock.now_ms();
    view.filter(|v| !v.used && !v.revoked && v.expires_at_ms > now)
        .ok_or(AppError::NotFound)
}

pub(crate) async fn enrol_options(
    State(state): State<AppState>,
    Path(invitation): Path<String>,
    headers: HeaderMap,
    CsrfHeader(session): CsrfHeader,
) -> Result<Response, AppError> {
    let view = valid_invitation(&state, &invitation).await?;
    let webauthn = pk::relying_party(&headers)?;
    let exclude = exclude_list(&state, view.user_id).await?;
    let (ccr, registration) = webauthn
        .start_passkey_registration(
            pk::user_handle(view.user_id),
            &view.email,
            &view.display_name,
            Some(exclude),
        )
        .map_err(internal)?;
    let ceremony = Ceremony::Enrol {
        invitation_id: view.id,
        user_id: view.user_id.0,
        started_at_ms: state.clock.now_ms(),
        registration,
    };
    pk::save(&state, &session, &ceremony).await?;
    Ok(Json(creation_json(&ccr)?).into_response())
}

pub(crate) async fn enrol_finish(
    State(state): State<AppState>,
    Path(invitation): Path<String>,
    headers: HeaderMap,
    CsrfHeader(session): CsrfHeader,
    body: Bytes,
) -> Result<Response, AppError> {
    let view = valid_invitation(&state, &invitation).await?;
    let webauthn = pk::relying_party(&headers)?;
    let registration = match pk::take(&state, &session).await? {
        Some(Ceremony::Enrol {
            invitation_id,
            user_id,
            registration,
            ..
        }) if invitation_id == view.id && user_id == view.user_id.0 => registration,
        _ => return Ok(refused(StatusCode::BAD_REQUEST, TRY_AGAIN)),
    };
    let credential: RegisterPublicKeyCredential = parse(&body)?;
    let Ok(passkey) = webauthn.finish_passkey_registration(&credential, &registration) else {
        return Ok(refused(
            StatusCode::BAD_REQUEST,
            "The passkey could not be set up. Try again.",
        ));
    };
    let now = state.clock.now_ms();
    let user = view.user_id;
    let who = actor(user, view.role)?;
    let events = [
        audit(&state, "enrolment_completed", AuditOutcome::Success)?.with_actor(who.clone()),
        audit(&state, "passkey_added", AuditOutcome::Success)?.with_actor(who.clone()),
    ];
    match state
        .store
        .complete_passkey_enrolment(view.id, user, &new_passkey(&passkey, now)?, now, &events)
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Ok(refused(
                StatusCode::CONFLICT,
                "This invitation has already been used, or the passkey is already registered.",
            ));
        }
        Err(other) => return Err(other.into()),
    }
    let (record, cookie) = new_session(now, Some(user), None, Some(now));
    let signed_in = audit(
        &state,
        AuditAction::SIGN_IN_SUCCEEDED.as_str(),
        AuditOutcome::Success,
    )?
    .with_actor(who);
    state
        .store
        .sign_in(Some(&session.token_hash), &record, &signed_in)
        .await?;
    redirect_json(
        crate::html::sign_in::after_enrolment(view.role),
        Some(cookie),
    )
}

// ---- A signed-in person's passkeys -----------------------------------------------------------

#[derive(Debug)]
struct PasskeyRow {
    id: i64,
    name: String,
    created: String,
    last_used: Option<String>,
}

#[derive(Debug, Template)]
#[template(path = "passkeys/account.html")]
struct AccountPage {
    section: &'static str,
    csrf: String,
    passkeys: Vec<PasskeyRow>,
    /// Whether adding or removing is allowed now (a recent sign-in).
    recent: bool,
    /// Whether the last passkey may be removed (not for roles that must use one, nor for
    /// someone with no password).
    can_remove_last: bool,
    notice: Option<&'static str>,
    home: &'static str,
}

fn day(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%-d %B %Y").to_string())
        .unwrap_or_default()
}

#[derive(Debug, Deserialize)]
pub(crate) struct AccountQuery {
    #[serde(default)]
    added: Option<String>,
    #[serde(default)]
    removed: Option<String>,
}

pub(crate) async fn account(
    State(state): State<AppState>,
    signed_in: SignedIn,
    Query(query): Query<AccountQuery>,
) -> Result<Response, AppError> {
    let user = signed_in.actor.user_id;
    let auth = state
        .store
        .user_auth(user)
        .await?
        .ok_or(AppError::SignInRequired)?;
    let recent = matches!(
        policy::can(
            &signed_in.actor,
            policy::Action::ManageOwnCredentials,
            &policy::Resource::OwnAccount,
            state.clock.now_ms()
        ),
        Decision::Allow
    );
    let passkeys = state
        .store
        .passkeys(user)
        .await?
        .into_iter()
        .map(|p| PasskeyRow {
            id: p.id,
            name: p.name,
            created: day(p.created_at_ms),
            last_used: p.last_used_at_ms.map(day),
        })
        .collect();
    let notice = if query.added.is_some() {
        Some("Your passkey has been added.")
    } else if query.removed.is_some() {
        Some("The passkey has been removed.")
    } else {
        None
    };
    let page = AccountPage {
        section: "",
        csrf: signed_in.session.record.csrf_token.clone(),
        passkeys,
        recent,
        can_remove_last: !auth.role.requires_passkey() && auth.password_phc.is_some(),
        notice,
        home: home_of(auth.role),
    };
    super::page(StatusCode::OK, &page)
}

pub(crate) async fn add_options(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Authorized<OwnCredentials>,
    CsrfHeader(session): CsrfHeader,
) -> Result<Response, AppError> {
    let user = auth.actor.user_id;
    let account = state
        .store
        .user_auth(user)
        .await?
        .ok_or(AppError::SignInRequired)?;
    let webauthn = pk::relying_party(&headers)?;
    let exclude = exclude_list(&state, user).await?;
    let (ccr, registration) = webauthn
        .start_passkey_registration(
            pk::user_handle(user),
            &account.display_name,
            &account.display_name,
            Some(exclude),
        )
        .map_err(internal)?;
    pk::save(
        &state,
        &session,
        &Ceremony::Add {
            user_id: user.0,
            started_at_ms: state.clock.now_ms(),
            registration,
        },
    )
    .await?;
    Ok(Json(creation_json(&ccr)?).into_response())
}

pub(crate) async fn add_finish(
    State(state): State<AppState>,
    headers: HeaderMap,
    auth: Authorized<OwnCredentials>,
    CsrfHeader(session): CsrfHeader,
    body: Bytes,
) -> Result<Response, AppError> {
    let user = auth.actor.user_id;
    let webauthn = pk::relying_party(&headers)?;
    let registration = match pk::take(&state, &session).await? {
        Some(Ceremony::Add {
            user_id,
            registration,
            ..
        }) if user_id == user.0 => registration,
        _ => return Ok(refused(StatusCode::BAD_REQUEST, TRY_AGAIN)),
    };
    let credential: RegisterPublicKeyCredential = parse(&body)?;
    let Ok(passkey) = webauthn.finish_passkey_registration(&credential, &registration) else {
        return Ok(refused(
            StatusCode::BAD_REQUEST,
            "The passkey could not be set up. Try again.",
        ));
    };
    let now = state.clock.now_ms();
    let event = audit(&state, "passkey_added", AuditOutcome::Success)?
        .with_actor(actor(user, auth.actor.role)?);
    let notice = crate::notices::credential_changed(&state, user, "passkey_added").await?;
    match state
        .store
        .add_passkey(
            user,
            &new_passkey(&passkey, now)?,
            now,
            &event,
            notice.as_ref(),
        )
        .await
    {
        Ok(_) => {
            state.wake_worker();
            redirect_json("/account/passkeys?added=1", None)
        }
        Err(StoreError::Conflict(_)) => Ok(refused(
            StatusCode::CONFLICT,
            "That passkey is already registered.",
        )),
        Err(other) => Err(other.into()),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct RemoveForm {
    csrf: String,
}

impl HasCsrf for RemoveForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

pub(crate) async fn remove(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    auth: Authorized<OwnCredentials>,
    CsrfForm(_): CsrfForm<RemoveForm>,
) -> Result<Response, AppError> {
    let user = auth.actor.user_id;
    let account = state
        .store
        .user_auth(user)
        .await?
        .ok_or(AppError::SignInRequired)?;
    let mine = state.store.passkeys(user).await?;
    if !mine.iter().any(|p| p.id == id) {
        return Err(AppError::NotFound);
    }
    if mine.len() == 1 && (account.role.requires_passkey() || account.password_phc.is_none()) {
        return Err(AppError::bad_request(
            "passkey",
            "You cannot remove your only passkey: add another one first",
        ));
    }
    let event = audit(&state, "passkey_removed", AuditOutcome::Success)?
        .with_actor(actor(user, auth.actor.role)?);
    let notice = crate::notices::credential_changed(&state, user, "passkey_removed").await?;
    let now = state.clock.now_ms();
    if !state
        .store
        .remove_passkey(user, id, now, &event, notice.as_ref())
        .await?
    {
        return Err(AppError::NotFound);
    }
    state.wake_worker();
    Ok(Redirect::to("/account/passkeys?removed=1").into_response())
}
