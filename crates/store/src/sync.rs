//! Forwarded events: stored once by id, however often they are sent.

use crate::{Op, Result, Store, StoreError, params};
use fangkong_domain::FieldError;
use fangkong_domain::sync::Event;
use std::collections::HashMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// What a batch of events did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Ids stored by this request.
    pub accepted: Vec<Uuid>,
    /// Ids already held before (a resend): ignored.
    pub duplicates: Vec<Uuid>,
}

/// The statements that store `events`, resolving site codes first. Kept apart from
/// [`append`] so a caller can add its own statements (an idempotency record) to the
/// same writer request, and so the same commit.
pub async fn ops_for(store: &Store, events: &[Event], now: OffsetDateTime) -> Result<Vec<Op>> {
    let mut sites: HashMap<&str, Uuid> = HashMap::new();
    for e in events {
        if sites.contains_key(e.site.as_str()) {
            continue;
        }
        let row = store
            .query_opt(
                "SELECT id FROM sites WHERE code = $1",
                &params![e.site.as_str()],
            )
            .await?
            .ok_or(StoreError::Invalid(FieldError::new("site", "site.unknown")))?;
        sites.insert(e.site.as_str(), row.get(0)?);
    }
    Ok(events
        .iter()
        .map(|e| {
            Op::new(
                "INSERT INTO events (id, site_id, kind, occurred_at, received_at, payload)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
                params![
                    e.id,
                    sites[e.site.as_str()],
                    e.kind.as_str(),
                    e.occurred_at,
                    now,
                    e.payload.as_str()
                ],
            )
        })
        .collect())
}

/// Splits the writer's row counts for [`ops_for`]'s statements (1: stored now, 0: held
/// before) into stored and duplicate ids.
pub fn outcome(ids: &[Uuid], counts: &[u64]) -> Outcome {
    let mut out = Outcome::default();
    for (&id, &n) in ids.iter().zip(counts) {
        if n == 1 {
            out.accepted.push(id);
        } else {
            out.duplicates.push(id);
        }
    }
    out
}

/// Stores a batch through the group-commit writer.
pub async fn append(store: &Store, events: &[Event], now: OffsetDateTime) -> Result<Outcome> {
    let ops = ops_for(store, events, now).await?;
    let counts = store.write(ops).await?;
    let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
    Ok(outcome(&ids, &counts))
}

/// One stored event, as forwarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub id: Uuid,
    pub site: String,
    pub kind: String,
    pub occurred_at: OffsetDateTime,
    pub received_at: OffsetDateTime,
    pub payload: String,
}

pub async fn get(store: &Store, id: Uuid) -> Result<Option<Stored>> {
    let row = store
        .query_opt(
            "SELECT e.id, s.code, e.kind, e.occurred_at, e.received_at, e.payload
             FROM events e JOIN sites s ON s.id = e.site_id WHERE e.id = $1",
            &params![id],
        )
        .await?;
    row.map(|r| {
        Ok(Stored {
            id: r.get(0)?,
            site: r.get(1)?,
            kind: r.get(2)?,
            occurred_at: r.get(3)?,
            received_at: r.get(4)?,
            payload: r.get(5)?,
        })
    })
    .transpose()
}

/// How many events arrived since `since`, for the live panel.
pub async fn count_since(store: &Store, since: OffsetDateTime) -> Result<i64> {
    store
        .query_one(
            "SELECT COUNT(*) FROM events WHERE received_at >= $1",
            &params![since],
        )
        .await?
        .get(0)
}
