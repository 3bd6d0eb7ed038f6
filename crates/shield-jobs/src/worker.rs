//! The outbox worker: claim due rows with a lease, deliver each, and mark it sent (fenced by the
//! lease) or schedule a retry with capped exponential backoff and full jitter.
//!
//! Any number of workers, in one process or several, may run against the same database: the
//! claim hands each row to one of them at a time, and a worker that stalls past its lease cannot
//! close a row another has taken over. Delivery is at-least-once (a worker that dies after the
//! relay accepted a message but before `mark_sent` leaves the row to be sent again, with the same
//! `Message-ID`).
//!
//! Email rows are rendered from a template and sent with an [`EmailSender`]; webhook rows are
//! signed (Standard Webhooks, see [`crate::webhook`]) and POSTed with a [`WebhookSender`].
//!
//! A worker given a [`DeadlineStore`] also fires due acknowledge-by deadlines at the start of
//! each tick, before claiming, so the emails an escalation enqueues leave in the same tick; and
//! it sleeps no longer than until the next deadline.
//!
//! Logs carry outbox ids, message ids, attempt numbers and error classes only.

use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures::future::join_all;
use secrecy::ExposeSecret;
use shield_domain::Clock;
use shield_store::{ClaimedMessage, DeadlineStore, OutboxChannel, OutboxStore, StoreError};
use tokio::sync::Notify;

use crate::email::{EmailSender, OutgoingEmail};
use crate::templates::{NoSecrets, SecretContext, SecretOpener, Templates};
use crate::webhook::{self, HttpWebhookSender, OutgoingWebhook, WebhookSender};

/// When to try again after a failed attempt.
///
/// The delay after attempt `n` (from 1) is `floor_ms + random(0..=min(cap_ms, base_ms·2ⁿ⁻¹))`:
/// "full jitter", so workers that failed together (a relay outage) do not all come back at the
/// same instant, plus a small floor so a failing relay is never hammered in a tight loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub floor_ms: i64,
    pub base_ms: i64,
    pub cap_ms: i64,
    /// After this many attempts the row is marked `failed`.
    pub max_attempts: u32,
}

impl Default for Backoff {
    /// 5 s doubling to a 15 min ceiling, 20 attempts: about two to three hours of trying.
    fn default() -> Self {
        Self {
            floor_ms: 1_000,
            base_ms: 5_000,
            cap_ms: 15 * 60_000,
            max_attempts: 20,
        }
    }
}

impl Backoff {
    /// The most the jittered part of the delay after attempt `attempt` can be.
    pub fn ceiling_ms(&self, attempt: u32) -> i64 {
        let doublings = attempt.saturating_sub(1).min(62);
        self.base_ms
            .max(0)
            .saturating_mul(1_i64 << doublings)
            .min(self.cap_ms.max(0))
    }

    /// The delay after attempt `attempt`, drawn from `rng`.
    pub fn delay_ms(&self, attempt: u32, rng: &mut fastrand::Rng) -> i64 {
        self.floor_ms.max(0) + rng.i64(0..=self.ceiling_ms(attempt))
    }

    /// Whether attempt `attempt` was the last.
    pub fn gives_up(&self, attempt: u32) -> bool {
        attempt >= self.max_attempts
    }
}

/// How a worker paces itself.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// How often to look for due rows when nobody wakes the worker (retries and rows enqueued by
    /// another instance are found this way).
    pub poll_interval: Duration,
    /// How long a claim lasts. Must exceed the longest a send can take (the SMTP sender bounds
    /// one message at four times its command timeout); rows of a batch are sent concurrently.
    pub lease_ms: i64,
    /// Rows claimed per tick, sent concurrently over the relay's pooled connections and closed
    /// in one write. 64: at 16 a burst of reports queued its emails for seconds
    /// (`shield bench intake`: notify p99 2.4 s at 16, 0.4 s at 64).
    pub batch: u32,
    pub backoff: Backoff,
    /// Seeds the jitter, for reproducible tests; `None` seeds from the OS.
    pub jitter_seed: Option<u64>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_secs(5),
            lease_ms: 5 * 60_000,
            batch: 64,
            backoff: Backoff::default(),
            jitter_seed: None,
        }
    }
}

/// What one [`Worker::tick`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    pub claimed: usize,
    pub sent: usize,
    /// Failed this time; pending again with a later due time.
    pub retried: usize,
    /// Failed for the last time; now `failed`.
    pub failed: usize,
    /// Delivered or failed, but the lease had run out (or was taken over) before the row could
    /// be closed, so another worker will handle it again.
    pub lost_lease: usize,
    /// The store failed while closing a row; it stays leased and is retried after the lease.
    pub store_errors: usize,
    /// Acknowledge-by deadlines fired (reports moved to their next tier) before the claim.
    pub escalated: usize,
}

