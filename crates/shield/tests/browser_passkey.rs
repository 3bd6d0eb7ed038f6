//! Passkeys in a real headless Chromium, with chromedriver's virtual authenticator (the W3C
//! WebAuthn WebDriver extension): a police contact accepts an invitation by creating a
//! passkey, lands signed in, signs out, and signs in again with the passkey alone. Then the
//! server must refuse a replayed assertion (ASVS V6.7.2).

use std::net::SocketAddr;

use fantoccini::Locator;
use fantoccini::wd::WebDriverCompatibleCommand;
use shield_domain::audit::{AuditAction, AuditEvent, AuditOutcome};
use shield_domain::{Role, UserId};
use shield_store::accounts::{NewInvitation, NewUser, UserStatus};
use shield_testkit::{Browser, TestDb, both_backends};
use shield_web::auth::token;

both_backends!(
    force_contact_enrols_and_signs_in_with_a_passkey,
    candidate_enrols_with_a_passkey_and_sees_their_named_contacts,
);

/// `GET /session/{id}/webauthn/authenticator/{authenticatorId}/credentials`.
#[derive(Debug)]
struct Credentials(String);

impl WebDriverCompatibleCommand for Credentials {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/webauthn/authenticator/{}/credentials",
            session.unwrap_or_default(),
            self.0
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (axum::http::Method::GET, None)
    }
}

async fn start(db: &TestDb) -> (SocketAddr, tokio::task::JoinHandle<anyhow::Result<()>>) {
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(shield::serve::serve(
        shield_web::AppState::new(db.store.clone()),
        "127.0.0.1:0".parse().unwrap(),
        Some(tx),
    ));
    (rx.await.unwrap(), server)
}

/// A force-contact invitation, as an admin would send it; returns the user and the link token.
async fn invite_officer(db: &TestDb) -> (UserId, String) {
    let force = db
        .store
        .force_codes()
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("a demo force");
    let link = token::new_token();
    let now = chrono::Utc::now().timestamp_millis();
    let (user, _) = db
        .store
        .invite(
            &NewUser {
                role: Role::ForceContact,
                display_name: "Inspector Pat Example".into(),
                email: "pat.example@police.example".into(),
                candidate_id: None,
                forces: vec![force],
            },
            &NewInvitation {
                token_hash: token::hash(&link),
                expires_at_ms: now + 86_400_000,
                created_by: None,
            },
            now,
            &AuditEvent::new(
                AuditAction::parse("user_invited").unwrap(),
                AuditOutcome::Success,
                chrono::Utc::now(),
            ),
            None,
        )
        .await
        .unwrap();
    (user, link)
}

use shield_testkit::page::{arrive_at, click, text as body_text};

async fn force_contact_enrols_and_signs_in_with_a_passkey(db: TestDb) {
    let (addr, server) = start(&db).await;
    let (user, link) = invite_officer(&db).await;
    let browser = Browser::phone().await;
    let c = &browser.client;
    let authenticator = shield_testkit::browser::webauthn::add_authenticator(c).await;
    // `localhost`: an IP address cannot be a WebAuthn relying party, and browsers keep
    // `__Host-` cookies for http://localhost only.
    let base = format!("http://localhost:{}", addr.port());

    // The invitation: a passkey-only role sees "Create a passkey", not a password form.
    c.goto(&format!("{base}/invitations/{link}")).await.unwrap();
    let text = body_text(c).await;
    assert!(text.contains("Welcome, Inspector Pat Example"), "{text}");
    assert!(
        c.find(Locator::Css("#password")).await.is_err(),
        "no password for police"
    );
    click(c, "#create-passkey").await;
    arrive_at(c, "/reports").await;

    let auth = db.store.user_auth(user).await.unwrap().unwrap();
    assert_eq!((auth.status, auth.passkeys), (UserStatus::Active, 1));
    assert!(auth.password_phc.is_none() && !auth.has_totp);
    let held = c
        .issue_cmd(Credentials(authenticator.clone()))
        .await
        .unwrap();
    let held = held.as_array().expect("credentials");
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(
        held[0]["isResidentCredential"], true,
        "a discoverable credential"
    );

    // Signed in: the passkeys page (which needs a signed-in session) lists it.
    c.goto(&format!("{base}/account/passkeys")).await.unwrap();
    let text = body_text(c).await;
    assert!(
        text.contains("Your passkeys") && text.contains("Passkey added"),
        "{text}"
    );
    assert!(text.contains("Not used yet"), "{text}");

    // Sign out; the page now wants a sign-in.
    click(c, "#sign-out").await;
    arrive_at(c, "/sign-in").await;
    c.goto(&format!("{base}/account/passkeys")).await.unwrap();
    arrive_at(c, "/sign-in").await;

    // Someone has been guessing the (non-existent) password: the account is soft-locked. That
    // lock is for passwords; it must not lock out the passkey (SECURITY.md V6.3.1).
    let locked_until = chrono::Utc::now().timestamp_millis() + 3_600_000;
    let failed = AuditEvent::new(
        AuditAction::SIGN_IN_FAILED,
        AuditOutcome::Failure,
        chrono::Utc::now(),
    );
    db.store
        .record_sign_in_failure(user, Some(locked_until), &failed)
        .await
        .unwrap();

    // Sign in with the passkey alone: no email, no password.
    c.goto(&format!("{base}/sign-in")).await.unwrap();
    click(c, "#passkey-sign-in").await;
    arrive_at(c, "/reports").await;
    c.goto(&format!("{base}/account/passkeys")).await.unwrap();
    let text = body_text(c).await;
    assert!(
        text.contains("Your passkeys") && text.contains("Last used"),
        "{text}"
    );

    // The sign-ins and the new passkey are in the audit trail, by method.
    let events = db.store.audit_events(0, 10_000).await.unwrap();
    let count = |action: &str| {
        events
            .iter()
            .filter(|e| {
                e.event.action().as_str() == action
                    && e.event.actor().map(|a| a.user_id()) == Some(user.0)
                    && e.event.details().get("method").map(String::as_str) == Some("passkey")
            })
            .count()
    };
    assert_eq!(count("enrolment_completed"), 1);
    assert_eq!(count("passkey_added"), 1);
    assert_eq!(
        count("sign_in_succeeded"),
        2,
        "enrolment, then the passkey sign-in"
    );

    // A replayed assertion is refused: answer one challenge, use the answer, then send the
    // same answer again, both to the same ceremony (already taken) and to a fresh one
    // (another challenge).
    click(c, "#sign-out").await;
    arrive_at(c, "/sign-in").await;
    let replay = c
        .execute_async(REPLAY_SCRIPT, vec![])
        .await
        .expect("run the replay script");
    assert_eq!(replay["first"], 200, "{replay}");
    assert_eq!(
        replay["again"], 400,
        "the same ceremony cannot be finished twice: {replay}"
    );
    assert_eq!(
        replay["fresh"], 401,
        "an old assertion does not answer a new challenge: {replay}"
    );
    let failures = db
        .store
        .audit_events(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| {
            e.event.action().as_str() == "sign_in_failed"
                && e.event.details().get("method").map(String::as_str) == Some("passkey")
                && e.event.actor().map(|a| a.user_id()) == Some(user.0)
        })
        .count();
    assert_eq!(failures, 1, "the replay against a new challenge is audited");

    browser.close().await;
    server.abort();
}

