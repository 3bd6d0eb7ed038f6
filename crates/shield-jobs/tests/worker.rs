//! The worker against a real store (SQLite and PostgreSQL) and a real SMTP conversation with the
//! test sink. Time is a `ManualClock`; `tick()` is driven by hand except where `run_until` is
//! the point.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;
use shield_domain::{Clock, Email, ManualClock};
use shield_jobs::{
    Backoff, DefaultTemplates, EmailSender, OpenError, OutgoingEmail, SecretContext, SecretOpener,
    SendError, SmtpConfig, SmtpSender, TickReport, TlsMode, Worker, WorkerConfig,
};
use shield_store::{
    DeadlineStore, FiredDeadlines, NewOutboxMessage, OutboxParams, OutboxStatus, OutboxStore,
    StoreError,
};
use shield_testkit::{SmtpSink, TestDb, both_backends};

both_backends!(
    delivers_one_email_with_its_message_id_and_nothing_else,
    retries_with_backoff_while_the_relay_refuses_then_delivers_once,
    gives_up_after_the_attempt_limit,
    expired_lease_cannot_mark_sent_and_another_worker_takes_over,
    two_workers_deliver_200_messages_exactly_once,
    restart_loses_nothing,
    wake_delivers_without_waiting_for_the_poll,
);

const T0: i64 = 1_720_000_000_000;
const LEASE: i64 = 60_000;
const TO: &str = "contact@police.example";
const BACKOFF: Backoff = Backoff {
    floor_ms: 1_000,
    base_ms: 2_000,
    cap_ms: 60_000,
    max_attempts: 8,
};

fn smtp(sink: &SmtpSink) -> Arc<SmtpSender> {
    Arc::new(
        SmtpSender::new(&SmtpConfig {
            host: sink.host(),
            port: sink.port(),
            tls: TlsMode::None,
            credentials: None,
            from: "Candidate Shield <alerts@shield.example>".into(),
            message_id_domain: "shield.example".into(),
            timeout: Duration::from_secs(10),
        })
        .unwrap(),
    )
}

fn config(backoff: Backoff) -> WorkerConfig {
    WorkerConfig {
        poll_interval: Duration::from_secs(3600),
        lease_ms: LEASE,
        batch: 16,
        backoff,
        jitter_seed: Some(42),
    }
}

fn worker(
    id: &str,
    store: Arc<dyn OutboxStore>,
    sender: Arc<dyn EmailSender>,
    clock: &ManualClock,
) -> Worker {
    Worker::new(
        id,
        store,
        sender,
        Arc::new(DefaultTemplates::new("https://shield.example")),
        Arc::new(clock.clone()),
    )
    .with_config(config(BACKOFF))
}

/// A new-report email for report `n` (a row id: from 1).
fn report(n: i64) -> NewOutboxMessage {
    let params = OutboxParams::new()
        .with_int("priority", 2)
        .unwrap()
        .with_id("ref", &format!("R-{n:05}"))
        .unwrap()
        .with_int("report", n)
        .unwrap();
    NewOutboxMessage::email(&Email::parse(TO).unwrap(), "report_needs_attention", params).unwrap()
}

async fn message_id(store: &dyn OutboxStore, id: i64) -> String {
    let mid = store.outbox_status(id).await.unwrap().unwrap().message_id;
    format!("<{mid}@shield.example>")
}

/// Ticks until a tick claims nothing.
async fn drain(w: &Worker) -> TickReport {
    let mut total = TickReport::default();
    loop {
        let r = w.tick().await.unwrap();
        if r.claimed == 0 {
            return total;
        }
        total.claimed += r.claimed;
        total.sent += r.sent;
        total.retried += r.retried;
        total.failed += r.failed;
        total.lost_lease += r.lost_lease;
        total.store_errors += r.store_errors;
    }
}

