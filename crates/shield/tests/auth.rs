//! Enrolment and sign-in with a password and an authenticator app, end to end through the
//! router, on both backends.

mod common;

use axum::http::StatusCode;
use common::{Client, PASSWORD, enrol_with_password, sign_in, state};
use shield_testkit::{TestDb, both_backends};

both_backends!(
    candidate_enrols_and_sees_both_forces_named_contacts,
    totp_code_cannot_be_replayed,
    session_id_rotates_at_sign_in,
    cross_origin_and_tokenless_posts_are_refused,
    repeated_failures_lock_the_account_for_a_while,
    unknown_and_known_accounts_get_the_same_answer,
    sign_out_ends_the_session_on_the_server,
    home_address_is_sealed_audited_and_needs_a_recent_sign_in,
    an_invitation_works_once,
    invitation_is_emailed_by_the_worker_and_its_link_enrols,
    one_address_hammering_sign_in_is_slowed_down,
);

const CLAIRE: &str = "claire.whitfield@civic.example";

async fn demo(db: &TestDb) -> (Client, shield_domain::ManualClock, String) {
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let (state, clock) = state(db.store.clone());
    let people = shield::demo::invite_people(&state).await.unwrap();
    (Client::new(state), clock, people[0].link_path.clone())
}

async fn candidate_enrols_and_sees_both_forces_named_contacts(db: TestDb) {
    let (mut client, _, link) = demo(&db).await;
    enrol_with_password(&mut client, &link).await;
    let home = client.get("/home").await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.text());
    let text = home.text();
    assert!(text.contains("Claire Whitfield"), "{text}");
    assert!(text.contains("Harrowfield and Kingsmead"), "{text}");
    // A cross-force constituency: both forces' contacts, the primary force first.
    let tv = text
        .find("Inspector Helen Grant")
        .expect("Thames Valley lead");
    let hants = text.find("Sergeant Joanne Price").expect("Hampshire lead");
    assert!(tv < hants, "primary force first: {text}");
}

async fn totp_code_cannot_be_replayed(db: TestDb) {
    let (mut client, clock, link) = demo(&db).await;
    let secret = enrol_with_password(&mut client, &link).await;
    clock.advance_ms(60_000);
    let mut first = Client::new(client.state.clone());
    let page = sign_in(&mut first, CLAIRE, PASSWORD, &secret).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert_eq!(page.location.as_deref(), Some("/home"));
    // The same code again, at the same moment, from another browser: refused.
    let mut second = Client::new(client.state.clone());
    let page = sign_in(&mut second, CLAIRE, PASSWORD, &secret).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.text().contains("Enter a correct code"));
    // The next step's code works.
    clock.advance_ms(30_000);
    let mut third = Client::new(client.state.clone());
    assert_eq!(
        sign_in(&mut third, CLAIRE, PASSWORD, &secret).await.status,
        StatusCode::SEE_OTHER
    );
}

async fn session_id_rotates_at_sign_in(db: TestDb) {
    let (mut client, clock, link) = demo(&db).await;
    let secret = enrol_with_password(&mut client, &link).await;
    clock.advance_ms(60_000);
    let mut browser = Client::new(client.state.clone());
    browser.get("/sign-in").await;
    let before = browser
        .cookie
        .clone()
        .expect("an anonymous session for the form");
    let page = sign_in(&mut browser, CLAIRE, PASSWORD, &secret).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let after = browser.cookie.clone().unwrap();
    assert_ne!(before, after);
    assert_eq!(browser.get("/home").await.status, StatusCode::OK);
    // The pre-sign-in token is dead: planting it before sign-in gains an attacker nothing.
    let mut attacker = Client::new(client.state.clone());
    attacker.cookie = Some(before);
    let page = attacker.get("/home").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location.as_deref(), Some("/sign-in"));
}

