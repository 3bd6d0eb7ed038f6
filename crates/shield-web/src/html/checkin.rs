//! Lone-working check-ins (journey 6): start a session, one big "I'm safe" button, end it with
//! a PIN, a panic button. Every action is a plain POST form, so it all works without
//! JavaScript. Ending with the duress PIN shows exactly the page a normal end shows and raises
//! a silent P1 alarm in the same transaction.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shield_domain::checkin::{ActivityKind, AlarmReason, INTERVALS_MIN, MINUTE_MS};
use shield_domain::policy::Actor;
use shield_store::{CheckinRecord, CheckinStatus, EndKind, NewCheckin, PinHashes, WrongPin};

use crate::auth::csrf::CsrfForm;
use crate::auth::guard::{Authorized, Target};
use crate::auth::password;
use crate::auth::report_guard::{CheckinGuard, ReportForGuard};
use crate::html::layout::FieldProblem;
use crate::html::reports::{KeySealer, audit_event, open_text, when};
use crate::{AppError, AppState};

/// The session lengths offered, in hours.
const HOURS: [i64; 7] = [1, 2, 3, 4, 6, 8, 12];

#[derive(Debug)]
pub(crate) struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// A session as the candidate's side sees it. A duress end reads as a normal end.
#[derive(Debug)]
pub(crate) struct SessionView {
    id: i64,
    kind: &'static str,
    place: String,
    active: bool,
    status: &'static str,
    next_due: String,
    /// The next check-in as a UK clock time ("18:45"), shown large.
    next_due_clock: String,
    ends: String,
    last_safe: String,
    every_min: i64,
}

pub(crate) fn session_view(state: &AppState, s: &CheckinRecord) -> Result<SessionView, AppError> {
    let place = open_text(state, "checkin_sessions", "place", s.id, &s.sealed_place)?;
    let status = match (s.status, s.alarm) {
        (CheckinStatus::Active, _) => "Active",
        (CheckinStatus::Ended, _) | (CheckinStatus::Alarm, Some(AlarmReason::Duress)) => "Ended",
        (CheckinStatus::Alarm, Some(AlarmReason::PinGuesses)) => {
            "Alarm raised: too many wrong PINs. Your police contact has been alerted"
        }
        (CheckinStatus::Alarm, _) => "Alarm raised: your police contact has been alerted",
    };
    Ok(SessionView {
        id: s.id,
        kind: ActivityKind::parse(&s.kind).map_or("Something else", |k| k.label()),
        place,
        active: s.status == CheckinStatus::Active,
        status,
        next_due: when(s.next_due_at_ms),
        next_due_clock: shield_domain::uktime::clock_time(s.next_due_at_ms),
        ends: when(s.ends_at_ms),
        last_safe: when(s.last_safe_at_ms),
        every_min: s.interval_ms / MINUTE_MS,
    })
}

fn candidate_param(auth_target: &Target, actor: &Actor) -> Option<i64> {
    match auth_target {
        Target::Candidate { id, .. } if Some(*id) != actor.candidate => Some(id.0),
        _ => None,
    }
}

fn target_candidate(target: &Target) -> Result<shield_domain::CandidateId, AppError> {
    match target {
        Target::Candidate { id, .. } => Ok(*id),
        _ => Err(AppError::Forbidden),
    }
}

#[derive(Debug, Template)]
#[template(path = "checkin/index.html")]
pub(crate) struct IndexPage {
    section: &'static str,
    csrf: String,
    /// `?candidate=ID` for a delegate.
    query: String,
    has_pins: bool,
    active: Vec<SessionView>,
    kinds: Vec<Choice>,
    intervals: Vec<Choice>,
    hours: Vec<Choice>,
    place: String,
    /// The optional buddy for this session only, as typed.
    session_buddy: (String, String, String),
    problems: Vec<FieldProblem>,
    /// The candidate themself (not a delegate): they may name a buddy.
    own: bool,
    has_buddy: bool,
    /// "saved" or "removed" after the buddy page.
    buddy_notice: String,
}

impl IndexPage {
    fn problem_for(&self, field: &str) -> Option<&str> {
        crate::html::layout::problem_for(&self.problems, field)
    }
}

fn choices<T: ToString + PartialEq>(
    items: impl IntoIterator<Item = (T, String)>,
    selected: &T,
) -> Vec<Choice> {
    items
        .into_iter()
        .map(|(v, label)| Choice {
            selected: &v == selected,
            value: v.to_string(),
            label,
        })
        .collect()
}

