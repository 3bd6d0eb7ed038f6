//! Shapes the store hands to the web layer and the command line.

use std::fmt;

use serde::Serialize;
use shield_domain::{ConstituencyCode, ForceCode, Nation, PersonId};

/// Whether an import commits or only reports what it would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    Commit,
    DryRun,
}

/// What one import did (or, in a dry run, would do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ImportOutcome {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub removed: u64,
}

impl ImportOutcome {
    pub fn changed(&self) -> u64 {
        self.inserted + self.updated + self.removed
    }
}

impl fmt::Display for ImportOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} new, {} updated, {} unchanged",
            self.inserted, self.updated, self.unchanged
        )?;
        if self.removed > 0 {
            write!(f, ", {} removed", self.removed)?;
        }
        Ok(())
    }
}

/// A force serving a constituency, with the share of its people.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForceLink {
    pub code: ForceCode,
    pub force_name: String,
    pub pop_share: f64,
    pub is_primary: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConstituencySummary {
    pub code: ConstituencyCode,
    pub name: String,
    pub name_cy: Option<String>,
    pub nation: Nation,
    pub region_name: Option<String>,
    /// Primary force first.
    pub forces: Vec<ForceLink>,
    pub candidates: u64,
}

impl ConstituencySummary {
    pub fn is_cross_force(&self) -> bool {
        self.forces.len() > 1
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandidateListing {
    pub person_id: PersonId,
    pub name: String,
    pub party: String,
    pub elected: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConstituencyDetail {
    pub summary: ConstituencySummary,
    pub candidates: Vec<CandidateListing>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForceSummary {
    pub code: ForceCode,
    pub area_name: String,
    pub force_name: String,
    pub nation: Nation,
    /// Constituencies this force is the primary force of.
    pub primary_constituencies: u64,
    /// Constituencies it serves at all, including as the minority force.
    pub all_constituencies: u64,
    /// Candidates in the constituencies it serves.
    pub candidates: u64,
    /// Active named contacts.
    pub contacts: u64,
}
