//! Daily reports through HTTP: figures equal to what was posted (citizens and staff,
//! re-checks, passages, a suspect), the roll-up of the district with completeness, the
//! submit / acknowledge / return workflow with versions and frozen figures, bad input,
//! late and missing reports flagged and reminded on the fake clock (banner and robot),
//! figures that outlive the retention purge, the exports read back (XLSX with a
//! spreadsheet reader, CSV), the archive and the trends; and the core flow on PostgreSQL.

use crate::cases::{Robot, add_robot, leader_of};
use crate::helpers::{NOW, TestApp, json};
use calamine::Reader;
use fangkong_domain::clock::FixedClock;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use time::Duration;

const DAY: &str = "2020-01-29";

/// Posts a door reading as the administrator; the answer.
async fn screen(app: &TestApp, body: Value) -> Value {
    json(app.post_json("/api/v1/screenings", &body, None).await, 201).await
}

fn citizen(site: &str, t: f64, mask: bool) -> Value {
    json!({"site": site, "subject_kind": "citizen", "temperature_c": t, "mask": mask})
}

async fn daily(app: &TestApp, query: &str) -> Value {
    json(
        app.get(&format!("/api/v1/reports/daily?{query}")).await,
        200,
    )
    .await
}

async fn submit(app: &TestApp, token: &str, site: &str, remarks: &str) -> reqwest::Response {
    app.post_as(
        &format!("/api/v1/reports/daily/{site}/{DAY}/submit"),
        &json!({"remarks": remarks}),
        Some(token),
    )
    .await
}

async fn decide(
    app: &TestApp,
    token: &str,
    site: &str,
    what: &str,
    comment: &str,
) -> reqwest::Response {
    app.post_as(
        &format!("/api/v1/reports/daily/{site}/{DAY}/{what}"),
        &json!({"comment": comment}),
        Some(token),
    )
    .await
}

async fn code(res: reqwest::Response, status: u16) -> String {
    json(res, status).await["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The staff of JD with their person ids (window clerks first).
async fn staff(app: &TestApp) -> Vec<String> {
    json(app.get("/api/v1/staff-checks?site=JD").await, 200)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["person"].as_str().unwrap().to_owned())
        .collect()
}

/// A day at JD posted through the API; what the report must say, counted from the
/// answers (decisions and re-check outcomes).
async fn busy_day(app: &TestApp, clock: &FixedClock) -> HashMap<&'static str, i64> {
    let mut want: HashMap<&'static str, i64> = HashMap::new();
    let mut decisions = Vec::new();
    let mut post = async |body: Value| {
        let r = screen(app, body).await;
        decisions.push(r["decision"].as_str().unwrap().to_owned());
        r["id"].as_str().unwrap().to_owned()
    };
    for _ in 0..4 {
        post(citizen("JD", 36.5, true)).await;
    }
    for _ in 0..2 {
        post(citizen("JD", 36.5, false)).await;
    }
    post(
        json!({"site": "JD", "subject_kind": "bureau_staff", "temperature_c": 36.4, "mask": true}),
    )
    .await;
    post(json!({"site": "JD", "subject_kind": "other", "temperature_c": 36.4, "mask": true})).await;
    // Two clerks check before their shift, one of them twice: two people checked.
    let people = staff(app).await;
    for person in [&people[0], &people[0], &people[1]] {
        post(json!({"site": "JD", "subject_kind": "window_staff", "temperature_c": 36.3, "mask": true,
            "phase": "pre_shift", "person": person}))
        .await;
    }
    let mut hot_ids = Vec::new();
    for t in [38.2, 38.4, 38.1] {
        hot_ids.push(post(citizen("JD", t, true)).await);
    }
    // One citizen at the town centre: not JD's own figure, but in the roll-up.
    post(citizen("JD-QX", 36.6, true)).await;
    clock.advance(Duration::minutes(6));
    let mut outcomes = Vec::new();
    for (id, body) in hot_ids.iter().zip([
        json!({"temperature_c": 36.6}),
        json!({"temperature_c": 38.4, "outcome": "suspected"}),
        json!({"temperature_c": 38.0}),
    ]) {
        let r = json(
            app.post_json(&format!("/api/v1/screenings/{id}/rechecks"), &body, None)
                .await,
            200,
        )
        .await;
        outcomes.push(r["outcome"].as_str().unwrap().to_owned());
    }
    // Entries are counted by the door readings; the counter records exits.
    for d in ["out", "out"] {
        json(
            app.post_json(
                "/api/v1/door-events",
                &json!({"site": "JD", "direction": d}),
                None,
            )
            .await,
            201,
        )
        .await;
    }
    let count = |v: &[String], what: &str| v.iter().filter(|x| *x == what).count() as i64;
    // The last door record was at the town centre.
    let jd = &decisions[..decisions.len() - 1];
    want.insert("screened", jd.len() as i64);
    want.insert("screened_citizens", 9);
    want.insert("screened_window_staff", 3);
    want.insert("screened_bureau_staff", 1);
    want.insert("screened_other", 1);
    want.insert("admitted", count(jd, "admit"));
    want.insert("refused_no_mask", count(jd, "refuse_no_mask"));
    want.insert("sent_to_buffer", count(jd, "buffer"));
    want.insert("no_mask", 2);
    want.insert("rechecked", 3);
    want.insert("cleared", count(&outcomes, "cleared"));
    want.insert("suspected", count(&outcomes, "suspected"));
    want.insert("cases_open", count(&outcomes, "suspected"));
    want.insert("staff_pre_shift", 2);
    want.insert("staff_post_shift", 0);
    want.insert("staff_checks_done", 2);
    want.insert("staff_expected", people.len() as i64);
    // 10:06 in Beijing: the hall is open, so only pre-shift checks can be missing.
    want.insert("staff_checks_missing", people.len() as i64 - 2);
    want.insert("door_in", 0);
    want.insert("door_out", 2);
    want.insert("alerts_raised", 1);
    assert_eq!(want["sent_to_buffer"], 3);
    assert_eq!(
        outcomes.iter().filter(|o| *o == "suspected").count(),
        1,
        "{outcomes:?}"
    );
    want
}

