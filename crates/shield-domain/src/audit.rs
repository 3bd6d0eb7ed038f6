//! The audit trail's pure half: what an audit event holds, its canonical bytes, the hash chain
//! and the verifier that finds the first broken link.
//!
//! Every stored event carries
//! `hash = SHA-256("candidate-shield/audit/v1" ‖ seq as 8 bytes big-endian ‖ prev_hash ‖ canonical(event))`
//! where `prev_hash` is the previous event's hash (32 zero bytes before the first event, seq 1).
//! Editing, deleting, inserting or reordering rows therefore breaks a link that
//! [`verify_chain`] reports by sequence number. It does not stop someone who can write to the
//! database from recomputing the whole chain: that is what checkpoints kept off the box are for
//! ([`AuditCheckpoint`]).
//!
//! # What an event may hold
//!
//! Ids and fixed vocabulary only. An event says *who* (a user id and role), *did what* (an
//! [`AuditAction`]), *to what* (a subject type and id), *with what outcome*, *when*, plus a few
//! id-like details (counts, kinds, reason codes). Names, addresses, email addresses, message
//! text and any other free text never go into an event: the validation here rejects spaces and
//! `@`, so a name or an email address cannot be put in by mistake.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::error::FieldError;

/// Domain separation for the chain hash; a new canonical encoding gets a new tag.
pub const DOMAIN_TAG: &[u8] = b"candidate-shield/audit/v1";

/// The `prev_hash` of the first event (seq 1).
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// At most this many details per event.
pub const MAX_DETAILS: usize = 16;

const MAX_TOKEN: usize = 64;
const MAX_ID: usize = 128;

/// A lowercase snake_case word: `sign_in_failed`, `candidate`, `operator`.
fn token(value: &str, what: &str) -> Result<String, FieldError> {
    let ok = !value.is_empty()
        && value.len() <= MAX_TOKEN
        && value.starts_with(|c: char| c.is_ascii_lowercase())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(FieldError::new(format!(
            "invalid {what} {value:?}: expected a lowercase snake_case word of at most {MAX_TOKEN} characters"
        )))
    }
}

/// An id-like value: ASCII letters, digits and `-_.:` only, so no names, no spaces, no emails.
fn id_like(value: &str, what: &str) -> Result<String, FieldError> {
    let ok = !value.is_empty()
        && value.len() <= MAX_ID
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(FieldError::new(format!(
            "invalid {what}: expected an id of at most {MAX_ID} characters from A-Z a-z 0-9 - _ . :"
        )))
    }
}

/// What happened, as a stable snake_case word. The constants are the known actions; new ones
/// are added here so that every writer spells an action the same way.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AuditAction(Cow<'static, str>);

impl AuditAction {
    pub const SIGN_IN_SUCCEEDED: Self = Self(Cow::Borrowed("sign_in_succeeded"));
    pub const SIGN_IN_FAILED: Self = Self(Cow::Borrowed("sign_in_failed"));
    pub const SIGNED_OUT: Self = Self(Cow::Borrowed("signed_out"));
    pub const PERMISSION_DENIED: Self = Self(Cow::Borrowed("permission_denied"));
    pub const SENSITIVE_READ: Self = Self(Cow::Borrowed("sensitive_read"));
    pub const IMPORT_COMMITTED: Self = Self(Cow::Borrowed("import_committed"));
    /// An unacknowledged report's deadline passed and the next tier was told (the worker).
    pub const REPORT_ESCALATED: Self = Self(Cow::Borrowed("report_escalated"));

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        token(value, "audit action").map(|s| Self(Cow::Owned(s)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How the action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditOutcome {
    Success,
    Failure,
    /// Refused by the access policy.
    Denied,
}

impl AuditOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Denied => "denied",
        }
    }

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        match value {
            "success" => Ok(Self::Success),
            "failure" => Ok(Self::Failure),
            "denied" => Ok(Self::Denied),
            _ => Err(FieldError::new(format!(
                "invalid audit outcome {value:?}: expected success, failure or denied"
            ))),
        }
    }
}

impl fmt::Display for AuditOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who acted: a signed-in user's id and the role they acted in. Events with no signed-in user
/// (the command line, a failed sign-in for an unknown account) have no actor.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AuditActor {
    user_id: i64,
    role: String,
}

impl AuditActor {
    pub fn new(user_id: i64, role: &str) -> Result<Self, FieldError> {
        Ok(Self {
            user_id,
            role: token(role, "actor role")?,
        })
    }

