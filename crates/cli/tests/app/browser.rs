//! The pages people use, in real headless Chromium driven through chromedriver.
//!
//! Skipped with a printed reason when Chromium or chromedriver is absent, unless
//! `FANGKONG_REQUIRE_BROWSER=1` (set by CI) makes that a failure. Screenshots are saved
//! under `target/test-artifacts/` (or `FANGKONG_ARTIFACTS`).

use crate::helpers::{TestApp, event};
use fantoccini::{Client, ClientBuilder, Locator};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A chromedriver process, stopped by its own process id when dropped.
pub(crate) struct Driver {
    child: Child,
    port: u16,
    profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) async fn driver() -> Option<Driver> {
    if !std::path::Path::new(CHROMIUM).exists() || !std::path::Path::new(CHROMEDRIVER).exists() {
        assert!(
            std::env::var_os("FANGKONG_REQUIRE_BROWSER").is_none(),
            "Chromium and chromedriver are required but missing"
        );
        eprintln!("skipping browser test: {CHROMIUM} or {CHROMEDRIVER} is not installed");
        return None;
    }
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver {
        child,
        port,
        profile: tempfile::tempdir().unwrap(),
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(driver);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

pub(crate) async fn browser(driver: &Driver, width: u32, height: u32) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            // A tablet at a Chinese service hall: the browser asks for Chinese.
            "prefs": {"intl.accept_languages": "zh-CN,zh"},
            "args": [
                "--lang=zh-CN",
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                format!("--window-size={width},{height}"),
                format!("--user-data-dir={}", driver.profile.path().display()),
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("open a Chromium session")
}

fn artifacts() -> PathBuf {
    let dir = std::env::var_os("FANGKONG_ARTIFACTS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(crate) async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    std::fs::write(artifacts().join(name), png).unwrap();
}

/// The element's text; live panels swap their content, so a lookup that meets a
/// replaced element simply looks again.
pub(crate) async fn text(c: &Client, css: &str) -> String {
    let mut last = None;
    for _ in 0..20 {
        match c.find(Locator::Css(css)).await {
            Ok(el) => match el.text().await {
                Ok(t) => return t,
                Err(e) => last = Some(e.to_string()),
            },
            Err(e) => last = Some(e.to_string()),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("cannot read {css}: {last:?}");
}

/// Waits until the element's text is `want` (live updates arrive asynchronously).
async fn wait_text(c: &Client, css: &str, want: &str) {
    for _ in 0..100 {
        if text(c, css).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{css} never showed {want:?}; it shows {:?}",
        text(c, css).await
    );
}

/// Types into a field found by id.
pub(crate) async fn fill(c: &Client, id: &str, value: &str) {
    let el = c.find(Locator::Id(id)).await.unwrap();
    el.clear().await.unwrap();
    el.send_keys(value).await.unwrap();
}

pub(crate) async fn click(c: &Client, id: &str) {
    c.find(Locator::Id(id))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Signs in through the sign-in page, as a person would.
async fn sign_in(c: &Client, app: &TestApp, username: &str, password: &str) {
    c.goto(&app.url("/login")).await.unwrap();
    fill(c, "username", username).await;
    fill(c, "password", password).await;
    click(c, "login-submit").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_page_in_chinese_then_english_with_a_live_panel() {
    let Some(driver) = driver().await else { return };
    let app = TestApp::sqlite().await;
    let c = browser(&driver, 1280, 900).await;

    sign_in(&c, &app, "leader", &app.password("leader")).await;
    wait_text(&c, "h1", "工作台").await;
    c.goto(&app.url("/")).await.unwrap();
    let html = c.find(Locator::Css("html")).await.unwrap();
    assert_eq!(html.attr("lang").await.unwrap().as_deref(), Some("zh-CN"));
    assert_eq!(text(&c, "h1").await, "工作台");
    assert!(
        text(&c, "#panel-sites")
            .await
            .contains("揭东区政务服务中心交警分中心")
    );
    assert_eq!(text(&c, "#system-database").await, "内置 SQLite");
    assert_eq!(text(&c, "#sync-today").await, "0");

    // The live panel updates itself when records arrive (SSE, then htmx re-fetches).
    // The page's stream may still be connecting: send one record at a time until the
    // panel shows what was sent, then check the count stays exact.
    let mut sent = 0;
    while text(&c, "#sync-today").await == "0" {
        assert!(sent < 20, "the live panel never updated");
        let one = serde_json::json!({"events": [event("JD")]});
        assert_eq!(
            app.post_json("/api/v1/sync/events", &one, None)
                .await
                .status(),
            200
        );
        sent += 1;
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    let batch = serde_json::json!({"events": [event("JD"), event("JD-QX"), event("JD-JJ")]});
    assert_eq!(
        app.post_json("/api/v1/sync/events", &batch, None)
            .await
            .status(),
        200
    );
    wait_text(&c, "#sync-today", &(sent + 3).to_string()).await;
    screenshot(&c, "home-zh-CN.png").await;

    // Switch language with the link a person would tap.
    c.find(Locator::Id("lang-switch"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&c, "h1", "Dashboard").await;
    let html = c.find(Locator::Css("html")).await.unwrap();
    assert_eq!(html.attr("lang").await.unwrap().as_deref(), Some("en"));
    assert!(
        text(&c, "#panel-sites")
            .await
            .contains("Traffic-police branch")
    );
    assert_eq!(text(&c, "#sync-today").await, (sent + 3).to_string());
    screenshot(&c, "home-en.png").await;

    // The choice sticks; an unknown page is friendly in that language.
    c.goto(&app.url("/no-such-page")).await.unwrap();
    assert_eq!(text(&c, "h1").await, "Page not found");
    c.close().await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_page_fits_a_phone() {
    let Some(driver) = driver().await else { return };
    let app = TestApp::sqlite().await;
    let c = browser(&driver, 390, 844).await;
    sign_in(&c, &app, "volunteer", &app.password("volunteer")).await;
    wait_text(&c, "h1", "工作台").await;
    // Nothing wider than the screen: no sideways scrolling of the page itself.
    let overflow = c
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "page is {overflow} px wider than a phone"
    );
    screenshot(&c, "home-phone-zh-CN.png").await;
    c.close().await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_then_sign_out_and_in_again() {
    let Some(driver) = driver().await else { return };
    let app = TestApp::empty().await;
    let c = browser(&driver, 1024, 900).await;
    // Anything leads to the setup page on an empty store.
    c.goto(&app.url("/org")).await.unwrap();
    wait_text(&c, "h1", "初次设置").await;
    fill(&c, "setup_code", app.setup_code.as_deref().unwrap()).await;
    fill(&c, "site_name", "揭东区政务服务中心").await;
    fill(&c, "username", "root-admin").await;
    fill(&c, "password", "password123456").await;
    fill(&c, "confirm", "password123456").await;
    click(&c, "setup-submit").await;
    wait_text(
        &c,
        "#password-error",
        "该密码过于常见，容易被猜中，请换一个。",
    )
    .await;
    screenshot(&c, "setup-error-zh-CN.png").await;
    fill(&c, "password", "Jiedong-safe-2020").await;
    fill(&c, "confirm", "Jiedong-safe-2020").await;
    click(&c, "setup-submit").await;
    wait_text(&c, "h1", "工作台").await;
    assert_eq!(text(&c, "#account-link").await, "root-admin");

    click(&c, "logout").await;
    wait_text(&c, "h1", "登录").await;
    c.goto(&app.url("/org")).await.unwrap();
    wait_text(&c, "h1", "登录").await;
    fill(&c, "username", "root-admin").await;
    fill(&c, "password", "Jiedong-safe-2019").await;
    click(&c, "login-submit").await;
    wait_text(&c, "#login-error", "用户名或密码错误。").await;
    fill(&c, "username", "root-admin").await;
    fill(&c, "password", "Jiedong-safe-2020").await;
    click(&c, "login-submit").await;
    // Back where the person was going.
    wait_text(&c, "h1", "组织机构").await;
    screenshot(&c, "org-after-sign-in-zh-CN.png").await;
    c.close().await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_passwords_lock_the_sign_in() {
    let Some(driver) = driver().await else { return };
    let app = TestApp::sqlite().await;
    let c = browser(&driver, 1024, 800).await;
    for _ in 0..5 {
        sign_in(&c, &app, "leader", "not-the-password").await;
        wait_text(&c, "#login-error", "用户名或密码错误。").await;
    }
    sign_in(&c, &app, "leader", &app.password("leader")).await;
    wait_text(
        &c,
        "#login-error",
        "尝试次数过多，请 15 分钟后再试，或联系管理员解锁。",
    )
    .await;
    screenshot(&c, "login-locked-zh-CN.png").await;
    c.close().await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_without_its_csrf_token_is_refused() {
    let Some(driver) = driver().await else { return };
    let app = TestApp::sqlite().await;
    let c = browser(&driver, 1024, 800).await;
    sign_in(&c, &app, "admin", &app.password("admin")).await;
    wait_text(&c, "h1", "工作台").await;
    // A script posting without the token (as a forged cross-site form would) is refused.
    let status = c
        .execute_async(
            "const done = arguments[0];
             fetch('/logout', {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'}, body: 'x=1'})
               .then(r => done(r.status));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status.as_i64(), Some(403));
    // The same form with its token stripped: refused with a page in Chinese.
    c.execute(
        "document.querySelector('form.who input[name=_csrf]').remove();",
        vec![],
    )
    .await
    .unwrap();
    click(&c, "logout").await;
    wait_text(&c, "h1", "没有权限").await;
    // Still signed in: nothing changed.
    c.goto(&app.url("/account")).await.unwrap();
    wait_text(&c, "#account-username", "admin").await;
    c.close().await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_are_masked_and_one_field_is_revealed_on_request() {
    let Some(driver) = driver().await else { return };
    let app = TestApp::sqlite().await;
    let c = browser(&driver, 1280, 900).await;
    sign_in(&c, &app, "leader", &app.password("leader")).await;
    wait_text(&c, "h1", "工作台").await;
    c.goto(&app.url("/org/sites/JD/people")).await.unwrap();
    wait_text(&c, "h1", "工作人员与志愿者").await;
    let first_phone = "#people-table tbody tr:first-child td:nth-child(5) .masked";
    assert_eq!(text(&c, first_phone).await, "138****0000");
    c.find(Locator::Css(
        "#people-table tbody tr:first-child td:nth-child(5) button.reveal",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    wait_text(
        &c,
        "#people-table tbody tr:first-child td:nth-child(5) .revealed",
        "13806630000",
    )
    .await;
    // Only that one field: the ID number beside it stays masked.
    let id = text(
        &c,
        "#people-table tbody tr:first-child td:nth-child(6) .masked",
    )
    .await;
    assert!(id.contains("***********"), "{id}");
    screenshot(&c, "people-revealed-zh-CN.png").await;
    let log = crate::helpers::json(app.get("/api/v1/audit?action=person.reveal").await, 200).await;
    assert_eq!(log[0]["actor"], "leader");
    assert_eq!(log[0]["detail"]["field"], "phone");
    c.close().await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_a_village_centre_and_sets_its_threshold() {
    let Some(driver) = driver().await else { return };
    let app = TestApp::sqlite().await;
    let c = browser(&driver, 1280, 900).await;
    sign_in(&c, &app, "admin", &app.password("admin")).await;
    wait_text(&c, "h1", "工作台").await;
    c.goto(&app.url("/org")).await.unwrap();
    fill(&c, "code", "JD-QX-03").await;
    fill(&c, "name", "曲溪街道新村党群服务中心").await;
    c.find(Locator::Css("#kind option[value=village]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("#parent option[value=JD-QX]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    fill(&c, "capacity", "abc").await;
    click(&c, "site-create").await;
    wait_text(&c, "#capacity-error", "容量须为 1 至 100000 之间的整数。").await;
    fill(&c, "capacity", "15").await;
    click(&c, "site-create").await;
    wait_text(&c, "h1", "曲溪街道新村党群服务中心 JD-QX-03").await;
    fill(&c, "threshold", "41").await;
    click(&c, "site-save").await;
    wait_text(
        &c,
        "#threshold-error",
        "体温阈值须在 36.0 至 40.0 ℃ 之间，最多一位小数。",
    )
    .await;
    fill(&c, "threshold", "37.5").await;
    click(&c, "site-save").await;
    wait_text(&c, "#site-saved", "已保存。").await;
    // A resident unit with its windows; a repeated window number is refused.
    fill(&c, "unit_code", "DB").await;
    fill(&c, "unit_name", "代办服务窗口").await;
    fill(&c, "windows", "1, 1").await;
    click(&c, "unit-create").await;
    wait_text(
        &c,
        "#windows-error",
        "窗口号须为 1 至 999 的整数，用逗号分隔，不能重复。",
    )
    .await;
    fill(&c, "unit_code", "DB").await;
    fill(&c, "unit_name", "代办服务窗口").await;
    fill(&c, "windows", "1, 2").await;
    click(&c, "unit-create").await;
    wait_text(&c, "#site-saved", "已保存。").await;
    assert!(text(&c, "#units").await.contains("代办服务窗口"));
    let site = crate::helpers::json(app.get("/api/v1/sites/JD-QX-03").await, 200).await;
    assert_eq!(site["threshold"], 37.5);
    assert_eq!(site["parent"], "JD-QX");
    c.goto(&app.url("/org/sites/JD/groups")).await.unwrap();
    assert!(text(&c, "#group-leadership").await.contains("组长：陈**"));
    screenshot(&c, "groups-zh-CN.png").await;
    c.close().await.unwrap();
    app.stop().await;
}
