//! The demo as a person sees it: a real headless Chromium at phone size.

use std::net::SocketAddr;

use fantoccini::{Locator, key::Key};
use shield_testkit::page::{arrive, fill, fits_sideways};
use shield_testkit::{Browser, TestDb, both_backends};

both_backends!(
    demo_page_shows_constituencies_with_their_forces,
    candidate_enrols_with_password_and_authenticator_app,
);

async fn start_demo(
    db: &TestDb,
) -> (
    SocketAddr,
    tokio::task::JoinHandle<anyhow::Result<()>>,
    shield_web::AppState,
) {
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let state = shield_web::AppState::new(db.store.clone());
    let (tx, rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(shield::serve::serve(
        state.clone(),
        "127.0.0.1:0".parse().unwrap(),
        Some(tx),
    ));
    (rx.await.unwrap(), server, state)
}

async fn body_text(browser: &Browser) -> String {
    shield_testkit::page::text(&browser.client).await
}

async fn demo_page_shows_constituencies_with_their_forces(db: TestDb) {
    let (addr, server, _) = start_demo(&db).await;
    let browser = Browser::phone().await;
    let c = &browser.client;

    c.goto(&format!("http://{addr}/")).await.unwrap();
    let text = body_text(&browser).await;
    assert!(text.contains("999"), "the emergency number is on the page");
    for seat in [
        "Ashcombe and Rye Vale",
        "Harrowfield and Kingsmead",
        "Loughside",
        "Cwm Glas and Pontyrhos",
    ] {
        assert!(text.contains(seat), "{seat} is listed:\n{text}");
    }
    // The cross-force seat names both forces; the demo's NI seat had an empty gss and still
    // found its force.
    assert!(text.contains("Thames Valley Police") && text.contains("Hampshire Constabulary"));
    assert!(text.contains("Police Service of Northern Ireland"));

    // Nothing overflows sideways on a phone.
    fits_sideways(c, "the constituencies page").await;

    // Search narrows the list, with the keyboard alone.
    let q = c.find(Locator::Css("input[name='q']")).await.unwrap();
    q.send_keys(&format!("lough{}", Key::Enter)).await.unwrap();
    wait_for_query(c, "q=lough").await;
    let text = body_text(&browser).await;
    assert!(text.contains("Loughside"));
    assert!(
        !text.contains("Ashcombe and Rye Vale"),
        "search did not narrow the list:\n{text}"
    );

    // The constituency page lists its candidates.
    c.find(Locator::LinkText("Loughside"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let text = body_text(&browser).await;
    assert!(
        text.contains("Ciara Doherty") && text.contains("Conor Quinn"),
        "{text}"
    );

    browser.close().await;
    server.abort();
}

/// Waits (bounded) until the browser has navigated to a URL containing `needle`.
async fn wait_for_query(c: &fantoccini::Client, needle: &str) {
    for _ in 0..100 {
        if c.current_url().await.unwrap().as_str().contains(needle) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the browser never reached a URL containing {needle}");
}

async fn submit(c: &fantoccini::Client) {
    shield_testkit::page::click(c, "main button[type='submit']").await;
}

/// Journey 2 in a real browser at phone size: invitation → password → authenticator app →
/// recovery codes → the candidate's page with their named police contacts; then sign out and
/// back in with a fresh code.
async fn candidate_enrols_with_password_and_authenticator_app(db: TestDb) {
    let (addr, server, state) = start_demo(&db).await;
    let people = shield::demo::invite_people(&state).await.unwrap();
    let browser = Browser::phone().await;
    let c = &browser.client;

    // `localhost`, not `127.0.0.1`: browsers keep `Secure` (and `__Host-`) cookies for
    // http://localhost, the one plain-HTTP origin they treat as secure for cookies.
    c.goto(&format!(
        "http://localhost:{}{}",
        addr.port(),
        people[0].link_path
    ))
    .await
    .unwrap();
    assert!(
        body_text(&browser)
            .await
            .contains("Welcome, Claire Whitfield")
    );
    fill(c, "#password", "marmalade orbit kettle").await;
    fill(c, "#confirm", "marmalade orbit kettle").await;
    submit(c).await;

    let key = arrive(c, "#totp-key").await.text().await.unwrap();
    let secret = shield_web::auth::totp::secret_from_text(&key).unwrap();
    let code = shield_web::auth::totp::code_at(&secret, chrono::Utc::now().timestamp_millis());
    fill(c, "#code", &code).await;
    submit(c).await;
    arrive(c, "#recovery-codes").await;
    assert!(
        body_text(&browser)
            .await
            .contains("Save your recovery codes")
    );
    c.find(Locator::LinkText("I have saved my codes: continue"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    arrive(c, "dl.contacts").await;
    let text = body_text(&browser).await;
    assert!(text.contains("Your named police contacts"), "{text}");
    assert!(
        text.contains("Inspector Helen Grant") && text.contains("Sergeant Joanne Price"),
        "{text}"
    );

    // Sign out, then back in: password, then the next code from the app.
    c.find(Locator::Css("form[action='/sign-out'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    arrive(c, "#email").await;
    assert!(body_text(&browser).await.contains("You have signed out"));
    fill(c, "#email", "claire.whitfield@civic.example").await;
    fill(c, "#password", "marmalade orbit kettle").await;
    submit(c).await;
    arrive(c, "#code").await;
    // The enrolment used this 30-second step's code; wait (bounded) for the next step.
    let step = shield_domain::session::totp_step(chrono::Utc::now().timestamp_millis());
    while shield_domain::session::totp_step(chrono::Utc::now().timestamp_millis()) == step {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let code = shield_web::auth::totp::code_at(&secret, chrono::Utc::now().timestamp_millis());
    fill(c, "#code", &code).await;
    submit(c).await;
    arrive(c, "dl.contacts").await;
    let text = body_text(&browser).await;
    assert!(text.contains("Your named police contacts"), "{text}");

    browser.close().await;
    server.abort();
}
