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
}
