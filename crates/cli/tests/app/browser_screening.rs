//! The screening pages in real headless Chromium: the checkpoint page (keypad, decision,
//! offline queue through a proxy the test cuts) and the buffer zone with its re-check form.
//!
//! Skipped like `browser.rs` when Chromium or chromedriver is absent. The few browser
//! helpers needed are copied from there (they are private to that module).

use crate::browser::{browser, click, driver, fill, text};
use crate::helpers::{NOW, TestApp, json};
use fangkong_domain::clock::{Clock, FixedClock};
use fangkong_store::system::SystemClock;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

async fn screenshot(c: &Client, name: &str) {
    // The decision and the link status are what a volunteer looks at.
    c.execute(
        "const d = document.getElementById('decision'); if (d) { d.scrollIntoView({block: 'center'}); }",
        vec![],
    )
    .await
    .unwrap();
    crate::browser::screenshot(c, name).await;
}

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

async fn wait_text(c: &Client, css: &str, want: &str) {
    wait_text_is(c, css, &format!("{want:?}"), |t| t == want).await;
}

/// Waits (about 10 s at most) until the element's attribute is `want`.
async fn wait_attr(c: &Client, css: &str, name: &str, want: &str) {
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

/// Signs in through the sign-in page at `base` (cookies belong to that host and port).
async fn sign_in(c: &Client, base: &str, app: &TestApp, username: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    fill(c, "username", username).await;
    fill(c, "password", &app.password(username)).await;
    click(c, "login-submit").await;
    wait_text(c, "h1", "工作台").await;
}

/// Taps keypad keys: digits, `.` (and `<` for the back key).
async fn tap(c: &Client, keys: &str) {
    for k in keys.chars() {
        let key = if k == '<' {
            "back".to_owned()
        } else {
            k.to_string()
        };
        c.find(Locator::Css(&format!(".keypad button[data-key=\"{key}\"]")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
}

/// Types a reading on the keypad, checks the display, then taps a submit button.
async fn enter(c: &Client, keys: &str, shown: &str, button: &str) {
    tap(c, keys).await;
    assert_eq!(text(c, "#temp-display").await, shown);
    click(c, button).await;
}

/// Waits for the decision box to say `decision` in words `word`.
async fn decided(c: &Client, decision: &str, word: &str) {
    wait_attr(c, "#decision", "data-decision", decision).await;
    assert_eq!(text(c, "#decision").await, word);
}

/// The unsent entries the checkpoint page keeps for JD/MAIN.
async fn queued(c: &Client) -> Vec<Value> {
    let q = c
        .execute(
            "return JSON.parse(localStorage.getItem('fk-door-queue/JD/MAIN') || '[]');",
            vec![],
        )
        .await
        .unwrap();
    q.as_array().cloned().unwrap_or_default()
}

/// The classes of the entries in the recent list, newest first.
async fn recent_states(c: &Client) -> Vec<String> {
    let v = c
        .execute(
            "return Array.from(document.querySelectorAll('#recent li')).map(li => li.className);",
            vec![],
        )
        .await
        .unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// JD's door records through the API (as the administrator, straight to the app).
async fn records(app: &TestApp) -> Vec<Value> {
    let v = json(app.get("/api/v1/screenings?site=JD").await, 200).await;
    v.as_array().unwrap().clone()
}

async fn inside(app: &TestApp) -> u64 {
    json(app.get("/api/v1/sites/JD/occupancy").await, 200).await["inside"]
        .as_u64()
        .unwrap()
}

/// Waits (about `tenths` × 100 ms at most) until JD holds `n` door records.
async fn wait_records(app: &TestApp, n: usize, tenths: u32) -> Vec<Value> {
    for _ in 0..tenths {
        let r = records(app).await;
        if r.len() == n {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = records(app).await;
    assert_eq!(r.len(), n, "{r:#?}");
    r
}

fn sorted_field(records: &[Value], field: &str) -> Vec<String> {
    let mut v: Vec<String> = records
        .iter()
        .map(|r| {
            r[field]
                .as_str()
                .map_or_else(|| r[field].to_string(), str::to_owned)
        })
        .collect();
    v.sort();
    v
}

/// The app's clock kept at the wall clock. The checkpoint page stamps each reading with
/// the browser's time (`at`), and the server refuses readings stamped more than a
/// minute ahead of its own clock, so a clock fixed in 2020 would refuse them all.
fn wall_clock() -> (Arc<FixedClock>, JoinHandle<()>) {
    let clock = Arc::new(FixedClock::new(SystemClock.now()));
    let ticking = Arc::clone(&clock);
    let task = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let behind = SystemClock.now() - ticking.now();
            if behind.is_positive() {
                ticking.advance(behind);
            }
        }
    });
    (clock, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checkpoint_flow_in_chinese() {
    let Some(driver) = driver().await else { return };
    let (clock, ticking) = wall_clock();
    let app = TestApp::with_clock(clock).await;
    let c = browser(&driver, 1024, 1100).await;

    sign_in(&c, &app.base, &app, "volunteer").await;
    c.goto(&app.url("/door/JD/MAIN")).await.unwrap();
    wait_text(&c, "#link-status", "在线").await;
    assert_eq!(attr(&c, "#door", "data-site").await.as_deref(), Some("JD"));
    assert_eq!(text(&c, "#inside").await, "0");
    assert_eq!(text(&c, "#temp-display").await, "--.-");

    // 3 6 6 with a mask: admitted, one inside.
    enter(&c, "366", "36.6", "submit-mask").await;
    decided(&c, "admit", "请进").await;
    wait_text(&c, "#inside", "1").await;

    // A typed point, a slip corrected with the back key: 38.2 without a mask → buffer.
    tap(&c, "38.4<").await;
    assert_eq!(text(&c, "#temp-display").await, "38.0");
    enter(&c, "2", "38.2", "submit-nomask").await;
    decided(&c, "buffer", "请到缓冲区复检").await;

    // 36.5 without a mask: refused.
    enter(&c, "365", "36.5", "submit-nomask").await;
    decided(&c, "refuse_no_mask", "请佩戴口罩").await;

    // 45.0 is out of range: a message, nothing queued or sent, the last decision stays.
    enter(&c, "450", "45.0", "submit-mask").await;
    assert!(!text(&c, "#temp-error").await.is_empty());
    assert_eq!(text(&c, "#temp-display").await, "--.-");
    assert_eq!(
        attr(&c, "#decision", "data-decision").await.as_deref(),
        Some("refuse_no_mask")
    );
    // Submitting with nothing typed is refused too.
    click(&c, "submit-mask").await;
    assert!(!text(&c, "#temp-error").await.is_empty());

    // Every entry reaches the server, once.
    for _ in 0..100 {
        if recent_states(&c).await.iter().all(|s| s == "sent") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(recent_states(&c).await, ["sent", "sent", "sent"]);
    assert!(queued(&c).await.is_empty());
    assert_eq!(text(&c, "#queue-count").await, "");
    assert_eq!(text(&c, "#link-status").await, "在线");
    assert_eq!(text(&c, "#inside").await, "1");

    let r = wait_records(&app, 3, 50).await;
    assert_eq!(
        sorted_field(&r, "decision"),
        ["admit", "buffer", "refuse_no_mask"]
    );
    assert_eq!(sorted_field(&r, "temperature_c"), ["36.5", "36.6", "38.2"]);
    for rec in &r {
        assert_eq!(rec["recorded_by"], "volunteer");
        assert_eq!(rec["checkpoint"].as_str().map(str::is_empty), Some(false));
        assert_eq!(rec["subject_kind"], "citizen");
        let (mask, buffer_state) = match rec["decision"].as_str().unwrap() {
            "admit" => (true, Value::Null),
            "buffer" => (false, json!("waiting")),
            _ => (false, Value::Null),
        };
        assert_eq!(rec["mask"], mask, "{rec}");
        assert_eq!(rec["buffer_state"], buffer_state, "{rec}");
    }
    assert_eq!(inside(&app).await, 1);
    screenshot(&c, "door.png").await;

    // One person leaves.
    click(&c, "exit").await;
    assert_eq!(text(&c, "#inside").await, "0");
    for _ in 0..100 {
        if inside(&app).await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(inside(&app).await, 0);
    assert_eq!(records(&app).await.len(), 3, "an exit is not a door record");

    c.close().await.unwrap();
    ticking.abort();
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_buffer_flow_ends_in_suspected() {
    let Some(driver) = driver().await else { return };
    let clock = Arc::new(FixedClock::new(NOW));
    let app = TestApp::with_clock(Arc::clone(&clock)).await;
    let reading =
        |t: f64| json!({"site": "JD", "subject_kind": "citizen", "temperature_c": t, "mask": true});

    let first = json(
        app.post_json("/api/v1/screenings", &reading(38.5), None)
            .await,
        201,
    )
    .await;
    assert_eq!(first["decision"], "buffer");
    let id = first["id"].as_str().unwrap().to_owned();

    let c = browser(&driver, 1024, 1100).await;
    sign_in(&c, &app.base, &app, "volunteer").await;
    c.goto(&app.url("/buffer?site=JD")).await.unwrap();
    let row = format!("#buffer-table a[href=\"/buffer/{id}\"]");
    assert!(c.find(Locator::Css(&row)).await.is_ok(), "no row for {id}");
    let rows = c
        .find_all(Locator::Css("#buffer-table tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert!(text(&c, "#buffer-table tbody tr").await.contains("38.5"));

    // Too early: the rest is not over, the re-check is refused and nothing changes.
    c.goto(&app.url(&format!("/buffer/{id}"))).await.unwrap();
    fill(&c, "temperature_c", "37.8").await;
    click(&c, "recheck-submit").await;
    wait_text_is(&c, "#recheck-error", "a refusal", |t| !t.is_empty()).await;
    let s = json(app.get(&format!("/api/v1/screenings/{id}")).await, 200).await;
    assert_eq!(s["buffer_state"], "waiting");

    // Six minutes later: a cough and contact with a case → suspected, a case opened.
    clock.advance(time::Duration::minutes(6));
    c.goto(&app.url(&format!("/buffer/{id}"))).await.unwrap();
    fill(&c, "temperature_c", "37.8").await;
    click(&c, "symptom-cough").await;
    click(&c, "q-case").await;
    let outcome = c.find(Locator::Id("outcome")).await.unwrap();
    assert_eq!(
        outcome.prop("value").await.unwrap().as_deref(),
        Some(""),
        "the rule decides"
    );
    click(&c, "recheck-submit").await;
    wait_attr(&c, "#recheck-result", "data-outcome", "suspected").await;
    assert!(text(&c, "#recheck-result").await.contains("疑似病例"));
    let case = text(&c, "#case-id").await;
    let case = uuid::Uuid::parse_str(case.trim()).unwrap_or_else(|_| panic!("case id {case:?}"));

    let s = json(app.get(&format!("/api/v1/screenings/{id}")).await, 200).await;
    assert_eq!(s["buffer_state"], "suspected");
    assert_eq!(s["case_id"], json!(case));
    assert_eq!(s["rechecks"], 1);
    let listed = records(&app).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["buffer_state"], "suspected");
    assert_eq!(listed[0]["case_id"], json!(case));

    // Nobody waits now.
    c.goto(&app.url("/buffer?site=JD")).await.unwrap();
    assert!(text(&c, "#buffer-empty").await.contains("没有人"));

    // The list is live: a new buffer reading appears without reloading the page. Wait
    // for the page's stream to be open so the notice is not missed (up to 5 s).
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
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    c.execute("window.notReloaded = true;", vec![])
        .await
        .unwrap();
    let second = json(
        app.post_json("/api/v1/screenings", &reading(39.1), None)
            .await,
        201,
    )
    .await;
    assert_eq!(second["decision"], "buffer");
    let row = format!(
        "#buffer-table a[href=\"/buffer/{}\"]",
        second["id"].as_str().unwrap()
    );
    let mut appeared = false;
    for _ in 0..100 {
        if c.find(Locator::Css(&row)).await.is_ok() {
            appeared = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(appeared, "the live list never showed the new reading");
    assert!(text(&c, "#buffer-table tbody tr").await.contains("39.1"));
    let same_page = c
        .execute("return window.notReloaded === true;", vec![])
        .await
        .unwrap();
    assert_eq!(same_page, json!(true), "the page was reloaded");
    screenshot(&c, "buffer.png").await;

    c.close().await.unwrap();
    app.stop().await;
}

/// A TCP proxy in front of the app that the test switches down (every connection cut,
/// new ones closed at once), up, or deaf (requests reach the app, answers are dropped).
struct Proxy {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    deaf: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accepting: JoinHandle<()>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let deaf = Arc::new(AtomicBool::new(false));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (up2, deaf2, links2) = (Arc::clone(&up), Arc::clone(&deaf), Arc::clone(&links));
        let accepting = tokio::spawn(async move {
            loop {
                let Ok((inbound, _)) = listener.accept().await else {
                    continue;
                };
                // Checked and registered under the lock, so switching down misses nothing.
                let mut links = links2.lock().unwrap();
                if !up2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let deaf = deaf2.load(Ordering::SeqCst);
                links.retain(|l| !l.is_finished());
                links.push(tokio::spawn(forward(inbound, target, deaf)));
            }
        });
        Proxy {
            addr,
            up,
            deaf,
            links,
            accepting,
        }
    }

    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sets the mode; every established connection is cut, so the next ones use it.
    fn set(&self, up: bool, deaf: bool) {
        let mut links = self.links.lock().unwrap();
        self.up.store(up, Ordering::SeqCst);
        self.deaf.store(deaf, Ordering::SeqCst);
        for l in links.drain(..) {
            l.abort();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accepting.abort();
        self.set(false, false);
    }
}

async fn forward(mut inbound: tokio::net::TcpStream, target: SocketAddr, deaf: bool) {
    let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else {
        return;
    };
    if deaf {
        let (mut in_r, _in_w) = inbound.split();
        let (mut out_r, mut out_w) = outbound.split();
        let mut sink = tokio::io::sink();
        let _ = tokio::join!(
            tokio::io::copy(&mut in_r, &mut out_w),
            tokio::io::copy(&mut out_r, &mut sink)
        );
    } else {
        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offline_queue_loses_nothing_and_doubles_nothing() {
    let Some(driver) = driver().await else { return };
    let (clock, ticking) = wall_clock();
    let app = TestApp::with_clock(clock).await;
    let target: SocketAddr = app.base.trim_start_matches("http://").parse().unwrap();
    let proxy = Proxy::start(target).await;
    let base = proxy.base();
    let c = browser(&driver, 1024, 1100).await;

    sign_in(&c, &base, &app, "volunteer").await;
    c.goto(&format!("{base}/door/JD/MAIN")).await.unwrap();
    wait_text(&c, "#link-status", "在线").await;
    assert!(records(&app).await.is_empty());

    // The link drops: decisions still show at once, entries wait in the browser.
    proxy.set(false, false);
    for (keys, shown) in [("364", "36.4"), ("365", "36.5"), ("367", "36.7")] {
        enter(&c, keys, shown, "submit-mask").await;
        decided(&c, "admit", "请进").await;
    }
    assert!(
        attr(&c, "#decision", "class")
            .await
            .unwrap_or_default()
            .contains("provisional")
    );
    wait_attr(&c, "#link-status", "class", "link-status offline").await;
    assert_ne!(text(&c, "#link-status").await, "在线");
    wait_text_is(&c, "#queue-count", "3 waiting", |t| t.starts_with('3')).await;
    assert_eq!(text(&c, "#inside").await, "3");
    assert_eq!(recent_states(&c).await, ["queued", "queued", "queued"]);
    let q = queued(&c).await;
    assert_eq!(q.len(), 3);
    let mut keys: Vec<&str> = q.iter().map(|e| e["key"].as_str().unwrap()).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), 3, "each entry has its own Idempotency-Key");
    assert!(records(&app).await.is_empty(), "nothing reached the app");
    screenshot(&c, "door-offline.png").await;

    // The link returns: the queue drains by itself (retried every 3 s), once each.
    proxy.set(true, false);
    for _ in 0..200 {
        if text(&c, "#queue-count").await.is_empty() && records(&app).await.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(text(&c, "#queue-count").await, "");
    wait_text(&c, "#link-status", "在线").await;
    assert_eq!(records(&app).await.len(), 3);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let r = records(&app).await;
    assert_eq!(r.len(), 3, "nothing doubled: {r:#?}");
    assert_eq!(sorted_field(&r, "temperature_c"), ["36.4", "36.5", "36.7"]);
    assert!(r.iter().all(|x| x["decision"] == "admit"), "{r:#?}");
    assert_eq!(inside(&app).await, 3);
    assert_eq!(recent_states(&c).await, ["sent", "sent", "sent"]);
    assert!(queued(&c).await.is_empty());

    // Worse: the app stores a reading but its answer is lost on the way back. The page
    // cannot know, so it sends it again with the same key; the app answers the first
    // result and stores nothing twice.
    proxy.set(true, true);
    enter(&c, "368", "36.8", "submit-mask").await;
    decided(&c, "admit", "请进").await;
    wait_records(&app, 4, 100).await;
    assert_eq!(queued(&c).await.len(), 1, "the answer never arrived");
    proxy.set(false, false);
    wait_attr(&c, "#link-status", "class", "link-status offline").await;
    assert_eq!(queued(&c).await.len(), 1);
    proxy.set(true, false);
    for _ in 0..200 {
        if queued(&c).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(queued(&c).await.is_empty());
    wait_text(&c, "#link-status", "在线").await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let r = records(&app).await;
    assert_eq!(r.len(), 4, "nothing doubled: {r:#?}");
    assert_eq!(
        sorted_field(&r, "temperature_c"),
        ["36.4", "36.5", "36.7", "36.8"]
    );
    assert_eq!(inside(&app).await, 4);
    assert_eq!(text(&c, "#inside").await, "4");
    assert_eq!(recent_states(&c).await, ["sent", "sent", "sent", "sent"]);

    c.close().await.unwrap();
    drop(proxy);
    ticking.abort();
    app.stop().await;
}
