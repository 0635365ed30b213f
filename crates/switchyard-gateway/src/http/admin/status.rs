//! What this node is and how its targets are doing (admin key, or the console's session):
//!
//! - `GET /admin/circuits` → `{"object": "list", "enabled": <server.circuit_breaker.enabled>,
//!   "data": [{"target", "provider", "state", "failures", "open_for_ms"}…]}`: this node's
//!   circuit breakers (`health.rs`), ordered by target. Only circuits with something to remember
//!   are listed (a target whose last attempt succeeded has none: it is closed). `target` is the
//!   target's JSON path in its routing tree (`config.targets[1]`) when its circuit was created
//!   (the same upstream target in two configs is one circuit, listed under the first path);
//!   `state` is `closed`, `open` or `half_open`; `failures` counts consecutive failures;
//!   `open_for_ms` is how long an open circuit stays open (`null` otherwise). Never a key.
//! - `GET /admin/info` → `{"version", "auth", "features", "routes", "providers",
//!   "virtual_keys"}`:
//!   - `version`: the gateway's version;
//!   - `auth`: gateway keys are required (always `true` here: the admin API is on only then);
//!   - `features`: what is on, decided at start-up — `cache`: some route of the server file has
//!     a target with a `cache` policy, or `cache.semantic` is configured (a client's header
//!     config may ask for caching either way); `guardrails`: some file route's target has
//!     guardrail hooks, or the `guardrails:` section names some; `metrics`: `GET /metrics`
//!     answers; `request_log`: requests are written to the request log (`GET /admin/logs`);
//!     `traces`: spans are exported over OTLP; `circuit_breaker`: targets are ejected after
//!     failures;
//!   - `routes`: the server file's named routes (the model names clients may send), sorted,
//!     each `{"name", "models": [the models its targets send, when they set one], "providers":
//!     [its targets' providers]}`, and `default_route`: whether requests without a route go
//!     somewhere;
//!   - `providers`: the providers configured in the server file (`providers:`), by slug;
//!   - `virtual_keys`: the server file's virtual keys, `{"name", "provider"}` (never their
//!     credential; the database's are at `GET /admin/credentials`).

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::State;
use http::{HeaderMap, StatusCode};
use serde::Serialize;
use serde_json::{json, Value};

use super::{admin, reply, Reply};
use crate::config::GatewayConfig;
use crate::health::CircuitState;
use crate::http::server::App;
use crate::routing::tree::Node;

/// What is on, decided at start-up (see the module's documentation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Features {
    pub cache: bool,
    pub guardrails: bool,
    pub metrics: bool,
    pub request_log: bool,
    pub traces: bool,
    pub circuit_breaker: bool,
}

impl Features {
    /// The features `config` turns on in its routes (cache, guardrails, circuit breaker); the
    /// caller sets those that depend on what was started (metrics, request log, traces).
    pub fn of_config(config: &GatewayConfig) -> Features {
        let leaves = || {
            config
                .routes
                .values()
                .chain(config.default_route.iter())
                .flat_map(|n| n.leaves())
        };
        Features {
            cache: config.cache.semantic.is_some() || leaves().any(|l| l.cache.is_some()),
            guardrails: !config.guardrails.named.is_empty() || leaves().any(|l| l.hooks.is_some()),
            circuit_breaker: config.server.circuit_breaker.enabled,
            ..Features::default()
        }
    }
}

/// `GET /admin/circuits`.
pub async fn circuits(State(app): State<Arc<App>>, headers: HeaderMap) -> Reply {
    admin(&app, &headers).await?;
    let health = app.engine.health();
    let data: Vec<Value> = health
        .snapshot()
        .into_iter()
        .map(|c| {
            let (state, open_for_ms) = match c.state {
                CircuitState::Closed { .. } => ("closed", None),
                CircuitState::Open { remaining } => (
                    "open",
                    Some(u64::try_from(remaining.as_millis()).unwrap_or(u64::MAX)),
                ),
                CircuitState::HalfOpen { .. } => ("half_open", None),
            };
            json!({
                "target": &*c.target,
                "provider": &*c.provider,
                "state": state,
                "failures": c.failures,
                "open_for_ms": open_for_ms,
            })
        })
        .collect();
    Ok(reply(
        StatusCode::OK,
        &json!({"object": "list", "enabled": health.enabled(), "data": data}),
    ))
}

/// `GET /admin/info`.
pub async fn info(State(app): State<Arc<App>>, headers: HeaderMap) -> Reply {
    admin(&app, &headers).await?;
    let config = &app.config;
    let mut names: Vec<&String> = config.routes.keys().collect();
    names.sort_unstable();
    let routes: Vec<Value> = names
        .into_iter()
        .filter_map(|name| {
            let node = config.routes.get(name)?;
            let (models, providers) = targets(node);
            Some(json!({"name": name, "models": models, "providers": providers}))
        })
        .collect();
    let providers: Vec<&str> = config
        .providers
        .configured()
        .into_iter()
        .map(|p| p.slug.as_str())
        .collect();
    let mut vks: Vec<_> = config.governance.virtual_keys.values().collect();
    vks.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    let virtual_keys: Vec<Value> = vks
        .into_iter()
        .map(|vk| json!({"name": vk.name, "provider": vk.provider}))
        .collect();
    Ok(reply(
        StatusCode::OK,
        &json!({
            "version": env!("CARGO_PKG_VERSION"),
            "auth": app.governance.auth_enabled(),
            "features": app.features,
            "routes": routes,
            "default_route": config.default_route.is_some(),
            "providers": providers,
            "virtual_keys": virtual_keys,
        }),
    ))
}

/// A route's targets: the models they send (where they set one) and their providers, sorted.
fn targets(node: &Node) -> (Vec<String>, Vec<String>) {
    let mut models = BTreeSet::new();
    let mut providers = BTreeSet::new();
    for leaf in node.leaves() {
        providers.insert(leaf.provider.slug.clone());
        if let Some(m) = leaf
            .model_override()
            .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
        {
            models.insert(m);
        }
    }
    (
        models.into_iter().collect(),
        providers.into_iter().collect(),
    )
}