/// Wakes a worker at once, e.g. right after a request committed outbox rows. Cheap to clone.
#[derive(Debug, Clone)]
pub struct WorkerHandle {
    wake: Arc<Notify>,
}

impl WorkerHandle {
    /// Makes the worker tick now (or as soon as its current tick ends). Wakes are not lost:
    /// one that arrives while the worker is busy makes it tick again right after.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Delivers the outbox. See the module documentation.
pub struct Worker {
    id: String,
    store: Arc<dyn OutboxStore>,
    email: Arc<dyn EmailSender>,
    templates: Arc<dyn Templates>,
    opener: Arc<dyn SecretOpener>,
    /// Set by [`Worker::with_webhooks`], or an [`HttpWebhookSender`] made at the first webhook
    /// (`None` if that client could not be built).
    webhooks: OnceLock<Option<Arc<dyn WebhookSender>>>,
    deadlines: Option<Arc<dyn DeadlineStore>>,
    clock: Arc<dyn Clock>,
    config: WorkerConfig,
    wake: Arc<Notify>,
    rng: Mutex<fastrand::Rng>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("id", &self.id)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

enum Outcome {
    /// Accepted by the relay; marked sent with the rest of the batch.
    Delivered,
    Retried,
    Failed,
    LostLease,
}

impl Worker {
    /// A worker named `id` (unique per instance: the lease owner written into claimed rows),
    /// with default pacing and no secret opener.
    pub fn new(
        id: impl Into<String>,
        store: Arc<dyn OutboxStore>,
        email: Arc<dyn EmailSender>,
        templates: Arc<dyn Templates>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            id: id.into(),
            store,
            email,
            templates,
            opener: Arc::new(NoSecrets),
            webhooks: OnceLock::new(),
            deadlines: None,
            clock,
            config: WorkerConfig::default(),
            wake: Arc::new(Notify::new()),
            rng: Mutex::new(fastrand::Rng::new()),
        }
    }

    pub fn with_config(mut self, config: WorkerConfig) -> Self {
        if let Some(seed) = config.jitter_seed {
            self.rng = Mutex::new(fastrand::Rng::with_seed(seed));
        }
        self.config = config;
        self
    }

    /// The opener for templates that carry a sealed secret (invitations).
    pub fn with_secret_opener(mut self, opener: Arc<dyn SecretOpener>) -> Self {
        self.opener = opener;
        self
    }

    /// The sender for webhook rows. Without one, the worker makes an [`HttpWebhookSender`]
    /// (10 s limits) when it first needs it.
    pub fn with_webhooks(self, sender: Arc<dyn WebhookSender>) -> Self {
        let webhooks = OnceLock::new();
        let _ = webhooks.set(Some(sender));
        Self { webhooks, ..self }
    }

