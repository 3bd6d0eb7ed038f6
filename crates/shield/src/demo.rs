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

/// The demo's people: each gets a one-time invitation link, printed by `shield demo` only
/// (a real deployment sends links by email through the outbox and never prints them).
#[derive(Debug)]
pub struct DemoSignIn {
    pub who: String,
    pub link_path: String,
}

/// Creates the demo accounts and their invitations (through the real invitation path, so an
/// invitation email is queued too). The candidate is in the cross-force constituency, so their
/// page shows both forces' named contacts.
pub async fn invite_people(state: &shield_web::AppState) -> anyhow::Result<Vec<DemoSignIn>> {
    use shield_domain::{CandidateId, ForceCode, Role};
    use shield_store::accounts::NewUser;

    let invitees = state.store.candidate_invitees(None).await?;
    let candidate = invitees
        .iter()
        .find(|c| c.name == "Claire Whitfield")
        .context("the demo candidate is missing")?;
    let people = [
        (
            format!(
                "Candidate: {} (password and authenticator app)",
                candidate.name
            ),
            NewUser {
                role: Role::Candidate,
                display_name: candidate.name.clone(),
                email: candidate.email.clone(),
                candidate_id: Some(CandidateId(candidate.candidate_id.0)),
                forces: Vec::new(),
            },
        ),
        (
            "Police contact: Inspector Helen Grant, Thames Valley Police (passkey)".to_owned(),
            NewUser {
                role: Role::ForceContact,
                display_name: "Inspector Helen Grant".into(),
                email: "helen.grant@thamesvalley.police.example".into(),
                candidate_id: None,
                forces: vec![ForceCode::parse("E23000029")?],
            },
        ),
        (
            "Coordinator: Demo Coordinator (passkey)".to_owned(),
            NewUser {
                role: Role::Coordinator,
                display_name: "Demo Coordinator".into(),
                email: "coordinator@shield.example".into(),
                candidate_id: None,
                forces: Vec::new(),
            },
        ),
    ];
    let mut out = Vec::new();
    for (who, user) in people {
        let (_, token) = shield_web::invitations::issue(state, &user, None)
            .await
            .map_err(|e| anyhow::anyhow!("cannot invite a demo person: {e}"))?;
        out.push(DemoSignIn {
            who,
            link_path: format!("/invitations/{token}"),
        });
    }
    Ok(out)
}

pub async fn run(config: &Config) -> anyhow::Result<()> {
    let dir = config.data_dir.join("demo");
    let (url, where_) = match &config.database_url {
        Some(url) => (
            url.clone(),
            "the database in SHIELD_DATABASE_URL".to_owned(),
        ),
        None => {
            let path = fresh_sqlite_file(&dir)?;
            (
                SecretString::from(sqlite_url(&path)),
                format!("a fresh SQLite file, {}", path.display()),
            )
        }
    };
    let keys = match config.keys.load()? {
        Some(keys) => keys,
        None => {
            // The demo makes its own key file beside its data; `serve` never does this.
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            let path = dir.join("keys.toml");
            let _ = std::fs::remove_file(&path);
            let keys = shield_crypto::KeyRing::generate();
            keys.write_key_file(&path)?;
            keys
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
    crate::cli::seed_guidance(store.clone()).await?;
    let stats = store.stats().await?;
    // The project's own small breached-password list, for `/passwords/check`.
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let breached = dir.join(crate::breached::FILE_NAME);
    let breached_summary = crate::breached::load_demo(&breached)?;
    let state = shield_web::AppState::with(
        store,
        std::sync::Arc::new(shield_store::SystemClock),
        std::sync::Arc::new(keys),
    )
    .with_security_windows(config.security_windows)
    .with_breached_passwords(shield_breached::RangeStore::new(breached));
    // The worker sends email (or, with no relay configured, writes it to data/mail/) and fires
    // the reports' acknowledge-by deadlines. Links in emails point at this demo's address.
    let base_for_mail = crate::cli::browse_url(config.listen);
    let state = match crate::mail::worker(config, &state, &base_for_mail)? {
        Some(worker) => {
            let state = state.with_worker(worker.handle());
            tokio::spawn(async move { worker.run_until(std::future::pending()).await });
            state
        }
        None => state,
    };
    let state = state.with_scanner(std::sync::Arc::new(crate::scanner::DetectScanner::load(
        &crate::detect_cmd::app_model_dir(),
    )));
    let people = invite_people(&state).await?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(crate::serve::serve(state, config.listen, Some(tx)));
    let Ok(addr) = rx.await else {
        // The server failed before binding; its error says why.
        return server.await.context("the server task failed")?;
    };
    let base = crate::cli::browse_url(addr);
    println!("Candidate Shield demo");
    println!("  Open {base}");
    println!("  Database: {where_}");
    println!(
        "  Loaded a fictional election: {} constituencies, {} police forces, {} candidates, {} named police contacts",
        stats.constituencies,
        stats.forces,
        stats.candidates,
        reports.last().map(|r| r.rows).unwrap_or(0)
    );
    println!(
        "  Loaded the demo breached-password list ({} hashes): try {}passwords/check",
        breached_summary.hashes, base
    );
    println!(
        "  Demo sign-ins: open a link to set up that person's sign-in (each works once, for 7 days):"
    );
    for person in &people {
        println!("    {}", person.who);
        println!("      {}{}", base.trim_end_matches('/'), person.link_path);
    }
    println!("  Then sign in at {}sign-in. Press Ctrl-C to stop.", base);
    if config.smtp_url.is_none() {
        println!(
            "  Emails (content-free: priority, reference, link) are written to {}",
            config.data_dir.join("mail").display()
        );
    }
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