async fn index_page(
    state: &AppState,
    auth: &Authorized<ReportForGuard>,
    form: &StartForm,
    problems: Vec<FieldProblem>,
) -> Result<IndexPage, AppError> {
    let candidate = target_candidate(&auth.target)?;
    let own = auth.actor.candidate == Some(candidate);
    let has_buddy = own && state.store.checkin_buddy(candidate).await?.is_some();
    let has_pins = state
        .store
        .checkin_pins(auth.actor.user_id)
        .await?
        .is_some();
    let active = state
        .store
        .checkin_sessions(candidate, 20)
        .await?
        .iter()
        .filter(|s| s.status == CheckinStatus::Active)
        .map(|s| session_view(state, s))
        .collect::<Result<Vec<_>, _>>()?;
    let query = candidate_param(&auth.target, &auth.actor)
        .map(|c| format!("?candidate={c}"))
        .unwrap_or_default();
    Ok(IndexPage {
        section: "checkin",
        csrf: auth.session.record.csrf_token.clone(),
        query,
        has_pins,
        active,
        kinds: choices(
            ActivityKind::ALL.map(|k| (k.key().to_owned(), k.label().to_owned())),
            &form.kind,
        ),
        intervals: choices(
            INTERVALS_MIN.map(|m| (m.to_string(), format!("Every {m} minutes"))),
            &form.interval,
        ),
        hours: choices(
            HOURS.map(|h| {
                (
                    h.to_string(),
                    format!("{h} hour{}", if h == 1 { "" } else { "s" }),
                )
            }),
            &form.hours,
        ),
        place: form.place.clone(),
        session_buddy: (
            form.session_buddy_name.clone(),
            form.session_buddy_email.clone(),
            form.session_buddy_phone.clone(),
        ),
        problems,
        own,
        has_buddy,
        buddy_notice: String::new(),
    })
}

/// `GET /check-in`: set PINs first; then start a session, see live ones, the panic button.
pub(crate) async fn index(
    State(state): State<AppState>,
    auth: Authorized<ReportForGuard>,
    axum::extract::Query(prefill): axum::extract::Query<Prefill>,
) -> Result<Response, AppError> {
    let mut form = StartForm {
        interval: "30".into(),
        hours: "2".into(),
        kind: "canvassing".into(),
        ..StartForm::default()
    };
    // `?activity=ID`: start a session for one of this candidate's registered activities.
    if let Some(id) = prefill.activity
        && let Some(a) = state.store.activity(id).await?
        && a.candidate_id == target_candidate(&auth.target)?.0
    {
        form.kind = a.kind.clone();
        form.place = open_text(&state, "activities", "place", a.id, &a.sealed_place)?;
    }
    let mut page = index_page(&state, &auth, &form, Vec::new()).await?;
    page.buddy_notice = match prefill.buddy.as_deref() {
        Some("saved") => "Your buddy is saved.".to_owned(),
        Some("removed") => "Your buddy is removed.".to_owned(),
        _ => String::new(),
    };
    crate::html::page(StatusCode::OK, &page)
}

