#![doc = include_str!("../README.md")]

pub mod accounts;
pub mod activities;
mod audit;
pub mod briefings;
pub mod checkins;
mod clock;
pub mod delegates;
mod diff;
mod error;
pub mod guidance;
pub mod model;
mod outbox;
pub mod outreach;
pub mod passkeys;
pub mod plan;
mod postgres;
mod records;
pub mod reports;
mod reports_sql;
pub mod security_requests;
mod settings;
mod shared;
mod sqlite;
mod write;

use std::sync::Arc;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use shield_domain::{
    Candidate, Constituency, ConstituencyCode, ConstituencyForce, Election, ElectionId, ForceCode,
    ForceContact, PoliceForce, Stats,
};

pub use activities::{ActivityRecord, ActivityStore, NewActivity};
pub use audit::{AuditStore, AuditVerification};
pub use briefings::{
    BriefingRecord, BriefingStore, NewBriefing, RegisterOutcome, Registrant, Registration,
};
pub use checkins::{
    BUDDY_ALARM, CHECKIN_REMINDER, CheckinRecord, CheckinStatus, CheckinStore, EndKind, NewCheckin,
    PinHashes, Timers, WrongPin,
};
pub use clock::SystemClock;
pub use error::StoreError;
pub use guidance::{GuidanceArticle, GuidanceDraft, GuidanceStore, GuidanceVersion, Which};
pub use model::{
    CandidateListing, ConstituencyDetail, ConstituencySummary, ForceLink, ForceSummary, ImportMode,
    ImportOutcome,
};
pub use outbox::{
    ClaimedMessage, NewOutboxMessage, OutboxChannel, OutboxCounts, OutboxDelivery, OutboxParams,
    OutboxStatus, OutboxStore,
};
pub use outreach::{NewNudge, NudgeOutcome, NudgeRecord, OutreachStore};
pub use plan::{CandidateStanding, PlanRecord, PlanStore};
pub use postgres::PgStore;
pub use reports::{
    CreatedReport, DeadlineStore, EvidenceMeta, FiredDeadlines, ForceWebhook, MessageRecord,
    NewEvidence, NewReport, ReportEvent, ReportFilter, ReportRecord, ReportRefusal, ReportStore,
    ReportSummary, Sealer, StatusChange,
};
pub use security_requests::{
    NewAssessment, NewDecision, NewSecurityRequest, SecurityEventRecord, SecurityFilter,
    SecurityRefusal, SecurityRequestRecord, SecurityRequestStore,
};
pub use settings::SettingsStore;
pub use sqlite::SqliteStore;
pub use write::WriteTx;

/// Which database a store talks to; shown on `/readyz` and in `shield stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// Everything the service keeps, behind one interface with two implementations. The same
/// contract suite (`tests/contract.rs`) runs against both; a difference in behaviour is a bug.
///
/// Each `import_*` call is one transaction: it writes every row of one file or none of them,
/// and a committed import that changed something writes one `import_committed` audit event in
/// that same transaction. The audit trail ([`AuditStore`]) is part of every store, and so is
/// the transactional outbox ([`OutboxStore`], delivered by `shield-jobs`).
#[async_trait]
pub trait Store:
    AuditStore
    + accounts::AccountStore
    + delegates::DelegateStore
    + OutboxStore
    + passkeys::PasskeyStore
    + reports::ReportStore
    + reports::DeadlineStore
    + settings::SettingsStore
    + checkins::CheckinStore
    + activities::ActivityStore
    + security_requests::SecurityRequestStore
    + guidance::GuidanceStore
    + plan::PlanStore
    + briefings::BriefingStore
    + outreach::OutreachStore
    + Send
    + Sync
    + std::fmt::Debug
{
    fn backend(&self) -> Backend;

    /// Applies this backend's migrations; safe to run on every start.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// A cheap round trip, for `/readyz`.
    async fn ping(&self) -> Result<(), StoreError>;

    async fn import_constituencies(
        &self,
        rows: &[Constituency],
        mode: ImportMode,
    ) -> Result<ImportOutcome, StoreError>;

    async fn import_forces(
        &self,
        rows: &[PoliceForce],
        mode: ImportMode,
    ) -> Result<ImportOutcome, StoreError>;

    /// Replaces the links of every constituency the rows mention; others are left alone.
    async fn import_constituency_forces(
        &self,
        rows: &[ConstituencyForce],
        mode: ImportMode,
    ) -> Result<ImportOutcome, StoreError>;

    /// Upserts the elections the candidates stand in, then the candidates.
    async fn import_candidates(
        &self,
        elections: &[Election],
        rows: &[Candidate],
        mode: ImportMode,
    ) -> Result<ImportOutcome, StoreError>;

    /// The file is the whole roster of each force it names: that force's contacts missing from
    /// it are deactivated (kept, since accounts will hang off them), never deleted.
    async fn import_contacts(
        &self,
        rows: &[ForceContact],
        mode: ImportMode,
    ) -> Result<ImportOutcome, StoreError>;

    /// Codes and names of every constituency, for resolving candidate rows.
    async fn constituency_names(&self) -> Result<Vec<(ConstituencyCode, String)>, StoreError>;

    async fn force_codes(&self) -> Result<Vec<ForceCode>, StoreError>;

    async fn stats(&self) -> Result<Stats, StoreError>;

    /// Elections, latest polling day first.
    async fn elections(&self) -> Result<Vec<Election>, StoreError>;

    /// Every constituency with its forces and, for the election given, its candidate count.
    async fn constituency_summaries(
        &self,
        election: Option<&ElectionId>,
    ) -> Result<Vec<ConstituencySummary>, StoreError>;

    async fn constituency_detail(
        &self,
        code: &ConstituencyCode,
        election: Option<&ElectionId>,
    ) -> Result<Option<ConstituencyDetail>, StoreError>;

    async fn force_summaries(
        &self,
        election: Option<&ElectionId>,
    ) -> Result<Vec<ForceSummary>, StoreError>;
}

/// Opens the store a URL names: `sqlite:///path/file.db`, `sqlite::memory:` or
/// `postgres://…`. The URL may hold a password, so it stays secret until the driver takes it.
pub async fn connect(url: &SecretString) -> Result<Arc<dyn Store>, StoreError> {
    let raw = url.expose_secret();
    if raw.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(raw).await?))
    } else if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(raw).await?))
    } else {
        Err(StoreError::UnsupportedUrl)
    }
}
