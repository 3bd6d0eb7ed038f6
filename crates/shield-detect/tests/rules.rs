//! Rule tier: one positive and one hard negative per pattern family, and
//! character (not byte) offsets.
use shield_detect::rules::{self, Context};
use shield_detect::{Detector, Label};

fn flagged(text: &str) -> Vec<Label> {
    Detector::rules_only().analyse(text).labels
}

fn assert_flags(text: &str, label: Label) {
    let a = Detector::rules_only().analyse(text);
    assert!(
        a.labels.contains(&label),
        "expected {label} for {text:?}, got {:?} (notes {:?})",
        a.labels,
        a.notes
    );
    assert!(
        a.spans.iter().any(|s| s.label == label),
        "no {label} span for {text:?}"
    );
}

fn assert_clear(text: &str, label: Label) {
    let a = Detector::rules_only().analyse(text);
    assert!(
        !a.labels.contains(&label),
        "unexpected {label} for {text:?}: spans {:?}",
        a.spans
    );
}

/// The substring a span covers, by char offsets.
fn span_text(text: &str, start: usize, end: usize) -> String {
    text.chars().skip(start).take(end - start).collect()
}

#[test]
fn postcode() {
    assert_flags(
        "She lives at 4 Mill Lane, HX7 8AA, go and tell her what you think",
        Label::Doxxing,
    );
    assert_clear(
        "My surgery is at 12 High Street, AB1 2CD on Friday",
        Label::Doxxing,
    );
}

#[test]
fn phone_number() {
    assert_flags(
        "His personal mobile is 07700 900461, ring him at 3am",
        Label::Doxxing,
    );
    assert_clear(
        "Call my office on 01632 960 400 to book an appointment",
        Label::Doxxing,
    );
}

#[test]
fn email_address() {
    assert_flags(
        "Here's his private email: mark.hollis.home@gmail.com, flood it",
        Label::Doxxing,
    );
    assert_clear(
        "For casework, email casework@northtownlabour.org.uk",
        Label::Doxxing,
    );
}

#[test]
fn car_registration() {
    assert_flags(
        "She drives a red Fiat, her reg is LM68 TRE. You know what to do.",
        Label::Doxxing,
    );
    assert_clear(
        "Leafleting meet-up at the car park, bring your own leaflets",
        Label::Doxxing,
    );
    // A registration alone, with no person attached, is weak evidence only.
    let a = Detector::rules_only().analyse("Spotted KX19 ABC in the council car park");
    assert!(!a.labels.contains(&Label::Doxxing));
    assert!(a.notes.iter().any(|n| n.contains("car registration")));
}

#[test]
fn house_number_and_street() {
    assert_flags(
        "He lives at 19 Church Road. Pay him a visit.",
        Label::Doxxing,
    );
    assert_clear(
        "Promoted by A. Patel on behalf of Sam Jones, both of 14 Park Road, Bedford MK40 2HW.",
        Label::Doxxing,
    );
    assert_clear("I have 2 kids in the park every Sunday", Label::Doxxing);
}

#[test]
fn i_know_where_you_live() {
    assert_flags("I know where you live", Label::Doxxing);
    assert_flags("we know where u live", Label::Doxxing);
    assert_clear(
        "He said he knew where I live and would come round. I called 999 and reported it.",
        Label::Doxxing,
    );
}

#[test]
fn kids_school() {
    assert_flags(
        "His kids go to St Mary's Primary on Church Lane",
        Label::Doxxing,
    );
    assert_flags(
        "Your kids' school finishes at 3:15, doesn't it?",
        Label::Doxxing,
    );
    assert_clear("My kids go to school in Leeds and love it", Label::Doxxing);
    assert_clear(
        "The jury heard he had researched her children's school.",
        Label::Doxxing,
    );
}

#[test]
fn modal_threat() {
    assert_flags("I'm going to kill you", Label::ThreatViolence);
    assert_flags("someone should put a bullet in her", Label::ThreatViolence);
    assert_flags(
        "i will stab u next time ur canvassing",
        Label::ThreatViolence,
    );
    assert_clear("We will crush them at the polls", Label::ThreatViolence);
    assert_clear("We'll kill them in the second half", Label::ThreatViolence);
    assert_clear("Kill the bill!", Label::ThreatViolence);
    assert_clear(
        "I'll shoot you an email this afternoon",
        Label::ThreatViolence,
    );
    assert_clear(
        "Someone told me they'd kill me, I've reported it",
        Label::ThreatViolence,
    );
}

#[test]
fn youre_next() {
    assert_flags("you're next", Label::ThreatViolence);
    assert_flags("Tick tock. You are next.", Label::ThreatViolence);
    assert_clear(
        "Somebody left a note saying you're next. I've reported it to the police.",
        Label::ThreatViolence,
    );
}

