//! Versioned field-encryption keys, loaded from a key file or an environment
//! value, never from the database.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand_core::{OsRng, RngCore as _};
use secrecy::{CloneableSecret, ExposeSecret as _, SecretBox};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{CryptoError, Result};

/// Length of every key in bytes (256 bits).
pub const KEY_LEN: usize = 32;

/// Key files larger than this are refused unread: they are not key files.
const MAX_KEY_FILE_BYTES: u64 = 1024 * 1024;

/// The raw bytes of one key. Wiped on drop (through [`SecretBox`]).
#[derive(Clone, Default)]
pub(crate) struct KeyBytes(pub(crate) [u8; KEY_LEN]);

impl Zeroize for KeyBytes {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl CloneableSecret for KeyBytes {}

type Key = SecretBox<KeyBytes>;

fn random_key() -> Key {
    // `OsRng::fill_bytes` panics if the OS generator fails; there is no safe
    // way to make a key without it.
    SecretBox::init_with_mut(|k: &mut KeyBytes| OsRng.fill_bytes(&mut k.0))
}

/// A set of versioned 256-bit keys, exactly one of which is *current*.
///
/// New values are always sealed with the current key; any key in the ring
/// can open values sealed with it. Versions are `u32` values from 1 upwards.
///
/// Key bytes live in [`SecretBox`]es, are wiped when the ring is dropped and
/// are never shown by `Debug`, which prints only the version numbers.
#[derive(Clone)]
pub struct KeyRing {
    keys: BTreeMap<u32, Key>,
    current: u32,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("current", &self.current)
            .field("versions", &self.versions())
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// A new ring holding one fresh random key, version 1, which is current.
    ///
    /// # Panics
    /// If the operating system's random number generator fails.
    #[must_use]
    pub fn generate() -> Self {
        let mut keys = BTreeMap::new();
        keys.insert(1, random_key());
        Self { keys, current: 1 }
    }

    /// The version new values are sealed with.
    #[must_use]
    pub fn current_version(&self) -> u32 {
        self.current
    }

    /// All versions held, in ascending order.
    #[must_use]
    pub fn versions(&self) -> Vec<u32> {
        self.keys.keys().copied().collect()
    }

    /// Whether the ring holds a key for `version`.
    #[must_use]
    pub fn contains(&self, version: u32) -> bool {
        self.keys.contains_key(&version)
    }

    pub(crate) fn key(&self, version: u32) -> Option<&[u8; KEY_LEN]> {
        self.keys.get(&version).map(|k| &k.expose_secret().0)
    }

    fn next_version(&self) -> u32 {
        let highest = self.keys.keys().next_back().copied().unwrap_or(0);
        highest
            .checked_add(1)
            .expect("key version u32::MAX is in use; no higher version can be added")
    }

    /// Adds a fresh random key with the next version (highest + 1), makes it
    /// current and returns its version. Older keys stay, so values sealed
    /// with them still open; [`reseal`](crate::reseal) moves them over.
    ///
    /// # Panics
    /// If the OS random number generator fails, or version `u32::MAX` is
    /// already in the ring (only possible with a hand-edited key file).
    pub fn add_new_version(&mut self) -> u32 {
        let version = self.stage_new_version();
        self.current = version;
        version
    }

    /// Adds a fresh random key with the next version *without* making it
    /// current, and returns its version.
    ///
    /// For deployments with several instances: distribute a ring holding the
    /// staged key to every instance first (so all of them can open values
    /// sealed with it), then [`set_current`](Self::set_current) it.
    ///
    /// # Panics
    /// As [`add_new_version`](Self::add_new_version).
    pub fn stage_new_version(&mut self) -> u32 {
        let version = self.next_version();
        self.keys.insert(version, random_key());
        version
    }

    /// Makes `version` the current key.
    ///
    /// # Errors
    /// [`CryptoError::KeyRing`] if the ring holds no such version.
    pub fn set_current(&mut self, version: u32) -> Result<()> {
        if !self.contains(version) {
            return Err(CryptoError::KeyRing(format!(
                "cannot make version {version} current: the ring has no such key"
            )));
        }
        self.current = version;
        Ok(())
    }

    /// Removes the key for `version` from the ring (wiping it from memory).
    ///
    /// **Only safe after every value sealed with `version` has been
    /// resealed** (run `shield keys rotate` and check that
    /// [`needs_rotation`](crate::needs_rotation) is false for every stored
    /// value, backups included). Any value still sealed with a retired key
    /// fails with [`CryptoError::UnknownKeyVersion`] until the key is
    /// restored from escrow. This cannot be checked here: the ring never
    /// sees the database.
    ///
    /// # Errors
    /// [`CryptoError::KeyRing`] if `version` is the current version or is
    /// not in the ring.
    pub fn retire(&mut self, version: u32) -> Result<()> {
        if version == self.current {
            return Err(CryptoError::KeyRing(format!(
                "refusing to retire version {version}: it is the current key; add or choose \
                 another current key and reseal everything first"
            )));
        }
        if self.keys.remove(&version).is_none() {
            return Err(CryptoError::KeyRing(format!(
                "cannot retire version {version}: the ring has no such key"
            )));
        }
        Ok(())
    }

