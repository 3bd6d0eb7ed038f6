//! The one access policy. Every decision about who may do what goes through [`can`], a pure
//! function of the actor, the action, the resource and the moment; web extractors call it, so
//! a handler cannot be reached without it, and the route-walk test exercises it for every
//! route, role and scope.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::account::{CandidateId, Role, UserId};
use crate::force::ForceCode;

/// How long a sign-in counts as recent enough for sensitive operations (ASVS V7.5: step-up).
pub const STEP_UP_WINDOW_MS: i64 = 10 * 60 * 1000;

/// What a candidate lets a delegate do on their behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    /// See the candidate's record, plan and reports.
    View,
    /// Report concerns and register activities for the candidate.
    Report,
    /// Change the candidate's non-sensitive details and plan.
    Edit,
}

/// The signed-in person, as the policy sees them. Built by the web layer from the session and
/// the store, fresh on every request, so a change (a revoked grant, a removed force) applies at
/// once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub role: Role,
    /// The candidacy a candidate account belongs to.
    pub candidate: Option<CandidateId>,
    /// For delegates: the candidates they act for, and what each granted.
    pub delegations: BTreeMap<CandidateId, BTreeSet<Grant>>,
    /// For force contacts: the forces they are a named contact of.
    pub forces: BTreeSet<ForceCode>,
    /// When this session last proved the person's identity (epoch ms).
    pub authenticated_at_ms: i64,
}

/// What someone wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Constituencies, forces and candidate lists: reference data.
    ViewReferenceData,
    ImportReferenceData,
    ManageUsers,
    /// The candidate's record: details, named contacts, plan.
    ViewCandidate,
    EditCandidate,
    /// Home address and emergency contact: needs a recent sign-in, and each read is audited.
    ViewSensitiveDetails,
    EditSensitiveDetails,
    /// Who viewed this candidate's record (NCSC principle 13).
    ViewCandidateAuditTrail,
    /// Add or revoke delegates: only the candidate themself.
    ManageDelegates,
    /// A delegate's own list of the candidates they act for (on `OwnAccount`): delegates only.
    ActForCandidates,
    /// Enrolment status of a force's candidates, and re-sending their invitations.
    ViewForceEnrolment,
    InviteCandidate,
    /// The service-wide audit chain and its verification.
    VerifyAudit,
    /// Change one's own sign-in methods: needs a recent sign-in.
    ManageOwnCredentials,
    /// Report a concern for a candidate: the candidate, or a delegate granted `Report`.
    ReportConcern,
    /// See a report, its timeline, its messages and evidence: the candidate, a delegate
    /// granted `View`, the police of the candidate's forces, coordinators. Never admins.
    ViewReport,
    /// Write a secure message on a report: the candidate, a delegate granted `Report`, the
    /// police of the candidate's forces, coordinators.
    MessageOnReport,
    /// Acknowledge, change priority or status, add internal notes, link reports: the police
    /// of the candidate's forces and coordinators.
    HandleReport,
    /// Internal police notes on a report, which the candidate and delegates never see.
    ViewPoliceNotes,
    /// A queue of reports: one force's (its contacts, coordinators) or all (coordinators).
    ViewReportQueue,
    /// Upcoming campaign activities of a force's candidates (list and calendar feed): its
    /// contacts; all of them: coordinators.
    ViewForceActivities,
    /// Ask for additional security: the candidate, or a delegate granted `Report` (also asking
    /// for reconsideration).
    RequestSecurity,
    /// See a request for additional security, its timeline and decision: the candidate, a
    /// delegate granted `View`, the police of the candidate's forces, coordinators.
    ViewSecurityRequest,
    /// Assess a request (risk assessment and recommendation): the police of the candidate's
    /// forces and coordinators.
    AssessSecurityRequest,
    /// Decide a request: coordinators only, and never the one who assessed it.
    DecideSecurityRequest,
    /// The list of requests: one force's (its contacts) or all (coordinators).
    ViewSecurityRequests,
    /// The consistency view and CSV export of every request: coordinators only.
    ViewSecurityConsistency,
    /// Published guidance articles: everyone signed in.
    ReadGuidance,
    /// Draft, edit, publish and unpublish guidance, and see drafts and version history:
    /// coordinators only.
    ManageGuidance,
    /// A candidate's security plan and readiness score: the candidate, a delegate granted
    /// `View`, the police of the candidate's forces, coordinators.
    ViewPlan,
    /// Set a plan step's status or the nudge opt-out: the candidate, a delegate granted `Edit`.
    EditPlan,
    /// Register for (or cancel) a briefing: the candidate, a delegate granted `Edit`.
    RegisterForBriefing,
    /// Schedule briefings and record attendance: coordinators (national or any force's), a
    /// force's contacts for their own force.
    ManageBriefings,
    /// Outreach lists (not enrolled, not ready, not briefed) and bulk reminders: a force's
    /// contacts for their force, coordinators for any or all.
    Outreach,
}