    /// Fire due acknowledge-by deadlines at the start of every tick.
    pub fn with_deadlines(mut self, deadlines: Arc<dyn DeadlineStore>) -> Self {
        self.deadlines = Some(deadlines);
        self
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn handle(&self) -> WorkerHandle {
        WorkerHandle {
            wake: Arc::clone(&self.wake),
        }
    }

    /// Ticks until `shutdown` completes: at once after a full batch, otherwise when woken or
    /// after the poll interval. A tick under way when `shutdown` completes is finished first.
    pub async fn run_until(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        tracing::info!(worker = %self.id, "outbox worker started");
        loop {
            let batch = self.config.batch as usize;
            let full = match self.tick().await {
                Ok(report) => report.claimed >= batch || report.escalated >= batch,
                Err(e) => {
                    tracing::warn!(worker = %self.id, error = %e, "outbox claim failed");
                    false
                }
            };
            if full {
                // More are probably due: go again unless asked to stop.
                tokio::select! {
                    biased;
                    () = &mut shutdown => break,
                    () = std::future::ready(()) => continue,
                }
            }
            let pause = self.pause().await;
            tokio::select! {
                () = &mut shutdown => break,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(pause) => {}
            }
        }
        tracing::info!(worker = %self.id, "outbox worker stopped");
    }

    /// How long to sleep between ticks: the poll interval, or less when a deadline falls due
    /// sooner (a little after it, so it is due when the tick looks; never a tight loop).
    async fn pause(&self) -> Duration {
        /// Shortest sleep when a deadline is already overdue (firing it just failed): retry
        /// soon, but do not hammer a failing database.
        const MIN_PAUSE: Duration = Duration::from_secs(1);
        /// Margin past the deadline.
        const SLACK_MS: u64 = 10;
        let poll = self.config.poll_interval;
        let Some(deadlines) = &self.deadlines else {
            return poll;
        };
        match deadlines.next_deadline().await {
            Ok(Some(at)) => {
                let until = at.saturating_sub(self.clock.now_ms()).max(0);
                let until = Duration::from_millis(u64::try_from(until).unwrap_or(0) + SLACK_MS);
                until.max(MIN_PAUSE).min(poll)
            }
            Ok(None) => poll,
            Err(e) => {
                tracing::warn!(
                    worker = %self.id, error = %e, "could not read the next escalation deadline"
                );
                poll
            }
        }
    }

    /// Fires due deadlines (if the worker has a [`DeadlineStore`]), then claims what is due now
    /// and delivers it. The rows of a batch are sent concurrently. A deadline failure is logged
    /// and does not stop delivery; `Err` only when the claim itself failed.
    pub async fn tick(&self) -> Result<TickReport, StoreError> {
        let escalated = self.fire_deadlines().await;
        let now = self.clock.now_ms();
        let claimed = self
            .store
            .claim_due(&self.id, now, self.config.lease_ms, self.config.batch)
            .await?;
        let mut report = TickReport {
            claimed: claimed.len(),
            escalated,
            ..TickReport::default()
        };
        let outcomes = join_all(claimed.iter().map(|m| self.deliver(m))).await;
        let delivered: Vec<&ClaimedMessage> = claimed
            .iter()
            .zip(&outcomes)
            .filter(|(_, o)| matches!(o, Ok(Outcome::Delivered)))
            .map(|(m, _)| m)
            .collect();
        self.close_delivered(&delivered, &mut report).await;
        for outcome in outcomes {
            match outcome {
                Ok(Outcome::Delivered) => {}
                Ok(Outcome::Retried) => report.retried += 1,
                Ok(Outcome::Failed) => report.failed += 1,
                Ok(Outcome::LostLease) => report.lost_lease += 1,
                Err(()) => report.store_errors += 1,
            }
        }
        Ok(report)
    }

    /// Marks everything the relay accepted as sent, in one write (one durable commit for the
    /// batch instead of one per message), each row still fenced by its lease.
    async fn close_delivered(&self, delivered: &[&ClaimedMessage], report: &mut TickReport) {
        if delivered.is_empty() {
            return;
        }
        let ids: Vec<i64> = delivered.iter().map(|m| m.id).collect();
        let now = self.clock.now_ms();
        match self.store.mark_sent_all(&ids, &self.id, now).await {
            Ok(marked) => {
                for (m, ok) in delivered.iter().zip(marked) {
                    if ok {
                        tracing::info!(
                            worker = %self.id, outbox_id = m.id, message_id = %m.message_id,
                            attempt = m.attempts, "outbox message sent"
                        );
                        report.sent += 1;
                    } else {
                        tracing::warn!(
                            worker = %self.id, outbox_id = m.id, message_id = %m.message_id,
                            "sent after the lease ran out; it may be delivered again (same Message-ID)"
                        );
                        report.lost_lease += 1;
                    }
                }
            }
            Err(e) => {
                tracing::error!(
                    worker = %self.id, rows = ids.len(), error = %e,
                    "could not record delivered outbox messages; they stay leased and are retried"
                );
                report.store_errors += ids.len();
            }
        }
    }

    /// Fires due deadlines; how many fired (0 on error, which is logged).
    async fn fire_deadlines(&self) -> usize {
        let Some(deadlines) = &self.deadlines else {
            return 0;
        };
        match deadlines
            .fire_due_deadlines(self.clock.now_ms(), self.config.batch)
            .await
        {
            Ok(fired) => {
                if fired.fired > 0 {
                    tracing::info!(
                        worker = %self.id, fired = fired.fired,
                        notifications = fired.notifications, "escalation deadlines fired"
                    );
                }
                fired.fired
            }
            Err(e) => {
                tracing::error!(
                    worker = %self.id, error = %e, "firing escalation deadlines failed"
                );
                0
            }
        }
    }

    fn webhook_sender(&self) -> Option<&Arc<dyn WebhookSender>> {
        self.webhooks
            .get_or_init(|| match HttpWebhookSender::new(webhook::DEFAULT_TIMEOUT) {
                Ok(sender) => Some(Arc::new(sender)),
                Err(e) => {
                    tracing::error!(worker = %self.id, error = %e, "no webhook client");
                    None
                }
            })
            .as_ref()
    }

    async fn attempt(&self, m: &ClaimedMessage) -> Result<(), &'static str> {
        let context = SecretContext {
            outbox_id: m.id,
            message_id: &m.message_id,
            template: &m.template,
            params: &m.params,
        };
        match m.channel {
            OutboxChannel::Email => self.attempt_email(m, context).await,
            OutboxChannel::Webhook => self.attempt_webhook(m, context).await,
        }
    }

