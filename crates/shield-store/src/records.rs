//! Flat, database-shaped copies of the domain types. Imports compare these with what is
//! stored, and the read side turns them back into domain values.

use chrono::NaiveDate;
use shield_domain::{
    Candidate, Constituency, ConstituencyCode, ConstituencyForce, Election, ForceCode,
    ForceContact, Nation, PersonId, PoliceForce,
};

use crate::StoreError;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub(crate) struct ElectionRecord {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub polling_day: NaiveDate,
}

impl From<&Election> for ElectionRecord {
    fn from(e: &Election) -> Self {
        Self {
            id: e.id.as_str().to_owned(),
            name: e.name.clone(),
            kind: e.kind.clone(),
            polling_day: e.polling_day,
        }
    }
}

impl ElectionRecord {
    pub fn into_domain(self) -> Result<Election, StoreError> {
        let id = shield_domain::ElectionId::parse(&self.id).map_err(corrupt)?;
        Election::new(id, self.polling_day, Some(&self.name)).map_err(corrupt)
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub(crate) struct ConstituencyRecord {
    pub code: String,
    pub name: String,
    pub name_cy: Option<String>,
    pub nation: String,
    pub region_code: Option<String>,
    pub region_name: Option<String>,
}

impl From<&Constituency> for ConstituencyRecord {
    fn from(c: &Constituency) -> Self {
        Self {
            code: c.code.as_str().to_owned(),
            name: c.name.clone(),
            name_cy: c.name_cy.clone(),
            nation: c.nation.key().to_owned(),
            region_code: c.region.as_ref().map(|r| r.code.clone()),
            region_name: c.region.as_ref().map(|r| r.name.clone()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub(crate) struct ForceRecord {
    pub code: String,
    pub area_name: String,
    pub force_name: String,
    pub police_uk_id: Option<String>,
    pub nation: String,
}

impl From<&PoliceForce> for ForceRecord {
    fn from(f: &PoliceForce) -> Self {
        Self {
            code: f.code.as_str().to_owned(),
            area_name: f.area_name.clone(),
            force_name: f.force_name.clone(),
            police_uk_id: f.police_uk_id.clone(),
            nation: f.nation.key().to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub(crate) struct LinkRecord {
    pub constituency_code: String,
    pub force_code: String,
    pub pop_share: f64,
    pub is_primary: bool,
}

impl From<&ConstituencyForce> for LinkRecord {
    fn from(l: &ConstituencyForce) -> Self {
        Self {
            constituency_code: l.constituency.as_str().to_owned(),
            force_code: l.force.as_str().to_owned(),
            pop_share: l.pop_share.get(),
            is_primary: l.is_primary,
        }
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub(crate) struct CandidateRecord {
    pub election_id: String,
    pub person_id: i64,
    pub name: String,
    pub party: String,
    pub constituency_code: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub elected: Option<bool>,
}

impl From<&Candidate> for CandidateRecord {
    fn from(c: &Candidate) -> Self {
        Self {
            election_id: c.election.as_str().to_owned(),
            person_id: c.person_id.get(),
            name: c.name.clone(),
            party: c.party.clone(),
            constituency_code: c.constituency.as_str().to_owned(),
            email: c.email.as_ref().map(|e| e.as_str().to_owned()),
            phone: c.phone.as_ref().map(|p| p.as_str().to_owned()),
            elected: c.elected,
        }
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub(crate) struct ContactRecord {
    pub force_code: String,
    pub role: String,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub active: bool,
}

impl From<&ForceContact> for ContactRecord {
    fn from(c: &ForceContact) -> Self {
        Self {
            force_code: c.force.as_str().to_owned(),
            role: c.role.key().to_owned(),
            name: c.name.clone(),
            email: c.email.as_str().to_owned(),
            phone: c.phone.as_ref().map(|p| p.as_str().to_owned()),
            active: true,
        }
    }
}

pub(crate) fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

pub(crate) fn nation(value: &str) -> Result<Nation, StoreError> {
    Nation::parse(value).map_err(corrupt)
}

pub(crate) fn constituency_code(value: &str) -> Result<ConstituencyCode, StoreError> {
    ConstituencyCode::parse(value).map_err(corrupt)
}

pub(crate) fn force_code(value: &str) -> Result<ForceCode, StoreError> {
    ForceCode::parse(value).map_err(corrupt)
}

pub(crate) fn person_id(value: i64) -> Result<PersonId, StoreError> {
    PersonId::parse(&value.to_string()).map_err(corrupt)
}
