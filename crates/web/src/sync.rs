//! Records forwarded upstream by site nodes: stored once by id, through the group-commit
//! writer, answered only after they are committed.

use crate::AppState;
use crate::access::Principal;
use crate::error::ApiError;
use crate::idempotency::{Idem, IdempotencyKey, JsonBody, json_response};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use fangkong_domain::FieldError;
use fangkong_domain::sync::{self as rules, MAX_BATCH};
use fangkong_store::sync;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_events))
        .routes(routes!(get_event))
}

/// One forwarded record.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventDto {
    /// UUIDv7 made where the record was made; a resend keeps it.
    pub id: Uuid,
    /// Code of the site the record belongs to.
    pub site: String,
    /// `area.verb`, e.g. `screening.recorded`.
    pub kind: String,
    /// When it happened (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: OffsetDateTime,
    /// A JSON object, at most 16 KiB.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

/// A batch of forwarded records (1 to 500).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    pub events: Vec<EventDto>,
}

/// What happened to each record of a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchOutcome {
    /// Stored by this request.
    pub accepted: Vec<Uuid>,
    /// Already held (an earlier send): ignored.
    pub duplicates: Vec<Uuid>,
}

/// Stores a batch of forwarded records. Each id is stored once, however often it is sent.
#[utoipa::path(post, path = "/api/v1/sync/events", tag = "sync",
    request_body = EventBatch,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays return the first answer")),
    responses(
        (status = 200, description = "Committed", body = BatchOutcome),
        (status = 422, description = "An invalid record (its index is in `cause`); nothing stored"),
        (status = 413, description = "Body too large")))]
async fn post_events(
    State(state): State<AppState>,
    who: Principal,
    key: IdempotencyKey,
    body: JsonBody<EventBatch>,
) -> Result<Response, ApiError> {
    let idem = Idem::new("POST /api/v1/sync/events", &who, &key, &body);
    let batch = &body.value.events;
    if batch.is_empty() || batch.len() > MAX_BATCH {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "sync.batch_size",
        ));
    }
    let now = state.clock.now();
    let events = batch
        .iter()
        .enumerate()
        .map(|(i, e)| {
            rules::validate(e.id, &e.site, &e.kind, e.occurred_at, &e.payload, now)
                .map_err(|f| ApiError::from(f).with_cause(format!("events[{i}]")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut seen = std::collections::HashSet::new();
    if let Some(i) = events.iter().position(|e| !seen.insert(e.id)) {
        return Err(ApiError::from(FieldError::new("id", "sync.id.repeated"))
            .with_cause(format!("events[{i}]")));
    }
    // Records only for sites in the sender's subtree.
    let mine = who.scope_codes(&state.store).await?;
    if let Some(i) = batch.iter().position(|e| !mine.contains(&e.site)) {
        return Err(ApiError::from(FieldError::new("site", "site.unknown"))
            .with_cause(format!("events[{i}]")));
    }
    if let Some(replay) = idem.check(&state.store).await? {
        return Ok(replay);
    }
    let ops = sync::ops_for(&state.store, &events, now).await?;
    let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
    let render = move |counts: &[u64]| answer(&ids, counts);
    let counts = match idem.remember_after(StatusCode::OK, now, render.clone()) {
        Some(then) => state.store.write_then(ops, then).await,
        None => state.store.write(ops).await,
    };
    let counts = match counts {
        Ok(c) => c,
        Err(e) => return idem.resolve(&state.store, e).await,
    };
    state.live.touch(crate::live::Topic::Sync);
    Ok(json_response(StatusCode::OK, render(&counts)))
}

fn answer(ids: &[Uuid], counts: &[u64]) -> String {
    let o = sync::outcome(ids, counts);
    serde_json::to_string(&BatchOutcome {
        accepted: o.accepted,
        duplicates: o.duplicates,
    })
    .unwrap_or_default()
}

/// One stored record.
#[utoipa::path(get, path = "/api/v1/sync/events/{id}", tag = "sync",
    params(("id" = Uuid, Path, description = "Event id")),
    responses((status = 200, body = EventDto), (status = 404, description = "Not held")))]
async fn get_event(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<EventDto>, ApiError> {
    let e = sync::get(&state.store, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if !who.scope_codes(&state.store).await?.contains(&e.site) {
        return Err(ApiError::not_found());
    }
    let payload = serde_json::from_str(&e.payload).map_err(|_| ApiError::internal())?;
    Ok(Json(EventDto {
        id: e.id,
        site: e.site,
        kind: e.kind,
        occurred_at: e.occurred_at,
        payload,
    }))
}
