#![doc = include_str!("../README.md")]

pub mod bench;
mod format;
pub mod import;
mod line;
mod lookup;

pub use format::{MAX_COUNT, MAX_RECORDS, PREFIXES, RECORD_LEN};
pub use import::{ImportError, ImportSummary, LineError, check, import, import_file};
pub use line::{Prefix, parse_line};
pub use lookup::{Entry, OpenError, RangeFile, RangeStore};
