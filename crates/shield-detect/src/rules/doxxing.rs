//! Doxxing: exposing a person's private details.
//!
//! Personal-data patterns (postcodes, phone numbers, emails, car
//! registrations, house number + street) are only *evidence*: a candidate's
//! surgery announcement or a leaflet imprint publishes an address on
//! purpose. So they start at [`LOW`] confidence and are raised to [`HIGH`]
//! only when the text ties them to a person's private life ("lives at",
//! "her home address", "his kids go to", "pay him a visit"). Phrases such
//! as "I know where you live" are doxxing on their own.
use std::sync::LazyLock;

use regex::Regex;

use super::context::Context::{self, *};
use super::frag::AP;
use super::{Candidate, HIGH, LOW, MEDIUM, Pattern};
use crate::label::Label::{Doxxing as DX, ThreatViolence as TV};

const REPORTED: &[Context] = &[ReportedThreat, NewsReport];
const NONE: &[Context] = &[];

const PII_REASONS: [&str; 5] = [
    "UK postcode",
    "UK phone number",
    "email address",
    "UK car registration",
    "house number and street",
];

pub(crate) fn patterns() -> Vec<Pattern> {
    let p = Pattern::new;
    let where_live = format!(
        r"\b(?:i|we|i{AP}ve|we{AP}ve|ive)\s*(?:\s+all)?\s*(?:know|knows|found\s+out|found|have\s+found|got|know\s+exactly|now\s+know|already\s+know|kno|no)\s+(?:exactly\s+)?where\s+(?:you|u|ya|she|he|they|your\s+\w+|ur\s+\w+|her\s+\w+|his\s+\w+|the\s+\w+)\s+(?:live|lives|living|sleep|sleeps|work|works|park|parks|drink|drinks|shop|shops|walk|walks|stay|stays|go\s+to|goes\s+to|jog|run|train)\b"
    );
    let visit = r"\b(?:pay|give)\s+(?:her|him|them|you|u|the\s+\w+)\s+a\s+(?:little\s+|friendly\s+|quick\s+|proper\s+|late\s+night\s+)?(?:visit|knock|house\s+call)\b|\b(?:let{AP}s|everyone|lads|we\s+should|shall\s+we)\s+(?:\w+\s+)?(?:go|get|head|pop|turn\s+up)\s+(?:round|over|down)\s+(?:to\s+)?(?:her|his|their|the\s+\w+{AP}s)\s+(?:house|home|place|gaff|flat|door)\b";
    vec![
        p(DX, LOW, PII_REASONS[0], NONE, r"\b(?:[A-Z]{1,2}[0-9][A-Z0-9]?|GIR)\s?[0-9][A-Z]{2}\b"),
        p(DX, LOW, PII_REASONS[1], NONE, r"(?:\+44\s?(?:\(0\)\s?)?|\b0)[1-37](?:[\s-]?\d){8,9}\b"),
        p(DX, LOW, PII_REASONS[2], NONE, r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
        p(DX, LOW, PII_REASONS[3], NONE, r"\b[A-Z]{2}[0-9]{2}\s?[A-Z]{3}\b|\b(?-i:[A-Z][0-9]{1,3}\s?[A-Z]{3})\b"),
        p(DX, HIGH, "says they know where a person lives or goes", REPORTED, &where_live),
        p(TV, MEDIUM, "intimidation: knows where a person lives", REPORTED, &where_live),
        p(DX, HIGH, "claims to hold a person's private details", REPORTED,
          &format!(r"\b(?:i|we|i{{AP}}ve|we{{AP}}ve|ive)\s*(?:\w+\s+){{0,2}}?(?:know|have|got|found|found\s+out|traced|tracked\s+down)\s+(?:your|ur|her|his|their)\s+(?:home\s+|new\s+|private\s+|personal\s+|mum{AP}?s\s+|parents{AP}?\s+)?(?:address|postcode|house|home|flat|reg|registration|car|number\s+plate|daily\s+routine|routine|movements|mobile(?:\s+number)?|phone\s+number|personal\s+number|email|school\s+run)\b").replace("{AP}", AP)),
        p(DX, HIGH, "names where a person's children go to school", REPORTED,
          &format!(r"\b(?:your|ur|yer|her|his|their|the\s+mp{AP}s|the\s+candidate{AP}s|the\s+councillor{AP}s)\s+(?:\w+\s+)?(?:kids?|children|child|sons?|daughters?|boys|girls|grandkids|little\s+ones|twins){AP}?s?{AP}?\s+(?:\w+\s+)?(?:school|nursery|primary|academy|college|school\s+run|playground|school\s+gates?|swimming\s+club|football\s+club|ballet)\b|\b(?:your|ur|her|his|their)\s+(?:\w+\s+)?(?:kids?|children|sons?|daughters?|boys|girls|twins)\s+(?:go|goes|attend|attends|are|is)\s+(?:to\s+|at\s+)?(?:\w+{AP}?\w*\s+){{0,4}}?(?:school|primary|academy|nursery|college|high|grammar|c\s+of\s+e|juniors|infants)\b|\bwhich\s+school\s+(?:your|ur|her|his|their)\b|\b(?:pick|picks|picking|drop|drops|dropping)\s+(?:up\s+|off\s+)?(?:your|ur|her|his|their)\s+(?:kids?|children|sons?|daughters?)\s+(?:up\s+|off\s+)?(?:at|from)\b")),
        p(DX, HIGH, "publishes where a person lives", REPORTED,
          &format!(r"\bhere{AP}?s\s+(?:where|the\s+address\s+of|the\s+house\s+of)\s+|\b(?:she|he|they|this\s+\w+|the\s+\w+|the\s+traitor|(?-i:[A-Z][a-z]+))\s+(?:lives?|living|stays?)\s+(?:at|on)\s+(?:number\s+|no\.?\s*)?\d|\b(?:her|his|their|the\s+mp{AP}s|the\s+candidate{AP}s|the\s+councillor{AP}s)\s+(?:home\s+|private\s+|personal\s+|real\s+)?(?:address|postcode|mobile|personal\s+number|phone\s+number|home\s+number|house|flat|reg(?:istration)?)\s+(?:is|=|:|-|–)")),
        p(DX, MEDIUM, "invites others to visit a person", REPORTED, visit),
        // Sending others to someone's door is a threat as well as doxxing.
        p(TV, MEDIUM, "incitement: invites others to visit a person", REPORTED, visit),
        p(DX, MEDIUM, "says they watch or follow a person", REPORTED,
          &format!(r"\b(?:i|we)\s*(?:{AP}ve|\s+have)?\s*(?:seen|saw|watched|been\s+watching|followed|been\s+following|clocked)\s+(?:you|u|her|him)\s+(?:\w+\s+){{0,2}}?(?:leave|leaving|leaves|outside|walking|going\s+into|coming\s+out|drop|dropping|park|parking|home|jogging|running|at\s+the\s+school|every\s+(?:morning|night|day))\b")),
    ]
}

/// Words that tie personal data to someone's private life.
static PERSON_CONTEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)\b(?:she|he|they|him|her|this\s+\w+|the\s+(?:mp|councillor|candidate|traitor|cllr)|(?-i:[A-Z][a-z]+))\s+(?:lives?|living|staying|resides?|sleeps?)\s+(?:at|on|in|round|near)\b|\bhome\s+address|\b(?:her|his|their|the\s+mp{AP}s|the\s+candidate{AP}s)\s+(?:\w+\s+)?(?:home|house|flat|address|gaff|place|mobile|personal|private|number|phone|email|reg|car|registration|kids?|children|wife|husband|partner|parents|mum|dad)\b|\bhere{AP}?s\s+(?:where|her|his|their|the\s+(?:traitor|bitch|scum|mp|candidate|councillor))\b|\b(?:pay|give)\s+(?:her|him|them)\s+a\b|\b(?:round|over)\s+to\s+(?:her|his|their)\b|\b(?:everyone|let{AP}s|lads)\s+(?:go|get|head|pop|ring|call|text|spam|flood|email|message)\b|\b(?:ring|call|text|phone|spam|flood|bombard|message|email|dm|harass|hound)\s+(?:her|him|them|this\s+\w+|that\s+\w+|the\s+(?:traitor|bitch|scum))\b|\b(?:personal|private|home|mobile|real)\s+(?:number|phone|email|address|line|details)\b|\bleaked\b|\bdox+(?:ed|ing)?\b|\bfound\s+(?:her|his|their|your|ur)\b|\b(?:reg|registration)\s+(?:is|plate|number)\b|\b(?:you|u|she|he|they)\s+(?:live|lives|sleep|sleeps|park|parks)\s+(?:at|on|in)\b|\bknow\s+where\b"
    ))
    .expect("person-context regex compiles")
});

