//! The combined detector: rules always, model + heads when available.
use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::DetectError;
use crate::heads::Heads;
use crate::label::{Label, Scores, Span};
use crate::model::{Embed, Embedder, MAX_WINDOWS, WINDOW_TOKENS};
use crate::rules::{self, Context, RuleReport};

/// Every label is reported when its combined score reaches this value.
/// Head probabilities are rescaled so that each head's own threshold maps
/// here, which puts rule confidences and head scores on one scale.
pub const OPERATING_THRESHOLD: f32 = 0.5;

/// How much the violence score is scaled down when a confident
/// sexual-threat rule already explains the message, so one threat is not
/// reported twice.
const SEXUAL_EXPLAINS_DAMPING: f32 = 0.5;

/// Whether the embedding tier can be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModelStatus {
    Loaded,
    /// Rules only; the string says why (e.g. which file is missing).
    Unavailable(String),
}

/// Which tier decided the flagged labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Nothing flagged.
    None,
    /// Only rule hits crossed the threshold.
    Rules,
    /// Only the model heads crossed the threshold.
    Model,
    /// Both tiers independently crossed the threshold.
    RulesAndModel,
}

/// The verdict on one message, with everything needed to explain it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Labels whose score reached [`OPERATING_THRESHOLD`].
    pub labels: Vec<Label>,
    /// Combined scores (on the operating scale, threshold 0.5).
    pub scores: Scores,
    /// Rule matches, in character offsets.
    pub spans: Vec<Span>,
    /// Which tier fired for the flagged labels.
    pub tier: Tier,
    /// Rule confidence per label (0 where no rule fired).
    pub rule_scores: Scores,
    /// Rescaled model scores per label, if the model ran.
    pub model_scores: Option<Scores>,
    /// Benign framings recognised by the rules.
    pub contexts: Vec<Context>,
    /// Plain-language notes: suppressed rules, damping applied.
    pub notes: Vec<String>,
}

/// The detector the rest of the service calls.
pub struct Detector {
    model: Option<(Box<dyn Embed + Send>, Heads)>,
    status: ModelStatus,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("status", &self.status)
            .finish()
    }
}

impl Detector {
    /// Rules only: always available, no files needed.
    pub fn rules_only() -> Self {
        Self::rules_only_because("no model configured")
    }

    fn rules_only_because(reason: &str) -> Self {
        Detector {
            model: None,
            status: ModelStatus::Unavailable(reason.to_string()),
        }
    }

    /// Loads the embedding model from `model_dir` and the heads JSON.
    pub fn load(model_dir: &Path, heads: &Path) -> Result<Self, DetectError> {
        let embedder = Embedder::load(model_dir)?;
        let heads = Heads::load(heads)?;
        Self::with_embedder(Box::new(embedder), heads)
    }

    /// Loads the embedding model from `model_dir` with heads already in
    /// memory (e.g. [`Heads::committed`]).
    pub fn load_with_heads(model_dir: &Path, heads: Heads) -> Result<Self, DetectError> {
        let embedder = Embedder::load(model_dir)?;
        Self::with_embedder(Box::new(embedder), heads)
    }

    /// Like [`Detector::load_with_heads`], but falls back to rules only and
    /// records why in [`Detector::model_status`].
    pub fn load_or_rules_only_with_heads(model_dir: &Path, heads: Heads) -> Self {
        match Self::load_with_heads(model_dir, heads) {
            Ok(d) => d,
            Err(e) => Self::rules_only_because(&e.to_string()),
        }
    }

    /// Like [`Detector::load`], but falls back to rules only and records
    /// why in [`Detector::model_status`]; for services that must start.
    pub fn load_or_rules_only(model_dir: &Path, heads: &Path) -> Self {
        match Self::load(model_dir, heads) {
            Ok(d) => d,
            Err(e) => Self::rules_only_because(&e.to_string()),
        }
    }

    /// Builds a detector from any embedder (used by tests and training).
    pub fn with_embedder(
        mut embedder: Box<dyn Embed + Send>,
        heads: Heads,
    ) -> Result<Self, DetectError> {
        if let Some(adapters) = &heads.adapters {
            embedder.apply_adapters(adapters)?;
        }
        if heads.dim != embedder.feature_dim() {
            return Err(DetectError::InvalidHeads(format!(
                "heads expect {}-dimensional features, model gives {}",
                heads.dim,
                embedder.feature_dim()
            )));
        }
        if heads.rule_features != rules::RULE_FEATURES {
            return Err(DetectError::InvalidHeads(format!(
                "heads expect {} rule features, the rules give {}",
                heads.rule_features,
                rules::RULE_FEATURES
            )));
        }
        heads.validate()?;
        Ok(Detector {
            model: Some((embedder, heads)),
            status: ModelStatus::Loaded,
        })
    }

    pub fn model_status(&self) -> ModelStatus {
        self.status.clone()
    }

    pub fn analyse(&self, text: &str) -> Analysis {
        self.analyse_batch(&[text])
            .pop()
            .expect("one analysis per text")
    }

