//! The app's message scanner: `shield-detect` (rules, plus the MiniLM model and heads when the
//! model files are present) behind the web layer's [`Scanner`] trait.

use std::path::Path;
use std::sync::Mutex;

use shield_detect::heads::Heads;
use shield_detect::{Detector, Label, ModelStatus, OPERATING_THRESHOLD};
use shield_web::scan::{Flag, Highlight, Scanner, Verdict};

/// The detector holds a model that is `Send` but not `Sync`; scans take turns (each is
/// CPU-bound on a 2-core machine anyway, and batches amortise the wait).
#[derive(Debug)]
pub struct DetectScanner {
    detector: Mutex<Detector>,
    description: String,
}

impl DetectScanner {
    /// The model from `model_dir` if it loads, else the rules tier alone (and it says so).
    pub fn load(model_dir: &Path) -> Self {
        let detector = Detector::load_or_rules_only_with_heads(model_dir, Heads::committed());
        let description = match detector.model_status() {
            ModelStatus::Loaded => "rules and the MiniLM model".to_owned(),
            ModelStatus::Unavailable(_) => {
                tracing::warn!("message scanner: the model is unavailable; rules only");
                "rules only (the model files are not installed: run scripts/fetch-model)".to_owned()
            }
        };
        Self {
            detector: Mutex::new(detector),
            description,
        }
    }

    pub fn rules_only() -> Self {
        Self {
            detector: Mutex::new(Detector::rules_only()),
            description: "rules only".to_owned(),
        }
    }
}

fn flag(label: Label) -> Flag {
    match label {
        Label::ThreatViolence => Flag::ThreatViolence,
        Label::ThreatSexual => Flag::ThreatSexual,
        Label::Doxxing => Flag::Doxxing,
        Label::Abuse => Flag::Abuse,
    }
}

impl Scanner for DetectScanner {
    fn scan(&self, texts: &[&str]) -> Vec<Verdict> {
        let detector = self.detector.lock().unwrap_or_else(|p| p.into_inner());
        detector
            .analyse_batch(texts)
            .into_iter()
            .map(|a| {
                let mut flags: Vec<Flag> = a.labels.iter().copied().map(flag).collect();
                flags.sort();
                Verdict {
                    flags,
                    scores: Flag::ALL.map(|f| {
                        a.scores.get(match f {
                            Flag::ThreatViolence => Label::ThreatViolence,
                            Flag::ThreatSexual => Label::ThreatSexual,
                            Flag::Doxxing => Label::Doxxing,
                            Flag::Abuse => Label::Abuse,
                        })
                    }),
                    // Rule matches, and on a long letter the passage the model flagged.
                    highlights: a
                        .spans
                        .iter()
                        .chain(&a.passages)
                        .map(|s| Highlight {
                            flag: flag(s.label),
                            start: s.start,
                            end: s.end,
                            reason: s.reason.clone(),
                        })
                        .collect(),
                    notes: a.notes,
                    ruled: a
                        .review
                        .iter()
                        .filter(|l| a.rule_scores.get(**l) >= OPERATING_THRESHOLD)
                        .copied()
                        .map(flag)
                        .collect(),
                    review: a.review.into_iter().map(flag).collect(),
                }
            })
            .collect()
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}
