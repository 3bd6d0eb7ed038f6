//! `shield seed security-requests --count N`: fills a database that already holds candidates
//! and forces (after `shield demo`, or a real import on a test database) with generated
//! requests for additional security, assessed and decided across forces and ratings, so the
//! coordinators' list, CSV export and consistency view can be tried and tested at volume.
//!
//! Everything goes through the same store calls as the pages (one transaction per step, audit
//! and outbox included), with times spread over the last 30 days. The accounts it acts as are
//! made once and left invited (`seed.*@shield.example`): a delegate who asks, one police
//! contact per force who assesses, two coordinators who decide. Requests notify the forces'
//! rostered leads exactly as real ones would, so use it on demo and test databases only.

use std::collections::BTreeMap;

use anyhow::{Context, anyhow};
use shield_domain::audit::{AuditAction, AuditActor, AuditEvent, AuditOutcome};
use shield_domain::security::{Factor, Kind, Outcome, Rating, Scores, assess};
use shield_domain::{ForceCode, Role, UserId};
use shield_store::accounts::{NewInvitation, NewUser};
use shield_store::{NewAssessment, NewDecision, NewSecurityRequest};
use shield_web::AppState;
use shield_web::sealing::RingSealer;

/// What seeding made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seeded {
    pub requests: usize,
    pub assessed: usize,
    pub decided: usize,
}

/// A small deterministic generator (64-bit LCG): the same count gives the same data.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const HOUR: i64 = 3_600_000;

async fn seed_user(
    state: &AppState,
    role: Role,
    email: &str,
    forces: Vec<ForceCode>,
    now: i64,
) -> anyhow::Result<UserId> {
    if let Some(existing) = state.store.user_auth_by_email(email).await? {
        return Ok(existing.id);
    }
    let user = NewUser {
        role,
        display_name: format!("Seed {}", role.key()),
        email: email.to_owned(),
        candidate_id: None,
        forces,
    };
    let token = shield_web::auth::token::new_token();
    let audit = event("invitation_created", None, now)?;
    let (id, _) = state
        .store
        .invite(
            &user,
            &NewInvitation {
                token_hash: shield_web::auth::token::hash(&token),
                expires_at_ms: now,
                created_by: None,
            },
            now,
            &audit,
            None,
        )
        .await
        .with_context(|| format!("cannot make the seed account {email}"))?;
    Ok(id)
}

fn event(action: &str, actor: Option<(UserId, Role)>, at_ms: i64) -> anyhow::Result<AuditEvent> {
    let mut e = AuditEvent::from_millis(
        AuditAction::parse(action).map_err(|e| anyhow!(e.message))?,
        AuditOutcome::Success,
        at_ms,
    )
    .map_err(|e| anyhow!(e.message))?;
    if let Some((user, role)) = actor {
        e = e.with_actor(AuditActor::new(user.0, role.key()).map_err(|e| anyhow!(e.message))?);
    }
    Ok(e)
}

/// A decision leaning on the rating, as a consistent team's would, with some spread.
fn decide(rating: Rating, roll: u64) -> Outcome {
    let (approve, part) = match rating {
        Rating::VeryHigh => (80, 95),
        Rating::High => (50, 85),
        Rating::Medium => (20, 60),
        Rating::Low => (5, 20),
    };
    match roll % 100 {
        r if r < approve => Outcome::Approve,
        r if r < part => Outcome::ApproveInPart,
        _ => Outcome::Decline,
    }
}

