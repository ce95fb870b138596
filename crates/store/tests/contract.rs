//! The store contract: every test runs on SQLite and on PostgreSQL alike.
//!
//! PostgreSQL comes from `FANGKONG_TEST_DATABASE_URL` (default: the local server); each
//! test gets its own schema. When it is unreachable the PostgreSQL half is skipped with a
//! printed reason, unless `FANGKONG_REQUIRE_POSTGRES=1` (set by CI) makes that a failure.

use fangkong_domain::FieldError;
use fangkong_domain::access::Role;
use fangkong_domain::audit::{Break, Outcome};
use fangkong_domain::clock::{FixedClock, IdSource, SequentialIds, unix_millis};
use fangkong_domain::demo::{DemoPerson, district};
use fangkong_domain::org::{
    GroupKind, Name, NewCheckpoint, NewSite, PersonKind, Position, SiteCode, SiteKind,
};
use fangkong_domain::privacy::{IdNumber, PersonName, Phone};
use fangkong_domain::sync::{Event, validate};
use fangkong_store::accounts::{self, NewUser};
use fangkong_store::audit::{self, Filter, Record, Verdict};
use fangkong_store::idempotency::{self, Prior};
use fangkong_store::org::{NewPerson, PersonalField, SiteDetails};
use fangkong_store::{Op, Store, StoreError, demo, migrate, org, params, sync};
use std::collections::BTreeSet;
use std::sync::Arc;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const NOW: OffsetDateTime = datetime!(2020-01-29 08:00 UTC);

/// A migrated store of one backend, cleaned up when dropped.
struct Fixture {
    store: Store,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("t.db")).await.unwrap();
    store.set_audit_key(vault().audit_key());
    migrate::run(&store, NOW).await.unwrap();
    Fixture {
        store,
        _dir: Some(dir),
    }
}

async fn postgres() -> Option<Fixture> {
    let url = fangkong_store::testing::postgres_schema_url(&format!("contract_{}", uniq())).await?;
    let store = Store::open_postgres(&url).await.unwrap();
    store.set_audit_key(vault().audit_key());
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

/// The personal-data keys of the tests.
fn vault() -> fangkong_store::privacy::Vault {
    fangkong_store::privacy::Vault::from_master(&[42u8; 32])
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
    assert!(
        demo::seed(store, &vault(), &clock, ids().as_ref())
            .await
            .unwrap()
            .is_some()
    );
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
        demo::seed(store, &vault(), &clock, ids().as_ref())
            .await
            .unwrap()
            .is_none(),
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

// ---- helpers for accounts, the audit log and the organisation ---------------------------

/// Asserts that a store call was refused as invalid input with `code`.
#[track_caller]
fn assert_invalid<T: std::fmt::Debug>(got: Result<T, StoreError>, code: &str) {
    match got {
        Err(StoreError::Invalid(FieldError { code: got, .. })) => assert_eq!(got, code),
        other => panic!("expected {code}, got {other:?}"),
    }
}

/// Runs one statement in its own unit of work (to damage stored rows on purpose).
async fn exec(store: &Store, sql: &str, params: &[fangkong_store::Value]) -> u64 {
    let mut tx = store.begin().await.unwrap();
    let n = tx.execute(sql, params).await.unwrap();
    tx.commit().await.unwrap();
    n
}

/// The id of a stored site.
async fn site_id(store: &Store, code: &str) -> Uuid {
    org::find_site(store, code)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no site {code}"))
        .id
}

/// Adds the district site `A` to an empty store, for accounts to belong to.
async fn one_site(store: &Store, ids: &SequentialIds) -> Uuid {
    let mut tx = store.begin().await.unwrap();
    let site = org::insert_site(
        &mut tx,
        ids.new_id(),
        &new_site("A", SiteKind::District, None),
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    site.id
}

/// Adds an account (which must change its password) in its own unit of work.
async fn add_user(
    store: &Store,
    id: Uuid,
    username: &str,
    site: Uuid,
    role: Role,
    hash: &str,
) -> Result<(), StoreError> {
    let user = NewUser {
        id,
        username,
        role,
        site_id: site,
        password_hash: hash,
        must_change: true,
    };
    let mut tx = store.begin().await?;
    accounts::insert_user(&mut tx, &user, NOW).await?;
    tx.commit().await
}

/// Adds an API token in its own unit of work.
async fn add_token(
    store: &Store,
    (id, user): (Uuid, Uuid),
    secret: &str,
    created: OffsetDateTime,
    expires: OffsetDateTime,
) {
    let mut tx = store.begin().await.unwrap();
    accounts::insert_token(&mut tx, id, user, secret, secret, created, expires)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// An audit record of `actor` doing `action` at `site`, from one address.
fn record<'a>(actor: &'a str, action: &'a str, site: &'a str, outcome: Outcome) -> Record<'a> {
    Record {
        actor,
        addr: "10.0.0.1",
        action,
        target: format!("site:{site}"),
        site,
        outcome,
        detail: serde_json::json!({ "by": actor }),
    }
}

/// `NOW` plus `n` minutes.
fn minute(n: i64) -> OffsetDateTime {
    NOW + Duration::minutes(n)
}

/// Appends entries 1 to 5, a minute apart: two in one unit of work, one by
/// `append_now`.
async fn five_entries(store: &Store) {
    let mut tx = store.begin().await.unwrap();
    let r = record("admin", "site.create", "JD", Outcome::Ok);
    assert_eq!(audit::append(&mut tx, minute(0), &r).await.unwrap(), 1);
    let r = record("admin", "site.update", "JD", Outcome::Ok);
    assert_eq!(audit::append(&mut tx, minute(1), &r).await.unwrap(), 2);
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let r = record("bob", "auth.login", "JD", Outcome::Failed);
    assert_eq!(audit::append(&mut tx, minute(2), &r).await.unwrap(), 3);
    tx.commit().await.unwrap();
    let r = record("admin", "auth.login", "JD", Outcome::Ok);
    assert_eq!(audit::append_now(store, minute(3), &r).await.unwrap(), 4);
    let mut tx = store.begin().await.unwrap();
    let r = record("admin", "person.reveal", "JD-QX", Outcome::Denied);
    assert_eq!(audit::append(&mut tx, minute(4), &r).await.unwrap(), 5);
    tx.commit().await.unwrap();
}

/// The demo people of the site at `index` of the demo district, in the order seeded.
fn demo_people(index: usize) -> Vec<DemoPerson> {
    fangkong_domain::demo::people(&district()[index], index)
}

/// `138****5678`: a phone number with its middle four digits starred.
fn masked_phone(phone: &str) -> String {
    format!("{}****{}", &phone[..3], &phone[7..])
}

/// An 18-character ID number with all but its first 3 and last 4 characters starred.
fn masked_id(id: &str) -> String {
    format!("{}{}{}", &id[..3], "*".repeat(11), &id[14..])
}

/// A name's first character, then a star for each other character (at least one).
fn masked_name(name: &str) -> String {
    let mut chars = name.chars();
    let first = chars.next().unwrap();
    format!("{first}{}", "*".repeat(chars.count().max(1)))
}

/// Every TEXT and BLOB value stored in `table`, as raw bytes.
async fn raw_values(store: &Store, table: &str) -> Vec<Vec<u8>> {
    let rows = store
        .query(&format!("SELECT * FROM {table}"), &[])
        .await
        .unwrap();
    let mut out = Vec::new();
    for row in rows {
        for i in 0..row.len() {
            if let Ok(Some(bytes)) = row.get::<Option<Vec<u8>>>(i) {
                out.push(bytes);
            } else if let Ok(Some(text)) = row.get::<Option<String>>(i) {
                out.push(text.into_bytes());
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Adds a checkpoint in its own unit of work.
async fn add_checkpoint(
    store: &Store,
    ids: &SequentialIds,
    site: Uuid,
    code: &str,
    is_main: bool,
) -> Result<(), StoreError> {
    let cp = NewCheckpoint {
        code: SiteCode::parse(code).unwrap(),
        name: Name::parse(&format!("{code} 门"), "name").unwrap(),
        is_main,
    };
    let mut tx = store.begin().await?;
    org::insert_checkpoint(&mut tx, ids.new_id(), site, &cp, NOW).await?;
    tx.commit().await
}

/// A site's checkpoints as (code, is main), in the listed order.
async fn checkpoint_marks(store: &Store, site: Uuid) -> Vec<(String, bool)> {
    org::checkpoints(store, site)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.code, c.is_main))
        .collect()
}

/// A site's group memberships as (group, person, position).
async fn memberships(store: &Store, site: Uuid) -> BTreeSet<(&'static str, Uuid, Position)> {
    org::groups(store, &vault(), site)
        .await
        .unwrap()
        .iter()
        .flat_map(|g| {
            g.members
                .iter()
                .map(|m| (g.kind.as_str(), m.person, m.position))
        })
        .collect()
}

// ---- accounts --------------------------------------------------------------------------

async fn users_and_passwords(store: &Store) {
    let ids = ids();
    let site = one_site(store, &ids).await;
    assert!(!accounts::any_user(store).await.unwrap());
    let hash = accounts::hash_password("揭东-防控-2020").unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(accounts::verify_password(&hash, "揭东-防控-2020"));
    assert!(!accounts::verify_password(&hash, "揭东-防控-2021"));

    let id = ids.new_id();
    add_user(store, id, "zhang-san", site, Role::Support, &hash)
        .await
        .unwrap();
    assert!(accounts::any_user(store).await.unwrap());
    let found = accounts::credentials(store, "zhang-san")
        .await
        .unwrap()
        .unwrap();
    let account = accounts::Account {
        id,
        username: "zhang-san".into(),
        role: Role::Support,
        site_id: site,
        site_code: "A".into(),
        must_change: true,
        person_id: None,
    };
    assert_eq!(found.account, account);
    assert_eq!(found.password_hash, hash);
    assert_eq!(accounts::find_user(store, id).await.unwrap(), Some(account));
    assert!(
        accounts::credentials(store, "nobody")
            .await
            .unwrap()
            .is_none()
    );

    // A taken name is refused whatever the other fields; the refusal adds nothing.
    assert_invalid(
        add_user(store, ids.new_id(), "zhang-san", site, Role::Admin, "x").await,
        "user.username.taken",
    );
    add_user(store, ids.new_id(), "li-si", site, Role::Window, "y")
        .await
        .unwrap();
    let names: Vec<String> = accounts::list_users(store)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.username)
        .collect();
    assert_eq!(names, ["li-si", "zhang-san"]);
}
contract!(
    accounts_are_found_by_name_and_names_are_unique,
    users_and_passwords
);

async fn sessions(store: &Store) {
    let ids = ids();
    let site = one_site(store, &ids).await;
    let (alice, bob) = (ids.new_id(), ids.new_id());
    add_user(store, alice, "alice", site, Role::Admin, "h")
        .await
        .unwrap();
    add_user(store, bob, "bob", site, Role::Window, "h")
        .await
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    accounts::insert_session(&mut tx, "secret-a", alice, "csrf-a", NOW)
        .await
        .unwrap();
    accounts::insert_session(&mut tx, "secret-b", bob, "csrf-b", NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let find = async |secret: &str| accounts::find_session(store, secret).await.unwrap();
    let a = find("secret-a").await.unwrap();
    assert_eq!(
        (a.account.id, a.account.username.as_str()),
        (alice, "alice")
    );
    assert_eq!(a.csrf, "csrf-a");
    assert_eq!((a.created_at, a.last_seen_at), (NOW, NOW));
    assert_eq!(find("secret-b").await.unwrap().account.id, bob);
    assert!(find("secret-c").await.is_none());
    // Only hashes are stored: a copy of the table does not hold a usable secret.
    let stored = raw_values(store, "sessions").await;
    assert!(!stored.iter().any(|v| contains(v, b"secret-a")));

    accounts::touch_session(store, "secret-a", minute(5))
        .await
        .unwrap();
    let a = find("secret-a").await.unwrap();
    assert_eq!((a.created_at, a.last_seen_at), (NOW, minute(5)));
    assert_eq!(find("secret-b").await.unwrap().last_seen_at, NOW);

    let mut tx = store.begin().await.unwrap();
    accounts::delete_session(&mut tx, "secret-a").await.unwrap();
    tx.commit().await.unwrap();
    assert!(find("secret-a").await.is_none());
    assert!(find("secret-b").await.is_some());
}
contract!(sessions_are_found_by_secret_until_deleted, sessions);

async fn tokens(store: &Store) {
    let ids = ids();
    let site = one_site(store, &ids).await;
    let (alice, bob) = (ids.new_id(), ids.new_id());
    add_user(store, alice, "alice", site, Role::Admin, "h")
        .await
        .unwrap();
    add_user(store, bob, "bob", site, Role::Upper, "h")
        .await
        .unwrap();
    let expiry = NOW + Duration::days(1);
    let (old, mid, new, bobs) = (ids.new_id(), ids.new_id(), ids.new_id(), ids.new_id());
    // Added out of order: the list is by creation time.
    add_token(store, (mid, alice), "tok-mid", minute(1), expiry).await;
    add_token(store, (new, alice), "tok-new", minute(2), expiry).await;
    add_token(store, (old, alice), "tok-old", NOW, expiry).await;
    add_token(store, (bobs, bob), "tok-bob", NOW, expiry).await;

    let owner = async |secret: &str, at| {
        accounts::token_account(store, secret, at)
            .await
            .unwrap()
            .map(|a| a.id)
    };
    assert_eq!(owner("tok-old", NOW).await, Some(alice));
    assert_eq!(owner("tok-bob", NOW).await, Some(bob));
    assert_eq!(
        owner("tok-old", expiry - Duration::MILLISECOND).await,
        Some(alice)
    );
    assert_eq!(owner("tok-old", expiry).await, None, "expired");
    assert_eq!(owner("tok-nope", NOW).await, None);

    // Another user's token cannot be revoked.
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        accounts::revoke_token(&mut tx, bob, old, minute(3)).await,
        Err(StoreError::NotFound)
    ));
    drop(tx);
    assert_eq!(owner("tok-old", minute(4)).await, Some(alice));
    let mut tx = store.begin().await.unwrap();
    accounts::revoke_token(&mut tx, alice, old, minute(3))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(owner("tok-old", minute(4)).await, None, "revoked");
    assert_eq!(owner("tok-mid", minute(4)).await, Some(alice));
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        accounts::revoke_token(&mut tx, alice, old, minute(5)).await,
        Err(StoreError::NotFound)
    ));
    drop(tx);

    let listed = accounts::list_tokens(store, alice).await.unwrap();
    let summary: Vec<_> = listed
        .iter()
        .map(|t| (t.id, t.label.as_str(), t.created_at, t.revoked_at))
        .collect();
    assert_eq!(
        summary,
        [
            (new, "tok-new", minute(2), None),
            (mid, "tok-mid", minute(1), None),
            (old, "tok-old", NOW, Some(minute(3))),
        ]
    );
    assert!(listed.iter().all(|t| t.expires_at == expiry));
    let bob_tokens = accounts::list_tokens(store, bob).await.unwrap();
    assert_eq!(bob_tokens.iter().map(|t| t.id).collect::<Vec<_>>(), [bobs]);
}
contract!(tokens_work_until_they_expire_or_are_revoked, tokens);

