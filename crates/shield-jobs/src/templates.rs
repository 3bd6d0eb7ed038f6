//! What an outbox row becomes: a subject and a plain-text body rendered from a template name and
//! ids. The templates are content-free by design: a message says that something needs attention
//! and where to sign in, never what a report says, so a copy left in a mailbox or a relay's log
//! tells a reader nothing about the threat.
//!
//! A template that needs something secret (an invitation's enrolment token) gets the row's sealed
//! bytes and a [`SecretOpener`] the binary supplies; this crate never sees a key.

use secrecy::{ExposeSecret, SecretString};
use shield_store::OutboxParams;
use thiserror::Error;

/// A rendered email, ready to address and send. Its `Debug` leaves out the body.
#[derive(Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    pub subject: String,
    pub text_body: String,
}

impl std::fmt::Debug for RenderedEmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RenderedEmail")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Which row a secret belongs to, so the opener can check the associated data it sealed with
/// (for example the invitation id in `params`).
#[derive(Debug, Clone, Copy)]
pub struct SecretContext<'a> {
    pub outbox_id: i64,
    pub message_id: &'a str,
    pub template: &'a str,
    pub params: &'a OutboxParams,
}

/// Opens the sealed bytes an outbox row carries. Implemented by the binary with the field
/// encryption keys; the worker only passes bytes through.
pub trait SecretOpener: Send + Sync + std::fmt::Debug {
    fn open(&self, sealed: &[u8], context: SecretContext<'_>) -> Result<SecretString, OpenError>;
}

/// The sealed bytes could not be opened (wrong key, tampered, or no opener configured).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("the outbox secret could not be opened")]
pub struct OpenError;

/// An opener for deployments (and tests) with no templates that need secrets: always fails.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSecrets;

impl SecretOpener for NoSecrets {
    fn open(&self, _: &[u8], _: SecretContext<'_>) -> Result<SecretString, OpenError> {
        Err(OpenError)
    }
}

/// Why a row could not be rendered. Each has a short class for `outbox.last_error`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RenderError {
    #[error("unknown template")]
    UnknownTemplate,
    #[error("a template parameter is missing or out of range")]
    BadParams,
    #[error("the template needs a secret the row does not carry")]
    MissingSecret,
    #[error("the row's secret could not be opened")]
    Secret,
}

impl RenderError {
    pub fn class(&self) -> &'static str {
        match self {
            Self::UnknownTemplate => "unknown_template",
            Self::BadParams => "bad_params",
            Self::MissingSecret => "missing_secret",
            Self::Secret => "secret_open",
        }
    }
}

/// Turns a row into an email.
pub trait Templates: Send + Sync + std::fmt::Debug {
    fn render(
        &self,
        template: &str,
        params: &OutboxParams,
        secret: Option<&[u8]>,
        opener: &dyn SecretOpener,
        context: SecretContext<'_>,
    ) -> Result<RenderedEmail, RenderError>;
}

/// The invitation to enrol: params none; secret = the sealed enrolment token.
pub const INVITATION: &str = "invitation";
/// A new report for a police contact: params `priority` (1–4) and `ref` (the report reference).
pub const REPORT_NEEDS_ATTENTION: &str = "report_needs_attention";

/// The built-in templates. `base_url` is the service's public address (`https://…`, no trailing
/// slash needed); invitation links are `{base_url}/invitations/{token}`.
#[derive(Debug, Clone)]
pub struct DefaultTemplates {
    base_url: String,
}

impl DefaultTemplates {
    pub fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }
}

