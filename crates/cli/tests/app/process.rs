//! The `fangkong` binary as an operator runs it: bad configuration, crashes, signals,
//! backup and restore.

use crate::helpers::event;
use serde_json::json;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_fangkong");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("FANGKONG_DATABASE_URL")
        .env_remove("FANGKONG_DATA_DIR")
        .env_remove("FANGKONG_CONFIG")
        .output()
        .unwrap()
}

/// Fails unless the command failed with one `error:` line containing `needle`.
fn fails_with(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "succeeded: {err}");
    let line = err
        .lines()
        .find(|l| l.starts_with("error"))
        .unwrap_or_default();
    assert!(line.contains(needle), "expected {needle:?} in {err:?}");
}

#[test]
fn bad_configuration_is_named_with_its_fix_and_writes_nothing() {
    fails_with(&run(&["serve", "--no-such-flag"]), "unexpected argument");
    fails_with(&run(&["serve", "--addr", "nowhere"]), "HOST:PORT");
    fails_with(
        &run(&["migrate", "--data-dir", "/proc/fangkong-test"]),
        "cannot create the data folder",
    );
    fails_with(
        &run(&[
            "migrate",
            "--database-url",
            "postgres://nobody@127.0.0.1:1/x?connect_timeout=2",
        ]),
        "cannot connect to PostgreSQL at 127.0.0.1:1/x",
    );
    fails_with(
        &run(&["migrate", "--database-url", "mysql://x/y"]),
        "must start with postgres://",
    );
    fails_with(
        &run(&["serve", "--config", "/nonexistent.toml"]),
        "cannot read the config file",
    );

    // A taken port fails before anything is created.
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let data = dir.path().join("never-created");
    fails_with(
        &run(&[
            "serve",
            "--addr",
            &addr,
            "--data-dir",
            data.to_str().unwrap(),
        ]),
        "cannot listen on",
    );
    assert!(!data.exists());

    // A damaged database file is named, and left exactly as it was.
    let db = dir.path().join("fangkong.db");
    let junk = vec![0x5Au8; 4096];
    std::fs::write(&db, &junk).unwrap();
    let out = run(&["migrate", "--data-dir", dir.path().to_str().unwrap()]);
    fails_with(&out, "damaged or is not a Fangkong database");
    assert_eq!(std::fs::read(&db).unwrap(), junk);
}

#[test]
fn migrate_applies_once_and_a_config_file_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let conf = dir.path().join("fangkong.toml");
    std::fs::write(&conf, format!("data_dir = {:?}\n", data.to_str().unwrap())).unwrap();
    let first = run(&["migrate", "--config", conf.to_str().unwrap()]);
    assert!(first.status.success(), "{first:?}");
    assert!(
        String::from_utf8_lossy(&first.stdout).contains("applied migrations [1, 2, 3, 4, 5, 6]")
    );
    assert!(data.join("fangkong.db").exists());
    let again = run(&["migrate", "--config", conf.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("up to date"));
}

/// A server process on its own port and data folder.
struct Server {
    child: Child,
    base: String,
    /// An API token of the demo administrator (empty when the demo was not loaded now).
    token: String,
}

