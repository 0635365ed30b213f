//! The shared upstream HTTP client: one pooled hyper client over rustls (HTTP/1.1, and HTTP/2
//! where the host negotiates it via ALPN), resolving names with a [`FilteringResolver`].

pub mod resolver;

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::config::ServerSettings;
pub use resolver::{blocked_in, lookup_failed_in, Blocked, DnsError, FilteringResolver, Policy};

pub type UpstreamClient = Client<HttpsConnector<HttpConnector<FilteringResolver>>, Full<Bytes>>;

/// Builds the client from the server settings; every connection it opens resolves its host with
/// `resolver` (and so under its policy).
pub fn build_client(
    settings: &ServerSettings,
    resolver: FilteringResolver,
) -> Result<UpstreamClient, std::io::Error> {
    let mut http = HttpConnector::new_with_resolver(resolver);
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(settings.connect_timeout));
    http.set_keepalive(Some(Duration::from_secs(60)));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(settings.pool_idle_timeout)
        .pool_max_idle_per_host(settings.pool_max_idle_per_host)
        .build(https))
}

/// The body type of upstream responses.
pub type UpstreamBody = Incoming;
