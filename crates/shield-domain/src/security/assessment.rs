//! The structured risk assessment: ten factors in three groups (threat, vulnerability, impact),
//! each on the same four-point scale with guiding questions, and an overall rating derived from
//! them by fixed, explainable rules, so two assessors who score alike reach the same rating and
//! the page can say which factors drove it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::FieldError;

/// The group a factor belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorGroup {
    Threat,
    Vulnerability,
    Impact,
}

impl FactorGroup {
    pub fn label(self) -> &'static str {
        match self {
            Self::Threat => "Threat",
            Self::Vulnerability => "Vulnerability",
            Self::Impact => "Impact",
        }
    }
}

/// One assessed factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Factor {
    Fixation,
    Escalation,
    Approach,
    Capability,
    Intent,
    HomeAddressPublic,
    LoneWorking,
    EventsScheduled,
    PreviousIncidents,
    Impact,
}

impl Factor {
    pub const ALL: [Factor; 10] = [
        Factor::Fixation,
        Factor::Escalation,
        Factor::Approach,
        Factor::Capability,
        Factor::Intent,
        Factor::HomeAddressPublic,
        Factor::LoneWorking,
        Factor::EventsScheduled,
        Factor::PreviousIncidents,
        Factor::Impact,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::Fixation => "fixation",
            Self::Escalation => "escalation",
            Self::Approach => "approach",
            Self::Capability => "capability",
            Self::Intent => "intent",
            Self::HomeAddressPublic => "home_address_public",
            Self::LoneWorking => "lone_working",
            Self::EventsScheduled => "events_scheduled",
            Self::PreviousIncidents => "previous_incidents",
            Self::Impact => "impact",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.key() == value)
    }

    pub fn group(self) -> FactorGroup {
        match self {
            Self::Fixation
            | Self::Escalation
            | Self::Approach
            | Self::Capability
            | Self::Intent => FactorGroup::Threat,
            Self::HomeAddressPublic
            | Self::LoneWorking
            | Self::EventsScheduled
            | Self::PreviousIncidents => FactorGroup::Vulnerability,
            Self::Impact => FactorGroup::Impact,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Fixation => "Fixation",
            Self::Escalation => "Escalation",
            Self::Approach => "Approach behaviour",
            Self::Capability => "Capability",
            Self::Intent => "Stated intent",
            Self::HomeAddressPublic => "Home address public",
            Self::LoneWorking => "Lone working",
            Self::EventsScheduled => "Events scheduled",
            Self::PreviousIncidents => "Previous incidents",
            Self::Impact => "Impact if it happened",
        }
    }

    /// The guiding questions shown beside the factor on the form.
    pub fn questions(self) -> &'static str {
        match self {
            Self::Fixation => {
                "Is someone preoccupied with the candidate? How often, for how long, and is it personal or about a cause?"
            }
            Self::Escalation => {
                "Is the contact getting more frequent, more intense or more specific? Has it moved from online to in person?"
            }
            Self::Approach => {
                "Has anyone tried to find, follow, visit or get close to the candidate, their home, office or family?"
            }
            Self::Capability => {
                "Could they carry it out: access to weapons, known violence, skills, resources, nearness?"
            }
            Self::Intent => {
                "Has anyone said they will harm the candidate, and how specific was it (who, what, when, where)?"
            }
            Self::HomeAddressPublic => {
                "Is the home address published, on the ballot paper, in leaked material or easy to find?"
            }
            Self::LoneWorking => {
                "Does the candidate canvass, travel or hold surgeries alone, or live alone?"
            }
            Self::EventsScheduled => {
                "Are public events coming up (hustings, surgeries, the count) whose time and place are known?"
            }
            Self::PreviousIncidents => {
                "Have there been earlier incidents against this candidate, their family, staff or office?"
            }
            Self::Impact => {
                "If the threat were carried out, how serious would the harm be to the candidate, others or the election?"
            }
        }
    }

    /// What each point of the scale means for this group.
    pub fn level_labels(self) -> [&'static str; 4] {
        match self.group() {
            FactorGroup::Threat => ["None seen", "Some", "Significant", "Severe"],
            FactorGroup::Vulnerability => ["No", "A little", "Largely", "Fully"],
            FactorGroup::Impact => ["Minor", "Moderate", "Serious", "Life-threatening"],
        }
    }
}

