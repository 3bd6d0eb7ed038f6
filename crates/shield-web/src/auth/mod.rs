//! Sign-in and the enforcement of the access policy.
//!
//! - `token`: random tokens and their hashes (sessions, invitations, CSRF).
//! - `session`: the session middleware (idle and absolute timeouts, server-side sign-out).
//! - `csrf`: Fetch-Metadata/Origin checks on every state-changing request, plus form tokens.
//! - `guard`: extractors that build the [`Actor`](shield_domain::policy::Actor) and call
//!   [`policy::can`](shield_domain::policy::can); a handler taking one cannot run unless the
//!   policy allowed it.
//! - `password`, `totp`: the candidate's password + authenticator-app sign-in.
//! - `passkey`: WebAuthn relying party, ceremony state and the JSON endpoints' CSRF header.

pub mod csrf;
pub mod guard;
pub mod passkey;
pub mod password;
pub mod plan_guard;
pub mod rate;
pub mod report_guard;
pub mod security_guard;
pub mod session;
pub mod token;
pub mod totp;
