//! `shield-detect`: explainable detection of threats, sexual threats, doxxing
//! and abuse aimed at UK election candidates.
//!
//! Three tiers, each of which can be inspected on its own:
//!
//! 1. [`rules`]: hand-written patterns with context checks. They return the
//!    exact character spans that fired and a human-readable reason, so a
//!    caseworker can see *why* a message was flagged. They always run, even
//!    when the model files are missing.
//! 2. [`model`]: all-MiniLM-L6-v2 computed with candle and rten-gemm (the first four of
//!    its six layers, pooled four ways, for detection), which catches
//!    paraphrases the rules never anticipated. Layers 3 and 4 carry
//!    low-rank adapters trained for this task ([`adapt`]), merged into the
//!    weights at load time.
//! 3. [`heads`]: one shared hidden layer and one logistic output per label
//!    over the model's features and the rules' findings, trained in Rust
//!    ([`train`]) and stored as a committed JSON file.
//!
//! [`Detector`] combines them: a confident rule hit sets a floor on the score,
//! the heads weigh recognised benign contexts (reported speech, sport,
//! electoral metaphor) as inputs, and [`Analysis::tier`] says which tier
//! decided.
#![forbid(unsafe_code)]

mod attention;
mod bert;
mod corpus;
mod dense;
mod detector;
mod error;
mod label;
mod norm;
mod pool;
#[cfg(test)]
mod test_util;

pub mod adapt;
pub mod eval;
pub mod heads;
pub mod jsonl;
pub mod lexical;
pub mod model;
pub mod reference;
pub mod rules;
pub mod train;

pub use detector::{
    Analysis, Detector, ModelStatus, OPERATING_THRESHOLD, REVIEW_THRESHOLD, Tier, WINDOW_CUT,
    combine, rescale,
};
pub use error::DetectError;
pub use label::{Label, Scores, Span};
