//! Campaign activities (journey 6): a candidate registers them; the police of the candidate's
//! forces (and coordinators) see upcoming ones as a list and through a secret, revocable
//! iCalendar feed; another force sees none of them.

mod common;

use axum::http::StatusCode;
use common::accounts::{csrf_of, signed_in};
use common::ics::{Event, parse_ics};
use common::{Client, enrol_with_password, state};
use serde_json::json;
use shield_domain::{ForceCode, Role};
use shield_testkit::{TestDb, both_backends};
use shield_web::AppState;

both_backends!(
    activities_registered_seen_by_force_and_fed_as_icalendar,
    checklist_edited_and_activity_cancelled_in_feed_list_and_month_calendar,
);

const TV: &str = "E23000029";
const ESSEX: &str = "E23000028";
/// A venue with every character iCalendar text must escape.
const VENUE: &str = "Ashcombe Library, Room 2; side door \\ rear";

/// Makes a feed address on `/calendar`; returns its path.
async fn make_feed(client: &mut Client) -> String {
    let csrf = client.get("/calendar").await.csrf();
    let page = client.post("/calendar", &[("csrf", &csrf)]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let start = page
        .body
        .find(r#"<code id="feed-url">"#)
        .expect("the address is shown")
        + 20;
    let end = page.body[start..].find('<').unwrap() + start;
    let path = page.body[start..end].to_owned();
    assert!(
        path.starts_with("/calendar/") && path.ends_with(".ics"),
        "{path}"
    );
    path
}

fn is_utc(value: &str) -> bool {
    chrono::NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%SZ").is_ok()
}

async fn fetch_feed(path: &str, state: &AppState) -> (StatusCode, Vec<Event>) {
    let mut anonymous = Client::new(state.clone());
    let (status, headers, body) = anonymous.get_bytes(path).await;
    if status != StatusCode::OK {
        return (status, Vec::new());
    }
    assert_eq!(
        headers.get("content-type").unwrap(),
        "text/calendar; charset=utf-8"
    );
    (status, parse_ics(&body))
}

async fn activities_registered_seen_by_force_and_fed_as_icalendar(db: TestDb) {
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let (state, _clock) = state(db.store.clone());
    let people = shield::demo::invite_people(&state).await.unwrap();
    let mut claire = Client::new(state.clone());
    enrol_with_password(&mut claire, &people[0].link_path).await;
    let mut contact_tv = signed_in(
        &state,
        Role::ForceContact,
        "tv.contact@police.example",
        vec![ForceCode::parse(TV).unwrap()],
    )
    .await
    .0;
    let mut contact_essex = signed_in(
        &state,
        Role::ForceContact,
        "essex.contact@police.example",
        vec![ForceCode::parse(ESSEX).unwrap()],
    )
    .await
    .0;
    let mut coordinator = signed_in(&state, Role::Coordinator, "coord@shield.example", vec![])
        .await
        .0;

    // Bad input: every problem is named, and the summary links to its field.
    let page = claire.get("/activities").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Nothing registered yet"));
    let csrf = page.csrf();
    let bad = claire
        .post(
            "/activities",
            &[
                ("csrf", &csrf),
                ("kind", ""),
                ("starts", "2030-01-15T18:00"),
                ("ends", "2030-01-15T17:00"),
                ("place", " "),
                ("people", "lots"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let text = bad.text();
    assert!(text.contains("There is a problem"), "{text}");
    for (field, message) in [
        ("kind", "Select what you will be doing"),
        ("ends", "The end must be after the start"),
        ("place", "Enter the area or the venue"),
        ("people", "Enter how many people will be there"),
        ("alone", "Select whether anyone will be on their own"),
    ] {
        assert!(text.contains(message), "{message}: {text}");
        assert!(bad.body.contains(&format!("href=\"#{field}\"")), "{field}");
    }
    assert!(
        bad.body.contains(r#"value="2030-01-15T18:00""#),
        "input kept"
    );
    let missing_start = claire
        .post(
            "/activities",
            &[
                ("csrf", &csrf),
                ("kind", "canvassing"),
                ("ends", "2030-01-15T17:00"),
            ],
        )
        .await;
    assert!(missing_start.text().contains("Enter when it starts"));

    // A surgery in January (GMT: UK time is UTC), with one item of its checklist ticked.
    let made = claire
        .post(
            "/activities",
            &[
                ("csrf", &csrf),
                ("kind", "surgery"),
                ("starts", "2030-01-15T18:00"),
                ("ends", "2030-01-15T20:00"),
                ("place", VENUE),
                ("people", "2"),
                ("alone", "yes"),
                ("check_exits", "yes"),
            ],
        )
        .await;
    assert_eq!(
        made.location.as_deref(),
        Some("/activities?registered=1"),
        "{}",
        made.body
    );
    let mine = claire.get("/activities?registered=1").await.text();
    assert!(mine.contains("Activity registered"), "{mine}");
    assert!(mine.contains("Surgery") && mine.contains(VENUE), "{mine}");
    assert!(mine.contains("Done: I know where the exits are"), "{mine}");
    assert!(
        mine.contains("Not done: I have told the police about it"),
        "{mine}"
    );
    assert!(mine.contains("Start a check-in session for this activity"));
    // The link pre-fills the check-in form with the activity's kind and venue.
    let body = claire.get("/activities").await.body;
    let link = common::attr_after(&body, r#"href="/check-in?activity="#).unwrap();
    let pins = claire
        .post(
            "/check-in/pins",
            &[("csrf", &csrf), ("pin", "2468"), ("duress", "1357")],
        )
        .await;
    assert_eq!(pins.location.as_deref(), Some("/check-in"), "{}", pins.body);
    let checkin = claire.get(&format!("/check-in?activity={link}")).await;
    assert_eq!(checkin.status, StatusCode::OK);
    assert!(
        checkin
            .body
            .contains(r#"<option value="surgery" selected>"#),
        "{}",
        checkin.body
    );
    assert!(
        checkin.body.contains("Ashcombe Library, Room 2; side door"),
        "{}",
        checkin.body
    );

    // The API: a named error, then canvassing in July (BST: UK time is UTC+1).
    let api_csrf = csrf_of(&claire).await;
    let wrong = claire
        .post_json(
            "/api/activities",
            &api_csrf,
            &json!({ "kind": "canvassing", "starts": "2030-07-01T09:00", "ends": "2030-07-01T08:00",
                     "place": "Elm Road", "people": 1, "alone": true }),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    let wrong: serde_json::Value = serde_json::from_str(&wrong.body).unwrap();
    assert_eq!(wrong["field"], "ends");
    let created = claire
        .post_json(
            "/api/activities",
            &api_csrf,
            &json!({ "kind": "canvassing", "starts": "2030-07-01T09:00", "ends": "2030-07-01T12:00",
                     "place": "Elm Road and Oak Close", "people": 1, "alone": true }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let created: serde_json::Value = serde_json::from_str(&created.body).unwrap();
    assert_eq!(created["kind"], "canvassing");
    assert_eq!(
        created["starts_at_ms"],
        chrono::DateTime::parse_from_rfc3339("2030-07-01T08:00:00Z")
            .unwrap()
            .timestamp_millis()
    );
    let listed = claire.get("/api/activities").await;
    let listed: serde_json::Value = serde_json::from_str(&listed.body).unwrap();
    let listed = listed["activities"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["kind"], "surgery", "soonest first");
    assert_eq!(listed[0]["place"], VENUE);
    assert_eq!(listed[0]["checklist"], json!(["exits"]));

    // The police of Claire's force see both, with the venue; another force sees neither.
    let tv = contact_tv.get("/activities/force").await;
    assert_eq!(tv.status, StatusCode::OK);
    let tv = tv.text();
    assert!(
        tv.contains("Claire Whitfield") && tv.contains(VENUE),
        "{tv}"
    );
    assert!(
        tv.find("Surgery").unwrap() < tv.find("Canvassing").unwrap(),
        "ordered by start"
    );
    let essex = contact_essex.get("/activities/force").await;
    assert_eq!(essex.status, StatusCode::OK);
    assert!(!essex.text().contains("Claire Whitfield"));
    assert!(!essex.text().contains(VENUE));
    let other = contact_tv
        .get(&format!("/activities/force?force={ESSEX}"))
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let all = coordinator.get("/activities/force").await.text();
    assert!(
        all.contains("Claire Whitfield") && all.contains(VENUE),
        "{all}"
    );

    // The feed: reachable without a session, parses, and holds both activities.
    let feed = make_feed(&mut contact_tv).await;
    let (status, events) = fetch_feed(&feed, &state).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(events.len(), 2, "{events:?}");
    let surgery = &events[0];
    assert_eq!(surgery["SUMMARY"], "Surgery: Claire Whitfield");
    assert_eq!(surgery["LOCATION"], VENUE);
    assert_eq!(surgery["DTSTART"], "20300115T180000Z");
    assert_eq!(surgery["DTEND"], "20300115T200000Z");
    assert!(
        surgery["DESCRIPTION"].contains("Anyone alone: yes"),
        "{surgery:?}"
    );
    assert!(surgery["DESCRIPTION"].contains("[x] I know where the exits are"));
    let canvassing = &events[1];
    assert_eq!(canvassing["SUMMARY"], "Canvassing: Claire Whitfield");
    assert_eq!(canvassing["DTSTART"], "20300701T080000Z");
    assert_eq!(canvassing["DTEND"], "20300701T110000Z");
    for e in &events {
        assert!(is_utc(&e["DTSTAMP"]) && is_utc(&e["DTSTART"]) && is_utc(&e["DTEND"]));
        assert!(e["UID"].starts_with("activity-"), "{e:?}");
        assert!(e["DESCRIPTION"].contains("Claire Whitfield"));
    }
    // UIDs are stable from one fetch to the next.
    let (_, again) = fetch_feed(&feed, &state).await;
    let uids = |es: &[Event]| es.iter().map(|e| e["UID"].clone()).collect::<Vec<_>>();
    assert_eq!(uids(&events), uids(&again));

    // Another force's feed has none of Claire's; a coordinator's has them.
    let essex_feed = make_feed(&mut contact_essex).await;
    assert_eq!(
        fetch_feed(&essex_feed, &state).await,
        (StatusCode::OK, Vec::new())
    );
    let coord_feed = make_feed(&mut coordinator).await;
    assert_eq!(fetch_feed(&coord_feed, &state).await.1.len(), 2);

    // Rotating replaces the address; revoking ends it. Either way the old one is a 404.
    let rotated = make_feed(&mut contact_tv).await;
    assert_ne!(rotated, feed);
    assert_eq!(fetch_feed(&feed, &state).await.0, StatusCode::NOT_FOUND);
    assert_eq!(fetch_feed(&rotated, &state).await.0, StatusCode::OK);
    let csrf = contact_tv.get("/calendar").await.csrf();
    let revoked = contact_tv
        .post("/calendar/revoke", &[("csrf", &csrf)])
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert!(revoked.text().contains("has been revoked"));
    assert_eq!(fetch_feed(&rotated, &state).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        fetch_feed("/calendar/not-a-token.ics", &state).await.0,
        StatusCode::NOT_FOUND
    );
}

async fn checklist_edited_and_activity_cancelled_in_feed_list_and_month_calendar(db: TestDb) {
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let (state, _clock) = state(db.store.clone());
    let people = shield::demo::invite_people(&state).await.unwrap();
    let mut claire = Client::new(state.clone());
    enrol_with_password(&mut claire, &people[0].link_path).await;
    let mut contact_tv = signed_in(
        &state,
        Role::ForceContact,
        "tv.contact@police.example",
        vec![ForceCode::parse(TV).unwrap()],
    )
    .await
    .0;
    let mut contact_essex = signed_in(
        &state,
        Role::ForceContact,
        "essex.contact@police.example",
        vec![ForceCode::parse(ESSEX).unwrap()],
    )
    .await
    .0;

    // A hustings in January 2030, registered through the API with one item ticked.
    let csrf = csrf_of(&claire).await;
    let made = claire
        .post_json(
            "/api/activities",
            &csrf,
            &json!({ "kind": "hustings", "starts": "2030-01-15T18:00", "ends": "2030-01-15T20:00",
                     "place": "St Mary's Church Hall", "people": 80, "alone": false, "checklist": ["exits"] }),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let id = serde_json::from_str::<serde_json::Value>(&made.body).unwrap()["id"]
        .as_i64()
        .unwrap();

    // The checklist is edited after registering: police informed now, exits unticked.
    let page = claire.get(&format!("/activities/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"save-checklist\""), "{}", page.body);
    let saved = claire
        .post(
            &format!("/activities/{id}/checklist"),
            &[("csrf", &csrf), ("check_police", "yes")],
        )
        .await;
    assert_eq!(
        saved.location.as_deref(),
        Some(format!("/activities/{id}?done=checklist").as_str())
    );
    let record = state.store.activity(id).await.unwrap().unwrap();
    assert_eq!((record.checklist.as_str(), record.revision), ("police", 1));

    // The police of the force see it in the feed (SEQUENCE 1, confirmed) …
    let feed = make_feed(&mut contact_tv).await;
    let (status, events) = fetch_feed(&feed, &state).await;
    assert_eq!(status, StatusCode::OK);
    let uid = format!("activity-{id}@candidate-shield");
    let event = events
        .iter()
        .find(|e| e["UID"] == uid)
        .expect("in the feed");
    assert_eq!(
        (event["SEQUENCE"].as_str(), event["STATUS"].as_str()),
        ("1", "CONFIRMED")
    );
    assert!(
        event["DESCRIPTION"].contains("[x] I have told the police about it"),
        "{event:?}"
    );
    assert!(
        event["DESCRIPTION"].contains("[ ] I know where the exits are"),
        "{event:?}"
    );

    // … and in the month calendar: a table with a caption and a header per weekday, the
    // activity on its UK day, linking to its page. Another force's calendar does not have it.
    let month = contact_tv
        .get("/activities/force/calendar?month=2030-01")
        .await;
    assert_eq!(month.status, StatusCode::OK, "{}", month.body);
    assert!(
        month
            .body
            .contains("<caption class=\"table__caption\">Activities in January 2030")
    );
    assert!(
        month
            .body
            .contains("<th scope=\"col\"><abbr title=\"Monday\">Mon</abbr></th>")
    );
    let link = format!("href=\"/activities/{id}\"");
    assert!(month.body.contains(&link), "{}", month.body);
    let day = month.body.find("Tue 15 Jan").expect("the 15th");
    assert!(month.body[day..].find(&link).unwrap() < month.body[day..].find("Wed 16 Jan").unwrap());
    assert!(
        month
            .text()
            .contains("18:00–20:00 Hustings: Claire Whitfield"),
        "{}",
        month.text()
    );
    let other = contact_essex
        .get("/activities/force/calendar?month=2030-01")
        .await;
    assert_eq!(other.status, StatusCode::OK);
    assert!(!other.body.contains(&link));
    assert_eq!(
        contact_tv
            .get("/activities/force/calendar?month=January")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let api = contact_tv
        .get("/api/activities/force/calendar?month=2030-01")
        .await;
    let api: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(api["month"], "2030-01");
    assert_eq!(api["activities"][0]["id"], id);

    // The police see the activity's page but cannot change it.
    let theirs = contact_tv.get(&format!("/activities/{id}")).await;
    assert_eq!(theirs.status, StatusCode::OK);
    assert!(theirs.text().contains("St Mary's Church Hall"));
    assert!(!theirs.body.contains("cancel-activity") && !theirs.body.contains("save-checklist"));
    let police_csrf = csrf_of(&contact_tv).await;
    let refused = contact_tv
        .post(
            &format!("/activities/{id}/cancel"),
            &[("csrf", &police_csrf)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // Claire cancels it: it stays listed, marked cancelled, everywhere.
    let cancelled = claire
        .post(&format!("/activities/{id}/cancel"), &[("csrf", &csrf)])
        .await;
    assert_eq!(
        cancelled.location.as_deref(),
        Some(format!("/activities/{id}?done=cancelled").as_str())
    );
    let page = claire
        .get(&format!("/activities/{id}?done=cancelled"))
        .await;
    assert!(page.body.contains("id=\"cancelled\""), "{}", page.body);
    assert!(!page.body.contains("save-checklist"), "no more edits");
    let late = claire
        .post(
            &format!("/activities/{id}/checklist"),
            &[("csrf", &csrf), ("check_exits", "yes")],
        )
        .await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST);
    let late = claire
        .post_json(
            &format!("/api/activities/{id}/checklist"),
            &csrf,
            &json!({ "checklist": ["exits"] }),
        )
        .await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST);
    let (_, events) = fetch_feed(&feed, &state).await;
    let event = events
        .iter()
        .find(|e| e["UID"] == uid)
        .expect("still in the feed");
    assert_eq!(
        (event["SEQUENCE"].as_str(), event["STATUS"].as_str()),
        ("2", "CANCELLED")
    );
    assert!(
        event["SUMMARY"].starts_with("Cancelled: Hustings"),
        "{event:?}"
    );
    let list = contact_tv.get("/activities/force").await;
    let row = &list.body[list.body.find(&format!("id=\"activity-{id}\"")).unwrap()..];
    assert!(
        row[..row.find("</tr>").unwrap()].contains("Cancelled"),
        "{row}"
    );
    let month = contact_tv
        .get("/activities/force/calendar?month=2030-01")
        .await;
    let item = &month.body[month.body.find(&format!("calendar-activity-{id}")).unwrap()..];
    assert!(
        item[..item.find("</li>").unwrap()].contains("Cancelled"),
        "{item}"
    );
    let api = claire.get(&format!("/api/activities/{id}")).await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&api.body).unwrap()["cancelled"],
        true
    );
}
