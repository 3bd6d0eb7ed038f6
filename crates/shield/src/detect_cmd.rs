//! `shield detect`: scan messages for violent and sexual threats, doxxing and abuse with
//! `shield-detect`. The rules tier always runs; the all-MiniLM-L6-v2 tier runs when its files
//! are present (`scripts/fetch-model`), and stderr says plainly when they are not.
//!
//! - `shield detect` reads plain-text lines on stdin and prints each full analysis as JSON
//!   (labels, scores, spans with reasons, notes).
//! - `shield detect --jsonl` reads `{"id","text"}` lines and writes `shield_detect::jsonl`'s
//!   result lines; a malformed line stops it with an error naming the line.
//! - `shield detect train | eval | bench` train the heads, evaluate a labelled file and measure
//!   throughput. `bench` also runs the same messages through the Python filter
//!   `alt-profanity-check` (installed by `scripts/fetch-profanity-check`), so its throughput and
//!   threat recall sit next to ours; without it the bench still runs and says so.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde::Serialize;
use shield_detect::adapt::{self, AdaptOptions};
use shield_detect::heads::Heads;
use shield_detect::model::{Embed, Embedder};
use shield_detect::train::{self, Example, TrainOptions};
use shield_detect::{Detector, ModelStatus, eval, jsonl};

/// The model directory inside the repository (or the current directory).
const MODEL_REL: &str = "models/all-MiniLM-L6-v2";
/// The labelled evaluation split, compiled in as `bench`'s default workload.
const EVAL_JSONL: &str = include_str!("../../shield-detect/data/eval.jsonl");
/// The Python side of the alt-profanity-check comparison, compiled in and run with `python -c`,
/// so the script always matches the binary.
const PROFANITY_BENCH_PY: &str = include_str!("../../shield-detect/scripts/profanity_bench.py");
/// The venv's interpreter, relative to the repository (made by `scripts/fetch-profanity-check`).
const PROFANITY_PYTHON_REL: &str = "models/profanity-venv/bin/python";
/// alt-profanity-check flags a message when `predict_prob` is at least this.
const PROFANITY_FLAG_AT: f64 = 0.5;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DetectArgs {
    /// Read `{"id","text"}` JSON lines on stdin; write one result line per message.
    #[arg(long)]
    pub jsonl: bool,
    /// The model directory [default: models/all-MiniLM-L6-v2 in the current directory or the
    /// repository].
    #[arg(long, global = true, env = "SHIELD_MODEL_DIR", value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// A heads file [default: crates/shield-detect/heads/heads.json, compiled in].
    #[arg(long, global = true, value_name = "FILE")]
    pub heads: Option<PathBuf>,
    /// Do not load the model: rules only.
    #[arg(long, global = true)]
    pub rules_only: bool,
    #[command(subcommand)]
    pub command: Option<DetectCommand>,
}