async fn new_password(store: &Store) {
    let ids = ids();
    let site = one_site(store, &ids).await;
    let (alice, bob) = (ids.new_id(), ids.new_id());
    add_user(store, alice, "alice", site, Role::Admin, "old-hash")
        .await
        .unwrap();
    add_user(store, bob, "bob", site, Role::Admin, "bob-hash")
        .await
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    for (secret, user) in [("a1", alice), ("a2", alice), ("b1", bob)] {
        accounts::insert_session(&mut tx, secret, user, "csrf", NOW)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let expiry = NOW + Duration::days(1);
    let (t1, t2, t3) = (ids.new_id(), ids.new_id(), ids.new_id());
    add_token(store, (t1, alice), "t1", NOW, expiry).await;
    add_token(store, (t2, alice), "t2", minute(1), expiry).await;
    add_token(store, (t3, bob), "t3", NOW, expiry).await;
    let mut tx = store.begin().await.unwrap();
    accounts::revoke_token(&mut tx, alice, t1, minute(2))
        .await
        .unwrap();
    accounts::set_password(&mut tx, alice, "new-hash", false, minute(10))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let creds = accounts::credentials(store, "alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(creds.password_hash, "new-hash");
    assert!(!creds.account.must_change);
    for (secret, alive) in [("a1", false), ("a2", false), ("b1", true)] {
        let found = accounts::find_session(store, secret).await.unwrap();
        assert_eq!(found.is_some(), alive, "session {secret}");
    }
    let at = minute(11);
    assert!(
        accounts::token_account(store, "t2", at)
            .await
            .unwrap()
            .is_none()
    );
    let bobs = accounts::token_account(store, "t3", at).await.unwrap();
    assert_eq!(bobs.map(|a| a.id), Some(bob));
    // A token revoked before keeps its own time.
    let revoked: Vec<_> = accounts::list_tokens(store, alice)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.id, t.revoked_at))
        .collect();
    assert_eq!(revoked, [(t2, Some(minute(10))), (t1, Some(minute(2)))]);
    let bob_creds = accounts::credentials(store, "bob").await.unwrap().unwrap();
    assert_eq!(bob_creds.password_hash, "bob-hash");

    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        accounts::set_password(&mut tx, Uuid::nil(), "x", false, NOW).await,
        Err(StoreError::NotFound)
    ));
}
contract!(
    a_new_password_ends_the_accounts_sessions_and_tokens,
    new_password
);

