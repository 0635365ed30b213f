//! The counters behind rate limits and budgets, in process (one gateway node, the default) or in
//! Redis (many nodes enforcing one limit exactly).
//!
//! - **Rate limits** are sliding windows of a minute, an hour or a day, aligned to epoch time and
//!   estimated from two fixed windows: `used = cur + prev × (1 − elapsed_in_cur / W)`. A limit
//!   refuses a take when `used + take > max` (OpenAI's rule: a request whose reserved tokens don't
//!   fit is refused, even on an empty window). [`Counters::acquire`] over several limits is
//!   all-or-nothing: when one refuses, nothing is taken from any.
//! - **Settlement**: tokens reserved up front are corrected later by a signed delta
//!   ([`Counters::settle`]), applied to the window the reservation landed in (the [`Ticket`]
//!   remembers it), never below zero, and ignored once that window is gone.
//! - **Spend counters** (budgets): float totals per key that expire after a TTL, each add
//!   refreshing it ([`Counters::spend_add`], [`Counters::spend_get`], [`Counters::spend_seed`]).
//!
//! In Redis, an acquire is one round trip (one Lua script, time from the server's `TIME`, window
//! keys `{prefix}rl:{limit key}:{window index}` expiring after two windows); spend totals live
//! under `{prefix}spend:{key}`. Every Redis call is bounded by the configured timeout: an
//! unreachable or slow Redis is [`LimitsError::Unavailable`], never a hang. Whether that fails a
//! request open or closed is the caller's decision.

mod estimate;
mod memory;
mod shared;

use std::sync::Arc;
use std::time::Duration;

pub use memory::MemoryCounters;
pub use shared::RedisCounters;

/// The length of a rate-limit window; windows are aligned to epoch time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Window {
    Minute,
    Hour,
    Day,
}

impl Window {
    /// How long one window lasts.
    pub fn duration(self) -> Duration {
        Duration::from_millis(self.millis())
    }

    /// The window of a limit's unit: `rpm`/`tpm`/`minute`, `rph`/`tph`/`hour`, `rpd`/`tpd`/`day`.
    pub fn from_unit(s: &str) -> Option<Window> {
        match s {
            "rpm" | "tpm" | "minute" => Some(Window::Minute),
            "rph" | "tph" | "hour" => Some(Window::Hour),
            "rpd" | "tpd" | "day" => Some(Window::Day),
            _ => None,
        }
    }

    pub(crate) const fn millis(self) -> u64 {
        match self {
            Window::Minute => 60_000,
            Window::Hour => 3_600_000,
            Window::Day => 86_400_000,
        }
    }
}

/// One limit to check and take from.
#[derive(Debug, Clone, Copy)]
pub struct Limit<'a> {
    /// Made by the caller, unique per scope, kind and window (e.g. `key:key_1:tokens:rpm`); two
    /// limits of one [`Counters::acquire`] call must have different keys.
    pub key: &'a str,
    pub window: Window,
    /// The most the window admits.
    pub max: u64,
    /// What this call takes (1 for a request, the reserved tokens for a token limit; 0 to only
    /// read the state).
    pub take: u64,
}

/// Where one limit stands after an acquire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitState {
    pub max: u64,
    /// What is left after this take if the acquire was allowed, or before it if refused (rounded
    /// down; the estimate is fractional).
    pub remaining: u64,
    /// Time until the current window ends.
    pub reset: Duration,
}

/// The outcome of [`Counters::acquire`].
#[derive(Debug, Clone)]
pub struct Acquired {
    pub allowed: bool,
    /// One per limit, in the order given.
    pub states: Vec<LimitState>,
    /// The first limit that refused.
    pub refused: Option<usize>,
    /// When refused: the time until every refusing limit would admit its take under the
    /// estimate (at least 1 ms, at most two windows); zero when allowed.
    pub retry_after: Duration,
    /// What settles the takes later; empty when refused.
    pub ticket: Ticket,
}

impl Acquired {
    /// Allowed, with nothing checked (no limits).
    fn nothing() -> Acquired {
        Acquired {
            allowed: true,
            states: Vec::new(),
            refused: None,
            retry_after: Duration::ZERO,
            ticket: Ticket::default(),
        }
    }
}

/// Where each take of an allowed acquire landed: enough to settle it in its window later.
#[derive(Debug, Clone, Default)]
pub struct Ticket {
    /// Made by the Redis backend (a memory ticket doesn't settle Redis counters, nor the reverse).
    redis: bool,
    reservations: Vec<Reservation>,
}

impl Ticket {
    /// How many limits this ticket can settle (0 when the acquire was refused).
    pub fn len(&self) -> usize {
        self.reservations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.reservations.is_empty()
    }
}