    // ---------------------------------------------------------------- env

    /// Parses a key ring from an environment variable's value, e.g. the
    /// contents of `SHIELD_KEYS`:
    ///
    /// ```text
    /// current=2;1:<base64 key v1>;2:<base64 key v2>
    /// ```
    ///
    /// Entries are separated by `;` and may be surrounded by whitespace
    /// (including newlines); empty entries are ignored. Exactly one entry is
    /// `current=<N>`; every other entry is `<N>:<key>`, where `N` is a
    /// decimal version from 1 to 4294967295 and `key` is 32 bytes in
    /// standard base64 with padding (44 characters). Versions must be
    /// unique and `current` must name one of them.
    ///
    /// # Errors
    /// [`CryptoError::InvalidKeyEnv`], naming the entry number and what was
    /// expected but never echoing the entry's text.
    pub fn from_env_value(value: &str) -> Result<Self> {
        let invalid = |reason: String| CryptoError::InvalidKeyEnv { reason };
        let mut parsed = Parsed::default();
        let entries = value.split(';').map(str::trim).filter(|e| !e.is_empty());
        for (index, entry) in entries.enumerate() {
            let n = index + 1;
            let at = |reason: String| invalid(format!("entry {n}: {reason}"));
            if let Some((name, v)) = entry.split_once('=')
                && name.trim() == "current"
            {
                parsed.set_current(v.trim()).map_err(at)?;
            } else if let Some((version, key)) = entry.split_once(':') {
                parsed.insert(version.trim(), key.trim()).map_err(at)?;
            } else {
                return Err(at(
                    "expected `current=<N>` or `<N>:<base64 key>` (separate entries with `;`)"
                        .to_owned(),
                ));
            }
        }
        parsed.finish().map_err(invalid)
    }

    /// The ring in the [`from_env_value`](Self::from_env_value) format, for
    /// handing to a secret store. Treat the result as a secret.
    #[must_use]
    pub fn to_env_value(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(
            24 + self.keys.len() * (12 + 2 + KEY_LEN * 2),
        ));
        out.push_str("current=");
        out.push_str(&self.current.to_string());
        for (version, key) in &self.keys {
            out.push(';');
            out.push_str(&version.to_string());
            out.push(':');
            push_base64(&mut out, &key.expose_secret().0);
        }
        out
    }

    // ---------------------------------------------------------------- file