/// A client that sends `token` with every request.
fn authed(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

impl Server {
    async fn start(data: &Path, demo: bool) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = Command::new(BIN);
        cmd.args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
            data.to_str().unwrap(),
        ])
        .env_remove("FANGKONG_DATABASE_URL")
        .env("FANGKONG_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
        if demo {
            cmd.arg("--demo");
        }
        let mut child = cmd.spawn().unwrap();
        // The demo accounts are printed once at start: read the administrator's password.
        let (tx, rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let words: Vec<&str> = line.split_whitespace().collect();
                if let ["admin", "admin", password] = words[..] {
                    let _ = tx.send(password.to_owned());
                }
            }
        });
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            token: String::new(),
        };
        let client = reqwest::Client::new();
        for _ in 0..400 {
            if let Ok(r) = client.get(format!("{}/healthz", server.base)).send().await
                && r.status() == 200
            {
                if demo {
                    let password = rx.recv_timeout(Duration::from_secs(20)).unwrap();
                    let res = client
                        .post(format!("{}/api/v1/auth/token", server.base))
                        .json(&json!({"username": "admin", "password": password}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(res.status(), 201);
                    let body: serde_json::Value = res.json().await.unwrap();
                    server.token = body["token"].as_str().unwrap().to_owned();
                }
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server did not become healthy");
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Posts single events from `writers` clients until told to stop; returns acknowledged ids.
async fn hammer(
    base: &str,
    token: &str,
    writers: usize,
    stop: Arc<tokio::sync::Notify>,
) -> Vec<String> {
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (acked, stop, url) = (
            acked.clone(),
            stop.clone(),
            format!("{base}/api/v1/sync/events"),
        );
        let client = authed(token);
        tasks.push(tokio::spawn(async move {
            let sites = ["JD", "JD-QX", "JD-JJ", "JD-PD"];
            loop {
                let e = event(sites[w % sites.len()]);
                let id = e["id"].as_str().unwrap().to_owned();
                let send = client.post(&url).json(&json!({"events": [e]})).send();
                tokio::select! {
                    res = send => match res {
                        Ok(r) if r.status() == 200 => acked.lock().unwrap().push(id),
                        Ok(r) => panic!("unexpected status {}", r.status()),
                        Err(_) => return, // the server went away
                    },
                    () = stop.notified() => return,
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    Arc::try_unwrap(acked).unwrap().into_inner().unwrap()
}

async fn all_present(base: &str, token: &str, ids: &[String]) {
    let client = authed(token);
    for id in ids {
        let r = client
            .get(format!("{base}/api/v1/sync/events/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "acknowledged event {id} was lost");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_writes_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), true).await;
    let stop = Arc::new(tokio::sync::Notify::new());
    let (base, token) = (server.base.clone(), server.token.clone());
    let writes = tokio::spawn(hammer_owned(base, token.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.signal("-KILL");
    let acked = writes.await.unwrap();
    drop(server);
    assert!(
        acked.len() > 50,
        "only {} writes were answered",
        acked.len()
    );

    let again = Server::start(dir.path(), false).await;
    all_present(&again.base, &token, &acked).await;
}

async fn hammer_owned(base: String, token: String, stop: Arc<tokio::sync::Notify>) -> Vec<String> {
    hammer(&base, &token, 16, stop).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_work_in_flight_then_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), true).await;

    // A second server on the same folder is refused while the first runs.
    let second = run(&[
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    fails_with(&second, "another fangkong process is using");

    let stop = Arc::new(tokio::sync::Notify::new());
    let token = server.token.clone();
    let writes = tokio::spawn(hammer_owned(
        server.base.clone(),
        token.clone(),
        stop.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(800)).await;
    server.signal("-TERM");
    let status = server.child.wait().unwrap();
    stop.notify_waiters();
    let acked = writes.await.unwrap();
    assert!(status.success(), "exit status {status:?}");
    let again = Server::start(dir.path(), false).await;
    all_present(&again.base, &token, &acked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_online_backup_restores_to_identical_data() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let server = Server::start(&a, true).await;
    let token = server.token.clone();
    let client = authed(&token);
    let batch = json!({"events": [event("JD"), event("JD-QX-01")]});
    let posted = client
        .post(format!("{}/api/v1/sync/events", server.base))
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
    let ids: Vec<String> = batch["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    let snapshot = |base: String| {
        let ids = ids.clone();
        let c = authed(&token);
        async move {
            let sites = c
                .get(format!("{base}/api/v1/sites"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let mut events = Vec::new();
            for id in ids {
                let url = format!("{base}/api/v1/sync/events/{id}");
                events.push(c.get(url).send().await.unwrap().text().await.unwrap());
            }
            (sites, events)
        }
    };
    let before = snapshot(server.base.clone()).await;

    // Backup while the server runs; restore refuses the folder in use.
    let file = dir.path().join("fangkong-backup.db");
    let out = run(&[
        "backup",
        "--to",
        file.to_str().unwrap(),
        "--data-dir",
        a.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("integrity checked"));
    fails_with(
        &run(&[
            "backup",
            "--to",
            file.to_str().unwrap(),
            "--data-dir",
            a.to_str().unwrap(),
        ]),
        "already exists",
    );
    fails_with(
        &run(&[
            "restore",
            "--from",
            file.to_str().unwrap(),
            "--data-dir",
            a.to_str().unwrap(),
        ]),
        "another fangkong process is using",
    );
    drop(server);

    let out = run(&[
        "restore",
        "--from",
        file.to_str().unwrap(),
        "--data-dir",
        b.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    let restored = Server::start(&b, false).await;
    assert_eq!(snapshot(restored.base.clone()).await, before);
    fails_with(
        &run(&[
            "backup",
            "--to",
            "x.db",
            "--database-url",
            "postgres://u@127.0.0.1/db",
        ]),
        "pg_dump",
    );
}

/// Records door readings from `writers` clients (each with its Idempotency-Key) until
/// the server goes away; returns the ids of the answered readings.
async fn hammer_door(base: String, token: String, writers: usize) -> Vec<String> {
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (acked, url) = (acked.clone(), format!("{base}/api/v1/screenings"));
        let client = authed(&token);
        tasks.push(tokio::spawn(async move {
            let sites = ["JD", "JD-QX", "JD-JJ", "JD-PD"];
            for n in 0.. {
                let body = json!({"site": sites[w % sites.len()], "subject_kind": "citizen", "temperature_c": 36.5, "mask": n % 7 != 0});
                let send = client
                    .post(&url)
                    .header("idempotency-key", format!("kill-{w}-{n}"))
                    .json(&body)
                    .send()
                    .await;
                match send {
                    Ok(r) if r.status() == 201 => {
                        let v: serde_json::Value = r.json().await.unwrap();
                        acked.lock().unwrap().push(v["id"].as_str().unwrap().to_owned());
                    }
                    Ok(r) => panic!("unexpected status {}", r.status()),
                    Err(_) => return, // the server went away
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    Arc::try_unwrap(acked).unwrap().into_inner().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_door_readings_loses_no_answered_reading() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), true).await;
    let token = server.token.clone();
    let writes = tokio::spawn(hammer_door(server.base.clone(), token.clone(), 16));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.signal("-KILL");
    let acked = writes.await.unwrap();
    drop(server);
    assert!(
        acked.len() > 50,
        "only {} readings were answered",
        acked.len()
    );

    let again = Server::start(dir.path(), false).await;
    let client = authed(&token);
    for id in &acked {
        let r = client
            .get(format!("{}/api/v1/screenings/{id}", again.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "answered reading {id} was lost");
    }
    // The records list finds them as well.
    let listed: Vec<serde_json::Value> = client
        .get(format!("{}/api/v1/screenings?limit=1000", again.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(listed.len() >= acked.len().min(1000));
}
