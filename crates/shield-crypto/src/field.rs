//! Sealing and opening single database fields.

use chacha20poly1305::aead::AeadInPlace as _;
use chacha20poly1305::{Key, KeyInit as _, Tag, XChaCha20Poly1305, XNonce};
use rand_core::{OsRng, RngCore as _};
use zeroize::{Zeroize as _, Zeroizing};

use crate::error::{CryptoError, Result};
use crate::keyring::KeyRing;

/// The blob format this build writes (the first byte of every blob).
pub const FORMAT_VERSION: u8 = 1;
/// XChaCha20 nonce length: 192 bits, safe to pick at random.
pub const NONCE_LEN: usize = 24;
/// Poly1305 tag length.
pub const TAG_LEN: usize = 16;
/// Bytes before the ciphertext: format version, key version, nonce.
pub const HEADER_LEN: usize = 1 + 4 + NONCE_LEN;
/// The shortest well-formed blob (an empty plaintext).
pub const MIN_BLOB_LEN: usize = HEADER_LEN + TAG_LEN;
/// Every blob is exactly this many bytes longer than its plaintext.
pub const OVERHEAD: usize = MIN_BLOB_LEN;

/// Domain-separation label at the start of the associated data.
const AAD_LABEL: &[u8] = b"candidate-shield/field/v1";

/// Where a sealed value lives. Bound into the ciphertext as associated data,
/// so a value copied to another table, column or row fails to open.
///
/// `row_id` should be the row's stable primary key (as text), not anything
/// that changes when the row is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Aad<'a> {
    /// Table name, e.g. `"candidates"`.
    pub table: &'a str,
    /// Column name, e.g. `"home_address"`.
    pub column: &'a str,
    /// The row's primary key, as text.
    pub row_id: &'a str,
}

impl<'a> Aad<'a> {
    /// Shorthand for the struct literal.
    #[must_use]
    pub const fn new(table: &'a str, column: &'a str, row_id: &'a str) -> Self {
        Self {
            table,
            column,
            row_id,
        }
    }
}

/// The associated data actually authenticated by the AEAD:
///
/// ```text
/// label ‖ format (u8) ‖ key version (u32 BE)
///       ‖ len(table) (u64 BE) ‖ table ‖ len(column) (u64 BE) ‖ column
///       ‖ len(row_id) (u64 BE) ‖ row_id
/// ```
///
/// Every variable part is length-prefixed, so no two different
/// `(table, column, row_id)` triples give the same bytes.
fn associated_data(format: u8, key_version: u32, aad: Aad<'_>) -> Vec<u8> {
    let parts = [aad.table, aad.column, aad.row_id];
    let len = AAD_LABEL.len() + 1 + 4 + parts.iter().map(|p| 8 + p.len()).sum::<usize>();
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(AAD_LABEL);
    out.push(format);
    out.extend_from_slice(&key_version.to_be_bytes());
    for part in parts {
        out.extend_from_slice(&(part.len() as u64).to_be_bytes());
        out.extend_from_slice(part.as_bytes());
    }
    out
}

struct Header<'b> {
    key_version: u32,
    nonce: &'b [u8],
    ciphertext: &'b [u8],
    tag: &'b [u8],
}

fn parse(blob: &[u8]) -> Result<Header<'_>> {
    let too_short = || CryptoError::BlobTooShort {
        len: blob.len(),
        min: MIN_BLOB_LEN,
    };
    let (&format, rest) = blob.split_first().ok_or_else(too_short)?;
    if format != FORMAT_VERSION {
        return Err(CryptoError::UnsupportedFormat(format));
    }
    if blob.len() < MIN_BLOB_LEN {
        return Err(too_short());
    }
    let (version, rest) = rest.split_at(4);
    let (nonce, rest) = rest.split_at(NONCE_LEN);
    let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
    let key_version = u32::from_be_bytes([version[0], version[1], version[2], version[3]]);
    Ok(Header {
        key_version,
        nonce,
        ciphertext,
        tag,
    })
}

/// Seals `plaintext` for the field at `aad` with the ring's current key.
///
/// Blob layout: format version (1 byte, `1`) ‖ key version (u32 BE) ‖
/// nonce (24 random bytes) ‖ ciphertext ‖ Poly1305 tag (16 bytes); its
/// length is always `plaintext.len() + OVERHEAD`.
///
/// # Errors
/// [`CryptoError::Rng`] if the OS random number generator fails;
/// [`CryptoError::EncryptionFailed`] for plaintexts of about 256 GiB.
pub fn try_seal(keys: &KeyRing, aad: Aad<'_>, plaintext: &[u8]) -> Result<Vec<u8>> {
    let version = keys.current_version();
    let key = keys
        .key(version)
        .ok_or(CryptoError::UnknownKeyVersion(version))?;
    let cipher = XChaCha20Poly1305::new(Key::from_slice(key));

    let mut nonce = [0u8; NONCE_LEN];
    OsRng
        .try_fill_bytes(&mut nonce)
        .map_err(|_| CryptoError::Rng)?;

    let ad = associated_data(FORMAT_VERSION, version, aad);
    // Exact capacity: encrypting in place never reallocates, so no stray
    // copy of the plaintext is left in freed memory.
    let mut blob = Vec::with_capacity(plaintext.len().saturating_add(OVERHEAD));
    blob.push(FORMAT_VERSION);
    blob.extend_from_slice(&version.to_be_bytes());
    blob.extend_from_slice(&nonce);
    blob.extend_from_slice(plaintext);
    match cipher.encrypt_in_place_detached(XNonce::from_slice(&nonce), &ad, &mut blob[HEADER_LEN..])
    {
        Ok(tag) => {
            blob.extend_from_slice(&tag);
            Ok(blob)
        }
        Err(_) => {
            blob.zeroize();
            Err(CryptoError::EncryptionFailed)
        }
    }
}

