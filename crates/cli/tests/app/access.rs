//! Accounts and access through real HTTP: the role × route matrix, sign-in and lockout,
//! sessions and their timeouts, CSRF, setup, subtrees, personal data masked and revealed,
//! the audit chain, and `fangkong user add` / `fangkong audit verify`.

use crate::helpers::{NOW, TestApp, json};
use fangkong_domain::access::Role;
use fangkong_domain::clock::FixedClock;
use fangkong_web::access::ROUTES;
use serde_json::json;
use std::process::{Command, Stdio};
use std::sync::Arc;

const BIN: &str = env!("CARGO_BIN_EXE_fangkong");

/// A concrete address for a routed path.
fn concrete(path: &str) -> String {
    let nil = "01900000-0000-7000-8000-000000000000";
    path.replace("{code}", "JD")
        .replace("{tag}", "en")
        .replace("{*path}", "app.css")
        .replace("{id}", nil)
        .replace("{person}", nil)
        .replace("{field}", "name")
        .replace("{kind}", "support")
        .replace("{site}", "JD")
        .replace("{checkpoint}", "MAIN")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_every_role_as_the_permission_table_says() {
    let app = TestApp::sqlite().await;
    let mut tokens: Vec<(Role, Option<String>)> = vec![(Role::Public, None)];
    for role in Role::assignable() {
        let username = role.as_str().replace('_', "-");
        tokens.push((role, Some(app.token_for(&username).await)));
    }
    let mut checked = 0;
    for (method, path, permission) in ROUTES {
        let url = app.url(&concrete(path));
        for (role, token) in &tokens {
            let mut req = match *method {
                "GET" => app.anon.get(&url),
                "POST" => app.anon.post(&url),
                "DELETE" => app.anon.delete(&url),
                other => panic!("method {other} not covered by this test"),
            };
            if *method == "POST" {
                req = if path.starts_with("/api/") {
                    req.json(&json!({}))
                } else {
                    // A browser form with its anti-forgery pair, so only permission decides.
                    req.header("content-type", "application/x-www-form-urlencoded")
                        .header("cookie", "fk_csrf=matrix")
                        .body("_csrf=matrix")
                };
            }
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let location = res
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_owned())
                .unwrap_or_default();
            // A live stream never ends: its headers are the answer.
            let streaming = res
                .headers()
                .get("content-type")
                .is_some_and(|c| c == "text/event-stream");
            let body = if streaming {
                String::new()
            } else {
                res.text().await.unwrap()
            };
            let code = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["code"].as_str().map(str::to_owned))
                .unwrap_or_default();
            // A refusal by the gate (not, say, a failed sign-in on the sign-in route).
            let refused = if path.starts_with("/api/") {
                ["auth.required", "forbidden"].contains(&code.as_str())
            } else {
                status == 403 || (status == 303 && location.starts_with("/login?next="))
            };
            let allowed = role.can(*permission);
            let what = format!("{method} {path} as {}: {status} {code}", role.as_str());
            if allowed {
                assert!(!refused, "refused but granted: {what}");
            } else if *role == Role::Public {
                assert!(
                    refused && status != 403,
                    "public not sent to sign in: {what}"
                );
            } else {
                assert!(refused && status == 403, "allowed but not granted: {what}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, ROUTES.len() * 13);

    // Every operation of the API document has a declared permission.
    let doc = json(app.get("/api/openapi.json").await, 200).await;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let m = method.to_uppercase();
            assert!(
                ROUTES.iter().any(|(rm, rp, _)| *rm == m && rp == path),
                "{m} {path} has no declared permission"
            );
        }
    }
    app.stop().await;
}

/// Signs in through the form as a browser would; returns the session cookie.
async fn form_sign_in(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    let page = app.anon.get(app.url("/login")).send().await.unwrap();
    let csrf_cookie = set_cookie(&page, "fk_csrf").expect("a CSRF cookie with the form");
    let html = page.text().await.unwrap();
    let token = hidden(&html, "_csrf");
    assert_eq!(token, csrf_cookie);
    app.anon
        .post(app.url("/login"))
        .header("cookie", format!("fk_csrf={csrf_cookie}"))
        .form(&[
            ("_csrf", token.as_str()),
            ("username", username),
            ("password", password),
            ("next", "/account"),
        ])
        .send()
        .await
        .unwrap()
}

/// The value a response sets for cookie `name`.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap_or("").to_owned())
}

