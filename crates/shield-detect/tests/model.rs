//! Model tier against a tiny random BERT the test builds itself.
mod common;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use shield_detect::model::{Embed, Embedder};
use shield_detect::{DetectError, Detector, ModelStatus};

fn norm(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>() / (norm(a) * norm(b))
}

#[test]
fn embeds_with_unit_norm_and_right_shape() {
    let dir = tempfile::tempdir().unwrap();
    common::write_tiny_model(dir.path());
    let e = Embedder::load(dir.path()).unwrap();
    assert_eq!(e.dim(), common::HIDDEN);
    let texts = [
        "I will kill you",
        "hello world",
        "my surgery is at the high street on thursday",
        "I will kill you",
        "",
    ];
    let out = e.embed_batch(&texts).unwrap();
    assert_eq!(out.len(), texts.len());
    for v in &out {
        assert_eq!(v.len(), common::HIDDEN);
        assert!((norm(v) - 1.0).abs() < 1e-4, "norm {}", norm(v));
    }
    assert_eq!(out[0], out[3], "identical texts embed identically");
}

#[test]
fn batching_and_padding_do_not_change_embeddings() {
    let dir = tempfile::tempdir().unwrap();
    common::write_tiny_model(dir.path());
    let e = Embedder::load(dir.path()).unwrap();
    let long = "we know where you live , the mp for the council will vote for the bill on thursday";
    let alone = e.embed_batch(&["hello world"]).unwrap();
    let mixed = e.embed_batch(&[long, "hello world", "i"]).unwrap();
    assert!(
        cosine(&alone[0], &mixed[1]) > 0.99999,
        "padding leaked into the embedding"
    );
}

/// The heads' features (several poolings, some layers deep) have the
/// advertised length and, like the embedding, ignore padding: the max
/// pooling in particular must never pick a padded position.
#[test]
fn features_have_every_pooling_and_ignore_padding() {
    let dir = tempfile::tempdir().unwrap();
    common::write_tiny_model(dir.path());
    let e = Embedder::load(dir.path()).unwrap();
    assert_eq!(
        e.feature_dim(),
        common::HIDDEN * shield_detect::model::POOLINGS.len()
    );
    let long = "we know where you live , the mp for the council will vote for the bill on thursday";
    let alone = e.features_batch(&["hello world"]).unwrap();
    let mixed = e.features_batch(&[long, "hello world", "i"]).unwrap();
    assert_eq!(alone[0].len(), e.feature_dim());
    for (a, b) in alone[0].iter().zip(&mixed[1]) {
        assert!((a - b).abs() < 1e-4, "padding leaked into the features");
    }
}

/// The fast encoder must match candle-transformers' BertModel with mean
/// pooling and L2 normalisation, i.e. what sentence-transformers computes.
#[test]
fn matches_candle_transformers_reference() {
    let dir = tempfile::tempdir().unwrap();
    common::write_tiny_model(dir.path());
    let e = Embedder::load(dir.path()).unwrap();

    let cfg: Config =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("config.json")).unwrap())
            .unwrap();
    let bytes = std::fs::read(dir.path().join("model.safetensors")).unwrap();
    let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &Device::Cpu).unwrap();
    let reference = BertModel::load(vb, &cfg).unwrap();

    // "i will kill you" -> [CLS] i will kill you [SEP]
    let ids = [2u32, 5, 6, 7, 8, 3];
    let ids_t = Tensor::new(&ids[..], &Device::Cpu)
        .unwrap()
        .unsqueeze(0)
        .unwrap();
    let hidden = reference
        .forward(&ids_t, &ids_t.zeros_like().unwrap(), None)
        .unwrap();
    let mean = hidden
        .mean(1)
        .unwrap()
        .squeeze(0)
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();

    let ours = e.embed_batch(&["i will kill you"]).unwrap();
    let c = cosine(&mean, &ours[0]);
    assert!(c > 0.9999, "cosine to reference {c}");
}

#[test]
fn missing_model_is_reported_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let err = Embedder::load(dir.path()).expect_err("load must fail");
    assert!(matches!(err, DetectError::MissingModelFile(_)), "{err}");
    let d = Detector::load_or_rules_only(dir.path(), &dir.path().join("heads.json"));
    match d.model_status() {
        ModelStatus::Unavailable(why) => assert!(why.contains("config.json"), "{why}"),
        ModelStatus::Loaded => panic!("model should be unavailable"),
    }
    // The rules tier still answers.
    assert!(!d.analyse("I'm going to kill you").labels.is_empty());
}