/// Runs on the sign-in page: answers one challenge with the virtual authenticator and posts
/// that answer three times. Reports the statuses.
const REPLAY_SCRIPT: &str = r#"
const done = arguments[arguments.length - 1];
const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const unb64 = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4)), (ch) => ch.charCodeAt(0)).buffer;
function post(url, token, body) {
  return fetch(url, { method: "POST", credentials: "same-origin", headers: { "content-type": "application/json", "x-csrf-token": token }, body: JSON.stringify(body || {}) });
}
(async () => {
  const token = document.querySelector("[data-passkey]").getAttribute("data-csrf");
  const options = await (await post("/sign-in/passkey/options", token)).json();
  const pk = options.publicKey;
  pk.challenge = unb64(pk.challenge);
  const cred = await navigator.credentials.get({ publicKey: pk });
  const answer = {
    id: cred.id, rawId: b64(cred.rawId), type: cred.type, extensions: {},
    response: {
      authenticatorData: b64(cred.response.authenticatorData),
      clientDataJSON: b64(cred.response.clientDataJSON),
      signature: b64(cred.response.signature),
      userHandle: cred.response.userHandle ? b64(cred.response.userHandle) : null,
    },
  };
  const first = (await post("/sign-in/passkey", token, answer)).status;
  // Signed in now, with a new session; its CSRF token is on the passkeys page.
  const account = await (await fetch("/account/passkeys", { credentials: "same-origin" })).text();
  const signedIn = new DOMParser().parseFromString(account, "text/html").querySelector("form[action='/sign-out'] input[name=csrf]").value;
  // The ceremony that answer belonged to is used up.
  const again = (await post("/sign-in/passkey", signedIn, answer)).status;
  // A new ceremony has a new challenge, which the old answer does not sign.
  await post("/sign-in/passkey/options", signedIn);
  const fresh = (await post("/sign-in/passkey", signedIn, answer)).status;
  done({ first, again, fresh });
})().catch((e) => done({ error: String(e) }));
"#;

/// Journey 2 with a passkey: a candidate accepts the invitation, registers a passkey, signs out
/// and back in with it, and sees their named police contacts (both forces of a cross-force seat).
async fn candidate_enrols_with_a_passkey_and_sees_their_named_contacts(db: TestDb) {
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let state = shield_web::AppState::new(db.store.clone());
    let people = shield::demo::invite_people(&state).await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(shield::serve::serve(
        state,
        "127.0.0.1:0".parse().unwrap(),
        Some(tx),
    ));
    let addr = rx.await.unwrap();
    let browser = Browser::phone().await;
    let c = &browser.client;
    shield_testkit::browser::webauthn::add_authenticator(c).await;
    let base = format!("http://localhost:{}", addr.port());

    c.goto(&format!("{base}{}", people[0].link_path))
        .await
        .unwrap();
    assert!(body_text(c).await.contains("Welcome, Claire Whitfield"));
    click(c, "#create-passkey").await;
    // A new candidate lands on their security plan, which names their police contacts.
    arrive_at(c, "/plan").await;
    let text = body_text(c).await;
    assert!(
        text.contains("Inspector Helen Grant") && text.contains("Sergeant Joanne Price"),
        "{text}"
    );

    c.find(Locator::Css("form[action='/sign-out'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrive_at(c, "/sign-in").await;
    click(c, "#passkey-sign-in").await;
    arrive_at(c, "/home").await;
    let text = body_text(c).await;
    assert!(
        text.contains("Your named police contacts") && text.contains("Inspector Helen Grant"),
        "{text}"
    );

    browser.close().await;
    server.abort();
}