    /// Loads a key ring from a key file (format: see
    /// [`from_key_file_contents`](Self::from_key_file_contents)).
    ///
    /// On Unix the file must not be accessible by group or others
    /// (`mode & 0o077 == 0`, i.e. `chmod 600`); otherwise it is refused
    /// without being read. The check is made on the opened file, so it
    /// cannot be raced by swapping the path.
    ///
    /// # Errors
    /// [`CryptoError::KeyFileRead`], [`CryptoError::KeyFilePermissions`] or
    /// [`CryptoError::InvalidKeyFile`].
    pub fn from_key_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let read_err = |source: io::Error| CryptoError::KeyFileRead {
            path: path.to_path_buf(),
            source,
        };
        let invalid = |reason: &str| CryptoError::InvalidKeyFile {
            location: path.display().to_string(),
            reason: reason.to_owned(),
        };
        let file = File::open(path).map_err(read_err)?;
        let meta = file.metadata().map_err(read_err)?;
        if !meta.is_file() {
            return Err(invalid("not a regular file"));
        }
        check_permissions(path, &meta)?;
        if meta.len() > MAX_KEY_FILE_BYTES {
            return Err(invalid("larger than 1 MiB, so not a key file"));
        }
        // Sized up front so reading never reallocates and leaves copies.
        let capacity = usize::try_from(meta.len()).unwrap_or(0) + 1;
        let mut contents = Zeroizing::new(String::with_capacity(capacity));
        file.take(MAX_KEY_FILE_BYTES + 1)
            .read_to_string(&mut contents)
            .map_err(|e| {
                if e.kind() == io::ErrorKind::InvalidData {
                    invalid("not UTF-8 text")
                } else {
                    read_err(e)
                }
            })?;
        parse_key_file(&contents, &path.display().to_string())
    }

    /// Parses a key file's contents, for keys delivered some other way
    /// (e.g. a systemd credential read by the caller).
    ///
    /// The format is a small subset of TOML, one setting per line:
    ///
    /// ```text
    /// # Candidate Shield field-encryption keys. chmod 600.
    /// current = 2
    /// v1 = "<base64 key>"
    /// v2 = "<base64 key>"
    /// ```
    ///
    /// Blank lines and `#` comments (whole-line or trailing) are ignored.
    /// `current = <N>` names the current version; `v<N> = "<key>"` defines
    /// version `N` (decimal, 1 to 4294967295), where `key` is 32 bytes in
    /// standard base64 with padding; the quotes may be omitted. Versions must
    /// be unique, and `current` must appear once and name one of them.
    ///
    /// # Errors
    /// [`CryptoError::InvalidKeyFile`], naming the line and what was expected
    /// but never echoing the line's text.
    pub fn from_key_file_contents(contents: &str) -> Result<Self> {
        parse_key_file(contents, "<key file>")
    }

    /// The ring in the key file format. Treat the result as a secret.
    #[must_use]
    pub fn to_key_file_contents(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(
            512 + self.keys.len() * (16 + KEY_LEN * 3),
        ));
        out.push_str(
            "# Candidate Shield field-encryption key ring.\n\
             # Keep this file mode 0600, owned by the service user, and never in the\n\
             # database or its backups. Escrow a copy: without it, data sealed with these\n\
             # keys cannot be read.\n",
        );
        out.push_str("current = ");
        out.push_str(&self.current.to_string());
        out.push('\n');
        for (version, key) in &self.keys {
            out.push('v');
            out.push_str(&version.to_string());
            out.push_str(" = \"");
            push_base64(&mut out, &key.expose_secret().0);
            out.push_str("\"\n");
        }
        out
    }

    /// Writes the ring to `path` atomically with mode 0600: the contents go
    /// to a new temporary file in the same directory (created 0600, so never
    /// readable by others even briefly), which is fsynced and renamed over
    /// `path`; then the directory is fsynced. A crash leaves either the old
    /// file or the new one, never a mix.
    ///
    /// # Errors
    /// [`CryptoError::KeyFileWrite`] on any I/O failure (the temporary file
    /// is removed).
    pub fn write_key_file(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let write_err = |source: io::Error| CryptoError::KeyFileWrite {
            path: path.to_path_buf(),
            source,
        };
        let file_name = path.file_name().ok_or_else(|| {
            write_err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the path has no file name",
            ))
        })?;
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut suffix = [0u8; 8];
        OsRng
            .try_fill_bytes(&mut suffix)
            .map_err(|e| write_err(io::Error::other(e.to_string())))?;
        let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
        let tmp = dir.join(format!(".{}.{suffix}.tmp", file_name.to_string_lossy()));
        let contents = self.to_key_file_contents();

        let result = write_then_rename(&tmp, path, &dir, contents.as_bytes());
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.map_err(write_err)
    }
}

fn write_then_rename(tmp: &Path, path: &Path, dir: &Path, contents: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(tmp)?;
    #[cfg(unix)]
    {
        // The umask can only clear bits; set 0600 exactly regardless.
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(contents)?;
    file.sync_all()?;
    drop(file);
    fs::rename(tmp, path)?;
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(unix)]
fn check_permissions(path: &Path, meta: &fs::Metadata) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(CryptoError::KeyFilePermissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_path: &Path, _meta: &fs::Metadata) -> Result<()> {
    Ok(())
}

fn push_base64(out: &mut String, key: &[u8; KEY_LEN]) {
    // Encode into a wiped stack buffer, then append (capacity is reserved
    // by the callers, so the String does not reallocate).
    let mut buf = Zeroizing::new([0u8; 48]);
    let n = STANDARD
        .encode_slice(key, &mut buf[..])
        .expect("48 bytes hold the base64 of 32");
    // Base64 output is ASCII.
    out.extend(buf[..n].iter().map(|&b| char::from(b)));
}

fn parse_key_file(contents: &str, location: &str) -> Result<KeyRing> {
    let mut parsed = Parsed::default();
    for (index, raw) in contents.lines().enumerate() {
        let n = index + 1;
        let at = |reason: String| CryptoError::InvalidKeyFile {
            location: format!("{location}, line {n}"),
            reason,
        };
        // Base64 never contains `#`, so cutting at it is safe for keys too.
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            return Err(at(
                "expected `current = <N>` or `v<N> = \"<base64 key>\"`".to_owned()
            ));
        };
        let (name, value) = (name.trim(), value.trim());
        if name == "current" {
            parsed.set_current(value).map_err(at)?;
        } else if let Some(version) = name.strip_prefix('v') {
            let key = unquote(value).map_err(at)?;
            parsed.insert(version, key).map_err(at)?;
        } else {
            return Err(at(
                "unknown setting; expected `current = <N>` or `v<N> = \"<base64 key>\"`".to_owned(),
            ));
        }
    }
    parsed
        .finish()
        .map_err(|reason| CryptoError::InvalidKeyFile {
            location: location.to_owned(),
            reason,
        })
}

