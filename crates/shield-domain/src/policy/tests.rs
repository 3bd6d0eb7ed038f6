use super::*;

const NOW: i64 = 1_000_000_000;

fn force(code: &str) -> ForceCode {
    ForceCode::parse(code).unwrap()
}

fn actor(role: Role) -> Actor {
    Actor {
        user_id: UserId(1),
        role,
        candidate: None,
        delegations: BTreeMap::new(),
        forces: BTreeSet::new(),
        authenticated_at_ms: NOW,
    }
}

fn candidate(id: i64) -> Actor {
    Actor {
        candidate: Some(CandidateId(id)),
        ..actor(Role::Candidate)
    }
}

fn contact(code: &str) -> Actor {
    Actor {
        forces: [force(code)].into(),
        ..actor(Role::ForceContact)
    }
}

fn delegate(of: i64, grants: &[Grant]) -> Actor {
    Actor {
        delegations: [(CandidateId(of), grants.iter().copied().collect())].into(),
        ..actor(Role::Delegate)
    }
}

#[test]
fn candidates_see_only_their_own_record() {
    let forces = [force("E23000030")];
    let own = Resource::Candidate {
        id: CandidateId(7),
        forces: &forces,
    };
    let other = Resource::Candidate {
        id: CandidateId(8),
        forces: &forces,
    };
    assert!(can(&candidate(7), Action::ViewCandidate, &own, NOW).is_allowed());
    assert!(!can(&candidate(7), Action::ViewCandidate, &other, NOW).is_allowed());
    assert!(can(&candidate(7), Action::ViewSensitiveDetails, &own, NOW).is_allowed());
    assert!(
        !can(
            &candidate(7),
            Action::ViewReferenceData,
            &Resource::Service,
            NOW
        )
        .is_allowed()
    );
}

#[test]
fn police_are_scoped_to_their_forces_including_the_minority_force() {
    let cross = [force("E23000029"), force("E23000030")];
    let res = Resource::Candidate {
        id: CandidateId(7),
        forces: &cross,
    };
    assert!(can(&contact("E23000029"), Action::ViewCandidate, &res, NOW).is_allowed());
    assert!(can(&contact("E23000030"), Action::ViewCandidate, &res, NOW).is_allowed());
    assert_eq!(
        can(&contact("E23000001"), Action::ViewCandidate, &res, NOW),
        Decision::Deny("candidate of another force")
    );
    let met = force("E23000001");
    assert!(
        can(
            &contact("E23000001"),
            Action::ViewForceEnrolment,
            &Resource::Force(&met),
            NOW
        )
        .is_allowed()
    );
    let tv = force("E23000029");
    assert!(
        !can(
            &contact("E23000001"),
            Action::ViewForceEnrolment,
            &Resource::Force(&tv),
            NOW
        )
        .is_allowed()
    );
}

#[test]
fn delegates_act_within_their_grants_and_never_see_addresses() {
    let forces = [force("E23000030")];
    let res = Resource::Candidate {
        id: CandidateId(7),
        forces: &forces,
    };
    let viewer = delegate(7, &[Grant::View]);
    assert!(can(&viewer, Action::ViewCandidate, &res, NOW).is_allowed());
    assert!(!can(&viewer, Action::EditCandidate, &res, NOW).is_allowed());
    assert!(
        !can(
            &delegate(7, &[Grant::View, Grant::Edit, Grant::Report]),
            Action::ViewSensitiveDetails,
            &res,
            NOW
        )
        .is_allowed()
    );
    assert!(
        !can(
            &delegate(8, &[Grant::View]),
            Action::ViewCandidate,
            &res,
            NOW
        )
        .is_allowed()
    );
    assert!(!can(&viewer, Action::ManageDelegates, &res, NOW).is_allowed());
}

#[test]
fn admins_run_the_service_but_see_no_case_content() {
    let forces = [force("E23000030")];
    let res = Resource::Candidate {
        id: CandidateId(7),
        forces: &forces,
    };
    let admin = actor(Role::Admin);
    assert!(can(&admin, Action::ImportReferenceData, &Resource::Service, NOW).is_allowed());
    assert!(can(&admin, Action::ManageUsers, &Resource::Service, NOW).is_allowed());
    for action in [
        Action::ViewCandidate,
        Action::ViewSensitiveDetails,
        Action::ViewCandidateAuditTrail,
    ] {
        assert!(!can(&admin, action, &res, NOW).is_allowed(), "{action:?}");
    }
    assert!(
        !can(
            &actor(Role::Coordinator),
            Action::ImportReferenceData,
            &Resource::Service,
            NOW
        )
        .is_allowed()
    );
}