/// Seals `plaintext` for the field at `aad` with the ring's current key.
/// See [`try_seal`] for the blob layout.
///
/// # Panics
/// If the operating system's random number generator fails, or the
/// plaintext is about 256 GiB or more. Use [`try_seal`] to get an error
/// instead.
#[must_use]
pub fn seal(keys: &KeyRing, aad: Aad<'_>, plaintext: &[u8]) -> Vec<u8> {
    match try_seal(keys, aad, plaintext) {
        Ok(blob) => blob,
        Err(e) => panic!("field encryption failed: {e}"),
    }
}

/// [`seal`] for text.
///
/// # Panics
/// As [`seal`].
#[must_use]
pub fn seal_str(keys: &KeyRing, aad: Aad<'_>, plaintext: &str) -> Vec<u8> {
    seal(keys, aad, plaintext.as_bytes())
}

/// Opens a blob made by [`seal`] for the same `aad`, with whichever key
/// version the blob names. The plaintext is wiped when dropped.
///
/// Never panics, whatever `blob` holds.
///
/// # Errors
/// - [`CryptoError::BlobTooShort`] / [`CryptoError::UnsupportedFormat`]:
///   not a blob from this crate;
/// - [`CryptoError::UnknownKeyVersion`]: the ring lacks the key the blob
///   was sealed with (load the old key);
/// - [`CryptoError::AuthenticationFailed`]: tampered, corrupted, or moved
///   to another table, column or row.
pub fn open(keys: &KeyRing, aad: Aad<'_>, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let header = parse(blob)?;
    let key = keys
        .key(header.key_version)
        .ok_or(CryptoError::UnknownKeyVersion(header.key_version))?;
    let cipher = XChaCha20Poly1305::new(Key::from_slice(key));
    let ad = associated_data(FORMAT_VERSION, header.key_version, aad);
    let mut plaintext = Zeroizing::new(header.ciphertext.to_vec());
    cipher
        .decrypt_in_place_detached(
            XNonce::from_slice(header.nonce),
            &ad,
            &mut plaintext,
            Tag::from_slice(header.tag),
        )
        .map_err(|_| CryptoError::AuthenticationFailed)?;
    Ok(plaintext)
}

/// [`open`] for values sealed with [`seal_str`].
///
/// # Errors
/// As [`open`], plus [`CryptoError::NotUtf8`].
pub fn open_string(keys: &KeyRing, aad: Aad<'_>, blob: &[u8]) -> Result<Zeroizing<String>> {
    let mut bytes = open(keys, aad, blob)?;
    match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(text) => Ok(Zeroizing::new(text)),
        Err(e) => {
            e.into_bytes().zeroize();
            Err(CryptoError::NotUtf8)
        }
    }
}

/// The key version a blob was sealed with, read from its header (without
/// decrypting or authenticating anything). Useful for counting values per
/// key version before retiring one.
///
/// # Errors
/// [`CryptoError::BlobTooShort`] / [`CryptoError::UnsupportedFormat`].
pub fn blob_key_version(blob: &[u8]) -> Result<u32> {
    parse(blob).map(|h| h.key_version)
}

/// Whether a rotation pass should [`reseal`] this blob: true when it was
/// sealed with a key version other than the ring's current one, and also
/// when it is not a well-formed blob of the current format (so a rotation
/// pass tries to reseal it and reports the error instead of skipping it).
#[must_use]
pub fn needs_rotation(keys: &KeyRing, blob: &[u8]) -> bool {
    blob_key_version(blob).map_or(true, |v| v != keys.current_version())
}

/// Opens `blob` (with whatever key version it names) and seals the
/// plaintext again with the current key and a fresh nonce, for the same
/// `aad`. The plaintext is wiped afterwards.
///
/// # Errors
/// As [`open`] and [`try_seal`].
pub fn reseal(keys: &KeyRing, aad: Aad<'_>, blob: &[u8]) -> Result<Vec<u8>> {
    let plaintext = open(keys, aad, blob)?;
    try_seal(keys, aad, &plaintext)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn associated_data_is_unambiguous() {
        let a = associated_data(1, 1, Aad::new("ab", "c", "1"));
        let b = associated_data(1, 1, Aad::new("a", "bc", "1"));
        let c = associated_data(1, 1, Aad::new("a", "b", "c1"));
        let d = associated_data(1, 2, Aad::new("ab", "c", "1"));
        assert_ne!(a, b);
        assert_ne!(b, c);
        assert_ne!(a, d);
    }

    #[test]
    fn overhead_is_constant() {
        let keys = KeyRing::generate();
        for len in [0, 1, 15, 16, 17, 100] {
            let blob = seal(&keys, Aad::new("t", "c", "r"), &vec![0u8; len]);
            assert_eq!(blob.len(), len + OVERHEAD);
        }
    }
}
