//! Fangkong's HTTP layer: server-rendered pages, the JSON API under `/api/v1` with its
//! OpenAPI document, live updates (SSE), `/healthz` and `/metrics`.
//!
//! Each area owns a router; [`app`] merges them and wraps them in the shared layers.
//! Requests flow one way: parse into domain types here, decide in the domain, persist
//! in the store, answer.

pub mod access;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod cases;
pub mod cases_alerts;
pub mod cases_pages;
pub mod charts;
pub mod error;
pub mod home;
pub mod hotline;
pub mod hotline_pages;
pub mod i18n;
pub mod idempotency;
pub mod live;
pub mod mqtt;
pub mod ops;
pub mod org;
pub mod org_pages;
pub mod reports;
pub mod reports_pages;
pub mod screening;
pub mod screening_pages;
pub mod sync;
pub mod telemetry;
pub mod users;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use fangkong_domain::clock::{Clock, IdSource};
use fangkong_store::Store;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::watch;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// The largest request body accepted, in bytes (a batch of forwarded events fits).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What every handler shares (through [`AppState`]).
pub struct Shared {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    pub started: OffsetDateTime,
    pub schema_version: i64,
    pub live: live::Hub,
    /// Turns `true` when the server begins to shut down, so live streams end.
    pub shutdown: watch::Receiver<bool>,
    /// Keys for personal fields.
    pub vault: fangkong_store::privacy::Vault,
    pub auth: access::AuthSettings,
    pub setup: access::SetupState,
    pub screening: screening::Settings,
    pub cases: cases::Settings,
    pub reports: reports::Settings,
    pub hotline: hotline::Settings,
    /// The ticket search index and its feed.
    pub hotline_index: Arc<hotline::Indexer>,
    /// Tickets from the public form per client address.
    pub public_tickets: screening::RegistrationLimiter,
    /// Wakes the robots' sender when an alert is raised in this process.
    pub robots: Arc<tokio::sync::Notify>,
    /// Token, site and subtree lookups, emptied on every change.
    pub cache: cache::Cache,
    /// Self-registrations per client address.
    pub registrations: screening::RegistrationLimiter,
}

/// The handlers' state: one shared allocation, so the per-request clones axum makes
/// cost one reference count, not one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Fangkong API",
        description = "Epidemic prevention for public service halls. Errors are RFC 9457 problem documents with a stable `code`. Every mutation accepts an `Idempotency-Key` header.",
        license(name = "Apache-2.0")
    ),
    tags(
        (name = "ops", description = "Health and operations"),
        (name = "org", description = "Sites, checkpoints, working groups and people of the district"),
        (name = "auth", description = "API tokens and accounts. Send `Authorization: Bearer <token>`."),
        (name = "audit", description = "The hash-chained audit log"),
        (name = "sync", description = "Records forwarded between sites"),
        (name = "screening", description = "Entrance screening: door records, buffer zone, occupancy, staff checks, devices"),
        (name = "cases", description = "Suspected cases: the ledger, alerts and their escalation, upward reports, exposure lists, fever-rate alerts (EARS), group robots"),
        (name = "reports", description = "Daily screening reports: figures from the counters, roll-ups up the site tree, submit / acknowledge / return with versions"),
        (name = "hotline", description = "Hotline tickets: intake with duplicate suggestions, transfer / reply / review / follow-up / close, supervision, search, hot issues, summaries, and the working calendar")
    )
)]
struct ApiDoc;

/// The API routes with their OpenAPI description, generated from the handlers.
fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(ops::api())
        .merge(org::router())
        .merge(auth::api())
        .merge(users::api())
        .merge(audit::api())
        .merge(sync::router())
        .merge(screening::router())
        .merge(cases::router())
        .merge(reports::router())
        .merge(hotline::router())
        .split_for_parts()
}

/// The OpenAPI document (also served at `/api/openapi.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = api().1;
    doc.openapi = utoipa::openapi::OpenApiVersion::Version31;
    doc
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    telemetry::metrics();
    let (api_routes, _) = api();
    let doc = Arc::new(openapi());
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(api_routes)
        .merge(ops::router(doc))
        .merge(home::router())
        .merge(live::router())
        .merge(assets::router())
        .merge(auth::router())
        .merge(users::router())
        .merge(audit::router())
        .merge(org_pages::router())
        .merge(screening_pages::router())
        .merge(cases_pages::router())
        .merge(reports_pages::router())
        .merge(hotline_pages::router())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::guard,
        ))
        .fallback(home::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(CatchPanicLayer::custom(home::panic_page))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(30),
        ))
        .layer(axum::middleware::from_fn(error::localize))
        .layer(axum::middleware::from_fn(telemetry::track))
        .layer(telemetry::trace_layer())
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(
            request_id,
            telemetry::RequestIds(state.ids.clone()),
        ))
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(security_header(header::REFERRER_POLICY, "same-origin"))
        .layer(security_header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ))
        .with_state(state)
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}
