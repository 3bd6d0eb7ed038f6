//! The guidance library's pages: the list with a tag filter and an article for everyone
//! signed in (the published version only); drafting, editing, history, publishing and
//! unpublishing for coordinators. Every edit is a new version; readers keep seeing the
//! published one until a coordinator publishes another.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shield_domain::guidance::{Slug, Tag};
use shield_domain::policy::{self, Action, Actor, Resource};
use shield_store::{GuidanceArticle, GuidanceDraft, StoreError, Which};

use super::layout::FieldProblem;
use super::reports::{audit_event, when};
use crate::auth::csrf::CsrfForm;
use crate::auth::guard::Authorized;
use crate::guidance::{ManageGuidance, ReadGuidance, render};
use crate::{AppError, AppState};

const MAX_TITLE: usize = 120;
const MAX_SUMMARY: usize = 300;
const MAX_BODY: usize = 50_000;

fn manages(state: &AppState, actor: &Actor) -> bool {
    policy::can(
        actor,
        Action::ManageGuidance,
        &Resource::Service,
        state.clock.now_ms(),
    )
    .is_allowed()
}

fn tag_labels(tags: &str) -> Vec<&'static str> {
    Tag::parse_list(tags).iter().map(|t| t.label()).collect()
}

#[derive(Debug)]
struct TagChoice {
    key: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Debug)]
struct ListRow {
    slug: String,
    title: String,
    summary: String,
    tags: Vec<&'static str>,
    /// For coordinators: "Draft", "Published (newer draft: version 3)", "Published".
    status: String,
}

