//! Outreach to unprepared candidates: per force (its contacts) and nationally (coordinators),
//! the candidates not enrolled, not ready (readiness under a threshold) or not briefed,
//! filterable; bulk reminders through the outbox within limits; and the record of who was
//! reminded and who then acted.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use shield_domain::plan::{NudgeKind, NudgeLimits};
use shield_domain::policy::Actor;
use shield_domain::{Email, ForceCode, Role};
use shield_store::accounts::NewUser;
use shield_store::{CandidateStanding, NewNudge, NewOutboxMessage, NudgeOutcome, OutboxParams};

use crate::auth::csrf::CsrfForm;
use crate::auth::guard::{Authorized, Target};
use crate::auth::plan_guard::OutreachGuard;
use crate::html::reports::{audit_event, when};
use crate::{AppError, AppState};

/// The default "not ready" threshold: under half the plan done.
pub(crate) const DEFAULT_THRESHOLD: u8 = 50;

/// What the lists are filtered by.
#[derive(Debug, Clone, Deserialize, Default)]
pub(crate) struct Filter {
    #[serde(default)]
    pub list: String,
    #[serde(default)]
    pub threshold: Option<String>,
    /// Part of a name, party or constituency.
    #[serde(default)]
    pub q: String,
}

/// A checked filter.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub kind: NudgeKind,
    pub threshold: u8,
    pub q: String,
}

pub(crate) fn check_filter(f: &Filter) -> Result<Checked, AppError> {
    let kind = if f.list.is_empty() {
        NudgeKind::NotEnrolled
    } else {
        NudgeKind::parse(&f.list)
            .ok()
            .filter(|k| NudgeKind::LISTS.contains(k))
            .ok_or_else(|| {
                AppError::bad_request("list", "Choose not_enrolled, not_ready or not_briefed")
            })?
    };
    let threshold = match f.threshold.as_deref().map(str::trim) {
        None | Some("") => DEFAULT_THRESHOLD,
        Some(t) => t
            .parse::<u8>()
            .ok()
            .filter(|t| (1..=100).contains(t))
            .ok_or_else(|| AppError::bad_request("threshold", "Enter a threshold from 1 to 100"))?,
    };
    Ok(Checked {
        kind,
        threshold,
        q: f.q.trim().to_lowercase(),
    })
}

pub(crate) fn scope_of(target: &Target) -> Result<Option<ForceCode>, AppError> {
    match target {
        Target::Force(f) => Ok(Some(f.clone())),
        Target::Service => Ok(None),
        _ => Err(AppError::Forbidden),
    }
}

/// The candidates on a list, in the force's scope.
pub(crate) fn on_list<'a>(
    all: &'a [CandidateStanding],
    filter: &Checked,
) -> Vec<&'a CandidateStanding> {
    all.iter()
        .filter(|c| c.standing.on_list(filter.kind, filter.threshold))
        .filter(|c| {
            filter.q.is_empty()
                || c.name.to_lowercase().contains(&filter.q)
                || c.party.to_lowercase().contains(&filter.q)
                || c.constituency.to_lowercase().contains(&filter.q)
        })
        .collect()
}

/// What a bulk send came to, with those who could not be reached.
#[derive(Debug, Default)]
pub(crate) struct SendResult {
    pub outcome: NudgeOutcome,
    pub no_email: usize,
}

/// Sends reminders to everyone on the filtered list; shared with the API.
pub(crate) async fn send(
    state: &AppState,
    actor: &Actor,
    target: &Target,
    filter: &Checked,
) -> Result<SendResult, AppError> {
    let scope = scope_of(target)?;
    let all = state.store.standings(scope.as_ref()).await?;
    let list = on_list(&all, filter);
    let internal = |e: shield_domain::FieldError| AppError::Internal(e.message);
    let mut nudges = Vec::new();
    let mut no_email = 0;
    // For the not-enrolled: (candidate, name, address) to invite once the record commits.
    let mut invite = Vec::new();
    for c in list {
        let address = match filter.kind {
            NudgeKind::NotEnrolled => c
                .list_email
                .clone()
                .or_else(|| c.user.as_ref().map(|(_, e)| e.clone())),
            _ => c.user.as_ref().map(|(_, e)| e.clone()),
        };
        let Some(to) = address.and_then(|a| Email::parse(&a).ok()) else {
            no_email += 1;
            continue;
        };
        let message = match filter.kind {
            NudgeKind::NotEnrolled => {
                invite.push((c.candidate_id, c.name.clone(), to.as_str().to_owned()));
                None
            }
            NudgeKind::NotBriefed => Some(
                NewOutboxMessage::email(
                    &to,
                    shield_jobs::templates::BRIEFING_NUDGE,
                    OutboxParams::new(),
                )
                .map_err(internal)?,
            ),
            _ => Some(
                NewOutboxMessage::email(
                    &to,
                    shield_jobs::templates::PLAN_NUDGE,
                    OutboxParams::new()
                        .with_id("kind", filter.kind.key())
                        .map_err(internal)?,
                )
                .map_err(internal)?,
            ),
        };
        nudges.push(NewNudge {
            candidate_id: c.candidate_id,
            score: c.standing.score,
            message,
        });
    }
    let audit = audit_event(state, actor, "outreach_sent", None)?;
    let outcome = state
        .store
        .send_nudges(
            scope.as_ref(),
            filter.kind,
            &nudges,
            Some(actor.user_id),
            NudgeLimits::default(),
            state.clock.now_ms(),
            &audit,
        )
        .await?;
    // A fresh invitation for each not-enrolled candidate the record admitted (each in its own
    // transaction, as re-sending from the enrolment page does).
    for (id, name, email) in invite {
        if outcome.sent.contains(&id) {
            let user = NewUser {
                role: Role::Candidate,
                display_name: name,
                email,
                candidate_id: Some(id),
                forces: Vec::new(),
            };
            crate::invitations::issue(state, &user, Some(actor)).await?;
        }
    }
    state.wake_worker();
    tracing::info!(
        sent = outcome.sent.len(),
        too_recent = outcome.too_recent,
        over_limit = outcome.over_limit,
        kind = filter.kind.key(),
        "outreach reminders"
    );
    Ok(SendResult { outcome, no_email })
}

