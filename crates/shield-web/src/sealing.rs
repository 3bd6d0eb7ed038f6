//! The store's [`Sealer`] over the key ring: the store inserts a row, then asks this to seal a
//! value for `(table, column, row id)`; the associated data binds all three and the key
//! version, so a value moved to another row or column fails to open.

use shield_crypto::{Aad, KeyRing};
use shield_store::Sealer;

#[derive(Debug)]
pub struct KeySealer<'a>(pub &'a KeyRing);

impl Sealer for KeySealer<'_> {
    fn seal(
        &self,
        table: &'static str,
        column: &'static str,
        row_id: i64,
        plaintext: &[u8],
    ) -> Vec<u8> {
        shield_crypto::seal(
            self.0,
            Aad::new(table, column, &row_id.to_string()),
            plaintext,
        )
    }

    fn open(
        &self,
        table: &'static str,
        column: &'static str,
        row_id: i64,
        sealed: &[u8],
    ) -> Option<Vec<u8>> {
        open_with(self.0, table, column, row_id, sealed)
    }
}

/// Opens what [`KeySealer`] or [`RingSealer`] sealed.
fn open_with(
    keys: &KeyRing,
    table: &'static str,
    column: &'static str,
    row_id: i64,
    sealed: &[u8],
) -> Option<Vec<u8>> {
    shield_crypto::open(keys, Aad::new(table, column, &row_id.to_string()), sealed)
        .ok()
        .map(|s| s.to_vec())
}

/// A [`Sealer`] that owns its key ring: for the worker, which raises check-in alarms (a
/// report whose details are sealed, built from the session's sealed place).
#[derive(Debug, Clone)]
pub struct RingSealer(pub std::sync::Arc<KeyRing>);

impl Sealer for RingSealer {
    fn seal(
        &self,
        table: &'static str,
        column: &'static str,
        row_id: i64,
        plaintext: &[u8],
    ) -> Vec<u8> {
        KeySealer(&self.0).seal(table, column, row_id, plaintext)
    }

    fn open(
        &self,
        table: &'static str,
        column: &'static str,
        row_id: i64,
        sealed: &[u8],
    ) -> Option<Vec<u8>> {
        open_with(&self.0, table, column, row_id, sealed)
    }
}
