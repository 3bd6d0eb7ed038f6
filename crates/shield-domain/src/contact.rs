//! The named police contacts of each force: the service's own roster, not public data.

use serde::Serialize;

use crate::candidate::{Email, Phone};
use crate::error::{FieldError, required_text};
use crate::force::ForceCode;

/// A force has a lead contact and one or more deputies; escalation runs lead → deputy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactRole {
    Lead,
    Deputy,
}

impl ContactRole {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        match value.trim().to_ascii_lowercase().as_str() {
            "lead" => Ok(Self::Lead),
            "deputy" => Ok(Self::Deputy),
            other => Err(FieldError::new(format!(
                "invalid contact role {other:?}: expected lead or deputy"
            ))),
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Self::Lead => "lead",
            Self::Deputy => "deputy",
        }
    }
}

/// A named police contact (Force Elected-Official Adviser) for one force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForceContact {
    pub force: ForceCode,
    pub role: ContactRole,
    pub name: String,
    pub email: Email,
    pub phone: Option<Phone>,
}

impl ForceContact {
    pub fn name(value: &str) -> Result<String, FieldError> {
        required_text(value, "contact name", 200)
    }
}

/// Checks a roster: each force named has exactly one lead.
pub fn check_roster(contacts: &[ForceContact]) -> Result<(), (usize, FieldError)> {
    use std::collections::BTreeMap;
    let mut leads: BTreeMap<&ForceCode, Vec<usize>> = BTreeMap::new();
    for (i, c) in contacts.iter().enumerate() {
        let entry = leads.entry(&c.force).or_default();
        if c.role == ContactRole::Lead {
            entry.push(i);
        }
    }
    for (force, lead_rows) in leads {
        if lead_rows.len() > 1 {
            return Err((
                lead_rows[1],
                FieldError::new(format!("force {force} has more than one lead contact")),
            ));
        }
    }
    Ok(())
}
