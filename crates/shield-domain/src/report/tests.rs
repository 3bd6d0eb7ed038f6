use super::*;

fn t(category: Category, now: bool, text: &str) -> Triage {
    triage(TriageInput {
        category,
        happening_now: now,
        text,
    })
}

#[test]
fn happening_now_in_person_is_p1_and_says_why() {
    let r = t(
        Category::ProtestAtHome,
        true,
        "A crowd is shouting at my windows",
    );
    assert_eq!(r.priority, Priority::P1);
    assert!(r.reasons.iter().any(|x| x == "Happening now"), "{r:?}");
}

#[test]
fn threat_naming_a_weapon_and_presence_is_p1() {
    let r = t(
        Category::ThreatOfViolence,
        false,
        "He said he has a knife and is waiting for me outside",
    );
    assert_eq!(r.priority, Priority::P1);
    assert!(r.reasons.iter().any(|x| x.contains("knife")), "{r:?}");
    assert!(r.reasons.iter().any(|x| x.contains("outside")), "{r:?}");
}

#[test]
fn plain_threat_is_p2_online_abuse_p3_other_p4() {
    assert_eq!(
        t(Category::ThreatOfViolence, false, "nasty email").priority,
        Priority::P2
    );
    assert_eq!(
        t(Category::OnlineAbuse, false, "rude replies").priority,
        Priority::P3
    );
    assert_eq!(
        t(Category::Other, false, "leaflets torn").priority,
        Priority::P4
    );
    // Whole words only: "skill" does not contain the word "kill".
    assert_eq!(
        t(Category::OnlineAbuse, false, "no skill at all").priority,
        Priority::P3
    );
    assert_eq!(
        t(Category::OnlineAbuse, false, "I will kill you").priority,
        Priority::P2
    );
}

#[test]
fn happening_now_online_raises_one_level() {
    let r = t(Category::OnlineAbuse, true, "pile-on right now");
    assert_eq!(r.priority, Priority::P2);
}

#[test]
fn status_moves_and_reopen() {
    assert!(Status::Acknowledged.can_move_to(Status::InProgress));
    assert!(Status::InProgress.can_move_to(Status::Closed));
    assert!(Status::Closed.can_move_to(Status::InProgress));
    assert!(!Status::New.can_move_to(Status::Closed));
    assert!(!Status::Closed.can_move_to(Status::New));
}

#[test]
fn escalation_runs_lead_deputy_coordinator_then_stops() {
    assert_eq!(next_tier(Tier::Lead), Some(Tier::Deputy));
    assert_eq!(next_tier(Tier::Deputy), Some(Tier::Coordinator));
    assert_eq!(next_tier(Tier::Coordinator), None);
    assert_eq!(ack_window_ms(Priority::P1, Tier::Lead), Some(15 * 60_000));
    assert_eq!(ack_window_ms(Priority::P1, Tier::Coordinator), None);
    assert_eq!(first_deadline(Priority::P1, 1_000), 1_000 + 15 * 60_000);
}

#[test]
fn references_and_identifiers() {
    assert_eq!(reference(42), "R-00042");
    assert_eq!(parse_reference("R-00042"), Some(42));
    assert_eq!(parse_reference("X-1"), None);
    assert_eq!(normalise_identifier(" @Troll_99 "), "troll_99");
    assert_eq!(
        identifiers("@Troll_99, AB12 CDE\n troll_99"),
        vec!["ab12cde".to_owned(), "troll_99".to_owned()]
    );
    assert_eq!(Priority::parse("p2").unwrap(), Priority::P2);
    assert!(Priority::parse("P5").is_err());
    assert_eq!(Category::parse("stalking").unwrap(), Category::Stalking);
}
