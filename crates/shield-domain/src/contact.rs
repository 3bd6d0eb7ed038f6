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

/// Checks a roster: each force named has exactly one lead, since escalation starts there.
/// Returns the index of the row to blame and why.
pub fn check_roster(contacts: &[ForceContact]) -> Result<(), (usize, FieldError)> {
    use std::collections::BTreeMap;
    let mut rows: BTreeMap<&ForceCode, (Vec<usize>, usize)> = BTreeMap::new();
    for (i, c) in contacts.iter().enumerate() {
        let entry = rows.entry(&c.force).or_default();
        entry.1 = i;
        if c.role == ContactRole::Lead {
            entry.0.push(i);
        }
    }
    for (force, (leads, last)) in rows {
        match leads.as_slice() {
            [_] => {}
            [] => {
                return Err((
                    last,
                    FieldError::new(format!("force {force} has no lead contact")),
                ));
            }
            [_, second, ..] => {
                return Err((
                    *second,
                    FieldError::new(format!("force {force} has more than one lead contact")),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(force: &str, role: ContactRole, email: &str) -> ForceContact {
        ForceContact {
            force: ForceCode::parse(force).unwrap(),
            role,
            name: "A Person".into(),
            email: Email::parse(email).unwrap(),
            phone: None,
        }
    }

    #[test]
    fn one_lead_per_force() {
        let ok = [
            contact("E23000001", ContactRole::Lead, "a@x.example"),
            contact("E23000001", ContactRole::Deputy, "b@x.example"),
        ];
        assert!(check_roster(&ok).is_ok());
        let two = [
            contact("E23000001", ContactRole::Lead, "a@x.example"),
            contact("E23000001", ContactRole::Lead, "b@x.example"),
        ];
        assert_eq!(check_roster(&two).unwrap_err().0, 1);
        let none = [contact("E23000001", ContactRole::Deputy, "b@x.example")];
        assert!(
            check_roster(&none)
                .unwrap_err()
                .1
                .message
                .contains("no lead")
        );
    }
}
