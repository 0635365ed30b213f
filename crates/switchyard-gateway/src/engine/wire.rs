//! The upstream request for one leaf: method, URL, headers (without credentials) and body,
//! built once per leaf and replayed on each retry.
//!
//! For an OpenAI-compatible host the body is the client's bytes, with `model` and
//! `override_params` patched at the top level only when something changes; a native provider's
//! body is the typed request translated by its adapter. Which client headers go along is the
//! header policy's call (`upstream::headers`); credentials are added by `auth::apply`.

use bytes::Bytes;
use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue, Method, Uri};
use serde_json::value::RawValue;
use switchyard_providers::native::{ProviderOptions, StreamFraming, WireRequest};
use switchyard_providers::{Endpoint, Native, ProviderKind};
use switchyard_types::json::patch_object;

use super::native::{
    parse_chat, parse_embeddings, parse_typed, strict_compliance, translate_error, unix_now,
    NativeCall, NativeOp, Shape,
};
use crate::context::{Operation, RequestContext};
use crate::error::GatewayError;
use crate::routing::tree::Leaf;
use crate::upstream::headers::proxy_request_headers;
use switchyard_types::completions::CompletionsRequest;
use switchyard_types::images::ImagesRequest;

/// The request to send, prepared once per leaf and replayed on each retry.
pub struct Wire {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Set for native providers: how to translate the response.
    pub native: Option<NativeCall>,
    /// The gateway added `stream_options.include_usage` for its own accounting: the usage
    /// chunk is read, then dropped rather than sent to the client who did not ask for it.
    pub usage_injected: bool,
}

/// Builds `leaf`'s request for `req`, without credentials. `stream_usage`: the server lets the
/// gateway ask OpenAI-compatible hosts for a stream's usage (`server.stream_usage`).
pub fn build(leaf: &Leaf, req: &RequestContext, stream_usage: bool) -> Result<Wire, GatewayError> {
    match req.op {
        Operation::Endpoint(Endpoint::Messages | Endpoint::CountTokens) => {
            return super::messages::build(leaf, req, stream_usage)
        }
        Operation::Endpoint(Endpoint::Responses) => {
            return super::responses::build(leaf, req, stream_usage)
        }
        _ => {}
    }
    let input = Input::of(req);
    build_as(leaf, req, &input, stream_usage)
}

/// What a leaf's request is built from: the client's request, or its translation to another
/// endpoint (a dialect bridged through chat completions).
pub(super) struct Input<'a> {
    pub op: &'a Operation,
    /// The body before `model` rewriting and `override_params`.
    pub body: Bytes,
    pub include_usage: bool,
    pub has_stream_options: bool,
}

impl<'a> Input<'a> {
    /// The request's own operation and body (as a per-attempt hook left it).
    pub fn of(req: &'a RequestContext) -> Self {
        Input {
            op: &req.op,
            body: req.attempt_body(),
            include_usage: req.include_usage,
            has_stream_options: req.has_stream_options,
        }
    }
}

