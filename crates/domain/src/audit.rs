//! The audit log's rules: what an entry holds and how entries are chained.
//!
//! Each entry's hash covers the previous entry's hash and every field of the entry, so
//! changing or deleting any stored row breaks the chain at that row (`fangkong audit
//! verify`). The first entry chains from [`GENESIS`]. The hash is an HMAC-SHA256 under a
//! key kept outside the database (derived from the personal-data master key), so someone
//! who can write to the database cannot recompute a consistent chain after an edit.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The "previous hash" of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How long entries are kept at least (GB/T 22239-2019: six months).
pub const RETENTION_DAYS: i64 = 180;

/// Whether the audited action succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Denied,
    Failed,
}

impl Outcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        [Outcome::Ok, Outcome::Denied, Outcome::Failed]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// One audited event, as it is hashed and stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// Unix milliseconds (UTC).
    pub at: i64,
    /// The account's user name, or the name typed at a failed sign-in, or `-`.
    pub actor: String,
    /// Dotted action name, e.g. `person.reveal`, `auth.login`.
    pub action: String,
    /// What was acted on, e.g. `person:0190…` or `site:JD-QX`.
    pub target: String,
    /// The site code the target belongs to (empty when none).
    pub site: String,
    /// Client address.
    pub addr: String,
    pub outcome: Outcome,
    /// Details as a JSON object (never a personal value in plain text).
    pub detail: String,
}

impl Entry {
    /// The entry's hash under `key`, chained from the previous entry's hash.
    pub fn hash(&self, key: &[u8], prev: &str) -> String {
        let fields = serde_json::json!([
            self.seq,
            self.at,
            self.actor,
            self.action,
            self.target,
            self.site,
            self.addr,
            self.outcome.as_str(),
            self.detail
        ]);
        let mut h = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(key)
            .expect("HMAC takes keys of any length");
        h.update(prev.as_bytes());
        h.update(b"\n");
        h.update(fields.to_string().as_bytes());
        hex(&h.finalize().into_bytes())
    }
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// The first break in a chain read in order: `(seq, prev hash, stored hash)` per row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// A row's hash does not match its fields (edited).
    Altered { seq: i64 },
    /// A sequence number is missing or repeated (deleted or inserted rows).
    Gap { expected: i64, found: i64 },
}

/// Walks the chain under `key`; `rows` are `(entry, stored hash)` in sequence order.
pub fn verify<'a>(
    key: &[u8],
    rows: impl IntoIterator<Item = (&'a Entry, &'a str)>,
    start_seq: i64,
    start_prev: &str,
) -> Result<(i64, String), Break> {
    let mut prev = start_prev.to_owned();
    let mut expected = start_seq;
    for (entry, stored) in rows {
        if entry.seq != expected {
            return Err(Break::Gap {
                expected,
                found: entry.seq,
            });
        }
        if entry.hash(key, &prev) != stored {
            return Err(Break::Altered { seq: entry.seq });
        }
        prev = stored.to_owned();
        expected += 1;
    }
    Ok((expected - 1, prev))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"test audit key";

    #[test]
    fn the_chain_depends_on_the_key() {
        let e = entry(1, "site.create");
        assert_ne!(e.hash(KEY, GENESIS), e.hash(b"another key", GENESIS));
        assert_eq!(e.hash(KEY, GENESIS).len(), 64);
    }

    fn entry(seq: i64, action: &str) -> Entry {
        Entry {
            seq,
            at: 1_580_263_200_000 + seq,
            actor: "admin".into(),
            action: action.into(),
            target: "site:JD".into(),
            site: "JD".into(),
            addr: "127.0.0.1".into(),
            outcome: Outcome::Ok,
            detail: "{}".into(),
        }
    }

    fn chain(entries: &[Entry]) -> Vec<String> {
        let mut prev = GENESIS.to_owned();
        entries
            .iter()
            .map(|e| {
                prev = e.hash(KEY, &prev);
                prev.clone()
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let entries: Vec<_> = (1..=4).map(|i| entry(i, "site.create")).collect();
        let hashes = chain(&entries);
        let rows = entries.iter().zip(hashes.iter().map(String::as_str));
        assert_eq!(verify(KEY, rows, 1, GENESIS), Ok((4, hashes[3].clone())));
    }

    #[test]
    fn an_edited_field_is_found() {
        let mut entries: Vec<_> = (1..=3).map(|i| entry(i, "site.create")).collect();
        let hashes = chain(&entries);
        entries[1].outcome = Outcome::Denied;
        let rows = entries.iter().zip(hashes.iter().map(String::as_str));
        assert_eq!(
            verify(KEY, rows, 1, GENESIS),
            Err(Break::Altered { seq: 2 })
        );
    }

    #[test]
    fn a_deleted_row_is_found() {
        let mut entries: Vec<_> = (1..=3).map(|i| entry(i, "site.create")).collect();
        let mut hashes = chain(&entries);
        entries.remove(1);
        hashes.remove(1);
        let rows = entries.iter().zip(hashes.iter().map(String::as_str));
        assert_eq!(
            verify(KEY, rows, 1, GENESIS),
            Err(Break::Gap {
                expected: 2,
                found: 3
            })
        );
    }

    #[test]
    fn a_recomputed_hash_still_breaks_the_next_link() {
        let mut entries: Vec<_> = (1..=3).map(|i| entry(i, "site.create")).collect();
        let mut hashes = chain(&entries);
        entries[0].detail = "{\"x\":1}".into();
        hashes[0] = entries[0].hash(KEY, GENESIS);
        let rows = entries.iter().zip(hashes.iter().map(String::as_str));
        assert_eq!(
            verify(KEY, rows, 1, GENESIS),
            Err(Break::Altered { seq: 2 })
        );
    }

    #[test]
    fn outcomes_round_trip_and_hex_is_lower_case() {
        for o in [Outcome::Ok, Outcome::Denied, Outcome::Failed] {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
        assert_eq!(hex(&[0, 15, 255]), "000fff");
    }
}
