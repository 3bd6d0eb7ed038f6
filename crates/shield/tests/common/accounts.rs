//! Accounts made straight through the store, for tests whose subject is not enrolment: an
//! invitation and a completed enrolment (no password or authenticator), then a session made
//! directly, so the client is signed in at once. Enrolment itself is tested through the pages
//! (`enrol_with_password`, `live::enrol_with_password_and_totp`).

use shield_domain::audit::{AuditAction, AuditEvent, AuditOutcome};
use shield_domain::{CandidateId, ForceCode, Role, UserId};
use shield_store::accounts::{Enrolment, NewInvitation, NewUser};
use shield_web::AppState;

use super::Client;

/// A successful audit event of `action` at the clock's time.
pub fn audit(state: &AppState, action: &str) -> AuditEvent {
    let at = chrono::DateTime::from_timestamp_millis(state.clock.now_ms()).unwrap();
    AuditEvent::new(
        AuditAction::parse(action).unwrap(),
        AuditOutcome::Success,
        at,
    )
}

/// An active account of `role` serving `forces`, signed in with a fresh session.
pub async fn signed_in(
    state: &AppState,
    role: Role,
    email: &str,
    forces: Vec<ForceCode>,
) -> (Client, UserId) {
    signed_in_for(state, role, email, None, forces).await
}

/// Like [`signed_in`], for an account tied to `candidate` (a candidate or a delegate).
pub async fn signed_in_for(
    state: &AppState,
    role: Role,
    email: &str,
    candidate: Option<CandidateId>,
    forces: Vec<ForceCode>,
) -> (Client, UserId) {
    let user_id = active_account(state, role, email, candidate, forces).await;
    (session_for(state, user_id).await, user_id)
}

/// An active account with no credentials and no session (tests sign it in with
/// [`session_for`] when they need to).
pub async fn active_account(
    state: &AppState,
    role: Role,
    email: &str,
    candidate: Option<CandidateId>,
    forces: Vec<ForceCode>,
) -> UserId {
    let now = state.clock.now_ms();
    let user = NewUser {
        role,
        display_name: format!("Test {email}"),
        email: email.into(),
        candidate_id: candidate,
        forces,
    };
    let (user_id, invitation_id) = state
        .store
        .invite(
            &user,
            &NewInvitation {
                token_hash: shield_web::auth::token::hash(email),
                expires_at_ms: now + 60_000,
                created_by: None,
            },
            now,
            &audit(state, "invitation_created"),
            None,
        )
        .await
        .unwrap();
    complete(state, invitation_id, user_id).await;
    user_id
}

/// Completes an invitation with no password or authenticator: the account becomes active.
async fn complete(state: &AppState, invitation_id: i64, user_id: UserId) {
    let enrolment = Enrolment::without_secrets(invitation_id, user_id);
    state
        .store
        .complete_enrolment(
            &enrolment,
            state.clock.now_ms(),
            &audit(state, "enrolment_completed"),
        )
        .await
        .unwrap();
}

/// A fresh signed-in session for `user` at the clock's time.
pub async fn session_for(state: &AppState, user: UserId) -> Client {
    let now = state.clock.now_ms();
    let token = shield_web::auth::token::new_token();
    let (mut record, _) = shield_web::auth::session::new_session(now, Some(user), None, Some(now));
    record.token_hash = shield_web::auth::token::hash(&token).to_vec();
    state.store.create_session(&record).await.unwrap();
    let mut client = Client::new(state.clone());
    client.cookie = Some(token);
    client
}

/// The stored session behind `client`'s cookie.
async fn session_of(client: &Client) -> shield_store::accounts::SessionRecord {
    let hash = shield_web::auth::token::hash(client.cookie.as_ref().unwrap());
    client.state.store.session(&hash).await.unwrap().unwrap()
}

/// The CSRF token of `client`'s session (for JSON API calls).
pub async fn csrf_of(client: &Client) -> String {
    session_of(client).await.csrf_token
}

/// The signed-in user behind `client`.
pub async fn user_of(client: &Client) -> UserId {
    session_of(client).await.user_id.unwrap()
}

/// Completes an invitation straight in the store (police and coordinators enrol with a passkey,
/// which these tests do not drive): the account becomes active. Returns its user.
pub async fn activate(state: &AppState, link_path: &str) -> UserId {
    let token = link_path.trim_start_matches("/invitations/");
    let invitation = state
        .store
        .invitation_by_token(&shield_web::auth::token::hash(token))
        .await
        .unwrap()
        .expect("the invitation exists");
    complete(state, invitation.id, invitation.user_id).await;
    invitation.user_id
}