/// What the action is done to. Candidate resources carry the forces of the candidate's
/// constituency, so force scoping needs no lookup inside the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource<'a> {
    /// Something with no owner: reference data, user management, the audit chain.
    Service,
    Candidate {
        id: CandidateId,
        forces: &'a [ForceCode],
    },
    Force(&'a ForceCode),
    /// The actor's own account.
    OwnAccount,
    /// Deciding a request for additional security: who assessed (recommended) it, if anyone.
    SecurityDecision {
        assessed_by: Option<UserId>,
    },
}

/// The answer. `Deny` carries a reason for the audit log, never shown in detail to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Allowed once the person signs in again (their last sign-in is too old).
    StepUp,
    Deny(&'static str),
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allow)
    }
}

/// The access policy.
pub fn can(actor: &Actor, action: Action, resource: &Resource<'_>, now_ms: i64) -> Decision {
    use Action::*;
    let decision = match action {
        ViewReferenceData => match actor.role {
            Role::Coordinator | Role::Admin | Role::ForceContact => Decision::Allow,
            _ => Decision::Deny("reference lists are for police, coordinators and admins"),
        },
        ImportReferenceData | ManageUsers => role_is(actor, &[Role::Admin], "admins only"),
        VerifyAudit => role_is(
            actor,
            &[Role::Admin, Role::Coordinator],
            "admins and coordinators only",
        ),
        ViewCandidate | ViewCandidateAuditTrail => {
            on_candidate(actor, resource, Some(Grant::View), true)
        }
        EditCandidate => on_candidate(actor, resource, Some(Grant::Edit), false),
        // Sensitive details: the candidate, and the police and coordinators who protect them.
        // Delegates never see a home address; admins never see case content.
        ViewSensitiveDetails => on_candidate(actor, resource, None, true),
        EditSensitiveDetails => match actor.role {
            Role::Candidate => on_candidate(actor, resource, None, false),
            _ => Decision::Deny("only the candidate changes their sensitive details"),
        },
        ManageDelegates => match actor.role {
            Role::Candidate => on_candidate(actor, resource, None, false),
            _ => Decision::Deny("only the candidate manages their delegates"),
        },
        ActForCandidates => match (actor.role, resource) {
            (Role::Delegate, Resource::OwnAccount) => Decision::Allow,
            _ => Decision::Deny("only delegates act for candidates"),
        },
        ViewForceEnrolment | InviteCandidate => match (actor.role, resource) {
            (Role::Coordinator, Resource::Force(_) | Resource::Service) => Decision::Allow,
            (Role::ForceContact, Resource::Force(f)) if actor.forces.contains(*f) => {
                Decision::Allow
            }
            (Role::ForceContact, Resource::Candidate { forces, .. })
                if forces.iter().any(|f| actor.forces.contains(f)) =>
            {
                Decision::Allow
            }
            (Role::Coordinator, Resource::Candidate { .. }) => Decision::Allow,
            _ => Decision::Deny("not a contact of this force"),
        },
        ReportConcern | MessageOnReport => match actor.role {
            Role::ForceContact | Role::Coordinator if action == MessageOnReport => {
                on_candidate(actor, resource, None, true)
            }
            Role::Candidate | Role::Delegate => {
                on_candidate(actor, resource, Some(Grant::Report), false)
            }
            _ => Decision::Deny("only the candidate or their delegate reports a concern"),
        },
        ViewReport | ViewPlan => on_candidate(actor, resource, Some(Grant::View), true),
        EditPlan | RegisterForBriefing => match actor.role {
            Role::Candidate | Role::Delegate => {
                on_candidate(actor, resource, Some(Grant::Edit), false)
            }
            _ => Decision::Deny("only the candidate or their delegate changes the plan"),
        },
        HandleReport | ViewPoliceNotes => match actor.role {
            Role::ForceContact | Role::Coordinator => on_candidate(actor, resource, None, true),
            _ => Decision::Deny("only the police and coordinators handle reports"),
        },
        ViewReportQueue | ViewForceActivities | ManageBriefings | Outreach => {
            match (actor.role, resource) {
                (Role::Coordinator, Resource::Force(_) | Resource::Service) => Decision::Allow,
                (Role::ForceContact, Resource::Force(f)) if actor.forces.contains(*f) => {
                    Decision::Allow
                }
                _ => Decision::Deny("not a contact of this force"),
            }
        }
        RequestSecurity => match actor.role {
            Role::Candidate | Role::Delegate => {
                on_candidate(actor, resource, Some(Grant::Report), false)
            }
            _ => Decision::Deny("only the candidate or their delegate asks for security"),
        },
        ViewSecurityRequest => on_candidate(actor, resource, Some(Grant::View), true),
        AssessSecurityRequest => match actor.role {
            Role::ForceContact | Role::Coordinator => on_candidate(actor, resource, None, true),
            _ => Decision::Deny("only the police and coordinators assess requests"),
        },
        DecideSecurityRequest => match (actor.role, resource) {
            (Role::Coordinator, Resource::SecurityDecision { assessed_by })
                if *assessed_by == Some(actor.user_id) =>
            {
                Decision::Deny("the assessor cannot decide their own recommendation")
            }
            (Role::Coordinator, Resource::SecurityDecision { .. }) => Decision::Allow,
            _ => Decision::Deny("only coordinators decide requests"),
        },
        ViewSecurityRequests => match (actor.role, resource) {
            (Role::Coordinator, Resource::Force(_) | Resource::Service) => Decision::Allow,
            (Role::ForceContact, Resource::Force(f)) if actor.forces.contains(*f) => {
                Decision::Allow
            }
            _ => Decision::Deny("not a contact of this force"),
        },
        ViewSecurityConsistency => role_is(actor, &[Role::Coordinator], "coordinators only"),
        ReadGuidance => Decision::Allow,
        ManageGuidance => role_is(
            actor,
            &[Role::Coordinator],
            "only coordinators draft and publish guidance",
        ),
        ManageOwnCredentials => match resource {
            Resource::OwnAccount => Decision::Allow,
            _ => Decision::Deny("only one's own sign-in methods"),
        },
    };
    match decision {
        Decision::Allow
            if needs_step_up(action) && now_ms - actor.authenticated_at_ms > STEP_UP_WINDOW_MS =>
        {
            Decision::StepUp
        }
        other => other,
    }
}

