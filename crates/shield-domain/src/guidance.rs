//! Guidance articles: their tags and slugs. An article is versioned (every edit is a new
//! version) and has at most one published version, which is what readers see.

use std::fmt;

use serde::Serialize;

use crate::FieldError;

/// What an article is about; the list page filters by these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tag {
    Physical,
    Online,
    Home,
    Events,
    Cyber,
    Reporting,
}

impl Tag {
    pub const ALL: [Self; 6] = [
        Self::Physical,
        Self::Online,
        Self::Home,
        Self::Events,
        Self::Cyber,
        Self::Reporting,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::Physical => "physical",
            Self::Online => "online",
            Self::Home => "home",
            Self::Events => "events",
            Self::Cyber => "cyber",
            Self::Reporting => "reporting",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Physical => "Physical safety",
            Self::Online => "Online abuse",
            Self::Home => "At home",
            Self::Events => "Events and canvassing",
            Self::Cyber => "Accounts and devices",
            Self::Reporting => "Reporting",
        }
    }

    pub fn parse(key: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|t| t.key() == key.trim())
            .ok_or_else(|| FieldError::new(format!("{key:?} is not a guidance tag")))
    }

    /// Tags kept as a space-separated list of keys in a fixed order (how the store keeps
    /// them); unknown keys are dropped.
    pub fn parse_list(text: &str) -> Vec<Self> {
        let mut tags: Vec<Self> = text
            .split([' ', ','])
            .filter_map(|k| Self::parse(k).ok())
            .collect();
        tags.sort();
        tags.dedup();
        tags
    }

    pub fn join(tags: &[Self]) -> String {
        let mut tags = tags.to_vec();
        tags.sort();
        tags.dedup();
        tags.iter().map(|t| t.key()).collect::<Vec<_>>().join(" ")
    }
}

/// An article's address, `/guidance/{slug}`: 1–80 lower-case letters, digits and single
/// hyphens. Fixed when the article is created, so links to it keep working.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Slug(String);

impl Slug {
    /// Words reserved for the guidance pages' own paths.
    const RESERVED: [&'static str; 1] = ["new"];

    pub fn parse(value: &str) -> Result<Self, FieldError> {
        let v = value.trim();
        let ok = !v.is_empty()
            && v.len() <= 80
            && v.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !v.starts_with('-')
            && !v.ends_with('-')
            && !v.contains("--");
        if !ok {
            return Err(FieldError::new(
                "Use 1 to 80 lower-case letters, numbers and single hyphens, like home-security",
            ));
        }
        if Self::RESERVED.contains(&v) {
            return Err(FieldError::new(format!(
                "{v:?} is reserved; choose another"
            )));
        }
        Ok(Self(v.to_owned()))
    }

    /// A slug made from a title (`Is this worth reporting?` → `is-this-worth-reporting`).
    pub fn from_title(title: &str) -> Result<Self, FieldError> {
        let mut slug = crate::slug::slugify(title).replace('_', "-");
        slug.truncate(80);
        Self::parse(slug.trim_end_matches('-'))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_slugs_are_tidy() {
        for t in Tag::ALL {
            assert_eq!(Tag::parse(t.key()).unwrap(), t);
        }
        assert!(Tag::parse("gossip").is_err());
        assert_eq!(
            Tag::parse_list("reporting online reporting nonsense"),
            [Tag::Online, Tag::Reporting]
        );
        assert_eq!(
            Tag::join(&[Tag::Reporting, Tag::Online]),
            "online reporting"
        );
        assert_eq!(
            Slug::from_title("Is this worth reporting?")
                .unwrap()
                .as_str(),
            "is-this-worth-reporting"
        );
        assert_eq!(
            Slug::from_title("999, 101 and Action Fraud")
                .unwrap()
                .as_str(),
            "999-101-and-action-fraud"
        );
        for bad in [
            "", "Home", "a b", "-a", "a-", "a--b", "new", "a/b", "<script>",
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad:?}");
        }
    }
}
