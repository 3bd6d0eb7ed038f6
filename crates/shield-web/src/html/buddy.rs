//! The candidate's check-in buddy (journey 6): a friend, partner or agent who is emailed first,
//! with the named police contact, when a check-in alarm is raised ("Claire missed a check-in;
//! call her; if you cannot reach her, call 999"). Name, email and phone are sealed at rest as
//! one value bound to the candidate (`checkin_buddies.contact`). They are the candidate's
//! sensitive details, like the emergency contact: only the candidate sees or changes them
//! (`EditSensitiveDetails`, which needs a recent sign-in), each look is audited
//! (`sensitive_read`) and each change too (`buddy_changed`).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shield_domain::CandidateId;
use shield_domain::audit::AuditSubject;
use shield_domain::checkin::Buddy;
use shield_domain::policy::Actor;

use crate::auth::csrf::CsrfForm;
use crate::auth::guard::{Authorized, EditOwnSensitive};
use crate::html::layout::FieldProblem;
use crate::html::reports::audit_event;
use crate::{AppError, AppState};

fn aad(candidate: CandidateId) -> (String, &'static str) {
    (candidate.0.to_string(), "contact")
}

/// The candidate's buddy, opened, with a `sensitive_read` audit event (every look at a sealed
/// detail is on the record the candidate can see).
pub(crate) async fn read_buddy(
    state: &AppState,
    actor: &Actor,
    candidate: CandidateId,
) -> Result<Option<Buddy>, AppError> {
    let Some(sealed) = state.store.checkin_buddy(candidate).await? else {
        return Ok(None);
    };
    let (id, column) = aad(candidate);
    let plain = shield_crypto::open_string(
        &state.keys,
        shield_crypto::Aad::new("checkin_buddies", column, &id),
        &sealed,
    )
    .map_err(|e| AppError::Internal(format!("checkin_buddies.contact {id}: {e}")))?;
    let buddy: Buddy = serde_json::from_str(plain.as_ref())
        .map_err(|e| AppError::Internal(format!("checkin_buddies.contact {id}: {e}")))?;
    let read = subject(
        audit_event(state, actor, "sensitive_read", None)?,
        candidate,
    )?
    .with_detail("fields", "checkin_buddy")
    .map_err(|e| AppError::Internal(e.message))?;
    state.store.record_audit(&read).await?;
    Ok(Some(buddy))
}

fn subject(
    event: shield_domain::audit::AuditEvent,
    candidate: CandidateId,
) -> Result<shield_domain::audit::AuditEvent, AppError> {
    Ok(event.with_subject(
        AuditSubject::new("candidate", &candidate.0.to_string())
            .map_err(|e| AppError::Internal(e.message))?,
    ))
}

/// Saves (`Some`) or removes (`None`) the candidate's buddy, sealed, with `buddy_changed`.
pub(crate) async fn save_buddy(
    state: &AppState,
    actor: &Actor,
    candidate: CandidateId,
    buddy: Option<&Buddy>,
) -> Result<(), AppError> {
    let sealed = match buddy {
        Some(b) => {
            let json = serde_json::to_string(b).map_err(|e| AppError::Internal(e.to_string()))?;
            let (id, column) = aad(candidate);
            Some(shield_crypto::seal_str(
                &state.keys,
                shield_crypto::Aad::new("checkin_buddies", column, &id),
                &json,
            ))
        }
        None => None,
    };
    let event = subject(audit_event(state, actor, "buddy_changed", None)?, candidate)?;
    state
        .store
        .set_checkin_buddy(candidate, sealed.as_deref(), state.clock.now_ms(), &event)
        .await?;
    tracing::info!(candidate = candidate.0, "check-in buddy changed");
    Ok(())
}

/// A buddy form's problems, as the page shows them.
pub(crate) fn check(form: &BuddyForm) -> Result<Buddy, Vec<FieldProblem>> {
    shield_domain::checkin::check_buddy(&form.buddy_name, &form.buddy_email, &form.buddy_phone)
        .map_err(|problems| {
            problems
                .into_iter()
                .map(|(field, e)| FieldProblem::new(field, e.message))
                .collect()
        })
}

#[derive(Debug, Template)]
#[template(path = "checkin/buddy.html")]
pub(crate) struct BuddyPage {
    section: &'static str,
    csrf: String,
    has_buddy: bool,
    form: BuddyForm,
    problems: Vec<FieldProblem>,
}

impl BuddyPage {
    fn problem_for(&self, field: &str) -> Option<&str> {
        crate::html::layout::problem_for(&self.problems, field)
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct BuddyForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub buddy_name: String,
    #[serde(default)]
    pub buddy_email: String,
    #[serde(default)]
    pub buddy_phone: String,
    /// "remove": take the buddy off.
    #[serde(default)]
    pub action: String,
}

crate::has_csrf!(BuddyForm);

/// `GET /check-in/buddy`: who is told first when an alarm is raised.
pub(crate) async fn form(
    State(state): State<AppState>,
    auth: Authorized<EditOwnSensitive>,
) -> Result<Response, AppError> {
    let candidate = auth.actor.candidate.ok_or(AppError::Forbidden)?;
    let buddy = read_buddy(&state, &auth.actor, candidate).await?;
    let form = buddy
        .as_ref()
        .map(|b| BuddyForm {
            buddy_name: b.name.clone(),
            buddy_email: b.email.clone(),
            buddy_phone: b.phone.clone(),
            ..BuddyForm::default()
        })
        .unwrap_or_default();
    let page = BuddyPage {
        section: "checkin",
        csrf: auth.session.record.csrf_token.clone(),
        has_buddy: buddy.is_some(),
        form,
        problems: Vec::new(),
    };
    crate::html::page(StatusCode::OK, &page)
}

/// `POST /check-in/buddy`: save or remove.
pub(crate) async fn save(
    State(state): State<AppState>,
    auth: Authorized<EditOwnSensitive>,
    CsrfForm(form): CsrfForm<BuddyForm>,
) -> Result<Response, AppError> {
    let candidate = auth.actor.candidate.ok_or(AppError::Forbidden)?;
    if form.action == "remove" {
        save_buddy(&state, &auth.actor, candidate, None).await?;
        return Ok(Redirect::to("/check-in?buddy=removed").into_response());
    }
    match check(&form) {
        Ok(buddy) => {
            save_buddy(&state, &auth.actor, candidate, Some(&buddy)).await?;
            Ok(Redirect::to("/check-in?buddy=saved").into_response())
        }
        Err(problems) => {
            let has_buddy = state.store.checkin_buddy(candidate).await?.is_some();
            let page = BuddyPage {
                section: "checkin",
                csrf: auth.session.record.csrf_token.clone(),
                has_buddy,
                form,
                problems,
            };
            crate::html::page(StatusCode::BAD_REQUEST, &page)
        }
    }
}
