//! `shield invite …`: one-time invitation links, emailed through the outbox by the worker.
//! The command prints counts, never links: a link is a credential until it is used.

use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;
use shield_domain::{ForceCode, Role};
use shield_store::accounts::NewUser;
use shield_web::AppState;

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum InviteCommand {
    /// Every candidate with an email address and no account yet (or still only invited).
    Candidates {
        /// Only the candidates of one force (its ONS code, e.g. E23000029).
        #[arg(long)]
        force: Option<String>,
    },
    /// Every named police contact in the roster without an account yet.
    Contacts,
    /// One coordinator or admin.
    Person {
        #[arg(long, value_parser = ["coordinator", "admin"])]
        role: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
    },
}

pub async fn run(config: &Config, command: InviteCommand) -> anyhow::Result<()> {
    let keys = config.keys.require()?;
    let store = crate::cli::open(config).await?;
    let state = AppState::with(
        store.clone(),
        Arc::new(shield_store::SystemClock),
        Arc::new(keys),
    );
    let people: Vec<NewUser> = match command {
        InviteCommand::Candidates { force } => {
            let force = force
                .map(|f| ForceCode::parse(&f))
                .transpose()
                .map_err(|e| anyhow::anyhow!(e.message))?;
            store
                .candidate_invitees(force.as_ref())
                .await?
                .into_iter()
                .map(|c| NewUser {
                    role: Role::Candidate,
                    display_name: c.name,
                    email: c.email,
                    candidate_id: Some(c.candidate_id),
                    forces: Vec::new(),
                })
                .collect()
        }
        InviteCommand::Contacts => store.contact_invitees().await?,
        InviteCommand::Person { role, name, email } => vec![NewUser {
            role: Role::parse(&role).map_err(|e| anyhow::anyhow!(e.message))?,
            display_name: name,
            email,
            candidate_id: None,
            forces: Vec::new(),
        }],
    };
    let mut sent = 0;
    for person in &people {
        shield_web::invitations::issue(&state, person, None)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("cannot create an invitation")?;
        sent += 1;
    }
    println!(
        "queued {sent} invitation emails; the worker sends them (shield worker, or shield serve with SHIELD_SMTP_URL)"
    );
    Ok(())
}
