//! The live request feed: every request this node completes, as a Server-Sent Event, to the
//! admin API's `GET /admin/live` subscribers (the web console's live view).
//!
//! A pipeline hook ([`LiveFeed`]) on complete: when nobody watches, one `receiver_count()` check
//! and nothing else (a feature not in use costs nothing). When someone does, the request's row
//! — the same members as a row of `GET /admin/logs`, without `id` and `request_body` — is
//! serialised once as `event: request\ndata: <json>\n\n` and broadcast to every subscriber
//! (a `tokio::sync::broadcast` of [`CAPACITY`] events). A subscriber that falls behind loses the
//! oldest events and is told how many (`event: lagged`), and goes on; nothing ever waits for it.
//!
//! Registered only when the admin API is on (`auth.admin_key`): nobody could subscribe
//! otherwise. [`LiveFeed::close`] ends every subscriber's stream (at shutdown).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{broadcast, watch, OwnedSemaphorePermit, Semaphore, TryAcquireError};

use crate::governance::Governance;
use crate::pipeline::{Hook, Phases, RequestRecord};

/// Events held for subscribers; one further behind loses the oldest.
pub const CAPACITY: usize = 1024;
/// Subscribers at once, at most.
pub const MAX_SUBSCRIBERS: usize = 32;
/// A comment line is sent this often, so proxies keep an idle stream open.
pub const PING_EVERY: Duration = Duration::from_secs(15);

/// The pipeline hook, and where subscribers subscribe.
pub struct LiveFeed {
    tx: broadcast::Sender<Bytes>,
    governance: Arc<Governance>,
    slots: Arc<Semaphore>,
    /// `true` once the server is shutting down.
    closed: watch::Sender<bool>,
}

/// A subscription: events as they come, until the feed closes. Holds one of the
/// [`MAX_SUBSCRIBERS`] places while it lives.
pub struct Subscription {
    pub events: broadcast::Receiver<Bytes>,
    pub closed: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
}

/// Every place is taken.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("{MAX_SUBSCRIBERS} clients already follow the live feed; close one and retry")]
pub struct TooManySubscribers;

impl LiveFeed {
    pub fn new(governance: Arc<Governance>) -> LiveFeed {
        let (tx, _) = broadcast::channel(CAPACITY);
        LiveFeed {
            tx,
            governance,
            slots: Arc::new(Semaphore::new(MAX_SUBSCRIBERS)),
            closed: watch::channel(false).0,
        }
    }

    /// A new subscription, or [`TooManySubscribers`].
    pub fn subscribe(&self) -> Result<Subscription, TooManySubscribers> {
        let slot = match self.slots.clone().try_acquire_owned() {
            Ok(s) => s,
            Err(TryAcquireError::NoPermits | TryAcquireError::Closed) => {
                return Err(TooManySubscribers)
            }
        };
        Ok(Subscription {
            events: self.tx.subscribe(),
            closed: self.closed.subscribe(),
            _slot: slot,
        })
    }

    /// Ends every subscriber's stream, now and for later subscribers.
    pub fn close(&self) {
        self.closed.send_replace(true);
    }

    /// The SSE event of `r`: its request-log row, without `id` (the database's) and
    /// `request_body`.
    fn event(&self, r: &RequestRecord) -> Option<Bytes> {
        let row = super::request_log::row(r, self.governance.cost(r), None);
        let mut json = serde_json::to_value(&row).ok()?;
        if let Some(o) = json.as_object_mut() {
            o.remove("id");
            o.remove("request_body");
        }
        let json = serde_json::to_vec(&json).ok()?;
        let mut out = Vec::with_capacity(json.len() + 24);
        out.extend_from_slice(b"event: request\ndata: ");
        out.extend_from_slice(&json);
        out.extend_from_slice(b"\n\n");
        Some(Bytes::from(out))
    }
}

impl Hook for LiveFeed {
    fn name(&self) -> &'static str {
        "live"
    }

    fn phases(&self) -> Phases {
        Phases {
            on_complete: true,
            ..Phases::default()
        }
    }

    fn on_complete(&self, record: &RequestRecord) {
        if self.tx.receiver_count() == 0 {
            return;
        }
        if let Some(event) = self.event(record) {
            // Err: the last subscriber left meanwhile.
            let _ = self.tx.send(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::config::GatewayConfig;

    async fn feed() -> LiveFeed {
        let config = GatewayConfig::from_yaml("", &|_| None).unwrap();
        LiveFeed::new(Governance::start(&config).await.unwrap())
    }

    #[tokio::test]
    async fn nothing_is_built_without_subscribers_and_each_subscriber_gets_the_event() {
        let f = feed().await;
        let r = RequestRecord::new(Arc::from("t-1"), Instant::now());
        f.on_complete(&r);
        let mut s = f.subscribe().unwrap();
        assert!(
            s.events.try_recv().is_err(),
            "nothing before the subscription"
        );
        f.on_complete(&r);
        let ev = s.events.try_recv().unwrap();
        let text = std::str::from_utf8(&ev).unwrap();
        assert!(text.starts_with("event: request\ndata: {"), "{text}");
        assert!(text.ends_with("}\n\n"));
        let v: serde_json::Value =
            serde_json::from_str(&text["event: request\ndata: ".len()..]).unwrap();
        assert_eq!(v["trace_id"], "t-1");
        assert_eq!(v["targets"], serde_json::json!([]));
    }

    #[tokio::test]
    async fn subscribers_beyond_the_limit_are_refused_and_close_is_seen() {
        let f = feed().await;
        let subs: Vec<_> = (0..MAX_SUBSCRIBERS)
            .map(|_| f.subscribe().unwrap())
            .collect();
        assert!(f.subscribe().is_err());
        drop(subs);
        let s = f.subscribe().unwrap();
        f.close();
        assert!(*s.closed.borrow());
    }
}