/// [`build`], for `input` instead of the request's own operation and body.
pub(super) fn build_as(
    leaf: &Leaf,
    req: &RequestContext,
    input: &Input<'_>,
    stream_usage: bool,
) -> Result<Wire, GatewayError> {
    let spec = leaf.provider.spec;
    if let Operation::Endpoint(e) = input.op {
        // Image generation goes to any OpenAI-compatible host as it is (the host answers or
        // refuses); a native provider's adapter says whether it has an image API.
        // A proxy-only provider (no endpoint in its catalogue row) takes only pass-through
        // paths.
        let passed_on =
            !spec.proxy_only() && matches!(e, Endpoint::ImageGenerations | Endpoint::Responses);
        if !spec.supports(*e) && !passed_on {
            let hint = if spec.proxy_only() {
                "; it is served through the pass-through proxy only (send its own API paths under /v1/)"
            } else {
                ""
            };
            return Err(GatewayError::bad_request(
                format!(
                    "provider `{}` does not support {}{hint}",
                    leaf.provider.slug,
                    endpoint_label(*e)
                ),
                Some("model"),
            ));
        }
    }
    let inject_usage = stream_usage
        && req.stream
        && !input.include_usage
        && req.json_body
        && spec.stream_usage
        && !matches!(spec.kind, ProviderKind::Native(_))
        && matches!(
            input.op,
            Operation::Endpoint(Endpoint::ChatCompletions | Endpoint::Completions)
        );
    let body = patched_body(leaf, req, input, inject_usage)?;
    // Rerank on an OpenAI-compatible host: the body in the host's shape, the answer read back.
    let (body, rerank) = match (spec.kind, input.op) {
        (ProviderKind::OpenAiCompatible, Operation::Endpoint(Endpoint::Rerank)) => {
            let (body, call) = super::rerank::host(leaf, &body)?;
            (body, Some(call))
        }
        _ => (body, None),
    };
    let mut headers = HeaderMap::with_capacity(8);
    match input.op {
        Operation::Endpoint(_) => {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        Operation::Proxy { .. } => {
            proxy_request_headers(&req.client_headers, leaf.server_credentials, &mut headers)
        }
    }
    headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
    // The gateway reads upstream bodies itself (validation, translation, usage): ask for them
    // uncompressed. A host that compresses anyway is decoded (`upstream` client).
    headers.insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static("identity"),
    );

    let (method, url, body, native) = match (spec.kind, input.op) {
        (ProviderKind::Native(kind), Operation::Endpoint(endpoint)) => {
            let strict = strict_compliance(leaf.strict_open_ai_compliance, &req.client_headers);
            let (call, wire) = native_request(kind, *endpoint, leaf, &body, strict)?;
            let base = match leaf.custom_host.as_deref() {
                Some(h) => h.trim_end_matches('/').to_owned(),
                None if leaf.provider.base_url().is_empty() => call
                    .adapter
                    .base_url(&leaf.options)
                    .map_err(translate_error)?,
                None => leaf.provider.base_url().trim_end_matches('/').to_owned(),
            };
            for (k, v) in &wire.headers {
                if let (Ok(k), Ok(v)) = (
                    HeaderName::from_bytes(k.as_bytes()),
                    HeaderValue::from_str(v),
                ) {
                    headers.insert(k, v);
                }
            }
            if call.stream {
                let accept = match call.adapter.stream_framing() {
                    StreamFraming::Sse => "text/event-stream",
                    StreamFraming::AwsEventStream => "application/vnd.amazon.eventstream",
                };
                headers.insert(header::ACCEPT, HeaderValue::from_static(accept));
            }
            (
                Method::POST,
                Url::Built(format!("{base}{}", wire.path)),
                Bytes::from(wire.body),
                Some(call),
            )
        }
        (ProviderKind::AzureOpenAi, op) => {
            let url = azure_url(leaf, op, req)?;
            (method_of(op), Url::Built(url), body, None)
        }
        // The same URI for every request to this target: built once.
        (_, Operation::Endpoint(e)) => {
            let memo = leaf.memo.uri(*e);
            let uri = match memo.get() {
                Some(uri) => uri.clone(),
                None => {
                    let base = match leaf.custom_host.as_deref() {
                        Some(h) => h.to_owned(),
                        None => base_of(leaf)?,
                    };
                    let uri = parse_uri(&spec.url(&base, e.path()))?;
                    memo.get_or_init(|| uri).clone()
                }
            };
            // Voyage and Jina name some embedding members their own way.
            let body = match e {
                Endpoint::Embeddings => {
                    match switchyard_providers::embedding_hosts::rewrite(spec.slug, &body)
                        .map_err(translate_error)?
                    {
                        Some(rewritten) => Bytes::from(rewritten),
                        None => body,
                    }
                }
                _ => body,
            };
            (Method::POST, Url::Known(uri), body, None)
        }
        (_, op) => {
            // A proxy-only native provider (SageMaker) takes its address and extra headers
            // from its options.
            let proxy_adapter = match spec.kind {
                ProviderKind::Native(kind) if spec.proxy_only() => Some(
                    switchyard_providers::adapter(kind, "")
                        .map_err(translate_error)?
                        .0,
                ),
                _ => None,
            };
            let base = match (leaf.custom_host.as_deref(), proxy_adapter) {
                (Some(h), _) => h.to_owned(),
                (None, Some(a)) if leaf.provider.base_url().is_empty() => {
                    a.base_url(&leaf.options).map_err(translate_error)?
                }
                (None, _) => base_of(leaf)?,
            };
            for (k, v) in proxy_adapter
                .map(|a| a.proxy_headers(&leaf.options))
                .unwrap_or_default()
            {
                let value = HeaderValue::from_str(&v).map_err(|_| {
                    GatewayError::bad_request(
                        format!("{k} holds characters not allowed in an HTTP header"),
                        None,
                    )
                })?;
                if let Ok(name) = HeaderName::from_bytes(k.as_bytes()) {
                    headers.insert(name, value);
                }
            }
            let proxied;
            let path = match op {
                Operation::Endpoint(e) => e.path(),
                Operation::Proxy { path, .. } => {
                    proxied = spec.proxy_path(path);
                    without_repeated_version(&base, spec.prefix, &proxied)
                }
            };
            (method_of(op), Url::Built(spec.url(&base, path)), body, None)
        }
    };
    if req.stream && native.is_none() && matches!(input.op, Operation::Endpoint(_)) {
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/event-stream"),
        );
    }
    let native = native.or(rerank);
    openai_account_headers(leaf, &mut headers)?;
    let uri = match url {
        Url::Known(uri) => uri,
        Url::Built(url) => parse_uri(&url)?,
    };
    Ok(Wire {
        method,
        uri,
        headers,
        body,
        native,
        usage_injected: inject_usage,
    })
}

