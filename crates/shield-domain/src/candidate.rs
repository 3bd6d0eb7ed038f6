//! Candidates as Democracy Club lists them: one person standing in one election.

use std::fmt;

use serde::Serialize;

use crate::constituency::ConstituencyCode;
use crate::election::ElectionId;
use crate::error::{FieldError, required_text};

/// Democracy Club's person id: a positive integer, stable across elections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct PersonId(i64);

impl PersonId {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        match value.trim().parse::<i64>() {
            Ok(id) if id > 0 => Ok(Self(id)),
            _ => Err(FieldError::new(format!(
                "invalid person id {value:?}: expected a positive whole number"
            ))),
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An email address, checked for shape only (one `@`, a dotted domain, no spaces); whether it
/// reaches a person is for the invitation to find out.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        let value = value.trim();
        let bad = || FieldError::new(format!("invalid email address {value:?}"));
        let (local, domain) = value.split_once('@').ok_or_else(bad)?;
        let ok = !local.is_empty()
            && local.len() <= 64
            && value.len() <= 254
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !value
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
        if !ok {
            return Err(bad());
        }
        Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A UK phone number, normalised to digits with a leading `+44` or `0`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        let value = value.trim();
        let bad = || FieldError::new(format!("invalid UK phone number {value:?}"));
        if !value
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '+'))
        {
            return Err(bad());
        }
        let digits: String = value.chars().filter(char::is_ascii_digit).collect();
        let national = if let Some(rest) = value.strip_prefix("+44") {
            let rest: String = rest.chars().filter(char::is_ascii_digit).collect();
            format!("0{}", rest.trim_start_matches('0'))
        } else if value.starts_with('+') {
            return Err(bad());
        } else {
            digits
        };
        if !national.starts_with('0') || !(10..=11).contains(&national.len()) {
            return Err(bad());
        }
        Ok(Self(national))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One candidacy: a person standing for a party in a constituency at an election.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub person_id: PersonId,
    pub election: ElectionId,
    pub name: String,
    pub party: String,
    pub constituency: ConstituencyCode,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub elected: Option<bool>,
}

impl Candidate {
    pub fn name(value: &str) -> Result<String, FieldError> {
        required_text(value, "candidate name", 200)
    }

    pub fn party(value: &str) -> Result<String, FieldError> {
        required_text(value, "party name", 200)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_ids() {
        assert_eq!(PersonId::parse("116264").unwrap().get(), 116264);
        assert!(PersonId::parse("0").is_err());
        assert!(PersonId::parse("-4").is_err());
        assert!(PersonId::parse("12a").is_err());
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Jo@Example.ORG ").unwrap().as_str(),
            "Jo@example.org"
        );
        for bad in [
            "",
            "jo",
            "jo@",
            "@example.org",
            "jo@example",
            "jo @example.org",
            "a@b@c.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones() {
        assert_eq!(
            Phone::parse("+44 20 7946 0000").unwrap().as_str(),
            "02079460000"
        );
        assert_eq!(
            Phone::parse("07700 900123").unwrap().as_str(),
            "07700900123"
        );
        assert!(Phone::parse("+1 202 555 0100").is_err());
        assert!(Phone::parse("12345").is_err());
        assert!(Phone::parse("0770090012x").is_err());
    }

    #[test]
    fn names() {
        assert!(Candidate::name("  ").is_err());
        assert_eq!(Candidate::name(" Alex Baker ").unwrap(), "Alex Baker");
    }
}
