//! The suspected-case pages in real headless Chromium: the live alert banner a leader
//! sees on every page (a buffer-zone suspect appears without reloading, acknowledging
//! clears it), a case opened by hand and worked through its page (actions, the alert,
//! the upward report, the outcome, the district's view), and the leaders' dashboard with
//! its fever-rate chart.
//!
//! Skipped like `browser.rs` when Chromium or chromedriver is absent. The few browser
//! helpers needed are copied from there (they are private to that module).

use crate::browser::{browser, click, driver, fill, screenshot, text};
use crate::helpers::{NOW, TestApp, json};
use fangkong_domain::clock::FixedClock;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// The demo district hall (JD).
const JD_NAME: &str = "揭东区政务服务中心";

/// An attribute of the element (`None` when absent or when the element is missing).
async fn attr(c: &Client, css: &str, name: &str) -> Option<String> {
    match c.find(Locator::Css(css)).await {
        Ok(el) => el.attr(name).await.ok().flatten(),
        Err(_) => None,
    }
}

/// Waits (about 10 s at most) until `check` holds for the element's text.
async fn wait_text_is(c: &Client, css: &str, what: &str, check: impl Fn(&str) -> bool) {
    for _ in 0..100 {
        if check(&text(c, css).await) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{css} never showed {what}; it shows {:?}",
        text(c, css).await
    );
}

pub(crate) async fn wait_text(c: &Client, css: &str, want: &str) {
    wait_text_is(c, css, &format!("{want:?}"), |t| t == want).await;
}

pub(crate) async fn wait_contains(c: &Client, css: &str, part: &str) {
    wait_text_is(c, css, &format!("{part:?} in its text"), |t| {
        t.contains(part)
    })
    .await;
}

