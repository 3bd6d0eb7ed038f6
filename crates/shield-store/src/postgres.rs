//! The backend for a national deployment with several app instances sharing one database.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::{Backend, StoreError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone)]
pub struct PgStore {
    pub(crate) pool: PgPool,
}

impl PgStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?.application_name("candidate-shield");
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(5))
            // A connection the server dropped (restart, failover) is found before use.
            .test_before_acquire(true)
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Starts a write transaction (READ COMMITTED; writers that must be serialised, such as
    /// audit appends, take a row lock inside it).
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<crate::write::WriteTx<sqlx::Postgres>, StoreError> {
        Ok(crate::write::WriteTx::new(self.pool.begin().await?, None))
    }

    /// PostgreSQL needs no write queue.
    pub(crate) async fn write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        None
    }
}

crate::shared::store_impl!(PgStore, sqlx::Postgres, Backend::Postgres, MIGRATOR);
crate::audit::audit_impl!(
    PgStore,
    sqlx::Postgres,
    "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
);
crate::accounts::accounts_impl!(PgStore, sqlx::Postgres);
crate::outbox::outbox_impl!(PgStore, sqlx::Postgres, crate::outbox::POSTGRES_CLAIM);
crate::passkeys::passkeys_impl!(PgStore, sqlx::Postgres);
crate::settings::settings_impl!(PgStore);
crate::guidance::guidance_impl!(PgStore);
crate::reports::reports_impl!(
    PgStore,
    sqlx::Postgres,
    crate::reports_sql::POSTGRES_DUE_DEADLINES
);
crate::checkins::checkins_impl!(
    PgStore,
    sqlx::Postgres,
    crate::checkins::POSTGRES_DUE_CHECKINS,
    crate::checkins::POSTGRES_DUE_REMINDERS
);
crate::activities::activities_impl!(PgStore, sqlx::Postgres);
crate::delegates::delegates_impl!(PgStore, sqlx::Postgres);
crate::security_requests::security_impl!(
    PgStore,
    sqlx::Postgres,
    crate::security_requests::POSTGRES_DUE_SECURITY
);
crate::plan::plan_impl!(PgStore);
crate::briefings::briefings_impl!(PgStore);
crate::outreach::outreach_impl!(PgStore, sqlx::Postgres);
