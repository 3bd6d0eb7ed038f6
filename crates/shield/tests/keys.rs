//! Key rotation: every sealed value is re-encrypted under the new key version, and stays
//! readable; a database dump alone decrypts nothing.

mod common;

use std::sync::Arc;

use common::{Client, enrol_with_password};
use shield_crypto::KeyRing;
use shield_domain::ManualClock;
use shield_testkit::{TestDb, both_backends};
use shield_web::AppState;

both_backends!(rotation_reseals_every_value_and_old_and_new_keys_read_it);

async fn rotation_reseals_every_value_and_old_and_new_keys_read_it(db: TestDb) {
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("keys.toml");
    KeyRing::generate().write_key_file(&key_file).unwrap();
    let keys = KeyRing::from_key_file(&key_file).unwrap();
    let clock = ManualClock::at(chrono::Utc::now().timestamp_millis());
    let state = AppState::with(db.store.clone(), Arc::new(clock.clone()), Arc::new(keys));
    let people = shield::demo::invite_people(&state).await.unwrap();
    let mut client = Client::new(state.clone());
    enrol_with_password(&mut client, &people[0].link_path).await;
    let page = client.get("/details").await;
    let address = "3 Rotation Mews, Kingsmead";
    client
        .post(
            "/details",
            &[("csrf", &page.csrf()), ("home_address", address)],
        )
        .await;

    // A dump holds no address, and the same dump with another key ring opens nothing.
    let before = db.store.sealed_blobs().await.unwrap();
    assert!(
        before
            .iter()
            .all(|b| shield_crypto::blob_key_version(&b.value).unwrap() == 1)
    );
    let stranger = KeyRing::generate();
    for blob in &before {
        assert!(!String::from_utf8_lossy(&blob.value).contains("Rotation"));
        let aad = shield_crypto::Aad::new(blob.table, blob.column, &blob.row_id);
        assert!(shield_crypto::open(&stranger, aad, &blob.value).is_err());
    }

    // `shield keys rotate`, as the command runs it.
    let mut config = shield::config::Config::load_from(Default::default(), |_| None).unwrap();
    config.database_url = Some(db.url().to_owned().into());
    config.keys = shield::config::KeySource::File(key_file.clone());
    shield::keys::run(&config, shield::keys::KeysCommand::Rotate)
        .await
        .unwrap();

    let rotated = KeyRing::from_key_file(&key_file).unwrap();
    assert_eq!(rotated.versions(), vec![1, 2]);
    let after = db.store.sealed_blobs().await.unwrap();
    assert_eq!(after.len(), before.len());
    assert!(
        after
            .iter()
            .all(|b| shield_crypto::blob_key_version(&b.value).unwrap() == 2)
    );
    // Running it again changes nothing.
    assert_eq!(
        shield::keys::reseal_all(db.store.as_ref(), &rotated)
            .await
            .unwrap(),
        0
    );

    // The service with the rotated ring still signs the candidate in and shows the address.
    let state = AppState::with(db.store.clone(), Arc::new(clock.clone()), Arc::new(rotated));
    let mut client = Client {
        state,
        cookie: client.cookie.clone(),
        peer: client.peer,
    };
    assert!(client.get("/details").await.body.contains(address));
}
