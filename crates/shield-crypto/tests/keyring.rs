//! Loading, saving and printing key rings.

use std::fs;
use std::path::Path;

use shield_crypto::{Aad, CryptoError, KeyRing, open, seal};

const AAD: Aad<'static> = Aad::new("emergency_contacts", "phone", "9");
const K1: &str = "3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
const K2: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// Whether two rings hold the same keys: each opens the other's blobs.
fn same_keys(a: &KeyRing, b: &KeyRing) -> bool {
    a.versions() == b.versions()
        && a.current_version() == b.current_version()
        && a.versions().iter().all(|_| {
            let blob = seal(a, AAD, b"probe");
            open(b, AAD, &blob).is_ok()
        })
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn key_file_write_then_load_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.toml");
    let mut keys = KeyRing::generate();
    let old_blob = seal(&keys, AAD, b"07700 900123");
    keys.add_new_version();
    keys.write_key_file(&path).unwrap();

    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);
    // No temporary file is left behind.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);

    let loaded = KeyRing::from_key_file(&path).unwrap();
    assert_eq!(loaded.versions(), vec![1, 2]);
    assert_eq!(loaded.current_version(), 2);
    assert!(same_keys(&keys, &loaded));
    assert_eq!(
        open(&loaded, AAD, &old_blob).unwrap().as_slice(),
        b"07700 900123"
    );

    // Overwriting (as `shield keys rotate` does) replaces the file atomically.
    let mut rotated = loaded.clone();
    rotated.add_new_version();
    rotated.write_key_file(&path).unwrap();
    let reloaded = KeyRing::from_key_file(&path).unwrap();
    assert_eq!(reloaded.versions(), vec![1, 2, 3]);
    assert!(same_keys(&rotated, &reloaded));
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[cfg(unix)]
#[test]
fn overwriting_a_loose_file_leaves_it_0600() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys");
    fs::write(&path, "old").unwrap();
    set_mode(&path, 0o644);
    KeyRing::generate().write_key_file(&path).unwrap();
    assert_eq!(mode(&path), 0o600);
}

#[cfg(unix)]
#[test]
fn key_file_readable_by_others_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.toml");
    KeyRing::generate().write_key_file(&path).unwrap();
    for loose in [0o644, 0o640, 0o604, 0o660, 0o666, 0o601, 0o610] {
        set_mode(&path, loose);
        let err = KeyRing::from_key_file(&path).unwrap_err();
        assert!(
            matches!(err, CryptoError::KeyFilePermissions { mode, .. } if mode == loose),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains("chmod 600"), "{message}");
        assert!(message.contains(&format!("{loose:04o}")), "{message}");
    }
    for tight in [0o600, 0o400] {
        set_mode(&path, tight);
        assert!(KeyRing::from_key_file(&path).is_ok());
    }
}

#[test]
fn missing_key_file_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.toml");
    let err = KeyRing::from_key_file(&path).unwrap_err();
    assert!(matches!(err, CryptoError::KeyFileRead { .. }));
    assert!(err.to_string().contains("nope.toml"));
}

#[test]
fn key_file_format_parses() {
    let text = format!("# comment\n\ncurrent = 2   # the new one\nv1 = \"{K1}\"\n  v2={K2}  \n");
    let keys = KeyRing::from_key_file_contents(&text).unwrap();
    assert_eq!(keys.versions(), vec![1, 2]);
    assert_eq!(keys.current_version(), 2);

    // Its own output parses back to the same ring.
    let again = KeyRing::from_key_file_contents(&keys.to_key_file_contents()).unwrap();
    assert!(same_keys(&keys, &again));
}

#[test]
fn key_file_format_rejects_malformed_contents_without_echoing_them() {
    let cases: &[(&str, &str)] = &[
        ("", "no keys"),
        (&format!("v1 = \"{K1}\"\n"), "`current`"),
        (
            &format!("current = 2\nv1 = \"{K1}\"\n"),
            "no key with that version",
        ),
        (
            &format!("current = 1\ncurrent = 1\nv1 = \"{K1}\"\n"),
            "more than once",
        ),
        (
            &format!("current = 1\nv1 = \"{K1}\"\nv1 = \"{K2}\"\n"),
            "more than once",
        ),
        (&format!("current = 1\n{K1}\n"), "line 2"),
        (
            &format!("current = 1\nkey1 = \"{K1}\"\n"),
            "unknown setting",
        ),
        (
            &format!("current = 1\nv0 = \"{K1}\"\n"),
            "key version must be",
        ),
        (
            &format!("current = one\nv1 = \"{K1}\"\n"),
            "key version must be",
        ),
        (&format!("current = 1\nv1 = \"{K1}\n"), "quoted"),
        ("current = 1\nv1 = \"c2hvcnQ=\"\n", "32 bytes"),
        ("current = 1\nv1 = \"not base64 at all!!\"\n", "base64"),
    ];
    for (text, expected) in cases {
        let err = KeyRing::from_key_file_contents(text).unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(err, CryptoError::InvalidKeyFile { .. }),
            "{message}"
        );
        assert!(message.contains(expected), "{text:?} gave {message:?}");
        for secret in [K1, K2, "3q2+7w", "AAECAwQF", "not base64", "c2hvcnQ"] {
            assert!(!message.contains(secret), "{message:?} echoes key text");
        }
    }
}

