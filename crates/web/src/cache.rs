//! A short-lived, per-process cache of what every door reading and every hotline intake
//! looks up: the account behind a bearer token, a site with its checkpoints by code, a
//! site's subtree, and the working calendar.
//!
//! Entries live [`TTL`] at most. Any successful change outside the hot recording routes
//! (a revoked token, a new password, a new site or entrance) empties the cache at once in
//! this process, and publishes a `cache` notice through the store so every other `serve`
//! process sharing the database empties its own (LISTEN/NOTIFY on PostgreSQL). The TTL
//! bounds staleness should a notice be missed.

use fangkong_domain::calendar::Calendar;
use fangkong_store::accounts::Account;
use fangkong_store::org::{Checkpoint, Site};
use fangkong_store::system::Stopwatch;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// How long an entry is trusted, in seconds.
pub const TTL: f64 = 3.0;
/// Entries per map before it is emptied (a bound on memory, never reached in practice).
const MAX_ENTRIES: usize = 10_000;
/// The live-notice topic that empties every process's cache.
pub const TOPIC: &str = "cache";

/// A site with its entrances.
pub type DoorSite = Arc<(Site, Vec<Checkpoint>)>;
/// The sites of a subtree, `(id, code)`.
pub type Subtree = Arc<Vec<(Uuid, String)>>;

struct Entry<T> {
    value: T,
    age: Stopwatch,
}

#[derive(Default)]
struct Maps {
    tokens: HashMap<Vec<u8>, Entry<Account>>,
    sites: HashMap<String, Entry<DoorSite>>,
    subtrees: HashMap<Uuid, Entry<Subtree>>,
    /// The working calendar with its overrides (one entry, key `()`).
    calendar: HashMap<(), Entry<Arc<Calendar>>>,
}

/// The cache; cheap to clone.
#[derive(Clone, Default)]
pub struct Cache {
    maps: Arc<Mutex<Maps>>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cache")
    }
}

impl Cache {
    fn with<R>(&self, f: impl FnOnce(&mut Maps) -> R) -> R {
        f(&mut self.maps.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Empties every map (after a change, or on a notice from another process).
    pub fn clear(&self) {
        self.with(|m| *m = Maps::default());
    }

    pub fn token(&self, hash: &[u8]) -> Option<Account> {
        self.with(|m| get(&m.tokens, hash))
    }

    pub fn put_token(&self, hash: Vec<u8>, account: Account) {
        self.with(|m| put(&mut m.tokens, hash, account));
    }

    pub fn site(&self, code: &str) -> Option<DoorSite> {
        self.with(|m| get(&m.sites, code))
    }

    pub fn put_site(&self, code: String, site: DoorSite) {
        self.with(|m| put(&mut m.sites, code, site));
    }

    pub fn subtree(&self, root: Uuid) -> Option<Subtree> {
        self.with(|m| get(&m.subtrees, &root))
    }

    pub fn put_subtree(&self, root: Uuid, sites: Subtree) {
        self.with(|m| put(&mut m.subtrees, root, sites));
    }

    pub fn calendar(&self) -> Option<Arc<Calendar>> {
        self.with(|m| get(&m.calendar, &()))
    }

    pub fn put_calendar(&self, calendar: Arc<Calendar>) {
        self.with(|m| put(&mut m.calendar, (), calendar));
    }
}

/// Empties the cache whenever another process (or this one) publishes a `cache` notice,
/// until the server stops.
pub fn follow(
    store: fangkong_store::Store,
    cache: Cache,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut notices = store.subscribe();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                n = notices.recv() => match n {
                    Ok(n) if n.topic == TOPIC => cache.clear(),
                    Ok(_) => {}
                    // Missed notices: empty to be safe.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => cache.clear(),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
                _ = shutdown.changed() => return,
            }
        }
    });
}

fn get<K, Q, T>(map: &HashMap<K, Entry<T>>, key: &Q) -> Option<T>
where
    K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
    Q: std::hash::Hash + Eq + ?Sized,
    T: Clone,
{
    map.get(key)
        .filter(|e| e.age.seconds() < TTL)
        .map(|e| e.value.clone())
}

fn put<K: std::hash::Hash + Eq, T>(map: &mut HashMap<K, Entry<T>>, key: K, value: T) {
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
    map.insert(
        key,
        Entry {
            value,
            age: Stopwatch::start(),
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_found_until_cleared() {
        let c = Cache::default();
        let root = Uuid::from_u128(1);
        assert!(c.subtree(root).is_none());
        c.put_subtree(root, Arc::new(vec![(root, "JD".into())]));
        assert_eq!(c.subtree(root).unwrap()[0].1, "JD");
        let copy = c.clone();
        copy.clear();
        assert!(c.subtree(root).is_none(), "clones share one cache");
    }
}
