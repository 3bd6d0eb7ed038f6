//! Sealing, opening, tampering, moving and rotating field values.

use std::collections::HashSet;

use proptest::prelude::*;
use shield_crypto::{
    Aad, CryptoError, FORMAT_VERSION, HEADER_LEN, KeyRing, MIN_BLOB_LEN, OVERHEAD,
    blob_key_version, needs_rotation, open, open_string, reseal, seal, seal_str, try_seal,
};

const ADDRESS: Aad<'static> = Aad::new("candidates", "home_address", "42");

#[test]
fn round_trip_bytes_and_text() {
    let keys = KeyRing::generate();
    let blob = seal(&keys, ADDRESS, b"1 Acacia Avenue, Anytown AB1 2CD");
    assert_eq!(
        open(&keys, ADDRESS, &blob).unwrap().as_slice(),
        b"1 Acacia Avenue, Anytown AB1 2CD"
    );

    let blob = seal_str(&keys, ADDRESS, "Flat 3, 10 Downing Street");
    assert_eq!(
        open_string(&keys, ADDRESS, &blob).unwrap().as_str(),
        "Flat 3, 10 Downing Street"
    );

    let empty = seal(&keys, ADDRESS, b"");
    assert_eq!(empty.len(), MIN_BLOB_LEN);
    assert!(open(&keys, ADDRESS, &empty).unwrap().is_empty());

    let blob = try_seal(&keys, ADDRESS, b"x").unwrap();
    assert_eq!(open(&keys, ADDRESS, &blob).unwrap().as_slice(), b"x");
}

#[test]
fn blob_layout_is_format_version_key_version_nonce_ciphertext_tag() {
    let keys = KeyRing::generate();
    let plaintext = b"secret";
    let blob = seal(&keys, ADDRESS, plaintext);
    assert_eq!(blob.len(), plaintext.len() + OVERHEAD);
    assert_eq!(blob[0], FORMAT_VERSION);
    assert_eq!(&blob[1..5], &1u32.to_be_bytes());
    assert_eq!(blob_key_version(&blob).unwrap(), 1);
    // The plaintext does not appear in the blob.
    assert!(!blob.windows(plaintext.len()).any(|w| w == plaintext));
}

#[test]
fn flipping_any_bit_of_a_blob_makes_it_fail() {
    let keys = KeyRing::generate();
    let blob = seal(&keys, ADDRESS, b"SW1A 1AA");
    for byte in 0..blob.len() {
        for bit in 0..8 {
            let mut tampered = blob.clone();
            tampered[byte] ^= 1 << bit;
            let result = open(&keys, ADDRESS, &tampered);
            assert!(result.is_err(), "flip of byte {byte} bit {bit} opened");
            // Past the header, the failure is always an authentication failure.
            if byte >= HEADER_LEN {
                assert!(matches!(result, Err(CryptoError::AuthenticationFailed)));
            }
        }
    }
}

#[test]
fn changing_the_key_version_to_another_present_key_fails_authentication() {
    let mut keys = KeyRing::generate();
    let blob = seal(&keys, ADDRESS, b"address");
    keys.add_new_version();
    let mut relabelled = blob.clone();
    relabelled[1..5].copy_from_slice(&2u32.to_be_bytes());
    assert!(matches!(
        open(&keys, ADDRESS, &relabelled),
        Err(CryptoError::AuthenticationFailed)
    ));
}

#[test]
fn a_ciphertext_moved_elsewhere_fails() {
    let keys = KeyRing::generate();
    let blob = seal(&keys, ADDRESS, b"1 Acacia Avenue");
    let elsewhere = [
        Aad::new("candidates", "home_address", "43"), // another row
        Aad::new("candidates", "home_address", "420"), // prefix of another row id
        Aad::new("candidates", "work_address", "42"), // another column
        Aad::new("contacts", "home_address", "42"),   // another table
        Aad::new("candidateshome_address", "", "42"), // parts re-split
        Aad::new("candidates", "home_address42", ""), // parts re-split
        Aad::new("candidates", "home_addres", "s42"), // parts re-split
        Aad::new("", "", ""),
    ];
    for aad in elsewhere {
        let result = open(&keys, aad, &blob);
        assert!(
            matches!(result, Err(CryptoError::AuthenticationFailed)),
            "opened under {aad:?}"
        );
    }
    assert!(open(&keys, ADDRESS, &blob).is_ok());
}

