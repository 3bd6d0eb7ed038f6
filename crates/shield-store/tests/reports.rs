//! The report contract: routing to owner and informed forces, notifications in the same
//! transaction, first-wins acknowledgement, escalation lead → deputy → coordinator fired exactly
//! once, status rules, messages, offender search, links and evidence, the same on SQLite and
//! PostgreSQL.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate};
use serde_json::json;
use shield_domain::audit::{AuditAction, AuditEvent, AuditOutcome};
use shield_domain::report::{Category, Outcome, Priority, Status, Tier};
use shield_domain::{
    Candidate, CandidateId, Constituency, ConstituencyCode, ConstituencyForce, ContactRole,
    Election, ElectionId, Email, ForceCode, ForceContact, Nation, PersonId, PoliceForce, PopShare,
    Region, Role, UserId,
};
use shield_store::accounts::{Enrolment, NewInvitation, NewUser};
use shield_store::{
    AuditVerification, ClaimedMessage, ImportMode, NewEvidence, NewReport, OutboxChannel,
    ReportFilter, ReportRefusal, Sealer, StatusChange, Store, StoreError,
};
use shield_testkit::{TestDb, both_backends};

both_backends!(
    group_commit_isolates_a_failing_report,
    create_routes_to_owner_and_informed_forces,
    acknowledge_first_wins_and_cancels_the_deadline,
    deadlines_escalate_lead_deputy_coordinator,
    concurrent_firers_fire_each_deadline_once,
    a_failed_create_leaves_nothing,
    status_changes_follow_the_rules,
    messages_notify_the_other_side_and_notes_no_one,
    offender_search_and_links,
    evidence_and_sealed_columns_round_trip,
    priority_change_resets_the_deadline_and_webhooks_replace,
);

const T0: i64 = 1_720_000_000_000;
const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const LEASE: i64 = 60_000;

const TVP: &str = "E23000035";
const SURREY: &str = "E23000036";
const HANTS: &str = "E23000030";

/// Seals by prefixing `table.column.id|`, so a test sees what each value was bound to.
#[derive(Debug)]
struct TestSealer;

fn sealed(table: &str, column: &str, id: i64, plain: &[u8]) -> Vec<u8> {
    let mut out = format!("{table}.{column}.{id}|").into_bytes();
    out.extend_from_slice(plain);
    out
}

impl Sealer for TestSealer {
    fn seal(&self, table: &'static str, column: &'static str, id: i64, plain: &[u8]) -> Vec<u8> {
        sealed(table, column, id, plain)
    }
}

/// Fails (panics) when asked to seal evidence content: a create that dies half way through.
#[derive(Debug)]
struct FailingSealer;

impl Sealer for FailingSealer {
    fn seal(&self, table: &'static str, column: &'static str, id: i64, plain: &[u8]) -> Vec<u8> {
        assert!(
            !(table == "evidence" && column == "content"),
            "the key ring is unavailable"
        );
        sealed(table, column, id, plain)
    }
}

fn event(action: &str) -> AuditEvent {
    AuditEvent::new(
        AuditAction::parse(action).unwrap(),
        AuditOutcome::Success,
        DateTime::from_timestamp_millis(T0).unwrap(),
    )
}

fn force_code(code: &str) -> ForceCode {
    ForceCode::parse(code).unwrap()
}

struct Fixture {
    /// Jack Rankin, Windsor: Thames Valley (primary) and Surrey.
    jack: CandidateId,
    /// Alex Baker, Aldershot: Hampshire only.
    alex: CandidateId,
    jack_user: UserId,
    /// Thames Valley's lead, as an account.
    lead: UserId,
    /// One of Thames Valley's deputies, as an account.
    deputy: UserId,
}

