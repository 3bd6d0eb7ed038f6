#![doc = include_str!("../README.md")]

pub mod email;
pub mod templates;
pub mod webhook;
pub mod worker;

pub use email::{
    Attachment, EmailSender, OutgoingEmail, SendError, SmtpConfig, SmtpConfigError, SmtpSender,
    TlsMode, build_message,
};
pub use templates::{
    DefaultTemplates, INVITATION, NoSecrets, OpenError, REPORT_ESCALATED, REPORT_INFORMED,
    REPORT_MESSAGE, REPORT_NEEDS_ATTENTION, REPORT_UPDATE, RenderError, RenderedEmail,
    SecretContext, SecretOpener, Templates,
};
pub use webhook::{
    HttpWebhookSender, OutgoingWebhook, SecretFormatError, WebhookClientError, WebhookSender,
};
pub use worker::{Backoff, TickReport, Worker, WorkerConfig, WorkerHandle};
