//! The in-process backend: one mutex'd map of window counters and one of spend totals.
//!
//! Each limit key keeps two counts, its current window's and the previous one's, rolled forward
//! when touched. At most once a minute (of the counters' clock) an acquire sweeps out keys whose
//! windows no longer count, and an add sweeps out expired spend totals. The critical section of
//! an acquire is one hash lookup per limit, so one lock serves every request; nothing is held
//! across an await.
//!
//! Time is `tokio::time::Instant` (a paused test clock drives it), anchored once to the wall clock
//! so windows align to epoch time like Redis's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::estimate::Estimate;
use crate::{Acquired, Limit, Reservation, Ticket, Window};

/// How often stale counters and expired totals are swept, in ms of the counters' clock.
const SWEEP_EVERY_MS: u64 = 60_000;

/// Counters in this process (see the module doc). Cloning shares them.
#[derive(Clone)]
pub struct MemoryCounters(Arc<Inner>);

struct Inner {
    start: Instant,
    /// Epoch ms at `start`.
    origin_ms: u64,
    rates: Mutex<Rates>,
    spend: Mutex<Spend>,
}

#[derive(Default)]
struct Rates {
    slots: HashMap<Arc<str>, Slot>,
    next_sweep_ms: u64,
}

/// One limit key's counts: window `index` and the one before it.
struct Slot {
    /// The map's key, handed to tickets without allocating.
    key: Arc<str>,
    window: Window,
    index: u64,
    cur: u64,
    prev: u64,
}

impl Slot {
    /// Moves the counts forward to window `now`.
    fn roll(&mut self, now: u64) {
        if self.index == now {
            return;
        }
        self.prev = if self.index + 1 == now { self.cur } else { 0 };
        self.cur = 0;
        self.index = now;
    }
}

#[derive(Default)]
struct Spend {
    /// Total and expiry (epoch ms).
    totals: HashMap<String, (f64, u64)>,
    next_sweep_ms: u64,
}

impl std::fmt::Debug for MemoryCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCounters")
            .field("origin_ms", &self.0.origin_ms)
            .finish_non_exhaustive()
    }
}

impl Default for MemoryCounters {
    fn default() -> Self {
        MemoryCounters::new()
    }
}

impl MemoryCounters {
    /// Counters aligned to the wall clock read now.
    pub fn new() -> MemoryCounters {
        MemoryCounters::with_origin(SystemTime::now())
    }

    /// Counters whose clock reads `origin` now.
    pub fn with_origin(origin: SystemTime) -> MemoryCounters {
        let origin_ms = origin
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        MemoryCounters(Arc::new(Inner {
            start: Instant::now(),
            origin_ms,
            rates: Mutex::new(Rates::default()),
            spend: Mutex::new(Spend::default()),
        }))
    }

