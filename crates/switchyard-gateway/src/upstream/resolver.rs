//! The one DNS resolver of every outbound connection, with the SSRF check at connect time.
//!
//! A [`FilteringResolver`] is what the pooled client's connector resolves names with
//! (`HttpConnector::new_with_resolver`), so the addresses that are checked are the addresses
//! that are dialled: a name cannot pass a check with a public answer and then be connected to
//! an internal one (DNS rebinding). It is built on `hickory-resolver`: `/etc/hosts` first (so
//! `localhost` works), then the system's name servers or the ones in `server.dns.nameservers`,
//! with a cache that keeps each answer for its TTL, clamped to `server.dns.min_ttl..=max_ttl`.
//! Cached answers are filtered again on every use.
//!
//! Each instance has a [`Policy`]: [`Policy::Any`] for hosts the operator configured (every
//! address allowed, still cached) or [`Policy::PublicOnly`] for hosts a client supplied. Under
//! `PublicOnly`, a name trusted by name in `server.trusted_hosts` may resolve anywhere; for any
//! other name, internal addresses ([`ip_is_internal`]) outside a trusted network are dropped,
//! and a name left with none fails with [`Blocked`]. [`FilteringResolver::with_policy`] gives a
//! second policy over the same cache.
//!
//! Failures are told apart so a caller can act on them: [`Blocked`] is an SSRF refusal (the
//! client's fault, terminal), [`LookupFailed`] is a DNS failure (NXDOMAIN, time-out, no name
//! server: a failed attempt that may fall back). Behind hyper-util's client error, find them
//! with [`blocked_in`] and [`lookup_failed_in`].
//!
//! IP literals in a URL never reach a resolver (hyper-util connects to them directly): they must
//! be checked before the request, as `crate::ssrf::check_custom_host` does.

use std::error::Error as StdError;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::{ResolveError, TokioResolver};
use hyper_util::client::legacy::connect::dns::Name;
use tower::Service;

use crate::config::DnsSettings;
use crate::ssrf::{ip_is_internal, TrustedHosts};

/// Which resolved addresses a connection may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Policy {
    /// Every address (hosts from the server's own config file).
    Any,
    /// Public addresses, addresses in a trusted network, and any address of a name trusted by
    /// name (hosts a client supplied).
    PublicOnly(TrustedHosts),
}

impl Policy {
    /// The addresses of `host` (lower case, no trailing dot) a connection may use, in the order
    /// given; `Blocked` when the policy leaves none of a non-empty answer.
    pub fn filter(&self, host: &str, ips: Vec<IpAddr>) -> Result<Vec<IpAddr>, Blocked> {
        let trusted = match self {
            Policy::Any => return Ok(ips),
            Policy::PublicOnly(trusted) => trusted,
        };
        if ips.is_empty() || trusted.trusts_name(host) {
            return Ok(ips);
        }
        let allowed: Vec<IpAddr> = ips
            .into_iter()
            .filter(|ip| !ip_is_internal(*ip) || trusted.trusts_ip(*ip))
            .collect();
        if allowed.is_empty() {
            return Err(Blocked {
                host: host.to_owned(),
            });
        }
        Ok(allowed)
    }
}

/// A name resolved only to internal addresses the policy does not allow (an SSRF refusal).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "host `{host}` resolves only to internal addresses; add it to server.trusted_hosts to allow it"
)]
pub struct Blocked {
    /// The host name as asked (lower case, no trailing dot); the addresses are not kept.
    pub host: String,
}

/// A name could not be resolved: NXDOMAIN, no address, a time-out, no usable name server.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot resolve `{host}`: {source}")]
pub struct LookupFailed {
    pub host: String,
    #[source]
    pub source: ResolveError,
}

/// Why a [`FilteringResolver`] gave no address.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DnsError {
    #[error(transparent)]
    Blocked(#[from] Blocked),
    #[error(transparent)]
    Lookup(#[from] LookupFailed),
}

/// The [`Blocked`] refusal somewhere in `err`'s source chain (for example behind
/// hyper-util's client error and its connector's `ConnectError`), if there is one.
pub fn blocked_in<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a Blocked> {
    chain(err).find_map(|e| {
        e.downcast_ref::<Blocked>()
            .or(match e.downcast_ref::<DnsError>() {
                Some(DnsError::Blocked(b)) => Some(b),
                _ => None,
            })
    })
}

/// The [`LookupFailed`] DNS failure somewhere in `err`'s source chain, if there is one.
pub fn lookup_failed_in<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a LookupFailed> {
    chain(err).find_map(|e| {
        e.downcast_ref::<LookupFailed>()
            .or(match e.downcast_ref::<DnsError>() {
                Some(DnsError::Lookup(l)) => Some(l),
                _ => None,
            })
    })
}

fn chain<'a>(
    err: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(err), |&e| e.source())
}

