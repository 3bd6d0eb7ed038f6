//! Reports of concern end to end through the router, the store and a real outbox worker
//! talking SMTP to a sink on loopback: escalation of an unacknowledged P1 through a restart,
//! acknowledgement stopping the chain, two instances sharing one PostgreSQL database, and
//! evidence uploads checked by content and stored sealed.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{StatusCode, header};
use common::accounts::{activate, csrf_of, session_for, user_of};
use common::mail::{addressed, is_about, next_mail, pairs};
use common::{Client, enrol_with_password, state};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use shield_domain::report::{Priority, Status, Tier};
use shield_domain::{Clock, ManualClock};
use shield_jobs::{DefaultTemplates, SmtpSender, Worker};
use shield_store::{ReportFilter, Store};
use shield_testkit::{SmtpSink, TestDb, both_backends};
use shield_web::AppState;
use shield_web::invitations::InvitationOpener;

both_backends!(
    unacknowledged_p1_escalates_to_deputy_then_coordinator,
    evidence_upload_rejects_disguised_executable,
    evidence_oversize_is_413_with_a_clear_message,
    evidence_traversal_filename_is_ignored,
    evidence_is_stored_as_ciphertext_and_downloads_with_matching_hash,
);

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const CLAIRE: &str = "claire.whitfield@civic.example";
/// Thames Valley (E23000029) owns Harrowfield and Kingsmead; Hampshire is told.
const TV_LEAD: &str = "helen.grant@thamesvalley.police.example";
const TV_DEPUTY: &str = "mark.ward@thamesvalley.police.example";
const HANTS_LEAD: &str = "joanne.price@hampshire.police.example";
const COORDINATOR: &str = "coordinator@shield.example";

const NEEDS_ATTENTION_P1: &str = "Candidate Shield: a P1 report needs you";
const INFORMED_P1: &str = "Candidate Shield: a P1 report in a constituency you share";
const ESCALATED_P1: &str = "Candidate Shield: ESCALATED P1 report not yet acknowledged";
const UPDATE: &str = "Candidate Shield: an update on your report";

// ----- helpers -------------------------------------------------------------------------------

/// A worker like `shield::mail::worker` builds, but named and pointed at the sink.
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
    .with_deadlines(state.store.clone())
}

/// Claire reports through the JSON API; returns the response body.
async fn api_report(client: &mut Client, body: Value) -> Value {
    let csrf = csrf_of(client).await;
    let page = client.post_json("/api/reports", &csrf, &body).await;
    assert_eq!(page.status, StatusCode::CREATED, "{}", page.body);
    serde_json::from_str(&page.body).unwrap()
}

// ----- escalation ----------------------------------------------------------------------------

