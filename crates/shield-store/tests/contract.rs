//! The store contract: every behaviour here must hold on SQLite and on PostgreSQL alike.

use chrono::NaiveDate;
use shield_domain::{
    Candidate, Constituency, ConstituencyCode, ConstituencyForce, ContactRole, Election,
    ElectionId, Email, ForceCode, ForceContact, Nation, PersonId, PoliceForce, PopShare, Region,
    Stats,
};
use shield_store::{ImportMode, ImportOutcome};
use shield_testkit::{TestDb, both_backends};

both_backends!(
    migrate_twice_is_harmless,
    reference_import_is_idempotent,
    changed_rows_are_updated_not_duplicated,
    dry_run_writes_nothing,
    failed_import_commits_nothing,
    links_are_replaced_per_constituency,
    contacts_roster_promotes_and_stands_down,
    summaries_list_forces_and_candidate_counts,
);

fn constituency(code: &str, name: &str) -> Constituency {
    let code = ConstituencyCode::parse(code).unwrap();
    let nation = code.nation();
    let region =
        (nation == Nation::England).then(|| Region::parse("E12000008", "South East").unwrap());
    Constituency::new(code, name, None, nation, region).unwrap()
}

fn force(code: &str, name: &str) -> PoliceForce {
    PoliceForce::new(
        ForceCode::parse(code).unwrap(),
        name,
        &format!("{name} Police"),
        None,
        Nation::England,
    )
    .unwrap()
}

fn link(c: &str, f: &str, share: f64, primary: bool) -> ConstituencyForce {
    ConstituencyForce {
        constituency: ConstituencyCode::parse(c).unwrap(),
        force: ForceCode::parse(f).unwrap(),
        pop_share: PopShare::new(share).unwrap(),
        is_primary: primary,
    }
}

fn election() -> Election {
    Election::new(
        ElectionId::parse("parl.2024-07-04").unwrap(),
        NaiveDate::from_ymd_opt(2024, 7, 4).unwrap(),
        None,
    )
    .unwrap()
}

fn candidate(person: &str, name: &str, constituency: &str) -> Candidate {
    Candidate {
        person_id: PersonId::parse(person).unwrap(),
        election: election().id,
        name: name.into(),
        party: "Independent".into(),
        constituency: ConstituencyCode::parse(constituency).unwrap(),
        email: None,
        phone: None,
        elected: Some(false),
    }
}

fn contact(force: &str, role: ContactRole, name: &str, email: &str) -> ForceContact {
    ForceContact {
        force: ForceCode::parse(force).unwrap(),
        role,
        name: name.into(),
        email: Email::parse(email).unwrap(),
        phone: None,
    }
}

fn outcome(inserted: u64, updated: u64, unchanged: u64, removed: u64) -> ImportOutcome {
    ImportOutcome {
        inserted,
        updated,
        unchanged,
        removed,
    }
}

/// Two constituencies, one of them spanning two forces, and three candidates.
async fn seed(db: &TestDb) {
    let s = &db.store;
    s.import_constituencies(
        &[
            constituency("E14001063", "Aldershot"),
            constituency("E14001588", "Windsor"),
        ],
        ImportMode::Commit,
    )
    .await
    .unwrap();
    s.import_forces(
        &[
            force("E23000030", "Hampshire"),
            force("E23000035", "Thames Valley"),
            force("E23000036", "Surrey"),
        ],
        ImportMode::Commit,
    )
    .await
    .unwrap();
    s.import_constituency_forces(
        &[
            link("E14001063", "E23000030", 1.0, true),
            link("E14001588", "E23000035", 0.82, true),
            link("E14001588", "E23000036", 0.18, false),
        ],
        ImportMode::Commit,
    )
    .await
    .unwrap();
    s.import_candidates(
        &[election()],
        &[
            candidate("1", "Alex Baker", "E14001063"),
            candidate("2", "Jack Rankin", "E14001588"),
            candidate("3", "anna Smith", "E14001588"),
        ],
        ImportMode::Commit,
    )
    .await
    .unwrap();
}

async fn migrate_twice_is_harmless(db: TestDb) {
    db.store.migrate().await.unwrap();
    db.store.ping().await.unwrap();
    assert_eq!(db.store.stats().await.unwrap(), Stats::default());
}

async fn reference_import_is_idempotent(db: TestDb) {
    seed(&db).await;
    let stats = db.store.stats().await.unwrap();
    assert_eq!(
        stats,
        Stats {
            constituencies: 2,
            forces: 3,
            constituency_forces: 3,
            cross_force_constituencies: 1,
            candidates: 3,
            candidates_without_force: 0,
        }
    );
    let again = db
        .store
        .import_constituencies(
            &[
                constituency("E14001063", "Aldershot"),
                constituency("E14001588", "Windsor"),
            ],
            ImportMode::Commit,
        )
        .await
        .unwrap();
    assert_eq!(again, outcome(0, 0, 2, 0));
    let again = db
        .store
        .import_candidates(
            &[election()],
            &[candidate("1", "Alex Baker", "E14001063")],
            ImportMode::Commit,
        )
        .await
        .unwrap();
    assert_eq!(again, outcome(0, 0, 1, 0));
    assert_eq!(db.store.stats().await.unwrap(), stats);
}

async fn changed_rows_are_updated_not_duplicated(db: TestDb) {
    seed(&db).await;
    let got = db
        .store
        .import_candidates(
            &[election()],
            &[
                candidate("1", "Alexandra Baker", "E14001063"),
                candidate("4", "New Person", "E14001063"),
            ],
            ImportMode::Commit,
        )
        .await
        .unwrap();
    assert_eq!(got, outcome(1, 1, 0, 0));
    let detail = db
        .store
        .constituency_detail(
            &ConstituencyCode::parse("E14001063").unwrap(),
            Some(&election().id),
        )
        .await
        .unwrap()
        .unwrap();
    let names: Vec<&str> = detail.candidates.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Alexandra Baker", "New Person"]);
}

