//! What an outbox row becomes: a subject and a plain-text body rendered from a template name and
//! ids. The templates are content-free by design: a message says that something needs attention
//! and where to sign in, never what a report says, so a copy left in a mailbox or a relay's log
//! tells a reader nothing about the threat.
//!
//! A template that needs something secret (an invitation's enrolment token) gets the row's sealed
//! bytes and a [`SecretOpener`] the binary supplies; this crate never sees a key.

use secrecy::{ExposeSecret, SecretString};
use shield_domain::report::{Status, Tier};
use shield_store::OutboxParams;
use thiserror::Error;

/// A rendered email, ready to address and send. Its `Debug` leaves out the body.
#[derive(Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    pub subject: String,
    pub text_body: String,
    /// Files attached (a briefing's calendar invitation).
    pub attachments: Vec<crate::email::Attachment>,
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
/// A new report for the owning force's lead contact: params `report` (id), `ref` (the report
/// reference) and `priority` (1–4).
pub const REPORT_NEEDS_ATTENTION: &str = "report_needs_attention";
/// A new report for the lead contact of a force that shares the constituency: params `report`,
/// `ref`, `priority` and `force` (the informed force; not shown).
pub const REPORT_INFORMED: &str = "report_informed";
/// A report not acknowledged in time, for the next tier: params `report`, `ref`, `priority` and
/// `tier` (`lead`, `deputy` or `coordinator`).
pub const REPORT_ESCALATED: &str = "report_escalated";
/// The candidate's report moved: params `report`, `ref` and `status` (checked, not shown: the
/// email only says there is an update, so a mailbox reader learns nothing of how police are
/// handling the report).
pub const REPORT_UPDATE: &str = "report_update";
/// A new secure message on a report: params `report` and `ref`.
pub const REPORT_MESSAGE: &str = "report_message";
/// A change to the account holder's sign-in methods (ASVS V6.3.5/V6.3.7): param `change`, one
/// of [`CREDENTIAL_CHANGES`]. Content-free: what changed and what to do if it was not them.
pub const CREDENTIAL_CHANGED: &str = "credential_changed";
/// The `change` values [`CREDENTIAL_CHANGED`] knows, with what the email says happened.
pub const CREDENTIAL_CHANGES: &[(&str, &str)] = &[
    ("passkey_added", "A passkey was added to"),
    ("passkey_removed", "A passkey was removed from"),
    ("password_changed", "The password was changed on"),
    (
        "recovery_code_used",
        "A recovery code was used to sign in to",
    ),
    ("sign_in_reset", "The sign-in methods were reset on"),
    ("signed_out_everywhere", "Every session was signed out on"),
];

/// A reminder that a lone-working check-in falls due soon: params `session` (id, for the
/// link) and `due` (epoch ms). Content-free: no activity, no place.
pub const CHECKIN_REMINDER: &str = shield_store::CHECKIN_REMINDER;
/// The candidate's buddy, when an alarm is raised: params `buddy_alarm` (the report id, never
/// shown or linked: the buddy has no account) and `reason`; secret = the candidate's name.
pub const BUDDY_ALARM: &str = shield_store::BUDDY_ALARM;
/// A request for additional security needs assessing (new, or back for reconsideration), for
/// the owning force's leads: params `request` (id) and `ref` (`SR-000042`).
pub const SECURITY_REQUESTED: &str = "security_requested";
/// An assessed request needs a decision, for the coordinators: params `request` and `ref`.
pub const SECURITY_ASSESSED: &str = "security_assessed";
/// A decision on the candidate's request: params `request` and `ref` (never the decision).
pub const SECURITY_DECIDED: &str = "security_decided";
/// A request's assessment or decision is overdue and escalated to the reader: params
/// `request`, `ref`, `stage` (`assessment`/`decision`) and `tier`.
pub const SECURITY_OVERDUE: &str = "security_overdue";
/// A briefing registration: params `briefing` and `candidate` (ids); secret = the sealed
/// iCalendar invitation (RFC 5545, METHOD:REQUEST), attached as `briefing.ics`. The body says
/// only that the candidate is registered and where to see the details.
pub const BRIEFING_INVITATION: &str = "briefing_invitation";
/// The day-before reminder of a briefing: param `briefing`.
pub const BRIEFING_REMINDER: &str = shield_store::briefings::BRIEFING_REMINDER;
/// A reminder that the security plan has steps left: param `kind` (`scheduled` or
/// `not_ready`; not shown).
pub const PLAN_NUDGE: &str = shield_store::outreach::PLAN_NUDGE;
/// A reminder that briefings are open for registration: no params.
pub const BRIEFING_NUDGE: &str = shield_store::outreach::BRIEFING_NUDGE;