    /// Epoch ms now.
    fn now_ms(&self) -> u64 {
        let run = u64::try_from(self.0.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.0.origin_ms.saturating_add(run)
    }

    fn rates(&self) -> MutexGuard<'_, Rates> {
        self.0.rates.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn spend(&self) -> MutexGuard<'_, Spend> {
        self.0.spend.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// [`crate::Counters::acquire`], synchronously.
    ///
    /// One pass, one hash lookup per limit: each limit that admits its take has it taken at once,
    /// and should a later one refuse, the earlier takes are given back before the lock is
    /// released (so nobody sees them).
    pub fn acquire(&self, limits: &[Limit<'_>]) -> Acquired {
        if limits.is_empty() {
            return Acquired::nothing();
        }
        let now = self.now_ms();
        let mut states = Vec::with_capacity(limits.len());
        let mut reservations = Vec::with_capacity(limits.len());
        let mut refused = None;
        let mut retry_ms = 0;
        let mut rates = self.rates();
        rates.sweep(now);
        for (i, l) in limits.iter().enumerate() {
            let w = l.window.millis();
            let index = now / w;
            let mut slot = match rates.slots.get_mut(l.key) {
                Some(s) if s.window == l.window => {
                    s.roll(index);
                    Some(s)
                }
                _ => None,
            };
            let est = Estimate {
                cur: slot.as_ref().map_or(0, |s| s.cur),
                prev: slot.as_ref().map_or(0, |s| s.prev),
                elapsed_ms: now - index * w,
                window_ms: w,
            };
            states.push(est.state(l.max));
            if !est.fits(l.max, l.take) {
                refused.get_or_insert(i);
                retry_ms = retry_ms.max(est.retry_after_ms(l.max, l.take));
            } else if refused.is_none() {
                let key = match slot.take() {
                    Some(s) => {
                        s.cur = s.cur.saturating_add(l.take);
                        Arc::clone(&s.key)
                    }
                    None => rates.insert(l.key, l.window, index, l.take),
                };
                reservations.push(Reservation {
                    key,
                    window: l.window,
                    index,
                });
            }
        }
        if refused.is_some() {
            for (r, l) in reservations.iter().zip(limits) {
                if let Some(s) = rates.slots.get_mut(&*r.key) {
                    s.cur = s.cur.saturating_sub(l.take);
                }
            }
            drop(rates);
            return Acquired {
                allowed: false,
                states,
                refused,
                retry_after: Duration::from_millis(retry_ms),
                ticket: Ticket::default(),
            };
        }
        drop(rates);
        for (state, l) in states.iter_mut().zip(limits) {
            state.remaining = state.remaining.saturating_sub(l.take);
        }
        Acquired {
            allowed: true,
            states,
            refused: None,
            retry_after: Duration::ZERO,
            ticket: Ticket {
                redis: false,
                reservations,
            },
        }
    }

    /// [`crate::Counters::settle`], synchronously.
    pub fn settle(&self, ticket: &Ticket, index: usize, delta: i64) {
        let Some(r) = ticket.reservations.get(index) else {
            return;
        };
        if ticket.redis || delta == 0 {
            return;
        }
        let now = self.now_ms() / r.window.millis();
        let mut rates = self.rates();
        let Some(slot) = rates.slots.get_mut(&*r.key) else {
            return;
        };
        if slot.window != r.window {
            return;
        }
        slot.roll(now);
        let count = if r.index == slot.index {
            &mut slot.cur
        } else if r.index + 1 == slot.index {
            &mut slot.prev
        } else {
            return; // that window no longer counts
        };
        *count = if delta >= 0 {
            count.saturating_add(delta.unsigned_abs())
        } else {
            count.saturating_sub(delta.unsigned_abs())
        };
    }

    /// [`crate::Counters::spend_add`], synchronously.
    pub fn spend_add(&self, key: &str, amount: f64, ttl: Duration) -> f64 {
        let amount = if amount.is_finite() { amount } else { 0.0 };
        let now = self.now_ms();
        let expires = now.saturating_add(millis(ttl));
        let mut spend = self.spend();
        spend.sweep(now);
        match spend.totals.get_mut(key) {
            Some((total, exp)) => {
                if *exp <= now {
                    *total = 0.0;
                }
                *total += amount;
                *exp = expires;
                *total
            }
            None => {
                spend.totals.insert(key.to_owned(), (amount, expires));
                amount
            }
        }
    }

    /// [`crate::Counters::spend_get`], synchronously.
    pub fn spend_get(&self, keys: &[&str]) -> Vec<Option<f64>> {
        let now = self.now_ms();
        let spend = self.spend();
        keys.iter()
            .map(|k| {
                spend
                    .totals
                    .get(*k)
                    .filter(|(_, exp)| *exp > now)
                    .map(|(total, _)| *total)
            })
            .collect()
    }

    /// [`crate::Counters::spend_seed`], synchronously.
    pub fn spend_seed(&self, key: &str, value: f64, ttl: Duration) {
        let now = self.now_ms();
        let expires = now.saturating_add(millis(ttl));
        let mut spend = self.spend();
        match spend.totals.get_mut(key) {
            Some(entry) if entry.1 > now => {}
            Some(entry) => *entry = (value, expires),
            None => {
                spend.totals.insert(key.to_owned(), (value, expires));
            }
        }
    }
}

impl Rates {
    /// A new counter for `key` (replacing one of another window) holding `take` in window
    /// `index`; the key, shared (allocated once per key).
    fn insert(&mut self, key: &str, window: Window, index: u64, take: u64) -> Arc<str> {
        let key: Arc<str> = Arc::from(key);
        let slot = Slot {
            key: Arc::clone(&key),
            window,
            index,
            cur: take,
            prev: 0,
        };
        self.slots.insert(Arc::clone(&key), slot);
        key
    }

    /// Drops keys whose windows no longer count, at most once a minute.
    fn sweep(&mut self, now: u64) {
        if now < self.next_sweep_ms {
            return;
        }
        self.next_sweep_ms = now.saturating_add(SWEEP_EVERY_MS);
        self.slots
            .retain(|_, s| s.index + 1 >= now / s.window.millis());
    }
}

impl Spend {
    fn sweep(&mut self, now: u64) {
        if now < self.next_sweep_ms {
            return;
        }
        self.next_sweep_ms = now.saturating_add(SWEEP_EVERY_MS);
        self.totals.retain(|_, (_, exp)| *exp > now);
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters() -> MemoryCounters {
        MemoryCounters::with_origin(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_006_400))
    }

    #[tokio::test(start_paused = true)]
    async fn keys_whose_windows_no_longer_count_are_swept() {
        let c = counters();
        for key in ["a", "b", "c"] {
            let limit = Limit {
                key,
                window: Window::Minute,
                max: 10,
                take: 1,
            };
            assert!(c.acquire(&[limit]).allowed);
        }
        assert_eq!(c.rates().slots.len(), 3);
        // One window later "a".."c" still weigh as the previous window.
        tokio::time::advance(Duration::from_secs(61)).await;
        let d = Limit {
            key: "d",
            window: Window::Day,
            max: 10,
            take: 1,
        };
        assert!(c.acquire(&[d]).allowed);
        assert_eq!(c.rates().slots.len(), 4);
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(c.acquire(&[d]).allowed);
        assert_eq!(c.rates().slots.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn expired_spend_totals_are_swept() {
        let c = counters();
        c.spend_add("a", 1.0, Duration::from_secs(10));
        tokio::time::advance(Duration::from_secs(61)).await;
        c.spend_add("b", 1.0, Duration::from_secs(10));
        assert_eq!(c.spend().totals.len(), 1);
    }
}
