//! Who uses the service, and in what capacity.

use std::fmt;

use serde::Serialize;

use crate::error::FieldError;

/// An account's internal id. Logs and audit events carry this, never a name or an email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A candidacy's internal id (the `candidates` row), the subject of most candidate data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct CandidateId(pub i64);

impl fmt::Display for CandidateId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The five roles of PRODUCT.md. An account has exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A person standing for election: their own record, reports, requests and plan.
    Candidate,
    /// An election agent or staff member acting for a candidate, within what they granted.
    Delegate,
    /// A named police contact (lead or deputy) of one or more forces.
    ForceContact,
    /// The national coordination team: everything operational.
    Coordinator,
    /// Runs the service: users, configuration, imports; never case content.
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Candidate,
        Role::Delegate,
        Role::ForceContact,
        Role::Coordinator,
        Role::Admin,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::Candidate => "candidate",
            Self::Delegate => "delegate",
            Self::ForceContact => "force_contact",
            Self::Coordinator => "coordinator",
            Self::Admin => "admin",
        }
    }

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|r| r.key() == value.trim())
            .ok_or_else(|| FieldError::new(format!("unknown role {value:?}")))
    }

    /// Police, coordinators and admins must sign in with a passkey (phishing-resistant, ASVS
    /// V6.3.3 at L3); candidates and delegates may use a password with an authenticator app.
    pub fn requires_passkey(self) -> bool {
        matches!(self, Self::ForceContact | Self::Coordinator | Self::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}
