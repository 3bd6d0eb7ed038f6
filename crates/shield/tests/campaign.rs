//! Campaigning safely (journey 6): lone-working check-in sessions through the router, the
//! store and a real outbox worker talking SMTP to a sink on loopback, with an injected clock.
//! A missed check-in, the duress PIN and the panic button each raise a P1 report that reaches
//! the named lead contact; "I'm safe" and a normal end raise nothing; an alarm survives a
//! restart and two workers raise it once.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::accounts::{activate, csrf_of};
use common::mail::{addressed, is_about, next_mail, pairs};
use common::{Client, enrol_with_password, state};
use serde_json::json;
use shield_domain::report::{Category, Priority, Status, Tier};
use shield_domain::{CandidateId, Clock, ManualClock};
use shield_jobs::{DefaultTemplates, SmtpSender, Worker};
use shield_store::{CheckinStatus, ReportFilter, ReportRecord};
use shield_testkit::{SmtpSink, TestDb, both_backends};
use shield_web::AppState;
use shield_web::invitations::InvitationOpener;

both_backends!(
    missed_check_in_alerts_named_contact,
    duress_pin_raises_silent_alarm,
    panic_button_raises_p1_at_once,
    alarm_survives_restart_and_two_workers_raise_it_once,
    reminder_before_each_check_in_once_across_workers,
    wrong_pins_lock_the_session_and_raise_an_alarm,
    a_session_buddy_is_told_instead_of_the_standing_one,
);

const MINUTE: i64 = 60_000;

const TV_LEAD: &str = "helen.grant@thamesvalley.police.example";
const TV_DEPUTY: &str = "mark.ward@thamesvalley.police.example";
const HANTS_LEAD: &str = "joanne.price@hampshire.police.example";
const NEEDS_ATTENTION_P1: &str = "Candidate Shield: a P1 report needs you";
const INFORMED_P1: &str = "Candidate Shield: a P1 report in a constituency you share";
const ESCALATED_P1: &str = "Candidate Shield: ESCALATED P1 report not yet acknowledged";

const CLAIRE: &str = "claire.whitfield@civic.example";
const BUDDY: &str = "sam.whitfield@family.example";
const BUDDY_P1: &str = "Candidate Shield: Claire Whitfield may need help";
const REMINDER: &str = "Candidate Shield: check in by";

const PIN: &str = "2468";
const DURESS: &str = "1357";

// ----- helpers -------------------------------------------------------------------------------

/// The worker `shield::mail::worker` builds (check-in alarms and deadlines), pointed at the sink.
fn mail_worker(id: &str, state: &AppState, sink: &SmtpSink) -> Worker {
    let url = secrecy::SecretString::from(format!("smtp://127.0.0.1:{}", sink.port()));
    let smtp = shield::mail::smtp_config(&url, "Candidate Shield <alerts@shield.example>").unwrap();
    Worker::new(
        id,
        state.store.clone(),
        Arc::new(SmtpSender::new(&smtp).unwrap()),
        Arc::new(DefaultTemplates::new("http://localhost")),
        state.clock.clone(),
    )
    .with_secret_opener(Arc::new(InvitationOpener::new(state.keys.clone())))
    .with_deadlines(shield::mail::timers(state))
}

async fn candidate_of(client: &Client) -> CandidateId {
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
        .actor(user, client.state.clock.now_ms())
        .await
        .unwrap()
        .unwrap()
        .candidate
        .unwrap()
}

/// Everything a test needs: Claire signed in with her PINs set, the Thames Valley lead and
/// the coordinator active, a worker with the invitations already delivered.
struct World {
    state: AppState,
    clock: ManualClock,
    claire: Client,
    sink: SmtpSink,
    worker: Worker,
    seen: usize,
}