/// An upstream URL: memoised for the leaf, or built for this request.
enum Url {
    Known(Uri),
    Built(String),
}

fn parse_uri(url: &str) -> Result<Uri, GatewayError> {
    url.parse().map_err(|_| {
        GatewayError::bad_request(
            format!("`{url}` is not a valid upstream URL"),
            Some("custom_host"),
        )
    })
}

/// A pass-through path that starts with the version segment its base URL already ends with
/// (`…/v1` and `v1/messages`, as a client that adds the provider's own version writes) loses
/// the repeat, so it never becomes `/v1/v1/messages`.
fn without_repeated_version<'a>(base: &str, prefix: &str, path: &'a str) -> &'a str {
    let end = if prefix.is_empty() { base } else { prefix };
    let last = end.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let is_version = last.len() >= 2
        && last.starts_with('v')
        && last[1..].starts_with(|c: char| c.is_ascii_digit())
        && last.chars().all(|c| c.is_ascii_alphanumeric());
    if !is_version {
        return path;
    }
    match path.strip_prefix(last) {
        Some(rest) if rest.starts_with('/') => &rest[1..],
        _ => path,
    }
}

/// `OpenAI-Organization`, `OpenAI-Project` and `OpenAI-Beta` from the target's options
/// (`x-portkey-openai-organization`, … or the config's `openai_organization`, …), as Portkey
/// sends them: all three to OpenAI (and hosts added under the OpenAI spec), `OpenAI-Beta` to
/// Azure OpenAI.
fn openai_account_headers(leaf: &Leaf, headers: &mut HeaderMap) -> Result<(), GatewayError> {
    let names: &[(&str, &'static str)] = match (leaf.provider.spec.slug, leaf.provider.spec.kind) {
        ("openai", _) => &[
            ("openai_organization", "openai-organization"),
            ("openai_project", "openai-project"),
            ("openai_beta", "openai-beta"),
        ],
        (_, ProviderKind::AzureOpenAi) => &[("openai_beta", "openai-beta")],
        _ => return Ok(()),
    };
    for (option, header) in names {
        if let Some(v) = option_value(&leaf.options, &[option]) {
            let value = HeaderValue::from_str(v).map_err(|_| {
                GatewayError::bad_request(
                    format!("{option} holds characters not allowed in an HTTP header"),
                    Some(option),
                )
            })?;
            headers.insert(HeaderName::from_static(header), value);
        }
    }
    Ok(())
}

/// The client's body with `model` rewritten and `override_params` applied; the original
/// bytes when there is nothing to change.
/// The body as it is sent to an OpenAI-compatible target: the client's, with `model` rewritten
/// and `override_params` applied (what the cache keys on).
pub(crate) fn upstream_body(leaf: &Leaf, req: &RequestContext) -> Result<Bytes, GatewayError> {
    let input = Input::of(req);
    patched_body(leaf, req, &input, false)
}

pub(super) fn patched_body(
    leaf: &Leaf,
    req: &RequestContext,
    input: &Input<'_>,
    inject_usage: bool,
) -> Result<Bytes, GatewayError> {
    if !req.json_body
        || (req.model_rewrite.is_none() && leaf.override_params.is_empty() && !inject_usage)
    {
        return Ok(input.body.clone());
    }
    let stream_options = if inject_usage {
        Some(stream_options_with_usage(input)?)
    } else {
        None
    };
    let rewrite: Option<Box<RawValue>> = match &req.model_rewrite {
        Some(m) => Some(
            serde_json::value::to_raw_value(m)
                .map_err(|e| GatewayError::Internal(e.to_string()))?,
        ),
        None => None,
    };
    let mut patches: Vec<(&str, &RawValue)> = Vec::with_capacity(leaf.override_params.len() + 2);
    if let Some(r) = &rewrite {
        patches.push(("model", r));
    }
    if let Some(so) = &stream_options {
        patches.push(("stream_options", so));
    }
    patches.extend(
        leaf.override_params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_ref())),
    );
    Ok(patch_object(&input.body, &patches)?.into())
}

