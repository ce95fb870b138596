//! The group-commit writer alone (no HTTP): 64 concurrent writers appending one row per
//! request for a few seconds, on SQLite and on PostgreSQL. Prints rows/s and batch sizes.
//!
//! `cargo bench -p fangkong-store --bench writer [-- SECONDS]`

use fangkong_domain::clock::{FixedClock, IdSource, SequentialIds};
use fangkong_domain::sync::validate;
use fangkong_store::system::Stopwatch;
use fangkong_store::{Store, demo, migrate, sync};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use time::macros::datetime;

const WRITERS: usize = 64;

async fn run(name: &str, store: Store, seconds: f64) {
    let now = datetime!(2020-01-29 02:00 UTC);
    migrate::run(&store, now).await.unwrap();
    let vault = fangkong_store::privacy::Vault::from_master(&[1u8; 32]);
    store.set_audit_key(vault.audit_key());
    demo::seed(
        &store,
        &vault,
        &FixedClock::new(now),
        &SequentialIds::new(1),
    )
    .await
    .unwrap();
    let ids = Arc::new(SequentialIds::new(1_580_263_200_000));
    let stop = Arc::new(AtomicBool::new(false));
    let clock = Stopwatch::start();
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (store, ids, stop) = (store.clone(), ids.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let payload = serde_json::json!({"decision": "admit", "temperature_c": 36.5});
            let site = ["JD", "JD-QX", "JD-JJ", "JD-PD"][w % 4];
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let e =
                    validate(ids.new_id(), site, "screening.recorded", now, &payload, now).unwrap();
                sync::append(&store, &[e], now).await.unwrap();
                n += 1;
            }
            n
        }));
    }
    tokio::time::sleep(std::time::Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut rows = 0;
    for t in tasks {
        rows += t.await.unwrap();
    }
    let elapsed = clock.seconds();
    let s = store.writer_stats();
    println!(
        "{name:<10} {WRITERS} writers: {:>8.0} rows/s  ({rows} rows in {elapsed:.1} s; {} commits, mean batch {:.1} requests, largest {})",
        rows as f64 / elapsed,
        s.batches,
        s.requests as f64 / s.batches.max(1) as f64,
        s.max_batch
    );
    store.close().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let seconds: f64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5.0);
    let dir = tempfile::tempdir().unwrap();
    let lite = Store::open_sqlite(&dir.path().join("bench.db"))
        .await
        .unwrap();
    run("SQLite", lite, seconds).await;
    match fangkong_store::testing::postgres_schema_url("bench_writer").await {
        Some(url) => {
            run(
                "PostgreSQL",
                Store::open_postgres(&url).await.unwrap(),
                seconds,
            )
            .await
        }
        None => println!("PostgreSQL skipped"),
    }
}
