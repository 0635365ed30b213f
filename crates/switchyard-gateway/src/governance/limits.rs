//! Rate limits: requests and tokens per minute, hour or day, for keys, teams and virtual keys.
//!
//! A request takes one request and reserves its tokens up front (the body's length / 4 as an
//! estimate of the prompt, plus `max_tokens` / `max_completion_tokens`); when the response is
//! over, the reservation is corrected to the tokens the provider reported (streams included).
//! Every limit that applies is checked in one atomic step (one Redis round trip when the
//! counters are shared): a refusal by one takes nothing from the others.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http::{HeaderMap, HeaderValue};
use switchyard_limits::{Acquired, Counters, Limit, LimitState, Ticket};

use super::error::GovernanceError;
use super::policy::{LimitKind, OnStoreError, Policy, RateLimit, UsageLimit};

/// A rate limit with its counter's key.
#[derive(Debug)]
pub struct CompiledLimit {
    pub key: String,
    pub limit: RateLimit,
}

/// The limits of one key, team or virtual key, with their counter keys made once.
#[derive(Debug, Default)]
pub struct Compiled {
    /// `key`, `team` or `vk`.
    pub scope: &'static str,
    pub id: String,
    pub rate: Vec<CompiledLimit>,
    pub budget: Option<UsageLimit>,
}

