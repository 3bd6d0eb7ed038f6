//! `GET /api/me` and `GET /api/me/contacts`: who is signed in, and a candidate's named contacts.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::{Api, ApiError};
use crate::AppState;
use crate::auth::guard::{Authorized, OwnRecord, SignedIn};

pub(crate) async fn me(Api(signed_in): Api<SignedIn>) -> Json<Value> {
    let actor = signed_in.actor;
    Json(json!({
        "user_id": actor.user_id.0,
        "role": actor.role.key(),
        "candidate_id": actor.candidate.map(|c| c.0),
        "forces": actor.forces.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
    }))
}

pub(crate) async fn contacts(
    State(state): State<AppState>,
    Api(auth): Api<Authorized<OwnRecord>>,
) -> Result<Json<Value>, ApiError> {
    let id = auth.actor.candidate.ok_or(crate::AppError::Forbidden)?;
    let overview = state
        .store
        .candidate_overview(id)
        .await
        .map_err(crate::AppError::from)?;
    let overview = overview.ok_or(crate::AppError::NotFound)?;
    Ok(Json(json!({
        "constituency": overview.constituency_name,
        "forces": overview.forces.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
        "contacts": overview.contacts,
    })))
}
