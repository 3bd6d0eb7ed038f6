//! Group commit for new reports. Every report is one durable commit; on SQLite (one writer,
//! `synchronous=FULL`) that fsync, not the work, bounds how many reports a second the service
//! takes. So requests hand their report to one writer task, which takes whatever has queued
//! while the previous commit was on disk (up to [`MAX_BATCH`]) and writes it in one transaction,
//! each report in its own savepoint (`ReportStore::create_reports`). A lone report waits for
//! nothing: the writer takes it at once. Each request still gets its own answer, and a report
//! that fails alone fails alone.

use std::sync::{Arc, OnceLock};

use shield_domain::audit::AuditEvent;
use shield_store::{CreatedReport, NewReport, StoreError};
use tokio::sync::{mpsc, oneshot};

use crate::AppState;
use crate::sealing::KeySealer;

/// Most reports in one commit.
pub const MAX_BATCH: usize = 64;

struct Job {
    report: NewReport,
    audit: AuditEvent,
    reply: oneshot::Sender<Result<CreatedReport, StoreError>>,
}

/// The queue into the writer task, started on first use (inside the runtime).
#[derive(Debug, Clone, Default)]
pub struct Intake(Arc<OnceLock<mpsc::Sender<Job>>>);

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").finish_non_exhaustive()
    }
}

impl Intake {
    /// Creates `report` (with its audit event, outbox rows, deadline…) in the next group commit.
    pub async fn create(
        &self,
        state: &AppState,
        report: NewReport,
        audit: AuditEvent,
    ) -> Result<CreatedReport, StoreError> {
        let sender = self.0.get_or_init(|| start(state.clone()));
        let (reply, answer) = oneshot::channel();
        if sender
            .send(Job {
                report,
                audit,
                reply,
            })
            .await
            .is_err()
        {
            return Err(StoreError::Corrupt("the report writer has stopped".into()));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::Corrupt("the report writer has stopped".into())))
    }
}

fn start(state: AppState) -> mpsc::Sender<Job> {
    let (tx, mut rx) = mpsc::channel::<Job>(4 * MAX_BATCH);
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut jobs = vec![first];
            while jobs.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            write(&state, jobs).await;
        }
    });
    tx
}

async fn write(state: &AppState, jobs: Vec<Job>) {
    let sealer = KeySealer(&state.keys);
    let now = state.clock.now_ms();
    if jobs.len() == 1 {
        let job = jobs.into_iter().next().expect("one job");
        let result = state
            .store
            .create_report(&job.report, &sealer, now, &job.audit)
            .await;
        let _ = job.reply.send(result);
        return;
    }
    let (batch, replies): (Vec<(NewReport, AuditEvent)>, Vec<_>) = jobs
        .into_iter()
        .map(|j| ((j.report, j.audit), j.reply))
        .unzip();
    match state.store.create_reports(&batch, &sealer, now).await {
        Ok(results) => {
            tracing::debug!(reports = batch.len(), "reports group-committed");
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(result);
            }
        }
        // The batch's transaction failed as a whole (nothing was written): try each alone, so
        // each request gets its own, true answer.
        Err(error) => {
            tracing::warn!(%error, reports = batch.len(), "group commit failed; writing one by one");
            for ((report, audit), reply) in batch.iter().zip(replies) {
                let result = state.store.create_report(report, &sealer, now, audit).await;
                let _ = reply.send(result);
            }
        }
    }
}
