//! The embedded backend: one file, WAL journal, `synchronous=FULL` so an acknowledged commit
//! survives power loss, foreign keys enforced.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::{Backend, StoreError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    /// This process's queue of writers (see `write.rs`).
    gate: crate::write::WriteGate,
}

impl SqliteStore {
    /// Opens (creating if missing) the database a `sqlite:` URL names.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let mut options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .foreign_keys(true)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        if !in_memory {
            options = options.journal_mode(SqliteJournalMode::Wal);
        }
        let pool = SqlitePoolOptions::new()
            // Every connection to `:memory:` would be a different database.
            .max_connections(if in_memory { 1 } else { 8 })
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            gate: crate::write::WriteGate::default(),
        })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Starts a write transaction. `BEGIN IMMEDIATE` takes the write lock at once, so two
    /// writers queue on the busy timeout instead of one failing with SQLITE_BUSY when it
    /// upgrades a read snapshot another writer has since moved past.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<crate::write::WriteTx<sqlx::Sqlite>, StoreError> {
        let turn = self.gate.turn().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(crate::write::WriteTx::new(tx, Some(turn)))
    }

    /// This process's write turn, for a single-statement write outside a transaction.
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        Some(self.gate.turn().await)
    }
}

crate::shared::store_impl!(SqliteStore, sqlx::Sqlite, Backend::Sqlite, MIGRATOR);
crate::audit::audit_impl!(SqliteStore, sqlx::Sqlite, "BEGIN");
crate::accounts::accounts_impl!(SqliteStore, sqlx::Sqlite);
crate::outbox::outbox_impl!(SqliteStore, sqlx::Sqlite, crate::outbox::SQLITE_CLAIM);
crate::passkeys::passkeys_impl!(SqliteStore, sqlx::Sqlite);
crate::settings::settings_impl!(SqliteStore);
crate::guidance::guidance_impl!(SqliteStore);
crate::reports::reports_impl!(
    SqliteStore,
    sqlx::Sqlite,
    crate::reports_sql::SQLITE_DUE_DEADLINES
);
crate::checkins::checkins_impl!(
    SqliteStore,
    sqlx::Sqlite,
    crate::checkins::SQLITE_DUE_CHECKINS,
    crate::checkins::SQLITE_DUE_REMINDERS
);
crate::activities::activities_impl!(SqliteStore, sqlx::Sqlite);
crate::delegates::delegates_impl!(SqliteStore, sqlx::Sqlite);
crate::security_requests::security_impl!(
    SqliteStore,
    sqlx::Sqlite,
    crate::security_requests::SQLITE_DUE_SECURITY
);
crate::plan::plan_impl!(SqliteStore);
crate::briefings::briefings_impl!(SqliteStore);
crate::outreach::outreach_impl!(SqliteStore, sqlx::Sqlite);
