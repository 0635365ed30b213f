//! Helpers shared by the image-only native providers (Stability AI, Segmind): the chat methods
//! every [`crate::native::NativeAdapter`] must have refuse, and provider error bodies are read
//! into OpenAI's error shape.

use serde_json::Value;
use switchyard_types::chat::ChatChunk;
use switchyard_types::images::ImagesParamError;
use switchyard_types::{ErrorEnvelope, ErrorKind};

use crate::native::{ChunkTranslator, Frame, TranslateError};

/// The refusal of a chat request to an image-only provider (a 400 before any I/O; the
/// catalogue lists only image generation for these providers, so the gateway normally refuses
/// first).
pub(crate) fn no_chat(provider: &str) -> TranslateError {
    TranslateError::invalid_request(
        format!("{provider} offers image generation only (/v1/images/generations), not chat"),
        Some("model"),
    )
}

/// A chat stream translator that is never fed: chat requests are refused before any I/O.
pub(crate) struct NoChatStream(pub &'static str);

impl ChunkTranslator for NoChatStream {
    fn on_frame(&mut self, _frame: Frame<'_>) -> Result<Vec<ChatChunk>, TranslateError> {
        Err(no_chat(self.0))
    }

    fn finish(&mut self) -> Result<Vec<ChatChunk>, TranslateError> {
        Err(no_chat(self.0))
    }
}

/// An [`ImagesParamError`] as the 400 it stands for.
pub(crate) fn param(e: ImagesParamError) -> TranslateError {
    TranslateError::InvalidRequest {
        message: e.message,
        param: Some(e.param),
    }
}

/// A 400 naming `param`.
pub(crate) fn bad(message: impl Into<String>, param: &str) -> TranslateError {
    TranslateError::invalid_request(message, Some(param))
}

/// The prompt, refused when empty.
pub(crate) fn prompt(prompt: &str) -> Result<&str, TranslateError> {
    if prompt.trim().is_empty() {
        return Err(bad("prompt must not be empty", "prompt"));
    }
    Ok(prompt)
}

/// An OpenAI error for a provider's non-2xx answer: the message is the first of `keys` that
/// holds a string (or a list of strings, joined), else the body's text, else the status.
/// `type_key` names a member whose string becomes the error `code` (e.g. Stability's `name`).
pub(crate) fn error_envelope(
    provider: &str,
    status: u16,
    body: &[u8],
    keys: &[&str],
    type_key: Option<&str>,
) -> ErrorEnvelope {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let text_of = |v: &Value| -> Option<String> {
        match v {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Value::Array(items) => {
                let parts: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                (!parts.is_empty()).then(|| parts.join(", "))
            }
            Value::Object(o) => o
                .get("message")
                .and_then(Value::as_str)
                .filter(|m| !m.trim().is_empty())
                .map(str::to_owned),
            _ => None,
        }
    };
    let message = parsed
        .as_ref()
        .and_then(|v| keys.iter().find_map(|k| v.get(*k).and_then(text_of)))
        .unwrap_or_else(|| {
            let raw = String::from_utf8_lossy(body);
            let raw = raw.trim();
            if raw.is_empty() {
                format!("{provider} returned HTTP {status}")
            } else {
                format!(
                    "{provider} returned HTTP {status}: {}",
                    raw.chars().take(1000).collect::<String>()
                )
            }
        });
    let env = ErrorEnvelope::new(ErrorKind::for_status(status), message);
    match type_key
        .and_then(|k| parsed.as_ref()?.get(k)?.as_str())
        .filter(|c| !c.is_empty())
    {
        Some(code) => env.with_code(code),
        None => env,
    }
}

/// A provider's refusal on content grounds, as OpenAI reports it.
pub(crate) fn content_filtered(message: String) -> TranslateError {
    TranslateError::Upstream {
        status: 400,
        error: ErrorEnvelope::new(ErrorKind::InvalidRequestError, message)
            .with_code("content_policy_violation"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_envelope_reads_lists_strings_and_falls_back_to_the_body() {
        let e = error_envelope(
            "Stability AI",
            400,
            br#"{"id":"x","name":"bad_request","errors":["prompt: required","seed: too big"]}"#,
            &["errors", "message"],
            Some("name"),
        );
        assert_eq!(e.error.message, "prompt: required, seed: too big");
        assert_eq!(e.error.kind, "invalid_request_error");
        assert_eq!(e.error.code.as_deref(), Some("bad_request"));
        let e = error_envelope("Segmind", 502, b"Bad Gateway", &["error"], None);
        assert_eq!(e.error.message, "Segmind returned HTTP 502: Bad Gateway");
        assert_eq!(e.error.kind, "api_error");
        let e = error_envelope("Segmind", 401, b"", &["error"], None);
        assert_eq!(e.error.message, "Segmind returned HTTP 401");
        assert_eq!(e.error.kind, "authentication_error");
    }

    #[test]
    fn the_chat_stub_refuses() {
        let mut s = NoChatStream("X");
        assert!(s.finish().is_err());
        assert!(matches!(
            no_chat("X"),
            TranslateError::InvalidRequest { param: Some(p), .. } if p == "model"
        ));
    }
}
