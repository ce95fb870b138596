//! The remaining screening pages in real headless Chromium: a citizen's self-registration
//! on a phone (then used at the door), the A4 poster, the records with their filter and
//! export, devices and their revocation, the live occupancy panel and the staff checks.
//!
//! Skipped like `browser.rs` when Chromium or chromedriver is absent. The few private
//! helpers needed there are written again here.

use crate::browser::{browser, click, driver, fill, screenshot, text};
use crate::helpers::{TestApp, json};
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use std::time::Duration;

/// The element's text, `None` while it is missing (a page is still loading).
async fn try_text(c: &Client, css: &str) -> Option<String> {
    match c.find(Locator::Css(css)).await {
        Ok(el) => el.text().await.ok(),
        Err(_) => None,
    }
}

/// Waits (about 10 s at most) until `check` holds for the element's text.
async fn wait_text_is(c: &Client, css: &str, what: &str, check: impl Fn(&str) -> bool) {
    for _ in 0..100 {
        if try_text(c, css).await.is_some_and(|t| check(&t)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let page = try_text(c, "main").await.or(try_text(c, "body").await);
    panic!(
        "{css} never showed {what}; it shows {:?}; the page says {page:?}",
        try_text(c, css).await
    );
}

async fn wait_text(c: &Client, css: &str, want: &str) {
    wait_text_is(c, css, &format!("{want:?}"), |t| t == want).await;
}

/// An attribute of the element (`None` when absent or when the element is missing).
async fn attr(c: &Client, css: &str, name: &str) -> Option<String> {
    match c.find(Locator::Css(css)).await {
        Ok(el) => el.attr(name).await.ok().flatten(),
        Err(_) => None,
    }
}

/// How many elements match (0 when none).
async fn count(c: &Client, css: &str) -> usize {
    c.find_all(Locator::Css(css)).await.map_or(0, |v| v.len())
}

/// Waits (about 10 s at most) until exactly `n` elements match.
async fn wait_count(c: &Client, css: &str, n: usize) {
    for _ in 0..100 {
        if count(c, css).await == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css}: {} found, not {n}", count(c, css).await);
}

/// Signs in through the sign-in page, as a person would, and waits for the home page.
async fn sign_in(c: &Client, app: &TestApp, username: &str) {
    c.goto(&app.url("/login")).await.unwrap();
    fill(c, "username", username).await;
    fill(c, "password", &app.password(username)).await;
    click(c, "login-submit").await;
    wait_text(c, "h1", "工作台").await;
}

/// Clicks the first element matching `css`.
async fn click_css(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Waits (about 5 s at most) for the page's live stream to be open, so a notice sent
/// next is not missed.
async fn wait_live(c: &Client) {
    for _ in 0..50 {
        let state = c
            .execute(
                "const el = document.querySelector('[sse-connect]');
                 const d = el && el['htmx-internal-data'];
                 return d && d.sseEventSource ? d.sseEventSource.readyState : -1;",
                vec![],
            )
            .await
            .unwrap();
        if state.as_i64() == Some(1) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page's live stream never opened");
}

fn reading(temperature: f64, mask: bool) -> Value {
    json!({"site": "JD", "subject_kind": "citizen", "temperature_c": temperature, "mask": mask})
}

/// JD's door records through the API (as the administrator).
async fn records(app: &TestApp) -> Vec<Value> {
    let v = json(app.get("/api/v1/screenings?site=JD").await, 200).await;
    v.as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_registers_on_a_phone_and_the_door_uses_the_number() {
    let Some(driver) = driver().await else { return };
    let app = TestApp::sqlite().await;
    let site = json(app.get("/api/v1/sites/JD").await, 200).await;
    let site_name = site["name"].as_str().unwrap().to_owned();
    let c = browser(&driver, 390, 844).await;

    // The public page: no sign-in, the privacy notice first.
    c.goto(&app.url("/r/JD/MAIN")).await.unwrap();
    wait_text(&c, "h1", "入场登记").await;
    let notice = text(&c, "#privacy-notice").await;
    assert!(notice.contains("用途"), "{notice}");
    assert!(notice.contains("仅用于疫情防控"), "{notice}");
    assert!(notice.contains("保管单位"), "{notice}");
    assert!(notice.contains(&site_name), "{notice}");
    assert_eq!(text(&c, "#retention").await, "28 天");
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

    // A phone number that is not one: a message by the field, no number.
    fill(&c, "reg-name", "张三丰").await;
    fill(&c, "reg-phone", "12345").await;
    click(&c, "reg-submit").await;
    wait_text_is(&c, "#reg-phone-error", "an error", |t| !t.is_empty()).await;
    assert_eq!(count(&c, "#reg-number").await, 0);
    assert!(text(&c, "#reg-name-error").await.is_empty());
    screenshot(&c, "register-error.png").await;

    fill(&c, "reg-name", "张三丰").await;
    fill(&c, "reg-phone", "13800138000").await;
    click(&c, "reg-submit").await;
    wait_count(&c, "#reg-number", 1).await;
    let number = text(&c, "#reg-number").await;
    assert!(
        number.len() == 4 && number.bytes().all(|b| b.is_ascii_digit()),
        "registration number {number:?}"
    );
    assert_eq!(count(&c, "#privacy-notice").await, 0);
    screenshot(&c, "register-number.png").await;

    // At the door the volunteer types only the number and the reading.
    sign_in(&c, &app, "volunteer").await;
    c.goto(&app.url("/door/JD/MAIN")).await.unwrap();
    wait_text(&c, "#link-status", "在线").await;
    fill(&c, "registration", &number).await;
    for k in ["3", "6", "5"] {
        click_css(&c, &format!(".keypad button[data-key=\"{k}\"]")).await;
    }
    assert_eq!(text(&c, "#temp-display").await, "36.5");
    click(&c, "submit-mask").await;
    wait_text(&c, "#decision", "请进").await;

    let mut r = records(&app).await;
    for _ in 0..100 {
        if !r.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        r = records(&app).await;
    }
    assert_eq!(r.len(), 1, "{r:#?}");
    let rec = &r[0];
    assert_eq!(rec["decision"], "admit", "{rec}");
    assert_eq!(rec["temperature_c"], 36.5, "{rec}");
    assert_eq!(rec["recorded_by"], "volunteer", "{rec}");
    assert_eq!(rec["registered_name"], "张**", "{rec}");
    assert_eq!(rec["registered_phone"], "138****8000", "{rec}");
    // The page shows the entry as sent, not rejected.
    let states = c
        .execute(
            "return Array.from(document.querySelectorAll('#recent li')).map(li => li.className);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(states, json!(["sent"]));

    c.close().await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_door_poster_prints_a_notice_and_a_qr_code() {
    let Some(driver) = driver().await else { return };
    let app = TestApp::sqlite().await;
    let c = browser(&driver, 1024, 1400).await;
    sign_in(&c, &app, "admin").await;
    c.goto(&app.url("/door/JD/MAIN/poster")).await.unwrap();
    wait_text(&c, "#poster-notice", "请佩戴口罩并接受体温检测").await;
    assert_eq!(count(&c, "#poster-qr svg").await, 1);
    let size = c
        .execute(
            "const r = document.querySelector('#poster-qr svg').getBoundingClientRect();
             return [r.width, r.height];",
            vec![],
        )
        .await
        .unwrap();
    let (w, h) = (size[0].as_f64().unwrap(), size[1].as_f64().unwrap());
    assert!(w >= 100.0 && h >= 100.0, "the QR code is {w}×{h} px");
    let url = text(&c, "#poster-url").await;
    assert!(url.ends_with("/r/JD/MAIN"), "{url}");
    assert_eq!(url, app.url("/r/JD/MAIN"));
    // The address on the poster leads to the registration page.
    c.goto(&url).await.unwrap();
    wait_text(&c, "h1", "入场登记").await;
    c.goto(&app.url("/door/JD/MAIN/poster")).await.unwrap();
    wait_text(&c, "#poster-notice", "请佩戴口罩并接受体温检测").await;
    screenshot(&c, "poster.png").await;
    c.close().await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_records_filter_and_export_what_is_shown() {
    let Some(driver) = driver().await else { return };
    let app = TestApp::sqlite().await;
    for (t, mask, decision) in [
        (36.6, true, "admit"),
        (36.7, false, "refuse_no_mask"),
        (38.5, true, "buffer"),
    ] {
        let answer = json(
            app.post_json("/api/v1/screenings", &reading(t, mask), None)
                .await,
            201,
        )
        .await;
        assert_eq!(answer["decision"], decision, "{answer}");
    }
    let c = browser(&driver, 1280, 900).await;
    sign_in(&c, &app, "leader").await;
    c.goto(&app.url("/screening/records")).await.unwrap();
    wait_text(&c, "h1", "检测记录").await;
    let rows = "#records-table tbody tr";
    assert_eq!(count(&c, rows).await, 3);

    click_css(&c, "#filter-decision option[value=refuse_no_mask]").await;
    click(&c, "filter-apply").await;
    wait_count(&c, rows, 1).await;
    let row = text(&c, rows).await;
    assert!(row.contains("请佩戴口罩"), "{row}");
    assert!(row.contains("36.7"), "{row}");
    // The filter stays chosen after the page reloads.
    let chosen = c
        .find(Locator::Id("filter-decision"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(chosen.as_deref(), Some("refuse_no_mask"));

    let href = attr(&c, "#export-csv", "href").await.unwrap();
    assert!(href.contains("decision=refuse_no_mask"), "{href}");
    let href = if href.starts_with('/') {
        app.url(&href)
    } else {
        href
    };
    assert!(href.starts_with(&app.base), "{href}");
    let res = app.client.get(&href).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let kind = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(kind.starts_with("text/csv"), "{kind}");
    let body = res.text().await.unwrap();
    let body = body.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = body.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "{body}");
    assert!(lines[1].contains("36.7"), "{body}");
    screenshot(&c, "records.png").await;
    c.close().await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_gets_a_token_that_stops_working_when_revoked() {
    let Some(driver) = driver().await else { return };
    let app = TestApp::sqlite().await;
    let c = browser(&driver, 1280, 900).await;
    sign_in(&c, &app, "admin").await;
    c.goto(&app.url("/screening/devices")).await.unwrap();
    wait_text(&c, "h1", "检测设备").await;
    assert_eq!(count(&c, "#devices-table tbody tr").await, 0);
    click_css(&c, "#device-site option[value=JD]").await;
    fill(&c, "device-name", "thermal-1").await;
    click(&c, "device-create").await;
    wait_text_is(&c, "#device-token", "a token", |t| t.trim().len() >= 16).await;
    let token = text(&c, "#device-token").await.trim().to_owned();
    wait_count(&c, "#devices-table tbody tr", 1).await;
    let row = text(&c, "#devices-table tbody tr").await;
    assert!(row.contains("thermal-1") && row.contains("可用"), "{row}");

    let body = reading(36.6, true);
    let first = app.post_as("/api/v1/screenings", &body, Some(&token)).await;
    let first = json(first, 201).await;
    assert_eq!(first["decision"], "admit", "{first}");

    click_css(&c, "#devices-table tbody tr form button").await;
    wait_text_is(&c, "#devices-table tbody tr", "revoked", |t| {
        t.contains("已停用")
    })
    .await;
    assert_eq!(count(&c, "#devices-table tbody tr form button").await, 0);
    // The token shown once is gone after the redirect.
    assert_eq!(count(&c, "#device-token").await, 0);

    let after = app.post_as("/api/v1/screenings", &body, Some(&token)).await;
    assert_eq!(after.status(), 401, "{}", after.text().await.unwrap());
    assert_eq!(records(&app).await.len(), 1);
    c.close().await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_occupancy_panel_counts_live() {
    let Some(driver) = driver().await else { return };
    let app = TestApp::sqlite().await;
    let c = browser(&driver, 1280, 900).await;
    sign_in(&c, &app, "leader").await;
    c.goto(&app.url("/occupancy")).await.unwrap();
    wait_text(&c, "h1", "在场人数").await;
    assert_eq!(text(&c, "#hall-JD .inside").await, "0");
    assert_eq!(text(&c, "#total-inside").await, "0");

    wait_live(&c).await;
    c.execute("window.notReloaded = true;", vec![])
        .await
        .unwrap();
    let answer = json(
        app.post_json("/api/v1/screenings", &reading(36.5, true), None)
            .await,
        201,
    )
    .await;
    assert_eq!(answer["decision"], "admit", "{answer}");
    wait_text(&c, "#hall-JD .inside", "1").await;
    assert_eq!(text(&c, "#total-inside").await, "1");
    let same_page = c
        .execute("return window.notReloaded === true;", vec![])
        .await
        .unwrap();
    assert_eq!(same_page, json!(true), "the page was reloaded");
    screenshot(&c, "occupancy.png").await;
    c.close().await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_checks_in_before_work_and_the_unit_sees_it() {
    let Some(driver) = driver().await else { return };
    let app = TestApp::sqlite().await;
    let c = browser(&driver, 1280, 900).await;
    sign_in(&c, &app, "window").await;
    c.goto(&app.url("/staff-checks")).await.unwrap();
    wait_text(&c, "h1", "上下班体温检测").await;
    let pre = text(&c, "#pre-status").await;
    assert!(pre.contains("未测") && !pre.contains("已测"), "{pre}");
    assert_eq!(count(&c, "#staff-decision").await, 0);
    let checked = c
        .find(Locator::Id("staff-pre"))
        .await
        .unwrap()
        .prop("checked")
        .await
        .unwrap();
    assert_eq!(checked.as_deref(), Some("true"));

    fill(&c, "staff-temp", "36.4").await;
    click(&c, "staff-submit").await;
    wait_text_is(&c, "#pre-status", "✔ 已测", |t| t.contains("✔ 已测")).await;
    assert_eq!(text(&c, "#staff-decision").await, "请进");
    assert!(text(&c, "#post-status").await.contains("未测"));

    // The API names the clerk who checked in: exactly one, before work, nothing missing.
    let day = json(app.get("/api/v1/staff-checks?site=JD").await, 200).await;
    let day = day.as_array().unwrap();
    let done: Vec<&Value> = day.iter().filter(|s| s["pre_shift"] == true).collect();
    assert_eq!(done.len(), 1, "{day:#?}");
    assert_eq!(done[0]["missing"], json!([]), "{day:#?}");
    let clerk = done[0]["person"].as_str().unwrap().to_owned();
    let missing = day
        .iter()
        .filter(|s| !s["missing"].as_array().unwrap().is_empty())
        .count();
    assert!(missing >= 1, "{day:#?}");

    click(&c, "logout").await;
    wait_text(&c, "h1", "登录").await;
    sign_in(&c, &app, "unit-admin").await;
    c.goto(&app.url("/staff-checks/missing?site=JD"))
        .await
        .unwrap();
    wait_text(&c, "h1", "员工检测情况").await;
    let shown: usize = text(&c, "#missing-count")
        .await
        .trim()
        .parse()
        .expect("#missing-count is a number");
    assert_eq!(shown, missing);
    let row = format!("tr[data-person=\"{clerk}\"]");
    assert_eq!(count(&c, &row).await, 1, "no row for {clerk}");
    let class = attr(&c, &row, "class").await.unwrap_or_default();
    assert!(!class.contains("missing"), "{row} has class {class:?}");
    assert!(text(&c, &row).await.contains('✔'));
    assert_eq!(count(&c, "tr.missing").await, missing);
    screenshot(&c, "staff-missing.png").await;
    c.close().await.unwrap();
    app.stop().await;
}
