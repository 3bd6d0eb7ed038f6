//! The personal security plan (journey 3), in the GOV.UK task list pattern: the first page a
//! new candidate sees. Each step has its own page of practical advice and a form to set its
//! status; steps the service can see done (a passkey, an activity, a briefing attended) say so.
//! The candidate, a delegate granted `Edit`, change it; the police see it read-only.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shield_domain::CandidateId;
use shield_domain::plan::{Status, Step};
use shield_domain::policy::{Action, Actor, can};

use crate::auth::csrf::CsrfForm;
use crate::auth::guard::{Authorized, Target};
use crate::auth::plan_guard::{EditPlanGuard, ViewPlanGuard};
use crate::html::layout::FieldProblem;
use crate::html::reports::audit_event;
use crate::{AppError, AppState};

/// Practical advice for a step: paragraphs, and links to where it is done.
pub(crate) struct Advice {
    pub paragraphs: &'static [&'static str],
    pub links: &'static [(&'static str, &'static str)],
}

pub(crate) fn advice(step: Step) -> Advice {
    match step {
        Step::MeetContact => Advice {
            paragraphs: &[
                "Your named police contact is there for you throughout the election. Arrange a short call or meeting early, before anything goes wrong, so they know you and you know them.",
                "Tell them where you live and work, your campaign routine, anything that has already worried you, and how best to reach you.",
            ],
            links: &[("/home#contacts", "See your named police contact")],
        },
        Step::Passkey => Advice {
            paragraphs: &[
                "A passkey on your phone or computer cannot be phished or guessed. Once you add one, this step is completed for you.",
                "If you share a device with others, use one with its own screen lock.",
            ],
            links: &[("/account/passkeys", "Add a passkey")],
        },
        Step::CheckPasswords => Advice {
            paragraphs: &[
                "Passwords that have appeared in a data breach are tried first by attackers. Check the ones for your email, social media and campaign accounts, and change any that have been breached.",
                "The check runs in your browser: your password never leaves your device. Use a password manager so each account has its own long password.",
            ],
            links: &[("/passwords/check", "Check a password")],
        },
        Step::TwoStep => Advice {
            paragraphs: &[
                "Turn on 2-step verification (an authenticator app or a security key, not text messages if you can avoid it) on your personal and campaign email, and on every social media account.",
                "Email first: whoever controls your email can reset everything else. Keep the backup codes somewhere safe.",
            ],
            links: &[(
                "/guidance/two-step-verification",
                "Read the guidance on 2-step verification",
            )],
        },
        Step::HomeAddress => Advice {
            paragraphs: &[
                "You can ask for your home address not to be published on the ballot paper and the statement of persons nominated: use the home address form's option to withhold it (give the constituency you live in instead).",
                "Check the electoral register is the closed (not open) version for you, remove your address from Companies House filings where you can, and from campaign literature and websites.",
            ],
            links: &[(
                "/guidance/keeping-your-home-address-private",
                "Read the guidance on keeping your address private",
            )],
        },
        Step::HomeSecurity => Advice {
            paragraphs: &[
                "Good locks on doors and windows, outside lights, and a doorbell camera make a real difference. Do not open the door to people you do not know; speak through a window or a camera.",
                "Your police contact can arrange a home security survey if you are worried. Keep post with your address on it out of sight in photos.",
            ],
            links: &[
                (
                    "/security-requests/new",
                    "Ask for a home security survey or an alarm",
                ),
                (
                    "/guidance/home-security",
                    "Read the guidance on home security",
                ),
            ],
        },
        Step::CanvassInPairs => Advice {
            paragraphs: &[
                "Never canvass alone. Go in pairs or groups, keep each other in sight, and agree a word that means \"we are leaving now\".",
                "Tell someone not on the round where you are going and when you will be back. Use a lone-working check-in session if someone has to be on their own.",
            ],
            links: &[("/check-in", "Set up check-in sessions")],
        },
        Step::RegisterActivities => Advice {
            paragraphs: &[
                "Tell your police contacts about canvassing, street stalls, hustings and surgeries in advance, so they know where you will be. Once you register one, this step is completed for you.",
            ],
            links: &[("/activities", "Register a campaign activity")],
        },
        Step::AttendBriefing => Advice {
            paragraphs: &[
                "Security briefings explain the risks candidates face, how to stay safe, and how the police can help. They take about an hour, online or in person.",
                "When the organiser records that you attended, this step is completed for you.",
            ],
            links: &[("/briefings", "Register for a briefing")],
        },
        Step::EmergencyNumbers => Advice {
            paragraphs: &[
                "Save 999 (and 112), 101 for non-emergencies, your named police contact's number and your emergency contact in your phone, and make them easy to reach from the lock screen.",
                "If you cannot speak on a 999 call, stay on the line and press 55 when asked.",
            ],
            links: &[("/home#contacts", "Your police contact's number")],
        },
        Step::KnowWhatToReport => Advice {
            paragraphs: &[
                "Report threats, abuse, someone following you or hanging around, your address being shared, strange emails or messages, and anything that worries you. If in doubt, report it: it helps police see patterns.",
                "In an emergency call 999 first.",
            ],
            links: &[
                (
                    "/guidance/is-this-worth-reporting",
                    "Read the guidance on what to report",
                ),
                ("/reports/new", "Report a concern"),
            ],
        },
    }
}

