//! The pages, driven through the router on both backends.

mod common;

use common::{EVIL_NAME, get, seed};
use shield_testkit::{TestDb, both_backends};

both_backends!(
    first_page_lists_constituencies_with_forces_and_counts,
    cross_force_constituency_shows_primary_first,
    search_by_name_narrows,
    search_by_force_welsh_name_and_code,
    nation_filter,
    bad_nation_is_a_400_naming_the_field,
    bad_election_is_a_400_naming_the_field,
    names_are_escaped,
    detail_page,
    detail_unknown_and_malformed_codes,
    forces_page,
    empty_database_shows_import_guidance,
);

async fn first_page_lists_constituencies_with_forces_and_counts(db: TestDb) {
    seed(db.store.as_ref()).await;
    let page = get(db.store.clone(), "/").await;
    assert_eq!(page.status, 200);
    let text = page.text();
    assert!(
        text.contains("Showing all 5 constituencies; 1 spans two police forces"),
        "{text}"
    );
    assert!(text.contains("UK Parliament general election, 4 July 2024"));
    assert_eq!(
        page.row("Aldershot"),
        "Aldershot E14001063 England, South East Hampshire Constabulary 1"
    );
    assert_eq!(
        page.row("Aberdeen North"),
        "Aberdeen North S14000060 Scotland Police Scotland 0"
    );
    assert!(page.body.contains(r#"href="/constituencies/E14001063""#));
    assert!(text.contains("In an emergency call 999"));
    assert!(text.contains(
        "Contains public sector information licensed under the Open Government Licence v3.0."
    ));
    assert!(
        text.contains(
            "Candidate data from Democracy Club (https://democracyclub.org.uk), CC BY 4.0."
        )
    );
    assert!(text.contains("Constituency/local-authority overlaps: mySociety, CC BY 4.0."));
    assert!(page.body.contains(r#"<html lang="en-GB">"#));
    assert!(!page.body.contains("<script"));
}

async fn cross_force_constituency_shows_primary_first(db: TestDb) {
    seed(db.store.as_ref()).await;
    let page = get(db.store.clone(), "/").await;
    assert_eq!(
        page.row("Windsor"),
        "Windsor E14001588 England, South East \
         Thames Valley Police (primary, 82%) · Surrey Police (18%) 2"
    );
}

async fn search_by_name_narrows(db: TestDb) {
    seed(db.store.as_ref()).await;
    for uri in ["/?q=wind", "/?q=++WIND++", "/?q=Windsor&nation="] {
        let page = get(db.store.clone(), uri).await;
        assert_eq!(page.status, 200, "{uri}");
        let listed = page.listed();
        assert!(listed.contains("Windsor"), "{uri}");
        assert!(!listed.contains("Aldershot"), "{uri}");
        assert!(
            page.text()
                .contains("Showing 1 of 5 constituencies; 1 spans two police forces"),
            "{uri}: {listed}"
        );
    }
    // The form keeps what was typed.
    let page = get(db.store.clone(), "/?q=wind").await;
    assert!(page.body.contains(r#"value="wind""#));

    let page = get(db.store.clone(), "/?q=nowhere-at-all").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("No constituencies match your search"));
}

async fn search_by_force_welsh_name_and_code(db: TestDb) {
    seed(db.store.as_ref()).await;
    let only = |text: &str, wanted: &str| {
        for name in ["Aldershot", "Windsor", "Aberdeen North", "Carmarthen"] {
            assert_eq!(text.contains(name), name == wanted, "{name} in {text}");
        }
    };
    // The minority force finds the constituency too.
    only(
        &get(db.store.clone(), "/?q=surrey").await.listed(),
        "Windsor",
    );
    only(
        &get(db.store.clone(), "/?q=thames%20valley").await.listed(),
        "Windsor",
    );
    only(
        &get(db.store.clone(), "/?q=POLICE+SCOTLAND").await.listed(),
        "Aberdeen North",
    );
    only(
        &get(db.store.clone(), "/?q=caerfyrddin").await.listed(),
        "Carmarthen",
    );
    only(
        &get(db.store.clone(), "/?q=e14001063").await.listed(),
        "Aldershot",
    );
}

async fn nation_filter(db: TestDb) {
    seed(db.store.as_ref()).await;
    let page = get(db.store.clone(), "/?nation=scotland").await;
    assert_eq!(page.status, 200);
    let listed = page.listed();
    assert!(listed.contains("Aberdeen North"));
    assert!(!listed.contains("Windsor"));
    assert!(page.text().contains("Showing 1 of 5 constituencies"));
    assert!(page.body.contains(r#"<option value="scotland" selected>"#));

    let page = get(db.store.clone(), "/?nation=northern_ireland").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("No constituencies match your search"));
}

async fn bad_nation_is_a_400_naming_the_field(db: TestDb) {
    seed(db.store.as_ref()).await;
    let page = get(db.store.clone(), "/?nation=atlantis&q=wind").await;
    assert_eq!(page.status, 400);
    let text = page.text();
    assert!(text.contains("There is a problem"));
    assert!(page.body.contains(r##"<a href="#nation">Nation must be"##));
    assert!(page.body.contains(r#"id="nation-error""#));
    assert!(text.starts_with("Error: "), "{text}");
    // The form is shown again, keeping the search; no results under a bad filter.
    assert!(page.body.contains(r#"value="wind""#));
    assert!(page.listed().is_empty());

    let long = format!("/?q={}", "a".repeat(101));
    let page = get(db.store.clone(), &long).await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains(r##"<a href="#q">Search must be"##));
}

async fn bad_election_is_a_400_naming_the_field(db: TestDb) {
    seed(db.store.as_ref()).await;
    for uri in ["/?election=not-an-id", "/?election=parl.2029-05-03"] {
        let page = get(db.store.clone(), uri).await;
        assert_eq!(page.status, 400, "{uri}");
        assert!(
            page.body.contains(r##"<a href="#election">Election"##),
            "{uri}"
        );
    }
    let page = get(db.store.clone(), "/?election=parl.2024-07-04").await;
    assert_eq!(page.status, 200);
    // A chosen election is carried to the pages it links to.
    assert!(
        page.body
            .contains(r#"href="/constituencies/E14001063?election=parl.2024-07-04""#)
    );
    let page = get(db.store.clone(), "/forces?election=nope").await;
    assert_eq!(page.status, 400);
    assert!(page.text().contains("Election must be"));
}

async fn names_are_escaped(db: TestDb) {
    seed(db.store.as_ref()).await;
    let page = get(db.store.clone(), "/").await;
    assert!(
        page.body
            .contains("Evil &#60;script&#62;alert(1)&#60;/script&#62; &#38; Co")
            || page
                .body
                .contains("Evil &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"),
        "{}",
        page.body
    );
    assert!(!page.body.contains(EVIL_NAME));
    assert!(!page.body.contains("<script"));

    let page = get(db.store.clone(), "/constituencies/E14001064").await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<script"));
    assert!(!page.body.contains("<b>Bold</b>"));
    assert!(page.text().contains("Bold"));

    // What was typed is echoed back escaped, too.
    let page = get(db.store.clone(), "/?q=%22%3E%3Cscript%3E").await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<script"));
    assert!(page.body.contains(r#"value="&#34;&#62;&#60;script&#62;""#));
}

async fn detail_page(db: TestDb) {
    seed(db.store.as_ref()).await;
    let page = get(db.store.clone(), "/constituencies/E14001588").await;
    assert_eq!(page.status, 200);
    let text = page.text();
    assert!(text.contains("Windsor"));
    assert!(
        text.contains("Thames Valley Police is the primary force: 82% of the constituency's people live in its area, so it owns any case"),
        "{text}"
    );
    assert!(
        text.contains("Surrey Police is informed of each case"),
        "{text}"
    );
    assert_eq!(page.row("Jack Rankin"), "Jack Rankin Conservative Elected");
    assert_eq!(page.row("Anna Smith"), "Anna Smith Green Party Not elected");

    let page = get(db.store.clone(), "/constituencies/E14001063").await;
    assert_eq!(page.status, 200);
    assert!(
        page.text()
            .contains("Hampshire Constabulary serves the whole constituency")
    );

    let page = get(db.store.clone(), "/constituencies/W07000084").await;
    assert!(page.body.contains(r#"<dd lang="cy">Caerfyrddin</dd>"#));
}

async fn detail_unknown_and_malformed_codes(db: TestDb) {
    seed(db.store.as_ref()).await;
    let page = get(db.store.clone(), "/constituencies/E14009999").await;
    assert_eq!(page.status, 404);
    assert!(page.text().contains("Page not found"));
    assert!(page.text().contains("In an emergency call 999"));

    for bad in ["not-a-code", "e14001588", "E23000035", "%3Cscript%3E"] {
        let page = get(db.store.clone(), &format!("/constituencies/{bad}")).await;
        assert_eq!(page.status, 400, "{bad}");
        let text = page.text();
        assert!(text.contains("There is a problem"), "{bad}");
        assert!(
            text.contains("Constituency code must be an ONS code"),
            "{bad}"
        );
        assert!(!page.body.contains("<script"));
    }
}

async fn forces_page(db: TestDb) {
    seed(db.store.as_ref()).await;
    let page = get(db.store.clone(), "/forces").await;
    assert_eq!(page.status, 200);
    let text = page.text();
    assert!(
        text.contains("5 police forces; 4 have no named contact yet"),
        "{text}"
    );
    // Force, area, nation, primary, all, candidates, contacts.
    assert_eq!(
        page.row("Thames Valley Police"),
        "Thames Valley Police Thames Valley England 1 1 2 1"
    );
    assert_eq!(
        page.row("Surrey Police"),
        "Surrey Police Surrey England 0 1 2 None yet"
    );
    assert_eq!(
        page.row("Hampshire Constabulary"),
        "Hampshire Constabulary Hampshire England 2 2 2 None yet"
    );
    assert!(page.body.contains(r#"id="force-E23000035""#));
}

async fn empty_database_shows_import_guidance(db: TestDb) {
    let page = get(db.store.clone(), "/").await;
    assert_eq!(page.status, 200);
    let text = page.text();
    assert!(text.contains("No constituencies imported yet"), "{text}");
    assert!(text.contains("shield import constituencies FILE"));
    assert!(text.contains("shield import candidates FILE"));
    assert!(!page.body.contains("<table"));

    let page = get(db.store.clone(), "/forces").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("No police forces imported yet"));
}
