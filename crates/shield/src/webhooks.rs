//! `shield webhooks`: signed webhook endpoints for forces that want reports in their own
//! systems (Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`).

use anyhow::{Context, bail};
use base64::Engine;
use clap::Subcommand;
use rand_core::{OsRng, RngCore};
use shield_domain::ForceCode;
use shield_web::sealing::KeySealer;

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Set (or replace) a force's endpoint. Prints a new signing secret once: give it to the
    /// force over a secure channel; it is stored encrypted and never shown again.
    Set {
        /// The force's code, e.g. E23000029.
        force: String,
        /// https://… (http:// only for a receiver on this machine).
        url: String,
    },
    /// List the endpoints (no secrets).
    List,
}

pub async fn run(config: &Config, command: WebhooksCommand) -> anyhow::Result<()> {
    let store = crate::cli::open(config).await?;
    match command {
        WebhooksCommand::Set { force, url } => {
            let force = ForceCode::parse(&force)
                .map_err(|e| anyhow::anyhow!("force {force:?}: {}", e.message))?;
            let parsed = url::Url::parse(&url).with_context(|| format!("url {url:?}"))?;
            let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
            if parsed.scheme() != "https" && !(parsed.scheme() == "http" && loopback) {
                bail!("url {url:?}: webhooks must use https:// (http:// only to this machine)");
            }
            if !store.force_codes().await?.contains(&force) {
                bail!("force {force}: not in the imported forces (run shield import forces first)");
            }
            let keys = config.keys.require()?;
            let mut raw = [0u8; 32];
            OsRng.fill_bytes(&mut raw);
            let secret = format!(
                "whsec_{}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            );
            let now = chrono::Utc::now().timestamp_millis();
            let id = store
                .set_force_webhook(&force, parsed.as_str(), &secret, &KeySealer(&keys), now)
                .await?;
            println!("webhook {id} for {force}: {}", parsed.as_str());
            println!("signing secret (shown once): {secret}");
        }
        WebhooksCommand::List => {
            for w in store.force_webhooks().await? {
                println!("{}\t{}\t{}", w.id, w.force, w.url);
            }
        }
    }
    Ok(())
}
