//! The upstream HTTP clients: pooled hyper clients over rustls (HTTP/1.1, and HTTP/2 where the
//! host negotiates it via ALPN), resolving names with a [`FilteringResolver`] and decoding
//! compressed answers (gzip, deflate, brotli) from hosts that compress without being asked.
//!
//! There are two, [`Upstreams::operator`] and [`Upstreams::public`]: one resolver cache, two
//! policies, two connection pools. Hosts the operator configured may resolve anywhere; hosts a
//! client named only to public addresses (or the operator's `trusted_hosts`), checked when each
//! connection is made — so a DNS answer can't change between a check and the connect
//! (rebinding), and a client's host never reuses a connection pooled for the operator's.

pub mod headers;
pub mod resolver;

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{Either, Full, Limited};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use http::Request;
use tower::ServiceExt;
use tower_http::decompression::{Decompression, DecompressionBody};

use crate::config::ServerSettings;
pub use resolver::{blocked_in, lookup_failed_in, Blocked, DnsError, FilteringResolver, Policy};

/// One pooled client.
pub type UpstreamClient =
    Decompression<Client<HttpsConnector<HttpConnector<FilteringResolver>>, RequestBody>>;

/// A request body: bytes in hand (replayed on each retry), or a client's upload streamed
/// through as it arrives (`server.max_upload_size`), sent once.
pub type RequestBody = Either<Full<Bytes>, Limited<axum::body::Body>>;

/// A request body of bytes in hand.
pub fn full(bytes: Bytes) -> RequestBody {
    Either::Left(Full::new(bytes))
}

/// The error of an upstream request (hyper-util's, with the connector's cause inside).
pub type UpstreamError = hyper_util::client::legacy::Error;

/// The gateway's two clients (see the module doc).
#[derive(Clone)]
pub struct Upstreams {
    /// For hosts from the server's config and the catalogue.
    pub operator: UpstreamClient,
    /// For hosts a client chose (`custom_host`, a service account's `token_uri`).
    pub public: UpstreamClient,
}

impl Upstreams {
    /// Both clients, sharing one resolver cache (`server.dns`).
    pub fn new(settings: &ServerSettings) -> Result<Upstreams, std::io::Error> {
        let operator = FilteringResolver::new(&settings.dns, Policy::Any);
        let public = operator.with_policy(Policy::PublicOnly(settings.trusted_hosts.clone()));
        Ok(Upstreams {
            operator: build_client(settings, operator)?,
            public: build_client(settings, public)?,
        })
    }

    /// Sends `request` through the operator's client, or the public one when `client_host`.
    pub async fn send(
        &self,
        request: Request<RequestBody>,
        client_host: bool,
    ) -> Result<http::Response<UpstreamBody>, UpstreamError> {
        let client = if client_host {
            &self.public
        } else {
            &self.operator
        };
        client.clone().oneshot(request).await
    }
}

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
    let client = Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(settings.pool_idle_timeout)
        .pool_max_idle_per_host(settings.pool_max_idle_per_host)
        .build(https);
    // Requests say `accept-encoding: identity` (`engine::wire`), so nothing is advertised; an
    // answer compressed anyway is decoded and loses its `content-encoding`.
    Ok(Decompression::new(client))
}

/// The body type of upstream responses (decoded when the upstream compressed it).
pub type UpstreamBody = DecompressionBody<Incoming>;