async fn cross_origin_and_tokenless_posts_are_refused(db: TestDb) {
    let (mut client, _, _) = demo(&db).await;
    let page = client.get("/sign-in").await;
    let csrf = page.csrf();
    let form = [
        ("csrf", csrf.as_str()),
        ("email", CLAIRE),
        ("password", PASSWORD),
    ];
    let page = client
        .post_with("/sign-in", &form, &[("origin", "https://evil.example")])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = client
        .post_with("/sign-in", &form, &[("sec-fetch-site", "cross-site")])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let page = client
        .post(
            "/sign-in",
            &[("csrf", "wrong"), ("email", CLAIRE), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // The same form from the same origin is processed (and fails only on the password).
    let page = client.post("/sign-in", &form).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
}

async fn repeated_failures_lock_the_account_for_a_while(db: TestDb) {
    let (mut client, clock, link) = demo(&db).await;
    let secret = enrol_with_password(&mut client, &link).await;
    clock.advance_ms(60_000);
    let mut attacker = Client::new(client.state.clone());
    for _ in 0..5 {
        let page = sign_in(&mut attacker, CLAIRE, "not the password at all", &secret).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    }
    // Locked: even the right password is refused, with the same answer as a wrong one.
    let mut owner = Client::new(client.state.clone());
    let page = sign_in(&mut owner, CLAIRE, PASSWORD, &secret).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(
        page.text()
            .contains("Enter a correct email address and password")
    );
    clock.advance_ms(61_000);
    let page = sign_in(&mut owner, CLAIRE, PASSWORD, &secret).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
}

async fn unknown_and_known_accounts_get_the_same_answer(db: TestDb) {
    let (mut client, _, link) = demo(&db).await;
    enrol_with_password(&mut client, &link).await;
    let mut known = Client::new(client.state.clone());
    let mut unknown = Client::new(client.state.clone());
    let a = sign_in(&mut known, CLAIRE, "wrong password here", &[]).await;
    let b = sign_in(
        &mut unknown,
        "nobody.at.all@civic.example",
        "wrong password here",
        &[],
    )
    .await;
    assert_eq!(a.status, b.status);
    // The pages differ only in the echoed email address and the form token.
    let strip = |p: &common::Page, email: &str| p.body.replace(&p.csrf(), "").replace(email, "");
    assert_eq!(strip(&a, CLAIRE), strip(&b, "nobody.at.all@civic.example"));
}

async fn sign_out_ends_the_session_on_the_server(db: TestDb) {
    let (mut client, _, link) = demo(&db).await;
    enrol_with_password(&mut client, &link).await;
    let home = client.get("/home").await;
    // Signed in, the header offers the account, not "Sign in"; on every page.
    for page in [&home, &client.get("/forces").await] {
        assert!(
            page.body
                .contains(r#"<a href="/home" class="header__link""#)
        );
        assert!(
            !page
                .body
                .contains(r#"href="/sign-in" class="header__link""#)
        );
    }
    let cookie = client.cookie.clone();
    let page = client.post("/sign-out", &[("csrf", &home.csrf())]).await;
    assert_eq!(page.location.as_deref(), Some("/sign-in?signed_out=1"));
    let after = client.get("/forces").await;
    assert!(
        after
            .body
            .contains(r#"<a href="/sign-in" class="header__link""#)
    );
    // Replaying the old cookie gets nowhere.
    let mut replay = Client::new(client.state.clone());
    replay.cookie = cookie;
    assert_eq!(
        replay.get("/home").await.location.as_deref(),
        Some("/sign-in")
    );
}

async fn home_address_is_sealed_audited_and_needs_a_recent_sign_in(db: TestDb) {
    let (mut client, clock, link) = demo(&db).await;
    enrol_with_password(&mut client, &link).await;
    let page = client.get("/details").await;
    assert_eq!(page.status, StatusCode::OK);
    let address = "14 Canary Lane, Kingsmead, KM1 4XZ";
    let page = client
        .post(
            "/details",
            &[
                ("csrf", &page.csrf()),
                ("home_address", address),
                ("emergency_contact", "Sam Whitfield 07700 900456"),
            ],
        )
        .await;
    assert_eq!(page.location.as_deref(), Some("/home"));
    let page = client.get("/details").await;
    assert!(page.body.contains(address));
    // At rest the address is ciphertext in every sealed column.
    let blobs = db.store.sealed_blobs().await.unwrap();
    assert_eq!(blobs.len(), 3, "address, emergency contact and TOTP seed");
    for blob in &blobs {
        assert!(!String::from_utf8_lossy(&blob.value).contains("Canary"));
    }
    // Each read is on the candidate's record of who looked.
    let rows = db.store.audit_events(0, 1000).await.unwrap();
    let reads = rows
        .iter()
        .filter(|r| r.event.action().as_str() == "sensitive_read")
        .count();
    assert_eq!(reads, 2);
    // Eleven minutes later the address needs a fresh sign-in.
    clock.advance_ms(11 * 60 * 1000);
    client.get("/home").await;
    let page = client.get("/details").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location.as_deref(), Some("/sign-in/again"));
}

async fn an_invitation_works_once(db: TestDb) {
    let (mut client, _, link) = demo(&db).await;
    enrol_with_password(&mut client, &link).await;
    let mut other = Client::new(client.state.clone());
    let page = other.get(&link).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.text().contains("This invitation link does not work"));
}

/// Journey 2's delivery: `shield invite` queues the email in the invitation's transaction, the
/// worker sends it through SMTP (a sink on loopback), the body carries only the link, and the
/// link enrols the person.
async fn invitation_is_emailed_by_the_worker_and_its_link_enrols(db: TestDb) {
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let (state, _) = state(db.store.clone());
    let sink = shield_testkit::SmtpSink::start().await;
    let mut config = shield::config::Config::load_from(Default::default(), |_| None).unwrap();
    config.smtp_url = Some(format!("smtp://127.0.0.1:{}", sink.port()).into());
    config.mail_from = "Candidate Shield <alerts@shield.example>".into();
    let worker = shield::mail::worker(&config, &state, "http://localhost")
        .unwrap()
        .unwrap();

    let invitee = db
        .store
        .candidate_invitees(None)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == "Aisha Rahman")
        .unwrap();
    let user = shield_store::accounts::NewUser {
        role: shield_domain::Role::Candidate,
        display_name: invitee.name.clone(),
        email: invitee.email.clone(),
        candidate_id: Some(invitee.candidate_id),
        forces: Vec::new(),
    };
    shield_web::invitations::issue(&state, &user, None)
        .await
        .unwrap();
    let report = worker.tick().await.unwrap();
    assert_eq!(report.sent, 1, "{report:?}");
    let mail = sink
        .wait_for(1, std::time::Duration::from_secs(5))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(mail.recipients, vec!["aisha@civic.example".to_owned()]);
    let body = mail.text();
    // Content-free: the link and nothing about the person or their constituency.
    assert!(
        !body.contains("Aisha") && !body.contains("Elmstead"),
        "{body}"
    );
    let link = body
        .split("http://localhost")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    assert!(link.starts_with("/invitations/"), "{link}");
    let mut client = Client::new(state.clone());
    enrol_with_password(&mut client, &link).await;
    assert!(client.get("/home").await.text().contains("Aisha Rahman"));
}

/// Per-address limit on credential checks: after the burst, 429s; other addresses are
/// unaffected. (A quota that refills once an hour, so the test's speed cannot matter.)
async fn one_address_hammering_sign_in_is_slowed_down(db: TestDb) {
    let (client, _, _) = demo(&db).await;
    let mut state = client.state.clone();
    let quota = shield_web::auth::rate::Quota::per_hour(std::num::NonZeroU32::MIN)
        .allow_burst(std::num::NonZeroU32::new(20).unwrap());
    state.limiter = shield_web::auth::rate::limiter_with(quota);
    let mut attacker = Client::new(state.clone());
    let csrf = attacker.get("/sign-in").await.csrf();
    let mut statuses = Vec::new();
    for i in 0..25 {
        let email = format!("guess{i}@civic.example");
        let page = attacker
            .post(
                "/sign-in",
                &[
                    ("csrf", &csrf),
                    ("email", &email),
                    ("password", "wrong password 1"),
                ],
            )
            .await;
        statuses.push(page.status);
    }
    assert!(
        statuses[..20]
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert!(
        statuses[20..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let mut someone_else = Client::new(state.clone());
    let csrf = someone_else.get("/sign-in").await.csrf();
    let page = someone_else
        .post(
            "/sign-in",
            &[
                ("csrf", &csrf),
                ("email", CLAIRE),
                ("password", "wrong password 1"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
}
