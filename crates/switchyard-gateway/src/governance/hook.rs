//! Governance in the pipeline.
//!
//! | phase | what |
//! |---|---|
//! | on request | the key's model and route globs; its and its team's budgets (412) and rate limits (429) |
//! | per attempt | the key's provider, virtual-key and model globs for the target (412); the target's virtual key's budget and limits (429) — refusals fail the target, so a fallback moves on |
//! | response head | `x-switchyard-cost-usd` (a whole body's usage is known), `x-ratelimit-*` |
//! | on complete | token reservations settled to the usage reported; cost and tokens charged to the key, team and answering virtual key |
//!
//! Without gateway keys and without limited virtual keys, only the response head runs (the
//! cost header: one price lookup).

use std::fmt::Write as _;
use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue};
use switchyard_types::usage::TokenUsage;

use super::auth::Principal;
use super::error::GovernanceError;
use super::limits::{estimate_tokens, Compiled, Reservation};
use super::policy::{allowed, LimitKind, Policy};
use super::spend::Used;
use super::Governance;
use crate::context::RequestContext;
use crate::pipeline::{AttemptDecision, EarlyAnswer, Hook, HookFuture, Phases, RequestRecord};
use crate::routing::tree::{Leaf, Node};

/// Response header: what the response cost, in US dollars (from the price table).
pub const COST_HEADER: &str = "x-switchyard-cost-usd";
/// [`COST_HEADER`] as a header name: inserting by `&str` parses and hashes it every time.
static COST_HEADER_NAME: HeaderName = HeaderName::from_static(COST_HEADER);

/// The hook.
pub struct GovernanceHook(pub Arc<Governance>);

/// What the on-request phase took for the key and team (scratch).
#[derive(Clone)]
struct KeyCharge {
    sets: Vec<Arc<Compiled>>,
    reservation: Arc<Reservation>,
}

/// What the per-attempt phase took for targets' virtual keys (scratch).
#[derive(Clone, Default)]
struct TargetCharges(Vec<(Arc<str>, Arc<Reservation>)>);

