//! `default.validUrls` with Portkey's network checks, replacing the pure crate's syntax-only
//! one: each URL found is valid when its syntax is and it answers an HTTP `HEAD` with a 2xx
//! (Portkey's default), or, with `onlyDNS: true`, when its host resolves.
//!
//! Parameters: `onlyDNS` (false), `not` (false), and `timeout` (milliseconds per URL, default
//! 3000, at most 60000 — not in Portkey). At most [`MAX_ONLINE`] distinct URLs are checked
//! over the network, concurrently; any beyond them by syntax only (`data.note` says so).
//! `HEAD` requests go through the client pool for hosts a client named, so a URL of an
//! internal address is refused when the connection is made (and counts as invalid), like a
//! client's `custom_host`.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use http::{Method, Uri};
use serde_json::Value;
use switchyard_guardrails::checks::valid_urls::{self, find_urls, is_valid_url, judge};
use switchyard_guardrails::{
    text, Check, CheckContext, CheckError, CheckFuture, CheckOutcome, PreparedCheck, Registry,
};

use super::outbound;

/// The most URLs of one text checked over the network.
pub const MAX_ONLINE: usize = 20;

pub(super) fn register(r: &mut Registry) {
    r.register(Arc::new(ValidUrls));
}

struct ValidUrls;

struct Prepared {
    only_dns: bool,
    not: bool,
    timeout: Duration,
}

fn flag(params: &Value, name: &str) -> Result<bool, CheckError> {
    match params.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(CheckError::InvalidParameters(format!(
            "`{name}` must be true or false"
        ))),
    }
}

impl Check for ValidUrls {
    fn id(&self) -> &'static str {
        "default.validUrls"
    }

    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
        Ok(Arc::new(Prepared {
            only_dns: flag(params, "onlyDNS")?,
            not: flag(params, "not")?,
            timeout: outbound::timeout(params)?,
        }))
    }
}

impl PreparedCheck for Prepared {
    fn run<'a>(&'a self, cx: &'a CheckContext<'a>) -> CheckFuture<'a> {
        Box::pin(self.check(cx))
    }
}

impl Prepared {
    async fn check(&self, cx: &CheckContext<'_>) -> Result<CheckOutcome, CheckError> {
        let text = text::require_text(cx, "Missing text to analyze")?;
        let found = find_urls(&text);
        let mut seen = HashSet::new();
        let distinct: Vec<&str> = found.iter().copied().filter(|u| seen.insert(*u)).collect();
        let (online, offline) = distinct.split_at(distinct.len().min(MAX_ONLINE));
        let checked = join_all(online.iter().map(|u| self.reachable(u))).await;
        let mut valid = Vec::new();
        let mut invalid = Vec::new();
        for (url, ok) in online.iter().zip(checked) {
            if ok {
                valid.push(*url);
            } else {
                invalid.push(*url);
            }
        }
        for url in offline {
            if is_valid_url(url) {
                valid.push(*url);
            } else {
                invalid.push(*url);
            }
        }
        let method = if self.only_dns {
            "DNS lookup"
        } else {
            "HTTP request"
        };
        let note = (!offline.is_empty()).then_some(
            "More URLs than are checked over the network: those beyond the first 20 were checked by syntax only.",
        );
        Ok(judge(
            &valid,
            &invalid,
            self.not,
            valid_urls::Method {
                used: method,
                requested: method,
                note,
            },
            &text,
        ))
    }

    /// Whether `url` is well formed and reachable (resolves, with `onlyDNS`).
    async fn reachable(&self, url: &str) -> bool {
        if !is_valid_url(url) {
            return false;
        }
        let Ok(uri) = url.parse::<Uri>() else {
            return false;
        };
        if self.only_dns {
            let Some(host) = uri.host() else {
                return false;
            };
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let port = uri.port_u16().unwrap_or(80);
            let looked =
                tokio::time::timeout(self.timeout, tokio::net::lookup_host((host, port))).await;
            return match looked {
                Ok(Ok(mut addrs)) => addrs.next().is_some(),
                _ => false,
            };
        }
        matches!(
            outbound::send("URL", Method::HEAD, &uri, &[], None, self.timeout, 64 << 10).await,
            Ok((status, _)) if status.is_success()
        )
    }
}
