//! Retry timing: exponential backoff with jitter, and the upstream's `retry-after` hints.

use std::time::{Duration, SystemTime};

use http::HeaderMap;

/// The wait before retry number `retry` (1-based): `base * 2^(retry-1)`, capped at `max`, with
/// "equal jitter" — half fixed, half random (`jitter` uniform in `[0, 1)`) — so synchronised
/// clients spread out while a retry never comes sooner than half the nominal wait.
pub fn backoff_delay(retry: u32, base: Duration, max: Duration, jitter: f64) -> Duration {
    let exp = retry.saturating_sub(1).min(30);
    let nominal = base.saturating_mul(1u32 << exp).min(max);
    let half = nominal / 2;
    half + half.mul_f64(jitter.clamp(0.0, 1.0))
}

/// How long the upstream asked to wait: `retry-after-ms`, `x-ms-retry-after-ms` (milliseconds),
/// or `retry-after` (seconds, or an HTTP date relative to `now`). The upstream may be any host a
/// client named, so every value is untrusted: a wait too long to represent (`1e300`, `inf`) is
/// [`Duration::MAX`] — longer than any cap, so the caller returns the response instead of
/// waiting — and negative or unparsable values are ignored.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
        if let Some(ms) = headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|ms| !ms.is_nan() && *ms >= 0.0)
        {
            return Some(Duration::try_from_secs_f64(ms / 1000.0).unwrap_or(Duration::MAX));
        }
    }
    let v = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn backoff_doubles_and_caps() {
        let base = Duration::from_millis(100);
        let max = Duration::from_millis(1000);
        assert_eq!(backoff_delay(1, base, max, 1.0), Duration::from_millis(100));
        assert_eq!(backoff_delay(2, base, max, 1.0), Duration::from_millis(200));
        assert_eq!(backoff_delay(3, base, max, 1.0), Duration::from_millis(400));
        assert_eq!(
            backoff_delay(5, base, max, 1.0),
            Duration::from_millis(1000)
        );
        assert_eq!(
            backoff_delay(60, base, max, 1.0),
            Duration::from_millis(1000)
        );
    }

    #[test]
    fn jitter_keeps_at_least_half_the_wait() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(10);
        assert_eq!(backoff_delay(1, base, max, 0.0), Duration::from_millis(50));
        assert_eq!(backoff_delay(2, base, max, 0.5), Duration::from_millis(150));
    }

    #[test]
    fn retry_after_forms_are_understood() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(3)));
        h.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_millis(250)));
        let mut h = HeaderMap::new();
        let later = httpdate::fmt_http_date(now + Duration::from_secs(10));
        h.insert("retry-after", HeaderValue::from_str(&later).unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(10)));
        h.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }

    #[test]
    fn absurd_retry_after_values_never_panic() {
        let now = SystemTime::UNIX_EPOCH;
        let ms = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert("retry-after-ms", HeaderValue::from_static(v));
            retry_after(&h, now)
        };
        assert_eq!(ms("1e300"), Some(Duration::MAX));
        assert_eq!(ms("inf"), Some(Duration::MAX));
        assert_eq!(ms("1.9e22"), Some(Duration::MAX));
        assert_eq!(
            ms("1.8e19"),
            Some(Duration::from_secs(18_000_000_000_000_000))
        );
        assert_eq!(ms("NaN"), None);
        assert_eq!(ms("-5"), None);
        assert_eq!(ms("0.5"), Some(Duration::from_micros(500)));
        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            HeaderValue::from_static("99999999999999999999999"),
        );
        assert_eq!(
            retry_after(&h, now),
            None,
            "too large for u64 and not a date"
        );
        h.insert(
            "retry-after",
            HeaderValue::from_static("18446744073709551615"),
        );
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(u64::MAX)));
    }
}
