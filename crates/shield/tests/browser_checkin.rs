//! Journey 6 in a real headless Chromium at phone size: a candidate out canvassing alone
//! registers the activity, starts a check-in session from it, taps "I'm safe" and ends the
//! session with her PIN; her named police contact finds the activity on the force's month
//! calendar (collapsed to a list on the phone) and in the iCalendar feed, which the test
//! fetches over HTTP and parses strictly.

mod common;

use std::time::Duration;

use common::ics::parse_ics;
use fantoccini::Locator;
use shield_testkit::page::{arrive, arrive_at, click, fill, fits_sideways, text as body_text};
use shield_testkit::{Browser, TestDb, both_backends};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

both_backends!(journey_lone_canvassing_check_in_on_a_phone);

const PLACE: &str = "Elm Road and Mill Lane, Harrowfield (odd numbers)";

/// A plain HTTP/1.1 GET on loopback: the feed is fetched as a calendar app would, with no
/// cookie. Returns (status line, body).
async fn http_get(port: u16, path: &str) -> (String, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    let status = head.lines().next().unwrap_or_default().to_owned();
    (status, raw[split + 4..].to_vec())
}

/// Sets a `datetime-local` field by script: typing into one is locale-dependent in Chromium.
async fn set_value(c: &fantoccini::Client, id: &str, value: &str) {
    c.execute(
        "document.getElementById(arguments[0]).value = arguments[1];",
        vec![id.into(), value.into()],
    )
    .await
    .unwrap();
}