async fn unacknowledged_p1_escalates_to_deputy_then_coordinator(mut db: TestDb) {
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let (state, clock): (AppState, ManualClock) = state(db.store.clone());
    let keys = state.keys.clone();
    // people: Claire, Inspector Helen Grant (Thames Valley lead), the demo coordinator.
    let people = shield::demo::invite_people(&state).await.unwrap();
    let mut claire = Client::new(state.clone());
    enrol_with_password(&mut claire, &people[0].link_path).await;
    let claire_user = user_of(&claire).await;
    let helen = activate(&state, &people[1].link_path).await;
    activate(&state, &people[2].link_path).await;

    let sink = SmtpSink::start().await;
    let worker = mail_worker("instance-1", &state, &sink);
    // The three invitations go first; they are not what this test is about.
    let tick = worker.tick().await.unwrap();
    assert_eq!((tick.claimed, tick.sent), (3, 3), "{tick:?}");
    let mut seen = 0;
    next_mail(&sink, &mut seen, 3).await;

    // Claire reports something happening now: P1, the lead has 15 minutes.
    let first_what = "A man has followed me from the station and is shouting outside my office";
    let created = api_report(
        &mut claire,
        json!({
            "category": "harassment_in_person",
            "what": first_what,
            "happening_now": true,
        }),
    )
    .await;
    let first = created["id"].as_i64().unwrap();
    let t0 = clock.now_ms();
    assert_eq!(created["priority"], "P1", "{created}");
    assert_eq!(created["ack_due_at_ms"].as_i64(), Some(t0 + 15 * MINUTE));

    let tick = worker.tick().await.unwrap();
    assert_eq!((tick.escalated, tick.sent), (0, 2), "{tick:?}");
    let mail = next_mail(&sink, &mut seen, 2).await;
    assert_eq!(
        addressed(&mail),
        pairs(&[(TV_LEAD, NEEDS_ATTENTION_P1), (HANTS_LEAD, INFORMED_P1)])
    );
    assert!(mail.iter().all(|m| is_about(m, first)));

    // A millisecond before the deadline nothing fires.
    clock.advance_ms(15 * MINUTE - 1);
    let tick = worker.tick().await.unwrap();
    assert_eq!((tick.escalated, tick.claimed), (0, 0), "{tick:?}");
    assert_eq!(sink.messages().len(), seen);

    // Past it: the owning force's deputies are told, and nobody at Hampshire.
    clock.advance_ms(2);
    let tick = worker.tick().await.unwrap();
    assert_eq!((tick.escalated, tick.sent), (1, 1), "{tick:?}");
    let mail = next_mail(&sink, &mut seen, 1).await;
    assert_eq!(addressed(&mail), pairs(&[(TV_DEPUTY, ESCALATED_P1)]));
    assert!(is_about(&mail[0], first));
    assert!(
        mail[0].text().contains("deputy contact"),
        "{}",
        mail[0].text()
    );
    let r = db.store.report(first).await.unwrap().unwrap();
    assert_eq!((r.status, r.tier), (Status::New, Tier::Deputy));
    let deputy_due = r.ack_due_at_ms.expect("the deputies have a deadline");

    // "Restart": drop the worker, the app and every handle on the store, then open a new store
    // on the same database and start a new worker. The deadline lives in the database.
    drop(worker);
    drop(claire);
    drop(state);
    let store = shield_store::connect(&db.url).await.unwrap();
    db.store = store.clone();
    let state = AppState::with(store, Arc::new(clock.clone()), keys);
    let worker = mail_worker("instance-2", &state, &sink);

    clock.advance_ms(deputy_due - clock.now_ms() - 1);
    let tick = worker.tick().await.unwrap();
    assert_eq!((tick.escalated, tick.claimed), (0, 0), "{tick:?}");
    clock.advance_ms(2);
    let tick = worker.tick().await.unwrap();
    assert_eq!((tick.escalated, tick.sent), (1, 1), "{tick:?}");
    let mail = next_mail(&sink, &mut seen, 1).await;
    assert_eq!(addressed(&mail), pairs(&[(COORDINATOR, ESCALATED_P1)]));
    assert!(is_about(&mail[0], first));
    let r = state.store.report(first).await.unwrap().unwrap();
    assert_eq!((r.status, r.tier), (Status::New, Tier::Coordinator));
    assert_eq!(r.ack_due_at_ms, None, "the coordinators are the last tier");

    // A second P1, acknowledged by the lead in time: nothing escalates, however long we wait.
    let mut claire = session_for(&state, claire_user).await;
    let second_what = "Two people are blocking my car in the car park and will not let me leave";
    let created = api_report(
        &mut claire,
        json!({
            "category": "harassment_in_person",
            "what": second_what,
            "happening_now": true,
            "who": "two men in grey hoodies",
        }),
    )
    .await;
    let second = created["id"].as_i64().unwrap();
    assert_eq!(created["priority"], "P1", "{created}");
    let tick = worker.tick().await.unwrap();
    assert_eq!((tick.escalated, tick.sent), (0, 2), "{tick:?}");
    let mail = next_mail(&sink, &mut seen, 2).await;
    assert_eq!(
        addressed(&mail),
        pairs(&[(TV_LEAD, NEEDS_ATTENTION_P1), (HANTS_LEAD, INFORMED_P1)])
    );
    assert!(mail.iter().all(|m| is_about(m, second)));

    clock.advance_ms(14 * MINUTE);
    let mut lead = session_for(&state, helen).await;
    let csrf = csrf_of(&lead).await;
    let page = lead
        .post_json(
            &format!("/api/reports/{second}/acknowledge"),
            &csrf,
            &json!({}),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    // Claire is told there is an update (and nothing more).
    let tick = worker.tick().await.unwrap();
    assert_eq!((tick.escalated, tick.sent), (0, 1), "{tick:?}");
    let mail = next_mail(&sink, &mut seen, 1).await;
    assert_eq!(addressed(&mail), pairs(&[(CLAIRE, UPDATE)]));
    assert!(is_about(&mail[0], second));

    clock.advance_ms(48 * HOUR);
    let tick = worker.tick().await.unwrap();
    assert_eq!((tick.escalated, tick.claimed), (0, 0), "{tick:?}");
    assert_eq!(sink.messages().len(), seen);
    assert!(
        !sink
            .messages()
            .iter()
            .any(|m| is_about(m, second) && m.subject.as_deref() == Some(ESCALATED_P1)),
        "no escalation for an acknowledged report"
    );

    let mut lead = session_for(&state, helen).await;
    let page = lead.get(&format!("/api/reports/{second}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let shown: Value = serde_json::from_str(&page.body).unwrap();
    assert_eq!(shown["status"], "acknowledged");
    assert_eq!(shown["tier"], "lead");
    assert_eq!(shown["acknowledged_by"].as_i64(), Some(helen.0));
    let kinds: Vec<&str> = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"acknowledged"), "{kinds:?}");
    assert!(!kinds.contains(&"escalated"), "{kinds:?}");
    let r = state.store.report(second).await.unwrap().unwrap();
    assert_eq!(r.status, Status::Acknowledged);
    assert_eq!(r.priority, Priority::P1);
    assert_eq!(r.ack_due_at_ms, None);

    // The first report's timeline has both escalations, each with its email delivered.
    let timeline = state.store.report_timeline(first).await.unwrap();
    let tiers: Vec<&str> = timeline
        .iter()
        .filter(|e| e.kind == "escalated")
        .map(|e| e.detail["tier"].as_str().unwrap())
        .collect();
    assert_eq!(tiers, ["deputy", "coordinator"]);

    // Content-free: no email carries what was reported, who reported it or where.
    for m in sink.messages() {
        // Subject and body (the headers name the recipient, which may be Claire herself).
        let text =
            format!("{}\n{}", m.subject.clone().unwrap_or_default(), m.text()).to_lowercase();
        for secret in [
            first_what,
            second_what,
            "grey hoodies",
            "claire",
            "whitfield",
            "harrowfield",
            "kingsmead",
            "harassment",
        ] {
            assert!(
                !text.contains(&secret.to_lowercase()),
                "an email to {:?} contains {secret:?}:\n{text}",
                m.recipients
            );
        }
    }
}

// ----- two instances -------------------------------------------------------------------------

/// Two app instances, each with its own pool and its own worker, on one PostgreSQL database:
/// every notification is delivered exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_deliver_each_notification_once() {
    const REPORTS: usize = 500;
    // Fails loudly without SHIELD_TEST_POSTGRES_URL.
    let db = TestDb::postgres().await;
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let keys = Arc::new(shield_crypto::KeyRing::generate());
    let sink = SmtpSink::start().await;

    let mut states = Vec::new();
    let mut workers = Vec::new();
    for name in ["instance-a", "instance-b"] {
        let store: Arc<dyn Store> =
            Arc::new(shield_store::PgStore::connect(db.url()).await.unwrap());
        let state = AppState::with(store, Arc::new(shield_store::SystemClock), keys.clone());
        let worker = Arc::new(mail_worker(name, &state, &sink));
        states.push(state.with_worker(worker.handle()));
        workers.push(worker);
    }

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut running = Vec::new();
    for worker in &workers {
        let worker = Arc::clone(worker);
        let mut stopped = stopped.clone();
        running.push(tokio::spawn(async move {
            worker
                .run_until(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await;
        }));
    }

    // Claire enrols on instance A; her session works on both.
    let people = shield::demo::invite_people(&states[0]).await.unwrap();
    let mut on_a = Client::new(states[0].clone());
    enrol_with_password(&mut on_a, &people[0].link_path).await;
    let mut on_b = Client::new(states[1].clone());
    on_b.cookie = on_a.cookie.clone();

    let body = |n: usize| {
        json!({
            "category": "online_abuse",
            "what": format!("Abusive replies to my campaign post, batch {n}"),
            "happening_now": false,
        })
    };
    // Alternate between the instances, each pair concurrently.
    for n in (0..REPORTS).step_by(2) {
        let (a, b) = tokio::join!(
            api_report(&mut on_a, body(n)),
            api_report(&mut on_b, body(n + 1))
        );
        assert_eq!(a["priority"], "P3", "{a}");
        assert_eq!(b["priority"], "P3", "{b}");
    }

    // Wait (generously) until nothing is pending.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    let counts = loop {
        let counts = db.store.outbox_counts().await.unwrap();
        if counts.pending == 0 {
            break counts;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the outbox did not drain: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    stop.send(true).unwrap();
    for task in running {
        task.await.unwrap();
    }

    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    let rows: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT message_id, status, lease_owner FROM outbox ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    // Three invitations, then each report's lead and informed-force emails.
    assert_eq!(rows.len(), 3 + 2 * REPORTS);
    assert_eq!(counts.failed, 0, "{counts:?}");
    assert_eq!(counts.sent as usize, rows.len(), "{counts:?}");
    let not_sent: Vec<_> = rows.iter().filter(|(_, s, _)| s != "sent").collect();
    assert!(not_sent.is_empty(), "{not_sent:?}");

    let messages = sink.messages();
    assert_eq!(messages.len(), rows.len(), "one email per outbox row");
    let mut ids = HashSet::new();
    for m in &messages {
        let id = m.message_id.clone().expect("every email has a Message-ID");
        assert!(ids.insert(id.clone()), "Message-ID {id} delivered twice");
    }
    // Each row went out with its own stable id.
    let expected: HashSet<String> = rows
        .iter()
        .map(|(id, _, _)| format!("<{id}@shield.example>"))
        .collect();
    assert_eq!(ids, expected);
    let mut by_owner: BTreeMap<String, usize> = BTreeMap::new();
    for (_, _, owner) in &rows {
        *by_owner
            .entry(owner.clone().unwrap_or_default())
            .or_default() += 1;
    }
    // Informational only: which worker sent how many depends on timing.
    eprintln!("rows sent per worker: {by_owner:?}");
}

// ----- evidence ------------------------------------------------------------------------------

/// Demo data and Claire signed in; her browser and the report form's token.
async fn claire_at_the_form(db: &TestDb) -> (Client, String) {
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let (state, _) = state(db.store.clone());
    let people = shield::demo::invite_people(&state).await.unwrap();
    let mut claire = Client::new(state);
    enrol_with_password(&mut claire, &people[0].link_path).await;
    let page = claire.get("/reports/new").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let csrf = page.csrf();
    assert!(!csrf.is_empty());
    (claire, csrf)
}

async fn submit_with_file(
    claire: &mut Client,
    csrf: &str,
    filename: &str,
    bytes: &[u8],
) -> common::Page {
    claire
        .post_multipart(
            "/reports",
            &[
                ("csrf", csrf),
                ("category", "online_abuse"),
                ("what", "Abusive messages sent to my campaign inbox"),
                ("happening_now", "no"),
            ],
            &[("evidence", filename, bytes)],
        )
        .await
}

async fn report_count(db: &TestDb) -> usize {
    db.store
        .reports(&ReportFilter::default())
        .await
        .unwrap()
        .len()
}

/// The id in a `/reports/{id}?sent=1` redirect.
fn created_id(page: &common::Page) -> i64 {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    let location = page.location.as_deref().unwrap();
    location
        .strip_prefix("/reports/")
        .and_then(|rest| rest.strip_suffix("?sent=1"))
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("unexpected redirect {location}"))
}

/// The evidence list of a report page.
fn evidence_section(body: &str) -> &str {
    let start = body
        .find(r#"id="evidence""#)
        .expect("the page lists evidence");
    let end = body[start..].find("</ul>").unwrap() + start;
    &body[start..end]
}

async fn evidence_upload_rejects_disguised_executable(db: TestDb) {
    let (mut claire, csrf) = claire_at_the_form(&db).await;
    let mut program = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
    program.extend_from_slice(b"This program cannot be run in DOS mode.\r\r\n$");
    program.extend(std::iter::repeat_n(0u8, 512));
    let page = submit_with_file(&mut claire, &csrf, "photo.jpg", &program).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.text());
    let text = page.text();
    assert!(text.contains("looks like a program"), "{text}");
    // The form comes back with what was typed, and nothing was stored.
    assert!(
        text.contains("Abusive messages sent to my campaign inbox"),
        "{text}"
    );
    assert_eq!(report_count(&db).await, 0);
}

async fn evidence_oversize_is_413_with_a_clear_message(db: TestDb) {
    let (mut claire, csrf) = claire_at_the_form(&db).await;
    let big = vec![b'a'; shield_domain::evidence::MAX_EVIDENCE_BYTES + 1];
    let page = submit_with_file(&mut claire, &csrf, "screenshots.txt", &big).await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    let text = page.text();
    assert!(text.contains("The upload is too large"), "{text}");
    assert!(
        text.contains("screenshots is larger than 10 MB"),
        "names the file and the limit: {text}"
    );
    assert!(text.contains("Your report has not been sent yet"), "{text}");
    assert_eq!(report_count(&db).await, 0);
    // A file of exactly the limit is accepted.
    let fits = vec![b'a'; shield_domain::evidence::MAX_EVIDENCE_BYTES];
    let page = submit_with_file(&mut claire, &csrf, "screenshots.txt", &fits).await;
    created_id(&page);
    assert_eq!(report_count(&db).await, 1);
}

async fn evidence_traversal_filename_is_ignored(db: TestDb) {
    let (mut claire, csrf) = claire_at_the_form(&db).await;
    let page = submit_with_file(
        &mut claire,
        &csrf,
        "../../etc/passwd",
        b"root:x:0:0 is what the troll pasted at me\n",
    )
    .await;
    let id = created_id(&page);
    let page = claire.get(&format!("/reports/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let list = evidence_section(&page.body);
    assert!(list.contains(">passwd.txt</a>"), "{list}");
    assert!(!list.contains("etc"), "{list}");
    assert!(!list.contains(".."), "{list}");
    assert!(!page.body.contains("../"), "no path anywhere on the page");
    let evidence = db.store.report_evidence(id).await.unwrap();
    assert_eq!(evidence.len(), 1);
    let (_, headers, _) = claire
        .get_bytes(&format!("/reports/{id}/evidence/{}", evidence[0].id))
        .await;
    assert_eq!(
        headers[header::CONTENT_DISPOSITION],
        r#"attachment; filename="passwd.txt""#
    );
}

async fn evidence_is_stored_as_ciphertext_and_downloads_with_matching_hash(db: TestDb) {
    let (mut claire, csrf) = claire_at_the_form(&db).await;
    let plaintext =
        "From the comments: we know where your office is, Claire, and we'll be waiting.\n";
    let page = submit_with_file(&mut claire, &csrf, "comments.txt", plaintext.as_bytes()).await;
    let id = created_id(&page);

    let evidence = db.store.report_evidence(id).await.unwrap();
    assert_eq!(evidence.len(), 1);
    let meta = &evidence[0];
    assert_eq!(meta.kind, "text");
    assert_eq!(meta.size as usize, plaintext.len());
    let (_, sealed) = db
        .store
        .evidence_content(id, meta.id)
        .await
        .unwrap()
        .unwrap();
    let contains =
        |haystack: &[u8], needle: &[u8]| haystack.windows(needle.len()).any(|w| w == needle);
    assert!(!contains(&sealed, plaintext.as_bytes()));
    assert!(!contains(&sealed, b"we know where"));
    assert!(!contains(&meta.sealed_filename, b"comments"));

    // The page shows the recorded hash; the download matches it.
    let page = claire.get(&format!("/reports/{id}")).await;
    let list = evidence_section(&page.body);
    assert!(list.contains(">comments.txt</a>"), "{list}");
    assert!(list.contains(&format!("SHA-256 {}", meta.sha256)), "{list}");

    let (status, headers, body) = claire
        .get_bytes(&format!("/reports/{id}/evidence/{}", meta.id))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, plaintext.as_bytes());
    let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(hex(&Sha256::digest(&body)), meta.sha256);
    assert_eq!(headers["x-evidence-sha256"], meta.sha256.as_str());
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
