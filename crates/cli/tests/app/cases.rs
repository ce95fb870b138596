//! Suspected cases through HTTP: a suspect from the buffer zone alerts the leaders and the
//! group robot (a WeCom receiver on a local port), escalation on the fake clock, retries
//! of an unreachable robot, bad input and other subtrees, upward reports and response
//! times, the exposure list of a seeded day, the fever-rate series (EARS), and the
//! suspect's flow on PostgreSQL.

use crate::helpers::{NOW, TestApp, json};
use fangkong_domain::clock::{Clock, FixedClock};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration as Wait;
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// The suspect's name and phone: neither may reach a robot.
const NAME: &str = "张三";
const PHONE: &str = "13800138000";
/// The demo district hall.
const JD_NAME: &str = "揭东区政务服务中心";

fn reading(t: f64) -> Value {
    json!({"site": "JD", "subject_kind": "citizen", "temperature_c": t, "mask": true})
}

async fn screen(app: &TestApp, body: &Value) -> Value {
    json(app.post_json("/api/v1/screenings", body, None).await, 201).await
}

/// Problem codes of the fields a 422 names.
async fn field_codes(res: reqwest::Response) -> Vec<String> {
    let body = json(res, 422).await;
    body["errors"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|e| e["code"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A citizen's self-registration at JD; its four-digit number.
async fn register(app: &TestApp, name: &str, phone: &str) -> String {
    let body = json!({"site": "JD", "name": name, "phone": phone});
    json(app.post_as("/api/v1/registrations", &body, None).await, 201).await["number"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A registered citizen (张三) with a fever sent to the buffer zone; `at` for a reading
/// sent late. The door record's id.
async fn to_buffer(app: &TestApp, at: Option<&str>) -> String {
    let mut body = reading(38.2);
    body["registration"] = json!(register(app, NAME, PHONE).await);
    if let Some(at) = at {
        body["at"] = json!(at);
    }
    let r = screen(app, &body).await;
    assert_eq!(r["decision"], "buffer");
    r["id"].as_str().unwrap().to_owned()
}

/// The re-check after the rest: fever and cough and a trip to Wuhan, so suspected. The
/// case's id.
async fn recheck_suspected(app: &TestApp, screening: &str) -> String {
    let body = json!({
        "temperature_c": 38.0,
        "symptoms": ["fever", "cough"],
        "answers": {"travel": [{"place": "武汉", "from": "2020-01-18", "to": "2020-01-22"}]}
    });
    let path = format!("/api/v1/screenings/{screening}/rechecks");
    let r = json(app.post_json(&path, &body, None).await, 200).await;
    assert_eq!(r["outcome"], "suspected");
    r["case_id"].as_str().unwrap().to_owned()
}

/// A case opened by hand: a window clerk reporting fever and cough after a trip.
fn hand_case(site: &str) -> Value {
    json!({
        "site": site,
        "subject_kind": "window_staff",
        "name": NAME,
        "phone": PHONE,
        "symptoms": ["fever", "cough"],
        "onset": "2020-01-28",
        "temperatures": [{"temperature_c": 38.2}],
        "answers": {
            "travel": [{"place": "武汉", "from": "2020-01-18", "to": "2020-01-22"}],
            "epidemic_area_contact": false,
            "animal_contact": false,
            "case_contact": false,
            "details": ""
        }
    })
}

async fn open_case(app: &TestApp, body: &Value) -> Value {
    json(app.post_json("/api/v1/cases", body, None).await, 201).await
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn case_of(app: &TestApp, id: &str) -> Value {
    json(app.get(&format!("/api/v1/cases/{id}")).await, 200).await
}

/// The kinds of a case's timeline entries, in order.
fn kinds(case: &Value) -> Vec<String> {
    case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// The details of a case's `escalated` timeline entries, in order.
fn escalations(case: &Value) -> Vec<String> {
    case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "escalated")
        .map(|e| e["detail"].as_str().unwrap().to_owned())
        .collect()
}

async fn ledger(app: &TestApp) -> Vec<Value> {
    json(app.get("/api/v1/cases").await, 200)
        .await
        .as_array()
        .unwrap()
        .clone()
}

/// Alerts an account sees: open ones, or with `all` the acknowledged ones too.
async fn alerts(app: &TestApp, token: &str, all: bool) -> Vec<Value> {
    let path = if all {
        "/api/v1/alerts?all=true"
    } else {
        "/api/v1/alerts"
    };
    json(app.get_as(path, Some(token)).await, 200)
        .await
        .as_array()
        .unwrap()
        .clone()
}

async fn acknowledge(app: &TestApp, case: &str, token: &str) -> reqwest::Response {
    app.post_as(
        &format!("/api/v1/cases/{case}/acknowledge"),
        &json!({}),
        Some(token),
    )
    .await
}

/// The robots' delivery log, newest first.
async fn deliveries(app: &TestApp) -> Vec<Value> {
    json(app.get("/api/v1/webhooks/deliveries").await, 200)
        .await
        .as_array()
        .unwrap()
        .clone()
}

fn time_of(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(v.as_str().unwrap(), &Rfc3339).unwrap()
}

/// Whether eleven digits follow each other anywhere (a mainland mobile number).
fn has_eleven_digits(text: &str) -> bool {
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        if run >= 11 {
            return true;
        }
    }
    false
}

/// A WeCom group robot on a local port: keeps every JSON body posted to `/hook` and
/// answers as WeCom does.
pub(crate) struct Robot {
    pub(crate) url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Robot {
    pub(crate) async fn start() -> Robot {
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let kept = bodies.clone();
        let router = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
                let kept = kept.clone();
                async move {
                    kept.lock().unwrap().push(body);
                    axum::Json(json!({"errcode": 0, "errmsg": "ok"}))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Robot { url, bodies, task }
    }

    pub(crate) fn received(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }
}

impl Drop for Robot {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Adds a WeCom robot to a site (as the administrator).
pub(crate) async fn add_robot(app: &TestApp, site: &str, url: &str) {
    let body = json!({"format": "wecom", "label": "防控领导小组群", "url": url});
    let hook = json(
        app.post_json(&format!("/api/v1/sites/{site}/webhooks"), &body, None)
            .await,
        201,
    )
    .await;
    assert_eq!(hook["active"], true);
    assert!(
        !hook["url"].as_str().unwrap().contains("/hook"),
        "the address is shown up to its host only: {hook}"
    );
}

/// Runs the alert worker until the robot holds `n` messages (bounded), gives a stray
/// extra message the chance to show, and returns exactly `n`.
async fn robot_messages(app: &TestApp, robot: &Robot, n: usize) -> Vec<Value> {
    for _ in 0..100 {
        if robot.received().len() >= n {
            break;
        }
        app.tick_alerts().await;
        if robot.received().len() >= n {
            break;
        }
        tokio::time::sleep(Wait::from_millis(50)).await;
    }
    app.tick_alerts().await;
    tokio::time::sleep(Wait::from_millis(100)).await;
    let got = robot.received();
    assert_eq!(got.len(), n, "{got:#?}");
    got
}

fn content(message: &Value) -> String {
    assert_eq!(message["msgtype"], "text", "{message}");
    message["text"]["content"].as_str().unwrap().to_owned()
}

/// Runs the alert worker until the only robot message has been tried `n` times (bounded).
async fn tried(app: &TestApp, n: u64) -> Value {
    for _ in 0..100 {
        app.tick_alerts().await;
        let log = deliveries(app).await;
        assert_eq!(log.len(), 1, "{log:#?}");
        if log[0]["attempts"].as_u64().unwrap() >= n {
            assert_eq!(log[0]["attempts"], n, "{log:#?}");
            return log[0].clone();
        }
        tokio::time::sleep(Wait::from_millis(50)).await;
    }
    panic!("the message was never tried {n} times");
}

/// A leader account of `site` with its own password; its token.
pub(crate) async fn leader_of(app: &TestApp, site: &str, username: &str) -> String {
    let user = json!({"username": username, "role": "leader", "site": site, "password": "Quxi-centre-2020"});
    json(app.post_json("/api/v1/users", &user, None).await, 201).await;
    let login = json!({"username": username, "password": "Quxi-centre-2020", "new_password": "Quxi-leader-own-2020"});
    json(app.post_as("/api/v1/auth/token", &login, None).await, 201).await["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Test 1 and 8: a registered citizen with fever becomes a suspect in the buffer zone; the
/// leader sees the alert, the robot gets one message without personal data, and the
/// leader acknowledges. With a clock the rest passes on it; without, the reading is sent
/// late. Returns the robot's message.
async fn suspect_flow(app: &TestApp, clock: Option<&FixedClock>) -> Value {
    let robot = Robot::start().await;
    add_robot(app, "JD", &robot.url).await;
    let screening = match clock {
        Some(clock) => {
            let id = to_buffer(app, None).await;
            clock.advance(Duration::minutes(5));
            id
        }
        None => to_buffer(app, Some("2020-01-29T09:54:00+08:00")).await,
    };
    let case = recheck_suspected(app, &screening).await;
    let opened_at = match clock {
        Some(clock) => clock.now(),
        None => NOW,
    };

    // The leader's list holds the alert.
    let leader = app.token_for("leader").await;
    let open = alerts(app, &leader, false).await;
    let alert = open
        .iter()
        .find(|a| a["case_id"] == case.as_str())
        .unwrap_or_else(|| panic!("the leader sees the alert: {open:#?}"));
    assert_eq!(alert["kind"], "case");
    assert_eq!(alert["site"], "JD");
    assert_eq!(alert["level"], "raised");
    assert_eq!(alert["symptoms"], json!(["fever", "cough"]));
    assert_eq!(alert["highest_c"], 38.2);
    assert_eq!(alert["subject_kind"], "citizen");
    assert!(alert["acknowledged_at"].is_null());

    // The robot gets one message: site, Beijing time, symptoms; nobody's name or number.
    let messages = robot_messages(app, &robot, 1).await;
    let message = messages[0].clone();
    let text = content(&message);
    assert!(message["text"].get("mentioned_list").is_none(), "{message}");
    assert!(text.contains(JD_NAME), "{text}");
    assert!(text.contains("发热") && text.contains("咳嗽"), "{text}");
    assert!(text.contains("38.2℃"), "{text}");
    let minute = opened_at.minute();
    assert!(
        text.contains(&format!("2020-01-29 10:{minute:02}")),
        "{text}"
    );
    let raw = message.to_string();
    for personal in [NAME, PHONE, "张*", "138****"] {
        assert!(!raw.contains(personal), "{personal} in {raw}");
    }
    assert!(!has_eleven_digits(&raw), "a phone number in {raw}");
    let log = deliveries(app).await;
    assert_eq!(log.len(), 1);
    assert_eq!(
        (&log[0]["status"], &log[0]["attempts"], &log[0]["level"]),
        (&json!("sent"), &json!(1), &json!("raised"))
    );
    assert_eq!(log[0]["last_status"], 200);

    // The leader acknowledges; the alert leaves the open list; a second time is a conflict.
    if let Some(clock) = clock {
        clock.advance(Duration::minutes(3));
    }
    let ack = json(acknowledge(app, &case, &leader).await, 200).await;
    assert_eq!(ack["acknowledged_by"], "leader");
    assert!(
        alerts(app, &leader, false)
            .await
            .iter()
            .all(|a| a["case_id"] != case.as_str())
    );
    let all = alerts(app, &leader, true).await;
    let done = all.iter().find(|a| a["case_id"] == case.as_str()).unwrap();
    assert!(done["acknowledged_at"].is_string());
    let again = json(acknowledge(app, &case, &leader).await, 409).await;
    assert_eq!(again["code"], "cases.alert.already_acknowledged");

    // The record: masked, with the time to acknowledge.
    let c = case_of(app, &case).await;
    let expected = if clock.is_some() { 3 } else { 0 };
    assert_eq!(c["minutes_to_acknowledge"], expected);
    assert_eq!(c["source"], "buffer");
    assert_eq!(c["status"], "open");
    assert_eq!(c["name"], "张*");
    assert_eq!(c["phone"], "138****8000");
    assert_eq!(c["screening_id"], screening.as_str());
    assert_eq!(c["temperatures"].as_array().unwrap().len(), 2);
    assert_eq!(c["symptoms"], json!(["fever", "cough"]));
    assert_eq!(c["answers"]["travel"][0]["place"], "武汉");
    assert!(c["alert"]["acknowledged_at"].is_string());
    assert_eq!(kinds(&c), ["opened", "acknowledged"]);
    // Acknowledging sends nothing more.
    robot_messages(app, &robot, 1).await;
    message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspect_from_the_buffer_zone_alerts_the_leaders_and_the_robot_without_personal_data() {
    let clock = Arc::new(FixedClock::new(NOW));
    let app = TestApp::with_clock(clock.clone()).await;
    let message = suspect_flow(&app, Some(&clock)).await;
    app.stop().await;
    // Every label of the message has its words ("…" is what a missing message becomes).
    let text = content(&message);
    assert!(
        !text.contains('…'),
        "the robot's message has untranslated labels: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unacknowledged_alert_climbs_one_level_per_deadline_and_messages_the_robot() {
    let clock = Arc::new(FixedClock::new(NOW));
    let app = TestApp::with_clock(clock.clone()).await;
    let robot = Robot::start().await;
    add_robot(&app, "JD", &robot.url).await;
    let id = id_of(&open_case(&app, &hand_case("JD")).await);
    robot_messages(&app, &robot, 1).await;
    // Not before the deadline.
    clock.advance(Duration::minutes(14));
    app.tick_alerts().await;
    assert_eq!(case_of(&app, &id).await["alert"]["level"], "raised");
    robot_messages(&app, &robot, 1).await;
    clock.advance(Duration::minutes(1));
    let steps = [
        (15, "group_head", false),
        (30, "whole_group", true),
        (45, "upward", true),
    ];
    let leader = app.token_for("leader").await;
    for (n, (minutes, level, everyone)) in steps.into_iter().enumerate() {
        if n > 0 {
            clock.advance(Duration::minutes(15));
        }
        app.tick_alerts().await;
        let c = case_of(&app, &id).await;
        assert_eq!(c["alert"]["level"], level, "after {minutes} minutes");
        let listed = alerts(&app, &leader, false).await;
        assert_eq!(listed[0]["level"], level);
        let got = robot_messages(&app, &robot, n + 2).await;
        let message = &got[n + 1];
        let text = content(message);
        assert!(text.starts_with('【'), "{text}");
        assert!(text.contains(&format!("{minutes} ")), "{text}");
        assert!(text.contains(JD_NAME), "{text}");
        assert!(!text.contains(NAME) && !has_eleven_digits(&message.to_string()));
        if everyone {
            assert_eq!(message["text"]["mentioned_list"], json!(["@all"]));
        } else {
            assert!(message["text"].get("mentioned_list").is_none(), "{message}");
        }
    }
    let c = case_of(&app, &id).await;
    assert_eq!(escalations(&c), ["group_head", "whole_group", "upward"]);
    assert!(
        c["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "escalated")
            .all(|e| e["actor"] == "system")
    );
    let log = deliveries(&app).await;
    assert_eq!(log.len(), 4);
    assert!(log.iter().all(|d| d["status"] == "sent"), "{log:#?}");
    let mut levels: Vec<&str> = log.iter().map(|d| d["level"].as_str().unwrap()).collect();
    levels.sort_unstable();
    assert_eq!(levels, ["group_head", "raised", "upward", "whole_group"]);

    // Acknowledged: nothing moves any more.
    let ack = json(acknowledge(&app, &id, &leader).await, 200).await;
    assert_eq!(ack["level"], "upward");
    clock.advance(Duration::hours(1));
    app.tick_alerts().await;
    let c = case_of(&app, &id).await;
    assert_eq!(c["alert"]["level"], "upward");
    assert_eq!(escalations(&c).len(), 3);
    assert_eq!(c["minutes_to_acknowledge"], 45);
    robot_messages(&app, &robot, 4).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_is_a_setting_and_acknowledging_stops_the_escalation() {
    let clock = Arc::new(FixedClock::new(NOW));
    let app = TestApp::configured(clock.clone(), |s| {
        s.cases.ack_deadline = Duration::minutes(5);
    })
    .await;
    let id = id_of(&open_case(&app, &hand_case("JD")).await);
    clock.advance(Duration::minutes(4));
    app.tick_alerts().await;
    assert_eq!(case_of(&app, &id).await["alert"]["level"], "raised");
    clock.advance(Duration::minutes(1));
    app.tick_alerts().await;
    assert_eq!(case_of(&app, &id).await["alert"]["level"], "group_head");
    let leader = app.token_for("leader").await;
    json(acknowledge(&app, &id, &leader).await, 200).await;
    clock.advance(Duration::hours(1));
    app.tick_alerts().await;
    let c = case_of(&app, &id).await;
    assert_eq!(
        c["alert"]["level"], "group_head",
        "no escalation once acknowledged"
    );
    assert_eq!(escalations(&c), ["group_head"]);
    assert_eq!(c["minutes_to_acknowledge"], 5);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_robot_never_blocks_a_case_and_is_retried_with_back_off_until_failed() {
    let clock = Arc::new(FixedClock::new(NOW));
    // A long deadline: no escalation (nor its messages) while the retries run.
    let app = TestApp::configured(clock.clone(), |s| {
        s.cases.ack_deadline = Duration::hours(2);
    })
    .await;
    let port = {
        let bound = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        bound.local_addr().unwrap().port()
    };
    add_robot(&app, "JD", &format!("http://127.0.0.1:{port}/hook")).await;
    let res = app.post_json("/api/v1/cases", &hand_case("JD"), None).await;
    let id = id_of(&json(res, 201).await);

    let mut delivery = tried(&app, 1).await;
    for n in 1..6_u64 {
        assert_eq!(delivery["status"], "pending", "attempt {n}: {delivery}");
        assert_eq!(delivery["last_error"], "cannot connect");
        assert!(delivery["last_status"].is_null());
        let wait = Duration::seconds(30 << (n - 1));
        assert_eq!(
            time_of(&delivery["next_at"]),
            clock.now() + wait,
            "attempt {n} waits {wait}"
        );
        clock.advance(wait - Duration::seconds(1));
        app.tick_alerts().await;
        assert_eq!(
            deliveries(&app).await[0]["attempts"],
            n,
            "not tried again before its back-off"
        );
        clock.advance(Duration::seconds(1));
        delivery = tried(&app, n + 1).await;
    }
    assert_eq!(delivery["status"], "failed", "{delivery}");
    assert_eq!(delivery["attempts"], 6);
    assert_eq!(delivery["last_error"], "cannot connect");
    assert!(delivery["sent_at"].is_null());
    // Failed for good: never tried again.
    clock.advance(Duration::hours(1));
    app.tick_alerts().await;
    let log = deliveries(&app).await;
    assert_eq!(log.len(), 1);
    assert_eq!(
        (&log[0]["status"], &log[0]["attempts"]),
        (&json!("failed"), &json!(6))
    );

    // The case and its alert are intact.
    let c = case_of(&app, &id).await;
    assert_eq!(c["status"], "open");
    assert_eq!(c["alert"]["level"], "raised");
    assert!(c["alert"]["acknowledged_at"].is_null());
    assert_eq!(kinds(&c), ["opened"]);
    let leader = app.token_for("leader").await;
    let open = alerts(&app, &leader, false).await;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["case_id"], id.as_str());
    json(acknowledge(&app, &id, &leader).await, 200).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_cases_change_nothing_other_subtrees_see_nothing_and_a_resend_opens_one_case() {
    let app = TestApp::sqlite().await;
    let base = hand_case("JD");
    let with = |change: &dyn Fn(&mut Value)| {
        let mut body = base.clone();
        change(&mut body);
        body
    };
    let trip = |from: &str, to: &str| json!([{"place": "武汉", "from": from, "to": to}]);
    let bad: Vec<(Value, &str)> = vec![
        (
            with(&|b| {
                b["symptoms"] = json!([]);
                b["temperatures"] = json!([]);
            }),
            "cases.evidence.required",
        ),
        (
            with(&|b| b["onset"] = json!("2020-01-30")),
            "cases.onset.future",
        ),
        (
            // 14 days before an onset of the 25th is the 11th.
            with(&|b| {
                b["onset"] = json!("2020-01-25");
                b["answers"]["travel"] = trip("2020-01-08", "2020-01-10");
            }),
            "screening.travel.too_old",
        ),
        (
            with(&|b| b["answers"]["travel"] = trip("2020-01-25", "2020-02-02")),
            "screening.travel.future",
        ),
        (
            with(&|b| b["subject_kind"] = json!("alien")),
            "screening.kind.invalid",
        ),
        (with(&|b| b["phone"] = json!("12345")), "phone.invalid"),
        (
            with(&|b| {
                b["temperatures"] =
                    json!([{"temperature_c": 38.2, "at": "2020-01-29T11:00:00+08:00"}]);
            }),
            "cases.reading.future",
        ),
        (with(&|b| b["site"] = json!("NOPE")), "site.unknown"),
    ];
    for (body, code) in bad {
        let codes = field_codes(app.post_json("/api/v1/cases", &body, None).await).await;
        assert!(codes.iter().any(|c| c == code), "{code}: {codes:?}");
    }
    assert!(ledger(&app).await.is_empty(), "nothing stored");
    let leader = app.token_for("leader").await;
    assert!(alerts(&app, &leader, true).await.is_empty());

    // A resend with the same key: the first answer, one case.
    let first = app.post_json("/api/v1/cases", &base, Some("case-1")).await;
    let first_location = first.headers()["location"].to_str().unwrap().to_owned();
    let first = json(first, 201).await;
    assert_eq!(first["status"], "open");
    assert_eq!(first_location, format!("/api/v1/cases/{}", id_of(&first)));
    let again = app.post_json("/api/v1/cases", &base, Some("case-1")).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again_location = again.headers()["location"].to_str().unwrap().to_owned();
    let again = json(again, 201).await;
    assert_eq!(again, first);
    assert_eq!(ledger(&app).await.len(), 1);
    assert_eq!(alerts(&app, &leader, false).await.len(), 1);

    // A leader of 曲溪 sees neither the district hall's case nor a sibling town's.
    let sibling = open_case(&app, &hand_case("JD-PD")).await;
    let qx = leader_of(&app, "JD-QX", "qx-leader").await;
    for c in [&first, &sibling] {
        let id = id_of(c);
        let alert = c["alert_id"].as_str().unwrap();
        let res = acknowledge(&app, &id, &qx).await;
        assert_eq!(res.status(), 404, "{}", c["site"]);
        let res = app
            .post_as(
                &format!("/api/v1/alerts/{alert}/acknowledge"),
                &json!({}),
                Some(&qx),
            )
            .await;
        assert_eq!(res.status(), 404, "{}", c["site"]);
        let res = app.get_as(&format!("/api/v1/cases/{id}"), Some(&qx)).await;
        assert_eq!(res.status(), 404, "{}", c["site"]);
    }
    assert!(alerts(&app, &qx, true).await.is_empty());
    // Both are still open for the district's leaders; 曲溪's own case is 曲溪's to acknowledge.
    assert_eq!(alerts(&app, &leader, false).await.len(), 2);
    let own = id_of(&open_case(&app, &hand_case("JD-QX")).await);
    let ack = json(acknowledge(&app, &own, &qx).await, 200).await;
    assert_eq!(ack["site"], "JD-QX");
    assert_eq!(alerts(&app, &leader, false).await.len(), 2);
    app.stop().await;
    // Last, as it fails today: the replay's Location names the case it answers with.
    assert_eq!(
        again_location, first_location,
        "a replay's Location points at the stored case"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upward_report_reaches_the_district_and_counts_in_the_response_times() {
    let clock = Arc::new(FixedClock::new(NOW));
    let app = TestApp::with_clock(clock.clone()).await;
    let id = id_of(&open_case(&app, &hand_case("JD")).await);
    let path = format!("/api/v1/cases/{id}/upward-report");
    let leader = app.token_for("leader").await;
    let upper = app.token_for("upper").await;
    let inbox = async || {
        json(
            app.get_as("/api/v1/upward-reports", Some(&upper)).await,
            200,
        )
        .await
        .as_array()
        .unwrap()
        .clone()
    };
    assert!(inbox().await.is_empty());
    // Bad reports are refused and change nothing.
    let bad = [
        (
            json!({"channel": "phone", "content": "电话报告", "at": "2020-01-29T09:50:00+08:00"}),
            "cases.upward.before_opened",
        ),
        (
            json!({"channel": "phone", "content": "电话报告", "at": "2020-01-29T10:30:00+08:00"}),
            "cases.upward.future",
        ),
        (
            json!({"channel": "fax", "content": "传真"}),
            "cases.channel.invalid",
        ),
        (
            json!({"channel": "system", "content": "  "}),
            "cases.text.required",
        ),
    ];
    for (body, code) in bad {
        let codes = field_codes(app.post_as(&path, &body, Some(&leader)).await).await;
        assert_eq!(codes, [code], "{body}");
    }
    assert!(
        case_of(&app, &id).await["upward_reports"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    clock.advance(Duration::minutes(12));
    json(acknowledge(&app, &id, &leader).await, 200).await;
    clock.advance(Duration::minutes(8));
    let report =
        json!({"channel": "system", "content": "区政务服务中心发现疑似病例一例，已送发热门诊"});
    let sent = json(app.post_as(&path, &report, Some(&leader)).await, 201).await;
    assert_eq!(sent["channel"], "system");
    assert_eq!(sent["reported_by"], "leader");
    assert_eq!(sent["recorded_by"], "leader");
    // The district's account reads it; it may not report itself.
    let got = inbox().await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["case_id"], id.as_str());
    assert_eq!(got[0]["site"], "JD");
    assert_eq!(got[0]["content"], report["content"]);
    assert_eq!(
        app.post_as(&path, &report, Some(&upper)).await.status(),
        403
    );
    // A phone call is on the case but not in the district's inbox, and the first report
    // keeps its time.
    clock.advance(Duration::minutes(5));
    let call = json!({"channel": "phone", "content": "电话报告区指挥部", "reported_by": "林建华"});
    json(app.post_as(&path, &call, Some(&leader)).await, 201).await;
    assert_eq!(inbox().await.len(), 1);

    let c = case_of(&app, &id).await;
    assert_eq!(c["minutes_to_report"], 20);
    assert_eq!(c["minutes_to_acknowledge"], 12);
    let reports = c["upward_reports"].as_array().unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[1]["reported_by"], "林建华");
    assert_eq!(
        kinds(&c),
        ["opened", "acknowledged", "upward_report", "upward_report"]
    );
    let times = json(app.get("/api/v1/cases/response-times?site=JD").await, 200).await;
    let jd = times
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["site"] == "JD")
        .unwrap_or_else(|| panic!("JD is summarised: {times}"));
    assert_eq!(
        (&jd["cases"], &jd["acknowledged"], &jd["reported"]),
        (&json!(1), &json!(1), &json!(1))
    );
    assert_eq!(jd["mean_minutes_to_acknowledge"], 12.0);
    assert_eq!(jd["mean_minutes_to_report"], 20.0);
    assert_eq!(jd["max_minutes_to_report"], 20);
    app.stop().await;
}

/// A registered citizen admitted at the door now; the door record's id.
async fn visitor(app: &TestApp, name: &str, phone: &str) -> String {
    let mut body = reading(36.5);
    body["registration"] = json!(register(app, name, phone).await);
    let r = screen(app, &body).await;
    assert_eq!(r["decision"], "admit");
    r["id"].as_str().unwrap().to_owned()
}

fn shift_check(person: &str, phase: &str) -> Value {
    json!({"site": "JD", "subject_kind": "bureau_staff", "temperature_c": 36.4, "mask": true, "phase": phase, "person": person})
}

async fn exposures(app: &TestApp, case: &str, query: &str) -> Value {
    json(
        app.get(&format!("/api/v1/cases/{case}/exposures{query}"))
            .await,
        200,
    )
    .await
}

/// (record or person, overlap minutes, on duty) of each person listed, in order.
fn listed(list: &Value) -> Vec<(String, i64, bool)> {
    list["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let who = if p["on_duty"] == true {
                p["person_id"].as_str().unwrap().to_owned()
            } else {
                p["record_id"].as_str().unwrap().to_owned()
            };
            (
                who,
                p["overlap_minutes"].as_i64().unwrap(),
                p["on_duty"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exposure_list_names_who_shared_the_hall_and_for_how_long() {
    // 08:30 in Beijing.
    let clock = Arc::new(FixedClock::new(datetime!(2020-01-29 00:30 UTC)));
    let app = TestApp::with_clock(clock.clone()).await;
    let people = json(app.get("/api/v1/sites/JD/people").await, 200).await;
    let staff: Vec<String> = people
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == "staff")
        .map(id_of)
        .take(2)
        .collect();
    let (stays, leaves) = (&staff[0], &staff[1]);
    screen(&app, &shift_check(stays, "pre_shift")).await;
    screen(&app, &shift_check(leaves, "pre_shift")).await;
    clock.advance(Duration::minutes(30)); // 09:00
    visitor(&app, "李四", "13900139001").await;
    clock.advance(Duration::minutes(10)); // 09:10
    screen(&app, &shift_check(leaves, "post_shift")).await;
    clock.advance(Duration::minutes(30)); // 09:40
    let at_0940 = visitor(&app, "王五", "13900139002").await;
    clock.advance(Duration::minutes(50)); // 10:30
    let at_1030 = visitor(&app, "赵六", "13900139003").await;
    clock.advance(Duration::minutes(90)); // 12:00
    visitor(&app, "钱七", "13900139004").await;
    clock.advance(Duration::minutes(330)); // 17:30
    screen(&app, &shift_check(stays, "post_shift")).await;
    let mut body = hand_case("JD");
    body["subject_kind"] = json!("citizen");
    body["seen_at"] = json!("2020-01-29T10:00:00+08:00");
    body["temperatures"] = json!([{"temperature_c": 38.2, "at": "2020-01-29T10:00:00+08:00"}]);
    let case = id_of(&open_case(&app, &body).await);

    // The suspect was in the hall 10:00-11:00.
    let list = exposures(&app, &case, "").await;
    assert_eq!(list["window_minutes"], 60);
    assert_eq!(time_of(&list["from"]), datetime!(2020-01-29 10:00 +8));
    assert_eq!(time_of(&list["until"]), datetime!(2020-01-29 11:00 +8));
    assert_eq!(
        listed(&list),
        [
            (stays.clone(), 60, true),
            (at_0940.clone(), 40, false),
            (at_1030.clone(), 30, false),
        ],
        "{list:#}"
    );
    let p = list["people"].as_array().unwrap();
    assert_eq!(p[0]["subject_kind"], "bureau_staff");
    assert_eq!(time_of(&p[0]["from"]), datetime!(2020-01-29 08:30 +8));
    assert_eq!(time_of(&p[0]["until"]), datetime!(2020-01-29 17:30 +8));
    assert_eq!(p[1]["subject_kind"], "citizen");
    assert_eq!(time_of(&p[1]["from"]), datetime!(2020-01-29 09:40 +8));
    assert_eq!(time_of(&p[1]["until"]), datetime!(2020-01-29 10:40 +8));
    assert_eq!(p[1]["name"], "王*");
    assert_eq!(p[1]["phone"], "139****9002");
    for person in p {
        assert_eq!(person["source"], "door");
        let name = person["name"].as_str().unwrap();
        assert!(!name.is_empty() && name.contains('*'), "{person}");
        assert!(person["phone"].as_str().unwrap().contains('*'), "{person}");
    }
    let text = list.to_string();
    for personal in ["王五", "赵六", "13900139002", "13900139003"] {
        assert!(!text.contains(personal), "{personal} in {text}");
    }

    // Half-hour visits: the suspect until 10:30.
    let half = exposures(&app, &case, "?minutes=30").await;
    assert_eq!(half["window_minutes"], 30);
    assert_eq!(time_of(&half["until"]), datetime!(2020-01-29 10:30 +8));
    assert_eq!(
        listed(&half),
        [(stays.clone(), 30, true), (at_0940.clone(), 10, false)],
        "{half:#}"
    );
    let res = app
        .get(&format!("/api/v1/cases/{case}/exposures?minutes=2"))
        .await;
    assert_eq!(field_codes(res).await, ["cases.window.invalid"]);

    // A staff suspect was there for the whole shift (08:30-17:30, by the shift checks):
    // every visitor of the day overlaps, the colleague who left at 09:10 too.
    let mut staff_case = hand_case("JD");
    staff_case["subject_kind"] = json!("bureau_staff");
    staff_case["person_id"] = json!(stays);
    staff_case["name"] = Value::Null;
    staff_case["phone"] = Value::Null;
    staff_case["seen_at"] = json!("2020-01-29T17:30:00+08:00");
    let staff_case = id_of(&open_case(&app, &staff_case).await);
    let list = exposures(&app, &staff_case, "").await;
    assert_eq!(time_of(&list["from"]), datetime!(2020-01-29 08:30 +8));
    assert_eq!(time_of(&list["until"]), datetime!(2020-01-29 17:30 +8));
    let people: Vec<(String, i64, bool)> = listed(&list);
    assert_eq!(people.len(), 5, "{list:#}");
    assert!(people.contains(&(leaves.clone(), 40, true)), "{list:#}");
    assert!(
        people.iter().all(|(id, _, _)| id != stays),
        "the suspect is not their own contact"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fever_rate_breakout_raises_one_ears_alert() {
    // Ten ordinary days: one abnormal temperature and two normal ones each.
    let clock = Arc::new(FixedClock::new(NOW - Duration::days(10)));
    let app = TestApp::with_clock(clock.clone()).await;
    for _ in 0..10 {
        assert_eq!(screen(&app, &reading(38.0)).await["decision"], "buffer");
        for _ in 0..2 {
            assert_eq!(screen(&app, &reading(36.5)).await["decision"], "admit");
        }
        clock.advance(Duration::days(1));
    }
    // Then six abnormal temperatures in one day.
    for _ in 0..6 {
        screen(&app, &reading(38.0)).await;
    }
    for _ in 0..2 {
        screen(&app, &reading(36.5)).await;
    }
    let series = json(app.get("/api/v1/fever-rates?site=JD&days=14").await, 200).await;
    let days = series.as_array().unwrap();
    assert_eq!(days.len(), 14);
    assert_eq!(days[0]["date"], "2020-01-16");
    let counts: Vec<(u64, u64)> = days
        .iter()
        .map(|d| {
            (
                d["screened"].as_u64().unwrap(),
                d["abnormal"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut expected = vec![(0, 0); 3];
    expected.extend(vec![(3, 1); 10]);
    expected.push((8, 6));
    assert_eq!(counts, expected);
    let last = &days[13];
    assert_eq!(last["date"], "2020-01-29");
    assert!(
        last["alarms"].as_array().unwrap().contains(&json!("c1")),
        "{last}"
    );
    assert!(last["c1"].as_f64().unwrap() > 3.0, "{last}");
    assert_eq!(
        days[12]["alarms"],
        json!([]),
        "an ordinary day raises nothing"
    );

    // The worker raises one alert for JD, once.
    let leader = app.token_for("leader").await;
    let ears = async || -> Vec<Value> {
        alerts(&app, &leader, true)
            .await
            .into_iter()
            .filter(|a| a["kind"] == "ears")
            .collect()
    };
    // (The background worker may have been first.)
    let before = ears().await.len();
    let tick = app.tick_alerts().await;
    let raised = ears().await;
    assert_eq!(raised.len(), 1, "{raised:#?}");
    assert_eq!(tick.fever_alerts + before, 1);
    let alert = &raised[0];
    assert_eq!(alert["site"], "JD");
    assert_eq!(alert["day"], "2020-01-29");
    assert_eq!(alert["count"], 6);
    assert!(alert["methods"].as_array().unwrap().contains(&json!("c1")));
    assert!(alert["case_id"].is_null());
    assert_eq!(app.tick_alerts().await.fever_alerts, 0);
    assert_eq!(ears().await.len(), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspect_alerts_the_leaders_and_the_robot_on_postgres() {
    let Some(app) = TestApp::postgres("cases_flow").await else {
        return;
    };
    let message = suspect_flow(&app, None).await;
    assert!(content(&message).contains(JD_NAME));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_reveals_the_persons_phone_and_the_reveal_is_audited() {
    let app = TestApp::sqlite().await;
    let id = id_of(&open_case(&app, &hand_case("JD")).await);
    let case = case_of(&app, &id).await;
    assert_ne!(case["phone"], PHONE, "masked by default");
    let leader = app.token_for("leader").await;
    let path = format!("/api/v1/cases/{id}/reveal");
    let res = app
        .post_as(&path, &json!({"field": "phone"}), Some(&leader))
        .await;
    assert_eq!(
        res.headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store")
    );
    let shown = json(res, 200).await;
    assert_eq!(shown["value"], PHONE);
    let shown = json(
        app.post_as(&path, &json!({"field": "name"}), Some(&leader))
            .await,
        200,
    )
    .await;
    assert_eq!(shown["value"], NAME);
    // An unknown field is refused; the district office may not reveal.
    let bad = app
        .post_as(&path, &json!({"field": "id_number"}), Some(&leader))
        .await;
    assert_eq!(field_codes(bad).await, ["person.field.invalid"]);
    let upper = app.token_for("upper").await;
    assert_eq!(
        app.post_as(&path, &json!({"field": "phone"}), Some(&upper))
            .await
            .status(),
        403
    );
    let log = json(app.get("/api/v1/audit?action=case.reveal").await, 200).await;
    let entries = log.as_array().unwrap();
    assert_eq!(entries.len(), 2, "{log}");
    assert!(log.to_string().contains(&id));
    assert!(
        !log.to_string().contains(PHONE),
        "the audit names the field, not the value"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_admin_reports_a_staff_member_but_neither_reads_nor_changes_cases() {
    let app = TestApp::sqlite().await;
    let unit_admin = app.token_for("unit-admin").await;
    let opened = json(
        app.post_as("/api/v1/cases", &hand_case("JD"), Some(&unit_admin))
            .await,
        201,
    )
    .await;
    let id = id_of(&opened);
    // The leadership group is alerted as for any case.
    let leader = app.token_for("leader").await;
    assert_eq!(alerts(&app, &leader, false).await.len(), 1);
    // The unit administrator neither reads the record nor closes it blind.
    let path = format!("/api/v1/cases/{id}");
    assert_eq!(app.get_as(&path, Some(&unit_admin)).await.status(), 403);
    let outcome = json!({"outcome": "excluded"});
    assert_eq!(
        app.post_as(&format!("{path}/outcome"), &outcome, Some(&unit_admin))
            .await
            .status(),
        403
    );
    assert_eq!(case_of(&app, &id).await["status"], "open");
    app.stop().await;
}
