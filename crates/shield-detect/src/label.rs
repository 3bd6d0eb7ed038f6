//! The four labels, per-label scores and explained spans.
use serde::{Deserialize, Serialize};

/// What kind of harm a message carries. Serialised as snake_case strings
/// (`"threat_violence"`) because that is the wire format of the JSONL tool
/// and of the training data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    ThreatViolence,
    ThreatSexual,
    Doxxing,
    Abuse,
}

impl Label {
    /// All labels in a fixed order, used wherever scores are indexed.
    pub const ALL: [Label; 4] = [
        Label::ThreatViolence,
        Label::ThreatSexual,
        Label::Doxxing,
        Label::Abuse,
    ];

    /// The wire name, identical to the serde representation.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::ThreatViolence => "threat_violence",
            Label::ThreatSexual => "threat_sexual",
            Label::Doxxing => "doxxing",
            Label::Abuse => "abuse",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Label> {
        Label::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// Position in [`Label::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Both threat labels count as "a threat" for the safety targets.
    pub fn is_threat(self) -> bool {
        matches!(self, Label::ThreatViolence | Label::ThreatSexual)
    }
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A probability-like score in `[0, 1]` for each label.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub threat_violence: f32,
    pub threat_sexual: f32,
    pub doxxing: f32,
    pub abuse: f32,
}

impl Scores {
    pub fn get(&self, label: Label) -> f32 {
        match label {
            Label::ThreatViolence => self.threat_violence,
            Label::ThreatSexual => self.threat_sexual,
            Label::Doxxing => self.doxxing,
            Label::Abuse => self.abuse,
        }
    }

    pub fn set(&mut self, label: Label, value: f32) {
        let slot = match label {
            Label::ThreatViolence => &mut self.threat_violence,
            Label::ThreatSexual => &mut self.threat_sexual,
            Label::Doxxing => &mut self.doxxing,
            Label::Abuse => &mut self.abuse,
        };
        *slot = value;
    }
}

/// A stretch of the input that a rule matched. Offsets are in Unicode
/// scalar values (`char`s), not bytes, because the consumers (a web UI and
/// Python tooling) index strings by character; `end` is exclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub label: Label,
    pub start: usize,
    pub end: usize,
    pub reason: String,
}
