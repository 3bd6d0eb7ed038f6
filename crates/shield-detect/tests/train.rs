//! Training and evaluation on synthetic embeddings.
use shield_detect::heads::Heads;
use shield_detect::model::Embed;
use shield_detect::train::{self, Example, TrainOptions};
use shield_detect::{DetectError, Detector, Label, eval, rules};

/// Deterministic pseudo-random numbers (no extra dependency).
fn lcg(seed: &mut u64) -> f32 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((*seed >> 33) as f32 / (1u64 << 31) as f32) - 0.5
}

/// Exclusive-or of two inputs: no single linear boundary separates it, so
/// the heads' hidden layer has to do the work.
#[test]
fn hidden_layer_learns_exclusive_or() {
    let mut seed = 42;
    let mut rows = Vec::new();
    for i in 0..400 {
        let (a, b) = (i % 2 == 0, (i / 2) % 2 == 0);
        let mut inputs: Vec<f32> = (0..6).map(|_| lcg(&mut seed) * 0.2).collect();
        inputs[1] += if a { 1.0 } else { -1.0 };
        inputs[4] += if b { 1.0 } else { -1.0 };
        let mut labels = [false; 4];
        labels[0] = a != b;
        rows.push(train::Row {
            inputs,
            labels,
            teaches: [true, false, false, false],
        });
    }
    let m = train::fit_mlp(&rows, &TrainOptions::default()).unwrap();
    let correct = rows
        .iter()
        .filter(|r| (m.predict(&r.inputs, &[]).get(Label::ThreatViolence) >= 0.5) == r.labels[0])
        .count();
    assert!(correct >= 396, "{correct} of 400 classified");
    // Retraining is deterministic.
    let again = train::fit_mlp(&rows, &TrainOptions::default()).unwrap();
    assert_eq!(m, again);
}

/// A fake embedder: one dimension per keyword, so labels are linearly
/// separable and training must find them.
struct KeywordEmbedder;
const KEYWORDS: [&str; 4] = ["zap", "zing", "zorp", "zonk"];

impl Embed for KeywordEmbedder {
    fn dim(&self) -> usize {
        KEYWORDS.len() + 1
    }
    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, DetectError> {
        Ok(texts
            .iter()
            .map(|t| {
                let mut v: Vec<f32> = KEYWORDS
                    .iter()
                    .map(|k| if t.contains(k) { 1.0 } else { 0.0 })
                    .collect();
                v.push(0.1);
                let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.into_iter().map(|x| x / n).collect()
            })
            .collect())
    }
}

fn synthetic() -> Vec<Example> {
    let mut out = Vec::new();
    for i in 0..40 {
        for (k, label) in Label::ALL.iter().enumerate() {
            // "tonight" is threat vocabulary: without any, the combiner
            // (rightly) damps a model-only violence score.
            out.push(Example {
                text: format!("message {i} {} tonight", KEYWORDS[k]),
                labels: vec![*label],
                kind: "synthetic".into(),
            });
        }
        out.push(Example {
            text: format!("plain message {i}"),
            labels: vec![],
            kind: "hard_plain".into(),
        });
    }
    out
}

#[test]
fn heads_train_save_load_and_evaluate() {
    let data = synthetic();
    let heads = train::train(&data, &KeywordEmbedder, &TrainOptions::default()).unwrap();
    assert_eq!(heads.heads.len(), 4);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("heads.json");
    heads.save(&p).unwrap();
    let loaded = Heads::load(&p).unwrap();
    assert_eq!(loaded.dim, heads.dim);
    assert_eq!(loaded, heads, "heads survive a save and load");

    let d = Detector::with_embedder(Box::new(KeywordEmbedder), loaded).unwrap();
    let report = eval::evaluate(&d, &data);
    for m in &report.per_label {
        assert!(m.f1 > 0.95, "{}: f1 {}", m.label, m.f1);
    }
    assert!(report.threat_recall > 0.95);
    assert_eq!(report.hard_negative_threat_rate, 0.0);
    let svg = eval::render_pr_svg(&report);
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("threat_violence"));
}

/// An encoder that sees nothing: every text gets the same features.
struct BlindEmbedder;

