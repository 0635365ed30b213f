//! OCI chat SSE (`isStream: true`, GENERIC format) -> OpenAI `chat.completion.chunk`s.
//!
//! Each event is a choice delta: `{"index": 0, "message": {"role": "ASSISTANT", "content":
//! [{"type": "TEXT", "text": "…"}]}}`, tool calls under `message.toolCalls`, then an event
//! with `finishReason`, and (with `streamOptions.isIncludeUsage`) one with `usage`. A
//! `data: [DONE]` may follow. OCI gives no id: the gateway's is used.

use serde_json::Value;
use switchyard_types::chat::{
    ChatChunk, Delta, FinishReason, FunctionCallDelta, ToolCallDelta, Usage,
};
use switchyard_types::{ErrorEnvelope, ErrorKind};

use super::response::{call_parts, finish_reason, reasoning, text, usage};
use crate::native::{ChunkHead, ChunkTranslator, Frame, TranslateError, WireContext};

pub(super) struct OracleStream {
    head: ChunkHead,
    include_usage: bool,
    strict: bool,
    /// Tool calls started so far (the next call's index).
    tool_calls: u32,
    finished: bool,
    usage: Option<Usage>,
}

impl OracleStream {
    pub(super) fn new(cx: &WireContext<'_>) -> Self {
        OracleStream {
            head: ChunkHead::new(cx),
            include_usage: cx.include_usage,
            strict: cx.strict,
            tool_calls: 0,
            finished: false,
            usage: None,
        }
    }

    fn chunk(&mut self, delta: Delta, finish: Option<FinishReason>) -> ChatChunk {
        self.head.chunk(delta, finish)
    }

    /// A tool call event: one with an id or a name starts a call; one without continues the
    /// last call's arguments.
    fn tool_call_delta(&mut self, c: &Value) -> ToolCallDelta {
        let (id, name, arguments) = call_parts(c);
        let starts = id.is_some() || name.is_some() || self.tool_calls == 0;
        let index = if starts {
            let i = self.tool_calls;
            self.tool_calls = self.tool_calls.saturating_add(1);
            i
        } else {
            self.tool_calls.saturating_sub(1)
        };
        ToolCallDelta {
            index,
            id: if starts {
                Some(id.unwrap_or_else(|| format!("{}_call_{index}", self.head.id)))
            } else {
                None
            },
            kind: starts.then(|| "function".to_owned()),
            function: FunctionCallDelta {
                name: if starts {
                    Some(name.unwrap_or_default())
                } else {
                    None
                },
                arguments,
                ..FunctionCallDelta::default()
            },
        }
    }

    fn on_event(&mut self, v: &Value) -> Result<Vec<ChatChunk>, TranslateError> {
        // An error event: `{"code": "...", "message": "<text>"}`.
        if let (Some(msg), true) = (
            v.get("message").and_then(Value::as_str),
            v.get("code").is_some(),
        ) {
            let mut error = ErrorEnvelope::new(ErrorKind::ApiError, msg);
            if let Some(code) = v.get("code").and_then(Value::as_str) {
                error = error.with_code(code);
            }
            return Err(TranslateError::Upstream { status: 500, error });
        }
        let mut out = Vec::new();
        if let Some(m) = v.get("message").filter(|m| m.is_object()) {
            if !self.strict {
                if let Some(r) = reasoning(m) {
                    let delta = Delta {
                        reasoning_content: Some(r),
                        ..Delta::default()
                    };
                    out.push(self.chunk(delta, None));
                }
            }
            let t = text(m);
            if !t.is_empty() {
                let delta = Delta {
                    content: Some(t),
                    ..Delta::default()
                };
                out.push(self.chunk(delta, None));
            }
            if let Some(calls) = m.get("toolCalls").and_then(Value::as_array) {
                for c in calls {
                    let d = self.tool_call_delta(c);
                    let delta = Delta {
                        tool_calls: Some(vec![d]),
                        ..Delta::default()
                    };
                    out.push(self.chunk(delta, None));
                }
            }
        }
        if let Some(u) = v.get("usage").and_then(usage) {
            self.usage = Some(u);
        }
        if let Some(reason) = v.get("finishReason").and_then(Value::as_str) {
            if !self.finished {
                self.finished = true;
                let finish = match finish_reason(reason) {
                    FinishReason::Stop if self.tool_calls > 0 => FinishReason::ToolCalls,
                    f => f,
                };
                out.push(self.chunk(Delta::default(), Some(finish)));
            }
        }
        Ok(out)
    }
}

impl ChunkTranslator for OracleStream {
    fn on_frame(&mut self, frame: Frame<'_>) -> Result<Vec<ChatChunk>, TranslateError> {
        let data = frame.data.trim_ascii();
        if data.is_empty() || data == b"[DONE]" {
            return Ok(Vec::new());
        }
        let v: Value = serde_json::from_slice(data).map_err(|e| {
            TranslateError::InvalidResponse(format!(
                "OCI Generative AI stream event is not JSON: {e}"
            ))
        })?;
        self.on_event(&v)
    }

    fn finish(&mut self) -> Result<Vec<ChatChunk>, TranslateError> {
        if !self.finished {
            return Err(TranslateError::InvalidResponse(
                "OCI Generative AI stream ended without a finishReason".into(),
            ));
        }
        let Some(usage) = self.usage.take().filter(|_| self.include_usage) else {
            return Ok(Vec::new());
        };
        Ok(vec![self.head.usage(usage)])
    }
}