#[derive(Debug, Template)]
#[template(path = "guidance/index.html")]
struct ListPage {
    section: &'static str,
    tags: Vec<TagChoice>,
    tag: Option<&'static str>,
    rows: Vec<ListRow>,
    manage: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct TagQuery {
    #[serde(default)]
    tag: String,
}

impl TagQuery {
    pub(crate) fn tag(&self) -> &str {
        &self.tag
    }
}

fn status(a: &GuidanceArticle) -> String {
    match a.published_version {
        None => "Draft".into(),
        Some(p) if p < a.latest_version => {
            format!(
                "Published (version {p}); newer draft: version {}",
                a.latest_version
            )
        }
        Some(p) => format!("Published (version {p})"),
    }
}

/// Articles with `tag` (if any), by title.
pub(crate) fn filter_sorted(
    mut articles: Vec<GuidanceArticle>,
    tag: Option<Tag>,
) -> Vec<GuidanceArticle> {
    articles.retain(|a| tag.is_none_or(|t| Tag::parse_list(&a.tags).contains(&t)));
    articles.sort_by_key(|a| a.title.to_lowercase());
    articles
}

/// The `?tag=` filter: empty is none; an unknown tag is a 400 naming it.
pub(crate) fn parse_tag(tag: &str) -> Result<Option<Tag>, AppError> {
    if tag.trim().is_empty() {
        return Ok(None);
    }
    Tag::parse(tag)
        .map(Some)
        .map_err(|e| AppError::bad_request("tag", e.message))
}

/// `GET /guidance`.
pub(crate) async fn index(
    State(state): State<AppState>,
    auth: Authorized<ReadGuidance>,
    Query(query): Query<TagQuery>,
) -> Result<Response, AppError> {
    let tag = parse_tag(&query.tag)?;
    let manage = manages(&state, &auth.actor);
    let articles = filter_sorted(state.store.guidance_list(!manage).await?, tag);
    let page = ListPage {
        section: "guidance",
        tags: Tag::ALL
            .iter()
            .map(|t| TagChoice {
                key: t.key(),
                label: t.label(),
                selected: Some(*t) == tag,
            })
            .collect(),
        tag: tag.map(Tag::label),
        rows: articles
            .iter()
            .map(|a| ListRow {
                slug: a.slug.clone(),
                title: a.title.clone(),
                summary: a.summary.clone(),
                tags: tag_labels(&a.tags),
                status: if manage { status(a) } else { String::new() },
            })
            .collect(),
        manage,
    };
    super::page(StatusCode::OK, &page)
}

#[derive(Debug, Template)]
#[template(path = "guidance/show.html")]
struct ShowPage {
    section: &'static str,
    slug: String,
    title: String,
    summary: String,
    tags: Vec<&'static str>,
    /// Rendered by `guidance::render`: raw HTML dropped, links checked. Marked safe in the
    /// template for that reason only.
    body_html: String,
    updated: String,
    version: i64,
    /// Coordinators only: what they are looking at and what they can do.
    manage: bool,
    status: String,
    published_version: Option<i64>,
    csrf: String,
}

impl ShowPage {
    fn shown_is_published(&self) -> bool {
        self.published_version == Some(self.version)
    }
}

fn show_page(article: GuidanceArticle, manage: bool, csrf: String) -> ShowPage {
    ShowPage {
        section: "guidance",
        body_html: render(&article.body),
        tags: tag_labels(&article.tags),
        updated: when(article.published_at_ms.unwrap_or(article.updated_at_ms)),
        status: status(&article),
        version: article.version,
        published_version: article.published_version,
        slug: article.slug,
        title: article.title,
        summary: article.summary,
        manage,
        csrf,
    }
}

/// `GET /guidance/{slug}`: the published version; coordinators see a draft's latest version.
pub(crate) async fn show(
    State(state): State<AppState>,
    auth: Authorized<ReadGuidance>,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let manage = manages(&state, &auth.actor);
    let mut article = state
        .store
        .guidance_article(&slug, Which::Published)
        .await?;
    if article.is_none() && manage {
        article = state.store.guidance_article(&slug, Which::Latest).await?;
    }
    let article = article.ok_or(AppError::NotFound)?;
    let page = show_page(article, manage, auth.session.record.csrf_token.clone());
    super::page(StatusCode::OK, &page)
}

/// `GET /guidance/{slug}/versions/{version}`: any version, for coordinators.
pub(crate) async fn version(
    State(state): State<AppState>,
    auth: Authorized<ManageGuidance>,
    Path((slug, version)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let article = state
        .store
        .guidance_article(&slug, Which::Version(version))
        .await?
        .ok_or(AppError::NotFound)?;
    let page = show_page(article, true, auth.session.record.csrf_token.clone());
    super::page(StatusCode::OK, &page)
}

#[derive(Debug)]
struct VersionRow {
    version: i64,
    title: String,
    author: String,
    created: String,
    published: bool,
}

#[derive(Debug, Template)]
#[template(path = "guidance/history.html")]
struct HistoryPage {
    section: &'static str,
    slug: String,
    title: String,
    versions: Vec<VersionRow>,
    csrf: String,
    published_version: Option<i64>,
}

/// `GET /guidance/{slug}/history`: every version, newest first, with publish buttons.
pub(crate) async fn history(
    State(state): State<AppState>,
    auth: Authorized<ManageGuidance>,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let article = state
        .store
        .guidance_article(&slug, Which::Latest)
        .await?
        .ok_or(AppError::NotFound)?;
    let versions = state.store.guidance_versions(&slug).await?;
    let page = HistoryPage {
        section: "guidance",
        versions: versions
            .into_iter()
            .map(|v| VersionRow {
                published: Some(v.version) == article.published_version,
                version: v.version,
                title: v.title,
                author: v
                    .author_name
                    .unwrap_or_else(|| "Candidate Shield (starter set)".into()),
                created: when(v.created_at_ms),
            })
            .collect(),
        slug: article.slug,
        title: article.title,
        csrf: auth.session.record.csrf_token.clone(),
        published_version: article.published_version,
    };
    super::page(StatusCode::OK, &page)
}

/// The article form's fields, as text. Tags are separate checkboxes (urlencoded forms carry
/// no lists).
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct ArticleForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub slug: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub tag_physical: String,
    #[serde(default)]
    pub tag_online: String,
    #[serde(default)]
    pub tag_home: String,
    #[serde(default)]
    pub tag_events: String,
    #[serde(default)]
    pub tag_cyber: String,
    #[serde(default)]
    pub tag_reporting: String,
}

crate::has_csrf!(ArticleForm);

impl ArticleForm {
    fn ticked(&self) -> Vec<Tag> {
        [
            (Tag::Physical, &self.tag_physical),
            (Tag::Online, &self.tag_online),
            (Tag::Home, &self.tag_home),
            (Tag::Events, &self.tag_events),
            (Tag::Cyber, &self.tag_cyber),
            (Tag::Reporting, &self.tag_reporting),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(t, _)| t)
        .collect()
    }

