//! Tier 3: small heads over the model's features and the rules' findings.
//!
//! One shared hidden layer (ReLU) reads the standardised input — the
//! embedder's pooled features followed by [`crate::rules::RuleReport::features`]
//! — and one logistic output per label reads the hidden layer. A plain
//! logistic regression on the sentence embedding (the first version) found
//! about 0.62 of the threats in text written by an independent writer at a
//! 10% false-alarm rate; the hidden layer, the richer pooling and the rule
//! features are what moved that (figures in the crate README). The heads
//! stay small enough to commit as JSON and retrain in under a minute.
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::DetectError;
use crate::label::{Label, Scores};

/// The text of the committed `heads/heads.json`.
pub const COMMITTED_HEADS_JSON: &str = include_str!("../heads/heads.json");

/// One label's output over the shared hidden layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Head {
    pub label: Label,
    /// One weight per hidden unit.
    pub weights: Vec<f32>,
    pub bias: f32,
    /// Probability at or above which the head alone flags the label. Chosen
    /// on out-of-fold predictions during training (see [`crate::train`]).
    pub threshold: f32,
}

impl Head {
    /// Probability of this head's label given the hidden activations.
    pub fn predict(&self, hidden: &[f32]) -> f32 {
        let z: f32 = self
            .weights
            .iter()
            .zip(hidden)
            .map(|(w, x)| w * x)
            .sum::<f32>()
            + self.bias;
        sigmoid(z)
    }
}

/// The logistic function, in the form that cannot overflow.
pub(crate) fn sigmoid(z: f32) -> f32 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// The full set of heads, with enough provenance to notice a mismatch
/// between heads and the embedding model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heads {
    /// Name of the embedding model the heads were trained on.
    pub model: String,
    /// Length of the embedder's feature vector; checked at load time.
    pub dim: usize,
    /// Rule features appended to the model's (see
    /// [`crate::rules::RULE_FEATURES`]).
    pub rule_features: usize,
    /// Standardisation of the `dim + rule_features` inputs: (x - mean) / scale.
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
    /// Hidden layer: one row of `dim + rule_features` weights per unit.
    pub hidden: Vec<Vec<f32>>,
    pub hidden_bias: Vec<f32>,
    pub heads: Vec<Head>,
    /// Free-form notes on how the heads were trained.
    #[serde(default)]
    pub notes: String,
    /// Encoder adapters the heads were trained with, merged into the
    /// encoder when the detector loads (see [`crate::adapt`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adapters: Option<crate::adapt::Adapters>,
    /// The lexical reader fused with the heads' outputs (stop 19; see
    /// [`crate::lexical`]). Heads trained before it have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lexical: Option<crate::lexical::Lexical>,
}

