//! The audit chain's contract: appends serialise into one gap-free chain on both backends, and
//! `verify_audit` names the first seq that a direct edit of the database broke.

use std::collections::BTreeSet;

use chrono::DateTime;
use shield_domain::audit::{
    AuditAction, AuditActor, AuditEvent, AuditOutcome, AuditSubject, BreakReason, ChainBreak,
    GENESIS_HASH, VerifiedHead, chain_hash, hash_hex,
};
use shield_domain::{Constituency, ConstituencyCode};
use shield_store::{AuditVerification, ImportMode};
use shield_testkit::{TestDb, both_backends};
use sqlx::Connection;

both_backends!(
    empty_chain_is_intact,
    many_appends_verify_across_pages,
    concurrent_appends_are_gap_free,
    rows_cannot_be_updated_or_deleted_through_the_app_role,
    edited_row_is_named,
    deleted_middle_row_names_the_missing_seq,
    swapped_seq_values_are_detected,
    truncation_is_caught_by_the_head,
    row_added_past_the_head_is_caught,
    imports_write_one_event_in_their_transaction,
    subject_history_is_newest_first,
);

fn read_event(candidate: i64, viewer: i64, i: i64) -> AuditEvent {
    AuditEvent::new(
        AuditAction::SENSITIVE_READ,
        AuditOutcome::Success,
        DateTime::from_timestamp_millis(1_720_000_000_000 + i).unwrap(),
    )
    .with_actor(AuditActor::new(viewer, "force_contact").unwrap())
    .with_subject(AuditSubject::new("candidate", &candidate.to_string()).unwrap())
    .with_detail("field", "home_address")
    .unwrap()
}

async fn append(db: &TestDb, n: i64) {
    for i in 1..=n {
        let seq = db
            .store
            .record_audit(&read_event(i % 3, 7, i))
            .await
            .unwrap();
        assert_eq!(seq, i);
    }
}

async fn verify(db: &TestDb) -> AuditVerification {
    db.store.verify_audit().await.unwrap()
}

fn intact(v: AuditVerification) -> VerifiedHead {
    match v {
        AuditVerification::Intact(head) => head,
        AuditVerification::Broken(b) => panic!("expected an intact chain: {b}"),
    }
}

fn broken(v: AuditVerification) -> ChainBreak {
    match v {
        AuditVerification::Broken(b) => b,
        AuditVerification::Intact(h) => panic!("expected a broken chain, got {h:?}"),
    }
}

/// Runs SQL as the database's owner would, behind the store's back, with the append-only
/// triggers switched off first (an owner can do that too).
async fn tamper(db: &TestDb, statements: &[&str]) {
    let url = db.url();
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        for s in [
            "DROP TRIGGER audit_events_no_update",
            "DROP TRIGGER audit_events_no_delete",
        ]
        .iter()
        .chain(statements)
        {
            sqlx::query(s).execute(&mut conn).await.unwrap();
        }
        conn.close().await.unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        for s in ["ALTER TABLE audit_events DISABLE TRIGGER USER"]
            .iter()
            .chain(statements)
        {
            sqlx::query(s).execute(&mut conn).await.unwrap();
        }
        conn.close().await.unwrap();
    }
}

/// Runs one statement behind the store's back, triggers left on; returns whether it worked.
async fn try_raw(db: &TestDb, statement: &str) -> bool {
    let url = db.url();
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(statement).execute(&mut conn).await.is_ok()
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(statement).execute(&mut conn).await.is_ok()
    }
}

async fn empty_chain_is_intact(db: TestDb) {
    let head = intact(verify(&db).await);
    assert_eq!((head.count, head.seq, head.hash), (0, 0, GENESIS_HASH));
    assert!(db.store.audit_events(0, 10).await.unwrap().is_empty());
}

async fn many_appends_verify_across_pages(db: TestDb) {
    // More rows than one verification page (1000).
    append(&db, 1010).await;
    let head = intact(verify(&db).await);
    assert_eq!((head.count, head.seq), (1010, 1010));
    let page = db.store.audit_events(1000, 100).await.unwrap();
    assert_eq!(page.len(), 10);
    assert_eq!(page[0].seq, 1001);
    assert_eq!(page[9].hash, head.hash);
    assert_eq!(page[0].event, read_event(1001 % 3, 7, 1001));
    assert_eq!(page[1].prev_hash, page[0].hash);
}

async fn concurrent_appends_are_gap_free(db: TestDb) {
    let mut tasks = Vec::new();
    for t in 0..8_i64 {
        let store = db.store.clone();
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..25 {
                seqs.push(store.record_audit(&read_event(t, t, i)).await.unwrap());
            }
            seqs
        }));
    }
    let mut all = BTreeSet::new();
    for t in tasks {
        for seq in t.await.unwrap() {
            assert!(all.insert(seq), "seq {seq} handed out twice");
        }
    }
    assert_eq!(all, (1..=200).collect::<BTreeSet<i64>>());
    let head = intact(verify(&db).await);
    assert_eq!((head.count, head.seq), (200, 200));
}

async fn rows_cannot_be_updated_or_deleted_through_the_app_role(db: TestDb) {
    append(&db, 3).await;
    assert!(
        !try_raw(
            &db,
            "UPDATE audit_events SET action = 'signed_out' WHERE seq = 2"
        )
        .await
    );
    assert!(!try_raw(&db, "DELETE FROM audit_events WHERE seq = 3").await);
    intact(verify(&db).await);
}

