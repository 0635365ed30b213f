//! Anthropic Messages requests (`POST /v1/messages`) on any target.
//!
//! - **Claude targets** — Anthropic, Claude on Vertex AI, Claude on Bedrock — get the client's
//!   body as it wrote it, with only the addressing each host needs
//!   (`switchyard_providers::dialect::claude`); their answer passes back untouched and their
//!   stream is relayed (Bedrock's event stream re-framed as SSE).
//! - **Every other target** gets the request translated to a chat completion
//!   (`dialect::anthropic`), built and sent like any chat completion to that target; its
//!   answer — whatever provider wrote it — comes back as an Anthropic message or event stream.

use bytes::Bytes;
use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue, Method};
use switchyard_providers::dialect::claude::{self, ClaudeCall, ClaudeHost};
use switchyard_providers::dialect::{anthropic, openai::OPENAI_SHAPE};
use switchyard_providers::native::NativeAdapter;
use switchyard_providers::{Endpoint, Native, ProviderKind};
use switchyard_types::chat::ChatRequest;

use super::native::{translate_error, unix_now, NativeCall, NativeOp, Relay, Shape};
use super::wire::{build_as, patched_body, Input, Wire, USER_AGENT};
use crate::context::{Operation, RequestContext};
use crate::error::GatewayError;
use crate::routing::tree::Leaf;

const ANTHROPIC_VERSION: HeaderName = HeaderName::from_static("anthropic-version");
const ANTHROPIC_BETA: HeaderName = HeaderName::from_static("anthropic-beta");

/// The request for a Messages call on `leaf`.
pub(super) fn build(
    leaf: &Leaf,
    req: &RequestContext,
    stream_usage: bool,
) -> Result<Wire, GatewayError> {
    let asked = req.model_rewrite.as_deref().or(req.model.as_deref());
    let model = leaf.model_sent(asked).unwrap_or_default();
    let host = match leaf.provider.spec.kind {
        ProviderKind::Native(Native::Anthropic) => Some(ClaudeHost::Anthropic),
        ProviderKind::Native(Native::VertexAi) => Some(ClaudeHost::Vertex),
        ProviderKind::Native(Native::Bedrock) => Some(ClaudeHost::Bedrock),
        _ => None,
    }
    .filter(|h| claude::is_claude_on(*h, &model));
    let counting = req.op == Operation::Endpoint(Endpoint::CountTokens);
    match host {
        Some(host) => native(leaf, req, host, &model, counting),
        None if counting => Err(GatewayError::bad_request(
            format!(
                "counting tokens is served by Claude targets (Anthropic, Vertex AI, Bedrock); `{}` has no such API",
                leaf.provider.slug
            ),
            Some("model"),
        )),
        None => bridged(leaf, req, &model, stream_usage),
    }
}

