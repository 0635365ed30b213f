//! Anthropic SSE stream -> OpenAI `chat.completion.chunk`s.
//!
//! Events: `message_start` (id, input usage) -> role chunk; `content_block_start` /
//! `content_block_delta` (`text_delta`, `input_json_delta`) -> content and tool-call deltas;
//! `thinking_delta` -> `reasoning_content`; when `strict_open_ai_compliance` is false every
//! block but a client tool call is also streamed as Portkey does, as
//! `delta.content_blocks: [{"index": n, "delta": {...}}]` (the block start or delta without its
//! `type`: `{"thinking": ".."}`, `{"signature": ".."}`, `{"text": ".."}`, `{"data": ".."}`);
//! strict streams carry neither (thinking is dropped);
//! `message_delta` -> stop reason and cumulative usage; `message_stop` -> the finish chunk and,
//! with `include_usage`, the usage chunk; `ping` -> nothing; `error` -> `Err(Upstream)`.

use std::collections::HashMap;

use serde_json::{json, Value};
use switchyard_types::chat::{ChatChunk, Delta, FunctionCallDelta, Role, ToolCallDelta};

use super::error::upstream_error;
use super::request::JSON_TOOL_NAME;
use super::response::{finish_reason, AnthropicUsage};
use crate::native::{ChunkTranslator, Frame, TranslateError, WireContext};

/// What a content block (by Anthropic `index`) turns into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Text,
    /// The `response_format` tool: its input JSON is message content.
    JsonContent,
    /// A client tool call, with its OpenAI `tool_calls[].index`.
    Tool(u32),
    /// thinking, redacted_thinking, server tools, …: only in non-strict `content_blocks`.
    Skipped,
}

pub(super) struct AnthropicStream {
    id: String,
    model: String,
    created: u64,
    include_usage: bool,
    /// Portkey's `strict_open_ai_compliance`: when false, `content_blocks` and reasoning flow.
    strict: bool,
    sent_role: bool,
    done: bool,
    blocks: HashMap<u64, BlockKind>,
    tool_calls: u32,
    stop_reason: Option<String>,
    usage: AnthropicUsage,
}

impl AnthropicStream {
    pub(super) fn new(cx: &WireContext<'_>) -> Self {
        AnthropicStream {
            id: cx.response_id.to_owned(),
            model: cx.model.to_owned(),
            created: cx.created,
            include_usage: cx.include_usage,
            strict: cx.strict,
            sent_role: false,
            done: false,
            blocks: HashMap::new(),
            tool_calls: 0,
            stop_reason: None,
            usage: AnthropicUsage::default(),
        }
    }

    fn chunk(
        &mut self,
        mut delta: Delta,
        finish: Option<switchyard_types::chat::FinishReason>,
    ) -> ChatChunk {
        if !self.sent_role {
            delta.role = Some(Role::Assistant);
            self.sent_role = true;
        }
        ChatChunk::single(
            self.id.clone(),
            self.created,
            self.model.clone(),
            delta,
            finish,
        )
    }

    /// A non-tool block event: its `content` fragment, plus, when not strict, its `reasoning`
    /// fragment and Portkey's `content_blocks` entry for block `index` with `native` (the block
    /// start or delta, its `type` removed).
    fn block_chunk(
        &mut self,
        index: u64,
        native: &Value,
        content: Option<String>,
        reasoning: Option<String>,
    ) -> Vec<ChatChunk> {
        let content = content.filter(|c| !c.is_empty());
        let reasoning = reasoning.filter(|r| !r.is_empty() && !self.strict);
        let blocks = (!self.strict).then(|| {
            let mut delta = native.clone();
            if let Some(obj) = delta.as_object_mut() {
                obj.remove("type");
            }
            vec![json!({ "index": index, "delta": delta })]
        });
        if content.is_none() && reasoning.is_none() && blocks.is_none() {
            return Vec::new();
        }
        let delta = Delta {
            content,
            reasoning_content: reasoning,
            content_blocks: blocks,
            ..Delta::default()
        };
        vec![self.chunk(delta, None)]
    }

    fn tool_delta(&mut self, call: ToolCallDelta) -> Vec<ChatChunk> {
        let delta = Delta {
            tool_calls: Some(vec![call]),
            ..Delta::default()
        };
        vec![self.chunk(delta, None)]
    }

    fn merge_usage(&mut self, usage: Option<&Value>) {
        if let Some(u) =
            usage.and_then(|u| serde_json::from_value::<AnthropicUsage>(u.clone()).ok())
        {
            self.usage.merge(&u);
        }
    }

    fn message_start(&mut self, event: &Value) -> Vec<ChatChunk> {
        let message = event.get("message");
        if let Some(id) = message
            .and_then(|m| m.get("id"))
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
        {
            self.id = id.to_owned();
        }
        self.merge_usage(message.and_then(|m| m.get("usage")));
        if self.sent_role {
            return Vec::new();
        }
        let delta = Delta {
            content: Some(String::new()),
            ..Delta::default()
        };
        vec![self.chunk(delta, None)]
    }

