//! Choosing the routing tree for a request, by precedence:
//! 1. `x-portkey-config` (a Gateway Config in the header);
//! 2. `x-portkey-provider` (with `Authorization` as the provider key);
//! 3. the body's `model` naming a route (alias) in the server's config file;
//! 4. the body's `model` as `<provider>/<model>`;
//! 5. the config file's default route.

use std::sync::Arc;

use serde_json::Value;

use super::headers::PortkeyHeaders;
use crate::config::gateway::{self, BuildInput, Origin};
use crate::config::GatewayConfig;
use crate::error::GatewayError;
use crate::routing::tree::Node;

/// The tree a request runs through.
pub enum Route {
    /// Built from the request's own headers.
    Client(Node),
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

/// The route a request takes.
pub struct Resolved {
    pub route: Route,
    /// The `model` to send instead of the client's (for `provider/model`).
    pub model_rewrite: Option<String>,
    /// Keys of the request's config that were ignored (`config::keys`), by path.
    pub ignored: Vec<String>,
}

/// Resolves the route of a request.
pub fn resolve(
    config: &GatewayConfig,
    headers: &mut PortkeyHeaders,
    model: Option<&str>,
) -> Result<Resolved, GatewayError> {
    let plain = |route| Resolved {
        route,
        model_rewrite: None,
        ignored: Vec::new(),
    };
    if headers.routes_itself() {
        let empty = Value::Object(Default::default());
        let value = headers.config.as_ref().unwrap_or(&empty);
        let input = BuildInput {
            header_provider: headers.provider.as_deref(),
            header_key: headers.bearer.clone(),
            header_options: std::mem::take(&mut headers.options),
            custom_host: headers.custom_host.as_deref(),
            ..BuildInput::new(
                &config.providers,
                Origin::Client,
                &config.server.trusted_hosts,
            )
        };
        let built = gateway::build_tree(value, "config", &input).map_err(GatewayError::Config)?;
        return Ok(Resolved {
            route: Route::Client(built.node),
            model_rewrite: None,
            ignored: built.ignored,
        });
    }
    let server_route = |tree: &Arc<Node>| -> Result<Route, GatewayError> {
        if headers.custom_host.is_some() {
            return Err(GatewayError::bad_request(
                "x-portkey-custom-host cannot redirect a route of the server's config file; send x-portkey-provider or x-portkey-config to route the request yourself",
                Some("x-portkey-custom-host"),
            ));
        }
        Ok(Route::Server(tree.clone()))
    };
    if let Some(model) = model {
        if let Some(tree) = config.routes.get(model) {
            return Ok(plain(server_route(tree)?));
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
                let input = BuildInput {
                    header_provider: Some(provider),
                    header_key: if entry.api_key.is_some() {
                        None
                    } else {
                        headers.bearer.clone()
                    },
                    header_options: std::mem::take(&mut headers.options),
                    ..BuildInput::new(
                        &config.providers,
                        Origin::Server,
                        &config.server.trusted_hosts,
                    )
                };
                let node = gateway::build(&Value::Object(Default::default()), "config", &input)
                    .map_err(GatewayError::Config)?;
                return Ok(Resolved {
                    route: Route::Client(node),
                    model_rewrite: Some(upstream_model.to_owned()),
                    ignored: Vec::new(),
                });
            }
        }
    }
    if let Some(tree) = &config.default_route {
        return Ok(plain(server_route(tree)?));
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
