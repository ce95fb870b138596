//! Loads the demo district into an empty store.

use crate::{Backend, Result, Store, org, params};

/// Fixed key of the advisory lock that serialises demo loading on PostgreSQL.
const DEMO_LOCK: i64 = 0x0066_6b64_656d;
use fangkong_domain::clock::{Clock, IdSource};
use fangkong_domain::demo;

/// Fills an empty store with the demo district in one transaction. Returns `false`, and
/// changes nothing, when the store already holds sites.
pub async fn seed(store: &Store, clock: &dyn Clock, ids: &dyn IdSource) -> Result<bool> {
    let mut tx = store.begin().await?;
    if tx.backend() == Backend::Postgres {
        // Several processes started with --demo at once: one loads, the others see it.
        tx.query(
            "SELECT pg_advisory_xact_lock($1)::TEXT",
            &params![DEMO_LOCK],
        )
        .await?;
    }
    let existing: i64 = tx
        .query_one("SELECT COUNT(*) FROM sites", &[])
        .await?
        .get(0)?;
    if existing > 0 {
        return Ok(false);
    }
    let now = clock.now();
    for entry in demo::district() {
        let site = org::insert_site(&mut tx, ids.new_id(), &entry.site, now).await?;
        for unit in &entry.units {
            org::insert_unit(&mut tx, ids, site.id, unit, now).await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}
