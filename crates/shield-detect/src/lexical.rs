//! A lexical reader beside the encoder: TF-IDF over word 1–2-grams and
//! character 2–5-grams within words, with one logistic regression per
//! label, trained in Rust on the curated examples.
//!
//! Why a second reader: the encoder's heads and a bag of n-grams are wrong
//! about different messages. The encoder generalises over paraphrase but
//! is blind to blunt wording in a register its training writers used for
//! hard negatives ("Kill <name>. thats it" scored 0.01); n-grams see the
//! words ("slit", "acid", "where you live", misspelt "k1ll") whatever the
//! register, but not the meaning. Averaged in logit space with the heads
//! ([`fuse`]), the two found clearly more of unseen writers' threats at the
//! same false-alarm rate than either alone (stop 19, crate README).
//!
//! Everything is deterministic: the vocabulary is sorted, the optimiser is
//! full-batch. The whole model is a few MB of JSON inside `heads.json`.
use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock};

use rayon::prelude::*;
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::error::DetectError;
use crate::heads::sigmoid;
use crate::label::{Label, Scores};

/// Words as scikit-learn's default `token_pattern` sees them: two or more
/// word characters. Single letters ("u", "i") carry little on their own
/// and would crowd the bigrams.
static WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\w\w+\b").expect("word pattern compiles"));

/// Character n-gram lengths, inside words padded with one space each side,
/// so "k1ll", "kil" and "kill" share most of their grams.
const CHAR_NS: std::ops::RangeInclusive<usize> = 2..=5;

/// Single words with a smaller idf (in about one training message in
/// seven or more: "it", "your", "you", "the") are not named in
/// explanations.
pub const COMMON_WORD_IDF: f32 = 3.0;

/// Knobs for [`Lexical::fit`].
#[derive(Debug, Clone, PartialEq)]
pub struct LexicalOptions {
    /// Inverse L2 strength, as scikit-learn's `C`: the loss is the
    /// class-balanced sum of log-losses plus ‖w‖² / (2C).
    pub c: f32,
    /// A word n-gram must occur in this many training messages.
    pub min_df_words: usize,
    /// A character n-gram must occur in this many training messages.
    pub min_df_chars: usize,
    /// Full-batch Adam steps.
    pub steps: usize,
    /// Weight of the lexical logit when fused with the heads' (see [`fuse`]).
    pub weight: f32,
}

impl Default for LexicalOptions {
    /// C = 16 and an equal-weight fusion: chosen on the eval split only
    /// (C among 1, 4 and 16; weights 0.3–0.8 within 0.01 of each other from
    /// 0.4 to 0.5 there, so the even split was taken).
    fn default() -> Self {
        LexicalOptions {
            c: 16.0,
            min_df_words: 2,
            min_df_chars: 3,
            steps: 400,
            weight: 0.5,
        }
    }
}

/// A list of terms and, built on first use, their positions.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Vocab {
    pub terms: Vec<String>,
    #[serde(skip)]
    index: OnceLock<HashMap<String, u32>>,
}

impl PartialEq for Vocab {
    fn eq(&self, other: &Self) -> bool {
        self.terms == other.terms
    }
}

impl Vocab {
    fn new(terms: Vec<String>) -> Self {
        Vocab {
            terms,
            index: OnceLock::new(),
        }
    }

    fn get(&self, term: &str) -> Option<u32> {
        self.index
            .get_or_init(|| {
                self.terms
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (t.clone(), i as u32))
                    .collect()
            })
            .get(term)
            .copied()
    }

    fn len(&self) -> usize {
        self.terms.len()
    }
}

/// One label's logistic regression over the TF-IDF vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LexicalOutput {
    pub label: Label,
    /// One weight per word term, then one per character term.
    pub weights: Vec<f32>,
    pub bias: f32,
}

/// The trained lexical reader.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lexical {
    pub words: Vocab,
    pub chars: Vocab,
    /// Smoothed inverse document frequency, words then characters:
    /// ln((1 + n) / (1 + df)) + 1.
    pub idf: Vec<f32>,
    pub outputs: Vec<LexicalOutput>,
    /// Weight of the lexical logit in [`fuse`]; the heads' gets 1 − weight.
    pub weight: f32,
}

/// The terms of one message, counted.
struct Terms {
    words: HashMap<String, u32>,
    chars: HashMap<String, u32>,
}