/// What `GET /check-in` may be asked to fill in.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Prefill {
    #[serde(default)]
    activity: Option<i64>,
    #[serde(default)]
    buddy: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct StartForm {
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    interval: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    session_buddy_name: String,
    #[serde(default)]
    session_buddy_email: String,
    #[serde(default)]
    session_buddy_phone: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PinForm {
    csrf: String,
    #[serde(default)]
    pin: String,
    #[serde(default)]
    duress: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct EndForm {
    csrf: String,
    #[serde(default)]
    pin: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PanicForm {
    csrf: String,
    #[serde(default)]
    session: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfOnly {
    csrf: String,
}

crate::has_csrf!(StartForm, PinForm, EndForm, PanicForm, CsrfOnly);

/// What a start asks for, checked: `(kind, place, interval, length)`.
pub(crate) fn check_start(
    kind: &str,
    place: &str,
    interval_min: i64,
    hours: i64,
) -> Result<(ActivityKind, String, i64, i64), Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let kind = ActivityKind::parse(kind)
        .map_err(|e| problems.push(FieldProblem::new("kind", e.message)))
        .ok();
    let place = place.trim();
    if place.is_empty() {
        problems.push(FieldProblem::new(
            "place",
            "Enter where you will be, such as the streets or the venue",
        ));
    } else if place.chars().count() > 500 {
        problems.push(FieldProblem::new(
            "place",
            "Where you will be must be 500 characters or fewer",
        ));
    }
    let interval = shield_domain::checkin::interval_ms(interval_min)
        .map_err(|e| problems.push(FieldProblem::new("interval", e.message)))
        .ok();
    let length = hours * 60 * MINUTE_MS;
    if !(1..=shield_domain::checkin::MAX_SESSION_MS / (60 * MINUTE_MS)).contains(&hours) {
        problems.push(FieldProblem::new(
            "hours",
            "Select how long you will be out",
        ));
    }
    match (kind, interval, problems.is_empty()) {
        (Some(k), Some(i), true) => Ok((k, place.to_owned(), i, length)),
        _ => Err(problems),
    }
}

/// An optional buddy for one session (someone with the candidate today): nothing typed is
/// none; anything typed must be a whole, valid buddy. Problems name `session_buddy_*` fields.
pub(crate) fn check_session_buddy(
    name: &str,
    email: &str,
    phone: &str,
) -> Result<Option<shield_domain::checkin::Buddy>, Vec<FieldProblem>> {
    if [name, email, phone].iter().all(|v| v.trim().is_empty()) {
        return Ok(None);
    }
    shield_domain::checkin::check_buddy(name, email, phone)
        .map(Some)
        .map_err(|problems| {
            problems
                .into_iter()
                .map(|(field, e)| {
                    let field = match field {
                        "buddy_name" => "session_buddy_name",
                        "buddy_email" => "session_buddy_email",
                        _ => "session_buddy_phone",
                    };
                    FieldProblem::new(field, e.message)
                })
                .collect()
        })
}

/// Starts a session for the guard's candidate; shared with the API. `None` if the person has
/// not set their PINs yet.
pub(crate) async fn start_session(
    state: &AppState,
    actor: &Actor,
    candidate: shield_domain::CandidateId,
    checked: (ActivityKind, String, i64, i64),
    buddy: Option<shield_domain::checkin::Buddy>,
) -> Result<Option<i64>, AppError> {
    if state.store.checkin_pins(actor.user_id).await?.is_none() {
        return Ok(None);
    }
    let (kind, place, interval_ms, length_ms) = checked;
    let now = state.clock.now_ms();
    let new = NewCheckin {
        candidate_id: candidate,
        started_by: actor.user_id,
        kind: kind.key().to_owned(),
        place,
        interval_ms,
        ends_at_ms: now + length_ms,
        buddy,
    };
    let audit = audit_event(state, actor, "checkin_started", None)?;
    let id = state
        .store
        .start_checkin(&new, &KeySealer(&state.keys), now, &audit)
        .await?;
    tracing::info!(checkin = id, "check-in session started");
    Ok(Some(id))
}

/// `POST /check-in`: start a session.
pub(crate) async fn start(
    State(state): State<AppState>,
    auth: Authorized<ReportForGuard>,
    CsrfForm(form): CsrfForm<StartForm>,
) -> Result<Response, AppError> {
    let candidate = target_candidate(&auth.target)?;
    let checked = check_start(
        &form.kind,
        &form.place,
        form.interval.parse().unwrap_or(0),
        form.hours.parse().unwrap_or(0),
    );
    let buddy = check_session_buddy(
        &form.session_buddy_name,
        &form.session_buddy_email,
        &form.session_buddy_phone,
    );
    let (checked, buddy) = match (checked, buddy) {
        (Ok(c), Ok(b)) => (c, b),
        (checked, buddy) => {
            let mut problems = checked.err().unwrap_or_default();
            problems.extend(buddy.err().unwrap_or_default());
            let page = index_page(&state, &auth, &form, problems).await?;
            return crate::html::page(StatusCode::BAD_REQUEST, &page);
        }
    };
    match start_session(&state, &auth.actor, candidate, checked, buddy).await? {
        Some(id) => Ok(Redirect::to(&format!("/check-in/{id}")).into_response()),
        None => {
            let problems = vec![FieldProblem::new("pin", "Set your PINs first")];
            let page = index_page(&state, &auth, &form, problems).await?;
            crate::html::page(StatusCode::BAD_REQUEST, &page)
        }
    }
}

/// Checks a new PIN pair; returns the hashes.
pub(crate) fn check_pins(pin: &str, duress: &str) -> Result<PinHashes, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    if let Err(e) = shield_domain::checkin::check_pin(pin) {
        problems.push(FieldProblem::new("pin", e.message));
    }
    if let Err(e) = shield_domain::checkin::check_pin(duress) {
        problems.push(FieldProblem::new("duress", e.message));
    } else if pin == duress {
        problems.push(FieldProblem::new(
            "duress",
            "Your duress PIN must be different from your PIN",
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let hash = |p: &str| password::hash(p);
    match (hash(pin), hash(duress)) {
        (Ok(pin_phc), Ok(duress_phc)) => Ok(PinHashes {
            pin_phc,
            duress_phc,
        }),
        _ => Err(vec![FieldProblem::new("pin", "The PIN could not be saved")]),
    }
}

/// `POST /check-in/pins`: set (or change) one's PIN and duress PIN.
pub(crate) async fn set_pins(
    State(state): State<AppState>,
    auth: Authorized<ReportForGuard>,
    CsrfForm(form): CsrfForm<PinForm>,
) -> Result<Response, AppError> {
    let pins = match check_pins(&form.pin, &form.duress) {
        Ok(p) => p,
        Err(problems) => {
            let start = StartForm {
                interval: "30".into(),
                hours: "2".into(),
                ..StartForm::default()
            };
            let page = index_page(&state, &auth, &start, problems).await?;
            return crate::html::page(StatusCode::BAD_REQUEST, &page);
        }
    };
    let audit = audit_event(&state, &auth.actor, "checkin_pins_set", None)?;
    state
        .store
        .set_checkin_pins(auth.actor.user_id, &pins, state.clock.now_ms(), &audit)
        .await?;
    let query = candidate_param(&auth.target, &auth.actor)
        .map(|c| format!("?candidate={c}"))
        .unwrap_or_default();
    Ok(Redirect::to(&format!("/check-in{query}")).into_response())
}

#[derive(Debug, Template)]
#[template(path = "checkin/show.html")]
pub(crate) struct ShowPage {
    section: &'static str,
    csrf: String,
    session: SessionView,
    problems: Vec<FieldProblem>,
}

impl ShowPage {
    fn problem_for(&self, field: &str) -> Option<&str> {
        crate::html::layout::problem_for(&self.problems, field)
    }
}

async fn show_page(
    state: &AppState,
    auth: &Authorized<CheckinGuard>,
    id: i64,
    problems: Vec<FieldProblem>,
) -> Result<ShowPage, AppError> {
    let session = state
        .store
        .checkin_session(id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(ShowPage {
        section: "checkin",
        csrf: auth.session.record.csrf_token.clone(),
        session: session_view(state, &session)?,
        problems,
    })
}

/// `GET /check-in/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    auth: Authorized<CheckinGuard>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let page = show_page(&state, &auth, id, Vec::new()).await?;
    crate::html::page(StatusCode::OK, &page)
}

/// `POST /check-in/{id}/safe`: "I'm safe" pushes the next check-in one interval on.
pub(crate) async fn safe(
    State(state): State<AppState>,
    auth: Authorized<CheckinGuard>,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, AppError> {
    let audit = audit_event(&state, &auth.actor, "checkin_safe", None)?;
    state
        .store
        .check_in_safe(id, state.clock.now_ms(), &audit)
        .await?;
    Ok(Redirect::to(&format!("/check-in/{id}?safe=1")).into_response())
}

/// Which PIN was entered: `Some(Normal)`, `Some(Duress)` or `None` (neither). Both hashes are
/// always checked, so the time taken does not tell which one matched.
pub(crate) async fn which_pin(
    state: &AppState,
    actor: &Actor,
    pin: &str,
) -> Result<Option<EndKind>, AppError> {
    let Some(pins) = state.store.checkin_pins(actor.user_id).await? else {
        return Ok(None);
    };
    let pin = pin.trim().to_owned();
    let (normal, duress) = tokio::task::spawn_blocking(move || {
        (
            password::verify(&pin, &pins.pin_phc),
            password::verify(&pin, &pins.duress_phc),
        )
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(match (normal, duress) {
        (true, _) => Some(EndKind::Normal),
        (false, true) => Some(EndKind::Duress),
        _ => None,
    })
}

#[derive(Debug, Template)]
#[template(path = "checkin/ended.html")]
pub(crate) struct EndedPage {
    section: &'static str,
}

/// What a PIN did to a session: ended it (either PIN), or counted against it.
pub(crate) enum PinOutcome {
    Ended,
    /// Wrong; this many tries left.
    Wrong(i64),
    /// Wrong, and the last try: an alarm is raised and the session takes no more PINs.
    LockedOut,
    /// The session is not active (ended, or an alarm was raised): no PIN is checked.
    Inactive,
}

/// Checks a PIN against an active session and acts on it, in one place for the page and the
/// API. Wrong PINs are counted in the database per session, in the transaction that records
/// them; the [`shield_domain::checkin::MAX_PIN_FAILURES`]th raises an alarm.
pub(crate) async fn end_with_pin(
    state: &AppState,
    actor: &Actor,
    id: i64,
    pin: &str,
) -> Result<PinOutcome, AppError> {
    let session = state
        .store
        .checkin_session(id)
        .await?
        .ok_or(AppError::NotFound)?;
    if session.status != CheckinStatus::Active {
        return Ok(PinOutcome::Inactive);
    }
    let Some(how) = which_pin(state, actor, pin).await? else {
        let audit = audit_event(state, actor, "checkin_pin_wrong", None)?;
        let counted = state
            .store
            .wrong_pin(id, &KeySealer(&state.keys), state.clock.now_ms(), &audit)
            .await?;
        return Ok(match counted {
            WrongPin::Inactive => PinOutcome::Inactive,
            WrongPin::Counted { left } => PinOutcome::Wrong(left),
            WrongPin::Alarm(created) => {
                state.wake_worker();
                tracing::warn!(
                    checkin = id,
                    report = created.id,
                    "too many wrong PINs: alarm raised"
                );
                PinOutcome::LockedOut
            }
        });
    };
    // The same audit action either way: the trail does not give a duress end away either.
    let audit = audit_event(state, actor, "checkin_ended", None)?;
    let ended = state
        .store
        .end_checkin(
            id,
            how,
            &KeySealer(&state.keys),
            state.clock.now_ms(),
            &audit,
        )
        .await?;
    if !ended {
        return Ok(PinOutcome::Inactive);
    }
    if how == EndKind::Duress {
        state.wake_worker();
    }
    tracing::info!(checkin = id, "check-in session closed");
    Ok(PinOutcome::Ended)
}

/// `POST /check-in/{id}/end`: with the PIN, ends it; with the duress PIN, shows the very same
/// page and raises a silent P1. A wrong PIN says how many tries are left; the last raises an
/// alarm.
pub(crate) async fn end(
    State(state): State<AppState>,
    auth: Authorized<CheckinGuard>,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<EndForm>,
) -> Result<Response, AppError> {
    let problem = match end_with_pin(&state, &auth.actor, id, &form.pin).await? {
        PinOutcome::Ended => {
            return crate::html::page(StatusCode::OK, &EndedPage { section: "checkin" });
        }
        PinOutcome::Wrong(left) => format!(
            "That PIN is not right. Try again: {left} {} left.",
            if left == 1 { "try" } else { "tries" }
        ),
        PinOutcome::LockedOut => {
            "That PIN is not right, too many times. This session no longer takes a PIN, and your police contact has been alerted.".to_owned()
        }
        PinOutcome::Inactive => "This session is no longer active.".to_owned(),
    };
    let mut problem = FieldProblem::new("pin", problem);
    // Only an active session shows the PIN field to link to.
    problem.linked = state
        .store
        .checkin_session(id)
        .await?
        .is_some_and(|s| s.status == CheckinStatus::Active);
    let page = show_page(&state, &auth, id, vec![problem]).await?;
    crate::html::page(StatusCode::BAD_REQUEST, &page)
}

#[derive(Debug, Template)]
#[template(path = "checkin/panic.html")]
pub(crate) struct PanicPage {
    section: &'static str,
    reference: String,
}

/// Raises a panic alarm for the guard's candidate; shared with the API.
pub(crate) async fn raise_panic(
    state: &AppState,
    actor: &Actor,
    candidate: shield_domain::CandidateId,
    session: Option<i64>,
) -> Result<shield_store::CreatedReport, AppError> {
    let audit = audit_event(state, actor, "checkin_panic", None)?;
    let created = state
        .store
        .raise_panic(
            candidate,
            actor.user_id,
            session,
            &KeySealer(&state.keys),
            state.clock.now_ms(),
            &audit,
        )
        .await?;
    state.wake_worker();
    tracing::warn!(report = created.id, "panic alarm raised");
    Ok(created)
}

/// `POST /check-in/panic`: a P1 at once.
pub(crate) async fn panic(
    State(state): State<AppState>,
    auth: Authorized<ReportForGuard>,
    CsrfForm(form): CsrfForm<PanicForm>,
) -> Result<Response, AppError> {
    let candidate = target_candidate(&auth.target)?;
    let session = form.session.trim().parse::<i64>().ok();
    let created = raise_panic(&state, &auth.actor, candidate, session).await?;
    let page = PanicPage {
        section: "checkin",
        reference: created.reference,
    };
    crate::html::page(StatusCode::OK, &page)
}
