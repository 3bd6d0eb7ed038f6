//! The crate's single error type.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong in `shield-crypto`.
///
/// No message ever contains plaintext, key bytes or any part of a key file
/// or environment value that could hold key material: parse errors name the
/// line or entry number and what was expected, never the offending text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The blob names a key version that this key ring does not hold.
    ///
    /// The data is probably fine: the operator must load the old key (from
    /// escrow) into the key ring to read it.
    #[error(
        "unknown key version {0}: this value was sealed with key version {0}, which is not in \
         the key ring; add that key (from escrow) to the key file or environment to read it"
    )]
    UnknownKeyVersion(u32),

    /// The AEAD tag did not verify: the blob was altered, truncated inside
    /// its ciphertext, or moved to another table, column or row.
    #[error(
        "authentication failed: the encrypted value was tampered with, corrupted, or moved to \
         another table, column or row"
    )]
    AuthenticationFailed,

    /// The blob is too short to hold a header, nonce and tag.
    #[error("malformed encrypted value: {len} bytes is shorter than the minimum of {min} bytes")]
    BlobTooShort {
        /// Length of the blob that was given.
        len: usize,
        /// Minimum length of a well-formed blob.
        min: usize,
    },

    /// The blob's first byte is not a format version this build understands.
    #[error("malformed encrypted value: unsupported format version {0}")]
    UnsupportedFormat(u8),

    /// The value decrypted and authenticated, but is not UTF-8 text
    /// (it was sealed with [`seal`](crate::seal), not [`seal_str`](crate::seal_str)).
    #[error("decrypted value is not valid UTF-8 text")]
    NotUtf8,

    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed")]
    Rng,

    /// Encryption failed (only possible for plaintexts of about 256 GiB).
    #[error("encryption failed: plaintext too long")]
    EncryptionFailed,

    /// The key file could not be opened or read.
    #[error("cannot read key file {}: {source}", path.display())]
    KeyFileRead {
        /// The key file's path.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },

    /// The key file could not be written.
    #[error("cannot write key file {}: {source}", path.display())]
    KeyFileWrite {
        /// The key file's path.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },

    /// The key file can be read or written by its group or by others.
    #[error(
        "refusing to load key file {}: its mode is {mode:04o}, so group or others can access it; \
         run `chmod 600 {}` (and make sure only the service user owns it)",
        path.display(),
        path.display()
    )]
    KeyFilePermissions {
        /// The key file's path.
        path: PathBuf,
        /// The file's permission bits.
        mode: u32,
    },

    /// The key file's contents are not in the expected format.
    #[error("invalid key file {location}: {reason}")]
    InvalidKeyFile {
        /// The file (and line, where known).
        location: String,
        /// What was wrong and what was expected. Never contains key text.
        reason: String,
    },

    /// The key ring environment value is not in the expected format.
    #[error(
        "invalid key ring environment value: {reason} (expected `current=<N>;<N>:<base64 key>;...`)"
    )]
    InvalidKeyEnv {
        /// What was wrong. Never contains key text.
        reason: String,
    },

    /// A key ring operation was refused (for example retiring the current
    /// version, or making an absent version current).
    #[error("key ring: {0}")]
    KeyRing(String),
}

/// Shorthand for results in this crate.
pub type Result<T, E = CryptoError> = std::result::Result<T, E>;
