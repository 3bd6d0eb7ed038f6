//! `shield bench breached-passwords`: generates a list of random SHA-1 hashes as an import
//! file, imports it through the real importer, then measures range lookups per second (the
//! work `GET /range/{prefix}` does: the bucket read and its response body) on one thread and
//! on several, and the bytes the range file takes. A benchmark, not a test: it prints figures
//! and asserts nothing. Every file it makes is removed afterwards.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;
use shield_breached::RangeFile;

#[derive(Debug)]
pub struct Options {
    pub count: u64,
    pub lookups: u64,
    pub runs: usize,
    pub threads: Vec<usize>,
    pub json: bool,
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct Figures {
    hashes: u64,
    text_bytes: u64,
    generate_secs: f64,
    import_secs: f64,
    import_lines_per_sec: f64,
    range_file_bytes: u64,
    bytes_per_hash: f64,
    runs: usize,
    lookups_per_run_per_thread: u64,
    /// (threads, median lookups per second over all threads)
    lookups_per_sec: Vec<(usize, f64)>,
    mean_hashes_per_prefix: f64,
}

pub fn run(options: Options) -> anyhow::Result<()> {
    let base = options.dir.clone().unwrap_or_else(|| {
        let target = PathBuf::from("target");
        if target.is_dir() {
            target
        } else {
            std::env::temp_dir()
        }
    });
    std::fs::create_dir_all(&base)?;
    let dir = tempfile::Builder::new()
        .prefix("bench-breached-")
        .tempdir_in(&base)
        .with_context(|| format!("cannot make a folder in {}", base.display()))?;
    let text = dir.path().join("hashes.txt");
    let range = dir.path().join("breached-passwords.bin");

    let started = Instant::now();
    let text_bytes = shield_breached::bench::generate(&text, options.count, 0x5eed)?;
    let generate_secs = started.elapsed().as_secs_f64();
    if !options.json {
        eprintln!(
            "generated {} hashes ({text_bytes} bytes of text) in {generate_secs:.1} s",
            options.count
        );
    }
    let started = Instant::now();
    let summary = shield_breached::import_file(&text, &range)?;
    let import_secs = started.elapsed().as_secs_f64();
    std::fs::remove_file(&text)?;
    if !options.json {
        eprintln!("imported in {import_secs:.1} s");
    }
    let file = Arc::new(RangeFile::open(&range)?);
    let range_file_bytes = std::fs::metadata(&range)?.len();

    let runs = options.runs.max(1);
    let mut lookups_per_sec = Vec::new();
    for &threads in &options.threads {
        let mut rates = Vec::new();
        for run in 0..runs {
            let elapsed =
                shield_breached::bench::lookups(&file, threads, options.lookups, run as u64)?;
            rates.push((threads as u64 * options.lookups) as f64 / elapsed.as_secs_f64());
        }
        rates.sort_by(f64::total_cmp);
        lookups_per_sec.push((threads, rates[rates.len() / 2]));
    }
    let figures = Figures {
        hashes: summary.hashes,
        text_bytes,
        generate_secs,
        import_secs,
        import_lines_per_sec: summary.lines as f64 / import_secs,
        range_file_bytes,
        bytes_per_hash: range_file_bytes as f64 / summary.hashes.max(1) as f64,
        runs,
        lookups_per_run_per_thread: options.lookups,
        lookups_per_sec,
        mean_hashes_per_prefix: summary.hashes as f64 / shield_breached::PREFIXES as f64,
    };
    drop(file);
    dir.close()?;
    if options.json {
        println!("{}", serde_json::to_string(&figures)?);
    } else {
        println!(
            "{} hashes: range file {} bytes ({:.2} bytes a hash); import {:.1} s ({:.0} lines/s)",
            figures.hashes,
            figures.range_file_bytes,
            figures.bytes_per_hash,
            figures.import_secs,
            figures.import_lines_per_sec
        );
        for (threads, rate) in &figures.lookups_per_sec {
            println!("range lookups, {threads} thread(s): {rate:.0}/s (median of {runs} runs)");
        }
    }
    Ok(())
}
