//! A small W3C WebDriver client over reqwest, enough for the console's browser tests:
//! Debian's chromedriver driving headless Chromium. (A crate such as fantoccini would
//! bring a second HTTP stack into the workspace for the same dozen calls.)

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The password of the console accounts the browser suites make.
pub const PASSWORD: &str = "correct-horse-battery";

/// Where the browser suites put their screenshots: `console-screenshots` in the target
/// directory, to be looked at after a run.
pub fn screenshots() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("console-screenshots")
}

/// Signs `username` (with [`PASSWORD`]) in to the staff console at `gateway`.
pub async fn sign_in_browser(browser: &Browser, gateway: &str, username: &str) {
    browser.goto(&format!("{gateway}/sign-in")).await;
    browser.find("#f-username").await.type_text(username).await;
    browser.find("#f-password").await.type_text(PASSWORD).await;
    browser.click_through("form button[type=submit]").await;
}

/// Where chromedriver and chromium are, or why the browser tests cannot run.
pub fn browser_paths() -> Result<(String, String), String> {
    let find = |names: &[&str]| {
        names
            .iter()
            .map(|n| n.to_string())
            .find(|n| Path::new(n).exists())
    };
    let driver = std::env::var("LINLI_CHROMEDRIVER")
        .ok()
        .or_else(|| find(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]))
        .ok_or("chromedriver is missing: apt-get install chromium chromium-driver")?;
    let browser = std::env::var("LINLI_CHROMIUM")
        .ok()
        .or_else(|| find(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]))
        .ok_or("chromium is missing: apt-get install chromium chromium-driver")?;
    Ok((driver, browser))
}

/// A chromedriver process and one browser session in it; both end on drop.
pub struct Browser {
    http: reqwest::Client,
    base: String,
    driver: Child,
    profile: std::path::PathBuf,
}

pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

impl Browser {
    pub async fn start() -> Browser {
        let (driver_path, browser_path) = browser_paths().expect("a browser to drive");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        // In a process group of its own, which the browser it starts joins: a test that
        // panics before it closes the session still ends both (see Drop).
        // Chinese as a clerk's browser speaks it, down to a date input's 2026/12/06: on Linux
        // Chromium takes its locale from LANGUAGE (its --lang switch only sets
        // navigator.language), and needs Debian's chromium-l10n for the zh-CN one.
        let driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .env("LANGUAGE", "zh_CN")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        let http = reqwest::Client::new();
        let root = format!("http://127.0.0.1:{port}");
        crate::poll("chromedriver to listen", Duration::from_secs(20), || {
            let (http, root) = (http.clone(), root.clone());
            async move {
                let status: Value = http
                    .get(format!("{root}/status"))
                    .send()
                    .await
                    .ok()?
                    .json()
                    .await
                    .ok()?;
                (status["value"]["ready"] == true).then_some(())
            }
        })
        .await;
        let profile = std::env::temp_dir().join(format!("linli-chromium-{}", crate::unique_name()));
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": browser_path,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", "--window-size=1366,768", "--lang=zh-CN",
                         format!("--user-data-dir={}", profile.display())],
                "prefs": { "intl.accept_languages": "zh-CN,zh" }
            }
        } } });
        let created: Value = http
            .post(format!("{root}/session"))
            .json(&capabilities)
            .send()
            .await
            .expect("chromedriver answers")
            .json()
            .await
            .expect("a JSON answer");
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("a browser session: {created}"))
            .to_owned();
        Browser {
            http,
            base: format!("{root}/session/{session}"),
            driver,
            profile,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request
            .send()
            .await
            .expect("chromedriver answers")
            .json()
            .await
            .expect("a JSON answer");
        if answer["value"].get("error").is_some() {
            panic!("webdriver {path}: {}", answer["value"]);
        }
        answer["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn find(&self, css: &str) -> Element<'_> {
        let found = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        Element {
            browser: self,
            id: found[ELEMENT].as_str().expect("an element id").to_owned(),
        }
    }

    pub async fn execute(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    /// Clicks what `css` finds and waits until the page it leads to has loaded: a form
    /// submission or a link returns before the next document is there.
    pub async fn click_through(&self, css: &str) {
        self.execute("window.__linliOld = true;").await;
        self.find(css).await.click().await;
        crate::poll("the next page to load", Duration::from_secs(20), || async {
            let done = self
                .execute(
                    "return window.__linliOld === undefined && document.readyState === 'complete';",
                )
                .await;
            (done == Value::Bool(true)).then_some(())
        })
        .await;
    }

    /// The value of the browser's cookie `name` (HttpOnly ones too), to fetch what a link
    /// downloads as this browser would.
    pub async fn cookie(&self, name: &str) -> String {
        self.call(reqwest::Method::GET, &format!("/cookie/{name}"), None)
            .await["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Resizes the window, to see a page as a laptop (1366) or a tablet (1024) shows it.
    pub async fn window_size(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )
        .await;
    }

    /// Shows pages as they print (`@media print`) or, with `false`, as on screen again.
    pub async fn print_media(&self, print: bool) {
        self.call(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            Some(json!({ "cmd": "Emulation.setEmulatedMedia",
                         "params": { "media": if print { "print" } else { "" } } })),
        )
        .await;
    }

    /// Saves a PNG of the viewport.
    pub async fn screenshot(&self, path: &Path) {
        let data = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().expect("base64 PNG"))
            .expect("valid base64");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot directory");
        }
        std::fs::write(path, png).expect("screenshot written");
    }

    pub async fn close(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The whole group: killing chromedriver alone left Chromium running whenever a test
        // failed before `close`.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Element<'_> {
    pub async fn type_text(&self, text: &str) {
        self.browser
            .call(
                reqwest::Method::POST,
                &format!("/element/{}/value", self.id),
                Some(json!({ "text": text })),
            )
            .await;
    }

    pub async fn clear(&self) {
        self.browser
            .call(
                reqwest::Method::POST,
                &format!("/element/{}/clear", self.id),
                Some(json!({})),
            )
            .await;
    }

    pub async fn click(&self) {
        self.browser
            .call(
                reqwest::Method::POST,
                &format!("/element/{}/click", self.id),
                Some(json!({})),
            )
            .await;
    }

    pub async fn text(&self) -> String {
        self.browser
            .call(
                reqwest::Method::GET,
                &format!("/element/{}/text", self.id),
                None,
            )
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn attribute(&self, name: &str) -> String {
        self.browser
            .call(
                reqwest::Method::GET,
                &format!("/element/{}/attribute/{name}", self.id),
                None,
            )
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}
