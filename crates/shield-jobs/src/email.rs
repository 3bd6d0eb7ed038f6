//! Sending email. [`EmailSender`] is what the worker calls; [`SmtpSender`] implements it with
//! lettre over SMTP (rustls with ring for TLS; no OpenSSL). Errors are reduced to a short class
//! (`smtp_4xx`, `connect`, …) because a server's reply text may echo the recipient's address.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use thiserror::Error;

/// One email to send. Its `Debug` shows the message id only.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    /// The outbox row's stable id; the `Message-ID` header is `<{message_id}@{domain}>`.
    pub message_id: String,
    pub to: String,
    pub subject: String,
    pub text_body: String,
    pub attachments: Vec<Attachment>,
}

/// A file attached to an email. Its `Debug` leaves out the content.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    /// A full MIME type with parameters, e.g. `text/calendar; method=REQUEST; charset=utf-8`.
    pub content_type: String,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

/// Builds the MIME message: plain text alone, or `multipart/mixed` with the attachments.
/// Shared by the SMTP sender and the binary's mail folder.
pub fn build_message(
    from: Mailbox,
    message_id_header: String,
    email: &OutgoingEmail,
) -> Result<Message, SendError> {
    use lettre::message::{MultiPart, SinglePart};
    let to: Mailbox = email
        .to
        .parse()
        .map_err(|_| SendError::new("bad_address"))?;
    let builder = Message::builder()
        .from(from)
        .to(to)
        .subject(email.subject.clone())
        .message_id(Some(message_id_header));
    if email.attachments.is_empty() {
        return builder
            .header(ContentType::TEXT_PLAIN)
            .body(email.text_body.clone())
            .map_err(|_| SendError::new("build"));
    }
    let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(email.text_body.clone()));
    for a in &email.attachments {
        let kind = ContentType::parse(&a.content_type).map_err(|_| SendError::new("build"))?;
        parts = parts.singlepart(
            lettre::message::Attachment::new(a.filename.clone()).body(a.body.clone(), kind),
        );
    }
    builder
        .multipart(parts)
        .map_err(|_| SendError::new("build"))
}

impl std::fmt::Debug for OutgoingEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingEmail")
            .field("message_id", &self.message_id)
            .finish_non_exhaustive()
    }
}

/// A failed send (an email, or a webhook: see [`crate::webhook`]), as a short class fit for logs
/// and `outbox.last_error`. Every failure is
/// retried until the worker's attempt limit: a permanent (5xx) reply is as often a
/// misconfiguration (authentication, relaying denied) as a bad address, and an alert must not be
/// dropped because the SMTP settings were wrong for an hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("not sent: {class}")]
pub struct SendError {
    pub class: &'static str,
}

impl SendError {
    pub fn new(class: &'static str) -> Self {
        Self { class }
    }
}

/// Sends one email. Implementations must not log addresses or bodies.
#[async_trait]
pub trait EmailSender: Send + Sync + std::fmt::Debug {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), SendError>;
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain text: only for a relay on loopback (and the test sink).
    None,
    /// Plain connection upgraded with STARTTLS, which is required (usually port 587).
    StartTls,
    /// TLS from the first byte (usually port 465).
    Implicit,
}

/// Where and how to send mail.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    /// User name and password, if the relay wants them.
    pub credentials: Option<(String, SecretString)>,
    /// The `From:` address, e.g. `Candidate Shield <alerts@shield.example>`.
    pub from: String,
    /// The right-hand side of every `Message-ID`; also the EHLO name. Usually the domain of
    /// `from`.
    pub message_id_domain: String,
    /// Limit for each SMTP command (connect, each reply).
    pub timeout: Duration,
}

/// The SMTP settings were not usable.
#[derive(Debug, Error)]
pub enum SmtpConfigError {
    #[error("the From address is not a valid mailbox")]
    From,
    #[error("the Message-ID domain is empty or not a host name")]
    Domain,
    #[error("the SMTP relay could not be set up: {0}")]
    Relay(#[from] lettre::transport::smtp::Error),
}

/// Sends through an SMTP relay, one connection per message.
#[derive(Debug, Clone)]
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    domain: String,
    timeout: Duration,
}

