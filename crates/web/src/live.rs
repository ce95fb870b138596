//! Live updates for panels (SSE).
//!
//! A change marks its topic with [`Hub::touch`]; the hub publishes each marked topic at
//! most twice a second through the store, which fans out in-process on SQLite and through
//! PostgreSQL LISTEN/NOTIFY across every `serve` process. Pages listen on `/live` and
//! re-fetch the panel a notice names (htmx `sse:<topic>` triggers).

use crate::AppState;
use crate::error::ApiError;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use fangkong_store::Store;
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore, watch};
use tokio_stream::wrappers::BroadcastStream;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Forwarded records arrived.
    Sync,
    /// A door record was made or changed.
    Screening,
    /// The count inside a hall changed.
    Occupancy,
    /// Someone entered or left the buffer zone, or was re-checked.
    Buffer,
    /// An alert was raised, escalated or acknowledged.
    Alerts,
    /// A daily report was submitted, acknowledged or returned.
    Reports,
}

impl Topic {
    pub const ALL: [Topic; 6] = [
        Topic::Sync,
        Topic::Screening,
        Topic::Occupancy,
        Topic::Buffer,
        Topic::Alerts,
        Topic::Reports,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Topic::Sync => "sync",
            Topic::Screening => "screening",
            Topic::Occupancy => "occupancy",
            Topic::Buffer => "buffer",
            Topic::Alerts => "alerts",
            Topic::Reports => "reports",
        }
    }

    pub fn parse(s: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// The most live streams one process serves at once; more get 503.
pub const MAX_STREAMS: usize = 2048;

/// Coalesces change marks into live notices.
#[derive(Clone)]
pub struct Hub {
    dirty: Arc<Mutex<HashSet<Topic>>>,
    wake: Arc<Notify>,
    streams: Arc<Semaphore>,
}

const COALESCE: Duration = Duration::from_millis(500);

impl Hub {
    /// Starts publishing marked topics until `shutdown` turns true.
    pub fn start(store: Store, mut shutdown: watch::Receiver<bool>) -> Hub {
        let hub = Hub {
            dirty: Arc::default(),
            wake: Arc::new(Notify::new()),
            streams: Arc::new(Semaphore::new(MAX_STREAMS)),
        };
        let me = hub.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = me.wake.notified() => {}
                    _ = shutdown.wait_for(|stop| *stop) => return,
                }
                tokio::time::sleep(COALESCE).await;
                let topics: Vec<Topic> = me
                    .dirty
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .drain()
                    .collect();
                for topic in topics {
                    if let Err(e) = store.publish(topic.as_str(), "").await {
                        tracing::warn!(error = %e, topic = topic.as_str(), "cannot publish a live notice");
                    }
                }
            }
        });
        hub
    }

    /// Live streams this process serves now.
    pub fn open_streams(&self) -> usize {
        MAX_STREAMS.saturating_sub(self.streams.available_permits())
    }

    /// Marks a topic as changed; a notice follows shortly.
    pub fn touch(&self, topic: Topic) {
        self.dirty
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(topic);
        self.wake.notify_one();
    }
}

/// One open stream: counted in `fangkong_live_streams` until it ends.
struct Open {
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Open {
    fn new(permit: tokio::sync::OwnedSemaphorePermit) -> Open {
        metrics::gauge!("fangkong_live_streams").increment(1.0);
        Open { _permit: permit }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        metrics::gauge!("fangkong_live_streams").decrement(1.0);
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/live", get(stream))
}

#[derive(Debug, Deserialize)]
struct Filter {
    /// Comma-separated topics; all when absent.
    topics: Option<String>,
}

async fn stream(
    State(state): State<AppState>,
    Query(filter): Query<Filter>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let permit = state
        .live
        .streams
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable"))?;
    let held = Open::new(permit);
    let wanted: Option<HashSet<Topic>> = filter.topics.map(|t| {
        t.split(',')
            .filter_map(|s| Topic::parse(s.trim()))
            .collect()
    });
    let mut shutdown = state.shutdown.clone();
    let stopped = async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    let events = BroadcastStream::new(state.store.subscribe())
        .filter_map(move |notice| {
            // Only known topics go out, named by us: a notice is a signal that something
            // changed, never content to relay.
            let topic = notice
                .ok()
                .and_then(|n| Topic::parse(&n.topic))
                .filter(|t| wanted.as_ref().is_none_or(|w| w.contains(t)));
            async move { topic.map(|t| Ok(Event::default().event(t.as_str()).data("changed"))) }
        })
        .take_until(Box::pin(stopped))
        .map(move |event| {
            // The stream holds its permit (and its place in the gauge) until it ends.
            let _held = &held;
            event
        });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
