//! The "adapter" of an OpenAI-compatible host when a request in another dialect is bridged
//! through it: the host already speaks OpenAI chat, so its answer only needs reading into the
//! typed shapes a dialect's translation starts from. Requests to such hosts are built by the
//! gateway as for any chat completion; only the response side is here.

use switchyard_types::chat::{ChatChunk, ChatRequest, ChatResponse};
use switchyard_types::{ErrorEnvelope, ErrorKind};

use crate::native::{
    ChunkTranslator, Frame, NativeAdapter, ProviderOptions, TranslateError, WireContext,
    WireRequest,
};

/// Reads OpenAI chat responses, chunks and errors.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenAiShape;

/// The one instance (adapters are used as `&'static dyn NativeAdapter`).
pub static OPENAI_SHAPE: OpenAiShape = OpenAiShape;

impl NativeAdapter for OpenAiShape {
    fn base_url(&self, _options: &ProviderOptions) -> Result<String, TranslateError> {
        Err(TranslateError::invalid_request(
            "an OpenAI-compatible host's URL comes from the catalogue",
            None,
        ))
    }

    fn chat_request(
        &self,
        _req: &ChatRequest,
        _cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        Err(TranslateError::invalid_request(
            "an OpenAI-compatible host is sent the chat body as it is",
            None,
        ))
    }

    fn chat_response(
        &self,
        body: &[u8],
        _cx: &WireContext<'_>,
    ) -> Result<ChatResponse, TranslateError> {
        if let Some(e) = in_body_error(body) {
            return Err(e);
        }
        serde_json::from_slice(body)
            .map_err(|e| TranslateError::InvalidResponse(format!("not a chat completion: {e}")))
    }

    fn chat_stream(&self, _cx: &WireContext<'_>) -> Box<dyn ChunkTranslator> {
        Box::new(ChunkReader::default())
    }

    fn error_response(&self, status: u16, body: &[u8]) -> ErrorEnvelope {
        ErrorEnvelope::from_upstream(body).unwrap_or_else(|| {
            ErrorEnvelope::new(
                ErrorKind::for_status(status),
                format!("upstream returned HTTP {status}"),
            )
        })
    }
}

/// An OpenAI error object where an answer was expected.
fn in_body_error(data: &[u8]) -> Option<TranslateError> {
    if !data.trim_ascii_start().starts_with(b"{\"error\"") {
        return None;
    }
    ErrorEnvelope::from_upstream(data).map(|error| TranslateError::Upstream { status: 502, error })
}

/// Parses `data:` events into chunks; `[DONE]` ends the stream.
#[derive(Default)]
struct ChunkReader {
    done: bool,
    finished: bool,
}

impl ChunkTranslator for ChunkReader {
    fn on_frame(&mut self, frame: Frame<'_>) -> Result<Vec<ChatChunk>, TranslateError> {
        let data = frame.data.trim_ascii();
        if data.is_empty() || self.done {
            return Ok(Vec::new());
        }
        if data == b"[DONE]" {
            self.done = true;
            return Ok(Vec::new());
        }
        if let Some(e) = in_body_error(data) {
            return Err(e);
        }
        let chunk: ChatChunk = serde_json::from_slice(data).map_err(|e| {
            TranslateError::InvalidResponse(format!("not a chat completion chunk: {e}"))
        })?;
        self.finished |= chunk.choices.iter().any(|c| c.finish_reason.is_some());
        Ok(vec![chunk])
    }

    fn finish(&mut self) -> Result<Vec<ChatChunk>, TranslateError> {
        // Some hosts end without `[DONE]`; a stream that gave a finish reason is complete.
        if self.done || self.finished {
            Ok(Vec::new())
        } else {
            Err(TranslateError::InvalidResponse(
                "the stream ended before the completion finished".into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx(options: &ProviderOptions) -> WireContext<'_> {
        WireContext {
            model: "m",
            stream: true,
            include_usage: true,
            response_id: "r",
            created: 1,
            options,
            strict: true,
        }
    }

    fn frame(data: &[u8]) -> Frame<'_> {
        Frame {
            event: None,
            data,
            message_type: None,
        }
    }

    #[test]
    fn chunks_are_read_until_done_and_a_cut_stream_is_an_error() {
        let opts = ProviderOptions::new();
        let mut r = OPENAI_SHAPE.chat_stream(&cx(&opts));
        let c = br#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}"#;
        assert_eq!(r.on_frame(frame(c)).unwrap().len(), 1);
        assert!(r.finish().is_err(), "no finish reason and no [DONE]");
        assert!(r.on_frame(frame(b"[DONE]")).unwrap().is_empty());
        assert!(r.finish().unwrap().is_empty());
    }

    #[test]
    fn an_error_object_in_a_stream_or_a_body_is_an_upstream_error() {
        let opts = ProviderOptions::new();
        let mut r = OPENAI_SHAPE.chat_stream(&cx(&opts));
        let e = br#"{"error":{"message":"overloaded","type":"server_error"}}"#;
        assert!(matches!(
            r.on_frame(frame(e)),
            Err(TranslateError::Upstream { status: 502, .. })
        ));
        assert!(matches!(
            OPENAI_SHAPE.chat_response(e, &cx(&opts)),
            Err(TranslateError::Upstream { .. })
        ));
        assert!(matches!(
            OPENAI_SHAPE.chat_response(b"{", &cx(&opts)),
            Err(TranslateError::InvalidResponse(_))
        ));
    }
}
