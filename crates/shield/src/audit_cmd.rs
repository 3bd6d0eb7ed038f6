//! `shield audit verify | export-checkpoint`: check the tamper-evident audit chain, and take
//! checkpoints of its head to keep somewhere the database's owner cannot rewrite.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use shield_domain::audit::{AuditCheckpoint, GENESIS_HASH, VerifiedHead, hash_hex};
use shield_store::{AuditVerification, Store};

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every link of the chain and the recorded head; exits non-zero naming the first
    /// broken seq.
    Verify {
        /// A file of checkpoints (JSON lines from `export-checkpoint`) the chain must still
        /// contain: catches a chain rewritten from the start, which the links alone cannot.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
    },
    /// Verify the chain, then print its head as one JSON line `{"seq","hash","at"}` to keep
    /// off this machine.
    ExportCheckpoint,
}

pub async fn run(config: &Config, command: AuditCommand) -> anyhow::Result<()> {
    let store = crate::cli::open(config).await?;
    match command {
        AuditCommand::Verify { checkpoint } => {
            let head = verified_head(store.as_ref()).await?;
            println!(
                "audit chain intact: {} events, head seq {}, hash {}",
                head.count,
                head.seq,
                hash_hex(&head.hash)
            );
            if let Some(path) = checkpoint {
                let n = check_checkpoints(store.as_ref(), &head, &path).await?;
                println!("{n} checkpoint(s) match");
            }
        }
        AuditCommand::ExportCheckpoint => {
            let head = verified_head(store.as_ref()).await?;
            let checkpoint = AuditCheckpoint {
                seq: head.seq,
                hash: hash_hex(&head.hash),
                // Milliseconds, like the events themselves.
                at: chrono::DateTime::from_timestamp_millis(chrono::Utc::now().timestamp_millis())
                    .context("the clock is out of range")?,
            };
            println!("{}", serde_json::to_string(&checkpoint)?);
        }
    }
    Ok(())
}

async fn verified_head(store: &dyn Store) -> anyhow::Result<VerifiedHead> {
    match store
        .verify_audit()
        .await
        .context("cannot read the audit chain")?
    {
        AuditVerification::Intact(head) => Ok(head),
        // The break's message is "audit chain broken at seq N: reason".
        AuditVerification::Broken(b) => Err(b.into()),
    }
}

/// Checks that each checkpoint in `path` is still a link of the chain; returns how many.
async fn check_checkpoints(
    store: &dyn Store,
    head: &VerifiedHead,
    path: &Path,
) -> anyhow::Result<usize> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut n = 0;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let cp: AuditCheckpoint = serde_json::from_str(line)
            .with_context(|| format!("{}: line {}: not a checkpoint", path.display(), i + 1))?;
        if cp.seq > head.seq {
            bail!(
                "audit chain does not match the checkpoint at seq {}: the chain ends at seq {} \
                 (cut short or rewritten)",
                cp.seq,
                head.seq
            );
        }
        let stored = if cp.seq <= 0 {
            hash_hex(&GENESIS_HASH)
        } else {
            let rows = store
                .audit_events(cp.seq - 1, 1)
                .await
                .context("cannot read the audit chain")?;
            match rows.first() {
                Some(r) if r.seq == cp.seq => hash_hex(&r.hash),
                _ => bail!(
                    "audit chain does not match the checkpoint at seq {}: no such row",
                    cp.seq
                ),
            }
        };
        if stored != cp.hash.to_ascii_lowercase() {
            bail!(
                "audit chain does not match the checkpoint at seq {}: the chain was rewritten",
                cp.seq
            );
        }
        n += 1;
    }
    Ok(n)
}