async fn journey_lone_canvassing_check_in_on_a_phone(db: TestDb) {
    let app = common::live::LiveApp::start(&db).await;
    let (state, people, base) = (&app.state, &app.people, &app.base);
    let browser = Browser::phone().await;
    let c = &browser.client;
    shield_testkit::browser::webauthn::add_authenticator(c).await;

    // Claire enrols with a password and an authenticator app.
    common::live::enrol_with_password_and_totp(c, base, &people[0].link_path).await;
    arrive(c, "dl.contacts").await;

    // Her PINs first, on the check-in page.
    c.goto(&format!("{base}/check-in")).await.unwrap();
    fill(c, "#pin", "2468").await;
    fill(c, "#duress", "1357").await;
    click(c, "#save-pins").await;
    arrive(c, "#start-session").await;

    // She registers tomorrow evening's canvassing, alone.
    let tomorrow =
        shield_domain::uktime::to_local(chrono::Utc::now().timestamp_millis() + 24 * 3_600_000)
            .date();
    let starts = format!("{}T18:00", tomorrow.format("%Y-%m-%d"));
    let ends = format!("{}T20:00", tomorrow.format("%Y-%m-%d"));
    c.goto(&format!("{base}/activities")).await.unwrap();
    arrive(c, "#register-activity").await;
    c.find(Locator::Css("#kind option[value='canvassing']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    set_value(c, "starts", &starts).await;
    set_value(c, "ends", &ends).await;
    fill(c, "#place", PLACE).await;
    fill(c, "#people", "1").await;
    click(c, "#alone").await;
    click(c, "#register-activity").await;
    arrive(c, ".panel").await;
    let text = body_text(c).await;
    assert!(
        text.contains("Activity registered") && text.contains(PLACE),
        "{text}"
    );
    fits_sideways(c, "the activities page").await;

    // She starts a check-in session from it: what and where are filled in for her.
    c.find(Locator::LinkText(
        "Start a check-in session for this activity",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let place = arrive(c, "#place").await;
    assert_eq!(place.prop("value").await.unwrap().as_deref(), Some(PLACE));
    click(c, "#start-session").await;
    arrive(c, "#safe").await;
    let due = arrive(c, "#next-due-clock").await.text().await.unwrap();
    assert!(
        chrono::NaiveTime::parse_from_str(&due, "%H:%M").is_ok(),
        "a clock time: {due}"
    );
    let text = body_text(c).await;
    assert!(
        text.contains("Check in by") && text.contains(PLACE),
        "{text}"
    );
    fits_sideways(c, "the session page").await;

    // "I'm safe": one tap; the session is still active.
    click(c, "#safe").await;
    for _ in 0..100 {
        if c.current_url().await.unwrap().query() == Some("safe=1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(arrive(c, "#status").await.text().await.unwrap(), "Active");

    // She ends it with her PIN.
    fill(c, "#pin", "2468").await;
    click(c, "#end-session").await;
    arrive(c, "#ended").await;
    assert!(body_text(c).await.contains("Session ended"));
    let user = state
        .store
        .user_auth_by_email("claire.whitfield@civic.example")
        .await
        .unwrap()
        .expect("Claire's account")
        .id;
    let candidate = state
        .store
        .actor(user, chrono::Utc::now().timestamp_millis())
        .await
        .unwrap()
        .unwrap()
        .candidate
        .unwrap();
    let sessions = state.store.checkin_sessions(candidate, 5).await.unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].status, shield_store::CheckinStatus::Ended);
    assert!(
        sessions[0].last_safe_at_ms > sessions[0].started_at_ms,
        "the tap was recorded"
    );

    // Her named contact accepts his invitation with a passkey…
    c.goto(&format!("{base}/account/passkeys")).await.unwrap();
    click(c, "#sign-out").await;
    arrive_at(c, "/sign-in").await;
    c.goto(&format!("{base}{}", people[1].link_path))
        .await
        .unwrap();
    click(c, "#create-passkey").await;
    arrive_at(c, "/reports").await;

    // …and finds the canvassing on the force's month calendar, a list on his phone.
    c.goto(&format!(
        "{base}/activities/force/calendar?month={}",
        tomorrow.format("%Y-%m")
    ))
    .await
    .unwrap();
    arrive(c, "#calendar").await;
    let link = c
        .find(Locator::LinkText(
            "18:00–20:00 Canvassing: Claire Whitfield",
        ))
        .await
        .expect("the activity is on the calendar");
    assert!(link.is_displayed().await.unwrap());
    // On a phone the grid collapses: the table and its cells are blocks, the weekday
    // header is visually hidden, and days with nothing on are not shown.
    let layout = c
        .execute(
            "const t = document.getElementById('calendar');
             const empty = t.querySelector('td.calendar__empty');
             return [getComputedStyle(t).display,
                     getComputedStyle(t.querySelector('thead')).position,
                     empty ? getComputedStyle(empty).display : 'none'];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(layout, serde_json::json!(["block", "absolute", "none"]));
    fits_sideways(c, "the month calendar").await;
    link.click().await.unwrap();
    arrive(c, "dl.summary-list").await;
    let text = body_text(c).await;
    assert!(
        text.contains(PLACE) && text.contains("Claire Whitfield"),
        "{text}"
    );
    assert!(c.find(Locator::Css("#cancel-activity")).await.is_err());

    // The calendar feed: made on /calendar, fetched without a session, parsed strictly.
    c.goto(&format!("{base}/calendar")).await.unwrap();
    click(c, "#create").await;
    let feed = arrive(c, "#feed-url").await.text().await.unwrap();
    let (status, body) = http_get(app.port, &feed).await;
    assert!(status.contains("200"), "{status}");
    let events = parse_ics(&body);
    let event = events
        .iter()
        .find(|e| e["SUMMARY"] == "Canvassing: Claire Whitfield")
        .unwrap_or_else(|| panic!("not in the feed: {events:?}"));
    assert_eq!(event["LOCATION"], PLACE);
    assert_eq!(event["STATUS"], "CONFIRMED");
    let start = chrono::NaiveDateTime::parse_from_str(&event["DTSTART"], "%Y%m%dT%H%M%SZ")
        .unwrap()
        .and_utc()
        .timestamp_millis();
    assert_eq!(shield_domain::uktime::clock_time(start), "18:00");
    assert!(
        event["DESCRIPTION"].contains("Anyone alone: yes"),
        "{event:?}"
    );

    browser.close().await;
    app.shut_down().await;
}
