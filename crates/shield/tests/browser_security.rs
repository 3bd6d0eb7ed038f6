//! Journey 5 in a real headless Chromium: a candidate asks for additional security; the named
//! police contact assesses the risk (the form derives the rating and says why); a coordinator
//! decides with reasons; the candidate is emailed (content-free) and reads the decision and
//! the reasons.

mod common;

use std::time::{Duration, Instant};

use fantoccini::Locator;
use shield_domain::security::Factor;
use shield_testkit::page::{arrive, arrive_at, click, fill, text as body_text};
use shield_testkit::{Browser, SmtpSink, TestDb, both_backends};

both_backends!(journey_additional_security_request_decided);

const CLAIRE: &str = "claire.whitfield@civic.example";
const LEAD: &str = "helen.grant@thamesvalley.police.example";
const WHY: &str = "A man who sends me threats says he will come to the hustings";
const RATIONALE: &str = "Fixated sender, escalating, has named the venue";
const REASONS: &str =
    "Officers will attend the hustings on 20 June. We will review before polling day.";

async fn wait_for_mail(sink: &SmtpSink, to: &str, subject: &str) {
    let start = Instant::now();
    while !sink.messages().iter().any(|m| {
        m.recipients.iter().any(|r| r == to)
            && m.header("subject").is_some_and(|s| s.contains(subject))
    }) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no {subject:?} email to {to}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn sign_out(c: &fantoccini::Client, base: &str) {
    c.goto(&format!("{base}/account/passkeys")).await.unwrap();
    click(c, "#sign-out").await;
    arrive_at(c, "/sign-in").await;
}

async fn journey_additional_security_request_decided(db: TestDb) {
    let app = common::live::LiveApp::start(&db).await;
    let (sink, people, base) = (&app.sink, &app.people, &app.base);
    let browser = Browser::phone().await;
    let c = &browser.client;
    shield_testkit::browser::webauthn::add_authenticator(c).await;

    // Claire enrols with a password and an authenticator app.
    let secret = common::live::enrol_with_password_and_totp(c, base, &people[0].link_path).await;

    // A new candidate lands on her security plan; from home: Additional security → ask.
    // Sent empty, the error summary names the fields.
    arrive_at(c, "/plan").await;
    c.goto(&format!("{base}/home")).await.unwrap();
    click(c, "#additional-security").await;
    arrive_at(c, "/security-requests/mine").await;
    click(c, "#ask-for-security").await;
    arrive_at(c, "/security-requests/new").await;
    click(c, "#send-request").await;
    arrive(c, ".error-summary").await;
    let text = body_text(c).await;
    assert!(
        text.contains("Select what kind of security you need")
            && text.contains("Enter why you need it"),
        "{text}"
    );
    click(c, "#kind-police_presence").await;
    fill(c, "#period", "The hustings at the town hall on 20 June").await;
    fill(c, "#reasons", WHY).await;
    click(c, "#send-request").await;
    arrive(c, "#timeline").await;
    let text = body_text(c).await;
    assert!(
        text.contains("SR-000001") && text.contains("Waiting for a risk assessment"),
        "{text}"
    );
    wait_for_mail(sink, LEAD, "needs assessing").await;
    sign_out(c, base).await;

    // The Thames Valley lead enrols with a passkey, finds the request and assesses it.
    c.goto(&format!("{base}{}", people[1].link_path))
        .await
        .unwrap();
    click(c, "#create-passkey").await;
    arrive_at(c, "/reports").await;
    click(c, "#security-requests-link").await;
    arrive(c, "#requests").await;
    c.find(Locator::LinkText("SR-000001"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrive(c, "#request-reasons").await;
    assert!(body_text(c).await.contains(WHY), "the police read why");
    click(c, "#assess").await;
    arrive(c, "#save-assessment").await;
    for f in Factor::ALL {
        click(c, &format!("#{}-2", f.key())).await;
    }
    click(c, "#preview").await;
    let rating = arrive(c, "#derived-rating").await.text().await.unwrap();
    assert_eq!(rating, "Very high", "{}", body_text(c).await);
    assert!(body_text(c).await.contains("Threat factors total 10 of 15"));
    fill(c, "#rationale", RATIONALE).await;
    click(c, "#recommendation-approve_in_part").await;
    click(c, "#measure_police_presence").await;
    click(c, "#save-assessment").await;
    assert_eq!(
        arrive(c, "#rating").await.text().await.unwrap(),
        "Very high"
    );
    assert!(
        c.find(Locator::Css("#decide")).await.is_err(),
        "police do not decide"
    );
    sign_out(c, base).await;

    // The coordinator enrols with a passkey and decides, with reasons for the candidate.
    c.goto(&format!("{base}{}", people[2].link_path))
        .await
        .unwrap();
    click(c, "#create-passkey").await;
    arrive_at(c, "/reports").await;
    click(c, "#security-requests-link").await;
    arrive(c, "#requests").await;
    // The coordinator filters to what waits for a decision.
    c.goto(&format!(
        "{base}/security-requests?status=awaiting_decision"
    ))
    .await
    .unwrap();
    arrive(c, "#requests").await;
    c.find(Locator::LinkText("SR-000001"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(c, "#decide").await;
    arrive(c, "#save-decision").await;
    assert!(
        body_text(c).await.contains(RATIONALE),
        "the decider reads the rationale"
    );
    click(c, "#decision-approve_in_part").await;
    fill(c, "#reasons", REASONS).await;
    c.execute(
        "document.getElementById('review').value = '2099-01-01';",
        vec![],
    )
    .await
    .unwrap();
    click(c, "#save-decision").await;
    assert_eq!(
        arrive(c, "#decision-outcome").await.text().await.unwrap(),
        "Approved in part"
    );
    wait_for_mail(sink, CLAIRE, "a decision on your request").await;
    for m in sink.messages() {
        assert!(
            !m.text().contains(REASONS) && !m.text().contains(WHY),
            "{}",
            m.text()
        );
    }
    sign_out(c, base).await;

    // Claire signs back in and reads the decision and the reasons, not the rationale.
    fill(c, "#email", CLAIRE).await;
    fill(c, "#password", "marmalade orbit kettle").await;
    click(c, "main button[type='submit']").await;
    arrive(c, "#code").await;
    let step = shield_domain::session::totp_step(chrono::Utc::now().timestamp_millis());
    while shield_domain::session::totp_step(chrono::Utc::now().timestamp_millis()) == step {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let code = shield_web::auth::totp::code_at(&secret, chrono::Utc::now().timestamp_millis());
    fill(c, "#code", &code).await;
    click(c, "main button[type='submit']").await;
    click(c, "#additional-security").await;
    arrive_at(c, "/security-requests/mine").await;
    assert!(body_text(c).await.contains("Approved in part"));
    c.find(Locator::LinkText("SR-000001"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(
        arrive(c, "#decision-outcome").await.text().await.unwrap(),
        "Approved in part"
    );
    let reasons = arrive(c, "#decision-reasons").await.text().await.unwrap();
    assert_eq!(reasons, REASONS);
    let text = body_text(c).await;
    assert!(text.contains("1 January 2099"), "{text}");
    assert!(
        !text.contains(RATIONALE) && !text.contains("Very high"),
        "{text}"
    );
    assert!(text.contains("Ask for this to be looked at again"));

    browser.close().await;
    app.shut_down().await;
}
