//! Headless Chromium for end-to-end tests of the board (and later the customer dashboard):
//! Debian's `chromium` driven through `chromedriver` over WebDriver (fantoccini). The test
//! command installs both when missing; a test that cannot find them fails and says so.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, bail};
use fantoccini::{Client, ClientBuilder, Locator};

/// Where the browser binaries are (Debian's packages).
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// `$CARGO_TARGET_DIR/<folder>` (or the workspace's `target/<folder>`): where a browser test
/// saves its screenshots, so every run leaves them beside the build.
pub fn artefacts_dir(folder: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join(folder)
}

/// A headless Chromium session; the driver process is killed when this is dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
    artefacts: PathBuf,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a 1280×900 headless window. Screenshots
    /// go to `artefacts` (created).
    pub async fn start(artefacts: impl Into<PathBuf>) -> anyhow::Result<Self> {
        for binary in [CHROMIUM, CHROMEDRIVER] {
            if !Path::new(binary).exists() {
                bail!(
                    "{binary} is missing: install Debian's chromium and chromium-driver \
                     (scripts/test does: apt-get install chromium chromium-driver)"
                );
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting chromedriver")?;
        let mut guard = DriverGuard(Some(driver));
        let url = format!("http://127.0.0.1:{port}");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--window-size=1280,900", "--lang=en-US", "--no-first-run",
                ],
            }),
        );
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::rustls()
                .context("WebDriver client")?
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(error) if tokio::time::Instant::now() < deadline => {
                    tracing::debug!(%error, "chromedriver not ready yet");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => bail!("could not open a Chromium session: {error}"),
            }
        };
        let artefacts = artefacts.into();
        std::fs::create_dir_all(&artefacts)?;
        Ok(Self {
            client,
            driver: guard.0.take().context("driver")?,
            artefacts,
        })
    }

    /// Saves a PNG of the window as `<artefacts>/<name>.png` and returns its path.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let png = self.client.screenshot().await?;
        let path = self.artefacts.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Resizes the window (phone-sized screenshots).
    pub async fn resize(&self, width: u32, height: u32) -> anyhow::Result<()> {
        self.client.set_window_size(width, height).await?;
        Ok(())
    }

    /// Waits up to `timeout` for `css` to match an element.
    pub async fn wait_for(
        &self,
        css: &str,
        timeout: Duration,
    ) -> anyhow::Result<fantoccini::elements::Element> {
        self.client
            .wait()
            .at_most(timeout)
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("waiting for {css}"))
    }

    /// Goes to `url` and waits up to 10 s for `ready_css`, the element that says the page is
    /// there; panics naming both otherwise (test helper).
    pub async fn open(&self, url: &str, ready_css: &str) -> fantoccini::elements::Element {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("going to {url}: {e}"));
        self.wait_for(ready_css, Duration::from_secs(10))
            .await
            .unwrap_or_else(|e| panic!("{url} never showed {ready_css}: {e:#}"))
    }

    /// Clicks the element `xpath` names (a button or link by its text, usually); panics
    /// naming it when it is not there (test helper).
    pub async fn click(&self, xpath: &str) {
        self.client
            .find(Locator::XPath(xpath))
            .await
            .unwrap_or_else(|e| panic!("{xpath}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {xpath}: {e}"));
    }

    /// Runs `script` in the page and returns its JSON result.
    pub async fn eval(&self, script: &str) -> anyhow::Result<serde_json::Value> {
        Ok(self.client.execute(script, Vec::new()).await?)
    }

    /// Ends the session and stops the driver.
    pub async fn close(mut self) -> anyhow::Result<()> {
        let result = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        result.map_err(Into::into)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Kills the driver if starting the session fails half-way.
struct DriverGuard(Option<Child>);

impl Drop for DriverGuard {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
