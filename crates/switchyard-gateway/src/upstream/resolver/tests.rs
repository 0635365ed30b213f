//! The resolver against `switchyard_mock::dns::MockDns`: the SSRF policy on real answers,
//! DNS failures told apart from refusals, and the TTL cache.

use std::str::FromStr;
use std::time::{Duration, Instant};

use switchyard_mock::dns::MockDns;
use tower::ServiceExt;

use super::*;
use crate::ssrf::DEFAULT_TRUSTED_HOSTS;

const PUBLIC: &str = "93.184.216.34";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn ips(list: &[&str]) -> Vec<IpAddr> {
    list.iter().map(|s| ip(s)).collect()
}

fn settings(dns: &MockDns) -> DnsSettings {
    DnsSettings {
        nameservers: vec![dns.addr()],
        timeout: Some(Duration::from_millis(200)),
        attempts: Some(0),
        ..DnsSettings::default()
    }
}

/// The default trusted hosts (loopback) plus `extra`.
fn trusted(extra: &[&str]) -> TrustedHosts {
    TrustedHosts::parse(DEFAULT_TRUSTED_HOSTS.iter().chain(extra).copied()).unwrap()
}

fn public_only(extra: &[&str]) -> Policy {
    Policy::PublicOnly(trusted(extra))
}

async fn start(policy: Policy) -> (MockDns, FilteringResolver) {
    let dns = MockDns::start().await.unwrap();
    let resolver = FilteringResolver::new(&settings(&dns), policy);
    (dns, resolver)
}

fn blocked_host(r: Result<Vec<IpAddr>, DnsError>) -> String {
    match r {
        Err(DnsError::Blocked(b)) => b.host,
        other => panic!("expected Blocked, got {other:?}"),
    }
}

#[tokio::test]
async fn a_public_answer_is_allowed() {
    let (dns, r) = start(public_only(&[])).await;
    dns.set("api.public.test", ips(&[PUBLIC]), 60);
    assert_eq!(r.resolve("api.public.test").await.unwrap(), ips(&[PUBLIC]));
    // Names are matched case-insensitively, with or without the root dot.
    assert_eq!(r.resolve("API.Public.test.").await.unwrap(), ips(&[PUBLIC]));
}

#[tokio::test]
async fn an_internal_answer_is_blocked() {
    let (dns, r) = start(public_only(&[])).await;
    dns.set("evil.test", ips(&["10.0.0.5"]), 60);
    dns.set("metadata.test", ips(&["169.254.169.254"]), 60);
    dns.set("v6.test", ips(&["fd00::1"]), 60);
    dns.set("mapped.test", ips(&["::ffff:192.168.1.1"]), 60);
    for name in ["evil.test", "metadata.test", "v6.test", "mapped.test"] {
        assert_eq!(blocked_host(r.resolve(name).await), name);
    }
    let err = r.resolve("evil.test").await.unwrap_err().to_string();
    assert!(
        err.contains("evil.test") && err.contains("trusted_hosts"),
        "{err}"
    );
    assert!(!err.contains("10.0.0.5"), "the address is not told: {err}");
}

#[tokio::test]
async fn a_mixed_answer_keeps_only_the_public_addresses() {
    let (dns, r) = start(public_only(&[])).await;
    dns.set(
        "mixed.test",
        ips(&["10.0.0.5", PUBLIC, "192.168.1.1", "8.8.8.8"]),
        60,
    );
    assert_eq!(
        r.resolve("mixed.test").await.unwrap(),
        ips(&[PUBLIC, "8.8.8.8"])
    );
}

#[tokio::test]
async fn a_name_trusted_by_name_may_resolve_to_internal_addresses() {
    let (dns, r) = start(public_only(&["gpu-box.test", "*.corp.test"])).await;
    dns.set("gpu-box.test", ips(&["10.0.0.5"]), 60);
    dns.set("llm.corp.test", ips(&["192.168.7.7"]), 60);
    dns.set("other.test", ips(&["10.0.0.5"]), 60);
    assert_eq!(r.resolve("gpu-box.test").await.unwrap(), ips(&["10.0.0.5"]));
    assert_eq!(
        r.resolve("LLM.corp.test").await.unwrap(),
        ips(&["192.168.7.7"])
    );
    assert_eq!(blocked_host(r.resolve("other.test").await), "other.test");
}

