#![doc = include_str!("../README.md")]

mod error;
mod field;
mod index;
mod keyring;

pub use error::{CryptoError, Result};
pub use field::{
    Aad, FORMAT_VERSION, HEADER_LEN, MIN_BLOB_LEN, NONCE_LEN, OVERHEAD, TAG_LEN, blob_key_version,
    needs_rotation, open, open_string, reseal, seal, seal_str, try_seal,
};
pub use index::{INDEX_TOKEN_LEN, blind_index, blind_index_all};
pub use keyring::{KEY_LEN, KeyRing};
pub use zeroize::Zeroizing;