/// The value of a hidden field in a page.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_start_at_sign_in_end_when_idle_and_refuse_forgeries() {
    let clock = Arc::new(FixedClock::new(NOW));
    let app = TestApp::with_clock(clock.clone()).await;
    let res = form_sign_in(&app, "leader", &app.password("leader")).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/account");
    let raw = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("fk_session="))
        .unwrap();
    assert!(
        raw.contains("HttpOnly") && raw.contains("SameSite=Lax"),
        "{raw}"
    );
    assert!(
        !raw.contains("Secure"),
        "plain HTTP without a TLS proxy: {raw}"
    );
    let session = set_cookie(&res, "fk_session").unwrap();
    let cookie = format!("fk_session={session}");
    let get = |path: &str| {
        app.anon
            .get(app.url(path))
            .header("cookie", cookie.clone())
            .send()
    };
    let account = get("/account").await.unwrap();
    assert_eq!(account.status(), 200);
    let html = account.text().await.unwrap();
    assert!(html.contains("leader"));
    let csrf = hidden(&html, "_csrf");

    // A state-changing request without the token is refused and changes nothing.
    let forged = app
        .anon
        .post(app.url("/logout"))
        .header("cookie", cookie.clone())
        .form(&[("x", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(get("/account").await.unwrap().status(), 200);

    // Behind a TLS proxy the cookie is marked Secure.
    let tls = app
        .anon
        .get(app.url("/login"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    let c = tls.headers()["set-cookie"].to_str().unwrap();
    assert!(c.contains("Secure"), "{c}");

    // 29 idle minutes are fine; 31 are not.
    clock.advance(time::Duration::minutes(29));
    assert_eq!(get("/account").await.unwrap().status(), 200);
    clock.advance(time::Duration::minutes(31));
    let expired = get("/account").await.unwrap();
    assert_eq!(expired.status(), 303);
    let to = expired.headers()["location"].to_str().unwrap();
    assert_eq!(to, "/login?next=/account&expired=1");

    // The absolute limit: active every 20 minutes, still out after 12 hours.
    let res = form_sign_in(&app, "leader", &app.password("leader")).await;
    let cookie = format!("fk_session={}", set_cookie(&res, "fk_session").unwrap());
    for _ in 0..35 {
        clock.advance(time::Duration::minutes(20));
        let r = app
            .anon
            .get(app.url("/account"))
            .header("cookie", cookie.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    clock.advance(time::Duration::minutes(20));
    let r = app
        .anon
        .get(app.url("/account"))
        .header("cookie", cookie.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "a session lasts at most 12 hours");

    // A tampered cookie or token reveals nothing.
    let tampered = app
        .anon
        .get(app.url("/org"))
        .header("cookie", "fk_session=forged")
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status(), 303);
    let api = app.get_as("/api/v1/sites", Some("fk_forged")).await;
    assert_eq!(api.headers()["www-authenticate"], "Bearer");
    let body = json(api, 401).await;
    assert_eq!(body["code"], "auth.token_invalid");
    assert!(body.get("errors").is_none());

    // Signing out with the token ends the session.
    let res = form_sign_in(&app, "leader", &app.password("leader")).await;
    let cookie = format!("fk_session={}", set_cookie(&res, "fk_session").unwrap());
    let page = app
        .anon
        .get(app.url("/account"))
        .header("cookie", cookie.clone())
        .send()
        .await
        .unwrap();
    let csrf2 = hidden(&page.text().await.unwrap(), "_csrf");
    assert_ne!(csrf, csrf2, "each session has its own token");
    let out = app
        .anon
        .post(app.url("/logout"))
        .header("cookie", cookie.clone())
        .form(&[("_csrf", csrf2.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert!(set_cookie(&out, "fk_session").unwrap().is_empty());
    let after = app
        .anon
        .get(app.url("/account"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 303);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_failures_look_the_same_and_lock_after_five() {
    let clock = Arc::new(FixedClock::new(NOW));
    let app = TestApp::with_clock(clock.clone()).await;
    let attempt = |user: &str, pw: &str| {
        let body = json!({"username": user, "password": pw});
        let app = &app;
        async move { app.post_as("/api/v1/auth/token", &body, None).await }
    };
    let unknown = attempt("nobody", "Wrong-password-1").await;
    let (s1, b1) = (unknown.status(), unknown.text().await.unwrap());
    let wrong = attempt("leader", "Wrong-password-1").await;
    let (s2, b2) = (wrong.status(), wrong.text().await.unwrap());
    assert_eq!(
        (s1.as_u16(), &b1),
        (s2.as_u16(), &b2),
        "unknown user and wrong password differ"
    );
    assert_eq!(s1, 401);

    // Three more failures for "leader": five in all from this address.
    for _ in 0..3 {
        assert_eq!(attempt("leader", "Wrong-password-2").await.status(), 401);
    }
    let locked = attempt("leader", &app.password("leader")).await;
    assert_eq!(json(locked, 429).await["code"], "auth.locked");
    // The address is locked too, for every account.
    assert_eq!(attempt("admin", &app.password("admin")).await.status(), 429);
    // The form says so in words.
    let form = form_sign_in(&app, "support", &app.password("support")).await;
    assert_eq!(form.status(), 429);
    assert!(form.text().await.unwrap().contains("尝试次数过多"));

    // After the window, the right password works again.
    clock.advance(time::Duration::minutes(16));
    assert_eq!(
        attempt("leader", &app.password("leader")).await.status(),
        201
    );

    // Every failure is in the audit log, with the name typed and the address.
    let log = json(
        app.get("/api/v1/audit?action=auth.login&outcome=failed")
            .await,
        200,
    )
    .await;
    let failed = log.as_array().unwrap();
    assert_eq!(failed.len(), 5);
    assert!(failed.iter().any(|e| e["actor"] == "?"
        && e["detail"]["known_user"] == false
        && e["addr"] == "127.0.0.1"));
    // A name that is no account is not kept (it may be a mistyped password).
    let all = app.get("/api/v1/audit").await.text().await.unwrap();
    assert!(!all.contains("nobody"));
    let denied = json(
        app.get("/api/v1/audit?action=auth.login&outcome=denied")
            .await,
        200,
    )
    .await;
    assert_eq!(denied.as_array().unwrap().len(), 3);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_listed_and_revoked_and_passwords_follow_the_policy() {
    let app = TestApp::sqlite().await;
    let token = app.token_for("window").await;
    let list = json(app.get_as("/api/v1/auth/tokens", Some(&token)).await, 200).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let id = list[0]["id"].as_str().unwrap().to_owned();
    assert!(list[0].get("token").is_none(), "secrets are never listed");
    // Someone else cannot revoke it; its owner can.
    let other = app.token_for("hotline").await;
    let res = app
        .anon
        .delete(app.url(&format!("/api/v1/auth/tokens/{id}")))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = app
        .anon
        .delete(app.url(&format!("/api/v1/auth/tokens/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(
        app.get_as("/api/v1/sites", Some(&token)).await.status(),
        401
    );

    // Accounts: a taken name and weak passwords are refused in the user's language.
    let admin = app.admin_token.clone();
    let post = |body: serde_json::Value| {
        let admin = admin.clone();
        let req = app
            .anon
            .post(app.url("/api/v1/users"))
            .bearer_auth(admin)
            .header("accept-language", "zh-CN")
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    let taken = json(post(json!({"username": "leader", "role": "leader", "site": "JD", "password": "Jiedong-safe-2020"})).await, 422).await;
    assert_eq!(taken["errors"][0]["code"], "user.username.taken");
    assert_eq!(taken["errors"][0]["message"], "该用户名已被使用。");
    for (pw, code) in [
        ("short1", "password.short"),
        ("password123", "password.common"),
        ("0987654321", "password.simple"),
        ("qx-leader-2020", "password.username"),
    ] {
        let body = json(
            post(
                json!({"username": "qx-leader", "role": "leader", "site": "JD-QX", "password": pw}),
            )
            .await,
            422,
        )
        .await;
        assert_eq!(body["errors"][0]["field"], "password", "{pw}");
        assert_eq!(body["errors"][0]["code"], code, "{pw}");
    }
    let bad_role = json(post(json!({"username": "qx-x", "role": "public", "site": "JD-QX", "password": "Jiedong-safe-2020"})).await, 422).await;
    assert_eq!(bad_role["errors"][0]["field"], "role");
    let users = json(app.get("/api/v1/users").await, 200).await;
    assert_eq!(users.as_array().unwrap().len(), 12, "nothing was saved");
    let made = json(post(json!({"username": "qx-leader", "role": "leader", "site": "JD-QX", "password": "Quxi-centre-2020"})).await, 201).await;
    assert_eq!(made["site"], "JD-QX");
    app.stop().await;
}

/// A leader of one town centre sees that centre and its villages, nothing else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_of_other_subtrees_do_not_exist_for_you() {
    let app = TestApp::sqlite().await;
    let made = app
        .post_json(
            "/api/v1/users",
            &json!({"username": "qx-leader", "role": "leader", "site": "JD-QX", "password": "Quxi-centre-2020"}),
            None,
        )
        .await;
    assert_eq!(made.status(), 201);
    // A new account chooses its own password before it gets a token.
    let first = json!({"username": "qx-leader", "password": "Quxi-centre-2020"});
    let res = app.post_as("/api/v1/auth/token", &first, None).await;
    assert_eq!(json(res, 403).await["code"], "password.must_change");
    let weak =
        json!({"username": "qx-leader", "password": "Quxi-centre-2020", "new_password": "123"});
    let res = app.post_as("/api/v1/auth/token", &weak, None).await;
    assert_eq!(json(res, 422).await["errors"][0]["field"], "new_password");
    let chosen = json!({"username": "qx-leader", "password": "Quxi-centre-2020", "new_password": "Quxi-leader-own-2020"});
    let res = app.post_as("/api/v1/auth/token", &chosen, None).await;
    let qx = json(res, 201).await["token"].as_str().unwrap().to_owned();
    let sites = json(app.get_as("/api/v1/sites", Some(&qx)).await, 200).await;
    let codes: Vec<_> = sites
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["JD-QX", "JD-QX-01", "JD-QX-02"]);
    for path in [
        "/api/v1/sites/JD",
        "/api/v1/sites/JD-PD",
        "/api/v1/sites/JD/people",
        "/api/v1/sites/JD-PD-01/groups",
    ] {
        assert_eq!(app.get_as(path, Some(&qx)).await.status(), 404, "{path}");
    }
    // A person of the district hall, by id: not found, and not revealable.
    let hall = json(app.get("/api/v1/sites/JD/people").await, 200).await;
    let id = hall[0]["id"].as_str().unwrap();
    assert_eq!(
        app.get_as(&format!("/api/v1/people/{id}"), Some(&qx))
            .await
            .status(),
        404
    );
    let reveal = app
        .post_as(
            &format!("/api/v1/people/{id}/reveal"),
            &json!({"field": "phone"}),
            Some(&qx),
        )
        .await;
    assert_eq!(reveal.status(), 404);
    // Their own people are visible; a site under another town cannot be created.
    let own = json(
        app.get_as("/api/v1/sites/JD-QX/people", Some(&qx)).await,
        200,
    )
    .await;
    assert_eq!(own.as_array().unwrap().len(), 3);
    let elsewhere = app
        .post_as(
            "/api/v1/sites",
            &json!({"code": "JD-PD-09", "name": "x", "kind": "village", "parent": "JD-PD", "capacity": 10}),
            Some(&qx),
        )
        .await;
    assert_eq!(
        json(elsewhere, 422).await["errors"][0]["code"],
        "site.parent.unknown"
    );
    let mine = app
        .post_as(
            "/api/v1/sites",
            &json!({"code": "JD-QX-09", "name": "新村党群服务中心", "kind": "village", "parent": "JD-QX", "capacity": 10}),
            Some(&qx),
        )
        .await;
    assert_eq!(mine.status(), 201);

    // An administrator of the town forwards records for the town only, and reads only those.
    let made = app
        .post_json(
            "/api/v1/users",
            &json!({"username": "qx-admin", "role": "admin", "site": "JD-QX", "password": "Quxi-admin-2020"}),
            None,
        )
        .await;
    assert_eq!(made.status(), 201);
    let res = app
        .post_as(
            "/api/v1/auth/token",
            &json!({"username": "qx-admin", "password": "Quxi-admin-2020", "new_password": "Quxi-admin-own-2020"}),
            None,
        )
        .await;
    let qx_admin = json(res, 201).await["token"].as_str().unwrap().to_owned();
    let theirs = crate::helpers::event("JD");
    let refused = app
        .post_as(
            "/api/v1/sync/events",
            &json!({"events": [crate::helpers::event("JD-QX-01"), theirs.clone()]}),
            Some(&qx_admin),
        )
        .await;
    let body = json(refused, 422).await;
    assert_eq!(
        (body["errors"][0]["code"].as_str(), body["cause"].as_str()),
        (Some("site.unknown"), Some("events[1]"))
    );
    assert_eq!(
        app.post_json(
            "/api/v1/sync/events",
            &json!({"events": [theirs.clone()]}),
            None
        )
        .await
        .status(),
        200
    );
    let path = format!("/api/v1/sync/events/{}", theirs["id"].as_str().unwrap());
    assert_eq!(app.get_as(&path, Some(&qx_admin)).await.status(), 404);
    assert_eq!(app.get(&path).await.status(), 200);
    app.stop().await;
}

const ID: &str = "44520319880715061X";
const PHONE: &str = "13912345678";

fn check_digit_ok() -> bool {
    let today = time::macros::date!(2020 - 01 - 29);
    fangkong_domain::privacy::IdNumber::parse(ID, "id", today).is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_data_is_validated_masked_revealed_by_permission_and_audited() {
    assert!(check_digit_ok(), "the test's ID number is valid");
    let app = TestApp::sqlite().await;
    let support = app.token_for("support").await;
    let count = |app: &TestApp| {
        let req = app.client.get(app.url("/api/v1/sites/JD/people"));
        async move {
            json(req.send().await.unwrap(), 200)
                .await
                .as_array()
                .unwrap()
                .len()
        }
    };
    let before = count(&app).await;
    let bad = json!({"site": "JD", "kind": "staff", "name": " ", "phone": "1391234567", "id_number": "445203198807150617"});
    let res = app
        .anon
        .post(app.url("/api/v1/people"))
        .bearer_auth(&support)
        .header("accept-language", "zh-CN")
        .json(&bad)
        .send()
        .await
        .unwrap();
    let body = json(res, 422).await;
    let codes: Vec<_> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["person_name.empty", "phone.invalid", "id_number.checksum"]
    );
    assert_eq!(
        body["errors"][2]["message"],
        "身份证号码校验位不正确，请核对。"
    );
    let feb30 =
        json!({"site": "JD", "kind": "staff", "name": "陈晓", "id_number": "445203198802300615"});
    let body = json(
        app.post_as("/api/v1/people", &feb30, Some(&support)).await,
        422,
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "id_number.birth_date");
    assert_eq!(count(&app).await, before, "nothing saved");

    let good = json!({"site": "JD", "unit": "GA", "kind": "staff", "job": "窗口工作人员", "name": "陈晓东", "phone": PHONE, "id_number": ID});
    let made = json(
        app.post_as("/api/v1/people", &good, Some(&support)).await,
        201,
    )
    .await;
    assert_eq!(made["name"], "陈**");
    assert_eq!(made["phone"], "139****5678");
    assert_eq!(made["id_number"], "445***********061X");
    let id = made["id"].as_str().unwrap().to_owned();

    // Every answer for roles without reveal is masked.
    for role in ["leader", "support", "service", "unit-admin", "admin"] {
        let t = app.token_for(role).await;
        for path in [
            "/api/v1/sites/JD/people".to_owned(),
            format!("/api/v1/people/{id}"),
            "/api/v1/sites/JD/groups".to_owned(),
        ] {
            let text = app.get_as(&path, Some(&t)).await.text().await.unwrap();
            assert!(
                !text.contains(PHONE) && !text.contains(ID) && !text.contains("陈晓东"),
                "{role} {path}: {text}"
            );
        }
    }

    // Reveal: one field, only for roles that need it, audited with who and where.
    let volunteer = app.token_for("volunteer").await;
    let path = format!("/api/v1/people/{id}/reveal");
    assert_eq!(
        app.post_as(&path, &json!({"field": "phone"}), Some(&volunteer))
            .await
            .status(),
        403
    );
    let leader = app.token_for("leader").await;
    let shown = app
        .post_as(&path, &json!({"field": "phone"}), Some(&leader))
        .await;
    assert_eq!(shown.headers()["cache-control"], "no-store");
    assert_eq!(json(shown, 200).await["value"], PHONE);
    let shown = json(
        app.post_as(&path, &json!({"field": "id_number"}), Some(&leader))
            .await,
        200,
    )
    .await;
    assert_eq!(shown["value"], ID);
    let unknown = json(
        app.post_as(&path, &json!({"field": "address"}), Some(&leader))
            .await,
        422,
    )
    .await;
    assert_eq!(unknown["errors"][0]["code"], "person.field.invalid");
    let log = json(app.get("/api/v1/audit?action=person.reveal").await, 200).await;
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0]["actor"], "leader");
    assert_eq!(log[0]["target"], format!("person:{id}"));
    assert_eq!(log[0]["detail"]["field"], "id_number");
    let all = app.get("/api/v1/audit").await.text().await.unwrap();
    assert!(
        !all.contains(PHONE) && !all.contains(ID),
        "the audit log holds no personal value"
    );

    // Someone who has left is removed, personal data and all, and it is audited.
    let gone = app
        .anon
        .delete(app.url(&format!("/api/v1/people/{id}")))
        .bearer_auth(&support)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 204);
    assert_eq!(app.get(&format!("/api/v1/people/{id}")).await.status(), 404);
    assert_eq!(count(&app).await, before);
    let removed = json(app.get("/api/v1/audit?action=person.remove").await, 200).await;
    assert_eq!(removed[0]["actor"], "support");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_plaintext_id_or_phone_in_the_sqlite_file() {
    let app = TestApp::sqlite().await;
    let good = json!({"site": "JD-QX", "kind": "volunteer", "name": "林小梅", "phone": PHONE, "id_number": ID});
    assert_eq!(
        app.post_json("/api/v1/people", &good, None).await.status(),
        201
    );
    let (dir, _keep) = (app.data_dir.clone(), app.shut().await);
    let demo_phone = "13806630000";
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("fangkong.db")
        {
            // The WAL may be checkpointed and removed as the last connection closes;
            // what it held is then in the main file.
            if let Ok(b) = std::fs::read(path) {
                bytes.extend(b);
            }
        }
    }
    assert!(bytes.len() > 10_000);
    for needle in [PHONE, ID, demo_phone, "林小梅"] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{needle} is stored in plain text"
        );
    }
    let key = std::fs::metadata(dir.join("fangkong.key")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(key.permissions().mode() & 0o777, 0o600);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_plaintext_id_or_phone_in_a_postgres_dump() {
    let Some(app) = TestApp::postgres("access_dump").await else {
        return;
    };
    let good =
        json!({"site": "JD", "kind": "staff", "name": "林小梅", "phone": PHONE, "id_number": ID});
    assert_eq!(
        app.post_json("/api/v1/people", &good, None).await.status(),
        201
    );
    let schema = format!("t_access_dump_{}", std::process::id());
    let dump = Command::new("pg_dump")
        .args([
            "--data-only",
            "--schema",
            &schema,
            &fangkong_store::testing::postgres_base_url(),
        ])
        .output()
        .expect("pg_dump is installed with the PostgreSQL client");
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let text = String::from_utf8_lossy(&dump.stdout);
    assert!(text.contains("people"), "the dump holds the people table");
    for needle in [PHONE, ID, "13806630000", "林小梅"] {
        assert!(!text.contains(needle), "{needle} is in the dump");
    }
    app.stop().await;
}

fn run_cli(args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("FANGKONG_DATABASE_URL")
        .env_remove("FANGKONG_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_adds_users_and_audit_verify_finds_an_edited_row() {
    let app = TestApp::sqlite().await;
    let leader = app.token_for("leader").await;
    assert_eq!(
        app.get_as("/api/v1/sites", Some(&leader)).await.status(),
        200
    );
    let (dir, _keep) = (app.data_dir.clone(), app.shut().await);
    let d = dir.to_str().unwrap();

    let ok = run_cli(
        &[
            "user",
            "add",
            "--username",
            "qx-admin",
            "--role",
            "admin",
            "--site",
            "JD-QX",
            "--data-dir",
            d,
        ],
        "Quxi-admin-2020\n",
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("created qx-admin (admin) at JD-QX"));
    for (args, pw, needle) in [
        (
            vec!["--username", "qx-admin", "--role", "admin"],
            "Quxi-admin-2021\n",
            "taken",
        ),
        (
            vec!["--username", "qx-2", "--role", "root"],
            "Quxi-admin-2021\n",
            "unknown role",
        ),
        (
            vec!["--username", "qx-2", "--role", "admin"],
            "123456\n",
            "password is refused",
        ),
        (
            vec!["--username", "qx-2", "--role", "admin", "--site", "NOPE"],
            "Quxi-admin-2021\n",
            "no site",
        ),
    ] {
        let mut all = vec!["user", "add"];
        all.extend(args);
        all.extend(["--data-dir", d]);
        let out = run_cli(&all, pw);
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(needle),
            "{needle}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let intact = run_cli(&["audit", "verify", "--data-dir", d], "");
    assert!(
        intact.status.success(),
        "{}",
        String::from_utf8_lossy(&intact.stderr)
    );
    assert!(String::from_utf8_lossy(&intact.stdout).contains("audit log intact"));

    // Someone with access to the file changes who did something.
    let store = fangkong_store::Store::open_sqlite(&dir.join("fangkong.db"))
        .await
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    let n = tx
        .execute(
            "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    tx.commit().await.unwrap();
    store.close().await;
    let broken = run_cli(&["audit", "verify", "--data-dir", d], "");
    assert!(!broken.status.success());
    assert!(
        String::from_utf8_lossy(&broken.stderr).contains("TAMPERED: entry 2"),
        "{}",
        String::from_utf8_lossy(&broken.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_store_opens_only_the_setup_page_until_it_is_done() {
    let app = TestApp::empty().await;
    let home = app.anon.get(app.url("/")).send().await.unwrap();
    assert_eq!(home.status(), 303);
    assert_eq!(home.headers()["location"], "/setup");
    let api = json(
        app.anon.get(app.url("/api/v1/sites")).send().await.unwrap(),
        503,
    )
    .await;
    assert_eq!(api["code"], "setup.required");
    assert_eq!(
        app.anon
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let page = app.anon.get(app.url("/setup")).send().await.unwrap();
    let cookie = set_cookie(&page, "fk_csrf").unwrap();
    let csrf = hidden(&page.text().await.unwrap(), "_csrf");
    let code = app
        .setup_code
        .clone()
        .expect("an empty store has a setup code");
    let submit = |fields: Vec<(&'static str, &'static str)>| {
        let mut form = fields;
        form.push(("_csrf", Box::leak(csrf.clone().into_boxed_str())));
        if !form.iter().any(|(k, _)| *k == "setup_code") {
            form.push(("setup_code", Box::leak(code.clone().into_boxed_str())));
        }
        app.anon
            .post(app.url("/setup"))
            .header("cookie", format!("fk_csrf={cookie}"))
            .form(&form)
            .send()
    };
    let wrong_code = submit(vec![
        ("setup_code", "AAAAAAAAAA"),
        ("site_code", "JD"),
        ("site_name", "揭东区政务服务中心"),
        ("capacity", "200"),
        ("username", "root-admin"),
        ("password", "Jiedong-safe-2020"),
        ("confirm", "Jiedong-safe-2020"),
    ])
    .await
    .unwrap();
    assert_eq!(wrong_code.status(), 422);
    assert!(wrong_code.text().await.unwrap().contains("设置码不正确"));
    let bad = submit(vec![
        ("site_code", "jd x"),
        ("site_name", ""),
        ("capacity", "0"),
        ("username", "A"),
        ("password", "123"),
        ("confirm", "123"),
    ])
    .await
    .unwrap();
    assert_eq!(bad.status(), 422);
    let html = bad.text().await.unwrap();
    for msg in [
        "站点编号须为",
        "名称不能为空",
        "容量须为",
        "用户名须为",
        "密码至少 10 个字符",
    ] {
        assert!(html.contains(msg), "{msg} missing");
    }
    let mismatch = submit(vec![
        ("site_code", "JD"),
        ("site_name", "揭东区政务服务中心"),
        ("capacity", "200"),
        ("username", "root-admin"),
        ("password", "Jiedong-safe-2020"),
        ("confirm", "Jiedong-safe-2021"),
    ])
    .await
    .unwrap();
    assert!(
        mismatch
            .text()
            .await
            .unwrap()
            .contains("两次输入的密码不一致")
    );
    assert_eq!(
        json(
            app.anon.get(app.url("/api/v1/sites")).send().await.unwrap(),
            503
        )
        .await["code"],
        "setup.required"
    );

    let done = submit(vec![
        ("site_code", "JD"),
        ("site_name", "揭东区政务服务中心"),
        ("capacity", "200"),
        ("username", "root-admin"),
        ("password", "Jiedong-safe-2020"),
        ("confirm", "Jiedong-safe-2020"),
    ])
    .await
    .unwrap();
    assert_eq!(done.status(), 303);
    let session = set_cookie(&done, "fk_session").unwrap();
    let home = app
        .anon
        .get(app.url("/"))
        .header("cookie", format!("fk_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200);
    assert!(home.text().await.unwrap().contains("工作台"));
    let again = app.anon.get(app.url("/setup")).send().await.unwrap();
    assert_eq!(again.headers()["location"], "/login");
    // The site has its six groups and a main entrance already.
    let res = app
        .post_as(
            "/api/v1/auth/token",
            &json!({"username": "root-admin", "password": "Jiedong-safe-2020"}),
            None,
        )
        .await;
    let token = json(res, 201).await["token"].as_str().unwrap().to_owned();
    let groups = json(
        app.get_as("/api/v1/sites/JD/groups", Some(&token)).await,
        200,
    )
    .await;
    assert_eq!(groups.as_array().unwrap().len(), 6);
    let cps = json(
        app.get_as("/api/v1/sites/JD/checkpoints", Some(&token))
            .await,
        200,
    )
    .await;
    assert_eq!(cps[0]["is_main"], true);
    app.stop().await;
}
