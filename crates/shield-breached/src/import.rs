//! `shield import breached-passwords FILE`: lines of `SHA1HEX:count` into a range file.
//!
//! Two passes over the data, neither needing the list in memory:
//! 1. read and check every line, appending `(hash, count)` to one of 256 spill files chosen by
//!    the hash's first byte (a radix partition; SHA-1 hashes spread evenly, so each holds about
//!    1/256 of the list: 94 MB of memory for a billion lines in the next pass);
//! 2. for each spill file in order: load it, sort it, merge duplicate hashes (their counts are
//!    added) and append its records to the output while counting records per prefix.
//!
//! The output is written to a temporary file beside the destination, the table filled in at
//! the end, synced, and renamed over the destination: a failed or interrupted import leaves
//! the old list in place. Spill files live in a temporary folder beside it, removed on every
//! path out. Any bad line stops the import before the output is created.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::format::{
    HEADER_LEN, MAX_RECORDS, PREFIXES, RECORD_LEN, TABLE_LEN, encode_header, encode_record,
    prefix_of,
};
use crate::line::parse_line;

/// How many bad lines are named before the rest are only counted.
const LISTED_ERRORS: usize = 20;
const PARTITIONS: usize = 256;
/// A spilled line: the hash and its count (clamped to u32; counts are clamped further when
/// written).
const SPILL_LEN: usize = 24;

/// A line that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}", bad_lines_message(.file, .errors, *.total))]
    BadLines {
        file: String,
        /// The first few bad lines.
        errors: Vec<LineError>,
        /// How many lines were bad in all.
        total: u64,
    },
    #[error("{file}: more than {MAX_RECORDS} lines; the range file cannot index that many")]
    TooMany { file: String },
    #[error("cannot read {file}: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn bad_lines_message(file: &str, errors: &[LineError], total: u64) -> String {
    let mut out = format!(
        "{file}: {total} bad line{}; nothing was imported",
        if total == 1 { "" } else { "s" }
    );
    for e in errors {
        out.push_str(&format!("\n  {file}: line {}: {}", e.line, e.message));
    }
    if total > errors.len() as u64 {
        out.push_str(&format!("\n  … and {} more", total - errors.len() as u64));
    }
    out
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// Lines holding a hash (blank lines are skipped).
    pub lines: u64,
    /// Distinct hashes stored.
    pub hashes: u64,
    /// Lines whose hash had already appeared (their counts were added to it).
    pub duplicates: u64,
    /// Size of the range file.
    pub bytes: u64,
}

/// Checks every line of `source` without writing anything (`--dry-run`); the summary has
/// only `lines` filled in.
pub fn check(mut source: impl BufRead, name: &str) -> Result<ImportSummary, ImportError> {
    let lines = read_lines(&mut source, name, |_, _| Ok(()))?;
    Ok(ImportSummary {
        lines,
        hashes: 0,
        duplicates: 0,
        bytes: 0,
    })
}

/// Reads every line, handing good ones to `sink` until the first bad one; then keeps reading
/// only to name the bad lines. Returns the number of hashes read.
fn read_lines(
    source: &mut impl BufRead,
    name: &str,
    mut sink: impl FnMut(&[u8; 20], u64) -> Result<(), ImportError>,
) -> Result<u64, ImportError> {
    let mut line = Vec::with_capacity(64);
    let mut number = 0u64;
    let mut lines = 0u64;
    let mut errors = Vec::new();
    let mut total_errors = 0u64;
    loop {
        line.clear();
        let read = source
            .read_until(b'\n', &mut line)
            .map_err(|e| ImportError::Read {
                file: name.to_owned(),
                source: e,
            })?;
        if read == 0 {
            break;
        }
        number += 1;
        if line.trim_ascii().is_empty() {
            continue;
        }
        match parse_line(&line) {
            Ok((hash, count)) => {
                lines += 1;
                if lines > MAX_RECORDS {
                    return Err(ImportError::TooMany {
                        file: name.to_owned(),
                    });
                }
                if total_errors == 0 {
                    sink(&hash, count)?;
                }
            }
            Err(message) => {
                total_errors += 1;
                if errors.len() < LISTED_ERRORS {
                    errors.push(LineError {
                        line: number,
                        message,
                    });
                }
            }
        }
    }
    if total_errors > 0 {
        return Err(ImportError::BadLines {
            file: name.to_owned(),
            errors,
            total: total_errors,
        });
    }
    Ok(lines)
}

/// Imports the file at `source` into the range file at `dest`.
pub fn import_file(source: &Path, dest: &Path) -> Result<ImportSummary, ImportError> {
    let name = source.display().to_string();
    let file = File::open(source).map_err(|e| ImportError::Read {
        file: name.clone(),
        source: e,
    })?;
    import(BufReader::with_capacity(1 << 20, file), &name, dest)
}