async fn seed(db: &TestDb) -> Fixture {
    let s = db.store.as_ref();
    let constituency = |code: &str, name: &str| {
        let code = ConstituencyCode::parse(code).unwrap();
        let region = Region::parse("E12000008", "South East").unwrap();
        Constituency::new(code, name, None, Nation::England, Some(region)).unwrap()
    };
    s.import_constituencies(
        &[
            constituency("E14001063", "Aldershot"),
            constituency("E14001588", "Windsor"),
        ],
        ImportMode::Commit,
    )
    .await
    .unwrap();
    let force = |code: &str, name: &str| {
        PoliceForce::new(
            force_code(code),
            name,
            &format!("{name} Police"),
            None,
            Nation::England,
        )
        .unwrap()
    };
    s.import_forces(
        &[
            force(HANTS, "Hampshire"),
            force(TVP, "Thames Valley"),
            force(SURREY, "Surrey"),
        ],
        ImportMode::Commit,
    )
    .await
    .unwrap();
    let link = |c: &str, f: &str, share: f64, primary: bool| ConstituencyForce {
        constituency: ConstituencyCode::parse(c).unwrap(),
        force: force_code(f),
        pop_share: PopShare::new(share).unwrap(),
        is_primary: primary,
    };
    s.import_constituency_forces(
        &[
            link("E14001063", HANTS, 1.0, true),
            link("E14001588", TVP, 0.82, true),
            link("E14001588", SURREY, 0.18, false),
        ],
        ImportMode::Commit,
    )
    .await
    .unwrap();
    let election = Election::new(
        ElectionId::parse("parl.2024-07-04").unwrap(),
        NaiveDate::from_ymd_opt(2024, 7, 4).unwrap(),
        None,
    )
    .unwrap();
    let candidate = |person: &str, name: &str, constituency: &str| Candidate {
        person_id: PersonId::parse(person).unwrap(),
        election: election.id.clone(),
        name: name.into(),
        party: "Independent".into(),
        constituency: ConstituencyCode::parse(constituency).unwrap(),
        email: None,
        phone: None,
        elected: None,
    };
    s.import_candidates(
        std::slice::from_ref(&election),
        &[
            candidate("1", "Alex Baker", "E14001063"),
            candidate("2", "Jack Rankin", "E14001588"),
        ],
        ImportMode::Commit,
    )
    .await
    .unwrap();
    let contact = |f: &str, role: ContactRole, email: &str| ForceContact {
        force: force_code(f),
        role,
        name: format!("Officer {email}"),
        email: Email::parse(email).unwrap(),
        phone: None,
    };
    s.import_contacts(
        &[
            contact(TVP, ContactRole::Lead, "lead@tvp.example"),
            contact(TVP, ContactRole::Deputy, "dep1@tvp.example"),
            contact(TVP, ContactRole::Deputy, "dep2@tvp.example"),
            contact(SURREY, ContactRole::Lead, "lead@surrey.example"),
            contact(HANTS, ContactRole::Lead, "lead@hants.example"),
        ],
        ImportMode::Commit,
    )
    .await
    .unwrap();

    let rows = s.enrolment(None).await.unwrap();
    let id_of = |name: &str| rows.iter().find(|r| r.name == name).unwrap().candidate_id;
    let (jack, alex) = (id_of("Jack Rankin"), id_of("Alex Baker"));
    let jack_user = user(
        s,
        Role::Candidate,
        "jack@example.org",
        Some(jack),
        &[],
        1,
        true,
    )
    .await;
    let lead = user(
        s,
        Role::ForceContact,
        "lead@tvp.example",
        None,
        &[TVP],
        2,
        true,
    )
    .await;
    let deputy = user(
        s,
        Role::ForceContact,
        "dep1@tvp.example",
        None,
        &[TVP],
        3,
        true,
    )
    .await;
    user(
        s,
        Role::Coordinator,
        "coord1@cps.example",
        None,
        &[],
        4,
        true,
    )
    .await;
    user(
        s,
        Role::Coordinator,
        "coord2@cps.example",
        None,
        &[],
        5,
        true,
    )
    .await;
    // Invited but never enrolled: not on duty, never emailed.
    user(
        s,
        Role::Coordinator,
        "coord3@cps.example",
        None,
        &[],
        6,
        false,
    )
    .await;
    Fixture {
        jack,
        alex,
        jack_user,
        lead,
        deputy,
    }
}

async fn user(
    s: &dyn Store,
    role: Role,
    email: &str,
    candidate: Option<CandidateId>,
    forces: &[&str],
    token: u8,
    active: bool,
) -> UserId {
    let new = NewUser {
        role,
        display_name: format!("Person {token}"),
        email: email.into(),
        candidate_id: candidate,
        forces: forces.iter().map(|f| force_code(f)).collect(),
    };
    let invitation = NewInvitation {
        token_hash: [token; 32],
        expires_at_ms: T0 + 86_400_000,
        created_by: None,
    };
    let (id, invitation) = s
        .invite(&new, &invitation, T0, &event("user_invited"), None)
        .await
        .unwrap();
    if active {
        let enrolment = Enrolment {
            invitation_id: invitation,
            user_id: id,
            password_phc: Some("$argon2id$test".into()),
            sealed_totp_secret: None,
            totp_step: 0,
            recovery_code_hashes: Vec::new(),
        };
        s.complete_enrolment(&enrolment, T0, &event("enrolment_completed"))
            .await
            .unwrap();
    }
    id
}

fn new_report(
    candidate: CandidateId,
    by: UserId,
    priority: Priority,
    tokens: &[&[u8]],
) -> NewReport {
    NewReport {
        candidate_id: candidate,
        reported_by: by,
        category: Category::ThreatOfViolence,
        happening_now: priority == Priority::P1,
        priority,
        reasons: vec!["Happening now".into()],
        details: br#"{"what":"a threat"}"#.to_vec(),
        offender_tokens: tokens.iter().map(|t| t.to_vec()).collect(),
        evidence: Vec::new(),
        silent: false,
    }
}

fn evidence(name: &str, content: &[u8]) -> NewEvidence {
    NewEvidence {
        kind: "png".into(),
        filename: name.into(),
        content: content.to_vec(),
        sha256: "ab".repeat(32),
    }
}

async fn create(s: &dyn Store, report: &NewReport, at: i64) -> i64 {
    s.create_report(report, &TestSealer, at, &event("report_created"))
        .await
        .unwrap()
        .id
}

/// Every outbox row due by `now`, claimed and marked sent so the next call sees only new ones.
async fn drain(s: &dyn Store, now: i64) -> Vec<ClaimedMessage> {
    let rows = s.claim_due("test", now, LEASE, 10_000).await.unwrap();
    for m in &rows {
        assert!(s.mark_sent(m.id, "test", now).await.unwrap());
    }
    rows
}

/// `(channel, address, template)` of each row, sorted.
fn routes(rows: &[ClaimedMessage]) -> Vec<(&'static str, String, String)> {
    let mut out: Vec<_> = rows
        .iter()
        .map(|m| (m.channel.as_str(), m.to_address.clone(), m.template.clone()))
        .collect();
    out.sort();
    out
}

fn route(channel: &'static str, to: &str, template: &str) -> (&'static str, String, String) {
    (channel, to.to_owned(), template.to_owned())
}

fn kinds(events: &[shield_store::ReportEvent]) -> Vec<&str> {
    events.iter().map(|e| e.kind.as_str()).collect()
}

async fn audit_intact(s: &dyn Store) {
    assert!(matches!(
        s.verify_audit().await.unwrap(),
        AuditVerification::Intact(_)
    ));
}

