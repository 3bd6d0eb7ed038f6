//! The guidance library (migration `0013_guidance`): articles with every version kept. An
//! edit adds a version; publishing points the article at one version (readers see only that);
//! unpublishing clears the pointer. Each change commits with its audit event.

use async_trait::async_trait;
use shield_domain::audit::AuditEvent;
use shield_domain::{EpochMs, UserId};

use crate::StoreError;

/// The words of one version, as a coordinator wrote them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuidanceDraft {
    pub title: String,
    pub summary: String,
    /// Tag keys, space-separated (`shield_domain::guidance::Tag::join`).
    pub tags: String,
    /// Markdown.
    pub body: String,
}

/// An article with one of its versions (the published one, the latest, or one asked for).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GuidanceArticle {
    pub id: i64,
    pub slug: String,
    pub latest_version: i64,
    pub published_version: Option<i64>,
    pub published_at_ms: Option<EpochMs>,
    pub updated_at_ms: EpochMs,
    /// The version these words belong to.
    pub version: i64,
    pub title: String,
    pub summary: String,
    pub tags: String,
    pub body: String,
}

/// One line of an article's history.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GuidanceVersion {
    pub version: i64,
    pub title: String,
    /// `None` for the starter set the service loaded itself.
    pub author_name: Option<String>,
    pub created_at_ms: EpochMs,
}

/// Which version of an article to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Published,
    Latest,
    Version(i64),
}

pub(crate) const ARTICLE_SELECT: &str = "SELECT a.id, a.slug, a.latest_version,
        a.published_version, a.published_at_ms, a.updated_at_ms, v.version, v.title, v.summary,
        v.tags, v.body
     FROM guidance_articles a JOIN guidance_versions v ON v.article_id = a.id";

/// The guidance library. Every [`crate::Store`] is one.
#[async_trait]
pub trait GuidanceStore: Send + Sync {
    /// Every article with its published version (`published_only`), or with its latest
    /// version, drafts included (coordinators). In no particular order.
    async fn guidance_list(&self, published_only: bool)
    -> Result<Vec<GuidanceArticle>, StoreError>;

    async fn guidance_article(
        &self,
        slug: &str,
        which: Which,
    ) -> Result<Option<GuidanceArticle>, StoreError>;

    /// An article's versions, newest first.
    async fn guidance_versions(&self, slug: &str) -> Result<Vec<GuidanceVersion>, StoreError>;

