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
    // committed (stop 24: heads fused with the lexical reader, rule floors
    // open to the model's veto, plain doxxing out of the violence head's
    // training, twelve more training writers and a 5.5% out-of-fold
    // budget; threat recall 0.933 with 4.5% of hard negatives flagged;
    // doxxing recall 0.946 with 2.4%, on the eval split of 5,222 rows).
    // The project's targets are 0.95 and 5% on text written by others; see
    // the crate README for where they stand.
    assert!(
        report.threat_recall >= 0.91,
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
    // The second look (`REVIEW_THRESHOLD`, chosen here: the lowest cut
    // keeping flags plus looks within 10% of hard negatives) measured 0.945
    // with 9.1% at stop 17, 0.965 with 8.0% with stop 19's heads, 0.976
    // with 9.5% with stop 20's (vetoed rule matches are put up too), and
    // 0.980 with 9.6% with stop 21's on the larger eval split, and 0.977
    // with 11.3% with stop 24's on the eval split grown by twelve writers
    // (the cut was not chosen again).
    assert!(
        report.threat_recall_with_review >= 0.96,
        "with the second look {}",
        report.threat_recall_with_review
    );
    assert!(report.hard_negative_threat_or_review_rate <= 0.12);
    // The independent writers' held-out sets, the eight-writer panel, the
    // three-writer second panel and the two-writer third, never trained on
    // (stop 24 measured 0.944 at 4.3%, 0.823 at 1.7%, 0.943 at 8.3%, 0.919
    // at 11.5%, 0.917 at 3.1%, 0.917 at 9.8% and 0.944 at 3.5%: recall is
    // short of 0.95 everywhere and the false alarms are over budget on
    // three sets, which is why issue 8 is open; stop 21's heads measured
    // 0.939 at 3.1%, 0.828 at 1.7%, 0.943 at 9.5%, 0.939 at 14.9%, 0.901
    // at 2.8%, 0.873 at 13.4% and 0.949 at 4.1%); with the messages put up
    // for a second look, 0.964, 0.894, 0.985, 0.970, 0.969, 0.977 and
    // 0.979.
    //
    // Long letters by three more writers (stop 16 measured threat recall
    // 0.945, 0.857 and 0.786 with 21.2%, 11.7% and 15.7% of benign letters
    // flagged; windows at the short-message threshold had flagged 28-31%;
    // stop 19's fused heads 0.836, 0.857 and 0.750 with 9.6%, 5.0% and
    // 10.0%; stop 20's, with the window bar raised to keep w42's alarms,
    // 0.818, 0.816 and 0.804 with 7.7%, 5.0% and 5.7%; stop 21's, with
    // three more training writers, 0.800, 0.857 and 0.821 with 9.6%, 3.3%
    // and 10.0%; stop 24's, with twelve more, 0.836, 0.857 and 0.786 with
    // 7.7%, 3.3% and 5.7%). The window bar trades one side for the other.
    //
    // Every set is guarded on both sides, just past the stop-24 figures.
    struct Guard {
        file: &'static str,
        recall: f32,
        with_look: Option<f32>,
        max_alarms: f32,
    }
    let guard = |file, recall, with_look, max_alarms| Guard {
        file,
        recall,
        with_look,
        max_alarms,
    };
    for g in [
        guard("data/holdout2.jsonl", 0.91, Some(0.95), 0.05),
        guard("data/holdout3.jsonl", 0.80, Some(0.87), 0.04),
        guard("data/holdout4.jsonl", 0.92, Some(0.96), 0.10),
        guard("data/holdout5.jsonl", 0.90, Some(0.95), 0.13),
        guard("data/panel.jsonl", 0.90, Some(0.95), 0.04),
        guard("data/panel2.jsonl", 0.89, Some(0.95), 0.11),
        guard("data/panel3.jsonl", 0.92, Some(0.96), 0.05),
        guard("data/long.jsonl", 0.80, None, 0.10),
        guard("data/long2.jsonl", 0.82, None, 0.06),
        guard("data/long3.jsonl", 0.76, None, 0.08),
    ] {
        let file = g.file;
        let blind = train::load_examples(&root().join(file)).unwrap();
        let report = eval::evaluate(&d, &blind);
        eprintln!("never trained on ({file}):\n{}", report.to_text());
        assert!(
            report.threat_recall >= g.recall,
            "{file}: threat recall {}",
            report.threat_recall
        );
        assert!(
            report.hard_negative_threat_rate <= g.max_alarms,
            "{file}: hard negatives flagged as threat {}",
            report.hard_negative_threat_rate
        );
        if let Some(with_look) = g.with_look {
            assert!(
                report.threat_recall_with_review >= with_look,
                "{file}: with the second look {}",
                report.threat_recall_with_review
            );
        }
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
    // Stop 14 measured 0.875 with 3.9% of hard negatives flagged (debug
    // build); stop 15's larger training split passed the same guard.
    // Without the abuse corpus (which only the abuse head reads directly,
    // though all heads share the hidden layer) the out-of-fold thresholds
    // differ a little from the committed ones: stop 24, with the 5.5%
    // budget, measured 0.942 with 5.2% here against the committed heads'
    // 0.933 with 4.5%. The 5% target itself is checked on the committed
    // heads above; this guard checks that retraining lands close to them.
    assert!(report.threat_recall >= 0.90, "{}", report.threat_recall);
    assert!(
        report.hard_negative_threat_rate <= 0.06,
        "{}",
        report.hard_negative_threat_rate
    );
}

/// The model reads a long letter in windows, so a threat after the first
/// 128 tokens still reaches it (before windows, this letter scored 0.09).
/// Each window is read with the rules' findings on its own words, so a
/// "reported it to the police" paragraph earlier does not excuse the
/// threat, and the analysis says which passage the model found. Past the
/// window cap the analysis says the model stopped while the rules read on.
#[test]
fn a_threat_late_in_a_long_letter_reaches_the_model() {
    let d = Detector::load(&model_dir(), &root().join("heads/heads.json")).unwrap();
    let preamble = "Dear Councillor, I am writing again about the pavements near the park and \
        the bus shelter by the shops, which has been broken for three months. My neighbours and \
        I have asked for it to be fixed twice and nobody has come. The bins are also collected \
        late every other week and the street lights by the school crossing keep going out, \
        which worries the parents. ";
    let reported = "Last year someone smashed my car window and I reported it to the police, \
        who never came back to me. ";
    let threat = "Sort it out or I will come to your house and stab you, I mean it.";
    let alone = d.analyse(threat);
    let model =
        |a: &shield_detect::Analysis| a.model_scores.as_ref().unwrap().get(Label::ThreatViolence);
    assert!(model(&alone) >= 0.5, "{alone:?}");

    let plain = format!("{}{threat}", preamble.repeat(2));
    let a = d.analyse(&plain);
    assert!(a.labels.contains(&Label::ThreatViolence), "{a:?}");

    let late = format!("{reported}{}{threat}", preamble.repeat(2));
    let a = d.analyse(&late);
    assert!(
        a.contexts
            .contains(&shield_detect::rules::Context::ReportedThreat),
        "{a:?}"
    );
    assert!(
        model(&a) >= 0.5,
        "the threat after ~150 words and a reported crime must reach the model: {a:?}"
    );
    assert!(a.labels.contains(&Label::ThreatViolence));
    let start = late.chars().count() - threat.chars().count();
    let passage = a
        .notes
        .iter()
        .find_map(|n| n.strip_prefix("threat_violence: long message read in windows; the model's strongest passage is chars "))
        .unwrap_or_else(|| panic!("{:?}", a.notes));
    let (from, to) = passage.split_once("..").unwrap();
    let (from, to): (usize, usize) = (from.parse().unwrap(), to.parse().unwrap());
    assert!(
        from < start && to == late.chars().count(),
        "{passage} holds the threat at {start}.."
    );
    assert!(
        !a.notes
            .iter()
            .any(|n| n.contains("the model read the first"))
    );
    let p = a
        .passages
        .iter()
        .find(|p| p.label == Label::ThreatViolence)
        .unwrap();
    assert_eq!(
        (p.start, p.end),
        (from, to),
        "the passage is structured too"
    );

    let endless = format!("{}{threat}", preamble.repeat(20));
    let a = d.analyse(&endless);
    assert!(
        a.notes
            .iter()
            .any(|n| n.contains("the model read the first 24 windows")),
        "{:?}",
        a.notes
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
