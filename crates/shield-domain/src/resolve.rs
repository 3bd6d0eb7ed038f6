//! Which constituency a Democracy Club candidate row belongs to.
//!
//! Democracy Club's `gss` column cannot be trusted for GE2024: it was empty for all 18 Northern
//! Ireland seats and held pre-2024 codes for five Scottish seats whose names did not change.
//! So a row's `gss` is used only when it names a known constituency whose name agrees with the
//! row's `post_label`; otherwise the ballot paper id (`parl.<slug>.2024-07-04`) and then the post
//! label are matched against the slugs of the known constituency names.

use std::collections::HashMap;

use crate::constituency::ConstituencyCode;
use crate::error::FieldError;
use crate::slug::slugify;

/// How a row's constituency was found, so an import can say how many rows needed repair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResolvedBy {
    Gss,
    BallotPaperId,
    PostLabel,
}

/// A failed resolution names the column a person should look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveError {
    pub column: &'static str,
    pub error: FieldError,
}

/// Lookup tables built once per import from the constituencies in the database.
#[derive(Debug, Default)]
pub struct ConstituencyResolver {
    by_code: HashMap<String, String>,
    by_slug: HashMap<String, Option<ConstituencyCode>>,
}

impl ConstituencyResolver {
    pub fn new<'a>(
        constituencies: impl IntoIterator<Item = (&'a ConstituencyCode, &'a str)>,
    ) -> Self {
        let mut resolver = Self::default();
        for (code, name) in constituencies {
            let slug = slugify(name);
            resolver
                .by_code
                .insert(code.as_str().to_owned(), slug.clone());
            resolver
                .by_slug
                .entry(slug)
                // Two seats with the same slug make the slug useless for either.
                .and_modify(|existing| *existing = None)
                .or_insert_with(|| Some(code.clone()));
        }
        resolver
    }

    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }

    pub fn resolve(
        &self,
        gss: &str,
        ballot_paper_id: &str,
        post_label: &str,
    ) -> Result<(ConstituencyCode, ResolvedBy), ResolveError> {
        let gss = gss.trim();
        let label_slug = slugify(post_label);
        if let Some(slug) = self.by_code.get(gss)
            && (label_slug.is_empty() || *slug == label_slug)
            && let Ok(code) = ConstituencyCode::parse(gss)
        {
            return Ok((code, ResolvedBy::Gss));
        }
        if let Some(slug) = ballot_slug(ballot_paper_id)
            && let Some(Some(code)) = self.by_slug.get(&slug)
        {
            return Ok((code.clone(), ResolvedBy::BallotPaperId));
        }
        if let Some(Some(code)) = self.by_slug.get(&label_slug) {
            return Ok((code.clone(), ResolvedBy::PostLabel));
        }
        // Nothing matched: name the most specific column that was given.
        let (column, value) = if !post_label.trim().is_empty() {
            ("post_label", post_label.trim())
        } else if !ballot_paper_id.trim().is_empty() {
            ("ballot_paper_id", ballot_paper_id.trim())
        } else {
            ("gss", gss)
        };
        Err(ResolveError {
            column,
            error: FieldError::new(format!(
                "no imported constituency matches {column} {value:?} (gss {gss:?}, ballot_paper_id {:?}); import the constituencies first",
                ballot_paper_id.trim()
            )),
        })
    }
}

/// The constituency part of a ballot paper id: `parl.ayr-carrick-and-cumnock.2024-07-04` →
/// `ayr-carrick-and-cumnock`; a by-election's `.by` marker is dropped.
fn ballot_slug(ballot_paper_id: &str) -> Option<String> {
    let parts: Vec<&str> = ballot_paper_id.trim().split('.').collect();
    if parts.len() < 3 {
        return None;
    }
    let mut middle = &parts[1..parts.len() - 1];
    if middle.last() == Some(&"by") {
        middle = &middle[..middle.len() - 1];
    }
    middle.last().map(|s| (*s).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolver() -> (ConstituencyResolver, Vec<ConstituencyCode>) {
        let codes: Vec<ConstituencyCode> = ["S14000107", "N05000001", "E14001063"]
            .iter()
            .map(|c| ConstituencyCode::parse(c).unwrap())
            .collect();
        let names = ["Ayr, Carrick and Cumnock", "Belfast East", "Aldershot"];
        let r = ConstituencyResolver::new(codes.iter().zip(names));
        (r, codes)
    }

    #[test]
    fn trusts_gss_that_agrees_with_label() {
        let (r, codes) = resolver();
        let got = r
            .resolve("E14001063", "parl.aldershot.2024-07-04", "Aldershot")
            .unwrap();
        assert_eq!(got, (codes[2].clone(), ResolvedBy::Gss));
    }

    #[test]
    fn stale_gss_falls_back_to_ballot_paper() {
        let (r, codes) = resolver();
        let got = r
            .resolve(
                "S14000006",
                "parl.ayr-carrick-and-cumnock.2024-07-04",
                "Ayr, Carrick and Cumnock",
            )
            .unwrap();
        assert_eq!(got, (codes[0].clone(), ResolvedBy::BallotPaperId));
    }

    #[test]
    fn conflicting_gss_is_not_trusted() {
        let (r, codes) = resolver();
        // A known code whose name disagrees with the label loses to the ballot paper id.
        let got = r
            .resolve("E14001063", "parl.belfast-east.2024-07-04", "Belfast East")
            .unwrap();
        assert_eq!(got, (codes[1].clone(), ResolvedBy::BallotPaperId));
    }

    #[test]
    fn empty_gss_uses_label_when_ballot_is_missing() {
        let (r, codes) = resolver();
        let got = r.resolve("", "", "Belfast East").unwrap();
        assert_eq!(got, (codes[1].clone(), ResolvedBy::PostLabel));
    }

    #[test]
    fn unknown_everything_names_the_label() {
        let (r, _) = resolver();
        let err = r
            .resolve("", "parl.atlantis.2024-07-04", "Atlantis")
            .unwrap_err();
        assert_eq!(err.column, "post_label");
        assert!(err.error.message.contains("Atlantis"));
    }

    #[test]
    fn by_election_ballots() {
        assert_eq!(
            ballot_slug("parl.runcorn-and-helsby.by.2025-05-01").as_deref(),
            Some("runcorn-and-helsby")
        );
        assert_eq!(ballot_slug("parl.2024-07-04"), None);
    }
}