#[derive(Debug, Subcommand)]
pub enum DetectCommand {
    /// Train the four heads on the model's embeddings and write them as JSON.
    Train {
        /// The Davidson et al. CSV: extra examples for the abuse head only.
        #[arg(long, value_name = "PATH")]
        davidson: Option<PathBuf>,
        /// How many Davidson rows to use, spread over the file.
        #[arg(long, default_value_t = 3000)]
        davidson_limit: usize,
        /// Training data [default: crates/shield-detect/data/train.jsonl].
        #[arg(long, value_name = "FILE")]
        data: Option<PathBuf>,
        /// Where to write the heads [default: crates/shield-detect/heads/heads.json].
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Epochs of encoder adapter (LoRA) training before the heads; 0 trains the heads on the
        /// plain encoder. With adapters, training takes about 21 minutes in a release build.
        #[arg(long, default_value_t = AdaptOptions::default().epochs)]
        adapt_epochs: usize,
        /// Rank of each adapter; the adapter strength (alpha / rank) stays 2 at any rank.
        #[arg(long, default_value_t = AdaptOptions::default().rank)]
        adapt_rank: usize,
        /// Seed of the adapter run; runs that differ only in it can be averaged with
        /// `--adapters-from`.
        #[arg(long, default_value_t = AdaptOptions::default().seed)]
        adapt_seed: u64,
        /// Reuse the encoder adapters carried by this heads file instead of training new ones
        /// (retrains only the heads: a few minutes instead of twenty). Given several files
        /// (comma-separated), their adapters are averaged into one set.
        #[arg(long, value_name = "HEADS.json", value_delimiter = ',', conflicts_with_all = ["adapt_epochs", "adapt_rank", "adapt_seed"])]
        adapters_from: Vec<PathBuf>,
        /// Largest share of hard negatives a head may flag out-of-fold when its threshold is
        /// chosen.
        #[arg(long, default_value_t = TrainOptions::default().max_hard_fa)]
        max_hard_fa: f32,
        /// Choose thresholds on folds of random rows instead of whole writers (the behaviour
        /// before stop 15; kept for comparison).
        #[arg(long)]
        row_folds: bool,
        /// Writers (the `wN` ending of an example's kind) held out of adapter training whose rows
        /// alone set the thresholds, so the thresholds are set on scores for writers the encoder
        /// never saw. Comma-separated, e.g. `w3,w14`.
        #[arg(long, value_name = "WRITERS", value_delimiter = ',')]
        calibration_writers: Vec<String>,
    },
    /// Precision, recall and F1 per label, threat recall and hard-negative false alarms.
    Eval {
        /// Labelled `{"text","labels","kind"}` lines.
        file: PathBuf,
        /// Also draw the precision-recall curves as SVG.
        #[arg(long, value_name = "OUT.svg")]
        svg: Option<PathBuf>,
        /// List every miss and false alarm.
        #[arg(long)]
        misses: bool,
    },
    /// Throughput and single-message latency (a benchmark: it measures, it asserts nothing),
    /// with threat recall on the labelled messages, side by side with alt-profanity-check in
    /// Python when `scripts/fetch-profanity-check` has installed it (or
    /// `SHIELD_PROFANITY_PYTHON` names a python that can import it).
    Bench {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Labelled messages to use [default: the eval split, compiled in].
        #[arg(long, value_name = "FILE")]
        data: Option<PathBuf>,
        /// How many distinct copies of the messages to run batched.
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// How many messages to time one at a time.
        #[arg(long, default_value_t = 300)]
        single: usize,
        /// Only messages of at most this many characters (e.g. 280 for social-media replies:
        /// the throughput target is about those, and emails and letters cost more).
        #[arg(long, value_name = "N")]
        max_chars: Option<usize>,
    },
}

