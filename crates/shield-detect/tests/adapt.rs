//! Encoder adapters against a tiny random four-layer BERT the test builds.
mod common;

use shield_detect::adapt::{self, AdaptOptions, Adapters};
use shield_detect::model::{Embed, Embedder};
use shield_detect::train::Example;
use shield_detect::{Detector, Label};

/// Threats say "kill" or "live"; everything else is benign. The tiny
/// vocabulary means the texts share most of their words.
fn examples() -> Vec<Example> {
    let threats = [
        "i will kill you",
        "we know where you live",
        "i ' ll kill you at the surgery",
        "you re next , we know where you live",
        "kill the mp on thursday",
        "we will kill you at the high street",
        "i know where my mp live s",
        "next the council , kill",
    ];
    let benign = [
        "vote for me on thursday",
        "my surgery is at the high street",
        "hello world",
        "the bill is next on thursday",
        "we know the council",
        "i will vote for the bill",
        "the mp is at my surgery",
        "hello , the council is at high street",
    ];
    let mut out = Vec::new();
    for _ in 0..3 {
        for t in threats {
            out.push(Example {
                text: t.into(),
                labels: vec![Label::ThreatViolence],
                kind: "death_threat".into(),
            });
        }
        for t in benign {
            out.push(Example {
                text: t.into(),
                labels: vec![],
                kind: "hard_test".into(),
            });
        }
    }
    out
}

/// An embedder with no encoder: features of the tiny model's size, all zero.
struct Zeros;

impl Embed for Zeros {
    fn dim(&self) -> usize {
        common::HIDDEN
    }
    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, shield_detect::DetectError> {
        Ok(vec![vec![0.0; common::HIDDEN]; texts.len()])
    }
    fn feature_dim(&self) -> usize {
        common::HIDDEN * shield_detect::model::POOLINGS.len()
    }
    fn features_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, shield_detect::DetectError> {
        Ok(vec![vec![0.0; self.feature_dim()]; texts.len()])
    }
}

fn options() -> AdaptOptions {
    AdaptOptions {
        epochs: 40,
        learning_rate: 1e-2,
        rank: 2,
        ..AdaptOptions::default()
    }
}

/// Training lowers the loss, adapts layers 3 and 4 (below them layer 2,
/// which the features also pool, stays frozen) and is deterministic.
#[test]
fn adapters_train_on_the_layers_above_the_earlier_pooled_one() {
    let dir = tempfile::tempdir().unwrap();
    common::write_tiny_model_with_layers(dir.path(), 4);
    let e = Embedder::load(dir.path()).unwrap();
    let a = adapt::adapt(&e, &examples(), &options()).unwrap();
    assert_eq!(a.layers.iter().map(|l| l.layer).collect::<Vec<_>>(), [3, 4]);
    let first = a.epoch_losses[0];
    let last = *a.epoch_losses.last().unwrap();
    assert!(last < 0.5 * first, "loss went from {first} to {last}");
    let h = common::HIDDEN;
    let l = &a.layers[0];
    assert_eq!((l.qkv.a.len(), l.qkv.a[0].len()), (2, h));
    assert_eq!((l.qkv.b.len(), l.qkv.b[0].len()), (3 * h, 2));
    assert_eq!(l.inter.b.len(), 64);
    assert_eq!(l.out.a[0].len(), 64);
    assert_eq!(adapt::adapt(&e, &examples(), &options()).unwrap(), a);
}

/// What training optimised is what the detector runs: the features computed
/// through the adapters (training's differentiable path) equal those of the
/// encoder with the adapters merged into its weights (the fast path).
#[test]
fn merged_encoder_computes_what_training_optimised() {
    let dir = tempfile::tempdir().unwrap();
    common::write_tiny_model_with_layers(dir.path(), 4);
    let plain = Embedder::load(dir.path()).unwrap();
    let a = adapt::adapt(&plain, &examples(), &options()).unwrap();
    let texts = [
        "i will kill you",
        "hello world",
        "we know where you live , the mp for the council will vote for the bill on thursday",
    ];
    let trained = adapt::training_features(&plain, &a, &texts).unwrap();
    let mut merged = Embedder::load(dir.path()).unwrap();
    merged.apply_adapters(&a).unwrap();
    let fast = merged.features_batch(&texts).unwrap();
    let before = plain.features_batch(&texts).unwrap();
    let mut moved = 0f32;
    for i in 0..texts.len() {
        assert_eq!(trained[i].len(), fast[i].len());
        for (x, y) in trained[i].iter().zip(&fast[i]) {
            assert!((x - y).abs() < 1e-4, "{x} against {y} for {:?}", texts[i]);
        }
        moved += fast[i]
            .iter()
            .zip(&before[i])
            .map(|(x, y)| (x - y).abs())
            .sum::<f32>();
    }
    assert!(moved > 1e-2, "the adapters changed nothing");
}