/// A point on the four-point scale, 0–3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Level(u8);

impl Level {
    pub const MAX: u8 = 3;

    pub fn new(value: u8) -> Option<Self> {
        (value <= Self::MAX).then_some(Self(value))
    }

    pub fn value(self) -> u8 {
        self.0
    }
}

/// The overall rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    Low,
    Medium,
    High,
    VeryHigh,
}

impl Rating {
    pub const ALL: [Rating; 4] = [Rating::Low, Rating::Medium, Rating::High, Rating::VeryHigh];

    pub fn key(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::VeryHigh => "very_high",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Low => "Low",
            Self::Medium => "Medium",
            Self::High => "High",
            Self::VeryHigh => "Very high",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.key() == value)
    }

    fn from_index(i: u8) -> Self {
        match i {
            0 => Self::Low,
            1 => Self::Medium,
            2 => Self::High,
            _ => Self::VeryHigh,
        }
    }

    fn index(self) -> u8 {
        self as u8
    }
}

/// A score for every factor. Built only by [`Scores::parse`] or [`Scores::from_levels`], so
/// it is always complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scores(BTreeMap<Factor, Level>);

impl Scores {
    /// Every factor's level; a missing or out-of-range one is named.
    pub fn from_levels(levels: &BTreeMap<Factor, Option<u8>>) -> Result<Self, Vec<Factor>> {
        let mut out = BTreeMap::new();
        let mut missing = Vec::new();
        for f in Factor::ALL {
            match levels.get(&f).copied().flatten().and_then(Level::new) {
                Some(l) => {
                    out.insert(f, l);
                }
                None => missing.push(f),
            }
        }
        if missing.is_empty() {
            Ok(Self(out))
        } else {
            Err(missing)
        }
    }

    /// The stored form: `fixation=2,escalation=1,…`.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let mut levels = BTreeMap::new();
        for pair in text.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| FieldError::new("scores must be factor=level pairs"))?;
            let f = Factor::parse(k).ok_or_else(|| FieldError::new("unknown factor"))?;
            levels.insert(f, v.parse::<u8>().ok());
        }
        Self::from_levels(&levels).map_err(|_| FieldError::new("every factor needs a level 0-3"))
    }

    pub fn encode(&self) -> String {
        self.0
            .iter()
            .map(|(f, l)| format!("{}={}", f.key(), l.0))
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn get(&self, f: Factor) -> u8 {
        self.0.get(&f).map_or(0, |l| l.0)
    }

    fn sum(&self, group: FactorGroup) -> u8 {
        Factor::ALL
            .iter()
            .filter(|f| f.group() == group)
            .map(|f| self.get(*f))
            .sum()
    }
}

/// The derived rating and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub rating: Rating,
    /// The rules that set the rating, in order, in plain words.
    pub reasons: Vec<String>,
    /// The factors scored 2 or 3: what drove it.
    pub drivers: Vec<Factor>,
}

