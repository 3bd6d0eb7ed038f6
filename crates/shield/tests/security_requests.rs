//! Requests for additional security (journey 5) over HTTP: the request, the assessment, the
//! rule that the assessor never decides, the decision the candidate reads, reconsideration,
//! the deadlines with an injected clock, and the coordinators' CSV and consistency view on a
//! seeded database.

mod common;

use axum::http::StatusCode;
use common::accounts::{audit, session_for, signed_in, user_of};
use common::{Client, enrol_with_password, state};
use serde_json::{Value, json};
use shield_domain::security::Factor;
use shield_domain::{Clock, ForceCode, Role};
use shield_store::{NewDecision, SecurityRefusal};
use shield_testkit::{TestDb, both_backends};
use shield_web::AppState;

both_backends!(
    assessor_cannot_approve_own_recommendation,
    security_request_deadlines_escalate_lead_deputy_coordinator,
    seeded_requests_fill_the_csv_and_the_consistency_view,
);

const HOUR: i64 = 3_600_000;
const RATIONALE: &str = "Fixated sender has found the office; rationale only police see";
const REASONS: &str =
    "We will send officers to the hustings on 20 June. A home survey is not needed now.";

/// Claire Whitfield (Thames Valley), enrolled and signed in.
async fn claire(state: &AppState) -> Client {
    let people = shield::demo::invite_people(state).await.unwrap();
    let mut claire = Client::new(state.clone());
    enrol_with_password(&mut claire, &people[0].link_path).await;
    claire
}

fn tv() -> ForceCode {
    ForceCode::parse("E23000029").unwrap()
}

/// Every factor scored: a fixated, escalating sender who has approached, at a public event.
fn assessment_form(csrf: &str, action: &str) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = vec![
        ("csrf".into(), csrf.into()),
        ("action".into(), action.into()),
        ("rationale".into(), RATIONALE.into()),
        ("recommendation".into(), "approve_in_part".into()),
        ("measure_police_presence".into(), "yes".into()),
    ];
    for (i, f) in Factor::ALL.iter().enumerate() {
        form.push((f.key().into(), ((i % 3) + 1).min(3).to_string()));
    }
    form
}

async fn post_owned(client: &mut Client, path: &str, form: &[(String, String)]) -> common::Page {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    client.post(path, &pairs).await
}

