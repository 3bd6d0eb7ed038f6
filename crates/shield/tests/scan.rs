//! Issue 8 in the app: a candidate pastes messages or uploads an export, sees the flagged ones
//! by severity with the matched words highlighted, and reports one in one click, the message
//! becoming evidence with its SHA-256 recorded. The rules tier is used (deterministic) except in
//! the long-letter test, which loads the model to see the passage it flagged marked on the page,
//! and the second-look test, which needs the model's scores under the line.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::{Client, enrol_with_password, state};
use sha2::{Digest, Sha256};
use shield_testkit::{TestDb, both_backends};

both_backends!(
    pasted_messages_are_flagged_by_severity_with_highlights,
    export_formats_are_read_and_bad_ones_named,
    one_click_report_makes_a_report_with_the_message_as_evidence,
    scan_api_returns_labels_scores_and_spans,
    opted_in_high_confidence_threats_are_reported_once_by_themselves,
    a_long_letter_flagged_by_the_model_marks_the_passage,
    a_threat_close_to_the_line_is_put_up_for_a_look,
);

const THREAT: &str = "I will stab you tomorrow at your surgery";
const DOX: &str = "She lives at 14 Acacia Avenue, Reading RG1 2AB, go and visit her";
const ABUSE: &str = "you are a useless lying idiot";
const FINE: &str = "Great speech today, well done";

async fn claire(db: &TestDb) -> Client {
    claire_with(db, shield::scanner::DetectScanner::rules_only()).await
}

async fn claire_with(db: &TestDb, scanner: shield::scanner::DetectScanner) -> Client {
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let (state, _) = state(db.store.clone());
    let state = state.with_scanner(Arc::new(scanner));
    let people = shield::demo::invite_people(&state).await.unwrap();
    let mut client = Client::new(state);
    enrol_with_password(&mut client, &people[0].link_path).await;
    client
}

/// The scanner with the real model, as `scripts/fetch-model` installs it.
fn with_model() -> shield::scanner::DetectScanner {
    shield::scanner::DetectScanner::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/all-MiniLM-L6-v2"),
    )
}

/// Pastes `pasted` on `/scan` and returns the page, which must be a 200.
async fn paste(c: &mut Client, pasted: &str) -> common::Page {
    let csrf = c.get("/scan").await.csrf();
    let page = c
        .post_multipart("/scan", &[("csrf", &csrf), ("messages", pasted)], &[])
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    page
}

/// Posts `messages` to `/api/scan` and returns its JSON body, which must be a 200.
async fn api_scan(c: &mut Client, csrf: &str, messages: serde_json::Value) -> serde_json::Value {
    let page = c
        .post_json(
            "/api/scan",
            csrf,
            &serde_json::json!({ "messages": messages }),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    serde_json::from_str(&page.text()).unwrap()
}

async fn pasted_messages_are_flagged_by_severity_with_highlights(db: TestDb) {
    let mut c = claire(&db).await;
    let page = paste(&mut c, &format!("{ABUSE}\n\n{FINE}\n\n{DOX}\n\n{THREAT}")).await;
    let html = page.body.clone();
    assert!(html.contains("3 of 4 messages flagged"), "{html}");
    // The results, after the form (which shows the pasted text again).
    let html = html.split("messages flagged").nth(1).unwrap().to_owned();
    // Most severe first: the threat, then the doxxing, then the abuse; the fine one not at all.
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("{s} missing"));
    assert!(at("will stab you") < at("Acacia Avenue") && at("Acacia Avenue") < at("lying idiot"));
    assert!(!html.contains(FINE), "the unflagged message is not listed");
    assert!(html.contains("<mark>I will stab you</mark>"), "{html}");
    // Nothing is stored by scanning.
    assert!(
        db.store
            .reports(&Default::default())
            .await
            .unwrap()
            .is_empty()
    );
}

