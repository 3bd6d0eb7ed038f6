//! Passkey endpoints without a browser: the script, the controls on the pages, the CSRF and
//! origin checks on the JSON endpoints, and the ceremony state kept server-side. The full
//! ceremony with an authenticator is in `crates/shield/tests/browser_passkey.rs`.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use shield_domain::Role;
use shield_domain::audit::{AuditAction, AuditEvent, AuditOutcome};
use shield_store::Store;
use shield_store::accounts::{NewInvitation, NewUser};
use shield_testkit::{TestDb, both_backends};
use shield_web::auth::token;
use shield_web::{AppState, router};
use tower::ServiceExt;

both_backends!(
    script_is_served_and_linked_not_inlined,
    json_endpoints_need_the_csrf_header_and_a_same_origin_request,
    sign_in_ceremony_state_stays_on_the_server,
    only_localhost_can_be_the_relying_party_by_default,
    finishing_without_a_ceremony_is_refused,
    invitation_for_police_offers_a_discoverable_passkey,
    passkey_list_needs_a_sign_in,
);

const HOST: &str = "localhost:8080";

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

async fn send(store: Arc<dyn Store>, request: Request<Body>) -> Reply {
    let response = router(AppState::new(store)).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn get(uri: &str, cookie: Option<&str>) -> Request<Body> {
    let mut r = Request::get(uri).header(header::HOST, HOST);
    if let Some(c) = cookie {
        r = r.header(header::COOKIE, c);
    }
    r.body(Body::empty()).unwrap()
}

fn post_json(uri: &str, host: &str, cookie: &str, csrf: Option<&str>, body: &str) -> Request<Body> {
    let mut r = Request::post(uri)
        .header(header::HOST, host)
        .header(header::ORIGIN, format!("http://{host}"))
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::COOKIE, cookie);
    if let Some(t) = csrf {
        r = r.header("x-csrf-token", t);
    }
    r.body(Body::from(body.to_owned())).unwrap()
}

/// A fresh anonymous session from the sign-in page: its cookie and its CSRF token.
async fn visitor(store: &Arc<dyn Store>) -> (String, String) {
    let page = send(store.clone(), get("/sign-in", None)).await;
    assert_eq!(page.status, 200);
    let cookie = page.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    (cookie, attribute(&page.body, "data-csrf"))
}

fn attribute(html: &str, name: &str) -> String {
    let start = html
        .find(&format!("{name}=\""))
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + name.len()
        + 2;
    html[start..].split('"').next().unwrap().to_owned()
}

async fn session_state(store: &Arc<dyn Store>, cookie: &str) -> Option<String> {
    let raw = cookie.split_once('=').unwrap().1;
    store
        .session(&token::hash(raw))
        .await
        .unwrap()
        .unwrap()
        .state
}