/// The client's body, sent to a host that serves Claude.
fn native(
    leaf: &Leaf,
    req: &RequestContext,
    host: ClaudeHost,
    model: &str,
    counting: bool,
) -> Result<Wire, GatewayError> {
    let op = Operation::Endpoint(Endpoint::Messages);
    let input = Input {
        op: &op,
        body: req.attempt_body(),
        include_usage: false,
        has_stream_options: false,
    };
    let body = patched_body(leaf, req, &input, false)?;
    let (adapter, model): (&'static dyn NativeAdapter, &str) = match host {
        ClaudeHost::Anthropic => (&switchyard_providers::anthropic::Anthropic, model),
        ClaudeHost::Vertex => (
            &switchyard_providers::anthropic::VertexAnthropic,
            model.strip_prefix("anthropic.").unwrap_or(model),
        ),
        ClaudeHost::Bedrock => (&switchyard_providers::bedrock::Bedrock, model),
    };
    let client_header = |name: &HeaderName| {
        req.client_headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
    };
    let option = |key: &str| {
        leaf.options
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    };
    let mut betas = client_header(&ANTHROPIC_BETA);
    betas.extend(option("anthropic_beta"));
    let version = client_header(&ANTHROPIC_VERSION)
        .first()
        .copied()
        .or_else(|| option("anthropic_version"));
    let vertex = match (option("vertex_project_id"), option("vertex_region")) {
        // Checked to be URL-safe path segments by `claude::native_request`.
        (Some(p), Some(r)) if host == ClaudeHost::Vertex => Some((p, r)),
        _ => None,
    };
    let call = ClaudeCall {
        model,
        stream: req.stream,
        version,
        betas,
        vertex,
    };
    let wire = if counting {
        claude::count_tokens_request(host, &body, &call)
    } else {
        claude::native_request(host, &body, &call)
    }
    .map_err(translate_error)?;
    let base = match leaf.custom_host.as_deref() {
        Some(h) => h.trim_end_matches('/').to_owned(),
        None if leaf.provider.base_url().is_empty() => {
            adapter.base_url(&leaf.options).map_err(translate_error)?
        }
        None => leaf.provider.base_url().trim_end_matches('/').to_owned(),
    };
    let mut headers = HeaderMap::with_capacity(8);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
    headers.insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static("identity"),
    );
    for (k, v) in &wire.headers {
        let value = HeaderValue::from_str(v).map_err(|_| {
            GatewayError::bad_request(
                format!("`{k}` holds characters not allowed in a header"),
                Some(k),
            )
        })?;
        if let Ok(name) = HeaderName::from_bytes(k.as_bytes()) {
            headers.insert(name, value);
        }
    }
    let relay = match host {
        ClaudeHost::Bedrock => Relay::BedrockClaude,
        _ => Relay::AnthropicSse,
    };
    let shape = match (counting, host) {
        (true, ClaudeHost::Bedrock) => Shape::BedrockTokenCount,
        _ => Shape::Relay(relay),
    };
    if req.stream && !counting {
        let accept = match relay {
            Relay::BedrockClaude => "application/vnd.amazon.eventstream",
            Relay::AnthropicSse => "text/event-stream",
        };
        headers.insert(header::ACCEPT, HeaderValue::from_static(accept));
    }
    let url = format!("{base}{}", wire.path);
    let uri = url.parse().map_err(|_| {
        GatewayError::bad_request(
            format!("`{url}` is not a valid upstream URL"),
            Some("custom_host"),
        )
    })?;
    Ok(Wire {
        method: Method::POST,
        uri,
        headers,
        body: Bytes::from(wire.body),
        native: Some(NativeCall {
            adapter,
            op: NativeOp::Chat,
            shape,
            model: model.to_owned(),
            stream: req.stream && !counting,
            include_usage: true,
            response_id: String::new(),
            created: unix_now(),
            options: leaf.options.clone(),
            // The answer is relayed as Claude wrote it.
            strict: false,
        }),
        usage_injected: false,
    })
}

/// The request translated to a chat completion for a target that is not Claude.
fn bridged(
    leaf: &Leaf,
    req: &RequestContext,
    model: &str,
    stream_usage: bool,
) -> Result<Wire, GatewayError> {
    let chat = anthropic::request_to_chat(&req.attempt_body()).map_err(translate_error)?;
    through_chat(leaf, req, chat, Shape::Messages, model, stream_usage)
}

/// A request of another dialect, translated to `chat`, sent to `leaf` as a chat completion;
/// its answer is written back in `shape`.
pub(super) fn through_chat(
    leaf: &Leaf,
    req: &RequestContext,
    mut chat: ChatRequest,
    shape: Shape,
    model: &str,
    stream_usage: bool,
) -> Result<Wire, GatewayError> {
    if let Some(m) = req.model.as_deref() {
        // The client's model: `model` rewriting and `override_params` apply as for chat.
        chat.model = m.to_owned();
    }
    let body = serde_json::to_vec(&chat)
        .map_err(|e| GatewayError::Internal(format!("serialising the chat request: {e}")))?;
    let op = Operation::Endpoint(Endpoint::ChatCompletions);
    let input = Input {
        op: &op,
        body: Bytes::from(body),
        include_usage: chat.include_usage(),
        has_stream_options: chat.stream_options.is_some(),
    };
    let mut wire = build_as(leaf, req, &input, stream_usage)?;
    match &mut wire.native {
        Some(call) => {
            call.shape = shape;
            // The dialect's encoder has a place for the reasoning the chat answer carries.
            call.strict = false;
        }
        None => {
            wire.native = Some(NativeCall {
                adapter: &OPENAI_SHAPE,
                op: NativeOp::Chat,
                shape,
                model: model.to_owned(),
                stream: req.stream,
                include_usage: true,
                response_id: format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
                created: unix_now(),
                options: Default::default(),
                strict: false,
            })
        }
    }
    wire.usage_injected = false;
    Ok(wire)
}