async fn login_failures(store: &Store) {
    let mut tx = store.begin().await.unwrap();
    for (name, addr, at) in [
        ("alice", "10.0.0.1", minute(-10)),
        ("alice", "10.0.0.2", minute(-5)),
        ("alice", "10.0.0.1", NOW),
        ("bob", "10.0.0.1", NOW),
        ("carol", "10.0.0.9", NOW - Duration::days(2)),
    ] {
        accounts::record_failure(&mut tx, name, addr, at)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let count = async |name: &str, addr: &str, since| {
        accounts::failures_since(store, name, addr, since)
            .await
            .unwrap()
    };
    let hour_ago = NOW - Duration::HOUR;
    assert_eq!(count("alice", "10.0.0.1", hour_ago).await, (3, 3));
    assert_eq!(count("alice", "10.0.0.2", hour_ago).await, (3, 1));
    assert_eq!(count("bob", "10.0.0.3", hour_ago).await, (1, 0));
    assert_eq!(count("carol", "10.0.0.9", hour_ago).await, (0, 0));
    assert_eq!(
        count("carol", "10.0.0.9", NOW - Duration::days(3)).await,
        (1, 1)
    );
    // `since` counts failures at that instant and after.
    assert_eq!(count("alice", "10.0.0.1", minute(-5)).await, (2, 2));
    let later = NOW + Duration::MILLISECOND;
    assert_eq!(count("alice", "10.0.0.1", later).await, (0, 0));

    let mut tx = store.begin().await.unwrap();
    accounts::clear_failures(&mut tx, "alice").await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(count("alice", "10.0.0.1", hour_ago).await, (0, 1));
    assert_eq!(count("bob", "10.0.0.1", hour_ago).await, (1, 1));

    let day_ago = NOW - Duration::DAY;
    assert_eq!(accounts::purge_failures(store, day_ago).await.unwrap(), 1);
    assert_eq!(accounts::purge_failures(store, day_ago).await.unwrap(), 0);
    let long_ago = NOW - Duration::days(3);
    assert_eq!(count("carol", "10.0.0.9", long_ago).await, (0, 0));
    assert_eq!(count("bob", "10.0.0.1", long_ago).await, (1, 1));
}
contract!(failed_sign_ins_count_by_name_and_address, login_failures);

// ---- audit log -------------------------------------------------------------------------

async fn audit_chain(store: &Store) {
    assert_eq!(
        audit::verify(store).await.unwrap(),
        Verdict::Intact { entries: 0 }
    );
    five_entries(store).await;
    assert_eq!(
        audit::verify(store).await.unwrap(),
        Verdict::Intact { entries: 5 }
    );
    // A unit of work that appended and rolled back leaves the chain and its head alone.
    let mut tx = store.begin().await.unwrap();
    let r = record("admin", "site.delete", "JD", Outcome::Ok);
    assert_eq!(audit::append(&mut tx, minute(5), &r).await.unwrap(), 6);
    drop(tx);
    assert_eq!(
        audit::verify(store).await.unwrap(),
        Verdict::Intact { entries: 5 }
    );
    let r = record("admin", "auth.logout", "JD", Outcome::Ok);
    assert_eq!(audit::append_now(store, minute(5), &r).await.unwrap(), 6);
    assert_eq!(
        audit::verify(store).await.unwrap(),
        Verdict::Intact { entries: 6 }
    );

    // Rows hold exactly what was hashed, each chained from the one before.
    let all = audit::list(store, &Filter::default(), 100).await.unwrap();
    let seqs: Vec<i64> = all.iter().map(|s| s.entry.seq).collect();
    assert_eq!(seqs, [6, 5, 4, 3, 2, 1]);
    let mut prev = fangkong_domain::audit::GENESIS.to_owned();
    for s in all.iter().rev() {
        assert_eq!(
            s.entry.hash(&vault().audit_key(), &prev),
            s.hash,
            "seq {}",
            s.entry.seq
        );
        prev.clone_from(&s.hash);
    }
    let third = fangkong_domain::audit::Entry {
        seq: 3,
        at: unix_millis(minute(2)),
        actor: "bob".into(),
        action: "auth.login".into(),
        target: "site:JD".into(),
        site: "JD".into(),
        addr: "10.0.0.1".into(),
        outcome: Outcome::Failed,
        detail: r#"{"by":"bob"}"#.into(),
    };
    assert_eq!(all[3].entry, third);

    // An edited row breaks the chain at that row; putting it back mends it.
    let n = exec(
        store,
        r#"UPDATE audit_log SET detail = '{"x":1}' WHERE seq = 2"#,
        &[],
    )
    .await;
    assert_eq!(n, 1);
    assert_eq!(
        audit::verify(store).await.unwrap(),
        Verdict::Broken(Break::Altered { seq: 2 })
    );
    let original = all[4].entry.detail.clone();
    let sql = "UPDATE audit_log SET detail = $1 WHERE seq = 2";
    assert_eq!(exec(store, sql, &params![original]).await, 1);
    assert_eq!(
        audit::verify(store).await.unwrap(),
        Verdict::Intact { entries: 6 }
    );
    // Rewriting the last row with a hash that matches it still disagrees with the head.
    let mut forged = all[0].entry.clone();
    forged.detail = r#"{"by":"nobody"}"#.into();
    let hash = forged.hash(&vault().audit_key(), &all[1].hash);
    let sql = "UPDATE audit_log SET detail = $1, hash = $2 WHERE seq = 6";
    assert_eq!(exec(store, sql, &params![forged.detail, hash]).await, 1);
    assert_eq!(
        audit::verify(store).await.unwrap(),
        Verdict::HeadMismatch { head: 6, last: 6 }
    );
}
contract!(the_audit_chain_verifies_and_finds_edits, audit_chain);

async fn audit_filters(store: &Store) {
    five_entries(store).await;
    let r = record("admin", "auth.logout", "JD", Outcome::Ok);
    audit::append_now(store, minute(5), &r).await.unwrap();
    let seqs = async |f: Filter, limit: u32| -> Vec<i64> {
        audit::list(store, &f, limit)
            .await
            .unwrap()
            .iter()
            .map(|s| s.entry.seq)
            .collect()
    };
    let text = |s: &str| Some(s.to_owned());
    assert_eq!(seqs(Filter::default(), 2).await, [6, 5]);
    let by = |actor| Filter {
        actor: text(actor),
        ..Filter::default()
    };
    assert_eq!(seqs(by("bob"), 100).await, [3]);
    assert_eq!(seqs(by("admin"), 100).await, [6, 5, 4, 2, 1]);
    assert!(seqs(by("adm"), 100).await.is_empty(), "actor is exact");
    let action = |prefix| Filter {
        action: text(prefix),
        ..Filter::default()
    };
    assert_eq!(seqs(action("auth."), 100).await, [6, 4, 3]);
    assert_eq!(seqs(action("site."), 100).await, [2, 1]);
    assert_eq!(seqs(action("auth.login"), 100).await, [4, 3]);
    assert!(seqs(action("login"), 100).await.is_empty(), "a prefix");
    let at = |site| Filter {
        site: text(site),
        ..Filter::default()
    };
    assert_eq!(seqs(at("JD-QX"), 100).await, [5]);
    assert_eq!(seqs(at("JD"), 100).await, [6, 4, 3, 2, 1]);
    let outcome = |o| Filter {
        outcome: Some(o),
        ..Filter::default()
    };
    assert_eq!(seqs(outcome(Outcome::Failed), 100).await, [3]);
    assert_eq!(seqs(outcome(Outcome::Denied), 100).await, [5]);
    assert_eq!(seqs(outcome(Outcome::Ok), 100).await, [6, 4, 2, 1]);
    // `from` is inclusive, `until` exclusive.
    let span = Filter {
        from: Some(minute(1)),
        until: Some(minute(3)),
        ..Filter::default()
    };
    assert_eq!(seqs(span, 100).await, [3, 2]);
    let before = |seq| Filter {
        before: Some(seq),
        ..Filter::default()
    };
    assert_eq!(seqs(before(4), 100).await, [3, 2, 1]);
    assert_eq!(seqs(before(4), 1).await, [3]);
    let combined = Filter {
        actor: text("admin"),
        before: Some(4),
        ..Filter::default()
    };
    assert_eq!(seqs(combined, 100).await, [2, 1]);
    let combined = Filter {
        actor: text("admin"),
        action: text("auth."),
        outcome: Some(Outcome::Ok),
        ..Filter::default()
    };
    assert_eq!(seqs(combined, 100).await, [6, 4]);
}
contract!(the_audit_log_filters_newest_first, audit_filters);

async fn audit_deletions(store: &Store) {
    five_entries(store).await;
    assert_eq!(
        exec(store, "DELETE FROM audit_log WHERE seq = 5", &[]).await,
        1
    );
    assert_eq!(
        audit::verify(store).await.unwrap(),
        Verdict::Truncated { head: 5, last: 4 }
    );
    // Later entries do not hide the cut.
    let r = record("admin", "auth.logout", "JD", Outcome::Ok);
    assert_eq!(audit::append_now(store, minute(5), &r).await.unwrap(), 6);
    assert_eq!(
        audit::verify(store).await.unwrap(),
        Verdict::Broken(Break::Gap {
            expected: 5,
            found: 6
        })
    );
    assert_eq!(
        exec(store, "DELETE FROM audit_log WHERE seq = 2", &[]).await,
        1
    );
    assert_eq!(
        audit::verify(store).await.unwrap(),
        Verdict::Broken(Break::Gap {
            expected: 2,
            found: 3
        })
    );
}
contract!(deleted_audit_rows_are_found, audit_deletions);

async fn audit_concurrent(store: &Store) {
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for _ in 0..10 {
                let r = record("admin", "site.update", "JD", Outcome::Ok);
                seqs.push(audit::append_now(&store, NOW, &r).await.unwrap());
            }
            seqs
        }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.extend(t.await.unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=80).collect::<Vec<i64>>());
    assert_eq!(
        audit::verify(store).await.unwrap(),
        Verdict::Intact { entries: 80 }
    );
}
contract!(concurrent_audit_appends_form_one_chain, audit_concurrent);

// ---- people and personal fields --------------------------------------------------------

async fn nothing_plain_at_rest(store: &Store) {
    seeded(store).await;
    let everyone: Vec<DemoPerson> = (0..district().len()).flat_map(demo_people).collect();
    assert_eq!(everyone.len(), 19 + 12 * 3);
    let n: i64 = store
        .query_one("SELECT COUNT(*) FROM people", &[])
        .await
        .unwrap()
        .get(0)
        .unwrap();
    assert_eq!(n, 55);
    let mut stored = Vec::new();
    for table in [
        "people",
        "group_members",
        "org_groups",
        "users",
        "sites",
        "units",
        "checkpoints",
        "audit_log",
    ] {
        stored.extend(raw_values(store, table).await);
    }
    // The scan does read the rows: jobs are plain text.
    assert!(stored.iter().any(|v| contains(v, "局党组书记".as_bytes())));
    for p in &everyone {
        for plain in [p.phone.as_str(), p.id_number.as_str(), p.name.as_str()] {
            assert!(
                !stored.iter().any(|v| contains(v, plain.as_bytes())),
                "a personal field of {:?} is stored in plain text",
                p.name
            );
        }
    }
}
contract!(
    personal_fields_are_never_stored_plain,
    nothing_plain_at_rest
);

async fn masked_and_revealed(store: &Store) {
    seeded(store).await;
    let vault = vault();
    let jd = site_id(store, "JD").await;
    let plan = demo_people(0);
    let units = &district()[0].units;
    let people = org::people(store, &vault, jd).await.unwrap();
    assert_eq!(people.len(), plan.len());
    for (person, p) in people.iter().zip(&plan) {
        let (phone, id_number) = (p.phone.as_str(), p.id_number.as_str());
        assert_eq!((person.site_id, person.site_code.as_str()), (jd, "JD"));
        assert_eq!((person.kind, person.job.as_str()), (p.kind, p.job));
        let unit = p
            .unit
            .as_ref()
            .map(|c| units.iter().find(|u| &u.code == c).unwrap().name.as_str());
        assert_eq!(person.unit.as_deref(), unit);
        assert_eq!(person.name, masked_name(p.name.as_str()));
        assert!(person.name.contains('*'));
        assert_eq!(person.phone, Some(masked_phone(phone)));
        assert!(person.phone.as_ref().unwrap().starts_with("138****"));
        assert_eq!(person.id_number, Some(masked_id(id_number)));
        assert_eq!(person.id_number.as_ref().unwrap().matches('*').count(), 11);
        for (field, plain) in [
            (PersonalField::Name, p.name.as_str()),
            (PersonalField::Phone, phone),
            (PersonalField::IdNumber, id_number),
        ] {
            let shown = org::reveal(store, &vault, person.id, field).await.unwrap();
            assert_eq!(shown.as_deref(), Some(plain), "{field:?}");
        }
    }
    assert!(matches!(
        org::reveal(store, &vault, Uuid::nil(), PersonalField::Name).await,
        Err(StoreError::NotFound)
    ));

    // Found by phone through the lookup hash, however the number was typed.
    let target = &people[5];
    let typed = Phone::parse(&format!("+86 {}", plan[5].phone.as_str()), "phone").unwrap();
    let found = org::people_by_phone(store, &vault, &typed).await.unwrap();
    assert_eq!(found, std::slice::from_ref(target));
    let unknown = Phone::parse("13900000000", "phone").unwrap();
    assert!(
        org::people_by_phone(store, &vault, &unknown)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        org::find_person(store, &vault, target.id).await.unwrap(),
        Some(target.clone())
    );

    // Under another master key nothing opens and no lookup matches.
    let other = fangkong_store::privacy::Vault::from_master(&[7u8; 32]);
    assert!(
        org::people_by_phone(store, &other, &typed)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        org::people(store, &other, jd).await,
        Err(StoreError::Decode(_))
    ));
    assert!(matches!(
        org::find_person(store, &other, target.id).await,
        Err(StoreError::Decode(_))
    ));
    assert!(matches!(
        org::reveal(store, &other, target.id, PersonalField::Phone).await,
        Err(StoreError::Decode(_))
    ));
}
contract!(
    personal_fields_are_masked_revealed_and_found_by_phone,
    masked_and_revealed
);

