//! Who has enrolled: per force for its named contacts, nationally for coordinators, with a
//! button to send (or re-send) a candidate's invitation.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shield_domain::Role;
use shield_store::accounts::{EnrolmentRow, NewUser, UserStatus};

use crate::auth::csrf::CsrfForm;
use crate::auth::guard::{Authorized, ForceEnrolment, InviteCandidate, Target};
use crate::{AppError, AppState};

#[derive(Debug)]
struct Row {
    candidate_id: i64,
    name: String,
    party: String,
    constituency: String,
    status: &'static str,
    can_invite: bool,
    /// The security plan's readiness score, once enrolled.
    readiness: Option<u8>,
}

#[derive(Debug, Template)]
#[template(path = "enrolment/index.html")]
struct EnrolmentPage {
    section: &'static str,
    csrf: String,
    scope: String,
    rows: Vec<Row>,
    enrolled: usize,
    invited: usize,
    not_invited: usize,
    no_email: usize,
    sent: bool,
}

fn status(row: &EnrolmentRow) -> (&'static str, bool) {
    match (row.status, row.has_email) {
        (Some(UserStatus::Active), _) => ("Enrolled", false),
        (Some(UserStatus::Disabled), _) => ("Account disabled", false),
        (Some(UserStatus::Invited), true) => ("Invited, not yet enrolled", true),
        (Some(UserStatus::Invited), false) | (None, false) => ("No email address", false),
        (None, true) => ("Not invited", true),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Query {
    #[serde(default)]
    sent: Option<String>,
}

pub(crate) async fn index(
    State(state): State<AppState>,
    auth: Authorized<ForceEnrolment>,
    axum::extract::Query(query): axum::extract::Query<Query>,
) -> Result<Response, AppError> {
    let (force, scope) = match &auth.target {
        Target::Force(code) => {
            let name = state
                .store
                .force_summaries(None)
                .await?
                .into_iter()
                .find(|f| f.code == *code)
                .map(|f| f.force_name)
                .ok_or(AppError::NotFound)?;
            (Some(code.clone()), name)
        }
        _ => (None, "every force".to_owned()),
    };
    let rows = state.store.enrolment(force.as_ref()).await?;
    let readiness: std::collections::BTreeMap<i64, u8> = state
        .store
        .standings(force.as_ref())
        .await?
        .into_iter()
        .filter_map(|s| {
            s.standing
                .enrolled_at_ms
                .map(|_| (s.candidate_id.0, s.standing.score))
        })
        .collect();
    let mut page = EnrolmentPage {
        section: "enrolment",
        csrf: auth.session.record.csrf_token.clone(),
        scope,
        rows: Vec::with_capacity(rows.len()),
        enrolled: 0,
        invited: 0,
        not_invited: 0,
        no_email: 0,
        sent: query.sent.is_some(),
    };
    for row in &rows {
        let (label, can_invite) = status(row);
        match label {
            "Enrolled" => page.enrolled += 1,
            "Invited, not yet enrolled" => page.invited += 1,
            "Not invited" => page.not_invited += 1,
            "No email address" => page.no_email += 1,
            _ => {}
        }
        page.rows.push(Row {
            candidate_id: row.candidate_id.0,
            name: row.name.clone(),
            party: row.party.clone(),
            constituency: row.constituency_name.clone(),
            status: label,
            can_invite,
            readiness: readiness.get(&row.candidate_id.0).copied(),
        });
    }
    super::page(StatusCode::OK, &page)
}

#[derive(Debug, Deserialize)]
pub(crate) struct InviteForm {
    csrf: String,
}

pub(crate) async fn invite(
    State(state): State<AppState>,
    auth: Authorized<InviteCandidate>,
    CsrfForm(_): CsrfForm<InviteForm>,
) -> Result<Response, AppError> {
    let Target::Candidate { id, .. } = auth.target else {
        return Err(AppError::NotFound);
    };
    let invitee = state
        .store
        .candidate_invitees(None)
        .await?
        .into_iter()
        .find(|c| c.candidate_id == id)
        .ok_or_else(|| {
            AppError::bad_request(
                "candidate",
                "this candidate has no email address or has already enrolled",
            )
        })?;
    let user = NewUser {
        role: Role::Candidate,
        display_name: invitee.name,
        email: invitee.email,
        candidate_id: Some(id),
        forces: Vec::new(),
    };
    crate::invitations::issue(&state, &user, Some(&auth.actor)).await?;
    Ok(Redirect::to("/enrolment?sent=1").into_response())
}

crate::has_csrf!(InviteForm);