#[derive(Debug)]
pub(crate) struct Row {
    pub candidate_id: i64,
    pub name: String,
    pub party: String,
    pub constituency: String,
    pub status: &'static str,
    pub score: Option<u8>,
    pub last_reminded: String,
}

fn row(c: &CandidateStanding) -> Row {
    Row {
        candidate_id: c.candidate_id.0,
        name: c.name.clone(),
        party: c.party.clone(),
        constituency: c.constituency.clone(),
        status: match (&c.user, c.standing.enrolled_at_ms) {
            (_, Some(_)) => "Enrolled",
            (Some(_), None) => "Invited",
            (None, None) if c.list_email.is_some() => "Not invited",
            (None, None) => "No email address",
        },
        score: c.standing.enrolled_at_ms.map(|_| c.standing.score),
        last_reminded: c.last_nudged_at_ms.map(when).unwrap_or_default(),
    }
}

#[derive(Debug)]
struct RecordRow {
    name: String,
    kind: &'static str,
    sent: String,
    acted: bool,
}

#[derive(Debug, Template)]
#[template(path = "outreach/index.html")]
struct OutreachPage {
    section: &'static str,
    csrf: String,
    scope: String,
    force_param: String,
    list: &'static str,
    threshold: u8,
    q: String,
    /// (key, label, count, current)
    tabs: Vec<(&'static str, &'static str, usize, bool)>,
    rows: Vec<Row>,
    record: Vec<RecordRow>,
    acted: usize,
    result: Option<SendResult>,
}

async fn render(
    state: &AppState,
    auth: &Authorized<OutreachGuard>,
    filter: Checked,
    result: Option<SendResult>,
) -> Result<Response, AppError> {
    let scope = scope_of(&auth.target)?;
    let all = state.store.standings(scope.as_ref()).await?;
    let tabs = NudgeKind::LISTS
        .iter()
        .map(|k| {
            let f = Checked {
                kind: *k,
                ..filter.clone()
            };
            (
                k.key(),
                k.label(),
                on_list(&all, &f).len(),
                *k == filter.kind,
            )
        })
        .collect();
    let rows = on_list(&all, &filter).into_iter().map(row).collect();
    let since = state.clock.now_ms() - 30 * 24 * 3_600_000;
    let nudges = state.store.nudges(scope.as_ref(), since).await?;
    let record: Vec<RecordRow> = nudges
        .iter()
        .map(|n| {
            let kind = NudgeKind::parse(&n.kind).unwrap_or(NudgeKind::Scheduled);
            let acted = all
                .iter()
                .find(|c| c.candidate_id.0 == n.candidate_id)
                .is_some_and(|c| {
                    c.standing.acted_since(
                        kind,
                        n.sent_at_ms,
                        u8::try_from(n.score_at_send).unwrap_or(100),
                    )
                });
            RecordRow {
                name: n.name.clone(),
                kind: kind.label(),
                sent: when(n.sent_at_ms),
                acted,
            }
        })
        .collect();
    let page = OutreachPage {
        section: "outreach",
        csrf: auth.session.record.csrf_token.clone(),
        scope: scope
            .as_ref()
            .map_or_else(|| "Every force".to_owned(), |f| f.to_string()),
        force_param: scope.map(|f| f.to_string()).unwrap_or_default(),
        list: filter.kind.key(),
        threshold: filter.threshold,
        q: filter.q.clone(),
        tabs,
        rows,
        acted: record.iter().filter(|r| r.acted).count(),
        record,
        result,
    };
    super::page(StatusCode::OK, &page)
}

/// `GET /outreach?force=&list=&threshold=&q=`: the lists and the record of reminders.
pub(crate) async fn index(
    State(state): State<AppState>,
    auth: Authorized<OutreachGuard>,
    Query(f): Query<Filter>,
) -> Result<Response, AppError> {
    let filter = check_filter(&f)?;
    render(&state, &auth, filter, None).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct RemindForm {
    csrf: String,
    #[serde(flatten)]
    filter: Filter,
}

/// `POST /outreach/remind`: remind everyone on the filtered list (within the limits).
pub(crate) async fn remind(
    State(state): State<AppState>,
    auth: Authorized<OutreachGuard>,
    CsrfForm(form): CsrfForm<RemindForm>,
) -> Result<Response, AppError> {
    let filter = check_filter(&form.filter)?;
    let result = send(&state, &auth.actor, &auth.target, &filter).await?;
    render(&state, &auth, filter, Some(result)).await
}

crate::has_csrf!(RemindForm);
