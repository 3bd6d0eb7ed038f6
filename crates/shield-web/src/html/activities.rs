//! Campaign activities (journey 6): a candidate (or a delegate granted `Report`) registers
//! what they will be doing, when and where; the police of the candidate's forces see upcoming
//! activities as a list and through a secret, revocable iCalendar feed. The venue is sealed
//! (`activities.place`); a surgery's venue is sensitive until published.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shield_domain::checkin::ActivityKind;
use shield_domain::policy::{Action, Actor, Resource, can};
use shield_domain::{CandidateId, Role};
use shield_store::{ActivityRecord, NewActivity};

use crate::auth::csrf::CsrfForm;
use crate::auth::guard::{Authorized, Target};
use crate::auth::report_guard::{ForceActivitiesGuard, ReportForGuard};
use crate::html::layout::FieldProblem;
use crate::html::reports::{KeySealer, audit_event, open_text, when};
use crate::{AppError, AppState};

/// The pre-event checklist for hustings and surgeries: (key, what the candidate ticks).
pub(crate) const CHECKLIST: [(&str, &str); 3] = [
    ("exits", "I know where the exits are"),
    (
        "someone_knows",
        "Someone not at the event knows where I am and when I will finish",
    ),
    ("police", "I have told the police about it"),
];

/// Whether a kind of activity gets the pre-event checklist.
pub(crate) fn has_checklist(kind: ActivityKind) -> bool {
    matches!(kind, ActivityKind::Hustings | ActivityKind::Surgery)
}

/// An activity as a page shows it.
#[derive(Debug)]
pub(crate) struct ActivityView {
    pub id: i64,
    pub kind: &'static str,
    pub kind_key: &'static str,
    pub candidate: String,
    pub constituency: String,
    pub starts: String,
    pub ends: String,
    pub place: String,
    pub people: i64,
    pub alone: bool,
    /// The checklist with what is ticked (empty for kinds without one).
    pub checklist: Vec<(&'static str, bool)>,
    pub cancelled: bool,
    /// UK date and clock times, for the calendar: "18:00".
    pub start_clock: String,
    pub end_clock: String,
}

pub(crate) fn activity_view(
    state: &AppState,
    a: &ActivityRecord,
) -> Result<ActivityView, AppError> {
    let kind = ActivityKind::parse(&a.kind).unwrap_or(ActivityKind::Other);
    let ticked = a.checklist_items();
    Ok(ActivityView {
        id: a.id,
        kind: kind.label(),
        kind_key: kind.key(),
        candidate: a.candidate_name.clone(),
        constituency: a.constituency.clone(),
        starts: when(a.starts_at_ms),
        ends: when(a.ends_at_ms),
        place: open_text(state, "activities", "place", a.id, &a.sealed_place)?,
        people: a.people,
        alone: a.alone,
        checklist: if has_checklist(kind) {
            CHECKLIST
                .iter()
                .map(|(k, label)| (*label, ticked.contains(k)))
                .collect()
        } else {
            Vec::new()
        },
        cancelled: a.cancelled_at_ms.is_some(),
        start_clock: shield_domain::uktime::clock_time(a.starts_at_ms),
        end_clock: shield_domain::uktime::clock_time(a.ends_at_ms),
    })
}

/// The checklist keys ticked in a form (`yes`, `true` or `on`), for a kind that has one.
pub(crate) fn ticked(
    kind: ActivityKind,
    exits: &str,
    someone_knows: &str,
    police: &str,
) -> Vec<String> {
    if !has_checklist(kind) {
        return Vec::new();
    }
    [
        ("exits", exits),
        ("someone_knows", someone_knows),
        ("police", police),
    ]
    .iter()
    .filter(|(_, v)| matches!(v.trim(), "yes" | "true" | "on"))
    .map(|(k, _)| (*k).to_owned())
    .collect()
}

/// What the form (or the API) sends, as text.
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct ActivityForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub starts: String,
    #[serde(default)]
    pub ends: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub people: String,
    #[serde(default)]
    pub alone: String,
    #[serde(default)]
    pub check_exits: String,
    #[serde(default)]
    pub check_someone_knows: String,
    #[serde(default)]
    pub check_police: String,
}

crate::has_csrf!(ActivityForm);

