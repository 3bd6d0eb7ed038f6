//! Every route × every role × own / another candidate / another force, and every route without
//! credentials. The list of routes is read from the router's source, so a new route that is
//! not classified here fails this test.

mod common;

use std::collections::BTreeSet;

use axum::http::StatusCode;
use common::accounts::signed_in;
use common::{Client, enrol_with_password, state};
use shield_domain::audit::{AuditAction, AuditEvent, AuditOutcome};
use shield_domain::{ForceCode, Role, UserId};
use shield_store::accounts::{NewInvitation, NewUser};
use shield_testkit::{TestDb, both_backends};
use shield_web::AppState;

both_backends!(route_walk_every_role_and_scope);

/// Who may reach a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Part of signing in or enrolling: reachable without a session, guarded by its own state.
    SignInFlow,
    /// The signed-in candidate's own record only.
    CandidateOwn,
    /// Anyone signed in, about their own account (sign-in methods).
    OwnAccount,
    /// Enrolment lists and invitations: police of the force, coordinators.
    Enrolment,
    /// Reporting a concern: the candidate (or a delegate granted `Report`).
    ReportCreate,
    /// A force's report queue and the offender search: its police, coordinators.
    ReportQueue,
    /// One report of Claire's (Thames Valley, Hampshire informed): Claire, the police of
    /// either force, coordinators; never another candidate, another force or an admin. Also
    /// one of Claire's registered activities, which the same people see.
    ReportOwn,
    /// Acting on a report as police: police of the candidate's forces and coordinators only.
    ReportHandle,
    /// One of Claire's check-in sessions: Claire (or a delegate granted `Report`) only; never
    /// another candidate, the police, coordinators or admins. Also changing one of Claire's
    /// activities (its checklist, cancelling it), which only her side does.
    CheckinOwn,
    /// The signed-in candidate's own delegates: that candidate only (never a delegate).
    Delegates,
    /// A delegate's own list of the candidates they act for: delegates only.
    ActingFor,
    /// One candidate's reports as their delegate sees them (`View`): the candidate, a delegate
    /// granted `View`, police of the candidate's forces, coordinators.
    CandidateReports,
    /// Published guidance: everyone signed in.
    GuidanceRead,
    /// Drafting, editing, history, publishing guidance: coordinators only.
    GuidanceManage,
    /// The calendar feed: no session needed, the secret token in the path is the credential;
    /// a wrong one is a 404 for everyone.
    CalendarFeed,
    /// The national view of requests for additional security (CSV, consistency): coordinators.
    CoordinatorOnly,
    /// One of Claire's requests for additional security, awaiting assessment: assessing it is
    /// for the police of her forces and coordinators.
    SecurityAssess,
    /// One of Claire's requests, assessed by the Thames Valley contact: deciding it is for
    /// coordinators only (and never its assessor: `tests/security_requests.rs`).
    SecurityDecide,
    /// Asking for reconsideration of Claire's request: Claire or her delegate (Report) only.
    SecurityReconsider,
    /// The security plan and briefings as the candidate sees them (`ViewPlan`): the candidate,
    /// a delegate granted `View`; never the police or admins without `?candidate=`.
    PlanView,
    /// Changing the plan, registering for briefings (`EditPlan`, `RegisterForBriefing`): the
    /// candidate or a delegate granted `Edit` only.
    PlanEdit,
    /// Scheduling briefings and outreach lists: a force's contacts (their force) and
    /// coordinators.
    Organiser,
    /// One briefing as its organiser: the Thames Valley briefing's force contacts and
    /// coordinators.
    BriefingOrganiser,
}

