//! Delegates end to end through the router, on both backends: a candidate adds an agent, the
//! invitation arrives by email, the agent enrols and reports a concern for the candidate, and
//! loses access the moment the candidate revokes them. Also: credential-change emails and
//! "sign out everywhere".

mod common;

use axum::http::StatusCode;
use common::{Client, PASSWORD, attr_after, enrol_with_password, sign_in, state};
use serde_json::json;
use shield_testkit::{SmtpSink, TestDb, both_backends};
use shield_web::AppState;

both_backends!(
    delegate_is_invited_reports_for_the_candidate_and_is_revoked,
    recovery_code_use_is_emailed_to_the_account_holder,
    sign_out_everywhere_ends_every_session,
);

const CLAIRE: &str = "claire.whitfield@civic.example";
const SAM: &str = "sam.agent@campaign.example";

async fn setup(db: &TestDb) -> (AppState, shield_domain::ManualClock, String) {
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let (state, clock) = state(db.store.clone());
    let people = shield::demo::invite_people(&state).await.unwrap();
    (state, clock, people[0].link_path.clone())
}

fn worker(state: &AppState, sink: &SmtpSink) -> shield_jobs::Worker {
    let mut config = shield::config::Config::load_from(Default::default(), |_| None).unwrap();
    config.smtp_url = Some(format!("smtp://127.0.0.1:{}", sink.port()).into());
    config.mail_from = "Candidate Shield <alerts@shield.example>".into();
    shield::mail::worker(&config, state, "http://localhost")
        .unwrap()
        .unwrap()
}

/// Sends what is queued and returns the mails that reached `to`.
async fn mail_to(
    worker: &shield_jobs::Worker,
    sink: &SmtpSink,
    to: &str,
) -> Vec<shield_testkit::ReceivedEmail> {
    let tick = worker.tick().await.unwrap();
    let all = sink
        .wait_for(tick.sent, std::time::Duration::from_secs(5))
        .await
        .unwrap_or_default();
    all.into_iter()
        .filter(|m| m.recipients.iter().any(|r| r == to))
        .collect()
}

async fn csrf_of(client: &Client) -> String {
    let hash = shield_web::auth::token::hash(client.cookie.as_ref().unwrap());
    client
        .state
        .store
        .session(&hash)
        .await
        .unwrap()
        .unwrap()
        .csrf_token
}

async fn candidate_id(client: &Client) -> i64 {
    let hash = shield_web::auth::token::hash(client.cookie.as_ref().unwrap());
    let store = &client.state.store;
    let user = store
        .session(&hash)
        .await
        .unwrap()
        .unwrap()
        .user_id
        .unwrap();
    store
        .actor(user, 0)
        .await
        .unwrap()
        .unwrap()
        .candidate
        .unwrap()
        .0
}

