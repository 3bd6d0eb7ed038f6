//! `POST /api/scan`: scan a batch of messages (up to 500) for threats, sexual threats, doxxing
//! and abuse. Nothing is stored; the verdicts come back in the order sent.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Api, ApiError};
use crate::auth::guard::Authorized;
use crate::auth::passkey::CsrfHeader;
use crate::auth::report_guard::ReportForGuard;
use crate::scan::{Flag, scan_blocking};
use crate::{AppError, AppState};

pub(crate) const MAX_BATCH: usize = 500;

#[derive(Debug, Deserialize)]
pub(crate) struct Item {
    #[serde(default)]
    id: Value,
    text: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Batch {
    messages: Vec<Item>,
}

pub(crate) async fn scan(
    State(state): State<AppState>,
    Api(_auth): Api<Authorized<ReportForGuard>>,
    Api(_csrf): Api<CsrfHeader>,
    json: Result<Json<Batch>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(batch) = json.map_err(|e| AppError::bad_request("body", e.body_text()))?;
    if batch.messages.is_empty() || batch.messages.len() > MAX_BATCH {
        return Err(
            AppError::bad_request("messages", format!("send 1 to {MAX_BATCH} messages")).into(),
        );
    }
    let scanner = state.scanner.clone().ok_or(AppError::NotFound)?;
    let texts = batch
        .messages
        .iter()
        .map(|m| {
            m.text
                .chars()
                .take(crate::scan::parse::MAX_MESSAGE_CHARS)
                .collect()
        })
        .collect();
    let verdicts = scan_blocking(scanner.clone(), texts).await?;
    let results: Vec<Value> = batch
        .messages
        .iter()
        .zip(verdicts)
        .map(|(m, v)| {
            json!({
                "id": m.id,
                "labels": v.flags.iter().map(|f| f.key()).collect::<Vec<_>>(),
                "scores": Flag::ALL
                    .iter()
                    .map(|f| (f.key().to_owned(), json!(v.score(*f))))
                    .collect::<serde_json::Map<String, Value>>(),
                "spans": v.highlights.iter().map(|h| json!({ "label": h.flag.key(), "start": h.start, "end": h.end, "reason": h.reason })).collect::<Vec<_>>(),
                "notes": v.notes,
                "review": v.review.iter().map(|f| f.key()).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(
        json!({ "scanner": scanner.describe(), "results": results }),
    ))
}
