//! The passkey contract: enrolment with a passkey, adding, finding, using and removing one,
//! the same on SQLite and PostgreSQL.

use chrono::DateTime;
use shield_domain::audit::{AuditAction, AuditEvent, AuditOutcome};
use shield_domain::{ForceCode, Role, UserId};
use shield_store::accounts::{NewInvitation, NewUser, UserStatus};
use shield_store::passkeys::NewPasskey;
use shield_store::{AuditVerification, Store, StoreError};
use shield_testkit::{TestDb, both_backends};

both_backends!(
    enrol_with_a_passkey_then_use_and_remove_it,
    a_used_invitation_or_a_taken_credential_writes_nothing,
    session_state_is_taken_once,
);

const T0: i64 = 1_720_000_000_000;

fn event(action: &str) -> AuditEvent {
    AuditEvent::new(
        AuditAction::parse(action).unwrap(),
        AuditOutcome::Success,
        DateTime::from_timestamp_millis(T0).unwrap(),
    )
}

async fn invited(store: &dyn Store, email: &str, token: u8) -> (UserId, i64) {
    let user = NewUser {
        role: Role::Coordinator,
        display_name: "Pat Example".into(),
        email: email.into(),
        candidate_id: None,
        forces: Vec::<ForceCode>::new(),
    };
    let invitation = NewInvitation {
        token_hash: [token; 32],
        expires_at_ms: T0 + 86_400_000,
        created_by: None,
    };
    store
        .invite(&user, &invitation, T0, &event("user_invited"), None)
        .await
        .unwrap()
}

fn key(cred: &[u8]) -> NewPasskey {
    NewPasskey {
        credential_id: cred.to_vec(),
        passkey: format!("{{\"cred\":{cred:?}}}"),
        name: "Passkey".into(),
    }
}

async fn audit_len(store: &dyn Store) -> i64 {
    assert!(matches!(
        store.verify_audit().await.unwrap(),
        AuditVerification::Intact(_)
    ));
    store.audit_events(0, 10_000).await.unwrap().len() as i64
}