async fn export_formats_are_read_and_bad_ones_named(db: TestDb) {
    let mut c = claire(&db).await;
    let csrf = c.get("/scan").await.csrf();
    let csv = format!(
        "author,handle,time,link,text\nA Voter,@voter1,2029-04-01 20:00,https://x.example/1,\"{THREAT}\"\nB,@b,,,\"{FINE}\"\n"
    );
    let page = c
        .post_multipart(
            "/scan",
            &[("csrf", &csrf)],
            &[("export", "replies.csv", csv.as_bytes())],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(page.text().contains("1 of 2 messages flagged") && page.text().contains("@voter1"));

    let json = format!(r#"{{"messages":[{{"text":"{DOX}","handle":"@doxer"}}]}}"#);
    let page = c
        .post_multipart(
            "/scan",
            &[("csrf", &csrf)],
            &[("export", "dm.json", json.as_bytes())],
        )
        .await;
    assert!(
        page.text().contains("1 of 1 message flagged"),
        "{}",
        page.text()
    );

    let eml = format!(
        "From: Angry <angry@example.net>\r\nDate: Mon, 1 Apr 2029 20:00:00 +0100\r\nSubject: tonight\r\n\r\n{THREAT}\r\n"
    );
    let page = c
        .post_multipart(
            "/scan",
            &[("csrf", &csrf)],
            &[("export", "mail.eml", eml.as_bytes())],
        )
        .await;
    assert!(
        page.text().contains("1 of 1 message flagged"),
        "{}",
        page.text()
    );

    let mbox = format!(
        "From a@example.net Mon Apr  1 20:00:00 2029\nFrom: a@example.net\n\n{THREAT}\n\nFrom b@example.net Mon Apr  1 21:00:00 2029\nFrom: b@example.net\n\n{FINE}\n"
    );
    let page = c
        .post_multipart(
            "/scan",
            &[("csrf", &csrf)],
            &[("export", "box.mbox", mbox.as_bytes())],
        )
        .await;
    assert!(
        page.text().contains("1 of 2 messages flagged"),
        "{}",
        page.text()
    );

    // A bad file: the error names the file, the line and the field; nothing is scanned.
    let page = c
        .post_multipart(
            "/scan",
            &[("csrf", &csrf)],
            &[("export", "replies.csv", b"text,author\nhello,A\n,B\n")],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.text()
            .contains("replies.csv: line 3, field `text`: is empty"),
        "{}",
        page.text()
    );
}

async fn one_click_report_makes_a_report_with_the_message_as_evidence(db: TestDb) {
    let mut c = claire(&db).await;
    let csrf = c.get("/scan").await.csrf();
    let page = c
        .post(
            "/scan/report",
            &[
                ("csrf", &csrf),
                ("text", THREAT),
                ("author", "A Voter"),
                ("handle", "@voter1"),
                ("time", "2029-04-01 20:00"),
                ("link", "https://x.example/1"),
            ],
        )
        .await;
    let (location, id) = new_report(&page);
    let report = db.store.report(id).await.unwrap().unwrap();
    assert_eq!(
        report.category,
        shield_domain::report::Category::ThreatOfViolence
    );
    assert_eq!(
        report.priority,
        shield_domain::report::Priority::P1,
        "{:?}",
        report.reasons
    );
    let page = c.get(&location).await;
    let html = page.text();
    assert!(
        html.contains("Flagged by the message scanner as threat of violence"),
        "{html}"
    );
    assert!(html.contains("message.txt"), "{html}");
    // The evidence is the message as received; its hash matches the recorded one.
    let evidence = db.store.report_evidence(id).await.unwrap();
    assert_eq!(evidence.len(), 1);
    let (status, _, bytes) = c
        .get_bytes(&format!("/reports/{id}/evidence/{}", evidence[0].id))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(hex_sha(&bytes), evidence[0].sha256);
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains(THREAT) && text.contains("@voter1"), "{text}");
    // The offender's handle is searchable by the police (blind index), not stored in clear.
    assert_eq!(
        db.store
            .reports_by_offender(&shield_crypto::blind_index_all(
                &c.state.keys,
                "offender",
                "voter1"
            ))
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Where a one-click report redirected to, and the new report's id.
fn new_report(page: &common::Page) -> (String, i64) {
    let location = page.location.clone().expect("a redirect to the new report");
    let id = location
        .strip_prefix("/reports/")
        .and_then(|rest| rest.split('?').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("not a report: {location}"));
    (location, id)
}

/// Reports `text` with the page's one-click button; returns the new report's category and
/// the text of the report's page.
async fn one_click(
    c: &mut Client,
    db: &TestDb,
    csrf: &str,
    text: &str,
) -> (shield_domain::report::Category, String) {
    let page = c
        .post("/scan/report", &[("csrf", csrf), ("text", text)])
        .await;
    let (location, id) = new_report(&page);
    let report = db.store.report(id).await.unwrap().unwrap();
    (report.category, c.get(&location).await.text())
}

fn hex_sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn scan_api_returns_labels_scores_and_spans(db: TestDb) {
    let mut c = claire(&db).await;
    let csrf = c.get("/scan").await.csrf();
    let body = api_scan(
        &mut c,
        &csrf,
        serde_json::json!([
            { "id": "a", "text": THREAT },
            { "id": "b", "text": FINE },
        ]),
    )
    .await;
    let results = body["results"].as_array().unwrap();
    assert_eq!(results[0]["id"], "a");
    assert_eq!(results[0]["labels"], serde_json::json!(["threat_violence"]));
    assert!(results[0]["scores"]["threat_violence"].as_f64().unwrap() >= 0.5);
    assert_eq!(results[0]["spans"][0]["start"], 0);
    assert_eq!(results[1]["labels"], serde_json::json!([]));
    // Without the CSRF header: refused.
    let mut other = Client::new(c.state.clone());
    other.cookie = c.cookie.clone();
    let page = other
        .post_json("/api/scan", "wrong", &serde_json::json!({ "messages": [] }))
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

async fn opted_in_high_confidence_threats_are_reported_once_by_themselves(db: TestDb) {
    let mut c = claire(&db).await;
    let page = c.get("/scan").await;
    assert!(page.text().contains("Automatic reports: off"));
    let csrf = page.csrf();
    let pasted = format!("{THREAT}\n\n{ABUSE}");
    // Off (the default): nothing is reported without a click.
    c.post_multipart("/scan", &[("csrf", &csrf), ("messages", &pasted)], &[])
        .await;
    assert!(
        db.store
            .reports(&Default::default())
            .await
            .unwrap()
            .is_empty()
    );
    // On: the threat is reported by itself; the abuse waits for a click.
    let saved = c
        .post("/scan/settings", &[("csrf", &csrf), ("auto_report", "yes")])
        .await;
    assert_eq!(saved.location.as_deref(), Some("/scan?saved=1"));
    let page = c
        .post_multipart("/scan", &[("csrf", &csrf), ("messages", &pasted)], &[])
        .await;
    assert!(
        page.text().contains("Reported automatically: R-00001"),
        "{}",
        page.text()
    );
    let reports = db.store.reports(&Default::default()).await.unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(
        reports[0].category,
        shield_domain::report::Category::ThreatOfViolence
    );
    // The same message again: still one report.
    let page = c
        .post_multipart("/scan", &[("csrf", &csrf), ("messages", &pasted)], &[])
        .await;
    assert!(page.text().contains("Reported automatically: R-00001"));
    assert_eq!(
        db.store.reports(&Default::default()).await.unwrap().len(),
        1
    );
    // The change is on the audit record.
    let events = db.store.audit_events(0, 10_000).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.event.action().as_str() == "scan_settings_changed")
    );
}

/// With the model (fetched by `scripts/fetch-model`, as the test command does), a threat at the
/// end of a long letter that opens by mentioning a crime reported to the police is flagged by the
/// model, and the page marks the passage the model read it in, since no rule phrase survives to
/// be highlighted.
async fn a_long_letter_flagged_by_the_model_marks_the_passage(db: TestDb) {
    let mut c = claire_with(&db, with_model()).await;
    assert!(
        c.get("/scan")
            .await
            .text()
            .contains("rules and the MiniLM model"),
        "the model is installed"
    );
    let preamble = "Dear Councillor, I am writing again about the pavements near the park and the bus \
        shelter by the shops, which has been broken for three months. My neighbours and I have \
        asked for it to be fixed twice and nobody has come. The bins are also collected late \
        every other week and the street lights by the school crossing keep going out, which \
        worries the parents. ";
    let letter = format!(
        "Last year someone smashed my car window and I reported it to the police, who never came \
         back to me. {}Sort it out or I will come to your house and stab you, I mean it.",
        preamble.repeat(2)
    );
    let page = paste(&mut c, &letter).await;
    let html = page.body.split("id=\"results\"").nth(1).map(str::to_owned);
    let html = html.unwrap_or_else(|| panic!("{}", page.text()));
    assert!(
        html.contains("the passage of this long message the model found strongest"),
        "{html}"
    );
    let marked = html
        .split("<mark>")
        .nth(1)
        .and_then(|m| m.split("</mark>").next());
    let marked = marked.unwrap_or_else(|| panic!("nothing marked: {html}"));
    assert!(
        marked.ends_with("I will come to your house and stab you, I mean it."),
        "{marked}"
    );
    assert!(
        !marked.contains("reported it"),
        "only the passage is marked: {marked}"
    );
}

/// A threat the model scores under the line but within the review band (the committed heads
/// give it about 0.32; flagged from 0.5, put up for a look from 0.2) is listed apart from the
/// flagged messages, not styled as a threat, and one click reports it as the threat it came
/// close to. If retrained heads or new rules move this message out of the band, pick another near 0.35
/// (stop 18's rules now flag the one used before, "i'll cave your head in with a brick").
/// Stop 19's fused heads flag the abusive one used before ("… YOU WILL PAY WITH YOUR BLOOD"),
/// stop 20's lower violence threshold the next ("you thieving scumbag, you will pay for what
/// you did"), and stop 21's heads "you thieving scumbag, karma will catch up with you" (0.73).
async fn a_threat_close_to_the_line_is_put_up_for_a_look(db: TestDb) {
    const CLOSE: &str = "u aint gonna see the results mate";
    let mut c = claire_with(&db, with_model()).await;
    let page = paste(&mut c, &format!("{FINE}\n\n{CLOSE}\n\n{THREAT}")).await;
    let csrf = c.get("/scan").await.csrf();
    let html = page.body.split("id=\"results\"").nth(1).unwrap().to_owned();
    assert!(html.contains("1 of 3 messages flagged"), "{html}");
    let (flagged, looks) = html
        .split_once("id=\"close\"")
        .unwrap_or_else(|| panic!("no second-look section: {html}"));
    assert!(flagged.contains("will stab you") && !flagged.contains(CLOSE));
    assert!(looks.contains("1 more worth a look"), "{looks}");
    assert!(looks.contains("Close to: Threat of violence"), "{looks}");
    assert!(looks.contains(CLOSE), "{looks}");
    assert!(!looks.contains("tag--red") && !html.contains(FINE));
    // The API says the same.
    let body = api_scan(
        &mut c,
        &csrf,
        serde_json::json!([{ "id": "c", "text": CLOSE }, { "id": "f", "text": FINE }]),
    )
    .await;
    assert_eq!(body["results"][0]["labels"], serde_json::json!([]));
    assert_eq!(
        body["results"][0]["review"],
        serde_json::json!(["threat_violence"])
    );
    assert_eq!(body["results"][1]["review"], serde_json::json!([]));
    // One click: reported as the threat it came close to, saying it was not flagged.
    let (category, html) = one_click(&mut c, &db, &csrf, CLOSE).await;
    assert_eq!(category, shield_domain::report::Category::ThreatOfViolence);
    assert!(
        html.contains("Not flagged by the message scanner, but close to a threat of violence"),
        "{html}"
    );
    // Flagged as abuse and close to a threat (about 0.31): listed with the flagged messages,
    // reported as abuse, and the report tells the police contact about the threat as well.
    const PAY: &str = "you thieving scumbag, enjoy your seat while it lasts";
    let page = paste(&mut c, PAY).await;
    let html = page.body.split("id=\"results\"").nth(1).unwrap().to_owned();
    assert!(html.contains("1 of 1 message flagged"), "{html}");
    assert!(html.contains("close to: Threat of violence"), "{html}");
    assert!(!html.contains("worth a look"), "{html}");
    let (category, html) = one_click(&mut c, &db, &csrf, PAY).await;
    assert_eq!(category, shield_domain::report::Category::OnlineAbuse);
    assert!(html.contains("and close to a threat of violence"), "{html}");
    // A rule matched ("you're next") but the model is all but certain this is no threat: it is
    // not flagged, yet it is put up for a look, saying which rule matched.
    const NEXT: &str = "You're next! Congratulations to Priya, our new branch chair from January.";
    let page = paste(&mut c, NEXT).await;
    let html = page.body.split("id=\"results\"").nth(1).unwrap().to_owned();
    assert!(html.contains("0 of 1 message flagged"), "{html}");
    let looks = html
        .split_once("id=\"close\"")
        .map(|(_, l)| l)
        .unwrap_or_else(|| panic!("{html}"));
    assert!(looks.contains("1 more worth a look"), "{looks}");
    assert!(
        looks.contains("Rule matched: Threat of violence"),
        "{looks}"
    );
    assert!(!looks.contains("Close to:"), "{looks}");
    assert!(
        looks.contains("Threat of violence: a rule matched") && looks.contains("not flagged"),
        "{looks}"
    );
    // The API puts it up for review too; one click reports it, saying what happened.
    let body = api_scan(
        &mut c,
        &csrf,
        serde_json::json!([{ "id": "n", "text": NEXT }]),
    )
    .await;
    assert_eq!(body["results"][0]["labels"], serde_json::json!([]));
    assert_eq!(
        body["results"][0]["review"],
        serde_json::json!(["threat_violence"])
    );
    let (category, html) = one_click(&mut c, &db, &csrf, NEXT).await;
    assert_eq!(category, shield_domain::report::Category::ThreatOfViolence);
    assert!(
        html.contains(
            "a rule matched a threat of violence, but its model read the message as none"
        ),
        "{html}"
    );
    // Flagged as abuse, with a threat rule the model vetoed: the report says both.
    const NEXT_ABUSE: &str = "You're next! Congratulations on the selection, you useless clown";
    let page = paste(&mut c, NEXT_ABUSE).await;
    let html = page.body.split("id=\"results\"").nth(1).unwrap().to_owned();
    assert!(html.contains("1 of 1 message flagged"), "{html}");
    assert!(
        html.contains("a rule also matched (model read it as none): Threat of violence")
            && !html.contains("close to: Threat of violence"),
        "{html}"
    );
    let (category, html) = one_click(&mut c, &db, &csrf, NEXT_ABUSE).await;
    assert_eq!(category, shield_domain::report::Category::OnlineAbuse);
    assert!(
        html.contains("a rule also matched a threat of violence, which its model read as none"),
        "{html}"
    );
}