async fn id_numbers_unique(store: &Store) {
    seeded(store).await;
    let (ids, vault) = (ids(), vault());
    let jd = site_id(store, "JD").await;
    let newcomer = |id_number: Option<IdNumber>| NewPerson {
        site: jd,
        unit: None,
        kind: PersonKind::Volunteer,
        job: "健康检查志愿者".into(),
        name: PersonName::parse("新来者", "name").unwrap(),
        phone: None,
        id_number,
    };
    // Taken at this site: refused. Unique per site only, so a site cannot learn whether a
    // number is registered at another one.
    let mut tx = store.begin().await.unwrap();
    let p = newcomer(Some(demo_people(0)[0].id_number.clone()));
    assert_invalid(
        org::insert_person(&mut tx, &vault, ids.new_id(), &p, NOW).await,
        "person.id_number.taken",
    );
    drop(tx);
    let elsewhere = ids.new_id();
    let mut tx = store.begin().await.unwrap();
    let p = newcomer(Some(demo_people(2)[1].id_number.clone()));
    org::insert_person(&mut tx, &vault, elsewhere, &p, NOW)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // People without an ID number do not clash with each other.
    let (a, b, c) = (ids.new_id(), ids.new_id(), ids.new_id());
    let fresh = IdNumber::compose("445203", time::macros::date!(1990 - 05 - 05), 123).unwrap();
    let mut tx = store.begin().await.unwrap();
    for (id, number) in [(a, None), (b, None), (c, Some(fresh))] {
        org::insert_person(&mut tx, &vault, id, &newcomer(number), NOW)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let people = org::people(store, &vault, jd).await.unwrap();
    assert_eq!(people.len(), 19 + 4);
    let added = org::find_person(store, &vault, a).await.unwrap().unwrap();
    assert_eq!(
        (
            added.name.as_str(),
            added.phone,
            added.id_number,
            added.unit
        ),
        ("新**", None, None, None)
    );
    assert_eq!(people.last().unwrap().id, c, "in the order added");
}
contract!(an_id_number_belongs_to_one_person, id_numbers_unique);

// ---- organisation ----------------------------------------------------------------------

async fn subtrees(store: &Store) {
    seeded(store).await;
    let tree = org::list_sites(store).await.unwrap();
    let codes = async |root: &str| -> Vec<String> {
        let mut out: Vec<String> = org::subtree(store, site_id(store, root).await)
            .await
            .unwrap()
            .into_iter()
            .map(|id| {
                tree.iter()
                    .find(|t| t.site.id == id)
                    .unwrap()
                    .site
                    .code
                    .clone()
            })
            .collect();
        out.sort();
        out
    };
    let all: Vec<String> = tree.iter().map(|t| t.site.code.clone()).collect();
    assert_eq!(codes("JD").await, all);
    assert_eq!(all.len(), 13);
    assert_eq!(codes("JD-QX").await, ["JD-QX", "JD-QX-01", "JD-QX-02"]);
    assert_eq!(codes("JD-JJ").await, ["JD-JJ"]);
    assert_eq!(codes("JD-QX-01").await, ["JD-QX-01"]);
    assert!(org::subtree(store, Uuid::nil()).await.unwrap().is_empty());
}
contract!(a_subtree_is_a_site_and_everything_below, subtrees);

async fn site_details(store: &Store) {
    seeded(store).await;
    let before = org::find_site(store, "JD-QX").await.unwrap().unwrap();
    let jd = org::find_site(store, "JD").await.unwrap().unwrap();
    assert_eq!(before.threshold, 373);
    assert_eq!(
        before.opening_hours,
        fangkong_domain::org::DEFAULT_OPENING_HOURS
    );
    let details = SiteDetails {
        name: "曲溪街道便民服务中心".into(),
        address: "曲溪街道新址一楼".into(),
        capacity: 77,
        opening_hours: "09:00-12:00,14:00-17:00".into(),
        threshold: 375,
    };
    let mut tx = store.begin().await.unwrap();
    org::update_site(&mut tx, before.id, &details)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let after = org::find_site(store, "JD-QX").await.unwrap().unwrap();
    let expected = org::Site {
        name: details.name.clone(),
        address: details.address.clone(),
        capacity: 77,
        opening_hours: details.opening_hours.clone(),
        threshold: 375,
        ..before.clone()
    };
    assert_eq!(after, expected);
    assert_eq!(org::find_site(store, "JD").await.unwrap().unwrap(), jd);

    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        org::update_site(&mut tx, Uuid::nil(), &details).await,
        Err(StoreError::NotFound)
    ));
    drop(tx);
    // The store itself refuses a threshold out of range.
    let mut tx = store.begin().await.unwrap();
    let hot = SiteDetails {
        threshold: 500,
        ..details
    };
    assert!(org::update_site(&mut tx, before.id, &hot).await.is_err());
    drop(tx);
    let kept = org::find_site(store, "JD-QX").await.unwrap().unwrap();
    assert_eq!(kept, expected);
}
contract!(site_details_change_one_site, site_details);

async fn checkpoints(store: &Store) {
    seeded(store).await;
    let ids = ids();
    let (jd, qx) = (site_id(store, "JD").await, site_id(store, "JD-QX").await);
    let marks = |list: &[(&str, bool)]| -> Vec<(String, bool)> {
        list.iter().map(|&(c, m)| (c.to_owned(), m)).collect()
    };
    assert_eq!(checkpoint_marks(store, jd).await, marks(&[("MAIN", true)]));
    add_checkpoint(store, &ids, jd, "EAST", false)
        .await
        .unwrap();
    assert_eq!(
        checkpoint_marks(store, jd).await,
        marks(&[("MAIN", true), ("EAST", false)])
    );
    // A new main entrance takes the mark: one main per site.
    add_checkpoint(store, &ids, jd, "NORTH", true)
        .await
        .unwrap();
    let three = marks(&[("NORTH", true), ("EAST", false), ("MAIN", false)]);
    assert_eq!(checkpoint_marks(store, jd).await, three);
    let north = &org::checkpoints(store, jd).await.unwrap()[0];
    assert_eq!(north.name, "NORTH 门");
    // A repeated code is refused, and the refused unit of work keeps the old mark.
    assert_invalid(
        add_checkpoint(store, &ids, jd, "EAST", true).await,
        "checkpoint.code.taken",
    );
    assert_eq!(checkpoint_marks(store, jd).await, three);
    // Codes and the main mark are per site.
    add_checkpoint(store, &ids, qx, "EAST", true).await.unwrap();
    assert_eq!(
        checkpoint_marks(store, qx).await,
        marks(&[("EAST", true), ("MAIN", false)])
    );
    assert_eq!(checkpoint_marks(store, jd).await, three);
}
contract!(checkpoints_have_one_main_entrance_per_site, checkpoints);

async fn working_groups(store: &Store) {
    seeded(store).await;
    let vault = vault();
    let (jd, qx) = (site_id(store, "JD").await, site_id(store, "JD-QX").await);
    let people = org::people(store, &vault, jd).await.unwrap();
    let groups = org::groups(store, &vault, jd).await.unwrap();
    let kinds: Vec<GroupKind> = groups.iter().map(|g| g.kind).collect();
    assert_eq!(kinds, GroupKind::ALL);
    for g in &groups {
        assert_eq!(g.duties, g.kind.default_duties(), "{:?}", g.kind);
    }
    let leaders = &groups[0].members;
    let positions: Vec<Position> = leaders.iter().map(|m| m.position).collect();
    use Position::{Deputy, ExecutiveDeputy, Head, Member};
    assert_eq!(positions, [Head, ExecutiveDeputy, Deputy, Deputy, Deputy]);
    assert_eq!(
        (leaders[0].person, leaders[0].name.as_str()),
        (people[0].id, "陈**")
    );
    assert_eq!(leaders[1].person, people[1].id);
    // Every membership of the plan is stored, and no other.
    let planned: BTreeSet<_> = demo_people(0)
        .iter()
        .zip(&people)
        .flat_map(|(p, stored)| {
            p.groups
                .iter()
                .map(|&(g, pos)| (g.as_str(), stored.id, pos))
        })
        .collect();
    assert_eq!(memberships(store, jd).await, planned);

    // Only people of the site may join its groups.
    let outsider = org::people(store, &vault, qx).await.unwrap()[0].id;
    for person in [outsider, Uuid::nil()] {
        let mut tx = store.begin().await.unwrap();
        assert_invalid(
            org::set_member(&mut tx, jd, GroupKind::Support, person, Member).await,
            "group.person.unknown",
        );
    }
    assert_eq!(memberships(store, jd).await, planned);

    // A position the group does not have, or a head while the group has one: refused.
    let mut tx = store.begin().await.unwrap();
    assert_invalid(
        org::set_member(
            &mut tx,
            jd,
            GroupKind::Support,
            people[14].id,
            ExecutiveDeputy,
        )
        .await,
        "group.position.invalid",
    );
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert_invalid(
        org::set_member(&mut tx, jd, GroupKind::Leadership, people[14].id, Head).await,
        "group.position.taken",
    );
    drop(tx);
    assert_eq!(memberships(store, jd).await, planned);

    // Join, change position (listed once), leave.
    let newcomer = people[14].id;
    for position in [Member, Deputy] {
        let mut tx = store.begin().await.unwrap();
        org::set_member(&mut tx, jd, GroupKind::Web, newcomer, position)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut expected = planned.clone();
        expected.insert(("web", newcomer, position));
        assert_eq!(memberships(store, jd).await, expected);
    }
    let mut tx = store.begin().await.unwrap();
    org::remove_member(&mut tx, jd, GroupKind::Web, newcomer)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(memberships(store, jd).await, planned);
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        org::remove_member(&mut tx, jd, GroupKind::Web, newcomer).await,
        Err(StoreError::NotFound)
    ));
    drop(tx);
    // Leaving one group keeps the person's other memberships.
    let support_head = people[2].id;
    let mut tx = store.begin().await.unwrap();
    org::remove_member(&mut tx, jd, GroupKind::Support, support_head)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut expected = planned.clone();
    assert!(expected.remove(&("support", support_head, Head)));
    assert_eq!(memberships(store, jd).await, expected);

    // Duties change for one group of one site.
    let mut tx = store.begin().await.unwrap();
    org::set_duties(
        &mut tx,
        jd,
        GroupKind::Hotline,
        "受理热线，按时回复。",
        minute(1),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let duties = |groups: &[org::Group]| -> Vec<String> {
        groups.iter().map(|g| g.duties.clone()).collect()
    };
    let mut want: Vec<String> = GroupKind::ALL
        .iter()
        .map(|k| k.default_duties().to_owned())
        .collect();
    let town = org::groups(store, &vault, qx).await.unwrap();
    assert_eq!(duties(&town), want);
    want[4] = "受理热线，按时回复。".into();
    assert_eq!(duties(&org::groups(store, &vault, jd).await.unwrap()), want);
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        org::set_duties(&mut tx, Uuid::nil(), GroupKind::Web, "x", NOW).await,
        Err(StoreError::NotFound)
    ));
    drop(tx);

    // A town centre's groups: its head leads, its volunteer supports.
    let town_people = org::people(store, &vault, qx).await.unwrap();
    let expected: BTreeSet<_> = [
        ("leadership", town_people[0].id, Head),
        ("support", town_people[1].id, Member),
    ]
    .into();
    assert_eq!(memberships(store, qx).await, expected);
}
contract!(working_groups_follow_the_plan_and_change, working_groups);

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