/// Adapters that do not fit the encoder are refused with a reason, and an
/// embedder with no encoder to adapt refuses heads that carry adapters.
#[test]
fn mismatched_adapters_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    common::write_tiny_model_with_layers(dir.path(), 4);
    let e = Embedder::load(dir.path()).unwrap();
    let a = adapt::adapt(
        &e,
        &examples(),
        &AdaptOptions {
            epochs: 1,
            ..options()
        },
    )
    .unwrap();

    let mut deep = a.clone();
    deep.layers[0].layer = 9;
    let err = Embedder::load(dir.path())
        .unwrap()
        .apply_adapters(&deep)
        .unwrap_err();
    assert!(err.to_string().contains("layer 9"), "{err}");

    let texts = ["i will kill you"];
    let err = adapt::training_features(&e, &deep, &texts).unwrap_err();
    assert!(err.to_string().contains("[9, 4]"), "{err}");
    let mut zero = a.clone();
    zero.layers[0].layer = 0;
    assert!(adapt::training_features(&e, &zero, &texts).is_err());

    let mut narrow: Adapters = a.clone();
    narrow.layers[0].inter.b.pop();
    assert!(
        Embedder::load(dir.path())
            .unwrap()
            .apply_adapters(&narrow)
            .is_err()
    );

    let mut heads = common::tiny_heads();
    heads.adapters = Some(a);
    let err = Detector::with_embedder(Box::new(Zeros), heads).unwrap_err();
    assert!(err.to_string().contains("adapters"), "{err}");
}

/// `scale · B·A` written out, so the test does not lean on the code it checks.
fn update(l: &shield_detect::adapt::Lora, scale: f32) -> Vec<Vec<f32>> {
    let inputs = l.a[0].len();
    l.b.iter()
        .map(|row| {
            (0..inputs)
                .map(|j| scale * row.iter().zip(&l.a).map(|(b, a)| b * a[j]).sum::<f32>())
                .collect()
        })
        .collect()
}

/// Runs with different seeds differ; their average is one low-rank pair
/// whose update is exactly the mean of theirs, so merging it gives the
/// averaged weights. Adapters on different layers are refused.
#[test]
fn adapters_of_several_seeds_average_into_one_set() {
    let dir = tempfile::tempdir().unwrap();
    common::write_tiny_model_with_layers(dir.path(), 4);
    let e = Embedder::load(dir.path()).unwrap();
    let opts = |seed| AdaptOptions {
        epochs: 3,
        seed,
        ..options()
    };
    let one = adapt::adapt(&e, &examples(), &opts(0)).unwrap();
    let two = adapt::adapt(&e, &examples(), &opts(7)).unwrap();
    assert_ne!(one.layers, two.layers, "the seed changed nothing");
    let mean = Adapters::average(&[one.clone(), two.clone()]).unwrap();
    assert_eq!(mean.rank, 4);
    assert_eq!(mean.layers.len(), 2);
    for (i, l) in mean.layers.iter().enumerate() {
        assert_eq!(l.layer, one.layers[i].layer);
        let got = update(&l.inter, mean.scale);
        let a = update(&one.layers[i].inter, one.scale);
        let b = update(&two.layers[i].inter, two.scale);
        for r in 0..got.len() {
            for c in 0..got[r].len() {
                let want = (a[r][c] + b[r][c]) / 2.0;
                assert!(
                    (got[r][c] - want).abs() < 1e-5,
                    "{r},{c}: {} against {want}",
                    got[r][c]
                );
            }
        }
    }
    // It merges like any other set.
    let mut merged = Embedder::load(dir.path()).unwrap();
    merged.apply_adapters(&mean).unwrap();
    assert!(merged.features_batch(&["i will kill you"]).is_ok());

    let mut shallow = two.clone();
    shallow.layers.truncate(1);
    let err = Adapters::average(&[one, shallow]).unwrap_err().to_string();
    assert!(err.contains("[3, 4]") && err.contains("[3]"), "{err}");
    assert!(Adapters::average(&[]).is_err());
}