fn host_name(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 253
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

impl SmtpSender {
    pub fn new(config: &SmtpConfig) -> Result<Self, SmtpConfigError> {
        let from: Mailbox = config.from.parse().map_err(|_| SmtpConfigError::From)?;
        if !host_name(&config.message_id_domain) {
            return Err(SmtpConfigError::Domain);
        }
        let builder = match config.tls {
            TlsMode::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host),
            TlsMode::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)?
            }
            TlsMode::Implicit => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host)?,
        };
        let mut builder = builder
            .port(config.port)
            .timeout(Some(config.timeout))
            .hello_name(ClientId::Domain(config.message_id_domain.clone()));
        if let Some((user, password)) = &config.credentials {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose_secret().to_owned(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            from,
            domain: config.message_id_domain.clone(),
            timeout: config.timeout,
        })
    }

    /// The `Message-ID` header value for an outbox message id.
    pub fn message_id_header(&self, message_id: &str) -> String {
        format!("<{message_id}@{}>", self.domain)
    }

    fn message(&self, email: &OutgoingEmail) -> Result<Message, SendError> {
        build_message(
            self.from.clone(),
            self.message_id_header(&email.message_id),
            email,
        )
    }
}

/// The class of an SMTP failure; never the server's text.
fn classify(e: &lettre::transport::smtp::Error) -> &'static str {
    if e.is_transient() {
        "smtp_4xx"
    } else if e.is_permanent() {
        "smtp_5xx"
    } else if e.is_timeout() {
        "timeout"
    } else if e.is_tls() {
        "tls"
    } else if e.is_response() {
        "smtp_protocol"
    } else {
        "connect"
    }
}

#[async_trait]
impl EmailSender for SmtpSender {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), SendError> {
        let message = self.message(email)?;
        // Each command has its own timeout; this bounds the whole conversation, so a relay that
        // trickles bytes cannot hold a worker past its lease.
        let whole = self.timeout.saturating_mul(4);
        match tokio::time::timeout(whole, self.transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(SendError::new(classify(&e))),
            Err(_) => Err(SendError::new("timeout")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(tls: TlsMode) -> SmtpConfig {
        SmtpConfig {
            host: "smtp.example".into(),
            port: 587,
            tls,
            credentials: Some(("shield".into(), SecretString::from("pw"))),
            from: "Candidate Shield <alerts@shield.example>".into(),
            message_id_domain: "shield.example".into(),
            timeout: Duration::from_secs(10),
        }
    }

    /// A tokio test: the pooled transport starts its connection reaper on the runtime.
    #[tokio::test]
    async fn every_tls_mode_builds_and_the_password_stays_out_of_debug() {
        for mode in [TlsMode::None, TlsMode::StartTls, TlsMode::Implicit] {
            let sender = SmtpSender::new(&config(mode)).unwrap();
            assert_eq!(sender.message_id_header("ab12"), "<ab12@shield.example>");
        }
        assert!(!format!("{:?}", config(TlsMode::StartTls)).contains("pw\""));
    }

    #[test]
    fn bad_settings_are_refused() {
        let mut c = config(TlsMode::None);
        c.from = "not a mailbox".into();
        assert!(matches!(SmtpSender::new(&c), Err(SmtpConfigError::From)));
        let mut c = config(TlsMode::None);
        c.message_id_domain = "a b".into();
        assert!(matches!(SmtpSender::new(&c), Err(SmtpConfigError::Domain)));
    }

    #[test]
    fn outgoing_email_debug_shows_no_address_or_body() {
        let email = OutgoingEmail {
            message_id: "ab12".into(),
            to: "contact@police.example".into(),
            subject: "s".into(),
            text_body: "body text".into(),
            attachments: Vec::new(),
        };
        let shown = format!("{email:?}");
        assert!(shown.contains("ab12"));
        assert!(!shown.contains("police.example") && !shown.contains("body text"));
    }
}
