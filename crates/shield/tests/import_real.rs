//! The real 2024 reference data, imported on both backends.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use shield::import::{ImportKind, import_file};
use shield_domain::{ConstituencyCode, ElectionId, Nation, Stats};
use shield_store::{ImportMode, Store};
use shield_testkit::{TestDb, both_backends, shared_data};

both_backends!(
    full_2024_import_finds_every_constituency_force_and_candidate,
    second_import_changes_nothing,
    invalid_date_on_line_3_is_rejected_and_nothing_written,
    bad_last_row_rolls_back_the_whole_file,
    dry_run_reports_but_writes_nothing,
    stale_and_empty_gss_resolve_to_ons_codes,
    core_columns_only_export_resolves_by_ballot_paper,
);

const REFERENCE: [(ImportKind, &str); 3] = [
    (ImportKind::Constituencies, "constituencies_2024.csv"),
    (ImportKind::Forces, "police_force_areas.csv"),
    (ImportKind::ConstituencyForces, "pcon24_pfa_lookup.csv"),
];

async fn import_reference(store: &dyn Store) {
    for (kind, file) in REFERENCE {
        import_file(store, kind, &shared_data(file), ImportMode::Commit)
            .await
            .unwrap();
    }
}

async fn import_all(store: &dyn Store) {
    import_reference(store).await;
    import_file(
        store,
        ImportKind::Candidates,
        &shared_data("candidates_ge2024.csv"),
        ImportMode::Commit,
    )
    .await
    .unwrap();
}

const FULL: Stats = Stats {
    constituencies: 650,
    forces: 45,
    constituency_forces: 670,
    cross_force_constituencies: 20,
    candidates: 4515,
    candidates_without_force: 0,
};

async fn full_2024_import_finds_every_constituency_force_and_candidate(db: TestDb) {
    import_all(db.store.as_ref()).await;
    assert_eq!(db.store.stats().await.unwrap(), FULL);

    let election = ElectionId::parse("parl.2024-07-04").unwrap();
    let summaries = db
        .store
        .constituency_summaries(Some(&election))
        .await
        .unwrap();
    let mut by_nation: BTreeMap<Nation, usize> = BTreeMap::new();
    for s in &summaries {
        *by_nation.entry(s.nation).or_default() += 1;
        assert!(!s.forces.is_empty(), "{} has no force", s.code);
        assert!(
            s.forces[0].is_primary,
            "{} lists a minority force first",
            s.code
        );
        assert!(s.candidates > 0, "{} has no candidates", s.code);
    }
    assert_eq!(by_nation[&Nation::England], 543);
    assert_eq!(by_nation[&Nation::Wales], 32);
    assert_eq!(by_nation[&Nation::Scotland], 57);
    assert_eq!(by_nation[&Nation::NorthernIreland], 18);
    // Every candidate sits in a constituency that has at least one force.
    assert_eq!(summaries.iter().map(|s| s.candidates).sum::<u64>(), 4515);
    let cross_force_candidates: u64 = summaries
        .iter()
        .filter(|s| s.is_cross_force())
        .map(|s| s.candidates)
        .sum();
    assert_eq!(cross_force_candidates, 131);

    let windsor = db
        .store
        .constituency_detail(
            &ConstituencyCode::parse("E14001588").unwrap(),
            Some(&election),
        )
        .await
        .unwrap()
        .unwrap();
    let forces: Vec<&str> = windsor
        .summary
        .forces
        .iter()
        .map(|f| f.force_name.as_str())
        .collect();
    assert_eq!(forces, ["Thames Valley Police", "Surrey Police"]);

    let forces = db.store.force_summaries(Some(&election)).await.unwrap();
    assert_eq!(forces.len(), 45);
    let city = forces
        .iter()
        .find(|f| f.code.as_str() == "E23000034")
        .unwrap();
    assert_eq!(
        (city.primary_constituencies, city.all_constituencies),
        (0, 1)
    );
    let primaries: u64 = forces.iter().map(|f| f.primary_constituencies).sum();
    assert_eq!(primaries, 650);
}

async fn second_import_changes_nothing(db: TestDb) {
    import_all(db.store.as_ref()).await;
    for (kind, file) in REFERENCE
        .into_iter()
        .chain([(ImportKind::Candidates, "candidates_ge2024.csv")])
    {
        let report = import_file(
            db.store.as_ref(),
            kind,
            &shared_data(file),
            ImportMode::Commit,
        )
        .await
        .unwrap();
        assert_eq!(report.outcome.changed(), 0, "{file}: {report}");
        assert_eq!(report.outcome.unchanged as usize, report.rows, "{file}");
    }
    assert_eq!(db.store.stats().await.unwrap(), FULL);
}

/// Writes the header and the first `rows` data rows of a reference file, with `edit` applied
/// to each (line number, row) pair.
fn copy_with(
    src: &Path,
    dst: &Path,
    rows: Option<usize>,
    edit: impl Fn(u64, &mut csv::StringRecord, &csv::StringRecord),
) {
    let mut reader = csv::Reader::from_path(src).unwrap();
    let headers = reader.headers().unwrap().clone();
    let mut writer = csv::Writer::from_path(dst).unwrap();
    writer.write_record(&headers).unwrap();
    for (i, record) in reader.records().enumerate() {
        if rows.is_some_and(|n| i >= n) {
            break;
        }
        let mut record = record.unwrap();
        edit(i as u64 + 2, &mut record, &headers);
        writer.write_record(&record).unwrap();
    }
    writer.flush().unwrap();
}

