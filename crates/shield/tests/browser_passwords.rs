//! The breached-password check in a real headless Chromium: the page hashes the password in
//! the browser and sends only the first five hex digits of its SHA-1. Every request the server
//! receives is recorded by a layer wrapped around the real router, and searched for the
//! password, its hash and the hash's suffix.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use sha1::{Digest, Sha1};
use shield_testkit::page::{arrive, click, fill};
use shield_testkit::{Browser, TestDb, both_backends};

both_backends!(password_check_sends_only_hash_prefix);

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    /// Everything a request carried, as text to search.
    fn all_text(&self) -> String {
        let mut text = format!("{} {} {:?}\n", self.method, self.path, self.query);
        for (name, value) in &self.headers {
            text.push_str(&format!("{name}: {value}\n"));
        }
        text.push_str(&String::from_utf8_lossy(&self.body));
        text
    }
}

type Log = Arc<Mutex<Vec<Seen>>>;

async fn record(State(log): State<Log>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    log.lock().unwrap().push(Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
    });
    next.run(Request::from_parts(parts, Body::from(body))).await
}

fn sha1_upper(text: &str) -> String {
    Sha1::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

async fn result_text(c: &fantoccini::Client) -> String {
    arrive(c, "#password-check-result")
        .await
        .text()
        .await
        .unwrap()
}

async fn password_check_sends_only_hash_prefix(db: TestDb) {
    const BREACHED: &str = "letmein";
    const NOT_BREACHED: &str = "vellum quarry otter 47 lantern";
    let breached_hash = sha1_upper(BREACHED);
    let clean_hash = sha1_upper(NOT_BREACHED);
    // The count the shipped list gives it, read from the list itself.
    let expected: u64 = shield::breached::DEMO_LIST
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{breached_hash}:")))
        .expect("the demo list holds letmein")
        .parse()
        .unwrap();
    assert!(
        !shield::breached::DEMO_LIST.contains(&clean_hash),
        "the clean password must not be in the list"
    );

    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("breached-passwords.bin");
    shield::breached::load_demo(&list).unwrap();
    let state = shield_web::AppState::new(db.store.clone())
        .with_breached_passwords(shield_breached::RangeStore::new(&list));
    let log: Log = Arc::default();
    let app =
        shield_web::router(state).layer(axum::middleware::from_fn_with_state(log.clone(), record));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    // `localhost`: a secure context, where `crypto.subtle` exists.
    let base = format!("http://localhost:{}", addr.port());

    let browser = Browser::phone().await;
    let c = &browser.client;
    c.goto(&format!("{base}/passwords/check")).await.unwrap();
    // The script reveals the form; without it the page says the check needs JavaScript.
    fill(c, "#password-to-check", BREACHED).await;
    click(c, "#check-password").await;
    let found = arrive(c, "#password-check-result[data-outcome='found']").await;
    assert_eq!(
        found.attr("data-count").await.unwrap().as_deref(),
        Some(expected.to_string().as_str())
    );
    let text = result_text(c).await;
    assert!(
        text.contains(&format!(
            "Found {} times in data breaches",
            thousands(expected)
        )),
        "{text}"
    );

    // A password not in the list is reported as not found.
    let input = arrive(c, "#password-to-check").await;
    input.clear().await.unwrap();
    input.send_keys(NOT_BREACHED).await.unwrap();
    click(c, "#check-password").await;
    arrive(c, "#password-check-result[data-outcome='not-found']").await;
    assert!(result_text(c).await.contains("Not found"));
    // The page still shows the page it loaded: the form was never submitted.
    assert_eq!(c.current_url().await.unwrap().path(), "/passwords/check");
    browser.close().await;
    server.abort();

    // What the server saw.
    let seen = log.lock().unwrap().clone();
    let range: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.path.starts_with("/range/"))
        .collect();
    let paths: Vec<&str> = range.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            format!("/range/{}", &breached_hash[..5]),
            format!("/range/{}", &clean_hash[..5])
        ],
        "one lookup per check, of exactly the first five hex digits"
    );
    for lookup in &range {
        assert_eq!(lookup.method, "GET");
        assert_eq!(lookup.query, None);
        assert!(lookup.body.is_empty());
        assert!(
            !lookup.headers.iter().any(|(n, _)| n == "cookie"),
            "a lookup carries no session: {lookup:?}"
        );
        assert!(
            lookup
                .headers
                .iter()
                .any(|(n, v)| n == "add-padding" && v == "true"),
            "the page asks for padding"
        );
    }
    // Every other request is the page and its assets (and the browser's favicon guess):
    // plain GETs with no body.
    for other in seen.iter().filter(|s| !s.path.starts_with("/range/")) {
        assert_eq!(other.method, "GET", "{other:?}");
        assert!(other.body.is_empty(), "{other:?}");
        assert!(
            matches!(
                other.path.as_str(),
                "/passwords/check"
                    | "/static/app.css"
                    | "/static/password-check.js"
                    | "/favicon.ico"
            ),
            "unexpected request {other:?}"
        );
    }
    // Nothing derived from either password beyond the prefix: not the password, not the full
    // hash, not the suffix, in any case, anywhere in any request.
    for (password, hash) in [(BREACHED, &breached_hash), (NOT_BREACHED, &clean_hash)] {
        let secrets = [
            password.to_owned(),
            password.replace(' ', "+"),
            password.replace(' ', "%20"),
            hash.clone(),
            hash.to_lowercase(),
            hash[5..].to_owned(),
            hash[5..].to_lowercase(),
        ];
        for request in &seen {
            let text = request.all_text();
            for secret in &secrets {
                assert!(
                    !text.contains(secret.as_str()),
                    "{secret:?} reached the server in {request:?}"
                );
            }
        }
    }
}