async fn make_request(claire: &mut Client) -> i64 {
    let page = claire.get("/security-requests/new").await;
    assert_eq!(page.status, StatusCode::OK);
    let page = claire
        .post(
            "/security-requests",
            &[
                ("csrf", &page.csrf()),
                ("kind", "police_presence"),
                ("period", "The hustings at the town hall on 20 June"),
                ("reasons", "The man who follows me says he will be there"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    page.location
        .unwrap()
        .trim_start_matches("/security-requests/")
        .parse()
        .unwrap()
}

async fn assessor_cannot_approve_own_recommendation(db: TestDb) {
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let (state, _clock) = state(db.store.clone());
    let mut claire = claire(&state).await;
    let (mut assessor, assessor_id) =
        signed_in(&state, Role::Coordinator, "coord.a@shield.example", vec![]).await;
    let (mut decider, _) =
        signed_in(&state, Role::Coordinator, "coord.b@shield.example", vec![]).await;

    // A form with nothing in it: the error summary names the fields, nothing is written.
    let page = claire.get("/security-requests/new").await;
    let bad = claire
        .post(
            "/security-requests",
            &[("csrf", &page.csrf()), ("kind", "")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text().contains("There is a problem"), "{}", bad.text());
    assert!(bad.body.contains("href=\"#kind\"") && bad.body.contains("href=\"#reasons\""));
    let none = db
        .store
        .security_requests(&Default::default())
        .await
        .unwrap();
    assert!(none.is_empty());

    let id = make_request(&mut claire).await;
    let shown = claire.get(&format!("/security-requests/{id}")).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.text().contains("Waiting for a risk assessment"));

    // The coordinator assesses: a preview shows the derived rating and why, then it is saved.
    let form_page = assessor
        .get(&format!("/security-requests/{id}/assess"))
        .await;
    assert_eq!(form_page.status, StatusCode::OK);
    assert!(form_page.text().contains(Factor::Fixation.questions()));
    let csrf = form_page.csrf();
    let preview = post_owned(
        &mut assessor,
        &format!("/security-requests/{id}/assess"),
        &assessment_form(&csrf, "preview"),
    )
    .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text());
    assert!(
        preview.text().contains("Overall rating"),
        "{}",
        preview.text()
    );
    assert!(preview.text().contains("Threat factors total"));
    assert_eq!(
        db.store.security_request(id).await.unwrap().unwrap().status,
        "awaiting_assessment",
        "a preview saves nothing"
    );
    let saved = post_owned(
        &mut assessor,
        &format!("/security-requests/{id}/assess"),
        &assessment_form(&csrf, "save"),
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let record = db.store.security_request(id).await.unwrap().unwrap();
    assert_eq!(record.status, "awaiting_decision");
    assert_eq!(record.assessed_by, Some(assessor_id.0));
    assert!(record.rating.is_some());

    // The assessor tries to decide: refused over HTTP (page and API), nothing written.
    let events_before = db.store.security_events(id).await.unwrap();
    let outbox_before = db.store.outbox_counts().await.unwrap();
    let own = assessor.get(&format!("/security-requests/{id}")).await;
    assert!(
        own.text().contains("another coordinator must decide"),
        "{}",
        own.text()
    );
    assert!(!own.body.contains("id=\"decide\""));
    assert_eq!(
        assessor
            .get(&format!("/security-requests/{id}/decide"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let refused = assessor
        .post(
            &format!("/security-requests/{id}/decide"),
            &[
                ("csrf", &csrf),
                ("decision", "approve"),
                ("reasons", "I approve my own recommendation"),
                ("review", "2099-01-01"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let api = assessor
        .post_json(
            &format!("/api/security-requests/{id}/decision"),
            &csrf,
            &json!({ "decision": "approve", "reasons": "mine", "review": "2099-01-01" }),
        )
        .await;
    assert_eq!(api.status, StatusCode::FORBIDDEN, "{}", api.body);
    // And the store refuses it whatever a caller checked.
    let direct = db
        .store
        .decide_security_request(
            id,
            assessor_id,
            &NewDecision {
                decision: "approve".into(),
                reasons: "straight to the store".into(),
                review_at_ms: state.clock.now_ms() + 24 * HOUR,
            },
            &shield_web::sealing::RingSealer(state.keys.clone()),
            state.clock.now_ms(),
            &audit(&state, "security_decided"),
        )
        .await
        .unwrap();
    assert_eq!(direct, Err(SecurityRefusal::OwnRecommendation));
    let record = db.store.security_request(id).await.unwrap().unwrap();
    assert_eq!(record.status, "awaiting_decision");
    assert_eq!(
        (record.decided_by, record.decision.as_deref()),
        (None, None)
    );
    assert_eq!(db.store.security_events(id).await.unwrap(), events_before);
    assert_eq!(db.store.outbox_counts().await.unwrap(), outbox_before);

    // Another coordinator decides, with reasons for the candidate and a review date.
    let page = decider
        .get(&format!("/security-requests/{id}/decide"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text().contains(RATIONALE),
        "the decider reads the rationale"
    );
    let missing = decider
        .post(
            &format!("/security-requests/{id}/decide"),
            &[("csrf", &page.csrf())],
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(missing.body.contains("href=\"#review\""));
    let decided = decider
        .post(
            &format!("/security-requests/{id}/decide"),
            &[
                ("csrf", &page.csrf()),
                ("decision", "approve_in_part"),
                ("reasons", REASONS),
                ("review", "2099-01-01"),
            ],
        )
        .await;
    assert_eq!(decided.status, StatusCode::SEE_OTHER, "{}", decided.text());
    let events = db.store.security_events(id).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "notified" && e.detail.contains("security_decided")),
        "the candidate is told"
    );

    // The candidate sees the decision and the reasons, not the rating or the rationale.
    let page = claire.get(&format!("/security-requests/{id}")).await;
    let text = page.text();
    assert!(
        text.contains("Approved in part") && text.contains(REASONS),
        "{text}"
    );
    assert!(text.contains("1 January 2099"));
    assert!(!text.contains(RATIONALE) && !text.contains("Overall rating"));
    let api: Value = serde_json::from_str(
        &claire
            .get(&format!("/api/security-requests/{id}"))
            .await
            .body,
    )
    .unwrap();
    assert_eq!(api["decision"], "approve_in_part");
    assert!(
        api["assessment"].is_null() && api["rating"].is_null(),
        "{api}"
    );

    // Reconsideration with new information goes back to assessment.
    let page = claire
        .post(
            &format!("/security-requests/{id}/reconsider"),
            &[
                ("csrf", &page.csrf()),
                ("information", "He has now posted my home address"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let record = db.store.security_request(id).await.unwrap().unwrap();
    assert_eq!(
        (record.status.as_str(), record.reconsiderations),
        ("awaiting_assessment", 1)
    );
    let page = assessor.get(&format!("/security-requests/{id}")).await;
    assert!(page.text().contains("He has now posted my home address"));
}

async fn security_request_deadlines_escalate_lead_deputy_coordinator(db: TestDb) {
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let (state, clock) = state(db.store.clone());
    let claire = claire(&state).await;
    let claire_user = user_of(&claire).await;
    let mut claire = claire;
    let (_, contact_user) = signed_in(
        &state,
        Role::ForceContact,
        "tv.a@police.example",
        vec![tv()],
    )
    .await;
    signed_in(&state, Role::Coordinator, "coord@shield.example", vec![]).await;
    let csrf = claire.get("/security-requests/new").await.csrf();
    let made = claire
        .post_json(
            "/api/security-requests",
            &csrf,
            &json!({ "kind": "home_survey", "period": "Until polling day", "reasons": "Letters at home" }),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let id = serde_json::from_str::<Value>(&made.body).unwrap()["id"]
        .as_i64()
        .unwrap();
    let t0 = clock.now_ms();
    let record = db.store.security_request(id).await.unwrap().unwrap();
    assert_eq!(
        (record.tier.as_str(), record.due_at_ms),
        ("lead", Some(t0 + 72 * HOUR))
    );
    // The worker's timers include request deadlines.
    let timers = shield::mail::timers(&state);
    assert_eq!(timers.next_deadline().await.unwrap(), Some(t0 + 72 * HOUR));

    let overdue = |events: &[shield_store::SecurityEventRecord]| {
        events
            .iter()
            .filter(|e| e.kind == "notified" && e.detail.contains("security_overdue"))
            .count()
    };
    clock.set(t0 + 72 * HOUR - 1);
    assert_eq!(
        db.store
            .fire_due_security_deadlines(clock.now_ms(), 10)
            .await
            .unwrap()
            .fired,
        0
    );
    clock.set(t0 + 72 * HOUR);
    // Two firers at once: the deadline fires once.
    let (a, b) = tokio::join!(
        db.store.fire_due_security_deadlines(clock.now_ms(), 10),
        db.store.fire_due_security_deadlines(clock.now_ms(), 10)
    );
    assert_eq!(a.unwrap().fired + b.unwrap().fired, 1);
    let record = db.store.security_request(id).await.unwrap().unwrap();
    assert_eq!(
        (record.tier.as_str(), record.due_at_ms),
        ("deputy", Some(t0 + 144 * HOUR))
    );
    let events = db.store.security_events(id).await.unwrap();
    assert_eq!(
        overdue(&events),
        1,
        "the deputy (Sergeant Mark Ward) is told"
    );
    assert!(
        events
            .iter()
            .any(|e| e.kind == "escalated" && e.detail.contains("deputy"))
    );

    clock.set(t0 + 144 * HOUR);
    let fired = db
        .store
        .fire_due_security_deadlines(clock.now_ms(), 10)
        .await
        .unwrap();
    assert_eq!(
        (fired.fired, fired.notifications),
        (1, 1),
        "the one active coordinator"
    );
    let record = db.store.security_request(id).await.unwrap().unwrap();
    assert_eq!(
        (record.tier.as_str(), record.due_at_ms),
        ("coordinator", None)
    );
    clock.set(t0 + 400 * HOUR);
    assert_eq!(
        db.store
            .fire_due_security_deadlines(clock.now_ms(), 10)
            .await
            .unwrap()
            .fired,
        0
    );
    assert_eq!(db.store.next_security_deadline().await.unwrap(), None);

    // Linked to a P1 report: assessment and decision the same day (4 hours each). Days have
    // passed: everyone signs in again.
    let mut claire = session_for(&state, claire_user).await;
    let mut contact = session_for(&state, contact_user).await;
    let csrf = claire.get("/reports/new").await.csrf();
    let report = claire
        .post_json(
            "/api/reports",
            &csrf,
            &json!({ "category": "harassment_in_person", "what": "He is outside my office now", "happening_now": true }),
        )
        .await;
    let report: Value = serde_json::from_str(&report.body).unwrap();
    assert_eq!(report["priority"], "P1", "{report}");
    let t1 = clock.now_ms();
    let made = claire
        .post_json(
            "/api/security-requests",
            &csrf,
            &json!({ "kind": "close_protection", "period": "This week", "reasons": "He is outside", "reports": [report["id"]] }),
        )
        .await;
    let urgent = serde_json::from_str::<Value>(&made.body).unwrap()["id"]
        .as_i64()
        .unwrap();
    let record = db.store.security_request(urgent).await.unwrap().unwrap();
    assert!(record.urgent);
    assert_eq!(record.due_at_ms, Some(t1 + 4 * HOUR));
    // Another candidate's report cannot be linked.
    let refused = claire
        .post_json(
            "/api/security-requests",
            &csrf,
            &json!({ "kind": "other", "period": "x", "reasons": "y", "reports": [999_999] }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);

    // The force contact assesses over the API; the decision clock starts, also same day.
    let ccsrf = contact.get("/security-requests").await.csrf();
    let ccsrf = if ccsrf.is_empty() {
        state
            .store
            .session(&shield_web::auth::token::hash(
                contact.cookie.as_ref().unwrap(),
            ))
            .await
            .unwrap()
            .unwrap()
            .csrf_token
    } else {
        ccsrf
    };
    let scores: serde_json::Map<String, Value> = Factor::ALL
        .iter()
        .map(|f| (f.key().to_owned(), json!(3)))
        .collect();
    let assessed = contact
        .post_json(
            &format!("/api/security-requests/{urgent}/assessment"),
            &ccsrf,
            &json!({ "scores": scores, "recommendation": "approve", "measures": ["close_protection"], "rationale": "Very high" }),
        )
        .await;
    assert_eq!(assessed.status, StatusCode::OK, "{}", assessed.body);
    let body: Value = serde_json::from_str(&assessed.body).unwrap();
    assert_eq!(body["rating"], "very_high");
    let t2 = clock.now_ms();
    let record = db.store.security_request(urgent).await.unwrap().unwrap();
    assert_eq!(
        (record.tier.as_str(), record.due_at_ms),
        ("coordinator", Some(t2 + 4 * HOUR))
    );
    clock.set(t2 + 4 * HOUR);
    let fired = db
        .store
        .fire_due_security_deadlines(clock.now_ms(), 10)
        .await
        .unwrap();
    assert_eq!(
        fired.fired, 1,
        "an overdue decision goes to the coordinators again"
    );
    let events = db.store.security_events(urgent).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "escalated" && e.detail.contains("decision"))
    );
    assert_eq!(db.store.next_security_deadline().await.unwrap(), None);
}

async fn seeded_requests_fill_the_csv_and_the_consistency_view(db: TestDb) {
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let (state, clock) = state(db.store.clone());
    let seeded = shield::seed::security_requests(&state, 300, clock.now_ms())
        .await
        .unwrap();
    assert_eq!(seeded.requests, 300, "{seeded:?}");
    assert!(
        seeded.decided > 150 && seeded.assessed > seeded.decided,
        "{seeded:?}"
    );
    let (mut coordinator, _) =
        signed_in(&state, Role::Coordinator, "coord@shield.example", vec![]).await;

    let (status, headers, bytes) = coordinator.get_bytes("/security-requests/export.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert_eq!(text.lines().count(), 301);
    assert!(
        !text.contains("Seeded request") && !text.contains("Seeded decision"),
        "no written text"
    );
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (status_col, decision_col, rating_col) = (col("status"), col("decision"), col("rating"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 300);
    let decided: Vec<&csv::StringRecord> = rows
        .iter()
        .filter(|r| &r[status_col] == "decided")
        .collect();
    assert_eq!(decided.len(), seeded.decided);
    assert!(
        decided
            .iter()
            .all(|r| !r[decision_col].is_empty() && !r[rating_col].is_empty())
    );

    let api = coordinator.get("/api/security-requests/consistency").await;
    assert_eq!(api.status, StatusCode::OK);
    let c: Value = serde_json::from_str(&api.body).unwrap();
    let total = |v: &Value| {
        ["approve", "approve_in_part", "decline"]
            .iter()
            .map(|k| v[k].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(total(&c["total"]) as usize, seeded.decided);
    let by = |key: &str| {
        c[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| total(&r["counts"]))
            .sum::<u64>()
    };
    assert_eq!(by("by_rating") as usize, seeded.decided);
    assert_eq!(by("by_force") as usize, seeded.decided);
    // The counts by rating match the CSV, rating by rating.
    for row in c["by_rating"].as_array().unwrap() {
        let key = row["key"].as_str().unwrap();
        let in_csv = decided.iter().filter(|r| &r[rating_col] == key).count() as u64;
        assert_eq!(total(&row["counts"]), in_csv, "{key}");
    }
    let page = coordinator.get("/security-requests/consistency").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text()
            .contains(&format!("{} decisions", seeded.decided)),
        "{}",
        page.text()
    );
    let list = coordinator
        .get("/security-requests?status=decided&force=E23000029")
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.text().contains("Thames Valley"));
    assert_eq!(
        coordinator
            .get("/security-requests?status=nonsense")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    // A force contact sees their force's list, but not the national CSV or consistency view.
    let (mut contact, _) = signed_in(
        &state,
        Role::ForceContact,
        "tv.b@police.example",
        vec![tv()],
    )
    .await;
    assert_eq!(
        contact.get("/security-requests").await.status,
        StatusCode::OK
    );
    assert_eq!(
        contact.get("/security-requests/export.csv").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        contact.get("/security-requests/consistency").await.status,
        StatusCode::FORBIDDEN
    );
    // Hampshire serves part of Claire's seat (Thames Valley owns it): its contact sees the
    // requests of the candidates it serves, and can open every one it lists.
    let hants = ForceCode::parse("E23000030").unwrap();
    let (mut hants_contact, _) = signed_in(
        &state,
        Role::ForceContact,
        "hants@police.example",
        vec![hants],
    )
    .await;
    let listed: Value =
        serde_json::from_str(&hants_contact.get("/api/security-requests").await.body).unwrap();
    let listed = listed["requests"].as_array().unwrap();
    assert!(!listed.is_empty());
    for r in listed.iter().take(20) {
        let id = r["id"].as_i64().unwrap();
        let page = hants_contact.get(&format!("/security-requests/{id}")).await;
        assert_eq!(
            page.status,
            StatusCode::OK,
            "every listed request can be opened"
        );
    }
}