/// Weaker signs of a private address; not enough against a public framing.
static WEAK_PERSON_CONTEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:your|ur)\s+(?:house|home|address|flat|car|reg|gaff|front\s+door)\b|\b(?:outside|near)\s+(?:your|her|his|their)\s+(?:house|home|place|flat)\b|\b(?:drives?|driving|parks?)\s+(?:a|her|his|their)\b|\bnice\s+(?:house|car|flat|home)\b")
        .expect("weak person-context regex compiles")
});

/// House number and street, checked in code so that "2 kids in the park"
/// is not taken for an address.
static HOUSE_STREET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:flat\s+\d+[a-z]?,?\s+)?\d{1,4}[a-z]?,?\s+(?P<words>(?:[a-z'’.-]+\s+){1,3}?)(?:street|st|road|rd|avenue|ave|lane|ln|close|drive|dr|crescent|cres|way|gardens|gdns|grove|terrace|place|court|hill|mews|row|square|sq|walk|park|rise|view|green|parade|gate|vale|meadows?|fields?|wharf|quay)\b\.?")
        .expect("house regex compiles")
});

const NOT_STREET_WORDS: &[&str] = &[
    "the", "a", "an", "in", "at", "on", "of", "to", "and", "for", "my", "his", "her", "their",
    "our", "your", "kids", "children", "times", "days", "weeks", "years", "people", "more",
    "minutes", "mins", "miles", "doors", "houses", "down", "up", "round", "across", "along",
    "over", "by", "from", "with", "near", "goals", "points", "votes", "seats", "is", "was", "are",
    "were", "it", "we", "i", "you", "they", "he", "she", "or", "but", "per", "percent", "pm", "am",
    "hours",
];

pub(crate) fn extra_candidates(text: &str, out: &mut Vec<Candidate>) {
    for caps in HOUSE_STREET.captures_iter(text) {
        let m = caps.get(0).expect("whole match");
        let words = caps.name("words").map_or("", |w| w.as_str());
        let plausible = words
            .split_whitespace()
            .all(|w| !NOT_STREET_WORDS.contains(&w.to_lowercase().as_str()));
        if plausible {
            out.push(Candidate {
                label: DX,
                start: m.start(),
                end: m.end(),
                reason: PII_REASONS[4],
                confidence: LOW,
                cancelled_by: NONE,
            });
        }
    }
}

/// Raises personal-data evidence to a doxxing hit when the message ties it
/// to a person; leaves it low when it reads as a public announcement.
pub(crate) fn adjust_for_context(text: &str, contexts: &[Context], cands: &mut [Candidate]) {
    let strong_phrase = cands
        .iter()
        .any(|c| c.label == DX && c.confidence >= MEDIUM && !PII_REASONS.contains(&c.reason));
    let public = contexts.contains(&PublicContact);
    let personal = strong_phrase
        || PERSON_CONTEXT.is_match(text)
        || (!public && WEAK_PERSON_CONTEXT.is_match(text));
    let reported = contexts.contains(&ReportedThreat) || contexts.contains(&NewsReport);
    for c in cands.iter_mut() {
        if c.label != DX || !PII_REASONS.contains(&c.reason) {
            continue;
        }
        if personal && !reported {
            c.confidence = HIGH;
            c.reason = match c.reason {
                r if r == PII_REASONS[0] => "postcode tied to a person's private life",
                r if r == PII_REASONS[1] => "phone number tied to a person",
                r if r == PII_REASONS[2] => "email address tied to a person",
                r if r == PII_REASONS[3] => "car registration tied to a person",
                _ => "home address tied to a person",
            };
        } else if public {
            c.confidence = LOW * 0.5;
        }
    }
}
