//! Choosing the routing tree for a request, by precedence:
//! 1. `x-portkey-config` (a Gateway Config in the header);
//! 2. `x-portkey-provider` (with `Authorization` as the provider key);
//! 3. the body's `model` naming a route (alias) in the server's config file;
//! 4. the body's `model` as `<provider>/<model>`;
//! 5. the config file's default route.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::headers::PortkeyHeaders;
use crate::config::gateway::{self, BuildInput, Origin};
use crate::config::{GatewayConfig, Secret};
use crate::error::GatewayError;
use crate::governance::virtual_keys::Snapshot;
use crate::routing::tree::Node;

/// The tree a request runs through.
pub enum Route {
    /// Built from the request's own headers (and kept in the route cache).
    Client(Arc<Node>),
    /// A route of the server's config file.
    Server(Arc<Node>),
}

impl Route {
    pub fn node(&self) -> &Node {
        match self {
            Route::Client(n) => n,
            Route::Server(n) => n,
        }
    }
}

/// Trees built from request headers, keyed by every header byte they depend on (config,
/// provider, credential, custom host, provider options): a client that sends the same headers
/// again reuses the validated tree — with its precomputed URIs, auth header and circuit ids —
/// instead of parsing and validating its config again. An entry idle for ten minutes, or the
/// least used beyond `server.route_cache_size`, is dropped. Errors are never cached.
pub struct RouteCache {
    trees: Option<moka::sync::Cache<Box<[u8]>, Cached>>,
}

#[derive(Clone)]
struct Cached {
    node: Arc<Node>,
    ignored: Arc<[String]>,
}

impl RouteCache {
    /// A cache of at most `capacity` trees (0: no cache).
    pub fn new(capacity: u64) -> Self {
        RouteCache {
            trees: (capacity > 0).then(|| {
                moka::sync::Cache::builder()
                    .max_capacity(capacity)
                    .time_to_idle(Duration::from_secs(600))
                    .build()
            }),
        }
    }

    /// The tree for `key`, built by `build` when it is not cached.
    fn get_or_build(
        &self,
        key: Vec<u8>,
        build: impl FnOnce() -> Result<gateway::Built, GatewayError>,
    ) -> Result<Cached, GatewayError> {
        if let Some(hit) = self.trees.as_ref().and_then(|t| t.get(key.as_slice())) {
            return Ok(hit);
        }
        let built = build()?;
        let cached = Cached {
            node: Arc::new(built.node),
            ignored: built.ignored.into(),
        };
        if let Some(t) = &self.trees {
            t.insert(key.into_boxed_slice(), cached.clone());
        }
        Ok(cached)
    }

    /// Trees cached now (for tests and metrics).
    pub fn len(&self) -> u64 {
        self.trees.as_ref().map_or(0, |t| {
            t.run_pending_tasks();
            t.entry_count()
        })
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The route a request takes.
pub struct Resolved<'c> {
    /// The server file's route it takes, by name (`default` for the default route).
    pub route_name: Option<&'c str>,
    pub route: Route,
    /// The `model` to send instead of the client's (for `provider/model`).
    pub model_rewrite: Option<String>,
    /// Keys of the request's config that were ignored (`config::keys`), by path.
    pub ignored: Arc<[String]>,
}

/// What a gateway key adds to every route it takes: its guardrails, as a Gateway Config's
/// root `default_input_guardrails` / `default_output_guardrails`.
pub struct KeyDefaults<'a> {
    /// The key's id (trees built with its defaults are cached under it).
    pub id: &'a str,
    pub members: &'a serde_json::Map<String, Value>,
}

/// `config` with a key's default guardrails added before its own.
fn with_defaults(mut config: Value, d: Option<&KeyDefaults<'_>>) -> Value {
    let (Some(d), Some(obj)) = (d, config.as_object_mut()) else {
        return config;
    };
    for (k, v) in d.members {
        let mut list = v.as_array().cloned().unwrap_or_default();
        if let Some(Value::Array(own)) = obj.get(k) {
            list.extend(own.iter().cloned());
        }
        obj.insert(k.clone(), Value::Array(list));
    }
    config
}

