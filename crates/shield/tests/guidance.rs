//! The guidance library: safe rendering, versions, who may publish, drafts hidden from
//! readers, the starter set loaded once, and the report form's link to it.

mod common;

use axum::http::StatusCode;
use common::accounts::{csrf_of, signed_in, signed_in_for};
use common::{Client, state};
use shield_domain::{ForceCode, Role};
use shield_testkit::{TestDb, both_backends};
use shield_web::AppState;

both_backends!(
    guidance_markdown_is_rendered_safely,
    guidance_edits_are_versions_and_readers_see_the_published_one,
    only_coordinators_publish_guidance,
    starter_guidance_is_loaded_once_and_linked_from_the_report_form,
);

struct People {
    state: AppState,
    coordinator: Client,
    candidate: Client,
    police: Client,
}

async fn people(db: &TestDb) -> People {
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let (state, _) = state(db.store.clone());
    let claire = db
        .store
        .candidate_invitees(None)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == "Claire Whitfield")
        .unwrap();
    People {
        coordinator: signed_in(&state, Role::Coordinator, "coord@shield.example", vec![])
            .await
            .0,
        candidate: signed_in_for(
            &state,
            Role::Candidate,
            "claire@example.org",
            Some(claire.candidate_id),
            vec![],
        )
        .await
        .0,
        police: signed_in(
            &state,
            Role::ForceContact,
            "tv@police.example",
            vec![ForceCode::parse("E23000029").unwrap()],
        )
        .await
        .0,
        state,
    }
}

/// Writes a new article as the coordinator; returns the response.
async fn create(coordinator: &mut Client, slug: &str, title: &str, body: &str) -> common::Page {
    let csrf = csrf_of(coordinator).await;
    coordinator
        .post(
            "/guidance",
            &[
                ("csrf", &csrf),
                ("slug", slug),
                ("title", title),
                ("summary", "A test article."),
                ("tag_online", "on"),
                ("body", body),
            ],
        )
        .await
}

async fn guidance_markdown_is_rendered_safely(db: TestDb) {
    let People {
        mut coordinator,
        mut candidate,
        ..
    } = people(&db).await;
    let body = "Stay safe.\n\n<script>alert('x')</script>\n\n<img src=x onerror=alert(1)>\n\n\
                [a trap](javascript:alert(1)) and [a real link](https://www.ncsc.gov.uk/)\n\n\
                Hello <b onclick=alert(1)>bold</b> world";
    let page = create(&mut coordinator, "test-safety", "Test safety", body).await;
    assert_eq!(
        page.location.as_deref(),
        Some("/guidance/test-safety"),
        "{}",
        page.body
    );
    let csrf = csrf_of(&coordinator).await;
    let page = coordinator
        .post(
            "/guidance/test-safety/publish",
            &[("csrf", &csrf), ("version", "1")],
        )
        .await;
    assert_eq!(page.location.as_deref(), Some("/guidance/test-safety"));

    let page = candidate.get("/guidance/test-safety").await;
    assert_eq!(page.status, StatusCode::OK);
    let article = page
        .body
        .split("id=\"article-body\"")
        .nth(1)
        .unwrap()
        .split("</div>")
        .next()
        .unwrap()
        .to_owned();
    let lower = article.to_lowercase();
    for bad in [
        "<script",
        "alert('x')",
        "<img",
        "onerror",
        "onclick",
        "javascript:",
        "<b ",
    ] {
        assert!(!lower.contains(bad), "{bad} in {article}");
    }
    assert!(article.contains("Stay safe."), "{article}");
    assert!(
        article.contains("a trap"),
        "the refused link keeps its words"
    );
    assert!(
        article.contains("href=\"https://www.ncsc.gov.uk/\""),
        "{article}"
    );
    // The API gives the same safe HTML, and the Markdown as written.
    let api = candidate.get("/api/guidance/test-safety").await;
    let json: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    let html = json["html"].as_str().unwrap().to_lowercase();
    assert!(!html.contains("<script") && !html.contains("javascript:"));
    assert!(json["markdown"].as_str().unwrap().contains("<script>"));
}