    fn block_start(&mut self, event: &Value) -> Result<Vec<ChatChunk>, TranslateError> {
        let index = block_index(event)?;
        let block = event.get("content_block").unwrap_or(&Value::Null);
        let str_field = |k: &str| block.get(k).and_then(Value::as_str).unwrap_or_default();
        let (kind, chunks) = match str_field("type") {
            "text" => {
                let text = str_field("text").to_owned();
                (
                    BlockKind::Text,
                    self.block_chunk(index, block, Some(text), None),
                )
            }
            "tool_use" if str_field("name") == JSON_TOOL_NAME => {
                let native = json!({ "text": "" });
                (
                    BlockKind::JsonContent,
                    self.block_chunk(index, &native, None, None),
                )
            }
            "tool_use" => {
                let tool_index = self.tool_calls;
                self.tool_calls += 1;
                let call = ToolCallDelta {
                    index: tool_index,
                    id: Some(str_field("id").to_owned()),
                    kind: Some("function".into()),
                    function: FunctionCallDelta {
                        thought_signature: None,
                        name: Some(str_field("name").to_owned()),
                        arguments: Some(String::new()),
                    },
                };
                (BlockKind::Tool(tool_index), self.tool_delta(call))
            }
            "thinking" => {
                let thinking = str_field("thinking").to_owned();
                (
                    BlockKind::Skipped,
                    self.block_chunk(index, block, None, Some(thinking)),
                )
            }
            _ => (
                BlockKind::Skipped,
                self.block_chunk(index, block, None, None),
            ),
        };
        self.blocks.insert(index, kind);
        Ok(chunks)
    }

    fn block_delta(&mut self, event: &Value) -> Result<Vec<ChatChunk>, TranslateError> {
        let index = block_index(event)?;
        let delta = event.get("delta").unwrap_or(&Value::Null);
        let str_field = |k: &str| delta.get(k).and_then(Value::as_str).unwrap_or_default();
        match str_field("type") {
            "text_delta" => {
                let text = str_field("text").to_owned();
                Ok(self.block_chunk(index, delta, Some(text), None))
            }
            "thinking_delta" => {
                let thinking = str_field("thinking").to_owned();
                Ok(self.block_chunk(index, delta, None, Some(thinking)))
            }
            "input_json_delta" => {
                let fragment = str_field("partial_json").to_owned();
                match self.blocks.get(&index).copied() {
                    Some(BlockKind::JsonContent) => {
                        let native = json!({ "text": fragment });
                        Ok(self.block_chunk(index, &native, Some(fragment), None))
                    }
                    Some(BlockKind::Tool(_)) if fragment.is_empty() => Ok(Vec::new()),
                    Some(BlockKind::Tool(tool_index)) => Ok(self.tool_delta(ToolCallDelta {
                        index: tool_index,
                        id: None,
                        kind: None,
                        function: FunctionCallDelta {
                            thought_signature: None,
                            name: None,
                            arguments: Some(fragment),
                        },
                    })),
                    Some(BlockKind::Skipped) => Ok(self.block_chunk(index, delta, None, None)),
                    Some(BlockKind::Text) | None => Err(TranslateError::InvalidResponse(format!(
                        "input_json_delta for content block {index}, which is not a tool_use block"
                    ))),
                }
            }
            // signature_delta, citations_delta and future delta types: non-strict only.
            _ => Ok(self.block_chunk(index, delta, None, None)),
        }
    }

    fn message_stop(&mut self) -> Vec<ChatChunk> {
        self.done = true;
        let has_tool_calls = self.tool_calls > 0;
        let finish = finish_reason(self.stop_reason.as_deref(), has_tool_calls)
            .unwrap_or(switchyard_types::chat::FinishReason::Stop);
        let mut out = vec![self.chunk(Delta::default(), Some(finish))];
        if self.include_usage {
            out.push(ChatChunk::new(
                self.id.clone(),
                self.created,
                self.model.clone(),
                Vec::new(),
                Some(self.usage.to_openai()),
            ));
        }
        out
    }
}

fn block_index(event: &Value) -> Result<u64, TranslateError> {
    event.get("index").and_then(Value::as_u64).ok_or_else(|| {
        TranslateError::InvalidResponse("content block event without an index".into())
    })
}

impl ChunkTranslator for AnthropicStream {
    fn on_frame(&mut self, frame: Frame<'_>) -> Result<Vec<ChatChunk>, TranslateError> {
        if frame.data.iter().all(u8::is_ascii_whitespace) {
            return Ok(Vec::new());
        }
        let event: Value = serde_json::from_slice(frame.data).map_err(|e| {
            TranslateError::InvalidResponse(format!("Anthropic stream event is not JSON: {e}"))
        })?;
        let kind = event
            .get("type")
            .and_then(Value::as_str)
            .or(frame.event)
            .unwrap_or_default();
        if kind == "error" {
            return Err(upstream_error(&event));
        }
        if self.done {
            return Ok(Vec::new());
        }
        match kind {
            "message_start" => Ok(self.message_start(&event)),
            "content_block_start" => self.block_start(&event),
            "content_block_delta" => self.block_delta(&event),
            "message_delta" => {
                if let Some(reason) = event
                    .get("delta")
                    .and_then(|d| d.get("stop_reason"))
                    .and_then(Value::as_str)
                {
                    self.stop_reason = Some(reason.to_owned());
                }
                self.merge_usage(event.get("usage"));
                Ok(Vec::new())
            }
            "message_stop" => Ok(self.message_stop()),
            // content_block_stop, ping, and event types added later.
            _ => Ok(Vec::new()),
        }
    }

    fn finish(&mut self) -> Result<Vec<ChatChunk>, TranslateError> {
        if self.done {
            Ok(Vec::new())
        } else {
            Err(TranslateError::InvalidResponse(
                "Anthropic stream ended before message_stop".into(),
            ))
        }
    }
}
