//! The audit log: append-only, hash-chained (see `fangkong_domain::audit`).
//!
//! An entry is appended inside the transaction of the change it records, so a change and
//! its audit entry commit together or not at all. Appends take the chain's head row,
//! which serialises them on both stores.

use crate::{Result, Row, Store, StoreError, Tx, params};
use fangkong_domain::audit::{self, Break, Entry, Outcome};
use fangkong_domain::clock::unix_millis;
use time::OffsetDateTime;

/// What the caller knows about an audited event; the log adds the time and the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<'a> {
    pub actor: &'a str,
    pub addr: &'a str,
    pub action: &'a str,
    pub target: String,
    pub site: &'a str,
    pub outcome: Outcome,
    pub detail: serde_json::Value,
}

/// Appends one entry in `tx`; returns its sequence number.
pub async fn append(tx: &mut Tx, at: OffsetDateTime, record: &Record<'_>) -> Result<i64> {
    let key = tx.audit_key()?;
    let head = tx
        .query_one(
            "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash",
            &[],
        )
        .await?;
    let (seq, prev): (i64, String) = (head.get(0)?, head.get(1)?);
    let entry = Entry {
        seq,
        at: unix_millis(at),
        actor: record.actor.to_owned(),
        action: record.action.to_owned(),
        target: record.target.clone(),
        site: record.site.to_owned(),
        addr: record.addr.to_owned(),
        outcome: record.outcome,
        detail: record.detail.to_string(),
    };
    let hash = entry.hash(&key, &prev);
    tx.execute(
        "INSERT INTO audit_log (seq, at, actor, action, target, site, addr, outcome, detail, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &params![
            seq,
            entry.at,
            entry.actor,
            entry.action,
            entry.target,
            entry.site,
            entry.addr,
            entry.outcome.as_str(),
            entry.detail,
            hash.as_str()
        ],
    )
    .await?;
    tx.execute(
        "UPDATE audit_head SET hash = $1 WHERE id = 1",
        &params![hash],
    )
    .await?;
    Ok(seq)
}

/// Appends one entry in its own transaction (failed sign-ins, reveals).
pub async fn append_now(store: &Store, at: OffsetDateTime, record: &Record<'_>) -> Result<i64> {
    let mut tx = store.begin().await?;
    let seq = append(&mut tx, at, record).await?;
    tx.commit().await?;
    Ok(seq)
}

/// A stored entry with its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub entry: Entry,
    pub hash: String,
}

const COLUMNS: &str = "seq, at, actor, action, target, site, addr, outcome, detail, hash";

fn stored_from(row: &Row) -> Result<Stored> {
    let outcome: String = row.get(7)?;
    Ok(Stored {
        entry: Entry {
            seq: row.get(0)?,
            at: row.get(1)?,
            actor: row.get(2)?,
            action: row.get(3)?,
            target: row.get(4)?,
            site: row.get(5)?,
            addr: row.get(6)?,
            outcome: Outcome::parse(&outcome)
                .ok_or_else(|| StoreError::Decode(format!("audit outcome {outcome}")))?,
            detail: row.get(8)?,
        },
        hash: row.get(9)?,
    })
}

/// Filters for the audit page; empty fields match everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor: Option<String>,
    /// Matches actions starting with this text (`auth.` for every sign-in event).
    pub action: Option<String>,
    pub site: Option<String>,
    pub outcome: Option<Outcome>,
    pub from: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    /// Only entries with a smaller sequence number (paging backwards).
    pub before: Option<i64>,
    /// Only entries of these sites (the reader's subtree); `None`: every site.
    pub sites: Option<Vec<String>>,
    /// With `sites`, also entries that belong to no site (failed sign-ins).
    pub siteless: bool,
}

