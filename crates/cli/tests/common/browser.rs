//! A real browser for the hosted-page tests: Debian's `chromium`, headless, driven through
//! `chromedriver` over `WebDriver`. CI installs both and sets `PAYBRIDGE_REQUIRE_BROWSER=1`, so
//! a missing browser fails there instead of skipping.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

/// A headless Chromium session; its driver is stopped when this is dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: std::path::PathBuf,
}

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

impl Browser {
    /// A fresh browser, or `None` (said on stderr) when Chromium or its driver is not
    /// installed and `PAYBRIDGE_REQUIRE_BROWSER` is not set.
    pub async fn start() -> Option<Self> {
        let installed =
            std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists();
        if !installed {
            assert!(
                std::env::var_os("PAYBRIDGE_REQUIRE_BROWSER").is_none(),
                "PAYBRIDGE_REQUIRE_BROWSER is set but {CHROMEDRIVER} or {CHROMIUM} is missing \
                 (apt-get install chromium chromium-driver)"
            );
            eprintln!(
                "skipped browser test: no {CHROMEDRIVER} (apt-get install chromium chromium-driver)"
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = std::env::temp_dir().join(super::unique("chromium-profile"));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--disable-gpu", "--window-size=900,900",
                         format!("--user-data-dir={}", profile.display())],
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap();
        Some(Self {
            client,
            driver,
            profile,
        })
    }

    /// Open `url` and return the text of the element with `id`.
    pub async fn open(&self, url: &str, id: &str) -> String {
        self.client.goto(url).await.unwrap();
        self.text(id).await
    }

    /// The text of the element with `id` on the current page.
    pub async fn text(&self, id: &str) -> String {
        let found = self.client.find(Locator::Id(id)).await;
        match found {
            Ok(element) => element.text().await.unwrap(),
            Err(e) => {
                let at = self.client.current_url().await.map(|u| u.to_string());
                let source = self.client.source().await.unwrap_or_default();
                panic!("no #{id} on {at:?}: {e}\n{source}")
            }
        }
    }

    /// Click the button with `id` and wait until the browser is at a URL starting with
    /// `prefix` (the shop it is sent back to); that URL.
    pub async fn click_until(&self, id: &str, prefix: &str) -> String {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let now = self.client.current_url().await.unwrap().to_string();
            if now.starts_with(prefix) {
                return now;
            }
            assert!(
                Instant::now() < deadline,
                "still at {now}, expected {prefix}…"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A screenshot of the current page under `$PAYBRIDGE_SCREENSHOTS/<name>.png`, when that
    /// directory is set (for the notes: what each page looks like).
    pub async fn screenshot(&self, name: &str) {
        if let Some(dir) = std::env::var_os("PAYBRIDGE_SCREENSHOTS") {
            let png = self.client.screenshot().await.unwrap();
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
        }
    }

    /// End the session (the browser quits) and stop the driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
