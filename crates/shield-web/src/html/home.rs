//! The candidate's own pages: who their named police contacts are, and their sensitive
//! details (home address, emergency contact), sealed at rest and audited on every read.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shield_domain::CandidateId;
use shield_domain::audit::{AuditAction, AuditActor, AuditEvent, AuditOutcome, AuditSubject};
use shield_domain::policy::Actor;
use shield_store::accounts::{NamedContact, SealedProfile};

use super::layout::FieldProblem;
use crate::auth::csrf::CsrfForm;
use crate::auth::guard::{Authorized, EditOwnSensitive, OwnRecord, ViewOwnSensitive, chrono_now};
use crate::{AppError, AppState};

#[derive(Debug, Template)]
#[template(path = "home/show.html")]
struct HomePage {
    section: &'static str,
    csrf: String,
    name: String,
    constituency: String,
    election: String,
    cross_force: bool,
    contacts: Vec<NamedContact>,
    has_address: bool,
    /// The candidate's open reports, most urgent first.
    rows: Vec<super::reports::list::Row>,
    /// The readiness score of their security plan.
    readiness: u8,
}

pub(crate) async fn show(
    State(state): State<AppState>,
    auth: Authorized<OwnRecord>,
) -> Result<Response, AppError> {
    let id = auth.actor.candidate.ok_or(AppError::Forbidden)?;
    let overview = state
        .store
        .candidate_overview(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let profile = state.store.profile(id).await?;
    let open = state
        .store
        .reports(&shield_store::ReportFilter {
            candidate: Some(id),
            open_only: true,
            hide_silent: true,
            ..shield_store::ReportFilter::default()
        })
        .await?;
    let readiness = state.store.plan(id).await?.score();
    let page = HomePage {
        readiness,
        rows: super::reports::list::rows(&open, state.clock.now_ms()),
        section: "home",
        csrf: auth.session.record.csrf_token.clone(),
        name: overview.name,
        constituency: overview.constituency_name,
        election: overview.election_name,
        cross_force: overview.forces.len() > 1,
        contacts: overview.contacts,
        has_address: profile.home_address.is_some(),
    };
    super::page(StatusCode::OK, &page)
}

#[derive(Debug, Template)]
#[template(path = "home/details.html")]
struct DetailsPage {
    section: &'static str,
    csrf: String,
    home_address: String,
    emergency_contact: String,
    problems: Vec<FieldProblem>,
}

impl DetailsPage {
    fn problem_for(&self, field: &str) -> Option<&str> {
        super::layout::problem_for(&self.problems, field)
    }
}

/// Where a candidate's sealed detail lives: table, column and row bound into the ciphertext.
struct ProfileAad(&'static str, String);

impl ProfileAad {
    fn new(column: &'static str, candidate: CandidateId) -> Self {
        Self(column, candidate.to_string())
    }

    fn aad(&self) -> shield_crypto::Aad<'_> {
        shield_crypto::Aad::new("candidate_profiles", self.0, &self.1)
    }
}

fn open_field(
    state: &AppState,
    column: &'static str,
    id: CandidateId,
    blob: Option<&[u8]>,
) -> Result<String, AppError> {
    match blob {
        None => Ok(String::new()),
        Some(blob) => {
            shield_crypto::open_string(&state.keys, ProfileAad::new(column, id).aad(), blob)
                .map(|s| s.to_string())
                .map_err(|e| AppError::Internal(format!("{column}: {e}")))
        }
    }
}

fn audit(
    state: &AppState,
    actor: &Actor,
    action: &str,
    id: CandidateId,
) -> Result<AuditEvent, AppError> {
    let internal = |e: shield_domain::FieldError| AppError::Internal(e.message);
    Ok(AuditEvent::new(
        AuditAction::parse(action).map_err(internal)?,
        AuditOutcome::Success,
        chrono_now(state),
    )
    .with_actor(AuditActor::new(actor.user_id.0, actor.role.key()).map_err(internal)?)
    .with_subject(AuditSubject::new("candidate", &id.to_string()).map_err(internal)?))
}

pub(crate) async fn details_form(
    State(state): State<AppState>,
    auth: Authorized<ViewOwnSensitive>,
) -> Result<Response, AppError> {
    let id = auth.actor.candidate.ok_or(AppError::Forbidden)?;
    let profile = state.store.profile(id).await?;
    // Every read of a sealed detail is on the record the candidate can see.
    let mut read = audit(&state, &auth.actor, "sensitive_read", id)?;
    read = read
        .with_detail("fields", "home_address.emergency_contact")
        .map_err(|e| AppError::Internal(e.message))?;
    state.store.record_audit(&read).await?;
    let page = DetailsPage {
        section: "home",
        csrf: auth.session.record.csrf_token.clone(),
        home_address: open_field(&state, "home_address", id, profile.home_address.as_deref())?,
        emergency_contact: open_field(
            &state,
            "emergency_contact",
            id,
            profile.emergency_contact.as_deref(),
        )?,
        problems: Vec::new(),
    };
    super::page(StatusCode::OK, &page)
}

#[derive(Debug, Deserialize)]
pub(crate) struct DetailsForm {
    csrf: String,
    #[serde(default)]
    home_address: String,
    #[serde(default)]
    emergency_contact: String,
}

pub(crate) async fn save_details(
    State(state): State<AppState>,
    auth: Authorized<EditOwnSensitive>,
    CsrfForm(form): CsrfForm<DetailsForm>,
) -> Result<Response, AppError> {
    let id = auth.actor.candidate.ok_or(AppError::Forbidden)?;
    let mut problems = Vec::new();
    if form.home_address.chars().count() > 500 {
        problems.push(FieldProblem::new(
            "home_address",
            "Home address must be 500 characters or fewer",
        ));
    }
    if form.emergency_contact.chars().count() > 300 {
        problems.push(FieldProblem::new(
            "emergency_contact",
            "Emergency contact must be 300 characters or fewer",
        ));
    }
    if !problems.is_empty() {
        let page = DetailsPage {
            section: "home",
            csrf: auth.session.record.csrf_token.clone(),
            home_address: form.home_address,
            emergency_contact: form.emergency_contact,
            problems,
        };
        return super::page(StatusCode::BAD_REQUEST, &page);
    }
    let seal = |column: &'static str, value: &str| {
        let value = value.trim();
        (!value.is_empty())
            .then(|| shield_crypto::seal_str(&state.keys, ProfileAad::new(column, id).aad(), value))
    };
    let profile = SealedProfile {
        home_address: seal("home_address", &form.home_address),
        emergency_contact: seal("emergency_contact", &form.emergency_contact),
        confirmed_at_ms: Some(state.clock.now_ms()),
    };
    let event = audit(&state, &auth.actor, "sensitive_details_changed", id)?;
    state
        .store
        .save_profile(id, &profile, state.clock.now_ms(), &event)
        .await?;
    Ok(Redirect::to("/home").into_response())
}

