//! Cohere v2 chat SSE events -> OpenAI `chat.completion.chunk`s
//! (<https://docs.cohere.com/reference/chat-stream>, <https://docs.cohere.com/v2/docs/streaming>).
//!
//! `message-start {id}`, `content-start/-delta/-end {index, delta.message.content.{text|thinking}}`,
//! `tool-plan-delta {delta.message.tool_plan}`, `tool-call-start {index,
//! delta.message.tool_calls{id, function{name, arguments}}}`, `tool-call-delta
//! {delta.message.tool_calls.function.arguments}`, `tool-call-end`, `citation-start/-end`,
//! `message-end {delta{finish_reason, usage, error}}`. `message-end` is the terminal event.

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use switchyard_types::chat::{
    ChatChunk, Delta, FinishReason, FunctionCallDelta, ToolCallDelta, Usage,
};
use switchyard_types::{ErrorEnvelope, ErrorKind};

use super::response::{finish_reason, CohereUsage};
use crate::native::{ChunkHead, ChunkTranslator, Frame, TranslateError, WireContext};

pub(super) struct CohereStream {
    head: ChunkHead,
    include_usage: bool,
    /// Content indexes that carry `thinking`, not answer text.
    thinking: HashSet<u64>,
    /// Cohere tool-call index -> OpenAI `tool_calls[].index`.
    tools: HashMap<u64, u32>,
    finished: bool,
    usage: Option<Usage>,
}

impl CohereStream {
    pub(super) fn new(cx: &WireContext<'_>) -> Self {
        CohereStream {
            head: ChunkHead::new(cx),
            include_usage: cx.include_usage,
            thinking: HashSet::new(),
            tools: HashMap::new(),
            finished: false,
            usage: None,
        }
    }

    fn chunk(&mut self, delta: Delta, finish: Option<FinishReason>) -> ChatChunk {
        self.head.chunk(delta, finish)
    }

    fn text(&mut self, text: Option<&str>) -> Vec<ChatChunk> {
        match text.filter(|t| !t.is_empty()) {
            Some(t) => vec![self.chunk(
                Delta {
                    content: Some(t.to_owned()),
                    ..Delta::default()
                },
                None,
            )],
            None => Vec::new(),
        }
    }

    fn tool_chunk(&mut self, call: ToolCallDelta) -> Vec<ChatChunk> {
        vec![self.chunk(
            Delta {
                tool_calls: Some(vec![call]),
                ..Delta::default()
            },
            None,
        )]
    }

    fn on_event(&mut self, kind: &str, v: &Value) -> Result<Vec<ChatChunk>, TranslateError> {
        let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
        let message = v.pointer("/delta/message");
        let str_at = |p: &str| message.and_then(|m| m.pointer(p)).and_then(Value::as_str);
        match kind {
            "message-start" => {
                if let Some(id) = v
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                {
                    self.head.id = id.to_owned();
                }
                if self.head.role_sent {
                    return Ok(Vec::new());
                }
                let delta = Delta {
                    content: Some(String::new()),
                    ..Delta::default()
                };
                Ok(vec![self.chunk(delta, None)])
            }
            "content-start" => {
                if str_at("/content/type") == Some("thinking") {
                    self.thinking.insert(index);
                    return Ok(Vec::new());
                }
                Ok(self.text(str_at("/content/text")))
            }
            "content-delta" => {
                if self.thinking.contains(&index) {
                    return Ok(Vec::new());
                }
                Ok(self.text(str_at("/content/text")))
            }
            // The model's plan before calling tools: streamed as content, mirroring the
            // response (and request) side, where `tool_plan` is the assistant text.
            "tool-plan-delta" => Ok(self.text(str_at("/tool_plan"))),
            "tool-call-start" => {
                let tool_index = self.tools.len() as u32;
                self.tools.insert(index, tool_index);
                Ok(self.tool_chunk(ToolCallDelta {
                    index: tool_index,
                    id: Some(str_at("/tool_calls/id").unwrap_or_default().to_owned()),
                    kind: Some("function".into()),
                    function: FunctionCallDelta {
                        thought_signature: None,
                        name: Some(
                            str_at("/tool_calls/function/name")
                                .unwrap_or_default()
                                .to_owned(),
                        ),
                        arguments: Some(
                            str_at("/tool_calls/function/arguments")
                                .unwrap_or_default()
                                .to_owned(),
                        ),
                    },
                }))
            }
            "tool-call-delta" => {
                let Some(&tool_index) = self.tools.get(&index) else {
                    return Err(TranslateError::InvalidResponse(format!(
                        "tool-call-delta for tool call {index} without a tool-call-start"
                    )));
                };
                let Some(args) = str_at("/tool_calls/function/arguments").filter(|a| !a.is_empty())
                else {
                    return Ok(Vec::new());
                };
                let args = args.to_owned();
                Ok(self.tool_chunk(ToolCallDelta {
                    index: tool_index,
                    id: None,
                    kind: None,
                    function: FunctionCallDelta {
                        thought_signature: None,
                        name: None,
                        arguments: Some(args),
                    },
                }))
            }
            "message-end" => {
                let delta = v.get("delta");
                let reason = delta
                    .and_then(|d| d.get("finish_reason"))
                    .and_then(Value::as_str)
                    .unwrap_or("COMPLETE");
                let error = delta.and_then(|d| d.get("error")).and_then(Value::as_str);
                let finish = finish_reason(reason, error)?;
                if let Some(u) = delta.and_then(|d| d.get("usage")) {
                    let u: CohereUsage = serde_json::from_value(u.clone()).map_err(|e| {
                        TranslateError::InvalidResponse(format!("message-end usage: {e}"))
                    })?;
                    self.usage = Some(u.to_openai());
                }
                self.finished = true;
                Ok(vec![self.chunk(Delta::default(), Some(finish))])
            }
            "error" => {
                let msg = v
                    .get("message")
                    .or_else(|| v.pointer("/error/message"))
                    .and_then(Value::as_str)
                    .unwrap_or("Cohere reported an error mid-stream");
                Err(TranslateError::Upstream {
                    status: 500,
                    error: ErrorEnvelope::new(ErrorKind::ApiError, msg),
                })
            }
            // content-end, tool-call-end, citation-start/-end, debug and newer events.
            _ => Ok(Vec::new()),
        }
    }
}

impl ChunkTranslator for CohereStream {
    fn on_frame(&mut self, frame: Frame<'_>) -> Result<Vec<ChatChunk>, TranslateError> {
        let data = frame.data.trim_ascii();
        if data.is_empty() || data == b"[DONE]" {
            return Ok(Vec::new());
        }
        let v: Value = serde_json::from_slice(data).map_err(|e| {
            TranslateError::InvalidResponse(format!("Cohere stream event is not JSON: {e}"))
        })?;
        let kind = v
            .get("type")
            .and_then(Value::as_str)
            .or(frame.event)
            .unwrap_or_default()
            .to_owned();
        self.on_event(&kind, &v)
    }

    fn finish(&mut self) -> Result<Vec<ChatChunk>, TranslateError> {
        if !self.finished {
            return Err(TranslateError::InvalidResponse(
                "Cohere stream ended before message-end".into(),
            ));
        }
        let Some(usage) = self.usage.take().filter(|_| self.include_usage) else {
            return Ok(Vec::new());
        };
        Ok(vec![self.head.usage(usage)])
    }
}