    pub fn user_id(&self) -> i64 {
        self.user_id
    }

    pub fn role(&self) -> &str {
        &self.role
    }
}

/// What was acted on: a type (`candidate`, `report`, `import`) and its id (`42`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AuditSubject {
    kind: String,
    id: String,
}

impl AuditSubject {
    pub fn new(kind: &str, id: &str) -> Result<Self, FieldError> {
        Ok(Self {
            kind: token(kind, "subject type")?,
            id: id_like(id, "subject id")?,
        })
    }

    pub fn kind(&self) -> &str {
        &self.kind
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

/// One thing that happened. Built with [`AuditEvent::new`] and the `with_*` methods, each of
/// which validates what it is given; see the module documentation for what may go in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    action: AuditAction,
    outcome: AuditOutcome,
    at: DateTime<Utc>,
    actor: Option<AuditActor>,
    subject: Option<AuditSubject>,
    details: BTreeMap<String, String>,
}

impl AuditEvent {
    /// An event at `at`, kept to the millisecond (the precision it is stored with).
    pub fn new(action: AuditAction, outcome: AuditOutcome, at: DateTime<Utc>) -> Self {
        let at = DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at);
        Self {
            action,
            outcome,
            at,
            actor: None,
            subject: None,
            details: BTreeMap::new(),
        }
    }

    /// An event at `at_ms` milliseconds since the Unix epoch, as stored.
    pub fn from_millis(
        action: AuditAction,
        outcome: AuditOutcome,
        at_ms: i64,
    ) -> Result<Self, FieldError> {
        let at = DateTime::from_timestamp_millis(at_ms)
            .ok_or_else(|| FieldError::new(format!("audit time {at_ms} is out of range")))?;
        Ok(Self::new(action, outcome, at))
    }

    pub fn with_actor(mut self, actor: AuditActor) -> Self {
        self.actor = Some(actor);
        self
    }

    pub fn with_subject(mut self, subject: AuditSubject) -> Self {
        self.subject = Some(subject);
        self
    }

    /// Adds one detail: a snake_case key and an id-like value (a count, a kind, a reason code).
    pub fn with_detail(mut self, key: &str, value: &str) -> Result<Self, FieldError> {
        let key = token(key, "detail key")?;
        let value = id_like(value, "detail value")?;
        if !self.details.contains_key(&key) && self.details.len() >= MAX_DETAILS {
            return Err(FieldError::new(format!(
                "an audit event holds at most {MAX_DETAILS} details"
            )));
        }
        self.details.insert(key, value);
        Ok(self)
    }

    pub fn action(&self) -> &AuditAction {
        &self.action
    }

    pub fn outcome(&self) -> AuditOutcome {
        self.outcome
    }

    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }

    pub fn at_ms(&self) -> i64 {
        self.at.timestamp_millis()
    }

    pub fn actor(&self) -> Option<&AuditActor> {
        self.actor.as_ref()
    }

    pub fn subject(&self) -> Option<&AuditSubject> {
        self.subject.as_ref()
    }

    pub fn details(&self) -> &BTreeMap<String, String> {
        &self.details
    }

    /// The bytes the chain hash covers. Deterministic and unambiguous: fields in a fixed
    /// order, each string as a 4-byte big-endian length then its UTF-8 bytes, integers as
    /// 8 bytes big-endian, an optional field as a 0 or 1 byte then its parts, and the details
    /// as a 4-byte count then key/value pairs in key order.
    ///
    /// ```text
    /// str(action) ‖ str(outcome) ‖ i64(at_ms)
    /// ‖ 0 | 1 ‖ i64(actor.user_id) ‖ str(actor.role)
    /// ‖ 0 | 1 ‖ str(subject.type) ‖ str(subject.id)
    /// ‖ u32(count) ‖ (str(key) ‖ str(value))*
    /// ```
    pub fn canonical(&self) -> Vec<u8> {
        fn put_str(out: &mut Vec<u8>, s: &str) {
            // Every string is validated to at most 128 bytes, so the length always fits.
            out.extend_from_slice(&(s.len() as u32).to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        let mut out = Vec::with_capacity(128);
        put_str(&mut out, self.action.as_str());
        put_str(&mut out, self.outcome.as_str());
        out.extend_from_slice(&self.at_ms().to_be_bytes());
        match &self.actor {
            None => out.push(0),
            Some(a) => {
                out.push(1);
                out.extend_from_slice(&a.user_id.to_be_bytes());
                put_str(&mut out, &a.role);
            }
        }
        match &self.subject {
            None => out.push(0),
            Some(s) => {
                out.push(1);
                put_str(&mut out, &s.kind);
                put_str(&mut out, &s.id);
            }
        }
        out.extend_from_slice(&(self.details.len() as u32).to_be_bytes());
        for (k, v) in &self.details {
            put_str(&mut out, k);
            put_str(&mut out, v);
        }
        out
    }
}

/// `SHA-256(DOMAIN_TAG ‖ seq as 8 bytes big-endian ‖ prev_hash ‖ canonical(event))`.
pub fn chain_hash(seq: i64, prev_hash: &[u8; 32], event: &AuditEvent) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(DOMAIN_TAG);
    h.update(seq.to_be_bytes());
    h.update(prev_hash);
    h.update(event.canonical());
    h.finalize().into()
}