/// (method, route template as written in the router, a concrete path, access).
const WALK: &[(&str, &str, &str, Access)] = &[
    ("GET", "/", "/", Access::Public),
    (
        "GET",
        "/constituencies/{code}",
        "/constituencies/E14009905",
        Access::Public,
    ),
    ("GET", "/forces", "/forces", Access::Public),
    ("GET", "/healthz", "/healthz", Access::Public),
    ("GET", "/readyz", "/readyz", Access::Public),
    ("GET", "/static/app.css", "/static/app.css", Access::Public),
    (
        "GET",
        "/static/passkeys.js",
        "/static/passkeys.js",
        Access::Public,
    ),
    (
        "GET",
        "/static/password-check.js",
        "/static/password-check.js",
        Access::Public,
    ),
    ("GET", "/range/{prefix}", "/range/5baa6", Access::Public),
    ("GET", "/guidance", "/guidance", Access::GuidanceRead),
    ("POST", "/guidance", "/guidance", Access::GuidanceManage),
    (
        "GET",
        "/guidance/new",
        "/guidance/new",
        Access::GuidanceManage,
    ),
    (
        "GET",
        "/guidance/{slug}",
        "/guidance/is-this-worth-reporting",
        Access::GuidanceRead,
    ),
    (
        "GET",
        "/guidance/{slug}/edit",
        "/guidance/is-this-worth-reporting/edit",
        Access::GuidanceManage,
    ),
    (
        "POST",
        "/guidance/{slug}/edit",
        "/guidance/is-this-worth-reporting/edit",
        Access::GuidanceManage,
    ),
    (
        "GET",
        "/guidance/{slug}/history",
        "/guidance/is-this-worth-reporting/history",
        Access::GuidanceManage,
    ),
    (
        "GET",
        "/guidance/{slug}/versions/{version}",
        "/guidance/is-this-worth-reporting/versions/1",
        Access::GuidanceManage,
    ),
    (
        "POST",
        "/guidance/{slug}/publish",
        "/guidance/is-this-worth-reporting/publish",
        Access::GuidanceManage,
    ),
    (
        "POST",
        "/guidance/{slug}/unpublish",
        "/guidance/is-this-worth-reporting/unpublish",
        Access::GuidanceManage,
    ),
    (
        "GET",
        "/api/guidance",
        "/api/guidance",
        Access::GuidanceRead,
    ),
    (
        "GET",
        "/api/guidance/{slug}",
        "/api/guidance/is-this-worth-reporting",
        Access::GuidanceRead,
    ),
    (
        "GET",
        "/passwords/check",
        "/passwords/check",
        Access::Public,
    ),
    (
        "POST",
        "/sign-in/passkey/options",
        "/sign-in/passkey/options",
        Access::SignInFlow,
    ),
    (
        "POST",
        "/sign-in/passkey",
        "/sign-in/passkey",
        Access::SignInFlow,
    ),
    (
        "POST",
        "/invitations/{token}/passkey/options",
        "/invitations/not-a-real-token-0000000000000000000000000/passkey/options",
        Access::SignInFlow,
    ),
    (
        "POST",
        "/invitations/{token}/passkey",
        "/invitations/not-a-real-token-0000000000000000000000000/passkey",
        Access::SignInFlow,
    ),
    (
        "GET",
        "/account/passkeys",
        "/account/passkeys",
        Access::OwnAccount,
    ),
    (
        "POST",
        "/account/passkeys",
        "/account/passkeys",
        Access::OwnAccount,
    ),
    (
        "POST",
        "/account/passkeys/options",
        "/account/passkeys/options",
        Access::OwnAccount,
    ),
    (
        "POST",
        "/account/passkeys/{id}/remove",
        "/account/passkeys/999999/remove",
        Access::OwnAccount,
    ),
    ("GET", "/sign-in", "/sign-in", Access::SignInFlow),
    ("POST", "/sign-in", "/sign-in", Access::SignInFlow),
    ("GET", "/sign-in/code", "/sign-in/code", Access::SignInFlow),
    ("POST", "/sign-in/code", "/sign-in/code", Access::SignInFlow),
    (
        "GET",
        "/sign-in/again",
        "/sign-in/again",
        Access::SignInFlow,
    ),
    ("POST", "/sign-out", "/sign-out", Access::SignInFlow),
    (
        "GET",
        "/invitations/{token}",
        "/invitations/not-a-real-token-0000000000000000000000000",
        Access::SignInFlow,
    ),
    (
        "POST",
        "/invitations/{token}",
        "/invitations/not-a-real-token-0000000000000000000000000",
        Access::SignInFlow,
    ),
    (
        "GET",
        "/enrol/authenticator",
        "/enrol/authenticator",
        Access::SignInFlow,
    ),
    (
        "POST",
        "/enrol/authenticator",
        "/enrol/authenticator",
        Access::SignInFlow,
    ),
    (
        "GET",
        "/api/openapi.json",
        "/api/openapi.json",
        Access::Public,
    ),
    ("GET", "/api/me", "/api/me", Access::OwnAccount),
    (
        "GET",
        "/api/me/contacts",
        "/api/me/contacts",
        Access::CandidateOwn,
    ),
    ("GET", "/home", "/home", Access::CandidateOwn),
    ("GET", "/home/viewed", "/home/viewed", Access::CandidateOwn),
    ("GET", "/enrolment", "/enrolment", Access::Enrolment),
    (
        "POST",
        "/enrolment/{candidate}/invite",
        "/enrolment/{priya}/invite",
        Access::Enrolment,
    ),
    ("GET", "/details", "/details", Access::CandidateOwn),
    ("POST", "/details", "/details", Access::CandidateOwn),
    ("GET", "/reports", "/reports", Access::ReportQueue),
    ("POST", "/reports", "/reports", Access::ReportCreate),
    ("GET", "/reports/new", "/reports/new", Access::ReportCreate),
    (
        "GET",
        "/reports/mine",
        "/reports/mine",
        Access::CandidateOwn,
    ),
    ("GET", "/scan", "/scan", Access::ReportCreate),
    ("POST", "/scan", "/scan", Access::ReportCreate),
    ("POST", "/scan/report", "/scan/report", Access::ReportCreate),
    (
        "POST",
        "/scan/settings",
        "/scan/settings",
        Access::ReportCreate,
    ),
    ("POST", "/api/scan", "/api/scan", Access::ReportCreate),
    (
        "GET",
        "/reports/search",
        "/reports/search?offender=troll_99",
        Access::ReportQueue,
    ),
    (
        "GET",
        "/reports/{id}",
        "/reports/{report}",
        Access::ReportOwn,
    ),
    (
        "POST",
        "/reports/{id}/acknowledge",
        "/reports/{report}/acknowledge",
        Access::ReportHandle,
    ),
    (
        "POST",
        "/reports/{id}/status",
        "/reports/{report}/status",
        Access::ReportHandle,
    ),
    (
        "POST",
        "/reports/{id}/priority",
        "/reports/{report}/priority",
        Access::ReportHandle,
    ),
    (
        "POST",
        "/reports/{id}/messages",
        "/reports/{report}/messages",
        Access::ReportOwn,
    ),
    (
        "POST",
        "/reports/{id}/notes",
        "/reports/{report}/notes",
        Access::ReportHandle,
    ),
    (
        "POST",
        "/reports/{id}/links",
        "/reports/{report}/links",
        Access::ReportHandle,
    ),
    (
        "GET",
        "/reports/{id}/evidence/{evidence}",
        "/reports/{report}/evidence/{evidence}",
        Access::ReportOwn,
    ),
    (
        "GET",
        "/api/me/reports",
        "/api/me/reports",
        Access::CandidateOwn,
    ),
    ("GET", "/api/reports", "/api/reports", Access::ReportQueue),
    ("POST", "/api/reports", "/api/reports", Access::ReportCreate),
    (
        "GET",
        "/api/reports/{id}",
        "/api/reports/{report}",
        Access::ReportOwn,
    ),
    (
        "POST",
        "/api/reports/{id}/acknowledge",
        "/api/reports/{report}/acknowledge",
        Access::ReportHandle,
    ),
    (
        "POST",
        "/api/reports/{id}/status",
        "/api/reports/{report}/status",
        Access::ReportHandle,
    ),
    (
        "POST",
        "/api/reports/{id}/messages",
        "/api/reports/{report}/messages",
        Access::ReportOwn,
    ),
    (
        "GET",
        "/check-in/buddy",
        "/check-in/buddy",
        Access::CandidateOwn,
    ),
    (
        "POST",
        "/check-in/buddy",
        "/check-in/buddy",
        Access::CandidateOwn,
    ),
    ("GET", "/check-in", "/check-in", Access::ReportCreate),
    ("POST", "/check-in", "/check-in", Access::ReportCreate),
    (
        "POST",
        "/check-in/pins",
        "/check-in/pins",
        Access::ReportCreate,
    ),
    (
        "POST",
        "/check-in/panic",
        "/check-in/panic",
        Access::ReportCreate,
    ),
    (
        "GET",
        "/check-in/{id}",
        "/check-in/{checkin}",
        Access::CheckinOwn,
    ),
    (
        "POST",
        "/check-in/{id}/safe",
        "/check-in/{checkin}/safe",
        Access::CheckinOwn,
    ),
    (
        "POST",
        "/check-in/{id}/end",
        "/check-in/{checkin}/end",
        Access::CheckinOwn,
    ),
    (
        "POST",
        "/api/check-ins",
        "/api/check-ins",
        Access::ReportCreate,
    ),
    (
        "POST",
        "/api/check-ins/panic",
        "/api/check-ins/panic",
        Access::ReportCreate,
    ),
    (
        "GET",
        "/api/check-ins/{id}",
        "/api/check-ins/{checkin}",
        Access::CheckinOwn,
    ),
    (
        "POST",
        "/api/check-ins/{id}/safe",
        "/api/check-ins/{checkin}/safe",
        Access::CheckinOwn,
    ),
    (
        "POST",
        "/api/check-ins/{id}/end",
        "/api/check-ins/{checkin}/end",
        Access::CheckinOwn,
    ),
    (
        "POST",
        "/account/sign-out-everywhere",
        "/account/sign-out-everywhere",
        Access::OwnAccount,
    ),
    ("GET", "/activities", "/activities", Access::ReportCreate),
    ("POST", "/activities", "/activities", Access::ReportCreate),
    (
        "GET",
        "/activities/force",
        "/activities/force",
        Access::ReportQueue,
    ),
    (
        "GET",
        "/activities/force/calendar",
        "/activities/force/calendar",
        Access::ReportQueue,
    ),
    (
        "GET",
        "/activities/{id}",
        "/activities/{activity}",
        Access::ReportOwn,
    ),
    (
        "POST",
        "/activities/{id}/checklist",
        "/activities/{activity}/checklist",
        Access::CheckinOwn,
    ),
    (
        "POST",
        "/activities/{id}/cancel",
        "/activities/{activity}/cancel",
        Access::CheckinOwn,
    ),
    (
        "GET",
        "/api/activities/force/calendar",
        "/api/activities/force/calendar",
        Access::ReportQueue,
    ),
    (
        "GET",
        "/api/activities/{id}",
        "/api/activities/{activity}",
        Access::ReportOwn,
    ),
    (
        "POST",
        "/api/activities/{id}/checklist",
        "/api/activities/{activity}/checklist",
        Access::CheckinOwn,
    ),
    (
        "POST",
        "/api/activities/{id}/cancel",
        "/api/activities/{activity}/cancel",
        Access::CheckinOwn,
    ),
    (
        "GET",
        "/api/check-ins/buddy",
        "/api/check-ins/buddy",
        Access::CandidateOwn,
    ),
    (
        "POST",
        "/api/check-ins/buddy",
        "/api/check-ins/buddy",
        Access::CandidateOwn,
    ),
    ("GET", "/calendar", "/calendar", Access::ReportQueue),
    ("POST", "/calendar", "/calendar", Access::ReportQueue),
    (
        "POST",
        "/calendar/revoke",
        "/calendar/revoke",
        Access::ReportQueue,
    ),
    (
        "GET",
        "/calendar/{file}",
        "/calendar/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics",
        Access::CalendarFeed,
    ),
    (
        "GET",
        "/api/activities",
        "/api/activities",
        Access::ReportCreate,
    ),
    (
        "POST",
        "/api/activities",
        "/api/activities",
        Access::ReportCreate,
    ),
    ("GET", "/plan", "/plan", Access::PlanView),
    ("GET", "/plan/{step}", "/plan/two-step", Access::PlanView),
    ("POST", "/plan/{step}", "/plan/two-step", Access::PlanEdit),
    (
        "POST",
        "/plan/reminders",
        "/plan/reminders",
        Access::PlanEdit,
    ),
    ("GET", "/briefings", "/briefings", Access::PlanView),
    (
        "GET",
        "/briefings/{id}",
        "/briefings/{briefing}",
        Access::PlanView,
    ),
    (
        "POST",
        "/briefings/{id}/register",
        "/briefings/{briefing}/register",
        Access::PlanEdit,
    ),
    (
        "POST",
        "/briefings/{id}/cancel",
        "/briefings/{briefing}/cancel",
        Access::PlanEdit,
    ),
    (
        "GET",
        "/briefings/manage",
        "/briefings/manage",
        Access::Organiser,
    ),
    (
        "POST",
        "/briefings/manage",
        "/briefings/manage",
        Access::Organiser,
    ),
    (
        "GET",
        "/briefings/{id}/attendance",
        "/briefings/{briefing}/attendance",
        Access::BriefingOrganiser,
    ),
    (
        "POST",
        "/briefings/{id}/attendance",
        "/briefings/{briefing}/attendance",
        Access::BriefingOrganiser,
    ),
    ("GET", "/outreach", "/outreach", Access::Organiser),
    (
        "POST",
        "/outreach/remind",
        "/outreach/remind",
        Access::Organiser,
    ),
    ("GET", "/api/plan", "/api/plan", Access::PlanView),
    (
        "POST",
        "/api/plan/reminders",
        "/api/plan/reminders",
        Access::PlanEdit,
    ),
    (
        "POST",
        "/api/plan/{step}",
        "/api/plan/two-step",
        Access::PlanEdit,
    ),
    ("GET", "/api/briefings", "/api/briefings", Access::PlanView),
    (
        "POST",
        "/api/briefings",
        "/api/briefings",
        Access::Organiser,
    ),
    (
        "POST",
        "/api/briefings/{id}/register",
        "/api/briefings/{briefing}/register",
        Access::PlanEdit,
    ),
    (
        "POST",
        "/api/briefings/{id}/cancel",
        "/api/briefings/{briefing}/cancel",
        Access::PlanEdit,
    ),
    (
        "POST",
        "/api/briefings/{id}/attendance",
        "/api/briefings/{briefing}/attendance",
        Access::BriefingOrganiser,
    ),
    (
        "GET",
        "/api/briefings/{id}/registrants",
        "/api/briefings/{briefing}/registrants",
        Access::BriefingOrganiser,
    ),
    ("GET", "/api/outreach", "/api/outreach", Access::Organiser),
    (
        "POST",
        "/api/outreach/remind",
        "/api/outreach/remind",
        Access::Organiser,
    ),
    ("GET", "/delegates", "/delegates", Access::Delegates),
    ("POST", "/delegates", "/delegates", Access::Delegates),
    (
        "POST",
        "/delegates/{user}/grants",
        "/delegates/999999/grants",
        Access::Delegates,
    ),
    (
        "POST",
        "/delegates/{user}/revoke",
        "/delegates/999999/revoke",
        Access::Delegates,
    ),
    ("GET", "/acting-for", "/acting-for", Access::ActingFor),
    (
        "GET",
        "/security-requests",
        "/security-requests",
        Access::ReportQueue,
    ),
    (
        "POST",
        "/security-requests",
        "/security-requests",
        Access::ReportCreate,
    ),
    (
        "GET",
        "/security-requests/new",
        "/security-requests/new",
        Access::ReportCreate,
    ),
    (
        "GET",
        "/security-requests/mine",
        "/security-requests/mine",
        Access::ReportCreate,
    ),
    (
        "GET",
        "/security-requests/export.csv",
        "/security-requests/export.csv",
        Access::CoordinatorOnly,
    ),
    (
        "GET",
        "/security-requests/consistency",
        "/security-requests/consistency",
        Access::CoordinatorOnly,
    ),
    (
        "GET",
        "/security-requests/{id}",
        "/security-requests/{request}",
        Access::ReportOwn,
    ),
    (
        "GET",
        "/security-requests/{id}/assess",
        "/security-requests/{request}/assess",
        Access::SecurityAssess,
    ),
    (
        "POST",
        "/security-requests/{id}/assess",
        "/security-requests/{request}/assess",
        Access::SecurityAssess,
    ),
    (
        "GET",
        "/security-requests/{id}/decide",
        "/security-requests/{assessed}/decide",
        Access::SecurityDecide,
    ),
    (
        "POST",
        "/security-requests/{id}/decide",
        "/security-requests/{assessed}/decide",
        Access::SecurityDecide,
    ),
    (
        "POST",
        "/security-requests/{id}/reconsider",
        "/security-requests/{request}/reconsider",
        Access::SecurityReconsider,
    ),
    (
        "GET",
        "/api/security-requests",
        "/api/security-requests",
        Access::ReportQueue,
    ),
    (
        "POST",
        "/api/security-requests",
        "/api/security-requests",
        Access::ReportCreate,
    ),
    (
        "GET",
        "/api/security-requests/mine",
        "/api/security-requests/mine",
        Access::ReportCreate,
    ),
    (
        "GET",
        "/api/security-requests/consistency",
        "/api/security-requests/consistency",
        Access::CoordinatorOnly,
    ),
    (
        "GET",
        "/api/security-requests/{id}",
        "/api/security-requests/{request}",
        Access::ReportOwn,
    ),
    (
        "POST",
        "/api/security-requests/{id}/assessment",
        "/api/security-requests/{request}/assessment",
        Access::SecurityAssess,
    ),
    (
        "POST",
        "/api/security-requests/{id}/decision",
        "/api/security-requests/{assessed}/decision",
        Access::SecurityDecide,
    ),
    (
        "POST",
        "/api/security-requests/{id}/reconsider",
        "/api/security-requests/{request}/reconsider",
        Access::SecurityReconsider,
    ),
    (
        "GET",
        "/acting-for/{candidate}/reports",
        "/acting-for/{claire}/reports",
        Access::CandidateReports,
    ),
];

