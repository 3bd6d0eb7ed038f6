//! The report form: mobile-first, no JavaScript needed, evidence uploads checked by content.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest, Sha256};
use shield_domain::evidence::{self, MAX_EVIDENCE_BYTES, MAX_FILES_PER_REPORT};
use shield_domain::report::{self, Category, TriageInput};
use shield_store::{NewEvidence, NewReport};

use super::{OFFENDER_INDEX, ReportDetails, audit_event};
use crate::auth::guard::{Authorized, Target};
use crate::auth::report_guard::ReportForGuard;
use crate::auth::token;
use crate::html::layout::FieldProblem;
use crate::{AppError, AppState};

/// Largest request the report form accepts: ten files at the per-file limit plus the text.
pub(crate) const MAX_REPORT_BODY: usize = MAX_FILES_PER_REPORT * MAX_EVIDENCE_BYTES + 1024 * 1024;

#[derive(Debug)]
pub(crate) struct CategoryOption {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

#[derive(Debug, Template)]
#[template(path = "reports/new.html")]
pub(crate) struct NewReportPage {
    section: &'static str,
    csrf: String,
    /// Set when a delegate reports for a candidate (`?candidate=ID`).
    candidate: Option<super::OnBehalf>,
    categories: Vec<CategoryOption>,
    form: ReportForm,
    problems: Vec<FieldProblem>,
}

impl NewReportPage {
    fn problem_for(&self, field: &str) -> Option<&str> {
        crate::html::layout::problem_for(&self.problems, field)
    }
}

/// The text fields as submitted, kept to show the form again with its errors.
#[derive(Debug, Default, Clone)]
pub(crate) struct ReportForm {
    pub category: String,
    pub what: String,
    pub when: String,
    pub place: String,
    pub happening_now: String,
    pub who: String,
    pub pasted: String,
    pub links: String,
}

fn categories(selected: &str) -> Vec<CategoryOption> {
    Category::ALL
        .iter()
        .map(|c| CategoryOption {
            value: c.key(),
            label: c.label(),
            checked: c.key() == selected,
        })
        .collect()
}

pub(crate) async fn form(
    State(state): State<AppState>,
    auth: Authorized<ReportForGuard>,
) -> Result<Response, AppError> {
    let page = NewReportPage {
        section: "reports",
        csrf: auth.session.record.csrf_token.clone(),
        candidate: super::OnBehalf::of(&state, &auth.target, auth.actor.candidate).await?,
        categories: categories(""),
        form: ReportForm::default(),
        problems: Vec::new(),
    };
    crate::html::page(StatusCode::OK, &page)
}

/// One uploaded file, read with a per-file cap.
struct Upload {
    submitted_name: String,
    bytes: Vec<u8>,
}

/// What the multipart body held.
#[derive(Default)]
struct Submission {
    csrf: String,
    form: ReportForm,
    uploads: Vec<Upload>,
}

fn too_large(message: impl Into<String>) -> AppError {
    AppError::TooLarge {
        field: "evidence",
        message: message.into(),
    }
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large("The report with its files is too large to send. Each file can be up to 10 MB.")
    } else {
        AppError::bad_request("evidence", "The form could not be read. Try again.")
    }
}

/// Reads the whole form. Text fields are capped at 20,000 characters; each file at
/// [`MAX_EVIDENCE_BYTES`], checked while it streams so an oversized file is refused without
/// being held in memory.
async fn read(mut multipart: Multipart) -> Result<Submission, AppError> {
    let mut s = Submission::default();
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "evidence" {
            let submitted_name = field.file_name().unwrap_or("").to_owned();
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                if bytes.len() + chunk.len() > MAX_EVIDENCE_BYTES {
                    let shown =
                        evidence::safe_filename(&submitted_name, evidence::EvidenceKind::Text);
                    let shown = shown.trim_end_matches(".txt");
                    return Err(too_large(format!(
                        "{shown} is larger than 10 MB. Choose a smaller file, or paste the text instead."
                    )));
                }
                bytes.extend_from_slice(&chunk);
            }
            // A file input left empty still sends a part with no name and no bytes.
            if submitted_name.is_empty() && bytes.is_empty() {
                continue;
            }
            if s.uploads.len() == MAX_FILES_PER_REPORT {
                return Err(too_large(format!(
                    "You can upload up to {MAX_FILES_PER_REPORT} files with one report."
                )));
            }
            s.uploads.push(Upload {
                submitted_name,
                bytes,
            });
            continue;
        }
        let text = field.text().await.map_err(multipart_error)?;
        let text: String = text.chars().take(20_000).collect();
        let f = &mut s.form;
        match name.as_str() {
            "csrf" => s.csrf = text,
            "category" => f.category = text,
            "what" => f.what = text,
            "when" => f.when = text,
            "where" => f.place = text,
            "happening_now" => f.happening_now = text,
            "who" => f.who = text,
            "pasted" => f.pasted = text,
            "links" => f.links = text,
            _ => {}
        }
    }
    Ok(s)
}

