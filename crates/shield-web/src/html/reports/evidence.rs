//! Evidence downloads: only for people who may see the report, always as an attachment (never
//! rendered in the page's origin), never cached, and each download on the audit record.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use shield_domain::evidence::EvidenceKind;

use super::{audit_event, open_bytes, open_text};
use crate::auth::guard::Authorized;
use crate::auth::report_guard::ViewReportGuard;
use crate::{AppError, AppState};

pub(crate) async fn download(
    State(state): State<AppState>,
    auth: Authorized<ViewReportGuard>,
    Path((id, evidence_id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let (meta, sealed) = state
        .store
        .evidence_content(id, evidence_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let bytes = open_bytes(&state, "evidence", "content", meta.id, &sealed)?;
    let name = open_text(
        &state,
        "evidence",
        "filename",
        meta.id,
        &meta.sealed_filename,
    )?;
    let kind = EvidenceKind::parse(&meta.kind)
        .ok_or_else(|| AppError::Internal(format!("evidence {}: unknown kind", meta.id)))?;
    let audit = audit_event(&state, &auth.actor, "evidence_downloaded", Some(id))?
        .with_detail("evidence", &meta.id.to_string())
        .map_err(|e| AppError::Internal(e.message))?;
    state.store.record_audit(&audit).await?;
    // The stored name is already safe (letters, digits, space, . - _ ( )); keep ASCII only for
    // the header and quote it.
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " .-_()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(kind.content_type()),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::HeaderName::from_static("x-evidence-sha256"),
                HeaderValue::from_str(&meta.sha256)
                    .map_err(|_| AppError::Internal("bad sha256".into()))?,
            ),
        ],
        bytes,
    )
        .into_response())
}
