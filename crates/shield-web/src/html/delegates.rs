//! Delegates: a candidate's page to add people who act for them (an election agent, staff),
//! choose what each may do, and revoke them; and a delegate's own page listing the candidates
//! they act for. Adding a delegate invites them through the invitation machinery (they enrol
//! like a candidate: password and authenticator app, or a passkey). Every change commits with
//! its audit event; a revoked delegate loses access on their next request, because the access
//! policy's view of them is rebuilt from the database every time.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shield_domain::audit::{AuditAction, AuditActor, AuditEvent, AuditOutcome, AuditSubject};
use shield_domain::policy::{Action, Actor, Grant};
use shield_domain::{CandidateId, Email, Role, UserId};
use shield_store::StoreError;
use shield_store::accounts::UserStatus;
use shield_store::delegates::{DelegateAdded, NewDelegate};

use super::layout::FieldProblem;
use crate::auth::csrf::CsrfForm;
use crate::auth::guard::{Authorized, Guard, Target, chrono_now};
use crate::{AppError, AppState};

/// Managing the signed-in candidate's own delegates (needs a recent sign-in).
#[derive(Debug)]
pub struct OwnDelegates;

impl Guard for OwnDelegates {
    const ACTION: Action = Action::ManageDelegates;

    async fn target(_: &mut Parts, state: &AppState, actor: &Actor) -> Result<Target, AppError> {
        let id = actor.candidate.ok_or(AppError::Forbidden)?;
        let forces = state.store.candidate_forces(id).await?;
        Ok(Target::Candidate { id, forces })
    }
}

/// A delegate's own list of the candidates they act for.
#[derive(Debug)]
pub struct ActingForGuard;

impl Guard for ActingForGuard {
    const ACTION: Action = Action::ActForCandidates;

    async fn target(_: &mut Parts, _: &AppState, _: &Actor) -> Result<Target, AppError> {
        Ok(Target::OwnAccount)
    }
}

/// The reports of the candidate in `/acting-for/{candidate}/reports`: a delegate granted
/// `View` (and, as for any report, the candidate, their police and coordinators).
#[derive(Debug)]
pub struct TheirReports;

impl Guard for TheirReports {
    const ACTION: Action = Action::ViewReport;

    async fn target(parts: &mut Parts, state: &AppState, _: &Actor) -> Result<Target, AppError> {
        let id = parts
            .uri
            .path()
            .split('/')
            .nth(2)
            .and_then(|s| s.parse::<i64>().ok())
            .ok_or(AppError::NotFound)?;
        let forces = state.store.candidate_forces(CandidateId(id)).await?;
        if forces.is_empty() {
            return Err(AppError::NotFound);
        }
        Ok(Target::Candidate {
            id: CandidateId(id),
            forces,
        })
    }
}

fn grant_words(grants: &BTreeSet<Grant>) -> String {
    let words: Vec<&str> = grants
        .iter()
        .map(|g| match g {
            Grant::View => "see your record and reports",
            Grant::Report => "report concerns for you",
            Grant::Edit => "change your details (never your home address)",
        })
        .collect();
    if words.is_empty() {
        "nothing yet".to_owned()
    } else {
        words.join("; ")
    }
}

#[derive(Debug)]
struct DelegateLine {
    user_id: i64,
    name: String,
    email: String,
    enrolled: bool,
    view: bool,
    report: bool,
    edit: bool,
    can: String,
}

#[derive(Debug, Template)]
#[template(path = "delegates/index.html")]
struct DelegatesPage {
    section: &'static str,
    csrf: String,
    delegates: Vec<DelegateLine>,
    notice: Option<&'static str>,
    name: String,
    email: String,
    view: bool,
    report: bool,
    edit: bool,
    problems: Vec<FieldProblem>,
}

