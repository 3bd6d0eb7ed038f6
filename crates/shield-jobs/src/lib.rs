#![doc = include_str!("../README.md")]

pub mod email;
pub mod templates;
pub mod worker;

pub use email::{
    EmailSender, OutgoingEmail, SendError, SmtpConfig, SmtpConfigError, SmtpSender, TlsMode,
};
pub use templates::{
    DefaultTemplates, NoSecrets, OpenError, RenderError, RenderedEmail, SecretContext,
    SecretOpener, Templates,
};
pub use worker::{Backoff, TickReport, Worker, WorkerConfig, WorkerHandle};
