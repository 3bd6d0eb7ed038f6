//! `/scan`: a candidate (or a delegate with the Report grant) pastes messages or uploads an
//! export; flagged messages are listed by severity with the matched words highlighted, and
//! threats the model scored close to the line are listed apart as worth a look (the detector
//! misses some threats, and a candidate can read a short list it is unsure of); one click makes
//! a report of a message, with the message as evidence and its SHA-256 recorded.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use shield_store::NewEvidence;

use super::reports::{OnBehalf, ReportDetails};
use crate::auth::csrf::CsrfForm;
use crate::auth::guard::{Authorized, Target};
use crate::auth::report_guard::{CandidateSettingsGuard, ReportForGuard};
use crate::auth::token;
use crate::html::layout::FieldProblem;
use crate::scan::{Flag, Message, Verdict, parse_export, parse_pasted, runs, scan_blocking};
use crate::{AppError, AppState};

/// A message with the scanner's verdict on it.
type Scanned = (Message, Verdict);

/// Largest upload: a 10 MB export plus the pasted text.
pub(crate) const MAX_SCAN_BODY: usize = 11 * 1024 * 1024;

#[derive(Debug)]
pub(crate) struct FlaggedRow {
    pub message: Message,
    pub flags: Vec<&'static str>,
    pub top: &'static str,
    pub threat: bool,
    pub score: String,
    pub runs: Vec<(String, bool)>,
    pub reasons: Vec<String>,
    pub notes: Vec<String>,
    /// The report the scanner raised by itself for this message (opt-in), if any.
    pub auto_report: Option<(i64, String)>,
    /// Threats this message came close to without being flagged for them.
    pub close_to: Vec<&'static str>,
    /// Threats a rule matched and the model vetoed (not "close" by score).
    pub rule_matched: Vec<&'static str>,
    /// Listed for a look because a rule matched its threat and the model vetoed it, not
    /// because its score came close.
    pub ruled: bool,
}

/// The operating-scale score (0.5 = flagged) at which an opted-in candidate's threats are
/// reported without a click.
pub(crate) const AUTO_REPORT_SCORE: f32 = 0.9;

#[derive(Debug, Template)]
#[template(path = "scan/form.html")]
struct ScanPage {
    section: &'static str,
    csrf: String,
    /// Set when a delegate checks messages for a candidate (`?candidate=ID`).
    candidate: Option<OnBehalf>,
    scanner: String,
    pasted: String,
    problems: Vec<FieldProblem>,
    scanned: Option<usize>,
    flagged: Vec<FlaggedRow>,
    /// Messages not flagged but close to a threat: for the candidate's own look.
    looks: Vec<FlaggedRow>,
    auto_report: bool,
    saved: bool,
}

impl ScanPage {
    fn problem_for(&self, field: &str) -> Option<&str> {
        crate::html::layout::problem_for(&self.problems, field)
    }
}