async fn guidance_edits_are_versions_and_readers_see_the_published_one(db: TestDb) {
    let People {
        mut coordinator,
        mut candidate,
        ..
    } = people(&db).await;
    let page = create(
        &mut coordinator,
        "",
        "Parking at the count",
        "First words about parking.",
    )
    .await;
    // The slug comes from the title.
    assert_eq!(
        page.location.as_deref(),
        Some("/guidance/parking-at-the-count")
    );

    // A draft: readers cannot see it anywhere; coordinators can.
    assert_eq!(
        candidate.get("/guidance/parking-at-the-count").await.status,
        StatusCode::NOT_FOUND
    );
    assert!(
        !candidate
            .get("/guidance")
            .await
            .body
            .contains("Parking at the count")
    );
    let api = candidate.get("/api/guidance").await;
    assert!(!api.body.contains("parking-at-the-count"));
    assert_eq!(
        candidate
            .get("/api/guidance/parking-at-the-count")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let list = coordinator.get("/guidance").await;
    assert!(list.body.contains("Parking at the count") && list.body.contains("Draft"));

    let csrf = csrf_of(&coordinator).await;
    coordinator
        .post(
            "/guidance/parking-at-the-count/publish",
            &[("csrf", &csrf), ("version", "1")],
        )
        .await;
    let seen = candidate.get("/guidance/parking-at-the-count").await;
    assert!(seen.body.contains("First words about parking."));

    // An edit is version 2; readers keep version 1 until it is published.
    let page = coordinator
        .post(
            "/guidance/parking-at-the-count/edit",
            &[
                ("csrf", &csrf),
                ("title", "Parking at the count"),
                ("summary", "Where to leave the car."),
                ("tag_events", "on"),
                ("body", "Second words about parking."),
            ],
        )
        .await;
    assert_eq!(
        page.location.as_deref(),
        Some("/guidance/parking-at-the-count/history")
    );
    let seen = candidate.get("/guidance/parking-at-the-count").await;
    assert!(seen.body.contains("First words about parking."));
    assert!(!seen.body.contains("Second words"));
    let history = coordinator
        .get("/guidance/parking-at-the-count/history")
        .await;
    assert_eq!(history.status, StatusCode::OK);
    assert!(history.body.contains("versions/2") && history.body.contains("versions/1"));
    assert!(history.body.contains("Readers see version 1"));
    let v1 = coordinator
        .get("/guidance/parking-at-the-count/versions/1")
        .await;
    assert!(v1.body.contains("First words about parking."));
    // Only coordinators see history or old versions.
    assert_eq!(
        candidate
            .get("/guidance/parking-at-the-count/history")
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    coordinator
        .post(
            "/guidance/parking-at-the-count/publish",
            &[("csrf", &csrf), ("version", "2")],
        )
        .await;
    let seen = candidate.get("/guidance/parking-at-the-count").await;
    assert!(seen.body.contains("Second words about parking."));
    // The new tag took effect: it is listed under events, no longer under online.
    assert!(
        candidate
            .get("/guidance?tag=events")
            .await
            .body
            .contains("Parking at the count")
    );
    assert!(
        !candidate
            .get("/guidance?tag=online")
            .await
            .body
            .contains("Parking at the count")
    );
    assert_eq!(
        candidate.get("/guidance?tag=gossip").await.status,
        StatusCode::BAD_REQUEST
    );

    // Unpublished: gone for readers; its versions stay.
    coordinator
        .post(
            "/guidance/parking-at-the-count/unpublish",
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        candidate.get("/guidance/parking-at-the-count").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        db.store
            .guidance_versions("parking-at-the-count")
            .await
            .unwrap()
            .len(),
        2
    );

    // Bad input: the error summary names the fields, and nothing is written.
    let page = coordinator
        .post(
            "/guidance/parking-at-the-count/edit",
            &[
                ("csrf", &csrf),
                ("title", ""),
                ("summary", ""),
                ("body", ""),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    for field in ["#title", "#summary", "#body", "#tag_physical"] {
        assert!(page.body.contains(field), "{field}");
    }
    assert_eq!(
        db.store
            .guidance_versions("parking-at-the-count")
            .await
            .unwrap()
            .len(),
        2
    );
}

async fn only_coordinators_publish_guidance(db: TestDb) {
    let People {
        mut coordinator,
        mut candidate,
        mut police,
        ..
    } = people(&db).await;
    create(&mut coordinator, "draft-only", "Draft only", "Not yet.").await;
    for (who, client) in [("candidate", &mut candidate), ("police", &mut police)] {
        let csrf = csrf_of(client).await;
        let page = client
            .post(
                "/guidance/draft-only/publish",
                &[("csrf", &csrf), ("version", "1")],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{who} publishing");
        let page = create(client, "by-them", "By them", "Words.").await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{who} writing");
        assert_eq!(
            client.get("/guidance/draft-only").await.status,
            StatusCode::NOT_FOUND,
            "{who} reading a draft"
        );
    }
    let article = db
        .store
        .guidance_article("draft-only", shield_store::Which::Latest)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(article.published_version, None);
    assert!(
        db.store
            .guidance_article("by-them", shield_store::Which::Latest)
            .await
            .unwrap()
            .is_none()
    );
}

async fn starter_guidance_is_loaded_once_and_linked_from_the_report_form(db: TestDb) {
    let People {
        state,
        mut coordinator,
        mut candidate,
        ..
    } = people(&db).await;
    let added = shield_web::guidance::seed_starter(&state).await.unwrap();
    assert!(added >= 8, "{added}");
    let list = candidate.get("/guidance").await;
    for title in [
        "Is this worth reporting?",
        "999, 101 and Action Fraud",
        "Turn on 2-step verification",
        "Keeping your home address private",
        "Canvassing safely",
        "Surgeries and hustings",
    ] {
        assert!(list.body.contains(title), "{title} is listed");
    }
    // A coordinator's edit survives loading the starter set again, which adds nothing.
    let csrf = csrf_of(&coordinator).await;
    coordinator
        .post(
            "/guidance/home-security/edit",
            &[
                ("csrf", &csrf),
                ("title", "Home security (edited)"),
                ("summary", "Edited."),
                ("tag_home", "on"),
                ("body", "Edited body."),
            ],
        )
        .await;
    assert_eq!(shield_web::guidance::seed_starter(&state).await.unwrap(), 0);
    let latest = db
        .store
        .guidance_article("home-security", shield_store::Which::Latest)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (latest.version, latest.title.as_str()),
        (2, "Home security (edited)")
    );

    // The report form links to "is this worth reporting?", and the article is there.
    let form = candidate.get("/reports/new").await;
    assert!(
        form.body
            .contains("href=\"/guidance/is-this-worth-reporting\"")
    );
    let article = candidate.get("/guidance/is-this-worth-reporting").await;
    assert_eq!(article.status, StatusCode::OK);
    assert!(
        article.body.contains("call 999") || article.body.contains("<strong>call 999</strong>")
    );
}
