//! The cache's place in the pipeline: a lookup per attempt, a tap that stores what came back.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use switchyard_providers::Endpoint;
use switchyard_types::usage::TokenUsage;

use serde_json::{Map, Value};

use super::key::{self, CacheKey, Scope};
use super::policy::Directives;
use super::replay::{to_sse, Assembler};
use super::semantic::{self, text};
use super::store::Store;
use crate::context::{Operation, RequestContext};
use crate::engine::wire::upstream_body;
use crate::http::headers::{CACHE_SIMILARITY, CACHE_STATUS};
use crate::pipeline::{
    AttemptDecision, ChunkAction, EarlyAnswer, ExtraHeaders, Hook, HookFuture, Phases,
    RequestRecord, StreamTap,
};
use crate::routing::tree::Leaf;

/// Caches the answers of targets whose config has a `cache` policy.
pub struct CacheHook {
    store: Arc<Store>,
    /// Semantic matching, when the server file configures it.
    semantic: Option<Arc<semantic::Semantic>>,
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
    /// Semantic mode: the partition and vector the answer is remembered under.
    semantic: Option<(CacheKey, Arc<[f32]>)>,
}

/// Every miss of one request, by target (a fallback may try several).
#[derive(Clone, Default)]
struct Intents(Vec<Intent>);

impl CacheHook {
    pub fn new(
        store: Arc<Store>,
        semantic: Option<Arc<semantic::Semantic>>,
        shared: Vec<String>,
        max_entry: usize,
    ) -> Self {
        CacheHook {
            store,
            semantic,
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
        // A Response has an id of its own and may be continued: an earlier one is not an
        // answer to give again.
        if endpoint == Endpoint::Responses {
            return AttemptDecision::Proceed;
        }
        let d = Directives::of(&req.client_headers);
        let namespace = d.namespace.as_deref();
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
        let tenant = req
            .principal
            .as_ref()
            .and_then(|p| p.key())
            .map(|k| match &k.team {
                Some(t) => format!("team:{}", t.id),
                None => format!("key:{}", k.id),
            });
        let scope = Scope {
            leaf,
            endpoint,
            forwarded: &forwarded,
            namespace,
            shared_namespace: namespace.is_some_and(|n| self.shared.iter().any(|s| s == n)),
            tenant: tenant.as_deref(),
        };
        let Ok(body) = upstream_body(leaf, req) else {
            return AttemptDecision::Proceed;
        };
        let Some(key) = key::exact(&scope, &body) else {
            return AttemptDecision::Proceed;
        };
        let ns = key::namespace_label(namespace);
        if !d.skip_read {
            if let Some(hit) = self.store.get(&key, ns).await {
                if let Some(answer) = answer(endpoint, hit, req, "HIT", None) {
                    return AttemptDecision::Answer(answer);
                }
            }
        }
        let mut status = if d.skip_read { "REFRESH" } else { "MISS" };
        let mut semantic = None;
        let semantic_body = match (policy.semantic, &self.semantic) {
            (true, Some(sem)) => key::canonical(&body).map(|b| (sem, b)),
            _ => None,
        };
        if let Some((sem, body)) = semantic_body {
            match self.semantic_lookup(sem, req, &scope, body, &d).await {
                Semantic::Hit(answer) => return AttemptDecision::Answer(answer),
                Semantic::Miss(p, v) => {
                    if !d.skip_read {
                        status = "SEMANTIC MISS";
                    }
                    semantic = Some((p, v));
                }
                Semantic::Skipped => {}
            }
        }
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
                    semantic,
                });
            }
        });
        AttemptDecision::Proceed
    }

    /// The semantic lookup of a request no exact entry answered.
    async fn semantic_lookup(
        &self,
        sem: &semantic::Semantic,
        req: &RequestContext,
        scope: &Scope<'_>,
        body: Map<String, Value>,
        d: &Directives,
    ) -> Semantic {
        if d.skip_read && d.skip_write {
            return Semantic::Skipped;
        }
        let Some(split) = text::split(scope.endpoint, body, sem.max_input) else {
            return Semantic::Skipped;
        };
        let Some(partition) = key::partition(scope, sem.embedder_name(), &split.rest) else {
            return Semantic::Skipped;
        };
        // A retry or a fallback to another semantic target reuses the request's embedding.
        let memo = req.with_scratch(|s| {
            s.get::<Embedded>()
                .filter(|e| e.text == split.text)
                .map(|e| e.vector.clone())
        });
        let vector = match memo {
            Some(v) => v,
            None => {
                let Some(v) = sem.vector(&split.text, &req.trace_id).await else {
                    return Semantic::Skipped;
                };
                req.with_scratch(|s| {
                    s.insert(Embedded {
                        text: split.text,
                        vector: v.clone(),
                    })
                });
                v
            }
        };
        if !d.skip_read {
            let ns = key::namespace_label(scope.namespace);
            for m in sem.search(partition, vector.clone()).await {
                match self.store.get(&m.key, ns).await {
                    Some(hit) => {
                        let similarity = Some(m.similarity);
                        if let Some(a) =
                            answer(scope.endpoint, hit, req, "SEMANTIC HIT", similarity)
                        {
                            return Semantic::Hit(a);
                        }
                    }
                    // The answer expired or was evicted before its vector.
                    None => sem.forget(&partition, &m.key),
                }
            }
        }
        Semantic::Miss(partition, vector)
    }
}

