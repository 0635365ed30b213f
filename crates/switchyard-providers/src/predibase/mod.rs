//! Predibase serverless and dedicated deployments through their OpenAI-compatible chat API:
//! `POST https://serving.app.predibase.com/{tenant}/deployments/v2/llms/{base_model}/v1/chat/completions`
//! (<https://docs.predibase.com/user-guide/inference/rest_api>). The body and the answers are
//! OpenAI-shaped; what is Predibase's own is the address, built as Portkey builds it:
//!
//! - the model is `<base_model>[:<adapter_id>]` (an adapter id is `<repository>/<version>`):
//!   the base model goes in the path and the body's `model` is the adapter id (empty: the base
//!   model itself);
//! - the tenant is the `predibase_tenant_id` option, else the request's `user` (Portkey's way:
//!   its `user` names the tenant and is not sent on).
//!
//! The gateway adds the `Authorization: Bearer` key.

mod stream;

use serde_json::{json, Value};
use switchyard_types::chat::{ChatRequest, ChatResponse};
use switchyard_types::{ErrorEnvelope, ErrorKind};

use crate::native::{
    ChunkTranslator, NativeAdapter, ProviderOptions, StreamFraming, TranslateError, WireContext,
    WireRequest,
};

/// The default Predibase serving host.
pub const BASE_URL: &str = "https://serving.app.predibase.com";

/// The option naming the tenant (`x-portkey-predibase-tenant-id`, a config's
/// `predibaseTenantId`); without it the request's `user` is the tenant, as in Portkey.
pub const TENANT_OPTION: &str = "predibase_tenant_id";

/// The Predibase adapter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Predibase;

fn invalid(msg: impl Into<String>, param: &str) -> TranslateError {
    TranslateError::invalid_request(msg, Some(param))
}

/// A path segment made of letters, digits, `-`, `_` and `.` (not `.` or `..`).
fn segment_ok(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// `(base_model, adapter_id)` from `<base_model>[:<adapter_id>]`, split at the first `:`.
fn split_model(model: &str) -> (&str, &str) {
    model.split_once(':').unwrap_or((model, ""))
}

fn tenant<'a>(
    req: &'a ChatRequest,
    options: &'a ProviderOptions,
) -> Result<&'a str, TranslateError> {
    let (param, value) = match options.get(TENANT_OPTION).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        Some(t) => (TENANT_OPTION, t),
        None => match req.user.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(u) => ("user", u),
            None => {
                return Err(invalid(
                    "predibase needs the tenant id: the predibase_tenant_id option or the request's `user`",
                    TENANT_OPTION,
                ))
            }
        },
    };
    if !segment_ok(value) {
        return Err(invalid(
            "the Predibase tenant id may hold only letters, digits, '-', '_' and '.'",
            param,
        ));
    }
    Ok(value)
}

impl NativeAdapter for Predibase {
    fn base_url(&self, _options: &ProviderOptions) -> Result<String, TranslateError> {
        Ok(BASE_URL.to_owned())
    }

    fn chat_request(
        &self,
        req: &ChatRequest,
        cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        let tenant = tenant(req, cx.options)?;
        let (base_model, adapter_id) = split_model(cx.model);
        if !segment_ok(base_model) {
            return Err(invalid(
                format!(
                    "{:?} is not a Predibase model (`<base_model>[:<adapter_id>]`)",
                    cx.model
                ),
                "model",
            ));
        }
        let mut body = serde_json::to_value(req)
            .map_err(|e| TranslateError::invalid_request(e.to_string(), None))?;
        let Value::Object(obj) = &mut body else {
            return Err(TranslateError::invalid_request(
                "the request is not a JSON object",
                None,
            ));
        };
        obj.insert("model".into(), json!(adapter_id));
        obj.insert("stream".into(), json!(cx.stream));
        // `user` named the tenant; `stream_options` is OpenAI's (the stream's usage is read
        // from Predibase's last chunk).
        obj.remove("user");
        obj.remove("stream_options");
        if let Some(Value::Array(messages)) = obj.get_mut("messages") {
            for m in messages {
                if m.get("role").and_then(Value::as_str) == Some("developer") {
                    m["role"] = json!("system");
                }
                // An assistant turn with only tool calls keeps OpenAI's `content: null`.
                if let Value::Object(o) = m {
                    o.entry("content").or_insert(Value::Null);
                }
            }
        }
        Ok(WireRequest {
            path: format!("/{tenant}/deployments/v2/llms/{base_model}/v1/chat/completions"),
            headers: Vec::new(),
            body: serde_json::to_vec(&body)
                .map_err(|e| TranslateError::invalid_request(e.to_string(), None))?,
        })
    }

    fn chat_response(
        &self,
        body: &[u8],
        cx: &WireContext<'_>,
    ) -> Result<ChatResponse, TranslateError> {
        let mut resp: ChatResponse = serde_json::from_slice(body).map_err(|e| {
            TranslateError::InvalidResponse(format!("Predibase chat response: {e}"))
        })?;
        if resp.choices.is_empty() {
            return Err(TranslateError::InvalidResponse(
                "Predibase chat response has no choices".into(),
            ));
        }
        if resp.id.is_empty() {
            resp.id = cx.response_id.to_owned();
        }
        if resp.created == 0 {
            resp.created = cx.created;
        }
        resp.model = cx.model.to_owned();
        // Predibase labels its chat answers `text_completion`.
        resp.object = "chat.completion".into();
        Ok(resp)
    }

    fn chat_stream(&self, cx: &WireContext<'_>) -> Box<dyn ChunkTranslator> {
        Box::new(stream::PredibaseStream::new(cx))
    }

    fn stream_framing(&self) -> StreamFraming {
        StreamFraming::Sse
    }

    /// A non-2xx body: OpenAI's `{"error": {"message", "type", "code"}}`, or `{"error": "…"}` /
    /// `{"detail": "…"}`; the `type` follows the status.
    fn error_response(&self, status: u16, body: &[u8]) -> ErrorEnvelope {
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let message = parsed
            .as_ref()
            .and_then(|v| {
                v.pointer("/error/message")
                    .or_else(|| v.get("error"))
                    .or_else(|| v.get("detail"))
                    .or_else(|| v.get("message"))
                    .and_then(Value::as_str)
            })
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| {
                let raw = String::from_utf8_lossy(body);
                let raw = raw.trim();
                if raw.is_empty() {
                    format!("Predibase returned HTTP {status}")
                } else {
                    raw.chars().take(1000).collect()
                }
            });
        let mut env = ErrorEnvelope::new(ErrorKind::for_status(status), message);
        let code = parsed
            .as_ref()
            .and_then(|v| v.pointer("/error/code"))
            .and_then(|c| match c {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
        if let Some(code) = code {
            env = env.with_code(code);
        }
        env
    }
}

#[cfg(test)]
mod tests;