/// An enrolment token goes into a URL path and a mail body: URL-safe characters only.
fn url_safe_token(token: &str) -> bool {
    (16..=256).contains(&token.len())
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl Templates for DefaultTemplates {
    fn render(
        &self,
        template: &str,
        params: &OutboxParams,
        secret: Option<&[u8]>,
        opener: &dyn SecretOpener,
        context: SecretContext<'_>,
    ) -> Result<RenderedEmail, RenderError> {
        match template {
            INVITATION => {
                let sealed = secret.ok_or(RenderError::MissingSecret)?;
                let token = opener
                    .open(sealed, context)
                    .map_err(|_| RenderError::Secret)?;
                if !url_safe_token(token.expose_secret()) {
                    return Err(RenderError::Secret);
                }
                Ok(RenderedEmail {
                    subject: "Your Candidate Shield invitation".into(),
                    text_body: format!(
                        "You have been invited to Candidate Shield.\nOpen this link to enrol:\n{}/invitations/{}",
                        self.base_url,
                        token.expose_secret()
                    ),
                })
            }
            REPORT_NEEDS_ATTENTION => {
                let priority = params
                    .int("priority")
                    .filter(|p| (1..=4).contains(p))
                    .ok_or(RenderError::BadParams)?;
                let reference = params.id("ref").ok_or(RenderError::BadParams)?;
                Ok(RenderedEmail {
                    subject: format!("Candidate Shield: a P{priority} report needs you"),
                    text_body: format!(
                        "A new P{priority} report needs you. Reference {reference}.\nSign in: {}",
                        self.base_url
                    ),
                })
            }
            _ => Err(RenderError::UnknownTemplate),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Plain;

    impl SecretOpener for Plain {
        fn open(&self, sealed: &[u8], _: SecretContext<'_>) -> Result<SecretString, OpenError> {
            String::from_utf8(sealed.to_vec())
                .map(SecretString::from)
                .map_err(|_| OpenError)
        }
    }

    fn render(
        template: &str,
        params: &OutboxParams,
        secret: Option<&[u8]>,
        opener: &dyn SecretOpener,
    ) -> Result<RenderedEmail, RenderError> {
        let context = SecretContext {
            outbox_id: 1,
            message_id: "00",
            template,
            params,
        };
        DefaultTemplates::new("https://shield.example/")
            .render(template, params, secret, opener, context)
    }

    #[test]
    fn report_needs_attention_carries_priority_reference_and_link_only() {
        let params = OutboxParams::new()
            .with_int("priority", 1)
            .unwrap()
            .with_id("ref", "R-2024-00042")
            .unwrap()
            .with_int("report", 42)
            .unwrap();
        let email = render(REPORT_NEEDS_ATTENTION, &params, None, &NoSecrets).unwrap();
        assert_eq!(email.subject, "Candidate Shield: a P1 report needs you");
        assert_eq!(
            email.text_body,
            "A new P1 report needs you. Reference R-2024-00042.\nSign in: https://shield.example"
        );
        let bad = OutboxParams::new().with_int("priority", 9).unwrap();
        assert_eq!(
            render(REPORT_NEEDS_ATTENTION, &bad, None, &NoSecrets),
            Err(RenderError::BadParams)
        );
    }

    #[test]
    fn invitation_opens_its_secret_through_the_opener() {
        let params = OutboxParams::new();
        let token = b"abcdefghijklmnop_QRSTUV-0123";
        let email = render(INVITATION, &params, Some(token), &Plain).unwrap();
        assert_eq!(
            email.text_body,
            "You have been invited to Candidate Shield.\nOpen this link to enrol:\n\
             https://shield.example/invitations/abcdefghijklmnop_QRSTUV-0123"
        );
        assert!(!format!("{email:?}").contains("abcdefghijklmnop"));
        assert_eq!(
            render(INVITATION, &params, Some(token), &NoSecrets),
            Err(RenderError::Secret)
        );
        assert_eq!(
            render(INVITATION, &params, None, &Plain),
            Err(RenderError::MissingSecret)
        );
        // A token that would break out of the URL is refused, not rendered.
        assert_eq!(
            render(
                INVITATION,
                &params,
                Some(b"abcdefghijklmnop\r\nBcc: x"),
                &Plain
            ),
            Err(RenderError::Secret)
        );
    }

    #[test]
    fn unknown_template_is_an_error() {
        assert_eq!(
            render("nope", &OutboxParams::new(), None, &NoSecrets),
            Err(RenderError::UnknownTemplate)
        );
    }
}