async fn create_routes_to_owner_and_informed_forces(db: TestDb) {
    let s = db.store.as_ref();
    let f = seed(&db).await;
    let tvp_hook = s
        .set_force_webhook(
            &force_code(TVP),
            "https://tvp.example/hook",
            "tvp-secret",
            &TestSealer,
            T0,
        )
        .await
        .unwrap();
    let surrey_hook = s
        .set_force_webhook(
            &force_code(SURREY),
            "https://surrey.example/hook",
            "surrey-secret",
            &TestSealer,
            T0,
        )
        .await
        .unwrap();

    let mut report = new_report(f.jack, f.jack_user, Priority::P1, &[b"tok"]);
    report.evidence.push(evidence("photo.png", b"\x89PNG"));
    let created = s
        .create_report(&report, &TestSealer, T0, &event("report_created"))
        .await
        .unwrap();
    let id = created.id;
    assert_eq!(created.reference, shield_domain::report::reference(id));
    assert_eq!(created.owner_force, force_code(TVP));
    assert_eq!(created.informed_forces, vec![force_code(SURREY)]);
    assert_eq!(created.notifications, 4);

    let sent = drain(s, T0).await;
    assert_eq!(
        routes(&sent),
        vec![
            route("email", "lead@surrey.example", "report_informed"),
            route("email", "lead@tvp.example", "report_needs_attention"),
            route("webhook", "https://surrey.example/hook", "report.shared"),
            route("webhook", "https://tvp.example/hook", "report.created"),
        ]
    );
    for m in &sent {
        assert_eq!(m.params.int("report"), Some(id));
        assert_eq!(m.params.id("ref"), Some(created.reference.as_str()));
        assert_eq!(m.params.int("priority"), Some(1));
        match (m.channel, m.template.as_str()) {
            (OutboxChannel::Email, "report_needs_attention") => {
                assert_eq!(m.params.id("force"), None);
                assert_eq!(m.secret, None);
            }
            (OutboxChannel::Email, _) => assert_eq!(m.params.id("force"), Some(SURREY)),
            (OutboxChannel::Webhook, "report.created") => {
                assert_eq!(m.params.id("force"), Some(TVP));
                assert_eq!(m.params.int("webhook"), Some(tvp_hook));
                let secret = sealed("force_webhooks", "secret", tvp_hook, b"tvp-secret");
                assert_eq!(m.secret.as_deref(), Some(&secret[..]));
            }
            (OutboxChannel::Webhook, _) => {
                assert_eq!(m.params.id("force"), Some(SURREY));
                assert_eq!(m.params.int("webhook"), Some(surrey_hook));
                let secret = sealed("force_webhooks", "secret", surrey_hook, b"surrey-secret");
                assert_eq!(m.secret.as_deref(), Some(&secret[..]));
            }
        }
    }

    let r = s.report(id).await.unwrap().unwrap();
    assert_eq!(r.reference, created.reference);
    assert_eq!(
        (r.candidate_name.as_str(), r.constituency_name.as_str()),
        ("Jack Rankin", "Windsor")
    );
    assert_eq!(
        (r.owner_force.as_str(), r.informed_forces.clone()),
        (TVP, vec![force_code(SURREY)])
    );
    assert_eq!(
        (r.status, r.tier, r.priority, r.outcome),
        (Status::New, Tier::Lead, Priority::P1, None)
    );
    assert_eq!(
        (r.category, r.happening_now),
        (Category::ThreatOfViolence, true)
    );
    assert_eq!(r.reasons, vec!["Happening now".to_owned()]);
    assert_eq!(r.reported_by, f.jack_user);
    assert_eq!(r.ack_due_at_ms, Some(T0 + 15 * MIN));
    assert_eq!((r.acknowledged_by, r.acknowledged_at_ms), (None, None));
    assert_eq!((r.created_at_ms, r.updated_at_ms), (T0, T0));
    assert_eq!(
        r.sealed_details,
        sealed("reports", "details", id, &report.details)
    );
    assert_eq!(s.next_deadline().await.unwrap(), Some(T0 + 15 * MIN));

    let timeline = s.report_timeline(id).await.unwrap();
    assert_eq!(
        kinds(&timeline),
        [
            "created", "evidence", "notified", "notified", "notified", "notified"
        ]
    );
    assert_eq!(timeline[0].detail["priority"], json!(1));
    assert_eq!(timeline[0].actor, Some(f.jack_user));
    assert_eq!(timeline[0].actor_name.as_deref(), Some("Person 1"));
    let outbox_ids: BTreeSet<i64> = sent.iter().map(|m| m.id).collect();
    for e in &timeline[2..] {
        let outbox = e.detail["outbox"].as_i64().unwrap();
        assert!(outbox_ids.contains(&outbox));
        let status = s.outbox_status(outbox).await.unwrap().unwrap();
        assert_eq!(json!(status.template), e.detail["template"]);
        assert_eq!(json!(status.channel.as_str()), e.detail["channel"]);
    }

    assert_eq!(
        s.report_scope(id).await.unwrap(),
        Some((f.jack, vec![force_code(TVP), force_code(SURREY)]))
    );
    assert_eq!(s.report_scope(id + 1000).await.unwrap(), None);
    let access = s.report_access(id).await.unwrap().unwrap();
    assert_eq!(access.candidate, f.jack);
    assert!(!access.silent, "an ordinary report is not silent");

    // A single-force constituency: the lead only, nobody informed, no webhook.
    let other = s
        .create_report(
            &new_report(f.alex, f.jack_user, Priority::P4, &[]),
            &TestSealer,
            T0 + 1,
            &event("report_created"),
        )
        .await
        .unwrap();
    assert_eq!(
        (other.owner_force.as_str(), other.notifications),
        (HANTS, 1)
    );
    assert!(other.informed_forces.is_empty());
    assert_eq!(
        routes(&drain(s, T0 + 1).await),
        vec![route(
            "email",
            "lead@hants.example",
            "report_needs_attention"
        )]
    );

    // Lists: by force (owner or informed), by candidate; the P1's deadline comes first.
    let by = |force: Option<&str>, candidate: Option<CandidateId>, urgent: bool| ReportFilter {
        force: force.map(force_code),
        candidate,
        open_only: true,
        urgent_or_escalated: urgent,
        hide_silent: false,
    };
    let ids = |v: Vec<shield_store::ReportSummary>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.reports(&ReportFilter::default()).await.unwrap()),
        vec![id, other.id]
    );
    assert_eq!(
        ids(s.reports(&by(Some(SURREY), None, false)).await.unwrap()),
        vec![id]
    );
    assert_eq!(
        ids(s.reports(&by(Some(TVP), None, false)).await.unwrap()),
        vec![id]
    );
    assert_eq!(
        ids(s.reports(&by(Some(HANTS), None, false)).await.unwrap()),
        vec![other.id]
    );
    assert_eq!(
        ids(s.reports(&by(None, Some(f.alex), false)).await.unwrap()),
        vec![other.id]
    );
    assert_eq!(
        ids(s.reports(&by(None, None, true)).await.unwrap()),
        vec![id]
    );
    let summary = &s.reports(&by(Some(SURREY), None, false)).await.unwrap()[0];
    assert_eq!(summary.ack_due_at_ms, Some(T0 + 15 * MIN));
    assert_eq!(summary.owner_force, force_code(TVP));

    let about = s
        .audit_for_subject("report", &id.to_string(), 10)
        .await
        .unwrap();
    assert_eq!(about.len(), 1);
    assert_eq!(about[0].event.action().as_str(), "report_created");
    audit_intact(s).await;
}

