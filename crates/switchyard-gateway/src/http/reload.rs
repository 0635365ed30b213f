//! Reloading the config file while serving (`SIGHUP`, or the file changing: `switchyard
//! serve` watches it). The new file is validated first — by the same parser `switchyard check`
//! uses — and a bad one changes nothing. A good one becomes a new [`App`] that new requests
//! start on; a request in flight finishes on the state it started with.
//!
//! What a reload changes: `providers`, `routes`, `default_route` and `guardrails`. The rest — the engine with its circuit breakers and connection pools, the cache
//! store, gateway keys and their database, limits, budgets, metrics, traces, the request log,
//! the live feed — is carried over as it is, so circuit state, cached answers and counters
//! survive. Sections that only take effect at start-up (`server`, `redis`, `auth`, `database`,
//! `virtual_keys`, `pricing`, `metrics`, `traces`, `request_log`, `cache`, `responses`) keep
//! their running values when changed, and the reload says which ones need a restart.

use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::body::Body;
use axum::Router;
use tower::ServiceExt as _;

use super::route::RouteCache;
use super::server::{router, App};
use crate::config::GatewayConfig;

/// Sections a reload does not apply (they are read once, at start-up).
pub const RESTART_SECTIONS: &[&str] = &[
    "server",
    "redis",
    "auth",
    "database",
    "virtual_keys",
    "pricing",
    "metrics",
    "traces",
    "request_log",
    "cache",
    "responses",
];

/// The running state and the router built on it.
pub struct Live {
    pub app: Arc<App>,
    pub router: Router,
}

impl Live {
    pub fn new(app: Arc<App>) -> Self {
        Live {
            router: router(app.clone()),
            app,
        }
    }
}

/// Swaps in a new config.
#[derive(Clone)]
pub struct Reloader {
    pub(super) current: Arc<ArcSwap<Live>>,
}

impl Reloader {
    /// Applies `config` (already validated) to new requests; returns the changed sections that
    /// need a restart (they keep their running values).
    pub fn reload(&self, mut config: GatewayConfig) -> Vec<&'static str> {
        let old = self.current.load_full();
        let was = &old.app.config;
        let ignored: Vec<&'static str> = RESTART_SECTIONS
            .iter()
            .copied()
            .filter(|s| was.sections.get(*s) != config.sections.get(*s))
            .collect();
        // What the running parts were built from stays.
        config.server = was.server.clone();
        config.redis = was.redis.clone();
        config.governance = was.governance.clone();
        config.telemetry = was.telemetry.clone();
        config.cache = was.cache.clone();
        config.responses = was.responses.clone();
        let app = App {
            routes: RouteCache::new(config.server.route_cache_size),
            cache: old.app.cache.clone(),
            semantic: old.app.semantic.clone(),
            governance: old.app.governance.clone(),
            responses: old.app.responses.clone(),
            model_lists: super::models::list_cache(),
            metrics: old.app.metrics.clone(),
            live: old.app.live.clone(),
            features: old.app.features,
            draining: std::sync::atomic::AtomicBool::new(false),
            config,
            engine: old.app.engine.clone(),
            pipeline: old.app.pipeline.clone(),
        };
        self.current.store(Arc::new(Live::new(Arc::new(app))));
        ignored
    }

    /// The state new requests start on.
    pub fn current(&self) -> Arc<App> {
        self.current.load().app.clone()
    }
}

/// The service each connection runs: every request goes to the router current when it
/// arrives.
pub(super) fn service(
    current: Arc<ArcSwap<Live>>,
) -> impl tower::Service<
    http::Request<hyper::body::Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl std::future::Future<
        Output = Result<axum::response::Response, std::convert::Infallible>,
    > + Send,
> + Clone {
    tower::service_fn(move |req: http::Request<hyper::body::Incoming>| {
        let router = current.load().router.clone();
        router.oneshot(req.map(Body::new))
    })
}
