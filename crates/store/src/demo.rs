//! Loads the demo district into an empty store.

use crate::{Result, Store, org};
use fangkong_domain::clock::{Clock, IdSource};
use fangkong_domain::demo;

/// Fills an empty store with the demo district in one transaction. Returns `false`, and
/// changes nothing, when the store already holds sites.
pub async fn seed(store: &Store, clock: &dyn Clock, ids: &dyn IdSource) -> Result<bool> {
    let mut tx = store.begin().await?;
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
