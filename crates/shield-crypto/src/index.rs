//! Blind indexes: a keyed hash of a value, so equal values can be found without storing them
//! in the clear (the same offender's handle across reports).
//!
//! `token = HMAC-SHA256(key_v, "shield-blind-index\0" || purpose || "\0" || value)`, truncated
//! to 16 bytes (enough to make accidental matches negligible, short enough to index cheaply).
//! Writers index under the current key; searchers compute a token for every key version in the
//! ring, so reports indexed before a rotation stay findable while the old key is held. A
//! retired key's tokens no longer match (re-indexing is not built yet).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::KeyRing;

/// Length of a token in bytes.
pub const INDEX_TOKEN_LEN: usize = 16;

fn token(key: &[u8], purpose: &str, value: &str) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"shield-blind-index\0");
    mac.update(purpose.as_bytes());
    mac.update(b"\0");
    mac.update(value.as_bytes());
    mac.finalize().into_bytes()[..INDEX_TOKEN_LEN].to_vec()
}

/// The token to store for `value`, under the current key.
#[must_use]
pub fn blind_index(keys: &KeyRing, purpose: &str, value: &str) -> Vec<u8> {
    let key = keys
        .key(keys.current_version())
        .expect("the current key is always in the ring");
    token(key, purpose, value)
}

/// The tokens to search for `value`: one per key version held.
#[must_use]
pub fn blind_index_all(keys: &KeyRing, purpose: &str, value: &str) -> Vec<Vec<u8>> {
    keys.versions()
        .into_iter()
        .filter_map(|v| keys.key(v).map(|k| token(k, purpose, value)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_value_same_token_different_purpose_or_key_differs() {
        let ring = KeyRing::generate();
        assert_eq!(
            blind_index(&ring, "offender", "troll_99"),
            blind_index(&ring, "offender", "troll_99")
        );
        assert_ne!(
            blind_index(&ring, "offender", "troll_99"),
            blind_index(&ring, "other", "troll_99")
        );
        assert_ne!(
            blind_index(&ring, "offender", "troll_99"),
            blind_index(&KeyRing::generate(), "offender", "troll_99")
        );
        let mut rotated = ring.clone();
        rotated.add_new_version();
        let old = blind_index(&ring, "offender", "troll_99");
        assert!(blind_index_all(&rotated, "offender", "troll_99").contains(&old));
        assert_eq!(old.len(), INDEX_TOKEN_LEN);
    }
}