    /// Opens the row's sealed signing secret, signs the body and POSTs it.
    async fn attempt_webhook(
        &self,
        m: &ClaimedMessage,
        context: SecretContext<'_>,
    ) -> Result<(), &'static str> {
        let sealed = m.secret.as_deref().ok_or("missing_secret")?;
        let secret = self
            .opener
            .open(sealed, context)
            .map_err(|_| "secret_open")?;
        let key = webhook::signing_key(secret.expose_secret()).map_err(|_| "secret_format")?;
        let hook = OutgoingWebhook::signed(
            &m.message_id,
            &m.to_address,
            &m.template,
            &m.params,
            m.created_at_ms,
            self.clock.now_ms(),
            key.expose_secret(),
        );
        let sender = self.webhook_sender().ok_or("webhook_client")?;
        sender.send(&hook).await.map_err(|e| e.class)
    }

    async fn attempt_email(
        &self,
        m: &ClaimedMessage,
        context: SecretContext<'_>,
    ) -> Result<(), &'static str> {
        let rendered = self
            .templates
            .render(
                &m.template,
                &m.params,
                m.secret.as_deref(),
                self.opener.as_ref(),
                context,
            )
            .map_err(|e| e.class())?;
        let email = OutgoingEmail {
            message_id: m.message_id.clone(),
            to: m.to_address.clone(),
            subject: rendered.subject,
            text_body: rendered.text_body,
            attachments: rendered.attachments,
        };
        self.email.send(&email).await.map_err(|e| e.class)
    }

    async fn deliver(&self, m: &ClaimedMessage) -> Result<Outcome, ()> {
        let result = self.attempt(m).await;
        let now = self.clock.now_ms();
        let store_failed = |e: StoreError| {
            tracing::error!(
                worker = %self.id, outbox_id = m.id, message_id = %m.message_id, error = %e,
                "could not record the outcome of an outbox delivery"
            );
        };
        match result {
            // Closed with the rest of the batch in one write (`close_delivered`).
            Ok(()) => Ok(Outcome::Delivered),
            Err(class) => {
                let backoff = self.config.backoff;
                let give_up = backoff.gives_up(m.attempts);
                let delay = {
                    let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
                    backoff.delay_ms(m.attempts, &mut rng)
                };
                let next_due = now.saturating_add(delay);
                if !self
                    .store
                    .mark_retry(m.id, &self.id, class, next_due, give_up)
                    .await
                    .map_err(store_failed)?
                {
                    tracing::warn!(
                        worker = %self.id, outbox_id = m.id, message_id = %m.message_id,
                        error_class = class, "delivery failed after the lease was lost"
                    );
                    return Ok(Outcome::LostLease);
                }
                if give_up {
                    tracing::error!(
                        worker = %self.id, outbox_id = m.id, message_id = %m.message_id,
                        attempt = m.attempts, error_class = class,
                        "outbox message undeliverable; gave up"
                    );
                    Ok(Outcome::Failed)
                } else {
                    tracing::warn!(
                        worker = %self.id, outbox_id = m.id, message_id = %m.message_id,
                        attempt = m.attempts, error_class = class, retry_in_ms = delay,
                        "outbox delivery failed; will retry"
                    );
                    Ok(Outcome::Retried)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Backoff;

    #[test]
    fn backoff_ceiling_doubles_up_to_the_cap() {
        let b = Backoff {
            floor_ms: 100,
            base_ms: 1_000,
            cap_ms: 10_000,
            max_attempts: 5,
        };
        let ceilings: Vec<i64> = (1..=6).map(|n| b.ceiling_ms(n)).collect();
        assert_eq!(ceilings, [1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
        assert_eq!(b.ceiling_ms(u32::MAX), 10_000);
        assert!(!b.gives_up(4));
        assert!(b.gives_up(5));
    }

    #[test]
    fn backoff_jitter_spans_floor_to_floor_plus_ceiling() {
        let b = Backoff {
            floor_ms: 100,
            base_ms: 1_000,
            cap_ms: 10_000,
            max_attempts: 5,
        };
        let mut rng = fastrand::Rng::with_seed(7);
        for attempt in 1..=6 {
            let samples: Vec<i64> = (0..500).map(|_| b.delay_ms(attempt, &mut rng)).collect();
            let (lo, hi) = (b.floor_ms, b.floor_ms + b.ceiling_ms(attempt));
            assert!(samples.iter().all(|d| (lo..=hi).contains(d)));
            // Full jitter: the draws spread over the whole window, not bunched at one end.
            let span = hi - lo;
            assert!(samples.iter().any(|d| *d < lo + span / 4));
            assert!(samples.iter().any(|d| *d > hi - span / 4));
        }
    }
}
