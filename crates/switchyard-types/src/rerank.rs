//! Typed rerank shapes (`POST /v1/rerank`), as Cohere's v2 Rerank API writes them. OpenAI has
//! no rerank API, so the gateway serves Cohere's: hosts with another shape (Voyage, Fireworks)
//! are translated to and from it.
//!
//! Members the types do not name are kept (`extra`), so nothing a client or a host wrote is
//! dropped on the way through.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use crate::usage::TokenUsage;

/// `POST /v1/rerank` request (Cohere v2, plus v1's `return_documents` and `rank_fields`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RerankRequest {
    /// Required by every host but Jina; may come from a config's `override_params`, so it is
    /// checked when the request is built for a target, not when it is read.
    #[serde(default)]
    pub model: String,
    pub query: String,
    pub documents: Vec<RerankDocument>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_n: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_documents: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens_per_doc: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank_fields: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One document: a string, or an object (`{"text": …}`, or the fields `rank_fields` names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RerankDocument {
    Text(String),
    Object(Map<String, Value>),
}

impl RerankDocument {
    /// The document as plain text: the string, or an object that holds only a string `text`.
    pub fn plain_text(&self) -> Option<&str> {
        match self {
            RerankDocument::Text(s) => Some(s),
            RerankDocument::Object(o) if o.len() == 1 => o.get("text").and_then(Value::as_str),
            RerankDocument::Object(_) => None,
        }
    }
}

/// The rerank answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RerankResponse {
    pub id: String,
    /// Most relevant first.
    pub results: Vec<RerankResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<RerankMeta>,
    /// Tokens, as hosts other than Cohere report them (`total_tokens`, …); kept as they wrote
    /// it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<RerankUsage>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RerankResult {
    /// The document's position in the request's `documents`.
    pub index: u64,
    pub relevance_score: f64,
    /// With `return_documents: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<ResultDocument>,
}

/// A returned document: `{"text": …}` (other members kept).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultDocument {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Cohere's `meta`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RerankMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billed_units: Option<Units>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Units>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `meta.billed_units` and `meta.tokens`. Cohere documents these as numbers (not necessarily
/// integers): kept as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Units {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_units: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<Number>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `usage` as Jina, Voyage, Together and Fireworks write it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RerankUsage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_tokens: Option<Number>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RerankUsage {
    /// The input tokens: `prompt_tokens`, else `total_tokens` (a reranker generates nothing).
    pub fn input_tokens(&self) -> Option<u64> {
        self.prompt_tokens
            .as_ref()
            .and_then(Number::as_u64)
            .filter(|n| *n > 0)
            .or_else(|| self.total_tokens.as_ref().and_then(Number::as_u64))
    }
}

impl RerankResponse {
    /// The tokens the answer reports, for the gateway's accounting: `usage`, else Cohere's
    /// `meta.tokens`, else `meta.billed_units`. Counts that are not non-negative integers are
    /// not read.
    pub fn token_usage(&self) -> Option<TokenUsage> {
        if let Some(input) = self.usage.as_ref().and_then(RerankUsage::input_tokens) {
            return Some(TokenUsage::new(input, 0));
        }
        let meta = self.meta.as_ref()?;
        [meta.tokens.as_ref(), meta.billed_units.as_ref()]
            .into_iter()
            .flatten()
            .find_map(|u| {
                let input = u.input_tokens.as_ref().and_then(Number::as_u64)?;
                let output = u
                    .output_tokens
                    .as_ref()
                    .and_then(Number::as_u64)
                    .unwrap_or(0);
                Some(TokenUsage::new(input, output))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_request_keeps_members_it_does_not_name_and_takes_both_document_forms() {
        let body = json!({
            "model": "rerank-v3.5",
            "query": "capital?",
            "documents": ["Paris", {"text": "Berlin"}, {"title": "x", "text": "y"}],
            "top_n": 2,
            "priority": 3
        });
        let req: RerankRequest = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(req.documents[0].plain_text(), Some("Paris"));
        assert_eq!(req.documents[1].plain_text(), Some("Berlin"));
        assert_eq!(req.documents[2].plain_text(), None);
        assert_eq!(req.extra["priority"], 3);
        assert_eq!(serde_json::to_value(&req).unwrap(), body);
    }

    #[test]
    fn a_negative_top_n_or_a_missing_query_is_refused() {
        let bad = json!({"model": "m", "query": "q", "documents": [], "top_n": -1});
        assert!(serde_json::from_value::<RerankRequest>(bad).is_err());
        let bad = json!({"model": "m", "documents": ["a"]});
        assert!(serde_json::from_value::<RerankRequest>(bad).is_err());
    }

    #[test]
    fn usage_is_read_from_usage_then_meta_tokens_then_billed_units() {
        let cohere: RerankResponse = serde_json::from_value(json!({
            "id": "r", "results": [{"index": 0, "relevance_score": 0.5}],
            "meta": {"api_version": {"version": "2"}, "billed_units": {"search_units": 1}}
        }))
        .unwrap();
        assert_eq!(cohere.token_usage(), None);
        let tokens: RerankResponse = serde_json::from_value(json!({
            "id": "r", "results": [],
            "meta": {"tokens": {"input_tokens": 12, "output_tokens": 0}}
        }))
        .unwrap();
        assert_eq!(tokens.token_usage(), Some(TokenUsage::new(12, 0)));
        let usage: RerankResponse = serde_json::from_value(json!({
            "id": "r", "results": [], "usage": {"total_tokens": 815}
        }))
        .unwrap();
        assert_eq!(usage.token_usage(), Some(TokenUsage::new(815, 0)));
        let odd: RerankResponse = serde_json::from_value(json!({
            "id": "r", "results": [], "usage": {"total_tokens": -3.5}
        }))
        .unwrap();
        assert_eq!(odd.token_usage(), None);
    }
}
