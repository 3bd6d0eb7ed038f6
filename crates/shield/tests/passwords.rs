//! The breached-password range endpoint over HTTP (in process), and its import command.
//! The browser side is `browser_passwords.rs`.

use std::path::Path;

use assert_cmd::Command;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use sha1::{Digest, Sha1};
use shield_testkit::{TestDb, both_backends};
use tower::ServiceExt;

both_backends!(range_endpoint_answers_in_the_pwned_passwords_shape);

fn sha1_upper(text: &str) -> String {
    Sha1::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

async fn get(
    app: &axum::Router,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

fn demo_count(hash: &str) -> u64 {
    shield::breached::DEMO_LIST
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{hash}:")))
        .unwrap()
        .parse()
        .unwrap()
}

async fn range_endpoint_answers_in_the_pwned_passwords_shape(db: TestDb) {
    // Without a list: a plain 503 saying so.
    let bare = shield_web::router(shield_web::AppState::new(db.store.clone()));
    let (status, _, body) = get(&bare, "/range/5BAA6", &[]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("no list has been imported"), "{body}");

    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("breached-passwords.bin");
    let summary = shield::breached::load_demo(&list).unwrap();
    assert_eq!(
        summary.hashes,
        shield::breached::DEMO_LIST.lines().count() as u64
    );
    let app = shield_web::router(
        shield_web::AppState::new(db.store.clone())
            .with_breached_passwords(shield_breached::RangeStore::new(&list)),
    );

    let password = sha1_upper("password");
    let (status, headers, body) = get(&app, &format!("/range/{}", &password[..5]), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/plain; charset=utf-8");
    assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=86400");
    let want = format!("{}:{}", &password[5..], demo_count(&password));
    let lines: Vec<&str> = body.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines.contains(&want.as_str()), "{body}");
    // Every line is SUFFIX:COUNT, 35 upper-case hex digits, and every hash of the shipped
    // list under this prefix is there.
    for line in &lines {
        let (suffix, count) = line.split_once(':').unwrap();
        assert_eq!(suffix.len(), 35);
        assert!(
            suffix
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        );
        assert!(count.parse::<u64>().unwrap() > 0);
    }
    let under = shield::breached::DEMO_LIST
        .lines()
        .filter(|l| l.starts_with(&password[..5]))
        .count();
    assert_eq!(lines.len(), under);

    // Lower-case prefixes are the same range; the ETag marks it unchanged.
    let (status, headers2, body2) = get(
        &app,
        &format!("/range/{}", password[..5].to_lowercase()),
        &[],
    )
    .await;
    assert_eq!((status, &body2), (StatusCode::OK, &body));
    let etag = headers[header::ETAG].to_str().unwrap().to_owned();
    assert_eq!(headers2[header::ETAG], etag.as_str());
    let (status, _, body) = get(
        &app,
        &format!("/range/{}", &password[..5]),
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());

    // Padding: 800 to 1,000 lines, the real ones still there, the padding counted 0.
    let (status, headers, body) = get(
        &app,
        &format!("/range/{}", &password[..5]),
        &[("add-padding", "true")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::VARY], "Add-Padding");
    let padded: Vec<&str> = body.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!((800..=1000).contains(&padded.len()), "{}", padded.len());
    assert!(padded.contains(&want.as_str()));
    assert_eq!(
        padded.iter().filter(|l| !l.ends_with(":0")).count(),
        under,
        "only the real hashes have a count"
    );

    // Anything but five hex digits: 400 with a message saying what is expected.
    for bad in ["5BAA", "5BAA61", "5BAAG", "5BAA6%20", "password"] {
        let (status, headers, body) = get(&app, &format!("/range/{bad}"), &[]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(headers[header::CONTENT_TYPE], "text/plain; charset=utf-8");
        assert!(body.contains("exactly 5 hexadecimal characters"), "{body}");
    }
}

fn shield_cmd(data: &Path) -> Command {
    let mut cmd = Command::cargo_bin("shield").unwrap();
    cmd.env("SHIELD_DATA_DIR", data).env("SHIELD_LOG", "warn");
    cmd
}

#[test]
fn import_command_replaces_the_list_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("pwned.txt");
    let letmein = sha1_upper("letmein");
    let qwerty = sha1_upper("qwerty");
    std::fs::write(
        &good,
        format!(
            "{letmein}:1136787\r\n{}:4\n\n{qwerty}:5\n",
            letmein.to_lowercase()
        ),
    )
    .unwrap();
    let out = shield_cmd(dir.path())
        .args(["import", "breached-passwords"])
        .arg(&good)
        .arg("--json")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["lines"], 3);
    assert_eq!(report["hashes"], 2);
    assert_eq!(report["duplicates"], 1);
    let range = dir.path().join("breached-passwords.bin");
    assert_eq!(
        report["bytes"].as_u64().unwrap(),
        std::fs::metadata(&range).unwrap().len()
    );
    let file = shield_breached::RangeFile::open(&range).unwrap();
    let entries = file
        .range(shield_breached::Prefix::parse(&letmein[..5]).unwrap())
        .unwrap();
    let merged = entries
        .iter()
        .find(|e| e.suffix_str() == &letmein[5..])
        .unwrap();
    assert_eq!(merged.count, 1_136_791);
    let before = std::fs::read(&range).unwrap();

    // A bad line: the command fails naming the file and the line, and the old list stays.
    let bad = dir.path().join("pwned_bad.txt");
    std::fs::write(&bad, format!("{qwerty}:5\n{}:7\n", &letmein[..30])).unwrap();
    let out = shield_cmd(dir.path())
        .args(["import", "breached-passwords"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("pwned_bad.txt: line 2: the hash must be 40 hex digits"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&range).unwrap(), before);

    // --dry-run checks and writes nothing.
    std::fs::remove_file(&range).unwrap();
    let out = shield_cmd(dir.path())
        .args(["import", "breached-passwords", "--dry-run"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("nothing was written")
    );
    assert!(!range.exists());
}