/// A step as the task list shows it.
#[derive(Debug)]
pub(crate) struct StepRow {
    pub key: &'static str,
    pub title: &'static str,
    pub status: &'static str,
    pub status_key: &'static str,
    /// Completed by the service's own evidence.
    pub automatic: bool,
}

/// `?candidate=ID` when the page is about someone other than the signed-in candidate.
pub(crate) fn candidate_query(auth_target: &Target, actor: &Actor) -> String {
    match auth_target {
        Target::Candidate { id, .. } if Some(*id) != actor.candidate => {
            format!("?candidate={}", id.0)
        }
        _ => String::new(),
    }
}

pub(crate) fn target_candidate(target: &Target) -> Result<CandidateId, AppError> {
    match target {
        Target::Candidate { id, .. } => Ok(*id),
        _ => Err(AppError::Forbidden),
    }
}

/// Whether the signed-in person may change the plan they are looking at.
fn may_edit(state: &AppState, actor: &Actor, target: &Target) -> bool {
    can(
        actor,
        Action::EditPlan,
        &target.as_resource(),
        state.clock.now_ms(),
    )
    .is_allowed()
}

#[derive(Debug, Template)]
#[template(path = "plan/index.html")]
struct PlanPage {
    section: &'static str,
    csrf: String,
    query: String,
    name: String,
    score: u8,
    done: usize,
    applicable: usize,
    steps: Vec<StepRow>,
    nudges_opt_out: bool,
    can_edit: bool,
    saved: bool,
    /// The named police contacts: the first step, and what a new candidate must see at once.
    contacts: Vec<shield_store::accounts::NamedContact>,
    /// The candidate themself (not a delegate or the police) is looking.
    own: bool,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct PlanQuery {
    #[serde(default)]
    saved: Option<String>,
}

/// `GET /plan`: the task list and the readiness score.
pub(crate) async fn index(
    State(state): State<AppState>,
    auth: Authorized<ViewPlanGuard>,
    Query(q): Query<PlanQuery>,
) -> Result<Response, AppError> {
    let id = target_candidate(&auth.target)?;
    let plan = state.store.plan(id).await?;
    let overview = state
        .store
        .candidate_overview(id)
        .await?
        .ok_or(AppError::NotFound)?;
    let statuses = plan.statuses();
    let steps = statuses
        .iter()
        .map(|(step, status)| {
            let stored = plan
                .stored
                .iter()
                .find(|(k, _)| k == step)
                .map_or(Status::NotStarted, |(_, s)| *s);
            StepRow {
                key: step.key(),
                title: step.title(),
                status: status.label(),
                status_key: status.key(),
                automatic: *status == Status::Done && stored != Status::Done,
            }
        })
        .collect();
    let page = PlanPage {
        section: "home",
        csrf: auth.session.record.csrf_token.clone(),
        query: candidate_query(&auth.target, &auth.actor),
        name: overview.name,
        score: shield_domain::plan::readiness(&statuses),
        done: statuses.iter().filter(|(_, s)| *s == Status::Done).count(),
        applicable: statuses
            .iter()
            .filter(|(_, s)| *s != Status::NotApplicable)
            .count(),
        steps,
        nudges_opt_out: plan.nudges_opt_out,
        can_edit: may_edit(&state, &auth.actor, &auth.target),
        saved: q.saved.is_some(),
        contacts: overview.contacts,
        own: auth.actor.candidate == Some(id),
    };
    super::page(StatusCode::OK, &page)
}

#[derive(Debug, Template)]
#[template(path = "plan/step.html")]
struct StepPage {
    section: &'static str,
    csrf: String,
    query: String,
    key: &'static str,
    title: &'static str,
    paragraphs: &'static [&'static str],
    links: &'static [(&'static str, &'static str)],
    /// (value, label, checked)
    choices: Vec<(&'static str, &'static str, bool)>,
    status: &'static str,
    automatic: bool,
    can_edit: bool,
    problems: Vec<FieldProblem>,
}

impl StepPage {
    fn problem_for(&self, field: &str) -> Option<&str> {
        crate::html::layout::problem_for(&self.problems, field)
    }
}

async fn step_page(
    state: &AppState,
    auth_target: &Target,
    actor: &Actor,
    csrf: String,
    step: Step,
    problems: Vec<FieldProblem>,
) -> Result<StepPage, AppError> {
    let id = target_candidate(auth_target)?;
    let plan = state.store.plan(id).await?;
    let stored = plan
        .stored
        .iter()
        .find(|(k, _)| *k == step)
        .map_or(Status::NotStarted, |(_, s)| *s);
    let effective = shield_domain::plan::effective(step, stored, plan.facts);
    let a = advice(step);
    Ok(StepPage {
        section: "home",
        csrf,
        query: candidate_query(auth_target, actor),
        key: step.key(),
        title: step.title(),
        paragraphs: a.paragraphs,
        links: a.links,
        choices: Status::ALL
            .iter()
            .map(|s| (s.key(), s.label(), *s == stored))
            .collect(),
        status: effective.label(),
        automatic: effective == Status::Done && stored != Status::Done,
        can_edit: may_edit(state, actor, auth_target),
        problems,
    })
}

