//! Entrance screening through HTTP: the door's decisions, bad readings, the buffer zone,
//! occupancy, staff checks, self-registration, devices over HTTP and MQTT, records and
//! exports, and the retention purge.

use crate::helpers::{NOW, TestApp, json};
use fangkong_domain::clock::FixedClock;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

fn reading(t: Value, mask: bool) -> Value {
    json!({"site": "JD", "subject_kind": "citizen", "temperature_c": t, "mask": mask})
}

async fn screen(app: &TestApp, body: &Value) -> Value {
    json(app.post_json("/api/v1/screenings", body, None).await, 201).await
}

async fn occupancy(app: &TestApp, site: &str) -> (u64, u64) {
    let o = json(
        app.get(&format!("/api/v1/sites/{site}/occupancy")).await,
        200,
    )
    .await;
    (
        o["inside"].as_u64().unwrap(),
        o["capacity"].as_u64().unwrap(),
    )
}

async fn records(app: &TestApp, query: &str) -> Vec<Value> {
    json(app.get(&format!("/api/v1/screenings?{query}")).await, 200)
        .await
        .as_array()
        .unwrap()
        .clone()
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

/// Adds a small site under JD with its main entrance and the given capacity.
async fn small_hall(app: &TestApp, code: &str, capacity: u32) {
    let site = json!({"code": code, "name": format!("{code} 便民服务中心"), "kind": "town", "parent": "JD", "capacity": capacity});
    json(app.post_json("/api/v1/sites", &site, None).await, 201).await;
    let res = app
        .client
        .post(app.url(&format!("/org/sites/{code}/checkpoints")))
        .form(&[("code", "MAIN"), ("name", "正门"), ("is_main", "on")])
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_redirection() || res.status().is_success(),
        "{}",
        res.status()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_door_decides_in_the_plans_order() {
    let app = TestApp::sqlite().await;
    let admit = screen(&app, &reading(json!(36.6), true)).await;
    assert_eq!(admit["decision"], "admit");
    assert_eq!(admit["checkpoint"], "MAIN", "the main entrance by default");
    assert_eq!(admit["inside"], 1);
    // At the threshold (37.3 by default) is abnormal, mask or not.
    assert_eq!(
        screen(&app, &reading(json!(37.3), true)).await["decision"],
        "buffer"
    );
    assert_eq!(
        screen(&app, &reading(json!(38.9), false)).await["decision"],
        "buffer"
    );
    assert_eq!(
        screen(&app, &reading(json!(37.2), false)).await["decision"],
        "refuse_no_mask"
    );
    // Readings typed as text are read as a keypad sends them.
    assert_eq!(
        screen(&app, &reading(json!("36.8"), true)).await["decision"],
        "admit"
    );
    assert_eq!(
        occupancy(&app, "JD").await.0,
        2,
        "only admits count as entries"
    );
    // A full hall makes people wait.
    small_hall(&app, "TQA", 1).await;
    let at_qx =
        |t: f64| json!({"site": "TQA", "subject_kind": "other", "temperature_c": t, "mask": true});
    assert_eq!(screen(&app, &at_qx(36.5)).await["decision"], "admit");
    let wait = screen(&app, &at_qx(36.5)).await;
    assert_eq!(wait["decision"], "wait");
    assert_eq!(
        (wait["inside"].as_u64(), wait["capacity"].as_u64()),
        (Some(1), Some(1))
    );
    // A site's records include its subtree's.
    assert_eq!(records(&app, "site=JD").await.len(), 7);
    let town = records(&app, "site=TQA").await;
    assert_eq!(town.len(), 2);
    assert!(town.iter().all(|r| r["site"] == "TQA"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_readings_are_refused_with_clear_errors_and_store_nothing() {
    let app = TestApp::sqlite().await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"site": "JD", "subject_kind": "citizen", "mask": true}),
            "screening.temperature.missing",
        ),
        (reading(json!("abc"), true), "screening.temperature.invalid"),
        (reading(json!(true), true), "screening.temperature.invalid"),
        (reading(json!(33.9), true), "screening.temperature.range"),
        (reading(json!(43.1), true), "screening.temperature.range"),
        (reading(json!(366), true), "screening.temperature.range"),
        (
            json!({"site": "NOPE", "subject_kind": "citizen", "temperature_c": 36.6, "mask": true}),
            "site.unknown",
        ),
        (
            json!({"site": "JD", "checkpoint": "BACK", "subject_kind": "citizen", "temperature_c": 36.6, "mask": true}),
            "screening.checkpoint.unknown",
        ),
        (
            json!({"site": "JD", "subject_kind": "alien", "temperature_c": 36.6, "mask": true}),
            "screening.kind.invalid",
        ),
        (
            json!({"site": "JD", "subject_kind": "citizen", "temperature_c": 36.6}),
            "screening.mask.missing",
        ),
        (
            json!({"site": "JD", "subject_kind": "citizen", "temperature_c": 36.6, "mask": true, "phase": "pre_shift"}),
            "screening.phase.not_staff",
        ),
        (
            json!({"site": "JD", "subject_kind": "citizen", "temperature_c": 36.6, "mask": true, "registration": "12"}),
            "screening.registration.invalid",
        ),
        (
            json!({"site": "JD", "subject_kind": "citizen", "temperature_c": 36.6, "mask": true, "registration": "0000"}),
            "screening.registration.unknown",
        ),
    ];
    for (body, code) in cases {
        let res = app.post_json("/api/v1/screenings", &body, None).await;
        let codes = field_codes(res).await;
        assert!(codes.iter().any(|c| c == code), "{body}: {codes:?}");
    }
    // The words are in the asker's language.
    let res = app
        .client
        .post(app.url("/api/v1/screenings"))
        .header("accept-language", "zh-CN")
        .json(&reading(json!(45), true))
        .send()
        .await
        .unwrap();
    let body = json(res, 422).await;
    assert!(body.to_string().contains("测量误差"), "{body}");
    assert!(records(&app, "").await.is_empty(), "nothing stored");
    assert_eq!(occupancy(&app, "JD").await.0, 0);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resent_reading_is_stored_once_and_other_sites_do_not_exist() {
    let app = TestApp::sqlite().await;
    let body = reading(json!(36.6), true);
    let first = app
        .post_json("/api/v1/screenings", &body, Some("door-1"))
        .await;
    let first = json(first, 201).await;
    let again = app
        .post_json("/api/v1/screenings", &body, Some("door-1"))
        .await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(json(again, 201).await["id"], first["id"]);
    assert_eq!(records(&app, "").await.len(), 1);
    assert_eq!(occupancy(&app, "JD").await.0, 1, "the entry counted once");
    // The same key with another body is a mistake, not a replay.
    let other = app
        .post_json(
            "/api/v1/screenings",
            &reading(json!(36.7), true),
            Some("door-1"),
        )
        .await;
    assert_eq!(other.status(), 422);
    // A volunteer of a town centre cannot record at the district hall.
    small_hall(&app, "TQA", 50).await;
    let user = json!({"username": "qx-volunteer", "role": "volunteer", "site": "TQA", "password": "Zhen-hao-mima-2020"});
    json(app.post_json("/api/v1/users", &user, None).await, 201).await;
    let token = json(
        app.post_as(
            "/api/v1/auth/token",
            &json!({"username": "qx-volunteer", "password": "Zhen-hao-mima-2020", "new_password": "Qu-xi-zhen-2020-door"}),
            None,
        )
        .await,
        201,
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app.post_as("/api/v1/screenings", &body, Some(&token)).await;
    assert!(field_codes(res).await.contains(&"site.unknown".to_owned()));
    let at_qx =
        json!({"site": "TQA", "subject_kind": "citizen", "temperature_c": 36.6, "mask": true});
    json(
        app.post_as("/api/v1/screenings", &at_qx, Some(&token))
            .await,
        201,
    )
    .await;
    // Window staff may not record at the door.
    let window = app.token_for("window").await;
    assert_eq!(
        app.post_as("/api/v1/screenings", &body, Some(&window))
            .await
            .status(),
        403
    );
    assert_eq!(records(&app, "").await.len(), 2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_buffer_zone_rechecks_after_a_rest_and_opens_a_case() {
    let clock = Arc::new(FixedClock::new(NOW));
    let app = TestApp::with_clock(clock.clone()).await;
    let hot = screen(&app, &reading(json!(38.2), true)).await;
    assert_eq!(hot["decision"], "buffer");
    let id = hot["id"].as_str().unwrap().to_owned();
    let waiting = json(app.get("/api/v1/buffer?site=JD").await, 200).await;
    assert_eq!(waiting.as_array().unwrap().len(), 1);
    assert_eq!(waiting[0]["due"], false);
    let recheck = |body: Value| {
        let app = &app;
        let id = id.clone();
        async move {
            app.post_json(&format!("/api/v1/screenings/{id}/rechecks"), &body, None)
                .await
        }
    };
    // Too early: the rest (5 minutes) is not over.
    let early = recheck(json!({"temperature_c": 37.0})).await;
    assert_eq!(early.status(), 409);
    assert_eq!(json(early, 409).await["code"], "screening.recheck.early");
    clock.advance(time::Duration::minutes(5));
    // Bad answers are refused and change nothing.
    let future_trip = json!({"temperature_c": 37.0, "answers": {"travel": [{"place": "武汉", "from": "2020-01-20", "to": "2020-02-02"}]}});
    let codes = field_codes(recheck(future_trip).await).await;
    assert_eq!(codes, ["screening.travel.future"]);
    let codes =
        field_codes(recheck(json!({"temperature_c": 37.0, "symptoms": ["sneezing"]})).await).await;
    assert_eq!(codes, ["screening.symptom.unknown"]);
    // Still high on the first re-check: another rest.
    let r1 = json(recheck(json!({"temperature_c": 37.9})).await, 200).await;
    assert_eq!(
        (r1["outcome"].as_str(), r1["attempt"].as_u64()),
        (Some("recheck"), Some(1))
    );
    assert!(r1["case_id"].is_null());
    clock.advance(time::Duration::minutes(5));
    // A symptom with a "yes" to one of the four questions: suspected, a case is opened.
    let r2 = json(
        recheck(json!({
            "temperature_c": 37.1,
            "symptoms": ["cough", "fatigue"],
            "answers": {"travel": [{"place": "武汉", "from": "2020-01-18", "to": "2020-01-22"}], "details": "返乡"}
        }))
        .await,
        200,
    )
    .await;
    assert_eq!(r2["outcome"], "suspected");
    let case = r2["case_id"].as_str().unwrap().to_owned();
    let stored = json(app.get(&format!("/api/v1/screenings/{id}")).await, 200).await;
    assert_eq!(stored["buffer_state"], "suspected");
    assert_eq!(stored["case_id"], case.as_str());
    assert_eq!(stored["rechecks"], 2);
    assert!(
        json(app.get("/api/v1/buffer?site=JD").await, 200)
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Nobody waits any more: a further re-check is a conflict.
    assert_eq!(recheck(json!({"temperature_c": 36.5})).await.status(), 409);
    // The opening is in the audit log.
    let log = json(app.get("/api/v1/audit?action=case.open").await, 200).await;
    assert!(log.to_string().contains(&case), "{log}");

    // Cleared after a rest: admitted, one more inside.
    let second = screen(&app, &reading(json!(37.5), true)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    clock.advance(time::Duration::minutes(6));
    let before = occupancy(&app, "JD").await.0;
    let cleared = json(
        app.post_json(
            &format!("/api/v1/screenings/{second}/rechecks"),
            &json!({"temperature_c": 36.9}),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(cleared["outcome"], "cleared");
    assert_eq!(occupancy(&app, "JD").await.0, before + 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_allowed_recheck_decides_and_the_checker_may_choose() {
    let clock = Arc::new(FixedClock::new(NOW));
    let app = TestApp::configured(clock.clone(), |s| {
        s.screening.buffer.max_rechecks = 2;
        s.screening.buffer.rest = time::Duration::minutes(1);
    })
    .await;
    let id = screen(&app, &reading(json!(38.0), true)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/screenings/{id}/rechecks");
    clock.advance(time::Duration::minutes(1));
    assert_eq!(
        json(
            app.post_json(&path, &json!({"temperature_c": 37.8}), None)
                .await,
            200
        )
        .await["outcome"],
        "recheck"
    );
    clock.advance(time::Duration::minutes(1));
    // No re-checks remain: "recheck" is refused; the rule says suspected when still high.
    let codes = field_codes(
        app.post_json(
            &path,
            &json!({"temperature_c": 37.8, "outcome": "recheck"}),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(codes, ["screening.recheck.exhausted"]);
    let last = json(
        app.post_json(&path, &json!({"temperature_c": 37.8}), None)
            .await,
        200,
    )
    .await;
    assert_eq!(last["outcome"], "suspected");
    // The checker's own call wins over the rule.
    let other = screen(&app, &reading(json!(37.6), true)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    clock.advance(time::Duration::minutes(1));
    let chosen = json(
        app.post_json(
            &format!("/api/v1/screenings/{other}/rechecks"),
            &json!({"temperature_c": 37.6, "outcome": "cleared"}),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(chosen["outcome"], "cleared");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn occupancy_follows_entries_and_exits_and_never_goes_below_zero() {
    let app = TestApp::sqlite().await;
    for _ in 0..3 {
        screen(&app, &reading(json!(36.5), true)).await;
    }
    let out = json!({"site": "JD", "direction": "out"});
    let o = json(app.post_json("/api/v1/door-events", &out, None).await, 201).await;
    assert_eq!(o["inside"], 2);
    for _ in 0..4 {
        json(app.post_json("/api/v1/door-events", &out, None).await, 201).await;
    }
    let o = json(app.get("/api/v1/sites/JD/occupancy").await, 200).await;
    assert_eq!(
        (o["inside"].as_u64(), o["peak"].as_u64()),
        (Some(0), Some(3))
    );
    let codes = field_codes(
        app.post_json(
            "/api/v1/door-events",
            &json!({"site": "JD", "direction": "in"}),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(codes, ["door.direction.in"]);
    let codes = field_codes(
        app.post_json(
            "/api/v1/door-events",
            &json!({"site": "JD", "direction": "up"}),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(codes, ["door.direction.invalid"]);
    // After missed exits the support group corrects the count (audited); volunteers may not.
    for _ in 0..2 {
        screen(&app, &reading(json!(36.5), true)).await;
    }
    let support = app.token_for("support").await;
    let set = app
        .anon
        .post(app.url("/occupancy/JD"))
        .bearer_auth(&support)
        .form(&[("inside", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 303);
    assert_eq!(occupancy(&app, "JD").await.0, 0);
    let bad = app
        .anon
        .post(app.url("/occupancy/JD"))
        .bearer_auth(&support)
        .form(&[("inside", "-1")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let volunteer = app.token_for("volunteer").await;
    let refused = app
        .anon
        .post(app.url("/occupancy/JD"))
        .bearer_auth(&volunteer)
        .form(&[("inside", "5")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let log = json(app.get("/api/v1/audit?action=occupancy.set").await, 200).await;
    assert_eq!(log[0]["detail"]["from"], 2);
    // The leaders' panel shows every hall of the subtree.
    let leader = app.token_for("leader").await;
    let panel = app.get_as("/panels/occupancy", Some(&leader)).await;
    assert_eq!(panel.status(), 200);
    assert!(panel.text().await.unwrap().contains("hall-JD"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_checks_and_who_is_missing_them() {
    let app = TestApp::sqlite().await;
    let staff = json(app.get("/api/v1/staff-checks?site=JD").await, 200).await;
    let staff = staff.as_array().unwrap();
    assert!(!staff.is_empty());
    assert!(
        staff.iter().all(|s| s["missing"] == json!(["pre_shift"])),
        "10:00 in Beijing: only the pre-shift check is due"
    );
    // The window account is linked to a clerk: its own check needs no person id.
    let window = app.token_for("window").await;
    let volunteer = app.token_for("volunteer").await;
    let mine = json!({"site": "JD", "subject_kind": "window_staff", "temperature_c": 36.4, "mask": true, "phase": "pre_shift"});
    // Window staff record their own check through the self-service page; at the door a
    // volunteer records it with the person.
    let clerk = staff.iter().find(|s| s["unit"].is_string()).unwrap()["person"]
        .as_str()
        .unwrap()
        .to_owned();
    let at_door = json!({"site": "JD", "subject_kind": "window_staff", "temperature_c": 36.4, "mask": true, "phase": "pre_shift", "person": clerk});
    json(
        app.post_as("/api/v1/screenings", &at_door, Some(&volunteer))
            .await,
        201,
    )
    .await;
    assert_eq!(
        app.post_as("/api/v1/screenings", &mine, Some(&window))
            .await
            .status(),
        403
    );
    let after = json(app.get("/api/v1/staff-checks?site=JD").await, 200).await;
    let row = after
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["person"] == clerk.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["pre_shift"], true);
    assert_eq!(row["missing"], json!([]));
    // A person of no site of ours is refused.
    let stranger = json!({"site": "JD", "subject_kind": "window_staff", "temperature_c": 36.4, "mask": true, "phase": "pre_shift", "person": uuid::Uuid::nil()});
    assert_eq!(
        field_codes(
            app.post_as("/api/v1/screenings", &stranger, Some(&volunteer))
                .await
        )
        .await,
        ["screening.person.unknown"]
    );
    // The unit admin sees the missing list; window staff do not.
    let unit_admin = app.token_for("unit-admin").await;
    assert_eq!(
        app.get_as("/staff-checks/missing?site=JD", Some(&unit_admin))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get_as("/api/v1/staff-checks?site=JD", Some(&window))
            .await
            .status(),
        403
    );
    // Bad date.
    assert_eq!(
        app.get("/api/v1/staff-checks?site=JD&date=2020-13-01")
            .await
            .status(),
        422
    );
    // An administrator links the support account to another staff member; its own
    // check then needs no person id.
    let users = json(app.get("/api/v1/users").await, 200).await;
    let support = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "support")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = after
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["person"] != clerk.as_str())
        .unwrap()["person"]
        .as_str()
        .unwrap()
        .to_owned();
    let linked = app
        .client
        .post(app.url(&format!("/admin/users/{support}/person")))
        .form(&[("person", other.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(linked.status(), 303);
    let support_token = app.token_for("support").await;
    let own = json!({"site": "JD", "subject_kind": "bureau_staff", "temperature_c": 36.2, "mask": true, "phase": "pre_shift"});
    let rec = json(
        app.post_as("/api/v1/screenings", &own, Some(&support_token))
            .await,
        201,
    )
    .await;
    let stored = json(
        app.get(&format!(
            "/api/v1/screenings/{}",
            rec["id"].as_str().unwrap()
        ))
        .await,
        200,
    )
    .await;
    assert_eq!(stored["person"], other.as_str());
    let log = json(app.get("/api/v1/audit?action=user.link_person").await, 200).await;
    assert_eq!(log.as_array().unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_registers_and_the_volunteer_only_measures() {
    let app = TestApp::sqlite().await;
    // The phone page shows purpose, keeper and retention before anything is sent.
    let page = app.get_as("/r/JD/MAIN", None).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("privacy-notice") && html.contains("28"),
        "retention shown"
    );
    let bad = app
        .post_as(
            "/api/v1/registrations",
            &json!({"site": "JD", "name": "张三", "phone": "12345"}),
            None,
        )
        .await;
    assert_eq!(field_codes(bad).await, ["phone.invalid"]);
    let reg = json(
        app.post_as(
            "/api/v1/registrations",
            &json!({"site": "JD", "name": "张三丰", "phone": "13800138000"}),
            None,
        )
        .await,
        201,
    )
    .await;
    let number = reg["number"].as_str().unwrap().to_owned();
    assert_eq!(number.len(), 4);
    let mut body = reading(json!(36.5), true);
    body["registration"] = json!(number);
    let rec = screen(&app, &body).await;
    let stored = json(
        app.get(&format!(
            "/api/v1/screenings/{}",
            rec["id"].as_str().unwrap()
        ))
        .await,
        200,
    )
    .await;
    assert_eq!(stored["registered_name"], "张**");
    assert_eq!(stored["registered_phone"], "138****8000");
    // A script cannot use up the day's numbers: one address is limited per minute.
    let mut limited = None;
    for n in 0..40 {
        let res = app
            .post_as("/api/v1/registrations", &json!({"site": "JD"}), None)
            .await;
        if res.status() == 429 {
            limited = Some((n, json(res, 429).await));
            break;
        }
    }
    let (n, body) = limited.expect("the rate limit holds");
    assert!(n <= 30, "limited after {n}");
    assert_eq!(body["code"], "registration.rate_limited");
    // Nothing personal is stored in the clear.
    let db = std::fs::read(app.data_dir.join("fangkong.db")).unwrap();
    let wal = std::fs::read(app.data_dir.join("fangkong.db-wal")).unwrap_or_default();
    for haystack in [&db, &wal] {
        assert!(
            !haystack
                .windows("13800138000".len())
                .any(|w| w == b"13800138000")
        );
        assert!(
            !haystack
                .windows("张三丰".len())
                .any(|w| w == "张三丰".as_bytes())
        );
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_record_with_their_token_until_it_is_revoked() {
    let app = TestApp::sqlite().await;
    let device = json(
        app.post_json(
            "/api/v1/devices",
            &json!({"site": "JD", "name": "thermal-1"}),
            None,
        )
        .await,
        201,
    )
    .await;
    let token = device["token"].as_str().unwrap().to_owned();
    let r = json(
        app.post_as(
            "/api/v1/screenings",
            &reading(json!(36.7), true),
            Some(&token),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(r["decision"], "admit");
    json(
        app.post_as(
            "/api/v1/door-events",
            &json!({"site": "JD", "direction": "out"}),
            Some(&token),
        )
        .await,
        201,
    )
    .await;
    // A device reads nothing and manages nothing.
    assert_eq!(
        app.get_as("/api/v1/screenings", Some(&token))
            .await
            .status(),
        403
    );
    assert_eq!(
        app.get_as("/api/v1/sites", Some(&token)).await.status(),
        403
    );
    let taken = app
        .post_json(
            "/api/v1/devices",
            &json!({"site": "JD", "name": "thermal-1"}),
            None,
        )
        .await;
    assert_eq!(field_codes(taken).await, ["device.name.taken"]);
    let listed = json(app.get("/api/v1/devices").await, 200).await;
    assert_eq!(listed[0]["active"], true);
    let id = device["id"].as_str().unwrap();
    assert_eq!(
        app.client
            .delete(app.url(&format!("/api/v1/devices/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        app.post_as(
            "/api/v1/screenings",
            &reading(json!(36.7), true),
            Some(&token)
        )
        .await
        .status(),
        401
    );
    assert_eq!(
        json(app.get("/api/v1/devices").await, 200).await[0]["active"],
        false
    );
    assert_eq!(records(&app, "").await.len(), 1);
    app.stop().await;
}

async fn publish(client: &rumqttc::AsyncClient, topic: &str, payload: Value) {
    client
        .publish(topic, rumqttc::QoS::AtLeastOnce, false, payload.to_string())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mqtt_reading_is_stored_and_a_malformed_one_never_stops_the_listener() {
    if tokio::net::TcpStream::connect("127.0.0.1:1883")
        .await
        .is_err()
    {
        assert!(
            std::env::var_os("FANGKONG_REQUIRE_MQTT").is_none(),
            "the MQTT broker at 127.0.0.1:1883 is required"
        );
        eprintln!("skipping: no MQTT broker at 127.0.0.1:1883");
        return;
    }
    let clock = Arc::new(FixedClock::new(NOW));
    let app = TestApp::configured(clock, |s| {
        s.mqtt = Some(fangkong_web::mqtt::Broker::parse("mqtt://127.0.0.1:1883").unwrap());
    })
    .await;
    // A site code of this process, so two test runs on one broker do not meet.
    let site = format!("M{}", std::process::id());
    small_hall(&app, &site, 100).await;
    let device = json(
        app.post_json(
            "/api/v1/devices",
            &json!({"site": site, "name": "scanner"}),
            None,
        )
        .await,
        201,
    )
    .await;
    let token = device["token"].as_str().unwrap().to_owned();
    let mut opts = rumqttc::MqttOptions::new(format!("test-{site}"), "127.0.0.1", 1883);
    opts.set_keep_alive(Duration::from_secs(5));
    let (client, mut events) = rumqttc::AsyncClient::new(opts, 16);
    let pump = tokio::spawn(async move { while events.poll().await.is_ok() {} });
    let topic = format!("fangkong/{site}/MAIN/reading");
    let reading = json!({"token": token, "id": "m-1", "subject_kind": "citizen", "temperature_c": 36.6, "mask": true});
    // The listener subscribes once connected: resend (same id) until the record is there.
    let mut stored = Vec::new();
    for _ in 0..50 {
        publish(&client, &topic, reading.clone()).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        stored = records(&app, &format!("site={site}")).await;
        if !stored.is_empty() {
            break;
        }
    }
    assert_eq!(stored.len(), 1, "an MQTT reading is stored");
    assert_eq!(stored[0]["recorded_by"], "device-scanner");
    // Malformed payloads, a bad topic, a bad reading and a wrong token: logged, counted.
    client
        .publish(
            topic.as_str(),
            rumqttc::QoS::AtLeastOnce,
            false,
            "not json {",
        )
        .await
        .unwrap();
    publish(
        &client,
        &topic,
        json!({"token": token, "temperature_c": 99, "subject_kind": "citizen", "mask": true}),
    )
    .await;
    publish(
        &client,
        &topic,
        json!({"token": "wrong", "temperature_c": 36.6, "subject_kind": "citizen", "mask": true}),
    )
    .await;
    publish(
        &client,
        &format!("fangkong/{site}/reading"),
        json!({"token": token}),
    )
    .await;
    // The listener still works: a resend of m-1 is ignored, a new reading and an exit stored.
    publish(&client, &topic, reading.clone()).await;
    publish(&client, &topic, json!({"token": token, "id": "m-2", "subject_kind": "other", "temperature_c": 38.1, "mask": false})).await;
    publish(
        &client,
        &topic,
        json!({"token": token, "id": "m-3", "direction": "out"}),
    )
    .await;
    let mut ok = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = records(&app, &format!("site={site}")).await;
        let inside = occupancy(&app, &site).await.0;
        if now.len() == 2 && inside == 0 {
            assert_eq!(now[0]["decision"], "buffer");
            ok = true;
            break;
        }
    }
    assert!(ok, "the listener kept working after bad messages");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("fangkong_mqtt_messages_total{outcome=\"malformed\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("fangkong_mqtt_messages_total{outcome=\"unauthorised\"}"));
    assert!(metrics.contains("fangkong_mqtt_messages_total{outcome=\"invalid\"}"));
    let _ = client.disconnect().await;
    pump.abort();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_are_filtered_and_exported_and_purged_after_retention() {
    let clock = Arc::new(FixedClock::new(NOW));
    let app = TestApp::with_clock(clock.clone()).await;
    screen(&app, &reading(json!(36.6), true)).await;
    screen(&app, &reading(json!(36.6), false)).await;
    let hot = screen(&app, &reading(json!(38.6), true)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(records(&app, "decision=refuse_no_mask").await.len(), 1);
    assert_eq!(
        records(&app, "from=2020-01-29&until=2020-01-29")
            .await
            .len(),
        3
    );
    assert_eq!(records(&app, "from=2020-01-30").await.len(), 0);
    assert_eq!(
        app.get("/api/v1/screenings?from=yesterday").await.status(),
        422
    );
    // CSV with a byte-order mark and Chinese headers; XLSX is a zip package.
    let csv = app.get_in("/screening/records.csv", "zh-CN").await;
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.unwrap();
    assert!(text.starts_with('\u{feff}'));
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.contains("体温") && text.contains("请佩戴口罩"));
    let xlsx = app.get("/screening/records.xlsx").await;
    assert_eq!(xlsx.status(), 200);
    assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"));
    let log = json(app.get("/api/v1/audit?action=screening.export").await, 200).await;
    assert_eq!(log.as_array().unwrap().len(), 2, "every export is audited");
    // Volunteers record but do not read the records.
    let volunteer = app.token_for("volunteer").await;
    assert_eq!(
        app.get_as("/screening/records.csv", Some(&volunteer))
            .await
            .status(),
        403
    );

    // The hot reading becomes a suspected case; 29 days later the others are purged.
    clock.advance(time::Duration::minutes(6));
    let case = json!({"temperature_c": 38.4, "outcome": "suspected"});
    json(
        app.post_json(&format!("/api/v1/screenings/{hot}/rechecks"), &case, None)
            .await,
        200,
    )
    .await;
    clock.advance(time::Duration::days(29));
    let purged = json(
        app.post_json("/api/v1/screenings/purge", &json!({}), None)
            .await,
        200,
    )
    .await;
    assert_eq!(purged["purged"], 2);
    let left = records(&app, "").await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["id"], hot.as_str());
    let log = json(app.get("/api/v1/audit?action=screening.purge").await, 200).await;
    assert_eq!(log[0]["detail"]["records"], 2);
    assert_eq!(
        app.post_as("/api/v1/screenings/purge", &json!({}), Some(&volunteer))
            .await
            .status(),
        403
    );
    app.stop().await;
}
