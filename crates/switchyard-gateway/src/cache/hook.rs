//! The cache's place in the pipeline: a lookup per attempt, a tap that stores what came back.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use switchyard_providers::Endpoint;
use switchyard_types::usage::TokenUsage;

use super::key::{self, CacheKey};
use super::policy::Directives;
use super::replay::{to_sse, Assembler};
use super::store::Store;
use crate::context::{Operation, RequestContext};
use crate::engine::wire::upstream_body;
use crate::http::headers::CACHE_STATUS;
use crate::pipeline::{
    AttemptDecision, ChunkAction, EarlyAnswer, ExtraHeaders, Hook, HookFuture, Phases,
    RequestRecord, StreamTap,
};
use crate::routing::tree::Leaf;

/// Caches the answers of targets whose config has a `cache` policy.
pub struct CacheHook {
    store: Arc<Store>,
    /// Namespaces the operator declared shared by every tenant.
    shared: Vec<String>,
    /// The largest answer stored.
    max_entry: usize,
}

/// What a miss left for the tap: where to store the answer that comes back.
#[derive(Clone)]
struct Intent {
    target: Arc<str>,
    key: CacheKey,
    namespace: Arc<str>,
    endpoint: Endpoint,
    ttl: Duration,
}

/// Every miss of one request, by target (a fallback may try several).
#[derive(Clone, Default)]
struct Intents(Vec<Intent>);

impl CacheHook {
    pub fn new(store: Arc<Store>, shared: Vec<String>, max_entry: usize) -> Self {
        CacheHook {
            store,
            shared,
            max_entry,
        }
    }

    /// The store (for the admin API).
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    async fn lookup(&self, req: &RequestContext, leaf: &Leaf, path: &str) -> AttemptDecision {
        let (Some(policy), Operation::Endpoint(endpoint)) = (leaf.cache, &req.op) else {
            return AttemptDecision::Proceed;
        };
        let endpoint = *endpoint;
        let d = Directives::of(&req.client_headers);
        let namespace = d.namespace.as_deref();
        let shared = namespace.is_some_and(|n| self.shared.iter().any(|s| s == n));
        let names = req
            .forward_override
            .as_deref()
            .unwrap_or(&leaf.forward_headers);
        let forwarded: Vec<(&str, &[u8])> = names
            .iter()
            .flat_map(|n| {
                req.client_headers
                    .get_all(n)
                    .iter()
                    .map(move |v| (n.as_str(), v.as_bytes()))
            })
            .collect();
        let Some(key) = upstream_body(leaf, req)
            .ok()
            .and_then(|body| key::key(leaf, endpoint, &body, &forwarded, namespace, shared))
        else {
            return AttemptDecision::Proceed;
        };
        let ns = key::namespace_label(namespace);
        if !d.skip_read {
            if let Some(hit) = self.store.get(&key, ns).await {
                if let Some(answer) = answer(endpoint, hit, req.stream, req.include_usage) {
                    return AttemptDecision::Answer(answer);
                }
            }
        }
        let status = if d.skip_read { "REFRESH" } else { "MISS" };
        req.with_scratch(|s| {
            let mut headers = HeaderMap::new();
            headers.insert(CACHE_STATUS, HeaderValue::from_static(status));
            s.insert(ExtraHeaders(headers));
            if !d.skip_write {
                let intents = s.get_or_insert_default::<Intents>();
                intents.0.retain(|i| &*i.target != path);
                intents.0.push(Intent {
                    target: path.into(),
                    key,
                    namespace: ns.into(),
                    endpoint,
                    ttl: policy.max_age,
                });
            }
        });
        AttemptDecision::Proceed
    }
}

/// A hit, as the request wants it: the JSON, or the stream replayed from it.
fn answer(
    endpoint: Endpoint,
    body: Bytes,
    stream: bool,
    include_usage: bool,
) -> Option<EarlyAnswer> {
    let mut headers = HeaderMap::new();
    headers.insert(CACHE_STATUS, HeaderValue::from_static("HIT"));
    let body = if stream && endpoint != Endpoint::Embeddings {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        to_sse(endpoint, &body, include_usage)?
    } else {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        body
    };
    Some(EarlyAnswer {
        status: StatusCode::OK,
        headers,
        body,
    })
}

impl Hook for CacheHook {
    fn name(&self) -> &'static str {
        "cache"
    }

    fn phases(&self) -> Phases {
        Phases {
            per_attempt: true,
            per_chunk: true,
            ..Phases::default()
        }
    }

    fn wants_attempt(&self, leaf: &Leaf) -> bool {
        leaf.cache.is_some()
    }

    fn per_attempt<'a>(
        &'a self,
        req: &'a RequestContext,
        leaf: &'a Leaf,
        path: &'a str,
    ) -> HookFuture<'a, AttemptDecision> {
        Box::pin(self.lookup(req, leaf, path))
    }

    fn on_stream(&self, record: &RequestRecord) -> Option<Box<dyn StreamTap>> {
        if !record.status.is_success() {
            return None;
        }
        let target = record.target.as_ref()?;
        let intent = record
            .extensions
            .get::<Intents>()?
            .0
            .iter()
            .find(|i| i.target == *target)?
            .clone();
        Some(Box::new(Collector {
            assembler: Some(Assembler::new(intent.endpoint, self.max_entry)),
            intent,
            store: self.store.clone(),
        }))
    }
}

/// Sees the answer go by; stores it when it ended complete.
struct Collector {
    assembler: Option<Assembler>,
    intent: Intent,
    store: Arc<Store>,
}

impl StreamTap for Collector {
    fn on_chunk(&mut self, chunk: Bytes) -> ChunkAction {
        if let Some(a) = self.assembler.as_mut() {
            a.push(&chunk);
        }
        ChunkAction::Send(chunk)
    }

    fn on_end(&mut self, usage: Option<TokenUsage>) -> Option<Bytes> {
        let body = self.assembler.take()?.finish(usage)?;
        let store = self.store.clone();
        let i = self.intent.clone();
        // Storing waits for nobody: the client has its answer.
        tokio::spawn(async move {
            store.put(i.key, &i.namespace, body, i.ttl).await;
        });
        None
    }
}
