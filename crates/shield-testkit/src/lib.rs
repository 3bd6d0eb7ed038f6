#![doc = include_str!("../README.md")]

pub mod browser;

pub use browser::{Browser, PHONE, page};
pub use shield_smtp_sink::{ReceivedEmail, SinkTimeout, SmtpSink};

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};
use shield_store::Store;
use sqlx::Connection;

/// The variable naming a PostgreSQL server the tests may create databases in.
pub const POSTGRES_ENV: &str = "SHIELD_TEST_POSTGRES_URL";

/// A fresh, migrated database for one test.
#[derive(Debug)]
pub struct TestDb {
    pub store: Arc<dyn Store>,
    pub url: SecretString,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, database: String },
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("shield.db").display());
        Self::open(url, Cleanup::Sqlite(dir)).await
    }

    pub async fn postgres() -> Self {
        let admin_url = std::env::var(POSTGRES_ENV).unwrap_or_else(|_| {
            panic!(
                "{POSTGRES_ENV} is not set: run the tests with scripts/test, which starts a \
                 throwaway PostgreSQL cluster, or point it at a server you may create databases in"
            )
        });
        let database = unique_name();
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("connect to the test PostgreSQL server");
        sqlx::query(&format!("CREATE DATABASE {database}"))
            .execute(&mut admin)
            .await
            .expect("create a test database");
        admin.close().await.ok();
        let url = replace_database(&admin_url, &database);
        Self::open(
            url,
            Cleanup::Postgres {
                admin_url,
                database,
            },
        )
        .await
    }

    async fn open(url: String, cleanup: Cleanup) -> Self {
        let url = SecretString::from(url);
        let store = shield_store::connect(&url)
            .await
            .expect("open the test database");
        store.migrate().await.expect("migrate the test database");
        Self {
            store,
            url,
            cleanup,
        }
    }

    pub fn url(&self) -> &str {
        self.url.expose_secret()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres {
            admin_url,
            database,
        } = &self.cleanup
        {
            let (admin_url, database) = (admin_url.clone(), database.clone());
            // Drop runs inside the test's runtime, so the cleanup gets a runtime of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    rt.block_on(async {
                        if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                            let _ = sqlx::query(&format!(
                                "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
                            ))
                            .execute(&mut admin)
                            .await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "shield_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// Swaps the database name in a `postgres://…/name?params` URL.
fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{database}?{q}"),
        None => format!("{root}/{database}"),
    }
}

/// A file from the real reference data in `../shared/data` (or `SHIELD_SHARED_DATA`).
pub fn shared_data(file: &str) -> PathBuf {
    let dir = std::env::var_os("SHIELD_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    let path = dir.join(file);
    assert!(
        path.exists(),
        "reference file {} is missing: the tests read ../shared/data beside the project",
        path.display()
    );
    path
}

/// Runs each named `async fn(TestDb)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::TestDb::sqlite().await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::TestDb::postgres().await).await
                }
            )*
        }
    };
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn swaps_database_name() {
        assert_eq!(
            replace_database("postgres://u@127.0.0.1:5433/postgres?sslmode=disable", "t1"),
            "postgres://u@127.0.0.1:5433/t1?sslmode=disable"
        );
        assert_eq!(
            replace_database("postgres://localhost", "t1"),
            "postgres://localhost/t1"
        );
        assert_eq!(
            replace_database("postgres:///postgres?host=/tmp/pg", "t1"),
            "postgres:///t1?host=/tmp/pg"
        );
    }
}