/// After a failed statement the transaction cannot commit, and nothing of it is kept.
async fn failed_statement_poisons(store: &Store) {
    seeded(store).await;
    let before: i64 = store
        .query_one("SELECT COUNT(*) FROM sites", &[])
        .await
        .unwrap()
        .get(0)
        .unwrap();
    let ids = ids();
    let mut tx = store.begin().await.unwrap();
    org::insert_site(
        &mut tx,
        ids.new_id(),
        &new_site("JD-NEW", SiteKind::Town, Some("JD")),
        NOW,
    )
    .await
    .unwrap();
    let dup = org::insert_site(
        &mut tx,
        ids.new_id(),
        &new_site("JD-NEW", SiteKind::Town, Some("JD")),
        NOW,
    )
    .await;
    assert!(dup.is_err());
    assert!(
        tx.commit().await.is_err(),
        "a poisoned transaction must not report a commit"
    );
    let after: i64 = store
        .query_one("SELECT COUNT(*) FROM sites", &[])
        .await
        .unwrap()
        .get(0)
        .unwrap();
    assert_eq!(after, before);
}
contract!(
    a_failed_statement_poisons_its_transaction,
    failed_statement_poisons
);

/// A person who has left is removed with their group memberships.
async fn people_are_removed(store: &Store) {
    seeded(store).await;
    let vault = vault();
    let jd = site_id(store, "JD").await;
    let head = org::people(store, &vault, jd).await.unwrap()[0].id;
    // Linked to an account, with a staff check at the door: both let go of the person.
    let window = accounts::credentials(store, "window")
        .await
        .unwrap()
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    accounts::link_person(&mut tx, window.account.id, Some(head))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let ids = ids();
    let cp = org::checkpoints(store, jd).await.unwrap()[0].id;
    let mut check = reading(
        ids.as_ref(),
        jd,
        cp,
        NOW,
        365,
        fangkong_domain::screening::Decision::Admit,
    );
    check.kind = fangkong_domain::screening::SubjectKind::WindowStaff;
    check.phase = Some(fangkong_domain::screening::Phase::PreShift);
    check.person_id = Some(head);
    store
        .write(fangkong_store::screening::screening_ops(&check))
        .await
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    org::remove_person(&mut tx, head).await.unwrap();
    tx.commit().await.unwrap();
    let account = accounts::find_user(store, window.account.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.person_id, None);
    let kept = fangkong_store::screening::find(store, check.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.person_id, None);
    assert!(
        org::find_person(store, &vault, head)
            .await
            .unwrap()
            .is_none()
    );
    let groups = org::groups(store, &vault, jd).await.unwrap();
    assert!(
        groups
            .iter()
            .all(|g| g.members.iter().all(|m| m.person != head))
    );
    let mut tx = store.begin().await.unwrap();
    assert!(matches!(
        org::remove_person(&mut tx, head).await,
        Err(StoreError::NotFound)
    ));
}
contract!(a_person_who_left_is_removed, people_are_removed);

// --- entrance screening ----------------------------------------------------------------

fn reading(
    ids: &SequentialIds,
    site: Uuid,
    checkpoint: Uuid,
    at: OffsetDateTime,
    tenths: u16,
    decision: fangkong_domain::screening::Decision,
) -> fangkong_store::screening::NewScreening {
    use fangkong_domain::screening::{SubjectKind, Temperature};
    fangkong_store::screening::NewScreening {
        id: ids.new_id(),
        site_id: site,
        checkpoint_id: checkpoint,
        at,
        kind: SubjectKind::Citizen,
        temperature: Temperature::from_tenths(tenths).unwrap(),
        mask: true,
        decision,
        phase: None,
        person_id: None,
        registration_id: None,
        recorded_by: "volunteer".into(),
    }
}

async fn screening_records(store: &Store) {
    use fangkong_domain::screening::{Answers, Decision, Direction, Outcome, Symptom, Temperature};
    use fangkong_store::screening::{self as sc, Health, NewDoorEvent, NewRecheck};
    seeded(store).await;
    let ids = ids();
    let v = vault();
    let site = site_id(store, "JD").await;
    let cp = org::checkpoints(store, site).await.unwrap()[0].id;
    // Three admitted, one sent to the buffer zone; then two leave and a third "leaves"
    // past zero.
    for _ in 0..3 {
        store
            .write(sc::screening_ops(&reading(
                &ids,
                site,
                cp,
                NOW,
                366,
                Decision::Admit,
            )))
            .await
            .unwrap();
    }
    let hot = reading(&ids, site, cp, NOW, 385, Decision::Buffer);
    store.write(sc::screening_ops(&hot)).await.unwrap();
    assert_eq!(sc::occupancy(store, site, NOW).await.unwrap().inside, 3);
    assert_eq!(sc::occupancy(store, site, NOW).await.unwrap().peak, 3);
    for _ in 0..4 {
        let e = NewDoorEvent {
            id: ids.new_id(),
            site_id: site,
            checkpoint_id: cp,
            at: NOW,
            direction: Direction::Out,
            recorded_by: "volunteer".into(),
        };
        store.write(sc::door_event_ops(&e)).await.unwrap();
    }
    let o = sc::occupancy(store, site, NOW).await.unwrap();
    assert_eq!(
        (o.inside, o.peak),
        (0, 3),
        "never below zero; the peak stays"
    );
    // A new Beijing day starts at zero.
    assert_eq!(
        sc::occupancy(store, site, NOW + Duration::days(1))
            .await
            .unwrap()
            .inside,
        0
    );
    let waiting = sc::waiting(store, &[site]).await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].id, hot.id);
    // The re-check opens a suspected-case record holding everything gathered.
    let health = Health {
        symptoms: vec![Symptom::Cough],
        answers: Answers {
            case_contact: true,
            ..Answers::default()
        },
    };
    let case = ids.new_id();
    let mut tx = store.begin().await.unwrap();
    let done = sc::record_recheck(
        &mut tx,
        &v,
        &NewRecheck {
            id: ids.new_id(),
            screening: hot.id,
            at: NOW + Duration::minutes(6),
            temperature: Temperature::from_tenths(378).unwrap(),
            health: health.clone(),
            outcome: Outcome::Suspected,
            recorded_by: "volunteer".into(),
            case_id: case,
        },
        ids.as_ref(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(done.case_id, Some(case));
    assert_eq!(done.attempt, 1);
    let stored = fangkong_store::cases::find_case(store, &v, case)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored
            .details
            .temperatures
            .iter()
            .map(|t| t.1)
            .collect::<Vec<_>>(),
        [385, 378]
    );
    assert_eq!(stored.details.symptoms, health.symptoms);
    assert!(stored.details.answers.case_contact);
    assert!(sc::waiting(store, &[site]).await.unwrap().is_empty());
    // A second re-check of someone no longer waiting is refused.
    let mut tx = store.begin().await.unwrap();
    let again = sc::record_recheck(
        &mut tx,
        &v,
        &NewRecheck {
            id: ids.new_id(),
            screening: hot.id,
            at: NOW + Duration::minutes(12),
            temperature: Temperature::from_tenths(370).unwrap(),
            health: Health::default(),
            outcome: Outcome::Cleared,
            recorded_by: "volunteer".into(),
            case_id: ids.new_id(),
        },
        ids.as_ref(),
    )
    .await;
    drop(tx);
    assert!(matches!(again, Err(StoreError::NotFound)));
    // Counters as the writer kept them, equal to a recount of the records.
    let counts: std::collections::HashMap<String, i64> =
        sc::daily_counts(store, site, fangkong_domain::screening::day_of(NOW))
            .await
            .unwrap()
            .into_iter()
            .collect();
    assert_eq!(counts["screened.citizen"], 4);
    assert_eq!(counts["decision.admit"], 3);
    assert_eq!(counts["decision.buffer"], 1);
    assert_eq!(counts["buffer.suspected"], 1);
    assert_eq!(counts["cases.opened"], 1);
    assert_eq!(counts["door.out"], 4);
    let recount = store
        .query(
            "SELECT decision, COUNT(*) FROM screenings WHERE site_id = $1 GROUP BY decision",
            &params![site],
        )
        .await
        .unwrap();
    for r in recount {
        let d: String = r.get(0).unwrap();
        assert_eq!(counts[&format!("decision.{d}")], r.get::<i64>(1).unwrap());
    }
    // Health answers are sealed at rest.
    let sealed = store
        .query("SELECT health_enc FROM rechecks", &[])
        .await
        .unwrap();
    assert_eq!(sealed.len(), 1);
    let blob: Vec<u8> = sealed[0].get(0).unwrap();
    assert!(!String::from_utf8_lossy(&blob).contains("case_contact"));
    // A reading sent late from yesterday leaves today's count alone.
    let today = sc::occupancy(store, site, NOW).await.unwrap();
    let late = reading(
        ids.as_ref(),
        site,
        cp,
        NOW - Duration::days(1),
        366,
        Decision::Admit,
    );
    store.write(sc::screening_ops(&late)).await.unwrap();
    assert_eq!(sc::occupancy(store, site, NOW).await.unwrap(), today);
    // Retention: the suspected person's record stays, the others go; counts stay.
    let mut tx = store.begin().await.unwrap();
    let purged = sc::purge(&mut tx, NOW + Duration::days(29)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(purged, 4);
    let left = sc::list(
        store,
        &sc::Filter {
            sites: vec![site],
            ..sc::Filter::default()
        },
        100,
    )
    .await
    .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].case_id, Some(case));
    assert_eq!(
        sc::daily_counts(store, site, fangkong_domain::screening::day_of(NOW))
            .await
            .unwrap()
            .len(),
        counts.len()
    );
}
contract!(
    door_records_counters_occupancy_rechecks_and_purge,
    screening_records
);

