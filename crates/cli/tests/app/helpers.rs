//! `TestApp`: the real server on port 0 with its own database, and named request helpers.

use fangkong_cli::config::{Database, Settings};
use fangkong_cli::server::{self, Running};
use fangkong_domain::clock::{FixedClock, SequentialIds};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use time::OffsetDateTime;
use time::macros::datetime;

/// The tests' "now": the day the plan was issued, mid-morning in Beijing.
pub const NOW: OffsetDateTime = datetime!(2020-01-29 02:00 UTC);

pub struct TestApp {
    pub base: String,
    /// Sends the demo administrator's token with every request.
    pub client: reqwest::Client,
    /// Sends no credentials: the public.
    pub anon: reqwest::Client,
    /// The demo accounts (one per role) with their passwords.
    pub accounts: Vec<fangkong_store::demo::DemoAccount>,
    /// An API token of the demo administrator, sent by the plain helpers.
    pub admin_token: String,
    /// The setup page's code (an empty store only).
    pub setup_code: Option<String>,
    pub data_dir: std::path::PathBuf,
    running: Option<Running>,
    _dir: tempfile::TempDir,
}

fn next() -> u64 {
    static N: AtomicU64 = AtomicU64::new(1);
    N.fetch_add(1, Ordering::Relaxed)
}

impl TestApp {
    /// On the embedded store, with the demo district.
    pub async fn sqlite() -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::Sqlite {
            data_dir: dir.path().join("data"),
        };
        TestApp::start(db, dir).await
    }

    /// On PostgreSQL (a fresh schema), with the demo district; `None` when unreachable.
    pub async fn postgres(name: &str) -> Option<TestApp> {
        let url = fangkong_store::testing::postgres_schema_url(name).await?;
        let dir = tempfile::tempdir().unwrap();
        Some(TestApp::start(Database::Postgres { url }, dir).await)
    }

    async fn start(database: Database, dir: tempfile::TempDir) -> TestApp {
        TestApp::start_with(database, dir, true, Arc::new(FixedClock::new(NOW))).await
    }

    /// An empty embedded store (no demo, no accounts): the setup page is all there is.
    pub async fn empty() -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::Sqlite {
            data_dir: dir.path().join("data"),
        };
        TestApp::start_with(db, dir, false, Arc::new(FixedClock::new(NOW))).await
    }

    /// The demo on the embedded store with a clock the test moves.
    pub async fn with_clock(clock: Arc<FixedClock>) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::Sqlite {
            data_dir: dir.path().join("data"),
        };
        TestApp::start_with(db, dir, true, clock).await
    }

    /// The demo on the embedded store with settings the test changes (an MQTT broker,
    /// buffer-zone rules), and a clock it moves.
    pub async fn configured(clock: Arc<FixedClock>, change: impl FnOnce(&mut Settings)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::Sqlite {
            data_dir: dir.path().join("data"),
        };
        let mut settings = Settings::new("127.0.0.1:0".parse().unwrap(), db);
        change(&mut settings);
        TestApp::start_settings(settings, dir, true, clock).await
    }

    async fn start_with(
        database: Database,
        dir: tempfile::TempDir,
        demo: bool,
        clock: Arc<FixedClock>,
    ) -> TestApp {
        let settings = Settings::new("127.0.0.1:0".parse().unwrap(), database);
        TestApp::start_settings(settings, dir, demo, clock).await
    }

    async fn start_settings(
        mut settings: Settings,
        dir: tempfile::TempDir,
        demo: bool,
        clock: Arc<FixedClock>,
    ) -> TestApp {
        let data_dir = dir.path().join("data");
        // Tests' robots answer on this machine.
        settings.cases.robot_hosts.push("127.0.0.1".into());
        // The key stays in the test's folder whatever the store (never in the work tree).
        settings.key = fangkong_cli::config::KeySource::File(data_dir.join("fangkong.key"));
        let ids = Arc::new(SequentialIds::new(1_580_263_200_000 + next() * 1_000_000));
        let mut running = server::start(&settings, demo, clock, ids).await.unwrap();
        let accounts = std::mem::take(&mut running.demo_accounts);
        let setup_code = running.setup_code.take();
        let plain = || {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
        };
        let mut app = TestApp {
            base: format!("http://{}", running.addr),
            client: plain(),
            anon: plain(),
            accounts,
            admin_token: String::new(),
            setup_code,
            data_dir,
            running: Some(running),
            _dir: dir,
        };
        if demo {
            app.admin_token = app.token_for("admin").await;
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert(
                reqwest::header::AUTHORIZATION,
                format!("Bearer {}", app.admin_token).parse().unwrap(),
            );
            app.client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .default_headers(headers)
                .build()
                .unwrap();
        }
        app
    }

    /// Runs one pass of the alert worker now (escalations, fever rates, robot messages),
    /// after the test moved the clock.
    pub async fn tick_alerts(&self) -> fangkong_web::cases_alerts::Tick {
        let running = self.running.as_ref().expect("the app is running");
        fangkong_web::cases_alerts::tick(&running.state)
            .await
            .expect("the alert pass runs")
    }

    /// Live streams (SSE) the server holds open now.
    pub fn live_streams(&self) -> usize {
        let running = self.running.as_ref().expect("the app is running");
        running.state.live.open_streams()
    }

    /// The demo password of `username`.
    pub fn password(&self, username: &str) -> String {
        self.accounts
            .iter()
            .find(|a| a.username == username)
            .unwrap_or_else(|| panic!("no demo account {username}"))
            .password
            .clone()
    }

    /// A fresh API token for a demo account.
    pub async fn token_for(&self, username: &str) -> String {
        let body = serde_json::json!({"username": username, "password": self.password(username)});
        let res = self
            .anon
            .post(self.url("/api/v1/auth/token"))
            .json(&body)
            .send()
            .await
            .unwrap();
        json(res, 201).await["token"].as_str().unwrap().to_owned()
    }

    /// GET with a token (`None`: as the public).
    pub async fn get_as(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.anon.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    /// POST JSON with a token (`None`: as the public).
    pub async fn post_as(
        &self,
        path: &str,
        body: &serde_json::Value,
        token: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self.anon.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET as the demo administrator.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// GET as the demo administrator, asking for a language.
    pub async fn get_in(&self, path: &str, lang: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("accept-language", lang)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
        key: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        req.send().await.unwrap()
    }

    /// Stops the server and hands over its folder (kept until the value is dropped).
    pub async fn shut(mut self) -> tempfile::TempDir {
        if let Some(r) = self.running.take() {
            r.shutdown().await.unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self._dir, dir)
    }

    /// Stops the server the way SIGTERM does.
    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await.unwrap();
        }
    }
}

/// A UUIDv7 for an event made "at a site node".
pub fn event_id() -> uuid::Uuid {
    let mut tail = [0u8; 10];
    tail[2..].copy_from_slice(&next().to_be_bytes());
    uuid::Builder::from_unix_timestamp_millis(1_580_263_200_000, &tail).into_uuid()
}

/// A forwarded event for `site`.
pub fn event(site: &str) -> serde_json::Value {
    serde_json::json!({
        "id": event_id(),
        "site": site,
        "kind": "screening.recorded",
        "occurred_at": "2020-01-29T09:30:00+08:00",
        "payload": {"decision": "admit"}
    })
}

/// Reads a response as JSON, checking its status first.
pub async fn json(res: reqwest::Response, status: u16) -> serde_json::Value {
    let got = res.status().as_u16();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}
