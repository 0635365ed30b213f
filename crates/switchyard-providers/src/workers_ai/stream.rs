//! Workers AI SSE (`data: {"response": "<text>", "p": "…"}` frames, a last frame with
//! `usage`, then `data: [DONE]`) -> OpenAI `chat.completion.chunk`s. Workers AI gives no id and
//! no finish reason: the stream ends with `stop` (or `tool_calls` when the model called tools).

use serde_json::Value;
use switchyard_types::chat::{
    ChatChunk, Delta, FinishReason, FunctionCallDelta, ToolCallDelta, Usage,
};
use switchyard_types::{ErrorEnvelope, ErrorKind};

use super::response::{tool_calls, usage};
use crate::native::{ChunkHead, ChunkTranslator, Frame, TranslateError, WireContext};

pub(super) struct WorkersAiStream {
    head: ChunkHead,
    include_usage: bool,
    tool_calls: u32,
    finished: bool,
    usage: Option<Usage>,
}

impl WorkersAiStream {
    pub(super) fn new(cx: &WireContext<'_>) -> Self {
        WorkersAiStream {
            head: ChunkHead::new(cx),
            include_usage: cx.include_usage,
            tool_calls: 0,
            finished: false,
            usage: None,
        }
    }

    fn chunk(&mut self, delta: Delta, finish: Option<FinishReason>) -> ChatChunk {
        self.head.chunk(delta, finish)
    }

    fn on_event(&mut self, v: &Value) -> Result<Vec<ChatChunk>, TranslateError> {
        if let Some(err) = v.get("error").filter(|e| !e.is_null()).or_else(|| {
            v.get("errors")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
        }) {
            let msg = err
                .as_str()
                .or_else(|| err.get("message").and_then(Value::as_str))
                .unwrap_or("Workers AI reported an error mid-stream");
            return Err(TranslateError::Upstream {
                status: 500,
                error: ErrorEnvelope::new(ErrorKind::ApiError, msg),
            });
        }
        let mut out = Vec::new();
        match v.get("response") {
            Some(Value::String(s)) if !s.is_empty() => {
                let delta = Delta {
                    content: Some(s.clone()),
                    ..Delta::default()
                };
                out.push(self.chunk(delta, None));
            }
            _ => {}
        }
        let prefix = self.head.id.clone();
        for call in tool_calls(v, &prefix) {
            let index = self.tool_calls;
            self.tool_calls = self.tool_calls.saturating_add(1);
            let mut call = call;
            if call.id.starts_with(&format!("{prefix}_call_")) {
                call.id = format!("{prefix}_call_{index}");
            }
            let delta = Delta {
                tool_calls: Some(vec![ToolCallDelta {
                    index,
                    id: Some(call.id),
                    kind: Some("function".into()),
                    function: FunctionCallDelta {
                        thought_signature: None,
                        name: Some(call.function.name),
                        arguments: Some(call.function.arguments),
                    },
                }]),
                ..Delta::default()
            };
            out.push(self.chunk(delta, None));
        }
        if let Some(u) = usage(v) {
            self.usage = Some(u);
        }
        Ok(out)
    }
}

impl ChunkTranslator for WorkersAiStream {
    fn on_frame(&mut self, frame: Frame<'_>) -> Result<Vec<ChatChunk>, TranslateError> {
        let data = frame.data.trim_ascii();
        if data.is_empty() {
            return Ok(Vec::new());
        }
        if data == b"[DONE]" {
            if self.finished {
                return Ok(Vec::new());
            }
            self.finished = true;
            let finish = if self.tool_calls > 0 {
                FinishReason::ToolCalls
            } else {
                FinishReason::Stop
            };
            return Ok(vec![self.chunk(Delta::default(), Some(finish))]);
        }
        if self.finished {
            return Ok(Vec::new());
        }
        let v: Value = serde_json::from_slice(data).map_err(|e| {
            TranslateError::InvalidResponse(format!("Workers AI stream event is not JSON: {e}"))
        })?;
        self.on_event(&v)
    }

    fn finish(&mut self) -> Result<Vec<ChatChunk>, TranslateError> {
        if !self.finished {
            return Err(TranslateError::InvalidResponse(
                "Workers AI stream ended before [DONE]".into(),
            ));
        }
        let Some(usage) = self.usage.take().filter(|_| self.include_usage) else {
            return Ok(Vec::new());
        };
        Ok(vec![self.head.usage(usage)])
    }
}