/// Checks the form; returns the category, "happening now" and the checked files.
fn validate(s: &Submission) -> Result<(Category, bool, Vec<NewEvidence>), Vec<FieldProblem>> {
    let f = &s.form;
    let mut problems = Vec::new();
    let category = Category::parse(&f.category)
        .ok()
        .filter(|c| Category::ALL.contains(c))
        .ok_or(())
        .map_err(|_| problems.push(FieldProblem::new("category", "Select what happened")))
        .ok();
    if f.what.trim().is_empty() {
        problems.push(FieldProblem::new("what", "Enter what happened"));
    } else if f.what.chars().count() > 10_000 {
        problems.push(FieldProblem::new(
            "what",
            "What happened must be 10,000 characters or fewer",
        ));
    }
    let now = match f.happening_now.as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => {
            problems.push(FieldProblem::new(
                "happening_now",
                "Select yes if this is happening now",
            ));
            None
        }
    };
    for (field, value, max) in [
        ("when", &f.when, 200),
        ("where", &f.place, 1_000),
        ("who", &f.who, 2_000),
        ("links", &f.links, 5_000),
    ] {
        if value.chars().count() > max {
            problems.push(FieldProblem::new(
                field,
                format!("This answer must be {max} characters or fewer"),
            ));
        }
    }
    let mut files = Vec::new();
    for upload in &s.uploads {
        match evidence::check(&upload.bytes) {
            Ok(kind) => files.push(NewEvidence {
                kind: kind.key().to_owned(),
                filename: evidence::safe_filename(&upload.submitted_name, kind),
                sha256: hex::encode(Sha256::digest(&upload.bytes)),
                content: upload.bytes.clone(),
            }),
            Err(e) => {
                let shown =
                    evidence::safe_filename(&upload.submitted_name, evidence::EvidenceKind::Text);
                let shown = shown.trim_end_matches(".txt");
                problems.push(FieldProblem::new("evidence", format!("{shown}: {e}")));
            }
        }
    }
    match (category, now, problems.is_empty()) {
        (Some(c), Some(n), true) => Ok((c, n, files)),
        _ => Err(problems),
    }
}

fn links(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|s| !s.is_empty())
        .take(50)
        .map(|s| s.chars().take(2_000).collect())
        .collect()
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    auth: Authorized<ReportForGuard>,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let submission = read(multipart).await?;
    if !token::same(&auth.session.record.csrf_token, &submission.csrf) {
        return Err(AppError::Forbidden);
    }
    let Target::Candidate { id: candidate, .. } = &auth.target else {
        return Err(AppError::Forbidden);
    };
    let (category, happening_now, files) = match validate(&submission) {
        Ok(ok) => ok,
        Err(problems) => {
            let page = NewReportPage {
                section: "reports",
                csrf: auth.session.record.csrf_token.clone(),
                candidate: super::OnBehalf::of(&state, &auth.target, auth.actor.candidate).await?,
                categories: categories(&submission.form.category),
                form: submission.form,
                problems,
            };
            return crate::html::page(StatusCode::BAD_REQUEST, &page);
        }
    };
    let f = &submission.form;
    let details = ReportDetails {
        what: f.what.trim().to_owned(),
        when: f.when.trim().to_owned(),
        place: f.place.trim().to_owned(),
        who: f.who.trim().to_owned(),
        pasted: f.pasted.trim().to_owned(),
        links: links(&f.links),
    };
    let id = create(
        &state,
        &auth.actor,
        *candidate,
        category,
        happening_now,
        &details,
        files,
    )
    .await?;
    Ok(Redirect::to(&format!("/reports/{id}?sent=1")).into_response())
}

/// Triage, seal and store a report, then wake the worker. Shared by the form and the API.
pub(crate) async fn create(
    state: &AppState,
    actor: &shield_domain::policy::Actor,
    candidate: shield_domain::CandidateId,
    category: Category,
    happening_now: bool,
    details: &ReportDetails,
    evidence: Vec<NewEvidence>,
) -> Result<i64, AppError> {
    let text = details.triage_text();
    let triage = report::triage(TriageInput {
        category,
        happening_now,
        text: &text,
    });
    let offender_tokens = report::identifiers(&details.who)
        .iter()
        .map(|i| shield_crypto::blind_index(&state.keys, OFFENDER_INDEX, i))
        .collect();
    let new = NewReport {
        candidate_id: candidate,
        reported_by: actor.user_id,
        category,
        happening_now,
        priority: triage.priority,
        reasons: triage.reasons,
        details: serde_json::to_vec(details).map_err(|e| AppError::Internal(e.to_string()))?,
        offender_tokens,
        evidence,
        silent: false,
    };
    let audit = audit_event(state, actor, "report_created", None)?;
    let priority = new.priority.number();
    let created = state.intake.create(state, new, audit).await?;
    state.wake_worker();
    tracing::info!(report = created.id, priority, "report created");
    Ok(created.id)
}