/// A caching DNS resolver that hands a connector only the addresses its [`Policy`] allows.
/// Cheap to clone; clones share the cache.
#[derive(Debug, Clone)]
pub struct FilteringResolver {
    resolver: Arc<TokioResolver>,
    policy: Arc<Policy>,
}

impl FilteringResolver {
    /// A resolver with the `server.dns` settings. With no `nameservers`, the system's
    /// configuration is read; if it cannot be, a warning is logged and only `/etc/hosts` names
    /// resolve (other lookups fail with [`LookupFailed`]).
    pub fn new(settings: &DnsSettings, policy: Policy) -> FilteringResolver {
        let mut builder = if settings.nameservers.is_empty() {
            match TokioResolver::builder_tokio() {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the system's DNS configuration; only /etc/hosts names will resolve (set server.dns.nameservers)");
                    TokioResolver::builder_with_config(
                        ResolverConfig::new(),
                        TokioConnectionProvider::default(),
                    )
                }
            }
        } else {
            let mut config = ResolverConfig::new();
            for addr in &settings.nameservers {
                for protocol in [Protocol::Udp, Protocol::Tcp] {
                    let mut ns = NameServerConfig::new(*addr, protocol);
                    ns.trust_negative_responses = true;
                    config.add_name_server(ns);
                }
            }
            TokioResolver::builder_with_config(config, TokioConnectionProvider::default())
        };
        let opts = builder.options_mut();
        opts.use_hosts_file = ResolveHosts::Always;
        opts.cache_size = settings.cache_size;
        opts.positive_min_ttl = Some(settings.min_ttl);
        opts.positive_max_ttl = Some(settings.max_ttl);
        opts.negative_max_ttl = Some(settings.max_ttl);
        if let Some(timeout) = settings.timeout {
            opts.timeout = timeout;
        }
        if let Some(attempts) = settings.attempts {
            opts.attempts = attempts;
        }
        FilteringResolver {
            resolver: Arc::new(builder.build()),
            policy: Arc::new(policy),
        }
    }

    /// The same resolver and cache under another policy (say, `PublicOnly` for client-supplied
    /// hosts beside `Any` for configured ones).
    pub fn with_policy(&self, policy: Policy) -> FilteringResolver {
        FilteringResolver {
            resolver: self.resolver.clone(),
            policy: Arc::new(policy),
        }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The addresses of `host` (a name or an IP literal) that the policy allows, from the cache
    /// while the answer's TTL lasts.
    pub async fn resolve(&self, host: &str) -> Result<Vec<IpAddr>, DnsError> {
        let host = host
            .trim_matches(['[', ']'])
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let looked_up = self.resolver.lookup_ip(host.as_str()).await;
        let ips: Vec<IpAddr> = match looked_up {
            Ok(lookup) => lookup.iter().collect(),
            Err(source) => return Err(LookupFailed { host, source }.into()),
        };
        if ips.is_empty() {
            let source = ResolveError::from("the answer has no address");
            return Err(LookupFailed { host, source }.into());
        }
        Ok(self.policy.filter(&host, ips)?)
    }
}

/// The future of one connector lookup.
pub type Resolving = Pin<Box<dyn Future<Output = Result<Addrs, DnsError>> + Send>>;

/// The addresses handed to the connector (port 0: the connector sets the URL's port).
pub type Addrs = std::vec::IntoIter<SocketAddr>;

/// What hyper-util's `HttpConnector::new_with_resolver` calls for every new connection.
impl Service<Name> for FilteringResolver {
    type Response = Addrs;
    type Error = DnsError;
    type Future = Resolving;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), DnsError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let ips = this.resolve(name.as_str()).await?;
            let addrs: Vec<SocketAddr> = ips.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect();
            Ok(addrs.into_iter())
        })
    }
}

#[cfg(test)]
mod tests;
