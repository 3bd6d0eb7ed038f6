//! The demo as a person sees it: a real headless Chromium at phone size.

use std::net::SocketAddr;

use fantoccini::{Locator, key::Key};
use shield_testkit::{Browser, TestDb, both_backends};

both_backends!(demo_page_shows_constituencies_with_their_forces);

async fn start_demo(db: &TestDb) -> (SocketAddr, tokio::task::JoinHandle<anyhow::Result<()>>) {
    shield::demo::load(db.store.as_ref()).await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(shield::serve::serve(
        db.store.clone(),
        "127.0.0.1:0".parse().unwrap(),
        Some(tx),
    ));
    (rx.await.unwrap(), server)
}

async fn body_text(browser: &Browser) -> String {
    browser
        .client
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn demo_page_shows_constituencies_with_their_forces(db: TestDb) {
    let (addr, server) = start_demo(&db).await;
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
    let overflow = c
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        overflow.as_i64().unwrap_or(1) <= 0,
        "page is wider than the phone: {overflow}"
    );

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