#[tokio::test]
async fn a_trusted_network_is_allowed() {
    let (dns, r) = start(public_only(&["10.1.0.0/16"])).await;
    dns.set("inside.test", ips(&["10.1.2.3"]), 60);
    dns.set("outside.test", ips(&["10.2.0.1"]), 60);
    dns.set("both.test", ips(&["10.2.0.1", "10.1.2.3"]), 60);
    assert_eq!(r.resolve("inside.test").await.unwrap(), ips(&["10.1.2.3"]));
    assert_eq!(
        blocked_host(r.resolve("outside.test").await),
        "outside.test"
    );
    assert_eq!(r.resolve("both.test").await.unwrap(), ips(&["10.1.2.3"]));
}

#[tokio::test]
async fn policy_any_allows_internal_addresses() {
    let (dns, r) = start(Policy::Any).await;
    dns.set("vllm.test", ips(&["10.0.0.5", "fd00::1"]), 60);
    assert_eq!(r.resolve("vllm.test").await.unwrap(), ips(&["10.0.0.5"]));
}

#[tokio::test]
async fn localhost_comes_from_the_hosts_file_and_is_trusted_by_default() {
    let (dns, r) = start(public_only(&[])).await;
    let addrs = r.resolve("localhost").await.unwrap();
    assert!(
        !addrs.is_empty() && addrs.iter().all(|a| a.is_loopback()),
        "{addrs:?}"
    );
    assert_eq!(dns.queries("localhost"), 0);
}

#[tokio::test]
async fn ip_literals_are_judged_like_answers() {
    let (dns, r) = start(public_only(&[])).await;
    assert_eq!(r.resolve(PUBLIC).await.unwrap(), ips(&[PUBLIC]));
    assert_eq!(r.resolve("127.0.0.1").await.unwrap(), ips(&["127.0.0.1"]));
    assert_eq!(blocked_host(r.resolve("10.0.0.5").await), "10.0.0.5");
    assert_eq!(blocked_host(r.resolve("[fd00::1]").await), "fd00::1");
    assert_eq!(dns.queries("10.0.0.5"), 0);
}

