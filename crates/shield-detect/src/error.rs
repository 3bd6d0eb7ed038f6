//! One error type for the crate, so callers match on a single enum.
use std::path::PathBuf;

/// Everything that can go wrong while loading, embedding or training.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// A model file (weights, tokenizer, config) is missing. Kept separate
    /// from other I/O errors so callers can fall back to rules-only mode.
    #[error("model file not found: {0}")]
    MissingModelFile(PathBuf),
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid JSON in {what}: {source}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("tokenizer error: {0}")]
    Tokenizer(String),
    #[error("model error: {0}")]
    Model(#[from] candle_core::Error),
    #[error("heads file is invalid: {0}")]
    InvalidHeads(String),
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
    #[error("training error: {0}")]
    Training(String),
}