/// Resolves the route of a request.
pub fn resolve<'c>(
    config: &'c GatewayConfig,
    cache: &RouteCache,
    virtual_keys: &Snapshot,
    headers: &PortkeyHeaders<'_>,
    model: Option<&str>,
    defaults: Option<&KeyDefaults<'_>>,
) -> Result<Resolved<'c>, GatewayError> {
    let generation = virtual_keys.generation;
    let key_part = defaults.map_or("", |d| d.id);
    let plain = |route| Resolved {
        route_name: None,
        route,
        model_rewrite: None,
        ignored: Arc::from([]),
    };
    if headers.routes_itself() {
        let cached =
            cache.get_or_build(headers.route_key(b'h', generation, &[key_part]), || {
                let value = headers
                    .config_value()?
                    .unwrap_or_else(|| Value::Object(Default::default()));
                let value = with_defaults(value, defaults);
                let input = BuildInput {
                    header_provider: headers.provider,
                    header_key: headers.bearer.map(Secret::new),
                    header_options: headers.options(),
                    custom_host: headers.custom_host,
                    semantic_cache: config.cache.semantic.is_some(),
                    guardrails: &config.guardrails,
                    virtual_keys: &virtual_keys.keys,
                    header_virtual_key: headers.virtual_key,
                    ..BuildInput::new(
                        &config.providers,
                        Origin::Client,
                        &config.server.trusted_hosts,
                    )
                };
                gateway::build_tree(&value, "config", &input).map_err(GatewayError::Config)
            })?;
        return Ok(Resolved {
            route_name: None,
            route: Route::Client(cached.node),
            model_rewrite: None,
            ignored: cached.ignored,
        });
    }
    let server_route = |name: &str, tree: &Arc<Node>| -> Result<Route, GatewayError> {
        if headers.custom_host.is_some() {
            return Err(GatewayError::bad_request(
                "x-portkey-custom-host cannot redirect a route of the server's config file; send x-portkey-provider or x-portkey-config to route the request yourself",
                Some("x-portkey-custom-host"),
            ));
        }
        let (Some(d), Some(source)) = (defaults, config.route_sources.get(name)) else {
            return Ok(Route::Server(tree.clone()));
        };
        // The route again, with the key's guardrails, built once per key and route.
        let cached =
            cache.get_or_build(headers.route_key(b's', generation, &[name, d.id]), || {
                let input = BuildInput {
                    semantic_cache: config.cache.semantic.is_some(),
                    guardrails: &config.guardrails,
                    virtual_keys: &config.governance.virtual_keys,
                    ..BuildInput::new(
                        &config.providers,
                        Origin::Server,
                        &config.server.trusted_hosts,
                    )
                };
                let at = format!("routes.{name}");
                gateway::build_tree(&with_defaults(source.clone(), Some(d)), &at, &input)
                    .map_err(GatewayError::Config)
            })?;
        Ok(Route::Server(cached.node))
    };
    if let Some(model) = model {
        if let Some((name, tree)) = config.routes.get_key_value(model) {
            let mut r = plain(server_route(name, tree)?);
            r.route_name = Some(name);
            return Ok(r);
        }
        if let Some((provider, upstream_model)) = model.split_once('/') {
            if let Some(entry) = config.providers.get(provider) {
                if upstream_model.is_empty() {
                    return Err(GatewayError::bad_request(
                        format!("`{model}` names no model after the provider"),
                        Some("model"),
                    ));
                }
                // The operator's key for the provider wins; the client's bearer key is used
                // for providers the operator has not configured.
                let header_key = if entry.api_key.is_some() {
                    None
                } else {
                    headers.bearer
                };
                let cached = cache.get_or_build(
                    headers.route_key(b'm', generation, &[provider, key_part]),
                    || {
                        let input = BuildInput {
                            header_provider: Some(provider),
                            header_key: header_key.map(Secret::new),
                            header_options: headers.options(),
                            guardrails: &config.guardrails,
                            ..BuildInput::new(
                                &config.providers,
                                Origin::Server,
                                &config.server.trusted_hosts,
                            )
                        };
                        let value = with_defaults(Value::Object(Default::default()), defaults);
                        gateway::build_tree(&value, "config", &input).map_err(GatewayError::Config)
                    },
                )?;
                return Ok(Resolved {
                    route_name: None,
                    route: Route::Client(cached.node),
                    model_rewrite: Some(upstream_model.to_owned()),
                    ignored: cached.ignored,
                });
            }
        }
    }
    if let Some(tree) = &config.default_route {
        let mut r = plain(server_route("default", tree)?);
        r.route_name = Some("default");
        return Ok(r);
    }
    let mut aliases: Vec<&str> = config.routes.keys().map(String::as_str).collect();
    aliases.sort_unstable();
    let known = if aliases.is_empty() {
        String::new()
    } else {
        format!(" Configured models: {}.", aliases.join(", "))
    };
    let what = match model {
        Some(m) => format!("no route for model `{m}`"),
        None => "no route for this request".to_owned(),
    };
    Err(GatewayError::NoRoute(format!(
        "{what}: send the x-portkey-provider header (with Authorization: Bearer <provider key>) or x-portkey-config, use `<provider>/<model>`, or configure a route or default_route in the server's config file.{known}"
    )))
}
