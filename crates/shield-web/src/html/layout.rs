//! Pieces every page shares: the error summary's items, the election picker, and wording.

use shield_domain::{Election, ElectionId};

use crate::AppError;

/// One problem with one field, as the GOV.UK error summary lists it.
#[derive(Debug, Clone)]
pub(crate) struct FieldProblem {
    /// The field's id: the summary links to `#field` when the page has the field.
    pub field: &'static str,
    pub message: String,
    pub linked: bool,
}

impl FieldProblem {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
            linked: true,
        }
    }
}

/// The message for one field, if it has a problem.
pub(crate) fn problem_for<'a>(problems: &'a [FieldProblem], field: &str) -> Option<&'a str> {
    problems
        .iter()
        .find(|p| p.field == field)
        .map(|p| p.message.as_str())
}

/// One `<option>` of a `<select>`.
#[derive(Debug)]
pub(crate) struct SelectOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A step of loading the reference data, shown on pages that have nothing to list yet.
/// These must match the subcommands of the `shield` binary.
#[derive(Debug)]
pub(crate) struct ImportStep {
    pub command: &'static str,
    pub what: &'static str,
}

pub(crate) const IMPORT_STEPS: &[ImportStep] = &[
    ImportStep {
        command: "shield import constituencies FILE",
        what: "the ONS constituency names and codes",
    },
    ImportStep {
        command: "shield import forces FILE",
        what: "the police force areas",
    },
    ImportStep {
        command: "shield import constituency-forces FILE",
        what: "which police force, or forces, serve each constituency",
    },
    ImportStep {
        command: "shield import candidates FILE",
        what: "the candidates, from a Democracy Club export",
    },
    ImportStep {
        command: "shield import contacts FILE",
        what: "each force's named police contacts",
    },
];

/// The election a page is about: the one asked for, or else the latest.
#[derive(Debug, Default)]
pub(crate) struct ElectionChoice {
    /// Every election, latest first.
    pub all: Vec<Election>,
    pub current: Option<Election>,
    /// Whether the URL named it; only then do links carry it on.
    pub explicit: bool,
}

impl ElectionChoice {
    /// Picks from the store's elections. An id the store does not know is a bad request.
    pub fn pick(all: Vec<Election>, wanted: Option<ElectionId>) -> Result<Self, FieldProblem> {
        let (current, explicit) = match wanted {
            None => (all.first().cloned(), false),
            Some(id) => match all.iter().find(|e| e.id == id) {
                Some(e) => (Some(e.clone()), true),
                None => {
                    return Err(FieldProblem::new(
                        "election",
                        format!(
                            "Election {id} is not one this service covers: choose one from the list"
                        ),
                    ));
                }
            },
        };
        Ok(Self {
            all,
            current,
            explicit,
        })
    }

    pub fn id(&self) -> Option<&ElectionId> {
        self.current.as_ref().map(|e| &e.id)
    }

    pub fn name(&self) -> Option<String> {
        self.current.as_ref().map(|e| e.name.clone())
    }

    /// `?election=…` for links to other pages, when the person chose an election; empty
    /// otherwise, so ordinary links stay on "the latest".
    pub fn query(&self) -> String {
        match (&self.current, self.explicit) {
            (Some(e), true) => format!("?election={}", e.id),
            _ => String::new(),
        }
    }

    pub fn options(&self) -> Vec<SelectOption> {
        self.all
            .iter()
            .map(|e| SelectOption {
                value: e.id.to_string(),
                label: e.name.clone(),
                selected: Some(&e.id) == self.id(),
            })
            .collect()
    }
}

/// Reads the `election` parameter; empty or missing means "the latest".
pub(crate) fn parse_election(raw: Option<&str>) -> Result<Option<ElectionId>, FieldProblem> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(value) => ElectionId::parse(value).map(Some).map_err(|_| {
            FieldProblem::new(
                "election",
                "Election must be an election id such as parl.2024-07-04",
            )
        }),
    }
}

/// The election for a page without its own form: a problem becomes the generic 400 page.
pub(crate) async fn choose_election(
    store: &dyn shield_store::Store,
    raw: Option<&str>,
) -> Result<ElectionChoice, AppError> {
    let wanted = parse_election(raw).map_err(AppError::from)?;
    ElectionChoice::pick(store.elections().await?, wanted).map_err(AppError::from)
}

impl From<FieldProblem> for AppError {
    fn from(problem: FieldProblem) -> Self {
        AppError::BadRequest {
            field: problem.field,
            message: problem.message,
        }
    }
}

/// A population share as people read it: `82%`, or `less than 1%` rather than `0%`.
pub(crate) fn percent(share: f64) -> String {
    let whole = (share * 100.0).round();
    if whole < 1.0 && share > 0.0 {
        "less than 1%".to_owned()
    } else {
        format!("{whole:.0}%")
    }
}

/// `1 constituency`, `2 constituencies`.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages() {
        assert_eq!(percent(0.82), "82%");
        assert_eq!(percent(0.175), "18%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.002), "less than 1%");
        assert_eq!(percent(0.0), "0%");
    }

    #[test]
    fn counts() {
        assert_eq!(count(1, "force", "forces"), "1 force");
        assert_eq!(count(0, "force", "forces"), "0 forces");
    }

    #[test]
    fn election_param() {
        assert!(parse_election(None).unwrap().is_none());
        assert!(parse_election(Some("  ")).unwrap().is_none());
        assert!(parse_election(Some("parl.2024-07-04")).unwrap().is_some());
        assert_eq!(
            parse_election(Some("<script>")).unwrap_err().field,
            "election"
        );
    }
}