fn needs_step_up(action: Action) -> bool {
    matches!(
        action,
        Action::ViewSensitiveDetails
            | Action::EditSensitiveDetails
            | Action::ManageOwnCredentials
            | Action::ManageDelegates
    )
}

fn role_is(actor: &Actor, roles: &[Role], reason: &'static str) -> Decision {
    if roles.contains(&actor.role) {
        Decision::Allow
    } else {
        Decision::Deny(reason)
    }
}

/// Candidate-owned data: the candidate; a delegate holding `grant` (if any grant admits
/// delegates); police of the candidate's forces and coordinators when `police_may`.
fn on_candidate(
    actor: &Actor,
    resource: &Resource<'_>,
    grant: Option<Grant>,
    police_may: bool,
) -> Decision {
    let Resource::Candidate { id, forces } = resource else {
        return Decision::Deny("not a candidate resource");
    };
    match actor.role {
        Role::Candidate if actor.candidate == Some(*id) => Decision::Allow,
        Role::Candidate => Decision::Deny("another candidate's record"),
        Role::Delegate => match (grant, actor.delegations.get(id)) {
            (Some(g), Some(grants)) if grants.contains(&g) => Decision::Allow,
            (Some(_), Some(_)) => Decision::Deny("the candidate has not granted this"),
            (None, _) => Decision::Deny("delegates cannot do this"),
            (_, None) => Decision::Deny("not a delegate of this candidate"),
        },
        Role::ForceContact if police_may && forces.iter().any(|f| actor.forces.contains(f)) => {
            Decision::Allow
        }
        Role::ForceContact => Decision::Deny("candidate of another force"),
        Role::Coordinator if police_may => Decision::Allow,
        Role::Coordinator => Decision::Deny("coordinators do not change candidates' records"),
        Role::Admin => Decision::Deny("admins have no access to case content"),
    }
}

#[cfg(test)]
mod tests;
