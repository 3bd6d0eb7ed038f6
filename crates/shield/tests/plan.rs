//! The personal security plan and briefings through the router, on both backends: a new
//! candidate lands on the plan, sets steps and the score moves; a force contact schedules a
//! briefing with one place; the candidate registers and the invitation (with its .ics) arrives;
//! a second candidate finds it full; the day-before reminder fires once from the worker's
//! clock; the organiser records attendance and the plan step completes itself. Also the
//! outreach list against a full 2024 import.

mod common;

use std::collections::BTreeSet;

use axum::http::StatusCode;
use common::accounts::{active_account, csrf_of, session_for, user_of};
use common::{Client, enrol_with_password, state};
use shield::import::{ImportKind, import_file};
use shield_domain::audit::{AuditAction, AuditEvent, AuditOutcome};
use shield_domain::{ForceCode, Role};
use shield_store::{ImportMode, Store};
use shield_testkit::{SmtpSink, TestDb, both_backends, shared_data};
use shield_web::AppState;

both_backends!(
    plan_score_briefing_invitation_reminder_and_attendance,
    outreach_lists_unenrolled_candidates_of_force,
    outreach_reminders_are_limited_and_recorded,
    the_last_place_goes_to_one_of_many_registering_at_once,
);

fn worker(state: &AppState, sink: &SmtpSink) -> shield_jobs::Worker {
    let mut config = shield::config::Config::load_from(Default::default(), |_| None).unwrap();
    config.smtp_url = Some(format!("smtp://127.0.0.1:{}", sink.port()).into());
    config.mail_from = "Candidate Shield <alerts@shield.example>".into();
    shield::mail::worker(&config, state, "http://localhost")
        .unwrap()
        .unwrap()
}