/// Lowercase hex, as hashes are shown and exported.
pub fn hash_hex(hash: &[u8; 32]) -> String {
    hex::encode(hash)
}

/// One row of the chain as read back from storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAuditRow {
    pub seq: i64,
    pub event: AuditEvent,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
}

/// The end of a chain that verified: how many rows, and the last one's seq and hash
/// (seq 0 and [`GENESIS_HASH`] for an empty chain).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedHead {
    pub count: u64,
    pub seq: i64,
    pub hash: [u8; 32],
}

/// The first place the chain is broken, and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("audit chain broken at seq {seq}: {reason}")]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: BreakReason,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BreakReason {
    /// The row's stored hash is not the hash of its contents: the row was edited, or (after a
    /// reorder) it carries another position's seq.
    #[error("the stored hash does not match the row's contents (row edited or moved)")]
    HashMismatch,
    /// The row does not link to the row before it: that row was replaced, or the chain was
    /// re-linked around a change.
    #[error("prev_hash does not match the hash of seq {previous} (an earlier row was replaced)")]
    PrevHashMismatch { previous: i64 },
    /// No row has this seq although a later one exists: the reported seq was deleted.
    #[error("the row is missing (the next row found is seq {next_found})")]
    Missing { next_found: i64 },
    /// Rows do not come in increasing seq order.
    #[error("seq does not follow seq {previous} (rows reordered or duplicated)")]
    OutOfOrder { previous: i64 },
    /// The head records more rows than there are: the end of the chain was cut off.
    #[error("the row is missing: the head records seq {head_seq} but the last row is seq {last}")]
    Truncated { head_seq: i64, last: i64 },
    /// Rows exist past the recorded head: they were added without going through the chain.
    #[error("the row is past the recorded head (seq {head_seq})")]
    BeyondHead { head_seq: i64 },
    /// The head's hash is not the last row's hash.
    #[error("the recorded head hash does not match this row's hash")]
    HeadHashMismatch,
    /// The single head row is gone.
    #[error("the recorded head (audit_head) is missing")]
    NoHead,
    /// The row could not be read back into an event at all.
    #[error("the row cannot be read: {0}")]
    Malformed(String),
}

