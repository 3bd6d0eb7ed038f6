//! The first page (every constituency, searchable) and one constituency's page.

use askama::Template;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use shield_domain::{ConstituencyCode, Nation};
use shield_store::{CandidateListing, ConstituencySummary, ForceLink};

use super::layout::{
    ElectionChoice, FieldProblem, IMPORT_STEPS, ImportStep, SelectOption, choose_election,
    parse_election, percent,
};
use crate::{AppError, AppState};

/// Longer than any constituency or force name; a longer search is a mistake, not a query.
const MAX_SEARCH_CHARS: usize = 100;

/// The search form's fields, exactly as typed: echoed back into the form.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SearchParams {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    nation: Option<String>,
    #[serde(default)]
    election: Option<String>,
}

/// What the person searched for, once read.
#[derive(Debug, Default)]
struct Search {
    /// Lowercased, trimmed; `None` when empty.
    needle: Option<String>,
    nation: Option<Nation>,
}

impl Search {
    fn is_filtered(&self) -> bool {
        self.needle.is_some() || self.nation.is_some()
    }

    fn matches(&self, c: &ConstituencySummary) -> bool {
        if self.nation.is_some_and(|n| n != c.nation) {
            return false;
        }
        let Some(needle) = &self.needle else {
            return true;
        };
        let hit = |text: &str| text.to_lowercase().contains(needle.as_str());
        hit(&c.name)
            || c.name_cy.as_deref().is_some_and(hit)
            || hit(c.code.as_str())
            || c.forces.iter().any(|f| hit(&f.force_name))
    }
}

fn parse_search(params: &SearchParams) -> (Search, Vec<FieldProblem>) {
    let mut problems = Vec::new();
    let needle = params.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let needle = match needle {
        Some(q) if q.chars().count() > MAX_SEARCH_CHARS => {
            problems.push(FieldProblem::new(
                "q",
                format!("Search must be {MAX_SEARCH_CHARS} characters or fewer"),
            ));
            None
        }
        other => other.map(str::to_lowercase),
    };
    let nation = match params.nation.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(value) => match Nation::parse(value) {
            Ok(nation) => Some(nation),
            Err(_) => {
                problems.push(FieldProblem::new(
                    "nation",
                    "Nation must be England, Wales, Scotland or Northern Ireland",
                ));
                None
            }
        },
    };
    (Search { needle, nation }, problems)
}

#[derive(Debug, Template)]
#[template(path = "constituencies/index.html")]
struct IndexPage {
    section: &'static str,
    problems: Vec<FieldProblem>,
    q: String,
    nations: Vec<SelectOption>,
    elections: Vec<SelectOption>,
    election_name: Option<String>,
    /// Nothing imported: show how to import instead of a search.
    empty: bool,
    import_steps: &'static [ImportStep],
    filtered: bool,
    /// "Showing 20 of 650 constituencies; 20 span two police forces".
    showing: String,
    rows: Vec<Row>,
}

impl IndexPage {
    fn problem_for(&self, field: &str) -> Option<&str> {
        self.problems
            .iter()
            .find(|p| p.field == field)
            .map(|p| p.message.as_str())
    }
}

#[derive(Debug)]
struct Row {
    href: String,
    name: String,
    /// Shown only when it differs from the English name.
    name_cy: Option<String>,
    code: String,
    place: String,
    forces: Vec<ForceCell>,
    candidates: u64,
}

#[derive(Debug)]
struct ForceCell {
    name: String,
    /// `primary, 82%` or `18%`; nothing when one force serves the whole constituency.
    note: Option<String>,
}

fn force_cells(forces: &[ForceLink]) -> Vec<ForceCell> {
    let shared = forces.len() > 1;
    forces
        .iter()
        .map(|f| ForceCell {
            name: f.force_name.clone(),
            note: shared.then(|| {
                if f.is_primary {
                    format!("primary, {}", percent(f.pop_share))
                } else {
                    percent(f.pop_share)
                }
            }),
        })
        .collect()
}

fn place(c: &ConstituencySummary) -> String {
    match &c.region_name {
        Some(region) => format!("{}, {region}", c.nation.name()),
        None => c.nation.name().to_owned(),
    }
}

fn welsh_name(c: &ConstituencySummary) -> Option<String> {
    c.name_cy.clone().filter(|cy| *cy != c.name)
}

fn showing(shown: &[&ConstituencySummary], total: usize) -> String {
    let mut sentence = if total == 1 {
        format!("Showing {} of 1 constituency", shown.len())
    } else if shown.len() == total {
        format!("Showing all {total} constituencies")
    } else {
        format!("Showing {} of {total} constituencies", shown.len())
    };
    let cross: Vec<_> = shown.iter().filter(|c| c.is_cross_force()).collect();
    if !cross.is_empty() {
        let how_many = if cross.iter().all(|c| c.forces.len() == 2) {
            "two police forces"
        } else {
            "more than one police force"
        };
        let verb = if cross.len() == 1 { "spans" } else { "span" };
        sentence.push_str(&format!("; {} {verb} {how_many}", cross.len()));
    }
    sentence
}