impl Heads {
    pub fn load(path: &Path) -> Result<Self, DetectError> {
        let raw = std::fs::read_to_string(path).map_err(|source| DetectError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_json(&raw, &path.display().to_string())
    }

    /// Parses and validates heads JSON; `what` names the source in errors.
    pub fn from_json(raw: &str, what: &str) -> Result<Self, DetectError> {
        let heads: Heads = serde_json::from_str(raw).map_err(|source| DetectError::Json {
            what: what.to_string(),
            source,
        })?;
        heads.validate()?;
        Ok(heads)
    }

    /// The heads committed in `heads/heads.json`, compiled into the crate so
    /// a binary needs only the model directory at run time.
    pub fn committed() -> Self {
        Self::from_json(COMMITTED_HEADS_JSON, "heads/heads.json (compiled in)")
            .expect("the committed heads/heads.json is valid (checked by a unit test)")
    }

    pub fn save(&self, path: &Path) -> Result<(), DetectError> {
        let json = serde_json::to_string(self).map_err(|source| DetectError::Json {
            what: "heads".into(),
            source,
        })?;
        std::fs::write(path, json + "\n").map_err(|source| DetectError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Every shape must agree, every number be finite and every threshold
    /// lie in (0, 1).
    pub fn validate(&self) -> Result<(), DetectError> {
        let inputs = self.dim + self.rule_features;
        let bad = |what: String| Err(DetectError::InvalidHeads(what));
        if self.mean.len() != inputs || self.scale.len() != inputs {
            return bad(format!(
                "standardisation has {} means and {} scales, expected {inputs}",
                self.mean.len(),
                self.scale.len()
            ));
        }
        if self.hidden.len() != self.hidden_bias.len() {
            return bad(format!(
                "{} hidden units but {} hidden biases",
                self.hidden.len(),
                self.hidden_bias.len()
            ));
        }
        if let Some((i, row)) = self
            .hidden
            .iter()
            .enumerate()
            .find(|(_, r)| r.len() != inputs)
        {
            return bad(format!(
                "hidden unit {i} has {} weights, expected {inputs}",
                row.len()
            ));
        }
        let finite = |v: &[f32]| v.iter().all(|x| x.is_finite());
        if !finite(&self.mean)
            || !self.scale.iter().all(|x| x.is_finite() && *x > 0.0)
            || !self.hidden.iter().all(|r| finite(r))
            || !finite(&self.hidden_bias)
        {
            return bad("the hidden layer has non-finite numbers or a scale of zero".into());
        }
        if let Some(lexical) = &self.lexical {
            lexical.validate()?;
        }
        for h in &self.heads {
            if h.weights.len() != self.hidden.len() {
                return Err(DetectError::InvalidHeads(format!(
                    "head {} has {} weights, expected {}",
                    h.label,
                    h.weights.len(),
                    self.hidden.len()
                )));
            }
            if !(h.threshold > 0.0 && h.threshold < 1.0) {
                return Err(DetectError::InvalidHeads(format!(
                    "head {} threshold {} is outside (0, 1)",
                    h.label, h.threshold
                )));
            }
            if h.weights.iter().any(|w| !w.is_finite()) || !h.bias.is_finite() {
                return Err(DetectError::InvalidHeads(format!(
                    "head {} has non-finite weights",
                    h.label
                )));
            }
        }
        Ok(())
    }

    pub fn head(&self, label: Label) -> Option<&Head> {
        self.heads.iter().find(|h| h.label == label)
    }

    /// The hidden layer's activations for one message.
    pub fn hidden_activations(&self, features: &[f32], rule_features: &[f32]) -> Vec<f32> {
        let x: Vec<f32> = features
            .iter()
            .chain(rule_features)
            .zip(self.mean.iter().zip(&self.scale))
            .map(|(v, (m, s))| (v - m) / s)
            .collect();
        self.hidden
            .iter()
            .zip(&self.hidden_bias)
            .map(|(row, b)| (row.iter().zip(&x).map(|(w, v)| w * v).sum::<f32>() + b).max(0.0))
            .collect()
    }

    /// Raw head probabilities; labels without a head score 0.
    pub fn predict(&self, features: &[f32], rule_features: &[f32]) -> Scores {
        let hidden = self.hidden_activations(features, rule_features);
        let mut s = Scores::default();
        for h in &self.heads {
            s.set(h.label, h.predict(&hidden));
        }
        s
    }

    /// Head probabilities for a message or window whose words are `text`,
    /// fused with the lexical reader's when the heads carry one. Thresholds
    /// are chosen on these fused probabilities.
    pub fn predict_text(&self, features: &[f32], rule_features: &[f32], text: &str) -> Scores {
        let p = self.predict(features, rule_features);
        match &self.lexical {
            Some(lexical) => lexical.fuse_with(p, text),
            None => p,
        }
    }

    /// Thresholds per label; labels without a head never fire (1.0).
    pub fn thresholds(&self) -> [f32; 4] {
        let mut t = [1.0; 4];
        for h in &self.heads {
            t[h.label.index()] = h.threshold;
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_heads_are_valid_and_complete() {
        let h = Heads::committed();
        assert_eq!(h.dim, 384 * crate::model::POOLINGS.len());
        assert_eq!(h.rule_features, crate::rules::RULE_FEATURES);
        for label in Label::ALL {
            assert!(h.head(label).is_some(), "no head for {label}");
        }
    }
}