async fn delegate_is_invited_reports_for_the_candidate_and_is_revoked(db: TestDb) {
    let (state, clock, link) = setup(&db).await;
    let sink = SmtpSink::start().await;
    let worker = worker(&state, &sink);
    let mut claire = Client::new(state.clone());
    enrol_with_password(&mut claire, &link).await;
    let claire_id = candidate_id(&claire).await;

    // Claire adds her agent, who may see her reports and report for her.
    let page = claire.get("/delegates").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let csrf = page.csrf();
    // A form with nothing ticked is refused with a message.
    let page = claire
        .post(
            "/delegates",
            &[("csrf", &csrf), ("name", "Sam Agent"), ("email", SAM)],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.text().contains("Choose at least one thing"));
    let page = claire
        .post(
            "/delegates",
            &[
                ("csrf", &csrf),
                ("name", "Sam Agent"),
                ("email", SAM),
                ("view", "on"),
                ("report", "on"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert_eq!(page.location.as_deref(), Some("/delegates?done=invited"));
    let page = claire.get("/delegates?done=invited").await;
    assert!(page.text().contains("Sam Agent"), "{}", page.text());
    assert!(page.text().contains("Invited, not yet set up"));
    let sam_user = attr_after(&page.body, r#"action="/delegates/"#)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();

    // The invitation reaches Sam: content-free, with the link.
    let mail = mail_to(&worker, &sink, SAM).await;
    assert_eq!(mail.len(), 1, "one invitation for Sam");
    let body = mail[0].text();
    assert!(
        !body.contains("Claire") && !body.contains("Harrowfield"),
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

    // Sam enrols like a candidate and, signing in later, lands on /acting-for.
    let mut sam = Client::new(state.clone());
    let secret = enrol_with_password(&mut sam, &link).await;
    clock.advance_ms(60_000);
    let mut sam = Client::new(state.clone());
    let page = sign_in(&mut sam, SAM, PASSWORD, &secret).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert_eq!(page.location.as_deref(), Some("/acting-for"));
    let page = sam.get("/acting-for").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let text = page.text();
    assert!(text.contains("Claire Whitfield"), "{text}");
    assert!(
        page.body
            .contains(&format!("/reports/new?candidate={claire_id}"))
    );
    // The message scanner is one link away for her too.
    let scan = format!("/scan?candidate={claire_id}");
    assert!(page.body.contains(&scan), "{}", page.body);
    // Both pages name the candidate Sam is acting for, and go back to /acting-for.
    let page = sam.get(&scan).await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    assert!(
        text.contains("Check messages Claire Whitfield received"),
        "{text}"
    );
    assert!(!text.contains("Check messages you received"), "{text}");
    assert!(
        page.body
            .contains(r#"href="/acting-for" class="back-link""#)
    );
    let page = sam
        .get(&format!("/reports/new?candidate={claire_id}"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text()
            .contains("Report a concern for Claire Whitfield")
    );
    assert!(
        page.body
            .contains(r#"href="/acting-for" class="back-link""#)
    );
    // Claire's own pages speak to her.
    let page = claire.get("/scan").await;
    assert!(page.text().contains("Check messages you received"));
    assert!(page.body.contains(r#"href="/home" class="back-link""#));

    // Sam reports a concern for Claire; Claire sees it among her reports.
    let csrf = csrf_of(&sam).await;
    let report = json!({
        "category": "online_abuse",
        "what": "Threatening replies under the hustings video",
        "happening_now": false,
        "who": "@angry_voter_77",
    });
    let page = sam
        .post_json(
            &format!("/api/reports?candidate={claire_id}"),
            &csrf,
            &report,
        )
        .await;
    assert_eq!(page.status, StatusCode::CREATED, "{}", page.body);
    let created: serde_json::Value = serde_json::from_str(&page.body).unwrap();
    let reference = created["reference"].as_str().unwrap().to_owned();
    let report_id = created["id"].as_i64().unwrap();
    let page = claire.get("/reports/mine").await;
    assert!(page.text().contains(&reference), "{}", page.text());
    // With View granted, Sam sees Claire's reports and the report itself.
    let page = sam.get(&format!("/acting-for/{claire_id}/reports")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains(&reference));
    assert_eq!(
        sam.get(&format!("/reports/{report_id}")).await.status,
        StatusCode::OK
    );
    // A delegate never sees a home address, nor the candidate's own pages.
    assert_eq!(sam.get("/details").await.status, StatusCode::FORBIDDEN);
    assert_eq!(sam.get("/home").await.status, StatusCode::FORBIDDEN);
    assert_eq!(sam.get("/delegates").await.status, StatusCode::FORBIDDEN);

    // Claire narrows Sam to View only: reporting for her stops at once.
    let csrf_c = csrf_of(&claire).await;
    let page = claire
        .post(
            &format!("/delegates/{sam_user}/grants"),
            &[("csrf", &csrf_c), ("view", "on")],
        )
        .await;
    assert_eq!(page.location.as_deref(), Some("/delegates?done=changed"));
    let page = sam
        .post_json(
            &format!("/api/reports?candidate={claire_id}"),
            &csrf,
            &report,
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);

    // Claire revokes Sam: every page for Claire is refused on Sam's next request.
    let page = claire
        .post(
            &format!("/delegates/{sam_user}/revoke"),
            &[("csrf", &csrf_c)],
        )
        .await;
    assert_eq!(page.location.as_deref(), Some("/delegates?done=revoked"));
    assert_eq!(
        sam.get(&format!("/acting-for/{claire_id}/reports"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        sam.get(&format!("/reports/{report_id}")).await.status,
        StatusCode::FORBIDDEN
    );
    let page = sam.get("/acting-for").await;
    assert!(!page.text().contains("Claire Whitfield"));
    assert!(!claire.get("/delegates").await.text().contains("Sam Agent"));

    // Claire's record of who did what shows the delegate changes and Sam's refusal.
    let page = claire.get("/home/viewed").await;
    let text = page.text();
    assert!(text.contains("added someone to act for you"), "{text}");
    assert!(text.contains("changed what someone acting for you can do"));
    assert!(text.contains("stopped someone acting for you"));
    assert!(text.contains("Someone acting for you"));
}

async fn recovery_code_use_is_emailed_to_the_account_holder(db: TestDb) {
    let (state, clock, link) = setup(&db).await;
    let sink = SmtpSink::start().await;
    let worker = worker(&state, &sink);
    // Enrol by hand to keep the recovery codes from the last page.
    let mut claire = Client::new(state.clone());
    let page = claire.get(&link).await;
    let page = claire
        .post(
            &link,
            &[
                ("csrf", &page.csrf()),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let page = claire.get("/enrol/authenticator").await;
    let key = page
        .body
        .split(r#"id="totp-key">"#)
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let secret = shield_web::auth::totp::secret_from_text(&key).unwrap();
    let code = shield_web::auth::totp::code_at(&secret, state.clock.now_ms());
    let page = claire
        .post(
            "/enrol/authenticator",
            &[("csrf", &page.csrf()), ("code", &code)],
        )
        .await;
    let codes: Vec<String> = page
        .body
        .split(r#"<code class="code">"#)
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10, "{}", page.body);
    // Drain the demo's invitations.
    mail_to(&worker, &sink, CLAIRE).await;
    let before = sink
        .wait_for(1, std::time::Duration::from_secs(5))
        .await
        .unwrap()
        .len();

    // Signing in with a recovery code instead of an app code: Claire is told by email.
    clock.advance_ms(60_000);
    let mut browser = Client::new(state.clone());
    let page = browser.get("/sign-in").await;
    let page = browser
        .post(
            "/sign-in",
            &[
                ("csrf", &page.csrf()),
                ("email", CLAIRE),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let page = browser.get("/sign-in/code").await;
    let page = browser
        .post(
            "/sign-in/code",
            &[("csrf", &page.csrf()), ("code", &codes[0])],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let tick = worker.tick().await.unwrap();
    assert_eq!(tick.sent, 1, "{tick:?}");
    let all = sink
        .wait_for(before + 1, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    let mail = all.last().unwrap();
    assert_eq!(mail.recipients, vec![CLAIRE.to_owned()]);
    let body = mail.text();
    assert!(
        body.contains("A recovery code was used to sign in to your Candidate Shield account."),
        "{body}"
    );
    assert!(body.contains("If this was not you, contact"));
    // Content-free: nothing about the person or where they stand.
    assert!(
        !body.contains("Claire") && !body.contains("Harrowfield"),
        "{body}"
    );
    // The same code again is refused, and no second email is queued.
    let mut again = Client::new(state.clone());
    let page = again.get("/sign-in").await;
    again
        .post(
            "/sign-in",
            &[
                ("csrf", &page.csrf()),
                ("email", CLAIRE),
                ("password", PASSWORD),
            ],
        )
        .await;
    let page = again.get("/sign-in/code").await;
    let page = again
        .post(
            "/sign-in/code",
            &[("csrf", &page.csrf()), ("code", &codes[0])],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert_eq!(worker.tick().await.unwrap().sent, 0);
}

async fn sign_out_everywhere_ends_every_session(db: TestDb) {
    let (state, clock, link) = setup(&db).await;
    let sink = SmtpSink::start().await;
    let worker = worker(&state, &sink);
    let mut laptop = Client::new(state.clone());
    let secret = enrol_with_password(&mut laptop, &link).await;
    mail_to(&worker, &sink, CLAIRE).await;
    clock.advance_ms(60_000);
    let mut phone = Client::new(state.clone());
    let page = sign_in(&mut phone, CLAIRE, PASSWORD, &secret).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(laptop.get("/home").await.status, StatusCode::OK);
    assert_eq!(phone.get("/home").await.status, StatusCode::OK);

    // From the account page on the phone: sign out everywhere.
    let page = phone.get("/account/passkeys").await;
    assert!(
        page.body
            .contains(r#"action="/account/sign-out-everywhere""#)
    );
    let old_phone = phone.cookie.clone();
    let page = phone
        .post("/account/sign-out-everywhere", &[("csrf", &page.csrf())])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location.as_deref(), Some("/sign-in?signed_out=1"));

    // The laptop's cookie is dead on the server, and so is the phone's.
    for client in [&mut laptop, &mut phone] {
        let page = client.get("/home").await;
        assert_eq!(page.location.as_deref(), Some("/sign-in"));
    }
    let mut replay = Client::new(state.clone());
    replay.cookie = old_phone;
    assert_eq!(
        replay.get("/home").await.location.as_deref(),
        Some("/sign-in")
    );
    // Claire is told by email.
    let mail = mail_to(&worker, &sink, CLAIRE).await;
    let last = mail.last().expect("a notice to Claire");
    assert!(
        last.text()
            .contains("Every session was signed out on your Candidate Shield account."),
        "{}",
        last.text()
    );
}
