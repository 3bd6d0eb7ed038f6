//! Webhook rows end to end: a real store (SQLite), the worker, and a loopback HTTP endpoint (axum)
//! that records what it received and answers with whatever status the test sets.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use secrecy::{ExposeSecret, SecretString};
use shield_domain::{EpochMs, ManualClock};
use shield_jobs::webhook::{self, HttpWebhookSender};
use shield_jobs::{
    Backoff, DefaultTemplates, EmailSender, OpenError, OutgoingEmail, SecretContext, SecretOpener,
    SendError, Worker, WorkerConfig,
};
use shield_store::{NewOutboxMessage, OutboxChannel, OutboxParams, OutboxStatus};
use shield_testkit::TestDb;

const T0: i64 = 1_720_000_000_000;
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// One request the endpoint received.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Debug, Clone)]
struct Endpoint {
    received: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
    /// How long the endpoint takes to answer, in ms.
    delay_ms: Arc<AtomicU64>,
}

impl Endpoint {
    async fn start() -> (Self, SocketAddr) {
        let endpoint = Self {
            received: Arc::default(),
            status: Arc::new(AtomicU16::new(204)),
            delay_ms: Arc::default(),
        };
        async fn hook(
            State(e): State<Endpoint>,
            headers: HeaderMap,
            body: Bytes,
        ) -> (StatusCode, HeaderMap) {
            e.received.lock().unwrap().push(Received { headers, body });
            let delay = e.delay_ms.load(Ordering::SeqCst);
            if delay > 0 {
                tokio::time::sleep(Duration::from_millis(delay)).await;
            }
            let status = StatusCode::from_u16(e.status.load(Ordering::SeqCst)).unwrap();
            let mut reply = HeaderMap::new();
            // Only matters for a 3xx: where a redirect would go.
            reply.insert("location", "/elsewhere".parse().unwrap());
            (status, reply)
        }
        let app = axum::Router::new()
            .route("/hook", post(hook))
            .route("/elsewhere", post(hook))
            .with_state(endpoint.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (endpoint, addr)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    fn set_status(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }
}

/// "Opens" a secret by reversing its bytes, and checks it is asked for the right row.
#[derive(Debug)]
struct ReversingOpener;

impl SecretOpener for ReversingOpener {
    fn open(&self, sealed: &[u8], context: SecretContext<'_>) -> Result<SecretString, OpenError> {
        assert_eq!(context.params.int("webhook"), Some(3));
        let bytes: Vec<u8> = sealed.iter().rev().copied().collect();
        String::from_utf8(bytes)
            .map(SecretString::from)
            .map_err(|_| OpenError)
    }
}

fn sealed(secret: &str) -> Vec<u8> {
    secret.bytes().rev().collect()
}

/// Email must not be touched by a webhook row.
#[derive(Debug)]
struct NoEmail;

#[async_trait::async_trait]
impl EmailSender for NoEmail {
    async fn send(&self, _: &OutgoingEmail) -> Result<(), SendError> {
        panic!("a webhook row was sent as an email");
    }
}

fn params() -> OutboxParams {
    OutboxParams::new()
        .with_int("report", 42)
        .unwrap()
        .with_id("ref", "R-00042")
        .unwrap()
        .with_int("priority", 1)
        .unwrap()
        .with_id("force", "met")
        .unwrap()
        .with_int("webhook", 3)
        .unwrap()
}

fn hook_row(url: String, secret: Option<Vec<u8>>) -> NewOutboxMessage {
    NewOutboxMessage {
        channel: OutboxChannel::Webhook,
        to_address: url,
        template: "report.created".into(),
        params: params(),
        secret,
        due_at_ms: None,
    }
}

fn worker(db: &TestDb, clock: &ManualClock) -> Worker {
    Worker::new(
        "w1",
        db.store.clone(),
        Arc::new(NoEmail),
        Arc::new(DefaultTemplates::new("https://shield.example")),
        Arc::new(clock.clone()),
    )
    .with_config(WorkerConfig {
        poll_interval: Duration::from_secs(3600),
        lease_ms: 60_000,
        batch: 16,
        backoff: Backoff {
            floor_ms: 1_000,
            base_ms: 2_000,
            cap_ms: 60_000,
            max_attempts: 8,
        },
        jitter_seed: Some(1),
    })
    .with_secret_opener(Arc::new(ReversingOpener))
}

fn header<'a>(r: &'a Received, name: &str) -> &'a str {
    r.headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

async fn status(db: &TestDb, id: i64) -> (OutboxStatus, Option<String>, EpochMs) {
    let s = db.store.outbox_status(id).await.unwrap().unwrap();
    (s.status, s.last_error, s.due_at_ms)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivers_a_signed_webhook_with_the_standard_headers_and_ids_only() {
    let db = TestDb::sqlite().await;
    let (endpoint, addr) = Endpoint::start().await;
    let clock = ManualClock::at(T0 + 5_500);
    // No sender given: the worker's default HTTP sender does the POST.
    let w = worker(&db, &clock);
    let id = db
        .store
        .enqueue(
            &hook_row(format!("http://{addr}/hook"), Some(sealed(SECRET))),
            T0,
        )
        .await
        .unwrap();

    let r = w.tick().await.unwrap();
    assert_eq!((r.claimed, r.sent), (1, 1), "{r:?}");
    let got = endpoint.received();
    assert_eq!(got.len(), 1);
    let req = &got[0];

    let message_id = db
        .store
        .outbox_status(id)
        .await
        .unwrap()
        .unwrap()
        .message_id;
    assert_eq!(header(req, "webhook-id"), message_id);
    assert_eq!(header(req, "webhook-timestamp"), "1720000005");
    assert_eq!(header(req, "content-type"), "application/json");

    // The signature verifies under the decoded whsec_ key, over exactly the bytes received.
    let key = webhook::signing_key(SECRET).unwrap();
    let expected = webhook::sign(
        key.expose_secret(),
        &message_id,
        1_720_000_005,
        req.body.as_ref(),
    );
    assert_eq!(header(req, "webhook-signature"), expected);
    assert!(expected.starts_with("v1,"));

    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "type": "report.created",
            "timestamp": "2024-07-03T09:46:40.000Z",
            "data": {"report": 42, "ref": "R-00042", "priority": 1, "force": "met", "webhook": 3},
        })
    );
    let (s, _, _) = status(&db, id).await;
    assert_eq!(s, OutboxStatus::Sent);
    assert_eq!(w.tick().await.unwrap().claimed, 0, "sent once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_retried_with_a_class_and_the_same_id_then_delivered() {
    let db = TestDb::sqlite().await;
    let (endpoint, addr) = Endpoint::start().await;
    let clock = ManualClock::at(T0);
    let w = worker(&db, &clock);
    let id = db
        .store
        .enqueue(
            &hook_row(format!("http://{addr}/hook"), Some(sealed(SECRET))),
            T0,
        )
        .await
        .unwrap();

    for (code, class) in [
        (503, "webhook_5xx"),
        (429, "webhook_429"),
        (408, "webhook_timeout"),
        (404, "webhook_4xx"),
        (307, "webhook_3xx"),
    ] {
        endpoint.set_status(code);
        let r = w.tick().await.unwrap();
        assert_eq!((r.claimed, r.retried), (1, 1), "{code}: {r:?}");
        let (s, error, due) = status(&db, id).await;
        assert_eq!((s, error.as_deref()), (OutboxStatus::Pending, Some(class)));
        clock.set(due);
    }
    endpoint.set_status(200);
    let r = w.tick().await.unwrap();
    assert_eq!(r.sent, 1, "{r:?}");

    let got = endpoint.received();
    // Six attempts, no redirect followed (nothing reached /elsewhere beyond the attempts).
    assert_eq!(got.len(), 6);
    let ids: Vec<&str> = got.iter().map(|r| header(r, "webhook-id")).collect();
    assert!(
        ids.windows(2).all(|w| w[0] == w[1]),
        "same id on every retry"
    );
    // Each attempt is stamped and signed afresh.
    let stamps: Vec<&str> = got.iter().map(|r| header(r, "webhook-timestamp")).collect();
    assert!(stamps.windows(2).all(|w| w[0] < w[1]), "{stamps:?}");
    let key = webhook::signing_key(SECRET).unwrap();
    for r in &got {
        let ts: i64 = header(r, "webhook-timestamp").parse().unwrap();
        assert_eq!(
            header(r, "webhook-signature"),
            webhook::sign(key.expose_secret(), ids[0], ts, r.body.as_ref())
        );
    }
    assert_eq!(status(&db, id).await.0, OutboxStatus::Sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_problems_and_transport_failures_have_their_own_classes() {
    let db = TestDb::sqlite().await;
    let (endpoint, addr) = Endpoint::start().await;
    endpoint.delay_ms.store(3_000, Ordering::SeqCst);
    let clock = ManualClock::at(T0);
    let w = worker(&db, &clock).with_webhooks(Arc::new(
        HttpWebhookSender::new(Duration::from_millis(300)).unwrap(),
    ));
    // A port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let url = format!("http://{addr}/hook");
    let rows = [
        (hook_row(url.clone(), None), "missing_secret"),
        (hook_row(url.clone(), Some(vec![0xff])), "secret_open"),
        (
            hook_row(url.clone(), Some(sealed("whsec_%%%"))),
            "secret_format",
        ),
        (hook_row("ftp://x/".into(), Some(sealed(SECRET))), "bad_url"),
        (
            hook_row(format!("http://{closed}/hook"), Some(sealed(SECRET))),
            "connect",
        ),
        (hook_row(url, Some(sealed(SECRET))), "webhook_timeout"),
    ];
    let mut ids = Vec::new();
    for (row, class) in &rows {
        ids.push((db.store.enqueue(row, T0).await.unwrap(), *class));
    }
    let r = w.tick().await.unwrap();
    assert_eq!((r.claimed, r.retried, r.sent), (6, 6, 0), "{r:?}");
    for (id, class) in ids {
        let (s, error, _) = status(&db, id).await;
        assert_eq!((s, error.as_deref()), (OutboxStatus::Pending, Some(class)));
    }
    // Only the timed-out attempt reached the endpoint.
    assert_eq!(endpoint.received().len(), 1);
}

#[tokio::test]
async fn a_raw_secret_without_the_prefix_signs_with_its_bytes() {
    let (endpoint, addr) = Endpoint::start().await;
    let sender = HttpWebhookSender::new(Duration::from_secs(10)).unwrap();
    let key = webhook::signing_key("plain-text-secret").unwrap();
    assert_eq!(key.expose_secret(), b"plain-text-secret");
    let hook = shield_jobs::OutgoingWebhook::signed(
        "msg_1",
        &format!("http://{addr}/hook"),
        webhook::EVENT_REPORT_SHARED,
        &params(),
        T0,
        T0,
        key.expose_secret(),
    );
    use shield_jobs::WebhookSender as _;
    sender.send(&hook).await.unwrap();
    let got = endpoint.received();
    assert_eq!(
        header(&got[0], "webhook-signature"),
        webhook::sign(
            b"plain-text-secret",
            "msg_1",
            T0 / 1000,
            got[0].body.as_ref()
        )
    );
}
