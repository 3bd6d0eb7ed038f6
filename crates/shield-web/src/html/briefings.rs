//! Security briefings: coordinators (national, or any force's) and a force's contacts (their
//! force) schedule them; candidates register and cancel; registering emails an iCalendar
//! invitation (sealed in its outbox row until the worker sends it) and sets a day-before
//! reminder the worker fires; the organiser records attendance, which completes the plan step.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shield_crypto::Aad;
use shield_domain::policy::{Action, Actor, can};
use shield_domain::{CandidateId, Email, ForceCode, UserId};
use shield_store::{BriefingRecord, NewBriefing, NewOutboxMessage, OutboxParams, RegisterOutcome};

use crate::auth::csrf::CsrfForm;
use crate::auth::guard::{Authorized, Target};
use crate::auth::plan_guard::{
    BriefingGuard, ManageBriefingsGuard, RegisterBriefingGuard, ViewPlanGuard,
};
use crate::html::activities::parse_uk_time;
use crate::html::layout::FieldProblem;
use crate::html::plan::{candidate_query, target_candidate};
use crate::html::reports::{audit_event, when};
use crate::{AppError, AppState};

/// A day, for the reminder.
const DAY_MS: i64 = 24 * 3_600_000;

/// A briefing as a page shows it.
#[derive(Debug)]
pub(crate) struct BriefingView {
    pub id: i64,
    pub title: String,
    pub scope: String,
    pub starts: String,
    pub ends: String,
    pub online_url: String,
    pub venue: String,
    pub description: String,
    pub materials: Vec<String>,
    pub capacity: i64,
    pub registered: i64,
    pub places_left: i64,
    /// The candidate's own state: "registered", "attended", "cancelled" or "".
    pub mine: &'static str,
}

pub(crate) fn view(b: &BriefingRecord, mine: &'static str) -> BriefingView {
    BriefingView {
        id: b.id,
        title: b.title.clone(),
        scope: b
            .force_code
            .clone()
            .unwrap_or_else(|| "National".to_owned()),
        starts: when(b.starts_at_ms),
        ends: when(b.ends_at_ms),
        online_url: b.online_url.clone(),
        venue: b.venue.clone(),
        description: b.description.clone(),
        materials: b.material_links().iter().map(|s| (*s).to_owned()).collect(),
        capacity: b.capacity,
        registered: b.registered,
        places_left: b.places_left(),
        mine,
    }
}

/// The candidate's state on a briefing.
async fn my_states(
    state: &AppState,
    candidate: CandidateId,
) -> Result<Vec<(i64, &'static str)>, AppError> {
    Ok(state
        .store
        .candidate_registrations(candidate)
        .await?
        .into_iter()
        .map(|r| {
            let s = if r.attended {
                "attended"
            } else if r.cancelled_at_ms.is_some() {
                "cancelled"
            } else {
                "registered"
            };
            (r.briefing_id, s)
        })
        .collect())
}

fn forces_of(target: &Target) -> &[ForceCode] {
    match target {
        Target::Candidate { forces, .. } => forces,
        _ => &[],
    }
}

/// Whether a briefing is open to a candidate of these forces.
fn is_for(b: &BriefingRecord, forces: &[ForceCode]) -> bool {
    b.force_code
        .as_deref()
        .is_none_or(|code| forces.iter().any(|f| f.as_str() == code))
}

#[derive(Debug, Template)]
#[template(path = "briefings/index.html")]
struct IndexPage {
    section: &'static str,
    query: String,
    briefings: Vec<BriefingView>,
}

