//! Every endpoint through real HTTP.

use crate::helpers::{TestApp, event, json};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_the_embedded_store() {
    let app = TestApp::sqlite().await;
    let body = json(app.get("/healthz").await, 200).await;
    assert_eq!(
        body,
        json!({"status": "ok", "database": "sqlite", "version": env!("CARGO_PKG_VERSION")})
    );
    let live = app.get("/livez").await;
    assert_eq!(live.status(), 200);
    assert_eq!(live.text().await.unwrap(), "ok");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_flows_work_on_postgres() {
    let Some(app) = TestApp::postgres("api_flows").await else {
        return;
    };
    let body = json(app.get("/healthz").await, 200).await;
    assert_eq!(body["database"], "postgres");
    let sites = json(app.get("/api/v1/sites").await, 200).await;
    assert_eq!(sites.as_array().unwrap().len(), 13);
    let batch = json!({"events": [event("JD"), event("JD-QX")]});
    let first = json(
        app.post_json("/api/v1/sync/events", &batch, Some("pg-1"))
            .await,
        200,
    )
    .await;
    assert_eq!(first["accepted"].as_array().unwrap().len(), 2);
    let replay = app
        .post_json("/api/v1/sync/events", &batch, Some("pg-1"))
        .await;
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(json(replay, 200).await, first);
    let resend = json(
        app.post_json("/api/v1/sync/events", &batch, None).await,
        200,
    )
    .await;
    assert_eq!(resend["duplicates"].as_array().unwrap().len(), 2);
    let site = json!({"code": "JD-LW", "name": "龙尾镇公共服务中心", "kind": "town", "parent": "JD", "capacity": 30});
    json(
        app.post_json("/api/v1/sites", &site, Some("pg-site")).await,
        201,
    )
    .await;
    let again = json(app.post_json("/api/v1/sites", &site, None).await, 422).await;
    assert_eq!(again["errors"][0]["code"], "site.code.taken");
    // Concurrent requests with one key, on separate connections.
    one_effect_for_racing_requests(&app, 15).await;
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("fangkong_db_pool_connections"),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_by_route_and_show_the_writer() {
    let app = TestApp::sqlite().await;
    app.get("/api/v1/sites/JD").await;
    app.post_json(
        "/api/v1/sync/events",
        &json!({"events": [event("JD")]}),
        None,
    )
    .await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text().await.unwrap();
    for needle in [
        r#"http_requests_total{method="GET",route="/api/v1/sites/{code}",status="200"}"#,
        "http_request_duration_seconds_bucket",
        "fangkong_writer_batch_requests_bucket",
        "fangkong_writer_rows_total",
        "fangkong_writer_queue_depth",
        "fangkong_db_pool_available",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
    assert!(
        !text.contains("/api/v1/sites/JD\""),
        "raw paths must not become labels"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_generated_from_the_code() {
    let app = TestApp::sqlite().await;
    let doc = json(app.get("/api/openapi.json").await, 200).await;
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/healthz",
        "/api/v1/sites",
        "/api/v1/sites/{code}",
        "/api/v1/sync/events",
        "/api/v1/sync/events/{id}",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
    assert!(doc["components"]["schemas"].get("SiteDto").is_some());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sites_are_listed_read_and_created() {
    let app = TestApp::sqlite().await;
    let sites = json(app.get("/api/v1/sites").await, 200).await;
    let sites = sites.as_array().unwrap();
    assert_eq!(sites.len(), 13);
    assert_eq!(sites[0]["code"], "JD");
    assert_eq!(sites[0]["kind"], "district");
    assert_eq!(sites[0]["parent"], serde_json::Value::Null);
    assert!(
        sites
            .iter()
            .any(|s| s["kind"] == "traffic_branch" && s["parent"] == "JD")
    );
    assert!(
        sites
            .iter()
            .filter(|s| s["kind"] == "village")
            .all(|s| s["parent"].as_str().unwrap().len() == 5)
    );

    let one = json(app.get("/api/v1/sites/JD-QX").await, 200).await;
    assert_eq!(one["name"], "曲溪街道公共服务中心");
    assert_eq!(one["capacity"], 50);

    let new = json!({"code": "JD-LW", "name": "龙尾镇公共服务中心", "kind": "town", "parent": "JD", "address": "龙尾镇", "capacity": 30});
    let res = app.post_json("/api/v1/sites", &new, None).await;
    assert_eq!(res.headers()["location"], "/api/v1/sites/JD-LW");
    let created = json(res, 201).await;
    assert_eq!(created["parent"], "JD");
    assert_eq!(
        json(app.get("/api/v1/sites").await, 200)
            .await
            .as_array()
            .unwrap()
            .len(),
        14
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_error_in_the_users_language_and_changes_nothing() {
    let app = TestApp::sqlite().await;
    let taken =
        json!({"code": "JD-QX", "name": "x", "kind": "town", "parent": "JD", "capacity": 5});
    let zh = app.post_json("/api/v1/sites", &taken, None).await;
    assert_eq!(zh.headers()["content-type"], "application/problem+json");
    let zh = json(zh, 422).await;
    assert_eq!(zh["code"], "validation");
    assert_eq!(zh["errors"][0]["field"], "code");
    assert_eq!(zh["errors"][0]["message"], "该站点编号已被使用。");

    let res = app
        .client
        .post(app.url("/api/v1/sites"))
        .header("accept-language", "en-GB,en;q=0.9")
        .json(
            &json!({"code": "JD-X", "name": "X", "kind": "village", "parent": "JD", "capacity": 5}),
        )
        .send()
        .await
        .unwrap();
    let en = json(res, 422).await;
    assert_eq!(en["errors"][0]["code"], "site.parent.wrong_kind");
    assert!(
        en["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Wrong parent kind")
    );

    // Malformed JSON, a missing field, a wrong type, a wrong content type.
    let raw = |body: &'static str, ct: &'static str| {
        app.client
            .post(app.url("/api/v1/sites"))
            .header("content-type", ct)
            .body(body)
            .send()
    };
    assert_eq!(
        json(raw("{not json", "application/json").await.unwrap(), 400).await["code"],
        "body.invalid"
    );
    let missing = json(
        raw(r#"{"code":"A"}"#, "application/json").await.unwrap(),
        422,
    )
    .await;
    assert_eq!(missing["code"], "body.invalid");
    assert!(missing["cause"].as_str().unwrap().contains("missing field"));
    assert_eq!(
        json(
            raw("code=A", "application/x-www-form-urlencoded")
                .await
                .unwrap(),
            415
        )
        .await["code"],
        "body.content_type"
    );

    // Nothing was created by any of it.
    assert_eq!(
        json(app.get("/api/v1/sites").await, 200)
            .await
            .as_array()
            .unwrap()
            .len(),
        13
    );

    // Unknown resources and methods are problems too.
    let nf = json(app.get_in("/api/v1/sites/NOPE", "en").await, 404).await;
    assert_eq!(nf["detail"], "The requested resource does not exist.");
    assert_eq!(
        json(app.get("/api/v1/nothing-here").await, 404).await["code"],
        "not_found"
    );
    let del = app
        .client
        .delete(app.url("/api/v1/sites"))
        .send()
        .await
        .unwrap();
    assert!(del.headers().contains_key("allow"));
    assert_eq!(json(del, 405).await["code"], "method_not_allowed");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_get_413() {
    let app = TestApp::sqlite().await;
    let big = "x".repeat(fangkong_web::BODY_LIMIT + 1);
    let res = app
        .client
        .post(app.url("/api/v1/sync/events"))
        .header("content-type", "application/json")
        .body(format!(r#"{{"events":[],"pad":"{big}"}}"#))
        .send()
        .await
        .unwrap();
    let body = json(res, 413).await;
    assert_eq!(body["code"], "body.too_large");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_replays_the_first_answer_and_writes_once() {
    let app = TestApp::sqlite().await;
    let site = json!({"code": "JD-YH", "name": "玉湖镇公共服务中心", "kind": "town", "parent": "JD", "capacity": 20});
    let first = app.post_json("/api/v1/sites", &site, Some("key-1")).await;
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first = json(first, 201).await;
    let second = app.post_json("/api/v1/sites", &site, Some("key-1")).await;
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    assert_eq!(second.headers()["location"], "/api/v1/sites/JD-YH");
    assert_eq!(json(second, 201).await, first);
    assert_eq!(
        json(app.get("/api/v1/sites").await, 200)
            .await
            .as_array()
            .unwrap()
            .len(),
        14
    );

    // Same key, another body: refused, nothing written.
    let other =
        json!({"code": "JD-ZZ", "name": "另一个", "kind": "town", "parent": "JD", "capacity": 20});
    let conflict = json(
        app.post_json("/api/v1/sites", &other, Some("key-1")).await,
        422,
    )
    .await;
    assert_eq!(conflict["code"], "idempotency.key_reused");
    assert_eq!(
        json(app.get("/api/v1/sites/JD-ZZ").await, 404).await["code"],
        "not_found"
    );

    one_effect_for_racing_requests(&app, 15).await;

    let bad = app
        .post_json("/api/v1/sites", &site, Some(&"k".repeat(256)))
        .await;
    assert_eq!(json(bad, 400).await["code"], "idempotency.key_invalid");
    app.stop().await;
}

/// Eight concurrent requests with one key: exactly one site is created, every request
/// gets the same answer, and the store then holds `expect_sites`.
async fn one_effect_for_racing_requests(app: &TestApp, expect_sites: usize) {
    let racing =
        json!({"code": "JD-RC", "name": "并发", "kind": "town", "parent": "JD", "capacity": 20});
    let answers = futures_join(app, &racing, "key-race").await;
    for a in &answers {
        assert_eq!(a, &answers[0]);
    }
    let sites = json(app.get("/api/v1/sites").await, 200).await;
    assert_eq!(sites.as_array().unwrap().len(), expect_sites);
}

async fn futures_join(
    app: &TestApp,
    body: &serde_json::Value,
    key: &str,
) -> Vec<serde_json::Value> {
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let req = app
            .client
            .post(app.url("/api/v1/sites"))
            .header("idempotency-key", key)
            .json(body);
        tasks.push(tokio::spawn(async move {
            json(req.send().await.unwrap(), 201).await
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_events_are_stored_once_and_read_back() {
    let app = TestApp::sqlite().await;
    let a = event("JD");
    let b = event("JD-XC-01");
    let batch = json!({"events": [a, b]});
    let first = json(
        app.post_json("/api/v1/sync/events", &batch, Some("sync-1"))
            .await,
        200,
    )
    .await;
    assert_eq!(first["accepted"], json!([a["id"], b["id"]]));
    assert_eq!(first["duplicates"], json!([]));
    // A replay with the key returns the first answer; a plain resend reports duplicates.
    let replay = json(
        app.post_json("/api/v1/sync/events", &batch, Some("sync-1"))
            .await,
        200,
    )
    .await;
    assert_eq!(replay, first);
    let resend = json(
        app.post_json("/api/v1/sync/events", &batch, None).await,
        200,
    )
    .await;
    assert_eq!(resend["duplicates"], json!([a["id"], b["id"]]));

    let got = json(
        app.get(&format!(
            "/api/v1/sync/events/{}",
            a["id"].as_str().unwrap()
        ))
        .await,
        200,
    )
    .await;
    assert_eq!(got["site"], "JD");
    assert_eq!(got["payload"], json!({"decision": "admit"}));
    assert_eq!(got["occurred_at"], "2020-01-29T01:30:00Z");

    // One bad event refuses the whole batch, naming it; nothing is stored.
    let good = event("JD");
    let mut bad = event("JD");
    bad["kind"] = json!("Not A Kind");
    let refused = json(
        app.post_json("/api/v1/sync/events", &json!({"events": [good, bad]}), None)
            .await,
        422,
    )
    .await;
    assert_eq!(refused["errors"][0]["code"], "sync.kind.invalid");
    assert_eq!(refused["cause"], "events[1]");
    let path = format!("/api/v1/sync/events/{}", good["id"].as_str().unwrap());
    assert_eq!(app.get(&path).await.status(), 404);

    let unknown = json(
        app.post_json(
            "/api/v1/sync/events",
            &json!({"events": [event("NOPE")]}),
            None,
        )
        .await,
        422,
    )
    .await;
    assert_eq!(unknown["errors"][0]["code"], "site.unknown");
    let empty = json(
        app.post_json("/api/v1/sync/events", &json!({"events": []}), None)
            .await,
        422,
    )
    .await;
    assert_eq!(empty["code"], "sync.batch_size");
    let twice = event("JD");
    let repeated = json(
        app.post_json(
            "/api/v1/sync/events",
            &json!({"events": [twice, twice]}),
            None,
        )
        .await,
        422,
    )
    .await;
    assert_eq!(repeated["errors"][0]["code"], "sync.id.repeated");
    assert_eq!(repeated["cause"], "events[1]");
    let bad_id = app.get("/api/v1/sync/events/not-a-uuid").await;
    assert_eq!(bad_id.headers()["content-type"], "application/problem+json");
    assert_eq!(json(bad_id, 400).await["code"], "request.invalid");
    let mut v4 = event("JD");
    v4["id"] = json!("6f1c2a5e-8a4b-4c1d-9e2f-3a4b5c6d7e8f");
    let not_v7 = json(
        app.post_json("/api/v1/sync/events", &json!({"events": [v4]}), None)
            .await,
        422,
    )
    .await;
    assert_eq!(not_v7["errors"][0]["code"], "sync.id.not_v7");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_updates_stream_over_sse() {
    let app = TestApp::sqlite().await;
    let mut stream = app
        .client
        .get(app.url("/live?topics=sync"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    app.post_json(
        "/api/v1/sync/events",
        &json!({"events": [event("JD")]}),
        None,
    )
    .await;
    let mut seen = String::new();
    let deadline = tokio::time::sleep(std::time::Duration::from_secs(10));
    tokio::pin!(deadline);
    while !seen.contains("event: sync") {
        tokio::select! {
            chunk = stream.chunk() => seen.push_str(&String::from_utf8_lossy(&chunk.unwrap().unwrap())),
            () = &mut deadline => panic!("no live notice within 10 s; got {seen:?}"),
        }
    }
    let panel = app.get("/panels/sync").await.text().await.unwrap();
    assert!(
        panel.contains(r#"<span id="sync-today">1</span>"#),
        "{panel}"
    );
    drop(stream);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_speak_chinese_first_and_english_on_request() {
    let app = TestApp::sqlite().await;
    let res = app.get("/").await;
    assert_eq!(res.status(), 200);
    for h in [
        "content-security-policy",
        "x-content-type-options",
        "x-frame-options",
        "x-request-id",
    ] {
        assert!(res.headers().contains_key(h), "{h}");
    }
    let zh = res.text().await.unwrap();
    assert!(zh.contains(r#"<html lang="zh-CN">"#));
    assert!(
        zh.contains("工作台") && zh.contains("揭东区政务服务中心") && zh.contains("内置 SQLite")
    );
    let en = app
        .get_in("/", "en-US,en;q=0.9")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        en.contains(r#"<html lang="en">"#)
            && en.contains("Dashboard")
            && en.contains("Town/street service centre")
    );

    // The language switch keeps the choice in a cookie and never redirects off-site.
    let switch = app.get("/lang/en?next=/").await;
    assert_eq!(switch.status(), 303);
    assert!(
        switch.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("lang=en;")
    );
    for evil in [
        "//evil.example",
        "/%09/evil.example",
        "/%5Cevil.example",
        "/%0A",
    ] {
        let res = app.get(&format!("/lang/en?next={evil}")).await;
        assert_eq!(res.status(), 303, "{evil}");
        assert_eq!(res.headers()["location"], "/", "{evil}");
    }
    let chosen = app
        .client
        .get(app.url("/"))
        .header("cookie", "lang=en")
        .header("accept-language", "zh-CN")
        .send()
        .await
        .unwrap();
    assert!(chosen.text().await.unwrap().contains("Dashboard"));

    let nf = app.get("/no/such/page").await;
    assert_eq!(nf.status(), 404);
    assert!(nf.text().await.unwrap().contains("页面不存在"));
    let nf_en = app
        .get_in("/no/such/page", "en")
        .await
        .text()
        .await
        .unwrap();
    assert!(nf_en.contains("Page not found"));

    let css = app.get("/static/app.css").await;
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    let htmx = app.get("/static/vendor/htmx-2.0.11.min.js").await;
    assert_eq!(htmx.status(), 200);
    assert_eq!(app.get("/static/nope.js").await.status(), 404);
    app.stop().await;
}