async fn dry_run_writes_nothing(db: TestDb) {
    let got = db
        .store
        .import_constituencies(
            &[constituency("E14001063", "Aldershot")],
            ImportMode::DryRun,
        )
        .await
        .unwrap();
    assert_eq!(got, outcome(1, 0, 0, 0));
    assert_eq!(db.store.stats().await.unwrap(), Stats::default());
}

async fn failed_import_commits_nothing(db: TestDb) {
    seed(&db).await;
    let before = db.store.stats().await.unwrap();
    let other = Election::new(
        ElectionId::parse("parl.2029-05-03").unwrap(),
        NaiveDate::from_ymd_opt(2029, 5, 3).unwrap(),
        None,
    )
    .unwrap();
    let mut bad = candidate("9", "Nobody", "E14001063");
    bad.election = other.id.clone();
    let mut unknown_seat = candidate("10", "Nowhere", "E14009999");
    unknown_seat.election = other.id.clone();
    // The second row breaks a foreign key; the election and the first row must not survive.
    let err = db
        .store
        .import_candidates(&[other], &[bad, unknown_seat], ImportMode::Commit)
        .await;
    assert!(err.is_err());
    assert_eq!(db.store.stats().await.unwrap(), before);
    assert_eq!(db.store.elections().await.unwrap().len(), 1);
}

async fn links_are_replaced_per_constituency(db: TestDb) {
    seed(&db).await;
    // Windsor becomes single-force; Aldershot is not mentioned and keeps its link.
    let got = db
        .store
        .import_constituency_forces(
            &[link("E14001588", "E23000035", 1.0, true)],
            ImportMode::Commit,
        )
        .await
        .unwrap();
    assert_eq!(got, outcome(0, 1, 0, 1));
    let stats = db.store.stats().await.unwrap();
    assert_eq!(
        (stats.constituency_forces, stats.cross_force_constituencies),
        (2, 0)
    );
    // Swapping which force is primary must not trip the one-primary rule mid-way.
    let got = db
        .store
        .import_constituency_forces(
            &[
                link("E14001588", "E23000035", 0.4, false),
                link("E14001588", "E23000036", 0.6, true),
            ],
            ImportMode::Commit,
        )
        .await
        .unwrap();
    assert_eq!(got, outcome(1, 1, 0, 0));
}

async fn contacts_roster_promotes_and_stands_down(db: TestDb) {
    seed(&db).await;
    let first = [
        contact(
            "E23000030",
            ContactRole::Lead,
            "Pat Lead",
            "pat@hampshire.police.example",
        ),
        contact(
            "E23000030",
            ContactRole::Deputy,
            "Sam Deputy",
            "sam@hampshire.police.example",
        ),
    ];
    assert_eq!(
        db.store
            .import_contacts(&first, ImportMode::Commit)
            .await
            .unwrap(),
        outcome(2, 0, 0, 0)
    );
    assert_eq!(
        db.store
            .import_contacts(&first, ImportMode::Commit)
            .await
            .unwrap(),
        outcome(0, 0, 2, 0)
    );
    // Sam becomes lead, Pat leaves, Lee joins as deputy.
    let second = [
        contact(
            "E23000030",
            ContactRole::Lead,
            "Sam Deputy",
            "sam@hampshire.police.example",
        ),
        contact(
            "E23000030",
            ContactRole::Deputy,
            "Lee New",
            "lee@hampshire.police.example",
        ),
    ];
    assert_eq!(
        db.store
            .import_contacts(&second, ImportMode::Commit)
            .await
            .unwrap(),
        outcome(1, 1, 0, 1)
    );
    let forces = db.store.force_summaries(None).await.unwrap();
    let hampshire = forces
        .iter()
        .find(|f| f.code.as_str() == "E23000030")
        .unwrap();
    assert_eq!(hampshire.contacts, 2);
}

async fn summaries_list_forces_and_candidate_counts(db: TestDb) {
    seed(&db).await;
    let summaries = db
        .store
        .constituency_summaries(Some(&election().id))
        .await
        .unwrap();
    let names: Vec<&str> = summaries.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Aldershot", "Windsor"]);
    let windsor = &summaries[1];
    assert!(windsor.is_cross_force());
    assert_eq!(windsor.candidates, 2);
    assert_eq!(windsor.forces[0].code.as_str(), "E23000035");
    assert!(windsor.forces[0].is_primary);
    // Case-insensitive name order, the same on both backends.
    let detail = db
        .store
        .constituency_detail(&windsor.code, Some(&election().id))
        .await
        .unwrap()
        .unwrap();
    let names: Vec<&str> = detail.candidates.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["anna Smith", "Jack Rankin"]);
    assert!(
        db.store
            .constituency_detail(&ConstituencyCode::parse("E14009999").unwrap(), None)
            .await
            .unwrap()
            .is_none()
    );
    let forces = db
        .store
        .force_summaries(Some(&election().id))
        .await
        .unwrap();
    let surrey = forces
        .iter()
        .find(|f| f.code.as_str() == "E23000036")
        .unwrap();
    assert_eq!(
        (
            surrey.primary_constituencies,
            surrey.all_constituencies,
            surrey.candidates
        ),
        (0, 1, 2)
    );
    assert_eq!(db.store.elections().await.unwrap()[0].id, election().id);
}