async fn world(db: &TestDb) -> World {
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let (state, clock) = state(db.store.clone());
    let people = shield::demo::invite_people(&state).await.unwrap();
    let mut claire = Client::new(state.clone());
    enrol_with_password(&mut claire, &people[0].link_path).await;
    activate(&state, &people[1].link_path).await;
    activate(&state, &people[2].link_path).await;
    let sink = SmtpSink::start().await;
    let worker = mail_worker("instance-1", &state, &sink);
    let tick = worker.tick().await.unwrap();
    assert_eq!((tick.claimed, tick.sent), (3, 3), "{tick:?}");
    let mut seen = 0;
    next_mail(&sink, &mut seen, 3).await;

    // PINs first: the page asks for them, then offers a session.
    let page = claire.get("/check-in").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("choose two PINs"), "{}", page.text());
    let csrf = page.csrf();
    let same = claire
        .post(
            "/check-in/pins",
            &[("csrf", &csrf), ("pin", PIN), ("duress", PIN)],
        )
        .await;
    assert_eq!(same.status, StatusCode::BAD_REQUEST);
    assert!(same.text().contains("must be different"));
    let set = claire
        .post(
            "/check-in/pins",
            &[("csrf", &csrf), ("pin", PIN), ("duress", DURESS)],
        )
        .await;
    assert_eq!(set.location.as_deref(), Some("/check-in"), "{}", set.body);
    let page = claire.get("/check-in").await;
    assert!(page.text().contains("Start a session"), "{}", page.text());
    World {
        state,
        clock,
        claire,
        sink,
        worker,
        seen,
    }
}