/// Seals with the app's keys, as the web layer does.
struct TestSealer<'a>(&'a shield_crypto::KeyRing);

impl shield_store::Sealer for TestSealer<'_> {
    fn seal(&self, table: &'static str, column: &'static str, id: i64, plain: &[u8]) -> Vec<u8> {
        shield_crypto::seal(
            self.0,
            shield_crypto::Aad::new(table, column, &id.to_string()),
            plain,
        )
    }
}

/// A report of Claire's with one text file of evidence, made straight in the store.
async fn claire_report(state: &AppState, claire: &Client) -> (i64, i64) {
    let actor_user = claire_user(state, claire).await;
    let candidate = state
        .store
        .actor(actor_user, state.clock.now_ms())
        .await
        .unwrap()
        .unwrap()
        .candidate
        .unwrap();
    let report = shield_store::NewReport {
        candidate_id: candidate,
        reported_by: actor_user,
        category: shield_domain::report::Category::OnlineAbuse,
        happening_now: false,
        priority: shield_domain::report::Priority::P3,
        reasons: vec!["Category: online abuse".into()],
        details: br#"{"what":"Abusive replies","who":"@troll_99"}"#.to_vec(),
        offender_tokens: vec![shield_crypto::blind_index(
            &state.keys,
            "offender",
            "troll_99",
        )],
        evidence: vec![shield_store::NewEvidence {
            kind: "text".into(),
            filename: "replies.txt".into(),
            content: b"you will regret standing".to_vec(),
            sha256: "00".repeat(32),
        }],
        silent: false,
    };
    let at = chrono::DateTime::from_timestamp_millis(state.clock.now_ms()).unwrap();
    let audit = AuditEvent::new(
        AuditAction::parse("report_created").unwrap(),
        AuditOutcome::Success,
        at,
    );
    let created = state
        .store
        .create_report(
            &report,
            &TestSealer(&state.keys),
            state.clock.now_ms(),
            &audit,
        )
        .await
        .unwrap();
    let evidence = state.store.report_evidence(created.id).await.unwrap();
    (created.id, evidence[0].id)
}

