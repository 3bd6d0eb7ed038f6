//! `shield audit verify | export-checkpoint` as an operator runs them.

use assert_cmd::Command;
use shield_domain::audit::{AuditCheckpoint, GENESIS_HASH, chain_hash, hash_hex};
use shield_testkit::{TestDb, both_backends};
use sqlx::Connection;

both_backends!(
    verify_passes_then_names_an_edited_row,
    checkpoint_catches_a_rewritten_chain,
);

fn shield(db: &TestDb) -> Command {
    let mut cmd = Command::cargo_bin("shield").unwrap();
    cmd.env("SHIELD_DATABASE_URL", db.url())
        .env("SHIELD_LOG", "warn");
    cmd
}

/// Imports a two-force file, which writes one `import_committed` event (seq 1).
fn import_forces(db: &TestDb, dir: &std::path::Path) {
    let file = dir.join("forces.csv");
    std::fs::write(
        &file,
        "pfa_code,pfa_name,force_name,police_uk_force_id,ctry_name\n\
         E23000001,Metropolitan Police,Metropolitan Police Service,metropolitan,England\n\
         E23000002,Cumbria,Cumbria Constabulary,cumbria,England\n",
    )
    .unwrap();
    shield(db)
        .args(["import", "forces"])
        .arg(&file)
        .assert()
        .success();
}

/// Runs SQL as the database's owner, with the append-only triggers switched off.
async fn as_owner(db: &TestDb, statements: &[String]) {
    let url = db.url();
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query("DROP TRIGGER audit_events_no_update")
            .execute(&mut conn)
            .await
            .unwrap();
        for s in statements {
            sqlx::query(s).execute(&mut conn).await.unwrap();
        }
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query("ALTER TABLE audit_events DISABLE TRIGGER USER")
            .execute(&mut conn)
            .await
            .unwrap();
        for s in statements {
            sqlx::query(s).execute(&mut conn).await.unwrap();
        }
    }
}

/// A 32-byte value as a literal each dialect reads as bytes.
fn bytes_literal(db: &TestDb, hash: &[u8; 32]) -> String {
    if db.url().starts_with("sqlite:") {
        format!("X'{}'", hash_hex(hash))
    } else {
        format!("'\\x{}'::bytea", hash_hex(hash))
    }
}

async fn verify_passes_then_names_an_edited_row(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    import_forces(&db, dir.path());
    let out = shield(&db).args(["audit", "verify"]).output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with("audit chain intact: 1 events, head seq 1, hash "),
        "{stdout}"
    );

    as_owner(
        &db,
        &["UPDATE audit_events SET details = '{\"inserted\":\"0\",\"kind\":\"forces\",\"removed\":\"0\",\"unchanged\":\"2\",\"updated\":\"0\"}' WHERE seq = 1".into()],
    )
    .await;
    let out = shield(&db).args(["audit", "verify"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("audit chain broken at seq 1: the stored hash does not match"),
        "{stderr}"
    );
    // No checkpoint of a broken chain.
    let out = shield(&db)
        .args(["audit", "export-checkpoint"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

async fn checkpoint_catches_a_rewritten_chain(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    import_forces(&db, dir.path());
    let out = shield(&db)
        .args(["audit", "export-checkpoint"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let line = String::from_utf8(out.stdout).unwrap();
    let cp: AuditCheckpoint = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(cp.seq, 1);
    let file = dir.path().join("checkpoints.jsonl");
    std::fs::write(&file, &line).unwrap();
    shield(&db)
        .args(["audit", "verify", "--checkpoint"])
        .arg(&file)
        .assert()
        .success();

    // The owner rewrites event 1 and recomputes its hash and the head: the links alone
    // cannot tell, the checkpoint kept elsewhere can.
    let row = db.store.audit_events(0, 1).await.unwrap().remove(0);
    let forged = row.event.clone().with_detail("inserted", "0").unwrap();
    let hash = chain_hash(1, &GENESIS_HASH, &forged);
    let lit = bytes_literal(&db, &hash);
    as_owner(
        &db,
        &[
            format!(
                "UPDATE audit_events SET details = '{}', hash = {lit} WHERE seq = 1",
                serde_json::to_string(forged.details()).unwrap()
            ),
            format!("UPDATE audit_head SET hash = {lit} WHERE id = 1"),
        ],
    )
    .await;
    shield(&db).args(["audit", "verify"]).assert().success();
    let out = shield(&db)
        .args(["audit", "verify", "--checkpoint"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("does not match the checkpoint at seq 1"),
        "{stderr}"
    );
}