/// Claire names her buddy on the check-in page (a recent sign-in: it is a sensitive detail).
async fn set_buddy(claire: &mut Client) {
    let page = claire.get("/check-in").await;
    assert!(page.text().contains("Choose a buddy"), "{}", page.text());
    let form = claire.get("/check-in/buddy").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = form.csrf();
    // Bad input: the summary names each field, and nothing is saved.
    let bad = claire
        .post(
            "/check-in/buddy",
            &[
                ("csrf", &csrf),
                ("buddy_name", ""),
                ("buddy_email", "sam"),
                ("buddy_phone", "12"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    for message in [
        "Enter your buddy's name",
        "Enter your buddy's email",
        "UK phone number",
    ] {
        assert!(bad.text().contains(message), "{}", bad.text());
    }
    assert!(bad.body.contains("href=\"#buddy_email\""), "{}", bad.body);
    let saved = claire
        .post(
            "/check-in/buddy",
            &[
                ("csrf", &csrf),
                ("buddy_name", "Sam Whitfield"),
                ("buddy_email", BUDDY),
                ("buddy_phone", "07700 900456"),
            ],
        )
        .await;
    assert_eq!(
        saved.location.as_deref(),
        Some("/check-in?buddy=saved"),
        "{}",
        saved.body
    );
    let page = claire.get("/check-in?buddy=saved").await;
    assert!(
        page.text().contains("Your buddy is saved"),
        "{}",
        page.text()
    );
    // Sealed at rest: the stored value is not the plaintext.
    let candidate = candidate_of(claire).await;
    let sealed = claire
        .state
        .store
        .checkin_buddy(candidate)
        .await
        .unwrap()
        .unwrap();
    assert!(!String::from_utf8_lossy(&sealed).contains("Sam"));
    // The form shows it back to her, and so does the API (which checks input the same way).
    assert!(claire.get("/check-in/buddy").await.body.contains(BUDDY));
    let api = claire.get("/api/check-ins/buddy").await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    let api: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(api["buddy"]["phone"], "07700900456");
    let bad = claire
        .post_json(
            "/api/check-ins/buddy",
            &csrf,
            &json!({ "name": "Sam Whitfield", "email": "not-an-email", "phone": "07700 900456" }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("buddy_email"), "{}", bad.body);
}

/// Starts a session through the form; returns its id.
async fn start_session(claire: &mut Client, interval: &str) -> i64 {
    let csrf = csrf_of(claire).await;
    let page = claire
        .post(
            "/check-in",
            &[
                ("csrf", &csrf),
                ("kind", "canvassing"),
                ("place", "Elm Road and Mill Lane, Harrowfield (odd numbers)"),
                ("interval", interval),
                ("hours", "2"),
            ],
        )
        .await;
    let location = page.location.expect("redirects to the session");
    let id: i64 = location.trim_start_matches("/check-in/").parse().unwrap();
    let shown = claire.get(&location).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.text().contains("I'm safe"), "{}", shown.text());
    assert!(shown.text().contains("Elm Road and Mill Lane"));
    id
}

async fn alarm_reports(state: &AppState, candidate: CandidateId) -> Vec<ReportRecord> {
    let list = state
        .store
        .reports(&ReportFilter {
            candidate: Some(candidate),
            ..ReportFilter::default()
        })
        .await
        .unwrap();
    let mut out = Vec::new();
    for r in list {
        if r.category == Category::LoneWorkingAlarm {
            out.push(state.store.report(r.id).await.unwrap().unwrap());
        }
    }
    out
}

fn details(state: &AppState, r: &ReportRecord) -> serde_json::Value {
    let plain = shield_crypto::open_string(
        &state.keys,
        shield_crypto::Aad::new("reports", "details", &r.id.to_string()),
        &r.sealed_details,
    )
    .unwrap();
    serde_json::from_str(plain.as_ref()).unwrap()
}

// ----- tests ---------------------------------------------------------------------------------

async fn missed_check_in_alerts_named_contact(db: TestDb) {
    let mut w = world(&db).await;
    let candidate = candidate_of(&w.claire).await;
    set_buddy(&mut w.claire).await;
    let t0 = w.clock.now_ms();
    let id = start_session(&mut w.claire, "15").await;
    let s = w.state.store.checkin_session(id).await.unwrap().unwrap();
    assert_eq!(s.next_due_at_ms, t0 + 15 * MINUTE);

    // "I'm safe" at 14 minutes pushes the check-in to 29 minutes: nothing fires at 15.
    w.clock.advance_ms(14 * MINUTE);
    let csrf = csrf_of(&w.claire).await;
    let safe = w
        .claire
        .post(&format!("/check-in/{id}/safe"), &[("csrf", &csrf)])
        .await;
    assert_eq!(safe.status, StatusCode::SEE_OTHER, "{}", safe.body);
    w.clock.advance_ms(MINUTE + 1);
    let tick = w.worker.tick().await.unwrap();
    assert_eq!((tick.escalated, tick.claimed), (0, 0), "{tick:?}");
    assert!(alarm_reports(&w.state, candidate).await.is_empty());

    // A millisecond before the pushed check-in, no alarm: only Claire's reminder (five
    // minutes before) has gone.
    w.clock
        .advance_ms(29 * MINUTE - (w.clock.now_ms() - t0) - 1);
    let tick = w.worker.tick().await.unwrap();
    assert_eq!((tick.escalated, tick.sent), (0, 1), "{tick:?}");
    let mail = next_mail(&w.sink, &mut w.seen, 1).await;
    assert_eq!(mail[0].recipients, vec![CLAIRE.to_owned()]);
    assert!(
        mail[0]
            .subject
            .as_deref()
            .unwrap_or_default()
            .starts_with(REMINDER)
    );

    // Missed: one tick raises the P1, and the named lead contact's email and the buddy's
    // leave together.
    w.clock.advance_ms(2);
    let tick = w.worker.tick().await.unwrap();
    assert_eq!((tick.escalated, tick.sent), (1, 3), "{tick:?}");
    let alarms = alarm_reports(&w.state, candidate).await;
    assert_eq!(alarms.len(), 1);
    let r = &alarms[0];
    assert_eq!(
        (r.priority, r.status, r.tier),
        (Priority::P1, Status::New, Tier::Lead)
    );
    assert_eq!(r.reasons, vec!["Missed check-in".to_owned()]);
    let d = details(&w.state, r);
    assert_eq!(
        d["where"],
        "Elm Road and Mill Lane, Harrowfield (odd numbers)"
    );
    assert!(d["what"].as_str().unwrap().contains("did not check in"));
    // The police see who the buddy is and that they were told.
    assert!(
        d["what"]
            .as_str()
            .unwrap()
            .contains("Sam Whitfield (07700900456"),
        "{d}"
    );
    let mail = next_mail(&w.sink, &mut w.seen, 3).await;
    assert_eq!(
        addressed(&mail),
        pairs(&[
            (TV_LEAD, NEEDS_ATTENTION_P1),
            (HANTS_LEAD, INFORMED_P1),
            (BUDDY, BUDDY_P1),
        ])
    );
    let (police, buddy): (Vec<_>, Vec<_>) = mail.iter().partition(|m| m.recipients[0] != BUDDY);
    assert!(police.iter().all(|m| is_about(m, r.id)));
    // The buddy's email: her name, what happened, call her, then 999; no link, no place.
    let text = buddy[0].text();
    assert!(
        text.contains("Claire Whitfield") && text.contains("missed a check-in"),
        "{text}"
    );
    assert!(text.contains("call 999"), "{text}");
    assert!(
        !text.contains("http") && !text.contains("Elm Road"),
        "{text}"
    );
    let s = w.state.store.checkin_session(id).await.unwrap().unwrap();
    assert_eq!(s.status, CheckinStatus::Alarm);
    assert_eq!(s.alarm_report_id, Some(r.id));

    // Exactly once: later ticks raise nothing more, and "I'm safe" no longer applies.
    let tick = w.worker.tick().await.unwrap();
    assert_eq!((tick.escalated, tick.claimed), (0, 0), "{tick:?}");
    let late = w
        .claire
        .post(&format!("/check-in/{id}/safe"), &[("csrf", &csrf)])
        .await;
    assert_eq!(late.status, StatusCode::SEE_OTHER);
    assert_eq!(alarm_reports(&w.state, candidate).await.len(), 1);
    let page = w.claire.get(&format!("/check-in/{id}")).await;
    assert!(page.text().contains("Alarm raised"), "{}", page.text());

    // Unacknowledged, it escalates like any P1: the deputy after 15 minutes.
    w.clock.advance_ms(15 * MINUTE + 1);
    let tick = w.worker.tick().await.unwrap();
    assert_eq!((tick.escalated, tick.sent), (1, 1), "{tick:?}");
    let mail = next_mail(&w.sink, &mut w.seen, 1).await;
    assert_eq!(addressed(&mail), pairs(&[(TV_DEPUTY, ESCALATED_P1)]));
}

async fn duress_pin_raises_silent_alarm(db: TestDb) {
    let mut w = world(&db).await;
    let candidate = candidate_of(&w.claire).await;
    // Claire has a buddy, who must not be told of a duress alarm (AlarmReason::tells_buddy).
    set_buddy(&mut w.claire).await;

    // A normal end first, to compare against: nothing is raised, ever.
    let normal = start_session(&mut w.claire, "30").await;
    let csrf = csrf_of(&w.claire).await;
    let wrong = w
        .claire
        .post(
            &format!("/check-in/{normal}/end"),
            &[("csrf", &csrf), ("pin", "0000")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.text().contains("PIN is not right"));
    let ended = w
        .claire
        .post(
            &format!("/check-in/{normal}/end"),
            &[("csrf", &csrf), ("pin", PIN)],
        )
        .await;
    assert_eq!(ended.status, StatusCode::OK);
    assert!(ended.text().to_lowercase().contains("session ended"));
    let tick = w.worker.tick().await.unwrap();
    assert_eq!((tick.escalated, tick.claimed), (0, 0), "{tick:?}");
    assert!(alarm_reports(&w.state, candidate).await.is_empty());

    // The duress PIN: the very same page, byte for byte.
    let forced = start_session(&mut w.claire, "30").await;
    let duress = w
        .claire
        .post(
            &format!("/check-in/{forced}/end"),
            &[("csrf", &csrf), ("pin", DURESS)],
        )
        .await;
    assert_eq!(duress.status, StatusCode::OK);
    assert!(duress.text().to_lowercase().contains("session ended"));
    assert_eq!(
        duress.body, ended.body,
        "a duress end looks like a normal end"
    );
    // The session reads "Ended" to anyone looking at the phone.
    let page = w.claire.get(&format!("/check-in/{forced}")).await;
    assert!(page.text().contains("Ended"), "{}", page.text());
    assert!(!page.text().contains("Alarm"), "{}", page.text());

    // …and a P1 exists, with the duress reason, and the named contact is alerted.
    let alarms = alarm_reports(&w.state, candidate).await;
    assert_eq!(alarms.len(), 1);
    let r = &alarms[0];
    assert_eq!(r.priority, Priority::P1);
    assert_eq!(r.reasons, vec!["Duress PIN".to_owned()]);
    assert!(
        details(&w.state, r)["what"]
            .as_str()
            .unwrap()
            .contains("duress PIN")
    );
    let tick = w.worker.tick().await.unwrap();
    assert_eq!(
        (tick.escalated, tick.sent),
        (0, 2),
        "no buddy email: {tick:?}"
    );
    let mail = next_mail(&w.sink, &mut w.seen, 2).await;
    assert_eq!(
        addressed(&mail),
        pairs(&[(TV_LEAD, NEEDS_ATTENTION_P1), (HANTS_LEAD, INFORMED_P1)])
    );
    assert!(mail.iter().all(|m| is_about(m, r.id)));
    assert!(
        details(&w.state, r)["what"]
            .as_str()
            .unwrap()
            .contains("has NOT been told"),
        "the police know the buddy was kept out"
    );

    // Silent: nothing on the candidate's side shows it. Not in her lists, not at its address
    // (404, as if it did not exist), and no email to her when the police act on it.
    assert!(
        w.claire
            .get("/reports/mine")
            .await
            .text()
            .contains("not reported anything")
    );
    assert!(!w.claire.get("/home").await.text().contains(&r.reference));
    let api = w.claire.get("/api/me/reports").await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&api.body).unwrap()["reports"],
        json!([])
    );
    assert_eq!(
        w.claire.get(&format!("/reports/{}", r.id)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        w.claire.get(&format!("/api/reports/{}", r.id)).await.status,
        StatusCode::NOT_FOUND
    );
    let at = chrono::DateTime::from_timestamp_millis(w.state.clock.now_ms()).unwrap();
    let ack = shield_domain::audit::AuditEvent::new(
        shield_domain::audit::AuditAction::parse("report_acknowledged").unwrap(),
        shield_domain::audit::AuditOutcome::Success,
        at,
    );
    let lead = w
        .state
        .store
        .user_auth_by_email(TV_LEAD)
        .await
        .unwrap()
        .map(|u| u.id)
        .unwrap_or(r.reported_by);
    w.state
        .store
        .acknowledge(r.id, lead, w.state.clock.now_ms(), &ack)
        .await
        .unwrap()
        .unwrap();
    let tick = w.worker.tick().await.unwrap();
    assert_eq!(tick.claimed, 0, "no email to the candidate: {tick:?}");

    // The API's end answers the same for both PINs.
    let api_normal = start_session(&mut w.claire, "30").await;
    let api_forced = start_session(&mut w.claire, "30").await;
    let a = w
        .claire
        .post_json(
            &format!("/api/check-ins/{api_normal}/end"),
            &csrf,
            &json!({ "pin": PIN }),
        )
        .await;
    let b = w
        .claire
        .post_json(
            &format!("/api/check-ins/{api_forced}/end"),
            &csrf,
            &json!({ "pin": DURESS }),
        )
        .await;
    assert_eq!((a.status, b.status), (StatusCode::OK, StatusCode::OK));
    assert_eq!(
        a.body.replace(&api_normal.to_string(), "N"),
        b.body.replace(&api_forced.to_string(), "N")
    );
    assert_eq!(alarm_reports(&w.state, candidate).await.len(), 2);

    // Ended sessions' timers are closed, whichever PIN ended them: nothing fires later.
    w.clock.advance_ms(3 * 60 * MINUTE);
    let tick = w.worker.tick().await.unwrap();
    assert_eq!(
        tick.escalated, 1,
        "only the second alarm's own escalation (the first was acknowledged): {tick:?}"
    );
    assert_eq!(alarm_reports(&w.state, candidate).await.len(), 2);
}

async fn panic_button_raises_p1_at_once(db: TestDb) {
    let mut w = world(&db).await;
    let candidate = candidate_of(&w.claire).await;
    let id = start_session(&mut w.claire, "60").await;
    let csrf = csrf_of(&w.claire).await;
    let page = w
        .claire
        .post(
            "/check-in/panic",
            &[("csrf", &csrf), ("session", &id.to_string())],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.text().contains("Alarm raised"));
    let alarms = alarm_reports(&w.state, candidate).await;
    assert_eq!(alarms.len(), 1);
    assert_eq!(alarms[0].reasons, vec!["Panic button".to_owned()]);
    assert_eq!(
        details(&w.state, &alarms[0])["where"],
        "Elm Road and Mill Lane, Harrowfield (odd numbers)"
    );
    let s = w.state.store.checkin_session(id).await.unwrap().unwrap();
    assert_eq!(s.status, CheckinStatus::Alarm);
    let tick = w.worker.tick().await.unwrap();
    assert_eq!((tick.escalated, tick.sent), (0, 2), "{tick:?}");
    let mail = next_mail(&w.sink, &mut w.seen, 2).await;
    assert_eq!(
        addressed(&mail),
        pairs(&[(TV_LEAD, NEEDS_ATTENTION_P1), (HANTS_LEAD, INFORMED_P1)])
    );

    // The API's panic button, without a session.
    let api = w
        .claire
        .post_json("/api/check-ins/panic", &csrf, &json!({}))
        .await;
    assert_eq!(api.status, StatusCode::CREATED, "{}", api.body);
    assert_eq!(alarm_reports(&w.state, candidate).await.len(), 2);
}

async fn alarm_survives_restart_and_two_workers_raise_it_once(mut db: TestDb) {
    let mut w = world(&db).await;
    let candidate = candidate_of(&w.claire).await;
    // Through the API this time.
    let csrf = csrf_of(&w.claire).await;
    let started = w
        .claire
        .post_json(
            "/api/check-ins",
            &csrf,
            &json!({ "kind": "street_stall", "place": "Market Square", "interval_minutes": 15, "hours": 1 }),
        )
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    let body: serde_json::Value = serde_json::from_str(&started.body).unwrap();
    assert_eq!(body["status"], "active");

    // "Restart": drop every handle, open a new store on the same database, two workers.
    let (clock, keys, sink, mut seen) = (w.clock.clone(), w.state.keys.clone(), w.sink, w.seen);
    drop(w.worker);
    drop(w.claire);
    drop(w.state);
    let store = shield_store::connect(&db.url).await.unwrap();
    db.store = store.clone();
    let state = AppState::with(store, Arc::new(clock.clone()), keys);
    let one = mail_worker("instance-1", &state, &sink);
    let two = mail_worker("instance-2", &state, &sink);

    clock.advance_ms(15 * MINUTE + 1);
    let (a, b) = tokio::join!(one.tick(), two.tick());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.escalated + b.escalated, 1, "{a:?} {b:?}");
    let tick = one.tick().await.unwrap();
    assert_eq!(tick.escalated, 0);
    let alarms = alarm_reports(&state, candidate).await;
    assert_eq!(alarms.len(), 1);
    assert_eq!(alarms[0].reasons, vec!["Missed check-in".to_owned()]);
    let mail = next_mail(&sink, &mut seen, 2).await;
    assert_eq!(
        addressed(&mail),
        pairs(&[(TV_LEAD, NEEDS_ATTENTION_P1), (HANTS_LEAD, INFORMED_P1)])
    );
}

async fn reminder_before_each_check_in_once_across_workers(db: TestDb) {
    let mut w = world(&db).await;
    let t0 = w.clock.now_ms();
    let id = start_session(&mut w.claire, "30").await;
    // The page shows the next check-in as a clock time, large.
    let page = w.claire.get(&format!("/check-in/{id}")).await;
    let due = shield_domain::uktime::clock_time(t0 + 30 * MINUTE);
    assert!(
        page.body
            .contains(&format!("<span id=\"next-due-clock\">{due}</span>")),
        "{}",
        page.body
    );

    // Nothing a millisecond before the reminder (five minutes before the check-in)…
    w.clock.advance_ms(25 * MINUTE - 1);
    let tick = w.worker.tick().await.unwrap();
    assert_eq!(tick.claimed, 0, "{tick:?}");

    // …then one reminder, however many workers tick at once.
    w.clock.advance_ms(1);
    let second = mail_worker("instance-2", &w.state, &w.sink);
    let (a, b) = tokio::join!(w.worker.tick(), second.tick());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.sent + b.sent, 1, "{a:?} {b:?}");
    assert_eq!(a.escalated + b.escalated, 0);
    let mail = next_mail(&w.sink, &mut w.seen, 1).await;
    assert_eq!(mail[0].recipients, vec![CLAIRE.to_owned()]);
    assert_eq!(
        mail[0].subject.as_deref(),
        Some(format!("{REMINDER} {due}").as_str())
    );
    let text = mail[0].text();
    assert!(
        text.contains(&format!("http://localhost/check-in/{id}")),
        "{text}"
    );
    assert!(!text.contains("Elm Road"), "content-free: {text}");
    for worker in [&w.worker, &second] {
        assert_eq!(worker.tick().await.unwrap().claimed, 0);
    }
    let s = w.state.store.checkin_session(id).await.unwrap().unwrap();
    assert_eq!(s.remind_at_ms, None, "sent, so cleared");

    // "I'm safe" sets the next reminder, which a "restarted" worker (a new one, the old
    // dropped) still sends: the timer is a row.
    let csrf = csrf_of(&w.claire).await;
    w.claire
        .post(&format!("/check-in/{id}/safe"), &[("csrf", &csrf)])
        .await;
    let s = w.state.store.checkin_session(id).await.unwrap().unwrap();
    assert_eq!(s.remind_at_ms, Some(s.next_due_at_ms - 5 * MINUTE));
    drop(second);
    let restarted = mail_worker("instance-3", &w.state, &w.sink);
    w.clock.advance_ms(25 * MINUTE);
    let tick = restarted.tick().await.unwrap();
    assert_eq!((tick.sent, tick.escalated), (1, 0), "{tick:?}");
    next_mail(&w.sink, &mut w.seen, 1).await;

    // Ended: no more reminders.
    w.claire
        .post(
            &format!("/check-in/{id}/end"),
            &[("csrf", &csrf), ("pin", PIN)],
        )
        .await;
    w.clock.advance_ms(60 * MINUTE);
    assert_eq!(restarted.tick().await.unwrap().claimed, 0);
}

async fn wrong_pins_lock_the_session_and_raise_an_alarm(db: TestDb) {
    let mut w = world(&db).await;
    let candidate = candidate_of(&w.claire).await;
    let id = start_session(&mut w.claire, "60").await;
    let csrf = csrf_of(&w.claire).await;
    let max = shield_domain::checkin::MAX_PIN_FAILURES;
    for tried in 1..max {
        let wrong = w
            .claire
            .post(
                &format!("/check-in/{id}/end"),
                &[("csrf", &csrf), ("pin", "0000")],
            )
            .await;
        assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
        let left = max - tried;
        assert!(
            wrong.text().contains(&format!("{left} tr")),
            "{tried}: {}",
            wrong.text()
        );
        let s = w.state.store.checkin_session(id).await.unwrap().unwrap();
        assert_eq!((s.pin_failures, s.status), (tried, CheckinStatus::Active));
    }
    assert!(alarm_reports(&w.state, candidate).await.is_empty());

    // The last try: the session takes no more PINs, and an alarm is raised at once.
    let last = w
        .claire
        .post(
            &format!("/check-in/{id}/end"),
            &[("csrf", &csrf), ("pin", "9999")],
        )
        .await;
    assert_eq!(last.status, StatusCode::BAD_REQUEST);
    assert!(
        last.text().contains("no longer takes a PIN"),
        "{}",
        last.text()
    );
    let s = w.state.store.checkin_session(id).await.unwrap().unwrap();
    assert_eq!(
        (s.pin_failures, s.status, s.alarm),
        (
            max,
            CheckinStatus::Alarm,
            Some(shield_domain::checkin::AlarmReason::PinGuesses)
        )
    );
    let alarms = alarm_reports(&w.state, candidate).await;
    assert_eq!(alarms.len(), 1);
    assert_eq!(alarms[0].reasons, vec!["Too many wrong PINs".to_owned()]);
    assert_eq!(alarms[0].priority, Priority::P1);

    // Not even the right PIN (or the duress PIN) works now, and nothing more is counted.
    for pin in [PIN, DURESS] {
        let late = w
            .claire
            .post(
                &format!("/check-in/{id}/end"),
                &[("csrf", &csrf), ("pin", pin)],
            )
            .await;
        assert_eq!(late.status, StatusCode::BAD_REQUEST);
        assert!(late.text().contains("no longer active"), "{}", late.text());
    }
    let api = w
        .claire
        .post_json(
            &format!("/api/check-ins/{id}/end"),
            &csrf,
            &json!({ "pin": PIN }),
        )
        .await;
    assert_eq!(api.status, StatusCode::BAD_REQUEST);
    assert_eq!(alarm_reports(&w.state, candidate).await.len(), 1);
    let page = w.claire.get(&format!("/check-in/{id}")).await;
    assert!(
        page.text().contains("too many wrong PINs"),
        "{}",
        page.text()
    );

    // The named contact is alerted.
    let tick = w.worker.tick().await.unwrap();
    assert_eq!(tick.sent, 2, "{tick:?}");
    let mail = next_mail(&w.sink, &mut w.seen, 2).await;
    assert_eq!(
        addressed(&mail),
        pairs(&[(TV_LEAD, NEEDS_ATTENTION_P1), (HANTS_LEAD, INFORMED_P1)])
    );

    // The API counts wrong PINs against its own session the same way.
    let other = start_session(&mut w.claire, "60").await;
    let wrong = w
        .claire
        .post_json(
            &format!("/api/check-ins/{other}/end"),
            &csrf,
            &json!({ "pin": "0000" }),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("4 tries left"), "{}", wrong.body);
}

async fn a_session_buddy_is_told_instead_of_the_standing_one(db: TestDb) {
    let mut w = world(&db).await;
    set_buddy(&mut w.claire).await;
    let csrf = csrf_of(&w.claire).await;
    let start = |buddy_email: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("kind", "canvassing".to_owned()),
            ("place", "Market Square".to_owned()),
            ("interval", "30".to_owned()),
            ("hours", "2".to_owned()),
            ("session_buddy_name", "Priya Shah".to_owned()),
            ("session_buddy_email", buddy_email.to_owned()),
            ("session_buddy_phone", "07700 900777".to_owned()),
        ]
    };
    // Half a buddy is a named error, and no session starts.
    let form = start("priya");
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let bad = w.claire.post("/check-in", &fields).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains("href=\"#session_buddy_email\""),
        "{}",
        bad.body
    );
    let candidate = candidate_of(&w.claire).await;
    assert!(
        w.state
            .store
            .checkin_sessions(candidate, 5)
            .await
            .unwrap()
            .is_empty()
    );

    let form = start("priya.shah@canvass.example");
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let started = w.claire.post("/check-in", &fields).await;
    let id: i64 = started
        .location
        .expect("started")
        .trim_start_matches("/check-in/")
        .parse()
        .unwrap();
    let s = w.state.store.checkin_session(id).await.unwrap().unwrap();
    let sealed = s.sealed_buddy.expect("sealed with the session");
    assert!(!String::from_utf8_lossy(&sealed).contains("Priya"));

    // The panic button: the session's buddy is told, the standing one is not.
    let page = w
        .claire
        .post(
            "/check-in/panic",
            &[("csrf", &csrf), ("session", &id.to_string())],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let tick = w.worker.tick().await.unwrap();
    assert_eq!(tick.sent, 3, "{tick:?}");
    let mail = next_mail(&w.sink, &mut w.seen, 3).await;
    assert_eq!(
        addressed(&mail),
        pairs(&[
            (TV_LEAD, NEEDS_ATTENTION_P1),
            (HANTS_LEAD, INFORMED_P1),
            ("priya.shah@canvass.example", BUDDY_P1),
        ])
    );
    let buddy = mail
        .iter()
        .find(|m| m.recipients[0] != TV_LEAD && m.recipients[0] != HANTS_LEAD)
        .unwrap();
    assert!(
        buddy.text().contains("pressed the panic button"),
        "{}",
        buddy.text()
    );
}
