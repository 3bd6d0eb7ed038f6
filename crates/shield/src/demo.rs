//! `shield demo`: a small fictional election (in `demo/` at the repository root, compiled in so
//! the binary works from any folder) loaded through the real import path, then served.

use std::path::Path;

use anyhow::Context;
use secrecy::SecretString;
use shield_store::{ImportMode, Store};

use crate::config::{Config, sqlite_url};
use crate::import::{CsvFile, ImportKind, ImportReport, import};

/// The demo files in import order.
pub const FILES: [(ImportKind, &str, &str); 5] = [
    (
        ImportKind::Constituencies,
        "demo/constituencies.csv",
        include_str!("../../../demo/constituencies.csv"),
    ),
    (
        ImportKind::Forces,
        "demo/forces.csv",
        include_str!("../../../demo/forces.csv"),
    ),
    (
        ImportKind::ConstituencyForces,
        "demo/constituency_forces.csv",
        include_str!("../../../demo/constituency_forces.csv"),
    ),
    (
        ImportKind::Candidates,
        "demo/candidates.csv",
        include_str!("../../../demo/candidates.csv"),
    ),
    (
        ImportKind::Contacts,
        "demo/contacts.csv",
        include_str!("../../../demo/contacts.csv"),
    ),
];

/// Imports the demo election; idempotent, so running it on a filled database changes nothing.
pub async fn load(store: &dyn Store) -> anyhow::Result<Vec<ImportReport>> {
    let mut reports = Vec::new();
    for (kind, name, text) in FILES {
        let file = CsvFile::from_bytes(name.to_owned(), text.as_bytes())?;
        reports.push(import(store, kind, &file, ImportMode::Commit).await?);
    }
    Ok(reports)
}

pub async fn run(config: &Config) -> anyhow::Result<()> {
    let (url, where_) = match &config.database_url {
        Some(url) => (
            url.clone(),
            "the database in SHIELD_DATABASE_URL".to_owned(),
        ),
        None => {
            let dir = config.data_dir.join("demo");
            let path = fresh_sqlite_file(&dir)?;
            (
                SecretString::from(sqlite_url(&path)),
                format!("a fresh SQLite file, {}", path.display()),
            )
        }
    };
    let store = shield_store::connect(&url)
        .await
        .context("cannot open the demo database")?;
    store
        .migrate()
        .await
        .context("cannot migrate the demo database")?;
    let reports = load(store.as_ref()).await?;
    let stats = store.stats().await?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(crate::serve::serve(store, config.listen, Some(tx)));
    let Ok(addr) = rx.await else {
        // The server failed before binding; its error says why.
        return server.await.context("the server task failed")?;
    };
    println!("Candidate Shield demo");
    println!("  Open {}", crate::cli::browse_url(addr));
    println!("  Database: {where_}");
    println!(
        "  Loaded a fictional election: {} constituencies, {} police forces, {} candidates, {} named police contacts",
        stats.constituencies,
        stats.forces,
        stats.candidates,
        reports.last().map(|r| r.rows).unwrap_or(0)
    );
    println!("  Demo sign-ins: none yet. Sign-in and accounts are the next piece of work;");
    println!("  this version serves the reference data only, to no one in particular.");
    println!("  Press Ctrl-C to stop.");
    server.await.context("the server task failed")?
}

/// Removes any earlier demo database so each demo starts from the same state.
fn fresh_sqlite_file(dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join("shield.db");
    for suffix in ["", "-wal", "-shm"] {
        let file = dir.join(format!("shield.db{suffix}"));
        if file.exists() {
            std::fs::remove_file(&file)
                .with_context(|| format!("cannot remove {}", file.display()))?;
        }
    }
    Ok(path)
}