/// A UK local time, `2026-05-07T18:00` (what `datetime-local` sends) or `2026-05-07 18:00`,
/// as epoch ms.
pub(crate) fn parse_uk_time(value: &str) -> Option<i64> {
    let value = value.trim().replace(' ', "T");
    let local = chrono::NaiveDateTime::parse_from_str(&value, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(&value, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    Some(shield_domain::uktime::from_local(local))
}

/// A checked activity, without who registers it for whom.
#[derive(Debug)]
pub(crate) struct CheckedActivity {
    pub kind: ActivityKind,
    pub starts_at_ms: i64,
    pub ends_at_ms: i64,
    pub place: String,
    pub people: i64,
    pub alone: bool,
    pub checklist: Vec<String>,
}

/// Checks the form; every problem names its field.
pub(crate) fn check_activity(
    form: &ActivityForm,
    now_ms: i64,
) -> Result<CheckedActivity, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let kind = ActivityKind::parse(&form.kind)
        .map_err(|_| problems.push(FieldProblem::new("kind", "Select what you will be doing")))
        .ok();
    let starts = parse_uk_time(&form.starts);
    if starts.is_none() {
        problems.push(FieldProblem::new(
            "starts",
            "Enter when it starts, like 2026-05-07 18:00",
        ));
    }
    let ends = parse_uk_time(&form.ends);
    match (starts, ends) {
        (_, None) => problems.push(FieldProblem::new(
            "ends",
            "Enter when it ends, like 2026-05-07 20:00",
        )),
        (Some(s), Some(e)) if e <= s => {
            problems.push(FieldProblem::new("ends", "The end must be after the start"))
        }
        (Some(s), Some(e)) if e - s > 24 * 3_600_000 => problems.push(FieldProblem::new(
            "ends",
            "An activity must be 24 hours or shorter",
        )),
        (_, Some(e)) if e <= now_ms => {
            problems.push(FieldProblem::new("ends", "The end must be in the future"))
        }
        _ => {}
    }
    let place = form.place.trim();
    if place.is_empty() {
        problems.push(FieldProblem::new(
            "place",
            "Enter the area or the venue, such as the streets or the address",
        ));
    } else if place.chars().count() > 500 {
        problems.push(FieldProblem::new(
            "place",
            "The area or venue must be 500 characters or fewer",
        ));
    }
    let people = form
        .people
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (1..=100_000).contains(n));
    if people.is_none() {
        problems.push(FieldProblem::new(
            "people",
            "Enter how many people will be there, as a number",
        ));
    }
    let alone = match form.alone.trim() {
        "yes" | "true" => Some(true),
        "no" | "false" => Some(false),
        _ => {
            problems.push(FieldProblem::new(
                "alone",
                "Select whether anyone will be on their own",
            ));
            None
        }
    };
    let checklist = kind
        .map(|k| {
            ticked(
                k,
                &form.check_exits,
                &form.check_someone_knows,
                &form.check_police,
            )
        })
        .unwrap_or_default();
    match (kind, starts, ends, people, alone, problems.is_empty()) {
        (Some(kind), Some(starts_at_ms), Some(ends_at_ms), Some(people), Some(alone), true) => {
            Ok(CheckedActivity {
                kind,
                starts_at_ms,
                ends_at_ms,
                place: place.to_owned(),
                people,
                alone,
                checklist,
            })
        }
        _ => Err(problems),
    }
}

/// Registers a checked activity for the guard's candidate; shared with the API.
pub(crate) async fn register(
    state: &AppState,
    actor: &Actor,
    candidate: CandidateId,
    checked: CheckedActivity,
) -> Result<i64, AppError> {
    let now = state.clock.now_ms();
    let new = NewActivity {
        candidate_id: candidate,
        created_by: actor.user_id,
        kind: checked.kind.key().to_owned(),
        starts_at_ms: checked.starts_at_ms,
        ends_at_ms: checked.ends_at_ms,
        place: checked.place,
        people: checked.people,
        alone: checked.alone,
        checklist: checked.checklist,
    };
    let audit = audit_event(state, actor, "activity_registered", None)?;
    let id = state
        .store
        .create_activity(&new, &KeySealer(&state.keys), now, &audit)
        .await?;
    tracing::info!(activity = id, "activity registered");
    Ok(id)
}

fn target_candidate(target: &Target) -> Result<CandidateId, AppError> {
    match target {
        Target::Candidate { id, .. } => Ok(*id),
        _ => Err(AppError::Forbidden),
    }
}

#[derive(Debug)]
pub(crate) struct Choice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Debug, Template)]
#[template(path = "activities/index.html")]
pub(crate) struct IndexPage {
    section: &'static str,
    csrf: String,
    query: String,
    activities: Vec<ActivityView>,
    kinds: Vec<Choice>,
    form: ActivityForm,
    checklist: Vec<(&'static str, &'static str, bool)>,
    problems: Vec<FieldProblem>,
    registered: bool,
}

impl IndexPage {
    fn problem_for(&self, field: &str) -> Option<&str> {
        crate::html::layout::problem_for(&self.problems, field)
    }
}

