//! The daily report pages in real headless Chromium: a street centre's leader (曲溪) finds
//! the day's figures counted from the door readings, adds remarks and submits them (on
//! time; a second unchanged submission is refused), the district hall's leader sees the
//! centre's report in the roll-up and its completeness, opens it, acknowledges it (the
//! remarks shown as text, never as markup), then submits the hall's own report; last, the
//! leadership dashboard on a phone: today's counts, the 7- and 30-day trends, no sideways
//! scrolling of the page.
//!
//! Skipped like `browser.rs` when Chromium or chromedriver is absent.

use crate::browser::{browser, click, driver, fill, screenshot, text};
use crate::browser_cases::{path, sign_in, texts, wait_attr, wait_contains, wait_text};
use crate::cases::leader_of;
use crate::helpers::{TestApp, json};
use fantoccini::{Client, Locator};
use serde_json::json;
use std::time::Duration;

/// The day of the tests' clock (`NOW`), Beijing time.
const DAY: &str = "2020-01-29";
/// The 曲溪 leader's own password, set by `leader_of` at the first sign-in.
const QX_PASSWORD: &str = "Quxi-leader-own-2020";
/// The centre's remarks, with markup that must stay text.
const REMARKS: &str = "一名发热群众已转缓冲区复检 <img src=x onerror=alert(1)>";

