//! A browser-like client for in-process tests: keeps the session cookie, sends forms with a
//! same-origin `Origin`, and reads CSRF tokens and links out of pages.

#![allow(dead_code)] // Each test binary uses a different subset.

pub mod accounts;
pub mod ics;
pub mod live;
pub mod mail;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use shield_crypto::KeyRing;
use shield_domain::ManualClock;
use shield_store::Store;
use shield_web::{AppState, router};
use tower::ServiceExt;

pub const ORIGIN: &str = "http://localhost";

#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub set_cookie: Option<String>,
    pub body: String,
}

impl Page {
    /// The value of the first hidden CSRF field.
    pub fn csrf(&self) -> String {
        attr_after(&self.body, r#"name="csrf" value=""#).unwrap_or_default()
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        let mut in_tag = false;
        for c in self.body.chars() {
            match c {
                '<' => in_tag = true,
                '>' => {
                    in_tag = false;
                    out.push(' ');
                }
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .replace("&amp;", "&")
            .replace("&#39;", "'")
    }
}

pub fn attr_after(body: &str, marker: &str) -> Option<String> {
    let start = body.find(marker)? + marker.len();
    let end = body[start..].find('"')? + start;
    Some(body[start..end].to_owned())
}

/// One person's browser.
#[derive(Debug, Clone)]
pub struct Client {
    pub state: AppState,
    pub cookie: Option<String>,
    /// The address this browser connects from (each client its own, for the rate limits).
    pub peer: std::net::SocketAddr,
}

impl Client {
    pub fn new(state: AppState) -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed).to_be_bytes();
        let ip = std::net::Ipv4Addr::new(10, n[1], n[2], n[3]);
        Self {
            state,
            cookie: None,
            peer: (ip, 40000).into(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.request("GET", path).body(Body::empty()).unwrap();
        self.send(request).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.post_with(path, form, &[("origin", ORIGIN)]).await
    }

    pub async fn post_with(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Page {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", k, urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut builder = self
            .request("POST", path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        self.send(builder.body(Body::from(body)).unwrap()).await
    }

    /// POSTs a JSON body with the API's CSRF header (`x-csrf-token`) and a same-origin
    /// `Origin`.
    pub async fn post_json(&mut self, path: &str, csrf: &str, json: &serde_json::Value) -> Page {
        let request = self
            .request("POST", path)
            .header(header::CONTENT_TYPE, "application/json")
            .header("origin", ORIGIN)
            .header("x-csrf-token", csrf)
            .body(Body::from(json.to_string()))
            .unwrap();
        self.send(request).await
    }

    /// POSTs `multipart/form-data` (as a browser sends a form with a file input): `fields` are
    /// text parts, `files` are `(field, filename, bytes)` parts.
    pub async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> Page {
        const BOUNDARY: &str = "----shield-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        for (name, filename, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; \
                     filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        let request = self
            .request("POST", path)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .header("origin", ORIGIN)
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    /// GETs a path and returns the raw response: status, headers and body bytes (for
    /// downloads, which need not be UTF-8).
    pub async fn get_bytes(&mut self, path: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let request = self.request("GET", path).body(Body::empty()).unwrap();
        let response = router(self.state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        (status, headers, body)
    }

    fn request(&self, method: &str, path: &str) -> axum::http::request::Builder {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "localhost")
            .extension(axum::extract::ConnectInfo(self.peer));
        if let Some(cookie) = &self.cookie {
            builder = builder.header(header::COOKIE, format!("__Host-shield={cookie}"));
        }
        builder
    }

    async fn send(&mut self, request: Request<Body>) -> Page {
        let response = router(self.state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        let set_cookie = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("__Host-shield="));
        if let Some(c) = &set_cookie {
            let value = c
                .trim_start_matches("__Host-shield=")
                .split(';')
                .next()
                .unwrap_or("")
                .to_owned();
            self.cookie = (!value.is_empty()).then_some(value);
        }
        let body = String::from_utf8(
            response
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .to_vec(),
        )
        .unwrap();
        Page {
            status,
            location,
            set_cookie,
            body,
        }
    }
}

fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// App state over a store with a hand-moved clock set to now, and fresh keys.
pub fn state(store: Arc<dyn Store>) -> (AppState, ManualClock) {
    let clock = ManualClock::at(chrono::Utc::now().timestamp_millis());
    let state = AppState::with(
        store,
        Arc::new(clock.clone()),
        Arc::new(KeyRing::generate()),
    );
    (state, clock)
}

pub const PASSWORD: &str = "marmalade orbit kettle";

/// Takes an invitation link through password and authenticator-app set-up; returns the
/// person's TOTP seed. Leaves the client signed in.
pub async fn enrol_with_password(client: &mut Client, link: &str) -> Vec<u8> {
    let page = client.get(link).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let page = client
        .post(
            link,
            &[
                ("csrf", &page.csrf()),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text());
    assert_eq!(page.location.as_deref(), Some("/enrol/authenticator"));
    let page = client.get("/enrol/authenticator").await;
    let key = page
        .body
        .split(r#"id="totp-key">"#)
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let secret = shield_web::auth::totp::secret_from_text(&key).unwrap();
    let code = shield_web::auth::totp::code_at(&secret, client.state.clock.now_ms());
    let page = client
        .post(
            "/enrol/authenticator",
            &[("csrf", &page.csrf()), ("code", &code)],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(page.text().contains("Save your recovery codes"));
    secret
}

/// Signs in with password and a code for the clock's current step.
pub async fn sign_in(client: &mut Client, email: &str, password: &str, secret: &[u8]) -> Page {
    let page = client.get("/sign-in").await;
    let page = client
        .post(
            "/sign-in",
            &[
                ("csrf", &page.csrf()),
                ("email", email),
                ("password", password),
            ],
        )
        .await;
    if page.status != StatusCode::SEE_OTHER {
        return page;
    }
    let page = client.get("/sign-in/code").await;
    let code = shield_web::auth::totp::code_at(secret, client.state.clock.now_ms());
    client
        .post("/sign-in/code", &[("csrf", &page.csrf()), ("code", &code)])
        .await
}
