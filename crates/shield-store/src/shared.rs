//! The one implementation of [`crate::Store`], written once and stamped out for each backend.
//!
//! Every statement uses `$N` placeholders, which both PostgreSQL and sqlx's SQLite driver bind
//! by position, and SQL both dialects accept; rows are sorted in Rust, not by the database's
//! collation, so both backends list things in the same order. What genuinely differs (pool
//! set-up, migrations) lives in `sqlite.rs` and `postgres.rs`.

/// Rows per multi-row INSERT: well under SQLite's and PostgreSQL's bind-parameter limits.
pub(crate) const CHUNK: usize = 500;

macro_rules! store_impl {
    ($store:ty, $db:ty, $backend:expr, $migrator:expr) => {
        #[async_trait::async_trait]
        impl crate::Store for $store {
            fn backend(&self) -> crate::Backend {
                $backend
            }

            async fn migrate(&self) -> Result<(), crate::StoreError> {
                $migrator.run(&self.pool).await?;
                Ok(())
            }

            async fn ping(&self) -> Result<(), crate::StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn import_constituencies(
                &self,
                rows: &[shield_domain::Constituency],
                mode: crate::ImportMode,
            ) -> Result<crate::ImportOutcome, crate::StoreError> {
                use crate::records::ConstituencyRecord;
                let records: Vec<ConstituencyRecord> = rows.iter().map(Into::into).collect();
                let mut tx = self.begin_write().await?;
                let existing: std::collections::HashMap<String, ConstituencyRecord> =
                    sqlx::query_as::<_, ConstituencyRecord>(
                        "SELECT code, name, name_cy, nation, region_code, region_name FROM constituencies",
                    )
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .map(|r| (r.code.clone(), r))
                    .collect();
                let d = crate::diff::diff(&existing, &records, |r| r.code.clone());
                for chunk in d.new.chunks(crate::shared::CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO constituencies (code, name, name_cy, nation, region_code, region_name) ",
                    );
                    qb.push_values(chunk, |mut b, r| {
                        b.push_bind(r.code.clone())
                            .push_bind(r.name.clone())
                            .push_bind(r.name_cy.clone())
                            .push_bind(r.nation.clone())
                            .push_bind(r.region_code.clone())
                            .push_bind(r.region_name.clone());
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                for r in &d.changed {
                    sqlx::query(
                        "UPDATE constituencies SET name = $2, name_cy = $3, nation = $4, region_code = $5, region_name = $6 WHERE code = $1",
                    )
                    .bind(&r.code)
                    .bind(&r.name)
                    .bind(&r.name_cy)
                    .bind(&r.nation)
                    .bind(&r.region_code)
                    .bind(&r.region_name)
                    .execute(&mut *tx)
                    .await?;
                }
                let outcome = crate::ImportOutcome {
                    inserted: d.new.len() as u64,
                    updated: d.changed.len() as u64,
                    unchanged: d.unchanged,
                    removed: 0,
                };
                Self::audit_import(&mut *tx, mode, "constituencies", &outcome).await?;
                crate::shared::finish(tx, mode).await?;
                Ok(outcome)
            }

            async fn import_forces(
                &self,
                rows: &[shield_domain::PoliceForce],
                mode: crate::ImportMode,
            ) -> Result<crate::ImportOutcome, crate::StoreError> {
                use crate::records::ForceRecord;
                let records: Vec<ForceRecord> = rows.iter().map(Into::into).collect();
                let mut tx = self.begin_write().await?;
                let existing: std::collections::HashMap<String, ForceRecord> =
                    sqlx::query_as::<_, ForceRecord>(
                        "SELECT code, area_name, force_name, police_uk_id, nation FROM forces",
                    )
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .map(|r| (r.code.clone(), r))
                    .collect();
                let d = crate::diff::diff(&existing, &records, |r| r.code.clone());
                for chunk in d.new.chunks(crate::shared::CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO forces (code, area_name, force_name, police_uk_id, nation) ",
                    );
                    qb.push_values(chunk, |mut b, r| {
                        b.push_bind(r.code.clone())
                            .push_bind(r.area_name.clone())
                            .push_bind(r.force_name.clone())
                            .push_bind(r.police_uk_id.clone())
                            .push_bind(r.nation.clone());
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                for r in &d.changed {
                    sqlx::query(
                        "UPDATE forces SET area_name = $2, force_name = $3, police_uk_id = $4, nation = $5 WHERE code = $1",
                    )
                    .bind(&r.code)
                    .bind(&r.area_name)
                    .bind(&r.force_name)
                    .bind(&r.police_uk_id)
                    .bind(&r.nation)
                    .execute(&mut *tx)
                    .await?;
                }
                let outcome = crate::ImportOutcome {
                    inserted: d.new.len() as u64,
                    updated: d.changed.len() as u64,
                    unchanged: d.unchanged,
                    removed: 0,
                };
                Self::audit_import(&mut *tx, mode, "forces", &outcome).await?;
                crate::shared::finish(tx, mode).await?;
                Ok(outcome)
            }

            async fn import_constituency_forces(
                &self,
                rows: &[shield_domain::ConstituencyForce],
                mode: crate::ImportMode,
            ) -> Result<crate::ImportOutcome, crate::StoreError> {
                use crate::records::LinkRecord;
                let records: Vec<LinkRecord> = rows.iter().map(Into::into).collect();
                let mut tx = self.begin_write().await?;
                let stored: Vec<LinkRecord> = sqlx::query_as::<_, LinkRecord>(
                    "SELECT constituency_code, force_code, pop_share, is_primary FROM constituency_forces",
                )
                .fetch_all(&mut *tx)
                .await?;
                let plan = crate::shared::plan_links(&stored, &records);
                for code in &plan.replace {
                    sqlx::query("DELETE FROM constituency_forces WHERE constituency_code = $1")
                        .bind(code)
                        .execute(&mut *tx)
                        .await?;
                }
                for chunk in plan.insert.chunks(crate::shared::CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO constituency_forces (constituency_code, force_code, pop_share, is_primary) ",
                    );
                    qb.push_values(chunk, |mut b, r| {
                        b.push_bind(r.constituency_code.clone())
                            .push_bind(r.force_code.clone())
                            .push_bind(r.pop_share)
                            .push_bind(r.is_primary);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                Self::audit_import(&mut *tx, mode, "constituency_forces", &plan.outcome).await?;
                crate::shared::finish(tx, mode).await?;
                Ok(plan.outcome)
            }

            async fn import_candidates(
                &self,
                elections: &[shield_domain::Election],
                rows: &[shield_domain::Candidate],
                mode: crate::ImportMode,
            ) -> Result<crate::ImportOutcome, crate::StoreError> {
                use crate::records::{CandidateRecord, ElectionRecord};
                let mut tx = self.begin_write().await?;

                let elections: Vec<ElectionRecord> = elections.iter().map(Into::into).collect();
                let existing: std::collections::HashMap<String, ElectionRecord> =
                    sqlx::query_as::<_, ElectionRecord>(
                        "SELECT id, name, kind, polling_day FROM elections",
                    )
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .map(|r| (r.id.clone(), r))
                    .collect();
                // A file never renames an election that exists: names may have been edited.
                for e in elections.iter().filter(|e| !existing.contains_key(&e.id)) {
                    sqlx::query("INSERT INTO elections (id, name, kind, polling_day) VALUES ($1, $2, $3, $4)")
                        .bind(&e.id)
                        .bind(&e.name)
                        .bind(&e.kind)
                        .bind(e.polling_day)
                        .execute(&mut *tx)
                        .await?;
                }

                let records: Vec<CandidateRecord> = rows.iter().map(Into::into).collect();
                let existing: std::collections::HashMap<(String, i64), CandidateRecord> =
                    sqlx::query_as::<_, CandidateRecord>(
                        "SELECT election_id, person_id, name, party, constituency_code, email, phone, elected FROM candidates",
                    )
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .map(|r| ((r.election_id.clone(), r.person_id), r))
                    .collect();
                let d = crate::diff::diff(&existing, &records, |r| (r.election_id.clone(), r.person_id));
                for chunk in d.new.chunks(crate::shared::CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO candidates (election_id, person_id, name, party, constituency_code, email, phone, elected) ",
                    );
                    qb.push_values(chunk, |mut b, r| {
                        b.push_bind(r.election_id.clone())
                            .push_bind(r.person_id)
                            .push_bind(r.name.clone())
                            .push_bind(r.party.clone())
                            .push_bind(r.constituency_code.clone())
                            .push_bind(r.email.clone())
                            .push_bind(r.phone.clone())
                            .push_bind(r.elected);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                for r in &d.changed {
                    sqlx::query(
                        "UPDATE candidates SET name = $3, party = $4, constituency_code = $5, email = $6, phone = $7, elected = $8 WHERE election_id = $1 AND person_id = $2",
                    )
                    .bind(&r.election_id)
                    .bind(r.person_id)
                    .bind(&r.name)
                    .bind(&r.party)
                    .bind(&r.constituency_code)
                    .bind(&r.email)
                    .bind(&r.phone)
                    .bind(r.elected)
                    .execute(&mut *tx)
                    .await?;
                }
                let outcome = crate::ImportOutcome {
                    inserted: d.new.len() as u64,
                    updated: d.changed.len() as u64,
                    unchanged: d.unchanged,
                    removed: 0,
                };
                Self::audit_import(&mut *tx, mode, "candidates", &outcome).await?;
                crate::shared::finish(tx, mode).await?;
                Ok(outcome)
            }

            async fn import_contacts(
                &self,
                rows: &[shield_domain::ForceContact],
                mode: crate::ImportMode,
            ) -> Result<crate::ImportOutcome, crate::StoreError> {
                use crate::records::ContactRecord;
                let records: Vec<ContactRecord> = rows.iter().map(Into::into).collect();
                let mut tx = self.begin_write().await?;
                let stored: Vec<ContactRecord> = sqlx::query_as::<_, ContactRecord>(
                    "SELECT force_code, role, name, email, phone, active FROM force_contacts",
                )
                .fetch_all(&mut *tx)
                .await?;
                let plan = crate::shared::plan_contacts(&stored, &records);
                // Order matters for the one-active-lead index: stand people down before
                // anyone is promoted.
                for (force, email) in &plan.deactivate {
                    sqlx::query("UPDATE force_contacts SET active = FALSE WHERE force_code = $1 AND email = $2")
                        .bind(force)
                        .bind(email)
                        .execute(&mut *tx)
                        .await?;
                }
                for r in &plan.update {
                    sqlx::query(
                        "UPDATE force_contacts SET role = $3, name = $4, phone = $5, active = TRUE WHERE force_code = $1 AND email = $2",
                    )
                    .bind(&r.force_code)
                    .bind(&r.email)
                    .bind(&r.role)
                    .bind(&r.name)
                    .bind(&r.phone)
                    .execute(&mut *tx)
                    .await?;
                }
                for r in &plan.insert {
                    sqlx::query(
                        "INSERT INTO force_contacts (force_code, role, name, email, phone, active) VALUES ($1, $2, $3, $4, $5, TRUE)",
                    )
                    .bind(&r.force_code)
                    .bind(&r.role)
                    .bind(&r.name)
                    .bind(&r.email)
                    .bind(&r.phone)
                    .execute(&mut *tx)
                    .await?;
                }
                Self::audit_import(&mut *tx, mode, "contacts", &plan.outcome).await?;
                crate::shared::finish(tx, mode).await?;
                Ok(plan.outcome)
            }

            async fn constituency_names(
                &self,
            ) -> Result<Vec<(shield_domain::ConstituencyCode, String)>, crate::StoreError> {
                let rows: Vec<(String, String)> =
                    sqlx::query_as("SELECT code, name FROM constituencies")
                        .fetch_all(&self.pool)
                        .await?;
                rows.into_iter()
                    .map(|(code, name)| Ok((crate::records::constituency_code(&code)?, name)))
                    .collect()
            }

            async fn force_codes(&self) -> Result<Vec<shield_domain::ForceCode>, crate::StoreError> {
                let rows: Vec<(String,)> = sqlx::query_as("SELECT code FROM forces")
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter()
                    .map(|(code,)| crate::records::force_code(&code))
                    .collect()
            }

            async fn stats(&self) -> Result<shield_domain::Stats, crate::StoreError> {
                let row: (i64, i64, i64, i64, i64, i64) = sqlx::query_as(
                    "SELECT
                        (SELECT COUNT(*) FROM constituencies),
                        (SELECT COUNT(*) FROM forces),
                        (SELECT COUNT(*) FROM constituency_forces),
                        (SELECT COUNT(*) FROM (SELECT constituency_code FROM constituency_forces
                            GROUP BY constituency_code HAVING COUNT(*) > 1) AS cross_force),
                        (SELECT COUNT(*) FROM candidates),
                        (SELECT COUNT(*) FROM candidates c WHERE NOT EXISTS
                            (SELECT 1 FROM constituency_forces l WHERE l.constituency_code = c.constituency_code))",
                )
                .fetch_one(&self.pool)
                .await?;
                let n = |v: i64| u64::try_from(v).unwrap_or_default();
                Ok(shield_domain::Stats {
                    constituencies: n(row.0),
                    forces: n(row.1),
                    constituency_forces: n(row.2),
                    cross_force_constituencies: n(row.3),
                    candidates: n(row.4),
                    candidates_without_force: n(row.5),
                })
            }

            async fn elections(&self) -> Result<Vec<shield_domain::Election>, crate::StoreError> {
                let rows: Vec<crate::records::ElectionRecord> =
                    sqlx::query_as("SELECT id, name, kind, polling_day FROM elections")
                        .fetch_all(&self.pool)
                        .await?;
                let mut elections = rows
                    .into_iter()
                    .map(crate::records::ElectionRecord::into_domain)
                    .collect::<Result<Vec<_>, _>>()?;
                elections.sort_by(|a, b| b.polling_day.cmp(&a.polling_day).then(a.id.cmp(&b.id)));
                Ok(elections)
            }

            async fn constituency_summaries(
                &self,
                election: Option<&shield_domain::ElectionId>,
            ) -> Result<Vec<crate::ConstituencySummary>, crate::StoreError> {
                let constituencies: Vec<crate::records::ConstituencyRecord> = sqlx::query_as(
                    "SELECT code, name, name_cy, nation, region_code, region_name FROM constituencies",
                )
                .fetch_all(&self.pool)
                .await?;
                let links: Vec<crate::shared::LinkRow> = sqlx::query_as(
                    "SELECT l.constituency_code, l.force_code, f.force_name, l.pop_share, l.is_primary
                     FROM constituency_forces l JOIN forces f ON f.code = l.force_code",
                )
                .fetch_all(&self.pool)
                .await?;
                let counts: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT constituency_code, COUNT(*) FROM candidates
                     WHERE ($1 IS NULL OR election_id = $1) GROUP BY constituency_code",
                )
                .bind(election.map(|e| e.as_str().to_owned()))
                .fetch_all(&self.pool)
                .await?;
                crate::shared::assemble_summaries(constituencies, links, counts)
            }

            async fn constituency_detail(
                &self,
                code: &shield_domain::ConstituencyCode,
                election: Option<&shield_domain::ElectionId>,
            ) -> Result<Option<crate::ConstituencyDetail>, crate::StoreError> {
                let constituency: Option<crate::records::ConstituencyRecord> = sqlx::query_as(
                    "SELECT code, name, name_cy, nation, region_code, region_name FROM constituencies WHERE code = $1",
                )
                .bind(code.as_str())
                .fetch_optional(&self.pool)
                .await?;
                let Some(constituency) = constituency else {
                    return Ok(None);
                };
                let links: Vec<crate::shared::LinkRow> = sqlx::query_as(
                    "SELECT l.constituency_code, l.force_code, f.force_name, l.pop_share, l.is_primary
                     FROM constituency_forces l JOIN forces f ON f.code = l.force_code
                     WHERE l.constituency_code = $1",
                )
                .bind(code.as_str())
                .fetch_all(&self.pool)
                .await?;
                let candidates: Vec<(i64, String, String, Option<bool>)> = sqlx::query_as(
                    "SELECT person_id, name, party, elected FROM candidates
                     WHERE constituency_code = $1 AND ($2 IS NULL OR election_id = $2)",
                )
                .bind(code.as_str())
                .bind(election.map(|e| e.as_str().to_owned()))
                .fetch_all(&self.pool)
                .await?;
                crate::shared::assemble_detail(constituency, links, candidates).map(Some)
            }

            async fn force_summaries(
                &self,
                election: Option<&shield_domain::ElectionId>,
            ) -> Result<Vec<crate::ForceSummary>, crate::StoreError> {
                let forces: Vec<crate::records::ForceRecord> = sqlx::query_as(
                    "SELECT code, area_name, force_name, police_uk_id, nation FROM forces",
                )
                .fetch_all(&self.pool)
                .await?;
                let links: Vec<(String, i64, i64)> = sqlx::query_as(
                    "SELECT force_code, SUM(CASE WHEN is_primary THEN 1 ELSE 0 END), COUNT(*)
                     FROM constituency_forces GROUP BY force_code",
                )
                .fetch_all(&self.pool)
                .await?;
                let candidates: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT l.force_code, COUNT(*) FROM candidates c
                     JOIN constituency_forces l ON l.constituency_code = c.constituency_code
                     WHERE ($1 IS NULL OR c.election_id = $1) GROUP BY l.force_code",
                )
                .bind(election.map(|e| e.as_str().to_owned()))
                .fetch_all(&self.pool)
                .await?;
                let contacts: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT force_code, COUNT(*) FROM force_contacts WHERE active GROUP BY force_code",
                )
                .fetch_all(&self.pool)
                .await?;
                crate::shared::assemble_forces(forces, links, candidates, contacts)
            }
        }
    };
}

pub(crate) use store_impl;

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::StoreError;
use crate::model::{
    CandidateListing, ConstituencyDetail, ConstituencySummary, ForceLink, ForceSummary, ImportMode,
    ImportOutcome,
};
use crate::records::{self, ConstituencyRecord, ContactRecord, ForceRecord, LinkRecord};

/// Commits, or in a dry run rolls back, an import's transaction.
pub(crate) async fn finish<DB: sqlx::Database>(
    tx: crate::write::WriteTx<DB>,
    mode: ImportMode,
) -> Result<(), StoreError> {
    match mode {
        ImportMode::Commit => tx.commit().await?,
        ImportMode::DryRun => tx.rollback().await?,
    }
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct LinkRow {
    pub constituency_code: String,
    pub force_code: String,
    pub force_name: String,
    pub pop_share: f64,
    pub is_primary: bool,
}

#[derive(Debug, Default)]
pub(crate) struct LinkPlan {
    /// Constituencies whose stored links are deleted before `insert` is written.
    pub replace: Vec<String>,
    pub insert: Vec<LinkRecord>,
    pub outcome: ImportOutcome,
}

/// Works out which constituencies' link sets change. A constituency's links are replaced as a
/// whole, so the one-primary-per-constituency index never sees a half-updated set.
pub(crate) fn plan_links(stored: &[LinkRecord], incoming: &[LinkRecord]) -> LinkPlan {
    let group = |rows: &[LinkRecord]| {
        let mut map: BTreeMap<String, Vec<LinkRecord>> = BTreeMap::new();
        for r in rows {
            map.entry(r.constituency_code.clone())
                .or_default()
                .push(r.clone());
        }
        for v in map.values_mut() {
            v.sort_by(|a, b| a.force_code.cmp(&b.force_code));
        }
        map
    };
    let stored = group(stored);
    let mut plan = LinkPlan::default();
    for (code, new) in group(incoming) {
        match stored.get(&code) {
            Some(old) if *old == new => plan.outcome.unchanged += new.len() as u64,
            Some(old) => {
                for r in &new {
                    match old.iter().find(|o| o.force_code == r.force_code) {
                        Some(o) if o == r => plan.outcome.unchanged += 1,
                        Some(_) => plan.outcome.updated += 1,
                        None => plan.outcome.inserted += 1,
                    }
                }
                plan.outcome.removed += old
                    .iter()
                    .filter(|o| !new.iter().any(|r| r.force_code == o.force_code))
                    .count() as u64;
                plan.replace.push(code);
                plan.insert.extend(new);
            }
            None => {
                plan.outcome.inserted += new.len() as u64;
                plan.insert.extend(new);
            }
        }
    }
    plan
}

#[derive(Debug, Default)]
pub(crate) struct ContactPlan {
    pub deactivate: Vec<(String, String)>,
    /// Deputies first, so a lead is only promoted once the old lead has stood down.
    pub update: Vec<ContactRecord>,
    pub insert: Vec<ContactRecord>,
    pub outcome: ImportOutcome,
}

pub(crate) fn plan_contacts(stored: &[ContactRecord], incoming: &[ContactRecord]) -> ContactPlan {
    let key = |r: &ContactRecord| (r.force_code.clone(), r.email.clone());
    let stored_by_key: HashMap<(String, String), &ContactRecord> =
        stored.iter().map(|r| (key(r), r)).collect();
    let incoming_keys: HashSet<(String, String)> = incoming.iter().map(key).collect();
    let forces: HashSet<&str> = incoming.iter().map(|r| r.force_code.as_str()).collect();
    let mut plan = ContactPlan::default();
    for r in stored {
        if r.active && forces.contains(r.force_code.as_str()) && !incoming_keys.contains(&key(r)) {
            plan.deactivate.push(key(r));
            plan.outcome.removed += 1;
        }
    }
    for r in incoming {
        match stored_by_key.get(&key(r)) {
            None => {
                plan.insert.push(r.clone());
                plan.outcome.inserted += 1;
            }
            Some(old) if *old == r => plan.outcome.unchanged += 1,
            Some(_) => {
                plan.update.push(r.clone());
                plan.outcome.updated += 1;
            }
        }
    }
    plan.update.sort_by_key(|r| r.role == "lead");
    plan.insert.sort_by_key(|r| r.role == "lead");
    plan
}

fn count(v: i64) -> u64 {
    u64::try_from(v).unwrap_or_default()
}

fn link_map(links: Vec<LinkRow>) -> Result<HashMap<String, Vec<ForceLink>>, StoreError> {
    let mut map: HashMap<String, Vec<ForceLink>> = HashMap::new();
    for l in links {
        map.entry(l.constituency_code).or_default().push(ForceLink {
            code: records::force_code(&l.force_code)?,
            force_name: l.force_name,
            pop_share: l.pop_share,
            is_primary: l.is_primary,
        });
    }
    for v in map.values_mut() {
        v.sort_by(|a, b| {
            b.is_primary
                .cmp(&a.is_primary)
                .then(b.pop_share.total_cmp(&a.pop_share))
                .then(a.code.cmp(&b.code))
        });
    }
    Ok(map)
}

fn summary(
    c: ConstituencyRecord,
    links: &mut HashMap<String, Vec<ForceLink>>,
    candidates: u64,
) -> Result<ConstituencySummary, StoreError> {
    Ok(ConstituencySummary {
        forces: links.remove(&c.code).unwrap_or_default(),
        code: records::constituency_code(&c.code)?,
        name: c.name,
        name_cy: c.name_cy,
        nation: records::nation(&c.nation)?,
        region_name: c.region_name,
        candidates,
    })
}

/// Sorts by name without regard to case, the same on both backends.
pub(crate) fn name_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.to_lowercase().cmp(&b.to_lowercase()).then(a.cmp(b))
}

pub(crate) fn assemble_summaries(
    constituencies: Vec<ConstituencyRecord>,
    links: Vec<LinkRow>,
    counts: Vec<(String, i64)>,
) -> Result<Vec<ConstituencySummary>, StoreError> {
    let mut links = link_map(links)?;
    let counts: HashMap<String, i64> = counts.into_iter().collect();
    let mut out = constituencies
        .into_iter()
        .map(|c| {
            let n = counts.get(&c.code).copied().unwrap_or(0);
            summary(c, &mut links, count(n))
        })
        .collect::<Result<Vec<_>, _>>()?;
    out.sort_by(|a, b| name_order(&a.name, &b.name));
    Ok(out)
}

pub(crate) fn assemble_detail(
    constituency: ConstituencyRecord,
    links: Vec<LinkRow>,
    candidates: Vec<(i64, String, String, Option<bool>)>,
) -> Result<ConstituencyDetail, StoreError> {
    let mut links = link_map(links)?;
    let mut listings = candidates
        .into_iter()
        .map(|(person_id, name, party, elected)| {
            Ok(CandidateListing {
                person_id: records::person_id(person_id)?,
                name,
                party,
                elected,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    listings.sort_by(|a, b| name_order(&a.name, &b.name).then(a.person_id.cmp(&b.person_id)));
    let n = listings.len() as u64;
    Ok(ConstituencyDetail {
        summary: summary(constituency, &mut links, n)?,
        candidates: listings,
    })
}

pub(crate) fn assemble_forces(
    forces: Vec<ForceRecord>,
    links: Vec<(String, i64, i64)>,
    candidates: Vec<(String, i64)>,
    contacts: Vec<(String, i64)>,
) -> Result<Vec<ForceSummary>, StoreError> {
    let links: HashMap<String, (i64, i64)> =
        links.into_iter().map(|(f, p, a)| (f, (p, a))).collect();
    let candidates: HashMap<String, i64> = candidates.into_iter().collect();
    let contacts: HashMap<String, i64> = contacts.into_iter().collect();
    let mut out = forces
        .into_iter()
        .map(|f| {
            let (primary, all) = links.get(&f.code).copied().unwrap_or((0, 0));
            Ok(ForceSummary {
                primary_constituencies: count(primary),
                all_constituencies: count(all),
                candidates: count(candidates.get(&f.code).copied().unwrap_or(0)),
                contacts: count(contacts.get(&f.code).copied().unwrap_or(0)),
                code: records::force_code(&f.code)?,
                nation: records::nation(&f.nation)?,
                area_name: f.area_name,
                force_name: f.force_name,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    out.sort_by(|a, b| name_order(&a.force_name, &b.force_name));
    Ok(out)
}
