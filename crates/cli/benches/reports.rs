//! Daily reports at district scale (issue 6's goal: any site's report and the district's
//! roll-up in under 200 ms): the demo district's 13 sites, 30 days, 10 million door
//! records on the embedded store, the counters a writer would have kept for them, and
//! every site's report submitted for the 29 past days. Then, over HTTP on a real port,
//! one client asks for random sites' reports of random days and for the district's
//! roll-up; prints the latency percentiles of each.
//!
//! `cargo bench -p fangkong-cli --bench reports [-- RECORDS [REQUESTS]]`
//! (defaults 10000000 and 300). With `FANGKONG_BENCH_DATABASE_URL=postgres://…` it runs
//! on that PostgreSQL database instead, which must be empty (a new database, or
//! `?options=-csearch_path%3D<new schema>` as the tests use).

mod common;
use common::report;
use fangkong_cli::config::{Database, Settings};
use fangkong_cli::server;
use fangkong_domain::clock::{FixedClock, SequentialIds, beijing_day_start, unix_millis};
use fangkong_store::system::Stopwatch;
use fangkong_store::{Backend, Store, params};
use time::macros::datetime;
use time::{Date, Duration};

const DAYS: i64 = 30;
/// 10:00 in Beijing on the 30th day.
const NOW: time::OffsetDateTime = datetime!(2020-02-27 02:00 UTC);

