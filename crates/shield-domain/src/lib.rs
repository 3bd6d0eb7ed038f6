#![doc = include_str!("../README.md")]

pub mod account;
pub mod audit;
pub mod candidate;
pub mod checkin;
pub mod clock;
pub mod constituency;
pub mod contact;
pub mod election;
mod error;
pub mod evidence;
pub mod force;
pub mod guidance;
pub mod plan;
pub mod policy;
pub mod report;
pub mod resolve;
pub mod security;
pub mod session;
pub mod slug;
pub mod stats;
pub mod uktime;

pub use account::{CandidateId, Role, UserId};
pub use candidate::{Candidate, Email, PersonId, Phone};
pub use clock::{Clock, EpochMs, ManualClock};
pub use constituency::{Constituency, ConstituencyCode, Nation, Region};
pub use contact::{ContactRole, ForceContact};
pub use election::{Election, ElectionId};
pub use error::FieldError;
pub use force::{ConstituencyForce, ForceCode, PoliceForce, PopShare};
pub use stats::Stats;