#[test]
fn detector_with_tiny_model_reports_both_tiers() {
    let dir = tempfile::tempdir().unwrap();
    common::write_tiny_model(dir.path());
    let heads = common::tiny_heads();
    let hp = dir.path().join("heads.json");
    heads.save(&hp).unwrap();
    let d = Detector::load(dir.path(), &hp).unwrap();
    assert_eq!(d.model_status(), ModelStatus::Loaded);
    let out = d.analyse_batch(&["i will kill you", "hello world"]);
    assert_eq!(out.len(), 2);
    assert!(out[0].model_scores.is_some());
    assert!(
        out[0]
            .labels
            .contains(&shield_detect::Label::ThreatViolence)
    );
    for a in &out {
        for l in shield_detect::Label::ALL {
            let s = a.scores.get(l);
            assert!((0.0..=1.0).contains(&s));
        }
    }
}

#[test]
fn heads_of_wrong_size_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    common::write_tiny_model(dir.path());
    let mut heads = common::tiny_heads();
    // Consistent in itself (so it loads) but for a 7-number feature vector.
    heads.dim = 7;
    let inputs = 7 + shield_detect::rules::RULE_FEATURES;
    heads.mean.truncate(inputs);
    heads.scale.truncate(inputs);
    for row in &mut heads.hidden {
        row.truncate(inputs);
    }
    let hp = dir.path().join("heads.json");
    heads.save(&hp).unwrap();
    let err = Detector::load(dir.path(), &hp).unwrap_err();
    assert!(err.to_string().contains("7"), "{err}");
}

/// Long texts are read in overlapping windows; the tiny model's length (64)
/// is also the window length, so the first window is what `features_batch`
/// (truncation) reads. Past `MAX_WINDOWS` the text is cut and the result
/// says so.
#[test]
fn long_texts_are_read_in_windows_up_to_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    common::write_tiny_model(dir.path());
    let e = Embedder::load(dir.path()).unwrap();
    // The tiny model takes 64 tokens, so windows of 64 sharing 32.
    let medium = "hello world ".repeat(100); // 200 tokens + [CLS] [SEP]
    let huge = "hello world ".repeat(800);
    let texts = [
        "hello world",
        medium.as_str(),
        huge.as_str(),
        medium.as_str(),
    ];
    let w = e.window_features_batch(&texts).unwrap();
    let truncated = e.features_batch(&texts).unwrap();
    assert_eq!(w.len(), texts.len());
    assert_eq!((w[0].features.len(), w[0].cut), (1, false));
    assert_eq!((w[1].features.len(), w[1].cut), (6, false));
    assert_eq!(
        (w[2].features.len(), w[2].cut),
        (shield_detect::model::MAX_WINDOWS, true)
    );
    assert_eq!(w[1], w[3], "identical texts read identically");
    for (windows, first) in w.iter().zip(&truncated) {
        assert!(windows.features.iter().all(|f| f.len() == e.feature_dim()));
        for (a, b) in windows.features[0].iter().zip(first) {
            assert!(
                (a - b).abs() < 1e-4,
                "the first window is the truncated text"
            );
        }
    }
    // Each window says which stretch of the text it read, so the rules can
    // read the same words: a short text whole, a long one in overlapping
    // stretches from its start to its end (or to the cap).
    assert_eq!(w[0].ranges, vec![(0, texts[0].len())]);
    for (i, windows) in w.iter().enumerate() {
        assert_eq!(windows.ranges.len(), windows.features.len());
        assert_eq!(windows.ranges[0].0, 0);
        for pair in windows.ranges.windows(2) {
            let ((a0, b0), (a1, b1)) = (pair[0], pair[1]);
            assert!(
                a0 < a1 && a1 < b0 && b0 < b1,
                "{pair:?} overlap and advance"
            );
        }
        let (a, b) = *windows.ranges.last().unwrap();
        let read = &texts[i][a..b];
        assert!(
            read.starts_with("hello") || read.starts_with("world"),
            "{read:?}"
        );
        assert!(
            read.ends_with("hello") || read.ends_with("world"),
            "{read:?}"
        );
        if !windows.cut {
            assert_eq!(
                b,
                texts[i].trim_end().len(),
                "the last window reads to the end"
            );
        }
    }
    // Six windows of 62 body tokens sharing 32: 2 + 5 * 30 + ... words.
    let (a, b) = w[1].ranges[1];
    assert_eq!(medium[a..b].split_whitespace().count(), 62);
}