async fn delivers_one_email_with_its_message_id_and_nothing_else(db: TestDb) {
    let sink = SmtpSink::start().await;
    let clock = ManualClock::at(T0);
    let w = worker("w1", db.store.clone(), smtp(&sink), &clock);
    let id = db.store.enqueue(&report(42), T0).await.unwrap();

    let r = w.tick().await.unwrap();
    assert_eq!((r.claimed, r.sent), (1, 1), "{r:?}");
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    let mail = &got[0];
    assert_eq!(mail.recipients, [TO]);
    assert_eq!(mail.mail_from, "alerts@shield.example");
    assert_eq!(
        mail.message_id.as_deref(),
        Some(message_id(db.store.as_ref(), id).await.as_str())
    );
    assert_eq!(
        mail.subject.as_deref(),
        Some("Candidate Shield: a P2 report needs you")
    );
    assert_eq!(
        mail.text().trim_end(),
        "A new P2 report needs you. Reference R-00042.\nSign in: https://shield.example/reports/42"
    );
    let allowed = [
        "From",
        "To",
        "Subject",
        "Message-ID",
        "Date",
        "Content-Type",
        "Content-Transfer-Encoding",
        "MIME-Version",
    ];
    for name in mail.header_names() {
        assert!(
            allowed.iter().any(|a| a.eq_ignore_ascii_case(&name)),
            "unexpected header {name}"
        );
    }

    let status = db.store.outbox_status(id).await.unwrap().unwrap();
    assert_eq!(
        (status.status, status.sent_at_ms),
        (OutboxStatus::Sent, Some(T0))
    );
    // Nothing is sent twice.
    assert_eq!(w.tick().await.unwrap(), TickReport::default());
    assert_eq!(sink.messages().len(), 1);
}

async fn retries_with_backoff_while_the_relay_refuses_then_delivers_once(db: TestDb) {
    let sink = SmtpSink::start().await;
    sink.set_failing(true);
    let clock = ManualClock::at(T0);
    let w = worker("w1", db.store.clone(), smtp(&sink), &clock);
    let id = db.store.enqueue(&report(1), T0).await.unwrap();

    let mut dues = Vec::new();
    for attempt in 1..=4u32 {
        let r = w.tick().await.unwrap();
        assert_eq!((r.claimed, r.retried), (1, 1), "attempt {attempt}: {r:?}");
        let s = db.store.outbox_status(id).await.unwrap().unwrap();
        assert_eq!(s.status, OutboxStatus::Pending);
        assert_eq!(s.attempts, attempt);
        assert_eq!(s.last_error.as_deref(), Some("smtp_4xx"));
        let delay = s.due_at_ms - clock.now_ms();
        assert!(
            (BACKOFF.floor_ms..=BACKOFF.floor_ms + BACKOFF.ceiling_ms(attempt)).contains(&delay),
            "attempt {attempt}: delay {delay}"
        );
        // Not due yet: a tick now does nothing.
        assert_eq!(w.tick().await.unwrap().claimed, 0);
        dues.push(s.due_at_ms);
        clock.set(s.due_at_ms);
    }
    assert!(dues.windows(2).all(|d| d[0] < d[1]), "{dues:?}");
    assert_eq!(sink.rejected(), 4);
    assert!(sink.messages().is_empty());

    sink.set_failing(false);
    let r = w.tick().await.unwrap();
    assert_eq!((r.claimed, r.sent), (1, 1), "{r:?}");
    let s = db.store.outbox_status(id).await.unwrap().unwrap();
    assert_eq!((s.status, s.attempts), (OutboxStatus::Sent, 5));
    clock.advance_ms(24 * 3600 * 1000);
    assert_eq!(w.tick().await.unwrap().claimed, 0);
    let got = sink.messages();
    assert_eq!(got.len(), 1, "delivered once after recovery");
    assert_eq!(
        got[0].message_id.as_deref(),
        Some(message_id(db.store.as_ref(), id).await.as_str())
    );
}

async fn gives_up_after_the_attempt_limit(db: TestDb) {
    let sink = SmtpSink::start().await;
    sink.set_failing(true);
    let clock = ManualClock::at(T0);
    let w = worker("w1", db.store.clone(), smtp(&sink), &clock).with_config(config(Backoff {
        max_attempts: 3,
        ..BACKOFF
    }));
    let id = db.store.enqueue(&report(1), T0).await.unwrap();
    let mut reports = Vec::new();
    for _ in 0..3 {
        reports.push(w.tick().await.unwrap());
        let s = db.store.outbox_status(id).await.unwrap().unwrap();
        clock.set(s.due_at_ms);
    }
    assert_eq!(
        reports
            .iter()
            .map(|r| (r.retried, r.failed))
            .collect::<Vec<_>>(),
        [(1, 0), (1, 0), (0, 1)]
    );
    let s = db.store.outbox_status(id).await.unwrap().unwrap();
    assert_eq!((s.status, s.attempts), (OutboxStatus::Failed, 3));
    clock.advance_ms(24 * 3600 * 1000);
    sink.set_failing(false);
    assert_eq!(w.tick().await.unwrap().claimed, 0);
    let counts = db.store.outbox_counts().await.unwrap();
    assert_eq!((counts.pending, counts.failed), (0, 1));
}