#[test]
fn sensitive_actions_need_a_recent_sign_in() {
    let forces = [force("E23000030")];
    let res = Resource::Candidate {
        id: CandidateId(7),
        forces: &forces,
    };
    let mut stale = candidate(7);
    stale.authenticated_at_ms = NOW - STEP_UP_WINDOW_MS - 1;
    assert_eq!(
        can(&stale, Action::ViewSensitiveDetails, &res, NOW),
        Decision::StepUp
    );
    assert_eq!(
        can(
            &stale,
            Action::ManageOwnCredentials,
            &Resource::OwnAccount,
            NOW
        ),
        Decision::StepUp
    );
    // Not sensitive: no step-up.
    assert!(can(&stale, Action::ViewCandidate, &res, NOW).is_allowed());
    // A denial stays a denial however recent the sign-in.
    let mut other = candidate(8);
    other.authenticated_at_ms = NOW - STEP_UP_WINDOW_MS - 1;
    assert!(matches!(
        can(&other, Action::ViewSensitiveDetails, &res, NOW),
        Decision::Deny(_)
    ));
}

#[test]
fn passkeys_are_required_for_police_coordinators_and_admins() {
    assert!(!Role::Candidate.requires_passkey());
    assert!(!Role::Delegate.requires_passkey());
    assert!(Role::ForceContact.requires_passkey());
    assert!(Role::Coordinator.requires_passkey());
    assert!(Role::Admin.requires_passkey());
}

#[test]
fn reports_candidate_and_reporting_delegate_write_police_handle_admins_never_see() {
    let forces = [force("E23000030")];
    let own = Resource::Candidate {
        id: CandidateId(7),
        forces: &forces,
    };
    let other = Resource::Candidate {
        id: CandidateId(8),
        forces: &forces,
    };
    assert!(can(&candidate(7), Action::ReportConcern, &own, NOW).is_allowed());
    assert!(!can(&candidate(7), Action::ReportConcern, &other, NOW).is_allowed());
    assert!(
        can(
            &delegate(7, &[Grant::Report]),
            Action::ReportConcern,
            &own,
            NOW
        )
        .is_allowed()
    );
    assert!(
        !can(
            &delegate(7, &[Grant::View]),
            Action::ReportConcern,
            &own,
            NOW
        )
        .is_allowed()
    );
    assert!(can(&delegate(7, &[Grant::View]), Action::ViewReport, &own, NOW).is_allowed());
    assert!(
        !can(
            &delegate(7, &[Grant::View]),
            Action::ViewPoliceNotes,
            &own,
            NOW
        )
        .is_allowed()
    );
    assert!(!can(&candidate(7), Action::HandleReport, &own, NOW).is_allowed());
    assert!(!can(&candidate(7), Action::ViewPoliceNotes, &own, NOW).is_allowed());
    assert!(can(&contact("E23000030"), Action::HandleReport, &own, NOW).is_allowed());
    assert!(can(&contact("E23000030"), Action::MessageOnReport, &own, NOW).is_allowed());
    assert!(!can(&contact("E23000001"), Action::ViewReport, &own, NOW).is_allowed());
    assert!(!can(&contact("E23000030"), Action::ReportConcern, &own, NOW).is_allowed());
    assert!(
        can(
            &actor(Role::Coordinator),
            Action::ViewPoliceNotes,
            &own,
            NOW
        )
        .is_allowed()
    );
    for action in [
        Action::ViewReport,
        Action::HandleReport,
        Action::MessageOnReport,
        Action::ViewPoliceNotes,
    ] {
        assert!(!can(&actor(Role::Admin), action, &own, NOW).is_allowed());
    }
    let f = force("E23000030");
    assert!(
        can(
            &contact("E23000030"),
            Action::ViewReportQueue,
            &Resource::Force(&f),
            NOW
        )
        .is_allowed()
    );
    assert!(
        !can(
            &contact("E23000001"),
            Action::ViewReportQueue,
            &Resource::Force(&f),
            NOW
        )
        .is_allowed()
    );
    assert!(
        !can(
            &contact("E23000030"),
            Action::ViewReportQueue,
            &Resource::Service,
            NOW
        )
        .is_allowed()
    );
    assert!(
        can(
            &actor(Role::Coordinator),
            Action::ViewReportQueue,
            &Resource::Service,
            NOW
        )
        .is_allowed()
    );
}