/// The built-in templates. `base_url` is the service's public address (`https://…`, no trailing
/// slash needed); invitation links are `{base_url}/invitations/{token}` and report links
/// `{base_url}/reports/{report}`.
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

    fn request_link(&self, request: i64) -> String {
        format!("{}/security-requests/{request}", self.base_url)
    }

    fn report_link(&self, report: i64) -> String {
        format!("{}/reports/{report}", self.base_url)
    }
}

fn priority(params: &OutboxParams) -> Result<i64, RenderError> {
    params
        .int("priority")
        .filter(|p| (1..=4).contains(p))
        .ok_or(RenderError::BadParams)
}

/// The report id (for the link) and its reference (shown).
fn report(params: &OutboxParams) -> Result<(i64, &str), RenderError> {
    let id = params
        .int("report")
        .filter(|r| *r > 0)
        .ok_or(RenderError::BadParams)?;
    let reference = params.id("ref").ok_or(RenderError::BadParams)?;
    Ok((id, reference))
}

/// The request id (for the link) and its reference (shown).
fn request(params: &OutboxParams) -> Result<(i64, &str), RenderError> {
    let id = params
        .int("request")
        .filter(|r| *r > 0)
        .ok_or(RenderError::BadParams)?;
    let reference = params.id("ref").ok_or(RenderError::BadParams)?;
    Ok((id, reference))
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
                    attachments: Vec::new(),
                    subject: "Your Candidate Shield invitation".into(),
                    text_body: format!(
                        "You have been invited to Candidate Shield.\nOpen this link to enrol:\n{}/invitations/{}",
                        self.base_url,
                        token.expose_secret()
                    ),
                })
            }
            REPORT_NEEDS_ATTENTION => {
                let priority = priority(params)?;
                let (id, reference) = report(params)?;
                Ok(RenderedEmail {
                    attachments: Vec::new(),
                    subject: format!("Candidate Shield: a P{priority} report needs you"),
                    text_body: format!(
                        "A new P{priority} report needs you. Reference {reference}.\nSign in: {}",
                        self.report_link(id)
                    ),
                })
            }
            REPORT_INFORMED => {
                let priority = priority(params)?;
                let (id, reference) = report(params)?;
                Ok(RenderedEmail {
                    attachments: Vec::new(),
                    subject: format!(
                        "Candidate Shield: a P{priority} report in a constituency you share"
                    ),
                    text_body: format!(
                        "A P{priority} report from a candidate in a constituency your force \
                         shares. Reference {reference}.\n{}",
                        self.report_link(id)
                    ),
                })
            }
            REPORT_ESCALATED => {
                let priority = priority(params)?;
                let (id, reference) = report(params)?;
                let tier = params
                    .id("tier")
                    .and_then(Tier::parse)
                    .ok_or(RenderError::BadParams)?;
                Ok(RenderedEmail {
                    attachments: Vec::new(),
                    subject: format!(
                        "Candidate Shield: ESCALATED P{priority} report not yet acknowledged"
                    ),
                    text_body: format!(
                        "A P{priority} report has not been acknowledged in time and is now \
                         escalated to you as {}. Reference {reference}.\n{}",
                        tier.label(),
                        self.report_link(id)
                    ),
                })
            }
            REPORT_UPDATE => {
                let (id, reference) = report(params)?;
                params
                    .id("status")
                    .and_then(|s| Status::parse(s).ok())
                    .ok_or(RenderError::BadParams)?;
                Ok(RenderedEmail {
                    attachments: Vec::new(),
                    subject: "Candidate Shield: an update on your report".into(),
                    text_body: format!(
                        "There is an update on your report {reference}. Sign in to see it: {}",
                        self.report_link(id)
                    ),
                })
            }
            REPORT_MESSAGE => {
                let (id, reference) = report(params)?;
                Ok(RenderedEmail {
                    attachments: Vec::new(),
                    subject: "Candidate Shield: a new secure message".into(),
                    text_body: format!(
                        "You have a new secure message about report {reference}. Sign in to \
                         read it: {}",
                        self.report_link(id)
                    ),
                })
            }
            CHECKIN_REMINDER => {
                let session = params
                    .int("session")
                    .filter(|s| *s > 0)
                    .ok_or(RenderError::BadParams)?;
                let due = params.int("due").ok_or(RenderError::BadParams)?;
                let at = shield_domain::uktime::clock_time(due);
                Ok(RenderedEmail {
                    subject: format!("Candidate Shield: check in by {at}"),
                    text_body: format!(
                        "Your next check-in is due at {at} (UK time).\nOpen Candidate Shield and \
                         tap \"I'm safe\", or end your session if you are done: \
                         {}/check-in/{session}\nIf you do neither by then, your named police \
                         contact is alerted.",
                        self.base_url
                    ),
                    attachments: Vec::new(),
                })
            }
            BUDDY_ALARM => {
                params
                    .int("buddy_alarm")
                    .filter(|r| *r > 0)
                    .ok_or(RenderError::BadParams)?;
                let reason = params
                    .id("reason")
                    .and_then(shield_domain::checkin::AlarmReason::parse)
                    .filter(|r| r.tells_buddy())
                    .ok_or(RenderError::BadParams)?;
                let sealed = secret.ok_or(RenderError::MissingSecret)?;
                let name = opener
                    .open(sealed, context)
                    .map_err(|_| RenderError::Secret)?;
                let name = name.expose_secret().trim();
                if name.is_empty() || name.chars().any(char::is_control) {
                    return Err(RenderError::Secret);
                }
                Ok(RenderedEmail {
                    subject: format!("Candidate Shield: {name} may need help"),
                    text_body: format!(
                        "{name} named you as their buddy in Candidate Shield, the safety \
                         service for election candidates. They {}.\n\nCall {name} now. If you \
                         cannot reach them, call 999.\n\nTheir police contact has been alerted \
                         too. Do not reply to this email.",
                        reason.buddy_words()
                    ),
                    attachments: Vec::new(),
                })
            }
            SECURITY_REQUESTED => {
                let (id, reference) = request(params)?;
                Ok(RenderedEmail {
                    subject: "Candidate Shield: a request for additional security needs assessing"
                        .into(),
                    text_body: format!(
                        "A request for additional security needs your risk assessment. \
                         Reference {reference}.\nSign in: {}",
                        self.request_link(id)
                    ),
                    attachments: Vec::new(),
                })
            }
            SECURITY_ASSESSED => {
                let (id, reference) = request(params)?;
                Ok(RenderedEmail {
                    subject: "Candidate Shield: a request for additional security needs a decision"
                        .into(),
                    text_body: format!(
                        "A request for additional security has been assessed and needs a \
                         decision. Reference {reference}.\nSign in: {}",
                        self.request_link(id)
                    ),
                    attachments: Vec::new(),
                })
            }
            SECURITY_DECIDED => {
                let (id, reference) = request(params)?;
                Ok(RenderedEmail {
                    subject: "Candidate Shield: a decision on your request".into(),
                    text_body: format!(
                        "There is a decision on your request {reference}. Sign in to see it \
                         and the reasons: {}",
                        self.request_link(id)
                    ),
                    attachments: Vec::new(),
                })
            }
            SECURITY_OVERDUE => {
                let (id, reference) = request(params)?;
                let stage = match params.id("stage") {
                    Some("assessment") => "risk assessment",
                    Some("decision") => "decision",
                    _ => return Err(RenderError::BadParams),
                };
                let tier = params
                    .id("tier")
                    .and_then(Tier::parse)
                    .ok_or(RenderError::BadParams)?;
                Ok(RenderedEmail {
                    subject: format!("Candidate Shield: OVERDUE {stage} of a security request"),
                    text_body: format!(
                        "The {stage} of a request for additional security is overdue and is \
                         now escalated to you as {}. Reference {reference}.\n{}",
                        tier.label(),
                        self.request_link(id)
                    ),
                    attachments: Vec::new(),
                })
            }
            CREDENTIAL_CHANGED => {
                let change = params.id("change").ok_or(RenderError::BadParams)?;
                let (_, what) = CREDENTIAL_CHANGES
                    .iter()
                    .find(|(key, _)| *key == change)
                    .ok_or(RenderError::BadParams)?;
                Ok(RenderedEmail {
                    attachments: Vec::new(),
                    subject: "Candidate Shield: a change to how you sign in".into(),
                    text_body: format!(
                        "{what} your Candidate Shield account.\nIf this was you, there is \
                         nothing to do. If this was not you, contact the Candidate Shield \
                         coordination team or your named police contact at once, and do not \
                         reply to this email.\nSign in: {}/sign-in",
                        self.base_url
                    ),
                })
            }
            BRIEFING_INVITATION => {
                let id = params
                    .int("briefing")
                    .filter(|b| *b > 0)
                    .ok_or(RenderError::BadParams)?;
                let sealed = secret.ok_or(RenderError::MissingSecret)?;
                let ics = opener
                    .open(sealed, context)
                    .map_err(|_| RenderError::Secret)?;
                if !ics.expose_secret().starts_with("BEGIN:VCALENDAR") {
                    return Err(RenderError::Secret);
                }
                Ok(RenderedEmail {
                    subject: "Candidate Shield: you are registered for a security briefing".into(),
                    text_body: format!(
                        "You are registered for a Candidate Shield security briefing. The \
                         calendar invitation is attached.\nDetails and materials: {}/briefings/{id}",
                        self.base_url
                    ),
                    attachments: vec![crate::email::Attachment {
                        filename: "briefing.ics".into(),
                        content_type: "text/calendar; method=REQUEST; charset=utf-8".into(),
                        body: ics.expose_secret().as_bytes().to_vec(),
                    }],
                })
            }
            BRIEFING_REMINDER => {
                let id = params
                    .int("briefing")
                    .filter(|b| *b > 0)
                    .ok_or(RenderError::BadParams)?;
                Ok(RenderedEmail {
                    subject: "Candidate Shield: your security briefing is tomorrow".into(),
                    text_body: format!(
                        "A reminder: the security briefing you registered for is tomorrow.\n\
                         Details: {}/briefings/{id}",
                        self.base_url
                    ),
                    attachments: Vec::new(),
                })
            }
            PLAN_NUDGE => Ok(RenderedEmail {
                subject: "Candidate Shield: your security plan has steps left".into(),
                text_body: format!(
                    "Your personal security plan has steps left. Each takes a few minutes and \
                     makes you safer while you campaign.\nSign in to carry on: {}/plan\n\
                     You can turn these reminders off on that page.",
                    self.base_url
                ),
                attachments: Vec::new(),
            }),
            BRIEFING_NUDGE => Ok(RenderedEmail {
                subject: "Candidate Shield: security briefings are open".into(),
                text_body: format!(
                    "Security briefings for candidates are open for registration. They cover \
                     staying safe while campaigning and what to report.\nChoose one: {}/briefings",
                    self.base_url
                ),
                attachments: Vec::new(),
            }),
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
    fn briefing_invitation_attaches_the_sealed_calendar_and_says_nothing_else() {
        let params = OutboxParams::new()
            .with_int("briefing", 7)
            .unwrap()
            .with_int("candidate", 3)
            .unwrap();
        let ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nLOCATION:Town Hall\r\nEND:VCALENDAR\r\n";
        let email = render(BRIEFING_INVITATION, &params, Some(ics.as_bytes()), &Plain).unwrap();
        assert!(
            email
                .text_body
                .contains("https://shield.example/briefings/7")
        );
        assert!(
            !email.text_body.contains("Town Hall"),
            "the venue is in the attachment only"
        );
        assert_eq!(email.attachments.len(), 1);
        assert_eq!(email.attachments[0].filename, "briefing.ics");
        assert!(
            email.attachments[0]
                .content_type
                .starts_with("text/calendar; method=REQUEST")
        );
        assert_eq!(email.attachments[0].body, ics.as_bytes());
        // No secret, a secret that is not a calendar, or no briefing id: not sent.
        assert_eq!(
            render(BRIEFING_INVITATION, &params, None, &Plain),
            Err(RenderError::MissingSecret)
        );
        assert_eq!(
            render(BRIEFING_INVITATION, &params, Some(b"hello"), &Plain),
            Err(RenderError::Secret)
        );
        assert_eq!(
            render(
                BRIEFING_INVITATION,
                &OutboxParams::new(),
                Some(ics.as_bytes()),
                &Plain
            ),
            Err(RenderError::BadParams)
        );
        // The reminder and the nudges link to the service and carry no attachment.
        let reminder = OutboxParams::new().with_int("briefing", 7).unwrap();
        let r = render(BRIEFING_REMINDER, &reminder, None, &NoSecrets).unwrap();
        assert!(r.subject.contains("tomorrow") && r.attachments.is_empty());
        assert!(r.text_body.ends_with("https://shield.example/briefings/7"));
        let n = render(PLAN_NUDGE, &OutboxParams::new(), None, &NoSecrets).unwrap();
        assert!(n.text_body.contains("https://shield.example/plan"));
        let b = render(BRIEFING_NUDGE, &OutboxParams::new(), None, &NoSecrets).unwrap();
        assert!(b.text_body.contains("https://shield.example/briefings"));
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
            "A new P1 report needs you. Reference R-2024-00042.\n\
             Sign in: https://shield.example/reports/42"
        );
        let bad = OutboxParams::new().with_int("priority", 9).unwrap();
        assert_eq!(
            render(REPORT_NEEDS_ATTENTION, &bad, None, &NoSecrets),
            Err(RenderError::BadParams)
        );
        // Without the report id there is no link to give.
        let no_id = OutboxParams::new()
            .with_int("priority", 1)
            .unwrap()
            .with_id("ref", "R-00042")
            .unwrap();
        assert_eq!(
            render(REPORT_NEEDS_ATTENTION, &no_id, None, &NoSecrets),
            Err(RenderError::BadParams)
        );
    }

    fn base(report: i64) -> OutboxParams {
        OutboxParams::new()
            .with_int("report", report)
            .unwrap()
            .with_id("ref", &format!("R-{report:05}"))
            .unwrap()
    }

    #[test]
    fn report_informed_tells_a_sharing_force_priority_reference_and_link() {
        let params = base(42)
            .with_int("priority", 2)
            .unwrap()
            .with_id("force", "thames-valley")
            .unwrap();
        let email = render(REPORT_INFORMED, &params, None, &NoSecrets).unwrap();
        assert_eq!(
            email.subject,
            "Candidate Shield: a P2 report in a constituency you share"
        );
        assert_eq!(
            email.text_body,
            "A P2 report from a candidate in a constituency your force shares. \
             Reference R-00042.\nhttps://shield.example/reports/42"
        );
        assert!(!email.text_body.contains("thames"));
        assert_eq!(
            render(REPORT_INFORMED, &base(42), None, &NoSecrets),
            Err(RenderError::BadParams)
        );
    }

    #[test]
    fn report_escalated_names_the_tier_and_shouts_in_the_subject() {
        let params = base(42)
            .with_int("priority", 1)
            .unwrap()
            .with_id("tier", "deputy")
            .unwrap();
        let email = render(REPORT_ESCALATED, &params, None, &NoSecrets).unwrap();
        assert_eq!(
            email.subject,
            "Candidate Shield: ESCALATED P1 report not yet acknowledged"
        );
        assert_eq!(
            email.text_body,
            "A P1 report has not been acknowledged in time and is now escalated to you as \
             deputy contact. Reference R-00042.\nhttps://shield.example/reports/42"
        );
        let bad_tier = base(42)
            .with_int("priority", 1)
            .unwrap()
            .with_id("tier", "mayor")
            .unwrap();
        assert_eq!(
            render(REPORT_ESCALATED, &bad_tier, None, &NoSecrets),
            Err(RenderError::BadParams)
        );
    }

    #[test]
    fn report_update_says_there_is_an_update_but_not_what_it_is() {
        let params = base(42).with_id("status", "closed").unwrap();
        let email = render(REPORT_UPDATE, &params, None, &NoSecrets).unwrap();
        assert_eq!(email.subject, "Candidate Shield: an update on your report");
        assert_eq!(
            email.text_body,
            "There is an update on your report R-00042. Sign in to see it: \
             https://shield.example/reports/42"
        );
        assert!(!email.text_body.to_lowercase().contains("closed"));
        let bad = base(42).with_id("status", "exploded").unwrap();
        assert_eq!(
            render(REPORT_UPDATE, &bad, None, &NoSecrets),
            Err(RenderError::BadParams)
        );
    }

    #[test]
    fn report_message_points_to_the_secure_message_without_its_text() {
        let email = render(REPORT_MESSAGE, &base(42), None, &NoSecrets).unwrap();
        assert_eq!(email.subject, "Candidate Shield: a new secure message");
        assert_eq!(
            email.text_body,
            "You have a new secure message about report R-00042. Sign in to read it: \
             https://shield.example/reports/42"
        );
        assert_eq!(
            render(REPORT_MESSAGE, &OutboxParams::new(), None, &NoSecrets),
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

    #[test]
    fn credential_changed_says_what_changed_and_what_to_do_only() {
        for (change, what) in CREDENTIAL_CHANGES {
            let params = OutboxParams::new().with_id("change", change).unwrap();
            let email = render(CREDENTIAL_CHANGED, &params, None, &NoSecrets).unwrap();
            assert_eq!(
                email.subject,
                "Candidate Shield: a change to how you sign in"
            );
            assert!(
                email
                    .text_body
                    .starts_with(&format!("{what} your Candidate Shield account.")),
                "{}",
                email.text_body
            );
            assert!(email.text_body.contains("If this was not you, contact"));
            assert!(email.text_body.ends_with("https://shield.example/sign-in"));
        }
        let passkey = OutboxParams::new()
            .with_id("change", "passkey_added")
            .unwrap();
        assert_eq!(
            render(CREDENTIAL_CHANGED, &passkey, None, &NoSecrets)
                .unwrap()
                .text_body
                .lines()
                .next(),
            Some("A passkey was added to your Candidate Shield account.")
        );
        let unknown = OutboxParams::new().with_id("change", "exploded").unwrap();
        assert_eq!(
            render(CREDENTIAL_CHANGED, &unknown, None, &NoSecrets),
            Err(RenderError::BadParams)
        );
        assert_eq!(
            render(CREDENTIAL_CHANGED, &OutboxParams::new(), None, &NoSecrets),
            Err(RenderError::BadParams)
        );
    }

    #[test]
    fn checkin_reminder_says_when_and_links_to_the_session_only() {
        // 7 May 2026 17:45 UTC is 18:45 in the UK.
        let due = chrono::NaiveDate::from_ymd_opt(2026, 5, 7)
            .unwrap()
            .and_hms_opt(17, 45, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        let params = OutboxParams::new()
            .with_int("session", 7)
            .unwrap()
            .with_int("due", due)
            .unwrap();
        let email = render(CHECKIN_REMINDER, &params, None, &NoSecrets).unwrap();
        assert_eq!(email.subject, "Candidate Shield: check in by 18:45");
        assert!(
            email
                .text_body
                .contains("https://shield.example/check-in/7")
        );
        assert!(email.text_body.contains("18:45 (UK time)"));
    }

    #[test]
    fn buddy_alarm_names_the_candidate_and_says_call_then_999() {
        let params = OutboxParams::new()
            .with_int("buddy_alarm", 9)
            .unwrap()
            .with_id("reason", "missed_check_in")
            .unwrap();
        let email = render(BUDDY_ALARM, &params, Some(b"Claire Whitfield"), &Plain).unwrap();
        assert_eq!(
            email.subject,
            "Candidate Shield: Claire Whitfield may need help"
        );
        assert!(email.text_body.contains("missed a check-in"));
        assert!(email.text_body.contains("call 999"));
        assert!(
            !email.text_body.contains("http"),
            "no link: {}",
            email.text_body
        );
        // Never for a duress alarm, and never without the name.
        let duress = OutboxParams::new()
            .with_int("buddy_alarm", 9)
            .unwrap()
            .with_id("reason", "duress")
            .unwrap();
        assert_eq!(
            render(BUDDY_ALARM, &duress, Some(b"Claire"), &Plain),
            Err(RenderError::BadParams)
        );
        assert_eq!(
            render(BUDDY_ALARM, &params, None, &Plain),
            Err(RenderError::MissingSecret)
        );
    }

    #[test]
    fn security_request_emails_carry_reference_and_link_only() {
        let params = OutboxParams::new()
            .with_int("request", 42)
            .unwrap()
            .with_id("ref", "SR-000042")
            .unwrap();
        for template in [SECURITY_REQUESTED, SECURITY_ASSESSED, SECURITY_DECIDED] {
            let email = render(template, &params, None, &NoSecrets).unwrap();
            assert!(
                email.text_body.contains("Reference SR-000042")
                    || email.text_body.contains("request SR-000042"),
                "{template}"
            );
            assert!(
                email
                    .text_body
                    .ends_with("https://shield.example/security-requests/42"),
                "{template}: {}",
                email.text_body
            );
        }
        let decided = render(SECURITY_DECIDED, &params, None, &NoSecrets).unwrap();
        assert!(!decided.text_body.contains("pprove") && !decided.text_body.contains("eclin"));
        let overdue = params
            .clone()
            .with_id("stage", "assessment")
            .unwrap()
            .with_id("tier", "deputy")
            .unwrap();
        let email = render(SECURITY_OVERDUE, &overdue, None, &NoSecrets).unwrap();
        assert!(email.subject.contains("OVERDUE risk assessment"));
        assert!(email.text_body.contains("deputy contact"));
        assert_eq!(
            render(SECURITY_OVERDUE, &params, None, &NoSecrets),
            Err(RenderError::BadParams)
        );
    }
}
