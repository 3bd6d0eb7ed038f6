//! Time as a value passed in. Deadlines, lockouts, session timeouts and alarms all ask a
//! [`Clock`], so tests move time forward instead of waiting, and the domain stays free of IO.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch, UTC.
pub type EpochMs = i64;

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now_ms(&self) -> EpochMs;
}

/// A clock tests set and advance by hand. Clones share the same time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn at(ms: EpochMs) -> Self {
        Self(Arc::new(AtomicI64::new(ms)))
    }

    pub fn set(&self, ms: EpochMs) {
        self.0.store(ms, Ordering::SeqCst);
    }

    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> EpochMs {
        self.0.load(Ordering::SeqCst)
    }
}