/// `GET /`: every constituency of the election, with its police force(s), searchable.
pub(crate) async fn index(
    State(state): State<AppState>,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Response, AppError> {
    let mut problems = Vec::new();
    let params = match params {
        Ok(Query(params)) => params,
        Err(_) => {
            problems.push(FieldProblem::new(
                "q",
                "The search could not be read: try again",
            ));
            SearchParams::default()
        }
    };
    let (search, search_problems) = parse_search(&params);
    problems.extend(search_problems);
    let elections = state.store.elections().await?;
    let choice = match parse_election(params.election.as_deref())
        .and_then(|wanted| ElectionChoice::pick(elections.clone(), wanted))
    {
        Ok(choice) => choice,
        Err(problem) => {
            problems.push(problem);
            ElectionChoice::pick(elections, None).unwrap_or_default()
        }
    };

    let mut page = IndexPage {
        section: "constituencies",
        problems: Vec::new(),
        q: params.q.unwrap_or_default(),
        nations: Nation::ALL
            .iter()
            .map(|n| SelectOption {
                value: n.key().to_owned(),
                label: n.name().to_owned(),
                selected: search.nation == Some(*n),
            })
            .collect(),
        elections: choice.options(),
        election_name: choice.name(),
        empty: false,
        import_steps: IMPORT_STEPS,
        filtered: search.is_filtered(),
        showing: String::new(),
        rows: Vec::new(),
    };
    if !problems.is_empty() {
        page.problems = problems;
        return super::page(StatusCode::BAD_REQUEST, &page);
    }

    let all = state.store.constituency_summaries(choice.id()).await?;
    page.empty = all.is_empty();
    let shown: Vec<&ConstituencySummary> = all.iter().filter(|c| search.matches(c)).collect();
    page.showing = showing(&shown, all.len());
    let query = choice.query();
    page.rows = shown
        .iter()
        .map(|c| Row {
            href: format!("/constituencies/{}{query}", c.code),
            name: c.name.clone(),
            name_cy: welsh_name(c),
            code: c.code.to_string(),
            place: place(c),
            forces: force_cells(&c.forces),
            candidates: c.candidates,
        })
        .collect();
    super::page(StatusCode::OK, &page)
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ElectionParam {
    #[serde(default)]
    election: Option<String>,
}

impl ElectionParam {
    pub(crate) fn election(&self) -> Option<&str> {
        self.election.as_deref()
    }
}

#[derive(Debug, Template)]
#[template(path = "constituencies/show.html")]
struct ShowPage {
    section: &'static str,
    back_href: String,
    name: String,
    name_cy: Option<String>,
    code: String,
    place: String,
    forces: Vec<ForceRow>,
    /// "Surrey Police and Hampshire Constabulary": the forces told of cases they do not own.
    informed: String,
    election_name: Option<String>,
    candidates: Vec<CandidateRow>,
    import_steps: &'static [ImportStep],
}

#[derive(Debug)]
struct ForceRow {
    name: String,
    share: String,
    primary: bool,
}

#[derive(Debug)]
struct CandidateRow {
    name: String,
    party: String,
    result: &'static str,
}

impl From<&CandidateListing> for CandidateRow {
    fn from(c: &CandidateListing) -> Self {
        Self {
            name: c.name.clone(),
            party: c.party.clone(),
            result: match c.elected {
                Some(true) => "Elected",
                Some(false) => "Not elected",
                None => "Not known yet",
            },
        }
    }
}

/// Joins names as a sentence does: `A`, `A and B`, `A, B and C`.
fn and_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `GET /constituencies/{code}`: one constituency, its police force(s) and its candidates.
pub(crate) async fn show(
    State(state): State<AppState>,
    code: Result<Path<String>, PathRejection>,
    params: Result<Query<ElectionParam>, QueryRejection>,
) -> Result<Response, AppError> {
    let bad_code = || {
        AppError::bad_request(
            "code",
            "Constituency code must be an ONS code such as E14001063",
        )
    };
    let Path(raw) = code.map_err(|_| bad_code())?;
    let code = ConstituencyCode::parse(&raw).map_err(|_| bad_code())?;
    let Query(params) =
        params.map_err(|_| AppError::bad_request("election", "The election could not be read"))?;
    let choice = choose_election(state.store.as_ref(), params.election()).await?;
    let detail = state
        .store
        .constituency_detail(&code, choice.id())
        .await?
        .ok_or(AppError::NotFound)?;
    let c = &detail.summary;
    let informed: Vec<&str> = c
        .forces
        .iter()
        .filter(|f| !f.is_primary)
        .map(|f| f.force_name.as_str())
        .collect();
    let page = ShowPage {
        section: "constituencies",
        back_href: format!("/{}", choice.query()),
        name: c.name.clone(),
        name_cy: welsh_name(c),
        code: c.code.to_string(),
        place: place(c),
        forces: c
            .forces
            .iter()
            .map(|f| ForceRow {
                name: f.force_name.clone(),
                share: percent(f.pop_share),
                primary: f.is_primary,
            })
            .collect(),
        informed: and_list(&informed),
        election_name: choice.name(),
        candidates: detail.candidates.iter().map(CandidateRow::from).collect(),
        import_steps: IMPORT_STEPS,
    };
    super::page(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_names() {
        assert_eq!(and_list(&[]), "");
        assert_eq!(and_list(&["A"]), "A");
        assert_eq!(and_list(&["A", "B"]), "A and B");
        assert_eq!(and_list(&["A", "B", "C"]), "A, B and C");
    }

    #[test]
    fn search_is_trimmed_and_checked() {
        let params = SearchParams {
            q: Some("  WIND ".into()),
            nation: Some("scotland".into()),
            election: None,
        };
        let (search, problems) = parse_search(&params);
        assert!(problems.is_empty());
        assert_eq!(search.needle.as_deref(), Some("wind"));
        assert_eq!(search.nation, Some(Nation::Scotland));

        let params = SearchParams {
            q: Some("x".repeat(MAX_SEARCH_CHARS + 1)),
            nation: Some("atlantis".into()),
            election: None,
        };
        let (_, problems) = parse_search(&params);
        let fields: Vec<_> = problems.iter().map(|p| p.field).collect();
        assert_eq!(fields, ["q", "nation"]);
    }
}