fn set(record: &mut csv::StringRecord, headers: &csv::StringRecord, column: &str, value: &str) {
    let index = headers.iter().position(|h| h == column).unwrap();
    let mut fields: Vec<String> = record.iter().map(str::to_owned).collect();
    fields[index] = value.to_owned();
    *record = csv::StringRecord::from(fields);
}

async fn invalid_date_on_line_3_is_rejected_and_nothing_written(db: TestDb) {
    import_reference(db.store.as_ref()).await;
    let before = db.store.stats().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("candidates_bad_date.csv");
    copy_with(
        &shared_data("candidates_ge2024.csv"),
        &bad,
        Some(10),
        |line, r, h| {
            if line == 3 {
                set(r, h, "election_date", "2024-07-32");
            }
        },
    );
    let err = import_file(
        db.store.as_ref(),
        ImportKind::Candidates,
        &bad,
        ImportMode::Commit,
    )
    .await
    .unwrap_err();
    assert_eq!(err.line(), Some(3));
    let message = err.to_string();
    assert!(message.contains("candidates_bad_date.csv"), "{message}");
    assert!(message.contains("line 3"), "{message}");
    assert!(message.contains("election_date"), "{message}");
    assert!(message.contains("2024-07-32"), "{message}");
    assert_eq!(db.store.stats().await.unwrap(), before);
    assert!(db.store.elections().await.unwrap().is_empty());
}

async fn bad_last_row_rolls_back_the_whole_file(db: TestDb) {
    import_reference(db.store.as_ref()).await;
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("candidates_bad_last.csv");
    copy_with(
        &shared_data("candidates_ge2024.csv"),
        &bad,
        None,
        |line, r, h| {
            if line == 4516 {
                set(r, h, "post_label", "Atlantis");
                set(r, h, "gss", "");
                set(r, h, "ballot_paper_id", "parl.atlantis.2024-07-04");
            }
        },
    );
    let err = import_file(
        db.store.as_ref(),
        ImportKind::Candidates,
        &bad,
        ImportMode::Commit,
    )
    .await
    .unwrap_err();
    assert_eq!(err.line(), Some(4516), "{err}");
    assert!(err.to_string().contains("post_label"), "{err}");
    assert_eq!(db.store.stats().await.unwrap().candidates, 0);
}

async fn dry_run_reports_but_writes_nothing(db: TestDb) {
    import_reference(db.store.as_ref()).await;
    let report = import_file(
        db.store.as_ref(),
        ImportKind::Candidates,
        &shared_data("candidates_ge2024.csv"),
        ImportMode::DryRun,
    )
    .await
    .unwrap();
    assert_eq!(report.outcome.inserted, 4515);
    assert!(report.dry_run);
    assert_eq!(db.store.stats().await.unwrap().candidates, 0);
}

/// Democracy Club's own export rows for the seats where its `gss` was empty (Northern Ireland)
/// or held a pre-2024 code (five Scottish seats); the file also carries the true ONS code.
async fn stale_and_empty_gss_resolve_to_ons_codes(db: TestDb) {
    import_reference(db.store.as_ref()).await;
    let path = shared_data("raw/dc_export_rows_ge2024_gss_mismatch.csv");
    let report = import_file(
        db.store.as_ref(),
        ImportKind::Candidates,
        &path,
        ImportMode::Commit,
    )
    .await
    .unwrap();
    assert_eq!(report.rows, 174);
    assert!(!report.notes.is_empty(), "the repaired rows are reported");

    let mut expected: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (person, code) = (col("person_id"), col("pcon24cd"));
    for r in reader.records() {
        let r = r.unwrap();
        expected
            .entry(r[code].to_owned())
            .or_default()
            .insert(r[person].parse().unwrap());
    }
    let election = ElectionId::parse("parl.2024-07-04").unwrap();
    for (code, people) in expected {
        let detail = db
            .store
            .constituency_detail(&ConstituencyCode::parse(&code).unwrap(), Some(&election))
            .await
            .unwrap()
            .unwrap();
        let got: BTreeSet<i64> = detail
            .candidates
            .iter()
            .map(|c| c.person_id.get())
            .collect();
        assert_eq!(got, people, "{code}");
    }
}

/// A real export taken before nominations closed, with only the 11 core columns (no `gss`).
async fn core_columns_only_export_resolves_by_ballot_paper(db: TestDb) {
    import_reference(db.store.as_ref()).await;
    let path = shared_data("raw/dc_export_parl-2024-07-04_snapshot_2024-05-22.csv");
    let report = import_file(
        db.store.as_ref(),
        ImportKind::Candidates,
        &path,
        ImportMode::Commit,
    )
    .await
    .unwrap();
    assert_eq!(report.rows, 2570);
    assert_eq!(db.store.stats().await.unwrap().candidates_without_force, 0);
}