/// Derives the overall rating. The rules, in order:
/// 1. The threat band from the five threat factors' total (0–15): 0–2 low, 3–6 medium,
///    7–10 high, 11–15 very high.
/// 2. Stated intent and capability both significant or worse make it at least high.
/// 3. Vulnerability totalling 7 or more (of 12) raises it one band.
/// 4. A life-threatening impact raises it one band; a minor impact with vulnerability of 2 or
///    less lowers it one.
pub fn assess(scores: &Scores) -> Assessment {
    let mut reasons = Vec::new();
    let threat = scores.sum(FactorGroup::Threat);
    let mut band = match threat {
        0..=2 => 0,
        3..=6 => 1,
        7..=10 => 2,
        _ => 3,
    };
    reasons.push(format!(
        "Threat factors total {threat} of 15: {}",
        Rating::from_index(band).label().to_lowercase()
    ));
    if scores.get(Factor::Intent) >= 2 && scores.get(Factor::Capability) >= 2 && band < 2 {
        band = 2;
        reasons.push("Stated intent together with the capability to act: at least high".into());
    }
    let vulnerability = scores.sum(FactorGroup::Vulnerability);
    if vulnerability >= 7 && band < 3 {
        band += 1;
        reasons.push(format!(
            "Vulnerability totals {vulnerability} of 12: raised one level"
        ));
    }
    let impact = scores.get(Factor::Impact);
    if impact == 3 && band < 3 {
        band += 1;
        reasons.push("The impact would be life-threatening: raised one level".into());
    } else if impact == 0 && vulnerability <= 2 && band > 0 {
        band -= 1;
        reasons.push("Minor impact and little vulnerability: lowered one level".into());
    }
    let rating = Rating::from_index(band);
    reasons.push(format!("Overall: {}", rating.label().to_lowercase()));
    let drivers = Factor::ALL
        .into_iter()
        .filter(|f| scores.get(*f) >= 2)
        .collect();
    debug_assert_eq!(rating.index(), band);
    Assessment {
        rating,
        reasons,
        drivers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(pairs: &[(Factor, u8)]) -> Scores {
        let mut levels: BTreeMap<Factor, Option<u8>> =
            Factor::ALL.iter().map(|f| (*f, Some(0))).collect();
        for (f, l) in pairs {
            levels.insert(*f, Some(*l));
        }
        Scores::from_levels(&levels).unwrap()
    }

    #[test]
    fn nothing_scored_is_low() {
        let a = assess(&scores(&[]));
        assert_eq!(a.rating, Rating::Low);
        assert!(a.drivers.is_empty());
    }

    #[test]
    fn threat_total_sets_the_band() {
        let s = scores(&[
            (Factor::Fixation, 2),
            (Factor::Escalation, 2),
            (Factor::Approach, 1),
            (Factor::Impact, 1),
        ]);
        let a = assess(&s);
        assert_eq!(a.rating, Rating::Medium, "{:?}", a.reasons);
        assert_eq!(a.drivers, vec![Factor::Fixation, Factor::Escalation]);
        assert!(a.reasons[0].contains("5 of 15"));
    }

    #[test]
    fn intent_with_capability_is_at_least_high() {
        let s = scores(&[
            (Factor::Intent, 2),
            (Factor::Capability, 2),
            (Factor::Impact, 2),
        ]);
        let a = assess(&s);
        assert_eq!(a.rating, Rating::High);
        assert!(a.reasons.iter().any(|r| r.contains("Stated intent")));
    }

    #[test]
    fn vulnerability_and_impact_raise_it() {
        let s = scores(&[
            (Factor::Fixation, 3),
            (Factor::Escalation, 2),
            (Factor::Approach, 2),
            (Factor::HomeAddressPublic, 3),
            (Factor::LoneWorking, 2),
            (Factor::EventsScheduled, 2),
            (Factor::Impact, 3),
        ]);
        let a = assess(&s);
        assert_eq!(a.rating, Rating::VeryHigh, "{:?}", a.reasons);
        assert!(
            a.reasons
                .iter()
                .any(|r| r.contains("Vulnerability totals 7"))
        );
    }

    #[test]
    fn minor_impact_and_low_vulnerability_lower_it() {
        let s = scores(&[(Factor::Fixation, 2), (Factor::Escalation, 2)]);
        assert_eq!(assess(&s).rating, Rating::Low);
    }

    #[test]
    fn scores_round_trip_and_missing_factors_are_named() {
        let s = scores(&[(Factor::Intent, 3)]);
        assert_eq!(Scores::parse(&s.encode()).unwrap(), s);
        let mut partial: BTreeMap<Factor, Option<u8>> = BTreeMap::new();
        partial.insert(Factor::Fixation, Some(1));
        partial.insert(Factor::Escalation, Some(7));
        let missing = Scores::from_levels(&partial).unwrap_err();
        assert!(missing.contains(&Factor::Escalation) && missing.contains(&Factor::Impact));
        assert!(!missing.contains(&Factor::Fixation));
    }
}