#[test]
fn murdered_mp_reference() {
    assert_flags("You'll end up like Jo Cox", Label::ThreatViolence);
    assert_flags(
        "same thing that happened to Amess will happen to you",
        Label::ThreatViolence,
    );
    assert_clear(
        "Join us for the Great Get Together in memory of Jo Cox",
        Label::ThreatViolence,
    );
    assert_clear(
        "What happened to Jo Cox must never happen again",
        Label::ThreatViolence,
    );
}

#[test]
fn veiled_threat() {
    assert_flags(
        "It would be a shame if something happened to your office",
        Label::ThreatViolence,
    );
    assert_clear(
        "It would be a shame if the library closed",
        Label::ThreatViolence,
    );
}

/// Stop 18's families: phrasal verbs with the person in the middle, being
/// told an attack is coming, leaving hurt, "needs killing", calls to kill a
/// named person, turning up armed, harm to the body, wishes of a crash,
/// fire predictions, "deserves a bullet", and -ing forms after "I'll be".
#[test]
fn threat_families_added_at_stop_18() {
    for text in [
        "we're going to string you up outside the town hall",
        "I'll put you down like a dog",
        "show your face again and you're getting jumped",
        "ur getting glassed the second you walk in",
        "turn up on Saturday and you'll leave in an ambulance",
        "you won't walk out of there in one piece",
        "that traitor needs a proper kicking",
        "you need killing",
        "@cllr_vane deserves a good kicking",
        "every one of you needs killing",
        "Kill Harriet Vane. simple as",
        "lads bring bats to the count, she's on stage at ten",
        "I'll be waiting outside the surgery with a machete for you",
        "hope someone slits your throat",
        "I'd love to stamp your face in",
        "hope your campaign bus crashes on the motorway",
        "someone should push him under a train",
        "your office would look lovely on fire",
        "you deserve a bullet",
        "I'll be glassing you when the result is read out",
        "somebody should kill @cllr_vane",
        "Someone needs to Jo Cox that woman",
        "It would be a shame if your car caught fire",
    ] {
        assert_flags(text, Label::ThreatViolence);
    }
    for text in [
        "Kill them with kindness at the charity match",
        "Bring out the big guns: the deputy leader is canvassing with us",
        "The door staff got between them, got the knife off him and held him for the police",
        "Mind you don't break your neck on those stairs at the hall",
        "The chancellor pushed him under the bus at the select committee",
        "This policy needs killing before it reaches the Lords",
        "Kill the bill!",
        "You're getting a leaflet through the door on Thursday",
        "I'll be bringing cake to the count for the volunteers",
    ] {
        assert_clear(text, Label::ThreatViolence);
    }
}

#[test]
fn sexual_threat() {
    assert_flags("I'm going to rape you", Label::ThreatSexual);
    assert_flags("hope u get raped", Label::ThreatSexual);
    assert_clear(
        "Rape conviction rates are a national scandal",
        Label::ThreatSexual,
    );
    assert_clear(
        "I've had three rape threats this week and reported them all",
        Label::ThreatSexual,
    );
}

#[test]
fn news_and_sport_are_not_threats() {
    assert!(flagged("Man jailed for telling MP \"I will kill you\", court heard").is_empty());
    assert!(flagged("headshot him from the tower, gg").is_empty());
    assert!(flagged("This budget is a death sentence for the high street").is_empty());
}

#[test]
fn offsets_are_chars_not_bytes() {
    let text = "😀😀 Ça va? I will kill you";
    let a = Detector::rules_only().analyse(text);
    let span = a
        .spans
        .iter()
        .find(|s| s.label == Label::ThreatViolence)
        .expect("threat span");
    assert_eq!(span_text(text, span.start, span.end), "I will kill you");
    assert_eq!(
        span.start,
        10,
        "char offset, not the byte offset {}",
        text.find('I').unwrap()
    );
    assert_eq!(span.end, text.chars().count());
}

#[test]
fn offsets_for_doxxing_after_non_ascii() {
    let text = "Ñame: “Jo” — her home address is 4 Mill Lane, HX7 8AA 🏠";
    let a = Detector::rules_only().analyse(text);
    let pc = a
        .spans
        .iter()
        .find(|s| s.reason.contains("postcode"))
        .expect("postcode span");
    assert_eq!(span_text(text, pc.start, pc.end), "HX7 8AA");
}

#[test]
fn spans_carry_reasons() {
    let a = Detector::rules_only().analyse("you're next");
    assert!(a.spans.iter().all(|s| !s.reason.is_empty()));
}

#[test]
fn contexts_are_reported() {
    let r = rules::check("We'll kill them in the second half");
    assert!(r.has_context(Context::SportOrGaming));
    assert!(!r.suppressed.is_empty());
}
