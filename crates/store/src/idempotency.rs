//! Idempotency keys (as in Stripe's API): the key, a fingerprint of the request and the
//! answer are stored in the same transaction as the effect. A replay with the same
//! request gets the first answer and writes nothing; the same key with another request is
//! refused. Keys are kept for [`RETENTION`].

use crate::{Backend, Op, Result, Row, Store, Tx, params};
use time::{Duration, OffsetDateTime};

/// How long a key is remembered (at least 24 hours, as the peers do).
pub const RETENTION: Duration = Duration::hours(48);

/// What an earlier request with the same key left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prior {
    /// Nothing: go ahead.
    None,
    /// The same request was answered before: send this answer again.
    Replay { status: u16, body: String },
    /// The key was used for a different request.
    Conflict,
}

const LOOKUP: &str =
    "SELECT fingerprint, status, body FROM idempotency_keys WHERE scope = $1 AND key = $2";

fn decide(row: Option<Row>, fingerprint: &str) -> Result<Prior> {
    let Some(row) = row else {
        return Ok(Prior::None);
    };
    if row.get::<String>(0)? != fingerprint {
        return Ok(Prior::Conflict);
    }
    let status: i64 = row.get(1)?;
    Ok(Prior::Replay {
        status: u16::try_from(status).unwrap_or(200),
        body: row.get(2)?,
    })
}

/// Looks the key up inside a unit of work. On PostgreSQL it first takes a transaction
/// lock on the key, so a concurrent request with the same key waits for this one to end
/// and then finds its answer (SQLite's single writer serialises them already).
pub async fn lookup_in(tx: &mut Tx, scope: &str, key: &str, fingerprint: &str) -> Result<Prior> {
    if tx.backend() == Backend::Postgres {
        tx.query(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))::TEXT",
            &params![format!("{scope}\n{key}")],
        )
        .await?;
    }
    decide(
        tx.query_opt(LOOKUP, &params![scope, key]).await?,
        fingerprint,
    )
}

/// Looks the key up before queuing work for the group-commit writer.
pub async fn lookup(store: &Store, scope: &str, key: &str, fingerprint: &str) -> Result<Prior> {
    decide(
        store.query_opt(LOOKUP, &params![scope, key]).await?,
        fingerprint,
    )
}

/// The statement that remembers an answer; run it in the effect's own transaction
/// (with [`Tx::execute`], or as part of the same writer request).
pub fn remember(
    scope: &str,
    key: &str,
    fingerprint: &str,
    status: u16,
    body: &str,
    now: OffsetDateTime,
) -> Op {
    Op::new(
        "INSERT INTO idempotency_keys (scope, key, fingerprint, status, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        params![scope, key, fingerprint, status, body, now],
    )
}

/// Forgets keys older than the retention period; returns how many went.
pub async fn purge(store: &Store, now: OffsetDateTime) -> Result<u64> {
    let mut tx = store.begin().await?;
    let n = tx
        .execute(
            "DELETE FROM idempotency_keys WHERE created_at < $1",
            &params![now - RETENTION],
        )
        .await?;
    tx.commit().await?;
    Ok(n)
}
