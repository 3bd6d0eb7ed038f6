//! A real headless Chromium, driven over WebDriver (fantoccini + Debian's chromedriver), for
//! journey tests. `scripts/test` installs both packages when missing.

use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A phone-sized window: the journeys must work at 375 CSS pixels wide.
pub const PHONE: (u32, u32) = (375, 812);

#[derive(Debug)]
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn phone() -> Self {
        Self::start(PHONE).await
    }

    pub async fn start((width, height): (u32, u32)) -> Self {
        let driver_bin = which("chromedriver").unwrap_or_else(|| {
            panic!("chromedriver is not installed: run scripts/test, which installs Debian's chromium and chromium-driver")
        });
        let chromium = which("chromium").or_else(|| which("chromium-browser")).unwrap_or_else(|| {
            panic!("chromium is not installed: run scripts/test, which installs Debian's chromium and chromium-driver")
        });
        let port = free_port();
        let mut driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        // chromedriver says when it is listening; wait for that line rather than sleeping.
        let stdout = driver.stdout.take().expect("chromedriver stdout");
        let mut lines = BufReader::new(stdout).lines();
        tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("started successfully") {
                    return;
                }
            }
            panic!("chromedriver exited before it was ready");
        })
        .await
        .expect("chromedriver did not start within 30 s");
        // Keep draining its output so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

        let profile = tempfile::tempdir().expect("browser profile directory");
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "chrome".into());
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-extensions",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("open a Chromium session");
        Self {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Ends the browser session and the driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
    }
}

fn which(name: &str) -> Option<String> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free port")
}

/// Helpers for journeys: each waits (bounded) for the page rather than sleeping blindly.
pub mod page {
    use std::time::Duration;

    use fantoccini::elements::Element;
    use fantoccini::{Client, Locator};

    /// The visible text of the page.
    pub async fn text(c: &Client) -> String {
        match c.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Waits for the next page's landmark element, so nothing reads a page mid-load.
    pub async fn arrive(c: &Client, css: &str) -> Element {
        match c
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => e,
            Err(_) => panic!("{css} never appeared; the page says:\n{}", text(c).await),
        }
    }

    /// Waits for the browser to be at `path` (ignoring the query), then returns the URL.
    pub async fn arrive_at(c: &Client, path: &str) -> url::Url {
        for _ in 0..200 {
            let url = c.current_url().await.expect("current url");
            if url.path() == path {
                return url;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let url = c.current_url().await.expect("current url");
        panic!(
            "the browser never reached {path}; it is at {url}:\n{}",
            text(c).await
        );
    }

    /// Clicks an element once it exists and is shown (script-revealed controls start hidden).
    pub async fn click(c: &Client, css: &str) {
        let element = arrive(c, css).await;
        for _ in 0..100 {
            if element.is_displayed().await.unwrap_or(false) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        element.click().await.expect("click");
    }

    /// Types into a field.
    pub async fn fill(c: &Client, css: &str, value: &str) {
        arrive(c, css).await.send_keys(value).await.expect("type");
    }

    /// Asserts that nothing on the page overflows sideways: on a phone, a page wider than the
    /// screen hides its right edge behind a scroll nobody notices.
    pub async fn fits_sideways(c: &Client, what: &str) {
        let overflow = c
            .execute(
                "return document.documentElement.scrollWidth - window.innerWidth;",
                vec![],
            )
            .await
            .expect("measure the page");
        assert!(
            overflow.as_i64().unwrap_or(1) <= 0,
            "{what} is wider than the screen: {overflow}"
        );
    }

    /// Saves what the browser shows as `NAME.png` in the folder `SHIELD_SCREENSHOTS` names,
    /// when it is set, so a person can look at a journey's pages; otherwise does nothing.
    pub async fn snapshot(c: &Client, name: &str) {
        let Some(dir) = std::env::var_os("SHIELD_SCREENSHOTS") else {
            return;
        };
        let png = c.screenshot().await.expect("screenshot");
        let path = std::path::Path::new(&dir).join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

/// The W3C WebAuthn WebDriver extension: virtual authenticators for passkey journeys.
pub mod webauthn {
    use fantoccini::Client;
    use fantoccini::wd::WebDriverCompatibleCommand;

    /// `POST /session/{id}/webauthn/authenticator`: a platform authenticator that holds
    /// resident keys and verifies the user without asking.
    #[derive(Debug)]
    pub struct AddVirtualAuthenticator;

    impl WebDriverCompatibleCommand for AddVirtualAuthenticator {
        fn endpoint(
            &self,
            base: &url::Url,
            session: Option<&str>,
        ) -> Result<url::Url, url::ParseError> {
            base.join(&format!(
                "session/{}/webauthn/authenticator",
                session.unwrap_or_default()
            ))
        }

        fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
            let body = serde_json::json!({
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": true,
                "hasUserVerification": true,
                "isUserConsenting": true,
                "isUserVerified": true,
            });
            (http::Method::POST, Some(body.to_string()))
        }
    }

    /// Adds a virtual authenticator to the browser and returns its id.
    pub async fn add_authenticator(c: &Client) -> String {
        c.issue_cmd(AddVirtualAuthenticator)
            .await
            .expect("add a virtual authenticator")
            .as_str()
            .expect("an authenticator id")
            .to_owned()
    }
}
