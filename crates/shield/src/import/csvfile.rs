//! Reading one CSV file by header name, with every error tied to a file, line and column.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use shield_domain::FieldError;

use super::ImportError;

/// One record and where it came from.
#[derive(Debug)]
pub struct Row<'f> {
    file: &'f CsvFile,
    record: &'f csv::StringRecord,
    pub line: u64,
}

impl Row<'_> {
    /// The value in a column the file is known to have (checked by [`CsvFile::require`]).
    pub fn get(&self, column: &Column) -> &str {
        column
            .index
            .and_then(|i| self.record.get(i))
            .unwrap_or("")
            .trim()
    }

    /// Runs a domain parser on a column and names the place when it fails.
    pub fn parse<T>(
        &self,
        column: &Column,
        parse: impl FnOnce(&str) -> Result<T, FieldError>,
    ) -> Result<T, ImportError> {
        parse(self.get(column)).map_err(|e| self.error(column.name, e))
    }

    /// Like [`Row::parse`], but an empty or absent column is `None`.
    pub fn parse_opt<T>(
        &self,
        column: &Column,
        parse: impl FnOnce(&str) -> Result<T, FieldError>,
    ) -> Result<Option<T>, ImportError> {
        let value = self.get(column);
        if value.is_empty() {
            return Ok(None);
        }
        parse(value)
            .map(Some)
            .map_err(|e| self.error(column.name, e))
    }

    pub fn error(&self, column: &str, error: FieldError) -> ImportError {
        self.file.error_at(self.line, column, error)
    }
}

/// A column looked up by header name; `index` is `None` for an optional column that is absent.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: &'static str,
    index: Option<usize>,
}

impl Column {
    pub fn present(&self) -> bool {
        self.index.is_some()
    }
}

/// A whole CSV file read into memory (reference files are a few megabytes at most), so the
/// import can check every row before writing any.
#[derive(Debug)]
pub struct CsvFile {
    pub name: String,
    headers: HashMap<String, usize>,
    records: Vec<(u64, csv::StringRecord)>,
}

impl CsvFile {
    pub fn open(path: &Path) -> Result<Self, ImportError> {
        let name = path.display().to_string();
        let mut bytes = Vec::new();
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|source| ImportError::Open {
                file: name.clone(),
                source,
            })?;
        Self::from_bytes(name, &bytes)
    }

    pub fn from_bytes(name: String, bytes: &[u8]) -> Result<Self, ImportError> {
        // Excel and friends write a byte-order mark before the first header.
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let progress = progress_bar(bytes.len() as u64, &name);
        let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
        let header_record = reader.headers().map_err(|e| csv_error(&name, e))?.clone();
        let mut headers = HashMap::new();
        for (i, h) in header_record.iter().enumerate() {
            headers.entry(h.trim().to_ascii_lowercase()).or_insert(i);
        }
        let mut records = Vec::new();
        let mut record = csv::StringRecord::new();
        loop {
            match reader.read_record(&mut record) {
                Ok(true) => {
                    let line = record.position().map(|p| p.line()).unwrap_or(0);
                    if record.iter().all(|f| f.trim().is_empty()) {
                        continue;
                    }
                    progress.set_position(record.position().map(|p| p.byte()).unwrap_or(0));
                    records.push((line, record.clone()));
                }
                Ok(false) => break,
                Err(e) => {
                    progress.finish_and_clear();
                    return Err(csv_error(&name, e));
                }
            }
        }
        progress.finish_and_clear();
        Ok(Self {
            name,
            headers,
            records,
        })
    }

    /// A column the file must have; any of `names` may be its header (case does not matter).
    pub fn require(&self, names: &[&'static str]) -> Result<Column, ImportError> {
        let column = self.optional(names);
        if column.present() {
            Ok(column)
        } else {
            Err(ImportError::MissingColumn {
                file: self.name.clone(),
                column: names[0],
            })
        }
    }

    pub fn optional(&self, names: &[&'static str]) -> Column {
        let index = names.iter().find_map(|n| self.headers.get(*n).copied());
        Column {
            name: names[0],
            index,
        }
    }

    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.records.iter().map(|(line, record)| Row {
            file: self,
            record,
            line: *line,
        })
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The line of the `index`-th data row, for errors found after parsing.
    pub fn line_of(&self, index: usize) -> u64 {
        self.records.get(index).map(|(l, _)| *l).unwrap_or(0)
    }

    pub fn error_at(&self, line: u64, column: &str, error: FieldError) -> ImportError {
        ImportError::Field {
            file: self.name.clone(),
            line,
            column: column.to_owned(),
            message: error.message,
        }
    }
}

fn csv_error(file: &str, e: csv::Error) -> ImportError {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("has {len} fields where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".to_owned(),
        _ => e.to_string(),
    };
    ImportError::Malformed {
        file: file.to_owned(),
        line,
        message,
    }
}

/// A progress bar on a terminal; nothing at all when stderr is a pipe or file.
pub fn progress_bar(len: u64, name: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes}") {
        bar.set_style(style.progress_chars("=> "));
    }
    let short = Path::new(name)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| name.to_owned());
    bar.set_message(format!("reading {short}"));
    bar
}
