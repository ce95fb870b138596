//! The store contract: every test runs on SQLite and on PostgreSQL alike.
//!
//! PostgreSQL comes from `FANGKONG_TEST_DATABASE_URL` (default: the local server); each
//! test gets its own schema. When it is unreachable the PostgreSQL half is skipped with a
//! printed reason, unless `FANGKONG_REQUIRE_POSTGRES=1` (set by CI) makes that a failure.

use fangkong_domain::FieldError;
use fangkong_domain::clock::{FixedClock, IdSource, SequentialIds};
use fangkong_domain::org::{Name, NewSite, SiteCode, SiteKind};
use fangkong_domain::sync::{Event, validate};
use fangkong_store::idempotency::{self, Prior};
use fangkong_store::{Op, Store, StoreError, demo, migrate, org, params, sync};
use std::sync::Arc;
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2020-01-29 08:00 UTC);

/// A migrated store of one backend, cleaned up when dropped.
struct Fixture {
    store: Store,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("t.db")).await.unwrap();
    migrate::run(&store, NOW).await.unwrap();
    Fixture {
        store,
        _dir: Some(dir),
    }
}

async fn postgres() -> Option<Fixture> {
    let url = fangkong_store::testing::postgres_schema_url(&format!("contract_{}", uniq())).await?;
    let store = Store::open_postgres(&url).await.unwrap();
    migrate::run(&store, NOW).await.unwrap();
    Some(Fixture { store, _dir: None })
}

fn uniq() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// Runs a contract check on both backends.
macro_rules! contract {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let f = super::sqlite().await;
                super::$body(&f.store).await;
                f.store.close().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(f) = super::postgres().await {
                    super::$body(&f.store).await;
                    f.store.close().await;
                }
            }
        }
    };
}

fn ids() -> Arc<SequentialIds> {
    Arc::new(SequentialIds::new(1_580_284_800_000 + uniq() * 1000))
}

fn new_site(code: &str, kind: SiteKind, parent: Option<&str>) -> NewSite {
    NewSite {
        code: SiteCode::parse(code).unwrap(),
        name: Name::parse(&format!("站点 {code}"), "name").unwrap(),
        kind,
        parent: parent.map(|p| SiteCode::parse(p).unwrap()),
        address: String::new(),
        capacity: 10,
    }
}

async fn seeded(store: &Store) {
    let clock = FixedClock::new(NOW);
    assert!(demo::seed(store, &clock, ids().as_ref()).await.unwrap());
}

fn event(ids: &SequentialIds, site: &str, n: u64) -> Event {
    validate(
        ids.new_id(),
        site,
        "test.recorded",
        NOW,
        &serde_json::json!({ "n": n }),
        NOW,
    )
    .unwrap()
}

// ---------------------------------------------------------------------------------------

async fn migrations_apply_once(store: &Store) {
    let again = migrate::run(store, NOW).await.unwrap();
    assert!(again.applied.is_empty());
    let latest = migrate::list(store.backend()).last().unwrap().version;
    assert_eq!(again.version, latest);
}
contract!(
    migrations_apply_once_then_are_up_to_date,
    migrations_apply_once
);