fn unquote(value: &str) -> Result<&str, String> {
    match value.strip_prefix('"') {
        None => Ok(value),
        Some(rest) => rest
            .strip_suffix('"')
            .filter(|inner| !inner.contains('"'))
            .ok_or_else(|| "unterminated or malformed quoted key".to_owned()),
    }
}

/// Keys and `current` collected while parsing, checked by `finish`.
/// Reasons never contain key text.
#[derive(Default)]
struct Parsed {
    keys: BTreeMap<u32, Key>,
    current: Option<u32>,
}

impl Parsed {
    fn set_current(&mut self, value: &str) -> Result<(), String> {
        let version = parse_version(value).map_err(|r| format!("`current`: {r}"))?;
        if self.current.replace(version).is_some() {
            return Err("`current` is given more than once".to_owned());
        }
        Ok(())
    }

    fn insert(&mut self, version: &str, key: &str) -> Result<(), String> {
        let version = parse_version(version)?;
        let key = decode_key(key).map_err(|r| format!("key version {version}: {r}"))?;
        if self.keys.insert(version, key).is_some() {
            return Err(format!("key version {version} is defined more than once"));
        }
        Ok(())
    }

    fn finish(self) -> Result<KeyRing, String> {
        if self.keys.is_empty() {
            return Err("no keys are defined".to_owned());
        }
        let Some(current) = self.current else {
            return Err("`current` (the version to seal new values with) is missing".to_owned());
        };
        if !self.keys.contains_key(&current) {
            return Err(format!(
                "`current` is {current}, but no key with that version is defined"
            ));
        }
        Ok(KeyRing {
            keys: self.keys,
            current,
        })
    }
}

fn parse_version(text: &str) -> Result<u32, String> {
    const EXPECTED: &str = "a key version must be a decimal number from 1 to 4294967295";
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EXPECTED.to_owned());
    }
    match text.parse::<u32>() {
        Ok(0) | Err(_) => Err(EXPECTED.to_owned()),
        Ok(v) => Ok(v),
    }
}

fn decode_key(text: &str) -> Result<Key, String> {
    let wrong_len = || {
        format!(
            "the key must be {KEY_LEN} bytes (256 bits) in standard base64 with padding \
             ({} characters)",
            KEY_LEN.div_ceil(3) * 4
        )
    };
    if text.is_empty() {
        return Err("the key is empty".to_owned());
    }
    // Decode into a wiped stack buffer so no heap copy of the key is left.
    let mut buf = Zeroizing::new([0u8; 48]);
    let n = STANDARD
        .decode_slice(text, &mut buf[..])
        .map_err(|e| match e {
            base64::DecodeSliceError::OutputSliceTooSmall => wrong_len(),
            // Deliberately not `{e}`: it would quote the offending character.
            base64::DecodeSliceError::DecodeError(_) => {
                "the key is not valid standard base64 (A-Z a-z 0-9 + /, `=` padding)".to_owned()
            }
        })?;
    if n != KEY_LEN {
        return Err(wrong_len());
    }
    Ok(SecretBox::init_with_mut(|k: &mut KeyBytes| {
        k.0.copy_from_slice(&buf[..KEY_LEN]);
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_parsing_is_strict() {
        assert_eq!(parse_version("1"), Ok(1));
        assert_eq!(parse_version("4294967295"), Ok(u32::MAX));
        for bad in ["", "0", "+1", "-1", "1.0", "4294967296", " 1", "v1", "x"] {
            assert!(parse_version(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn key_decoding_checks_length_and_alphabet() {
        let good = STANDARD.encode([7u8; KEY_LEN]);
        assert_eq!(decode_key(&good).unwrap().expose_secret().0, [7u8; KEY_LEN]);
        assert!(decode_key(&STANDARD.encode([7u8; 31])).is_err());
        assert!(decode_key(&STANDARD.encode([7u8; 33])).is_err());
        assert!(decode_key(&STANDARD.encode([7u8; 200])).is_err());
        assert!(decode_key(&good.replace('=', "")).is_err());
        assert!(decode_key("!!!!").is_err());
        assert!(decode_key("").is_err());
    }

    #[test]
    fn base64_writer_matches_standard_engine() {
        let key = [0xA5u8; KEY_LEN];
        let mut s = String::new();
        push_base64(&mut s, &key);
        assert_eq!(s, STANDARD.encode(key));
    }
}
