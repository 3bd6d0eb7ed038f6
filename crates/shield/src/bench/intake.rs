//! `shield bench intake`: durable report intake over HTTP, against the best a single SQLite
//! writer can do on the same disk, and how long the police alert takes to reach a mailbox.
//!
//! One run, one fresh folder:
//!
//! 1. `raw.db`: a table of one integer and a small blob, with the store's pragmas (WAL,
//!    `synchronous=FULL`), filled by one connection with one-row `BEGIN IMMEDIATE … COMMIT`
//!    transactions in a loop: the ceiling for "one durable commit per report". Half the rows
//!    are written before step 2 and half after.
//! 2. `shield.db`: the demo election, one active candidate (the cross-force one, so each report
//!    tells two forces) and a session made directly in the store. The real server and an
//!    in-process outbox worker (woken by each request, as in `shield serve`) run on loopback;
//!    the worker sends to a loopback SMTP sink in this module that notes when each message
//!    arrived. A pool of HTTP/1.1 keep-alive connections submits `--reports` reports to
//!    `POST /api/reports`, `--concurrency` at a time; each 201 is a committed report, audit
//!    event and outbox rows.
//!
//! `notify_*` is from a report's 201 to the sink receiving that report's alert to the owning
//! force's lead contact (the `report_needs_attention` email, matched by the report link in its
//! body). A benchmark, not a test: nothing is asserted about the figures.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use secrecy::SecretString;
use serde::Serialize;
use shield_domain::audit::{AuditAction, AuditEvent, AuditOutcome};
use shield_domain::{CandidateId, Role};
use shield_store::accounts::{Enrolment, NewInvitation, NewUser};
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};