/// A request for additional security of Claire's, made straight in the store; with
/// `assessed_by`, also assessed (awaiting a decision).
async fn claire_security_request(
    state: &AppState,
    claire: &Client,
    assessed_by: Option<UserId>,
) -> i64 {
    let user = claire_user(state, claire).await;
    let candidate = candidate_of(state, claire).await;
    let now = state.clock.now_ms();
    let at = chrono::DateTime::from_timestamp_millis(now).unwrap();
    let event = |action: &str| {
        AuditEvent::new(
            AuditAction::parse(action).unwrap(),
            AuditOutcome::Success,
            at,
        )
    };
    let windows = shield_domain::security::Windows::default();
    let id = state
        .store
        .create_security_request(
            &shield_store::NewSecurityRequest {
                candidate_id: candidate,
                requested_by: user,
                kind: "home_survey".into(),
                details: br#"{"period":"Until polling day","reasons":"Letters at home"}"#.to_vec(),
                linked_reports: vec![],
            },
            &TestSealer(&state.keys),
            &windows,
            now,
            &event("security_requested"),
        )
        .await
        .unwrap()
        .unwrap();
    if let Some(assessor) = assessed_by {
        state
            .store
            .assess_security_request(
                id,
                assessor,
                &shield_store::NewAssessment {
                    scores: "fixation=1,escalation=1,approach=1,capability=1,intent=1,home_address_public=1,lone_working=1,events_scheduled=1,previous_incidents=1,impact=1".into(),
                    rating: "medium".into(),
                    recommendation: "approve".into(),
                    measures: vec!["home_survey".into()],
                    rationale: "Seen".into(),
                },
                &TestSealer(&state.keys),
                &windows,
                now,
                &event("security_assessed"),
            )
            .await
            .unwrap()
            .unwrap();
    }
    id
}

/// A live check-in session of Claire's, made straight in the store.
async fn claire_checkin(state: &AppState, claire: &Client) -> i64 {
    let user = claire_user(state, claire).await;
    let candidate = state
        .store
        .actor(user, state.clock.now_ms())
        .await
        .unwrap()
        .unwrap()
        .candidate
        .unwrap();
    let now = state.clock.now_ms();
    let at = chrono::DateTime::from_timestamp_millis(now).unwrap();
    let audit = AuditEvent::new(
        AuditAction::parse("checkin_started").unwrap(),
        AuditOutcome::Success,
        at,
    );
    let session = shield_store::NewCheckin {
        candidate_id: candidate,
        started_by: user,
        kind: "canvassing".into(),
        place: "Elm Road".into(),
        interval_ms: 30 * 60_000,
        ends_at_ms: now + 2 * 60 * 60_000,
        buddy: None,
    };
    state
        .store
        .start_checkin(&session, &TestSealer(&state.keys), now, &audit)
        .await
        .unwrap()
}

