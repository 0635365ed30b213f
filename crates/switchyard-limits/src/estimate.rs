//! The sliding-window estimate, shared by both backends (the Redis script computes `fits` with the
//! same expression, in the same order, on the same doubles).
//!
//! Two fixed windows of length `W` approximate a sliding one: at `elapsed` into the current
//! window, `used = cur + prev × (W − elapsed) / W`. The previous window's weight falls linearly
//! to zero as the current window runs, and is whole again the instant a window rolls (the old
//! `cur` becomes `prev`), so the estimate is continuous across the boundary.

use std::time::Duration;

use crate::LimitState;

/// One limit's counts at one instant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Estimate {
    /// Taken in the current window.
    pub cur: u64,
    /// Taken in the previous window.
    pub prev: u64,
    /// Into the current window, in ms (below `window_ms`).
    pub elapsed_ms: u64,
    pub window_ms: u64,
}

impl Estimate {
    pub fn used(&self) -> f64 {
        self.cur as f64
            + self.prev as f64 * (self.window_ms - self.elapsed_ms) as f64 / self.window_ms as f64
    }

    /// Whether `take` fits under `max` (refused when `used + take > max`).
    pub fn fits(&self, max: u64, take: u64) -> bool {
        self.used() + take as f64 <= max as f64
    }

    /// The state before any take: what is left (rounded down) and when the window ends.
    pub fn state(&self, max: u64) -> LimitState {
        LimitState {
            max,
            // `as` saturates: negative to 0, beyond u64 to u64::MAX.
            remaining: (max as f64 - self.used()).floor() as u64,
            reset: Duration::from_millis(self.window_ms - self.elapsed_ms),
        }
    }

    /// For a refused take: the ms until the estimate admits it, if nothing else is taken. While
    /// the current window runs only the previous window's weight falls; when `cur + take` can't
    /// fit before the roll, the wait runs into the next window, where the current count becomes
    /// the falling weight. At least 1 ms, at most two windows (a take above `max` never fits).
    pub fn retry_after_ms(&self, max: u64, take: u64) -> u64 {
        let w = self.window_ms;
        let to_roll = w - self.elapsed_ms;
        let wait = match max.checked_sub(take) {
            // Never fits: the end of the next window.
            None => to_roll + w,
            // Fits in this window once the previous window's weight has fallen to `room`:
            // `prev × (W − elapsed − t) / W ≤ room`.
            Some(free) if self.cur <= free => {
                let room = free - self.cur;
                match scaled(room, w, self.prev) {
                    Some(keep) => to_roll.saturating_sub(keep),
                    None => 0,
                }
            }
            // Fits after the roll once this window's count has fallen to `free`:
            // `cur × (W − elapsed') / W ≤ free`.
            Some(free) => match scaled(free, w, self.cur) {
                Some(keep) => to_roll + w.saturating_sub(keep),
                None => to_roll,
            },
        };
        wait.clamp(1, 2 * w)
    }
}

/// `floor(room × w / count)`, `None` for a zero count (any time fits).
fn scaled(room: u64, w: u64, count: u64) -> Option<u64> {
    if count == 0 {
        return None;
    }
    let v = u128::from(room) * u128::from(w) / u128::from(count);
    Some(u64::try_from(v).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: u64 = 60_000;

    fn at(cur: u64, prev: u64, elapsed_ms: u64) -> Estimate {
        Estimate {
            cur,
            prev,
            elapsed_ms,
            window_ms: W,
        }
    }

    /// The smallest wait (ms, by brute force) after which the take fits.
    fn brute_wait(e: Estimate, max: u64, take: u64) -> Option<u64> {
        (0..=2 * W).find(|&t| {
            let el = e.elapsed_ms + t;
            let later = if el < W {
                at(e.cur, e.prev, el)
            } else if el < 2 * W {
                at(0, e.cur, el - W)
            } else {
                at(0, 0, el - 2 * W)
            };
            later.fits(max, take)
        })
    }

    #[test]
    fn previous_window_weight_falls_linearly() {
        assert_eq!(at(0, 100, 0).used(), 100.0);
        assert_eq!(at(0, 100, 30_000).used(), 50.0);
        assert_eq!(at(10, 100, 45_000).used(), 35.0);
        assert!(at(10, 100, 45_000).fits(40, 5));
        assert!(!at(10, 100, 45_000).fits(40, 6));
    }

    #[test]
    fn state_rounds_remaining_down_and_resets_at_window_end() {
        let s = at(1, 3, 20_000).state(10); // used 3
        assert_eq!(s.remaining, 7);
        assert_eq!(s.reset, Duration::from_secs(40));
        assert_eq!(at(1, 1, 20_000).state(10).remaining, 8); // used 1.67
        assert_eq!(at(20, 0, 0).state(10).remaining, 0);
    }

    #[test]
    fn retry_after_is_the_first_instant_the_estimate_admits() {
        let cases = [
            (at(5, 0, 0), 5, 1),
            (at(5, 0, 59_999), 5, 1),
            (at(0, 10, 5_000), 10, 1),
            (at(3, 10, 10_000), 10, 2),
            (at(3, 7, 59_000), 10, 7),
            (at(10, 10, 30_000), 10, 1),
            (at(7, 3, 1), 10, 10),
            (at(1000, 0, 0), 1000, 999),
            (at(999, 1000, 12_345), 1000, 1000),
        ];
        for (e, max, take) in cases {
            assert!(!e.fits(max, take), "{e:?} {max} {take}");
            let want = brute_wait(e, max, take).unwrap();
            assert_eq!(
                e.retry_after_ms(max, take),
                want.max(1),
                "{e:?} {max} {take}"
            );
        }
    }

    #[test]
    fn a_take_above_max_waits_at_most_two_windows() {
        assert_eq!(at(0, 0, 0).retry_after_ms(10, 11), 2 * W);
        assert_eq!(at(0, 0, 20_000).retry_after_ms(10, 11), W + 40_000);
    }
}