#[test]
fn only_delegates_have_a_list_of_candidates_they_act_for() {
    let delegate = delegate(7, &[Grant::View]);
    assert!(
        can(
            &delegate,
            Action::ActForCandidates,
            &Resource::OwnAccount,
            NOW
        )
        .is_allowed()
    );
    assert!(!can(&delegate, Action::ActForCandidates, &Resource::Service, NOW).is_allowed());
    assert!(
        !can(
            &candidate(7),
            Action::ActForCandidates,
            &Resource::OwnAccount,
            NOW
        )
        .is_allowed()
    );
}

#[test]
fn force_activities_are_for_its_contacts_and_coordinators() {
    let f = force("E23000030");
    let allowed =
        |a: &Actor, r: &Resource<'_>| can(a, Action::ViewForceActivities, r, NOW).is_allowed();
    assert!(allowed(&contact("E23000030"), &Resource::Force(&f)));
    assert!(!allowed(&contact("E23000001"), &Resource::Force(&f)));
    assert!(!allowed(&contact("E23000030"), &Resource::Service));
    assert!(allowed(&actor(Role::Coordinator), &Resource::Service));
    assert!(allowed(&actor(Role::Coordinator), &Resource::Force(&f)));
    for who in [
        candidate(7),
        delegate(7, &[Grant::View, Grant::Report]),
        actor(Role::Admin),
    ] {
        assert!(!allowed(&who, &Resource::Force(&f)), "{:?}", who.role);
        assert!(!allowed(&who, &Resource::Service), "{:?}", who.role);
    }
}

#[test]
fn security_requests_are_asked_by_the_candidate_assessed_by_police_decided_by_coordinators() {
    let forces = [force("E23000029")];
    let claire = Resource::Candidate {
        id: CandidateId(7),
        forces: &forces,
    };
    assert!(can(&candidate(7), Action::RequestSecurity, &claire, NOW).is_allowed());
    assert!(!can(&candidate(8), Action::RequestSecurity, &claire, NOW).is_allowed());
    assert!(
        can(
            &delegate(7, &[Grant::Report]),
            Action::RequestSecurity,
            &claire,
            NOW
        )
        .is_allowed()
    );
    assert!(
        !can(
            &delegate(7, &[Grant::View]),
            Action::RequestSecurity,
            &claire,
            NOW
        )
        .is_allowed()
    );
    assert!(
        can(
            &delegate(7, &[Grant::View]),
            Action::ViewSecurityRequest,
            &claire,
            NOW
        )
        .is_allowed()
    );
    assert!(!can(&contact("E23000029"), Action::RequestSecurity, &claire, NOW).is_allowed());
    assert!(
        can(
            &contact("E23000029"),
            Action::AssessSecurityRequest,
            &claire,
            NOW
        )
        .is_allowed()
    );
    assert!(
        !can(
            &contact("E23000028"),
            Action::AssessSecurityRequest,
            &claire,
            NOW
        )
        .is_allowed()
    );
    assert!(!can(&candidate(7), Action::AssessSecurityRequest, &claire, NOW).is_allowed());
    assert!(
        can(
            &actor(Role::Coordinator),
            Action::AssessSecurityRequest,
            &claire,
            NOW
        )
        .is_allowed()
    );
    assert!(
        !can(
            &actor(Role::Admin),
            Action::ViewSecurityRequest,
            &claire,
            NOW
        )
        .is_allowed()
    );
}

#[test]
fn the_assessor_never_decides_their_own_recommendation() {
    let coordinator = actor(Role::Coordinator); // user 1
    let by_other = Resource::SecurityDecision {
        assessed_by: Some(UserId(2)),
    };
    let by_self = Resource::SecurityDecision {
        assessed_by: Some(UserId(1)),
    };
    assert!(can(&coordinator, Action::DecideSecurityRequest, &by_other, NOW).is_allowed());
    assert_eq!(
        can(&coordinator, Action::DecideSecurityRequest, &by_self, NOW),
        Decision::Deny("the assessor cannot decide their own recommendation")
    );
    for who in [contact("E23000029"), candidate(7), actor(Role::Admin)] {
        assert!(!can(&who, Action::DecideSecurityRequest, &by_other, NOW).is_allowed());
    }
    assert!(
        can(
            &coordinator,
            Action::ViewSecurityConsistency,
            &Resource::Service,
            NOW
        )
        .is_allowed()
    );
    assert!(
        !can(
            &contact("E23000029"),
            Action::ViewSecurityConsistency,
            &Resource::Service,
            NOW
        )
        .is_allowed()
    );
    let tv = force("E23000029");
    assert!(
        can(
            &contact("E23000029"),
            Action::ViewSecurityRequests,
            &Resource::Force(&tv),
            NOW
        )
        .is_allowed()
    );
    assert!(
        !can(
            &contact("E23000028"),
            Action::ViewSecurityRequests,
            &Resource::Force(&tv),
            NOW
        )
        .is_allowed()
    );
}

