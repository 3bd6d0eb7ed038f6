//! Journey 7 in a real headless Chromium at phone size, with the real model (fetched by
//! `scripts/fetch-model`, as the test command does): a candidate finds "Check messages you
//! received" on her home page, pastes four messages, sees the threat flagged with its words
//! marked; sees listed apart, as worth a look, a threat the model scored just under the line and
//! a rule match the model vetoed; and reports the first of those in one click. Runs without
//! JavaScript's help: plain forms.

mod common;

use std::sync::Arc;

use shield_testkit::page::{
    arrive, arrive_at, click, fill, fits_sideways, snapshot, text as body_text,
};
use shield_testkit::{Browser, TestDb, both_backends};

both_backends!(journey_scan_flags_and_puts_up_a_second_look);

const THREAT: &str = "I will stab you tomorrow at your surgery";
/// Scored about 0.32 by the committed heads (stop 21): under the line (0.5), in the band (from 0.2).
const CLOSE: &str = "u aint gonna see the results mate";
/// A rule matches ("you're next") but the model is all but certain it is no threat (stop 20's
/// veto): not flagged, put up for a look under "Rule matched".
const NEXT: &str = "You're next! Congratulations to Priya, our new branch chair from January.";
const FINE: &str = "Great speech today, well done";

async fn journey_scan_flags_and_puts_up_a_second_look(db: TestDb) {
    let models =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/all-MiniLM-L6-v2");
    let scanner = shield::scanner::DetectScanner::load(&models);
    let app = common::live::LiveApp::start_with_scanner(&db, Some(Arc::new(scanner))).await;
    let browser = Browser::phone().await;
    let c = &browser.client;
    common::live::enrol_with_password_and_totp(c, &app.base, &app.people[0].link_path).await;

    c.goto(&format!("{}/home", app.base)).await.unwrap();
    click(c, "#check-messages").await;
    arrive_at(c, "/scan").await;
    let text = body_text(c).await;
    assert!(text.contains("rules and the MiniLM model"), "{text}");
    fill(
        c,
        "#messages",
        &format!("{FINE}\n\n{CLOSE}\n\n{THREAT}\n\n{NEXT}"),
    )
    .await;
    click(c, "main form[action^='/scan'] button[type='submit']").await;
    arrive(c, "#results").await;
    let text = body_text(c).await;
    assert!(text.contains("1 of 4 messages flagged"), "{text}");
    assert!(text.contains("2 more worth a look"), "{text}");
    let results = text.split("messages flagged").nth(1).unwrap();
    let (flagged, looks) = results.split_once("worth a look").unwrap();
    assert!(flagged.contains("Threat of violence") && flagged.contains(THREAT));
    // The model's flag names the words its word-level reader weighed most.
    assert!(
        flagged.contains("Threat of violence: words the model's word-level reader weighed most:")
            && flagged.contains("\u{201c}stab"),
        "{flagged}"
    );
    assert!(looks.contains("Close to: Threat of violence") && looks.contains(CLOSE));
    assert!(looks.contains("Rule matched: Threat of violence") && looks.contains(NEXT));
    // The closer one is listed first.
    assert!(looks.find(CLOSE) < looks.find(NEXT), "{looks}");
    assert!(!results.contains(FINE), "{results}");
    let marked = arrive(c, ".flagged mark").await.text().await.unwrap();
    assert_eq!(marked, "I will stab you");
    for (id, name) in [("results", "scan-flagged"), ("close", "scan-worth-a-look")] {
        c.execute(
            "document.getElementById(arguments[0]).scrollIntoView();",
            vec![id.into()],
        )
        .await
        .unwrap();
        snapshot(c, name).await;
    }
    fits_sideways(c, "the scan results").await;

    // One click on the message worth a look: a report of the threat it came close to.
    click(c, "#close ~ .message form button[type='submit']").await;
    arrive(c, ".panel").await;
    let text = body_text(c).await;
    assert!(text.contains("Report sent"), "{text}");
    assert!(
        text.contains("Not flagged by the message scanner, but close to a threat of violence"),
        "{text}"
    );
    snapshot(c, "scan-reported").await;
    let reports = db.store.reports(&Default::default()).await.unwrap();
    assert_eq!(reports.len(), 1, "only the message clicked is reported");

    browser.close().await;
    app.shut_down().await;
}