/// Sends through the sink, then lets `stall_ms` pass on the clock: a worker that stalled (GC
/// pause, slow relay) past its lease.
#[derive(Debug)]
struct StallingSender {
    inner: Arc<SmtpSender>,
    clock: ManualClock,
    stall_ms: i64,
}

#[async_trait]
impl EmailSender for StallingSender {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), SendError> {
        let result = self.inner.send(email).await;
        self.clock.advance_ms(self.stall_ms);
        result
    }
}

async fn expired_lease_cannot_mark_sent_and_another_worker_takes_over(db: TestDb) {
    let sink = SmtpSink::start().await;
    let clock = ManualClock::at(T0);
    let stalling = Arc::new(StallingSender {
        inner: smtp(&sink),
        clock: clock.clone(),
        stall_ms: LEASE + 1,
    });
    let a = worker("worker-a", db.store.clone(), stalling, &clock);
    let b = worker("worker-b", db.store.clone(), smtp(&sink), &clock);
    let id = db.store.enqueue(&report(7), T0).await.unwrap();

    let r = a.tick().await.unwrap();
    assert_eq!((r.claimed, r.sent, r.lost_lease), (1, 0, 1), "{r:?}");
    let s = db.store.outbox_status(id).await.unwrap().unwrap();
    assert_eq!(
        s.status,
        OutboxStatus::Pending,
        "a stale worker cannot mark sent"
    );

    let r = b.tick().await.unwrap();
    assert_eq!((r.claimed, r.sent), (1, 1), "{r:?}");
    let s = db.store.outbox_status(id).await.unwrap().unwrap();
    assert_eq!((s.status, s.attempts), (OutboxStatus::Sent, 2));

    // At-least-once: both sends reached the relay, and the duplicate is recognisable.
    let got = sink.messages();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].message_id, got[1].message_id);
    assert_eq!(
        got[0].message_id.as_deref(),
        Some(message_id(db.store.as_ref(), id).await.as_str())
    );
}

async fn two_workers_deliver_200_messages_exactly_once(db: TestDb) {
    let sink = SmtpSink::start().await;
    let clock = ManualClock::at(T0);
    let mut ids = Vec::new();
    for n in 0..200 {
        ids.push(db.store.enqueue(&report(n + 1), T0).await.unwrap());
    }
    // Two app instances: each its own pool.
    let second = shield_store::connect(&db.url).await.unwrap();
    let a = Arc::new(worker("instance-a", db.store.clone(), smtp(&sink), &clock));
    let b = Arc::new(worker("instance-b", second, smtp(&sink), &clock));
    let tasks: Vec<_> = [a, b]
        .into_iter()
        .map(|w| tokio::spawn(async move { drain(&w).await }))
        .collect();
    let mut sent = 0;
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(
            (r.retried, r.failed, r.lost_lease, r.store_errors),
            (0, 0, 0, 0),
            "{r:?}"
        );
        sent += r.sent;
    }
    assert_eq!(sent, 200);

    let got = sink.wait_for(200, Duration::from_secs(30)).await.unwrap();
    assert_eq!(got.len(), 200, "no duplicates");
    let received: HashSet<String> = got.iter().filter_map(|m| m.message_id.clone()).collect();
    let mut expected = HashSet::new();
    for id in ids {
        expected.insert(message_id(db.store.as_ref(), id).await);
    }
    assert_eq!(received, expected, "every message exactly once");
    let counts = db.store.outbox_counts().await.unwrap();
    assert_eq!((counts.pending, counts.sent), (0, 200));
}

async fn restart_loses_nothing(db: TestDb) {
    let sink = SmtpSink::start().await;
    let clock = ManualClock::at(T0);
    for n in 0..10 {
        db.store.enqueue(&report(n + 1), T0).await.unwrap();
    }
    {
        // An instance that claimed four rows and died mid-send, and one whose sends all failed
        // before it was stopped.
        let dead = shield_store::connect(&db.url).await.unwrap();
        assert_eq!(dead.claim_due("dead", T0, LEASE, 4).await.unwrap().len(), 4);
        sink.set_failing(true);
        let first = worker("first", dead, smtp(&sink), &clock);
        let r = first.tick().await.unwrap();
        assert_eq!((r.claimed, r.retried), (6, 6), "{r:?}");
    }
    sink.set_failing(false);
    assert!(sink.messages().is_empty());

    // A new worker on a new connection, once the dead one's lease is over.
    let store = shield_store::connect(&db.url).await.unwrap();
    let second = worker("second", store, smtp(&sink), &clock);
    clock.advance_ms(LEASE + BACKOFF.floor_ms + BACKOFF.ceiling_ms(1) + 1);
    let r = drain(&second).await;
    assert_eq!((r.claimed, r.sent), (10, 10), "{r:?}");
    let got = sink.messages();
    let unique: HashSet<_> = got.iter().filter_map(|m| m.message_id.clone()).collect();
    assert_eq!((got.len(), unique.len()), (10, 10));
    let counts = db.store.outbox_counts().await.unwrap();
    assert_eq!((counts.pending, counts.sent), (0, 10));
}

