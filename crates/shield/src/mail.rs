//! The outbox worker as the binary runs it: inside `serve` (and `demo`) when mail is
//! configured, or alone as `shield worker` (several may run against one PostgreSQL).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use secrecy::{ExposeSecret, SecretString};
use shield_jobs::{
    DefaultTemplates, EmailSender, OutgoingEmail, SendError, SmtpConfig, SmtpSender, TlsMode,
    Worker,
};
use shield_web::AppState;
use shield_web::invitations::InvitationOpener;

use crate::config::Config;

/// Reads `SHIELD_SMTP_URL`: `smtp://host[:port]` (no TLS: loopback relays only),
/// `smtp+starttls://[user:pass@]host[:port]` or `smtps://[user:pass@]host[:port]`.
pub fn smtp_config(url: &SecretString, from: &str) -> anyhow::Result<SmtpConfig> {
    let raw = url.expose_secret();
    let (scheme, rest) = raw
        .split_once("://")
        .context("SHIELD_SMTP_URL must look like smtp://host:port")?;
    let (tls, default_port) = match scheme {
        "smtp" => (TlsMode::None, 25),
        "smtp+starttls" => (TlsMode::StartTls, 587),
        "smtps" => (TlsMode::Implicit, 465),
        other => bail!("SHIELD_SMTP_URL scheme {other:?} must be smtp, smtp+starttls or smtps"),
    };
    let (credentials, hostport) = match rest.rsplit_once('@') {
        Some((userinfo, hostport)) => {
            let (user, pass) = userinfo
                .split_once(':')
                .context("SHIELD_SMTP_URL credentials must be user:password")?;
            (
                Some((user.to_owned(), SecretString::from(pass.to_owned()))),
                hostport,
            )
        }
        None => (None, rest),
    };
    let hostport = hostport.trim_end_matches('/');
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (
            h.to_owned(),
            p.parse().context("SHIELD_SMTP_URL port is not a number")?,
        ),
        None => (hostport.to_owned(), default_port),
    };
    if tls == TlsMode::None && !(host == "127.0.0.1" || host == "localhost" || host == "::1") {
        bail!(
            "plain smtp:// is only for a relay on this machine; use smtp+starttls:// or smtps://"
        );
    }
    let domain = from
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>').to_owned())
        .unwrap_or_else(|| "localhost.localdomain".into());
    Ok(SmtpConfig {
        host,
        port,
        tls,
        credentials,
        from: from.to_owned(),
        message_id_domain: domain,
        timeout: Duration::from_secs(20),
    })
}

/// The worker for this configuration. It always runs, because it also fires the reports'
/// acknowledge-by deadlines: with `SHIELD_SMTP_URL` it sends through that relay; without one it
/// writes each email as a `.eml` file under `DATA_DIR/mail/` (the demo's mailbox) and says so.
pub fn worker(config: &Config, state: &AppState, base_url: &str) -> anyhow::Result<Option<Worker>> {
    let sender: Arc<dyn EmailSender> = match &config.smtp_url {
        Some(url) => Arc::new(
            SmtpSender::new(&smtp_config(url, &config.mail_from)?)
                .context("cannot set up the mail relay")?,
        ),
        None => {
            let dir = config.data_dir.join("mail");
            tracing::warn!(
                "no SHIELD_SMTP_URL: emails are written to the data directory's mail/ folder, not sent"
            );
            Arc::new(MailFolder::new(dir)?)
        }
    };
    let id = format!("{}-{}", hostname(), std::process::id());
    let worker = Worker::new(
        id,
        state.store.clone(),
        sender,
        Arc::new(DefaultTemplates::new(base_url)),
        state.clock.clone(),
    )
    .with_secret_opener(Arc::new(InvitationOpener::new(state.keys.clone())))
    .with_deadlines(timers(state));
    Ok(Some(worker))
}

/// What the worker fires at the start of each tick: check-in alarms (a P1 report each, sealed
/// with the key ring) and the reports' acknowledge-by deadlines.
pub fn timers(state: &AppState) -> Arc<dyn shield_store::DeadlineStore> {
    Arc::new(shield_store::Timers::new(
        state.store.clone(),
        Arc::new(shield_web::sealing::RingSealer(state.keys.clone())),
    ))
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "shield".into())
}

/// Writes each email as `<message id>.eml` in a folder instead of sending it: the demo's
/// mailbox, and what `serve` does when no relay is configured. Bodies are content-free (the
/// templates), so the folder holds addresses, subjects and links only.
#[derive(Debug)]
pub struct MailFolder {
    dir: std::path::PathBuf,
}

impl MailFolder {
    pub fn new(dir: std::path::PathBuf) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Self { dir })
    }
}

#[async_trait::async_trait]
impl EmailSender for MailFolder {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), SendError> {
        let from = "Candidate Shield <no-reply@candidate-shield.local>"
            .parse()
            .map_err(|_| SendError::new("mail_folder"))?;
        let message = shield_jobs::build_message(
            from,
            format!("<{}@candidate-shield.local>", email.message_id),
            email,
        )?;
        let path = self.dir.join(format!("{}.eml", email.message_id));
        tokio::fs::write(&path, message.formatted())
            .await
            .map_err(|_| SendError::new("mail_folder"))
    }
}
