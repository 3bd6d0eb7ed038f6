//! The extractors that enforce the access policy. A handler that takes [`Authorized<G>`]
//! cannot run unless [`policy::can`] allowed `G::ACTION` on the resource `G` names for this
//! request; a denial is audited and answered 403, a stale sign-in is sent to sign in again.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use shield_domain::audit::{AuditAction, AuditActor, AuditEvent, AuditOutcome};
use shield_domain::policy::{self, Action, Actor, Decision, Resource};
use shield_domain::{CandidateId, ForceCode};

use super::session::CurrentSession;
use crate::{AppError, AppState};

/// A signed-in person whose account is active, as the policy sees them (built fresh on every
/// request, so a disabled account or a revoked grant applies at once).
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub actor: Actor,
    pub session: CurrentSession,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = CurrentSession::from_request_parts(parts, state).await?;
        let (Some(user), Some(at)) = (session.record.user_id, session.record.authenticated_at_ms)
        else {
            return Err(AppError::SignInRequired);
        };
        let actor = state
            .store
            .actor(user, at)
            .await?
            .ok_or(AppError::SignInRequired)?;
        Ok(Self { actor, session })
    }
}

/// A resource the policy judges, owned so extractors can build it from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Service,
    Candidate {
        id: CandidateId,
        forces: Vec<ForceCode>,
    },
    Force(ForceCode),
    OwnAccount,
    /// Deciding a request for additional security, and who assessed it.
    SecurityDecision {
        request: i64,
        assessed_by: Option<shield_domain::UserId>,
    },
}

impl Target {
    pub fn as_resource(&self) -> Resource<'_> {
        match self {
            Self::Service => Resource::Service,
            Self::Candidate { id, forces } => Resource::Candidate { id: *id, forces },
            Self::Force(f) => Resource::Force(f),
            Self::OwnAccount => Resource::OwnAccount,
            Self::SecurityDecision { assessed_by, .. } => Resource::SecurityDecision {
                assessed_by: *assessed_by,
            },
        }
    }

    fn audit_subject(&self) -> Option<(&'static str, String)> {
        match self {
            Self::Candidate { id, .. } => Some(("candidate", id.to_string())),
            Self::Force(f) => Some(("force", f.to_string())),
            Self::SecurityDecision { request, .. } => {
                Some(("security_request", request.to_string()))
            }
            Self::Service | Self::OwnAccount => None,
        }
    }
}

/// One kind of guarded request: the action and how to find its target.
pub trait Guard: Send + Sync + 'static {
    const ACTION: Action;

    fn target(
        parts: &mut Parts,
        state: &AppState,
        actor: &Actor,
    ) -> impl std::future::Future<Output = Result<Target, AppError>> + Send;
}

/// Proof that the policy allowed `G` for this request.
#[derive(Debug)]
pub struct Authorized<G> {
    pub actor: Actor,
    pub session: CurrentSession,
    pub target: Target,
    _guard: PhantomData<G>,
}

impl<G: Guard> FromRequestParts<AppState> for Authorized<G> {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let SignedIn { actor, session } = SignedIn::from_request_parts(parts, state).await?;
        let target = G::target(parts, state, &actor).await?;
        match policy::can(
            &actor,
            G::ACTION,
            &target.as_resource(),
            state.clock.now_ms(),
        ) {
            Decision::Allow => Ok(Self {
                actor,
                session,
                target,
                _guard: PhantomData,
            }),
            Decision::StepUp => Err(AppError::StepUpRequired),
            Decision::Deny(reason) => {
                audit_denial(state, &actor, G::ACTION, &target, reason).await;
                Err(AppError::Forbidden)
            }
        }
    }
}

async fn audit_denial(
    state: &AppState,
    actor: &Actor,
    action: Action,
    target: &Target,
    reason: &str,
) {
    tracing::info!(user = %actor.user_id, ?action, reason, "permission denied");
    let mut event = AuditEvent::new(
        AuditAction::PERMISSION_DENIED,
        AuditOutcome::Denied,
        chrono_now(state),
    )
    .with_detail("action", &format!("{action:?}").to_lowercase())
    .unwrap_or_else(|_| {
        AuditEvent::new(
            AuditAction::PERMISSION_DENIED,
            AuditOutcome::Denied,
            chrono_now(state),
        )
    });
    if let Ok(a) = AuditActor::new(actor.user_id.0, actor.role.key()) {
        event = event.with_actor(a);
    }
    if let Some((kind, id)) = target.audit_subject()
        && let Ok(subject) = shield_domain::audit::AuditSubject::new(kind, &id)
    {
        event = event.with_subject(subject);
    }
    if let Err(error) = state.store.record_audit(&event).await {
        tracing::error!(%error, "could not audit a permission denial");
    }
}

pub(crate) fn chrono_now(state: &AppState) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(state.clock.now_ms()).unwrap_or_default()
}

/// The signed-in person's own candidacy, with its forces; only candidates have one.
async fn own_candidacy(state: &AppState, actor: &Actor) -> Result<Target, AppError> {
    let id = actor.candidate.ok_or(AppError::Forbidden)?;
    let forces = state.store.candidate_forces(id).await?;
    Ok(Target::Candidate { id, forces })
}

/// The signed-in candidate's own record (`/home`, `/details`).
#[derive(Debug)]
pub struct OwnRecord;

impl Guard for OwnRecord {
    const ACTION: Action = Action::ViewCandidate;

    async fn target(_: &mut Parts, state: &AppState, actor: &Actor) -> Result<Target, AppError> {
        own_candidacy(state, actor).await
    }
}

/// Changing the signed-in candidate's own sensitive details (needs a recent sign-in).
#[derive(Debug)]
pub struct EditOwnSensitive;

impl Guard for EditOwnSensitive {
    const ACTION: Action = Action::EditSensitiveDetails;

    async fn target(_: &mut Parts, state: &AppState, actor: &Actor) -> Result<Target, AppError> {
        own_candidacy(state, actor).await
    }
}

/// Seeing the signed-in candidate's own home address (needs a recent sign-in; audited).
#[derive(Debug)]
pub struct ViewOwnSensitive;

impl Guard for ViewOwnSensitive {
    const ACTION: Action = Action::ViewSensitiveDetails;

    async fn target(_: &mut Parts, state: &AppState, actor: &Actor) -> Result<Target, AppError> {
        own_candidacy(state, actor).await
    }
}

/// The enrolment list of one force (`?force=CODE`), or of every force for coordinators.
/// A force contact with no `force` given sees their first force.
#[derive(Debug)]
pub struct ForceEnrolment;

impl Guard for ForceEnrolment {
    const ACTION: Action = Action::ViewForceEnrolment;

    async fn target(parts: &mut Parts, _: &AppState, actor: &Actor) -> Result<Target, AppError> {
        let force = parts
            .uri
            .query()
            .unwrap_or("")
            .split('&')
            .find_map(|pair| pair.strip_prefix("force="))
            .filter(|v| !v.is_empty());
        match force {
            Some(code) => ForceCode::parse(code)
                .map(Target::Force)
                .map_err(|e| AppError::bad_request("force", e.message)),
            None => match actor.forces.iter().next() {
                Some(first) if actor.role == shield_domain::Role::ForceContact => {
                    Ok(Target::Force(first.clone()))
                }
                _ => Ok(Target::Service),
            },
        }
    }
}

/// Inviting (or re-inviting) one candidate: police of the candidate's forces, coordinators.
#[derive(Debug)]
pub struct InviteCandidate;

impl Guard for InviteCandidate {
    const ACTION: Action = Action::InviteCandidate;

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
