//! Builds a tiny, randomly initialised (seeded) BERT with a WordPiece tokenizer in a
//! temp dir, in the same layout `scripts/fetch-model` produces, so the
//! model code can be tested without the real 90 MB weights.
#![allow(dead_code)]
use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};

pub const HIDDEN: usize = 32;
pub const VOCAB: &[&str] = &[
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "i", "will", "kill", "you", "hello", "world",
    "the", "a", "vote", "for", "me", "on", "thursday", "bill", "my", "surgery", "is", "at", "high",
    "street", "we", "know", "where", "live", "##s", "##ing", "##ed", ".", ",", "!", "?", "'", "ll",
    "next", "re", "mp", "council",
];

pub fn write_tiny_model(dir: &Path) {
    write_tiny_model_with_layers(dir, 2);
}

/// Like [`write_tiny_model`] with `layers` encoder layers (adapter training
/// needs the feature layer, 4, above the earlier pooled layer, 2).
pub fn write_tiny_model_with_layers(dir: &Path, layers: usize) {
    let config = serde_json::json!({
        "architectures": ["BertModel"],
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": HIDDEN,
        "initializer_range": 0.02,
        "intermediate_size": 64,
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": 64,
        "model_type": "bert",
        "num_attention_heads": 4,
        "num_hidden_layers": layers,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "type_vocab_size": 2,
        "vocab_size": VOCAB.len()
    });
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();

    let vocab: serde_json::Map<String, serde_json::Value> = VOCAB
        .iter()
        .enumerate()
        .map(|(i, t)| (t.to_string(), serde_json::json!(i)))
        .collect();
    let special = |id: usize, content: &str| {
        serde_json::json!({"id": id, "special": true, "content": content, "single_word": false,
                           "lstrip": false, "rstrip": false, "normalized": false})
    };
    let tokenizer = serde_json::json!({
        "version": "1.0",
        // Like the real file: fixed padding, which the embedder must undo.
        "truncation": {"max_length": 64, "strategy": "LongestFirst", "stride": 0},
        "padding": {"strategy": {"Fixed": 64}, "direction": "Right", "pad_to_multiple_of": null,
                    "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"},
        "added_tokens": [special(0, "[PAD]"), special(1, "[UNK]"), special(2, "[CLS]"), special(3, "[SEP]"), special(4, "[MASK]")],
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                       "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                               "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab}
    });
    std::fs::write(dir.join("tokenizer.json"), tokenizer.to_string()).unwrap();

    let dev = Device::Cpu;
    let mut t: HashMap<String, Tensor> = HashMap::new();
    // Seeded, so every run builds the same model: with unseeded weights a
    // few inits in a hundred made adapter training diverge, and a test
    // that fails at random says nothing about the code.
    let state = std::cell::Cell::new(0x5eed_u64);
    let rnd = |shape: &[usize]| {
        let n: usize = shape.iter().product();
        let values: Vec<f32> = (0..n).map(|_| 0.2 * normal(&state)).collect();
        Tensor::from_vec(values, shape, &dev).unwrap()
    };
    let ln = |t: &mut HashMap<String, Tensor>, p: &str| {
        t.insert(
            format!("{p}.weight"),
            (Tensor::ones(HIDDEN, DType::F32, &dev).unwrap() + rnd(&[HIDDEN])).unwrap(),
        );
        t.insert(format!("{p}.bias"), rnd(&[HIDDEN]));
    };
    let h = HIDDEN;
    t.insert(
        "embeddings.word_embeddings.weight".into(),
        rnd(&[VOCAB.len(), h]),
    );
    t.insert(
        "embeddings.position_embeddings.weight".into(),
        rnd(&[64, h]),
    );
    t.insert(
        "embeddings.token_type_embeddings.weight".into(),
        rnd(&[2, h]),
    );
    ln(&mut t, "embeddings.LayerNorm");
    for l in 0..layers {
        let p = format!("encoder.layer.{l}");
        for (name, dout, din) in [
            ("attention.self.query", h, h),
            ("attention.self.key", h, h),
            ("attention.self.value", h, h),
            ("attention.output.dense", h, h),
            ("intermediate.dense", 64, h),
            ("output.dense", h, 64),
        ] {
            t.insert(format!("{p}.{name}.weight"), rnd(&[dout, din]));
            t.insert(format!("{p}.{name}.bias"), rnd(&[dout]));
        }
        ln(&mut t, &format!("{p}.attention.output.LayerNorm"));
        ln(&mut t, &format!("{p}.output.LayerNorm"));
    }
    candle_core::safetensors::save(&t, dir.join("model.safetensors")).unwrap();
}

/// Hidden units of [`tiny_heads`].
pub const TINY_UNITS: usize = 8;

/// Heads of the right size for the tiny model, with arbitrary weights.
pub fn tiny_heads() -> shield_detect::heads::Heads {
    use shield_detect::Label;
    use shield_detect::heads::{Head, Heads};
    let dim = HIDDEN * shield_detect::model::POOLINGS.len();
    let inputs = dim + shield_detect::rules::RULE_FEATURES;
    Heads {
        model: "tiny-test".into(),
        dim,
        rule_features: shield_detect::rules::RULE_FEATURES,
        mean: vec![0.0; inputs],
        scale: vec![1.0; inputs],
        hidden: (0..TINY_UNITS)
            .map(|u| (0..inputs).map(|j| ((j + u) % 5) as f32 - 2.0).collect())
            .collect(),
        hidden_bias: vec![0.5; TINY_UNITS],
        heads: Label::ALL
            .iter()
            .enumerate()
            .map(|(k, &label)| Head {
                label,
                weights: (0..TINY_UNITS)
                    .map(|j| ((j + k) % 3) as f32 - 0.5)
                    .collect(),
                bias: -1.0,
                threshold: 0.5,
            })
            .collect(),
        notes: String::new(),
        adapters: None,
        lexical: None,
    }
}

/// A standard normal draw (Box-Muller over splitmix64), for weights that
/// are random-looking but the same on every run.
fn normal(state: &std::cell::Cell<u64>) -> f32 {
    let next = || {
        let mut z = state.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        state.set(z);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let (u1, u2) = (next().max(f64::MIN_POSITIVE), next());
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}