async fn edited_row_is_named(db: TestDb) {
    append(&db, 10).await;
    tamper(
        &db,
        &["UPDATE audit_events SET action = 'sign_in_succeeded' WHERE seq = 4"],
    )
    .await;
    let b = broken(verify(&db).await);
    assert_eq!((b.seq, b.reason), (4, BreakReason::HashMismatch));
}

async fn deleted_middle_row_names_the_missing_seq(db: TestDb) {
    append(&db, 10).await;
    tamper(&db, &["DELETE FROM audit_events WHERE seq = 5"]).await;
    let b = broken(verify(&db).await);
    assert_eq!(
        (b.seq, b.reason),
        (5, BreakReason::Missing { next_found: 6 })
    );
}

async fn swapped_seq_values_are_detected(db: TestDb) {
    append(&db, 10).await;
    tamper(
        &db,
        &[
            "UPDATE audit_events SET seq = 1000 WHERE seq = 3",
            "UPDATE audit_events SET seq = 3 WHERE seq = 7",
            "UPDATE audit_events SET seq = 7 WHERE seq = 1000",
        ],
    )
    .await;
    let b = broken(verify(&db).await);
    assert_eq!((b.seq, b.reason), (3, BreakReason::HashMismatch));
}

async fn truncation_is_caught_by_the_head(db: TestDb) {
    append(&db, 10).await;
    tamper(&db, &["DELETE FROM audit_events WHERE seq = 10"]).await;
    let b = broken(verify(&db).await);
    assert_eq!(
        (b.seq, b.reason),
        (
            10,
            BreakReason::Truncated {
                head_seq: 10,
                last: 9
            }
        )
    );
}

async fn row_added_past_the_head_is_caught(db: TestDb) {
    append(&db, 3).await;
    // A well-formed, correctly linked and hashed seq 4 inserted without moving the head.
    let last = db.store.audit_events(2, 1).await.unwrap().remove(0);
    let hash = chain_hash(4, &last.hash, &last.event);
    let (prev, hash) = if db.url().starts_with("sqlite:") {
        (
            format!("X'{}'", hash_hex(&last.hash)),
            format!("X'{}'", hash_hex(&hash)),
        )
    } else {
        (
            format!("'\\x{}'::bytea", hash_hex(&last.hash)),
            format!("'\\x{}'::bytea", hash_hex(&hash)),
        )
    };
    let insert = format!(
        "INSERT INTO audit_events (seq, at_ms, action, actor_user_id, actor_role, subject_type,
            subject_id, outcome, details, prev_hash, hash)
         SELECT 4, at_ms, action, actor_user_id, actor_role, subject_type, subject_id, outcome,
            details, {prev}, {hash} FROM audit_events WHERE seq = 3"
    );
    tamper(&db, &[insert.as_str()]).await;
    let b = broken(verify(&db).await);
    assert_eq!(
        (b.seq, b.reason),
        (4, BreakReason::BeyondHead { head_seq: 3 })
    );
}

async fn imports_write_one_event_in_their_transaction(db: TestDb) {
    let rows = [Constituency::new(
        ConstituencyCode::parse("W07000081").unwrap(),
        "Caerfyrddin",
        None,
        shield_domain::Nation::Wales,
        None,
    )
    .unwrap()];
    // A dry run rolls back and writes no event.
    db.store
        .import_constituencies(&rows, ImportMode::DryRun)
        .await
        .unwrap();
    assert!(db.store.audit_events(0, 10).await.unwrap().is_empty());

    db.store
        .import_constituencies(&rows, ImportMode::Commit)
        .await
        .unwrap();
    let events = db.store.audit_events(0, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    let e = &events[0].event;
    assert_eq!(e.action(), &AuditAction::IMPORT_COMMITTED);
    assert_eq!(e.outcome(), AuditOutcome::Success);
    assert!(e.actor().is_none());
    let details: Vec<(&str, &str)> = e
        .details()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        details,
        [
            ("inserted", "1"),
            ("kind", "constituencies"),
            ("removed", "0"),
            ("unchanged", "0"),
            ("updated", "0"),
        ]
    );

    // Re-importing the same file changes nothing and so records nothing.
    db.store
        .import_constituencies(&rows, ImportMode::Commit)
        .await
        .unwrap();
    assert_eq!(db.store.audit_events(0, 10).await.unwrap().len(), 1);
    intact(verify(&db).await);
}

async fn subject_history_is_newest_first(db: TestDb) {
    for (i, (candidate, viewer)) in [(42, 1), (43, 2), (42, 3), (42, 4)].into_iter().enumerate() {
        db.store
            .record_audit(&read_event(candidate, viewer, i as i64))
            .await
            .unwrap();
    }
    let seen = db
        .store
        .audit_for_subject("candidate", "42", 2)
        .await
        .unwrap();
    let viewers: Vec<(i64, i64)> = seen
        .iter()
        .map(|r| (r.seq, r.event.actor().unwrap().user_id()))
        .collect();
    assert_eq!(viewers, [(4, 4), (3, 3)]);
    assert!(
        db.store
            .audit_for_subject("candidate", "99", 10)
            .await
            .unwrap()
            .is_empty()
    );
}