/// `GET /briefings`: upcoming briefings open to the candidate.
pub(crate) async fn index(
    State(state): State<AppState>,
    auth: Authorized<ViewPlanGuard>,
) -> Result<Response, AppError> {
    let id = target_candidate(&auth.target)?;
    let mine = my_states(&state, id).await?;
    let briefings = state
        .store
        .briefings_for(forces_of(&auth.target), state.clock.now_ms())
        .await?
        .iter()
        .map(|b| {
            let m = mine
                .iter()
                .find(|(bid, _)| *bid == b.id)
                .map_or("", |(_, s)| *s);
            view(b, m)
        })
        .collect();
    let page = IndexPage {
        section: "home",
        query: candidate_query(&auth.target, &auth.actor),
        briefings,
    };
    super::page(StatusCode::OK, &page)
}

#[derive(Debug, Template)]
#[template(path = "briefings/show.html")]
struct ShowPage {
    section: &'static str,
    csrf: String,
    query: String,
    b: BriefingView,
    can_register: bool,
    started: bool,
    problems: Vec<FieldProblem>,
    flash: &'static str,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ShowQuery {
    #[serde(default)]
    registered: Option<String>,
    #[serde(default)]
    cancelled: Option<String>,
}

async fn show_page(
    state: &AppState,
    auth_target: &Target,
    actor: &Actor,
    csrf: String,
    briefing: i64,
    problems: Vec<FieldProblem>,
    flash: &'static str,
) -> Result<ShowPage, AppError> {
    let id = target_candidate(auth_target)?;
    let b = state
        .store
        .briefing(briefing)
        .await?
        .filter(|b| is_for(b, forces_of(auth_target)))
        .ok_or(AppError::NotFound)?;
    let mine = my_states(state, id)
        .await?
        .into_iter()
        .find(|(bid, _)| *bid == b.id)
        .map_or("", |(_, s)| s);
    Ok(ShowPage {
        section: "home",
        csrf,
        query: candidate_query(auth_target, actor),
        started: b.starts_at_ms <= state.clock.now_ms(),
        b: view(&b, mine),
        can_register: can(
            actor,
            Action::RegisterForBriefing,
            &auth_target.as_resource(),
            state.clock.now_ms(),
        )
        .is_allowed(),
        problems,
        flash,
    })
}

