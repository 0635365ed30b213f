//! Rerank (`POST /v1/rerank`) in Cohere's v2 shape: a JSON, non-streaming endpoint served
//! through the same attempt loop as embeddings (routing, retries, fallback).
//!
//! Cohere is reached through its native adapter; the OpenAI-compatible hosts with a rerank API
//! (Jina, Voyage, Together, Fireworks) through `switchyard_providers::rerank`, at the URL the
//! catalogue gives them (`{base}{prefix}/rerank`). Either way the answer is read back into
//! Cohere's shape by a [`NativeCall`], which also reports its tokens. Every other provider is
//! refused before any I/O (the catalogue's endpoint list), so a fallback moves on.

use bytes::Bytes;
use switchyard_providers::native::{NativeAdapter, WireRequest};
use switchyard_providers::Native;
use switchyard_types::rerank::RerankRequest;

use super::native::{parse_typed, translate_error, unix_now, NativeCall, NativeOp, Shape};
use crate::error::GatewayError;
use crate::routing::tree::Leaf;

/// The request for a native provider (Cohere) with a rerank API.
pub(super) fn native(
    kind: Native,
    leaf: &Leaf,
    body: &[u8],
) -> Result<(NativeCall, WireRequest), GatewayError> {
    let req: RerankRequest = parse_typed(body)?;
    let (adapter, model) =
        switchyard_providers::adapter(kind, &req.model).map_err(translate_error)?;
    let call = call(adapter, model, leaf);
    let wire = adapter
        .rerank_request(&req, &call.cx())
        .map_err(translate_error)?;
    Ok((call, wire))
}

/// The body for an OpenAI-compatible host with a rerank API, and how to read its answer.
/// `body` is the client's with `model` rewriting and `override_params` applied.
pub(super) fn host(leaf: &Leaf, body: &[u8]) -> Result<(Bytes, NativeCall), GatewayError> {
    let adapter = switchyard_providers::rerank::host(leaf.provider.spec.slug).ok_or_else(|| {
        GatewayError::bad_request(
            format!("provider `{}` does not support rerank", leaf.provider.slug),
            Some("model"),
        )
    })?;
    let req: RerankRequest = parse_typed(body)?;
    let call = call(adapter, &req.model, leaf);
    let wire = adapter
        .rerank_request(&req, &call.cx())
        .map_err(translate_error)?;
    Ok((Bytes::from(wire.body), call))
}

fn call(adapter: &'static dyn NativeAdapter, model: &str, leaf: &Leaf) -> NativeCall {
    NativeCall {
        adapter,
        op: NativeOp::Rerank,
        shape: Shape::OpenAi,
        model: model.to_owned(),
        stream: false,
        include_usage: false,
        response_id: format!("rerank-{}", uuid::Uuid::new_v4().simple()),
        created: unix_now(),
        options: leaf.options.clone(),
        // Nothing in a rerank answer depends on OpenAI compliance.
        strict: true,
    }
}

/// Checks a client's rerank body once, before it is routed: a body that is not a rerank
/// request is the client's error on every target (no target is tried).
pub fn validate(body: &[u8]) -> Result<(), GatewayError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let req: RerankRequest = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        GatewayError::BadRequest {
            message: format!("invalid rerank request: `{path}`: {inner}"),
            param: (path != ".").then_some(path),
        }
    })?;
    if req.extra.get("stream").and_then(serde_json::Value::as_bool) == Some(true) {
        return Err(GatewayError::bad_request(
            "rerank does not stream: leave `stream` out",
            Some("stream"),
        ));
    }
    if req.documents.is_empty() {
        return Err(GatewayError::bad_request(
            "`documents` is empty: send at least one document to rank",
            Some("documents"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate;
    use crate::error::GatewayError;

    fn param(body: &str) -> Option<String> {
        match validate(body.as_bytes()) {
            Err(GatewayError::BadRequest { param, .. }) => param,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_body_that_is_not_a_rerank_request_names_the_offending_member() {
        // A missing member is the whole body's fault: no `param`.
        assert_eq!(param(r#"{"model":"m","documents":["a"]}"#), None);
        assert_eq!(
            param(r#"{"model":"m","query":"q","documents":["a"],"top_n":"3"}"#).as_deref(),
            Some("top_n")
        );
        assert_eq!(
            param(r#"{"model":"m","query":"q","documents":[]}"#).as_deref(),
            Some("documents")
        );
        assert_eq!(
            param(r#"{"model":"m","query":"q","documents":["a"],"stream":true}"#).as_deref(),
            Some("stream")
        );
        assert!(validate(br#"{"query":"q","documents":["a",{"text":"b"}]}"#).is_ok());
    }
}
