//! The hotline through HTTP: intake with duplicate suggestions, the workflow from transfer
//! to close with a department's account, bad input, Chinese search, and the calendar.

use crate::helpers::{TestApp, json};
use serde_json::json;

async fn flow(app: &TestApp) {
    let hotline = app.token_for("hotline").await;
    let dept = app.token_for("department").await;
    let h = Some(hotline.as_str());
    let d = Some(dept.as_str());

    // Intake, and a near-duplicate from the same caller.
    let first = json(
        app.post_as(
            "/api/v1/tickets",
            &json!({"channel": "phone", "category": "price_gouging",
                "content": "曲溪街道XX大药房口罩卖50元一个，明显哄抬物价，请相关部门查处",
                "caller_name": "张三", "caller_phone": "13800138000", "place": "曲溪街道", "urgent": false}),
            h,
        )
        .await,
        201,
    )
    .await;
    let number = first["number"].as_str().unwrap().to_owned();
    assert!(number.starts_with("RX") && number.len() == 15, "{number}");
    assert!(first["duplicates"].as_array().unwrap().is_empty());
    let id = first["id"].as_str().unwrap().to_owned();
    let second = json(
        app.post_as(
            "/api/v1/tickets",
            &json!({"channel": "wechat", "category": "price_gouging",
                "content": "曲溪街道XX大药房口罩50元一个，哄抬物价，请尽快查处",
                "caller_phone": "13800138000"}),
            h,
        )
        .await,
        201,
    )
    .await;
    let dups = second["duplicates"].as_array().unwrap();
    assert_eq!(dups.len(), 1, "{second}");
    assert_eq!(dups[0]["number"], number.as_str());
    assert_eq!(dups[0]["same_caller"], true);
    assert!(dups[0]["similarity"].as_f64().unwrap() >= 0.5);
    let second_id = second["id"].as_str().unwrap().to_owned();

    // Bad input changes nothing.
    for bad in [
        json!({"channel": "phone", "category": "price_gouging", "content": "  "}),
        json!({"channel": "phone", "category": "gossip", "content": "口罩"}),
        json!({"channel": "fax", "category": "other", "content": "口罩"}),
    ] {
        let v = json(app.post_as("/api/v1/tickets", &bad, h).await, 422).await;
        assert_eq!(v["code"], "validation", "{v}");
    }
    let v = json(
        app.post_as(
            &format!("/api/v1/tickets/{id}/transfer"),
            &json!({"department": "NOPE"}),
            h,
        )
        .await,
        422,
    )
    .await;
    assert_eq!(v["errors"][0]["code"], "hotline.department.unknown");

    // Transfer with a co-handler; the department sees only what is sent to it.
    let t = json(
        app.post_as(
            &format!("/api/v1/tickets/{id}/transfer"),
            &json!({"department": "SCJG", "co_departments": ["WJJ"], "workdays": 3, "text": "请核查"}),
            h,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(t["status"], "transferred");
    assert_eq!(
        app.get_as(&format!("/api/v1/tickets/{second_id}"), d)
            .await
            .status(),
        404
    );
    let seen = json(app.get_as(&format!("/api/v1/tickets/{id}"), d).await, 200).await;
    assert_eq!(
        seen["caller_phone"], "138****8000",
        "masked for the department"
    );
    let listed = json(app.get_as("/api/v1/tickets", d).await, 200).await;
    assert_eq!(listed["total"], 1, "{listed}");
    // The department cannot transfer; the hotline cannot reply.
    assert_eq!(
        app.post_as(
            &format!("/api/v1/tickets/{id}/transfer"),
            &json!({"department": "WJJ"}),
            d
        )
        .await
        .status(),
        403
    );
    assert_eq!(
        app.post_as(
            &format!("/api/v1/tickets/{id}/reply"),
            &json!({"text": "x"}),
            h
        )
        .await
        .status(),
        403
    );

    // Reply, return, reply, accept, follow up, close.
    let step = |path: &'static str, body: serde_json::Value, token: Option<&str>| {
        let url = format!("/api/v1/tickets/{id}/{path}");
        let token = token.map(str::to_owned);
        async move { json(app.post_as(&url, &body, token.as_deref()).await, 200).await }
    };
    assert_eq!(
        step("reply", json!({"text": "已立案调查"}), d).await["status"],
        "replied"
    );
    assert_eq!(
        step(
            "review",
            json!({"accept": false, "text": "请补充处理结果"}),
            h
        )
        .await["status"],
        "returned"
    );
    assert_eq!(
        step("reply", json!({"text": "已责令降价并罚款"}), d).await["status"],
        "replied"
    );
    assert_eq!(
        step("review", json!({"accept": true}), h).await["status"],
        "accepted"
    );
    assert_eq!(
        step(
            "follow-up",
            json!({"satisfaction": "satisfied", "text": "来电人满意"}),
            h
        )
        .await["status"],
        "followed_up"
    );
    assert_eq!(step("close", json!({}), h).await["status"], "closed");
    let v = json(
        app.post_as(
            &format!("/api/v1/tickets/{id}/reply"),
            &json!({"text": "再答复"}),
            d,
        )
        .await,
        409,
    )
    .await;
    assert_eq!(v["code"], "hotline.wrong_status");
    let full = json(app.get_as(&format!("/api/v1/tickets/{id}"), h).await, 200).await;
    let kinds: Vec<&str> = full["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "created",
            "transferred",
            "replied",
            "returned",
            "replied",
            "accepted",
            "followed_up",
            "closed"
        ]
    );
    assert_eq!(full["satisfaction"], "satisfied");

    // Merge the duplicate into a live ticket: answered together.
    let third = json(
        app.post_as(
            "/api/v1/tickets",
            &json!({"channel": "phone", "category": "prevention_question", "content": "从湖北返乡人员需要居家隔离多少天？"}),
            h,
        )
        .await,
        201,
    )
    .await;
    let third_id = third["id"].as_str().unwrap();
    let m = json(
        app.post_as(
            &format!("/api/v1/tickets/{second_id}/merge"),
            &json!({"into": third["number"]}),
            h,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(m["status"], "merged");
    let parent = json(
        app.get_as(&format!("/api/v1/tickets/{third_id}"), h).await,
        200,
    )
    .await;
    assert_eq!(parent["merged"][0]["id"], second_id.as_str());

    // Search: words of two and one characters, a number, filters; matches highlighted.
    let found = json(
        app.get_as("/api/v1/tickets?q=%E5%8F%A3%E7%BD%A9", h).await,
        200,
    )
    .await;
    assert_eq!(found["total"], 2, "{found}");
    let marked: Vec<&str> = found["items"][0]["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["hit"] == true)
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert!(marked.contains(&"口罩"), "{found}");
    let one = json(app.get_as("/api/v1/tickets?q=%E8%8D%AF", h).await, 200).await;
    assert_eq!(one["total"], 2, "one character (药) inside 大药房: {one}");
    let by_number = json(
        app.get_as(&format!("/api/v1/tickets?q={number}"), h).await,
        200,
    )
    .await;
    assert_eq!(by_number["items"][0]["id"], id.as_str());
    let filtered = json(
        app.get_as("/api/v1/tickets?q=%E5%8F%A3%E7%BD%A9&status=closed", h)
            .await,
        200,
    )
    .await;
    assert_eq!(filtered["total"], 1);
    let none = json(
        app.get_as("/api/v1/tickets?q=%E6%A0%B8%E9%85%B8", h).await,
        200,
    )
    .await;
    assert_eq!(none["total"], 0);
    assert_eq!(
        app.get_as("/api/v1/tickets?category=gossip", h)
            .await
            .status(),
        422
    );

    // The knowledge base: an answer the group keeps, offered on a ticket about masks.
    let kb = json(
        app.post_as(
            "/api/v1/hotline/answers",
            &json!({"title": "口罩价格投诉怎么处理", "body": "转区市场监督管理局核查，一般三个工作日内答复。", "published": true}),
            h,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(kb["published"], true);
    assert_eq!(
        app.post_as(
            "/api/v1/hotline/answers",
            &json!({"title": " ", "body": "x"}),
            h
        )
        .await
        .status(),
        422
    );

    // Stored XSS stays text in the JSON and the page.
    let x = json(
        app.post_as(
            "/api/v1/tickets",
            &json!({"channel": "web", "category": "other", "content": "<script>alert(1)</script>口罩"}),
            h,
        )
        .await,
        201,
    )
    .await;
    let page = app
        .get_as(
            &format!("/hotline/tickets/{}", x["id"].as_str().unwrap()),
            h,
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("alert(1)") && page.contains("口罩"));
    assert!(page.contains("id=\"kb-suggestions\"") && page.contains("口罩价格投诉怎么处理"));
    assert!(!page.contains("<script>alert(1)"));

    // The day's report carries the hotline section.
    let report = json(app.get("/api/v1/reports/daily?site=JD").await, 200).await;
    let section = report["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "hotline")
        .cloned()
        .unwrap_or_else(|| panic!("no hotline section: {report}"));
    let row = |k: &str| {
        section["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == k)
            .map(|r| r["n"].clone())
    };
    assert_eq!(row("taken"), Some(json!(4)));
    assert_eq!(row("price_gouging"), Some(json!(2)));

    // The pages around the workbench.
    let page = |path: &'static str| {
        let token = hotline.clone();
        async move {
            let res = app.get_as(path, Some(&token)).await;
            assert_eq!(res.status(), 200, "{path}");
            res.text().await.unwrap()
        }
    };
    let similar = page("/hotline/similar?content=%E6%9B%B2%E6%BA%AA%E8%A1%97%E9%81%93XX%E5%A4%A7%E8%8D%AF%E6%88%BF%E5%8F%A3%E7%BD%A950%E5%85%83%E4%B8%80%E4%B8%AA%EF%BC%8C%E5%93%84%E6%8A%AC%E7%89%A9%E4%BB%B7").await;
    assert!(similar.contains(&number), "{similar}");
    assert!(page("/hotline/hot").await.contains("id=\"hot-tickets\""));
    let workbench = page("/hotline").await;
    assert!(
        workbench.contains("id=\"summary-total\""),
        "the day's summary on the hotline page"
    );
    let settings = page("/hotline/settings").await;
    assert!(settings.contains("区市场监督管理局") && settings.contains("department"));
    let cal = page("/calendar?month=2020-02").await;
    assert!(
        cal.contains("data-date=\"2020-02-01\" data-workday=\"false\""),
        "{cal}"
    );
    assert!(cal.contains("data-date=\"2020-02-03\" data-workday=\"true\""));
    assert!(
        page("/calendar?month=2027-01")
            .await
            .contains("calendar-no-data")
    );

    // Summary and supervision answer.
    let s = json(app.get_as("/api/v1/hotline/summary", h).await, 200).await;
    assert_eq!(s["total"], 4, "{s}");
    json(app.get_as("/api/v1/hotline/supervision", h).await, 200).await;
    let xlsx = app.get_as("/hotline/summary.xlsx", h).await;
    assert_eq!(xlsx.status(), 200);
    assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_run_from_intake_to_close_on_sqlite() {
    let app = TestApp::sqlite().await;
    flow(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_run_from_intake_to_close_on_postgres() {
    let Some(app) = TestApp::postgres("hotline_flow").await else {
        return;
    };
    flow(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calendar_follows_the_notices_and_refuses_to_guess() {
    let app = TestApp::sqlite().await;
    let day = |d: &'static str| {
        let app = &app;
        async move {
            json(
                app.get_as(&format!("/api/v1/calendar/{d}"), None).await,
                200,
            )
            .await
        }
    };
    let sf = day("2020-02-01").await;
    assert_eq!(
        (sf["workday"].as_bool(), sf["name"].as_str()),
        (Some(false), Some("春节"))
    );
    assert_eq!(day("2020-01-19").await["workday"], true);
    assert_eq!(day("2020-02-03").await["workday"], true);
    assert_eq!(day("2026-02-28").await["kind"], "makeup");
    let due = |q: &'static str| {
        let app = &app;
        async move {
            app.get_as(&format!("/api/v1/calendar/deadline?{q}"), None)
                .await
        }
    };
    assert_eq!(
        json(due("start=2020-01-23&workdays=1").await, 200).await["due"],
        "2020-02-03"
    );
    assert_eq!(
        json(due("start=2020-09-30&workdays=2").await, 200).await["due"],
        "2020-10-10"
    );
    let v = json(due("start=2026-12-30&workdays=5").await, 422).await;
    assert_eq!(v["code"], "calendar.no_data");
    assert!(v["detail"].as_str().unwrap().contains("2019"), "{v}");
    assert_eq!(
        json(app.get_as("/api/v1/calendar/2027-01-04", None).await, 422).await["code"],
        "calendar.no_data"
    );
    // An administrator closes a day; deadlines follow.
    let o = json(
        app.post_json(
            "/api/v1/calendar/2026-12-01",
            &json!({"workday": false, "name": "临时闭厅"}),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(o["kind"], "override");
    assert_eq!(
        json(due("start=2026-11-30&workdays=1").await, 200).await["due"],
        "2026-12-02"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citizens_report_through_the_public_form() {
    let app = TestApp::sqlite().await;
    let page = app.get_as("/hotline/report", None).await;
    assert_eq!(page.status(), 200);
    let cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| c.starts_with("fk_csrf="))
        .expect("a CSRF cookie for the public");
    let html = page.text().await.unwrap();
    assert!(html.contains("id=\"privacy-notice\""));
    let field = |name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        let at = html.find(&marker).unwrap() + marker.len();
        html[at..].split('"').next().unwrap().to_owned()
    };
    let (csrf, key) = (field("_csrf"), field("form_key"));
    let post = |body: String| {
        app.anon
            .post(app.url("/hotline/report"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", cookie.clone())
            .body(body)
            .send()
    };
    // Empty content: the form again with the error, nothing stored.
    let again = post(format!(
        "_csrf={csrf}&form_key={key}&category=other&content="
    ))
    .await
    .unwrap();
    assert_eq!(again.status(), 200);
    assert!(again.text().await.unwrap().contains("请填写内容"));
    let body = format!(
        "_csrf={csrf}&form_key={key}&category=hardship&content={}&caller_phone=13900139000",
        fangkong_web::home::encode("独居老人生活物资不够，请求帮助")
    );
    let done = post(body.clone()).await.unwrap().text().await.unwrap();
    assert!(done.contains("id=\"public-number\""), "{done}");
    // A second click of the same form stores nothing more.
    post(body).await.unwrap();
    let listed = json(app.get("/api/v1/tickets").await, 200).await;
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(listed["items"][0]["category"], "hardship");
}