    /// A new article as an unpublished draft (version 1). `Conflict` if the slug is taken.
    async fn create_guidance(
        &self,
        slug: &str,
        draft: &GuidanceDraft,
        author: UserId,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<i64, StoreError>;

    /// A new version of an article; the published version is unchanged. `None`: no article.
    async fn edit_guidance(
        &self,
        slug: &str,
        draft: &GuidanceDraft,
        author: UserId,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<Option<i64>, StoreError>;

    /// Publishes one version (any, so an older one can be restored). `false`: no such
    /// article or version.
    async fn publish_guidance(
        &self,
        slug: &str,
        version: i64,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// Takes an article down; its versions stay. `false`: no such article.
    async fn unpublish_guidance(
        &self,
        slug: &str,
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// Adds, published, each article whose slug is not in the library yet; never touches an
    /// existing one (a coordinator's edits or unpublishing stand). One transaction, audited
    /// once when anything was added. Returns how many were added.
    async fn seed_guidance(
        &self,
        articles: &[(String, GuidanceDraft)],
        now_ms: EpochMs,
        audit: &AuditEvent,
    ) -> Result<usize, StoreError>;
}

fn subject(id: i64) -> Result<shield_domain::audit::AuditSubject, StoreError> {
    shield_domain::audit::AuditSubject::new("guidance", &id.to_string())
        .map_err(crate::reports_sql::field)
}

pub(crate) fn audited(audit: &AuditEvent, id: i64) -> Result<AuditEvent, StoreError> {
    Ok(audit.clone().with_subject(subject(id)?))
}

/// Implements [`GuidanceStore`] for one backend.
macro_rules! guidance_impl {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl crate::guidance::GuidanceStore for $store {
            async fn guidance_list(
                &self,
                published_only: bool,
            ) -> Result<Vec<crate::guidance::GuidanceArticle>, crate::StoreError> {
                let join = if published_only {
                    "v.version = a.published_version"
                } else {
                    "v.version = a.latest_version"
                };
                let sql = format!("{} AND {join}", crate::guidance::ARTICLE_SELECT);
                Ok(sqlx::query_as(&sql).fetch_all(&self.pool).await?)
            }

            async fn guidance_article(
                &self,
                slug: &str,
                which: crate::guidance::Which,
            ) -> Result<Option<crate::guidance::GuidanceArticle>, crate::StoreError> {
                let (join, version) = match which {
                    crate::guidance::Which::Published => ("v.version = a.published_version", 0),
                    crate::guidance::Which::Latest => ("v.version = a.latest_version", 0),
                    crate::guidance::Which::Version(n) => ("v.version = $2", n),
                };
                let sql = format!(
                    "{} AND {join} WHERE a.slug = $1 AND $2 = $2",
                    crate::guidance::ARTICLE_SELECT
                );
                Ok(sqlx::query_as(&sql)
                    .bind(slug)
                    .bind(version)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn guidance_versions(
                &self,
                slug: &str,
            ) -> Result<Vec<crate::guidance::GuidanceVersion>, crate::StoreError> {
                Ok(sqlx::query_as(
                    "SELECT v.version, v.title, u.display_name AS author_name, v.created_at_ms
                     FROM guidance_versions v
                     JOIN guidance_articles a ON a.id = v.article_id
                     LEFT JOIN users u ON u.id = v.author_id
                     WHERE a.slug = $1 ORDER BY v.version DESC",
                )
                .bind(slug)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn create_guidance(
                &self,
                slug: &str,
                draft: &crate::guidance::GuidanceDraft,
                author: shield_domain::UserId,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<i64, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let taken: Option<(i64,)> =
                    sqlx::query_as("SELECT id FROM guidance_articles WHERE slug = $1")
                        .bind(slug)
                        .fetch_optional(&mut *tx)
                        .await?;
                if taken.is_some() {
                    return Err(crate::StoreError::Conflict(
                        "an article with this address already exists".into(),
                    ));
                }
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO guidance_articles (slug, latest_version, created_at_ms,
                        updated_at_ms) VALUES ($1, 1, $2, $2) RETURNING id",
                )
                .bind(slug)
                .bind(now_ms)
                .fetch_one(&mut *tx)
                .await?;
                crate::guidance::insert_version!(tx, id, 1_i64, draft, Some(author.0), now_ms)?;
                Self::append_audit(&mut *tx, &crate::guidance::audited(audit, id)?).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn edit_guidance(
                &self,
                slug: &str,
                draft: &crate::guidance::GuidanceDraft,
                author: shield_domain::UserId,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<Option<i64>, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let row: Option<(i64, i64)> = sqlx::query_as(
                    "UPDATE guidance_articles SET latest_version = latest_version + 1,
                        updated_at_ms = $2 WHERE slug = $1 RETURNING id, latest_version",
                )
                .bind(slug)
                .bind(now_ms)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((id, version)) = row else {
                    tx.rollback().await?;
                    return Ok(None);
                };
                crate::guidance::insert_version!(tx, id, version, draft, Some(author.0), now_ms)?;
                Self::append_audit(&mut *tx, &crate::guidance::audited(audit, id)?).await?;
                tx.commit().await?;
                Ok(Some(version))
            }

            async fn publish_guidance(
                &self,
                slug: &str,
                version: i64,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<bool, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let row: Option<(i64,)> = sqlx::query_as(
                    "UPDATE guidance_articles SET published_version = $2, published_at_ms = $3,
                        updated_at_ms = $3
                     WHERE slug = $1 AND $2 >= 1 AND $2 <= latest_version RETURNING id",
                )
                .bind(slug)
                .bind(version)
                .bind(now_ms)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((id,)) = row else {
                    tx.rollback().await?;
                    return Ok(false);
                };
                Self::append_audit(&mut *tx, &crate::guidance::audited(audit, id)?).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn unpublish_guidance(
                &self,
                slug: &str,
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<bool, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let row: Option<(i64,)> = sqlx::query_as(
                    "UPDATE guidance_articles SET published_version = NULL,
                        published_at_ms = NULL, updated_at_ms = $2
                     WHERE slug = $1 RETURNING id",
                )
                .bind(slug)
                .bind(now_ms)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((id,)) = row else {
                    tx.rollback().await?;
                    return Ok(false);
                };
                Self::append_audit(&mut *tx, &crate::guidance::audited(audit, id)?).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn seed_guidance(
                &self,
                articles: &[(String, crate::guidance::GuidanceDraft)],
                now_ms: shield_domain::EpochMs,
                audit: &shield_domain::audit::AuditEvent,
            ) -> Result<usize, crate::StoreError> {
                let mut tx = self.begin_write().await?;
                let mut added = 0usize;
                for (slug, draft) in articles {
                    let row: Option<(i64,)> = sqlx::query_as(
                        "INSERT INTO guidance_articles (slug, latest_version, published_version,
                            published_at_ms, created_at_ms, updated_at_ms)
                         VALUES ($1, 1, 1, $2, $2, $2)
                         ON CONFLICT (slug) DO NOTHING RETURNING id",
                    )
                    .bind(slug)
                    .bind(now_ms)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if let Some((id,)) = row {
                        crate::guidance::insert_version!(
                            tx,
                            id,
                            1_i64,
                            draft,
                            None::<i64>,
                            now_ms
                        )?;
                        added += 1;
                    }
                }
                if added == 0 {
                    tx.rollback().await?;
                    return Ok(0);
                }
                let event = audit
                    .clone()
                    .with_detail("articles", &added.to_string())
                    .map_err(crate::reports_sql::field)?;
                Self::append_audit(&mut *tx, &event).await?;
                tx.commit().await?;
                Ok(added)
            }
        }
    };
}

pub(crate) use guidance_impl;

/// Writes one version row inside the caller's transaction (a macro, so the SQL is written
/// once and bound against each backend's concrete transaction type).
macro_rules! insert_version {
    ($tx:expr, $article:expr, $version:expr, $draft:expr, $author:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO guidance_versions (article_id, version, title, summary, tags, body,
                author_id, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind($article)
        .bind($version)
        .bind(&$draft.title)
        .bind(&$draft.summary)
        .bind(&$draft.tags)
        .bind(&$draft.body)
        .bind($author)
        .bind($now)
        .execute(&mut *$tx)
        .await
    };
}

pub(crate) use insert_version;