async fn tx_commit_and_rollback(store: &Store) {
    let ids = ids();
    let mut tx = store.begin().await.unwrap();
    org::insert_site(
        &mut tx,
        ids.new_id(),
        &new_site("A", SiteKind::District, None),
        NOW,
    )
    .await
    .unwrap();
    drop(tx); // not committed: rolled back
    assert!(org::find_site(store, "A").await.unwrap().is_none());

    let mut tx = store.begin().await.unwrap();
    org::insert_site(
        &mut tx,
        ids.new_id(),
        &new_site("A", SiteKind::District, None),
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let a = org::find_site(store, "A").await.unwrap().unwrap();
    assert_eq!(a.kind, SiteKind::District);
    assert_eq!(a.name, "站点 A");
}
contract!(
    a_unit_of_work_commits_or_rolls_back_whole,
    tx_commit_and_rollback
);

async fn rules_checked_against_stored_data(store: &Store) {
    let ids = ids();
    let mut tx = store.begin().await.unwrap();
    org::insert_site(
        &mut tx,
        ids.new_id(),
        &new_site("A", SiteKind::District, None),
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let cases = [
        (new_site("A", SiteKind::District, None), "site.code.taken"),
        (
            new_site("B", SiteKind::Town, Some("ZZ")),
            "site.parent.unknown",
        ),
        (
            new_site("C", SiteKind::Village, Some("A")),
            "site.parent.wrong_kind",
        ),
    ];
    for (site, code) in cases {
        // Each case in its own unit of work: a refused statement ends a PostgreSQL
        // transaction, and the failed unit of work must leave nothing behind.
        let mut tx = store.begin().await.unwrap();
        match org::insert_site(&mut tx, ids.new_id(), &site, NOW).await {
            Err(StoreError::Invalid(FieldError { code: got, .. })) => assert_eq!(got, code),
            other => panic!("expected {code}, got {other:?}"),
        }
        drop(tx);
    }
    assert_eq!(org::list_sites(store).await.unwrap().len(), 1);
}
contract!(
    rules_are_checked_against_stored_data,
    rules_checked_against_stored_data
);

async fn demo_tree(store: &Store) {
    seeded(store).await;
    let clock = FixedClock::new(NOW);
    assert!(
        !demo::seed(store, &clock, ids().as_ref()).await.unwrap(),
        "seeding twice"
    );
    let tree = org::list_sites(store).await.unwrap();
    assert_eq!(tree.len(), 13);
    let order: Vec<(&str, u32)> = tree
        .iter()
        .map(|t| (t.site.code.as_str(), t.depth))
        .collect();
    assert_eq!(
        order,
        [
            ("JD", 0),
            ("JD-JJ", 1),
            ("JD-PD", 1),
            ("JD-PD-01", 2),
            ("JD-QX", 1),
            ("JD-QX-01", 2),
            ("JD-QX-02", 2),
            ("JD-XC", 1),
            ("JD-XC-01", 2),
            ("JD-XH", 1),
            ("JD-XH-01", 2),
            ("JD-YC", 1),
            ("JD-YJ", 1),
        ]
    );
    let sites: Vec<_> = tree.into_iter().map(|t| t.site).collect();
    let hall = org::hall_size(store, sites[0].id).await.unwrap();
    assert_eq!(hall.units, 10);
    assert_eq!(hall.windows, 21);
}
contract!(the_demo_district_is_a_tree_loaded_once, demo_tree);

async fn writer_batches(store: &Store) {
    seeded(store).await;
    let ids = ids();
    let mut tasks = Vec::new();
    for w in 0..64u64 {
        let store = store.clone();
        let ids = ids.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..10 {
                let e = event(&ids, "JD-QX", w * 100 + n);
                let out = sync::append(&store, std::slice::from_ref(&e), NOW)
                    .await
                    .unwrap();
                assert_eq!(out.accepted, vec![e.id]);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let n: i64 = store
        .query_one("SELECT COUNT(*) FROM events", &[])
        .await
        .unwrap()
        .get(0)
        .unwrap();
    assert_eq!(n, 640);
    let stats = store.writer_stats();
    assert_eq!(stats.requests, 640);
    assert_eq!(stats.ops, 640);
    assert!(
        stats.batches < stats.requests,
        "{stats:?}: nothing was grouped"
    );
    assert!(stats.max_batch > 1, "{stats:?}");
}
contract!(
    the_writer_groups_concurrent_requests_into_commits,
    writer_batches
);

async fn writer_isolates_failures(store: &Store) {
    seeded(store).await;
    let ids = ids();
    let good: Vec<Event> = (0..20).map(|n| event(&ids, "JD", n)).collect();
    let bad = Op::new(
        "INSERT INTO events (id, site_id, kind, occurred_at, received_at, payload) VALUES ($1, $2, $3, $4, $5, $6)",
        params![
            ids.new_id(),
            "no-such-site",
            "test.recorded",
            NOW,
            NOW,
            "{}"
        ],
    );
    let mut tasks = Vec::new();
    for e in good.clone() {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            sync::append(&store, &[e], NOW).await.map(|_| ())
        }));
    }
    let store2 = store.clone();
    let bad_task = tokio::spawn(async move { store2.write(vec![bad]).await });
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert!(matches!(
        bad_task.await.unwrap(),
        Err(StoreError::ForeignKey)
    ));
    for e in &good {
        assert!(sync::get(store, e.id).await.unwrap().is_some());
    }
}
contract!(one_bad_request_fails_alone, writer_isolates_failures);

async fn duplicates_by_id(store: &Store) {
    seeded(store).await;
    let ids = ids();
    let batch: Vec<Event> = (0..5).map(|n| event(&ids, "JD-XC-01", n)).collect();
    let first = sync::append(store, &batch, NOW).await.unwrap();
    assert_eq!(first.accepted.len(), 5);
    let mut resend = batch[3..].to_vec();
    resend.push(event(&ids, "JD-XC-01", 9));
    let second = sync::append(store, &resend, NOW).await.unwrap();
    assert_eq!(second.duplicates, vec![batch[3].id, batch[4].id]);
    assert_eq!(second.accepted, vec![resend[2].id]);
    let stored = sync::get(store, batch[0].id).await.unwrap().unwrap();
    assert_eq!(stored.site, "JD-XC-01");
    assert_eq!(stored.payload, r#"{"n":0}"#);
    assert_eq!(stored.occurred_at, NOW);
    assert_eq!(sync::count_since(store, NOW).await.unwrap(), 6);
    let unknown = sync::append(store, &[event(&ids, "NOPE", 1)], NOW).await;
    assert!(matches!(
        unknown,
        Err(StoreError::Invalid(FieldError {
            code: "site.unknown",
            ..
        }))
    ));
}
contract!(resent_events_are_stored_once, duplicates_by_id);

async fn idempotency_keys(store: &Store) {
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        idempotency::lookup_in(&mut tx, "s", "k", "f1")
            .await
            .unwrap(),
        Prior::None
    );
    let op = idempotency::remember("s", "k", "f1", 201, r#"{"ok":true}"#, NOW);
    tx.execute(op.sql, &op.params).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        idempotency::lookup(store, "s", "k", "f1").await.unwrap(),
        Prior::Replay {
            status: 201,
            body: r#"{"ok":true}"#.into()
        }
    );
    assert_eq!(
        idempotency::lookup(store, "s", "k", "f2").await.unwrap(),
        Prior::Conflict
    );
    assert_eq!(
        idempotency::lookup(store, "other", "k", "f2")
            .await
            .unwrap(),
        Prior::None
    );
    // The same key twice is refused by the store itself (the race between two requests).
    let again = store
        .write(vec![idempotency::remember("s", "k", "f1", 201, "{}", NOW)])
        .await;
    assert!(
        matches!(again, Err(StoreError::Unique { ref table }) if table == "idempotency_keys"),
        "{again:?}"
    );
    assert_eq!(
        idempotency::purge(store, NOW + idempotency::RETENTION)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        idempotency::purge(store, NOW + idempotency::RETENTION + time::Duration::SECOND)
            .await
            .unwrap(),
        1
    );
}
contract!(
    idempotency_keys_replay_conflict_and_expire,
    idempotency_keys
);

async fn closing_statement(store: &Store) {
    seeded(store).await;
    let ids = ids();
    let e = event(&ids, "JD", 1);
    let ops = sync::ops_for(store, std::slice::from_ref(&e), NOW)
        .await
        .unwrap();
    let then: fangkong_store::Then = Box::new(|counts: &[u64]| {
        idempotency::remember("s", "k", "f", 200, &format!("{counts:?}"), NOW)
    });
    let counts = store.write_then(ops, then).await.unwrap();
    assert_eq!(counts, vec![1]);
    assert_eq!(
        idempotency::lookup(store, "s", "k", "f").await.unwrap(),
        Prior::Replay {
            status: 200,
            body: "[1]".into()
        }
    );
}
contract!(
    a_closing_statement_commits_with_its_request,
    closing_statement
);

async fn values_round_trip(store: &Store) {
    let mut tx = store.begin().await.unwrap();
    tx.execute(
        "INSERT INTO idempotency_keys (scope, key, fingerprint, status, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        &params!["范围", "键 'quoted' $1", "", i64::MAX, "正文\n\u{1F600}", i64::MIN],
    )
    .await
    .unwrap();
    let row = tx
        .query_one(
            "SELECT key, status, body, created_at, NULL, 1 = 1 FROM idempotency_keys WHERE scope = $1",
            &params!["范围"],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<String>(0).unwrap(), "键 'quoted' $1");
    assert_eq!(row.get::<i64>(1).unwrap(), i64::MAX);
    assert_eq!(row.get::<String>(2).unwrap(), "正文\n\u{1F600}");
    assert_eq!(row.get::<i64>(3).unwrap(), i64::MIN);
    assert_eq!(row.get::<Option<String>>(4).unwrap(), None);
    assert!(row.get::<bool>(5).unwrap());
    tx.commit().await.unwrap();
}
contract!(values_survive_the_round_trip, values_round_trip);

async fn live_notices(store: &Store) {
    let mut rx = store.subscribe();
    // On PostgreSQL the listener connects in the background: publish until heard.
    for _ in 0..50 {
        store.publish("sync", "x").await.unwrap();
        if let Ok(Ok(n)) =
            tokio::time::timeout(std::time::Duration::from_millis(100), rx.recv()).await
        {
            assert_eq!(n.topic, "sync");
            assert_eq!(n.data, "x");
            return;
        }
    }
    panic!("no live notice arrived");
}
contract!(live_notices_reach_subscribers, live_notices);

// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_then_restore_gives_identical_data() {
    let f = sqlite().await;
    seeded(&f.store).await;
    let ids = ids();
    sync::append(
        &f.store,
        &[event(&ids, "JD", 1), event(&ids, "JD-QX", 2)],
        NOW,
    )
    .await
    .unwrap();
    let dump = |store: Store| async move {
        let mut out = Vec::new();
        for table in ["sites", "units", "windows", "events", "schema_migrations"] {
            let rows = store
                .query(&format!("SELECT * FROM {table} ORDER BY 1"), &[])
                .await
                .unwrap();
            out.push(rows);
        }
        out
    };
    let before = dump(f.store.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("backup.db");
    let db = f._dir.as_ref().unwrap().path().join("t.db");
    let summary = fangkong_store::backup::backup(&db, &copy).unwrap();
    assert!(summary.bytes > 0);
    assert!(
        fangkong_store::backup::backup(&db, &copy).is_err(),
        "overwrote a backup"
    );

    // Change the live store, damage it, then restore the copy over it and into a fresh
    // folder.
    sync::append(&f.store, &[event(&ids, "JD", 3)], NOW)
        .await
        .unwrap();
    f.store.close().await;
    let Fixture { store, _dir: _keep } = f;
    drop(store); // the last connection checkpoints the log into the file
    std::fs::write(&db, vec![0x42u8; 8192]).unwrap();
    assert!(
        Store::open_sqlite(&db).await.is_err(),
        "the damage went unnoticed"
    );
    fangkong_store::backup::restore(&db, &copy).unwrap();
    let restored = Store::open_sqlite(&db).await.unwrap();
    assert_eq!(dump(restored.clone()).await, before);
    restored.close().await;

    let other = dir.path().join("fresh.db");
    fangkong_store::backup::restore(&other, &copy).unwrap();
    let fresh = Store::open_sqlite(&other).await.unwrap();
    assert_eq!(dump(fresh.clone()).await, before);
    fresh.close().await;

    // A file that is not a database is refused, and nothing is written.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all, just text").unwrap();
    let err = fangkong_store::backup::restore(&other, &junk)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("damaged or is not a Fangkong database"),
        "{err}"
    );
}

#[tokio::test]
async fn a_damaged_file_is_named_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fangkong.db");
    std::fs::write(&path, vec![7u8; 8192]).unwrap();
    let err = Store::open_sqlite(&path).await.err().unwrap().to_string();
    assert!(
        err.contains("damaged") && err.contains("fangkong restore"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unreachable_postgres_is_named_with_the_fix() {
    let err = Store::open_postgres("postgres://nobody@127.0.0.1:1/none?connect_timeout=2")
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("cannot connect to PostgreSQL at 127.0.0.1:1/none"),
        "{err}"
    );
    assert!(err.contains("--database-url"), "{err}");
    let err = Store::open_postgres("postgres://a@b:notaport/x")
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("not valid"), "{err}");
}