/// The cross-force demo candidate: her reports go to Thames Valley and inform Hampshire.
const CANDIDATE: &str = "Claire Whitfield";
/// The raw loops write at least this many rows in all (past a WAL checkpoint or two), each
/// half for at most [`RAW_MAX`].
const RAW_MIN_ROWS: usize = 2_000;
const RAW_MAX: Duration = Duration::from_secs(15);
/// How long to wait for the last alerts after the last report was accepted.
const NOTIFY_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct IntakeOptions {
    pub reports: usize,
    pub concurrency: usize,
    pub json: bool,
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct IntakeFigures {
    /// Reports accepted (201).
    reports: usize,
    concurrency: usize,
    reports_per_s: f64,
    raw_durable_inserts_per_s: f64,
    /// `reports_per_s / raw_durable_inserts_per_s`.
    ratio: f64,
    notify_p50_ms: Option<f64>,
    notify_p99_ms: Option<f64>,
    notify_max_ms: Option<f64>,
    /// Reports whose owner-force alert reached the sink.
    notified: usize,
    /// Messages the sink had accepted when the last alert arrived (alerts to both forces).
    emails: usize,
    /// Submissions that did not get a 201.
    failed: usize,
    raw_inserts: usize,
    intake_s: f64,
    profile: &'static str,
}

pub async fn intake(options: IntakeOptions) -> anyhow::Result<()> {
    let reports = options.reports.max(1);
    let concurrency = options.concurrency.clamp(1, reports);
    let base = match &options.dir {
        Some(dir) => dir.clone(),
        None if Path::new("target").is_dir() => PathBuf::from("target"),
        None => std::env::temp_dir(),
    };
    std::fs::create_dir_all(&base).with_context(|| format!("cannot create {}", base.display()))?;
    let dir = tempfile::Builder::new()
        .prefix("shield-bench-intake-")
        .tempdir_in(&base)
        .with_context(|| format!("cannot make a folder in {}", base.display()))?;
    tracing::info!(reports, concurrency, "intake benchmark starting");

    // Half the raw rows before the intake run and half after, into the same file, so a disk
    // that speeds up or slows down during the run (other work on the machine) skews the ratio
    // less.
    let raw_path = dir.path().join("raw.db");
    let raw_rows = reports.max(RAW_MIN_ROWS);
    let (before, before_elapsed) = raw_inserts(&raw_path, raw_rows / 2).await?;
    let run = run_intake(&dir.path().join("shield.db"), reports, concurrency).await?;
    let (after, after_elapsed) = raw_inserts(&raw_path, raw_rows - raw_rows / 2).await?;
    let raw_inserts = before + after;
    let raw_per_s = raw_inserts as f64 / (before_elapsed + after_elapsed).as_secs_f64();
    tracing::info!(
        rows = raw_inserts,
        per_s = raw_per_s,
        before_per_s = before as f64 / before_elapsed.as_secs_f64(),
        after_per_s = after as f64 / after_elapsed.as_secs_f64(),
        "raw durable inserts done"
    );

    let reports_per_s = run.accepted as f64 / run.elapsed.as_secs_f64();
    let mut latencies = run.latencies;
    latencies.sort();
    let figures = IntakeFigures {
        reports: run.accepted,
        concurrency,
        reports_per_s,
        raw_durable_inserts_per_s: raw_per_s,
        ratio: reports_per_s / raw_per_s,
        notify_p50_ms: percentile_ms(&latencies, 0.50),
        notify_p99_ms: percentile_ms(&latencies, 0.99),
        notify_max_ms: latencies.last().map(|d| d.as_secs_f64() * 1000.0),
        notified: latencies.len(),
        emails: run.emails,
        failed: run.failed,
        raw_inserts,
        intake_s: run.elapsed.as_secs_f64(),
        profile: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    };
    if options.json {
        println!("{}", serde_json::to_string(&figures)?);
    } else {
        let ms = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1} ms"));
        println!(
            "intake ({} build, {} reports, {} in flight):",
            figures.profile, figures.reports, figures.concurrency
        );
        println!(
            "  reports                  {:>9.1} /s  ({} failed)",
            figures.reports_per_s, figures.failed
        );
        println!(
            "  raw durable inserts      {:>9.1} /s  ({} rows)",
            figures.raw_durable_inserts_per_s, figures.raw_inserts
        );
        println!("  ratio                    {:>9.2}", figures.ratio);
        println!(
            "  alert notified           {} of {}  (p50 {}, p99 {}, max {})",
            figures.notified,
            figures.reports,
            ms(figures.notify_p50_ms),
            ms(figures.notify_p99_ms),
            ms(figures.notify_max_ms)
        );
    }
    Ok(())
}

/// Nearest-rank percentile of sorted samples.
fn percentile_ms(sorted: &[Duration], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1].as_secs_f64() * 1000.0)
}

/// One connection, the store's pragmas, one-row transactions until `rows` or [`RAW_MAX`].
async fn raw_inserts(path: &Path, rows: usize) -> anyhow::Result<(usize, Duration)> {
    let options = SqliteConnectOptions::from_str(&crate::config::sqlite_url(path))?
        .create_if_missing(true)
        .foreign_keys(true)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .journal_mode(SqliteJournalMode::Wal);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .context("cannot open the raw SQLite file")?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS raw (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, body BLOB NOT NULL)",
    )
    .execute(&mut conn)
    .await?;
    let body = vec![0x5a_u8; 256];
    let start = Instant::now();
    let mut done = 0;
    while done < rows && start.elapsed() < RAW_MAX {
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("INSERT INTO raw (at_ms, body) VALUES ($1, $2)")
            .bind(i64::try_from(start.elapsed().as_millis()).unwrap_or(i64::MAX))
            .bind(body.as_slice())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        done += 1;
    }
    let elapsed = start.elapsed();
    conn.close().await?;
    Ok((done, elapsed))
}

struct IntakeRun {
    accepted: usize,
    failed: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    emails: usize,
}