async fn wake_delivers_without_waiting_for_the_poll(db: TestDb) {
    let sink = SmtpSink::start().await;
    let clock = ManualClock::at(T0);
    // The poll interval is an hour: only the wake can explain a prompt delivery.
    let w = Arc::new(worker("w1", db.store.clone(), smtp(&sink), &clock));
    let handle = w.handle();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = {
        let w = Arc::clone(&w);
        tokio::spawn(async move {
            w.run_until(async {
                let _ = stopped.await;
            })
            .await
        })
    };

    for n in 0..3 {
        db.store.enqueue(&report(n + 1), T0).await.unwrap();
        handle.wake();
        let got = sink
            .wait_for(n as usize + 1, Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(got.len(), n as usize + 1);
    }
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the worker stops when asked")
        .unwrap();
    assert_eq!(db.store.outbox_counts().await.unwrap().sent, 3);
}

/// "Opens" a secret by reversing its bytes: stands in for the binary's field decryption.
#[derive(Debug)]
struct ReversingOpener;

impl SecretOpener for ReversingOpener {
    fn open(&self, sealed: &[u8], context: SecretContext<'_>) -> Result<SecretString, OpenError> {
        assert_eq!(context.template, "invitation");
        let bytes: Vec<u8> = sealed.iter().rev().copied().collect();
        String::from_utf8(bytes)
            .map(SecretString::from)
            .map_err(|_| OpenError)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitation_link_comes_from_the_opened_secret() {
    let db = TestDb::sqlite().await;
    let sink = SmtpSink::start().await;
    let clock = ManualClock::at(T0);
    let w = worker("w1", db.store.clone(), smtp(&sink), &clock)
        .with_secret_opener(Arc::new(ReversingOpener));
    let token = "tok_0123456789abcdefghijklmnopqrstuvwxyz-ABCDE";
    let sealed: Vec<u8> = token.bytes().rev().collect();
    let msg = NewOutboxMessage::email(
        &Email::parse(TO).unwrap(),
        "invitation",
        OutboxParams::new(),
    )
    .unwrap()
    .with_secret(sealed);
    let ok = db.store.enqueue(&msg, T0).await.unwrap();
    // Without a secret the row cannot be rendered: retried with a class, not sent half-made.
    let unsealed = NewOutboxMessage::email(
        &Email::parse(TO).unwrap(),
        "invitation",
        OutboxParams::new(),
    )
    .unwrap();
    let bad = db.store.enqueue(&unsealed, T0).await.unwrap();

    let r = w.tick().await.unwrap();
    assert_eq!((r.sent, r.retried), (1, 1), "{r:?}");
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].text().trim_end(),
        format!(
            "You have been invited to Candidate Shield.\nOpen this link to enrol:\n\
             https://shield.example/invitations/{token}"
        )
    );
    assert_eq!(
        db.store.outbox_status(ok).await.unwrap().unwrap().status,
        OutboxStatus::Sent
    );
    let s = db.store.outbox_status(bad).await.unwrap().unwrap();
    assert_eq!(
        (s.status, s.last_error.as_deref()),
        (OutboxStatus::Pending, Some("missing_secret"))
    );
}

/// Stands in for the store's deadlines: one deadline, due at `due_at`, whose firing enqueues a
/// `report_escalated` email, as the real one does in its transaction.
#[derive(Debug)]
struct FakeDeadlines {
    outbox: Arc<dyn shield_store::Store>,
    due_at: Mutex<Option<i64>>,
    /// `(now_ms, limit)` of every fire call.
    calls: Mutex<Vec<(i64, u32)>>,
    failing: AtomicBool,
    fired: tokio::sync::Notify,
    called: tokio::sync::Notify,
}

impl FakeDeadlines {
    fn new(outbox: Arc<dyn shield_store::Store>, due_at: i64) -> Arc<Self> {
        Arc::new(Self {
            outbox,
            due_at: Mutex::new(Some(due_at)),
            calls: Mutex::default(),
            failing: AtomicBool::new(false),
            fired: tokio::sync::Notify::new(),
            called: tokio::sync::Notify::new(),
        })
    }
}

#[async_trait]
impl DeadlineStore for FakeDeadlines {
    async fn fire_due_deadlines(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<FiredDeadlines, StoreError> {
        self.calls.lock().unwrap().push((now_ms, limit));
        self.called.notify_one();
        if self.failing.load(Ordering::SeqCst) {
            return Err(StoreError::Conflict("deadlines unavailable".into()));
        }
        let due = *self.due_at.lock().unwrap();
        match due {
            Some(at) if at <= now_ms => {
                let params = OutboxParams::new()
                    .with_int("report", 9)
                    .unwrap()
                    .with_id("ref", "R-00009")
                    .unwrap()
                    .with_int("priority", 1)
                    .unwrap()
                    .with_id("tier", "deputy")
                    .unwrap();
                let msg = NewOutboxMessage::email(
                    &Email::parse(TO).unwrap(),
                    shield_jobs::REPORT_ESCALATED,
                    params,
                )
                .unwrap();
                self.outbox.enqueue(&msg, now_ms).await?;
                *self.due_at.lock().unwrap() = None;
                self.fired.notify_one();
                Ok(FiredDeadlines {
                    fired: 1,
                    notifications: 1,
                })
            }
            _ => Ok(FiredDeadlines::default()),
        }
    }

    async fn next_deadline(&self) -> Result<Option<i64>, StoreError> {
        Ok(*self.due_at.lock().unwrap())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tick_fires_due_deadlines_first_so_the_escalation_leaves_in_the_same_tick() {
    let db = TestDb::sqlite().await;
    let sink = SmtpSink::start().await;
    let clock = ManualClock::at(T0);
    let deadlines = FakeDeadlines::new(db.store.clone(), T0 + 15 * 60_000);
    let w = worker("w1", db.store.clone(), smtp(&sink), &clock).with_deadlines(deadlines.clone());

    assert_eq!(w.tick().await.unwrap(), TickReport::default());
    clock.advance_ms(15 * 60_000);
    let r = w.tick().await.unwrap();
    assert_eq!((r.escalated, r.claimed, r.sent), (1, 1, 1), "{r:?}");
    assert_eq!(
        *deadlines.calls.lock().unwrap(),
        [(T0, 16), (T0 + 15 * 60_000, 16)],
        "fired with the worker's clock and batch"
    );
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].subject.as_deref(),
        Some("Candidate Shield: ESCALATED P1 report not yet acknowledged")
    );
    assert!(
        got[0]
            .text()
            .trim_end()
            .ends_with("Reference R-00009.\nhttps://shield.example/reports/9"),
        "{}",
        got[0].text()
    );
    assert_eq!(w.tick().await.unwrap(), TickReport::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_failure_does_not_stop_the_outbox() {
    let db = TestDb::sqlite().await;
    let sink = SmtpSink::start().await;
    let clock = ManualClock::at(T0);
    let deadlines = FakeDeadlines::new(db.store.clone(), T0);
    deadlines.failing.store(true, Ordering::SeqCst);
    let w = worker("w1", db.store.clone(), smtp(&sink), &clock).with_deadlines(deadlines.clone());
    db.store.enqueue(&report(1), T0).await.unwrap();

    let r = w.tick().await.unwrap();
    assert_eq!((r.escalated, r.claimed, r.sent), (0, 1, 1), "{r:?}");
    assert_eq!(sink.messages().len(), 1);

    deadlines.failing.store(false, Ordering::SeqCst);
    let r = w.tick().await.unwrap();
    assert_eq!((r.escalated, r.sent), (1, 1), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_until_wakes_for_the_next_deadline_not_the_poll() {
    let db = TestDb::sqlite().await;
    let sink = SmtpSink::start().await;
    let clock = ManualClock::at(T0);
    let deadlines = FakeDeadlines::new(db.store.clone(), T0 + 300);
    // The poll interval is an hour: only the deadline can explain a prompt escalation.
    let w = Arc::new(
        worker("w1", db.store.clone(), smtp(&sink), &clock).with_deadlines(deadlines.clone()),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let called = deadlines.called.notified();
    let running = {
        let w = Arc::clone(&w);
        tokio::spawn(async move {
            w.run_until(async {
                let _ = stopped.await;
            })
            .await
        })
    };
    // The first tick found nothing due; then time passes.
    tokio::time::timeout(Duration::from_secs(10), called)
        .await
        .expect("the worker ticks at start");
    clock.advance_ms(300);
    tokio::time::timeout(Duration::from_secs(10), deadlines.fired.notified())
        .await
        .expect("the worker woke for the deadline");
    let got = sink.wait_for(1, Duration::from_secs(10)).await.unwrap();
    assert_eq!(got.len(), 1);
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the worker stops when asked")
        .unwrap();
}