/// One take: the counter (the limit key in memory, the window's key in Redis) and its window.
#[derive(Debug, Clone)]
struct Reservation {
    key: Arc<str>,
    window: Window,
    index: u64,
}

/// What can go wrong with the counters.
#[derive(Debug, thiserror::Error)]
pub enum LimitsError {
    /// Redis couldn't be reached, answered too slowly, or answered with an error.
    #[error("redis unavailable: {0}")]
    Unavailable(String),
}

/// The counters: in memory (one node) or in Redis (shared by every node). Cloning is cheap and
/// shares the counters.
#[derive(Clone, Debug)]
pub enum Counters {
    Memory(MemoryCounters),
    Redis(RedisCounters),
}

impl Counters {
    /// Counters in this process, their windows aligned to the wall clock read now.
    pub fn memory() -> Counters {
        Counters::Memory(MemoryCounters::new())
    }

    /// Counters in this process whose clock reads `origin` now (tests and simulations: with a
    /// paused tokio clock, windows then start exactly where the test says).
    pub fn memory_with_origin(origin: std::time::SystemTime) -> Counters {
        Counters::Memory(MemoryCounters::with_origin(origin))
    }

    /// Counters in Redis under `prefix`, every call bounded by `timeout`. Nothing is connected
    /// here: the first call connects (within its timeout), and a failed connection is retried at
    /// most once a second.
    pub fn redis(client: redis::Client, prefix: String, timeout: Duration) -> Counters {
        Counters::Redis(RedisCounters::new(client, prefix, timeout))
    }

    /// `memory` or `redis`, for logs.
    pub fn backend(&self) -> &'static str {
        match self {
            Counters::Memory(_) => "memory",
            Counters::Redis(_) => "redis",
        }
    }

    /// Checks every limit and, when all admit their take, takes from all of them atomically
    /// (nothing is taken when one refuses). No limits: allowed, no I/O.
    pub async fn acquire(&self, limits: &[Limit<'_>]) -> Result<Acquired, LimitsError> {
        match self {
            Counters::Memory(m) => Ok(m.acquire(limits)),
            Counters::Redis(r) => r.acquire(limits).await,
        }
    }

    /// Corrects the take of limit `index` of `ticket` by `delta` (negative gives back), in the
    /// window it landed in, never below zero; a no-op once that window is gone, for an empty
    /// ticket, an index out of range or a zero delta.
    pub async fn settle(
        &self,
        ticket: &Ticket,
        index: usize,
        delta: i64,
    ) -> Result<(), LimitsError> {
        match self {
            Counters::Memory(m) => {
                m.settle(ticket, index, delta);
                Ok(())
            }
            Counters::Redis(r) => r.settle(ticket, index, delta).await,
        }
    }

    /// Adds `amount` to the total of `key` (absent or expired: starts from zero), sets its expiry
    /// to `ttl` from now, and returns the new total. A non-finite amount adds nothing.
    pub async fn spend_add(
        &self,
        key: &str,
        amount: f64,
        ttl: Duration,
    ) -> Result<f64, LimitsError> {
        match self {
            Counters::Memory(m) => Ok(m.spend_add(key, amount, ttl)),
            Counters::Redis(r) => r.spend_add(key, amount, ttl).await,
        }
    }

    /// The totals of `keys`, in order (`None` when absent or expired).
    pub async fn spend_get(&self, keys: &[&str]) -> Result<Vec<Option<f64>>, LimitsError> {
        match self {
            Counters::Memory(m) => Ok(m.spend_get(keys)),
            Counters::Redis(r) => r.spend_get(keys).await,
        }
    }

    /// Sets the total of `key` to `value`, expiring after `ttl`, only if it has none (e.g. seeded
    /// from a database after a restart); an existing total is left alone.
    pub async fn spend_seed(
        &self,
        key: &str,
        value: f64,
        ttl: Duration,
    ) -> Result<(), LimitsError> {
        match self {
            Counters::Memory(m) => {
                m.spend_seed(key, value, ttl);
                Ok(())
            }
            Counters::Redis(r) => r.spend_seed(key, value, ttl).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_name_their_windows() {
        assert_eq!(Window::from_unit("rpm"), Some(Window::Minute));
        assert_eq!(Window::from_unit("tpm"), Some(Window::Minute));
        assert_eq!(Window::from_unit("rph"), Some(Window::Hour));
        assert_eq!(Window::from_unit("rpd"), Some(Window::Day));
        assert_eq!(Window::from_unit("tpd"), Some(Window::Day));
        assert_eq!(Window::from_unit("rps"), None);
        assert_eq!(Window::Hour.duration(), Duration::from_secs(3600));
    }
}
