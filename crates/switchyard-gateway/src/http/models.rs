//! `GET /v1/models`: the models this gateway serves — the server file's routes (aliases), then
//! each configured provider's own list as `<provider>/<model>` ids (what `provider/model`
//! addressing routes), read from the provider's `models` endpoint on the operator's
//! credentials and kept for [`LIST_TTL`]. A provider whose list can't be read (no models
//! endpoint, no operator key, an error) shows as `<provider>/*`. With routing headers the
//! request is the provider's own list, passed through.

use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt, Limited};
use serde_json::{json, Value};

use super::server::App;
use crate::config::gateway::{self, BuildInput, Origin};
use crate::context::{Operation, RequestContext};
use crate::engine::SuccessBody;
use crate::error::json_response;

/// How long a provider's list is kept.
pub const LIST_TTL: Duration = Duration::from_secs(600);
/// How long reading one provider's list may take.
const LIST_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest list read.
const MAX_LIST_BYTES: usize = 4 << 20;

/// Providers' model lists, by slug (`None`: the list could not be read).
pub type ListCache = moka::sync::Cache<String, Option<Arc<Vec<String>>>>;

/// A cache of lists for [`LIST_TTL`].
pub fn list_cache() -> ListCache {
    moka::sync::Cache::builder()
        .max_capacity(1_000)
        .time_to_live(LIST_TTL)
        .build()
}

/// The merged list, for a caller who may see the ids `visible` allows.
pub async fn merged(app: &Arc<App>, visible: impl Fn(&str) -> bool) -> Response {
    let config = &app.config;
    let mut routes: Vec<&str> = config
        .routes
        .keys()
        .map(String::as_str)
        .filter(|id| visible(id))
        .collect();
    routes.sort_unstable();
    let mut data: Vec<Value> = routes
        .iter()
        .map(|id| json!({"id": id, "object": "model", "created": 0, "owned_by": "switchyard"}))
        .collect();
    let providers = config.providers.configured();
    let lists = futures_util::future::join_all(providers.iter().map(|p| {
        let app = app.clone();
        let slug = p.slug.clone();
        async move {
            // Two requests that miss at once both read the list: harmless, and no lock is held
            // across the read.
            let list = match app.model_lists.get(&slug) {
                Some(l) => l,
                None => {
                    let l = read_list(&app, &slug).await.map(Arc::new);
                    app.model_lists.insert(slug.clone(), l.clone());
                    l
                }
            };
            (slug, list)
        }
    }))
    .await;
    for (slug, list) in lists {
        match list {
            Some(models) => data.extend(
                models
                    .iter()
                    .map(|m| format!("{slug}/{m}"))
                    .filter(|id| visible(id))
                    .map(|id| json!({"id": id, "object": "model", "created": 0, "owned_by": slug})),
            ),
            None => data.push(
                json!({"id": format!("{slug}/*"), "object": "model", "created": 0, "owned_by": slug}),
            ),
        }
    }
    let body = json!({"object": "list", "data": data});
    json_response(StatusCode::OK, Bytes::from(body.to_string()))
}

/// Reads `slug`'s list from its `models` endpoint, on the operator's credentials.
async fn read_list(app: &Arc<App>, slug: &str) -> Option<Vec<String>> {
    let config = &app.config;
    let input = BuildInput {
        header_provider: Some(slug),
        guardrails: &config.guardrails,
        ..BuildInput::new(
            &config.providers,
            Origin::Server,
            &config.server.trusted_hosts,
        )
    };
    let tree = gateway::build_tree(&json!({}), "config", &input).ok()?;
    let ctx = RequestContext::new(
        Arc::from("models-list"),
        Operation::Proxy {
            method: Method::GET,
            path: "models".to_owned(),
        },
        Bytes::new(),
        false,
        false,
        HeaderMap::new(),
    );
    let read = async {
        let ok = app.engine.execute(&tree.node, &ctx).await.ok()?;
        let bytes = match ok.body {
            SuccessBody::Full(b) => b,
            SuccessBody::Raw(body) => Limited::new(*body, MAX_LIST_BYTES)
                .collect()
                .await
                .ok()?
                .to_bytes(),
            _ => return None,
        };
        model_ids(&serde_json::from_slice(&bytes).ok()?)
    };
    tokio::time::timeout(LIST_TIMEOUT, read)
        .await
        .ok()
        .flatten()
}

/// The ids of a models list: OpenAI's (and Anthropic's) `data[].id`, or Gemini's
/// `models[].name` without its `models/` prefix.
fn model_ids(list: &Value) -> Option<Vec<String>> {
    if let Some(data) = list.get("data").and_then(Value::as_array) {
        return Some(
            data.iter()
                .filter_map(|m| m.get("id").and_then(Value::as_str))
                .map(str::to_owned)
                .collect(),
        );
    }
    let models = list.get("models").and_then(Value::as_array)?;
    Some(
        models
            .iter()
            .filter_map(|m| m.get("name").and_then(Value::as_str))
            .map(|n| n.strip_prefix("models/").unwrap_or(n).to_owned())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_from_openai_and_gemini_lists() {
        assert_eq!(
            model_ids(&json!({"object": "list", "data": [{"id": "gpt-4o"}, {"id": "o3"}]})),
            Some(vec!["gpt-4o".to_owned(), "o3".to_owned()])
        );
        assert_eq!(
            model_ids(&json!({"models": [{"name": "models/gemini-2.0-flash"}]})),
            Some(vec!["gemini-2.0-flash".to_owned()])
        );
        assert_eq!(model_ids(&json!({"error": {}})), None);
    }
}