/// The embedding of the request's text, kept for its other attempts.
#[derive(Clone)]
struct Embedded {
    text: String,
    vector: Arc<[f32]>,
}

/// What a semantic lookup found.
enum Semantic {
    Hit(EarlyAnswer),
    /// No stored request was close enough: the partition and vector to store the answer under.
    Miss(CacheKey, Arc<[f32]>),
    /// Not looked up by meaning (see `semantic::text`), or the embedding failed.
    Skipped,
}

/// A hit, as the request wants it: the JSON, or the stream replayed from it.
fn answer(
    endpoint: Endpoint,
    body: Bytes,
    req: &RequestContext,
    status: &'static str,
    similarity: Option<f32>,
) -> Option<EarlyAnswer> {
    let mut headers = HeaderMap::new();
    headers.insert(CACHE_STATUS, HeaderValue::from_static(status));
    if let Some(s) = similarity {
        if let Ok(v) = HeaderValue::from_str(&format!("{s:.4}")) {
            headers.insert(CACHE_SIMILARITY, v);
        }
    }
    let body = if req.stream && endpoint == Endpoint::Messages {
        // A stored message, replayed as Anthropic's event stream.
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        Bytes::from(switchyard_providers::dialect::anthropic::replay(&body)?)
    } else if req.stream && endpoint != Endpoint::Embeddings {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        to_sse(endpoint, &body, req.include_usage)?
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
            semantic: self.semantic.clone(),
        }))
    }
}

/// Sees the answer go by; stores it when it ended complete.
struct Collector {
    assembler: Option<Assembler>,
    intent: Intent,
    store: Arc<Store>,
    semantic: Option<Arc<semantic::Semantic>>,
}

impl StreamTap for Collector {
    fn on_chunk(&mut self, chunk: Bytes) -> ChunkAction {
        if let Some(a) = self.assembler.as_mut() {
            a.push(&chunk);
        }
        ChunkAction::Send(chunk)
    }

    fn on_end(&mut self, usage: Option<TokenUsage>) -> Option<Bytes> {
        let body = without_hook_results(self.assembler.take()?.finish(usage)?)?;
        let store = self.store.clone();
        let semantic = self.semantic.clone();
        let i = self.intent.clone();
        // Storing waits for nobody: the client has its answer. The vector goes in after the
        // answer, so a search never finds one whose answer is not there yet.
        tokio::spawn(async move {
            store.put(i.key, &i.namespace, body, i.ttl).await;
            if let (Some(sem), Some((partition, vector))) = (semantic, &i.semantic) {
                sem.remember(
                    *partition,
                    vector.clone(),
                    i.key,
                    i.namespace.clone(),
                    i.ttl,
                )
                .await;
            }
        });
        None
    }
}

/// The answer without the `hook_results` guardrails added to it: they belong to the request
/// that ran the hooks (a hit runs the target's hooks again). `None` if it can't be read.
fn without_hook_results(body: Bytes) -> Option<Bytes> {
    if memchr::memmem::find(&body, b"\"hook_results\"").is_some() {
        let mut v: Map<String, Value> = serde_json::from_slice(&body).ok()?;
        v.remove("hook_results");
        return serde_json::to_vec(&v).ok().map(Bytes::from);
    }
    Some(body)
}