/// The client's `stream_options` with `include_usage: true` added (its other members kept).
fn stream_options_with_usage(input: &Input<'_>) -> Result<Box<RawValue>, GatewayError> {
    let internal = |e: serde_json::Error| GatewayError::Internal(e.to_string());
    if !input.has_stream_options {
        return RawValue::from_string(r#"{"include_usage":true}"#.to_owned()).map_err(internal);
    }
    #[derive(serde::Deserialize)]
    struct Body {
        stream_options: serde_json::Map<String, serde_json::Value>,
    }
    let mut so = serde_json::from_slice::<Body>(&input.body)
        .map_err(|e| {
            GatewayError::bad_request(format!("`stream_options`: {e}"), Some("stream_options"))
        })?
        .stream_options;
    so.insert("include_usage".into(), serde_json::Value::Bool(true));
    serde_json::value::to_raw_value(&so).map_err(internal)
}

/// Builds the provider request for a native provider.
fn native_request(
    kind: Native,
    endpoint: Endpoint,
    leaf: &Leaf,
    body: &[u8],
    strict: bool,
) -> Result<(NativeCall, WireRequest), GatewayError> {
    let call = |adapter, op, model: String, stream, include_usage| NativeCall {
        adapter,
        op,
        shape: Shape::OpenAi,
        model,
        stream,
        include_usage,
        response_id: format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
        created: unix_now(),
        options: leaf.options.clone(),
        strict,
    };
    match endpoint {
        Endpoint::ChatCompletions => {
            let chat = parse_chat(body)?;
            let (adapter, model) =
                switchyard_providers::adapter(kind, &chat.model).map_err(translate_error)?;
            let c = call(
                adapter,
                NativeOp::Chat,
                model.to_owned(),
                chat.is_stream(),
                chat.include_usage(),
            );
            let wire = adapter
                .chat_request(&chat, &c.cx())
                .map_err(translate_error)?;
            Ok((c, wire))
        }
        Endpoint::Embeddings => {
            let emb = parse_embeddings(body)?;
            let (adapter, model) =
                switchyard_providers::adapter(kind, &emb.model).map_err(translate_error)?;
            let c = call(
                adapter,
                NativeOp::Embeddings,
                model.to_owned(),
                false,
                false,
            );
            let wire = adapter
                .embeddings_request(&emb, &c.cx())
                .map_err(translate_error)?;
            Ok((c, wire))
        }
        Endpoint::ImageGenerations => {
            let images: ImagesRequest = parse_typed(body)?;
            let asked = images.model.clone().unwrap_or_default();
            let (adapter, model) =
                switchyard_providers::adapter(kind, &asked).map_err(translate_error)?;
            let c = call(adapter, NativeOp::Images, model.to_owned(), false, false);
            let wire = adapter
                .images_request(&images, &c.cx())
                .map_err(translate_error)?;
            Ok((c, wire))
        }
        Endpoint::Rerank => super::rerank::native(kind, leaf, body),
        Endpoint::Completions => {
            let cmpl: CompletionsRequest = parse_typed(body)?;
            // No native completions stream is translated: refused before any I/O.
            if cmpl.is_stream() {
                return Err(GatewayError::bad_request(
                    format!(
                        "provider `{}` does not support streaming completions",
                        leaf.provider.slug
                    ),
                    Some("stream"),
                ));
            }
            let (adapter, model) =
                switchyard_providers::adapter(kind, &cmpl.model).map_err(translate_error)?;
            let mut c = call(
                adapter,
                NativeOp::Completions,
                model.to_owned(),
                false,
                false,
            );
            c.response_id = format!("cmpl-{}", uuid::Uuid::new_v4().simple());
            let wire = adapter
                .completions_request(&cmpl, &c.cx())
                .map_err(translate_error)?;
            Ok((c, wire))
        }
        Endpoint::Messages | Endpoint::Responses | Endpoint::CountTokens => {
            Err(GatewayError::bad_request(
                format!(
                    "provider `{}` does not support {}",
                    leaf.provider.slug,
                    endpoint_label(endpoint)
                ),
                Some("model"),
            ))
        }
    }
}

fn method_of(op: &Operation) -> Method {
    match op {
        Operation::Endpoint(_) => Method::POST,
        Operation::Proxy { method, .. } => method.clone(),
    }
}

/// The provider's base URL, when it has one without options.
fn base_of(leaf: &Leaf) -> Result<String, GatewayError> {
    let base = leaf.provider.base_url();
    if base.is_empty() {
        return Err(GatewayError::bad_request(
            format!("provider `{}` needs a custom_host", leaf.provider.slug),
            Some("custom_host"),
        ));
    }
    Ok(base.to_owned())
}

/// Azure OpenAI sends the key as a bearer token when `azure_auth_mode` is `entra`.
pub(crate) fn is_entra(options: &ProviderOptions) -> bool {
    options
        .get("azure_auth_mode")
        .is_some_and(|m| m.eq_ignore_ascii_case("entra"))
}

fn option_value<'a>(options: &'a ProviderOptions, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|k| options.get(*k))
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
}