/// Waits (about 10 s at most) until the element's attribute is `want`.
pub(crate) async fn wait_attr(c: &Client, css: &str, name: &str, want: &str) {
    for _ in 0..100 {
        if attr(c, css, name).await.as_deref() == Some(want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{css} never had {name}={want:?}; it has {:?}",
        attr(c, css, name).await
    );
}

/// Signs in through the sign-in page, as a person would, and waits for the home page.
pub(crate) async fn sign_in(c: &Client, app: &TestApp, username: &str) {
    c.goto(&app.url("/login")).await.unwrap();
    fill(c, "username", username).await;
    fill(c, "password", &app.password(username)).await;
    click(c, "login-submit").await;
    wait_text(c, "h1", "工作台").await;
}

/// Picks an option of a select found by id.
pub(crate) async fn choose(c: &Client, select: &str, value: &str) {
    c.find(Locator::Css(&format!(
        "#{select} option[value=\"{value}\"]"
    )))
    .await
    .unwrap_or_else(|e| panic!("no option {value} in #{select}: {e}"))
    .click()
    .await
    .unwrap();
}

/// The texts of every element `css` matches, in document order.
pub(crate) async fn texts(c: &Client, css: &str) -> Vec<String> {
    let v = c
        .execute(
            "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.textContent.trim());",
            vec![json!(css)],
        )
        .await
        .unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// The path of the page the browser shows.
pub(crate) async fn path(c: &Client) -> String {
    c.current_url().await.unwrap().path().to_owned()
}

/// Waits (about 10 s at most) until the browser shows a case record; its id.
async fn wait_case_page(c: &Client) -> String {
    for _ in 0..100 {
        let p = path(c).await;
        if let Some(id) = p.strip_prefix("/cases/")
            && uuid::Uuid::parse_str(id).is_ok()
        {
            return id.to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "never reached a case record; the browser shows {}",
        path(c).await
    );
}

/// Waits (about 10 s at most) until the banner's live stream is open, so a notice sent
/// now is not missed.
async fn wait_banner_stream(c: &Client) {
    for _ in 0..100 {
        let state = c
            .execute(
                "const el = document.getElementById('alert-banner');
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
    panic!("the alert banner's live stream never opened");
}

/// Open alerts an account sees through the API.
async fn open_alerts(app: &TestApp, token: &str) -> Vec<Value> {
    json(app.get_as("/api/v1/alerts", Some(token)).await, 200)
        .await
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buffer_zone_suspect_appears_live_on_a_leaders_screen_and_acknowledging_clears_it() {
    let Some(driver) = driver().await else { return };
    let clock = Arc::new(FixedClock::new(NOW));
    let app = TestApp::with_clock(Arc::clone(&clock)).await;
    let c = browser(&driver, 1280, 900).await;

    sign_in(&c, &app, "leader").await;
    c.goto(&app.url("/")).await.unwrap();
    wait_text(&c, "h1", "工作台").await;
    // Nothing open: the banner is there and empty.
    assert!(c.find(Locator::Id("alert-banner")).await.is_ok());
    assert_eq!(text(&c, "#alert-banner").await, "");
    assert!(c.find(Locator::Id("banner-alerts")).await.is_err());
    wait_banner_stream(&c).await;
    c.execute("window.notReloaded = true;", vec![])
        .await
        .unwrap();

    // At the door, as the volunteer: 38.2 °C sends the person to the buffer zone; after
    // the rest a cough and contact with a case make a suspect, and a case is opened.
    let volunteer = app.token_for("volunteer").await;
    let reading =
        json!({"site": "JD", "subject_kind": "citizen", "temperature_c": 38.2, "mask": true});
    let first = json(
        app.post_as("/api/v1/screenings", &reading, Some(&volunteer))
            .await,
        201,
    )
    .await;
    assert_eq!(first["decision"], "buffer");
    let screening = first["id"].as_str().unwrap().to_owned();
    clock.advance(time::Duration::minutes(5));
    let recheck =
        json!({"temperature_c": 38.0, "symptoms": ["cough"], "answers": {"case_contact": true}});
    let done = json(
        app.post_as(
            &format!("/api/v1/screenings/{screening}/rechecks"),
            &recheck,
            Some(&volunteer),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(done["outcome"], "suspected");
    let case = done["case_id"].as_str().unwrap().to_owned();

    let leader = app.token_for("leader").await;
    let open = open_alerts(&app, &leader).await;
    assert_eq!(open.len(), 1, "{open:#?}");
    assert_eq!(open[0]["case_id"], case.as_str());
    let alert = open[0]["id"].as_str().unwrap().to_owned();

    // Without reloading, the leader's banner shows it: site, time, symptom.
    wait_contains(&c, "#alert-banner", "咳嗽").await;
    let item = format!("[id=\"alert-{alert}\"]");
    assert!(
        c.find(Locator::Css(&item)).await.is_ok(),
        "no banner item for {alert}"
    );
    let shown = text(&c, "#banner-alerts").await;
    assert!(shown.contains(JD_NAME), "{shown}");
    assert!(shown.contains("疑似病例报告"), "{shown}");
    assert!(shown.contains("2020-01-29 10:05"), "{shown}");
    assert!(shown.contains("38.2"), "{shown}");
    assert_eq!(texts(&c, "#banner-alerts li.alert-item").await.len(), 1);
    let same_page = c
        .execute("return window.notReloaded === true;", vec![])
        .await
        .unwrap();
    assert_eq!(same_page, json!(true), "the page was reloaded");
    screenshot(&c, "alert-banner-zh-CN.png").await;

    // The leader acknowledges in the banner, two minutes later: it empties.
    clock.advance(time::Duration::minutes(2));
    click(&c, &format!("ack-{alert}")).await;
    wait_text(&c, "#alert-banner", "").await;
    assert!(c.find(Locator::Id("banner-alerts")).await.is_err());
    let same_page = c
        .execute("return window.notReloaded === true;", vec![])
        .await
        .unwrap();
    assert_eq!(same_page, json!(true), "the page was reloaded");

    assert!(open_alerts(&app, &leader).await.is_empty());
    let c_case = json(
        app.get_as(&format!("/api/v1/cases/{case}"), Some(&leader))
            .await,
        200,
    )
    .await;
    assert_eq!(c_case["alert"]["acknowledged_by"], "leader");
    assert!(c_case["alert"]["acknowledged_at"].is_string());
    assert_eq!(c_case["minutes_to_acknowledge"], 2);
    assert_eq!(c_case["source"], "buffer");

    // Another page later: still nothing in the banner.
    c.goto(&app.url("/cases")).await.unwrap();
    wait_text(&c, "h1", "疑似病例台账").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(text(&c, "#alert-banner").await, "");
    screenshot(&c, "alert-banner-cleared-zh-CN.png").await;
    c.close().await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_opened_by_hand_is_worked_through_its_page() {
    let Some(driver) = driver().await else { return };
    let clock = Arc::new(FixedClock::new(NOW));
    let app = TestApp::with_clock(Arc::clone(&clock)).await;
    let c = browser(&driver, 1280, 1000).await;
    let xss = "<img src=x onerror=alert(1)>";

    sign_in(&c, &app, "leader").await;
    c.goto(&app.url("/cases")).await.unwrap();
    wait_text(&c, "h1", "疑似病例台账").await;
    assert!(c.find(Locator::Id("cases-empty")).await.is_ok());
    assert!(c.find(Locator::Id("ledger-xlsx")).await.is_ok());
    click(&c, "case-new").await;
    wait_text(&c, "h1", "登记疑似病例").await;
    assert_eq!(path(&c).await, "/cases/new");

    // Neither a symptom nor a temperature: refused in Chinese, nothing stored.
    choose(&c, "subject_kind", "window_staff").await;
    fill(&c, "name", "张三").await;
    click(&c, "case-submit").await;
    wait_text(&c, "#symptoms-error", "至少填写一项症状或一次体温").await;
    assert!(c.find(Locator::Id("case-errors")).await.is_ok());
    assert_eq!(path(&c).await, "/cases/new");
    let stored = json(app.get("/api/v1/cases").await, 200).await;
    assert_eq!(stored, json!([]), "nothing is stored");

    // The whole record: name, phone, a temperature, fever and cough, and the details.
    choose(&c, "subject_kind", "window_staff").await;
    fill(&c, "name", "张三").await;
    fill(&c, "phone", "13800138000").await;
    fill(&c, "temperature_c", "38.1").await;
    click(&c, "symptom-fever").await;
    click(&c, "symptom-cough").await;
    fill(&c, "details", xss).await;
    click(&c, "case-submit").await;
    let id = wait_case_page(&c).await;
    wait_attr(&c, "#case-status", "data-status", "open").await;
    assert_eq!(text(&c, "#case-status").await, "处置中");
    let name = text(&c, "#case-name").await;
    assert!(name.contains('*') && !name.contains("张三"), "{name}");
    assert_eq!(text(&c, "#case-symptoms").await, "发热、咳嗽");
    let body = text(&c, "main").await;
    assert!(!body.contains("13800138000"), "the phone in full: {body}");
    assert!(body.contains("38.1"), "{body}");
    // A leader who must call the person reveals the phone (audited).
    click(&c, "reveal-phone").await;
    wait_contains(&c, "main", "13800138000").await;

    // Stored text is shown as text: no element made of it, no script run.
    let details = c
        .execute(
            "const dd = Array.from(document.querySelectorAll('dl.facts dd'))
                 .find(d => d.textContent.includes('onerror'));
             return dd ? [dd.textContent, dd.querySelectorAll('*').length] : null;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(details, json!([xss, 0]), "the details as text");
    let images = c
        .execute(
            "return document.querySelectorAll('main img').length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(images, json!(0), "an image element from stored text");

    // An action with a note.
    clock.advance(time::Duration::minutes(3));
    choose(&c, "action", "fever_clinic").await;
    fill(&c, "note", "由工作人员陪同前往").await;
    click(&c, "action-submit").await;
    wait_contains(&c, "#case-actions", "送发热门诊").await;
    assert!(
        text(&c, "#case-actions")
            .await
            .contains("由工作人员陪同前往")
    );

    // The leader acknowledges on the case page.
    clock.advance(time::Duration::minutes(2));
    assert!(c.find(Locator::Id("case-acknowledged")).await.is_err());
    click(&c, "case-ack").await;
    wait_contains(&c, "#case-acknowledged", "leader").await;
    assert!(c.find(Locator::Id("case-ack")).await.is_err());
    let acknowledged = text(&c, "#case-acknowledged").await;
    assert!(acknowledged.ends_with(" 5"), "five minutes: {acknowledged}");

    // The report to the district through this system.
    clock.advance(time::Duration::minutes(4));
    assert_eq!(text(&c, "#minutes-to-report").await, "—");
    let report = "揭东区政务服务中心发现疑似病例一例，已送发热门诊";
    choose(&c, "channel", "system").await;
    fill(&c, "content", report).await;
    click(&c, "upward-submit").await;
    wait_contains(&c, "#upward-list", report).await;
    let listed = text(&c, "#upward-list").await;
    assert!(listed.contains("系统直报区指挥部"), "{listed}");
    assert!(listed.contains("leader"), "{listed}");
    assert_eq!(text(&c, "#minutes-to-report").await, "9");

    // The outcome closes the case.
    clock.advance(time::Duration::minutes(1));
    choose(&c, "outcome", "excluded").await;
    c.execute(
        "document.getElementById('outcome-date').value = '2020-01-29';",
        vec![],
    )
    .await
    .unwrap();
    click(&c, "outcome-submit").await;
    wait_attr(&c, "#case-status", "data-status", "closed").await;
    assert_eq!(text(&c, "#case-status").await, "已结案");
    assert!(text(&c, "section.intro").await.contains("排除 2020-01-29"));

    // The timeline lists the steps in order, each by the leader.
    let timeline = texts(&c, "#case-timeline li").await;
    let steps = ["建立记录", "处置", "领导小组确认", "向上报告", "结果"];
    assert_eq!(timeline.len(), steps.len(), "{timeline:#?}");
    for (line, step) in timeline.iter().zip(steps) {
        assert!(
            line.contains(&format!(" · {step} · leader")),
            "{step}: {line}"
        );
    }
    assert!(timeline[0].contains("10:00"), "{}", timeline[0]);
    assert!(
        timeline[1].contains("送发热门诊：由工作人员陪同前往"),
        "{}",
        timeline[1]
    );
    assert!(timeline[3].contains("系统直报区指挥部"), "{}", timeline[3]);
    assert!(timeline[4].contains("排除 2020-01-29"), "{}", timeline[4]);
    let times: Vec<&str> = timeline
        .iter()
        .map(|l| l.split(" · ").next().unwrap())
        .collect();
    assert_eq!(
        times,
        [
            "2020-01-29 10:00",
            "2020-01-29 10:03",
            "2020-01-29 10:05",
            "2020-01-29 10:09",
            "2020-01-29 10:10"
        ]
    );
    screenshot(&c, "case-closed-zh-CN.png").await;

    // The same through the API: masked, closed, every step.
    let stored = json(app.get(&format!("/api/v1/cases/{id}")).await, 200).await;
    assert_eq!(stored["status"], "closed");
    assert_eq!(stored["outcome"], "excluded");
    assert_eq!(stored["source"], "manual");
    assert_eq!(stored["name"], "张*");
    assert_eq!(stored["answers"]["details"], xss);
    assert_eq!(stored["alert"]["acknowledged_by"], "leader");
    let kinds: Vec<&str> = stored["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "opened",
            "action",
            "acknowledged",
            "upward_report",
            "outcome"
        ]
    );

    // The exposure list of the case: nobody else came to the hall.
    click(&c, "case-exposures").await;
    wait_text(&c, "h1", "同时段在场人员").await;
    assert!(c.find(Locator::Id("exposures-empty")).await.is_ok());
    assert!(attr(&c, "#exposure-minutes", "value").await.is_some());

    // The district's account signs in on a new session and finds the report.
    c.goto(&app.url(&format!("/cases/{id}"))).await.unwrap();
    click(&c, "logout").await;
    wait_text(&c, "h1", "登录").await;
    c.close().await.unwrap();
    let c = browser(&driver, 1280, 1000).await;
    sign_in(&c, &app, "upper").await;
    c.goto(&app.url(&format!("/cases/{id}"))).await.unwrap();
    wait_attr(&c, "#case-status", "data-status", "closed").await;
    assert!(text(&c, "#upward-list").await.contains(report));
    for form in ["action-form", "outcome-form", "upward-form"] {
        assert!(
            c.find(Locator::Id(form)).await.is_err(),
            "the district may not use #{form}"
        );
    }
    let upper = app.token_for("upper").await;
    let inbox = json(
        app.get_as("/api/v1/upward-reports", Some(&upper)).await,
        200,
    )
    .await;
    let inbox = inbox.as_array().unwrap();
    assert_eq!(inbox.len(), 1, "{inbox:#?}");
    assert_eq!(inbox[0]["case_id"], id.as_str());
    assert_eq!(inbox[0]["channel"], "system");
    assert_eq!(inbox[0]["content"], report);
    assert_eq!(inbox[0]["reported_by"], "leader");
    // The district's dashboard lists it among the urgent reports.
    c.goto(&app.url("/alerts")).await.unwrap();
    assert!(text(&c, "#urgent-table").await.contains(report));
    screenshot(&c, "case-upper-zh-CN.png").await;
    c.close().await.unwrap();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_draws_the_fever_rate_chart() {
    let Some(driver) = driver().await else { return };
    // Ten ordinary days: one abnormal temperature and two normal ones each.
    let clock = Arc::new(FixedClock::new(NOW - time::Duration::days(10)));
    let app = TestApp::with_clock(Arc::clone(&clock)).await;
    let reading =
        |t: f64| json!({"site": "JD", "subject_kind": "citizen", "temperature_c": t, "mask": true});
    let screen = async |t: f64| {
        json(
            app.post_json("/api/v1/screenings", &reading(t), None).await,
            201,
        )
        .await["decision"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for _ in 0..10 {
        assert_eq!(screen(38.0).await, "buffer");
        for _ in 0..2 {
            assert_eq!(screen(36.5).await, "admit");
        }
        clock.advance(time::Duration::days(1));
    }
    // Then six abnormal temperatures in one day.
    for _ in 0..6 {
        assert_eq!(screen(38.0).await, "buffer");
    }
    for _ in 0..2 {
        assert_eq!(screen(36.5).await, "admit");
    }
    app.tick_alerts().await;
    let leader = app.token_for("leader").await;
    // Ten days on, yesterday's daily reports are missing too: those reminders aside, the
    // one alert is the fever-rate breakout.
    let open: Vec<Value> = open_alerts(&app, &leader)
        .await
        .into_iter()
        .filter(|a| a["kind"] != "report")
        .collect();
    assert_eq!(open.len(), 1, "{open:#?}");
    assert_eq!(open[0]["kind"], "ears");

    let c = browser(&driver, 1280, 1100).await;
    sign_in(&c, &app, "leader").await;
    c.goto(&app.url("/alerts")).await.unwrap();
    wait_text(&c, "h1", "警报与发热率").await;

    // Thirty bars: nothing for nineteen days, one abnormal reading a day for ten, then
    // six today, the tallest bar, an alarm.
    let bars = c
        .execute(
            "return Array.from(document.querySelectorAll('svg#fever-chart rect'))
                 .map(r => [r.getAttribute('class'), Number(r.getAttribute('height'))]);",
            vec![],
        )
        .await
        .unwrap();
    let bars = bars.as_array().unwrap();
    assert_eq!(bars.len(), 30, "{bars:?}");
    assert_eq!(bars[29], json!(["bar-alarm", 120]), "{bars:?}");
    let heights: Vec<u64> = bars.iter().map(|b| b[1].as_u64().unwrap()).collect();
    let mut expected = vec![0; 19];
    expected.extend([20; 10]);
    expected.push(120);
    assert_eq!(heights, expected, "one of six is a sixth of the chart");
    assert!(bars[..19].iter().all(|b| b[0] == "bar"), "{bars:?}");
    assert_eq!(bars[28][0], "bar", "yesterday was ordinary: {bars:?}");

    // The same figures in the table, newest first: row i is bar 29 − i.
    let first = texts(&c, "#fever-table tbody tr:first-child td").await;
    assert_eq!(first[0], "2020-01-29", "{first:?}");
    assert_eq!(first[1], "8", "{first:?}");
    assert_eq!(first[2], "6", "{first:?}");
    assert!(first[6].contains("C1"), "{first:?}");
    let second = texts(&c, "#fever-table tbody tr:nth-child(2) td").await;
    assert_eq!(
        (second[0].as_str(), second[1].as_str(), second[2].as_str()),
        ("2020-01-28", "3", "1")
    );
    assert_eq!(second[6], "", "an ordinary day raises nothing");
    let rows = c
        .execute(
            "return Array.from(document.querySelectorAll('#fever-table tbody tr'))
                 .map(r => [r.className, r.cells[2].textContent.trim(), r.cells[6].textContent.trim()]);",
            vec![],
        )
        .await
        .unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 30, "{rows:?}");
    for (row, bar) in rows.iter().zip(bars.iter().rev()) {
        let alarm = row[0] == "alarm";
        assert_eq!(alarm, bar[0] == "bar-alarm", "{row} against {bar}");
        assert_eq!(alarm, row[2] != "", "{row}");
        let abnormal: u64 = row[1].as_str().unwrap().parse().unwrap();
        assert_eq!(
            abnormal * 20,
            bar[1].as_u64().unwrap(),
            "{row} against {bar}"
        );
    }

    // The open alerts list holds the fever-rate alert; so does the banner.
    let listed = text(&c, "#open-alerts").await;
    assert!(listed.contains("发热率预警"), "{listed}");
    assert!(listed.contains(JD_NAME), "{listed}");
    assert!(listed.contains("6"), "{listed}");
    assert!(c.find(Locator::Id("alerts-empty")).await.is_err());
    wait_contains(&c, "#alert-banner", "发热率预警").await;
    c.execute(
        "document.getElementById('fever-chart').scrollIntoView({block: 'center'});",
        vec![],
    )
    .await
    .unwrap();
    screenshot(&c, "fever-chart-zh-CN.png").await;
    c.close().await.unwrap();
    app.stop().await;
}

/// A page's live streams end when it is left: browsers keep left pages (the back-forward
/// cache) with their connections, and six of them stall the next request to the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_a_page_ends_its_live_streams() {
    let Some(driver) = driver().await else { return };
    let app = TestApp::sqlite().await;
    let c = browser(&driver, 1280, 900).await;
    sign_in(&c, &app, "leader").await;
    // Eight pages, each with the banner's stream and some with their own.
    for page in [
        "/occupancy",
        "/alerts",
        "/cases",
        "/staff-checks/missing",
        "/",
        "/occupancy",
        "/alerts",
        "/cases",
    ] {
        c.goto(&app.url(page)).await.unwrap();
        wait_banner_stream(&c).await;
    }
    // The last page's streams stay; every earlier one ends.
    let mut open = app.live_streams();
    for _ in 0..100 {
        if open <= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        open = app.live_streams();
    }
    assert!(
        open <= 2,
        "{open} live streams are still open after eight pages"
    );
    // And a sign-out goes through at once (it would wait for a free connection).
    click(&c, "logout").await;
    wait_text(&c, "h1", "登录").await;
    c.close().await.unwrap();
    app.stop().await;
}