async fn enrol_with_a_passkey_then_use_and_remove_it(db: TestDb) {
    let store = db.store.as_ref();
    let (user, invitation) = invited(store, "pat@example.org", 1).await;
    let before = audit_len(store).await;
    store
        .complete_passkey_enrolment(
            invitation,
            user,
            &key(b"cred-1"),
            T0 + 1,
            &[event("enrolment_completed"), event("passkey_added")],
        )
        .await
        .unwrap();
    assert_eq!(audit_len(store).await, before + 2);
    let auth = store.user_auth(user).await.unwrap().unwrap();
    assert_eq!(auth.status, UserStatus::Active);
    assert_eq!(auth.passkeys, 1);
    assert!(auth.password_phc.is_none() && !auth.has_totp);
    assert!(
        store
            .invitation_by_token(&[1; 32])
            .await
            .unwrap()
            .unwrap()
            .used
    );

    // A second passkey on the active account.
    let second = store
        .add_passkey(user, &key(b"cred-2"), T0 + 2, &event("passkey_added"), None)
        .await
        .unwrap();
    let all = store.passkeys(user).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].credential_id, b"cred-1");
    assert_eq!(all[1].id, second);

    // Found by credential id; a use records the time and the updated credential.
    let found = store
        .passkey_by_credential_id(b"cred-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.user_id, found.last_used_at_ms), (user, None));
    store
        .passkey_used(found.id, Some("{\"updated\":1}"), T0 + 3)
        .await
        .unwrap();
    let found = store
        .passkey_by_credential_id(b"cred-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.last_used_at_ms, Some(T0 + 3));
    assert_eq!(found.passkey, "{\"updated\":1}");
    // Without an update the credential stays as it was.
    store.passkey_used(found.id, None, T0 + 4).await.unwrap();
    let found = store
        .passkey_by_credential_id(b"cred-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.last_used_at_ms, found.passkey.as_str()),
        (Some(T0 + 4), "{\"updated\":1}")
    );
    assert!(
        store
            .passkey_by_credential_id(b"nope")
            .await
            .unwrap()
            .is_none()
    );

    // Removing: only one's own, audited, and the account holder's notice queued with it (a
    // refused removal queues nothing).
    let notice = shield_store::NewOutboxMessage::email(
        &shield_domain::Email::parse("notify@example.org").unwrap(),
        "credential_changed",
        shield_store::OutboxParams::new()
            .with_id("change", "passkey_removed")
            .unwrap(),
    )
    .unwrap();
    let (other, _) = invited(store, "sam@example.org", 2).await;
    let queued_after_invite = store.outbox_counts().await.unwrap().pending;
    assert!(
        !store
            .remove_passkey(
                other,
                second,
                T0 + 3,
                &event("passkey_removed"),
                Some(&notice)
            )
            .await
            .unwrap()
    );
    assert_eq!(
        store.outbox_counts().await.unwrap().pending,
        queued_after_invite
    );
    let before = audit_len(store).await;
    assert!(
        store
            .remove_passkey(
                user,
                second,
                T0 + 3,
                &event("passkey_removed"),
                Some(&notice)
            )
            .await
            .unwrap()
    );
    assert_eq!(audit_len(store).await, before + 1);
    assert_eq!(
        store.outbox_counts().await.unwrap().pending,
        queued_after_invite + 1
    );
    assert_eq!(store.passkeys(user).await.unwrap().len(), 1);
}

async fn a_used_invitation_or_a_taken_credential_writes_nothing(db: TestDb) {
    let store = db.store.as_ref();
    let (user, invitation) = invited(store, "pat@example.org", 1).await;
    store
        .complete_passkey_enrolment(
            invitation,
            user,
            &key(b"cred-1"),
            T0 + 1,
            &[event("enrolment_completed")],
        )
        .await
        .unwrap();
    let before = audit_len(store).await;
    let again = store
        .complete_passkey_enrolment(
            invitation,
            user,
            &key(b"cred-9"),
            T0 + 2,
            &[event("enrolment_completed")],
        )
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert!(
        store
            .passkey_by_credential_id(b"cred-9")
            .await
            .unwrap()
            .is_none()
    );

    // Someone else's credential id cannot be claimed, at enrolment or later.
    let (other, other_invitation) = invited(store, "sam@example.org", 2).await;
    let before_other = audit_len(store).await;
    assert_eq!(before_other, before + 1);
    let taken = store
        .complete_passkey_enrolment(
            other_invitation,
            other,
            &key(b"cred-1"),
            T0 + 3,
            &[event("enrolment_completed")],
        )
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    assert_eq!(
        store.user_auth(other).await.unwrap().unwrap().status,
        UserStatus::Invited
    );
    assert!(
        !store
            .invitation_by_token(&[2; 32])
            .await
            .unwrap()
            .unwrap()
            .used
    );
    assert_eq!(audit_len(store).await, before_other);
    // An invited (not yet active) account cannot be given a passkey outside enrolment.
    let inactive = store
        .add_passkey(
            other,
            &key(b"cred-3"),
            T0 + 4,
            &event("passkey_added"),
            None,
        )
        .await;
    assert!(
        matches!(inactive, Err(StoreError::Conflict(_))),
        "{inactive:?}"
    );
    assert_eq!(
        store
            .passkey_by_credential_id(b"cred-1")
            .await
            .unwrap()
            .unwrap()
            .user_id,
        user
    );
}

async fn session_state_is_taken_once(db: TestDb) {
    let store = db.store.as_ref();
    let session = shield_store::accounts::SessionRecord {
        token_hash: vec![7; 32],
        user_id: None,
        pending_user_id: None,
        csrf_token: "csrf".into(),
        created_at_ms: T0,
        last_seen_ms: T0,
        authenticated_at_ms: None,
        expires_at_ms: T0 + 1000,
        state: None,
    };
    store.create_session(&session).await.unwrap();
    assert!(
        !store.take_session_state(&[7; 32], "{}").await.unwrap(),
        "nothing to take"
    );
    store
        .set_session_state(&[7; 32], Some("{\"a\":1}"))
        .await
        .unwrap();
    assert!(
        !store
            .take_session_state(&[7; 32], "{\"a\":2}")
            .await
            .unwrap(),
        "another state"
    );
    assert!(
        store
            .take_session_state(&[7; 32], "{\"a\":1}")
            .await
            .unwrap()
    );
    assert!(
        !store
            .take_session_state(&[7; 32], "{\"a\":1}")
            .await
            .unwrap(),
        "only once"
    );
    assert_eq!(store.session(&[7; 32]).await.unwrap().unwrap().state, None);
}