/// `https://{resource}.openai.azure.com/openai/deployments/{deployment}/{endpoint}?api-version=`.
fn azure_url(leaf: &Leaf, op: &Operation, req: &RequestContext) -> Result<String, GatewayError> {
    let opts = &leaf.options;
    let safe = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    let configured = Some(leaf.provider.base_url()).filter(|b| !b.is_empty());
    let base = match leaf.custom_host.as_deref().or(configured) {
        Some(h) => h.trim_end_matches('/').to_owned(),
        None => match option_value(opts, &["azure_resource_name", "resource_name"]) {
            Some(r) if safe(r) && !r.contains('.') => {
                format!("https://{r}.openai.azure.com/openai")
            }
            Some(_) => {
                return Err(GatewayError::bad_request(
                    "azure_resource_name may hold only letters, digits and '-'",
                    Some("azure_resource_name"),
                ))
            }
            None => {
                return Err(GatewayError::bad_request(
                    "azure-openai needs azure_resource_name (or a custom_host)",
                    Some("azure_resource_name"),
                ))
            }
        },
    };
    let version =
        option_value(opts, &["azure_api_version", "api_version"]).unwrap_or(AZURE_API_VERSION);
    match op {
        // The Responses API is addressed by resource, not deployment (the body's `model` names
        // the deployment), and needs a newer API version than the other endpoints.
        Operation::Endpoint(Endpoint::Responses) => {
            let version = option_value(opts, &["azure_api_version", "api_version"])
                .unwrap_or(AZURE_RESPONSES_API_VERSION);
            Ok(format!("{base}/responses?api-version={version}"))
        }
        Operation::Endpoint(e) => {
            let from_body = leaf
                .model_override()
                .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
                .or_else(|| req.model_rewrite.clone())
                .or_else(|| req.model.clone());
            let deployment = option_value(opts, &["azure_deployment_id", "deployment_id"])
                .map(str::to_owned)
                .or(from_body)
                .ok_or_else(|| {
                    GatewayError::bad_request(
                        "azure-openai needs azure_deployment_id (or a model naming the deployment)",
                        Some("azure_deployment_id"),
                    )
                })?;
            if !safe(&deployment) {
                return Err(GatewayError::bad_request(
                    "the Azure deployment name may hold only letters, digits, '-', '_' and '.'",
                    Some("azure_deployment_id"),
                ));
            }
            Ok(format!(
                "{base}/deployments/{deployment}/{}?api-version={version}",
                e.path()
            ))
        }
        Operation::Proxy { path, .. } if path.contains("api-version=") => {
            Ok(format!("{base}/{path}"))
        }
        Operation::Proxy { path, .. } => {
            let sep = if path.contains('?') { '&' } else { '?' };
            Ok(format!("{base}/{path}{sep}api-version={version}"))
        }
    }
}

