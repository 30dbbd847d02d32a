//! The browser journeys' harness: finding Chromium and chromedriver, one driver at a time,
//! and the steps every journey takes (find, click, type, wait, screenshot, sign in and out).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

use super::common::Running;

/// Debian's Chromium and its driver, if installed.
pub(crate) fn browser() -> Option<(PathBuf, PathBuf)> {
    let find = |var: &str, default: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .or_else(|| Some(PathBuf::from(default)))
            .filter(|p| p.exists())
    };
    let found =
        find("CHROMIUM", "/usr/bin/chromium").zip(find("CHROMEDRIVER", "/usr/bin/chromedriver"));
    if found.is_none() {
        if std::env::var("PUNCHLIST_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!(
                "PUNCHLIST_REQUIRE_BROWSER=1 but Chromium or chromedriver is missing \
                 (apt-get install chromium chromium-driver)"
            );
        }
        // Straight to the stderr handle: the harness captures `eprintln!`, and a skip must
        // be visible.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED browser journey: no Chromium/chromedriver \
             (apt-get install chromium chromium-driver)"
        );
    }
    found
}

/// One chromedriver process on a loopback port, stopped on drop.
pub(crate) struct Driver {
    child: Child,
    url: String,
    chromium: PathBuf,
    profiles: tempfile::TempDir,
    sessions: usize,
}

impl Driver {
    pub(crate) async fn start(chromium: PathBuf, chromedriver: PathBuf) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            chromium,
            profiles: tempfile::tempdir().expect("a profile directory"),
            sessions: 0,
        }
    }

    /// A new browser window of its own (its own profile, so its own cookies).
    pub(crate) async fn browser(&mut self) -> Client {
        self.sessions += 1;
        let profile = self
            .profiles
            .path()
            .join(format!("profile-{}", self.sessions));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".to_owned(),
            serde_json::json!({
                "binary": self.chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a browser session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Only one journey drives browsers at a time: two cores are not enough for more.
pub(crate) static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub(crate) async fn find(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
}

/// Clicks the element `css` (waiting for it); `what` names the step if it fails.
pub(crate) async fn click(c: &Client, css: &str, what: &str) {
    find(c, css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
}

/// Types `keys` into the element `css` (waiting for it).
pub(crate) async fn type_into(c: &Client, css: &str, keys: &str) {
    find(c, css)
        .await
        .send_keys(keys)
        .await
        .unwrap_or_else(|e| panic!("typing into {css}: {e}"));
}

pub(crate) async fn text(c: &Client, css: &str) -> String {
    find(c, css).await.text().await.expect("the element's text")
}

/// Waits until `script` (a JavaScript expression) is true in the page.
pub(crate) async fn until(c: &Client, what: &str, script: &str) {
    for _ in 0..200 {
        let v = c
            .execute(&format!("return !!({script});"), vec![])
            .await
            .expect("the script runs");
        if v.as_bool() == Some(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}: {script}");
}

pub(crate) async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("a screenshot");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-journeys");
    std::fs::create_dir_all(&dir).expect("the screenshot directory");
    std::fs::write(dir.join(format!("{name}.png")), &png).expect("the screenshot is saved");
    if let Some(extra) = std::env::var_os("PUNCHLIST_SCREENSHOTS") {
        let extra = PathBuf::from(extra);
        std::fs::create_dir_all(&extra).expect("the screenshot directory");
        std::fs::write(extra.join(format!("{name}.png")), &png).expect("the screenshot is saved");
    }
}

/// Saves a text beside the screenshots (`PUNCHLIST_SCREENSHOTS`), as the README shows it.
pub(crate) fn save_text(name: &str, text: &str) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-journeys");
    std::fs::create_dir_all(&dir).expect("the screenshot directory");
    std::fs::write(dir.join(name), text).expect("the text is saved");
    if let Some(extra) = std::env::var_os("PUNCHLIST_SCREENSHOTS") {
        std::fs::write(PathBuf::from(extra).join(name), text).expect("the text is saved");
    }
}

/// Signs in with the demo chooser: `organizer`, or a participant's id.
pub(crate) async fn sign_in(c: &Client, run: &Running, who: &str) {
    c.goto(&run.url("/")).await.expect("the chooser");
    if who == "organizer" {
        click(c, "#sign-in-organizer", "a click").await;
    } else {
        click(c, &format!("button[value='{who}']"), "a click").await;
    }
    find(c, "#signed-in-as").await;
}

pub(crate) async fn sign_out(c: &Client) {
    click(c, "form.who button", "a click").await;
    find(c, "#sign-in-organizer").await;
}
