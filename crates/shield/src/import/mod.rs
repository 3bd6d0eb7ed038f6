//! `shield import …`: reference data from CSV files into the store.
//!
//! Every import reads and checks the whole file first, then writes it in one transaction, so a
//! bad row anywhere means nothing from the file is committed. Errors name the file, the line
//! (as a spreadsheet would number it, the header being line 1) and the column.

mod candidates;
mod constituencies;
mod contacts;
pub mod csvfile;
mod forces;
mod links;

use std::collections::HashMap;
use std::path::Path;

use clap::ValueEnum;
use serde::Serialize;
use shield_store::{ImportMode, ImportOutcome, Store, StoreError};
use thiserror::Error;

pub use csvfile::CsvFile;

/// The kinds of file `shield import` takes, in the order a new election is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportKind {
    /// ONS constituency names and codes (as constituencies_2024.csv).
    Constituencies,
    /// Police force areas (as police_force_areas.csv).
    Forces,
    /// The constituency → police force lookup (as pcon24_pfa_lookup.csv).
    ConstituencyForces,
    /// A Democracy Club candidates CSV export.
    Candidates,
    /// The named police contacts of each force (the project's own format; see the README).
    Contacts,
    /// A breached-password hash list: `SHA1HEX:count` lines (as the Pwned Passwords
    /// downloader writes). Stored as a range file in the data folder, not in the database.
    BreachedPasswords,
}

impl ImportKind {
    pub fn noun(self) -> &'static str {
        match self {
            Self::Constituencies => "constituencies",
            Self::Forces => "police forces",
            Self::ConstituencyForces => "constituency–force links",
            Self::Candidates => "candidates",
            Self::Contacts => "force contacts",
            Self::BreachedPasswords => "breached-password hashes",
        }
    }
}

#[derive(Debug, Error)]
pub enum ImportError {
    #[error("{file}: cannot read the file: {source}")]
    Open {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: line {line}: {message}")]
    Malformed {
        file: String,
        line: u64,
        message: String,
    },
    #[error("{file}: line 1: the header has no column `{column}`")]
    MissingColumn { file: String, column: &'static str },
    #[error("{file}: line {line}, column `{column}`: {message}")]
    Field {
        file: String,
        line: u64,
        column: String,
        message: String,
    },
    #[error(
        "{file}: a breached-password list is not a CSV file; `shield import breached-passwords` reads it"
    )]
    NotCsv { file: String },
    #[error("{file}: the file has no data rows")]
    Empty { file: String },
    #[error("{file}: nothing was imported: {source}")]
    Store {
        file: String,
        #[source]
        source: StoreError,
    },
}

impl ImportError {
    /// The line an error points at, when it points at one.
    pub fn line(&self) -> Option<u64> {
        match self {
            Self::Malformed { line, .. } | Self::Field { line, .. } => Some(*line),
            Self::MissingColumn { .. } => Some(1),
            _ => None,
        }
    }
}

/// What an import did, for the command's summary line and `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub kind: ImportKind,
    pub file: String,
    pub rows: usize,
    pub dry_run: bool,
    #[serde(flatten)]
    pub outcome: ImportOutcome,
    /// Notes worth a person's attention, such as candidate rows whose `gss` was repaired.
    pub notes: Vec<String>,
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = if self.dry_run {
            "would import"
        } else {
            "imported"
        };
        write!(
            f,
            "{}: {verb} {} {} ({})",
            self.file,
            self.rows,
            self.kind.noun(),
            self.outcome
        )?;
        for note in &self.notes {
            write!(f, "\n  {note}")?;
        }
        if self.dry_run {
            write!(f, "\n  dry run: nothing was written")?;
        }
        Ok(())
    }
}

/// Imports one file of the given kind.
pub async fn import_file(
    store: &dyn Store,
    kind: ImportKind,
    path: &Path,
    mode: ImportMode,
) -> Result<ImportReport, ImportError> {
    let file = CsvFile::open(path)?;
    import(store, kind, &file, mode).await
}

/// Imports a file already in memory (the demo's embedded data comes this way).
pub async fn import(
    store: &dyn Store,
    kind: ImportKind,
    file: &CsvFile,
    mode: ImportMode,
) -> Result<ImportReport, ImportError> {
    if file.is_empty() {
        return Err(ImportError::Empty {
            file: file.name.clone(),
        });
    }
    let stored = |source| ImportError::Store {
        file: file.name.clone(),
        source,
    };
    let mut notes = Vec::new();
    let outcome = match kind {
        ImportKind::Constituencies => {
            let rows = constituencies::parse(file)?;
            store
                .import_constituencies(&rows, mode)
                .await
                .map_err(stored)?
        }
        ImportKind::Forces => {
            let rows = forces::parse(file)?;
            store.import_forces(&rows, mode).await.map_err(stored)?
        }
        ImportKind::ConstituencyForces => {
            let known = links::Known {
                constituencies: store
                    .constituency_names()
                    .await
                    .map_err(stored)?
                    .into_iter()
                    .map(|(c, _)| c)
                    .collect(),
                forces: store
                    .force_codes()
                    .await
                    .map_err(stored)?
                    .into_iter()
                    .collect(),
            };
            let rows = links::parse(file, &known)?;
            store
                .import_constituency_forces(&rows, mode)
                .await
                .map_err(stored)?
        }
        ImportKind::Candidates => {
            let names = store.constituency_names().await.map_err(stored)?;
            let parsed = candidates::parse(file, &names)?;
            notes = parsed.notes;
            store
                .import_candidates(&parsed.elections, &parsed.candidates, mode)
                .await
                .map_err(stored)?
        }
        ImportKind::BreachedPasswords => {
            return Err(ImportError::NotCsv {
                file: file.name.clone(),
            });
        }
        ImportKind::Contacts => {
            let forces = store
                .force_codes()
                .await
                .map_err(stored)?
                .into_iter()
                .collect();
            let rows = contacts::parse(file, &forces)?;
            store.import_contacts(&rows, mode).await.map_err(stored)?
        }
    };
    Ok(ImportReport {
        kind,
        file: file.name.clone(),
        rows: file.len(),
        dry_run: mode == ImportMode::DryRun,
        outcome,
        notes,
    })
}

/// Rejects a second row with the same key, naming both lines.
pub(crate) struct Unique<K> {
    seen: HashMap<K, u64>,
}

impl<K: std::hash::Hash + Eq> Unique<K> {
    pub fn new() -> Self {
        Self {
            seen: HashMap::new(),
        }
    }

    pub fn check(
        &mut self,
        key: K,
        line: u64,
        what: &str,
    ) -> Result<(), shield_domain::FieldError> {
        if let Some(first) = self.seen.insert(key, line) {
            return Err(shield_domain::FieldError::new(format!(
                "{what} appears twice: also on line {first}"
            )));
        }
        Ok(())
    }
}