/// A governance refusal's code (scratch), for metrics and the log.
#[derive(Clone, Copy, Debug)]
pub struct Refused(pub &'static str);

/// `x-ratelimit-*` headers for the response (scratch).
#[derive(Clone)]
struct RateHeaders(HeaderMap);

fn refusal(req: &RequestContext, e: &GovernanceError, mut headers: HeaderMap) -> EarlyAnswer {
    req.with_scratch(|s| s.insert(Refused(e.code())));
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    EarlyAnswer {
        status: e.status_code(),
        headers,
        body: e.envelope().to_bytes(),
    }
}

/// The policies a key answers to: its own and its team's.
fn policies(p: &Principal) -> Vec<&Policy> {
    match p.key() {
        Some(k) => std::iter::once(&k.policy)
            .chain(k.team.as_ref().map(|t| &t.policy))
            .collect(),
        None => Vec::new(),
    }
}

fn check_access(
    p: &Principal,
    what: &'static str,
    name: &str,
    globs: impl Fn(&Policy) -> &Option<Vec<String>>,
) -> Result<(), GovernanceError> {
    if policies(p).iter().all(|pol| allowed(globs(pol), name)) {
        Ok(())
    } else {
        Err(GovernanceError::NotAllowed {
            what,
            name: name.to_owned(),
        })
    }
}

/// The `max_tokens` a request allows (only read when a token limit applies).
fn max_output(req: &RequestContext) -> Option<u64> {
    let p = req.params()?;
    ["max_completion_tokens", "max_tokens", "max_output_tokens"]
        .iter()
        .find_map(|k| p.get(*k)?.as_u64())
}

fn tokens_to_reserve(req: &RequestContext, sets: &[&Compiled]) -> u64 {
    let any_tokens = sets
        .iter()
        .any(|s| s.rate.iter().any(|l| l.limit.kind == LimitKind::Tokens));
    if any_tokens {
        estimate_tokens(req.body.len(), max_output(req))
    } else {
        0
    }
}

impl GovernanceHook {
    async fn admit(&self, req: &RequestContext) -> Option<EarlyAnswer> {
        let Some(principal @ Principal::Key(key)) = &req.principal else {
            return None;
        };
        if let Some(m) = &req.model {
            if let Err(e) = check_access(principal, "model", m, |p| &p.models) {
                return Some(refusal(req, &e, HeaderMap::new()));
            }
        }
        if let Some(r) = &req.route_name {
            if let Err(e) = check_access(principal, "route", r, |p| &p.routes) {
                return Some(refusal(req, &e, HeaderMap::new()));
            }
        }
        // Every request of a key is charged (its spend is recorded); only limits are checked.
        let sets: Vec<Arc<Compiled>> = std::iter::once(key.limits.clone())
            .chain(key.team.as_ref().map(|t| t.limits.clone()))
            .collect();
        let refs: Vec<&Compiled> = sets
            .iter()
            .map(|s| &**s)
            .filter(|s| !s.is_empty())
            .collect();
        if refs.is_empty() {
            req.with_scratch(|s| {
                s.insert(KeyCharge {
                    sets: sets.clone(),
                    reservation: Arc::default(),
                })
            });
            return None;
        }
        let tokens = tokens_to_reserve(req, &refs);
        // Budgets and limits at once: with shared counters, one round trip's wait instead of
        // two (a request refused for its budget still took its one request from the limits).
        let (budget, limits) = tokio::join!(
            self.0.budgets.check(&refs),
            self.0.limiter.acquire(&refs, tokens)
        );
        if let Err(e) = budget {
            if let Ok((reservation, _)) = limits {
                // Its tokens go back; its one request stays counted.
                let gov = self.0.clone();
                tokio::spawn(async move { gov.limiter.settle(&reservation, 0).await });
            }
            return Some(refusal(req, &e, HeaderMap::new()));
        }
        match limits {
            Ok((reservation, headers)) => {
                req.with_scratch(|s| {
                    s.insert(KeyCharge {
                        sets: sets.clone(),
                        reservation: Arc::new(reservation),
                    });
                    if !headers.is_empty() {
                        s.insert(RateHeaders(headers));
                    }
                });
                None
            }
            Err((e, headers)) => Some(refusal(req, &e, headers)),
        }
    }

    async fn target(&self, req: &RequestContext, leaf: &Leaf, path: &str) -> AttemptDecision {
        if let Some(p @ Principal::Key(_)) = &req.principal {
            let model = leaf.model_sent(req.model_rewrite.as_deref().or(req.model.as_deref()));
            let checks = [
                check_access(p, "provider", &leaf.provider.slug, |p| &p.providers),
                match &leaf.virtual_key {
                    Some(vk) => check_access(p, "virtual key", &vk.name, |p| &p.virtual_keys),
                    None => Ok(()),
                },
                match &model {
                    Some(m) => check_access(p, "model", m, |p| &p.models),
                    None => Ok(()),
                },
            ];
            if let Some(Err(e)) = checks.into_iter().find(Result::is_err) {
                return AttemptDecision::Fail(refusal(req, &e, HeaderMap::new()));
            }
        }
        let Some(vk) = leaf.virtual_key.as_ref().filter(|v| !v.limits.is_empty()) else {
            return AttemptDecision::Proceed;
        };
        let refs = [&*vk.limits];
        if let Err(e) = self.0.budgets.check(&refs).await {
            return AttemptDecision::Fail(refusal(req, &e, HeaderMap::new()));
        }
        let tokens = tokens_to_reserve(req, &refs);
        match self.0.limiter.acquire(&refs, tokens).await {
            Ok((reservation, _)) => {
                req.with_scratch(|s| {
                    s.get_or_insert_default::<TargetCharges>()
                        .0
                        .push((path.into(), Arc::new(reservation)));
                });
                AttemptDecision::Proceed
            }
            Err((e, headers)) => AttemptDecision::Fail(refusal(req, &e, headers)),
        }
    }
}

/// `0.000123`: dollars with up to ten decimals, trailing zeros trimmed.
///
/// Written from the whole number of 1e-10 dollars, as two integers: a float formatted with a
/// precision is printed digit by digit from its exact value (about a thousand instructions, on
/// every priced answer). The two can differ in the tenth decimal when the float sits on a
/// rounding boundary; the header is an estimate to far fewer places than that.
fn dollars(c: f64) -> String {
    const SCALE: u64 = 10_000_000_000;
    let units = (c * 1e10).round();
    // Costs are non-negative and far below 1e8 dollars; anything else is printed the slow way.
    if !(0.0..1e18).contains(&units) {
        let s = format!("{c:.10}");
        let s = s.trim_end_matches('0');
        return s.strip_suffix('.').unwrap_or(s).to_owned();
    }
    // In range (checked above): exact in u64.
    let units = units as u64;
    let (whole, mut frac) = (units / SCALE, units % SCALE);
    let mut out = String::with_capacity(24);
    let _ = write!(out, "{whole}");
    if frac != 0 {
        let mut digits = 10;
        while frac % 10 == 0 {
            frac /= 10;
            digits -= 1;
        }
        let _ = write!(out, ".{frac:0digits$}");
    }
    out
}

impl Hook for GovernanceHook {
    fn name(&self) -> &'static str {
        "governance"
    }

    fn phases(&self) -> Phases {
        let limits = self.0.auth_enabled()
            || self
                .0
                .registry
                .snapshot()
                .keys
                .values()
                .any(|v| !v.limits.is_empty());
        Phases {
            on_request: self.0.auth_enabled(),
            per_attempt: limits,
            response_head: true,
            on_complete: limits,
            ..Phases::default()
        }
    }

    fn on_request<'a>(
        &'a self,
        req: &'a RequestContext,
        _route: &'a Node,
    ) -> HookFuture<'a, Option<EarlyAnswer>> {
        Box::pin(self.admit(req))
    }

    fn wants_attempt(&self, leaf: &Leaf) -> bool {
        self.0.auth_enabled()
            || leaf
                .virtual_key
                .as_ref()
                .is_some_and(|v| !v.limits.is_empty())
    }

    fn per_attempt<'a>(
        &'a self,
        req: &'a RequestContext,
        leaf: &'a Leaf,
        path: &'a str,
    ) -> HookFuture<'a, AttemptDecision> {
        Box::pin(self.target(req, leaf, path))
    }

    fn response_head(&self, record: &RequestRecord, headers: &mut HeaderMap) {
        if let Some(RateHeaders(h)) = record.extensions.get::<RateHeaders>() {
            for (k, v) in h {
                headers.insert(k.clone(), v.clone());
            }
        }
        if record.status.is_success() {
            if let Some(c) = self.0.cost(record) {
                if let Ok(v) = HeaderValue::from_str(&dollars(c)) {
                    headers.insert(COST_HEADER_NAME.clone(), v);
                }
            }
        }
    }

    fn on_complete(&self, record: &RequestRecord) {
        let key = record.extensions.get::<KeyCharge>().cloned();
        let targets = record.extensions.get::<TargetCharges>().cloned();
        let answered_vk = record
            .leaf
            .as_ref()
            .and_then(|l| l.virtual_key.as_ref())
            .map(|v| v.limits.clone());
        if key.is_none() && targets.is_none() && answered_vk.is_none() {
            return;
        }
        let ok = record.status.is_success();
        let usage = if ok {
            record.usage.unwrap_or_default()
        } else {
            TokenUsage::default()
        };
        let used_tokens = usage.input.saturating_add(usage.output);
        let cost = if ok {
            self.0.cost(record).unwrap_or(0.0)
        } else {
            0.0
        };
        let target = record.target.clone();
        let gov = self.0.clone();
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut sets: Vec<Arc<Compiled>> = key.as_ref().map(|k| k.sets.clone()).unwrap_or_default();
        sets.extend(answered_vk);
        rt.spawn(async move {
            if let Some(k) = &key {
                gov.limiter.settle(&k.reservation, used_tokens).await;
            }
            for (path, r) in targets.map(|t| t.0).unwrap_or_default() {
                let used = if target.as_deref() == Some(&*path) {
                    used_tokens
                } else {
                    0
                };
                gov.limiter.settle(&r, used).await;
            }
            if !sets.is_empty() {
                gov.budgets.charge(&sets, Used { cost, usage }).await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_print_without_trailing_zeros() {
        assert_eq!(dollars(0.000_123), "0.000123");
        assert_eq!(dollars(2.5), "2.5");
        assert_eq!(dollars(0.0), "0");
        assert_eq!(dollars(12.000_000_000_1), "12.0000000001");
        assert_eq!(dollars(3.0), "3");
        assert_eq!(dollars(0.1 + 0.2), "0.3", "to ten places");
        assert_eq!(dollars(0.000_000_000_04), "0", "below a tenth decimal");
    }

    #[test]
    fn dollars_out_of_the_fast_range_still_print() {
        assert_eq!(dollars(-0.5), "-0.5");
        assert_eq!(dollars(2e8), "200000000");
        assert_eq!(dollars(f64::NAN), "NaN");
    }
}