pub fn run(args: DetectArgs) -> anyhow::Result<()> {
    match args.command {
        None if args.jsonl => {
            let d = detector(&args)?;
            let stdin = std::io::stdin().lock();
            let stdout = std::io::BufWriter::new(std::io::stdout().lock());
            jsonl::run(stdin, stdout, &d).context("shield detect --jsonl: standard input")?;
        }
        None => {
            let d = detector(&args)?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for (i, line) in std::io::stdin().lock().lines().enumerate() {
                let line = line.with_context(|| format!("standard input, line {}", i + 1))?;
                serde_json::to_writer(&mut out, &d.analyse(&line))?;
                writeln!(out)?;
            }
            out.flush()?;
        }
        Some(DetectCommand::Train {
            ref davidson,
            davidson_limit,
            ref data,
            ref out,
            adapt_epochs,
            adapt_rank,
            adapt_seed,
            ref adapters_from,
            max_hard_fa,
            row_folds,
            ref calibration_writers,
        }) => {
            if !(0.0..=1.0).contains(&max_hard_fa) {
                bail!("--max-hard-fa is a share of hard negatives, from 0 to 1; got {max_hard_fa}");
            }
            if adapt_rank == 0 {
                bail!("--adapt-rank must be at least 1");
            }
            let data = data
                .clone()
                .unwrap_or_else(|| locate("crates/shield-detect/data/train.jsonl"));
            let out = out
                .clone()
                .unwrap_or_else(|| locate("crates/shield-detect/heads/heads.json"));
            let examples = train::load_examples(&data)?;
            for w in calibration_writers {
                if !examples.iter().any(|e| train::writer_of(&e.kind) == w) {
                    bail!(
                        "--calibration-writers: no example in {} comes from writer {w:?}",
                        data.display()
                    );
                }
            }
            let dir = model_dir(&args);
            let mut embedder = Embedder::load(&dir).with_context(|| {
                format!(
                    "training needs the model in {} (run scripts/fetch-model)",
                    dir.display()
                )
            })?;
            let mut opts = TrainOptions {
                max_hard_fa,
                folds_by_writer: !row_folds,
                calibration_writers: calibration_writers.clone(),
                ..TrainOptions::default()
            };
            if let Some(csv) = davidson {
                opts.abuse_extra = train::read_davidson_csv(csv, davidson_limit)?;
                eprintln!(
                    "using {} extra abuse examples from {}",
                    opts.abuse_extra.len(),
                    csv.display()
                );
            }
            let t = Instant::now();
            let adapters = if !adapters_from.is_empty() {
                let sets = adapters_from
                    .iter()
                    .map(|from| {
                        Heads::load(from)?.adapters.with_context(|| {
                            format!("{} carries no encoder adapters", from.display())
                        })
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                let a = if sets.len() == 1 {
                    sets.into_iter().next().expect("one set")
                } else {
                    adapt::Adapters::average(&sets).context("--adapters-from")?
                };
                embedder.apply_adapters(&a)?;
                let from: Vec<_> = adapters_from
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect();
                eprintln!("reusing the encoder adapters from {}", from.join(", "));
                Some(a)
            } else if adapt_epochs > 0 {
                let adapt_opts = AdaptOptions {
                    epochs: adapt_epochs,
                    rank: adapt_rank,
                    alpha: 2.0 * adapt_rank as f32,
                    seed: adapt_seed,
                    ..AdaptOptions::default()
                };
                // Calibration writers stay out of adapter training, so the
                // thresholds are set on text the encoder never saw.
                let adapt_on: Vec<_> = examples
                    .iter()
                    .filter(|e| {
                        !calibration_writers
                            .iter()
                            .any(|w| w == train::writer_of(&e.kind))
                    })
                    .cloned()
                    .collect();
                let a = adapt::adapt(&embedder, &adapt_on, &adapt_opts)?;
                embedder.apply_adapters(&a)?;
                eprintln!(
                    "adapted encoder layers {:?} in {:.1}s",
                    a.layers.iter().map(|l| l.layer).collect::<Vec<_>>(),
                    t.elapsed().as_secs_f32()
                );
                Some(a)
            } else {
                None
            };
            let mut heads = train::train(&examples, &embedder, &opts)?;
            heads.adapters = adapters;
            heads.save(&out)?;
            eprintln!(
                "trained {} heads on {} examples in {:.1}s -> {}",
                heads.heads.len(),
                examples.len(),
                t.elapsed().as_secs_f32(),
                out.display()
            );
            for h in &heads.heads {
                eprintln!("  {:<16} threshold {:.2}", h.label.as_str(), h.threshold);
            }
        }
        Some(DetectCommand::Eval {
            ref file,
            ref svg,
            misses,
        }) => {
            let examples = train::load_examples(file)?;
            let d = detector(&args)?;
            let report = eval::evaluate(&d, &examples);
            match d.model_status() {
                ModelStatus::Loaded => println!("tiers: rules + model"),
                ModelStatus::Unavailable(_) => println!("tiers: rules only"),
            }
            print!("{}", report.to_text());
            if misses {
                for m in &report.misses {
                    println!(
                        "MISS [{}] expected {:?} got {:?}: {}",
                        m.kind, m.expected, m.got, m.text
                    );
                }
            }
            if let Some(svg) = svg {
                std::fs::write(svg, eval::render_pr_svg(&report))
                    .with_context(|| format!("cannot write {}", svg.display()))?;
                eprintln!("wrote {}", svg.display());
            }
        }
        Some(DetectCommand::Bench {
            json,
            ref data,
            repeat,
            single,
            max_chars,
        }) => {
            let mut examples = match data {
                Some(path) => train::load_examples(path)?,
                None => train::read_examples(EVAL_JSONL.as_bytes())?,
            };
            if let Some(max) = max_chars {
                examples.retain(|e| e.text.chars().count() <= max);
                if examples.is_empty() {
                    bail!("--max-chars {max}: no message is that short");
                }
            }
            let d = detector(&args)?;
            let baseline_dir = (d.model_status() == ModelStatus::Loaded).then(|| model_dir(&args));
            let report = bench(&examples, &d, repeat, single, baseline_dir.as_deref())?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                print_bench(&report);
            }
        }
    }
    Ok(())
}

/// The model directory: `--model` / `SHIELD_MODEL_DIR` as given, else `models/all-MiniLM-L6-v2`
/// in the current directory when it is there, else in the repository the binary was built from.
fn model_dir(args: &DetectArgs) -> PathBuf {
    args.model.clone().unwrap_or_else(|| locate(MODEL_REL))
}

/// The model directory the app's scanner uses: `SHIELD_MODEL_DIR`, else the default above.
pub fn app_model_dir() -> PathBuf {
    std::env::var_os("SHIELD_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| locate(MODEL_REL))
}

/// `rel` under the current directory when it exists there, else under the repository root.
fn locate(rel: &str) -> PathBuf {
    let here = PathBuf::from(rel);
    if here.exists() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// The detector for the flags given. A missing or broken model is not an error: the rules tier
/// runs, and stderr says that the model is unavailable and why.
fn detector(args: &DetectArgs) -> anyhow::Result<Detector> {
    if args.rules_only {
        eprintln!("shield detect: rules only (--rules-only)");
        return Ok(Detector::rules_only());
    }
    let heads = match &args.heads {
        Some(path) => Heads::load(path)?,
        None => Heads::committed(),
    };
    let dir = model_dir(args);
    let d = Detector::load_or_rules_only_with_heads(&dir, heads);
    if let ModelStatus::Unavailable(why) = d.model_status() {
        eprintln!(
            "shield detect: the model is unavailable, so only the rules tier runs: {why}. \
             Run scripts/fetch-model, or set SHIELD_MODEL_DIR to a directory holding \
             config.json, tokenizer.json and model.safetensors."
        );
    }
    Ok(d)
}

#[derive(Debug, Serialize)]
struct BenchReport {
    /// Messages in the batched runs.
    messages: usize,
    /// Messages timed one at a time.
    single_messages: usize,
    /// The labelled messages the quality figures are computed on (each batched run uses
    /// `messages / labelled` distinct copies of them).
    labelled: usize,
    /// Of those, messages labelled `threat_violence` or `threat_sexual`.
    threats: usize,
    /// Of those, hard negatives (no label, kind starting `hard_`).
    hard_negatives: usize,
    /// Mean length of the labelled messages in characters (throughput depends on it).
    mean_chars: f64,
    /// `loaded`, or why the model is unavailable.
    model: String,
    rules_only: TierFigures,
    /// Absent when the model is unavailable.
    rules_and_model: Option<TierFigures>,
    /// Sentence embeddings alone through plain candle-transformers `BertModel` (six layers,
    /// batches of 32 padded to the longest), on the same messages; absent without the model.
    candle_baseline_messages_per_s: Option<f64>,
    /// The same messages through alt-profanity-check, or why it did not run.
    alt_profanity_check: ProfanityCheck,
}

#[derive(Debug, Serialize)]
struct TierFigures {
    batched_messages_per_s: f64,
    unbatched_messages_per_s: f64,
    single_p50_ms: f64,
    single_p99_ms: f64,
    /// Share of the threat messages given either threat label (null without any).
    threat_recall: Option<f64>,
    /// Share of the hard negatives given either threat label (null without any).
    hard_negative_flag_rate: Option<f64>,
    /// Share of the hard negatives given any label at all.
    hard_negative_any_label_rate: Option<f64>,
}

/// alt-profanity-check's figures on the same messages, or why there are none.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum ProfanityCheck {
    Ran(Box<ProfanityFigures>),
    Unavailable { unavailable: String },
}

#[derive(Debug, Serialize)]
struct ProfanityFigures {
    version: String,
    scikit_learn: String,
    /// Python's import and model load, not included in the rates.
    load_s: f64,
    /// A message counts as flagged when `predict_prob` is at least this.
    flag_threshold: f64,
    batched_messages_per_s: f64,
    unbatched_messages_per_s: f64,
    single_p50_ms: f64,
    single_p99_ms: f64,
    /// Share of the threat messages it flags (null without any).
    threat_recall: Option<f64>,
    /// Share of the hard negatives it flags (null without any).
    hard_negative_flag_rate: Option<f64>,
}

/// What `profanity_bench.py` prints.
#[derive(Debug, serde::Deserialize)]
struct ProfanityOutput {
    version: String,
    scikit_learn: String,
    load_s: f64,
    messages: usize,
    batched_messages_per_s: f64,
    unbatched_messages_per_s: f64,
    single_p50_ms: f64,
    single_p99_ms: f64,
    probabilities: HashMap<String, f64>,
}

fn bench(
    examples: &[Example],
    d: &Detector,
    repeat: usize,
    single: usize,
    baseline_dir: Option<&Path>,
) -> anyhow::Result<BenchReport> {
    if examples.is_empty() {
        bail!("no messages to benchmark");
    }
    // Distinct copies, so de-duplication inside the embedder does not flatter the figure.
    let owned: Vec<String> = (0..repeat.max(1))
        .flat_map(|r| examples.iter().map(move |e| format!("{} {r}", e.text)))
        .collect();
    let texts: Vec<&str> = owned.iter().map(String::as_str).collect();
    let single = single.clamp(1, texts.len());

    let rules = Detector::rules_only();
    let rules_only = measure(&rules, &texts, single, examples);
    let (model, rules_and_model) = match d.model_status() {
        ModelStatus::Loaded => {
            let _ = d.analyse_batch(&texts[..64.min(texts.len())]); // warm-up
            (
                "loaded".to_string(),
                Some(measure(d, &texts, single, examples)),
            )
        }
        ModelStatus::Unavailable(why) => (format!("unavailable: {why}"), None),
    };
    // The plain candle-transformers path (all six layers, batches of 32 padded to the longest)
    // on the same texts, so the speed-up is a ratio measured in one run.
    let candle_baseline_messages_per_s = match baseline_dir {
        Some(dir) => {
            let t = Instant::now();
            shield_detect::reference::embed_baseline(dir, &texts, 32, true)
                .context("the plain candle baseline")?;
            Some(texts.len() as f64 / t.elapsed().as_secs_f64())
        }
        None => None,
    };
    let alt_profanity_check = match profanity_check(examples, repeat.max(1), single, texts.len()) {
        Ok(figures) => ProfanityCheck::Ran(Box::new(figures)),
        Err(why) => {
            eprintln!("shield detect bench: alt-profanity-check not compared: {why}");
            ProfanityCheck::Unavailable { unavailable: why }
        }
    };
    Ok(BenchReport {
        messages: texts.len(),
        single_messages: single,
        labelled: examples.len(),
        threats: examples.iter().filter(|e| is_threat(e)).count(),
        hard_negatives: examples.iter().filter(|e| e.is_hard_negative()).count(),
        mean_chars: examples
            .iter()
            .map(|e| e.text.chars().count())
            .sum::<usize>() as f64
            / examples.len() as f64,
        model,
        rules_only,
        rules_and_model,
        candle_baseline_messages_per_s,
        alt_profanity_check,
    })
}

fn is_threat(e: &Example) -> bool {
    e.labels.iter().any(|l| l.is_threat())
}

/// Of the examples `want` picks, the share whose index `flagged` holds; `None` when it picks none.
fn rate(
    examples: &[Example],
    want: impl Fn(&Example) -> bool,
    flagged: impl Fn(usize) -> bool,
) -> Option<f64> {
    let of: Vec<usize> = (0..examples.len())
        .filter(|&i| want(&examples[i]))
        .collect();
    let hit = of.iter().filter(|&&i| flagged(i)).count();
    (!of.is_empty()).then(|| hit as f64 / of.len() as f64)
}

fn measure(d: &Detector, texts: &[&str], single: usize, examples: &[Example]) -> TierFigures {
    let t = Instant::now();
    let _ = d.analyse_batch(texts);
    let batched = texts.len() as f64 / t.elapsed().as_secs_f64();

    let mut latencies: Vec<f64> = Vec::with_capacity(single);
    let all = Instant::now();
    for text in &texts[..single] {
        let t = Instant::now();
        let _ = d.analyse(text);
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let unbatched = single as f64 / all.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];

    // Quality on the labelled messages as written (not the numbered copies), counted as `eval`
    // counts it: a flag is either threat label.
    let labelled: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let analyses = d.analyse_batch(&labelled);
    let threat = |i: usize| analyses[i].labels.iter().any(|l| l.is_threat());
    let any = |i: usize| !analyses[i].labels.is_empty();
    TierFigures {
        batched_messages_per_s: batched,
        unbatched_messages_per_s: unbatched,
        single_p50_ms: pct(0.50),
        single_p99_ms: pct(0.99),
        threat_recall: rate(examples, is_threat, threat),
        hard_negative_flag_rate: rate(examples, Example::is_hard_negative, threat),
        hard_negative_any_label_rate: rate(examples, Example::is_hard_negative, any),
    }
}

/// The python to run alt-profanity-check with: `SHIELD_PROFANITY_PYTHON`, else the venv that
/// `scripts/fetch-profanity-check` makes.
fn profanity_python() -> Result<PathBuf, String> {
    if let Some(py) = std::env::var_os("SHIELD_PROFANITY_PYTHON") {
        return Ok(PathBuf::from(py));
    }
    let py = locate(PROFANITY_PYTHON_REL);
    if py.exists() {
        Ok(py)
    } else {
        Err("run scripts/fetch-profanity-check".to_string())
    }
}

/// Runs `profanity_bench.py` on the same messages (same copies, same number timed one at a
/// time) and scores its flags against the labels. Any failure is returned as the reason, for
/// the report: the comparison never fails the bench.
fn profanity_check(
    examples: &[Example],
    repeat: usize,
    single: usize,
    messages: usize,
) -> Result<ProfanityFigures, String> {
    let python = profanity_python()?;
    eprintln!(
        "shield detect bench: running the same messages through alt-profanity-check ({})",
        python.display()
    );
    let mut input = Vec::new();
    for (i, e) in examples.iter().enumerate() {
        serde_json::to_writer(
            &mut input,
            &serde_json::json!({"id": i.to_string(), "text": e.text}),
        )
        .map_err(|e| e.to_string())?;
        input.push(b'\n');
    }
    let mut child = Command::new(&python)
        .arg("-c")
        .arg(PROFANITY_BENCH_PY)
        .args([
            "--repeat",
            &repeat.to_string(),
            "--single",
            &single.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!(
                "cannot run {} ({e}); run scripts/fetch-profanity-check",
                python.display()
            )
        })?;
    // The script reads all of stdin before it writes anything, so writing first cannot block.
    let written = child
        .stdin
        .take()
        .map(|mut stdin| stdin.write_all(&input))
        .transpose();
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.trim().lines().last().unwrap_or("no message");
        return Err(format!(
            "{} exited with {}: {last} (run scripts/fetch-profanity-check)",
            python.display(),
            output.status
        ));
    }
    written.map_err(|e| format!("writing to {}: {e}", python.display()))?;
    let out: ProfanityOutput = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("unreadable output from profanity_bench.py: {e}"))?;
    if out.messages != messages {
        return Err(format!(
            "profanity_bench.py timed {} messages, expected {messages}",
            out.messages
        ));
    }
    let mut flagged = Vec::with_capacity(examples.len());
    for i in 0..examples.len() {
        let p = out
            .probabilities
            .get(&i.to_string())
            .ok_or_else(|| format!("profanity_bench.py gave no probability for message {i}"))?;
        flagged.push(*p >= PROFANITY_FLAG_AT);
    }
    Ok(ProfanityFigures {
        version: out.version,
        scikit_learn: out.scikit_learn,
        load_s: out.load_s,
        flag_threshold: PROFANITY_FLAG_AT,
        batched_messages_per_s: out.batched_messages_per_s,
        unbatched_messages_per_s: out.unbatched_messages_per_s,
        single_p50_ms: out.single_p50_ms,
        single_p99_ms: out.single_p99_ms,
        threat_recall: rate(examples, is_threat, |i| flagged[i]),
        hard_negative_flag_rate: rate(examples, Example::is_hard_negative, |i| flagged[i]),
    })
}

