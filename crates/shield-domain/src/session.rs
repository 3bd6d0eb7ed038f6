//! Session and sign-in rules as pure functions of time (ASVS V7.3, V6.3.1).

use crate::clock::EpochMs;

/// A session ends after this long without a request.
pub const IDLE_TIMEOUT_MS: i64 = 30 * 60 * 1000;
/// …and after this long whatever happens.
pub const ABSOLUTE_TIMEOUT_MS: i64 = 12 * 60 * 60 * 1000;
/// A half-done sign-in (password accepted, second factor pending) lasts this long.
pub const PENDING_TIMEOUT_MS: i64 = 5 * 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    Live,
    IdleExpired,
    Expired,
}

pub fn session_state(now: EpochMs, last_seen: EpochMs, expires_at: EpochMs) -> SessionState {
    if now >= expires_at {
        SessionState::Expired
    } else if now - last_seen > IDLE_TIMEOUT_MS {
        SessionState::IdleExpired
    } else {
        SessionState::Live
    }
}

/// How long an account is soft-locked after `failures` consecutive failed sign-ins. Stored in
/// the database, so failures spread over many addresses or app instances still count; a
/// passkey sign-in is not blocked by it (only password attempts are), so an attacker cannot
/// lock a person out of every way in.
pub fn lockout_ms(failures: i64) -> Option<i64> {
    match failures {
        f if f < 5 => None,
        f if f < 10 => Some(60 * 1000),
        f if f < 20 => Some(15 * 60 * 1000),
        _ => Some(60 * 60 * 1000),
    }
}

/// The 30-second TOTP step a moment falls in.
pub fn totp_step(now: EpochMs) -> i64 {
    now.div_euclid(30_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts() {
        let t0 = 1_000_000;
        let expires = t0 + ABSOLUTE_TIMEOUT_MS;
        assert_eq!(session_state(t0 + 1000, t0, expires), SessionState::Live);
        assert_eq!(
            session_state(t0 + IDLE_TIMEOUT_MS + 1, t0, expires),
            SessionState::IdleExpired
        );
        // Active all along, but past the absolute limit.
        assert_eq!(
            session_state(expires, expires - 1000, expires),
            SessionState::Expired
        );
    }

    #[test]
    fn lockout_grows() {
        assert_eq!(lockout_ms(4), None);
        assert_eq!(lockout_ms(5), Some(60_000));
        assert!(lockout_ms(25) > lockout_ms(12));
    }

    #[test]
    fn steps() {
        assert_eq!(totp_step(59_999), 1);
        assert_eq!(totp_step(60_000), 2);
    }
}
