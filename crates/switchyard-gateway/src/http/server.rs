//! The HTTP server: routes, shared state, and graceful shutdown.
//!
//! Request path (see docs/architecture.md): axum router → handler reads the body once (size
//! limit) → `x-portkey-*` headers parsed → route resolved (header config, provider header, model
//! alias, `provider/model`, default) → engine walks the tree (retries, fallback, loadbalance,
//! conditional) → response with Portkey's headers → one access-log line.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use std::time::Duration;

use axum::routing::{any, get, post};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use switchyard_types::{ErrorEnvelope, ErrorKind};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Semaphore;

use super::admin::status::Features;
use super::layers::{LoadShedLayer, RequestIdLayer};
use super::reload::{Live, Reloader};
use super::route::RouteCache;
use super::{admin, console, handlers};
use crate::cache::semantic::embed::Embedder;
use crate::cache::semantic::Semantic;
use crate::cache::store::{RedisStore, Store};
use crate::cache::CacheHook;
use crate::config::stores::CacheBackend;
use crate::config::GatewayConfig;
use crate::engine::Engine;
use crate::governance::hook::GovernanceHook;
use crate::governance::Governance;
use crate::guardrails::GuardrailHook;
use crate::pipeline::access_log::AccessLog;
use crate::pipeline::{Hook, Pipeline};
use crate::responses::hook::ResponsesHook;
use crate::responses::Responses;
use crate::telemetry::live::LiveFeed;
use crate::telemetry::metrics::{Metrics, MetricsHook};
use crate::upstream::Upstreams;

/// State shared by every request.
pub struct App {
    pub config: GatewayConfig,
    pub engine: Arc<Engine>,
    /// The hooks of every pipeline phase (`crate::pipeline`).
    pub pipeline: Arc<Pipeline>,
    /// Trees built from request headers, reused while they are sent again.
    pub routes: RouteCache,
    /// Where cached answers live (the admin API clears it).
    pub cache: Arc<Store>,
    /// The semantic cache's index, when configured (the admin API clears it too).
    pub semantic: Option<Arc<Semantic>>,
    /// Gateway keys, virtual keys, limits, budgets and cost.
    pub governance: Arc<Governance>,
    /// Conversation state of the Responses API (`crate::responses`).
    pub responses: Arc<Responses>,
    /// Providers' model lists for `GET /v1/models` (`super::models`).
    pub model_lists: super::models::ListCache,
    /// Prometheus metrics (`None`: `metrics.enabled: false`).
    pub metrics: Option<Arc<Metrics>>,
    /// Requests as they complete, for `GET /admin/live` (`None`: the admin API is off).
    pub live: Option<Arc<LiveFeed>>,
    /// What is on, for `GET /admin/info`.
    pub features: Features,
    /// Shutting down: `/ready` answers 503 so load balancers stop sending new requests.
    pub draining: std::sync::atomic::AtomicBool,
}

/// The router, for serving or for in-process tests.
pub fn router(app: Arc<App>) -> Router {
    let shed = LoadShedLayer::new(app.config.server.max_concurrent_requests);
    Router::new()
        .route("/health", get(handlers::health))
        .route(
            "/ready",
            get(super::ready::ready).fallback(handlers::method_not_allowed),
        )
        .route(
            "/metrics",
            get(super::metrics::metrics).fallback(handlers::method_not_allowed),
        )
        .route(
            "/v1/chat/completions",
            post(handlers::chat_completions).fallback(handlers::method_not_allowed),
        )
        .route(
            "/v1/completions",
            post(handlers::completions).fallback(handlers::method_not_allowed),
        )
        .route(
            "/v1/embeddings",
            post(handlers::embeddings).fallback(handlers::method_not_allowed),
        )
        .route(
            "/v1/images/generations",
            post(handlers::image_generations).fallback(handlers::method_not_allowed),
        )
        .route(
            "/v1/rerank",
            post(handlers::rerank).fallback(handlers::method_not_allowed),
        )
        .route(
            "/v1/responses",
            post(handlers::responses).fallback(handlers::method_not_allowed),
        )
        .route(
            "/v1/responses/{id}",
            get(crate::responses::http::one)
                .delete(crate::responses::http::one)
                .fallback(handlers::method_not_allowed),
        )
        .route(
            "/v1/responses/{id}/input_items",
            get(crate::responses::http::input_items).fallback(handlers::method_not_allowed),
        )
        .route(
            "/v1/messages/count_tokens",
            post(handlers::count_tokens).fallback(handlers::method_not_allowed),
        )
        .route(
            "/v1/messages",
            post(handlers::messages).fallback(handlers::method_not_allowed),
        )
        .route(
            "/v1/models",
            get(handlers::models).fallback(handlers::method_not_allowed),
        )
        .route("/v1/{*rest}", any(handlers::proxy))
        .merge(admin::routes())
        .merge(console::routes())
        .fallback(handlers::not_found)
        .with_state(app)
        .layer(shed)
        .layer(RequestIdLayer)
}

