//! A Democracy Club candidates CSV export, read by header name.
//!
//! Required: `person_id, person_name, election_id, election_date, party_name`, and at least one
//! of `gss`, `ballot_paper_id`, `post_label` to place the candidate. Optional: `email`, `phone`,
//! `elected`, and the `t`/`f` booleans `cancelled_poll` and `election_current`, which are
//! checked. Elections are created from `election_id` and `election_date`.

use std::collections::BTreeMap;

use shield_domain::election::parse_date;
use shield_domain::force::parse_bool;
use shield_domain::resolve::{ConstituencyResolver, ResolvedBy};
use shield_domain::{
    Candidate, ConstituencyCode, Election, ElectionId, Email, FieldError, PersonId, Phone,
};

use super::{CsvFile, ImportError, Unique};

#[derive(Debug)]
pub struct Parsed {
    pub elections: Vec<Election>,
    pub candidates: Vec<Candidate>,
    pub notes: Vec<String>,
}

pub fn parse(
    file: &CsvFile,
    constituencies: &[(ConstituencyCode, String)],
) -> Result<Parsed, ImportError> {
    let person_id = file.require(&["person_id", "id"])?;
    let person_name = file.require(&["person_name", "name"])?;
    let election_id = file.require(&["election_id", "election"])?;
    let election_date = file.require(&["election_date"])?;
    let party = file.require(&["party_name"])?;
    let gss = file.optional(&["gss", "gss_code"]);
    let ballot = file.optional(&["ballot_paper_id"]);
    let post_label = file.optional(&["post_label"]);
    if !gss.present() && !ballot.present() && !post_label.present() {
        return Err(ImportError::MissingColumn {
            file: file.name.clone(),
            column: "ballot_paper_id",
        });
    }
    let email = file.optional(&["email"]);
    let phone = file.optional(&["phone"]);
    let elected = file.optional(&["elected"]);
    let checked_booleans = [
        file.optional(&["cancelled_poll"]),
        file.optional(&["election_current"]),
    ];

    let resolver = ConstituencyResolver::new(constituencies.iter().map(|(c, n)| (c, n.as_str())));
    if resolver.is_empty() {
        return Err(ImportError::Field {
            file: file.name.clone(),
            line: 1,
            column: post_label.name.to_owned(),
            message:
                "no constituencies have been imported yet: run `shield import constituencies` first"
                    .into(),
        });
    }

    let mut elections: BTreeMap<ElectionId, Election> = BTreeMap::new();
    let mut unique = Unique::new();
    let mut repaired: BTreeMap<ResolvedBy, u64> = BTreeMap::new();
    let mut candidates = Vec::with_capacity(file.len());
    for row in file.rows() {
        let id = row.parse(&person_id, PersonId::parse)?;
        let election = row.parse(&election_id, ElectionId::parse)?;
        let day = row.parse(&election_date, parse_date)?;
        if !elections.contains_key(&election) {
            let e = Election::new(election.clone(), day, None)
                .map_err(|e| row.error(election_date.name, e))?;
            elections.insert(election.clone(), e);
        } else if election.polling_day() != day {
            return Err(row.error(
                election_date.name,
                FieldError::new(format!(
                    "polling day {day} does not match election id {election}"
                )),
            ));
        }
        unique
            .check(
                (election.clone(), id),
                row.line,
                &format!("person {id} in {election}"),
            )
            .map_err(|e| row.error(person_id.name, e))?;
        for column in &checked_booleans {
            row.parse_opt(column, parse_bool)?;
        }
        let (constituency, how) = resolver
            .resolve(row.get(&gss), row.get(&ballot), row.get(&post_label))
            .map_err(|e| row.error(e.column, e.error))?;
        if how != ResolvedBy::Gss {
            *repaired.entry(how).or_default() += 1;
        }
        candidates.push(Candidate {
            person_id: id,
            election,
            name: row.parse(&person_name, Candidate::name)?,
            party: row.parse(&party, Candidate::party)?,
            constituency,
            email: row.parse_opt(&email, Email::parse)?,
            phone: row.parse_opt(&phone, Phone::parse)?,
            elected: row.parse_opt(&elected, parse_bool)?,
        });
    }
    let notes = repaired
        .into_iter()
        .map(|(how, n)| {
            let by = match how {
                ResolvedBy::BallotPaperId => "ballot_paper_id",
                ResolvedBy::PostLabel => "post_label",
                ResolvedBy::Gss => "gss",
            };
            format!("{n} rows had an empty or stale gss; their constituency was found by {by}")
        })
        .collect();
    Ok(Parsed {
        elections: elections.into_values().collect(),
        candidates,
        notes,
    })
}