#[tokio::test]
async fn nxdomain_and_servfail_are_lookup_failures_not_refusals() {
    let (dns, r) = start(public_only(&[])).await;
    dns.servfail("broken.test");
    for name in ["nowhere.test", "broken.test"] {
        match r.resolve(name).await {
            Err(DnsError::Lookup(l)) => assert_eq!(l.host, name),
            other => panic!("{name}: expected Lookup, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn an_unanswered_query_fails_as_a_lookup_in_bounded_time() {
    let (dns, r) = start(public_only(&[])).await;
    dns.silence("quiet.test");
    let started = Instant::now();
    let res = r.resolve("quiet.test").await;
    assert!(
        matches!(res, Err(DnsError::Lookup(_))),
        "expected Lookup, got {res:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(dns.queries("quiet.test") >= 1);
}

#[tokio::test]
async fn no_name_server_is_a_lookup_failure() {
    // Nothing listens on this port: the query is refused or times out.
    let dead = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = dead.local_addr().unwrap();
    drop(dead);
    let settings = DnsSettings {
        nameservers: vec![addr],
        timeout: Some(Duration::from_millis(200)),
        attempts: Some(0),
        ..DnsSettings::default()
    };
    let r = FilteringResolver::new(&settings, public_only(&[]));
    let started = Instant::now();
    let res = r.resolve("api.public.test").await;
    assert!(matches!(res, Err(DnsError::Lookup(_))), "{res:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn answers_are_cached_for_their_ttl() {
    let (dns, r) = start(public_only(&[])).await;
    dns.set("cached.test", ips(&[PUBLIC]), 60);
    for _ in 0..3 {
        assert_eq!(r.resolve("cached.test").await.unwrap(), ips(&[PUBLIC]));
    }
    assert_eq!(dns.queries("cached.test"), 1);
    // Clones share the cache.
    r.clone().resolve("cached.test").await.unwrap();
    assert_eq!(dns.queries("cached.test"), 1);
}

#[tokio::test]
async fn a_zero_ttl_answer_is_asked_again_every_time() {
    let (dns, r) = start(public_only(&[])).await;
    dns.set("fresh.test", ips(&[PUBLIC]), 0);
    r.resolve("fresh.test").await.unwrap();
    r.resolve("fresh.test").await.unwrap();
    assert_eq!(dns.queries("fresh.test"), 2);
}

#[tokio::test]
async fn max_ttl_and_min_ttl_clamp_the_cache_time() {
    let dns = MockDns::start().await.unwrap();
    dns.set("long.test", ips(&[PUBLIC]), 86_400);
    dns.set("short.test", ips(&[PUBLIC]), 0);
    let capped = FilteringResolver::new(
        &DnsSettings {
            max_ttl: Duration::ZERO,
            ..settings(&dns)
        },
        Policy::Any,
    );
    capped.resolve("long.test").await.unwrap();
    capped.resolve("long.test").await.unwrap();
    assert_eq!(dns.queries("long.test"), 2, "max_ttl 0 keeps nothing");

    let floored = FilteringResolver::new(
        &DnsSettings {
            min_ttl: Duration::from_secs(60),
            ..settings(&dns)
        },
        Policy::Any,
    );
    floored.resolve("short.test").await.unwrap();
    floored.resolve("short.test").await.unwrap();
    assert_eq!(dns.queries("short.test"), 1, "min_ttl keeps a TTL-0 answer");
}

#[tokio::test]
async fn dns_rebinding_is_refused_on_the_next_resolution() {
    let (dns, r) = start(public_only(&[])).await;
    dns.set("rebind.test", ips(&[PUBLIC]), 0);
    assert_eq!(r.resolve("rebind.test").await.unwrap(), ips(&[PUBLIC]));
    dns.set("rebind.test", ips(&["10.0.0.5"]), 0);
    assert_eq!(blocked_host(r.resolve("rebind.test").await), "rebind.test");
    assert_eq!(dns.queries("rebind.test"), 2);
}

#[tokio::test]
async fn policies_share_one_cache_and_filter_each_use() {
    let (dns, any) = start(Policy::Any).await;
    let client_hosts = any.with_policy(public_only(&[]));
    assert_eq!(client_hosts.policy(), &public_only(&[]));
    dns.set("shared.test", ips(&["10.0.0.5"]), 60);
    assert_eq!(
        any.resolve("shared.test").await.unwrap(),
        ips(&["10.0.0.5"])
    );
    assert_eq!(
        blocked_host(client_hosts.resolve("shared.test").await),
        "shared.test"
    );
    assert_eq!(
        dns.queries("shared.test"),
        1,
        "the cached answer is filtered again"
    );
}

#[tokio::test]
async fn the_connector_service_returns_allowed_addresses_without_a_port() {
    let (dns, r) = start(public_only(&[])).await;
    dns.set("svc.test", ips(&["10.0.0.5", PUBLIC]), 60);
    let addrs: Vec<SocketAddr> = r
        .clone()
        .oneshot(Name::from_str("svc.test").unwrap())
        .await
        .unwrap()
        .collect();
    assert_eq!(addrs, [SocketAddr::new(ip(PUBLIC), 0)]);
    dns.set("evil.test", ips(&["10.0.0.5"]), 60);
    let err = r
        .oneshot(Name::from_str("evil.test").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, DnsError::Blocked(_)), "{err:?}");
}

#[test]
fn the_policy_filter_without_dns() {
    let p = public_only(&["10.1.0.0/16"]);
    assert_eq!(p.filter("x.test", vec![]), Ok(vec![]), "nothing to refuse");
    assert_eq!(
        p.filter("x.test", ips(&["10.1.0.9", "10.9.0.1"])),
        Ok(ips(&["10.1.0.9"]))
    );
    assert_eq!(
        p.filter("x.test", ips(&["100.64.0.1"])),
        Err(Blocked {
            host: "x.test".into()
        })
    );
    assert_eq!(
        p.filter("sub.localhost", ips(&["10.9.0.1"])),
        Ok(ips(&["10.9.0.1"])),
        "*.localhost is trusted by name"
    );
    assert_eq!(
        Policy::Any.filter("x.test", ips(&["10.9.0.1"])),
        Ok(ips(&["10.9.0.1"]))
    );
}

/// An error that wraps another, as hyper-util's client and connector errors do.
#[derive(Debug, thiserror::Error)]
#[error("outer")]
struct Wrapper(#[source] Box<dyn StdError + Send + Sync>);

#[test]
fn refusals_and_lookup_failures_are_found_behind_wrappers() {
    let blocked = Wrapper(Box::new(Wrapper(Box::new(DnsError::from(Blocked {
        host: "evil.test".into(),
    })))));
    assert_eq!(
        blocked_in(&blocked).map(|b| b.host.as_str()),
        Some("evil.test")
    );
    assert!(lookup_failed_in(&blocked).is_none());

    let bare = Wrapper(Box::new(Blocked {
        host: "evil.test".into(),
    }));
    assert!(blocked_in(&bare).is_some());

    let failed = Wrapper(Box::new(DnsError::from(LookupFailed {
        host: "nowhere.test".into(),
        source: ResolveError::from("no record"),
    })));
    assert!(blocked_in(&failed).is_none());
    assert_eq!(
        lookup_failed_in(&failed).map(|l| l.host.as_str()),
        Some("nowhere.test")
    );
    let io = std::io::Error::other("connection refused");
    assert!(blocked_in(&io).is_none() && lookup_failed_in(&io).is_none());
}
