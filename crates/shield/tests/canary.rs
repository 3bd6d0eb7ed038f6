//! Planted personal data never reaches a log: run the journeys with every log level captured,
//! then look for the canaries in what was written.

mod common;

use std::sync::{Arc, Mutex, OnceLock};

use common::{Client, PASSWORD, enrol_with_password, sign_in, state};
use shield_testkit::{TestDb, both_backends};

both_backends!(canary_personal_data_never_logged);

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything logged by this test binary, at every level, from every crate.
fn logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        captured
    })
}

const ADDRESS: &str = "CANARY-ADDRESS 7 Quillfeather Row";
const CONTACT: &str = "CANARY-CONTACT Mo Quillfeather 07700 900999";

async fn canary_personal_data_never_logged(db: TestDb) {
    let logs = logs();
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let (state, clock) = state(db.store.clone());
    let people = shield::demo::invite_people(&state).await.unwrap();
    let mut client = Client::new(state.clone());
    let secret = enrol_with_password(&mut client, &people[0].link_path).await;
    let page = client.get("/details").await;
    client
        .post(
            "/details",
            &[
                ("csrf", &page.csrf()),
                ("home_address", ADDRESS),
                ("emergency_contact", CONTACT),
            ],
        )
        .await;
    client.get("/details").await;
    client.get("/?q=Claire+Whitfield").await;
    // A report, through the JSON API (the form shares its code): its text, the offender's
    // handle, a message and the report page must never reach a log.
    let home = client.get("/home").await;
    let created = client
        .post_json(
            "/api/reports",
            &home.csrf(),
            &serde_json::json!({
                "category": "threat_of_violence",
                "what": "CANARY-THREAT he said he would burn Quillfeather Row down",
                "who": "@canary_offender",
                "happening_now": true,
            }),
        )
        .await;
    assert_eq!(created.status, axum::http::StatusCode::CREATED, "{}", created.text());
    let id = serde_json::from_str::<serde_json::Value>(&created.text()).unwrap()["id"]
        .as_i64()
        .unwrap();
    let page = client.get(&format!("/reports/{id}")).await;
    assert!(page.text().contains("CANARY-THREAT"));
    client
        .post(
            &format!("/reports/{id}/messages"),
            &[("csrf", &page.csrf()), ("body", "CANARY-MESSAGE Quillfeather")],
        )
        .await;
    // Failures too: a wrong password, an unknown account, a wrong code.
    let mut other = Client::new(state.clone());
    sign_in(
        &mut other,
        "claire.whitfield@civic.example",
        "CANARY-WRONG-PASSWORD",
        &secret,
    )
    .await;
    sign_in(
        &mut other,
        "canary.unknown@civic.example",
        PASSWORD,
        &secret,
    )
    .await;
    clock.advance_ms(120_000);
    let page = other.get("/sign-in").await;
    other
        .post(
            "/sign-in",
            &[
                ("csrf", &page.csrf()),
                ("email", "claire.whitfield@civic.example"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let page = other.get("/sign-in/code").await;
    other
        .post(
            "/sign-in/code",
            &[("csrf", &page.csrf()), ("code", "000000")],
        )
        .await;
    // And the invitation email on its way out.
    let sink = shield_testkit::SmtpSink::start().await;
    let mut config = shield::config::Config::load_from(Default::default(), |_| None).unwrap();
    config.smtp_url = Some(format!("smtp://127.0.0.1:{}", sink.port()).into());
    let worker = shield::mail::worker(&config, &state, "http://localhost")
        .unwrap()
        .unwrap();
    worker.tick().await.unwrap();

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        !text.is_empty(),
        "the journeys logged nothing at all: the capture is broken"
    );
    let token = people[0].link_path.trim_start_matches("/invitations/");
    for canary in [
        "Quillfeather",
        "CANARY",
        "Claire",
        "Whitfield",
        "claire.whitfield",
        "canary.unknown",
        "civic.example",
        "Harrowfield",
        "canary_offender",
        "burn",
        PASSWORD,
        token,
    ] {
        assert!(!text.contains(canary), "{canary:?} appears in the logs");
    }
}