impl DelegatesPage {
    fn problem_for(&self, field: &str) -> Option<&str> {
        super::layout::problem_for(&self.problems, field)
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct IndexQuery {
    #[serde(default)]
    done: Option<String>,
}

fn notice(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "invited" => Some(
            "We have emailed them an invitation. They can act for you once they have set up their sign-in.",
        ),
        "added" => Some("They can now act for you."),
        "changed" => Some("What they can do has been changed."),
        "revoked" => Some("They can no longer act for you."),
        _ => None,
    }
}

async fn lines(state: &AppState, candidate: CandidateId) -> Result<Vec<DelegateLine>, AppError> {
    Ok(state
        .store
        .delegates(candidate)
        .await?
        .into_iter()
        .map(|d| DelegateLine {
            user_id: d.user_id.0,
            name: d.display_name,
            email: d.email,
            enrolled: d.status == UserStatus::Active,
            view: d.grants.contains(&Grant::View),
            report: d.grants.contains(&Grant::Report),
            edit: d.grants.contains(&Grant::Edit),
            can: grant_words(&d.grants),
        })
        .collect())
}

/// `/delegates`: the candidate's delegates and a form to add one.
pub(crate) async fn index(
    State(state): State<AppState>,
    auth: Authorized<OwnDelegates>,
    Query(q): Query<IndexQuery>,
) -> Result<Response, AppError> {
    let id = auth.actor.candidate.ok_or(AppError::Forbidden)?;
    let page = DelegatesPage {
        section: "home",
        csrf: auth.session.record.csrf_token.clone(),
        delegates: lines(&state, id).await?,
        notice: notice(q.done.as_deref()),
        name: String::new(),
        email: String::new(),
        view: true,
        report: true,
        edit: false,
        problems: Vec::new(),
    };
    super::page(StatusCode::OK, &page)
}

#[derive(Debug, Deserialize)]
pub(crate) struct AddForm {
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    view: Option<String>,
    #[serde(default)]
    report: Option<String>,
    #[serde(default)]
    edit: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct GrantsForm {
    csrf: String,
    #[serde(default)]
    view: Option<String>,
    #[serde(default)]
    report: Option<String>,
    #[serde(default)]
    edit: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RevokeForm {
    csrf: String,
}

crate::has_csrf!(AddForm, GrantsForm, RevokeForm);

fn grants_of(
    view: &Option<String>,
    report: &Option<String>,
    edit: &Option<String>,
) -> BTreeSet<Grant> {
    [
        (view, Grant::View),
        (report, Grant::Report),
        (edit, Grant::Edit),
    ]
    .into_iter()
    .filter(|(v, _)| v.is_some())
    .map(|(_, g)| g)
    .collect()
}

fn event(
    state: &AppState,
    actor: &Actor,
    action: &str,
    candidate: CandidateId,
    delegate: Option<UserId>,
    grants: Option<&BTreeSet<Grant>>,
) -> Result<AuditEvent, AppError> {
    let internal = |e: shield_domain::FieldError| AppError::Internal(e.message);
    let mut event = AuditEvent::new(
        AuditAction::parse(action).map_err(internal)?,
        AuditOutcome::Success,
        chrono_now(state),
    )
    .with_actor(AuditActor::new(actor.user_id.0, actor.role.key()).map_err(internal)?)
    .with_subject(AuditSubject::new("candidate", &candidate.to_string()).map_err(internal)?);
    if let Some(d) = delegate {
        event = event
            .with_detail("delegate", &d.to_string())
            .map_err(internal)?;
    }
    if let Some(g) = grants {
        let text = shield_store::delegates::grants_text(g);
        if !text.is_empty() {
            event = event
                .with_detail("grants", &text.replace(',', "."))
                .map_err(internal)?;
        }
    }
    Ok(event)
}

/// `POST /delegates`: adds a delegate and invites them.
pub(crate) async fn add(
    State(state): State<AppState>,
    auth: Authorized<OwnDelegates>,
    CsrfForm(form): CsrfForm<AddForm>,
) -> Result<Response, AppError> {
    let id = auth.actor.candidate.ok_or(AppError::Forbidden)?;
    let name = form.name.trim().to_owned();
    let email_text = form.email.trim().to_lowercase();
    let grants = grants_of(&form.view, &form.report, &form.edit);
    let mut problems = Vec::new();
    if name.is_empty() || name.chars().count() > 100 {
        problems.push(FieldProblem::new(
            "name",
            "Enter their name, 100 characters or fewer",
        ));
    }
    let email = Email::parse(&email_text);
    if email.is_err() {
        problems.push(FieldProblem::new(
            "email",
            "Enter an email address in the correct format, like name@example.com",
        ));
    }
    if grants.is_empty() {
        problems.push(FieldProblem::new(
            "view",
            "Choose at least one thing they can do for you",
        ));
    }
    if problems.is_empty() {
        let prepared =
            crate::invitations::prepare(&state, Role::Delegate, &email_text, Some(&auth.actor))?;
        let delegate = NewDelegate {
            display_name: name.clone(),
            email: email_text.clone(),
            grants: grants.clone(),
        };
        let audit = event(
            &state,
            &auth.actor,
            "delegate_added",
            id,
            None,
            Some(&grants),
        )?;
        match state
            .store
            .add_delegate(
                id,
                &delegate,
                &prepared.invitation,
                state.clock.now_ms(),
                &audit,
                Some(&prepared.message),
            )
            .await
        {
            Ok(DelegateAdded::Invited(user)) => {
                tracing::info!(%user, candidate = %id, "delegate invited");
                state.wake_worker();
                return Ok(Redirect::to("/delegates?done=invited").into_response());
            }
            Ok(DelegateAdded::Existing(user)) => {
                tracing::info!(%user, candidate = %id, "delegate added");
                return Ok(Redirect::to("/delegates?done=added").into_response());
            }
            Err(StoreError::Conflict(_)) => problems.push(FieldProblem::new(
                "email",
                "This email address cannot be used for someone acting for you: use another",
            )),
            Err(other) => return Err(other.into()),
        }
    }
    let page = DelegatesPage {
        section: "home",
        csrf: auth.session.record.csrf_token.clone(),
        delegates: lines(&state, id).await?,
        notice: None,
        name,
        email: email_text,
        view: grants.contains(&Grant::View),
        report: grants.contains(&Grant::Report),
        edit: grants.contains(&Grant::Edit),
        problems,
    };
    super::page(StatusCode::BAD_REQUEST, &page)
}

/// `POST /delegates/{user}/grants`: changes what a delegate may do (none at all is a revoke).
pub(crate) async fn change_grants(
    State(state): State<AppState>,
    Path(user): Path<i64>,
    auth: Authorized<OwnDelegates>,
    CsrfForm(form): CsrfForm<GrantsForm>,
) -> Result<Response, AppError> {
    let id = auth.actor.candidate.ok_or(AppError::Forbidden)?;
    let grants = grants_of(&form.view, &form.report, &form.edit);
    if grants.is_empty() {
        return revoke_one(&state, &auth.actor, id, UserId(user)).await;
    }
    let audit = event(
        &state,
        &auth.actor,
        "delegate_grants_changed",
        id,
        Some(UserId(user)),
        Some(&grants),
    )?;
    if !state
        .store
        .set_delegate_grants(id, UserId(user), &grants, &audit)
        .await?
    {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/delegates?done=changed").into_response())
}

/// `POST /delegates/{user}/revoke`: the delegate can no longer act for the candidate.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    Path(user): Path<i64>,
    auth: Authorized<OwnDelegates>,
    CsrfForm(_): CsrfForm<RevokeForm>,
) -> Result<Response, AppError> {
    let id = auth.actor.candidate.ok_or(AppError::Forbidden)?;
    revoke_one(&state, &auth.actor, id, UserId(user)).await
}

async fn revoke_one(
    state: &AppState,
    actor: &Actor,
    candidate: CandidateId,
    delegate: UserId,
) -> Result<Response, AppError> {
    let audit = event(
        state,
        actor,
        "delegate_revoked",
        candidate,
        Some(delegate),
        None,
    )?;
    if !state
        .store
        .revoke_delegate(candidate, delegate, state.clock.now_ms(), &audit)
        .await?
    {
        return Err(AppError::NotFound);
    }
    tracing::info!(%delegate, %candidate, "delegate revoked");
    Ok(Redirect::to("/delegates?done=revoked").into_response())
}

#[derive(Debug)]
struct ActingLine {
    candidate_id: i64,
    name: String,
    constituency: String,
    can_view: bool,
    can_report: bool,
    can: String,
}

#[derive(Debug, Template)]
#[template(path = "delegates/acting_for.html")]
struct ActingForPage {
    section: &'static str,
    csrf: String,
    rows: Vec<ActingLine>,
}

fn delegate_words(grants: &BTreeSet<Grant>) -> String {
    let words: Vec<&str> = grants
        .iter()
        .map(|g| match g {
            Grant::View => "see their record and reports",
            Grant::Report => "report concerns for them",
            Grant::Edit => "change their details",
        })
        .collect();
    words.join("; ")
}

/// `/acting-for`: a delegate's landing page, the candidates they act for.
pub(crate) async fn acting_for(
    State(state): State<AppState>,
    auth: Authorized<ActingForGuard>,
) -> Result<Response, AppError> {
    let rows = state
        .store
        .acting_for(auth.actor.user_id)
        .await?
        .into_iter()
        .map(|a| ActingLine {
            candidate_id: a.candidate_id.0,
            name: a.candidate_name,
            constituency: a.constituency_name,
            can_view: a.grants.contains(&Grant::View),
            can_report: a.grants.contains(&Grant::Report),
            can: delegate_words(&a.grants),
        })
        .collect();
    super::page(
        StatusCode::OK,
        &ActingForPage {
            section: "home",
            csrf: auth.session.record.csrf_token.clone(),
            rows,
        },
    )
}

#[derive(Debug, Template)]
#[template(path = "delegates/their_reports.html")]
struct TheirReportsPage {
    section: &'static str,
    candidate_id: i64,
    name: String,
    can_report: bool,
    rows: Vec<super::reports::list::Row>,
}

/// `/acting-for/{candidate}/reports`: the reports of a candidate who granted `View`.
pub(crate) async fn their_reports(
    State(state): State<AppState>,
    auth: Authorized<TheirReports>,
) -> Result<Response, AppError> {
    let Target::Candidate { id, .. } = &auth.target else {
        return Err(AppError::NotFound);
    };
    let overview = state
        .store
        .candidate_overview(*id)
        .await?
        .ok_or(AppError::NotFound)?;
    let list = state
        .store
        .reports(&shield_store::ReportFilter {
            candidate: Some(*id),
            ..shield_store::ReportFilter::default()
        })
        .await?;
    let can_report = auth
        .actor
        .delegations
        .get(id)
        .is_some_and(|g| g.contains(&Grant::Report))
        || auth.actor.candidate == Some(*id);
    super::page(
        StatusCode::OK,
        &TheirReportsPage {
            section: "reports",
            candidate_id: id.0,
            name: overview.name,
            can_report,
            rows: super::reports::list::rows(&list, state.clock.now_ms()),
        },
    )
}