/// A bound, not yet running server.
pub struct Server {
    listener: TcpListener,
    /// The state requests start on, and its router: replaced by a reload; a request keeps the
    /// one it started with.
    current: Arc<ArcSwap<Live>>,
}

impl Server {
    /// Binds `addr` (or the config's `server.listen`) and builds the shared state.
    pub async fn bind(config: GatewayConfig, addr: Option<SocketAddr>) -> std::io::Result<Server> {
        Server::bind_with(config, addr, Vec::new()).await
    }

    /// [`Server::bind`], with extra pipeline hooks registered after the built-in ones.
    pub async fn bind_with(
        config: GatewayConfig,
        addr: Option<SocketAddr>,
        hooks: Vec<Arc<dyn Hook>>,
    ) -> std::io::Result<Server> {
        let addr = addr.unwrap_or(config.server.listen);
        let listener = listen(addr)?;
        let settings = Arc::new(config.server.clone());
        let cache = Arc::new(match (&config.redis, config.cache.backend) {
            (Some(r), CacheBackend::Redis) => Store::redis(
                RedisStore::new(&r.url, &format!("{}cache:", r.prefix), r.timeout)
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?,
            ),
            _ => Store::memory(config.cache.max_bytes),
        });
        // Two pools, one for the operator's hosts and one for hosts a client named
        // (`upstream`): a client's host is checked against SSRF rules at connect time.
        let clients = Upstreams::new(&settings)?;
        let semantic = match &config.cache.semantic {
            Some(s) => {
                let route = config.routes.get(&s.route).cloned().ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        format!("cache.semantic.route: no route is named `{}`", s.route),
                    )
                })?;
                // The embedding route runs on an engine of its own, without hooks.
                let engine = Engine::new(
                    clients.clone(),
                    settings.clone(),
                    Arc::new(Pipeline::default()),
                );
                let embedder = Embedder::new(engine, route, s.route.clone(), s.timeout);
                Some(Semantic::new(s, embedder, cache.clone()))
            }
            None => None,
        };
        crate::guardrails::webhook::install(clients.clone());
        let governance = Governance::start(&config)
            .await
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let mut pipeline = Pipeline::default();
        let mut features = Features::of_config(&config);
        // First: a refused caller costs nothing else, and limits count what reaches the rest.
        pipeline.register(Arc::new(GovernanceHook(governance.clone())));
        // The request log (`request_log:`): every request's row, written in batches off the path.
        if let Some(h) = crate::telemetry::request_log::start(&config, &governance)
            .await
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?
        {
            pipeline.register(h);
            features.request_log = true;
        }
        // The live feed (`GET /admin/live`), only when someone could subscribe: the admin API is
        // on. Costs one check per request while nobody watches.
        let live = config
            .governance
            .admin_key
            .is_some()
            .then(|| Arc::new(LiveFeed::new(governance.clone())));
        if let Some(l) = &live {
            pipeline.register(l.clone());
        }
        // Traces (only when configured): the `traces:` section or the OTEL_EXPORTER_OTLP_* variables.
        if let Some(traces) = crate::telemetry::traces::hook(&config)? {
            pipeline.register(traces);
            features.traces = true;
        }
        // Metrics see every request, refused ones included (on complete).
        let metrics = config
            .telemetry
            .metrics
            .enabled
            .then(|| Arc::new(Metrics::new()));
        features.metrics = metrics.is_some();
        if let Some(m) = &metrics {
            pipeline.register(Arc::new(MetricsHook {
                metrics: m.clone(),
                governance: governance.clone(),
            }));
        }
        // Input hooks run before the cache is looked up (a denied request is never answered
        // from it) and see the request the cache keys on rewritten. Costs a target without
        // hooks one check per attempt and per response.
        pipeline.register(Arc::new(GuardrailHook));
        // Costs a target without a `cache` policy one check per attempt and per response.
        pipeline.register(Arc::new(CacheHook::new(
            cache.clone(),
            semantic.clone(),
            config.cache.shared_namespaces.clone(),
            config.cache.max_entry_bytes,
        )));
        // Conversation state of the Responses API for targets that are not OpenAI: a tap on
        // `/v1/responses` answers only (one check per response elsewhere).
        let responses = Arc::new(Responses::new(&config, governance.store().cloned()));
        if config.responses.store {
            pipeline.register(Arc::new(ResponsesHook::new(responses.clone())));
        }
        // The access log is registered only when its lines would be written: with the log
        // level below info (or no subscriber), a request keeps no record for it.
        if settings.access_log && AccessLog::enabled() {
            pipeline.register(Arc::new(AccessLog));
        }
        for h in hooks {
            pipeline.register(h);
        }
        let pipeline = Arc::new(pipeline);
        let engine = Arc::new(Engine::new(clients, settings, pipeline.clone()));
        let app = Arc::new(App {
            routes: RouteCache::new(config.server.route_cache_size),
            cache,
            semantic,
            governance,
            responses,
            model_lists: super::models::list_cache(),
            metrics,
            live,
            features,
            draining: std::sync::atomic::AtomicBool::new(false),
            config,
            engine,
            pipeline,
        });
        Ok(Server {
            listener,
            current: Arc::new(ArcSwap::from_pointee(Live::new(app))),
        })
    }

    /// What reloads this server's config while it runs.
    pub fn reloader(&self) -> Reloader {
        Reloader {
            current: self.current.clone(),
        }
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then stops accepting and lets in-flight requests
    /// (streams included) finish for up to `server.shutdown_grace`.
    ///
    /// Each connection is served by hyper with `server.header_read_timeout` (a client that
    /// trickles its request head — or idles on a keep-alive connection — that long is closed).
    /// Beyond `server.max_connections` open connections, a new one is answered with a 503 and
    /// `retry-after` and closed, instead of waiting in the accept queue without bound.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = self.current.load().app.clone();
        let settings = &app.config.server;
        let grace = settings.shutdown_grace;
        let connections = settings
            .max_connections
            .map(|n| Arc::new(Semaphore::new(n.min(Semaphore::MAX_PERMITS))));
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(settings.header_read_timeout)
            .keep_alive(true);
        builder.http2().timer(TokioTimer::new());
        let service = TowerToHyperService::new(super::reload::service(self.current.clone()));
        let graceful = GracefulShutdown::new();
        tokio::pin!(shutdown);
        loop {
            let (tcp, _peer) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        // Out of descriptors or a connection reset while queued: keep serving.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => {
                    self.current
                        .load()
                        .app
                        .draining
                        .store(true, std::sync::atomic::Ordering::Release);
                    break;
                }
            };
            // Small writes (a response head, one stream event) go out at once, not after
            // Nagle's algorithm waits for an ACK.
            let _ = tcp.set_nodelay(true);
            let permit = match &connections {
                Some(limit) => match limit.clone().try_acquire_owned() {
                    Ok(p) => Some(p),
                    Err(_) => {
                        tokio::spawn(refuse(tcp));
                        continue;
                    }
                },
                None => None,
            };
            let conn = builder
                .serve_connection_with_upgrades(TokioIo::new(tcp), service.clone())
                .into_owned();
            let conn = graceful.watch(conn);
            tokio::spawn(async move {
                let _ = conn.await;
                drop(permit);
            });
        }
        drop(self.listener);
        // Live-feed streams never end by themselves: end them, so their connections close.
        let app = self.current.load().app.clone();
        if let Some(live) = &app.live {
            live.close();
        }
        tokio::select! {
            () = graceful.shutdown() => {}
            () = tokio::time::sleep(grace) => {
                tracing::warn!(grace_ms = grace.as_millis() as u64, "shutdown grace period over; closing remaining connections");
            }
        }
        // What hooks still hold (the request log's last batch) is written before the process
        // goes.
        app.pipeline.shutdown(Duration::from_secs(5)).await;
        Ok(())
    }
}

/// The listening socket, with a backlog of 1024 pending connections (the standard library's
/// 128 drops connection attempts during a burst, and each costs the client a 1 s SYN retry).
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// Answers a connection over the limit with a 503 and closes it, without reading its request.
async fn refuse(mut tcp: TcpStream) {
    let body = ErrorEnvelope::new(
        ErrorKind::ServerError,
        "the gateway is at its limit of open connections; retry shortly",
    )
    .with_code("overloaded")
    .to_bytes();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let write = async {
        tcp.write_all(head.as_bytes()).await?;
        tcp.write_all(&body).await?;
        tcp.shutdown().await
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
}