    fn from_article(a: &GuidanceArticle) -> Self {
        let tags = Tag::parse_list(&a.tags);
        let on = |t: Tag| {
            if tags.contains(&t) {
                "on".into()
            } else {
                String::new()
            }
        };
        Self {
            csrf: String::new(),
            slug: a.slug.clone(),
            title: a.title.clone(),
            summary: a.summary.clone(),
            body: a.body.clone(),
            tag_physical: on(Tag::Physical),
            tag_online: on(Tag::Online),
            tag_home: on(Tag::Home),
            tag_events: on(Tag::Events),
            tag_cyber: on(Tag::Cyber),
            tag_reporting: on(Tag::Reporting),
        }
    }

    /// The draft, or every problem with the form.
    fn check(&self, new: bool) -> Result<(Option<Slug>, GuidanceDraft), Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let title = self.title.trim();
        if title.is_empty() {
            problems.push(FieldProblem::new("title", "Enter a title"));
        } else if title.chars().count() > MAX_TITLE {
            problems.push(FieldProblem::new(
                "title",
                format!("The title must be {MAX_TITLE} characters or fewer"),
            ));
        }
        let slug = if new {
            let parsed = if self.slug.trim().is_empty() {
                Slug::from_title(title)
            } else {
                Slug::parse(&self.slug)
            };
            match parsed {
                Ok(s) => Some(s),
                Err(e) if !title.is_empty() || !self.slug.trim().is_empty() => {
                    problems.push(FieldProblem::new("slug", e.message));
                    None
                }
                Err(_) => None,
            }
        } else {
            None
        };
        let summary = self.summary.trim();
        if summary.is_empty() {
            problems.push(FieldProblem::new("summary", "Enter a one-line summary"));
        } else if summary.chars().count() > MAX_SUMMARY {
            problems.push(FieldProblem::new(
                "summary",
                format!("The summary must be {MAX_SUMMARY} characters or fewer"),
            ));
        }
        let body = self.body.trim();
        if body.is_empty() {
            problems.push(FieldProblem::new("body", "Enter the article"));
        } else if body.len() > MAX_BODY {
            problems.push(FieldProblem::new(
                "body",
                format!("The article must be {MAX_BODY} characters or fewer"),
            ));
        }
        let tags = self.ticked();
        if tags.is_empty() {
            problems.push(FieldProblem::new("tag_physical", "Choose at least one tag"));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok((
            slug,
            GuidanceDraft {
                title: title.to_owned(),
                summary: summary.to_owned(),
                tags: Tag::join(&tags),
                body: body.to_owned() + "\n",
            },
        ))
    }
}

#[derive(Debug, Template)]
#[template(path = "guidance/form.html")]
struct FormPage {
    section: &'static str,
    csrf: String,
    new: bool,
    action: String,
    form: ArticleForm,
    tags: Vec<(&'static str, &'static str, bool)>,
    problems: Vec<FieldProblem>,
}

impl FormPage {
    fn problem_for(&self, field: &str) -> Option<&str> {
        super::layout::problem_for(&self.problems, field)
    }

