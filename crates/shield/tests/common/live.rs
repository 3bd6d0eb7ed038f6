//! A live app for browser journeys: the demo election loaded, a worker delivering to a loopback
//! SMTP sink, the server on a loopback port, and the demo people's sign-up links. One copy for
//! every journey, so each test reads as its journey only.

use std::sync::Arc;

use fantoccini::{Client, Locator};
use shield::demo::DemoSignIn;
use shield_testkit::page::{arrive, click, fill};
use shield_testkit::{SmtpSink, TestDb};
use shield_web::AppState;

pub struct LiveApp {
    pub state: AppState,
    pub sink: SmtpSink,
    /// Claire (candidate), Inspector Helen Grant (police contact), the coordinator.
    pub people: Vec<DemoSignIn>,
    /// `http://localhost:PORT`: browsers keep secure cookies on plain HTTP only for localhost.
    pub base: String,
    pub port: u16,
    stop: tokio::sync::oneshot::Sender<()>,
    running: tokio::task::JoinHandle<()>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl LiveApp {
    pub async fn start(db: &TestDb) -> Self {
        Self::start_with_scanner(db, None).await
    }

    /// Like [`LiveApp::start`], with a message scanner for `/scan`.
    pub async fn start_with_scanner(
        db: &TestDb,
        scanner: Option<Arc<dyn shield_web::scan::Scanner>>,
    ) -> Self {
        shield::demo::load(db.store.as_ref()).await.unwrap();
        let sink = SmtpSink::start().await;
        let mut state = AppState::new(db.store.clone());
        if let Some(scanner) = scanner {
            state = state.with_scanner(scanner);
        }
        let mut config = shield::config::Config::load_from(Default::default(), |_| None).unwrap();
        config.smtp_url = Some(format!("smtp://127.0.0.1:{}", sink.port()).into());
        let worker = Arc::new(
            shield::mail::worker(&config, &state, "http://localhost")
                .unwrap()
                .unwrap(),
        );
        let state = state.with_worker(worker.handle());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(async move {
            worker
                .run_until(async {
                    let _ = stopped.await;
                })
                .await;
        });
        let people = shield::demo::invite_people(&state).await.unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let server = tokio::spawn(shield::serve::serve(
            state.clone(),
            "127.0.0.1:0".parse().unwrap(),
            Some(tx),
        ));
        let port = rx.await.unwrap().port();
        Self {
            state,
            sink,
            people,
            base: format!("http://localhost:{port}"),
            port,
            stop,
            running,
            server,
        }
    }

    /// Stops the server, then lets the worker finish its tick.
    pub async fn shut_down(self) {
        self.server.abort();
        let _ = self.stop.send(());
        self.running.await.unwrap();
    }
}

/// Claire (or any candidate) signs up from her invitation with a password and an authenticator
/// app, and continues past her recovery codes. Returns the authenticator's secret, for signing
/// in again.
pub async fn enrol_with_password_and_totp(c: &Client, base: &str, link_path: &str) -> Vec<u8> {
    c.goto(&format!("{base}{link_path}")).await.unwrap();
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
    secret
}