    /// Analyses many texts; the model runs once over the whole batch, which
    /// is several times faster than calling [`Detector::analyse`] in a loop.
    /// If the model fails at run time the rules still answer and a note
    /// says so, because a safety service should degrade, not go dark.
    pub fn analyse_batch(&self, texts: &[&str]) -> Vec<Analysis> {
        let reports: Vec<RuleReport> = texts.par_iter().map(|t| rules::check(t)).collect();
        let mut cut = vec![false; texts.len()];
        let (head_scores, failure) = match &self.model {
            Some((embedder, heads)) => match embedder.window_features_batch(texts) {
                Ok(windows) => (
                    Some((
                        windows
                            .iter()
                            .zip(&reports)
                            .zip(&mut cut)
                            .map(|((w, r), cut)| {
                                *cut = w.cut;
                                strongest_window(heads, &w.features, &r.features())
                            })
                            .collect::<Vec<_>>(),
                        heads.thresholds(),
                    )),
                    None,
                ),
                Err(e) => (None, Some(format!("model failed, rules only: {e}"))),
            },
            None => (None, None),
        };
        reports
            .into_iter()
            .enumerate()
            .map(|(i, report)| {
                let head = head_scores.as_ref().map(|(s, t)| (s[i], *t));
                let mut a = combine(report, head);
                if let Some(f) = &failure {
                    a.notes.push(f.clone());
                }
                if cut[i] {
                    a.notes.push(format!(
                        "long message: the model read the first {MAX_WINDOWS} windows of {WINDOW_TOKENS} tokens (about 600 words); the rules read all of it"
                    ));
                }
                a
            })
            .collect()
    }
}

/// Head probabilities for a message read in windows: per label, the
/// strongest window. A threat in the last paragraph of a long letter is
/// as much a threat as one in the first, and averaging the windows would
/// dilute it by the benign rest.
fn strongest_window(heads: &Heads, windows: &[Vec<f32>], rule_features: &[f32]) -> Scores {
    let mut best = Scores::default();
    for (k, f) in windows.iter().enumerate() {
        let p = heads.predict(f, rule_features);
        for label in Label::ALL {
            if k == 0 || p.get(label) > best.get(label) {
                best.set(label, p.get(label));
            }
        }
    }
    best
}

/// Maps a head probability onto the operating scale so that the head's
/// threshold lands on [`OPERATING_THRESHOLD`], piecewise linearly.
pub fn rescale(p: f32, threshold: f32) -> f32 {
    let t = threshold.clamp(1e-4, 1.0 - 1e-4);
    if p < t {
        OPERATING_THRESHOLD * p / t
    } else {
        OPERATING_THRESHOLD + (1.0 - OPERATING_THRESHOLD) * (p - t) / (1.0 - t)
    }
}

/// Combines a rule report with optional raw head probabilities and their
/// thresholds. A rule hit sets a floor under the score. Benign framings
/// (reported speech, sport, electoral metaphor…) are not applied here by
/// fixed factors: the heads read them as features and learned their weight;
/// when the model flags a message despite one, a note says so.
pub fn combine(report: RuleReport, head: Option<(Scores, [f32; 4])>) -> Analysis {
    let mut scores = Scores::default();
    let mut rule_scores = Scores::default();
    let mut model_scores = head.map(|_| Scores::default());
    let mut notes = report.suppressed.clone();
    let mut labels = Vec::new();
    let (mut by_rule, mut by_model) = (false, false);

    for label in Label::ALL {
        let r = report.confidence(label);
        rule_scores.set(label, r);
        let mut m = 0.0;
        if let (Some((raw, thresholds)), Some(ms)) = (head, model_scores.as_mut()) {
            m = rescale(raw.get(label), thresholds[label.index()]);
            // A confident sexual-threat rule explains the violence head's
            // reaction too; don't double-report it as violence.
            let sexual_explains = label == Label::ThreatViolence
                && r < rules::MEDIUM
                && report.confidence(Label::ThreatSexual) >= rules::HIGH;
            if sexual_explains {
                if m >= OPERATING_THRESHOLD {
                    notes.push(
                        "threat_violence: model score damped, the sexual-threat rule explains it"
                            .into(),
                    );
                }
                m *= SEXUAL_EXPLAINS_DAMPING;
            } else if m >= OPERATING_THRESHOLD && r < OPERATING_THRESHOLD {
                for ctx in &report.contexts {
                    notes.push(format!(
                        "{label}: flagged by the model although {}",
                        ctx.describe()
                    ));
                }
            }
            ms.set(label, m);
        }
        let s = r.max(m);
        scores.set(label, s);
        if s >= OPERATING_THRESHOLD {
            labels.push(label);
            by_rule |= r >= OPERATING_THRESHOLD;
            by_model |= m >= OPERATING_THRESHOLD;
        }
    }
    // Weak evidence (e.g. a postcode in a surgery notice) is explained in
    // the notes but not returned as a span, so spans always mean "flagged".
    let mut spans = Vec::new();
    for h in &report.hits {
        if h.confidence >= OPERATING_THRESHOLD {
            spans.push(h.to_span());
        } else {
            notes.push(format!(
                "weak {} evidence not flagged on its own: {} at chars {}..{}",
                h.label, h.reason, h.start, h.end
            ));
        }
    }
    let tier = match (by_rule, by_model) {
        (false, false) => Tier::None,
        (true, false) => Tier::Rules,
        (false, true) => Tier::Model,
        (true, true) => Tier::RulesAndModel,
    };
    Analysis {
        labels,
        scores,
        spans,
        tier,
        rule_scores,
        model_scores,
        contexts: report.contexts,
        notes,
    }
}
