//! Journey 4 in a real headless Chromium at phone size: a candidate reports something
//! happening now; the named contact's email reaches a loopback SMTP server; the contact signs
//! in with a passkey, acknowledges and replies; the candidate sees the reply and the status.

mod common;

use std::time::{Duration, Instant};

use fantoccini::Locator;
use shield_testkit::page::{arrive, arrive_at, click, fill, fits_sideways, text as body_text};
use shield_testkit::{Browser, SmtpSink, TestDb, both_backends};

both_backends!(journey_p1_report_reaches_named_contact);

const LEAD: &str = "helen.grant@thamesvalley.police.example";
const CLAIRE: &str = "claire.whitfield@civic.example";
const WHAT: &str = "A man is shouting outside my campaign office and says he has a knife";

async fn wait_for_mail(sink: &SmtpSink, to: &str, subject: &str) -> Duration {
    let start = Instant::now();
    loop {
        let found = sink.messages().iter().any(|m| {
            m.recipients.iter().any(|r| r == to)
                && m.header("subject").is_some_and(|s| s.contains(subject))
        });
        if found {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no {subject:?} email to {to}: got {:?}",
            sink.messages()
                .iter()
                .map(|m| (m.recipients.clone(), m.header("subject")))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn journey_p1_report_reaches_named_contact(db: TestDb) {
    let app = common::live::LiveApp::start(&db).await;
    let (sink, people, base) = (&app.sink, &app.people, &app.base);
    let browser = Browser::phone().await;
    let c = &browser.client;
    shield_testkit::browser::webauthn::add_authenticator(c).await;

    // Claire enrols with a password and an authenticator app.
    let secret = common::live::enrol_with_password_and_totp(c, base, &people[0].link_path).await;

    // Home → Report a concern: the 999 warning and the "worth reporting" guidance stand by it.
    click(c, "#report-a-concern").await;
    arrive_at(c, "/reports/new").await;
    let text = body_text(c).await;
    assert!(
        text.contains("Are you in immediate danger? Call 999"),
        "{text}"
    );
    assert!(text.contains("Is this worth reporting? Yes."), "{text}");
    // Sent empty: the error summary names what is missing, nothing is stored.
    click(c, "main form button[type='submit']").await;
    arrive(c, ".error-summary").await;
    let text = body_text(c).await;
    assert!(
        text.contains("Select what happened") && text.contains("Enter what happened"),
        "{text}"
    );
    assert!(text.contains("Call 999"), "{text}");
    click(c, "#category-harassment_in_person").await;
    click(c, "#happening_now-yes").await;
    fill(c, "#what", WHAT).await;
    fill(c, "#who", "@angry_voter_77").await;
    click(c, "main form button[type='submit']").await;
    arrive(c, ".panel").await;
    let submitted = Instant::now();
    let text = body_text(c).await;
    assert!(
        text.contains("Report sent") && text.contains("R-00001"),
        "{text}"
    );
    assert!(
        text.contains("Happening now"),
        "the reasons are shown: {text}"
    );
    let priority = arrive(c, "#report-priority").await.text().await.unwrap();
    assert_eq!(priority, "P1");

    // The named contact's email reaches the loopback SMTP server, content-free.
    let took = wait_for_mail(sink, LEAD, "P1").await;
    eprintln!(
        "report accepted → lead's email received: {} ms (plus {} ms since the page loaded)",
        took.as_millis(),
        submitted
            .elapsed()
            .as_millis()
            .saturating_sub(took.as_millis())
    );
    let mail = sink
        .messages()
        .into_iter()
        .find(|m| {
            m.recipients.iter().any(|r| r == LEAD)
                && m.header("subject").is_some_and(|s| s.contains("P1"))
        })
        .unwrap();
    assert!(
        !mail.text().contains("knife") && !mail.text().contains("Claire"),
        "{}",
        mail.text()
    );
    assert!(mail.text().contains("R-00001"), "{}", mail.text());

    // Claire signs out; the contact accepts her invitation with a passkey and lands on her queue.
    c.goto(&format!("{base}/account/passkeys")).await.unwrap();
    click(c, "#sign-out").await;
    arrive_at(c, "/sign-in").await;
    c.goto(&format!("{base}{}", people[1].link_path))
        .await
        .unwrap();
    click(c, "#create-passkey").await;
    arrive_at(c, "/reports").await;
    let text = body_text(c).await;
    assert!(text.contains("R-00001") && text.contains("P1"), "{text}");
    c.find(Locator::LinkText("R-00001"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrive(c, "#acknowledge").await;
    let text = body_text(c).await;
    assert!(text.contains(WHAT), "the contact reads the report: {text}");
    click(c, "#acknowledge button").await;
    arrive(c, "#status-select").await;
    assert_eq!(
        arrive(c, "#report-status").await.text().await.unwrap(),
        "Acknowledged"
    );
    fill(
        c,
        "#body",
        "Officers are on their way. Stay inside and lock the door.",
    )
    .await;
    click(c, "form[action$='/messages'] button").await;
    arrive(c, ".message").await;
    let text = body_text(c).await;
    assert!(
        text.contains("Acknowledged by Inspector Helen Grant"),
        "{text}"
    );

    // Claire is told, without content, and signs back in to read the reply.
    wait_for_mail(sink, CLAIRE, "message").await;
    for m in sink.messages() {
        assert!(
            !m.text().contains("Officers are on their way"),
            "{}",
            m.text()
        );
    }
    c.goto(&format!("{base}/account/passkeys")).await.unwrap();
    click(c, "#sign-out").await;
    arrive_at(c, "/sign-in").await;
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
    arrive(c, "dl.contacts").await;
    let text = body_text(c).await;
    assert!(
        text.contains("Your open reports") && text.contains("Acknowledged"),
        "{text}"
    );
    c.find(Locator::LinkText("R-00001"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrive(c, ".message").await;
    let text = body_text(c).await;
    assert!(
        text.contains("Officers are on their way. Stay inside and lock the door."),
        "{text}"
    );
    assert_eq!(
        arrive(c, "#report-status").await.text().await.unwrap(),
        "Acknowledged"
    );
    assert!(
        c.find(Locator::Css("#acknowledge")).await.is_err(),
        "the candidate cannot act as police"
    );
    // Nothing overflows sideways on a phone.
    fits_sideways(c, "the report page").await;

    browser.close().await;
    app.shut_down().await;
}