#[test]
fn key_file_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    fs::write(&path, "current = 1\nv1 = \"short\"\n").unwrap();
    #[cfg(unix)]
    set_mode(&path, 0o600);
    let message = KeyRing::from_key_file(&path).unwrap_err().to_string();
    assert!(message.contains("bad.toml, line 2"), "{message}");
}

#[test]
fn env_format_parses() {
    let keys = KeyRing::from_env_value(&format!("current=2;1:{K1};2:{K2}")).unwrap();
    assert_eq!(keys.versions(), vec![1, 2]);
    assert_eq!(keys.current_version(), 2);

    // Order, whitespace and a trailing separator do not matter.
    let same = KeyRing::from_env_value(&format!(" 2 : {K2} ;\n 1:{K1};current = 2 ;")).unwrap();
    assert!(same_keys(&keys, &same));

    // Its own output parses back to the same ring.
    let again = KeyRing::from_env_value(&keys.to_env_value()).unwrap();
    assert!(same_keys(&keys, &again));

    // File and env forms of one ring are interchangeable.
    let from_file = KeyRing::from_key_file_contents(&keys.to_key_file_contents()).unwrap();
    assert!(same_keys(&from_file, &again));
}

#[test]
fn env_format_rejects_malformed_values_clearly() {
    let cases: &[(&str, &str)] = &[
        ("", "no keys"),
        ("   ;  ; ", "no keys"),
        (&format!("1:{K1}"), "`current`"),
        (&format!("current=3;1:{K1}"), "no key with that version"),
        (
            &format!("current=1;current=1;1:{K1}"),
            "entry 2: `current` is given more than once",
        ),
        (
            &format!("current=1;1:{K1};1:{K2}"),
            "entry 3: key version 1 is defined more than once",
        ),
        (&format!("current=1;{K1}"), "entry 2: expected"),
        (
            &format!("current=1;v1:{K1}"),
            "entry 2: a key version must be",
        ),
        (
            &format!("current=1;0:{K1}"),
            "entry 2: a key version must be",
        ),
        (
            &format!("current=1;-1:{K1}"),
            "entry 2: a key version must be",
        ),
        (
            &format!("current=1;4294967296:{K1}"),
            "a key version must be",
        ),
        (
            &format!("current=x;1:{K1}"),
            "entry 1: `current`: a key version must be",
        ),
        ("current=1;1:", "entry 2: key version 1: the key is empty"),
        (
            "current=1;1:c2hvcnQ=",
            "entry 2: key version 1: the key must be 32 bytes",
        ),
        (&format!("current=1;1:{}", &K1[..43]), "the key"),
        ("current=1;1:%%%%", "not valid standard base64"),
        (&format!("current=1,1:{K1}"), "entry 1"),
    ];
    for (value, expected) in cases {
        let err = KeyRing::from_env_value(value).unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(err, CryptoError::InvalidKeyEnv { .. }),
            "{message}"
        );
        assert!(message.contains(expected), "{value:?} gave {message:?}");
        assert!(message.contains("expected `current=<N>;<N>:<base64 key>;...`"));
        for secret in [K1, K2, "3q2+7w", "AAECAwQF", "c2hvcnQ", "%%%%"] {
            assert!(!message.contains(secret), "{message:?} echoes key text");
        }
    }
}

#[test]
fn debug_shows_versions_but_no_key_material() {
    let mut keys = KeyRing::from_env_value(&format!("current=1;1:{K1}")).unwrap();
    keys.add_new_version();
    let debug = format!("{keys:?}");
    let pretty = format!("{keys:#?}");
    assert!(debug.contains("current: 2"), "{debug}");
    assert!(debug.contains("[1, 2]"), "{debug}");
    let file = keys.to_key_file_contents();
    let b64_v2 = file
        .lines()
        .find_map(|l| l.strip_prefix("v2 = \""))
        .unwrap()
        .trim_end_matches('"')
        .to_owned();
    for text in [&debug, &pretty] {
        assert!(!text.contains(K1) && !text.contains("3q2+7w"), "{text}");
        assert!(!text.contains(&b64_v2[..8]), "{text}");
        // Nor the raw bytes of v1 (0xde, 0xad, 0xbe, 0xef ...) in any radix.
        assert!(!text.contains("222") && !text.contains("0xde") && !text.contains("de, ad"));
    }
}

#[test]
fn generated_rings_differ() {
    let a = KeyRing::generate();
    let b = KeyRing::generate();
    assert_ne!(a.to_env_value().as_str(), b.to_env_value().as_str());
    assert_eq!(a.versions(), vec![1]);
    assert_eq!(a.current_version(), 1);
}