/// A hustings of Claire's next week, registered straight in the store.
async fn claire_activity(state: &AppState, claire: &Client) -> i64 {
    let user = claire_user(state, claire).await;
    let candidate = candidate_of(state, claire).await;
    let now = state.clock.now_ms();
    let at = chrono::DateTime::from_timestamp_millis(now).unwrap();
    let audit = AuditEvent::new(
        AuditAction::parse("activity_registered").unwrap(),
        AuditOutcome::Success,
        at,
    );
    let activity = shield_store::NewActivity {
        candidate_id: candidate,
        created_by: user,
        kind: "hustings".into(),
        starts_at_ms: now + 7 * 24 * 3_600_000,
        ends_at_ms: now + 7 * 24 * 3_600_000 + 2 * 3_600_000,
        place: "St Mary's Church Hall".into(),
        people: 80,
        alone: false,
        checklist: vec!["exits".into()],
    };
    state
        .store
        .create_activity(&activity, &TestSealer(&state.keys), now, &audit)
        .await
        .unwrap()
}

async fn candidate_of(state: &AppState, client: &Client) -> shield_domain::CandidateId {
    let user = claire_user(state, client).await;
    state
        .store
        .actor(user, state.clock.now_ms())
        .await
        .unwrap()
        .unwrap()
        .candidate
        .unwrap()
}

/// An enrolled delegate acting for `candidate` with View and Report, signed in.
async fn delegate_of(
    state: &AppState,
    db: &TestDb,
    candidate: shield_domain::CandidateId,
    email: &str,
) -> Client {
    use shield_domain::policy::Grant;
    let client = signed_in(state, Role::Delegate, email, vec![]).await.0;
    let now = state.clock.now_ms();
    let at = chrono::DateTime::from_timestamp_millis(now).unwrap();
    let audit = AuditEvent::new(
        AuditAction::parse("delegate_added").unwrap(),
        AuditOutcome::Success,
        at,
    );
    let added = db
        .store
        .add_delegate(
            candidate,
            &shield_store::delegates::NewDelegate {
                display_name: "Test Agent".into(),
                email: email.into(),
                grants: [Grant::View, Grant::Report].into_iter().collect(),
            },
            &NewInvitation {
                token_hash: shield_web::auth::token::hash(&format!("{email}-2")),
                expires_at_ms: now + 60_000,
                created_by: None,
            },
            now,
            &audit,
            None,
        )
        .await
        .unwrap();
    assert!(matches!(
        added,
        shield_store::delegates::DelegateAdded::Existing(_)
    ));
    client
}

async fn claire_user(state: &AppState, claire: &Client) -> UserId {
    let hash = shield_web::auth::token::hash(claire.cookie.as_ref().unwrap());
    state
        .store
        .session(&hash)
        .await
        .unwrap()
        .unwrap()
        .user_id
        .unwrap()
}

/// Route templates registered in the router, read from its source.
fn routes_in_router() -> BTreeSet<String> {
    let source = include_str!("../../shield-web/src/lib.rs");
    source
        .split(".route(")
        .skip(1)
        .map(|rest| {
            let rest = rest.trim_start();
            match rest.strip_prefix('"') {
                Some(literal) => literal.split('"').next().unwrap_or_default().to_owned(),
                // Paths held in constants: the known ones by name; anything else shows up
                // as its expression and fails the comparison until it is classified.
                None => {
                    let expr = rest.split(',').next().unwrap_or_default().trim();
                    match expr {
                        "assets::APP_CSS_PATH" => "/static/app.css".to_owned(),
                        "html::passkeys::JS_PATH" => "/static/passkeys.js".to_owned(),
                        "html::passwords::JS_PATH" => "/static/password-check.js".to_owned(),
                        other => other.to_owned(),
                    }
                }
            }
        })
        .collect()
}

async fn hit(client: &mut Client, method: &str, path: &str) -> common::Page {
    if method == "GET" {
        client.get(path).await
    } else {
        // The session's own form token: what any of its pages would carry.
        let csrf = match &client.cookie {
            Some(cookie) => {
                let hash = shield_web::auth::token::hash(cookie);
                client
                    .state
                    .store
                    .session(&hash)
                    .await
                    .unwrap()
                    .map(|s| s.csrf_token)
                    .unwrap_or_default()
            }
            None => client.get("/sign-in").await.csrf(),
        };
        client.post(path, &[("csrf", &csrf)]).await
    }
}

