//! Operations: health, liveness, metrics and the OpenAPI document.

use crate::{AppState, VERSION, telemetry};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz))
}

pub fn router(doc: Arc<utoipa::openapi::OpenApi>) -> Router<AppState> {
    let json = Arc::new(serde_json::to_string(&*doc).unwrap_or_default());
    Router::new()
        .route("/livez", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .route(
            "/api/openapi.json",
            get(move || {
                let json = json.clone();
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        (*json).clone(),
                    )
                }
            }),
        )
}

/// Health of this process and its database.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when the database does not answer.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    pub version: &'static str,
}

/// Reports whether this process can serve: it answers only after asking the database.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
async fn healthz(State(state): State<AppState>) -> Response {
    let database = state.store.backend().as_str();
    match state.store.ping().await {
        Ok(()) => Json(Health {
            status: "ok",
            database,
            version: VERSION,
        })
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "unavailable",
                    database,
                    version: VERSION,
                }),
            )
                .into_response()
        }
    }
}

/// Prometheus text: requests and latency by route, the writer's queue and batches, the pool.
async fn metrics(State(state): State<AppState>) -> Response {
    let pool = state.store.pool_status();
    metrics::gauge!("fangkong_db_pool_connections").set(pool.size as f64);
    metrics::gauge!("fangkong_db_pool_available").set(pool.available as f64);
    metrics::gauge!("fangkong_db_pool_in_use").set(pool.size.saturating_sub(pool.available) as f64);
    let w = state.store.writer_stats();
    metrics::gauge!("fangkong_writer_queue_depth").set(w.queued as f64);
    metrics::counter!("fangkong_writer_batches_total").absolute(w.batches);
    metrics::counter!("fangkong_writer_requests_total").absolute(w.requests);
    metrics::counter!("fangkong_writer_rows_total").absolute(w.ops);
    metrics::gauge!("fangkong_writer_max_batch_requests").set(w.max_batch as f64);
    metrics::gauge!("fangkong_info", "version" => VERSION, "database" => state.store.backend().as_str()).set(1.0);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        telemetry::metrics().render(),
    )
        .into_response()
}