async fn script_is_served_and_linked_not_inlined(db: TestDb) {
    let page = send(db.store.clone(), get("/sign-in", None)).await;
    let src = attribute(&page.body, "<script src");
    assert!(src.starts_with("/static/passkeys.js?v="), "{src}");
    // No inline script anywhere (CSP `script-src 'self'`): every <script> has a src.
    assert_eq!(
        page.body.matches("<script").count(),
        page.body.matches("<script src=").count()
    );
    // The control is hidden until the script shows it; the password form works without it.
    assert!(page.body.contains(r#"data-passkey="sign-in""#));
    assert!(page.body.contains("hidden>"));
    assert!(page.body.contains(r#"action="/sign-in""#));

    let js = send(db.store.clone(), get(&src, None)).await;
    assert_eq!(js.status, 200);
    assert_eq!(js.headers["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(
        js.headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(js.body.contains("navigator.credentials.get") && js.body.contains("x-csrf-token"));
}

async fn json_endpoints_need_the_csrf_header_and_a_same_origin_request(db: TestDb) {
    let (cookie, csrf) = visitor(&db.store).await;
    for token in [None, Some("wrong"), Some("")] {
        let reply = send(
            db.store.clone(),
            post_json("/sign-in/passkey/options", HOST, &cookie, token, "{}"),
        )
        .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{token:?}");
    }
    // The right token from another site is still refused, by the global check.
    let mut cross = post_json("/sign-in/passkey/options", HOST, &cookie, Some(&csrf), "{}");
    cross
        .headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().unwrap());
    assert_eq!(
        send(db.store.clone(), cross).await.status,
        StatusCode::FORBIDDEN
    );
    let mut foreign = post_json("/sign-in/passkey/options", HOST, &cookie, Some(&csrf), "{}");
    // (A browser without Fetch Metadata: then `Origin` decides.)
    foreign.headers_mut().remove("sec-fetch-site");
    foreign
        .headers_mut()
        .insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    assert_eq!(
        send(db.store.clone(), foreign).await.status,
        StatusCode::FORBIDDEN
    );
    // No session at all.
    let reply = send(
        db.store.clone(),
        post_json("/sign-in/passkey/options", HOST, "x=y", Some(&csrf), "{}"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        session_state(&db.store, &cookie).await,
        None,
        "nothing was started"
    );
}

async fn sign_in_ceremony_state_stays_on_the_server(db: TestDb) {
    let (cookie, csrf) = visitor(&db.store).await;
    let reply = send(
        db.store.clone(),
        post_json("/sign-in/passkey/options", HOST, &cookie, Some(&csrf), "{}"),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let options = reply.json();
    let challenge = options["publicKey"]["challenge"].as_str().unwrap();
    // 32 random bytes, base64url: well over the 64 bits ASVS V6.7.2 asks for.
    assert!(challenge.len() >= 43, "{challenge}");
    assert_eq!(options["publicKey"]["rpId"], "localhost");
    assert_eq!(options["publicKey"]["userVerification"], "required");
    assert!(
        options.get("mediation").is_none(),
        "a modal request, not conditional UI"
    );
    // The state the server needs to finish is in the session row, not in the reply.
    let state = session_state(&db.store, &cookie)
        .await
        .expect("ceremony saved");
    assert!(state.contains(r#""passkey_ceremony":"sign_in""#), "{state}");
    assert!(!reply.body.contains("passkey_ceremony"));
    // A second start replaces the first: a new challenge.
    let again = send(
        db.store.clone(),
        post_json("/sign-in/passkey/options", HOST, &cookie, Some(&csrf), "{}"),
    )
    .await;
    assert_ne!(
        again.json()["publicKey"]["challenge"].as_str().unwrap(),
        challenge
    );
}

async fn only_localhost_can_be_the_relying_party_by_default(db: TestDb) {
    let (cookie, csrf) = visitor(&db.store).await;
    for host in ["127.0.0.1:8080", "shield.example.org"] {
        let reply = send(
            db.store.clone(),
            post_json("/sign-in/passkey/options", host, &cookie, Some(&csrf), "{}"),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{host}");
    }
}

async fn finishing_without_a_ceremony_is_refused(db: TestDb) {
    let (cookie, csrf) = visitor(&db.store).await;
    let reply = send(
        db.store.clone(),
        post_json("/sign-in/passkey", HOST, &cookie, Some(&csrf), "{}"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.json()["error"]
            .as_str()
            .unwrap()
            .contains("Try again")
    );
    // A started ceremony and an unreadable answer: refused, and the ceremony is used up.
    send(
        db.store.clone(),
        post_json("/sign-in/passkey/options", HOST, &cookie, Some(&csrf), "{}"),
    )
    .await;
    let reply = send(
        db.store.clone(),
        post_json(
            "/sign-in/passkey",
            HOST,
            &cookie,
            Some(&csrf),
            r#"{"id":1}"#,
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(session_state(&db.store, &cookie).await, None);
}

async fn invitation_for_police_offers_a_discoverable_passkey(db: TestDb) {
    let link = token::new_token();
    let now = chrono::Utc::now().timestamp_millis();
    db.store
        .invite(
            &NewUser {
                role: Role::ForceContact,
                display_name: "Inspector Pat Lead".into(),
                email: "pat@thamesvalley.police.example".into(),
                candidate_id: None,
                forces: Vec::new(),
            },
            &NewInvitation {
                token_hash: token::hash(&link),
                expires_at_ms: now + 60_000,
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
    let page = send(db.store.clone(), get(&format!("/invitations/{link}"), None)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Create a passkey"));
    assert!(
        !page.body.contains(r#"name="password""#),
        "police get no password form"
    );
    assert!(!page.body.contains("not available"));
    let cookie = page.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = attribute(&page.body, "data-csrf");

    let uri = format!("/invitations/{link}/passkey/options");
    let reply = send(
        db.store.clone(),
        post_json(&uri, HOST, &cookie, Some(&csrf), "{}"),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let options = reply.json();
    let pk = &options["publicKey"];
    assert_eq!(pk["rp"]["id"], "localhost");
    assert_eq!(pk["user"]["name"], "pat@thamesvalley.police.example");
    assert_eq!(pk["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(pk["authenticatorSelection"]["userVerification"], "required");
    let state = session_state(&db.store, &cookie).await.unwrap();
    assert!(state.contains(r#""passkey_ceremony":"enrol""#), "{state}");

    // A link that is not an invitation starts nothing.
    let reply = send(
        db.store.clone(),
        post_json(
            "/invitations/nope/passkey/options",
            HOST,
            &cookie,
            Some(&csrf),
            "{}",
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

async fn passkey_list_needs_a_sign_in(db: TestDb) {
    let reply = send(db.store.clone(), get("/account/passkeys", None)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let (cookie, csrf) = visitor(&db.store).await;
    let reply = send(db.store.clone(), get("/account/passkeys", Some(&cookie))).await;
    assert_eq!(
        reply.status,
        StatusCode::SEE_OTHER,
        "an anonymous session is not a sign-in"
    );
    let reply = send(
        db.store.clone(),
        post_json(
            "/account/passkeys/options",
            HOST,
            &cookie,
            Some(&csrf),
            "{}",
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(session_state(&db.store, &cookie).await, None);
}
