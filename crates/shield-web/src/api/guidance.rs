//! `GET /api/guidance` and `GET /api/guidance/{slug}`: published guidance for everyone signed
//! in (drafts never appear here, whoever asks). The article comes as Markdown and as the
//! rendered, safe HTML the page shows.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};
use shield_domain::guidance::Tag;
use shield_store::{GuidanceArticle, Which};

use super::{Api, ApiError};
use crate::auth::guard::Authorized;
use crate::guidance::{ReadGuidance, render};
use crate::html::guidance::{TagQuery, filter_sorted, parse_tag};
use crate::{AppError, AppState};

fn summary(a: &GuidanceArticle) -> Value {
    json!({
        "slug": a.slug,
        "title": a.title,
        "summary": a.summary,
        "tags": Tag::parse_list(&a.tags).iter().map(|t| t.key()).collect::<Vec<_>>(),
        "version": a.version,
        "published_at_ms": a.published_at_ms,
    })
}

pub(crate) async fn list(
    State(state): State<AppState>,
    _auth: Api<Authorized<ReadGuidance>>,
    Query(query): Query<TagQuery>,
) -> Result<Json<Value>, ApiError> {
    let tag = parse_tag(query.tag())?;
    let articles = filter_sorted(
        state
            .store
            .guidance_list(true)
            .await
            .map_err(AppError::from)?,
        tag,
    );
    Ok(Json(json!({
        "articles": articles.iter().map(summary).collect::<Vec<_>>(),
    })))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    _auth: Api<Authorized<ReadGuidance>>,
    Path(slug): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let article = state
        .store
        .guidance_article(&slug, Which::Published)
        .await
        .map_err(AppError::from)?
        .ok_or(AppError::NotFound)?;
    let mut out = summary(&article);
    out["markdown"] = json!(article.body);
    out["html"] = json!(render(&article.body));
    Ok(Json(out))
}