async fn acknowledge_first_wins_and_cancels_the_deadline(db: TestDb) {
    let f = seed(&db).await;
    let s = db.store.as_ref();
    let id = create(s, &new_report(f.jack, f.jack_user, Priority::P2, &[]), T0).await;
    drain(s, T0).await;
    assert_eq!(s.next_deadline().await.unwrap(), Some(T0 + 4 * HOUR));

    // Two officers on two connections (two app instances) press "acknowledge" at once.
    let second = shield_store::connect(&db.url).await.unwrap();
    let stores: [(Arc<dyn Store>, UserId); 2] = [(db.store.clone(), f.lead), (second, f.deputy)];
    let tasks = stores.into_iter().map(|(store, by)| {
        tokio::spawn(async move {
            let r = store
                .acknowledge(id, by, T0 + MIN, &event("report_acknowledged"))
                .await
                .unwrap();
            (by, r)
        })
    });
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let winners: Vec<UserId> = results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(u, _)| *u)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(
        results
            .iter()
            .any(|(_, r)| *r == Err(ReportRefusal::AlreadyAcknowledged))
    );
    let winner = winners[0];

    let r = s.report(id).await.unwrap().unwrap();
    assert_eq!(r.status, Status::Acknowledged);
    assert_eq!(
        (r.acknowledged_by, r.acknowledged_at_ms),
        (Some(winner), Some(T0 + MIN))
    );
    assert!(r.acknowledged_by_name.is_some());
    assert_eq!(r.ack_due_at_ms, None);
    assert_eq!(s.next_deadline().await.unwrap(), None);

    let sent = drain(s, T0 + MIN).await;
    assert_eq!(
        routes(&sent),
        vec![route("email", "jack@example.org", "report_update")]
    );
    assert_eq!(sent[0].params.id("status"), Some("acknowledged"));

    // Nothing left to fire, however late.
    let fired = s
        .fire_due_deadlines(T0 + 100 * 24 * HOUR, 10)
        .await
        .unwrap();
    assert_eq!((fired.fired, fired.notifications), (0, 0));
    assert_eq!(
        s.acknowledge(id, f.lead, T0 + 2 * MIN, &event("report_acknowledged"))
            .await
            .unwrap(),
        Err(ReportRefusal::AlreadyAcknowledged)
    );
    assert!(matches!(
        s.acknowledge(id + 99, f.lead, T0, &event("report_acknowledged"))
            .await,
        Err(StoreError::Conflict(_))
    ));
    let timeline = s.report_timeline(id).await.unwrap();
    assert_eq!(
        kinds(&timeline)
            .iter()
            .filter(|k| **k == "acknowledged")
            .count(),
        1
    );
    let acknowledged = timeline.iter().find(|e| e.kind == "acknowledged").unwrap();
    assert_eq!(acknowledged.actor, Some(winner));
    assert_eq!(timeline.last().unwrap().kind, "notified");
    audit_intact(s).await;
}