async fn route_walk_every_role_and_scope(db: TestDb) {
    // Every route in the router is classified here, and nothing here is stale.
    let walked: BTreeSet<String> = WALK.iter().map(|(_, t, _, _)| (*t).to_owned()).collect();
    assert_eq!(routes_in_router(), walked, "classify every route in WALK");

    shield::demo::load(db.store.as_ref()).await.unwrap();
    let (state, _) = state(db.store.clone());
    // The range lookup answers from the shipped list (it is public: 200 for everyone).
    let list_dir = tempfile::tempdir().unwrap();
    let list = list_dir.path().join("breached-passwords.bin");
    shield::breached::load_demo(&list).unwrap();
    let state = state.with_breached_passwords(shield_breached::RangeStore::new(&list));
    let people = shield::demo::invite_people(&state).await.unwrap();
    shield_web::guidance::seed_starter(&state).await.unwrap();

    // Two candidates: Claire (Thames Valley primary, Hampshire minority) and Aisha (Essex).
    let mut claire = Client::new(state.clone());
    enrol_with_password(&mut claire, &people[0].link_path).await;
    let aisha_invitee = db
        .store
        .candidate_invitees(None)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == "Aisha Rahman")
        .unwrap();
    let aisha_user = NewUser {
        role: Role::Candidate,
        display_name: aisha_invitee.name.clone(),
        email: aisha_invitee.email.clone(),
        candidate_id: Some(aisha_invitee.candidate_id),
        forces: Vec::new(),
    };
    let (_, token) = shield_web::invitations::issue(&state, &aisha_user, None)
        .await
        .unwrap();
    let mut aisha = Client::new(state.clone());
    enrol_with_password(&mut aisha, &format!("/invitations/{token}")).await;

    let tv = ForceCode::parse("E23000029").unwrap();
    let essex = ForceCode::parse("E23000028").unwrap();
    let mut contact_tv = signed_in(
        &state,
        Role::ForceContact,
        "tv.contact@police.example",
        vec![tv],
    )
    .await
    .0;
    let mut contact_essex = signed_in(
        &state,
        Role::ForceContact,
        "essex.contact@police.example",
        vec![essex],
    )
    .await
    .0;
    let mut coordinator = signed_in(&state, Role::Coordinator, "coord@shield.example", vec![])
        .await
        .0;
    let mut admin = signed_in(&state, Role::Admin, "admin@shield.example", vec![])
        .await
        .0;

    // Priya Lawson stands in Ashcombe and Rye Vale: Hampshire only.
    let priya = db
        .store
        .candidate_invitees(None)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == "Priya Lawson")
        .unwrap()
        .candidate_id;
    let (report, evidence) = claire_report(&state, &claire).await;
    let checkin = claire_checkin(&state, &claire).await;
    let activity = claire_activity(&state, &claire).await;
    let claire_id = candidate_of(&state, &claire).await;
    let aisha_id = candidate_of(&state, &aisha).await;
    // Delegates: Claire's agent (View + Report) and Aisha's (View + Report).
    let mut claire_delegate =
        delegate_of(&state, &db, claire_id, "agent.claire@civic.example").await;
    let mut aisha_delegate = delegate_of(&state, &db, aisha_id, "agent.aisha@civic.example").await;
    let security_request = claire_security_request(&state, &claire, None).await;
    let tv_user = claire_user(&state, &contact_tv).await;
    let assessed_request = claire_security_request(&state, &claire, Some(tv_user)).await;
    // A Thames Valley briefing (Claire may register; its organisers are TV's contacts).
    let briefing = {
        let audit = AuditEvent::new(
            AuditAction::parse("briefing_created").unwrap(),
            AuditOutcome::Success,
            chrono::Utc::now(),
        );
        let now = state.clock.now_ms();
        db.store
            .create_briefing(
                &shield_store::NewBriefing {
                    title: "Staying safe".into(),
                    force: Some(ForceCode::parse("E23000029").unwrap()),
                    online_url: "https://meet.example/x".into(),
                    venue: String::new(),
                    starts_at_ms: now + 3 * 86_400_000,
                    ends_at_ms: now + 3 * 86_400_000 + 3_600_000,
                    capacity: 20,
                    description: String::new(),
                    materials: Vec::new(),
                    created_by: claire_user(&state, &claire).await,
                },
                now,
                &audit,
            )
            .await
            .unwrap()
    };
    for &(method, template, path, access) in WALK {
        let path = &path
            .replace("{request}", &security_request.to_string())
            .replace("{assessed}", &assessed_request.to_string())
            .replace("{briefing}", &briefing.to_string())
            .replace("{checkin}", &checkin.to_string())
            .replace("{activity}", &activity.to_string())
            .replace("{claire}", &claire_id.to_string())
            .replace("{priya}", &priya.to_string())
            .replace("{report}", &report.to_string())
            .replace("{evidence}", &evidence.to_string());
        let path = path.as_str();
        let mut anonymous = Client::new(state.clone());
        let page = hit(&mut anonymous, method, path).await;
        assert!(
            page.status.as_u16() < 500,
            "{method} {template} anonymous: {}",
            page.status
        );
        match access {
            Access::Public => {
                assert_eq!(page.status, StatusCode::OK, "{method} {template} anonymous")
            }
            Access::SignInFlow => {}
            Access::CalendarFeed => {
                assert_eq!(page.status, StatusCode::NOT_FOUND, "{template} anonymous")
            }
            Access::CandidateOwn
            | Access::OwnAccount
            | Access::Enrolment
            | Access::ReportCreate
            | Access::ReportQueue
            | Access::ReportOwn
            | Access::ReportHandle
            | Access::CheckinOwn
            | Access::Delegates
            | Access::ActingFor
            | Access::CandidateReports
            | Access::CoordinatorOnly
            | Access::SecurityAssess
            | Access::SecurityDecide
            | Access::SecurityReconsider
            | Access::GuidanceRead
            | Access::GuidanceManage
            | Access::PlanView
            | Access::PlanEdit
            | Access::Organiser
            | Access::BriefingOrganiser => {
                // Without credentials: to sign-in for pages (POSTs without a session are 403).
                assert!(
                    page.location.as_deref() == Some("/sign-in")
                        || page.status == StatusCode::FORBIDDEN
                        || (template.starts_with("/api/")
                            && page.status == StatusCode::UNAUTHORIZED),
                    "{method} {template} anonymous: {} {:?}",
                    page.status,
                    page.location
                );
            }
        }
        if access == Access::CandidateOwn && method == "GET" {
            // Own record: allowed, and it is one's own.
            let own = hit(&mut claire, method, path).await;
            assert_eq!(own.status, StatusCode::OK, "{template} for its candidate");
            let other = hit(&mut aisha, method, path).await;
            assert_eq!(
                other.status,
                StatusCode::OK,
                "{template} for another candidate"
            );
            if template == "/home" {
                assert!(
                    own.text().contains("Claire Whitfield") && !own.text().contains("Aisha Rahman")
                );
                assert!(
                    other.text().contains("Aisha Rahman")
                        && !other.text().contains("Claire Whitfield")
                );
            }
            // Police of either force, coordinators, admins and delegates have no "own
            // candidate record".
            for (who, client) in [
                ("delegate", &mut claire_delegate),
                ("force contact (candidate's force)", &mut contact_tv),
                ("force contact (another force)", &mut contact_essex),
                ("coordinator", &mut coordinator),
                ("admin", &mut admin),
            ] {
                let page = hit(client, method, path).await;
                assert_eq!(page.status, StatusCode::FORBIDDEN, "{template} as {who}");
            }
        }
        if access == Access::OwnAccount && method == "GET" {
            for (who, client) in [
                ("delegate", &mut claire_delegate),
                ("candidate", &mut claire),
                ("force contact", &mut contact_tv),
                ("coordinator", &mut coordinator),
                ("admin", &mut admin),
            ] {
                let page = hit(client, method, path).await;
                assert_eq!(page.status, StatusCode::OK, "{template} as {who}");
            }
        }
        if access == Access::Enrolment && method == "GET" {
            assert_eq!(
                hit(&mut contact_tv, method, path).await.status,
                StatusCode::OK,
                "own force"
            );
            let other_force = hit(&mut contact_tv, method, "/enrolment?force=E23000028").await;
            assert_eq!(
                other_force.status,
                StatusCode::FORBIDDEN,
                "another force's enrolment"
            );
            assert_eq!(
                hit(&mut coordinator, method, path).await.status,
                StatusCode::OK
            );
            for (who, client) in [("candidate", &mut claire), ("admin", &mut admin)] {
                assert_eq!(
                    hit(client, method, path).await.status,
                    StatusCode::FORBIDDEN,
                    "{template} as {who}"
                );
            }
        }
        if access == Access::Enrolment && method == "POST" {
            for (who, client) in [
                ("candidate", &mut claire),
                ("force contact of another force", &mut contact_tv),
                ("force contact of another force", &mut contact_essex),
                ("admin", &mut admin),
            ] {
                let page = hit(client, method, path).await;
                assert_eq!(page.status, StatusCode::FORBIDDEN, "{template} as {who}");
            }
            let page = hit(&mut coordinator, method, path).await;
            assert_eq!(
                page.location.as_deref(),
                Some("/enrolment?sent=1"),
                "{template} as coordinator"
            );
        }
        if access == Access::ReportCreate && method == "GET" {
            assert_eq!(hit(&mut claire, method, path).await.status, StatusCode::OK);
            assert_eq!(
                hit(&mut claire_delegate, method, path).await.status,
                StatusCode::OK,
                "{template} as the candidate's delegate"
            );
            let other = format!("{path}?candidate={claire_id}");
            assert_eq!(
                hit(&mut aisha_delegate, method, &other).await.status,
                StatusCode::FORBIDDEN,
                "{template} for a candidate one is not a delegate of"
            );
        }
        if access == Access::ReportCreate {
            for (who, client) in [
                ("force contact", &mut contact_tv),
                ("coordinator", &mut coordinator),
                ("admin", &mut admin),
            ] {
                let page = hit(client, method, path).await;
                assert_eq!(
                    page.status,
                    StatusCode::FORBIDDEN,
                    "{method} {template} as {who}"
                );
            }
        }
        if access == Access::ReportQueue {
            for (who, client) in [
                ("force contact", &mut contact_tv),
                ("coordinator", &mut coordinator),
            ] {
                let page = hit(client, method, path).await;
                assert_eq!(page.status, StatusCode::OK, "{template} as {who}");
            }
            let other = format!(
                "{path}{}force=E23000028",
                if path.contains('?') { '&' } else { '?' }
            );
            assert_eq!(
                hit(&mut contact_tv, method, &other).await.status,
                StatusCode::FORBIDDEN,
                "{template}: another force's queue"
            );
            for (who, client) in [("candidate", &mut claire), ("admin", &mut admin)] {
                let page = hit(client, method, path).await;
                assert_eq!(page.status, StatusCode::FORBIDDEN, "{template} as {who}");
            }
        }
        if matches!(access, Access::ReportOwn | Access::ReportHandle) {
            if method == "GET" {
                for (who, client) in [
                    ("candidate", &mut claire),
                    ("the candidate's delegate", &mut claire_delegate),
                    ("force contact (owner force)", &mut contact_tv),
                    ("coordinator", &mut coordinator),
                ] {
                    let page = hit(client, method, path).await;
                    assert_eq!(page.status, StatusCode::OK, "{template} as {who}");
                }
            }
            let mut refused = vec![
                ("another candidate", &mut aisha),
                ("another candidate's delegate", &mut aisha_delegate),
                ("force contact of another force", &mut contact_essex),
                ("admin", &mut admin),
            ];
            if access == Access::ReportHandle {
                refused.push(("the candidate", &mut claire));
                refused.push(("the candidate's delegate", &mut claire_delegate));
            }
            for (who, client) in refused {
                let page = hit(client, method, path).await;
                assert_eq!(
                    page.status,
                    StatusCode::FORBIDDEN,
                    "{method} {template} as {who}"
                );
            }
        }
        if access == Access::CheckinOwn {
            if method == "GET" {
                let page = hit(&mut claire, method, path).await;
                assert_eq!(page.status, StatusCode::OK, "{template} as Claire");
            }
            for (who, client) in [
                ("another candidate", &mut aisha),
                ("force contact (candidate's force)", &mut contact_tv),
                ("force contact of another force", &mut contact_essex),
                ("coordinator", &mut coordinator),
                ("admin", &mut admin),
            ] {
                let page = hit(client, method, path).await;
                assert_eq!(
                    page.status,
                    StatusCode::FORBIDDEN,
                    "{method} {template} as {who}"
                );
            }
        }
        if access == Access::Delegates {
            if method == "GET" {
                assert_eq!(hit(&mut claire, method, path).await.status, StatusCode::OK);
            }
            for (who, client) in [
                ("delegate", &mut claire_delegate),
                ("force contact", &mut contact_tv),
                ("coordinator", &mut coordinator),
                ("admin", &mut admin),
            ] {
                let page = hit(client, method, path).await;
                assert_eq!(
                    page.status,
                    StatusCode::FORBIDDEN,
                    "{method} {template} as {who}"
                );
            }
        }
        if access == Access::ActingFor {
            let own = hit(&mut claire_delegate, method, path).await;
            assert_eq!(own.status, StatusCode::OK);
            assert!(own.text().contains("Claire Whitfield"), "{}", own.text());
            assert!(!own.text().contains("Aisha Rahman"));
            for (who, client) in [
                ("candidate", &mut claire),
                ("force contact", &mut contact_tv),
                ("coordinator", &mut coordinator),
                ("admin", &mut admin),
            ] {
                let page = hit(client, method, path).await;
                assert_eq!(page.status, StatusCode::FORBIDDEN, "{template} as {who}");
            }
        }
        if access == Access::CandidateReports {
            for (who, client) in [
                ("candidate", &mut claire),
                ("the candidate's delegate", &mut claire_delegate),
                ("force contact (owner force)", &mut contact_tv),
                ("coordinator", &mut coordinator),
            ] {
                let page = hit(client, method, path).await;
                assert_eq!(page.status, StatusCode::OK, "{template} as {who}");
            }
            for (who, client) in [
                ("another candidate", &mut aisha),
                ("another candidate's delegate", &mut aisha_delegate),
                ("force contact of another force", &mut contact_essex),
                ("admin", &mut admin),
            ] {
                let page = hit(client, method, path).await;
                assert_eq!(page.status, StatusCode::FORBIDDEN, "{template} as {who}");
            }
        }
        if access == Access::GuidanceRead {
            for (who, client) in [
                ("candidate", &mut claire),
                ("delegate", &mut claire_delegate),
                ("force contact", &mut contact_tv),
                ("coordinator", &mut coordinator),
                ("admin", &mut admin),
            ] {
                let page = hit(client, method, path).await;
                assert_eq!(page.status, StatusCode::OK, "{template} as {who}");
            }
        }
        if access == Access::GuidanceManage {
            if method == "GET" {
                let page = hit(&mut coordinator, method, path).await;
                assert_eq!(page.status, StatusCode::OK, "{template} as coordinator");
            }
            // (Coordinators' writes are exercised in tests/guidance.rs, not here, where
            // they would change what later rows of the walk read.)
            for (who, client) in [
                ("candidate", &mut claire),
                ("delegate", &mut claire_delegate),
                ("force contact", &mut contact_tv),
                ("admin", &mut admin),
            ] {
                let page = hit(client, method, path).await;
                assert_eq!(
                    page.status,
                    StatusCode::FORBIDDEN,
                    "{method} {template} as {who}"
                );
            }
        }
        if access == Access::PlanView && method == "GET" {
            for (who, client) in [
                ("candidate", &mut claire),
                ("delegate", &mut claire_delegate),
            ] {
                let page = hit(client, method, path).await;
                assert_eq!(page.status, StatusCode::OK, "{template} as {who}");
            }
            let sep = if path.contains('?') { '&' } else { '?' };
            let other = format!("{path}{sep}candidate={claire_id}");
            assert_eq!(
                hit(&mut aisha_delegate, method, &other).await.status,
                StatusCode::FORBIDDEN,
                "{template} for a candidate one is not a delegate of"
            );
            // The police see a plan of their force's candidate, read-only; not another force.
            if template == "/plan" || template == "/api/plan" {
                assert_eq!(
                    hit(&mut contact_tv, method, &other).await.status,
                    StatusCode::OK,
                    "{template}: the candidate's police"
                );
                assert_eq!(
                    hit(&mut contact_essex, method, &other).await.status,
                    StatusCode::FORBIDDEN,
                    "{template}: another force's police"
                );
            }
            for (who, client) in [
                ("force contact", &mut contact_tv),
                ("coordinator", &mut coordinator),
                ("admin", &mut admin),
            ] {
                let page = hit(client, method, path).await;
                assert_eq!(page.status, StatusCode::FORBIDDEN, "{template} as {who}");
            }
        }
        if access == Access::PlanEdit {
            // Claire's delegate holds View and Report, not Edit.
            for (who, client) in [
                ("delegate without Edit", &mut claire_delegate),
                ("force contact", &mut contact_tv),
                ("coordinator", &mut coordinator),
                ("admin", &mut admin),
            ] {
                let page = hit(client, method, path).await;
                assert_eq!(
                    page.status,
                    StatusCode::FORBIDDEN,
                    "{method} {template} as {who}"
                );
            }
            // (The API's writes need the header token, which `hit` does not send.)
            if !template.starts_with("/api/") {
                let page = hit(&mut claire, method, path).await;
                assert!(
                    page.status != StatusCode::FORBIDDEN && page.status.as_u16() < 500,
                    "{method} {template} as Claire: {}",
                    page.status
                );
            }
        }
        if access == Access::Organiser {
            for (who, client) in [
                ("force contact", &mut contact_tv),
                ("coordinator", &mut coordinator),
            ] {
                let page = hit(client, method, path).await;
                if method == "GET" {
                    assert_eq!(page.status, StatusCode::OK, "{template} as {who}");
                } else if !template.starts_with("/api/") {
                    assert!(
                        page.status != StatusCode::FORBIDDEN && page.status.as_u16() < 500,
                        "{method} {template} as {who}: {}",
                        page.status
                    );
                }
            }
            let sep = if path.contains('?') { '&' } else { '?' };
            let other = format!("{path}{sep}force=E23000028");
            assert_eq!(
                hit(&mut contact_tv, method, &other).await.status,
                StatusCode::FORBIDDEN,
                "{method} {template}: another force"
            );
            for (who, client) in [
                ("candidate", &mut claire),
                ("delegate", &mut claire_delegate),
                ("admin", &mut admin),
            ] {
                let page = hit(client, method, path).await;
                assert_eq!(
                    page.status,
                    StatusCode::FORBIDDEN,
                    "{method} {template} as {who}"
                );
            }
        }
        if access == Access::BriefingOrganiser {
            for (who, client) in [
                ("force contact (briefing's force)", &mut contact_tv),
                ("coordinator", &mut coordinator),
            ] {
                let page = hit(client, method, path).await;
                if method == "GET" {
                    assert_eq!(page.status, StatusCode::OK, "{template} as {who}");
                } else if !template.starts_with("/api/") {
                    assert!(
                        page.status != StatusCode::FORBIDDEN && page.status.as_u16() < 500,
                        "{method} {template} as {who}: {}",
                        page.status
                    );
                }
            }
            for (who, client) in [
                ("force contact of another force", &mut contact_essex),
                ("candidate", &mut claire),
                ("delegate", &mut claire_delegate),
                ("admin", &mut admin),
            ] {
                let page = hit(client, method, path).await;
                assert_eq!(
                    page.status,
                    StatusCode::FORBIDDEN,
                    "{method} {template} as {who}"
                );
            }
        }
        if access == Access::CalendarFeed {
            // A session is no credential for a feed; only its token is.
            for (who, client) in [
                ("candidate", &mut claire),
                ("force contact", &mut contact_tv),
                ("coordinator", &mut coordinator),
                ("admin", &mut admin),
            ] {
                let page = hit(client, method, path).await;
                assert_eq!(page.status, StatusCode::NOT_FOUND, "{template} as {who}");
            }
        }
        if access == Access::CoordinatorOnly {
            let page = hit(&mut coordinator, method, path).await;
            assert_eq!(page.status, StatusCode::OK, "{template} as coordinator");
            for (who, client) in [
                ("candidate", &mut claire),
                ("delegate", &mut claire_delegate),
                ("force contact", &mut contact_tv),
                ("admin", &mut admin),
            ] {
                let page = hit(client, method, path).await;
                assert_eq!(page.status, StatusCode::FORBIDDEN, "{template} as {who}");
            }
        }
        if matches!(
            access,
            Access::SecurityAssess | Access::SecurityDecide | Access::SecurityReconsider
        ) {
            let allowed: Vec<(&str, &mut Client)> = match access {
                Access::SecurityAssess => vec![
                    ("force contact (candidate's force)", &mut contact_tv),
                    ("coordinator", &mut coordinator),
                ],
                Access::SecurityDecide => vec![("coordinator", &mut coordinator)],
                _ => vec![("candidate", &mut claire)],
            };
            if method == "GET" {
                for (who, client) in allowed {
                    let page = hit(client, method, path).await;
                    assert_eq!(page.status, StatusCode::OK, "{template} as {who}");
                }
            }
            let mut refused: Vec<(&str, &mut Client)> = vec![
                ("another candidate", &mut aisha),
                ("another candidate's delegate", &mut aisha_delegate),
                ("force contact of another force", &mut contact_essex),
                ("admin", &mut admin),
            ];
            match access {
                Access::SecurityAssess => {
                    refused.push(("the candidate", &mut claire));
                    refused.push(("the candidate's delegate", &mut claire_delegate));
                }
                Access::SecurityDecide => {
                    refused.push(("the candidate", &mut claire));
                    refused.push(("force contact (candidate's force)", &mut contact_tv));
                }
                _ => {
                    refused.push(("force contact (candidate's force)", &mut contact_tv));
                    refused.push(("coordinator", &mut coordinator));
                }
            }
            for (who, client) in refused {
                let page = hit(client, method, path).await;
                assert_eq!(
                    page.status,
                    StatusCode::FORBIDDEN,
                    "{method} {template} as {who}"
                );
            }
        }
        if method == "POST" {
            // No state change without the form token, whoever asks.
            let mut tokenless = Client::new(state.clone());
            tokenless.cookie = claire.cookie.clone();
            let page = tokenless.post(path, &[]).await;
            assert!(
                matches!(page.status, StatusCode::FORBIDDEN | StatusCode::BAD_REQUEST),
                "{method} {template} without a token: {}",
                page.status
            );
        }
    }
}