/// Checks rows one at a time, in the order storage returns them (by seq), so a long chain can
/// be verified a page at a time. [`verify_chain`] is the whole-iterator form.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    count: u64,
    last_seq: i64,
    last_hash: [u8; 32],
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl ChainVerifier {
    pub fn new() -> Self {
        Self {
            count: 0,
            last_seq: 0,
            last_hash: GENESIS_HASH,
        }
    }

    fn position(&self, seq: i64) -> Result<(), ChainBreak> {
        let expected = self.last_seq + 1;
        if seq > expected {
            // Report the first missing seq: that is where the chain was cut.
            Err(ChainBreak {
                seq: expected,
                reason: BreakReason::Missing { next_found: seq },
            })
        } else if seq < expected {
            Err(ChainBreak {
                seq,
                reason: BreakReason::OutOfOrder {
                    previous: self.last_seq,
                },
            })
        } else {
            Ok(())
        }
    }

    /// Takes the next row; the first error is the first broken link.
    pub fn push(&mut self, row: &StoredAuditRow) -> Result<(), ChainBreak> {
        self.position(row.seq)?;
        if chain_hash(row.seq, &row.prev_hash, &row.event) != row.hash {
            return Err(ChainBreak {
                seq: row.seq,
                reason: BreakReason::HashMismatch,
            });
        }
        if row.prev_hash != self.last_hash {
            return Err(ChainBreak {
                seq: row.seq,
                reason: BreakReason::PrevHashMismatch {
                    previous: self.last_seq,
                },
            });
        }
        self.count += 1;
        self.last_seq = row.seq;
        self.last_hash = row.hash;
        Ok(())
    }

    /// Takes a row at `seq` that storage could not turn into a [`StoredAuditRow`]. Always a
    /// break; a missing or misplaced row before it is reported first.
    pub fn push_malformed(&mut self, seq: i64, why: impl Into<String>) -> ChainBreak {
        match self.position(seq) {
            Err(b) => b,
            Ok(()) => ChainBreak {
                seq,
                reason: BreakReason::Malformed(why.into()),
            },
        }
    }

    /// Where the rows seen so far end.
    pub fn head(&self) -> VerifiedHead {
        VerifiedHead {
            count: self.count,
            seq: self.last_seq,
            hash: self.last_hash,
        }
    }

    /// Compares the verified rows with the separately recorded head, which catches rows cut
    /// off the end (truncation) and rows added past it.
    pub fn check_head(
        &self,
        head_seq: i64,
        head_hash: &[u8; 32],
    ) -> Result<VerifiedHead, ChainBreak> {
        let head = self.head();
        if head_seq > head.seq {
            return Err(ChainBreak {
                seq: head.seq + 1,
                reason: BreakReason::Truncated {
                    head_seq,
                    last: head.seq,
                },
            });
        }
        if head_seq < head.seq {
            return Err(ChainBreak {
                seq: head_seq + 1,
                reason: BreakReason::BeyondHead { head_seq },
            });
        }
        if *head_hash != head.hash {
            return Err(ChainBreak {
                seq: head.seq,
                reason: BreakReason::HeadHashMismatch,
            });
        }
        Ok(head)
    }
}

/// Verifies rows given in storage order (by seq) and returns where the chain ends, or the
/// first broken link: an edited row (hash mismatch at its seq), a deleted row (the missing
/// seq), rows out of order (the first seq out of place), a replaced row (the next seq's
/// prev_hash mismatch). Rows cut off the end are only visible against a recorded head: see
/// [`ChainVerifier::check_head`].
pub fn verify_chain(
    rows: impl IntoIterator<Item = StoredAuditRow>,
) -> Result<VerifiedHead, ChainBreak> {
    let mut v = ChainVerifier::new();
    for row in rows {
        v.push(&row)?;
    }
    Ok(v.head())
}