/// `GET /briefings/{id}`: a briefing's details, materials, and registering.
pub(crate) async fn show(
    State(state): State<AppState>,
    auth: Authorized<ViewPlanGuard>,
    Path(id): Path<i64>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, AppError> {
    let flash = if q.registered.is_some() {
        "registered"
    } else if q.cancelled.is_some() {
        "cancelled"
    } else {
        ""
    };
    let page = show_page(
        &state,
        &auth.target,
        &auth.actor,
        auth.session.record.csrf_token.clone(),
        id,
        Vec::new(),
        flash,
    )
    .await?;
    super::page(StatusCode::OK, &page)
}

/// The calendar invitation for a registration, sealed for its outbox row.
fn sealed_invitation(
    state: &AppState,
    b: &BriefingRecord,
    candidate: CandidateId,
    attendee: &str,
    organizer: &str,
) -> Vec<u8> {
    let mut description = b.description.clone();
    for m in b.material_links() {
        description.push_str("\nMaterials: ");
        description.push_str(m);
    }
    let inv = crate::ical::Invitation {
        event: crate::ical::Event {
            uid: format!("briefing-{}@candidate-shield", b.id),
            start_ms: b.starts_at_ms,
            end_ms: b.ends_at_ms,
            summary: b.title.clone(),
            location: if b.venue.is_empty() {
                "Online".to_owned()
            } else {
                b.venue.clone()
            },
            description,
            cancelled: false,
            sequence: 0,
        },
        organizer: organizer.to_owned(),
        attendee: attendee.to_owned(),
        url: (!b.online_url.is_empty()).then(|| b.online_url.clone()),
    };
    let text = crate::ical::invitation(&inv, state.clock.now_ms());
    shield_crypto::seal_str(
        &state.keys,
        Aad::new(
            shield_jobs::templates::BRIEFING_INVITATION,
            "ics",
            &format!("{}.{}", b.id, candidate.0),
        ),
        &text,
    )
}

/// Registers the candidate; shared with the API. `Err` with a field problem when it cannot.
pub(crate) async fn register(
    state: &AppState,
    actor: &Actor,
    target: &Target,
    briefing: i64,
) -> Result<Result<(), FieldProblem>, AppError> {
    let candidate = target_candidate(target)?;
    let b = state
        .store
        .briefing(briefing)
        .await?
        .filter(|b| is_for(b, forces_of(target)))
        .ok_or(AppError::NotFound)?;
    let now = state.clock.now_ms();
    let organizer = state
        .store
        .user_email(UserId(b.created_by))
        .await?
        .unwrap_or_else(|| "briefings@candidate-shield.invalid".to_owned());
    let email = match state.store.candidate_account(candidate).await? {
        Some((_, address)) => {
            let to = Email::parse(&address).map_err(|e| AppError::Internal(e.message))?;
            let internal = |e: shield_domain::FieldError| AppError::Internal(e.message);
            let params = OutboxParams::new()
                .with_int("briefing", b.id)
                .and_then(|p| p.with_int("candidate", candidate.0))
                .map_err(internal)?;
            Some(
                NewOutboxMessage::email(&to, shield_jobs::templates::BRIEFING_INVITATION, params)
                    .map_err(internal)?
                    .with_secret(sealed_invitation(
                        state, &b, candidate, &address, &organizer,
                    )),
            )
        }
        None => None,
    };
    let remind = Some(b.starts_at_ms - DAY_MS).filter(|t| *t > now);
    let audit = audit_event(state, actor, "briefing_registered", None)?;
    let outcome = state
        .store
        .register_briefing(
            b.id,
            candidate,
            actor.user_id,
            remind,
            email.as_ref(),
            now,
            &audit,
        )
        .await?;
    match outcome {
        RegisterOutcome::Registered => {
            tracing::info!(briefing = b.id, candidate = %candidate, "registered for a briefing");
            state.wake_worker();
            Ok(Ok(()))
        }
        RegisterOutcome::AlreadyRegistered => Ok(Ok(())),
        RegisterOutcome::Full => Ok(Err(FieldProblem::new(
            "register",
            "This briefing is full. Choose another one",
        ))),
        RegisterOutcome::Closed => Ok(Err(FieldProblem::new(
            "register",
            "This briefing has already started",
        ))),
    }
}

/// Cancels the candidate's place; shared with the API.
pub(crate) async fn cancel(
    state: &AppState,
    actor: &Actor,
    target: &Target,
    briefing: i64,
) -> Result<bool, AppError> {
    let candidate = target_candidate(target)?;
    let audit = audit_event(state, actor, "briefing_cancelled", None)?;
    Ok(state
        .store
        .cancel_briefing(briefing, candidate, state.clock.now_ms(), &audit)
        .await?)
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfOnly {
    csrf: String,
}

fn with_query(path: String, query: &str, flag: &str) -> String {
    if query.is_empty() {
        format!("{path}?{flag}")
    } else {
        format!("{path}{query}&{flag}")
    }
}

/// `POST /briefings/{id}/register`.
pub(crate) async fn register_submit(
    State(state): State<AppState>,
    auth: Authorized<RegisterBriefingGuard>,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, AppError> {
    match register(&state, &auth.actor, &auth.target, id).await? {
        Ok(()) => {
            let query = candidate_query(&auth.target, &auth.actor);
            Ok(Redirect::to(&with_query(
                format!("/briefings/{id}"),
                &query,
                "registered=1",
            ))
            .into_response())
        }
        Err(problem) => {
            let page = show_page(
                &state,
                &auth.target,
                &auth.actor,
                auth.session.record.csrf_token.clone(),
                id,
                vec![problem],
                "",
            )
            .await?;
            super::page(StatusCode::CONFLICT, &page)
        }
    }
}

/// `POST /briefings/{id}/cancel`.
pub(crate) async fn cancel_submit(
    State(state): State<AppState>,
    auth: Authorized<RegisterBriefingGuard>,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, AppError> {
    cancel(&state, &auth.actor, &auth.target, id).await?;
    let query = candidate_query(&auth.target, &auth.actor);
    Ok(Redirect::to(&with_query(
        format!("/briefings/{id}"),
        &query,
        "cancelled=1",
    ))
    .into_response())
}

/// The form to schedule a briefing, as text.
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct BriefingForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub online_url: String,
    #[serde(default)]
    pub venue: String,
    #[serde(default)]
    pub starts: String,
    #[serde(default)]
    pub ends: String,
    #[serde(default)]
    pub capacity: String,
    #[serde(default)]
    pub description: String,
    /// Links, one per line.
    #[serde(default)]
    pub materials: String,
}

fn is_web_link(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://"))
        && s.len() <= 2000
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Checks the form; every problem names its field.
pub(crate) fn check_briefing(
    form: &BriefingForm,
    force: Option<ForceCode>,
    by: UserId,
    now_ms: i64,
) -> Result<NewBriefing, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let title = form.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        problems.push(FieldProblem::new(
            "title",
            "Enter a title of 200 characters or fewer",
        ));
    }
    let online_url = form.online_url.trim();
    let venue = form.venue.trim();
    if !online_url.is_empty() && !is_web_link(online_url) {
        problems.push(FieldProblem::new(
            "online_url",
            "Enter the online link as a web address starting https://",
        ));
    }
    if online_url.is_empty() && venue.is_empty() {
        problems.push(FieldProblem::new(
            "venue",
            "Enter a venue, an online link, or both",
        ));
    } else if venue.chars().count() > 500 {
        problems.push(FieldProblem::new(
            "venue",
            "The venue must be 500 characters or fewer",
        ));
    }
    let starts = parse_uk_time(&form.starts);
    let ends = parse_uk_time(&form.ends);
    match starts {
        None => problems.push(FieldProblem::new(
            "starts",
            "Enter when it starts, like 2026-05-07 18:00",
        )),
        Some(s) if s <= now_ms => problems.push(FieldProblem::new(
            "starts",
            "The start must be in the future",
        )),
        _ => {}
    }
    match (starts, ends) {
        (_, None) => problems.push(FieldProblem::new(
            "ends",
            "Enter when it ends, like 2026-05-07 19:00",
        )),
        (Some(s), Some(e)) if e <= s => {
            problems.push(FieldProblem::new("ends", "The end must be after the start"))
        }
        (Some(s), Some(e)) if e - s > 12 * 3_600_000 => problems.push(FieldProblem::new(
            "ends",
            "A briefing must be 12 hours or shorter",
        )),
        _ => {}
    }
    let capacity = form
        .capacity
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (1..=10_000).contains(n));
    if capacity.is_none() {
        problems.push(FieldProblem::new(
            "capacity",
            "Enter how many places there are, as a number from 1 to 10000",
        ));
    }
    if form.description.chars().count() > 5_000 {
        problems.push(FieldProblem::new(
            "description",
            "The description must be 5000 characters or fewer",
        ));
    }
    let materials: Vec<String> = form
        .materials
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if materials.len() > 20 || materials.iter().any(|m| !is_web_link(m)) {
        problems.push(FieldProblem::new(
            "materials",
            "Enter up to 20 links to materials, one per line, each starting https://",
        ));
    }
    match (starts, ends, capacity, problems.is_empty()) {
        (Some(starts_at_ms), Some(ends_at_ms), Some(capacity), true) => Ok(NewBriefing {
            title: title.to_owned(),
            force,
            online_url: online_url.to_owned(),
            venue: venue.to_owned(),
            starts_at_ms,
            ends_at_ms,
            capacity,
            description: form.description.trim().to_owned(),
            materials,
            created_by: by,
        }),
        _ => Err(problems),
    }
}

/// The briefing's scope from an organiser guard's target.
pub(crate) fn scope_of(target: &Target) -> Result<Option<ForceCode>, AppError> {
    match target {
        Target::Force(f) => Ok(Some(f.clone())),
        Target::Service => Ok(None),
        _ => Err(AppError::Forbidden),
    }
}

/// Schedules a checked briefing; shared with the API.
pub(crate) async fn create(
    state: &AppState,
    actor: &Actor,
    briefing: &NewBriefing,
) -> Result<i64, AppError> {
    let audit = audit_event(state, actor, "briefing_created", None)?;
    let id = state
        .store
        .create_briefing(briefing, state.clock.now_ms(), &audit)
        .await?;
    tracing::info!(briefing = id, "briefing scheduled");
    Ok(id)
}

#[derive(Debug, Template)]
#[template(path = "briefings/manage.html")]
struct ManagePage {
    section: &'static str,
    csrf: String,
    query: String,
    scope: String,
    briefings: Vec<BriefingView>,
    form: BriefingForm,
    /// (field, label, hint, value, is a date-time)
    inputs: Vec<(&'static str, &'static str, &'static str, String, bool)>,
    problems: Vec<FieldProblem>,
    created: bool,
}

impl ManagePage {
    fn problem_for(&self, field: &str) -> Option<&str> {
        crate::html::layout::problem_for(&self.problems, field)
    }
}

fn force_query(target: &Target) -> String {
    match target {
        Target::Force(f) => format!("?force={f}"),
        _ => String::new(),
    }
}

async fn manage_page(
    state: &AppState,
    auth: &Authorized<ManageBriefingsGuard>,
    form: BriefingForm,
    problems: Vec<FieldProblem>,
    created: bool,
) -> Result<ManagePage, AppError> {
    let scope = scope_of(&auth.target)?;
    let briefings = state
        .store
        .managed_briefings(scope.as_ref(), state.clock.now_ms())
        .await?
        .iter()
        .map(|b| view(b, ""))
        .collect();
    Ok(ManagePage {
        section: "briefings",
        csrf: auth.session.record.csrf_token.clone(),
        query: force_query(&auth.target),
        scope: scope.map_or_else(|| "National".to_owned(), |f| f.to_string()),
        briefings,
        inputs: vec![
            ("title", "Title", "", form.title.clone(), false),
            (
                "venue",
                "Venue",
                "The address, if in person",
                form.venue.clone(),
                false,
            ),
            (
                "online_url",
                "Online link",
                "If online, the meeting link starting https://",
                form.online_url.clone(),
                false,
            ),
            (
                "starts",
                "Starts",
                "UK time, for example 2026-05-07 18:00",
                form.starts.clone(),
                true,
            ),
            (
                "ends",
                "Ends",
                "UK time, for example 2026-05-07 19:00",
                form.ends.clone(),
                true,
            ),
            (
                "capacity",
                "Places",
                "How many candidates can attend",
                form.capacity.clone(),
                false,
            ),
        ],
        form,
        problems,
        created,
    })
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ManageQuery {
    #[serde(default)]
    created: Option<String>,
}

/// `GET /briefings/manage`: the organiser's briefings and the form to schedule one.
pub(crate) async fn manage(
    State(state): State<AppState>,
    auth: Authorized<ManageBriefingsGuard>,
    Query(q): Query<ManageQuery>,
) -> Result<Response, AppError> {
    let page = manage_page(
        &state,
        &auth,
        BriefingForm::default(),
        Vec::new(),
        q.created.is_some(),
    )
    .await?;
    super::page(StatusCode::OK, &page)
}

/// `POST /briefings/manage`: schedule one (national for coordinators without `?force=`).
pub(crate) async fn manage_create(
    State(state): State<AppState>,
    auth: Authorized<ManageBriefingsGuard>,
    CsrfForm(form): CsrfForm<BriefingForm>,
) -> Result<Response, AppError> {
    let scope = scope_of(&auth.target)?;
    match check_briefing(&form, scope, auth.actor.user_id, state.clock.now_ms()) {
        Ok(new) => {
            create(&state, &auth.actor, &new).await?;
            let query = force_query(&auth.target);
            Ok(
                Redirect::to(&with_query("/briefings/manage".into(), &query, "created=1"))
                    .into_response(),
            )
        }
        Err(problems) => {
            let page = manage_page(&state, &auth, form, problems, false).await?;
            super::page(StatusCode::BAD_REQUEST, &page)
        }
    }
}

#[derive(Debug)]
struct RegistrantRow {
    candidate_id: i64,
    name: String,
    constituency: String,
    registered: String,
    cancelled: bool,
    attended: bool,
}

#[derive(Debug, Template)]
#[template(path = "briefings/attendance.html")]
struct AttendancePage {
    section: &'static str,
    csrf: String,
    b: BriefingView,
    rows: Vec<RegistrantRow>,
    saved: bool,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AttendanceQuery {
    #[serde(default)]
    saved: Option<String>,
}

/// `GET /briefings/{id}/attendance`: who registered, and recording who came.
pub(crate) async fn attendance(
    State(state): State<AppState>,
    auth: Authorized<BriefingGuard>,
    Path(id): Path<i64>,
    Query(q): Query<AttendanceQuery>,
) -> Result<Response, AppError> {
    let b = state.store.briefing(id).await?.ok_or(AppError::NotFound)?;
    let rows = state
        .store
        .registrants(id)
        .await?
        .into_iter()
        .map(|r| RegistrantRow {
            candidate_id: r.candidate_id,
            name: r.name,
            constituency: r.constituency,
            registered: when(r.registered_at_ms),
            cancelled: r.cancelled_at_ms.is_some(),
            attended: r.attended,
        })
        .collect();
    let page = AttendancePage {
        section: "briefings",
        csrf: auth.session.record.csrf_token.clone(),
        b: view(&b, ""),
        rows,
        saved: q.saved.is_some(),
    };
    super::page(StatusCode::OK, &page)
}

#[derive(Debug, Deserialize)]
pub(crate) struct AttendanceForm {
    csrf: String,
    #[serde(default)]
    candidate: String,
    #[serde(default)]
    attended: String,
}

/// Records one candidate's attendance; shared with the API. `false`: not registered.
pub(crate) async fn record(
    state: &AppState,
    actor: &Actor,
    briefing: i64,
    candidate: CandidateId,
    attended: bool,
) -> Result<bool, AppError> {
    let audit = audit_event(state, actor, "briefing_attendance", None)?
        .with_detail("attended", if attended { "yes" } else { "no" })
        .map_err(|e| AppError::Internal(e.message))?;
    Ok(state
        .store
        .record_attendance(briefing, candidate, attended, &audit)
        .await?)
}

/// `POST /briefings/{id}/attendance`: `candidate=ID&attended=yes|no`.
pub(crate) async fn attendance_submit(
    State(state): State<AppState>,
    auth: Authorized<BriefingGuard>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<AttendanceForm>,
) -> Result<Response, AppError> {
    let candidate = form
        .candidate
        .trim()
        .parse::<i64>()
        .map_err(|_| AppError::bad_request("candidate", "Choose a registered candidate"))?;
    let attended = match form.attended.as_str() {
        "yes" => true,
        "no" => false,
        _ => return Err(AppError::bad_request("attended", "Choose yes or no")),
    };
    if !record(&state, &auth.actor, id, CandidateId(candidate), attended).await? {
        return Err(AppError::bad_request(
            "candidate",
            "That candidate is not registered for this briefing",
        ));
    }
    Ok(Redirect::to(&format!("/briefings/{id}/attendance?saved=1")).into_response())
}

crate::has_csrf!(CsrfOnly, BriefingForm, AttendanceForm);
