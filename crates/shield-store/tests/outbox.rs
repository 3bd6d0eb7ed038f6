//! The outbox contract: claiming, leases, fencing and retries behave the same on SQLite and
//! PostgreSQL.

use std::collections::HashSet;
use std::sync::Arc;

use shield_domain::Email;
use shield_store::{NewOutboxMessage, OutboxCounts, OutboxParams, OutboxStatus, OutboxStore};
use shield_testkit::{TestDb, both_backends};

both_backends!(
    enqueue_claim_and_mark_sent,
    rows_are_claimed_only_when_due,
    expired_lease_cannot_mark_sent_and_is_taken_over,
    retry_reschedules_and_give_up_fails,
    params_hold_ids_only,
    concurrent_claimers_never_share_a_row,
);

const T0: i64 = 1_720_000_000_000;
const LEASE: i64 = 60_000;

fn message(n: i64) -> NewOutboxMessage {
    let params = OutboxParams::new()
        .with_int("priority", 1)
        .unwrap()
        .with_id("ref", &format!("R-{n:05}"))
        .unwrap();
    NewOutboxMessage::email(
        &Email::parse("contact@police.example").unwrap(),
        "report_needs_attention",
        params,
    )
    .unwrap()
}

async fn enqueue_claim_and_mark_sent(db: TestDb) {
    let store = &db.store;
    let msg = message(1).with_secret(vec![0, 1, 2, 255]);
    let id = store.enqueue(&msg, T0).await.unwrap();
    assert_eq!(
        store.outbox_counts().await.unwrap(),
        OutboxCounts {
            pending: 1,
            oldest_pending_due_ms: Some(T0),
            ..OutboxCounts::default()
        }
    );

    let claimed = store.claim_due("w1", T0, LEASE, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let m = &claimed[0];
    assert_eq!(m.id, id);
    assert_eq!(m.message_id.len(), 32);
    assert!(m.message_id.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(m.to_address, "contact@police.example");
    assert_eq!(m.template, "report_needs_attention");
    assert_eq!(m.params, msg.params);
    assert_eq!(m.secret.as_deref(), Some(&[0u8, 1, 2, 255][..]));
    assert_eq!((m.attempts, m.created_at_ms, m.due_at_ms), (1, T0, T0));
    assert_eq!(m.lease_until_ms, T0 + LEASE);
    // Debug output of a claimed row names no address and no secret.
    let shown = format!("{m:?}");
    assert!(!shown.contains("police.example") && !shown.contains("255"));

    // Leased: nobody else gets it.
    assert!(
        store
            .claim_due("w2", T0 + 1, LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(!store.mark_sent(id, "w2", T0 + 1).await.unwrap());
    assert!(store.mark_sent(id, "w1", T0 + 2).await.unwrap());
    // Once sent, never again.
    assert!(!store.mark_sent(id, "w1", T0 + 3).await.unwrap());
    assert!(
        store
            .claim_due("w2", T0 + 10 * LEASE, LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let status = store.outbox_status(id).await.unwrap().unwrap();
    assert_eq!(status.status, OutboxStatus::Sent);
    assert_eq!(status.sent_at_ms, Some(T0 + 2));
    assert_eq!(status.attempts, 1);
    assert_eq!(status.message_id, m.message_id);
    assert!(store.outbox_status(id + 1000).await.unwrap().is_none());
    assert_eq!(
        store.outbox_counts().await.unwrap(),
        OutboxCounts {
            sent: 1,
            ..OutboxCounts::default()
        }
    );

    // Message ids differ from row to row.
    let other = store.enqueue(&message(2), T0).await.unwrap();
    let other = store.outbox_status(other).await.unwrap().unwrap();
    assert_ne!(other.message_id, status.message_id);
}

async fn rows_are_claimed_only_when_due(db: TestDb) {
    let store = &db.store;
    let later = store
        .enqueue(&message(1).due_at(T0 + 5_000), T0)
        .await
        .unwrap();
    let now = store.enqueue(&message(2), T0).await.unwrap();
    let first = store.claim_due("w1", T0, LEASE, 10).await.unwrap();
    assert_eq!(first.iter().map(|m| m.id).collect::<Vec<_>>(), [now]);
    assert!(
        store
            .claim_due("w1", T0 + 4_999, LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let second = store.claim_due("w1", T0 + 5_000, LEASE, 10).await.unwrap();
    assert_eq!(second.iter().map(|m| m.id).collect::<Vec<_>>(), [later]);

    // The limit is respected, oldest due first.
    for n in 0..5 {
        store
            .enqueue(&message(10 + n).due_at(T0 + 100 - n), T0)
            .await
            .unwrap();
    }
    let batch = store.claim_due("w2", T0 + 200, LEASE, 3).await.unwrap();
    let dues: Vec<i64> = batch.iter().map(|m| m.due_at_ms).collect();
    assert_eq!(dues, [T0 + 96, T0 + 97, T0 + 98]);
}

async fn expired_lease_cannot_mark_sent_and_is_taken_over(db: TestDb) {
    let store = &db.store;
    let id = store.enqueue(&message(1), T0).await.unwrap();
    let a = store.claim_due("worker-a", T0, LEASE, 10).await.unwrap();
    assert_eq!(a.len(), 1);

    // At the last millisecond of the lease it is still A's; one past, it is not.
    assert!(
        store
            .claim_due("worker-b", T0 + LEASE, LEASE, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let expired = T0 + LEASE + 1;
    assert!(!store.mark_sent(id, "worker-a", expired).await.unwrap());

    let b = store
        .claim_due("worker-b", expired, LEASE, 10)
        .await
        .unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].message_id, a[0].message_id, "the Message-ID is stable");
    assert_eq!(b[0].attempts, 2);
    // A, late, can neither close nor reschedule B's row.
    assert!(!store.mark_sent(id, "worker-a", expired + 1).await.unwrap());
    assert!(
        !store
            .mark_retry(id, "worker-a", "timeout", expired + 5, false)
            .await
            .unwrap()
    );
    assert!(store.mark_sent(id, "worker-b", expired + 2).await.unwrap());
    assert_eq!(
        store.outbox_status(id).await.unwrap().unwrap().status,
        OutboxStatus::Sent
    );
}

async fn retry_reschedules_and_give_up_fails(db: TestDb) {
    let store = &db.store;
    let id = store.enqueue(&message(1), T0).await.unwrap();
    store.claim_due("w", T0, LEASE, 1).await.unwrap();
    assert!(
        store
            .mark_retry(
                id,
                "w",
                "smtp_4xx: 451 <contact@police.example>",
                T0 + 7_000,
                false
            )
            .await
            .unwrap()
    );
    let s = store.outbox_status(id).await.unwrap().unwrap();
    assert_eq!(s.status, OutboxStatus::Pending);
    assert_eq!(s.due_at_ms, T0 + 7_000);
    assert_eq!(s.attempts, 1);
    // Only a short class is kept, never a reply's text or an address.
    assert_eq!(s.last_error.as_deref(), Some("smtp_4xx"));

    // Released at once (no need to wait out the lease), but not before it is due again.
    assert!(
        store
            .claim_due("w", T0 + 6_999, LEASE, 1)
            .await
            .unwrap()
            .is_empty()
    );
    let again = store.claim_due("w2", T0 + 7_000, LEASE, 1).await.unwrap();
    assert_eq!(again[0].attempts, 2);
    assert!(
        store
            .mark_retry(id, "w2", "connect", T0 + 9_000, true)
            .await
            .unwrap()
    );
    let s = store.outbox_status(id).await.unwrap().unwrap();
    assert_eq!(
        (s.status, s.last_error.as_deref()),
        (OutboxStatus::Failed, Some("connect"))
    );
    assert!(
        store
            .claim_due("w", T0 + 100_000, LEASE, 1)
            .await
            .unwrap()
            .is_empty()
    );
    let counts = store.outbox_counts().await.unwrap();
    assert_eq!((counts.pending, counts.sent, counts.failed), (0, 0, 1));
}

async fn params_hold_ids_only(_db: TestDb) {
    assert!(
        OutboxParams::new()
            .with_id("ref", "Threat to life at 10 High St")
            .is_err()
    );
    assert!(OutboxParams::new().with_id("ref", &"x".repeat(65)).is_err());
    assert!(OutboxParams::new().with_int("bad key", 1).is_err());
    assert!(OutboxParams::from_json(r#"{"note":"free text here"}"#).is_err());
    assert!(OutboxParams::from_json(r#"{"nested":{"a":1}}"#).is_err());
    assert!(OutboxParams::from_json("[1]").is_err());
    let p = OutboxParams::from_json(r#"{"report":42,"ref":"R-00042"}"#).unwrap();
    assert_eq!((p.int("report"), p.id("ref")), (Some(42), Some("R-00042")));
    assert!(
        NewOutboxMessage::email(
            &Email::parse("a@b.example").unwrap(),
            "not a template",
            OutboxParams::new()
        )
        .is_err()
    );
}

/// Two store handles (two pools, as two app instances would have) claim concurrently.
async fn concurrent_claimers_never_share_a_row(db: TestDb) {
    let mut ids = HashSet::new();
    for n in 0..200 {
        ids.insert(db.store.enqueue(&message(n), T0).await.unwrap());
    }
    let second = shield_store::connect(&db.url).await.unwrap();
    let stores: [Arc<dyn OutboxStore>; 2] = [db.store.clone(), second];
    let tasks = stores.into_iter().enumerate().map(|(i, store)| {
        tokio::spawn(async move {
            let owner = format!("w{i}");
            let mut mine = Vec::new();
            loop {
                let batch = store.claim_due(&owner, T0, LEASE, 7).await.unwrap();
                if batch.is_empty() {
                    break mine;
                }
                for m in batch {
                    assert!(store.mark_sent(m.id, &owner, T0).await.unwrap());
                    mine.push(m.id);
                }
            }
        })
    });
    let mut seen = Vec::new();
    for task in tasks {
        seen.extend(task.await.unwrap());
    }
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(seen.len(), 200, "each row claimed exactly once");
    assert_eq!(unique, ids);
    assert_eq!(db.store.outbox_counts().await.unwrap().sent, 200);
}