/// Newest first, at most `limit` entries.
pub async fn list(store: &Store, f: &Filter, limit: u32) -> Result<Vec<Stored>> {
    let mut params: Vec<crate::Value> = params![
        f.actor.clone().unwrap_or_default(),
        f.action.clone().unwrap_or_default(),
        f.site.clone().unwrap_or_default(),
        f.outcome.map_or("", Outcome::as_str),
        f.from.map_or(i64::MIN, unix_millis),
        f.until.map_or(i64::MAX, unix_millis),
        f.before.unwrap_or(i64::MAX),
        i64::from(limit)
    ]
    .to_vec();
    // The reader's sites as a list of placeholders (never as text in the query).
    let scope = match &f.sites {
        None => String::new(),
        Some(codes) => {
            let first = params.len() + 1;
            params.extend(codes.iter().map(|c| crate::Value::from(c.as_str())));
            let list: Vec<String> = (first..first + codes.len())
                .map(|i| format!("${i}"))
                .collect();
            let listed = if list.is_empty() {
                "FALSE".to_owned()
            } else {
                format!("site IN ({})", list.join(", "))
            };
            let siteless = if f.siteless { " OR site = ''" } else { "" };
            format!("AND ({listed}{siteless})")
        }
    };
    let rows = store
        .query(
            &format!(
                "SELECT {COLUMNS} FROM audit_log
                 WHERE ($1 = '' OR actor = $1)
                   AND ($2 = '' OR substr(action, 1, length($2)) = $2)
                   AND ($3 = '' OR site = $3)
                   AND ($4 = '' OR outcome = $4)
                   AND at >= $5 AND at < $6 AND seq < $7
                   {scope}
                 ORDER BY seq DESC LIMIT $8"
            ),
            &params,
        )
        .await?;
    rows.iter().map(stored_from).collect()
}

/// The result of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every row links to the one before; `entries` rows checked, matching the head.
    Intact { entries: i64 },
    /// The first broken link.
    Broken(Break),
    /// The rows are intact but the head row names a later entry (rows cut off the end).
    Truncated { head: i64, last: i64 },
    /// The last row does not match the head row (the last entry was rewritten, or a row
    /// was added behind the log's back).
    HeadMismatch { head: i64, last: i64 },
}

/// Reads the head row first, then walks every entry up to it in order, in pages, and
/// compares the end with the head. Entries appended meanwhile (a server running beside the
/// check) are left for the next run.
pub async fn verify(store: &Store) -> Result<Verdict> {
    const PAGE: i64 = 5_000;
    let key = store.audit_key()?;
    let head = store
        .query_one("SELECT seq, hash FROM audit_head WHERE id = 1", &[])
        .await?;
    let (head_seq, head_hash): (i64, String) = (head.get(0)?, head.get(1)?);
    let mut prev = audit::GENESIS.to_owned();
    let mut next = 1;
    loop {
        let rows = store
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM audit_log WHERE seq >= $1 AND seq <= $3 ORDER BY seq LIMIT $2"
                ),
                &params![next, PAGE, head_seq],
            )
            .await?;
        let page = rows.iter().map(stored_from).collect::<Result<Vec<_>>>()?;
        let pairs = page.iter().map(|s| (&s.entry, s.hash.as_str()));
        match audit::verify(&key, pairs, next, &prev) {
            Ok((last, hash)) => {
                prev = hash;
                next = last + 1;
            }
            Err(b) => return Ok(Verdict::Broken(b)),
        }
        if (page.len() as i64) < PAGE {
            break;
        }
    }
    let last = next - 1;
    // Rows committed since the first read came with their head update; a row beyond the
    // current head was written behind the log's back.
    let beyond = store
        .query_opt(
            "SELECT seq FROM audit_log WHERE seq > (SELECT seq FROM audit_head WHERE id = 1) LIMIT 1",
            &[],
        )
        .await?;
    if let Some(row) = beyond {
        return Ok(Verdict::HeadMismatch {
            head: head_seq,
            last: row.get(0)?,
        });
    }
    if head_seq > last {
        return Ok(Verdict::Truncated {
            head: head_seq,
            last,
        });
    }
    if head_seq != last || head_hash != prev {
        return Ok(Verdict::HeadMismatch {
            head: head_seq,
            last,
        });
    }
    Ok(Verdict::Intact { entries: last })
}