fn print_bench(r: &BenchReport) {
    println!(
        "{} messages batched ({:.0} characters on average), {} one at a time; model {}",
        r.messages, r.mean_chars, r.single_messages, r.model
    );
    println!(
        "quality on the {} labelled messages: {} threats, {} hard negatives \
         (flag = either threat label; alt-profanity-check: probability >= {PROFANITY_FLAG_AT})",
        r.labelled, r.threats, r.hard_negatives
    );
    let pct = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{:.1}%", 100.0 * x));
    let row =
        |name: &str, b: f64, u: f64, p50: f64, p99: f64, rec: Option<f64>, hn: Option<f64>| {
            println!(
                "{name:<20} batched {b:>8.0} msg/s   unbatched {u:>8.0} msg/s   p50 {p50:.3} ms   \
             p99 {p99:.3} ms   threat recall {:>6}   hard-negative flags {:>6}",
                pct(rec),
                pct(hn)
            );
        };
    let tiers = [
        ("rules only", Some(&r.rules_only)),
        ("rules + model", r.rules_and_model.as_ref()),
    ];
    for (name, f) in tiers {
        if let Some(f) = f {
            row(
                name,
                f.batched_messages_per_s,
                f.unbatched_messages_per_s,
                f.single_p50_ms,
                f.single_p99_ms,
                f.threat_recall,
                f.hard_negative_flag_rate,
            );
        }
    }
    if let Some(b) = r.candle_baseline_messages_per_s {
        let ratio = r.rules_and_model.as_ref().map_or(String::new(), |f| {
            format!(
                "   (rules + model is {:.2}x this)",
                f.batched_messages_per_s / b
            )
        });
        println!(
            "{:<20} batched {b:>8.0} msg/s{ratio}",
            "plain candle baseline"
        );
    }
    match &r.alt_profanity_check {
        ProfanityCheck::Ran(f) => row(
            "alt-profanity-check",
            f.batched_messages_per_s,
            f.unbatched_messages_per_s,
            f.single_p50_ms,
            f.single_p99_ms,
            f.threat_recall,
            f.hard_negative_flag_rate,
        ),
        ProfanityCheck::Unavailable { unavailable } => {
            println!("alt-profanity-check  not run: {unavailable}");
        }
    }
}