impl Embed for BlindEmbedder {
    fn dim(&self) -> usize {
        2
    }
    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, DetectError> {
        Ok(texts.iter().map(|_| vec![0.6, 0.8]).collect())
    }
}

/// The lexical reader is trained with the heads, stored with them and
/// fused into what the detector serves: with an encoder that sees nothing,
/// the words alone must still find each label. Without it (`lexical:
/// None`) the same heads cannot tell the messages apart.
#[test]
fn lexical_reader_finds_what_the_encoder_cannot_see() {
    let data = synthetic();
    let heads = train::train(&data, &BlindEmbedder, &TrainOptions::default()).unwrap();
    let lexical = heads.lexical.as_ref().expect("trained by default");
    assert!(lexical.words.terms.iter().any(|t| t == "zap"));
    assert!(heads.notes.contains("lexical reader"), "{}", heads.notes);
    let d = Detector::with_embedder(Box::new(BlindEmbedder), heads).unwrap();
    let report = eval::evaluate(&d, &data);
    for m in &report.per_label {
        assert!(m.f1 > 0.95, "{}: f1 {}", m.label, m.f1);
    }
    assert_eq!(report.hard_negative_threat_rate, 0.0);
    // A model flag names the words that carried it.
    let a = d.analyse("message 7 zap tonight");
    assert!(a.labels.contains(&Label::ThreatViolence), "{a:?}");
    assert!(
        a.notes
            .iter()
            .any(|n| n.starts_with("threat_violence: words") && n.contains("zap")),
        "{:?}",
        a.notes
    );

    let opts = TrainOptions {
        lexical: None,
        ..TrainOptions::default()
    };
    let alone = train::train(&data, &BlindEmbedder, &opts).unwrap();
    assert!(alone.lexical.is_none());
    let d = Detector::with_embedder(Box::new(BlindEmbedder), alone).unwrap();
    let report = eval::evaluate(&d, &data);
    let best = report.per_label.iter().map(|m| m.f1).fold(0.0, f32::max);
    assert!(
        best < 0.6,
        "a blind encoder alone cannot separate labels: {best}"
    );
}

#[test]
fn rule_floor_and_model_flags_are_explained() {
    use shield_detect::{Scores, Tier, combine};
    // Rule hit, model unsure: the rule confidence is the floor.
    let mut raw = Scores {
        threat_violence: 0.1,
        ..Scores::default()
    };
    let a = combine(rules::check("I will kill you"), Some((raw, [0.5; 4])));
    assert!(a.labels.contains(&Label::ThreatViolence));
    assert_eq!(a.tier, Tier::Rules);
    assert!(a.scores.threat_violence >= 0.9);

    // The model fires on sport talk (the heads read the context as a
    // feature, so a real head rarely would): the flag stands, and a note
    // says which benign framing the rules saw.
    raw.threat_violence = 0.6;
    let a = combine(
        rules::check("We'll kill them in the second half"),
        Some((raw, [0.5; 4])),
    );
    assert_eq!(a.tier, Tier::Model);
    assert!(
        a.notes
            .iter()
            .any(|n| n.contains("flagged by the model although") && n.contains("sport")),
        "{:?}",
        a.notes
    );

    // Model alone fires on a plain message.
    let a = combine(rules::check("Nice family you have"), Some((raw, [0.5; 4])));
    assert_eq!(a.tier, Tier::Model);

    // A confident sexual-threat rule explains the violence head's reaction
    // (the sexual head is unsure, not sure enough to veto the rule).
    raw.threat_sexual = 0.3;
    let a = combine(rules::check("I will rape you"), Some((raw, [0.5; 4])));
    assert!(a.labels.contains(&Label::ThreatSexual));
    assert!(!a.labels.contains(&Label::ThreatViolence), "{:?}", a.labels);
}

#[test]
fn examples_parse_with_line_numbers() {
    let ok = "{\"text\": \"hi\", \"labels\": [], \"kind\": \"benign\"}\n{\"text\": \"x\", \"labels\": [\"doxxing\"]}\n";
    assert_eq!(train::read_examples(ok.as_bytes()).unwrap().len(), 2);
    let bad = "{\"text\": \"hi\"}\n{\"text\": \"x\", \"labels\": [\"nope\"]}\n";
    assert!(
        train::read_examples(bad.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("line 2")
    );
}