async fn cases_ledger(store: &Store) {
    use fangkong_domain::cases::{Action, CaseOutcome, Channel, Level, Source, Status};
    use fangkong_domain::screening::{Decision, SubjectKind, Symptom};
    use fangkong_store::cases::{self as cs, CaseDetails, CaseFilter, NewCase};
    use fangkong_store::screening as sc;
    seeded(store).await;
    let ids = ids();
    let v = vault();
    let site = site_id(store, "JD").await;
    let cp = org::checkpoints(store, site).await.unwrap()[0].id;
    // Two robots, one turned off: a raised alert queues one message.
    let hook = |active: bool| cs::Webhook {
        id: ids.new_id(),
        site_id: site,
        format: "wecom".into(),
        label: "领导小组群".into(),
        url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=secret-key".into(),
        secret: None,
        active,
        created_at: NOW,
    };
    let (on, off) = (hook(true), hook(false));
    let mut tx = store.begin().await.unwrap();
    cs::insert_webhook(&mut tx, &v, &on).await.unwrap();
    cs::insert_webhook(&mut tx, &v, &off).await.unwrap();
    tx.commit().await.unwrap();
    let listed = cs::webhooks(store, &v, site).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].url, on.url, "the address opens again");
    // A case opened by hand: its alert and timeline come with it.
    let case = NewCase {
        id: ids.new_id(),
        site_id: site,
        at: NOW,
        source: Source::Manual,
        kind: SubjectKind::WindowStaff,
        details: CaseDetails {
            name: Some("张三".into()),
            phone: Some("13800138000".into()),
            temperatures: vec![(unix_millis(NOW), 382)],
            symptoms: vec![Symptom::Fever, Symptom::Cough],
            seen_at: Some(unix_millis(NOW)),
            ..CaseDetails::default()
        },
        opened_by: "leader".into(),
        alert_id: ids.new_id(),
        event_id: ids.new_id(),
    };
    let mut tx = store.begin().await.unwrap();
    cs::insert_case(&mut tx, &v, &case, ids.as_ref())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let stored = cs::find_case(store, &v, case.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.source),
        (Status::Open, Source::Manual)
    );
    assert_eq!(stored.details.name.as_deref(), Some("张三"));
    let alert = cs::case_alert(store, case.id).await.unwrap().unwrap();
    assert_eq!((alert.level, alert.kind.as_str()), (Level::Raised, "case"));
    assert_eq!(alert.summary.highest, Some(382));
    assert_eq!(
        cs::alerts(store, &[site], NOW - Duration::days(1), true)
            .await
            .unwrap()
            .len(),
        1
    );
    // The person's name and phone are nowhere in plain text.
    for table in ["cases", "case_events", "alerts", "webhooks"] {
        let rows = store
            .query(&format!("SELECT * FROM {table}"), &[])
            .await
            .unwrap();
        let dump = format!("{rows:?}");
        assert!(
            !dump.contains("13800138000") && !dump.contains("张三"),
            "{table}"
        );
        assert!(!dump.contains("secret-key"), "{table}");
    }
    // One message queued, for the active robot; a lease lets one claimer have it.
    let lease = Duration::seconds(60);
    let (due, held) = cs::claim_next(store, NOW, lease).await.unwrap().unwrap();
    assert_eq!(due.webhook_id, on.id);
    assert!(
        cs::claim_next(store, NOW, lease).await.unwrap().is_none(),
        "leased"
    );
    let attempt = cs::Attempt {
        body: "{}".into(),
        attempts: 1,
        status: "pending",
        next_at: NOW + Duration::seconds(30),
        http_status: None,
        error: Some("cannot connect".into()),
        sent_at: None,
    };
    // Only the holder of the lease records the attempt.
    assert!(
        !cs::record_attempt(store, due.id, held + Duration::seconds(1), &attempt)
            .await
            .unwrap()
    );
    assert!(
        cs::record_attempt(store, due.id, held, &attempt)
            .await
            .unwrap()
    );
    assert!(
        cs::claim_next(store, NOW + Duration::seconds(10), lease)
            .await
            .unwrap()
            .is_none(),
        "not due yet"
    );
    let (again, _) = cs::claim_next(store, NOW + Duration::seconds(30), lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.id, again.attempts), (due.id, 1));
    // A lease that ran out lets another process claim it.
    assert!(
        cs::claim_next(store, NOW + Duration::seconds(60), lease)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        cs::claim_next(store, NOW + Duration::seconds(91), lease)
            .await
            .unwrap()
            .is_some()
    );
    // Escalation moves the level once and queues the next message.
    let mut tx = store.begin().await.unwrap();
    assert!(
        cs::escalate(
            &mut tx,
            &v,
            &alert,
            Level::GroupHead,
            NOW + Duration::minutes(15),
            ids.as_ref()
        )
        .await
        .unwrap()
    );
    assert!(
        !cs::escalate(
            &mut tx,
            &v,
            &alert,
            Level::GroupHead,
            NOW + Duration::minutes(16),
            ids.as_ref()
        )
        .await
        .unwrap(),
        "not twice"
    );
    tx.commit().await.unwrap();
    let log = cs::deliveries(store, &[site], 10).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(cs::escalating(store).await.unwrap().len(), 1);
    // Acknowledged once: the case notes the time, the timeline says who.
    let alert = cs::find_alert(store, alert.id).await.unwrap().unwrap();
    let mut tx = store.begin().await.unwrap();
    let at = NOW + Duration::minutes(20);
    assert!(
        cs::acknowledge(&mut tx, &v, &alert, ids.new_id(), at, "leader")
            .await
            .unwrap()
    );
    assert!(
        !cs::acknowledge(&mut tx, &v, &alert, ids.new_id(), at, "other")
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    assert!(cs::escalating(store).await.unwrap().is_empty());
    let stored = cs::find_case(store, &v, case.id).await.unwrap().unwrap();
    assert_eq!(stored.acknowledged_at, Some(at));
    // Actions, the outcome and an upward report.
    let mut tx = store.begin().await.unwrap();
    cs::add_action(
        &mut tx,
        &v,
        ids.new_id(),
        case.id,
        at,
        "leader",
        Action::FeverClinic,
        "120 转运",
    )
    .await
    .unwrap();
    cs::insert_upward(
        &mut tx,
        &v,
        &cs::Upward {
            id: ids.new_id(),
            case_id: case.id,
            site_id: site,
            at: NOW + Duration::minutes(30),
            channel: Channel::System,
            reported_by: "leader".into(),
            content: "发热伴咳嗽一例".into(),
            recorded_by: "leader".into(),
            recorded_at: NOW + Duration::minutes(31),
        },
        ids.new_id(),
    )
    .await
    .unwrap();
    cs::set_outcome(
        &mut tx,
        &v,
        ids.new_id(),
        case.id,
        at,
        "leader",
        CaseOutcome::Excluded,
        fangkong_domain::screening::day_of(at),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let stored = cs::find_case(store, &v, case.id).await.unwrap().unwrap();
    assert_eq!(stored.status, Status::Closed);
    assert_eq!(stored.outcome, Some(CaseOutcome::Excluded));
    assert_eq!(stored.reported_at, Some(NOW + Duration::minutes(30)));
    assert_eq!(stored.details.actions.len(), 1);
    let kinds: Vec<String> = cs::events(store, &v, case.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            "opened",
            "escalated",
            "acknowledged",
            "action",
            "outcome",
            "upward_report"
        ]
    );
    assert_eq!(
        cs::urgent_reports(store, &v, &[site], 10)
            .await
            .unwrap()
            .len(),
        1
    );
    // Filters.
    let vr = &v;
    let by = |f: CaseFilter| async move { cs::list_cases(store, vr, &f, 10).await.unwrap().len() };
    let all = CaseFilter {
        sites: vec![site],
        ..CaseFilter::default()
    };
    assert_eq!(by(all.clone()).await, 1);
    assert_eq!(
        by(CaseFilter {
            status: Some(Status::Open),
            ..all.clone()
        })
        .await,
        0
    );
    assert_eq!(
        by(CaseFilter {
            kind: Some(SubjectKind::Citizen),
            ..all.clone()
        })
        .await,
        0
    );
    assert_eq!(
        by(CaseFilter {
            from: Some(NOW + Duration::hours(1)),
            ..all.clone()
        })
        .await,
        0
    );
    // A fever-rate alert is raised once per site and day.
    let summary = cs::AlertSummary {
        day: Some("2020-01-29".into()),
        count: Some(6),
        ..cs::AlertSummary::default()
    };
    for expected in [true, false] {
        let mut tx = store.begin().await.unwrap();
        let raised = cs::raise(
            &mut tx,
            ids.new_id(),
            site,
            "ears",
            None,
            "ears:JD:2020-01-29",
            NOW,
            &summary,
            ids.as_ref(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(raised, expected);
    }
    // Door visits in a window, and the counters the fever rates read.
    for minutes in [0, 30, 90] {
        let r = reading(
            &ids,
            site,
            cp,
            NOW + Duration::minutes(minutes),
            366,
            Decision::Admit,
        );
        store.write(sc::screening_ops(&r)).await.unwrap();
    }
    let visits = cs::door_visits(store, &v, site, NOW, NOW + Duration::minutes(60))
        .await
        .unwrap();
    assert_eq!(visits.len(), 2);
    let counts = cs::counts_between(
        store,
        site,
        fangkong_domain::screening::day_of(NOW),
        fangkong_domain::screening::day_of(NOW),
    )
    .await
    .unwrap();
    assert!(
        counts
            .iter()
            .any(|(_, m, n)| m == "screened.citizen" && *n == 3),
        "{counts:?}"
    );
    // Two actions recorded at once both stay in the sealed details: the second waits for
    // the first instead of overwriting it with what it read before the first committed.
    let mut first = store.begin().await.unwrap();
    cs::add_action(
        &mut first,
        &v,
        ids.new_id(),
        case.id,
        NOW,
        "leader",
        Action::SentHome,
        "",
    )
    .await
    .unwrap();
    let second = {
        let (store, ids, id) = (store.clone(), ids.clone(), case.id);
        tokio::spawn(async move {
            let mut tx = store.begin().await.unwrap();
            cs::add_action(
                &mut tx,
                &vault(),
                ids.new_id(),
                id,
                NOW,
                "leader",
                Action::Isolated,
                "",
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
        })
    };
    // Let the second reach its read before the first commits.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    first.commit().await.unwrap();
    second.await.unwrap();
    let stored = cs::find_case(store, &v, case.id).await.unwrap().unwrap();
    assert_eq!(stored.details.actions.len(), 3, "no action lost");
}
contract!(
    cases_alerts_escalation_robots_and_upward_reports,
    cases_ledger
);

// --- daily reports ----------------------------------------------------------------------

contract!(
    report_counters_equal_a_recount_and_outlive_the_purge,
    report_counters
);

/// Two days of mixed door records at two sites (a fixed pseudo-random sequence): the
/// counters the writers keep equal a full recount of the records, the report's figures
/// agree, and after the retention purge the counters (and so the reports) still hold
/// what the recount no longer can.
async fn report_counters(store: &Store) {
    use fangkong_domain::screening::{
        Decision, Direction, Outcome, Phase, SubjectKind, Temperature, day_of,
    };
    use fangkong_store::reports;
    use fangkong_store::screening::{self as sc, Health, NewDoorEvent, NewRecheck};
    seeded(store).await;
    let ids = ids();
    let v = vault();
    let jd = site_id(store, "JD").await;
    let qx = site_id(store, "JD-QX").await;
    let staff: Vec<Uuid> = org::people(store, &v, jd)
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.kind == PersonKind::Staff)
        .map(|p| p.id)
        .collect();
    let mut seed = 20_200_129u64;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let days = [NOW - Duration::days(1), NOW];
    let mut hot = Vec::new();
    for (i, base) in (0..300).map(|i| (i, days[i % 2])) {
        let site = if next(4) == 0 { qx } else { jd };
        let cp = org::checkpoints(store, site).await.unwrap()[0].id;
        let at = base + Duration::minutes(next(300) as i64);
        let kind = [
            SubjectKind::Citizen,
            SubjectKind::WindowStaff,
            SubjectKind::BureauStaff,
            SubjectKind::Other,
        ][next(4) as usize];
        let mask = next(10) != 0;
        let tenths = if next(8) == 0 { 381 } else { 365 };
        let decision = match (mask, tenths) {
            (false, _) => Decision::RefuseNoMask,
            (_, 381) => Decision::Buffer,
            _ if next(20) == 0 => Decision::Wait,
            _ => Decision::Admit,
        };
        let (phase, person) = if kind == SubjectKind::WindowStaff && site == jd {
            let phase = if next(2) == 0 {
                Phase::PreShift
            } else {
                Phase::PostShift
            };
            (Some(phase), Some(staff[next(staff.len() as u64) as usize]))
        } else {
            (None, None)
        };
        let r = sc::NewScreening {
            id: ids.new_id(),
            site_id: site,
            checkpoint_id: cp,
            at,
            kind,
            temperature: Temperature::from_tenths(tenths).unwrap(),
            mask,
            decision,
            phase,
            person_id: person,
            registration_id: None,
            recorded_by: "volunteer".into(),
        };
        store.write(sc::screening_ops(&r)).await.unwrap();
        if decision == Decision::Buffer {
            hot.push((r.id, at));
        }
        if i % 7 == 0 {
            let e = NewDoorEvent {
                id: ids.new_id(),
                site_id: site,
                checkpoint_id: cp,
                at,
                direction: if next(3) == 0 {
                    Direction::Out
                } else {
                    Direction::In
                },
                recorded_by: "device".into(),
            };
            store.write(sc::door_event_ops(&e)).await.unwrap();
        }
    }
    // Every outcome of a re-check, including another rest (which used to count twice).
    assert!(hot.len() >= 6, "{} hot readings", hot.len());
    for (n, (id, at)) in hot.iter().enumerate() {
        let outcome = [Outcome::Cleared, Outcome::Recheck, Outcome::Suspected][n % 3];
        let mut tx = store.begin().await.unwrap();
        sc::record_recheck(
            &mut tx,
            &v,
            &NewRecheck {
                id: ids.new_id(),
                screening: *id,
                at: *at + Duration::minutes(6),
                temperature: Temperature::from_tenths(372).unwrap(),
                health: Health::default(),
                outcome,
                recorded_by: "volunteer".into(),
                case_id: ids.new_id(),
            },
            ids.as_ref(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let mut kept = Vec::new();
    for at in days {
        let day = day_of(at);
        for site in [jd, qx] {
            let counted = sc::daily_counts(store, site, day).await.unwrap();
            let recounted = reports::recount(store, site, day).await.unwrap();
            assert_eq!(counted, recounted, "{day} at {site}");
            assert!(counted.iter().any(|(m, _)| m.starts_with("buffer.")));
            let parts = reports::day_parts(store, &[site], day).await.unwrap()[&site].clone();
            let n = |m: &str| counted.iter().find(|c| c.0 == m).map_or(0, |c| c.1);
            assert_eq!(parts.figures.admitted, n("decision.admit"));
            assert_eq!(
                parts.figures.rechecked,
                n("buffer.cleared") + n("buffer.recheck") + n("buffer.suspected")
            );
            assert_eq!(parts.figures.suspected, n("cases.opened"));
            assert_eq!(parts.figures.suspected, n("buffer.suspected"));
            assert_eq!(parts.figures.alerts_raised, n("cases.opened"));
            assert!(
                parts.staff_pre <= n("staff.pre_shift"),
                "distinct people, not records"
            );
            if site == jd {
                assert!(parts.staff_pre > 0 && parts.staff_post > 0);
                assert_eq!(parts.staff_expected, staff.len() as i64);
                assert!(parts.figures.occupancy_peak > 0);
            }
            kept.push((site, day, counted, parts));
        }
    }
    // Today's peak is the live count's peak.
    let live = sc::occupancy(store, jd, NOW).await.unwrap();
    let today = kept
        .iter()
        .find(|k| k.0 == jd && k.1 == day_of(NOW))
        .unwrap();
    assert_eq!(today.3.figures.occupancy_peak, i64::from(live.peak));

    // The purge removes the records; the counters and the report's parts stay.
    let mut tx = store.begin().await.unwrap();
    let removed = sc::purge(&mut tx, NOW + Duration::days(30)).await.unwrap();
    tx.commit().await.unwrap();
    assert!(removed > 200, "{removed}");
    for (site, day, counted, parts) in kept {
        assert_eq!(sc::daily_counts(store, site, day).await.unwrap(), counted);
        assert_eq!(
            reports::day_parts(store, &[site], day).await.unwrap()[&site],
            parts
        );
        let recounted = reports::recount(store, site, day).await.unwrap();
        assert_ne!(recounted, counted, "the recount lost the purged records");
    }

    // Versions: numbered, unique per site and day, decided once.
    use fangkong_domain::reports::{Figures, Status};
    let version = |n: u32, status: Status| reports::Version {
        id: ids.new_id(),
        site_id: qx,
        day: day_of(NOW),
        version: n,
        figures: Figures {
            screened: i64::from(n),
            ..Figures::default()
        },
        rollup: None,
        remarks: format!("第{n}版"),
        submitted_by: "qx-leader".into(),
        submitted_at: NOW,
        status,
        decided_by: None,
        decided_at: None,
        comment: None,
    };
    let mut tx = store.begin().await.unwrap();
    reports::insert(&mut tx, &v, &version(1, Status::Submitted))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let err = reports::insert(&mut tx, &v, &version(1, Status::Submitted))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unique { .. }), "{err:?}");
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    let latest = reports::latest_in(&mut tx, &v, qx, day_of(NOW))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((latest.version, latest.figures.screened), (1, 1));
    assert!(
        reports::decide(
            &mut tx,
            &v,
            latest.id,
            Status::Returned,
            "leader",
            NOW,
            Some("补充")
        )
        .await
        .unwrap()
    );
    assert!(
        !reports::decide(
            &mut tx,
            &v,
            latest.id,
            Status::Acknowledged,
            "leader",
            NOW,
            None
        )
        .await
        .unwrap()
    );
    reports::insert(&mut tx, &v, &version(2, Status::Submitted))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let all = reports::versions(store, &v, qx, day_of(NOW)).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].status, Status::Returned);
    assert_eq!(all[0].comment.as_deref(), Some("补充"));
    assert_eq!(all[1].remarks, "第2版");
    // Remarks and comments are sealed at rest (they may name a person).
    for r in store
        .query(
            "SELECT remarks_enc, comment_enc FROM daily_reports",
            &params![],
        )
        .await
        .unwrap()
    {
        let remarks: Vec<u8> = r.get(0).unwrap();
        assert!(!remarks.windows("版".len()).any(|w| w == "版".as_bytes()));
        if let Some(c) = r.get::<Option<Vec<u8>>>(1).unwrap() {
            assert!(!c.windows("补充".len()).any(|w| w == "补充".as_bytes()));
        }
    }
    let found = reports::between(
        store,
        &v,
        &[qx, jd],
        day_of(NOW) - Duration::days(3),
        day_of(NOW),
        10,
    )
    .await
    .unwrap();
    assert_eq!(found.len(), 2);
    assert!(
        reports::between(store, &v, &[jd], day_of(NOW), day_of(NOW), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

// --- migration 5 over data made at schema 4 ---------------------------------------------

mod report_migration_keeps_alerts_and_deliveries_and_mends_recheck_counts {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let store = fangkong_store::Store::open_sqlite(&dir.path().join("m.db"))
            .await
            .unwrap();
        store.set_audit_key(super::vault().audit_key());
        super::migration_five(&store).await;
        store.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let name = format!("migration_{}", super::uniq());
        if let Some(url) = fangkong_store::testing::postgres_schema_url(&name).await {
            let store = fangkong_store::Store::open_postgres(&url).await.unwrap();
            store.set_audit_key(super::vault().audit_key());
            super::migration_five(&store).await;
            store.close().await;
        }
    }
}

/// A store at schema 4 holding an alert with a queued robot message and re-check counters
/// of the old kind (`buffer.recheck` counted every re-check, plus the outcome `recheck`
/// once more): migration 5 keeps the alert, its message and their link, accepts the new
/// alert kind, and leaves `buffer.recheck` holding the outcome alone.
/// One statement in its own transaction, its error kept.
async fn try_exec(
    store: &Store,
    sql: &str,
    params: &[fangkong_store::Value],
) -> Result<u64, StoreError> {
    let mut tx = store.begin().await?;
    let n = tx.execute(sql, params).await?;
    tx.commit().await?;
    Ok(n)
}

async fn migration_five(store: &Store) {
    use fangkong_store::cases::{self, AlertSummary};
    migrate::run_until(store, NOW, 4).await.unwrap();
    // A site of schema 4 (the demo needs the newest schema).
    let ids = ids();
    let mut tx = store.begin().await.unwrap();
    org::insert_site(
        &mut tx,
        ids.new_id(),
        &new_site("JD", SiteKind::District, None),
        NOW,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let jd = site_id(store, "JD").await;
    let hook = ids.new_id();
    exec(
            store,
            "INSERT INTO webhooks (id, site_id, format, label, url_enc, secret_enc, created_at, active) \
             VALUES ($1, $2, 'wecom', 'group', $3, NULL, $4, $5)",
            &params![hook, jd, vec![1u8, 2, 3], NOW, true],
        ).await;
    let alert = ids.new_id();
    let mut tx = store.begin().await.unwrap();
    assert!(
        cases::raise(
            &mut tx,
            alert,
            jd,
            "ears",
            None,
            "ears:old",
            NOW,
            &AlertSummary::default(),
            ids.as_ref()
        )
        .await
        .unwrap()
    );
    tx.commit().await.unwrap();
    // Old counters: cleared 1, again 2, suspected 1; `buffer.recheck` = 4 + 2.
    for (metric, n) in [
        ("buffer.recheck", 6),
        ("buffer.cleared", 1),
        ("buffer.suspected", 1),
        ("screened.citizen", 9),
    ] {
        exec(
            store,
            "INSERT INTO daily_counts (site_id, day, metric, n) VALUES ($1, '2020-01-29', $2, $3)",
            &params![jd, metric, n as i64],
        )
        .await;
    }
    let report = migrate::run_until(store, NOW, 5).await.unwrap();
    assert_eq!(report.applied, [5]);
    let counts = fangkong_store::screening::daily_counts(store, jd, NOW.date())
        .await
        .unwrap();
    assert!(
        counts.contains(&("buffer.recheck".to_owned(), 2)),
        "{counts:?}"
    );
    assert!(
        counts.contains(&("screened.citizen".to_owned(), 9)),
        "{counts:?}"
    );
    let kept = cases::find_alert(store, alert).await.unwrap().unwrap();
    assert_eq!(kept.kind, "ears");
    let row = store
        .query_opt(
            "SELECT alert_id, webhook_id, status FROM deliveries",
            &params![],
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.get::<Uuid>(0).unwrap(), alert);
    assert_eq!(row.get::<Uuid>(1).unwrap(), hook);
    assert_eq!(row.get::<String>(2).unwrap(), "pending");
    // The link still holds: a message for an alert that does not exist is refused.
    let err = try_exec(
            store,
            "INSERT INTO deliveries (id, webhook_id, alert_id, level, status, attempts, next_at, created_at) \
             VALUES ($1, $2, $3, 0, 'pending', 0, $4, $4)",
            &params![ids.new_id(), hook, ids.new_id(), NOW],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ForeignKey), "{err:?}");
    // The new kind: a missing report's reminder.
    let mut tx = store.begin().await.unwrap();
    assert!(
        cases::raise(
            &mut tx,
            ids.new_id(),
            jd,
            "report",
            None,
            "report:new",
            NOW,
            &AlertSummary::default(),
            ids.as_ref()
        )
        .await
        .unwrap()
    );
    tx.commit().await.unwrap();
}

/// The hotline's store on both backends: intake through the group-commit writer (the
/// day's numbers in order), duplicate candidates by band and by caller, term and band-key
/// counts, a workflow step with its version check, the supervision list, numbers read
/// back, calendar overrides, and the search index fed from the stored tickets.
async fn hotline_tickets(store: &Store) {
    use fangkong_domain::calendar::check_override;
    use fangkong_domain::hotline::text::{band_keys, terms};
    use fangkong_domain::hotline::{EventKind, Intake, Status, check_intake};
    use fangkong_store::hotline::{self, Change, Step, search};
    seeded(store).await;
    let (vault, ids) = (vault(), ids());
    let jd = site_id(store, "JD").await;
    let texts = [
        "曲溪街道XX大药房口罩卖50元一个，明显哄抬物价",
        "曲溪街道XX大药房口罩50元一个，哄抬物价",
        "请问从湖北返乡需要居家隔离多少天",
    ];
    let mut made = Vec::new();
    for (n, content) in texts.iter().enumerate() {
        let ticket = check_intake(&Intake {
            channel: "phone",
            category: "price_gouging",
            content,
            caller_phone: Some(if n < 2 { "13800138000" } else { "13900139000" }),
            ..Intake::default()
        })
        .unwrap();
        let (id, at) = (ids.new_id(), NOW + Duration::minutes(n as i64));
        let ops = hotline::create_ops(
            &vault,
            &hotline::Intake {
                id,
                event_id: ids.new_id(),
                site: jd,
                ticket: &ticket,
                due_at: at + Duration::days(3),
                created_by: "hotline",
                now: at,
                terms: &terms(content),
                bands: &band_keys(content),
            },
        );
        let counts = store.write(ops).await.unwrap();
        assert_eq!(
            hotline::created_number(at, &counts),
            format!("RX20200129-{:04}", n + 1)
        );
        made.push(id);
    }
    let first = hotline::by_number(store, &vault, "rx20200129-0001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.id, made[0]);
    assert_eq!(first.caller_phone.as_deref(), Some("13800138000"));
    assert_eq!(first.status, Status::New);

    // Candidates: the near-duplicate by its bands, the same caller by the phone's HMAC.
    let found = hotline::candidates(
        store,
        &vault,
        &[jd],
        &band_keys(texts[1]),
        Some("13800138000"),
        NOW - Duration::days(7),
    )
    .await
    .unwrap();
    let ids_found: BTreeSet<Uuid> = found.iter().map(|c| c.id).collect();
    assert_eq!(ids_found, BTreeSet::from([made[0], made[1]]));
    assert!(found.iter().all(|c| c.same_caller));
    let series = hotline::term_series(store, &[jd], NOW.date(), NOW.date(), 2)
        .await
        .unwrap();
    assert_eq!(series["口罩"], vec![(NOW.date(), 2)]);
    assert!(
        !series.contains_key("隔离"),
        "counted once: below the minimum"
    );
    let keys = band_keys(texts[0]);
    let per_key = hotline::band_day_counts(store, &[jd], &keys, NOW.date(), NOW.date())
        .await
        .unwrap();
    assert!(
        keys.iter()
            .any(|k| per_key.get(&(NOW.date(), *k)) == Some(&2))
    );

    // A transfer step, then the same version again: refused, nothing written.
    let dept = hotline::departments(store, &[jd]).await.unwrap()[0].clone();
    let step = |version| Step {
        ticket: made[0],
        version,
        to: Status::Transferred,
        event_id: ids.new_id(),
        kind: EventKind::Transferred,
        at: NOW,
        actor: "hotline",
        department: Some(dept.id),
        detail: "请核查",
        change: Change::Transfer {
            lead: dept.id,
            co: Vec::new(),
            due_at: NOW + Duration::hours(2),
        },
    };
    let mut tx = store.begin().await.unwrap();
    assert!(hotline::apply(&mut tx, &step(1)).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(!hotline::apply(&mut tx, &step(1)).await.unwrap());
    drop(tx);
    let timeline = hotline::timeline(store, made[0]).await.unwrap();
    assert_eq!(timeline.len(), 2);
    assert_eq!(timeline[1].department.as_deref(), Some(dept.name.as_str()));
    let due = hotline::due_before(
        store,
        &vault,
        &[jd],
        Some(&[dept.id]),
        NOW + Duration::days(1),
        10,
    )
    .await
    .unwrap();
    assert_eq!(due.iter().map(|t| t.id).collect::<Vec<_>>(), [made[0]]);
    assert_eq!(
        hotline::count_overdue(store, &[jd], NOW + Duration::days(4))
            .await
            .unwrap(),
        3
    );

    // Calendar overrides.
    let o = check_override(NOW.date(), true, "应急值班").unwrap();
    hotline::set_override(store, NOW.date(), Some(&o), "admin", NOW)
        .await
        .unwrap();
    assert_eq!(hotline::overrides(store).await.unwrap(), [o]);
    hotline::set_override(store, NOW.date(), None, "admin", NOW)
        .await
        .unwrap();
    assert!(hotline::overrides(store).await.unwrap().is_empty());

    // The index, fed from the stored tickets: two and one-character words, the department.
    let index = search::TicketIndex::open(None).unwrap();
    let docs = search::docs(store, &made).await.unwrap();
    index.write(&docs, NOW).unwrap();
    assert_eq!(index.watermark().unwrap(), Some(NOW));
    let find = |text: &str, departments: Option<Vec<Uuid>>| {
        index
            .search(&search::Search {
                text: text.to_owned(),
                sites: vec![jd],
                departments,
                limit: 10,
                ..search::Search::default()
            })
            .unwrap()
    };
    assert_eq!(find("口罩", None).total, 2);
    assert_eq!(find("药", None).total, 2);
    assert_eq!(find("隔离", None).ids, [made[2]]);
    assert_eq!(find("口罩", Some(vec![dept.id])).ids, [made[0]]);
    assert_eq!(find("RX20200129-0003", None).ids, [made[2]]);
}
contract!(
    hotline_tickets_are_stored_found_and_counted,
    hotline_tickets
);
