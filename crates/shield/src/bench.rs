//! `shield bench import`: times the full 2024 reference import on fresh databases. A benchmark,
//! not a test: it prints medians and makes no assertion about them. `shield bench intake` is in
//! [`intake`].

pub mod breached;
pub mod intake;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use secrecy::SecretString;
use serde::Serialize;
use shield_store::{ImportMode, Store};
use sqlx::Connection;

use crate::import::{ImportKind, import_file};

const FILES: [(ImportKind, &str); 4] = [
    (ImportKind::Constituencies, "constituencies_2024.csv"),
    (ImportKind::Forces, "police_force_areas.csv"),
    (ImportKind::ConstituencyForces, "pcon24_pfa_lookup.csv"),
    (ImportKind::Candidates, "candidates_ge2024.csv"),
];

#[derive(Debug, Serialize)]
struct BackendFigures {
    backend: &'static str,
    runs: usize,
    /// Median milliseconds per file, first import into an empty database.
    median_ms: Vec<(String, f64)>,
    median_total_ms: f64,
    /// Median milliseconds to import all four files again (nothing changes).
    median_reimport_total_ms: f64,
}

pub async fn import(
    data: &Path,
    postgres_url: Option<&str>,
    runs: usize,
    json: bool,
) -> anyhow::Result<()> {
    let runs = runs.max(1);
    for (_, file) in FILES {
        let path = data.join(file);
        anyhow::ensure!(
            path.exists(),
            "{} is missing: pass --data with the reference data folder",
            path.display()
        );
    }
    let mut results = vec![
        bench_backend("sqlite", data, runs, || async {
            let dir = tempfile::tempdir()?;
            let url = format!("sqlite://{}", dir.path().join("bench.db").display());
            let store = shield_store::connect(&SecretString::from(url)).await?;
            Ok((store, Cleanup::Dir(dir)))
        })
        .await?,
    ];
    if let Some(admin) = postgres_url {
        results.push(
            bench_backend("postgres", data, runs, || async move {
                let name = format!("shield_bench_{}", std::process::id());
                let mut conn = sqlx::PgConnection::connect(admin)
                    .await
                    .context("cannot reach the PostgreSQL server")?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await?;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await?;
                let url = with_database(admin, &name);
                let store = shield_store::connect(&SecretString::from(url)).await?;
                Ok((
                    store,
                    Cleanup::Postgres {
                        admin: admin.to_owned(),
                        name,
                    },
                ))
            })
            .await?,
        );
    }
    for r in &results {
        if json {
            println!("{}", serde_json::to_string(r)?);
        } else {
            println!("{} ({} runs, medians):", r.backend, r.runs);
            for (file, ms) in &r.median_ms {
                println!("  {file:<28} {ms:>9.1} ms");
            }
            println!(
                "  {:<28} {:>9.1} ms",
                "total, empty database", r.median_total_ms
            );
            println!(
                "  {:<28} {:>9.1} ms",
                "total, re-import (no change)", r.median_reimport_total_ms
            );
        }
    }
    Ok(())
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin: String, name: String },
}

async fn bench_backend<F, Fut>(
    backend: &'static str,
    data: &Path,
    runs: usize,
    fresh: F,
) -> anyhow::Result<BackendFigures>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<(std::sync::Arc<dyn Store>, Cleanup)>>,
{
    let mut per_file: Vec<Vec<Duration>> = vec![Vec::new(); FILES.len()];
    let mut totals = Vec::new();
    let mut reimports = Vec::new();
    for _ in 0..runs {
        let (store, cleanup) = fresh().await?;
        store.migrate().await?;
        let start = Instant::now();
        for (i, (kind, file)) in FILES.iter().enumerate() {
            let t = Instant::now();
            import_file(store.as_ref(), *kind, &data.join(file), ImportMode::Commit).await?;
            per_file[i].push(t.elapsed());
        }
        totals.push(start.elapsed());
        let again = Instant::now();
        for (kind, file) in FILES {
            let report =
                import_file(store.as_ref(), kind, &data.join(file), ImportMode::Commit).await?;
            anyhow::ensure!(
                report.outcome.changed() == 0,
                "re-import of {file} changed rows"
            );
        }
        reimports.push(again.elapsed());
        drop(store);
        if let Cleanup::Postgres { admin, name } = cleanup {
            let mut conn = sqlx::PgConnection::connect(&admin).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await?;
        }
    }
    Ok(BackendFigures {
        backend,
        runs,
        median_ms: FILES
            .iter()
            .zip(per_file)
            .map(|((_, f), d)| ((*f).to_owned(), median_ms(d)))
            .collect(),
        median_total_ms: median_ms(totals),
        median_reimport_total_ms: median_ms(reimports),
    })
}

fn median_ms(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples
        .get(samples.len() / 2)
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or(0.0)
}

fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map(|(b, q)| (b, Some(q)))
        .unwrap_or((url, None));
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let root = base[scheme_end..]
        .find('/')
        .map(|i| &base[..scheme_end + i])
        .unwrap_or(base);
    match query {
        Some(q) => format!("{root}/{database}?{q}"),
        None => format!("{root}/{database}"),
    }
}
