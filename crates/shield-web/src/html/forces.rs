//! `GET /forces`: every police force with the constituencies, candidates and named contacts it
//! has, so gaps (a force with no named contact) are plain to see.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::constituencies::ElectionParam;
use super::layout::{IMPORT_STEPS, ImportStep, choose_election, count};
use crate::{AppError, AppState};

#[derive(Debug, Template)]
#[template(path = "forces/index.html")]
struct ForcesPage {
    section: &'static str,
    election_name: Option<String>,
    /// "45 police forces; 3 have no named contact yet".
    summary: String,
    rows: Vec<Row>,
    import_steps: &'static [ImportStep],
}

#[derive(Debug)]
struct Row {
    code: String,
    force_name: String,
    area_name: String,
    nation: &'static str,
    primary: u64,
    all: u64,
    candidates: u64,
    contacts: u64,
}

pub(crate) async fn index(
    State(state): State<AppState>,
    params: Result<Query<ElectionParam>, QueryRejection>,
) -> Result<Response, AppError> {
    let Query(params) =
        params.map_err(|_| AppError::bad_request("election", "The election could not be read"))?;
    let choice = choose_election(state.store.as_ref(), params.election()).await?;
    let forces = state.store.force_summaries(choice.id()).await?;
    let without_contact = forces.iter().filter(|f| f.contacts == 0).count();
    let mut summary = count(forces.len(), "police force", "police forces");
    if !forces.is_empty() && without_contact > 0 {
        let verb = if without_contact == 1 { "has" } else { "have" };
        summary.push_str(&format!("; {without_contact} {verb} no named contact yet"));
    }
    let page = ForcesPage {
        section: "forces",
        election_name: choice.name(),
        summary,
        rows: forces
            .into_iter()
            .map(|f| Row {
                code: f.code.to_string(),
                force_name: f.force_name,
                area_name: f.area_name,
                nation: f.nation.name(),
                primary: f.primary_constituencies,
                all: f.all_constituencies,
                candidates: f.candidates,
                contacts: f.contacts,
            })
            .collect(),
        import_steps: IMPORT_STEPS,
    };
    super::page(StatusCode::OK, &page)
}