#[test]
fn a_different_key_ring_cannot_open() {
    let keys = KeyRing::generate();
    let other = KeyRing::generate();
    let blob = seal(&keys, ADDRESS, b"1 Acacia Avenue");
    assert!(matches!(
        open(&other, ADDRESS, &blob),
        Err(CryptoError::AuthenticationFailed)
    ));
}

#[test]
fn truncated_and_garbage_blobs_give_clean_errors() {
    let keys = KeyRing::generate();
    let blob = seal(&keys, ADDRESS, b"some plaintext of moderate length");

    // Every truncation.
    for len in 0..blob.len() {
        let result = open(&keys, ADDRESS, &blob[..len]);
        match len {
            0..MIN_BLOB_LEN => assert!(
                matches!(result, Err(CryptoError::BlobTooShort { .. })),
                "len {len}: {result:?}"
            ),
            _ => assert!(matches!(result, Err(CryptoError::AuthenticationFailed))),
        }
    }
    // Extended.
    let mut longer = blob.clone();
    longer.push(0);
    assert!(matches!(
        open(&keys, ADDRESS, &longer),
        Err(CryptoError::AuthenticationFailed)
    ));

    // Unknown format byte.
    assert!(matches!(
        open(&keys, ADDRESS, &[0u8; 64]),
        Err(CryptoError::UnsupportedFormat(0))
    ));
    assert!(matches!(
        open(&keys, ADDRESS, &[0xFF]),
        Err(CryptoError::UnsupportedFormat(0xFF))
    ));
    // Right format byte, wrong everything else.
    let mut garbage = vec![0xA5u8; 80];
    garbage[0] = FORMAT_VERSION;
    garbage[1..5].copy_from_slice(&1u32.to_be_bytes());
    assert!(matches!(
        open(&keys, ADDRESS, &garbage),
        Err(CryptoError::AuthenticationFailed)
    ));
    assert!(matches!(
        open_string(&keys, ADDRESS, b""),
        Err(CryptoError::BlobTooShort { len: 0, .. })
    ));
    assert!(blob_key_version(b"").is_err());
}

#[test]
fn bytes_that_are_not_utf8_are_refused_by_open_string() {
    let keys = KeyRing::generate();
    let blob = seal(&keys, ADDRESS, &[0xFF, 0xFE, 0x00]);
    assert!(matches!(
        open_string(&keys, ADDRESS, &blob),
        Err(CryptoError::NotUtf8)
    ));
}

#[test]
fn error_messages_reveal_nothing() {
    let keys = KeyRing::generate();
    let blob = seal_str(&keys, ADDRESS, "TOPSECRETADDRESS");
    let mut tampered = blob.clone();
    *tampered.last_mut().unwrap() ^= 1;
    let err = open(&keys, ADDRESS, &tampered).unwrap_err();
    let message = err.to_string();
    assert!(message.starts_with("authentication failed"), "{message}");
    assert!(!message.contains("TOPSECRET"));
    assert!(!format!("{err:?}").contains("TOPSECRET"));
}

#[test]
fn nonces_are_unique_and_ciphertexts_differ() {
    let keys = KeyRing::generate();
    let mut nonces = HashSet::new();
    let mut blobs = HashSet::new();
    for _ in 0..2000 {
        let blob = seal(&keys, ADDRESS, b"same plaintext every time");
        assert!(
            nonces.insert(blob[5..HEADER_LEN].to_vec()),
            "nonce repeated"
        );
        assert!(blobs.insert(blob), "ciphertext repeated");
    }
}