async fn deadlines_escalate_lead_deputy_coordinator(db: TestDb) {
    let f = seed(&db).await;
    let s = db.store.as_ref();
    let hook = s
        .set_force_webhook(
            &force_code(TVP),
            "https://tvp.example/hook",
            "k",
            &TestSealer,
            T0,
        )
        .await
        .unwrap();
    let id = create(s, &new_report(f.jack, f.jack_user, Priority::P1, &[]), T0).await;
    drain(s, T0).await;

    assert_eq!(
        s.fire_due_deadlines(T0 + 15 * MIN - 1, 10)
            .await
            .unwrap()
            .fired,
        0
    );
    let t1 = T0 + 15 * MIN;
    let fired = s.fire_due_deadlines(t1, 10).await.unwrap();
    assert_eq!((fired.fired, fired.notifications), (1, 3));
    let sent = drain(s, t1).await;
    assert_eq!(
        routes(&sent),
        vec![
            route("email", "dep1@tvp.example", "report_escalated"),
            route("email", "dep2@tvp.example", "report_escalated"),
            route("webhook", "https://tvp.example/hook", "report.escalated"),
        ]
    );
    for m in &sent {
        assert_eq!(
            (m.params.int("report"), m.params.int("priority")),
            (Some(id), Some(1))
        );
        assert_eq!(m.params.id("tier"), Some("deputy"));
    }
    assert_eq!(sent[2].params.int("webhook"), Some(hook));
    let r = s.report(id).await.unwrap().unwrap();
    assert_eq!((r.tier, r.status), (Tier::Deputy, Status::New));
    assert_eq!(r.ack_due_at_ms, Some(t1 + 15 * MIN));
    // Fired once: asking again at the same moment does nothing.
    assert_eq!(s.fire_due_deadlines(t1, 10).await.unwrap().fired, 0);
    assert!(drain(s, t1).await.is_empty());

    let t2 = t1 + 15 * MIN;
    let fired = s.fire_due_deadlines(t2, 10).await.unwrap();
    assert_eq!((fired.fired, fired.notifications), (1, 3));
    let sent = drain(s, t2).await;
    assert_eq!(
        routes(&sent),
        vec![
            route("email", "coord1@cps.example", "report_escalated"),
            route("email", "coord2@cps.example", "report_escalated"),
            route("webhook", "https://tvp.example/hook", "report.escalated"),
        ]
    );
    assert!(
        sent.iter()
            .all(|m| m.params.id("tier") == Some("coordinator"))
    );
    let r = s.report(id).await.unwrap().unwrap();
    assert_eq!((r.tier, r.ack_due_at_ms), (Tier::Coordinator, None));
    assert_eq!(s.next_deadline().await.unwrap(), None);
    assert_eq!(
        s.fire_due_deadlines(t2 + 24 * HOUR, 10)
            .await
            .unwrap()
            .fired,
        0
    );

    let escalations: Vec<_> = s
        .report_timeline(id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "escalated")
        .map(|e| (e.at_ms, e.detail["tier"].clone(), e.actor))
        .collect();
    assert_eq!(
        escalations,
        vec![
            (t1, json!("deputy"), None),
            (t2, json!("coordinator"), None)
        ]
    );
    let about = s
        .audit_for_subject("report", &id.to_string(), 10)
        .await
        .unwrap();
    let actions: Vec<&str> = about.iter().map(|e| e.event.action().as_str()).collect();
    assert_eq!(
        actions,
        ["report_escalated", "report_escalated", "report_created"]
    );
    assert_eq!(about[0].event.action(), &AuditAction::REPORT_ESCALATED);
    audit_intact(s).await;

    // The coordinators' view: escalated past the lead.
    let urgent = ReportFilter {
        urgent_or_escalated: true,
        ..ReportFilter::default()
    };
    assert_eq!(s.reports(&urgent).await.unwrap()[0].tier, Tier::Coordinator);
}

async fn concurrent_firers_fire_each_deadline_once(db: TestDb) {
    let f = seed(&db).await;
    let s = db.store.as_ref();
    let mut ids = Vec::new();
    for n in 0..12 {
        ids.push(
            create(
                s,
                &new_report(f.jack, f.jack_user, Priority::P1, &[]),
                T0 + n,
            )
            .await,
        );
    }
    drain(s, T0 + 20).await;
    let due = T0 + 20 * MIN;

    let second = shield_store::connect(&db.url).await.unwrap();
    let stores: [Arc<dyn Store>; 2] = [db.store.clone(), second];
    let tasks = stores.into_iter().map(|store| {
        tokio::spawn(async move {
            let mut total = 0;
            loop {
                let fired = store.fire_due_deadlines(due, 2).await.unwrap();
                total += fired.fired;
                if fired.fired == 0 {
                    break total;
                }
            }
        })
    });
    let mut fired = 0;
    for t in tasks {
        fired += t.await.unwrap();
    }
    assert_eq!(fired, 12, "each deadline fired exactly once");
    for id in &ids {
        let r = s.report(*id).await.unwrap().unwrap();
        assert_eq!(
            (r.tier, r.ack_due_at_ms),
            (Tier::Deputy, Some(due + 15 * MIN))
        );
        let timeline = s.report_timeline(*id).await.unwrap();
        assert_eq!(
            kinds(&timeline)
                .iter()
                .filter(|k| **k == "escalated")
                .count(),
            1
        );
    }
    let sent = drain(s, due).await;
    assert_eq!(sent.len(), 24, "two deputies per report");
    audit_intact(s).await;
}

