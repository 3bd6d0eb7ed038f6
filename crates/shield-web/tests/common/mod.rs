//! Helpers shared by the web tests: a seeded store, a request runner, and HTML-to-text.

#![allow(dead_code)] // Each test binary uses a different subset.

use axum::body::Body;
use axum::http::{Method, Request, Response, StatusCode};
use chrono::NaiveDate;
use http_body_util::BodyExt;
use shield_domain::{
    Candidate, Constituency, ConstituencyCode, ConstituencyForce, ContactRole, Election,
    ElectionId, Email, ForceCode, ForceContact, Nation, PersonId, PoliceForce, PopShare, Region,
};
use shield_store::{ImportMode, Store};
use shield_web::{AppState, router};
use tower::ServiceExt;

pub const EVIL_NAME: &str = "Evil <script>alert(1)</script> & Co";

fn constituency(code: &str, name: &str, name_cy: Option<&str>) -> Constituency {
    let code = ConstituencyCode::parse(code).unwrap();
    let nation = code.nation();
    let region =
        (nation == Nation::England).then(|| Region::parse("E12000008", "South East").unwrap());
    Constituency::new(code, name, name_cy, nation, region).unwrap()
}

fn force(code: &str, area: &str, name: &str, nation: Nation) -> PoliceForce {
    PoliceForce::new(ForceCode::parse(code).unwrap(), area, name, None, nation).unwrap()
}

fn link(c: &str, f: &str, share: f64, primary: bool) -> ConstituencyForce {
    ConstituencyForce {
        constituency: ConstituencyCode::parse(c).unwrap(),
        force: ForceCode::parse(f).unwrap(),
        pop_share: PopShare::new(share).unwrap(),
        is_primary: primary,
    }
}

pub fn election() -> Election {
    Election::new(
        ElectionId::parse("parl.2024-07-04").unwrap(),
        NaiveDate::from_ymd_opt(2024, 7, 4).unwrap(),
        None,
    )
    .unwrap()
}

fn candidate(person: &str, name: &str, party: &str, seat: &str, elected: bool) -> Candidate {
    Candidate {
        person_id: PersonId::parse(person).unwrap(),
        election: election().id,
        name: name.into(),
        party: party.into(),
        constituency: ConstituencyCode::parse(seat).unwrap(),
        email: None,
        phone: None,
        elected: Some(elected),
    }
}

/// Five constituencies in three nations; Windsor spans Thames Valley (82%) and Surrey (18%);
/// one constituency's name is an HTML injection attempt.
pub async fn seed(store: &dyn Store) {
    store
        .import_constituencies(
            &[
                constituency("E14001063", "Aldershot", None),
                constituency("E14001588", "Windsor", None),
                constituency("E14001064", EVIL_NAME, None),
                constituency("S14000060", "Aberdeen North", None),
                constituency("W07000084", "Carmarthen", Some("Caerfyrddin")),
            ],
            ImportMode::Commit,
        )
        .await
        .unwrap();
    store
        .import_forces(
            &[
                force(
                    "E23000030",
                    "Hampshire",
                    "Hampshire Constabulary",
                    Nation::England,
                ),
                force(
                    "E23000035",
                    "Thames Valley",
                    "Thames Valley Police",
                    Nation::England,
                ),
                force("E23000036", "Surrey", "Surrey Police", Nation::England),
                force("S23000009", "Scotland", "Police Scotland", Nation::Scotland),
                force(
                    "W15000001",
                    "Dyfed-Powys",
                    "Dyfed-Powys Police",
                    Nation::Wales,
                ),
            ],
            ImportMode::Commit,
        )
        .await
        .unwrap();
    store
        .import_constituency_forces(
            &[
                link("E14001063", "E23000030", 1.0, true),
                link("E14001588", "E23000035", 0.82, true),
                link("E14001588", "E23000036", 0.18, false),
                link("E14001064", "E23000030", 1.0, true),
                link("S14000060", "S23000009", 1.0, true),
                link("W07000084", "W15000001", 1.0, true),
            ],
            ImportMode::Commit,
        )
        .await
        .unwrap();
    store
        .import_candidates(
            &[election()],
            &[
                candidate("1", "Alex Baker", "Labour", "E14001063", true),
                candidate("2", "Jack Rankin", "Conservative", "E14001588", true),
                candidate("3", "Anna Smith", "Green Party", "E14001588", false),
                candidate("4", "<b>Bold</b> Person", "Independent", "E14001064", false),
            ],
            ImportMode::Commit,
        )
        .await
        .unwrap();
    store
        .import_contacts(
            &[ForceContact {
                force: ForceCode::parse("E23000035").unwrap(),
                role: ContactRole::Lead,
                name: "Pat Lead".into(),
                email: Email::parse("pat@thamesvalley.police.example").unwrap(),
                phone: None,
            }],
            ImportMode::Commit,
        )
        .await
        .unwrap();
}

/// A response with its body read.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Page {
    /// The body with tags removed and whitespace collapsed, as a person would read it.
    pub fn text(&self) -> String {
        text(&self.body)
    }

    /// The text of the first table row (`<tr>…</tr>`) whose HTML contains `needle`.
    pub fn row(&self, needle: &str) -> String {
        self.body
            .split("<tr")
            .skip(1)
            .map(|row| row.split("</tr>").next().unwrap_or_default())
            .find(|row| row.contains(needle))
            .map(|row| text(&format!("<tr{row}")))
            .unwrap_or_else(|| panic!("no row contains {needle:?}"))
    }

    /// The text of the table body: the listed rows and nothing of the form or hints.
    pub fn listed(&self) -> String {
        match self.body.split_once("<tbody>") {
            Some((_, rest)) => text(rest.split("</tbody>").next().unwrap_or_default()),
            None => String::new(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let collapsed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    // Closing punctuation straight after an element reads as it would on screen.
    collapsed
        .replace(" )", ")")
        .replace(" ,", ",")
        .replace(" .", ".")
        .replace("( ", "(")
}

pub async fn request(store: std::sync::Arc<dyn Store>, method: Method, uri: &str) -> Page {
    let app = router(AppState::new(store));
    let response: Response<Body> = app
        .oneshot(
            Request::builder()
                .method(method)
                .uri(uri)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Page {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

pub async fn get(store: std::sync::Arc<dyn Store>, uri: &str) -> Page {
    request(store, Method::GET, uri).await
}
