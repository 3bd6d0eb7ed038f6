//! Journey 3 in a real headless Chromium at phone size: a new candidate enrols and lands on
//! their personal security plan, completes steps and watches the readiness score move,
//! registers for a briefing their force contact scheduled, and the invitation email reaches a
//! loopback SMTP server with an iCalendar attachment that a real parser reads.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use shield_domain::ForceCode;
use shield_domain::audit::{AuditAction, AuditEvent, AuditOutcome};
use shield_testkit::page::{arrive, arrive_at, click, fill, text as body_text};
use shield_testkit::{Browser, SmtpSink, TestDb, both_backends};

both_backends!(journey_new_candidate_plan_and_briefing);

const CLAIRE: &str = "claire.whitfield@civic.example";
const HELEN: &str = "helen.grant@thamesvalley.police.example";
const TITLE: &str = "Staying safe on the campaign trail";

async fn score(c: &fantoccini::Client) -> u32 {
    arrive(c, "#score")
        .await
        .text()
        .await
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

async fn journey_new_candidate_plan_and_briefing(db: TestDb) {
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let sink = SmtpSink::start().await;
    let state = shield_web::AppState::new(db.store.clone());
    let mut config = shield::config::Config::load_from(Default::default(), |_| None).unwrap();
    config.smtp_url = Some(format!("smtp://127.0.0.1:{}", sink.port()).into());
    let worker = Arc::new(
        shield::mail::worker(&config, &state, "http://localhost")
            .unwrap()
            .unwrap(),
    );
    let state = state.with_worker(worker.handle());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = {
        let worker = Arc::clone(&worker);
        tokio::spawn(async move {
            worker
                .run_until(async {
                    let _ = stopped.await;
                })
                .await;
        })
    };
    let people = shield::demo::invite_people(&state).await.unwrap();

    // Helen Grant, Thames Valley's lead contact, has scheduled a briefing in three days.
    let helen = db.store.user_auth_by_email(HELEN).await.unwrap().unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let starts = now + 3 * 86_400_000;
    let briefing = db
        .store
        .create_briefing(
            &shield_store::NewBriefing {
                title: TITLE.into(),
                force: Some(ForceCode::parse("E23000029").unwrap()),
                online_url: "https://meet.example/tvp-briefing".into(),
                venue: "Kidlington police station, Oxford Road".into(),
                starts_at_ms: starts,
                ends_at_ms: starts + 3_600_000,
                capacity: 30,
                description: "What to expect while campaigning, and what to report.".into(),
                materials: vec!["https://example.org/briefing-slides.pdf".into()],
                created_by: helen.id,
            },
            now,
            &AuditEvent::new(
                AuditAction::parse("briefing_created").unwrap(),
                AuditOutcome::Success,
                chrono::Utc::now(),
            ),
        )
        .await
        .unwrap();

    let (tx, rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(shield::serve::serve(
        state.clone(),
        "127.0.0.1:0".parse().unwrap(),
        Some(tx),
    ));
    let addr = rx.await.unwrap();
    let base = format!("http://localhost:{}", addr.port());
    let browser = Browser::phone().await;
    let c = &browser.client;

    // Claire enrols with a password and an authenticator app…
    c.goto(&format!("{base}{}", people[0].link_path))
        .await
        .unwrap();
    fill(c, "#password", "marmalade orbit kettle").await;
    fill(c, "#confirm", "marmalade orbit kettle").await;
    click(c, "main button[type='submit']").await;
    let key = arrive(c, "#totp-key").await.text().await.unwrap();
    let secret = shield_web::auth::totp::secret_from_text(&key).unwrap();
    let code = shield_web::auth::totp::code_at(&secret, chrono::Utc::now().timestamp_millis());
    fill(c, "#code", &code).await;
    click(c, "main button[type='submit']").await;
    arrive(c, "#recovery-codes").await;
    c.find(Locator::LinkText("I have saved my codes: continue"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // …and lands on her plan: eleven steps, nothing done yet.
    arrive_at(c, "/plan").await;
    let text = body_text(c).await;
    assert!(text.contains("Your personal security plan"), "{text}");
    assert!(text.contains("Attend a security briefing"), "{text}");
    assert_eq!(
        c.find_all(Locator::Css(".task-list__item"))
            .await
            .unwrap()
            .len(),
        11
    );
    assert_eq!(score(c).await, 0);

    // She turns on 2-step verification: 1 of 11 steps, 9%.
    click(c, "#step-two-step a").await;
    arrive_at(c, "/plan/two-step").await;
    assert!(body_text(c).await.contains("authenticator app"));
    click(c, "#status-done").await;
    click(c, "#save-step").await;
    arrive_at(c, "/plan").await;
    assert_eq!(score(c).await, 9);
    let status = arrive(c, "#step-two-step .task-list__status")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(status, "Completed");

    // Home security done (2 of 11: 18%); keeping her address off the papers does not apply to
    // her, she says (2 of 10: 20%).
    click(c, "#step-home-security a").await;
    click(c, "#status-done").await;
    click(c, "#save-step").await;
    arrive_at(c, "/plan").await;
    assert_eq!(score(c).await, 18);
    click(c, "#step-home-address a").await;
    click(c, "#status-not_applicable").await;
    click(c, "#save-step").await;
    arrive_at(c, "/plan").await;
    assert_eq!(score(c).await, 20);

    // The briefing: from the plan's step, to the list, to the briefing, and register.
    click(c, "#step-attend-briefing a").await;
    c.find(Locator::LinkText("Register for a briefing"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrive_at(c, "/briefings").await;
    c.find(Locator::LinkText(TITLE))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrive_at(c, &format!("/briefings/{briefing}")).await;
    let text = body_text(c).await;
    assert!(text.contains("Kidlington police station"), "{text}");
    click(c, "#register").await;
    arrive(c, "#registered").await;
    assert_eq!(
        arrive(c, "#my-status").await.text().await.unwrap(),
        "Registered"
    );

    // The invitation reaches the SMTP sink with a calendar attachment a parser accepts.
    let start = Instant::now();
    let mail = loop {
        let found = sink.messages().into_iter().find(|m| {
            m.recipients.iter().any(|r| r == CLAIRE)
                && m.header("subject")
                    .is_some_and(|s| s.contains("registered for a security briefing"))
        });
        if let Some(m) = found {
            break m;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no invitation: {:?}",
            sink.messages()
                .iter()
                .map(|m| (m.recipients.clone(), m.header("subject")))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let parsed = mailparse::parse_mail(mail.data.as_bytes()).unwrap();
    assert_eq!(parsed.ctype.mimetype, "multipart/mixed");
    let part = parsed
        .subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/calendar")
        .expect("a text/calendar attachment");
    let disposition = part.get_content_disposition();
    assert_eq!(
        disposition.params.get("filename").map(String::as_str),
        Some("briefing.ics")
    );
    let ics = part.get_body().unwrap();
    assert!(ics.contains("\r\n"), "CRLF line ends");
    let mut calendars = ical::IcalParser::new(std::io::BufReader::new(ics.as_bytes()));
    let calendar = calendars.next().expect("a VCALENDAR").unwrap();
    assert!(calendars.next().is_none(), "one VCALENDAR");
    let value = |props: &[ical::property::Property], name: &str| {
        props
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.clone())
    };
    assert_eq!(
        value(&calendar.properties, "VERSION").as_deref(),
        Some("2.0")
    );
    assert_eq!(
        value(&calendar.properties, "METHOD").as_deref(),
        Some("REQUEST")
    );
    assert_eq!(calendar.events.len(), 1, "one VEVENT");
    let event = &calendar.events[0];
    assert_eq!(value(&event.properties, "SUMMARY").as_deref(), Some(TITLE));
    assert_eq!(
        value(&event.properties, "UID"),
        Some(format!("briefing-{briefing}@candidate-shield"))
    );
    let utc = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .unwrap()
            .format("%Y%m%dT%H%M%SZ")
            .to_string()
    };
    assert_eq!(value(&event.properties, "DTSTART"), Some(utc(starts)));
    assert_eq!(
        value(&event.properties, "DTEND"),
        Some(utc(starts + 3_600_000))
    );
    assert!(value(&event.properties, "DTSTAMP").is_some());
    assert!(
        value(&event.properties, "LOCATION")
            .unwrap()
            .contains("Kidlington police station")
    );
    assert_eq!(
        value(&event.properties, "URL").as_deref(),
        Some("https://meet.example/tvp-briefing")
    );
    assert!(
        value(&event.properties, "ORGANIZER")
            .unwrap()
            .ends_with(HELEN)
    );
    // The body says only where to look.
    let body = parsed.subparts[0].get_body().unwrap();
    assert!(
        body.contains(&format!("http://localhost/briefings/{briefing}")),
        "{body}"
    );
    assert!(
        !body.contains("Kidlington"),
        "details stay in the service: {body}"
    );

    browser.close().await;
    let _ = stop.send(());
    running.await.unwrap();
    server.abort();
}