#[test]
fn everyone_signed_in_reads_guidance_and_only_coordinators_manage_it() {
    let everyone = [
        candidate(1),
        delegate(1, &[Grant::View]),
        contact("E23000029"),
        actor(Role::Coordinator),
        actor(Role::Admin),
    ];
    for who in &everyone {
        assert!(
            can(who, Action::ReadGuidance, &Resource::Service, NOW).is_allowed(),
            "{:?} reads guidance",
            who.role
        );
        let manage = can(who, Action::ManageGuidance, &Resource::Service, NOW);
        assert_eq!(
            manage.is_allowed(),
            who.role == Role::Coordinator,
            "{:?} manages guidance: {manage:?}",
            who.role
        );
    }
}

#[test]
fn plans_are_seen_by_the_candidate_their_police_and_edited_by_candidate_or_edit_delegate() {
    let forces = [force("E23000030")];
    let own = Resource::Candidate {
        id: CandidateId(7),
        forces: &forces,
    };
    for a in [
        Action::ViewPlan,
        Action::EditPlan,
        Action::RegisterForBriefing,
    ] {
        assert!(can(&candidate(7), a, &own, NOW).is_allowed(), "{a:?}");
        assert!(!can(&candidate(8), a, &own, NOW).is_allowed(), "{a:?}");
        assert!(
            can(&delegate(7, &[Grant::View, Grant::Edit]), a, &own, NOW).is_allowed(),
            "{a:?}"
        );
        assert!(
            !can(&actor(Role::Admin), a, &own, NOW).is_allowed(),
            "{a:?}"
        );
    }
    // Seeing the plan: View delegates, the candidate's police and coordinators.
    assert!(can(&delegate(7, &[Grant::View]), Action::ViewPlan, &own, NOW).is_allowed());
    assert!(can(&contact("E23000030"), Action::ViewPlan, &own, NOW).is_allowed());
    assert!(!can(&contact("E23000028"), Action::ViewPlan, &own, NOW).is_allowed());
    assert!(can(&actor(Role::Coordinator), Action::ViewPlan, &own, NOW).is_allowed());
    // Changing it: not with View or Report only, never the police or coordinators.
    for who in [
        delegate(7, &[Grant::View, Grant::Report]),
        contact("E23000030"),
        actor(Role::Coordinator),
    ] {
        assert!(
            !can(&who, Action::EditPlan, &own, NOW).is_allowed(),
            "{who:?}"
        );
        assert!(
            !can(&who, Action::RegisterForBriefing, &own, NOW).is_allowed(),
            "{who:?}"
        );
    }
}

#[test]
fn briefings_and_outreach_belong_to_a_force_or_to_coordinators() {
    let tv = force("E23000029");
    let essex = force("E23000028");
    for a in [Action::ManageBriefings, Action::Outreach] {
        assert!(can(&contact("E23000029"), a, &Resource::Force(&tv), NOW).is_allowed());
        assert!(!can(&contact("E23000029"), a, &Resource::Force(&essex), NOW).is_allowed());
        // National briefings and national lists: coordinators only.
        assert!(!can(&contact("E23000029"), a, &Resource::Service, NOW).is_allowed());
        assert!(can(&actor(Role::Coordinator), a, &Resource::Service, NOW).is_allowed());
        assert!(can(&actor(Role::Coordinator), a, &Resource::Force(&essex), NOW).is_allowed());
        for who in [
            candidate(7),
            delegate(7, &[Grant::Edit]),
            actor(Role::Admin),
        ] {
            assert!(
                !can(&who, a, &Resource::Force(&tv), NOW).is_allowed(),
                "{who:?}"
            );
            assert!(
                !can(&who, a, &Resource::Service, NOW).is_allowed(),
                "{who:?}"
            );
        }
    }
}
