//! Predibase's OpenAI-shaped SSE chunks -> the client's chunks: one id and the requested model
//! throughout, the role on the first chunk, the usage Predibase reports (on its last chunks)
//! moved to one usage chunk at the end when the client asked for it. A frame
//! `{"error": "…", "error_type": "…"}` is an upstream error.

use serde_json::Value;
use switchyard_types::chat::{ChatChunk, Role, Usage};
use switchyard_types::{ErrorEnvelope, ErrorKind};

use crate::native::{ChunkTranslator, Frame, TranslateError, WireContext};

pub(super) struct PredibaseStream {
    id: Option<String>,
    fallback_id: String,
    model: String,
    created: u64,
    include_usage: bool,
    role_sent: bool,
    finished: bool,
    usage: Option<Usage>,
}

impl PredibaseStream {
    pub(super) fn new(cx: &WireContext<'_>) -> Self {
        PredibaseStream {
            id: None,
            fallback_id: cx.response_id.to_owned(),
            model: cx.model.to_owned(),
            created: cx.created,
            include_usage: cx.include_usage,
            role_sent: false,
            finished: false,
            usage: None,
        }
    }
}

impl ChunkTranslator for PredibaseStream {
    fn on_frame(&mut self, frame: Frame<'_>) -> Result<Vec<ChatChunk>, TranslateError> {
        let data = frame.data.trim_ascii();
        if data.is_empty() || self.finished {
            return Ok(Vec::new());
        }
        if data == b"[DONE]" {
            self.finished = true;
            return Ok(Vec::new());
        }
        let v: Value = serde_json::from_slice(data).map_err(|e| {
            TranslateError::InvalidResponse(format!("Predibase stream event is not JSON: {e}"))
        })?;
        if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
            let msg = err
                .as_str()
                .or_else(|| err.get("message").and_then(Value::as_str))
                .unwrap_or("Predibase reported an error mid-stream");
            let mut env = ErrorEnvelope::new(ErrorKind::ApiError, msg);
            if let Some(t) = v.get("error_type").and_then(Value::as_str) {
                env = env.with_code(t);
            }
            return Err(TranslateError::Upstream {
                status: 500,
                error: env,
            });
        }
        let mut chunk: ChatChunk = serde_json::from_value(v)
            .map_err(|e| TranslateError::InvalidResponse(format!("Predibase stream chunk: {e}")))?;
        if let Some(u) = chunk.usage.take() {
            self.usage = Some(u);
        }
        if chunk.choices.is_empty() {
            return Ok(Vec::new());
        }
        let id = self
            .id
            .get_or_insert_with(|| {
                Some(chunk.id.clone())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| self.fallback_id.clone())
            })
            .clone();
        chunk.id = id;
        chunk.model = self.model.clone();
        chunk.object = "chat.completion.chunk".into();
        if chunk.created == 0 {
            chunk.created = self.created;
        }
        // Predibase repeats the role on every delta: only the first chunk carries it.
        let first = !self.role_sent;
        self.role_sent = true;
        for c in &mut chunk.choices {
            c.delta.role = first.then_some(Role::Assistant);
        }
        Ok(vec![chunk])
    }

    fn finish(&mut self) -> Result<Vec<ChatChunk>, TranslateError> {
        if !self.finished {
            return Err(TranslateError::InvalidResponse(
                "Predibase stream ended before [DONE]".into(),
            ));
        }
        let Some(usage) = self.usage.take().filter(|_| self.include_usage) else {
            return Ok(Vec::new());
        };
        let id = self.id.clone().unwrap_or_else(|| self.fallback_id.clone());
        Ok(vec![ChatChunk::new(
            id,
            self.created,
            self.model.clone(),
            Vec::new(),
            Some(usage),
        )])
    }
}