/// A statement of where the chain stood, for keeping off the box: `shield audit
/// export-checkpoint` prints one as a JSON line. A later `verify` against it shows that the
/// chain up to `seq` has not been rewritten since, which the chain alone cannot show to someone
/// who does not trust the database's owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditCheckpoint {
    pub seq: i64,
    /// Lowercase hex of the head hash at `seq`.
    pub hash: String,
    /// When the checkpoint was taken.
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).unwrap()
    }

    fn event(i: i64) -> AuditEvent {
        AuditEvent::new(
            AuditAction::SENSITIVE_READ,
            AuditOutcome::Success,
            at(1_720_000_000_000 + i),
        )
        .with_actor(AuditActor::new(7, "police_contact").unwrap())
        .with_subject(AuditSubject::new("candidate", &i.to_string()).unwrap())
        .with_detail("field", "home_address")
        .unwrap()
    }

    fn chain(n: i64) -> Vec<StoredAuditRow> {
        let mut prev = GENESIS_HASH;
        (1..=n)
            .map(|seq| {
                let event = event(seq);
                let hash = chain_hash(seq, &prev, &event);
                let row = StoredAuditRow {
                    seq,
                    event,
                    prev_hash: prev,
                    hash,
                };
                prev = hash;
                row
            })
            .collect()
    }

    #[test]
    fn hash_is_pinned() {
        // The encoding is part of the stored data: changing it breaks every chain in existence.
        // (Checked against an independent implementation of the documented encoding.)
        let e = AuditEvent::from_millis(
            AuditAction::IMPORT_COMMITTED,
            AuditOutcome::Success,
            1_720_051_200_123,
        )
        .unwrap()
        .with_subject(AuditSubject::new("import", "candidates").unwrap())
        .with_detail("inserted", "4515")
        .unwrap();
        assert_eq!(
            hash_hex(&chain_hash(1, &GENESIS_HASH, &e)),
            "c32d61b74d7d77ae7ee34368e263046e3294a40eb0e6ffcf4ab651e867619ce7"
        );
    }

    #[test]
    fn canonical_bytes_are_unambiguous() {
        let base = AuditEvent::new(AuditAction::SIGN_IN_FAILED, AuditOutcome::Failure, at(5));
        let a = base.clone().with_detail("ab", "c").unwrap();
        let b = base.clone().with_detail("a", "bc").unwrap();
        assert_ne!(a.canonical(), b.canonical());
        let with_actor = base
            .clone()
            .with_actor(AuditActor::new(1, "admin").unwrap());
        assert_ne!(base.canonical(), with_actor.canonical());
        // Details are hashed in key order whatever order they were added in.
        let x = base
            .clone()
            .with_detail("a", "1")
            .unwrap()
            .with_detail("b", "2")
            .unwrap();
        let y = base
            .with_detail("b", "2")
            .unwrap()
            .with_detail("a", "1")
            .unwrap();
        assert_eq!(x.canonical(), y.canonical());
    }

    #[test]
    fn time_is_kept_to_the_millisecond() {
        let t = DateTime::from_timestamp(1_720_000_000, 123_456_789).unwrap();
        let e = AuditEvent::new(AuditAction::SIGNED_OUT, AuditOutcome::Success, t);
        assert_eq!(e.at_ms(), 1_720_000_000_123);
        assert_eq!(
            AuditEvent::from_millis(
                AuditAction::SIGNED_OUT,
                AuditOutcome::Success,
                1_720_000_000_123
            )
            .unwrap(),
            e
        );
        assert!(
            AuditEvent::from_millis(AuditAction::SIGNED_OUT, AuditOutcome::Success, i64::MAX)
                .is_err()
        );
    }

    #[test]
    fn free_text_is_rejected() {
        assert!(AuditAction::parse("Sign in").is_err());
        assert!(AuditAction::parse("sign_in_failed").is_ok());
        assert!(AuditAction::parse("").is_err());
        assert!(AuditActor::new(1, "Police Contact").is_err());
        assert!(AuditSubject::new("candidate", "Jane Smith").is_err());
        assert!(AuditSubject::new("candidate", "42").is_ok());
        let e = AuditEvent::new(AuditAction::SIGN_IN_FAILED, AuditOutcome::Failure, at(0));
        assert!(e.clone().with_detail("email", "jane@example.org").is_err());
        assert!(e.clone().with_detail("Reason", "x").is_err());
        assert!(e.clone().with_detail("reason", "line\nbreak").is_err());
        assert!(e.with_detail("reason", &"x".repeat(129)).is_err());
        assert!(AuditOutcome::parse("denied").is_ok());
        assert!(AuditOutcome::parse("maybe").is_err());
    }

    #[test]
    fn details_are_limited() {
        let mut e = AuditEvent::new(AuditAction::SENSITIVE_READ, AuditOutcome::Success, at(0));
        for i in 0..MAX_DETAILS {
            e = e.with_detail(&format!("k{i}"), "v").unwrap();
        }
        assert!(e.clone().with_detail("one_more", "v").is_err());
        // Replacing an existing key is not adding one.
        assert!(e.with_detail("k0", "w").is_ok());
    }

    #[test]
    fn intact_chain_verifies() {
        let head = verify_chain(chain(50)).unwrap();
        assert_eq!(head.count, 50);
        assert_eq!(head.seq, 50);
        assert_eq!(head.hash, chain(50)[49].hash);
        let empty = verify_chain(Vec::new()).unwrap();
        assert_eq!((empty.count, empty.seq, empty.hash), (0, 0, GENESIS_HASH));
    }

    #[test]
    fn edited_row_is_named() {
        let mut rows = chain(10);
        rows[3].event.action = AuditAction::SIGN_IN_SUCCEEDED;
        let err = verify_chain(rows).unwrap_err();
        assert_eq!(err.seq, 4);
        assert_eq!(err.reason, BreakReason::HashMismatch);
        assert_eq!(
            err.to_string(),
            "audit chain broken at seq 4: the stored hash does not match the row's contents (row edited or moved)"
        );
    }

    #[test]
    fn edited_row_with_recomputed_hash_breaks_the_next_link() {
        let mut rows = chain(10);
        rows[3].event.outcome = AuditOutcome::Denied;
        rows[3].hash = chain_hash(4, &rows[3].prev_hash, &rows[3].event);
        let err = verify_chain(rows).unwrap_err();
        assert_eq!(err.seq, 5);
        assert_eq!(err.reason, BreakReason::PrevHashMismatch { previous: 4 });
    }

    #[test]
    fn deleted_row_names_the_missing_seq() {
        let mut rows = chain(10);
        rows.remove(4);
        let err = verify_chain(rows).unwrap_err();
        assert_eq!(err.seq, 5);
        assert_eq!(err.reason, BreakReason::Missing { next_found: 6 });
        let mut rows = chain(3);
        rows.remove(0);
        assert_eq!(verify_chain(rows).unwrap_err().seq, 1);
    }

    #[test]
    fn deleted_and_renumbered_rows_break_the_link() {
        // Delete seq 5 and renumber the rest down, recomputing nothing: seq 5 (was 6) no
        // longer hashes to its stored hash.
        let mut rows = chain(10);
        rows.remove(4);
        for r in rows.iter_mut().skip(4) {
            r.seq -= 1;
        }
        let err = verify_chain(rows).unwrap_err();
        assert_eq!((err.seq, err.reason), (5, BreakReason::HashMismatch));
    }

    #[test]
    fn reordered_rows_are_detected() {
        // Returned out of order.
        let mut rows = chain(10);
        rows.swap(2, 6);
        // 1, 2, 7, …: seq 3 is where the order first goes wrong.
        let err = verify_chain(rows).unwrap_err();
        assert_eq!(
            (err.seq, err.reason),
            (3, BreakReason::Missing { next_found: 7 })
        );
        // 1, 2, 4, 3, 5 with seq 3 gone missing from its place: 4 comes first, so 3 is named.
        let mut rows = chain(5);
        rows.swap(2, 3);
        let err = verify_chain(rows).unwrap_err();
        assert_eq!(
            (err.seq, err.reason),
            (3, BreakReason::Missing { next_found: 4 })
        );
    }

    #[test]
    fn swapped_seq_values_are_detected() {
        // Two rows trade seq numbers, so storage returns them in the new order.
        let mut rows = chain(10);
        rows.swap(2, 6);
        rows[2].seq = 3;
        rows[6].seq = 7;
        let err = verify_chain(rows).unwrap_err();
        assert_eq!((err.seq, err.reason), (3, BreakReason::HashMismatch));
    }

    #[test]
    fn duplicated_seq_is_out_of_order() {
        let mut rows = chain(5);
        let dup = rows[2].clone();
        rows.insert(3, dup);
        let err = verify_chain(rows).unwrap_err();
        assert_eq!(
            (err.seq, err.reason),
            (3, BreakReason::OutOfOrder { previous: 3 })
        );
    }

    #[test]
    fn head_catches_truncation_and_rows_past_it() {
        let rows = chain(10);
        let mut v = ChainVerifier::new();
        for r in &rows[..9] {
            v.push(r).unwrap();
        }
        let err = v.check_head(10, &rows[9].hash).unwrap_err();
        assert_eq!(err.seq, 10);
        assert_eq!(
            err.reason,
            BreakReason::Truncated {
                head_seq: 10,
                last: 9
            }
        );
        let err = v.check_head(8, &rows[7].hash).unwrap_err();
        assert_eq!(
            (err.seq, err.reason),
            (9, BreakReason::BeyondHead { head_seq: 8 })
        );
        let err = v.check_head(9, &GENESIS_HASH).unwrap_err();
        assert_eq!((err.seq, err.reason), (9, BreakReason::HeadHashMismatch));
        assert_eq!(v.check_head(9, &rows[8].hash).unwrap().count, 9);
    }

    #[test]
    fn malformed_row_is_reported_after_earlier_gaps() {
        let rows = chain(3);
        let mut v = ChainVerifier::new();
        v.push(&rows[0]).unwrap();
        assert_eq!(v.clone().push_malformed(2, "bad action").seq, 2);
        let gap = v.push_malformed(4, "bad action");
        assert_eq!(
            (gap.seq, gap.reason),
            (2, BreakReason::Missing { next_found: 4 })
        );
    }

    #[test]
    fn checkpoint_is_a_json_line() {
        let cp = AuditCheckpoint {
            seq: 3,
            hash: hash_hex(&GENESIS_HASH),
            at: at(1_720_000_000_000),
        };
        let json = serde_json::to_string(&cp).unwrap();
        assert!(json.starts_with(r#"{"seq":3,"hash":"0000"#), "{json}");
        assert_eq!(serde_json::from_str::<AuditCheckpoint>(&json).unwrap(), cp);
    }
}
