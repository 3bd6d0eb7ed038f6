//! What every response shares: probes, security headers, error pages, and what gets logged.

mod common;

use std::sync::{Arc, Mutex};

use axum::http::Method;
use common::{Page, get, request, seed};
use shield_store::Store;
use shield_testkit::{TestDb, both_backends};

both_backends!(
    healthz_is_ok,
    readyz_names_the_backend,
    every_response_carries_the_security_headers,
    unsupported_methods_get_405,
    stylesheet_is_served_and_cached,
);

const SECURITY_HEADERS: [(&str, &str); 7] = [
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    (
        "strict-transport-security",
        "max-age=63072000; includeSubDomains",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    ),
];

fn assert_security_headers(page: &Page, what: &str) {
    for (name, value) in SECURITY_HEADERS {
        assert_eq!(page.header(name), Some(value), "{name} on {what}");
    }
}

async fn healthz_is_ok(db: TestDb) {
    let page = get(db.store.clone(), "/healthz").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), Some("application/json"));
    assert_eq!(page.body, r#"{"status":"ok"}"#);
}

async fn readyz_names_the_backend(db: TestDb) {
    let page = get(db.store.clone(), "/readyz").await;
    assert_eq!(page.status, 200);
    let body: serde_json::Value = serde_json::from_str(&page.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({ "status": "ready", "database": db.store.backend().name() })
    );
}

async fn every_response_carries_the_security_headers(db: TestDb) {
    seed(db.store.as_ref()).await;
    let cases = [
        (Method::GET, "/", 200),
        (Method::GET, "/constituencies/E14001588", 200),
        (Method::GET, "/forces", 200),
        (Method::GET, "/healthz", 200),
        (Method::GET, "/readyz", 200),
        (Method::GET, "/static/app.css", 200),
        (Method::HEAD, "/", 200),
        (Method::GET, "/?nation=atlantis", 400),
        (Method::GET, "/constituencies/nonsense", 400),
        (Method::GET, "/constituencies/E14009999", 404),
        (Method::GET, "/no/such/page", 404),
        (Method::POST, "/", 405),
        (Method::DELETE, "/forces", 405),
    ];
    for (method, uri, status) in cases {
        let what = format!("{method} {uri}");
        let page = request(db.store.clone(), method, uri).await;
        assert_eq!(page.status, status, "{what}");
        assert_security_headers(&page, &what);
        if uri != "/static/app.css" {
            assert_eq!(page.header("cache-control"), Some("no-store"), "{what}");
        }
    }
}

async fn unsupported_methods_get_405(db: TestDb) {
    for (method, uri) in [
        (Method::POST, "/"),
        (Method::PUT, "/constituencies/E14001588"),
        (Method::PATCH, "/healthz"),
    ] {
        let page = request(db.store.clone(), method.clone(), uri).await;
        assert_eq!(page.status, 405, "{method} {uri}");
        assert!(
            page.header("allow").is_some_and(|a| a.contains("GET")),
            "{method} {uri}: {:?}",
            page.headers
        );
        assert!(page.text().contains("This page cannot do that"));
    }
}

async fn stylesheet_is_served_and_cached(db: TestDb) {
    let page = get(db.store.clone(), "/static/app.css").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(
        page.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert!(page.body.contains("#1d70b8"));
    assert!(page.body.contains("#ffdd00"));
    // Pages link it with a fingerprint, so a new stylesheet gets a new URL.
    let home = get(db.store.clone(), "/").await;
    assert!(home.body.contains(r#"href="/static/app.css?v="#));
}

/// A real SQLite store whose schema was damaged behind its back: every page query fails with
/// a database error naming the missing table, which must reach the log once and never the page.
async fn broken_store() -> (TestDb, Arc<dyn Store>) {
    let db = TestDb::sqlite().await;
    let raw = shield_store::SqliteStore::connect(db.url()).await.unwrap();
    for table in ["constituencies", "forces"] {
        sqlx::query(&format!("ALTER TABLE {table} RENAME TO gone_{table}"))
            .execute(raw.pool())
            .await
            .unwrap();
    }
    let store = db.store.clone();
    (db, store)
}

/// A store whose pool has been closed: the database cannot be reached at all.
async fn unreachable_store() -> (TestDb, Arc<dyn Store>) {
    let db = TestDb::sqlite().await;
    let store = shield_store::SqliteStore::connect(db.url()).await.unwrap();
    store.pool().close().await;
    (db, Arc::new(store))
}

#[tokio::test]
async fn store_failure_is_a_generic_500_page() {
    let (_db, store) = broken_store().await;
    for uri in ["/", "/forces", "/constituencies/E14001588"] {
        let page = get(store.clone(), uri).await;
        assert_eq!(page.status, 500, "{uri}");
        assert!(
            page.text()
                .contains("Sorry, there is a problem with the service")
        );
        assert!(!page.body.contains("no such table"), "{uri}");
        assert_security_headers(&page, uri);
        assert_eq!(page.header("cache-control"), Some("no-store"));
    }
    // Liveness does not depend on the database.
    assert_eq!(get(store.clone(), "/healthz").await.status, 200);
}

#[tokio::test]
async fn unreachable_database_is_a_503() {
    let (_db, store) = unreachable_store().await;
    let page = get(store.clone(), "/").await;
    assert_eq!(page.status, 503);
    assert!(page.text().contains("Sorry, the service is unavailable"));
    assert_security_headers(&page, "503");

    let page = get(store.clone(), "/readyz").await;
    assert_eq!(page.status, 503);
    assert_eq!(page.body, r#"{"status":"unavailable"}"#);
}

/// Collects everything logged while a test runs.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_name_the_route_template_never_the_uri_or_search() {
    let db = TestDb::sqlite().await;
    seed(db.store.as_ref()).await;
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // The test runs on one thread, so a thread-local default sees every request's events.
    let _guard = tracing::subscriber::set_default(subscriber);

    get(db.store.clone(), "/?q=Jack+Rankin").await;
    get(
        db.store.clone(),
        "/constituencies/E14001588?election=parl.2024-07-04",
    )
    .await;
    get(db.store.clone(), "/no/such/Rankin").await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains(r#"route="/constituencies/{code}""#), "{logs}");
    assert!(logs.contains("method=GET"), "{logs}");
    for leaked in ["Rankin", "E14001588", "q=", "parl.2024"] {
        assert!(!logs.contains(leaked), "{leaked} in logs:\n{logs}");
    }

    // An internal error logs its cause once.
    let (_broken, store) = broken_store().await;
    captured.0.lock().unwrap().clear();
    get(store, "/forces").await;
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert_eq!(logs.matches("no such table").count(), 1, "{logs}");
    assert!(logs.contains(r#"route="/forces""#), "{logs}");
}