    fn build(
        csrf: String,
        slug: Option<&str>,
        form: ArticleForm,
        problems: Vec<FieldProblem>,
    ) -> Self {
        let ticked = form.ticked();
        Self {
            section: "guidance",
            csrf,
            new: slug.is_none(),
            action: slug.map_or_else(|| "/guidance".to_owned(), |s| format!("/guidance/{s}/edit")),
            tags: Tag::ALL
                .iter()
                .map(|t| (t.key(), t.label(), ticked.contains(t)))
                .collect(),
            form,
            problems,
        }
    }
}

/// `GET /guidance/new`.
pub(crate) async fn new_form(auth: Authorized<ManageGuidance>) -> Result<Response, AppError> {
    let page = FormPage::build(
        auth.session.record.csrf_token.clone(),
        None,
        ArticleForm::default(),
        Vec::new(),
    );
    super::page(StatusCode::OK, &page)
}

/// `POST /guidance`: a new article, as an unpublished draft.
pub(crate) async fn create(
    State(state): State<AppState>,
    auth: Authorized<ManageGuidance>,
    CsrfForm(form): CsrfForm<ArticleForm>,
) -> Result<Response, AppError> {
    let csrf = auth.session.record.csrf_token.clone();
    let (slug, draft) = match form.check(true) {
        Ok((Some(slug), draft)) => (slug, draft),
        Ok((None, _)) => return Err(AppError::Internal("a new article without a slug".into())),
        Err(problems) => {
            let page = FormPage::build(csrf, None, form, problems);
            return super::page(StatusCode::BAD_REQUEST, &page);
        }
    };
    let audit = audit_event(&state, &auth.actor, "guidance_created", None)?;
    match state
        .store
        .create_guidance(
            slug.as_str(),
            &draft,
            auth.actor.user_id,
            state.clock.now_ms(),
            &audit,
        )
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/guidance/{slug}")).into_response()),
        Err(StoreError::Conflict(_)) => {
            let problems = vec![FieldProblem::new(
                "slug",
                "An article already has this web address; choose another",
            )];
            let page = FormPage::build(csrf, None, form, problems);
            super::page(StatusCode::BAD_REQUEST, &page)
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /guidance/{slug}/edit`: the form, filled with the latest version.
pub(crate) async fn edit_form(
    State(state): State<AppState>,
    auth: Authorized<ManageGuidance>,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let article = state
        .store
        .guidance_article(&slug, Which::Latest)
        .await?
        .ok_or(AppError::NotFound)?;
    let page = FormPage::build(
        auth.session.record.csrf_token.clone(),
        Some(&article.slug),
        ArticleForm::from_article(&article),
        Vec::new(),
    );
    super::page(StatusCode::OK, &page)
}

/// `POST /guidance/{slug}/edit`: saves a new version; what readers see does not change until
/// it is published.
pub(crate) async fn edit(
    State(state): State<AppState>,
    auth: Authorized<ManageGuidance>,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<ArticleForm>,
) -> Result<Response, AppError> {
    let draft = match form.check(false) {
        Ok((_, draft)) => draft,
        Err(problems) => {
            let page = FormPage::build(
                auth.session.record.csrf_token.clone(),
                Some(&slug),
                form,
                problems,
            );
            return super::page(StatusCode::BAD_REQUEST, &page);
        }
    };
    let audit = audit_event(&state, &auth.actor, "guidance_edited", None)?;
    state
        .store
        .edit_guidance(
            &slug,
            &draft,
            auth.actor.user_id,
            state.clock.now_ms(),
            &audit,
        )
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Redirect::to(&format!("/guidance/{slug}/history")).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct PublishForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: String,
}

crate::has_csrf!(PublishForm);

/// `POST /guidance/{slug}/publish`: readers see this version from now on.
pub(crate) async fn publish(
    State(state): State<AppState>,
    auth: Authorized<ManageGuidance>,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<PublishForm>,
) -> Result<Response, AppError> {
    let version: i64 = form
        .version
        .trim()
        .parse()
        .map_err(|_| AppError::bad_request("version", "Choose a version to publish"))?;
    let audit = audit_event(&state, &auth.actor, "guidance_published", None)?
        .with_detail("version", &version.to_string())
        .map_err(|e| AppError::Internal(e.message))?;
    if !state
        .store
        .publish_guidance(&slug, version, state.clock.now_ms(), &audit)
        .await?
    {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to(&format!("/guidance/{slug}")).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

crate::has_csrf!(CsrfOnly);

/// `POST /guidance/{slug}/unpublish`: readers no longer see it; its versions stay.
pub(crate) async fn unpublish(
    State(state): State<AppState>,
    auth: Authorized<ManageGuidance>,
    Path(slug): Path<String>,
    CsrfForm(_): CsrfForm<CsrfOnly>,
) -> Result<Response, AppError> {
    let audit = audit_event(&state, &auth.actor, "guidance_unpublished", None)?;
    if !state
        .store
        .unpublish_guidance(&slug, state.clock.now_ms(), &audit)
        .await?
    {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to(&format!("/guidance/{slug}")).into_response())
}