fn terms(text: &str) -> Terms {
    let lower = text.to_lowercase();
    let mut words = HashMap::new();
    let tokens: Vec<&str> = WORD.find_iter(&lower).map(|m| m.as_str()).collect();
    for t in &tokens {
        *words.entry((*t).to_string()).or_insert(0) += 1;
    }
    for pair in tokens.windows(2) {
        *words.entry(format!("{} {}", pair[0], pair[1])).or_insert(0) += 1;
    }
    let mut chars = HashMap::new();
    for w in lower.split_whitespace() {
        let padded: Vec<char> = std::iter::once(' ')
            .chain(w.chars())
            .chain(std::iter::once(' '))
            .collect();
        for n in CHAR_NS {
            for gram in padded.windows(n) {
                *chars.entry(gram.iter().collect::<String>()).or_insert(0) += 1;
            }
        }
    }
    Terms { words, chars }
}

/// A sparse row: (feature index, value).
type Sparse = Vec<(u32, f32)>;

impl Lexical {
    /// The TF-IDF vector of `text`: sublinear term frequency (1 + ln tf)
    /// times idf, the word part and the character part each scaled to unit
    /// length so the many character grams do not drown the words.
    fn vector(&self, text: &str) -> Sparse {
        let t = terms(text);
        let offset = self.words.len() as u32;
        let mut out = Sparse::new();
        for (counts, vocab, base) in [(&t.words, &self.words, 0), (&t.chars, &self.chars, offset)] {
            let start = out.len();
            for (term, &c) in counts {
                if let Some(i) = vocab.get(term) {
                    let j = base + i;
                    let idf = self.idf.get(j as usize).copied().unwrap_or(1.0);
                    out.push((j, (1.0 + (c as f32).ln()) * idf));
                }
            }
            // Sorted before summing: the counts come out of a HashMap in a
            // different order every run, and float sums depend on order.
            out[start..].sort_unstable_by_key(|(j, _)| *j);
            let norm = out[start..].iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
            if norm > 0.0 {
                for (_, v) in &mut out[start..] {
                    *v /= norm;
                }
            }
        }
        out
    }

    /// Probability per label; labels without an output score 0.
    pub fn predict(&self, text: &str) -> Scores {
        let x = self.vector(text);
        let mut s = Scores::default();
        for o in &self.outputs {
            s.set(o.label, sigmoid(dot(&o.weights, &x) + o.bias));
        }
        s
    }

    /// The word terms (words and word pairs, not character grams, which
    /// read as noise) that pushed `label`'s score up most on `text`, at most
    /// `k`, strongest first: what a reader of a flag can check against the
    /// message. Terms pushing the score down are left out, and so are
    /// single words as common as "it" or "your" (idf under
    /// [`COMMON_WORD_IDF`]), which carry weight only with their neighbours.
    pub fn weighed_most(&self, text: &str, label: Label, k: usize) -> Vec<String> {
        let Some(out) = self.outputs.iter().find(|o| o.label == label) else {
            return Vec::new();
        };
        let words = self.words.len() as u32;
        let mut pushes: Vec<(f32, u32)> = self
            .vector(text)
            .into_iter()
            .filter(|(j, _)| {
                *j < words
                    && (self.idf.get(*j as usize).copied().unwrap_or(0.0) >= COMMON_WORD_IDF
                        || self.words.terms[*j as usize].contains(' '))
            })
            .map(|(j, v)| (out.weights.get(j as usize).copied().unwrap_or(0.0) * v, j))
            .filter(|(c, _)| *c > 0.0)
            .collect();
        pushes.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        pushes
            .into_iter()
            .take(k)
            .filter_map(|(_, j)| self.words.terms.get(j as usize).cloned())
            .collect()
    }

    /// Fuses head probabilities with this reader's on `text`, label by
    /// label (see [`fuse`]).
    pub fn fuse_with(&self, heads: Scores, text: &str) -> Scores {
        self.fuse_scores(heads, &self.predict(text))
    }

    /// Fuses head probabilities with this reader's probabilities `lex`
    /// already computed (see [`Lexical::predict`]).
    pub fn fuse_scores(&self, heads: Scores, lex: &Scores) -> Scores {
        let mut out = heads;
        for o in &self.outputs {
            out.set(
                o.label,
                fuse(heads.get(o.label), lex.get(o.label), self.weight),
            );
        }
        out
    }

