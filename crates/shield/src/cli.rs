//! The command line: `shield migrate | import | stats | serve | demo | audit | bench | detect`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use shield_store::ImportMode;

use crate::config::{Config, Overrides};
use crate::import::{ImportKind, import_file};

#[derive(Debug, Parser)]
#[command(
    name = "shield",
    version,
    about = "Candidate Shield: protective security for election candidates"
)]
pub struct Cli {
    /// Database URL (sqlite:///path/file.db or postgres://…); overrides SHIELD_DATABASE_URL.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// A TOML configuration file; overrides SHIELD_CONFIG.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or update the database schema.
    Migrate,
    /// Import reference data from a CSV file: one transaction, all rows or none.
    Import {
        #[arg(value_enum)]
        kind: ImportKind,
        file: PathBuf,
        /// Check the file and report what would change, writing nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print the outcome as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Counts of what the database holds.
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// Run the web server.
    Serve {
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Fill a database with a small fictional election and serve it.
    Demo {
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Invite people: one-time links, emailed by the worker.
    #[command(subcommand)]
    Invite(crate::invite::InviteCommand),
    /// Run the outbox worker alone: sends queued email until stopped.
    Worker,
    /// Field-encryption keys: generate a key file, or rotate to a new key and re-encrypt.
    #[command(subcommand)]
    Keys(crate::keys::KeysCommand),
    /// Signed webhooks for forces that want reports in their own systems.
    #[command(subcommand)]
    Webhooks(crate::webhooks::WebhooksCommand),
    /// Check the tamper-evident audit chain, or export a checkpoint of it.
    #[command(subcommand)]
    Audit(crate::audit_cmd::AuditCommand),
    /// Benchmarks (not tests): measure and print figures.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Scan messages for threats, doxxing and abuse (rules, plus the model when present).
    Detect(crate::detect_cmd::DetectArgs),
    /// Generate data for trying the service at volume (demo and test databases only).
    #[command(subcommand)]
    Seed(SeedCommand),
}

#[derive(Debug, Subcommand)]
pub enum SeedCommand {
    /// Requests for additional security, assessed and decided across forces and ratings
    /// (needs candidates and forces: run after `shield demo` or an import).
    SecurityRequests {
        #[arg(long, default_value_t = 300)]
        count: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Time a full import of the reference data on a fresh database of each backend.
    Import {
        /// The folder holding the 2024 reference files.
        #[arg(long, default_value = "../shared/data")]
        data: PathBuf,
        /// A PostgreSQL server to benchmark too (a fresh database is created and dropped).
        #[arg(long, env = "SHIELD_BENCH_POSTGRES_URL", value_name = "URL")]
        postgres_url: Option<String>,
        /// How many times to run each import; the median is reported.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        #[arg(long)]
        json: bool,
    },
    /// Range lookups per second on a generated breached-password list, and its bytes on
    /// disk: generates COUNT random hashes as an import file, imports them, measures, and
    /// removes every file it made.
    BreachedPasswords {
        /// How many hashes to generate.
        #[arg(long, default_value_t = 10_000_000)]
        count: u64,
        /// Lookups per thread in each run.
        #[arg(long, default_value_t = 200_000)]
        lookups: u64,
        /// Runs per thread count; the median is reported.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Thread counts to measure (comma-separated).
        #[arg(long, value_delimiter = ',', default_value = "1,2")]
        threads: Vec<usize>,
        #[arg(long)]
        json: bool,
        /// Where the generated files go (a fresh folder inside, removed afterwards); default
        /// `target/` when there is one, else the system temporary folder.
        #[arg(long, value_name = "PATH")]
        dir: Option<PathBuf>,
    },
    /// Durable report submissions per second over HTTP (loopback server, fresh SQLite file)
    /// against raw single-row durable inserts on the same disk, and report-to-alert-email
    /// latency through a loopback SMTP sink.
    Intake {
        /// How many reports to submit.
        #[arg(long, default_value_t = 500)]
        reports: usize,
        /// Requests in flight at once (each on its own keep-alive connection).
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Print one JSON line instead of a summary.
        #[arg(long)]
        json: bool,
        /// Where the SQLite files go (a fresh folder is made inside and removed afterwards);
        /// default `target/` when there is one, else the system temporary folder.
        #[arg(long, value_name = "PATH")]
        dir: Option<PathBuf>,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let listen = match &cli.command {
        Command::Serve { listen } | Command::Demo { listen } => listen.clone(),
        _ => None,
    };
    let config = Config::load(Overrides {
        config_file: cli.config.clone(),
        database_url: cli.database_url.clone(),
        listen,
    })?;
    crate::telemetry::init(config.log_format);
    match cli.command {
        Command::Migrate => {
            let store = open(&config).await?;
            let added = seed_guidance(store.clone()).await?;
            println!("database is up to date ({})", store.backend().name());
            if added > 0 {
                println!("added {added} starter guidance articles");
            }
        }
        Command::Import {
            kind: ImportKind::BreachedPasswords,
            file,
            dry_run,
            json,
        } => {
            // A file in the data folder, not the database: nothing to open or migrate.
            let report = crate::breached::import(&config, &file, dry_run)?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!("{report}");
            }
        }
        Command::Import {
            kind,
            file,
            dry_run,
            json,
        } => {
            let store = open(&config).await?;
            let mode = if dry_run {
                ImportMode::DryRun
            } else {
                ImportMode::Commit
            };
            let report = import_file(store.as_ref(), kind, &file, mode).await?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!("{report}");
            }
        }
        Command::Stats { json } => {
            let store = open(&config).await?;
            let stats = store.stats().await.context("cannot read the counts")?;
            if json {
                println!("{}", serde_json::to_string(&stats)?);
            } else {
                println!("constituencies              {}", stats.constituencies);
                println!("police forces               {}", stats.forces);
                println!("constituency–force links    {}", stats.constituency_forces);
                println!(
                    "cross-force constituencies  {}",
                    stats.cross_force_constituencies
                );
                println!("candidates                  {}", stats.candidates);
                println!(
                    "candidates without a force  {}",
                    stats.candidates_without_force
                );
            }
        }
        Command::Serve { .. } => {
            let keys = config.keys.require()?;
            let store = open(&config).await?;
            seed_guidance(store.clone()).await?;
            let state = shield_web::AppState::with(
                store,
                std::sync::Arc::new(shield_store::SystemClock),
                std::sync::Arc::new(keys),
            )
            .with_scanner(std::sync::Arc::new(crate::scanner::DetectScanner::load(
                &crate::detect_cmd::app_model_dir(),
            )))
            .with_trusted_proxies(config.trusted_proxies.clone())
            .with_security_windows(config.security_windows)
            .with_breached_passwords(shield_breached::RangeStore::new(crate::breached::path(
                &config,
            )));
            let base = config
                .public_url
                .clone()
                .unwrap_or_else(|| browse_url(config.listen));
            let state = match crate::mail::worker(&config, &state, &base)? {
                Some(worker) => {
                    let state = state.with_worker(worker.handle());
                    tokio::spawn(async move { worker.run_until(std::future::pending()).await });
                    state
                }
                None => state,
            };
            crate::serve::serve(state, config.listen, None).await?;
        }
        Command::Invite(command) => crate::invite::run(&config, command).await?,
        Command::Worker => {
            let keys = config.keys.require()?;
            let store = open(&config).await?;
            let state = shield_web::AppState::with(
                store,
                std::sync::Arc::new(shield_store::SystemClock),
                std::sync::Arc::new(keys),
            );
            let base = config
                .public_url
                .clone()
                .context("SHIELD_PUBLIC_URL is needed for links in emails")?;
            let worker = crate::mail::worker(&config, &state, &base)?
                .context("SHIELD_SMTP_URL is not set: there is nowhere to send mail")?;
            tracing::info!(worker = worker.id(), "worker running");
            worker
                .run_until(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await;
        }
        Command::Keys(command) => crate::keys::run(&config, command).await?,
        Command::Webhooks(command) => crate::webhooks::run(&config, command).await?,
        Command::Demo { .. } => crate::demo::run(&config).await?,
        Command::Audit(command) => crate::audit_cmd::run(&config, command).await?,
        Command::Detect(args) => crate::detect_cmd::run(args)?,
        Command::Seed(SeedCommand::SecurityRequests { count }) => {
            let keys = config.keys.require()?;
            let store = open(&config).await?;
            let state = shield_web::AppState::with(
                store,
                std::sync::Arc::new(shield_store::SystemClock),
                std::sync::Arc::new(keys),
            )
            .with_security_windows(config.security_windows);
            let now = shield_domain::Clock::now_ms(&shield_store::SystemClock);
            let seeded = crate::seed::security_requests(&state, count, now).await?;
            println!(
                "seeded {} requests for additional security: {} assessed, {} decided",
                seeded.requests, seeded.assessed, seeded.decided
            );
        }
        Command::Bench(BenchCommand::Import {
            data,
            postgres_url,
            runs,
            json,
        }) => {
            crate::bench::import(&data, postgres_url.as_deref(), runs, json).await?;
        }
        Command::Bench(BenchCommand::BreachedPasswords {
            count,
            lookups,
            runs,
            threads,
            json,
            dir,
        }) => {
            crate::bench::breached::run(crate::bench::breached::Options {
                count,
                lookups,
                runs,
                threads,
                json,
                dir,
            })?;
        }
        Command::Bench(BenchCommand::Intake {
            reports,
            concurrency,
            json,
            dir,
        }) => {
            crate::bench::intake::intake(crate::bench::intake::IntakeOptions {
                reports,
                concurrency,
                json,
                dir,
            })
            .await?;
        }
    }
    Ok(())
}

/// Adds the starter guidance articles the library does not have yet (idempotent by slug;
/// coordinators' edits and unpublishing stand). Returns how many were added.
pub async fn seed_guidance(
    store: std::sync::Arc<dyn shield_store::Store>,
) -> anyhow::Result<usize> {
    let state = shield_web::AppState::new(store);
    shield_web::guidance::seed_starter(&state)
        .await
        .map_err(|e| anyhow::anyhow!("cannot load the starter guidance: {e}"))
}

/// Opens the configured database and brings its schema up to date.
pub async fn open(config: &Config) -> anyhow::Result<std::sync::Arc<dyn shield_store::Store>> {
    let url = config.database_url_or_default()?;
    let store = shield_store::connect(&url)
        .await
        .context("cannot open the database")?;
    store
        .migrate()
        .await
        .context("cannot migrate the database")?;
    Ok(store)
}

/// The address a person should open for a listening socket. Loopback addresses are shown as
/// `localhost`, the one plain-HTTP origin browsers keep `Secure` session cookies for.
pub fn browse_url(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() || addr.ip().is_loopback() {
        format!("http://localhost:{}/", addr.port())
    } else {
        format!("http://{addr}/")
    }
}
