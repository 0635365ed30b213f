//! A failure the cache works around (Redis down, an embedding route failing): counted every
//! time, logged as a warning at most once every ten seconds.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How often the same kind of failure is logged, at most.
const EVERY: Duration = Duration::from_secs(10);

/// One kind of failure: a counter and a throttled warning.
#[derive(Default)]
pub struct Throttled {
    count: AtomicU64,
    last: Mutex<Option<Instant>>,
}

impl Throttled {
    /// Counts one failure; logs `what` and `why` unless a warning went out lately.
    pub fn note(&self, what: &'static str, why: &str) {
        self.count.fetch_add(1, Ordering::Relaxed);
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if last.is_none_or(|t| t.elapsed() >= EVERY) {
            *last = Some(Instant::now());
            tracing::warn!(reason = why, "{what}");
        }
    }

    /// Failures so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}