fn parse_step(key: &str) -> Result<Step, AppError> {
    Step::parse(key).map_err(|_| AppError::NotFound)
}

/// `GET /plan/{step}`: advice and the status form.
pub(crate) async fn step(
    State(state): State<AppState>,
    auth: Authorized<ViewPlanGuard>,
    Path(key): Path<String>,
) -> Result<Response, AppError> {
    let step = parse_step(&key)?;
    let page = step_page(
        &state,
        &auth.target,
        &auth.actor,
        auth.session.record.csrf_token.clone(),
        step,
        Vec::new(),
    )
    .await?;
    super::page(StatusCode::OK, &page)
}

#[derive(Debug, Deserialize)]
pub(crate) struct StatusForm {
    csrf: String,
    #[serde(default)]
    status: String,
}

/// Sets a step's status for the guard's candidate; shared with the API.
pub(crate) async fn set_status(
    state: &AppState,
    actor: &Actor,
    candidate: CandidateId,
    step: Step,
    status: Status,
) -> Result<(), AppError> {
    let audit = audit_event(state, actor, "plan_step_set", None)?
        .with_subject(
            shield_domain::audit::AuditSubject::new("candidate", &candidate.to_string())
                .map_err(|e| AppError::Internal(e.message))?,
        )
        .with_detail("step", step.key())
        .and_then(|e| e.with_detail("status", status.key()))
        .map_err(|e| AppError::Internal(e.message))?;
    state
        .store
        .set_plan_step(
            candidate,
            step,
            status,
            actor.user_id,
            state.clock.now_ms(),
            &audit,
        )
        .await?;
    tracing::info!(candidate = %candidate, step = step.key(), "plan step set");
    Ok(())
}

/// `POST /plan/{step}`: set its status.
pub(crate) async fn save_step(
    State(state): State<AppState>,
    auth: Authorized<EditPlanGuard>,
    Path(key): Path<String>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> Result<Response, AppError> {
    let step = parse_step(&key)?;
    let id = target_candidate(&auth.target)?;
    match Status::parse(&form.status) {
        Ok(status) => {
            set_status(&state, &auth.actor, id, step, status).await?;
            let query = candidate_query(&auth.target, &auth.actor);
            let sep = if query.is_empty() { '?' } else { '&' };
            Ok(Redirect::to(&format!("/plan{query}{sep}saved=1")).into_response())
        }
        Err(_) => {
            let problems = vec![FieldProblem::new(
                "status",
                "Select how far you have got with this step",
            )];
            let page = step_page(
                &state,
                &auth.target,
                &auth.actor,
                auth.session.record.csrf_token.clone(),
                step,
                problems,
            )
            .await?;
            super::page(StatusCode::BAD_REQUEST, &page)
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct RemindersForm {
    csrf: String,
    #[serde(default)]
    reminders: String,
}

/// Turns the scheduled plan reminders on or off; shared with the API.
pub(crate) async fn set_reminders(
    state: &AppState,
    actor: &Actor,
    candidate: CandidateId,
    opt_out: bool,
) -> Result<(), AppError> {
    let audit = audit_event(state, actor, "plan_reminders_set", None)?
        .with_subject(
            shield_domain::audit::AuditSubject::new("candidate", &candidate.to_string())
                .map_err(|e| AppError::Internal(e.message))?,
        )
        .with_detail("reminders", if opt_out { "off" } else { "on" })
        .map_err(|e| AppError::Internal(e.message))?;
    state
        .store
        .set_nudges_opt_out(candidate, opt_out, state.clock.now_ms(), &audit)
        .await?;
    Ok(())
}

/// `POST /plan/reminders`: `reminders=off` stops the scheduled reminders, `on` restarts them.
pub(crate) async fn reminders(
    State(state): State<AppState>,
    auth: Authorized<EditPlanGuard>,
    CsrfForm(form): CsrfForm<RemindersForm>,
) -> Result<Response, AppError> {
    let id = target_candidate(&auth.target)?;
    let opt_out = match form.reminders.as_str() {
        "off" => true,
        "on" => false,
        _ => return Err(AppError::bad_request("reminders", "Choose on or off")),
    };
    set_reminders(&state, &auth.actor, id, opt_out).await?;
    let query = candidate_query(&auth.target, &auth.actor);
    let sep = if query.is_empty() { '?' } else { '&' };
    Ok(Redirect::to(&format!("/plan{query}{sep}saved=1")).into_response())
}

crate::has_csrf!(StatusForm, RemindersForm);