/// Imports lines from `source` (named `name` in messages) into the range file at `dest`,
/// replacing it atomically.
pub fn import(
    mut source: impl BufRead,
    name: &str,
    dest: &Path,
) -> Result<ImportSummary, ImportError> {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ImportError::Write { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(write_err(&dir))?;
    let spill_dir = tempfile::Builder::new()
        .prefix(".breached-import-")
        .tempdir_in(&dir)
        .map_err(write_err(&dir))?;
    let mut spills = Vec::with_capacity(PARTITIONS);
    for p in 0..PARTITIONS {
        let path = spill_dir.path().join(format!("{p:02x}"));
        let file = File::create(&path).map_err(write_err(&path))?;
        spills.push((path, BufWriter::with_capacity(64 * 1024, file)));
    }

    // Pass 1: check every line; partition the good ones while no line has been bad.
    let lines = read_lines(&mut source, name, |hash, count| {
        let (path, spill) = &mut spills[usize::from(hash[0])];
        let mut record = [0u8; SPILL_LEN];
        record[..20].copy_from_slice(hash);
        record[20..].copy_from_slice(&(count.min(u64::from(u32::MAX)) as u32).to_le_bytes());
        spill.write_all(&record).map_err(write_err(path))
    })?;
    let mut spill_paths = Vec::with_capacity(PARTITIONS);
    for (path, spill) in spills {
        // Not synced: spill files are thrown away if anything stops the import.
        spill
            .into_inner()
            .map_err(|e| e.into_error())
            .map_err(write_err(&path))?;
        spill_paths.push(path);
    }

    // Pass 2: sort each partition and write the records; the table goes in at the end.
    let mut out = tempfile::Builder::new()
        .prefix(".breached-passwords-")
        .tempfile_in(&dir)
        .map_err(write_err(&dir))?;
    let out_path = out.path().to_path_buf();
    let mut per_prefix = vec![0u32; PREFIXES];
    let mut hashes = 0u64;
    {
        let mut writer = BufWriter::with_capacity(1 << 20, out.as_file_mut());
        writer
            .write_all(&[0u8; HEADER_LEN + TABLE_LEN])
            .map_err(write_err(&out_path))?;
        let mut buffer = Vec::new();
        let mut entries: Vec<([u8; 20], u64)> = Vec::new();
        for path in &spill_paths {
            buffer.clear();
            File::open(path)
                .and_then(|mut f| f.read_to_end(&mut buffer))
                .map_err(write_err(path))?;
            // Freed as soon as read, so the disk holds the list about twice at most.
            std::fs::remove_file(path).map_err(write_err(path))?;
            entries.clear();
            entries.extend(buffer.chunks_exact(SPILL_LEN).map(|r| {
                let mut hash = [0u8; 20];
                hash.copy_from_slice(&r[..20]);
                let count = u32::from_le_bytes([r[20], r[21], r[22], r[23]]);
                (hash, u64::from(count))
            }));
            entries.sort_unstable_by_key(|e| e.0);
            let mut i = 0;
            while i < entries.len() {
                let (hash, mut count) = entries[i];
                i += 1;
                while i < entries.len() && entries[i].0 == hash {
                    count = count.saturating_add(entries[i].1);
                    i += 1;
                }
                writer
                    .write_all(&encode_record(&hash, count))
                    .map_err(write_err(&out_path))?;
                per_prefix[prefix_of(&hash)] += 1;
                hashes += 1;
            }
        }
        writer.flush().map_err(write_err(&out_path))?;
    }
    let mut head = Vec::with_capacity(HEADER_LEN + TABLE_LEN);
    let mut list_id = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut list_id);
    head.extend_from_slice(&encode_header(hashes, &list_id));
    let mut start = 0u32;
    for n in &per_prefix {
        head.extend_from_slice(&start.to_le_bytes());
        start += n;
    }
    head.extend_from_slice(&start.to_le_bytes());
    let file = out.as_file_mut();
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.write_all(&head))
        .and_then(|()| file.sync_all())
        .map_err(write_err(&out_path))?;
    let bytes = (HEADER_LEN + TABLE_LEN) as u64 + hashes * RECORD_LEN as u64;
    // Temporary files are 0600; the list is public data, and the server may run as another
    // user than the one importing.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&out_path, std::fs::Permissions::from_mode(0o644))
            .map_err(write_err(&out_path))?;
    }
    out.persist(dest).map_err(|e| ImportError::Write {
        path: dest.to_path_buf(),
        source: e.error,
    })?;
    // The rename is durable once the folder is synced.
    #[cfg(unix)]
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(write_err(&dir))?;
    Ok(ImportSummary {
        lines,
        hashes,
        duplicates: lines - hashes,
        bytes,
    })
}