    /// Fits the vocabulary, idf and one output per label on `texts`.
    /// `labels[i][k]` says whether text i carries label k; `teaches[i][k]`
    /// whether it may teach label k at all (as for the heads). Labels are
    /// class-balanced, as scikit-learn's `class_weight="balanced"`.
    pub fn fit(
        texts: &[&str],
        labels: &[[bool; 4]],
        teaches: &[[bool; 4]],
        opts: &LexicalOptions,
    ) -> Result<Lexical, DetectError> {
        if texts.is_empty() || texts.len() != labels.len() || texts.len() != teaches.len() {
            return Err(DetectError::Training(
                "lexical reader: texts, labels and teaches differ in length or are empty".into(),
            ));
        }
        let all: Vec<Terms> = texts.par_iter().map(|t| terms(t)).collect();
        let vocab = |pick: fn(&Terms) -> &HashMap<String, u32>, min_df: usize| {
            let mut df: HashMap<&str, usize> = HashMap::new();
            for t in &all {
                for term in pick(t).keys() {
                    *df.entry(term.as_str()).or_insert(0) += 1;
                }
            }
            let mut kept: Vec<(&str, usize)> =
                df.into_iter().filter(|(_, d)| *d >= min_df).collect();
            kept.sort_unstable();
            kept
        };
        let words = vocab(|t| &t.words, opts.min_df_words);
        let chars = vocab(|t| &t.chars, opts.min_df_chars);
        let n = texts.len() as f32;
        let idf = words
            .iter()
            .chain(&chars)
            .map(|(_, d)| round4(((1.0 + n) / (1.0 + *d as f32)).ln() + 1.0))
            .collect();
        let mut lexical = Lexical {
            words: Vocab::new(words.iter().map(|(t, _)| t.to_string()).collect()),
            chars: Vocab::new(chars.iter().map(|(t, _)| t.to_string()).collect()),
            idf,
            outputs: Vec::new(),
            weight: opts.weight,
        };
        let rows: Vec<Sparse> = texts.par_iter().map(|t| lexical.vector(t)).collect();
        let dim = lexical.idf.len();
        let (targets, weights) = crate::train::balanced_targets(labels, teaches);
        lexical.outputs = Label::ALL
            .into_par_iter()
            .map(|label| {
                let k = label.index();
                let y: Vec<f32> = (0..rows.len()).map(|i| targets[i * 4 + k]).collect();
                let w: Vec<f32> = (0..rows.len()).map(|i| weights[i * 4 + k]).collect();
                let (weights, bias) = logistic(&rows, &y, &w, dim, opts);
                LexicalOutput {
                    label,
                    weights,
                    bias,
                }
            })
            .collect();
        for o in &mut lexical.outputs {
            o.weights.iter_mut().for_each(|w| *w = round4(*w));
            o.bias = round4(o.bias);
        }
        lexical.validate()?;
        Ok(lexical)
    }

    /// Shapes agree and every number is finite.
    pub fn validate(&self) -> Result<(), DetectError> {
        let dim = self.words.len() + self.chars.len();
        let bad = |what: String| Err(DetectError::InvalidHeads(format!("lexical reader: {what}")));
        if self.idf.len() != dim {
            return bad(format!("{} idf values for {dim} terms", self.idf.len()));
        }
        if !(0.0..=1.0).contains(&self.weight) {
            return bad(format!("fusion weight {} is outside [0, 1]", self.weight));
        }
        for o in &self.outputs {
            if o.weights.len() != dim {
                return bad(format!(
                    "output {} has {} weights for {dim} terms",
                    o.label,
                    o.weights.len()
                ));
            }
            if !o.bias.is_finite() || o.weights.iter().any(|w| !w.is_finite()) {
                return bad(format!("output {} has non-finite weights", o.label));
            }
        }
        if self.idf.iter().any(|v| !v.is_finite()) {
            return bad("non-finite idf".into());
        }
        Ok(())
    }
}

/// Averages two probabilities in logit space: `weight` on `lexical`,
/// 1 − `weight` on `head`. Logits are clamped at ±ln(10⁶) so one reader's
/// certainty cannot overrule the other's completely.
pub fn fuse(head: f32, lexical: f32, weight: f32) -> f32 {
    sigmoid((1.0 - weight) * logit(head) + weight * logit(lexical))
}

/// Rounds to four decimals: far finer than the weights' own uncertainty,
/// and it keeps `heads.json` about 40% smaller than shortest-round-trip
/// floats would.
fn round4(x: f32) -> f32 {
    (x * 1e4).round() / 1e4
}

fn logit(p: f32) -> f32 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

fn dot(w: &[f32], x: &Sparse) -> f32 {
    x.iter()
        .map(|(j, v)| w.get(*j as usize).copied().unwrap_or(0.0) * v)
        .sum()
}