fn describe(state: &AppState) -> String {
    state.scanner.as_ref().map_or_else(
        || "not available on this server".to_owned(),
        |s| s.describe(),
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct FormQuery {
    #[serde(default)]
    saved: Option<String>,
}

fn candidate_of(target: &Target) -> Result<shield_domain::CandidateId, AppError> {
    match target {
        Target::Candidate { id, .. } => Ok(*id),
        _ => Err(AppError::Forbidden),
    }
}

pub(crate) async fn form(
    State(state): State<AppState>,
    auth: Authorized<ReportForGuard>,
    axum::extract::Query(q): axum::extract::Query<FormQuery>,
) -> Result<Response, AppError> {
    let auto_report = state
        .store
        .auto_report_threats(candidate_of(&auth.target)?)
        .await?;
    let page = ScanPage {
        auto_report,
        saved: q.saved.is_some(),
        section: "reports",
        csrf: auth.session.record.csrf_token.clone(),
        candidate: OnBehalf::of(&state, &auth.target, auth.actor.candidate).await?,
        scanner: describe(&state),
        pasted: String::new(),
        problems: Vec::new(),
        scanned: None,
        flagged: Vec::new(),
        looks: Vec::new(),
    };
    crate::html::page(StatusCode::OK, &page)
}

fn row(message: Message, verdict: &Verdict) -> FlaggedRow {
    let top = verdict.top().unwrap_or(Flag::Abuse);
    FlaggedRow {
        flags: verdict.flags.iter().map(|f| f.label()).collect(),
        top: top.label(),
        // A message only close to a threat is not styled as one: it is for a look.
        threat: !verdict.flags.is_empty()
            && matches!(top, Flag::ThreatViolence | Flag::ThreatSexual),
        score: format!("{:.2}", verdict.score(top)),
        runs: runs(&message.text, &verdict.highlights),
        reasons: verdict
            .highlights
            .iter()
            .map(|h| h.reason.clone())
            .collect(),
        notes: verdict.notes.iter().map(|n| readable_note(n)).collect(),
        auto_report: None,
        close_to: verdict
            .review
            .iter()
            .filter(|f| !verdict.ruled.contains(f))
            .map(|f| f.label())
            .collect(),
        rule_matched: verdict.ruled.iter().map(|f| f.label()).collect(),
        ruled: verdict.flags.is_empty() && verdict.ruled.contains(&top),
        message,
    }
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    auth: Authorized<ReportForGuard>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let mut csrf = String::new();
    let mut pasted = String::new();
    let mut export: Option<(String, Vec<u8>)> = None;
    let too_large = || AppError::TooLarge {
        field: "export",
        message: "The file is larger than 10 MB. Split the export, or paste fewer messages.".into(),
    };
    while let Some(field) = multipart.next_field().await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            AppError::bad_request("export", "The form could not be read. Try again.")
        }
    })? {
        match field.name().unwrap_or("") {
            "export" => {
                let name = field.file_name().unwrap_or("").to_owned();
                let bytes = field.bytes().await.map_err(|_| too_large())?;
                if !name.is_empty() || !bytes.is_empty() {
                    export = Some((name, bytes.to_vec()));
                }
            }
            "csrf" => csrf = field.text().await.unwrap_or_default(),
            "messages" => pasted = field.text().await.unwrap_or_default(),
            _ => {}
        }
    }
    if !token::same(&auth.session.record.csrf_token, &csrf) {
        return Err(AppError::Forbidden);
    }
    let mut problems = Vec::new();
    let mut messages = parse_pasted(&pasted);
    if let Some((name, bytes)) = &export {
        let shown = shield_domain::evidence::safe_filename(
            name,
            shield_domain::evidence::EvidenceKind::Text,
        );
        let shown = match name.rsplit_once('.') {
            Some((_, ext)) => format!(
                "{}.{}",
                shown.trim_end_matches(".txt"),
                ext.to_ascii_lowercase()
            ),
            None => shown,
        };
        match parse_export(&shown, bytes) {
            Ok(more) => messages.extend(more),
            Err(e) => problems.push(FieldProblem::new("export", e.to_string())),
        }
    }
    if problems.is_empty() && messages.is_empty() {
        problems.push(FieldProblem::new(
            "messages",
            "Paste at least one message, or choose an export file",
        ));
    }
    let scanner = state.scanner.clone();
    if problems.is_empty() && scanner.is_none() {
        problems.push(FieldProblem::new(
            "messages",
            "Scanning is not available on this server",
        ));
    }
    let auto_report = state
        .store
        .auto_report_threats(candidate_of(&auth.target)?)
        .await?;
    let mut page = ScanPage {
        auto_report,
        saved: false,
        section: "reports",
        csrf: auth.session.record.csrf_token.clone(),
        candidate: OnBehalf::of(&state, &auth.target, auth.actor.candidate).await?,
        scanner: describe(&state),
        pasted,
        problems,
        scanned: None,
        flagged: Vec::new(),
        looks: Vec::new(),
    };
    let Some(scanner) = scanner.filter(|_| page.problems.is_empty()) else {
        return crate::html::page(StatusCode::BAD_REQUEST, &page);
    };
    let total = messages.len();
    let verdicts =
        scan_blocking(scanner, messages.iter().map(|m| m.text.clone()).collect()).await?;
    tracing::info!(
        messages = messages.len(),
        flagged = verdicts.iter().filter(|v| !v.flags.is_empty()).count(),
        close = verdicts
            .iter()
            .filter(|v| v.flags.is_empty() && !v.review.is_empty())
            .count(),
        "messages scanned"
    );
    let (mut flagged, mut looks): (Vec<Scanned>, Vec<Scanned>) = messages
        .into_iter()
        .zip(verdicts)
        .filter(|(_, v)| !v.flags.is_empty() || !v.review.is_empty())
        .partition(|(_, v)| !v.flags.is_empty());
    flagged.sort_by_key(|(_, v)| v.severity());
    looks.sort_by_key(|(_, v)| v.severity());
    page.looks = looks.into_iter().map(|(m, v)| row(m, &v)).collect();
    page.scanned = Some(total);
    let candidate = candidate_of(&auth.target)?;
    for (m, v) in &flagged {
        let mut r = row(m.clone(), v);
        let threat = v
            .flags
            .first()
            .is_some_and(|f| matches!(f, Flag::ThreatViolence | Flag::ThreatSexual));
        if page.auto_report
            && threat
            && v.flags
                .first()
                .is_some_and(|f| v.score(*f) >= AUTO_REPORT_SCORE)
        {
            let id = report_message(&state, &auth.actor, candidate, m, v, true).await?;
            r.auto_report = Some((id, shield_domain::report::reference(id)));
        }
        page.flagged.push(r);
    }
    crate::html::page(StatusCode::OK, &page)
}