async fn index_page(
    state: &AppState,
    auth: &Authorized<ReportForGuard>,
    form: ActivityForm,
    problems: Vec<FieldProblem>,
    registered: bool,
) -> Result<IndexPage, AppError> {
    let candidate = target_candidate(&auth.target)?;
    let activities = state
        .store
        .candidate_activities(candidate, state.clock.now_ms(), 100)
        .await?
        .iter()
        .map(|a| activity_view(state, a))
        .collect::<Result<Vec<_>, _>>()?;
    let query = match auth.target {
        Target::Candidate { id, .. } if Some(id) != auth.actor.candidate => {
            format!("?candidate={}", id.0)
        }
        _ => String::new(),
    };
    let kinds = ActivityKind::ALL
        .iter()
        .map(|k| Choice {
            value: k.key(),
            label: k.label(),
            selected: form.kind == k.key(),
        })
        .collect();
    let checklist = CHECKLIST
        .iter()
        .map(|(key, label)| {
            let v = match *key {
                "exits" => &form.check_exits,
                "someone_knows" => &form.check_someone_knows,
                _ => &form.check_police,
            };
            (*key, *label, !v.is_empty())
        })
        .collect();
    Ok(IndexPage {
        section: "activities",
        csrf: auth.session.record.csrf_token.clone(),
        query,
        activities,
        kinds,
        form,
        checklist,
        problems,
        registered,
    })
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct IndexQuery {
    #[serde(default)]
    registered: Option<String>,
}

/// `GET /activities`: the candidate's upcoming activities and the form to register one.
pub(crate) async fn index(
    State(state): State<AppState>,
    auth: Authorized<ReportForGuard>,
    axum::extract::Query(q): axum::extract::Query<IndexQuery>,
) -> Result<Response, AppError> {
    let page = index_page(
        &state,
        &auth,
        ActivityForm::default(),
        Vec::new(),
        q.registered.is_some(),
    )
    .await?;
    crate::html::page(StatusCode::OK, &page)
}

/// `POST /activities`: register one.
pub(crate) async fn create(
    State(state): State<AppState>,
    auth: Authorized<ReportForGuard>,
    CsrfForm(form): CsrfForm<ActivityForm>,
) -> Result<Response, AppError> {
    let candidate = target_candidate(&auth.target)?;
    match check_activity(&form, state.clock.now_ms()) {
        Ok(checked) => {
            register(&state, &auth.actor, candidate, checked).await?;
            let query = match auth.target {
                Target::Candidate { id, .. } if Some(id) != auth.actor.candidate => {
                    format!("?candidate={}&registered=1", id.0)
                }
                _ => "?registered=1".to_owned(),
            };
            Ok(Redirect::to(&format!("/activities{query}")).into_response())
        }
        Err(problems) => {
            let page = index_page(&state, &auth, form, problems, false).await?;
            crate::html::page(StatusCode::BAD_REQUEST, &page)
        }
    }
}

/// The forces whose activities a guard's target covers: one, or `None` for all.
fn target_force(target: &Target) -> Result<Option<&shield_domain::ForceCode>, AppError> {
    match target {
        Target::Force(f) => Ok(Some(f)),
        Target::Service => Ok(None),
        _ => Err(AppError::Forbidden),
    }
}

#[derive(Debug, Template)]
#[template(path = "activities/force.html")]
pub(crate) struct ForcePage {
    section: &'static str,
    force: String,
    /// `?force=CODE` for the month view link, or empty.
    query: String,
    activities: Vec<ActivityView>,
}

/// `GET /activities/force?force=CODE`: upcoming activities of a force's candidates, soonest
/// first (coordinators without `force`: all).
pub(crate) async fn force(
    State(state): State<AppState>,
    auth: Authorized<ForceActivitiesGuard>,
) -> Result<Response, AppError> {
    let force = target_force(&auth.target)?;
    let activities = state
        .store
        .force_activities(force, state.clock.now_ms(), 500)
        .await?
        .iter()
        .map(|a| activity_view(&state, a))
        .collect::<Result<Vec<_>, _>>()?;
    let page = ForcePage {
        section: "activities",
        force: force.map_or_else(|| "All forces".to_owned(), |f| f.to_string()),
        query: force.map(|f| format!("?force={f}")).unwrap_or_default(),
        activities,
    };
    crate::html::page(StatusCode::OK, &page)
}

#[derive(Debug, Template)]
#[template(path = "activities/calendar.html")]
pub(crate) struct CalendarPage {
    section: &'static str,
    csrf: String,
    /// When the current feed address was made.
    created: Option<String>,
    /// A just-made address, shown once.
    url: Option<String>,
    revoked: bool,
}

async fn calendar_page(
    state: &AppState,
    auth: &Authorized<ForceActivitiesGuard>,
    url: Option<String>,
    revoked: bool,
) -> Result<Response, AppError> {
    let created = state
        .store
        .calendar_token_created(auth.actor.user_id)
        .await?
        .map(when);
    let page = CalendarPage {
        section: "activities",
        csrf: auth.session.record.csrf_token.clone(),
        created,
        url,
        revoked,
    };
    crate::html::page(StatusCode::OK, &page)
}

/// `GET /calendar`: whether one has a feed address; make, replace or revoke it.
pub(crate) async fn calendar(
    State(state): State<AppState>,
    auth: Authorized<ForceActivitiesGuard>,
) -> Result<Response, AppError> {
    calendar_page(&state, &auth, None, false).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfOnly {
    csrf: String,
}

crate::has_csrf!(CsrfOnly);

/// Makes (or replaces) the actor's feed token; returns its path.
pub(crate) async fn new_calendar_token(
    state: &AppState,
    actor: &Actor,
) -> Result<String, AppError> {
    let token = crate::auth::token::new_token();
    let audit = audit_event(state, actor, "calendar_token_created", None)?;
    state
        .store
        .set_calendar_token(
            actor.user_id,
            &crate::auth::token::hash(&token),
            state.clock.now_ms(),
            &audit,
        )
        .await?;
    Ok(format!("/calendar/{token}.ics"))
}

/// `POST /calendar`: a new secret address (the old one stops working).
pub(crate) async fn calendar_create(
    State(state): State<AppState>,
    auth: Authorized<ForceActivitiesGuard>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, AppError> {
    let path = new_calendar_token(&state, &auth.actor).await?;
    calendar_page(&state, &auth, Some(path), false).await
}

/// `POST /calendar/revoke`: the address stops working.
pub(crate) async fn calendar_revoke(
    State(state): State<AppState>,
    auth: Authorized<ForceActivitiesGuard>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, AppError> {
    let audit = audit_event(&state, &auth.actor, "calendar_token_revoked", None)?;
    let revoked = state
        .store
        .revoke_calendar_token(auth.actor.user_id, &audit)
        .await?;
    calendar_page(&state, &auth, None, revoked).await
}

/// `GET /calendar/{token}.ics`: the feed. The token is the credential: an unknown, revoked or
/// malformed one, or one whose holder may no longer see any force's activities, is a 404.
pub(crate) async fn feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let token = file.strip_suffix(".ics").ok_or(AppError::NotFound)?;
    if token.len() != 43 {
        return Err(AppError::NotFound);
    }
    let user = state
        .store
        .calendar_token_user(&crate::auth::token::hash(token))
        .await?
        .ok_or(AppError::NotFound)?;
    let now = state.clock.now_ms();
    let actor = state
        .store
        .actor(user, now)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut records: Vec<ActivityRecord> = match actor.role {
        Role::Coordinator
            if can(&actor, Action::ViewForceActivities, &Resource::Service, now).is_allowed() =>
        {
            state.store.force_activities(None, now, 1000).await?
        }
        Role::ForceContact => {
            let mut all = Vec::new();
            for f in &actor.forces {
                if can(
                    &actor,
                    Action::ViewForceActivities,
                    &Resource::Force(f),
                    now,
                )
                .is_allowed()
                {
                    all.extend(state.store.force_activities(Some(f), now, 1000).await?);
                }
            }
            all
        }
        _ => return Err(AppError::NotFound),
    };
    records.sort_by_key(|a| (a.starts_at_ms, a.id));
    records.dedup_by_key(|a| a.id);
    let mut events = Vec::new();
    for a in &records {
        let v = activity_view(&state, a)?;
        let mut description = format!(
            "{} ({}), {}.\nPeople: {}. Anyone alone: {}.",
            v.candidate,
            v.constituency,
            v.kind,
            v.people,
            if v.alone { "yes" } else { "no" }
        );
        for (label, ticked) in &v.checklist {
            description.push_str(&format!(
                "\n{} {label}",
                if *ticked { "[x]" } else { "[ ]" }
            ));
        }
        events.push(crate::ical::Event {
            uid: format!("activity-{}@candidate-shield", a.id),
            start_ms: a.starts_at_ms,
            end_ms: a.ends_at_ms,
            summary: format!(
                "{}{}: {}",
                if v.cancelled { "Cancelled: " } else { "" },
                v.kind,
                v.candidate
            ),
            location: v.place,
            description,
            cancelled: v.cancelled,
            sequence: a.revision,
        });
    }
    let body = crate::ical::calendar("Candidate Shield activities", &events, now);
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