/// Makes `count` requests at `now_ms`: about 80% decided, 10% awaiting a decision and 10%
/// awaiting assessment.
pub async fn security_requests(
    state: &AppState,
    count: usize,
    now_ms: i64,
) -> anyhow::Result<Seeded> {
    let candidates = state.store.enrolment(None).await?;
    anyhow::ensure!(
        !candidates.is_empty(),
        "no candidates: import some (or run shield demo) first"
    );
    let sealer = RingSealer(state.keys.clone());
    let windows = state.security_windows;
    let agent = seed_user(
        state,
        Role::Delegate,
        "seed.agent@shield.example",
        vec![],
        now_ms,
    )
    .await?;
    let deciders = [
        seed_user(
            state,
            Role::Coordinator,
            "seed.coordinator1@shield.example",
            vec![],
            now_ms,
        )
        .await?,
        seed_user(
            state,
            Role::Coordinator,
            "seed.coordinator2@shield.example",
            vec![],
            now_ms,
        )
        .await?,
    ];
    let mut assessors: BTreeMap<String, UserId> = BTreeMap::new();
    let mut rng = Lcg(count as u64 ^ 0x5eed);
    let mut out = Seeded::default();
    for n in 0..count {
        let candidate = &candidates[rng.below(candidates.len() as u64) as usize];
        let created = now_ms - (rng.below(30 * 24) as i64 + 6) * HOUR;
        let kind = Kind::ALL[rng.below(Kind::ALL.len() as u64) as usize];
        let details = serde_json::json!({
            "period": format!("Seeded request {n}: the rest of the campaign"),
            "reasons": "Generated by shield seed security-requests.",
        });
        let request = NewSecurityRequest {
            candidate_id: candidate.candidate_id,
            requested_by: agent,
            kind: kind.key().to_owned(),
            details: serde_json::to_vec(&details)?,
            linked_reports: Vec::new(),
        };
        let audit = event("security_requested", Some((agent, Role::Delegate)), created)?;
        let Ok(id) = state
            .store
            .create_security_request(&request, &sealer, &windows, created, &audit)
            .await?
        else {
            continue; // a candidate whose constituency has no primary force
        };
        out.requests += 1;
        let stage = rng.below(10);
        if stage == 0 {
            continue;
        }
        let record = state
            .store
            .security_request(id)
            .await?
            .context("the seeded request vanished")?;
        let force = ForceCode::parse(&record.owner_force).map_err(|e| anyhow!(e.message))?;
        let assessor = match assessors.get(&record.owner_force) {
            Some(a) => *a,
            None => {
                let email = format!(
                    "seed.contact.{}@police.example",
                    record.owner_force.to_lowercase()
                );
                let a = seed_user(state, Role::ForceContact, &email, vec![force], now_ms).await?;
                assessors.insert(record.owner_force.clone(), a);
                a
            }
        };
        // Threat scores cluster by a per-request "severity", so every rating turns up.
        let severity = rng.below(4);
        let levels: BTreeMap<Factor, Option<u8>> = Factor::ALL
            .iter()
            .map(|f| {
                let base = severity as i64 + rng.below(3) as i64 - 1;
                (*f, Some(base.clamp(0, 3) as u8))
            })
            .collect();
        let scores = Scores::from_levels(&levels).map_err(|_| anyhow!("incomplete scores"))?;
        let derived = assess(&scores);
        let recommendation = decide(derived.rating, rng.below(100));
        let assessed_at = created + (1 + rng.below(48) as i64) * HOUR;
        let assessment = NewAssessment {
            scores: scores.encode(),
            rating: derived.rating.key().to_owned(),
            recommendation: recommendation.key().to_owned(),
            measures: if recommendation == Outcome::Decline {
                Vec::new()
            } else {
                vec![kind.key().to_owned()]
            },
            rationale: "Seeded assessment.".into(),
        };
        let audit = event(
            "security_assessed",
            Some((assessor, Role::ForceContact)),
            assessed_at,
        )?;
        state
            .store
            .assess_security_request(
                id,
                assessor,
                &assessment,
                &sealer,
                &windows,
                assessed_at,
                &audit,
            )
            .await?
            .map_err(|r| anyhow!("cannot assess seeded request {id}: {r:?}"))?;
        out.assessed += 1;
        if stage == 1 {
            continue;
        }
        let decider = deciders[n % 2];
        let decided_at = assessed_at + (1 + rng.below(24) as i64) * HOUR;
        // Most decisions follow the recommendation; some do not.
        let outcome = if rng.below(5) == 0 {
            decide(derived.rating, rng.below(100))
        } else {
            recommendation
        };
        let decision = NewDecision {
            decision: outcome.key().to_owned(),
            reasons: "Seeded decision.".into(),
            review_at_ms: decided_at + 28 * 24 * HOUR,
        };
        let audit = event(
            "security_decided",
            Some((decider, Role::Coordinator)),
            decided_at,
        )?;
        state
            .store
            .decide_security_request(id, decider, &decision, &sealer, decided_at, &audit)
            .await?
            .map_err(|r| anyhow!("cannot decide seeded request {id}: {r:?}"))?;
        out.decided += 1;
    }
    Ok(out)
}
