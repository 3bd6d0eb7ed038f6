//! The OpenAPI 3.1 document for the JSON API, written by hand beside the routes it describes
//! (and checked against the router by `tests/api.rs` in the binary crate).

use axum::Json;
use serde_json::{Value, json};

fn error_responses() -> Value {
    json!({
        "401": { "description": "No signed-in session", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
        "403": { "description": "The access policy refused", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
    })
}

fn with_errors(mut ok: Value) -> Value {
    if let (Some(map), Value::Object(errors)) = (ok.as_object_mut(), error_responses()) {
        map.extend(errors);
    }
    ok
}

pub(crate) fn document() -> Value {
    let open: Value = json!([]);
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Candidate Shield", "version": env!("CARGO_PKG_VERSION") },
        "components": {
            "securitySchemes": {
                "session": { "type": "apiKey", "in": "cookie", "name": "__Host-shield" }
            },
            "schemas": {
                "Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "string" } } }
            }
        },
        "security": [ { "session": [] } ],
        "paths": {
            "/api/openapi.json": { "get": { "operationId": "openapi", "summary": "This document", "security": open,
                "responses": { "200": { "description": "The OpenAPI document" } } } },
            "/healthz": { "get": { "operationId": "healthz", "summary": "Liveness", "security": open,
                "responses": { "200": { "description": "Alive" } } } },
            "/readyz": { "get": { "operationId": "readyz", "summary": "Readiness: the database answers", "security": open,
                "responses": { "200": { "description": "Ready" }, "503": { "description": "The database cannot be reached" } } } },
            "/api/me": { "get": { "operationId": "me", "summary": "The signed-in person: id, role, candidacy, forces",
                "responses": with_errors(json!({ "200": { "description": "The signed-in person" } })) } },
            "/api/me/contacts": { "get": { "operationId": "myContacts", "summary": "A candidate's named police contacts",
                "responses": with_errors(json!({ "200": { "description": "The forces and their named contacts" } })) } }
        }
    })
}

pub(crate) async fn serve() -> Json<Value> {
    Json(document())
}