#[derive(Debug)]
struct Viewing {
    when: String,
    who: &'static str,
    what: &'static str,
}

#[derive(Debug, Template)]
#[template(path = "home/viewed.html")]
struct ViewedPage {
    section: &'static str,
    rows: Vec<Viewing>,
}

fn role_words(role: &str, own: bool) -> &'static str {
    match role {
        _ if own => "You",
        "candidate" => "A candidate",
        "delegate" => "Someone acting for you",
        "force_contact" => "Your named police contact",
        "coordinator" => "The coordination team",
        "admin" => "An administrator",
        _ => "The service",
    }
}

fn action_words(action: &str) -> Option<&'static str> {
    match action {
        "sensitive_read" => Some("looked at your home address and emergency contact"),
        "sensitive_details_changed" => Some("changed your home address or emergency contact"),
        "permission_denied" => Some("tried to open your record and was refused"),
        "delegate_added" => Some("added someone to act for you"),
        "delegate_grants_changed" => Some("changed what someone acting for you can do"),
        "delegate_revoked" => Some("stopped someone acting for you"),
        _ => None,
    }
}

/// Who has looked at the candidate's record (and who acts for them: adding, changing and
/// revoking delegates, and a delegate refused something, show here too) (NCSC cloud principle 13: audit information for
/// users), read from the audit chain.
pub(crate) async fn viewed(
    State(state): State<AppState>,
    auth: Authorized<OwnRecord>,
) -> Result<Response, AppError> {
    let id = auth.actor.candidate.ok_or(AppError::Forbidden)?;
    let events = state
        .store
        .audit_for_subject("candidate", &id.to_string(), 200)
        .await?;
    let rows = events
        .iter()
        .filter_map(|row| {
            let what = action_words(row.event.action().as_str())?;
            let actor = row.event.actor();
            let own = actor.is_some_and(|a| a.user_id() == auth.actor.user_id.0);
            Some(Viewing {
                when: row.event.at().format("%-d %B %Y, %H:%M UTC").to_string(),
                who: role_words(actor.map(|a| a.role()).unwrap_or(""), own),
                what,
            })
        })
        .collect();
    super::page(
        StatusCode::OK,
        &ViewedPage {
            section: "home",
            rows,
        },
    )
}

crate::has_csrf!(DetailsForm);
