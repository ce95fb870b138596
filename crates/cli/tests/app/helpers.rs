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
    pub client: reqwest::Client,
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
        let settings = Settings {
            addr: "127.0.0.1:0".parse().unwrap(),
            database,
            log_json: false,
        };
        let clock = Arc::new(FixedClock::new(NOW));
        let ids = Arc::new(SequentialIds::new(1_580_263_200_000 + next() * 1_000_000));
        let running = server::start(&settings, true, clock, ids).await.unwrap();
        TestApp {
            base: format!("http://{}", running.addr),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            running: Some(running),
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

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
