//! `shield import breached-passwords FILE`: the breached-password list behind `GET /range/…`.
//! It is a file in the data folder (`breached-passwords.bin`), not database rows: 21 bytes a
//! hash, read by prefix, replaced whole by each import (see `shield-breached`).

use std::io::BufReader;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use crate::config::Config;

/// The name of the range file in the data folder.
pub const FILE_NAME: &str = "breached-passwords.bin";

/// The project's own small list, for the demo and the tests: common passwords' SHA-1 hashes
/// with made-up counts (made by `scripts/make-demo-breached-passwords`; not real figures).
pub const DEMO_LIST: &str = include_str!("../../../demo/breached-passwords.txt");

pub fn path(config: &Config) -> PathBuf {
    config.data_dir.join(FILE_NAME)
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub kind: &'static str,
    pub file: String,
    pub dry_run: bool,
    pub lines: u64,
    pub hashes: u64,
    pub duplicates: u64,
    pub bytes: u64,
    pub path: String,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.dry_run {
            return write!(
                f,
                "{}: {} breached-password hashes, every line good\n  dry run: nothing was written",
                self.file, self.lines
            );
        }
        write!(
            f,
            "{}: imported {} breached-password hashes ({} lines, {} duplicates merged) into {} ({} bytes)",
            self.file, self.hashes, self.lines, self.duplicates, self.path, self.bytes
        )
    }
}

/// Imports `file` into the data folder's range file (or only checks it, with `dry_run`).
pub fn import(config: &Config, file: &Path, dry_run: bool) -> anyhow::Result<Report> {
    let dest = path(config);
    let name = file.display().to_string();
    let summary = if dry_run {
        let source = std::fs::File::open(file).with_context(|| format!("cannot read {name}"))?;
        shield_breached::check(BufReader::with_capacity(1 << 20, source), &name)?
    } else {
        shield_breached::import_file(file, &dest)?
    };
    Ok(Report {
        kind: "breached-passwords",
        file: name,
        dry_run,
        lines: summary.lines,
        hashes: summary.hashes,
        duplicates: summary.duplicates,
        bytes: summary.bytes,
        path: dest.display().to_string(),
    })
}

/// Writes the shipped demo list to `dest` (the demo's own data folder; tests' temp folders).
pub fn load_demo(dest: &Path) -> anyhow::Result<shield_breached::ImportSummary> {
    Ok(shield_breached::import(
        DEMO_LIST.as_bytes(),
        "demo/breached-passwords.txt",
        dest,
    )?)
}
