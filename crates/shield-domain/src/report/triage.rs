//! Explainable triage: a priority from the category, whether it is happening now and a few
//! keywords, with every reason that raised it written down so the police can see why (and
//! change it, with a reason of their own).

use serde::Serialize;

use super::{Category, Priority};

/// What triage looks at. `text` is what happened, where, and any pasted messages.
#[derive(Debug, Clone, Copy)]
pub struct TriageInput<'a> {
    pub category: Category,
    pub happening_now: bool,
    pub text: &'a str,
}

/// The priority and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Triage {
    pub priority: Priority,
    pub reasons: Vec<String>,
}

/// Words that point to danger to life or an approach in person. Matched as whole words on
/// lower-cased text; explainable, so each hit is named in the reasons.
const DANGER_WORDS: &[&str] = &[
    "kill",
    "killed",
    "murder",
    "stab",
    "stabbed",
    "knife",
    "gun",
    "shoot",
    "shot",
    "acid",
    "petrol",
    "arson",
    "burn",
    "bomb",
    "explosive",
    "rape",
    "strangle",
    "hang",
    "dead",
    "weapon",
    "machete",
    "attack",
];
const PRESENCE_WORDS: &[&str] = &[
    "outside",
    "front door",
    "my house",
    "my home",
    "following me",
    "followed me",
    "waiting for me",
    "at my door",
    "in my garden",
    "broke in",
    "window",
    // A threat naming where the candidate will be or lives.
    "your surgery",
    "your office",
    "your house",
    "your home",
    "your door",
    "your address",
];
const EXPOSURE_WORDS: &[&str] = &[
    "home address",
    "where i live",
    "where you live",
    "my children",
    "my kids",
    "school",
];

fn has_phrase(text: &str, phrase: &str) -> bool {
    // Whole-word match: the characters either side of a hit are not letters.
    let mut start = 0;
    while let Some(at) = text[start..].find(phrase) {
        let i = start + at;
        let before = text[..i].chars().next_back();
        let after = text[i + phrase.len()..].chars().next();
        let edge = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
        if edge(before) && edge(after) {
            return true;
        }
        start = i + phrase.len();
    }
    false
}

fn hits(text: &str, words: &[&str]) -> Vec<String> {
    words
        .iter()
        .filter(|w| has_phrase(text, w))
        .map(|w| format!("\u{201c}{w}\u{201d}"))
        .collect()
}

/// Sets the priority. The rules, in order of strength:
/// - happening now with a threat, stalking, harassment in person, a protest at home or
///   suspicious activity → P1 (someone may be in danger now);
/// - threat of violence or a sexual threat → P2, raised to P1 if it names a weapon or killing
///   and the text places the offender near the candidate;
/// - stalking, harassment in person, a protest at home, suspicious activity or exposed
///   personal details → P2;
/// - words of serious violence in any other report → P2;
/// - online abuse and cyber incidents → P3; anything else → P4, or P3 with exposure words.
pub fn triage(input: TriageInput<'_>) -> Triage {
    use Category::*;
    let text = input.text.to_lowercase();
    let danger = hits(&text, DANGER_WORDS);
    let presence = hits(&text, PRESENCE_WORDS);
    let exposure = hits(&text, EXPOSURE_WORDS);
    let mut reasons = Vec::new();
    let in_person = matches!(
        input.category,
        ThreatOfViolence
            | SexualThreat
            | Stalking
            | HarassmentInPerson
            | ProtestAtHome
            | SuspiciousActivity
            | LoneWorkingAlarm
    );
    let base = match input.category {
        ThreatOfViolence | SexualThreat => {
            reasons.push(format!(
                "Category: {}",
                input.category.label().to_lowercase()
            ));
            Priority::P2
        }
        Stalking
        | HarassmentInPerson
        | ProtestAtHome
        | SuspiciousActivity
        | PersonalDetailsExposed => {
            reasons.push(format!(
                "Category: {} (a risk in person)",
                input.category.label().to_lowercase()
            ));
            Priority::P2
        }
        OnlineAbuse | CyberIncident => {
            reasons.push(format!(
                "Category: {}",
                input.category.label().to_lowercase()
            ));
            Priority::P3
        }
        Other => {
            reasons.push("Category: something else".to_owned());
            Priority::P4
        }
        // Alarms are made by the check-in module with their own reason, always P1.
        LoneWorkingAlarm => {
            reasons.push("Lone-working alarm".to_owned());
            Priority::P1
        }
    };
    let mut priority = base;
    if input.happening_now {
        if in_person || !danger.is_empty() {
            reasons.push("Happening now".to_owned());
            priority = Priority::P1;
        } else {
            reasons.push("Happening now (raised one level)".to_owned());
            priority = raise(priority);
        }
    }
    if !danger.is_empty() {
        reasons.push(format!("Mentions {}", danger.join(", ")));
        if priority > Priority::P2 {
            priority = Priority::P2;
        }
        if !presence.is_empty() {
            reasons.push(format!("Places someone near you: {}", presence.join(", ")));
            priority = Priority::P1;
        }
    }
    if !exposure.is_empty() && priority > Priority::P3 {
        reasons.push(format!("Mentions {}", exposure.join(", ")));
        priority = Priority::P3;
    }
    Triage { priority, reasons }
}

fn raise(p: Priority) -> Priority {
    match p {
        Priority::P1 | Priority::P2 => Priority::P1,
        Priority::P3 => Priority::P2,
        Priority::P4 => Priority::P3,
    }
}
