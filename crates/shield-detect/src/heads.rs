//! Tier 3: one logistic-regression head per label over sentence embeddings.
//!
//! Heads are deliberately tiny (384 weights + bias + threshold per label) so
//! they can be committed as JSON, reviewed in a diff, and retrained in
//! seconds when the training data changes.
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::DetectError;
use crate::label::{Label, Scores};

/// The text of the committed `heads/heads.json`.
pub const COMMITTED_HEADS_JSON: &str = include_str!("../heads/heads.json");

/// One label's classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Head {
    pub label: Label,
    pub weights: Vec<f32>,
    pub bias: f32,
    /// Probability at or above which the head alone flags the label. Chosen
    /// on out-of-fold predictions during training (see [`crate::train`]).
    pub threshold: f32,
}

impl Head {
    /// Probability that `embedding` carries this head's label.
    pub fn predict(&self, embedding: &[f32]) -> f32 {
        let z: f32 = self
            .weights
            .iter()
            .zip(embedding)
            .map(|(w, x)| w * x)
            .sum::<f32>()
            + self.bias;
        sigmoid(z)
    }
}

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
    /// Embedding dimension; checked against the model at load time.
    pub dim: usize,
    pub heads: Vec<Head>,
    /// Free-form notes on how the heads were trained.
    #[serde(default)]
    pub notes: String,
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

    /// Every head must have `dim` weights and a threshold in (0, 1).
    pub fn validate(&self) -> Result<(), DetectError> {
        for h in &self.heads {
            if h.weights.len() != self.dim {
                return Err(DetectError::InvalidHeads(format!(
                    "head {} has {} weights, expected {}",
                    h.label,
                    h.weights.len(),
                    self.dim
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

    /// Raw head probabilities; labels without a head score 0.
    pub fn predict(&self, embedding: &[f32]) -> Scores {
        let mut s = Scores::default();
        for h in &self.heads {
            s.set(h.label, h.predict(embedding));
        }
        s
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
        assert_eq!(h.dim, 384);
        for label in Label::ALL {
            assert!(h.head(label).is_some(), "no head for {label}");
        }
    }
}