async fn run_intake(db: &Path, reports: usize, concurrency: usize) -> anyhow::Result<IntakeRun> {
    let url = SecretString::from(crate::config::sqlite_url(db));
    let store = shield_store::connect(&url)
        .await
        .context("cannot open the benchmark database")?;
    store.migrate().await?;
    crate::demo::load(store.as_ref()).await?;
    let keys = Arc::new(shield_crypto::KeyRing::generate());
    let state = shield_web::AppState::with(
        store.clone(),
        Arc::new(shield_store::SystemClock),
        keys.clone(),
    );

    let sink = shield_smtp_sink::SmtpSink::start().await;
    let smtp = crate::mail::smtp_config(
        &SecretString::from(format!("smtp://127.0.0.1:{}", sink.port())),
        "Candidate Shield <alerts@shield.example>",
    )?;
    // Links in the emails only need the report id, which is all the sink reads.
    let worker = shield_jobs::Worker::new(
        format!("bench-intake-{}", std::process::id()),
        store.clone(),
        Arc::new(shield_jobs::SmtpSender::new(&smtp)?),
        Arc::new(shield_jobs::DefaultTemplates::new("http://127.0.0.1")),
        state.clock.clone(),
    )
    .with_secret_opener(Arc::new(shield_web::invitations::InvitationOpener::new(
        keys,
    )))
    .with_deadlines(store.clone());
    let state = state.with_worker(worker.handle());
    let (stop_worker, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker_task = tokio::spawn(async move {
        worker
            .run_until(async {
                let _ = stopped.await;
            })
            .await;
    });

    let (token, csrf) = signed_in_candidate(&state).await?;
    let (bound_tx, bound_rx) = tokio::sync::oneshot::channel();
    let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let server = tokio::spawn(crate::serve::serve(state, loopback, Some(bound_tx)));
    let addr = bound_rx
        .await
        .context("the benchmark server did not start")?;
    let origin = format!("http://{addr}");

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .http1_only()
        .timeout(Duration::from_secs(30))
        .build()?;
    let endpoint = format!("{origin}/api/reports");
    let accepted_at: Arc<Mutex<HashMap<i64, Instant>>> = Arc::default();
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));

    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, endpoint, origin) = (client.clone(), endpoint.clone(), origin.clone());
        let (cookie, csrf) = (format!("__Host-shield={token}"), csrf.clone());
        let (accepted_at, next, failed) = (accepted_at.clone(), next.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= reports {
                    break;
                }
                let body = serde_json::json!({
                    "category": "online_abuse",
                    "what": format!("Benchmark report {n}: abusive replies under a campaign post."),
                    "happening_now": false,
                });
                let response = client
                    .post(&endpoint)
                    .header(reqwest::header::COOKIE, &cookie)
                    .header("x-csrf-token", &csrf)
                    .header(reqwest::header::ORIGIN, &origin)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.to_string())
                    .send()
                    .await;
                let response = match response {
                    Ok(r) if r.status() == reqwest::StatusCode::CREATED => r,
                    Ok(r) => {
                        tracing::warn!(status = r.status().as_u16(), "report not accepted");
                        failed.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(timeout = e.is_timeout(), "report request failed");
                        failed.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                };
                let at = Instant::now();
                let id = response
                    .bytes()
                    .await
                    .ok()
                    .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                    .and_then(|v| v.get("id").and_then(serde_json::Value::as_i64));
                match id {
                    Some(id) => {
                        accepted_at.lock().expect("lock").insert(id, at);
                    }
                    None => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    let elapsed = start.elapsed();
    let accepted_at = std::mem::take(&mut *accepted_at.lock().expect("lock"));
    let accepted = accepted_at.len();
    tracing::info!(
        accepted,
        ms = elapsed.as_millis() as u64,
        "reports submitted"
    );

    // Wait for the last alerts: each report's owner-force alert, found by the id in its link.
    // Messages are read once each, as they arrive (the predicate runs on every arrival).
    let alerts: Mutex<(usize, HashMap<i64, Instant>)> = Mutex::default();
    let all_alerted = |messages: &[shield_smtp_sink::ReceivedEmail]| {
        let (seen, alerts) = &mut *alerts.lock().expect("alerts lock");
        for m in &messages[*seen..] {
            if let Some(id) = alert_report(&m.data) {
                alerts.entry(id).or_insert(m.received_at);
            }
        }
        *seen = messages.len();
        accepted_at.keys().all(|id| alerts.contains_key(id))
    };
    if sink.wait_until(all_alerted, NOTIFY_WAIT).await.is_err() {
        tracing::warn!("some alerts did not arrive in time");
    }
    let emails = sink.messages().len();
    let (_, alerts) = alerts.into_inner().expect("alerts lock");
    let latencies = accepted_at
        .iter()
        .filter_map(|(id, at)| {
            alerts
                .get(id)
                .map(|arrived| arrived.saturating_duration_since(*at))
        })
        .collect();

    let _ = stop_worker.send(());
    let _ = tokio::time::timeout(Duration::from_secs(30), worker_task).await;
    server.abort();
    Ok(IntakeRun {
        accepted,
        failed: failed.load(Ordering::Relaxed),
        elapsed,
        latencies,
        emails,
    })
}

/// An active account for the demo candidate and a signed-in session, made in the store the way
/// an enrolment would leave them: the session cookie's token and its CSRF token.
async fn signed_in_candidate(state: &shield_web::AppState) -> anyhow::Result<(String, String)> {
    let store = &state.store;
    let candidate = store
        .candidate_invitees(None)
        .await?
        .into_iter()
        .find(|c| c.name == CANDIDATE)
        .context("the demo candidate is missing")?;
    let now = state.clock.now_ms();
    let at = chrono::DateTime::from_timestamp_millis(now).context("the clock is out of range")?;
    let user = NewUser {
        role: Role::Candidate,
        display_name: candidate.name.clone(),
        email: candidate.email.clone(),
        candidate_id: Some(CandidateId(candidate.candidate_id.0)),
        forces: Vec::new(),
    };
    let invited = AuditEvent::new(
        AuditAction::parse("invitation_created")?,
        AuditOutcome::Success,
        at,
    );
    let invitation_token = shield_web::auth::token::new_token();
    let (user_id, invitation_id) = store
        .invite(
            &user,
            &NewInvitation {
                token_hash: shield_web::auth::token::hash(&invitation_token),
                expires_at_ms: now + 60_000,
                created_by: None,
            },
            now,
            &invited,
            None,
        )
        .await?;
    let enrolled = AuditEvent::new(
        AuditAction::parse("enrolment_completed")?,
        AuditOutcome::Success,
        at,
    );
    store
        .complete_enrolment(
            &Enrolment::without_secrets(invitation_id, user_id),
            now,
            &enrolled,
        )
        .await?;
    let token = shield_web::auth::token::new_token();
    let (mut record, _) =
        shield_web::auth::session::new_session(now, Some(user_id), None, Some(now));
    record.token_hash = shield_web::auth::token::hash(&token).to_vec();
    store.create_session(&record).await?;
    tracing::info!(user = user_id.0, "benchmark candidate signed in");
    Ok((token, record.csrf_token))
}

/// The report id in an owner-force alert (`… needs you … /reports/{id}`), if this is one.
fn alert_report(data: &str) -> Option<i64> {
    // Undo quoted-printable soft line breaks, should the sender have used them.
    let text = data.replace("=\r\n", "");
    if !text.contains("report needs you") {
        return None;
    }
    let after = &text[text.rfind("/reports/")? + "/reports/".len()..];
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_are_matched_by_their_link() {
        let data = "Subject: x\r\n\r\nA new P3 report needs you. Reference R-00042.\r\n\
                    Sign in: http://127.0.0.1:1/reports/42\r\n";
        assert_eq!(alert_report(data), Some(42));
        let informed = "A P3 report from a candidate in a constituency your force shares. \
                        Reference R-00042.\r\nhttp://127.0.0.1:1/reports/42\r\n";
        assert_eq!(alert_report(informed), None);
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile_ms(&samples, 0.5), Some(50.0));
        assert_eq!(percentile_ms(&samples, 0.99), Some(99.0));
        assert_eq!(percentile_ms(&[], 0.5), None);
    }
}