fn score(page: &common::Page) -> u32 {
    page.body
        .split("<span id=\"score\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap_or_else(|| panic!("no score in {}", page.body))
        .parse()
        .unwrap()
}

/// Sends everything queued; returns how many the sink holds.
async fn drain(worker: &shield_jobs::Worker, sink: &SmtpSink) -> usize {
    loop {
        let tick = worker.tick().await.unwrap();
        if tick.sent == 0 {
            break;
        }
    }
    sink.messages().len()
}

/// A UK wall-clock time `days` from the clock's now (as a datetime-local field holds it).
fn local(state: &AppState, days: i64, hour_offset: i64) -> String {
    let at = state.clock.now_ms() + days * 86_400_000 + hour_offset * 3_600_000;
    chrono::DateTime::from_timestamp_millis(at)
        .unwrap()
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

async fn plan_score_briefing_invitation_reminder_and_attendance(db: TestDb) {
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let (state, clock) = state(db.store.clone());
    let people = shield::demo::invite_people(&state).await.unwrap();
    let sink = SmtpSink::start().await;
    let worker = worker(&state, &sink);
    let before = drain(&worker, &sink).await;

    // Enrolling ends on the recovery codes, whose "continue" leads to the plan.
    let mut claire = Client::new(state.clone());
    enrol_with_password(&mut claire, &people[0].link_path).await;
    let plan = claire.get("/plan").await;
    assert_eq!(plan.status, StatusCode::OK);
    assert_eq!(score(&plan), 0);
    assert_eq!(plan.body.matches("class=\"task-list__item\"").count(), 11);
    let home = claire.get("/home").await;
    assert!(home.body.contains("href=\"/plan\""), "a prominent link");

    // Two steps: one done (1 of 11 = 9%), one not applicable (1 of 10 = 10%).
    let csrf = csrf_of(&claire).await;
    let saved = claire
        .post("/plan/two-step", &[("csrf", &csrf), ("status", "done")])
        .await;
    assert_eq!(saved.location.as_deref(), Some("/plan?saved=1"));
    assert_eq!(score(&claire.get("/plan").await), 9);
    claire
        .post(
            "/plan/home-address",
            &[("csrf", &csrf), ("status", "not_applicable")],
        )
        .await;
    assert_eq!(score(&claire.get("/plan").await), 10);
    // No status: an error summary naming the field, nothing saved.
    let bad = claire.post("/plan/home-security", &[("csrf", &csrf)]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("href=\"#status\""), "{}", bad.body);
    let api: serde_json::Value = serde_json::from_str(&claire.get("/api/plan").await.body).unwrap();
    assert_eq!(api["score"], 10);
    let home_security = api["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "home-security")
        .unwrap();
    assert_eq!(home_security["status"], "not_started");

    // The Thames Valley contact schedules a briefing with one place.
    let tv = ForceCode::parse("E23000029").unwrap();
    let contact_id = active_account(
        &state,
        Role::ForceContact,
        "tv.contact@police.example",
        None,
        vec![tv.clone()],
    )
    .await;
    let mut contact = session_for(&state, contact_id).await;
    let ccsrf = csrf_of(&contact).await;
    let starts = local(&state, 3, 0);
    let ends = local(&state, 3, 1);
    let bad = contact
        .post(
            "/briefings/manage",
            &[
                ("csrf", &ccsrf),
                ("title", "Staying safe"),
                ("capacity", "x"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("href=\"#capacity\"") && bad.body.contains("href=\"#starts\""));
    let made = contact
        .post(
            "/briefings/manage",
            &[
                ("csrf", &ccsrf),
                ("title", "Staying safe on the campaign trail"),
                ("venue", "Kidlington police station, Oxford Road"),
                ("online_url", ""),
                ("starts", &starts),
                ("ends", &ends),
                ("capacity", "1"),
                ("description", "What to expect, and what to report."),
                ("materials", "https://example.org/slides.pdf"),
            ],
        )
        .await;
    assert_eq!(
        made.location.as_deref(),
        Some("/briefings/manage?force=E23000029&created=1")
    );
    let briefing = db
        .store
        .managed_briefings(Some(&tv), state.clock.now_ms())
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(briefing.capacity, 1);

    // Claire sees it, registers; the invitation email carries a calendar request.
    let list = claire.get("/briefings").await;
    assert!(list.body.contains("Staying safe on the campaign trail"));
    let reg = claire
        .post(
            &format!("/briefings/{}/register", briefing.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        reg.location.as_deref(),
        Some(format!("/briefings/{}?registered=1", briefing.id).as_str())
    );
    let tick = worker.tick().await.unwrap();
    assert_eq!(tick.sent, 1);
    let all = sink
        .wait_for(before + 1, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    let invite = all.last().unwrap();
    assert!(
        invite
            .recipients
            .iter()
            .any(|r| r == "claire.whitfield@civic.example")
    );
    let parsed = mailparse::parse_mail(invite.data.as_bytes()).unwrap();
    let ics_part = parsed
        .subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/calendar")
        .expect("a text/calendar part");
    assert_eq!(
        ics_part.ctype.params.get("method").map(String::as_str),
        Some("REQUEST")
    );
    let ics = ics_part.get_body().unwrap();
    let mut reader = ical::IcalParser::new(std::io::BufReader::new(ics.as_bytes()));
    let cal = reader.next().unwrap().unwrap();
    let prop = |props: &[ical::property::Property], name: &str| {
        props
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.clone())
    };
    assert_eq!(prop(&cal.properties, "METHOD").as_deref(), Some("REQUEST"));
    let event = &cal.events[0];
    assert_eq!(
        prop(&event.properties, "SUMMARY").as_deref(),
        Some("Staying safe on the campaign trail")
    );
    assert_eq!(
        prop(&event.properties, "UID"),
        Some(format!("briefing-{}@candidate-shield", briefing.id))
    );
    assert_eq!(
        prop(&event.properties, "DTSTART"),
        Some(
            chrono::DateTime::from_timestamp_millis(briefing.starts_at_ms)
                .unwrap()
                .format("%Y%m%dT%H%M%SZ")
                .to_string()
        )
    );
    assert!(
        prop(&event.properties, "ORGANIZER")
            .unwrap()
            .contains("tv.contact@police.example")
    );
    // Nothing about the candidate's plan or reports in the body.
    assert!(!invite.data.contains("two-step"));

    // Full: a second candidate of the force, with an account made here.
    let other_candidate = db
        .store
        .standings(Some(&tv))
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.user.is_none())
        .unwrap();
    let other_user = active_account(
        &state,
        Role::Candidate,
        "other.candidate@civic.example",
        Some(other_candidate.candidate_id),
        Vec::new(),
    )
    .await;
    let mut other = session_for(&state, other_user).await;
    let ocsrf = csrf_of(&other).await;
    let full = other
        .post(
            &format!("/briefings/{}/register", briefing.id),
            &[("csrf", &ocsrf)],
        )
        .await;
    assert_eq!(full.status, StatusCode::CONFLICT);
    assert!(full.body.contains("This briefing is full"));
    assert_eq!(
        db.store
            .briefing(briefing.id)
            .await
            .unwrap()
            .unwrap()
            .registered,
        1
    );

    // The day before: the reminder fires once, from the worker's clock.
    assert_eq!(worker.tick().await.unwrap().sent, 0);
    let claire_user = user_of(&claire).await;
    clock.advance_ms(2 * 86_400_000 + 60_000);
    let tick = worker.tick().await.unwrap();
    assert_eq!(tick.sent, 1, "{tick:?}");
    let all = sink
        .wait_for(before + 2, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert!(
        all.last()
            .unwrap()
            .subject
            .as_deref()
            .unwrap()
            .contains("tomorrow")
    );
    assert_eq!(worker.tick().await.unwrap().sent, 0, "once only");

    // The organiser records attendance: the plan step completes itself (2 of 10 = 20%).
    // (Sessions idle out over two days: sign both in again.)
    let mut claire = session_for(&state, claire_user).await;
    let mut contact = session_for(&state, contact_id).await;
    let ccsrf = csrf_of(&contact).await;
    let registrants = db.store.registrants(briefing.id).await.unwrap();
    assert_eq!(registrants.len(), 1);
    let attendance = contact
        .get(&format!("/briefings/{}/attendance", briefing.id))
        .await;
    assert!(attendance.body.contains("Claire Whitfield"));
    let marked = contact
        .post(
            &format!("/briefings/{}/attendance", briefing.id),
            &[
                ("csrf", &ccsrf),
                ("candidate", &registrants[0].candidate_id.to_string()),
                ("attended", "yes"),
            ],
        )
        .await;
    assert_eq!(
        marked.location.as_deref(),
        Some(format!("/briefings/{}/attendance?saved=1", briefing.id).as_str())
    );
    let plan = claire.get("/plan").await;
    assert_eq!(score(&plan), 20);
    assert!(plan.body.contains("We can see you have done this."));
    // The force contact sees Claire's score on the enrolment view.
    let enrolment = contact.get("/enrolment").await;
    assert!(
        enrolment.body.contains(&format!(
            "/plan?candidate={}\">20%",
            registrants[0].candidate_id
        )),
        "readiness on the enrolment view"
    );
    let _ = &mut other;
    let _ = &mut claire;
}

async fn import_real(store: &dyn Store) {
    for (kind, file) in [
        (ImportKind::Constituencies, "constituencies_2024.csv"),
        (ImportKind::Forces, "police_force_areas.csv"),
        (ImportKind::ConstituencyForces, "pcon24_pfa_lookup.csv"),
        (ImportKind::Candidates, "candidates_ge2024.csv"),
    ] {
        import_file(store, kind, &shared_data(file), ImportMode::Commit)
            .await
            .unwrap();
    }
}

/// (constituency, name, party) of every candidate of a force, from the constituency pages'
/// data (the force's constituencies, then each one's candidates): not the outreach query.
async fn expected_candidates(
    store: &dyn Store,
    force: &ForceCode,
) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for s in store.constituency_summaries(None).await.unwrap() {
        if s.forces.iter().any(|f| f.code == *force) {
            let detail = store
                .constituency_detail(&s.code, None)
                .await
                .unwrap()
                .unwrap();
            for c in detail.candidates {
                out.insert((s.name.clone(), c.name, c.party));
            }
        }
    }
    out
}

fn listed(json: &serde_json::Value) -> BTreeSet<(String, String, String)> {
    json["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["constituency"].as_str().unwrap().to_owned(),
                c["name"].as_str().unwrap().to_owned(),
                c["party"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn outreach_lists_unenrolled_candidates_of_force(db: TestDb) {
    import_real(db.store.as_ref()).await;
    let (state, _) = state(db.store.clone());
    // Hampshire and Isle of Wight: it shares a constituency with another force.
    let force = ForceCode::parse("E23000030").unwrap();
    let mut expected = expected_candidates(db.store.as_ref(), &force).await;
    assert!(expected.len() > 50, "{}", expected.len());
    let contact_id = active_account(
        &state,
        Role::ForceContact,
        "contact@hampshire.police.example",
        None,
        vec![force.clone()],
    )
    .await;
    let mut contact = session_for(&state, contact_id).await;
    let before: serde_json::Value = serde_json::from_str(
        &contact
            .get("/api/outreach?force=E23000030&list=not_enrolled")
            .await
            .body,
    )
    .unwrap();
    assert_eq!(listed(&before), expected, "nobody enrolled yet");

    // Two of them enrol.
    let chosen: Vec<serde_json::Value> = before["candidates"].as_array().unwrap()[..2].to_vec();
    for (i, c) in chosen.iter().enumerate() {
        active_account(
            &state,
            Role::Candidate,
            &format!("enrolled{i}@candidate.example"),
            Some(shield_domain::CandidateId(
                c["candidate_id"].as_i64().unwrap(),
            )),
            Vec::new(),
        )
        .await;
        expected.remove(&(
            c["constituency"].as_str().unwrap().to_owned(),
            c["name"].as_str().unwrap().to_owned(),
            c["party"].as_str().unwrap().to_owned(),
        ));
    }
    let after: serde_json::Value = serde_json::from_str(
        &contact
            .get("/api/outreach?force=E23000030&list=not_enrolled")
            .await
            .body,
    )
    .unwrap();
    assert_eq!(listed(&after), expected);
    assert_eq!(
        after["candidates"].as_array().unwrap().len(),
        expected.len(),
        "no duplicates"
    );
    // The page lists the same candidates, and the two enrolled are on "not ready".
    let page = contact
        .get("/outreach?force=E23000030&list=not_enrolled")
        .await;
    assert_eq!(
        page.body.matches("<tr data-candidate=").count(),
        expected.len()
    );
    let not_ready: serde_json::Value = serde_json::from_str(
        &contact
            .get("/api/outreach?force=E23000030&list=not_ready&threshold=50")
            .await
            .body,
    )
    .unwrap();
    assert_eq!(not_ready["candidates"].as_array().unwrap().len(), 2);
    // Another force's list is not this contact's.
    assert_eq!(
        contact
            .get("/api/outreach?force=E23000029&list=not_enrolled")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

async fn outreach_reminders_are_limited_and_recorded(db: TestDb) {
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let (state, clock) = state(db.store.clone());
    let people = shield::demo::invite_people(&state).await.unwrap();
    let mut claire = Client::new(state.clone());
    enrol_with_password(&mut claire, &people[0].link_path).await;
    let coordinator = active_account(
        &state,
        Role::Coordinator,
        "coord@shield.example",
        None,
        Vec::new(),
    )
    .await;
    let mut coord = session_for(&state, coordinator).await;
    let csrf = csrf_of(&coord).await;
    let tv = "E23000029";
    // Claire (enrolled, 0%) is on "not ready"; a reminder goes, then not again within 3 days.
    let first = coord
        .post(
            &format!("/outreach/remind?force={tv}"),
            &[("csrf", &csrf), ("list", "not_ready"), ("threshold", "50")],
        )
        .await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(first.body.contains("1 reminder sent"), "{}", first.body);
    let again = coord
        .post(
            &format!("/outreach/remind?force={tv}"),
            &[("csrf", &csrf), ("list", "not_ready"), ("threshold", "50")],
        )
        .await;
    assert!(again.body.contains("0 reminders sent"));
    assert!(again.body.contains("1 reminded recently"));
    // Claire acts (a step done): the record says so.
    let ccsrf = csrf_of(&claire).await;
    claire
        .post("/plan/two-step", &[("csrf", &ccsrf), ("status", "done")])
        .await;
    let page = coord
        .get(&format!("/outreach?force={tv}&list=not_ready"))
        .await;
    assert!(
        page.body.contains("1 of 1 acted afterwards"),
        "{}",
        page.body
    );
    // Opted out of scheduled reminders: the worker's sweep passes Claire by; others get one.
    let off = claire
        .post("/plan/reminders", &[("csrf", &ccsrf), ("reminders", "off")])
        .await;
    assert_eq!(off.location.as_deref(), Some("/plan?saved=1"));
    let claire_id =
        shield_domain::CandidateId(
            serde_json::from_str::<serde_json::Value>(&claire.get("/api/plan").await.body).unwrap()
                ["candidate_id"]
                .as_i64()
                .unwrap(),
        );
    clock.advance_ms(8 * 86_400_000);
    let sent = db
        .store
        .fire_scheduled_nudges(state.clock.now_ms(), 7 * 86_400_000, 100)
        .await
        .unwrap();
    assert_eq!(sent, 0, "Claire opted out and is the only one enrolled");
    let audit = AuditEvent::new(
        AuditAction::parse("plan_reminders_set").unwrap(),
        AuditOutcome::Success,
        chrono::Utc::now(),
    );
    db.store
        .set_nudges_opt_out(claire_id, false, state.clock.now_ms(), &audit)
        .await
        .unwrap();
    let sent = db
        .store
        .fire_scheduled_nudges(state.clock.now_ms(), 7 * 86_400_000, 100)
        .await
        .unwrap();
    assert_eq!(sent, 1);
    let again = db
        .store
        .fire_scheduled_nudges(state.clock.now_ms(), 7 * 86_400_000, 100)
        .await
        .unwrap();
    assert_eq!(again, 0, "not twice within the gap");
}

async fn the_last_place_goes_to_one_of_many_registering_at_once(db: TestDb) {
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let (state, _) = state(db.store.clone());
    let tv = ForceCode::parse("E23000029").unwrap();
    let audit = AuditEvent::new(
        AuditAction::parse("briefing_created").unwrap(),
        AuditOutcome::Success,
        chrono::Utc::now(),
    );
    let candidates: Vec<_> = db
        .store
        .standings(Some(&tv))
        .await
        .unwrap()
        .into_iter()
        .take(6)
        .collect();
    assert!(candidates.len() >= 3, "{}", candidates.len());
    let mut users = Vec::new();
    for (i, c) in candidates.iter().enumerate() {
        users.push(
            active_account(
                &state,
                Role::Candidate,
                &format!("racer{i}@candidate.example"),
                Some(c.candidate_id),
                Vec::new(),
            )
            .await,
        );
    }
    let now = state.clock.now_ms();
    let briefing = db
        .store
        .create_briefing(
            &shield_store::NewBriefing {
                title: "One place".into(),
                force: Some(tv),
                online_url: "https://meet.example/one".into(),
                venue: String::new(),
                starts_at_ms: now + 86_400_000,
                ends_at_ms: now + 90_000_000,
                capacity: 1,
                description: String::new(),
                materials: Vec::new(),
                created_by: users[0],
            },
            now,
            &audit,
        )
        .await
        .unwrap();
    let attempts = candidates.iter().zip(&users).map(|(c, u)| {
        let store = db.store.clone();
        let audit = audit.clone();
        let (id, user) = (c.candidate_id, *u);
        tokio::spawn(async move {
            store
                .register_briefing(briefing, id, user, None, None, now, &audit)
                .await
                .unwrap()
        })
    });
    let mut outcomes = Vec::new();
    for a in attempts.collect::<Vec<_>>() {
        outcomes.push(a.await.unwrap());
    }
    let won = outcomes
        .iter()
        .filter(|o| **o == shield_store::RegisterOutcome::Registered)
        .count();
    assert_eq!(won, 1, "{outcomes:?}");
    assert!(
        outcomes.iter().all(|o| matches!(
            o,
            shield_store::RegisterOutcome::Registered | shield_store::RegisterOutcome::Full
        )),
        "{outcomes:?}"
    );
    let b = db.store.briefing(briefing).await.unwrap().unwrap();
    assert_eq!(b.registered, 1);
    let live = db
        .store
        .registrants(briefing)
        .await
        .unwrap()
        .iter()
        .filter(|r| r.cancelled_at_ms.is_none())
        .count();
    assert_eq!(live, 1, "the losers' rows rolled back");
}