fn check(report: &Value, want: &HashMap<&'static str, i64>) {
    for (field, n) in want {
        assert_eq!(report[*field], *n, "{field} in {report:#}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_holds_what_was_posted_and_the_district_rolls_it_up() {
    let clock = Arc::new(FixedClock::new(NOW));
    let app = TestApp::with_clock(clock.clone()).await;
    let want = busy_day(&app, &clock).await;
    let r = daily(&app, &format!("site=JD&date={DAY}")).await;
    check(&r, &want);
    assert_eq!(r["site"], "JD");
    assert_eq!(r["date"], DAY);
    assert_eq!(r["status"], "draft");
    assert_eq!(r["timeliness"], "due");
    assert_eq!(r["deadline"], "2020-01-29T16:00:00+08:00");
    let occupancy = json(app.get("/api/v1/sites/JD/occupancy").await, 200).await;
    assert_eq!(r["occupancy_peak"], occupancy["peak"]);
    assert!(r["occupancy_peak_at"].is_string());
    // The later area's section: the suspect's case, still without an outcome.
    let cases = r["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "cases")
        .expect("the cases section");
    assert_eq!(cases["rows"][0], json!({"key": "open", "n": 1}));
    // Today by default, own site by default.
    assert_eq!(daily(&app, "").await["screened"], r["screened"]);

    // The district's roll-up: every site once, with completeness.
    let all = daily(&app, &format!("site=JD&date={DAY}&rollup=true")).await;
    assert_eq!(all["rollup"], true);
    assert_eq!(all["screened"], want["screened"] + 1);
    assert_eq!(all["admitted"], want["admitted"] + 1);
    let sites = all["sites"].as_array().unwrap();
    assert_eq!(sites[0]["site"], "JD");
    let qx = sites.iter().find(|s| s["site"] == "JD-QX").unwrap();
    assert_eq!(qx["screened"], 1);
    assert_eq!(qx["status"], "draft");
    let sum: i64 = sites.iter().map(|s| s["screened"].as_i64().unwrap()).sum();
    assert_eq!(all["screened"], sum, "no double counting");
    let c = &all["completeness"];
    assert_eq!(c["expected"], sites.len() as i64 - 1);
    assert_eq!(
        (c["reported"].as_i64(), c["missing"].as_i64()),
        (Some(0), Some(0))
    );
    // A centre's own report is the centre alone.
    assert_eq!(
        daily(&app, &format!("site=JD-QX&date={DAY}")).await["screened"],
        1
    );

    // Bad input: a day to come, a bad date, a site outside the asker's subtree.
    let res = app
        .get("/api/v1/reports/daily?site=JD&date=2020-01-30")
        .await;
    let body = json(res, 422).await;
    assert_eq!(body["errors"][0]["code"], "reports.date.future");
    assert_eq!(
        app.get("/api/v1/reports/daily?date=29/01/2020")
            .await
            .status(),
        422
    );
    assert_eq!(
        app.get("/api/v1/reports/daily?site=NOPE").await.status(),
        404
    );
    let qx_leader = leader_of(&app, "JD-QX", "qx-leader").await;
    let res = app
        .get_as("/api/v1/reports/daily?site=JD", Some(&qx_leader))
        .await;
    assert_eq!(
        res.status(),
        404,
        "the district is outside a centre's subtree"
    );
    // Volunteers read no reports.
    let volunteer = app.token_for("volunteer").await;
    assert_eq!(
        app.get_as("/api/v1/reports/daily", Some(&volunteer))
            .await
            .status(),
        403
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_are_submitted_acknowledged_returned_and_corrected_as_versions() {
    let clock = Arc::new(FixedClock::new(NOW));
    let app = TestApp::with_clock(clock.clone()).await;
    screen(&app, citizen("JD-QX", 36.5, true)).await;
    screen(&app, citizen("JD", 36.5, true)).await;
    let qx = leader_of(&app, "JD-QX", "qx-leader").await;
    let leader = app.token_for("leader").await;

    // Acknowledging what nobody submitted changes nothing.
    assert_eq!(
        code(decide(&app, &leader, "JD-QX", "acknowledge", "").await, 409).await,
        "reports.not_submitted"
    );
    // The centre submits; the figures are frozen in version 1.
    let key = "qx-submit-1";
    let first = app
        .anon
        .post(app.url(&format!("/api/v1/reports/daily/JD-QX/{DAY}/submit")))
        .bearer_auth(&qx)
        .header("idempotency-key", key)
        .json(&json!({"remarks": "无异常"}))
        .send()
        .await
        .unwrap();
    let v1 = json(first, 201).await;
    assert_eq!(
        (v1["status"].as_str(), v1["version"].as_u64()),
        (Some("submitted"), Some(1))
    );
    assert_eq!(v1["timeliness"], "on_time");
    assert_eq!(v1["screened"], 1);
    // A replay gets the first answer and makes no second version.
    let replay = app
        .anon
        .post(app.url(&format!("/api/v1/reports/daily/JD-QX/{DAY}/submit")))
        .bearer_auth(&qx)
        .header("idempotency-key", key)
        .json(&json!({"remarks": "无异常"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json(replay, 201).await["version"], 1);
    // Submitting again unchanged is refused.
    assert_eq!(
        code(submit(&app, &qx, "JD-QX", "无异常").await, 409).await,
        "reports.unchanged"
    );
    // A centre does not acknowledge its own report; the upper account only reads.
    assert_eq!(
        code(decide(&app, &qx, "JD-QX", "acknowledge", "").await, 403).await,
        "reports.not_a_child"
    );
    let upper = app.token_for("upper").await;
    assert_eq!(submit(&app, &upper, "JD", "").await.status(), 403);
    // The district reviews the centre's report, so it may not write it too.
    assert_eq!(
        code(submit(&app, &leader, "JD-QX", "代报").await, 403).await,
        "reports.not_own_site"
    );
    assert_eq!(
        decide(&app, &upper, "JD-QX", "acknowledge", "")
            .await
            .status(),
        403
    );

    // The district returns it (a comment is required), the centre answers with version 2.
    let res = decide(&app, &leader, "JD-QX", "return", " ").await;
    assert_eq!(
        json(res, 422).await["errors"][0]["code"],
        "reports.text.required"
    );
    let returned = json(
        decide(&app, &leader, "JD-QX", "return", "请补充缓冲区情况").await,
        200,
    )
    .await;
    assert_eq!(returned["status"], "returned");
    assert_eq!(returned["versions"][0]["comment"], "请补充缓冲区情况");
    // The centre learns at once: its leaders' banner holds the notice.
    let notices = |list: Value| {
        list.as_array()
            .unwrap()
            .iter()
            .filter(|a| a["kind"] == "report" && a["returned"] == 1)
            .count()
    };
    let open = json(app.get_as("/api/v1/alerts", Some(&qx)).await, 200).await;
    assert_eq!(notices(open), 1);
    assert_eq!(
        code(decide(&app, &leader, "JD-QX", "acknowledge", "").await, 409).await,
        "reports.already_decided"
    );
    let v2 = json(submit(&app, &qx, "JD-QX", "无异常；缓冲区无人").await, 201).await;
    assert_eq!(v2["version"], 2);
    let open = json(app.get_as("/api/v1/alerts", Some(&qx)).await, 200).await;
    assert_eq!(notices(open), 0, "the new version settles the notice");
    // A reviewer who looked at version 1 cannot acknowledge version 2 unseen.
    let stale = app
        .post_as(
            &format!("/api/v1/reports/daily/JD-QX/{DAY}/acknowledge"),
            &json!({"comment": "", "version": 1}),
            Some(&leader),
        )
        .await;
    assert_eq!(code(stale, 409).await, "reports.version_changed");
    // One Idempotency-Key is one report: reused for another site it is refused, never
    // answered with the first report's reply.
    let keyed = |site: &'static str| {
        app.anon
            .post(app.url(&format!("/api/v1/reports/daily/{site}/{DAY}/acknowledge")))
            .bearer_auth(&leader)
            .header("idempotency-key", "ack-once")
            .json(&json!({"version": 2}))
            .send()
    };
    assert_eq!(json(keyed("JD-QX").await.unwrap(), 200).await["version"], 2);
    assert_eq!(
        code(keyed("JD-JJ").await.unwrap(), 422).await,
        "idempotency.key_reused"
    );
    assert_eq!(
        v2["timeliness"], "on_time",
        "timeliness counts the first submission"
    );
    let acked = daily(&app, &format!("site=JD-QX&date={DAY}")).await;
    assert_eq!(acked["status"], "acknowledged");
    assert_eq!(
        code(decide(&app, &leader, "JD-QX", "acknowledge", "").await, 409).await,
        "reports.already_decided"
    );

    // A record arriving later leaves the submitted figures alone and flags the change;
    // the correction is version 3.
    screen(&app, citizen("JD-QX", 36.7, true)).await;
    let now = daily(&app, &format!("site=JD-QX&date={DAY}")).await;
    assert_eq!(now["screened"], 1, "submitted figures are frozen");
    assert_eq!(now["changed_since_submitted"], true);
    let v3 = json(submit(&app, &qx, "JD-QX", "无异常；缓冲区无人").await, 201).await;
    assert_eq!(
        (v3["version"].as_u64(), v3["screened"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(v3["changed_since_submitted"], false);
    let versions = v3["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 3);
    assert_eq!(versions[0]["status"], "returned");
    assert_eq!(versions[1]["status"], "acknowledged");
    assert_eq!(versions[2]["status"], "submitted");
    assert_eq!(versions[0]["figures"]["screened"], 1);

    // The district's roll-up counts the centre's submitted figures and its own live ones;
    // it submits the roll-up.
    let all = daily(&app, &format!("site=JD&date={DAY}&rollup=true")).await;
    assert_eq!(all["screened"], 3);
    assert_eq!(all["completeness"]["reported"], 1);
    assert_eq!(all["completeness"]["on_time"], 1);
    let jd = json(submit(&app, &leader, "JD", "全区正常").await, 201).await;
    assert_eq!(jd["status"], "submitted");
    assert_eq!(jd["screened"], 1, "the district's own figures");
    let frozen = &jd["versions"][0]["rollup"];
    assert_eq!(
        frozen["figures"]["screened"], 3,
        "the roll-up as submitted: {frozen:#}"
    );
    assert_eq!(frozen["completeness"]["reported"], 1);
    // The district command office reads every site's report and the roll-up.
    let seen = json(
        app.get_as(
            &format!("/api/v1/reports/daily?site=JD-QX&date={DAY}"),
            Some(&upper),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(seen["version"], 3);
    let log = json(app.get("/api/v1/audit?action=report.submit").await, 200).await;
    assert_eq!(
        log.as_array().unwrap().len(),
        4,
        "each version is audited once"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_and_missing_reports_are_flagged_and_reminded() {
    let clock = Arc::new(FixedClock::new(NOW));
    let app = TestApp::with_clock(clock.clone()).await;
    let robot = Robot::start().await;
    add_robot(&app, "JD-QX", &robot.url).await;
    let qx = leader_of(&app, "JD-QX", "qx-leader").await;
    let leader = app.token_for("leader").await;
    // 10:00: nothing is due yet.
    assert_eq!(app.tick_alerts().await.reminders, 0);
    let r = daily(&app, &format!("site=JD-QX&date={DAY}")).await;
    assert_eq!(r["timeliness"], "due");
    // 16:01: every site without a report is missing and reminded once.
    clock.advance(Duration::hours(6) + Duration::minutes(1));
    let tick = app.tick_alerts().await;
    let all = daily(&app, &format!("site=JD&date={DAY}&rollup=true")).await;
    let sites = all["sites"].as_array().unwrap().len();
    assert_eq!(tick.reminders, sites);
    assert_eq!(
        app.tick_alerts().await.reminders,
        0,
        "one reminder per site and day"
    );
    assert_eq!(all["completeness"]["missing"], sites as i64 - 1);
    assert!(
        all["sites"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["timeliness"] == "missing")
    );
    // The leaders' banner shows the centre's reminder; its robot got the message.
    let open = json(app.get_as("/api/v1/alerts", Some(&leader)).await, 200).await;
    let reminder = open
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "report" && a["site"] == "JD-QX")
        .unwrap_or_else(|| panic!("no reminder for JD-QX in {open:#}"))
        .clone();
    assert_eq!(reminder["day"], DAY);
    let mut text = String::new();
    for _ in 0..50 {
        app.tick_alerts().await;
        if let Some(m) = robot.received().first() {
            text = m["text"]["content"].as_str().unwrap().to_owned();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        text.contains("排查日报未报送") && text.contains("曲溪街道公共服务中心"),
        "{text}"
    );
    assert!(text.contains(DAY), "{text}");
    // Reminders do not escalate: an hour later the centre's reminder is still level 0.
    clock.advance(Duration::hours(1));
    assert_eq!(app.tick_alerts().await.escalated, 0);
    // Submitting late settles the reminder and is flagged late.
    let late = json(submit(&app, &qx, "JD-QX", "迟报：网络中断").await, 201).await;
    assert_eq!(late["timeliness"], "late");
    let open = json(app.get_as("/api/v1/alerts", Some(&leader)).await, 200).await;
    assert!(
        !open
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "report" && a["site"] == "JD-QX"),
        "the centre's reminder is settled: {open:#}"
    );
    let all = daily(&app, &format!("site=JD&date={DAY}&rollup=true")).await;
    assert_eq!(all["completeness"]["late"], 1);
    assert_eq!(all["completeness"]["reported"], 1);
    // The dashboard's late list names it.
    let page = app.get_as("/panels/dashboard?site=JD", Some(&leader)).await;
    let status = page.status();
    let html = page.text().await.unwrap();
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("迟报"), "{html}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_passed_while_no_server_ran_is_still_reminded() {
    let clock = Arc::new(FixedClock::new(NOW));
    let app = TestApp::with_clock(clock.clone()).await;
    let qx = leader_of(&app, "JD-QX", "qx-leader").await;
    json(submit(&app, &qx, "JD-QX", "").await, 201).await;
    // The worker first runs the next morning, before that day's deadline.
    clock.advance(Duration::hours(23));
    let tick = app.tick_alerts().await;
    let all = daily(&app, &format!("site=JD&date={DAY}&rollup=true")).await;
    let sites = all["sites"].as_array().unwrap().len();
    assert_eq!(
        tick.reminders,
        sites - 1,
        "every site but the one that reported"
    );
    let leader = app.token_for("leader").await;
    let open = json(app.get_as("/api/v1/alerts", Some(&leader)).await, 200).await;
    let reminders: Vec<&Value> = open
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "report")
        .collect();
    assert_eq!(reminders.len(), sites - 1);
    assert!(
        reminders
            .iter()
            .all(|a| a["day"] == DAY && a["site"] != "JD-QX")
    );
    assert_eq!(app.tick_alerts().await.reminders, 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figures_outlive_the_retention_purge() {
    let clock = Arc::new(FixedClock::new(NOW));
    let app = TestApp::with_clock(clock.clone()).await;
    let want = busy_day(&app, &clock).await;
    let before = daily(&app, &format!("site=JD&date={DAY}")).await;
    check(&before, &want);
    clock.advance(Duration::days(29));
    let purged = json(
        app.post_json("/api/v1/screenings/purge", &json!({}), None)
            .await,
        200,
    )
    .await;
    assert!(purged["purged"].as_u64().unwrap() >= 10, "{purged}");
    let after = daily(&app, &format!("site=JD&date={DAY}")).await;
    let mut same = want.clone();
    same.remove("staff_checks_missing");
    check(&after, &same);
    for field in ["occupancy_peak", "occupancy_peak_at", "sections"] {
        assert_eq!(after[field], before[field], "{field}");
    }
    // A past day's hall has closed: every post-shift check is missing now.
    assert_eq!(
        after["staff_checks_missing"],
        2 * want["staff_expected"] - 2,
        "{after:#}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_archive_and_trends() {
    let clock = Arc::new(FixedClock::new(NOW));
    let app = TestApp::with_clock(clock.clone()).await;
    let want = busy_day(&app, &clock).await;
    let leader = app.token_for("leader").await;
    json(
        submit(&app, &leader, "JD", "发热1人转缓冲区，复检后1人疑似").await,
        201,
    )
    .await;

    // XLSX read back with a spreadsheet reader: the form's title, the figures, remarks.
    let res = app
        .get_as(&format!("/reports/JD/{DAY}/xlsx"), Some(&leader))
        .await;
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let cell = |r: usize, c: usize| sheet.get((r, c)).map(|d| d.to_string()).unwrap_or_default();
    assert_eq!(cell(0, 0), "疫情防控排查日报表");
    assert!(cell(1, 0).contains("揭东区政务服务中心") && cell(1, 0).contains(DAY));
    let find = |label: &str| {
        (0..sheet.height())
            .find(|r| cell(*r, 1) == label)
            .unwrap_or_else(|| panic!("no row {label}"))
    };
    assert_eq!(cell(find("排查人数"), 2), want["screened"].to_string());
    assert_eq!(
        cell(find("体温异常转缓冲区"), 2),
        want["sent_to_buffer"].to_string()
    );
    // The district has sites below: a roll-up column that adds the town centre.
    assert_eq!(
        cell(find("排查人数"), 3),
        (want["screened"] + 1).to_string()
    );
    let remarks = (0..sheet.height()).find(|r| cell(*r, 0) == "备注").unwrap();
    assert!(cell(remarks, 1).contains("疑似"));
    assert!((0..sheet.height()).any(|r| cell(r, 0).contains("填报人")));

    // CSV: a line per site and a total.
    let csv = app
        .get_as(&format!("/reports/JD/{DAY}/csv"), Some(&leader))
        .await;
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.unwrap();
    assert!(text.starts_with('\u{feff}'));
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("排查人数"));
    assert!(lines[1].contains(",JD,") && lines[1].contains("已报送"));
    assert!(lines.last().unwrap().contains("合计"));
    let log = json(app.get("/api/v1/audit?action=report.export").await, 200).await;
    assert_eq!(
        log.as_array().unwrap().len(),
        2,
        "each export is audited: {log:#}"
    );
    // English is the second locale: the page and its figures' labels.
    let en = app.get_in(&format!("/reports/JD/{DAY}"), "en").await;
    assert_eq!(en.status(), 200);
    let en = en.text().await.unwrap();
    assert!(en.contains("Daily screening report") && en.contains("Sent to the buffer zone"));
    assert!(
        en.contains("Suspected cases: where they stand"),
        "the cases section in English"
    );
    let dash = app.get_in("/dashboard", "en").await.text().await.unwrap();
    assert!(dash.contains("Leadership dashboard") && dash.contains("Last 30 days"));
    // The printable page carries the charts.
    let print = app
        .get_as(&format!("/reports/JD/{DAY}/print"), Some(&leader))
        .await;
    assert_eq!(print.status(), 200);
    let html = print.text().await.unwrap();
    assert!(html.contains("id=\"week-chart\"") && html.contains("id=\"sites-chart\""));
    // The archive finds it by site and date, and not outside the dates.
    let archive = app
        .get_as(
            "/reports/archive?site=JD&from=2020-01-01&until=2020-01-29",
            Some(&leader),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(archive.contains(&format!("/reports/JD/{DAY}")));
    let none = app
        .get_as(
            "/reports/archive?site=JD&from=2020-01-01&until=2020-01-28",
            Some(&leader),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(none.contains("archive-empty"));
    // Trends: every day present, today's figures last.
    let days = json(app.get("/api/v1/reports/trends?site=JD&days=7").await, 200).await;
    let days = days.as_array().unwrap();
    assert_eq!(days.len(), 7);
    assert_eq!(days[0]["date"], "2020-01-23");
    assert_eq!(days[6]["screened"], want["screened"] + 1);
    assert_eq!(days[6]["suspected"], 1);
    assert_eq!(app.get("/api/v1/reports/trends?days=0").await.status(), 422);
    // The OpenAPI document describes the report's figures.
    let doc = json(app.get("/api/openapi.json").await, 200).await;
    assert!(doc["paths"]["/api/v1/reports/daily"]["get"].is_object());
    let schema = doc["components"]["schemas"]["Figures"]["properties"].clone();
    for f in [
        "screened",
        "admitted",
        "refused_no_mask",
        "sent_to_buffer",
        "cleared",
        "suspected",
        "staff_checks_done",
        "staff_checks_missing",
        "occupancy_peak",
    ] {
        assert!(schema[f].is_object(), "{f} undocumented");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_report_flow_on_postgres() {
    let Some(app) = TestApp::postgres("reports_flow").await else {
        return;
    };
    screen(&app, citizen("JD-QX", 36.5, true)).await;
    screen(&app, citizen("JD-QX", 38.5, true)).await;
    screen(&app, citizen("JD", 36.5, false)).await;
    let qx = leader_of(&app, "JD-QX", "qx-leader").await;
    let leader = app.token_for("leader").await;
    let v1 = json(submit(&app, &qx, "JD-QX", "").await, 201).await;
    assert_eq!(
        (v1["screened"].as_u64(), v1["sent_to_buffer"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        code(submit(&app, &qx, "JD-QX", "").await, 409).await,
        "reports.unchanged"
    );
    json(
        decide(&app, &leader, "JD-QX", "acknowledge", "收到").await,
        200,
    )
    .await;
    let all = daily(&app, "site=JD&rollup=true").await;
    assert_eq!(all["screened"], 3);
    assert_eq!(all["refused_no_mask"], 1);
    assert_eq!(all["completeness"]["reported"], 1);
    // The trend and the dashboard read the same counters summed over the subtree.
    let days = json(app.get("/api/v1/reports/trends?site=JD&days=7").await, 200).await;
    assert_eq!(days[6]["screened"], 3);
    assert_eq!(days[6]["sent_to_buffer"], 1);
    let page = app.get_as("/dashboard", Some(&leader)).await;
    assert_eq!(page.status(), 200);
    let archive = app.get_as("/reports/archive?site=JD", Some(&leader)).await;
    assert!(archive.text().await.unwrap().contains("/reports/JD-QX/"));
    app.stop().await;
}
