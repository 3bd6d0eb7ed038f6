//! The `shield` binary as a user runs it: exit codes, messages and output formats.

use assert_cmd::Command;
use shield_testkit::{TestDb, both_backends, shared_data};

both_backends!(
    stats_json_has_exactly_the_documented_keys,
    bad_file_exits_non_zero_naming_line_and_column
);

fn shield(db: &TestDb) -> Command {
    let mut cmd = Command::cargo_bin("shield").unwrap();
    cmd.env("SHIELD_DATABASE_URL", db.url())
        .env("SHIELD_LOG", "warn");
    cmd
}

async fn stats_json_has_exactly_the_documented_keys(db: TestDb) {
    for (kind, file) in [
        ("constituencies", "constituencies_2024.csv"),
        ("forces", "police_force_areas.csv"),
        ("constituency-forces", "pcon24_pfa_lookup.csv"),
        ("candidates", "candidates_ge2024.csv"),
    ] {
        shield(&db)
            .args(["import", kind])
            .arg(shared_data(file))
            .assert()
            .success();
    }
    let out = shield(&db).args(["stats", "--json"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        r#"{"constituencies":650,"forces":45,"constituency_forces":670,"cross_force_constituencies":20,"candidates":4515,"candidates_without_force":0}"#
    );
}

async fn bad_file_exits_non_zero_naming_line_and_column(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("forces_bad.csv");
    std::fs::write(
        &bad,
        "pfa_code,pfa_name,force_name,police_uk_force_id,ctry_name\n\
         E23000001,Metropolitan Police,Metropolitan Police Service,metropolitan,England\n\
         E2300000X,Cumbria,Cumbria Constabulary,cumbria,England\n",
    )
    .unwrap();
    let out = shield(&db)
        .args(["import", "forces"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("forces_bad.csv: line 3, column `pfa_code`"),
        "{stderr}"
    );
    let out = shield(&db).args(["stats", "--json"]).output().unwrap();
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains(r#""forces":0"#)
    );
    // A missing column is reported against the header line.
    let no_col = dir.path().join("no_force_name.csv");
    std::fs::write(
        &no_col,
        "pfa_code,pfa_name\nE23000001,Metropolitan Police\n",
    )
    .unwrap();
    let out = shield(&db)
        .args(["import", "forces"])
        .arg(&no_col)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("line 1") && stderr.contains("force_name"),
        "{stderr}"
    );
}
