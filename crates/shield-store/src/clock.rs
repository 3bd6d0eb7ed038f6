//! The real clock. It lives here, the first layer allowed to touch the outside world; the
//! domain only knows the [`Clock`] trait.

use shield_domain::clock::{Clock, EpochMs};

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> EpochMs {
        chrono::Utc::now().timestamp_millis()
    }
}