/// Records one door reading at `site` as the demo administrator; its decision.
async fn screen(app: &TestApp, site: &str, t: f64) -> String {
    let reading =
        json!({"site": site, "subject_kind": "citizen", "temperature_c": t, "mask": true});
    json(
        app.post_json("/api/v1/screenings", &reading, None).await,
        201,
    )
    .await["decision"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Signs in an account with its own password and waits for the home page.
async fn sign_in_with(c: &Client, app: &TestApp, username: &str, password: &str) {
    c.goto(&app.url("/login")).await.unwrap();
    fill(c, "username", username).await;
    fill(c, "password", password).await;
    click(c, "login-submit").await;
    wait_text(c, "h1", "工作台").await;
}

/// Signs out with the header's button and waits for the sign-in page.
async fn sign_out(c: &Client) {
    click(c, "logout").await;
    wait_text(c, "h1", "登录").await;
}

/// Waits (about 10 s at most) until an element matches `css`.
async fn wait_for(c: &Client, css: &str) {
    for _ in 0..100 {
        if c.find(Locator::Css(css)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} never appeared on {}", path(c).await);
}

/// Waits (about 10 s at most) until the browser shows `want`.
async fn wait_path(c: &Client, want: &str) {
    for _ in 0..100 {
        if path(c).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never reached {want}; the browser shows {}", path(c).await);
}

/// The values of the report table's row labelled `label`: the site's own, then (for a
/// site with sites below it) the roll-up.
async fn figure(c: &Client, label: &str) -> Vec<String> {
    let v = c
        .execute(
            "const row = Array.from(document.querySelectorAll('#report-figures tbody tr'))
                 .find(r => r.cells.length > 1 && r.cells[0].textContent.trim() === arguments[0]);
             return row ? Array.from(row.querySelectorAll('td.num')).map(td => td.textContent.trim()) : null;",
            vec![json!(label)],
        )
        .await
        .unwrap();
    let Some(cells) = v.as_array() else {
        panic!("no row {label:?} in #report-figures")
    };
    cells
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// How many elements match `css`.
async fn count(c: &Client, css: &str) -> i64 {
    c.execute(
        "return document.querySelectorAll(arguments[0]).length;",
        vec![json!(css)],
    )
    .await
    .unwrap()
    .as_i64()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_centre_submits_its_daily_report_and_the_district_acknowledges_it_and_rolls_up() {
    let Some(driver) = driver().await else { return };
    let app = TestApp::sqlite().await;

    // The morning at the doors: four people at 曲溪 (one with fever), two at the hall.
    for _ in 0..3 {
        assert_eq!(screen(&app, "JD-QX", 36.5).await, "admit");
    }
    assert_eq!(screen(&app, "JD-QX", 38.2).await, "buffer");
    for _ in 0..2 {
        assert_eq!(screen(&app, "JD", 36.5).await, "admit");
    }
    let qx = leader_of(&app, "JD-QX", "qx-leader").await;

    // 曲溪's leader: the report menu leads to the centre's report for today.
    let qx_page = format!("/reports/JD-QX/{DAY}");
    let c = browser(&driver, 1280, 1000).await;
    sign_in_with(&c, &app, "qx-leader", QX_PASSWORD).await;
    // The home page says today's report is not in yet and leads to it.
    assert_eq!(text(&c, "#home-report-status").await, "未报送");
    click(&c, "home-report-link").await;
    wait_path(&c, &qx_page).await;
    // So does the report menu.
    c.goto(&app.url("/reports")).await.unwrap();
    wait_path(&c, &qx_page).await;
    wait_contains(&c, "#report-title", "曲溪街道公共服务中心").await;
    wait_attr(&c, "#report-status", "data-status", "draft").await;
    assert_eq!(text(&c, "#report-status").await, "未报送");
    wait_attr(&c, "#report-timeliness", "data-timeliness", "due").await;
    assert!(
        c.find(Locator::Id("report-ack")).await.is_err(),
        "a site does not acknowledge its own report"
    );
    // The figures come from the door readings (a column for the sites below, if any,
    // holds the same: nothing was recorded there).
    let screened = figure(&c, "排查人数").await;
    assert!(
        !screened.is_empty() && screened.iter().all(|v| v == "4"),
        "{screened:?}"
    );
    let buffer = figure(&c, "体温异常转缓冲区").await;
    assert!(
        !buffer.is_empty() && buffer.iter().all(|v| v == "1"),
        "{buffer:?}"
    );
    assert!(c.find(Locator::Id("no-versions")).await.is_ok());

    // Remarks, then submit: on time (10:00, the deadline is in the afternoon).
    fill(&c, "remarks", REMARKS).await;
    click(&c, "report-submit").await;
    wait_attr(&c, "#report-status", "data-status", "submitted").await;
    wait_path(&c, &qx_page).await;
    assert_eq!(text(&c, "#report-status").await, "已报送");
    wait_attr(&c, "#report-timeliness", "data-timeliness", "on_time").await;
    assert_eq!(text(&c, "#report-timeliness").await, "按时");
    assert_eq!(figure(&c, "排查人数").await[0], "4");
    wait_for(&c, "#versions-table").await;
    assert_eq!(count(&c, "#versions-table tbody tr").await, 1);

    // The same again, nothing changed: refused with the reason, still one version.
    click(&c, "report-submit").await;
    wait_for(&c, "#report-error").await;
    wait_contains(&c, "#report-error", "无需重复报送").await;
    wait_attr(&c, "#report-status", "data-status", "submitted").await;
    assert_eq!(count(&c, "#versions-table tbody tr").await, 1);
    assert_eq!(count(&c, "#versions-table img").await, 0);
    screenshot(&c, "reports-submitted.png").await;
    sign_out(&c).await;
    c.close().await.unwrap();

    // The district hall's leader, on a new session: the centre in the roll-up.
    let c = browser(&driver, 1280, 1000).await;
    sign_in(&c, &app, "leader").await;
    let jd_page = format!("/reports/JD/{DAY}");
    c.goto(&app.url(&jd_page)).await.unwrap();
    wait_contains(&c, "#report-title", "揭东区政务服务中心").await;
    wait_attr(&c, "#child-JD-QX", "data-status", "submitted").await;
    wait_attr(&c, "#child-JD-QX", "data-timeliness", "on_time").await;
    assert_eq!(
        figure(&c, "排查人数").await,
        ["2", "6"],
        "the hall's own, then the roll-up"
    );
    assert_eq!(figure(&c, "体温异常转缓冲区").await, ["0", "1"]);
    let completeness = text(&c, "#completeness").await;
    assert!(completeness.contains("1/"), "{completeness}");
    assert!(completeness.contains("按时 1"), "{completeness}");
    assert!(completeness.contains("未报 0"), "{completeness}");
    wait_attr(&c, "#report-status", "data-status", "draft").await;
    screenshot(&c, "reports-rollup.png").await;

    // Open the centre's report from its line and acknowledge it.
    c.find(Locator::Css("#child-JD-QX th a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_path(&c, &qx_page).await;
    wait_for(&c, "#report-ack").await;
    assert!(c.find(Locator::Id("report-return")).await.is_ok());
    assert!(c.find(Locator::Id("comment")).await.is_ok());
    click(&c, "report-ack").await;
    wait_attr(&c, "#report-status", "data-status", "acknowledged").await;
    assert_eq!(text(&c, "#report-status").await, "已确认");
    assert!(
        c.find(Locator::Id("report-ack")).await.is_err(),
        "acknowledged once"
    );
    // The remarks are shown as text: no image made of them, no script run.
    wait_for(&c, "#versions-table").await;
    assert_eq!(count(&c, "#versions-table img").await, 0);
    let remarks = texts(&c, "#versions-table tbody tr:first-child td.pre").await;
    assert_eq!(
        remarks.first().map(String::as_str),
        Some(REMARKS),
        "{remarks:?}"
    );
    let versions = texts(&c, "#versions-table").await.concat();
    assert!(
        versions.contains("一名发热群众已转缓冲区复检"),
        "{versions}"
    );
    assert!(versions.contains("<img"), "{versions}");
    assert!(versions.contains("qx-leader"), "{versions}");
    let line = texts(&c, "#versions-table tbody tr:first-child td").await;
    assert_eq!(line.get(1).map(String::as_str), Some("已确认"), "{line:?}");
    assert!(
        line.get(4).is_some_and(|d| d.contains("leader")),
        "decided by the hall's leader: {line:?}"
    );

    // Back at the hall's report: the centre's line says acknowledged.
    c.goto(&app.url(&jd_page)).await.unwrap();
    wait_attr(&c, "#child-JD-QX", "data-status", "acknowledged").await;

    // The hall submits its own report (it has sites below: still the submit button).
    assert!(
        c.find(Locator::Id("report-ack")).await.is_err(),
        "the hall does not acknowledge its own report"
    );
    click(&c, "report-submit").await;
    wait_attr(&c, "#report-status", "data-status", "submitted").await;
    wait_path(&c, &jd_page).await;
    assert_eq!(text(&c, "#report-status").await, "已报送");
    wait_attr(&c, "#report-timeliness", "data-timeliness", "on_time").await;
    assert_eq!(figure(&c, "排查人数").await, ["2", "6"]);
    sign_out(&c).await;
    c.close().await.unwrap();

    // The same through the API: the centre's version, acknowledged by the hall.
    let url = format!("/api/v1/reports/daily?site=JD-QX&date={DAY}");
    let stored = json(app.get_as(&url, Some(&qx)).await, 200).await;
    assert_eq!(stored["status"], "acknowledged");
    assert_eq!(stored["timeliness"], "on_time");
    assert_eq!(stored["screened"], 4);
    assert_eq!(stored["versions"][0]["remarks"], REMARKS);
    assert_eq!(stored["versions"][0]["submitted_by"], "qx-leader");
    assert_eq!(stored["versions"][0]["decided_by"], "leader");
    let url = format!("/api/v1/reports/daily?site=JD&date={DAY}&rollup=true");
    let hall = json(app.get(&url).await, 200).await;
    assert_eq!(hall["status"], "submitted");
    assert_eq!(hall["screened"], 6);

    // The leadership dashboard on a phone.
    let c = browser(&driver, 390, 844).await;
    sign_in(&c, &app, "leader").await;
    c.goto(&app.url("/dashboard")).await.unwrap();
    wait_contains(&c, "h1", "揭东区政务服务中心").await;
    wait_text(&c, "#today-screened", "6").await;
    wait_text(&c, "#today-buffer", "1").await;
    wait_text(&c, "#today-suspected", "0").await;
    let qx_line = texts(&c, "#today-JD-QX th").await;
    assert_eq!(qx_line, ["曲溪街道公共服务中心"], "{qx_line:?}");
    let qx_cells = texts(&c, "#today-JD-QX td").await;
    assert_eq!(
        qx_cells.first().map(String::as_str),
        Some("4"),
        "{qx_cells:?}"
    );
    assert_eq!(count(&c, "#week-table tbody tr").await, 7);
    assert_eq!(count(&c, "#month-table tbody tr").await, 30);
    assert_eq!(count(&c, "svg#week-chart rect").await, 7);
    assert_eq!(count(&c, "svg#month-chart rect").await, 30);
    // Each site's week: the centre's line ends with today's 4 readings.
    let qx_week = texts(&c, "#week-JD-QX td.num").await;
    assert_eq!(qx_week.len(), 7);
    assert_eq!(qx_week[6], "4");
    assert_eq!(count(&c, "#week-JD-QX svg rect").await, 7);
    // Today's line of the week's table holds the whole district's readings.
    let today = c
        .execute(
            "const row = Array.from(document.querySelectorAll('#week-table tbody tr'))
                 .find(r => r.cells[0].textContent.trim() === arguments[0]);
             return row ? row.cells[1].textContent.trim() : null;",
            vec![json!(DAY)],
        )
        .await
        .unwrap();
    assert_eq!(today, json!("6"), "today's line of the week");
    // Nothing wider than the screen: the tables scroll inside their own boxes.
    let widths = c
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .unwrap();
    let (scroll, inner) = (widths[0].as_i64().unwrap(), widths[1].as_i64().unwrap());
    assert!(
        scroll <= inner + 1,
        "the page is {scroll} px wide on a {inner} px phone"
    );
    screenshot(&c, "dashboard-phone.png").await;
    c.close().await.unwrap();
    app.stop().await;
}
