//! The pooled upstream client resolves through a `FilteringResolver`: its SSRF refusal happens
//! in the connector, before any connection, and is told apart from a DNS failure behind
//! hyper-util's client error. Names are answered by `switchyard_mock::dns::MockDns`; every
//! address dialled is on this machine.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use switchyard_gateway::config::DnsSettings;
use switchyard_gateway::ssrf::TrustedHosts;
use switchyard_gateway::upstream::{
    blocked_in, build_client, lookup_failed_in, FilteringResolver, Policy, UpstreamClient,
};
use switchyard_gateway::ServerSettings;
use switchyard_mock::dns::MockDns;
use switchyard_mock::MockServer;
use tokio::net::TcpListener;
use tower::ServiceExt;

fn client(dns: &MockDns) -> UpstreamClient {
    let settings = ServerSettings {
        dns: DnsSettings {
            nameservers: vec![dns.addr()],
            timeout: Some(Duration::from_millis(200)),
            attempts: Some(0),
            ..DnsSettings::default()
        },
        ..ServerSettings::default()
    };
    let resolver =
        FilteringResolver::new(&settings.dns, Policy::PublicOnly(TrustedHosts::default()));
    build_client(&settings, resolver).unwrap()
}

fn get(url: &str) -> Request<switchyard_gateway::upstream::RequestBody> {
    Request::get(url)
        .body(switchyard_gateway::upstream::full(Bytes::new()))
        .unwrap()
}

#[tokio::test]
async fn a_name_rebound_to_an_internal_address_is_refused_before_any_connect() {
    let dns = MockDns::start().await.unwrap();
    // A listener the request would reach if the refusal did not happen: on Linux a connection
    // to 0.0.0.0 (unspecified, so internal) goes to the local host.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    dns.set("rebind.test", vec!["0.0.0.0".parse().unwrap()], 0);

    let request = client(&dns).oneshot(get(&format!("http://rebind.test:{port}/v1/models")));
    let err = tokio::time::timeout(Duration::from_secs(5), request)
        .await
        .expect("refused at once, not connected to a listener that never answers")
        .err()
        .unwrap();
    let blocked = blocked_in(&err).unwrap_or_else(|| panic!("not a refusal: {err:?}"));
    assert_eq!(blocked.host, "rebind.test");
    assert!(err.is_connect(), "{err:?}");
    assert!(lookup_failed_in(&err).is_none());
    assert_eq!(dns.queries("rebind.test"), 1);
    let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
    assert!(accepted.is_err(), "nothing may connect");
}

#[tokio::test]
async fn the_client_resolves_allowed_names_through_the_resolver() {
    let dns = MockDns::start().await.unwrap();
    let upstream = MockServer::start("local").await;
    // Loopback is trusted by default.
    dns.set("local.test", vec!["127.0.0.1".parse().unwrap()], 60);
    let client = client(&dns);
    let url = format!("http://local.test:{}/v1/models", upstream.addr().port());
    for _ in 0..2 {
        let res = client.clone().oneshot(get(&url)).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert_eq!(
        dns.queries("local.test"),
        1,
        "one lookup, then the pool and the cache"
    );
}

#[tokio::test]
async fn a_dns_failure_is_a_lookup_failure_not_a_refusal() {
    let dns = MockDns::start().await.unwrap();
    let err = client(&dns)
        .oneshot(get("http://nowhere.test:9/"))
        .await
        .err()
        .unwrap();
    assert!(blocked_in(&err).is_none(), "{err:?}");
    let failed = lookup_failed_in(&err).unwrap_or_else(|| panic!("not a lookup failure: {err:?}"));
    assert_eq!(failed.host, "nowhere.test");
}
