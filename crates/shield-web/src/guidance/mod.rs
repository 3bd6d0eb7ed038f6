//! The guidance library: safe Markdown rendering ([`render`]), the starter set of articles
//! the project writes itself ([`starter`], loaded by [`seed_starter`]), and the guards for
//! reading and managing articles.

mod render;

use axum::http::request::Parts;
use shield_domain::audit::{AuditAction, AuditEvent, AuditOutcome};
use shield_domain::guidance::{Slug, Tag};
use shield_domain::policy::{Action, Actor};
use shield_store::GuidanceDraft;

pub use render::render;

use crate::auth::guard::{Guard, Target};
use crate::{AppError, AppState};

/// The starter set: `guidance/*.md` in this crate, compiled in. Each file is a few header
/// lines (`title:`, `summary:`, `tags:`), a line `---`, then the Markdown body; the file
/// name is the slug.
const STARTER: &[(&str, &str)] = &[
    (
        "is-this-worth-reporting",
        include_str!("../../guidance/is-this-worth-reporting.md"),
    ),
    (
        "999-101-and-action-fraud",
        include_str!("../../guidance/999-101-and-action-fraud.md"),
    ),
    (
        "reporting-online-abuse",
        include_str!("../../guidance/reporting-online-abuse.md"),
    ),
    (
        "home-security",
        include_str!("../../guidance/home-security.md"),
    ),
    (
        "keeping-your-home-address-private",
        include_str!("../../guidance/keeping-your-home-address-private.md"),
    ),
    (
        "canvassing-in-pairs",
        include_str!("../../guidance/canvassing-in-pairs.md"),
    ),
    (
        "surgeries-and-hustings",
        include_str!("../../guidance/surgeries-and-hustings.md"),
    ),
    (
        "phishing-and-account-security",
        include_str!("../../guidance/phishing-and-account-security.md"),
    ),
    (
        "two-step-verification",
        include_str!("../../guidance/two-step-verification.md"),
    ),
    (
        "strong-passwords",
        include_str!("../../guidance/strong-passwords.md"),
    ),
];

/// The slug of the article the report form links to.
pub const WORTH_REPORTING: &str = "is-this-worth-reporting";

/// The starter articles, parsed. A malformed file is a bug in this crate (a unit test reads
/// them all).
pub fn starter() -> Result<Vec<(String, GuidanceDraft)>, String> {
    STARTER
        .iter()
        .map(|(slug, text)| {
            let slug = Slug::parse(slug).map_err(|e| format!("{slug}: {}", e.message))?;
            let (head, body) = text
                .split_once("\n---\n")
                .ok_or_else(|| format!("{slug}: no --- line after the header"))?;
            let field = |name: &str| {
                head.lines()
                    .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                    .map(|v| v.trim().to_owned())
                    .ok_or_else(|| format!("{slug}: no {name}"))
            };
            let tags = Tag::parse_list(&field("tags")?);
            if tags.is_empty() {
                return Err(format!("{slug}: no known tags"));
            }
            Ok((
                slug.to_string(),
                GuidanceDraft {
                    title: field("title")?,
                    summary: field("summary")?,
                    tags: Tag::join(&tags),
                    body: body.trim().to_owned() + "\n",
                },
            ))
        })
        .collect()
}

/// Adds the starter articles missing from the library, published. Idempotent by slug: an
/// article a coordinator has edited or unpublished is left as it is. `shield migrate`,
/// `serve` and `demo` call it.
pub async fn seed_starter(state: &AppState) -> Result<usize, AppError> {
    let articles = starter().map_err(AppError::Internal)?;
    let event = AuditEvent::new(
        AuditAction::parse("guidance_seeded").map_err(|e| AppError::Internal(e.message))?,
        AuditOutcome::Success,
        crate::auth::guard::chrono_now(state),
    );
    Ok(state
        .store
        .seed_guidance(&articles, state.clock.now_ms(), &event)
        .await?)
}

/// Reading published guidance: everyone signed in.
#[derive(Debug)]
pub struct ReadGuidance;

impl Guard for ReadGuidance {
    const ACTION: Action = Action::ReadGuidance;

    async fn target(_: &mut Parts, _: &AppState, _: &Actor) -> Result<Target, AppError> {
        Ok(Target::Service)
    }
}

/// Drafting, editing, publishing, history: coordinators.
#[derive(Debug)]
pub struct ManageGuidance;

impl Guard for ManageGuidance {
    const ACTION: Action = Action::ManageGuidance;

    async fn target(_: &mut Parts, _: &AppState, _: &Actor) -> Result<Target, AppError> {
        Ok(Target::Service)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_starter_set_parses_and_renders() {
        let articles = super::starter().unwrap();
        assert!(articles.len() >= 8);
        assert!(articles.iter().any(|(s, _)| s == super::WORTH_REPORTING));
        for (slug, a) in &articles {
            assert!(!a.title.is_empty() && !a.summary.is_empty(), "{slug}");
            let html = super::render(&a.body);
            assert!(html.contains("<p class=\"body\">"), "{slug}");
            // Every link in the starter set survives rendering (none is refused).
            assert_eq!(
                a.body.matches("](").count(),
                html.matches("<a class=\"link\"").count(),
                "{slug}"
            );
        }
    }
}