/// The Azure OpenAI API version used when the target names none.
pub(crate) const AZURE_API_VERSION: &str = "2024-10-21";
/// The same, for the Responses API (which needs a newer one).
const AZURE_RESPONSES_API_VERSION: &str = "2025-04-01-preview";

pub(crate) const USER_AGENT: &str = concat!("switchyard/", env!("CARGO_PKG_VERSION"));

fn endpoint_label(e: Endpoint) -> &'static str {
    match e {
        Endpoint::ChatCompletions => "chat completions",
        Endpoint::Completions => "completions",
        Endpoint::Embeddings => "embeddings",
        Endpoint::Messages => "messages",
        Endpoint::ImageGenerations => "image generation",
        Endpoint::Responses => "responses",
        Endpoint::CountTokens => "token counting",
        Endpoint::Rerank => "rerank",
    }
}

#[cfg(test)]
mod tests {
    use super::without_repeated_version as dedupe;

    #[test]
    fn a_repeated_version_segment_is_dropped_once() {
        assert_eq!(
            dedupe("https://api.anthropic.com/v1", "", "v1/messages"),
            "messages"
        );
        assert_eq!(
            dedupe("https://api.openai.com/v1/", "", "v1/files"),
            "files"
        );
        assert_eq!(
            dedupe("https://api.together.xyz", "/v1", "v1/models"),
            "models"
        );
        assert_eq!(dedupe("https://host/v1beta", "", "v1beta/models"), "models");
        assert_eq!(dedupe("https://api.openai.com/v1", "", "files"), "files");
        assert_eq!(
            dedupe("https://api.openai.com/v1", "", "v1x/files"),
            "v1x/files"
        );
        assert_eq!(dedupe("https://host/openai", "", "openai/x"), "openai/x");
        assert_eq!(
            dedupe("https://api.cohere.com", "", "v2/rerank"),
            "v2/rerank"
        );
    }
}