impl Compiled {
    pub fn new(scope: &'static str, id: &str, policy: &Policy) -> Compiled {
        Compiled {
            scope,
            id: id.to_owned(),
            rate: policy
                .rate_limits
                .iter()
                .map(|l| CompiledLimit {
                    key: format!("{scope}:{id}:{}:{}", l.kind.as_str(), l.unit.as_str()),
                    limit: l.clone(),
                })
                .collect(),
            budget: policy.usage_limits.clone(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rate.is_empty() && self.budget.is_none()
    }

    /// What the scope is called in messages.
    pub fn scope_name(&self) -> &'static str {
        match self.scope {
            "key" => "gateway key",
            "team" => "team",
            _ => "virtual key",
        }
    }
}

/// What a request took, to be corrected when it is over.
#[derive(Debug, Default)]
pub struct Reservation {
    /// Taken from the in-process counters because the shared ones were unreachable.
    local: bool,
    ticket: Ticket,
    /// (index of a token limit in the ticket, tokens reserved).
    tokens: Vec<(usize, u64)>,
}

/// The counters behind rate limits, with an in-process stand-in for fail-open limits when the
/// shared ones are unreachable.
pub struct Limiter {
    counters: Counters,
    local: Option<Counters>,
    last_warning: AtomicU64,
}

impl Limiter {
    pub fn new(counters: Counters, shared: bool) -> Limiter {
        Limiter {
            counters,
            local: shared.then(Counters::memory),
            last_warning: AtomicU64::new(0),
        }
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Takes one request and `tokens` from every limit of `sets`. `Ok` carries the
    /// reservation and the `x-ratelimit-*` headers; `Err` the refusal and its headers.
    pub async fn acquire(
        &self,
        sets: &[&Compiled],
        tokens: u64,
    ) -> Result<(Reservation, HeaderMap), (GovernanceError, HeaderMap)> {
        let all: Vec<(&Compiled, &CompiledLimit)> = sets
            .iter()
            .flat_map(|s| s.rate.iter().map(move |l| (*s, l)))
            .collect();
        if all.is_empty() {
            return Ok((Reservation::default(), HeaderMap::new()));
        }
        let limits: Vec<Limit<'_>> = all
            .iter()
            .map(|(_, l)| Limit {
                key: &l.key,
                window: l.limit.unit.window(),
                max: l.limit.value,
                take: match l.limit.kind {
                    LimitKind::Requests => 1,
                    LimitKind::Tokens => tokens,
                },
            })
            .collect();
        let (acquired, local) = match self.counters.acquire(&limits).await {
            Ok(a) => (a, false),
            Err(e) => {
                if all
                    .iter()
                    .any(|(_, l)| l.limit.on_store_error == OnStoreError::Closed)
                {
                    tracing::warn!(error = %e, "rate limits refused a request: their shared counters are unreachable and a limit fails closed");
                    return Err((GovernanceError::CountersUnavailable, HeaderMap::new()));
                }
                self.warn_unshared(&e);
                let Some(local) = &self.local else {
                    return Ok((Reservation::default(), HeaderMap::new()));
                };
                match local.acquire(&limits).await {
                    Ok(a) => (a, true),
                    Err(_) => return Ok((Reservation::default(), HeaderMap::new())),
                }
            }
        };
        let headers = rate_headers(&all, &acquired);
        if !acquired.allowed {
            let i = acquired.refused.unwrap_or(0);
            let (set, l) = all[i.min(all.len() - 1)];
            let err = GovernanceError::RateLimited {
                scope: set.scope_name(),
                kind: l.limit.kind.as_str(),
                value: l.limit.value,
                per: match l.limit.unit {
                    super::policy::Unit::Rpm => "minute",
                    super::policy::Unit::Rph => "hour",
                    super::policy::Unit::Rpd => "day",
                },
                retry_after_ms: millis(acquired.retry_after),
            };
            let mut headers = headers;
            let secs = acquired.retry_after.as_secs_f64().ceil().max(1.0) as u64;
            headers.insert("retry-after", HeaderValue::from(secs));
            headers.insert(
                "retry-after-ms",
                HeaderValue::from(millis(acquired.retry_after)),
            );
            return Err((err, headers));
        }
        let tokens = all
            .iter()
            .enumerate()
            .filter(|(_, (_, l))| l.limit.kind == LimitKind::Tokens)
            .map(|(i, _)| (i, tokens))
            .collect();
        Ok((
            Reservation {
                local,
                ticket: acquired.ticket,
                tokens,
            },
            headers,
        ))
    }

    /// Corrects a reservation to the tokens really used.
    pub async fn settle(&self, r: &Reservation, used: u64) {
        if r.tokens.is_empty() {
            return;
        }
        let counters = match (r.local, &self.local) {
            (true, Some(l)) => l,
            _ => &self.counters,
        };
        for &(i, reserved) in &r.tokens {
            let delta = i64::try_from(used)
                .unwrap_or(i64::MAX)
                .saturating_sub(i64::try_from(reserved).unwrap_or(i64::MAX));
            if delta == 0 {
                continue;
            }
            if let Err(e) = counters.settle(&r.ticket, i, delta).await {
                self.warn_unshared(&e);
            }
        }
    }

    /// One warning every ten seconds at most while the shared counters are unreachable.
    fn warn_unshared(&self, e: &dyn std::fmt::Display) {
        let now = super::period::now_secs().max(0) as u64;
        let last = self.last_warning.load(Ordering::Relaxed);
        if now >= last + 10
            && self
                .last_warning
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(error = %e, "rate-limit counters unreachable: fail-open limits count in this process only until they are back");
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// `1m30s`, `2.5s`, `120ms`: OpenAI's reset format.
fn reset_text(d: Duration) -> String {
    let ms = millis(d);
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let s = ms / 1000;
    let (h, m, s, frac) = (s / 3600, s / 60 % 60, s % 60, ms % 1000);
    let secs = if frac == 0 {
        format!("{s}s")
    } else {
        format!("{s}.{}s", format!("{frac:03}").trim_end_matches('0'))
    };
    match (h, m) {
        (0, 0) => secs,
        (0, m) => format!("{m}m{secs}"),
        (h, m) => format!("{h}h{m}m{secs}"),
    }
}

/// `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`: of each kind, the limit with the
/// least room left.
fn rate_headers(all: &[(&Compiled, &CompiledLimit)], a: &Acquired) -> HeaderMap {
    let mut h = HeaderMap::new();
    for kind in [LimitKind::Requests, LimitKind::Tokens] {
        let tightest: Option<&LimitState> = all
            .iter()
            .zip(&a.states)
            .filter(|((_, l), _)| l.limit.kind == kind)
            .map(|(_, s)| s)
            .min_by_key(|s| s.remaining);
        if let Some(s) = tightest {
            let k = kind.as_str();
            let put = |h: &mut HeaderMap, name: String, v: String| {
                if let (Ok(n), Ok(v)) = (
                    http::HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_str(&v),
                ) {
                    h.insert(n, v);
                }
            };
            put(&mut h, format!("x-ratelimit-limit-{k}"), s.max.to_string());
            put(
                &mut h,
                format!("x-ratelimit-remaining-{k}"),
                s.remaining.to_string(),
            );
            put(
                &mut h,
                format!("x-ratelimit-reset-{k}"),
                reset_text(s.reset),
            );
        }
    }
    h
}

/// The tokens a request reserves: its prompt estimated from the body's length, plus the
/// output it allows.
pub fn estimate_tokens(body_len: usize, max_output: Option<u64>) -> u64 {
    (body_len as u64).div_ceil(4) + max_output.unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resets_read_like_openais() {
        assert_eq!(reset_text(Duration::from_millis(250)), "250ms");
        assert_eq!(reset_text(Duration::from_secs(1)), "1s");
        assert_eq!(reset_text(Duration::from_secs(90)), "1m30s");
        assert_eq!(reset_text(Duration::from_millis(2500)), "2.5s");
        assert_eq!(reset_text(Duration::from_secs(3 * 3600 + 60)), "3h1m0s");
    }

    #[test]
    fn the_estimate_counts_the_prompt_and_the_allowed_output() {
        assert_eq!(estimate_tokens(400, Some(100)), 200);
        assert_eq!(estimate_tokens(1, None), 1);
    }
}