#[test]
fn rotation_keeps_old_blobs_readable_and_reseals_them() {
    let mut keys = KeyRing::generate();
    let old = seal_str(&keys, ADDRESS, "1 Acacia Avenue");
    assert!(!needs_rotation(&keys, &old));

    let v2 = keys.add_new_version();
    assert_eq!(v2, 2);
    assert_eq!(keys.current_version(), 2);
    assert!(needs_rotation(&keys, &old));
    assert_eq!(
        open_string(&keys, ADDRESS, &old).unwrap().as_str(),
        "1 Acacia Avenue"
    );

    let fresh = seal_str(&keys, ADDRESS, "new value");
    assert_eq!(blob_key_version(&fresh).unwrap(), 2);
    assert!(!needs_rotation(&keys, &fresh));

    let resealed = reseal(&keys, ADDRESS, &old).unwrap();
    assert_eq!(blob_key_version(&resealed).unwrap(), 2);
    assert!(!needs_rotation(&keys, &resealed));
    assert_eq!(
        open_string(&keys, ADDRESS, &resealed).unwrap().as_str(),
        "1 Acacia Avenue"
    );
    // Resealing needs the right AAD too.
    assert!(reseal(&keys, Aad::new("candidates", "home_address", "7"), &old).is_err());

    // Once everything is resealed, v1 can be retired; the resealed blob still
    // opens and any blob left behind reports the missing version.
    keys.retire(1).unwrap();
    assert_eq!(keys.versions(), vec![2]);
    assert!(open(&keys, ADDRESS, &resealed).is_ok());
    assert!(matches!(
        open(&keys, ADDRESS, &old),
        Err(CryptoError::UnknownKeyVersion(1))
    ));
}

#[test]
fn unknown_key_version_is_reported_as_such() {
    let keys = KeyRing::generate();
    let mut blob = seal(&keys, ADDRESS, b"x");
    blob[1..5].copy_from_slice(&7u32.to_be_bytes());
    let err = open(&keys, ADDRESS, &blob).unwrap_err();
    assert!(matches!(err, CryptoError::UnknownKeyVersion(7)));
    assert!(err.to_string().contains("unknown key version 7"), "{err}");
    assert!(needs_rotation(&keys, &blob));
}

#[test]
fn malformed_blobs_need_rotation_so_a_pass_reports_them() {
    let keys = KeyRing::generate();
    assert!(needs_rotation(&keys, b""));
    assert!(needs_rotation(&keys, &[0u8; 60]));
    assert!(reseal(&keys, ADDRESS, b"").is_err());
}

#[test]
fn retire_refuses_current_and_unknown_versions() {
    let mut keys = KeyRing::generate();
    assert!(matches!(keys.retire(1), Err(CryptoError::KeyRing(_))));
    assert!(matches!(keys.retire(9), Err(CryptoError::KeyRing(_))));
    keys.add_new_version();
    assert!(keys.retire(2).is_err());
    keys.retire(1).unwrap();
    assert_eq!(keys.versions(), vec![2]);
    // Versions are never reused after retirement of a lower one.
    assert_eq!(keys.add_new_version(), 3);
}

#[test]
fn staged_versions_open_but_do_not_seal_until_current() {
    let mut keys = KeyRing::generate();
    let staged = keys.stage_new_version();
    assert_eq!(staged, 2);
    assert_eq!(keys.current_version(), 1);
    let blob = seal(&keys, ADDRESS, b"x");
    assert_eq!(blob_key_version(&blob).unwrap(), 1);
    keys.set_current(2).unwrap();
    assert!(needs_rotation(&keys, &blob));
    assert!(keys.set_current(5).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn prop_round_trip(
        plaintext in proptest::collection::vec(any::<u8>(), 0..512),
        table in ".{0,16}",
        column in ".{0,16}",
        row_id in ".{0,24}",
    ) {
        let keys = KeyRing::generate();
        let aad = Aad::new(&table, &column, &row_id);
        let blob = seal(&keys, aad, &plaintext);
        prop_assert_eq!(blob.len(), plaintext.len() + OVERHEAD);
        let opened = open(&keys, aad, &blob).unwrap();
        prop_assert_eq!(opened.as_slice(), plaintext.as_slice());

        // Any different row id fails.
        let other_row = format!("{row_id}x");
        prop_assert!(open(&keys, Aad::new(&table, &column, &other_row), &blob).is_err());
    }

    #[test]
    fn prop_text_round_trip(text in ".{0,200}", row_id in "[0-9]{1,12}") {
        let keys = KeyRing::generate();
        let aad = Aad::new("threats", "details", &row_id);
        let blob = seal_str(&keys, aad, &text);
        let opened = open_string(&keys, aad, &blob).unwrap();
        prop_assert_eq!(opened.as_str(), text.as_str());
    }

    #[test]
    fn prop_arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
        let keys = KeyRing::generate();
        let _ = open(&keys, ADDRESS, &bytes);
        let _ = open_string(&keys, ADDRESS, &bytes);
        let _ = blob_key_version(&bytes);
        let _ = needs_rotation(&keys, &bytes);
        let _ = reseal(&keys, ADDRESS, &bytes);
    }
}
