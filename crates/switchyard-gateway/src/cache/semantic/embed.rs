//! Embeddings for semantic lookups, from a route of the server file (`cache.semantic.route`).
//!
//! The route is run like a client's `POST /v1/embeddings` with `model` set to the route's
//! name — retries, fallbacks and any provider with embeddings (OpenAI, Cohere, Gemini, a
//! local Ollama…) work as they do for clients — by an engine of its own that runs no pipeline
//! hooks (an embedding is never cached, logged as a request, or semantic-looked-up itself).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use serde::Deserialize;
use switchyard_providers::Endpoint;

use crate::context::{Operation, RequestContext};
use crate::engine::{Engine, SuccessBody};
use crate::routing::tree::Node;

/// Why no embedding came back (the request then goes on without a semantic lookup).
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("the embedding route failed: {0}")]
    Route(String),
    #[error("the embedding took longer than {0:?}")]
    Timeout(Duration),
    #[error("the embedding route answered no usable vector")]
    NoVector,
}

/// Turns text into vectors through the configured route.
pub struct Embedder {
    engine: Engine,
    route: Arc<Node>,
    name: String,
    timeout: Duration,
}

#[derive(Deserialize)]
struct Answer {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    embedding: Vec<f32>,
}

impl Embedder {
    /// `engine` should have an empty pipeline.
    pub fn new(engine: Engine, route: Arc<Node>, name: String, timeout: Duration) -> Self {
        Embedder {
            engine,
            route,
            name,
            timeout,
        }
    }

    /// The route's name (part of every partition: two embedders' vectors never meet).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The embedding of `text`, for the request `trace_id`.
    pub async fn embed(&self, text: &str, trace_id: &Arc<str>) -> Result<Vec<f32>, EmbedError> {
        let body = serde_json::json!({"model": self.name, "input": text}).to_string();
        let mut req = RequestContext::new(
            trace_id.clone(),
            Operation::Endpoint(Endpoint::Embeddings),
            Bytes::from(body),
            true,
            false,
            HeaderMap::new(),
        );
        req.model = Some(self.name.clone());
        let outcome = tokio::time::timeout(self.timeout, self.engine.execute(&self.route, &req))
            .await
            .map_err(|_| EmbedError::Timeout(self.timeout))?;
        let success = outcome.map_err(|f| EmbedError::Route(f.error.to_string()))?;
        let SuccessBody::Full(bytes) = success.body else {
            return Err(EmbedError::NoVector);
        };
        let answer: Answer = serde_json::from_slice(&bytes).map_err(|_| EmbedError::NoVector)?;
        answer
            .data
            .into_iter()
            .next()
            .map(|i| i.embedding)
            .filter(|v| !v.is_empty())
            .ok_or(EmbedError::NoVector)
    }
}