async fn a_failed_create_leaves_nothing(db: TestDb) {
    let f = seed(&db).await;
    let s = db.store.as_ref();
    let audit_before = s.audit_events(0, 10_000).await.unwrap().len();

    let store = db.store.clone();
    let mut report = new_report(f.jack, f.jack_user, Priority::P1, &[b"tok"]);
    report.evidence.push(evidence("a.png", b"bytes"));
    let died = tokio::spawn(async move {
        store
            .create_report(&report, &FailingSealer, T0, &event("report_created"))
            .await
    })
    .await;
    assert!(died.unwrap_err().is_panic());

    let unknown = new_report(CandidateId(9_999), f.jack_user, Priority::P1, &[]);
    assert!(matches!(
        s.create_report(&unknown, &TestSealer, T0, &event("report_created"))
            .await,
        Err(StoreError::Conflict(_))
    ));

    assert!(
        s.reports(&ReportFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.outbox_counts().await.unwrap().pending, 0);
    assert_eq!(s.next_deadline().await.unwrap(), None);
    assert!(
        s.reports_by_offender(&[b"tok".to_vec()])
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.audit_events(0, 10_000).await.unwrap().len(), audit_before);
    audit_intact(s).await;

    // The store is still usable afterwards.
    let id = create(s, &new_report(f.jack, f.jack_user, Priority::P1, &[]), T0).await;
    assert!(s.report(id).await.unwrap().is_some());
}

async fn status_changes_follow_the_rules(db: TestDb) {
    let f = seed(&db).await;
    let s = db.store.as_ref();
    let id = create(s, &new_report(f.jack, f.jack_user, Priority::P3, &[]), T0).await;
    let change = |to: Status, outcome: Option<Outcome>| StatusChange { to, outcome };
    let ev = || event("report_status_changed");

    // Acknowledging is its own action.
    assert_eq!(
        s.change_status(id, f.lead, change(Status::InProgress, None), T0 + 1, &ev())
            .await
            .unwrap(),
        Err(ReportRefusal::BadTransition)
    );
    s.acknowledge(id, f.lead, T0 + 2, &event("report_acknowledged"))
        .await
        .unwrap()
        .unwrap();
    drain(s, T0 + 2).await;
    assert_eq!(
        s.change_status(id, f.lead, change(Status::Closed, None), T0 + 3, &ev())
            .await
            .unwrap(),
        Err(ReportRefusal::OutcomeRequired)
    );
    s.change_status(id, f.lead, change(Status::InProgress, None), T0 + 4, &ev())
        .await
        .unwrap()
        .unwrap();
    s.change_status(
        id,
        f.lead,
        change(Status::Closed, Some(Outcome::AdviceGiven)),
        T0 + 5,
        &ev(),
    )
    .await
    .unwrap()
    .unwrap();
    let r = s.report(id).await.unwrap().unwrap();
    assert_eq!(
        (r.status, r.outcome, r.updated_at_ms),
        (Status::Closed, Some(Outcome::AdviceGiven), T0 + 5)
    );
    let open = ReportFilter {
        open_only: true,
        ..ReportFilter::default()
    };
    assert!(s.reports(&open).await.unwrap().is_empty());
    assert_eq!(s.reports(&ReportFilter::default()).await.unwrap().len(), 1);
    assert_eq!(
        s.change_status(
            id,
            f.lead,
            change(Status::Closed, Some(Outcome::Duplicate)),
            T0 + 6,
            &ev()
        )
        .await
        .unwrap(),
        Err(ReportRefusal::BadTransition)
    );
    // Reopening clears the outcome.
    s.change_status(id, f.lead, change(Status::InProgress, None), T0 + 7, &ev())
        .await
        .unwrap()
        .unwrap();
    let r = s.report(id).await.unwrap().unwrap();
    assert_eq!((r.status, r.outcome), (Status::InProgress, None));

    let sent = drain(s, T0 + 7).await;
    let statuses: Vec<_> = sent
        .iter()
        .map(|m| {
            (
                m.to_address.as_str(),
                m.template.as_str(),
                m.params.id("status"),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("jack@example.org", "report_update", Some("in_progress")),
            ("jack@example.org", "report_update", Some("closed")),
            ("jack@example.org", "report_update", Some("in_progress")),
        ]
    );
    let moves: Vec<_> = s
        .report_timeline(id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "status")
        .map(|e| serde_json::Value::Object(e.detail))
        .collect();
    assert_eq!(
        moves,
        vec![
            json!({"from": "acknowledged", "to": "in_progress"}),
            json!({"from": "in_progress", "to": "closed", "outcome": "advice_given"}),
            json!({"from": "closed", "to": "in_progress"}),
        ]
    );
    assert_eq!(
        s.audit_for_subject("report", &id.to_string(), 10)
            .await
            .unwrap()
            .len(),
        5
    );
    audit_intact(s).await;
}

async fn messages_notify_the_other_side_and_notes_no_one(db: TestDb) {
    let f = seed(&db).await;
    let s = db.store.as_ref();
    let id = create(s, &new_report(f.jack, f.jack_user, Priority::P3, &[]), T0).await;
    drain(s, T0).await;
    let ev = || event("report_message_added");
    let say = |by: UserId, internal: bool, body: &'static str, at: i64| async move {
        s.add_message(id, by, internal, body, &TestSealer, at, &ev())
            .await
    };

    // Before anyone acknowledged, the candidate's message goes to the owning force's lead.
    let m1 = say(f.jack_user, false, "They came back", T0 + 1)
        .await
        .unwrap();
    assert_eq!(
        routes(&drain(s, T0 + 1).await),
        vec![route("email", "lead@tvp.example", "report_message")]
    );
    s.acknowledge(id, f.deputy, T0 + 2, &event("report_acknowledged"))
        .await
        .unwrap()
        .unwrap();
    drain(s, T0 + 2).await;
    // Afterwards, to whoever acknowledged it.
    say(f.jack_user, false, "Still here", T0 + 3).await.unwrap();
    let sent = drain(s, T0 + 3).await;
    assert_eq!(
        routes(&sent),
        vec![route("email", "dep1@tvp.example", "report_message")]
    );
    assert_eq!(sent[0].params.int("report"), Some(id));
    // The police's message goes to the candidate; an internal note to no one.
    say(f.deputy, false, "On our way", T0 + 4).await.unwrap();
    assert_eq!(
        routes(&drain(s, T0 + 4).await),
        vec![route("email", "jack@example.org", "report_message")]
    );
    let note = say(f.lead, true, "Known to us", T0 + 5).await.unwrap();
    assert!(drain(s, T0 + 5).await.is_empty());
    // The candidate's side cannot write police notes.
    assert!(matches!(
        say(f.jack_user, true, "x", T0 + 6).await,
        Err(StoreError::Conflict(_))
    ));

    let shown = s.report_messages(id, false).await.unwrap();
    assert_eq!(shown.len(), 3);
    assert!(shown.iter().all(|m| !m.internal));
    assert_eq!(shown[0].id, m1);
    assert_eq!(
        shown[0].sealed_body,
        sealed("report_messages", "body", m1, b"They came back")
    );
    assert_eq!(
        (shown[0].author, shown[0].author_role),
        (f.jack_user, Role::Candidate)
    );
    assert_eq!(shown[2].author_role, Role::ForceContact);
    assert_eq!(shown[0].created_at_ms, T0 + 1);
    let all = s.report_messages(id, true).await.unwrap();
    assert_eq!(all.len(), 4);
    assert!(all[3].internal && all[3].id == note);

    let messages: Vec<_> = s
        .report_timeline(id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "message")
        .map(|e| {
            (
                e.detail["message"].as_i64().unwrap(),
                e.detail["internal"].clone(),
            )
        })
        .collect();
    assert_eq!(messages.len(), 4);
    assert_eq!(messages[3], (note, json!(true)));
    assert_eq!(s.report(id).await.unwrap().unwrap().updated_at_ms, T0 + 5);
    audit_intact(s).await;
}

async fn offender_search_and_links(db: TestDb) {
    let f = seed(&db).await;
    let s = db.store.as_ref();
    let r1 = create(
        s,
        &new_report(f.jack, f.jack_user, Priority::P3, &[b"a", b"b", b"b"]),
        T0,
    )
    .await;
    let r2 = create(
        s,
        &new_report(f.alex, f.jack_user, Priority::P3, &[b"b"]),
        T0 + 1,
    )
    .await;
    let r3 = create(
        s,
        &new_report(f.jack, f.jack_user, Priority::P4, &[b"c"]),
        T0 + 2,
    )
    .await;
    let find = |tokens: &[&[u8]]| {
        let tokens: Vec<Vec<u8>> = tokens.iter().map(|t| t.to_vec()).collect();
        async move {
            let mut ids: Vec<i64> = s
                .reports_by_offender(&tokens)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.id)
                .collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(find(&[b"b"]).await, vec![r1, r2]);
    assert_eq!(find(&[b"a", b"c"]).await, vec![r1, r3]);
    assert_eq!(find(&[b"a", b"b"]).await, vec![r1, r2]);
    assert!(find(&[b"zzz"]).await.is_empty());
    assert!(find(&[]).await.is_empty());

    let linking = event("reports_linked");
    let link = |a: i64, b: i64| s.link_reports(a, b, f.lead, T0 + 10, &linking);
    link(r2, r1).await.unwrap();
    link(r1, r2).await.unwrap();
    assert!(matches!(link(r1, r1).await, Err(StoreError::Conflict(_))));
    assert!(matches!(
        link(r1, r3 + 100).await,
        Err(StoreError::Conflict(_))
    ));
    let linked = |id: i64| async move {
        s.linked_reports(id)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(linked(r1).await, vec![r2]);
    assert_eq!(linked(r2).await, vec![r1]);
    assert!(linked(r3).await.is_empty());
    for (id, other) in [(r1, r2), (r2, r1)] {
        let links: Vec<_> = s
            .report_timeline(id)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == "linked")
            .collect();
        assert_eq!(links.len(), 1, "linking twice is a no-op");
        assert_eq!(links[0].detail["report"], json!(other));
    }
    audit_intact(s).await;
}

async fn evidence_and_sealed_columns_round_trip(db: TestDb) {
    let f = seed(&db).await;
    let s = db.store.as_ref();
    let mut report = new_report(f.jack, f.jack_user, Priority::P3, &[]);
    report.evidence.push(evidence("first.png", b"\x89PNG one"));
    report
        .evidence
        .push(evidence("second.png", b"\x89PNG two two"));
    let id = create(s, &report, T0).await;
    let other = create(s, &new_report(f.alex, f.jack_user, Priority::P3, &[]), T0).await;

    let listed = s.report_evidence(id).await.unwrap();
    assert_eq!(listed.len(), 2);
    let e = &listed[1];
    assert_eq!((e.report_id, e.kind.as_str(), e.size), (id, "png", 12));
    assert_eq!(
        (e.sha256.clone(), e.uploaded_by, e.created_at_ms),
        ("ab".repeat(32), f.jack_user, T0)
    );
    assert_eq!(
        e.sealed_filename,
        sealed("evidence", "filename", e.id, b"second.png")
    );
    let (meta, content) = s.evidence_content(id, e.id).await.unwrap().unwrap();
    assert_eq!(&meta, e);
    assert_eq!(
        content,
        sealed("evidence", "content", e.id, b"\x89PNG two two")
    );
    assert_eq!(s.evidence_content(other, e.id).await.unwrap(), None);
    assert!(s.report_evidence(other).await.unwrap().is_empty());
    let evidence_events: Vec<_> = s
        .report_timeline(id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "evidence")
        .map(|e| e.detail["evidence"].as_i64().unwrap())
        .collect();
    assert_eq!(
        evidence_events,
        listed.iter().map(|e| e.id).collect::<Vec<_>>()
    );

    // Key rotation sees every sealed report column (a timeline row without a note is skipped).
    s.add_message(
        id,
        f.lead,
        true,
        "note",
        &TestSealer,
        T0 + 1,
        &event("report_message_added"),
    )
    .await
    .unwrap();
    s.change_priority(
        id,
        f.lead,
        Priority::P2,
        "why",
        &TestSealer,
        T0 + 2,
        &event("report_priority_changed"),
    )
    .await
    .unwrap();
    s.set_force_webhook(
        &force_code(TVP),
        "https://tvp.example/hook",
        "k",
        &TestSealer,
        T0,
    )
    .await
    .unwrap();
    let blobs = s.sealed_blobs().await.unwrap();
    let count = |table: &str, column: &str| {
        blobs
            .iter()
            .filter(|b| b.table == table && b.column == column)
            .count()
    };
    assert_eq!(count("reports", "details"), 2);
    assert_eq!(count("evidence", "content"), 2);
    assert_eq!(count("evidence", "filename"), 2);
    assert_eq!(count("report_messages", "body"), 1);
    assert_eq!(count("report_events", "note"), 1);
    assert_eq!(count("force_webhooks", "secret"), 1);
    let details = blobs
        .iter()
        .find(|b| b.table == "reports" && b.row_id == id.to_string())
        .unwrap();
    assert!(s.replace_sealed_blob(details, b"rotated").await.unwrap());
    assert_eq!(
        s.report(id).await.unwrap().unwrap().sealed_details,
        b"rotated"
    );
}

async fn priority_change_resets_the_deadline_and_webhooks_replace(db: TestDb) {
    let f = seed(&db).await;
    let s = db.store.as_ref();
    let id = create(s, &new_report(f.jack, f.jack_user, Priority::P4, &[]), T0).await;
    assert_eq!(
        s.report(id).await.unwrap().unwrap().ack_due_at_ms,
        Some(T0 + 72 * HOUR)
    );
    let at = T0 + 1_000;
    s.change_priority(
        id,
        f.lead,
        Priority::P1,
        "weapon mentioned",
        &TestSealer,
        at,
        &event("report_priority_changed"),
    )
    .await
    .unwrap();
    let r = s.report(id).await.unwrap().unwrap();
    assert_eq!(
        (r.priority, r.ack_due_at_ms),
        (Priority::P1, Some(at + 15 * MIN))
    );
    assert_eq!(s.next_deadline().await.unwrap(), Some(at + 15 * MIN));
    let change = s
        .report_timeline(id)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.kind == "priority")
        .unwrap();
    assert_eq!(
        serde_json::Value::Object(change.detail.clone()),
        json!({"from": 4, "to": 1})
    );
    assert_eq!(
        change.sealed_note,
        Some(sealed(
            "report_events",
            "note",
            change.id,
            b"weapon mentioned"
        ))
    );
    assert_eq!(change.actor, Some(f.lead));
    // The new deadline fires, once.
    assert_eq!(
        s.fire_due_deadlines(at + 15 * MIN, 10).await.unwrap().fired,
        1
    );
    // The P4 lead deadline is gone: only the deputies' is live.
    assert_eq!(s.next_deadline().await.unwrap(), Some(at + 30 * MIN));

    // Acknowledged: a priority change sets no deadline.
    s.acknowledge(id, f.lead, at + 20 * MIN, &event("report_acknowledged"))
        .await
        .unwrap()
        .unwrap();
    s.change_priority(
        id,
        f.lead,
        Priority::P2,
        "calmer",
        &TestSealer,
        at + 21 * MIN,
        &event("report_priority_changed"),
    )
    .await
    .unwrap();
    assert_eq!(s.next_deadline().await.unwrap(), None);
    assert_eq!(s.report(id).await.unwrap().unwrap().priority, Priority::P2);

    let first = s
        .set_force_webhook(
            &force_code(TVP),
            "https://tvp.example/a",
            "one",
            &TestSealer,
            T0,
        )
        .await
        .unwrap();
    let again = s
        .set_force_webhook(
            &force_code(TVP),
            "https://tvp.example/b",
            "two",
            &TestSealer,
            T0 + 1,
        )
        .await
        .unwrap();
    assert_eq!(first, again);
    assert!(
        s.set_force_webhook(&force_code(SURREY), "ftp://x", "k", &TestSealer, T0)
            .await
            .is_err()
    );
    let hooks = s.force_webhooks().await.unwrap();
    assert_eq!(hooks.len(), 1);
    assert_eq!(
        (hooks[0].id, hooks[0].force.as_str(), hooks[0].url.as_str()),
        (first, TVP, "https://tvp.example/b")
    );
    audit_intact(s).await;
}

/// Group commit: three reports in one transaction, the middle one for an unknown candidate. It
/// fails alone (its savepoint rolled back); the other two commit with their outbox rows,
/// deadlines and audit events, and the audit chain still verifies.
async fn group_commit_isolates_a_failing_report(db: TestDb) {
    let f = seed(&db).await;
    let s = db.store.as_ref();
    let batch = vec![
        (
            new_report(f.jack, f.jack_user, Priority::P1, &[b"a"]),
            event("report_created"),
        ),
        (
            new_report(CandidateId(9_999), f.jack_user, Priority::P1, &[]),
            event("report_created"),
        ),
        (
            new_report(f.jack, f.jack_user, Priority::P2, &[b"b"]),
            event("report_created"),
        ),
    ];
    let results = s.create_reports(&batch, &TestSealer, T0).await.unwrap();
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    assert!(
        matches!(results[1], Err(StoreError::Conflict(_))),
        "{results:?}"
    );
    let ids: Vec<i64> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|c| c.id))
        .collect();
    assert_eq!(s.reports(&ReportFilter::default()).await.unwrap().len(), 2);
    for id in ids {
        assert!(s.report(id).await.unwrap().is_some());
        assert!(!s.report_timeline(id).await.unwrap().is_empty());
    }
    assert!(s.outbox_counts().await.unwrap().pending >= 2);
    assert!(s.next_deadline().await.unwrap().is_some());
    audit_intact(s).await;
}