/// Inserts one site's door records of one day with SQL (the shape the writers store) and
/// adds the counters the writer keeps for them.
async fn fill_day(store: &Store, chunk: usize, site: &str, checkpoint: &str, day: Date, n: u64) {
    let start = unix_millis(beijing_day_start(
        day.midnight()
            .assume_offset(fangkong_domain::clock::BEIJING),
    )) + 8 * 3_600_000
        + 30 * 60_000;
    let span = 9 * 3_600_000i64;
    // A UUID-shaped text id per record, in each dialect.
    let id = match store.backend() {
        Backend::Sqlite => "printf('%08x-0000-4000-8000-%012x', $2, i)",
        Backend::Postgres => {
            "lpad(to_hex($2::BIGINT), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0')"
        }
    };
    let mut tx = store.begin().await.unwrap();
    tx.execute(
        &format!(
            "WITH RECURSIVE s(i) AS (SELECT CAST(0 AS BIGINT) UNION ALL SELECT i + 1 FROM s WHERE i + 1 < $1) \
             INSERT INTO screenings (id, site_id, checkpoint_id, at, day, subject_kind, temperature, mask, \
                 decision, phase, person_id, registration_id, recorded_by, buffer_state, rechecks, last_measured_at) \
             SELECT {id}, $3, $4, $5 + i * $6 / $1, $7, \
                 CASE WHEN i % 20 = 0 THEN 'window_staff' WHEN i % 20 = 1 THEN 'bureau_staff' \
                      WHEN i % 50 = 2 THEN 'other' ELSE 'citizen' END, \
                 CASE WHEN i % 400 = 3 THEN 382 ELSE 365 END, \
                 CASE WHEN i % 97 = 5 THEN FALSE ELSE TRUE END, \
                 CASE WHEN i % 97 = 5 THEN 'refuse_no_mask' WHEN i % 400 = 3 THEN 'buffer' ELSE 'admit' END, \
                 NULL, NULL, NULL, 'device', CASE WHEN i % 400 = 3 THEN 'cleared' END, 0, $5 + i * $6 / $1 \
             FROM s"
        ),
        &params![
            n as i64,
            chunk as i64,
            site,
            checkpoint,
            start,
            span,
            day.to_string()
        ],
    )
    .await
    .unwrap();
    let counters = [
        "'screened.' || subject_kind, COUNT(*) FROM screenings WHERE site_id = $1 AND at >= $2 AND at < $3 GROUP BY subject_kind",
        "'decision.' || decision, COUNT(*) FROM screenings WHERE site_id = $1 AND at >= $2 AND at < $3 GROUP BY decision",
        "'no_mask', COUNT(*) FROM screenings WHERE site_id = $1 AND at >= $2 AND at < $3 AND mask = FALSE",
    ];
    for c in counters {
        tx.execute(
            &format!(
                "INSERT INTO daily_counts (site_id, day, metric, n) SELECT $1, $4, {c} \
                 ON CONFLICT (site_id, day, metric) DO UPDATE SET n = daily_counts.n + excluded.n"
            ),
            &params![
                site,
                start - 9 * 3_600_000,
                start + span + 3_600_000,
                day.to_string()
            ],
        )
        .await
        .unwrap();
    }
    tx.execute(
        "INSERT INTO occupancy_days (site_id, day, peak, peak_at) VALUES ($1, $2, $3, $4)",
        &params![site, day.to_string(), (n / 300) as i64, start + span / 2],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let records: u64 = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    let requests: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(300);
    let dir = tempfile::tempdir().unwrap();
    let database = match std::env::var("FANGKONG_BENCH_DATABASE_URL") {
        Ok(url) => Database::Postgres { url },
        Err(_) => Database::Sqlite {
            data_dir: dir.path().join("data"),
        },
    };
    let mut settings = Settings::new("127.0.0.1:0".parse().unwrap(), database);
    settings.key = fangkong_cli::config::KeySource::File(dir.path().join("key"));
    let clock = std::sync::Arc::new(FixedClock::new(NOW));
    let ids = std::sync::Arc::new(SequentialIds::new(1_582_768_800_000));
    let running = server::start(&settings, true, clock, ids).await.unwrap();
    let store = running.store.clone();
    let sites: Vec<(String, String, String)> = store
        .query(
            "SELECT s.id, s.code, c.id FROM sites s JOIN checkpoints c ON c.site_id = s.id AND c.is_main = $1 ORDER BY s.code",
            &params![true],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0).unwrap(), r.get(1).unwrap(), r.get(2).unwrap()))
        .collect();
    println!(
        "{:?}: {} sites, {DAYS} days, {records} door records",
        store.backend(),
        sites.len()
    );
    let first = NOW.date() - Duration::days(DAYS - 1);
    let per = records / (sites.len() as u64 * DAYS as u64);
    let watch = Stopwatch::start();
    let mut chunk = 0;
    for d in 0..DAYS {
        let day = first + Duration::days(d);
        for (id, _, checkpoint) in &sites {
            fill_day(&store, chunk, id, checkpoint, day, per).await;
            chunk += 1;
        }
    }
    let stored: i64 = store
        .query_opt("SELECT COUNT(*) FROM screenings", &params![])
        .await
        .unwrap()
        .unwrap()
        .get(0)
        .unwrap();
    println!(
        "stored {stored} door records and their counters in {:.0} s",
        watch.seconds()
    );

    let base = format!("http://{}", running.addr);
    let client = reqwest::Client::new();
    let admin = running
        .demo_accounts
        .iter()
        .find(|a| a.username == "admin")
        .unwrap();
    let token: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({"username": "admin", "password": admin.password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap().to_owned();
    // A leader account per site: each site submits its own report.
    let mut leaders = std::collections::HashMap::new();
    for (_, code, _) in &sites {
        let username = format!("lead-{}", code.to_lowercase());
        let user = serde_json::json!({"username": username, "role": "leader", "site": code,
            "password": "Bench-leader-2020"});
        let res = client
            .post(format!("{base}/api/v1/users"))
            .bearer_auth(&token)
            .json(&user)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        let login = serde_json::json!({"username": username, "password": "Bench-leader-2020",
            "new_password": "Bench-leader-own-2020"});
        let answer: serde_json::Value = client
            .post(format!("{base}/api/v1/auth/token"))
            .json(&login)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        leaders.insert(code.clone(), answer["token"].as_str().unwrap().to_owned());
    }
    // Every site's report submitted for every past day (the roll-up then reads frozen
    // versions as well as live figures).
    let watch = Stopwatch::start();
    for d in 0..DAYS - 1 {
        let day = first + Duration::days(d);
        for (_, code, _) in sites.iter().rev() {
            let res = client
                .post(format!("{base}/api/v1/reports/daily/{code}/{day}/submit"))
                .bearer_auth(&leaders[code])
                .json(&serde_json::json!({"remarks": "无异常"}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        }
    }
    println!(
        "submitted {} reports in {:.0} s",
        sites.len() * (DAYS as usize - 1),
        watch.seconds()
    );

    let mut seed = 2020u64;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let get = async |path: String| {
        let watch = Stopwatch::start();
        let res = client
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert!(
            body.is_array() || body["screened"].as_i64().is_some_and(|n| n > 0),
            "{path}"
        );
        watch.seconds() * 1000.0
    };
    for _ in 0..20 {
        get("/api/v1/reports/daily?site=JD&rollup=true".into()).await;
    }
    let mut site_ms = Vec::new();
    let mut today_ms = Vec::new();
    let mut rollup_ms = Vec::new();
    let mut trend_ms = Vec::new();
    for _ in 0..requests {
        let (_, code, _) = &sites[next(sites.len() as u64) as usize];
        let day = first + Duration::days(next(DAYS as u64 - 1) as i64);
        site_ms.push(get(format!("/api/v1/reports/daily?site={code}&date={day}")).await);
        today_ms.push(get(format!("/api/v1/reports/daily?site={code}")).await);
        rollup_ms.push(
            get(format!(
                "/api/v1/reports/daily?site=JD&date={day}&rollup=true"
            ))
            .await,
        );
        if trend_ms.len() < requests / 5 {
            trend_ms.push(get("/api/v1/reports/trends?site=JD&days=30".into()).await);
        }
    }
    report("one site's report, a past day (submitted)", site_ms);
    report("one site's report, today (live)", today_ms);
    report("district roll-up (13 sites), a past day", rollup_ms);
    report("district 30-day trend", trend_ms);
    // For comparison: what a report would cost if it counted the records themselves.
    let mut recount_ms = Vec::new();
    for i in 0..10 {
        let day = first + Duration::days(i * 3);
        let site: uuid::Uuid = sites[i as usize % sites.len()].0.parse().unwrap();
        let watch = Stopwatch::start();
        let counted = fangkong_store::reports::recount(&store, site, day)
            .await
            .unwrap();
        recount_ms.push(watch.seconds() * 1000.0);
        assert!(!counted.is_empty());
    }
    report(
        "(comparison) one site's day recounted from its records",
        recount_ms,
    );
    running.shutdown().await.unwrap();
}
