//! `GET /admin/live` (admin key, or the console's session cookie): the requests this node
//! completes, as they complete, as Server-Sent Events (`telemetry::live`).
//!
//! ```text
//! event: request
//! data: {"trace_id": …, "time": …, …, "targets": [{"target", "provider", "retry", "status", "error", "elapsed_ms"}]}
//!
//! : ping                       (every 15 s, so proxies keep the stream open)
//!
//! event: lagged
//! data: {"skipped": 12}        (this subscriber fell behind: that many requests were skipped)
//! ```
//!
//! The stream ends when the server shuts down. At most 32 subscribers at once (503 beyond).

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use switchyard_types::{ErrorEnvelope, ErrorKind};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{interval, Interval, MissedTickBehavior};

use super::{admin, Fail, Reply};
use crate::error::error_response;
use crate::http::server::App;
use crate::telemetry::live::{Subscription, PING_EVERY};

/// `GET /admin/live`.
pub async fn live(State(app): State<Arc<App>>, headers: HeaderMap) -> Reply {
    admin(&app, &headers).await?;
    let Some(feed) = &app.live else {
        // Unreachable with the admin API on (the feed is registered with it).
        return Err(unavailable("the live feed is off"));
    };
    let sub = feed.subscribe().map_err(|e| unavailable(&e.to_string()))?;
    let mut ping = interval(PING_EVERY);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let stream = futures_util::stream::unfold((sub, ping), next);
    let mut resp = Response::new(Body::from_stream(stream));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // nginx would otherwise buffer the stream.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(resp)
}

/// The stream's next piece: an event, a lag notice or a ping; `None` once the feed closes.
/// (The first ping goes out at once, so a client knows its subscription is in place.)
async fn next(
    (mut sub, mut ping): (Subscription, Interval),
) -> Option<(Result<Bytes, Infallible>, (Subscription, Interval))> {
    if *sub.closed.borrow() {
        return None;
    }
    let piece = tokio::select! {
        ev = sub.events.recv() => match ev {
            Ok(event) => event,
            Err(RecvError::Lagged(n)) => {
                Bytes::from(format!("event: lagged\ndata: {{\"skipped\":{n}}}\n\n"))
            }
            Err(RecvError::Closed) => return None,
        },
        _ = ping.tick() => Bytes::from_static(b": ping\n\n"),
        // Closing (or the feed gone): end the stream.
        _ = sub.closed.changed() => return None,
    };
    Some((Ok(piece), (sub, ping)))
}

fn unavailable(message: &str) -> Fail {
    error_response(
        StatusCode::SERVICE_UNAVAILABLE,
        &ErrorEnvelope::new(ErrorKind::ServerError, message).with_code("live_feed_unavailable"),
    )
    .into()
}