#[derive(Debug, Deserialize)]
pub(crate) struct SettingsForm {
    csrf: String,
    #[serde(default)]
    auto_report: Option<String>,
}

/// Turns the scanner's automatic reports of high-confidence threats on or off.
pub(crate) async fn settings(
    State(state): State<AppState>,
    auth: Authorized<CandidateSettingsGuard>,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> Result<Response, AppError> {
    let candidate = candidate_of(&auth.target)?;
    let on = form.auto_report.as_deref() == Some("yes");
    let audit = super::reports::audit_event(&state, &auth.actor, "scan_settings_changed", None)?
        .with_subject(
            shield_domain::audit::AuditSubject::new("candidate", &candidate.to_string())
                .map_err(|e| AppError::Internal(e.message))?,
        )
        .with_detail("auto_report_threats", if on { "on" } else { "off" })
        .map_err(|e| AppError::Internal(e.message))?;
    state
        .store
        .set_auto_report_threats(candidate, on, state.clock.now_ms(), &audit)
        .await?;
    let query = if auth.actor.candidate == Some(candidate) {
        "?saved=1".to_owned()
    } else {
        format!("?candidate={}&saved=1", candidate.0)
    };
    Ok(Redirect::to(&format!("/scan{query}")).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct ReportMessageForm {
    csrf: String,
    text: String,
    #[serde(default)]
    author: String,
    #[serde(default)]
    handle: String,
    #[serde(default)]
    time: String,
    #[serde(default)]
    link: String,
}

/// One click: the message is scanned again here (the page's flags are never trusted), and a
/// report is made with the detector's category, triage's priority, and the message as evidence.
pub(crate) async fn report(
    State(state): State<AppState>,
    auth: Authorized<ReportForGuard>,
    CsrfForm(form): CsrfForm<ReportMessageForm>,
) -> Result<Response, AppError> {
    let Target::Candidate { id: candidate, .. } = &auth.target else {
        return Err(AppError::Forbidden);
    };
    let text: String = form
        .text
        .trim()
        .chars()
        .take(crate::scan::parse::MAX_MESSAGE_CHARS)
        .collect();
    if text.is_empty() {
        return Err(AppError::bad_request("text", "The message is empty"));
    }
    let scanner = state.scanner.clone().ok_or(AppError::NotFound)?;
    let verdict = scan_blocking(scanner, vec![text.clone()])
        .await?
        .pop()
        .ok_or_else(|| AppError::Internal("scanner returned nothing".into()))?;
    let message = Message {
        author: form.author,
        handle: form.handle,
        time: form.time,
        link: form.link,
        text,
    };
    let id = report_message(&state, &auth.actor, *candidate, &message, &verdict, false).await?;
    Ok(Redirect::to(&format!("/reports/{id}?sent=1")).into_response())
}

/// Makes a report of one message: the detector's category, triage's priority, the message as
/// received as evidence (hashed). A message already reported by this candidate (same evidence
/// hash) is not reported again: its report is returned.
async fn report_message(
    state: &AppState,
    actor: &shield_domain::policy::Actor,
    candidate: shield_domain::CandidateId,
    m: &Message,
    verdict: &Verdict,
    automatic: bool,
) -> Result<i64, AppError> {
    let evidence_text = format!(
        "From: {}\nHandle: {}\nTime: {}\nLink: {}\n\n{}\n",
        m.author.trim(),
        m.handle.trim(),
        m.time.trim(),
        m.link.trim(),
        m.text
    );
    let bytes = evidence_text.into_bytes();
    let sha256 = hex::encode(Sha256::digest(&bytes));
    if let Some(existing) = state.store.report_with_evidence(candidate, &sha256).await? {
        return Ok(existing);
    }
    let flag = verdict.flags.first().copied();
    let close_to = verdict.review.first().copied();
    let category = flag
        .or(close_to)
        .map_or(shield_domain::report::Category::OnlineAbuse, Flag::category);
    let who = [m.handle.trim(), m.author.trim()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let flagged_words = match (flag, close_to) {
        (Some(f), None) => format!(
            "Flagged by the message scanner as {} (score {:.2}).",
            f.label().to_lowercase(),
            verdict.score(f)
        ),
        // Flagged for something else (abuse, say) and close to a threat: the flag sets the
        // category, and the police contact is told about the threat it came close to.
        (Some(f), Some(c)) if verdict.ruled.contains(&c) => format!(
            "Flagged by the message scanner as {} (score {:.2}); a rule also matched a {}, which its model read as none.",
            f.label().to_lowercase(),
            verdict.score(f),
            c.label().to_lowercase()
        ),
        (Some(f), Some(c)) => format!(
            "Flagged by the message scanner as {} (score {:.2}), and close to a {} (score {:.2}).",
            f.label().to_lowercase(),
            verdict.score(f),
            c.label().to_lowercase(),
            verdict.score(c)
        ),
        (None, Some(f)) if verdict.ruled.contains(&f) => format!(
            "Not flagged by the message scanner: a rule matched a {}, but its model read the message as none; I read it and it worries me.",
            f.label().to_lowercase()
        ),
        (None, Some(f)) => format!(
            "Not flagged by the message scanner, but close to a {} (score {:.2}); I read it and it worries me.",
            f.label().to_lowercase(),
            verdict.score(f)
        ),
        (None, None) => "Reported from the message scanner (not flagged).".to_owned(),
    };
    let what = if automatic {
        format!("A message I received, reported automatically (I opted in). {flagged_words}")
    } else {
        format!("A message I received. {flagged_words}")
    };
    let details = ReportDetails {
        what,
        when: m.time.trim().chars().take(200).collect(),
        place: "Online".to_owned(),
        who: who.chars().take(2_000).collect(),
        pasted: m.text.clone(),
        links: m
            .link
            .split_whitespace()
            .take(1)
            .map(|l| l.chars().take(2_000).collect())
            .collect(),
    };
    let evidence = NewEvidence {
        kind: shield_domain::evidence::EvidenceKind::Text.key().to_owned(),
        filename: "message.txt".to_owned(),
        sha256,
        content: bytes,
    };
    super::reports::new::create(
        state,
        actor,
        candidate,
        category,
        false,
        &details,
        vec![evidence],
    )
    .await
}

crate::has_csrf!(ReportMessageForm, SettingsForm);

/// A scanner note for people: the detector starts some notes with a label's
/// key ("threat_violence: …"), which the page shows as the flag's name.
fn readable_note(note: &str) -> String {
    Flag::ALL
        .into_iter()
        .find_map(|f| {
            note.strip_prefix(f.key())
                .and_then(|rest| rest.strip_prefix(": "))
                .map(|rest| format!("{}: {rest}", f.label()))
        })
        .unwrap_or_else(|| note.to_string())
}

#[cfg(test)]
mod tests {
    use super::readable_note;

    #[test]
    fn notes_name_flags_as_the_page_does() {
        assert_eq!(
            readable_note("threat_violence: words the model weighed most: \u{201c}stab\u{201d}"),
            "Threat of violence: words the model weighed most: \u{201c}stab\u{201d}"
        );
        assert_eq!(readable_note("doxxing: x"), "Personal details exposed: x");
        assert_eq!(
            readable_note("long message: the model read the first 24 windows"),
            "long message: the model read the first 24 windows"
        );
    }
}
