//! The outbox worker as the binary runs it: inside `serve` (and `demo`) when mail is
//! configured, or alone as `shield worker` (several may run against one PostgreSQL).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use secrecy::{ExposeSecret, SecretString};
use shield_jobs::{DefaultTemplates, SmtpConfig, SmtpSender, TlsMode, Worker};
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

/// A worker for this configuration, or `None` when no mail relay is configured.
pub fn worker(config: &Config, state: &AppState, base_url: &str) -> anyhow::Result<Option<Worker>> {
    let Some(url) = &config.smtp_url else {
        return Ok(None);
    };
    let sender = SmtpSender::new(&smtp_config(url, &config.mail_from)?)
        .context("cannot set up the mail relay")?;
    let id = format!("{}-{}", hostname(), std::process::id());
    let worker = Worker::new(
        id,
        state.store.clone(),
        Arc::new(sender),
        Arc::new(DefaultTemplates::new(base_url)),
        state.clock.clone(),
    )
    .with_secret_opener(Arc::new(InvitationOpener::new(state.keys.clone())))
    .with_deadlines(state.store.clone());
    Ok(Some(worker))
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "shield".into())
}
