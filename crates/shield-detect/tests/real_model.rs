//! End-to-end checks with the real all-MiniLM-L6-v2 weights.
//!
//! These need the model: run `scripts/fetch-model` from the repository root
//! first (`scripts/test` does). Without it they fail, saying so, rather than
//! passing without having checked anything. They run in debug builds too.
use std::path::{Path, PathBuf};
use std::time::Instant;

use shield_detect::heads::Heads;
use shield_detect::model::{Embed, Embedder};
use shield_detect::train::{self, TrainOptions};
use shield_detect::{Detector, Label, ModelStatus, eval};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `$SHIELD_MODEL_DIR`, or `models/all-MiniLM-L6-v2` at the repository root.
fn model_dir() -> PathBuf {
    let dir = std::env::var_os("SHIELD_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../../models/all-MiniLM-L6-v2"));
    for f in ["config.json", "tokenizer.json", "model.safetensors"] {
        assert!(
            dir.join(f).is_file(),
            "the real model is missing ({} not found): run scripts/fetch-model",
            dir.join(f).display()
        );
    }
    dir
}

#[test]
fn committed_heads_meet_targets_on_eval_split() {
    let dir = model_dir();
    let d = Detector::load(&dir, &root().join("heads/heads.json")).unwrap();
    assert_eq!(d.model_status(), ModelStatus::Loaded);
    let data = train::load_examples(&root().join("data/eval.jsonl")).unwrap();
    let t = Instant::now();
    let report = eval::evaluate(&d, &data);
    eprintln!("{} in {:.1?}", report.to_text(), t.elapsed());
    // Regression guards just under the level measured when the heads were
    // committed (threat recall 0.886 with 4.8% of hard negatives flagged;
    // doxxing recall 0.928 with 3.6%). The project's targets are 0.95 and 5%
    // on text written by others; see the crate README for where they stand.
    assert!(
        report.threat_recall >= 0.86,
        "threat recall {}",
        report.threat_recall
    );
    assert!(
        report.hard_negative_threat_rate <= 0.05,
        "hard-negative threat rate {}",
        report.hard_negative_threat_rate
    );
    let dox = report
        .per_label
        .iter()
        .find(|m| m.label == Label::Doxxing)
        .unwrap();
    assert!(dox.recall >= 0.90, "doxxing recall {}", dox.recall);
    assert!(report.hard_negative_doxxing_rate <= 0.05);
    // The three independent writers' held-out sets, never trained on
    // (measured 0.898 at 7.0%, 0.621 at 2.5% and 0.845 at 12.4%: the false
    // alarms are over budget on two of them, which is why issue 8 is open).
    for (file, at_least) in [
        ("data/holdout2.jsonl", 0.87),
        ("data/holdout3.jsonl", 0.59),
        ("data/holdout4.jsonl", 0.82),
    ] {
        let blind = train::load_examples(&root().join(file)).unwrap();
        let report = eval::evaluate(&d, &blind);
        eprintln!("held out ({file}):\n{}", report.to_text());
        assert!(
            report.threat_recall >= at_least,
            "{file}: blind threat recall {}",
            report.threat_recall
        );
    }
}

/// Retrains the heads in full on the encoder with the committed adapters
/// merged (training the adapters themselves takes about 13 minutes in a
/// release build, so that step is covered by `tests/adapt.rs` on a tiny
/// model instead).
#[test]
fn retraining_from_data_reproduces_quality() {
    let dir = model_dir();
    let data = train::load_examples(&root().join("data/train.jsonl")).unwrap();
    let t = Instant::now();
    let mut embedder = Embedder::load(&dir).unwrap();
    let committed = Heads::committed();
    let adapters = committed
        .adapters
        .expect("the committed heads carry adapters");
    embedder.apply_adapters(&adapters).unwrap();
    let mut heads = train::train(&data, &embedder, &TrainOptions::default()).unwrap();
    heads.adapters = Some(adapters);
    let d = Detector::with_embedder(Box::new(Embedder::load(&dir).unwrap()), heads).unwrap();
    let eval_data = train::load_examples(&root().join("data/eval.jsonl")).unwrap();
    let report = eval::evaluate(&d, &eval_data);
    eprintln!("retrained:\n{} in {:.1?}", report.to_text(), t.elapsed());
    // Measured 0.875 with 3.9% of hard negatives flagged (debug build, stop
    // 14). Without the abuse corpus (which only the abuse head reads) the
    // out-of-fold thresholds differ a little from the committed ones.
    assert!(report.threat_recall >= 0.85, "{}", report.threat_recall);
    assert!(
        report.hard_negative_threat_rate <= 0.05,
        "{}",
        report.hard_negative_threat_rate
    );
}

#[test]
fn real_embeddings_are_normalised_and_semantic() {
    let dir = model_dir();
    let e = Embedder::load(Path::new(&dir)).unwrap();
    use shield_detect::model::Embed;
    let v = e
        .embed_batch(&[
            "I am going to kill you",
            "I will murder you",
            "The library opens at nine",
        ])
        .unwrap();
    let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    assert!((dot(&v[0], &v[0]) - 1.0).abs() < 1e-4);
    assert!(dot(&v[0], &v[1]) > dot(&v[0], &v[2]) + 0.2);
}
