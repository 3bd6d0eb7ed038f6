//! One campaign activity: its page (for the candidate's side and for the police of the
//! candidate's forces), editing its pre-event checklist after registering it, and cancelling
//! it. A cancelled activity stays listed, marked cancelled, and its feed event carries
//! `STATUS:CANCELLED` so subscribed calendars strike it; every change bumps its `SEQUENCE`.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shield_domain::checkin::ActivityKind;
use shield_domain::policy::{Action, Actor, Resource, can};
use shield_store::ActivityRecord;

use crate::auth::csrf::CsrfForm;
use crate::auth::guard::{Authorized, Target};
use crate::auth::report_guard::{ActivityEditGuard, ActivityGuard};
use crate::html::activities::{ActivityView, CHECKLIST, activity_view, has_checklist, ticked};
use crate::html::reports::audit_event;
use crate::{AppError, AppState};

/// Whether this actor may change the activity (the edit guard's rule, asked for display).
fn may_edit(state: &AppState, actor: &Actor, target: &Target) -> bool {
    match target {
        Target::Candidate { id, forces } => can(
            actor,
            Action::ReportConcern,
            &Resource::Candidate { id: *id, forces },
            state.clock.now_ms(),
        )
        .is_allowed(),
        _ => false,
    }
}

async fn load(state: &AppState, id: i64) -> Result<ActivityRecord, AppError> {
    state.store.activity(id).await?.ok_or(AppError::NotFound)
}

#[derive(Debug, Template)]
#[template(path = "activities/show.html")]
pub(crate) struct ShowPage {
    section: &'static str,
    csrf: String,
    a: ActivityView,
    /// The checklist as the form shows it: (key, label, ticked).
    items: Vec<(&'static str, &'static str, bool)>,
    editable: bool,
    ended: bool,
    notice: &'static str,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ShowQuery {
    #[serde(default)]
    done: Option<String>,
}

/// `GET /activities/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    auth: Authorized<ActivityGuard>,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<ShowQuery>,
) -> Result<Response, AppError> {
    let record = load(&state, id).await?;
    let a = activity_view(&state, &record)?;
    let ticked_keys = record.checklist_items();
    let kind = ActivityKind::parse(&record.kind).unwrap_or(ActivityKind::Other);
    let items = if has_checklist(kind) {
        CHECKLIST
            .iter()
            .map(|(k, label)| (*k, *label, ticked_keys.contains(k)))
            .collect()
    } else {
        Vec::new()
    };
    let page = ShowPage {
        section: "activities",
        csrf: auth.session.record.csrf_token.clone(),
        editable: may_edit(&state, &auth.actor, &auth.target) && !a.cancelled,
        ended: record.ends_at_ms <= state.clock.now_ms(),
        a,
        items,
        notice: match q.done.as_deref() {
            Some("checklist") => "Checklist saved.",
            Some("cancelled") => "Activity cancelled. Your police contacts see it as cancelled.",
            _ => "",
        },
    };
    crate::html::page(StatusCode::OK, &page)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ChecklistForm {
    csrf: String,
    #[serde(default)]
    check_exits: String,
    #[serde(default)]
    check_someone_knows: String,
    #[serde(default)]
    check_police: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfOnly {
    csrf: String,
}

crate::has_csrf!(ChecklistForm, CsrfOnly);

/// What a checklist change did.
pub(crate) enum Changed {
    Done,
    /// The activity is cancelled (or has no checklist): nothing changed.
    Refused(&'static str),
}

/// Replaces the ticked checklist items; shared with the API.
pub(crate) async fn edit_checklist(
    state: &AppState,
    actor: &Actor,
    id: i64,
    exits: &str,
    someone_knows: &str,
    police: &str,
) -> Result<Changed, AppError> {
    let record = load(state, id).await?;
    let kind = ActivityKind::parse(&record.kind).unwrap_or(ActivityKind::Other);
    if !has_checklist(kind) {
        return Ok(Changed::Refused(
            "Only hustings and surgeries have a checklist",
        ));
    }
    let items = ticked(kind, exits, someone_knows, police);
    let audit = audit_event(state, actor, "activity_checklist_changed", None)?;
    if state
        .store
        .set_activity_checklist(id, &items, &audit)
        .await?
    {
        tracing::info!(activity = id, "activity checklist changed");
        Ok(Changed::Done)
    } else {
        Ok(Changed::Refused("This activity is cancelled"))
    }
}

/// Cancels an activity; shared with the API. `false` if it already was.
pub(crate) async fn cancel_activity(
    state: &AppState,
    actor: &Actor,
    id: i64,
) -> Result<bool, AppError> {
    let audit = audit_event(state, actor, "activity_cancelled", None)?;
    let done = state
        .store
        .cancel_activity(id, state.clock.now_ms(), &audit)
        .await?;
    if done {
        tracing::info!(activity = id, "activity cancelled");
    }
    Ok(done)
}

/// `POST /activities/{id}/checklist`.
pub(crate) async fn checklist(
    State(state): State<AppState>,
    auth: Authorized<ActivityEditGuard>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ChecklistForm>,
) -> Result<Response, AppError> {
    match edit_checklist(
        &state,
        &auth.actor,
        id,
        &form.check_exits,
        &form.check_someone_knows,
        &form.check_police,
    )
    .await?
    {
        Changed::Done => {
            Ok(Redirect::to(&format!("/activities/{id}?done=checklist")).into_response())
        }
        Changed::Refused(why) => Err(AppError::bad_request("checklist", why)),
    }
}

/// `POST /activities/{id}/cancel`.
pub(crate) async fn cancel(
    State(state): State<AppState>,
    auth: Authorized<ActivityEditGuard>,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, AppError> {
    cancel_activity(&state, &auth.actor, id).await?;
    Ok(Redirect::to(&format!("/activities/{id}?done=cancelled")).into_response())
}