/// Weighted, L2-penalised logistic regression on sparse rows, by
/// full-batch Adam with a learning rate decaying linearly to zero. The
/// problem is convex, so a fixed schedule lands near the optimum every time
/// and retraining gives the same weights.
fn logistic(
    rows: &[Sparse],
    y: &[f32],
    w: &[f32],
    dim: usize,
    opts: &LexicalOptions,
) -> (Vec<f32>, f32) {
    let mut beta = vec![0f32; dim + 1];
    let (mut m, mut v) = (vec![0f32; dim + 1], vec![0f32; dim + 1]);
    let (b1, b2, eps, lr0) = (0.9f32, 0.999f32, 1e-8f32, 0.1f32);
    let l2 = 1.0 / opts.c.max(1e-6);
    let steps = opts.steps.max(1);
    for step in 0..steps {
        let mut grad = vec![0f32; dim + 1];
        for ((x, &yi), &wi) in rows.iter().zip(y).zip(w) {
            if wi == 0.0 {
                continue;
            }
            let z = dot(&beta[..dim], x) + beta[dim];
            let g = wi * (sigmoid(z) - yi);
            for (j, xv) in x {
                grad[*j as usize] += g * xv;
            }
            grad[dim] += g;
        }
        for (g, b) in grad[..dim].iter_mut().zip(&beta[..dim]) {
            *g += l2 * b;
        }
        let t = (step + 1) as i32;
        let lr = lr0 * (1.0 - step as f32 / steps as f32);
        let (c1, c2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
        for (((b, m), v), g) in beta.iter_mut().zip(&mut m).zip(&mut v).zip(&grad) {
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *b -= lr * (*m / c1) / ((*v / c2).sqrt() + eps);
        }
    }
    let bias = beta.pop().unwrap_or(0.0);
    (beta, bias)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_words_bigrams_and_padded_character_grams() {
        let t = terms("Kill  them");
        assert_eq!(t.words.get("kill"), Some(&1));
        assert_eq!(t.words.get("kill them"), Some(&1));
        assert_eq!(t.chars.get(" k"), Some(&1));
        assert_eq!(t.chars.get("ill "), Some(&1));
        assert!(!t.chars.contains_key("l t"), "grams stay inside words");
    }

    #[test]
    fn fuse_is_an_average_in_logit_space() {
        assert!((fuse(0.5, 0.5, 0.5) - 0.5).abs() < 1e-6);
        assert!((fuse(0.9, 0.1, 0.5) - 0.5).abs() < 1e-5);
        assert!((fuse(0.9, 0.1, 0.0) - 0.9).abs() < 1e-5);
        assert!(fuse(1.0, 0.0, 0.5) > 0.49 && fuse(1.0, 0.0, 0.5) < 0.51);
    }

    #[test]
    fn learns_a_separable_toy_problem_and_round_trips() {
        let pos = ["i will hurt you", "gonna hurt u bad", "hurt you soon"];
        let neg = [
            "lovely weather",
            "see you at the fete",
            "thanks for the leaflet",
        ];
        let texts: Vec<&str> = pos.iter().chain(&neg).copied().collect();
        let labels: Vec<[bool; 4]> = (0..6).map(|i| [i < 3, false, false, false]).collect();
        let teaches = vec![[true; 4]; 6];
        let opts = LexicalOptions {
            min_df_words: 1,
            min_df_chars: 1,
            ..LexicalOptions::default()
        };
        let lex = Lexical::fit(&texts, &labels, &teaches, &opts).expect("fits");
        let p = lex.predict("hurt you");
        let q = lex.predict("lovely fete");
        assert!(p.get(Label::ThreatViolence) > 0.8, "{p:?}");
        let why = lex.weighed_most("I will hurt you at the fete", Label::ThreatViolence, 3);
        assert!(why.iter().any(|t| t.contains("hurt")), "{why:?}");
        assert!(!why.iter().any(|t| t == "fete"), "{why:?}");
        assert!(q.get(Label::ThreatViolence) < 0.2, "{q:?}");
        let json = serde_json::to_string(&lex).expect("serialises");
        let back: Lexical = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, lex);
        assert_eq!(back.predict("hurt you"), p);
        // Each call counts terms in a fresh HashMap (a new iteration order);
        // the scores must not depend on it, to the last bit.
        let long = "i will hurt you at the fete, gonna hurt u bad, thanks for the leaflet";
        let first = lex.predict(long);
        for _ in 0..20 {
            assert_eq!(lex.predict(long), first);
        }
    }
}
