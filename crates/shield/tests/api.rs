//! The JSON API against its OpenAPI document: every documented operation that needs a
//! sign-in answers 401 without one, every API route is documented, and the signed-in answers.

mod common;

use std::collections::BTreeSet;

use axum::http::StatusCode;
use common::{Client, enrol_with_password, state};
use shield_testkit::{TestDb, both_backends};

both_backends!(openapi_document_matches_the_api_and_guards_it);

async fn openapi_document_matches_the_api_and_guards_it(db: TestDb) {
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let (state, _) = state(db.store.clone());
    let list_dir = tempfile::tempdir().unwrap();
    let list = list_dir.path().join("breached-passwords.bin");
    shield::breached::load_demo(&list).unwrap();
    let state = state.with_breached_passwords(shield_breached::RangeStore::new(&list));
    let people = shield::demo::invite_people(&state).await.unwrap();
    let mut anonymous = Client::new(state.clone());

    let page = anonymous.get("/api/openapi.json").await;
    assert_eq!(page.status, StatusCode::OK);
    let doc: serde_json::Value = serde_json::from_str(&page.body).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();

    // Every /api route in the router is documented, and every documented path is routed.
    let source = include_str!("../../shield-web/src/lib.rs");
    let routed: BTreeSet<String> = source
        .split(".route(")
        .skip(1)
        .filter_map(|rest| rest.trim_start().strip_prefix('"')?.split('"').next())
        .filter(|p| {
            p.starts_with("/api/")
                || p.starts_with("/range/")
                || *p == "/healthz"
                || *p == "/readyz"
        })
        .map(str::to_owned)
        .collect();
    let documented: BTreeSet<String> = paths.keys().cloned().collect();
    assert_eq!(routed, documented);

    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let open = op
                .get("security")
                .is_some_and(|s| s.as_array().is_some_and(Vec::is_empty));
            let concrete = path
                .replace("{id}", "1")
                .replace("{prefix}", "5BAA6")
                .replace("{slug}", "what-to-report");
            let page = match method.as_str() {
                "get" => anonymous.get(&concrete).await,
                "post" => {
                    anonymous
                        .post_json(&concrete, "", &serde_json::json!({}))
                        .await
                }
                other => panic!("{other} {path}: add it to this test"),
            };
            if open {
                assert_eq!(page.status, StatusCode::OK, "{path} is open");
            } else {
                assert_eq!(
                    page.status,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} without credentials"
                );
                let body: serde_json::Value = serde_json::from_str(&page.body).unwrap();
                assert_eq!(body["error"], "sign-in required");
            }
        }
    }

    let mut claire = Client::new(state.clone());
    enrol_with_password(&mut claire, &people[0].link_path).await;
    let me: serde_json::Value = serde_json::from_str(&claire.get("/api/me").await.body).unwrap();
    assert_eq!(me["role"], "candidate");
    let contacts = claire.get("/api/me/contacts").await;
    assert_eq!(contacts.status, StatusCode::OK);
    let contacts: serde_json::Value = serde_json::from_str(&contacts.body).unwrap();
    let names: Vec<&str> = contacts["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Inspector Helen Grant") && names.contains(&"Sergeant Joanne Price"),
        "{names:?}"
    );
}
