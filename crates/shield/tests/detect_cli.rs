//! `shield detect` as a user runs it: JSON lines in, one verdict line out per message.
//!
//! The first test needs the real model (`scripts/fetch-model`, which `scripts/test` runs) and
//! fails, saying so, when it is missing.

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

const INPUT: &str = concat!(
    r#"{"id":"threat","text":"I am going to kill you, you traitor."}"#,
    "\n",
    r#"{"id":"dox","text":"She lives at 14 Orchard Close, Leeds LS6 2QT. Pay her a visit."}"#,
    "\n",
    r#"{"id":"metaphor","text":"We will crush them at the ballot box on Thursday."}"#,
    "\n",
);

fn repo_model_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/all-MiniLM-L6-v2")
}

fn shield() -> Command {
    let mut cmd = Command::cargo_bin("shield").unwrap();
    cmd.env("SHIELD_LOG", "warn").env_remove("SHIELD_MODEL_DIR");
    cmd
}

fn lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8(stdout.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn spans(v: &Value) -> Vec<(String, u64, u64)> {
    v["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["label"].as_str().unwrap().to_string(),
                s["start"].as_u64().unwrap(),
                s["end"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn labels(v: &Value) -> Vec<&str> {
    v["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect()
}

/// The spans come from the rules tier, so they are the same with and without the model.
fn check_spans(out: &[Value]) {
    assert_eq!(spans(&out[0]), [("threat_violence".into(), 0, 22)]);
    // "She lives at" … "14 Orchard Close" … "LS6 2QT" … ". Pay her a visit" (char offsets).
    assert_eq!(
        spans(&out[1]),
        [
            ("doxxing".into(), 0, 14),
            ("doxxing".into(), 13, 29),
            ("doxxing".into(), 37, 44),
            // "Pay her a visit": sending others to her door is incitement as well as doxxing.
            ("threat_violence".into(), 46, 61),
            ("doxxing".into(), 46, 61),
        ]
    );
    assert_eq!(spans(&out[2]), []);
    for (v, id) in out.iter().zip(["threat", "dox", "metaphor"]) {
        assert_eq!(v["id"], id);
        for key in ["threat_violence", "threat_sexual", "doxxing", "abuse"] {
            assert!(v["scores"][key].is_number(), "{id}: no score for {key}");
        }
    }
}

#[test]
fn jsonl_with_the_model_labels_threat_doxxing_and_clears_the_metaphor() {
    let dir = repo_model_dir();
    for f in ["config.json", "tokenizer.json", "model.safetensors"] {
        assert!(
            dir.join(f).is_file(),
            "the real model is missing ({} not found): run scripts/fetch-model",
            dir.join(f).display()
        );
    }
    // No SHIELD_MODEL_DIR: the binary finds models/ at the repository root by itself.
    let out = shield()
        .args(["detect", "--jsonl"])
        .write_stdin(INPUT)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("unavailable"), "{stderr}");
    let out = lines(&out.stdout);
    assert_eq!(out.len(), 3);
    // "you traitor" is name-calling as well: abuse may join the threat.
    let first = labels(&out[0]);
    assert!(
        first.contains(&"threat_violence")
            && first
                .iter()
                .all(|&l| l == "threat_violence" || l == "abuse"),
        "{first:?}"
    );
    // "Pay her a visit" at a home address is a threat as well as doxxing.
    assert_eq!(labels(&out[1]), ["threat_violence", "doxxing"]);
    assert!(labels(&out[2]).is_empty(), "{}", out[2]);
    check_spans(&out);
}

#[test]
fn without_the_model_the_rules_still_answer_and_stderr_says_why() {
    let empty = tempfile::tempdir().unwrap();
    let out = shield()
        .env("SHIELD_MODEL_DIR", empty.path())
        .args(["detect", "--jsonl"])
        .write_stdin(INPUT)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("model is unavailable") && stderr.contains("config.json"),
        "{stderr}"
    );
    let out = lines(&out.stdout);
    assert_eq!(out.len(), 3);
    assert_eq!(labels(&out[0]), ["threat_violence"]);
    // The rules alone see the invitation to her door as a threat too.
    assert_eq!(labels(&out[1]), ["threat_violence", "doxxing"]);
    assert!(labels(&out[2]).is_empty(), "{}", out[2]);
    check_spans(&out);
}

#[test]
fn malformed_line_exits_non_zero_naming_the_line() {
    let input = concat!(
        r#"{"id":"1","text":"Thanks for the leaflet"}"#,
        "\n",
        r#"{"id":"2","txt":"oops"}"#,
        "\n",
        r#"{"id":"3","text":"hello"}"#,
        "\n",
    );
    let out = shield()
        .args(["detect", "--jsonl", "--rules-only"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 2"), "{stderr}");
    assert_eq!(lines(&out.stdout).len(), 1, "the line before is answered");
}

/// The first `n` lines of the committed training split, as a small training file.
fn small_training_file(dir: &std::path::Path, n: usize) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shield-detect");
    let all = std::fs::read_to_string(root.join("data/train.jsonl")).unwrap();
    let path = dir.join("small.jsonl");
    let head: Vec<&str> = all.lines().take(n).collect();
    std::fs::write(&path, head.join("\n") + "\n").unwrap();
    path
}

fn committed_heads() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shield-detect/heads/heads.json")
}

/// `shield detect train` on `data`, heads only, on the adapters of
/// `adapters_from`, with `extra` arguments, writing `out`.
fn train_heads(
    data: &std::path::Path,
    adapters_from: &std::path::Path,
    extra: &[&str],
    out: &std::path::Path,
) -> std::process::Output {
    shield()
        .args(["detect", "train", "--model"])
        .arg(repo_model_dir())
        .arg("--data")
        .arg(data)
        .arg("--adapters-from")
        .arg(adapters_from)
        .args(extra)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn train_reuses_committed_adapters_and_refuses_heads_without_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = small_training_file(dir.path(), 300);
    let committed = committed_heads();
    let train = |adapters_from: &std::path::Path, out: &std::path::Path| {
        train_heads(&data, adapters_from, &[], out)
    };
    let out = dir.path().join("heads.json");
    let run = train(&committed, &out);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("reusing the encoder adapters"), "{stderr}");
    let read = |p: &std::path::Path| -> Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let (new, old) = (read(&out), read(&committed));
    assert!(new["adapters"].is_object(), "the new heads carry adapters");
    assert_eq!(new["adapters"], old["adapters"], "carried over unchanged");
    assert_ne!(
        new["heads"], old["heads"],
        "the heads themselves were retrained"
    );

    // Heads trained without adapters cannot lend any: the error names the file
    // and nothing is written.
    let mut plain = new.clone();
    plain.as_object_mut().unwrap().remove("adapters");
    let plain_path = dir.path().join("plain.json");
    std::fs::write(&plain_path, plain.to_string()).unwrap();
    let out2 = dir.path().join("never.json");
    let run = train(&plain_path, &out2);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(
        stderr.contains("plain.json carries no encoder adapters"),
        "{stderr}"
    );
    assert!(!out2.exists());
}

#[test]
fn train_rejects_out_of_range_options_before_reading_anything() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("heads.json");
    for (args, says) in [
        (
            ["--max-hard-fa", "5"],
            "--max-hard-fa is a share of hard negatives, from 0 to 1; got 5",
        ),
        (["--adapt-rank", "0"], "--adapt-rank must be at least 1"),
    ] {
        let run = shield()
            .args(["detect", "train", "--data", "/nonexistent.jsonl"])
            .args(args)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(!run.status.success());
        assert!(stderr.contains(says), "{stderr}");
        assert!(!out.exists());
    }
}

#[test]
fn train_sets_thresholds_on_the_calibration_writers_and_refuses_unknown_ones() {
    let dir = tempfile::tempdir().unwrap();
    let data = small_training_file(dir.path(), 300);
    let committed = committed_heads();
    let train = |writers: &str, out: &std::path::Path| {
        train_heads(&data, &committed, &["--calibration-writers", writers], out)
    };

    // A writer the data does not hold is named, with the file, and nothing
    // is written.
    let never = dir.path().join("never.json");
    let run = train("w3,w999", &never);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(
        stderr.contains("no example in") && stderr.contains("small.jsonl"),
        "{stderr}"
    );
    assert!(stderr.contains("\"w999\""), "{stderr}");
    assert!(!never.exists());

    let out = dir.path().join("heads.json");
    let run = train("w3,w14", &out);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let heads: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let notes = heads["notes"].as_str().unwrap();
    assert!(
        notes.contains("5-fold by-writer") && notes.contains("on the rows of writers w3, w14 only"),
        "{notes}"
    );
}

/// `shield detect bench` measures (it asserts nothing about speed) and says what it measured:
/// `--max-chars` keeps only messages that short, and a limit nothing meets is an error.
#[test]
fn bench_measures_only_the_messages_asked_for() {
    let out = shield()
        .args(["detect", "bench", "--rules-only", "--json", "--repeat", "1"])
        .args(["--single", "5", "--max-chars", "60"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let eval = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shield-detect/data/eval.jsonl"),
    )
    .unwrap();
    let short = eval
        .lines()
        .filter(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["text"].as_str().unwrap().chars().count() <= 60
        })
        .count();
    assert!(short > 100, "{short}");
    assert_eq!(report["labelled"], short);
    assert!(report["mean_chars"].as_f64().unwrap() <= 60.0);
    assert!(report["rules_and_model"].is_null(), "rules only");

    let out = shield()
        .args(["detect", "bench", "--rules-only", "--max-chars", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--max-chars 0"));
}
