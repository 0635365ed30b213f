//! `ConverseStream` event-stream frames -> OpenAI `chat.completion.chunk`s.
//!
//! Events (<https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStreamOutput.html>):
//! `messageStart {role}`, `contentBlockStart {contentBlockIndex, start: {toolUse: {toolUseId, name}}}`,
//! `contentBlockDelta {contentBlockIndex, delta: {text} | {toolUse: {input}} | {reasoningContent}}`,
//! `contentBlockStop`, `messageStop {stopReason}`, `metadata {usage, metrics}`; exceptions arrive
//! as `:message-type: exception` frames. `messageStop` is the terminal event (the trailing
//! `metadata` only carries usage), so a stream without it is incomplete.
//!
//! When `strict_open_ai_compliance` is false, text and reasoning deltas also carry Portkey's
//! `delta.content_blocks: [{"index": n, "delta": {"text" | "thinking" | "signature" | "data"}}]`
//! and reasoning text is `delta.reasoning_content`; strict streams drop reasoning.

use std::collections::HashMap;

use serde_json::{json, Value};
use switchyard_types::chat::{
    ChatChunk, Delta, FinishReason, FunctionCallDelta, ToolCallDelta, Usage,
};

use super::request::JSON_TOOL_NAME;
use super::response::{finish_reason, stream_exception, TokenUsage};
use crate::native::{ChunkHead, ChunkTranslator, Frame, TranslateError, WireContext};

enum Block {
    /// A tool call, by its OpenAI `tool_calls[].index`.
    Tool(u32),
    /// The forced JSON-mode tool: its input fragments are the message text.
    JsonText,
}

pub(super) struct ConverseStream {
    head: ChunkHead,
    include_usage: bool,
    strict: bool,
    blocks: HashMap<u64, Block>,
    next_tool: u32,
    json_answer: bool,
    finished: bool,
    usage: Option<Usage>,
}

impl ConverseStream {
    pub(super) fn new(cx: &WireContext<'_>) -> Self {
        ConverseStream {
            head: ChunkHead::new(cx),
            include_usage: cx.include_usage,
            strict: cx.strict,
            blocks: HashMap::new(),
            next_tool: 0,
            json_answer: false,
            finished: false,
            usage: None,
        }
    }

    fn chunk(&mut self, delta: Delta, finish: Option<FinishReason>) -> ChatChunk {
        self.head.chunk(delta, finish)
    }

    /// A text or reasoning fragment of block `index`: `content` / `reasoning_content`, plus
    /// (non-strict) the `content_blocks` entry `{"index": index, "delta": native}`.
    fn block_delta(
        &mut self,
        index: u64,
        native: Value,
        text: Option<&str>,
        reasoning: Option<&str>,
    ) -> Vec<ChatChunk> {
        let content = text.filter(|t| !t.is_empty()).map(str::to_owned);
        let reasoning = reasoning
            .filter(|r| !r.is_empty() && !self.strict)
            .map(str::to_owned);
        let blocks = (!self.strict && native.as_object().is_some_and(|o| !o.is_empty()))
            .then(|| vec![json!({ "index": index, "delta": native })]);
        if content.is_none() && reasoning.is_none() && blocks.is_none() {
            return Vec::new();
        }
        vec![self.chunk(
            Delta {
                content,
                reasoning_content: reasoning,
                content_blocks: blocks,
                ..Delta::default()
            },
            None,
        )]
    }

    fn tool_delta(&mut self, call: ToolCallDelta) -> Vec<ChatChunk> {
        vec![self.chunk(
            Delta {
                tool_calls: Some(vec![call]),
                ..Delta::default()
            },
            None,
        )]
    }

    fn on_event(&mut self, event: &str, v: &Value) -> Result<Vec<ChatChunk>, TranslateError> {
        let index = v
            .get("contentBlockIndex")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        match event {
            "messageStart" => {
                if self.head.role_sent {
                    return Ok(Vec::new());
                }
                let delta = Delta {
                    content: Some(String::new()),
                    ..Delta::default()
                };
                Ok(vec![self.chunk(delta, None)])
            }
            "contentBlockStart" => {
                let Some(tu) = v.pointer("/start/toolUse") else {
                    return Ok(Vec::new());
                };
                let name = tu.get("name").and_then(Value::as_str).unwrap_or_default();
                if name == JSON_TOOL_NAME {
                    self.json_answer = true;
                    self.blocks.insert(index, Block::JsonText);
                    return Ok(Vec::new());
                }
                let tool_index = self.next_tool;
                self.next_tool += 1;
                self.blocks.insert(index, Block::Tool(tool_index));
                let id = tu
                    .get("toolUseId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                Ok(self.tool_delta(ToolCallDelta {
                    index: tool_index,
                    id: Some(id.to_owned()),
                    kind: Some("function".into()),
                    function: FunctionCallDelta {
                        thought_signature: None,
                        name: Some(name.to_owned()),
                        arguments: Some(String::new()),
                    },
                }))
            }
            "contentBlockDelta" => {
                let Some(delta) = v.get("delta") else {
                    return Ok(Vec::new());
                };
                if let Some(t) = delta.get("text").and_then(Value::as_str) {
                    return Ok(self.block_delta(index, json!({ "text": t }), Some(t), None));
                }
                if let Some(rc) = delta.get("reasoningContent") {
                    let field = |k: &str| rc.get(k).and_then(Value::as_str);
                    let mut native = serde_json::Map::new();
                    if let Some(t) = field("text") {
                        native.insert("thinking".into(), json!(t));
                    }
                    if let Some(s) = field("signature") {
                        native.insert("signature".into(), json!(s));
                    }
                    if let Some(d) = field("redactedContent") {
                        native.insert("data".into(), json!(d));
                    }
                    let thought = field("text");
                    return Ok(self.block_delta(index, Value::Object(native), None, thought));
                }
                let Some(input) = delta.pointer("/toolUse/input").and_then(Value::as_str) else {
                    // citation, ...: no OpenAI counterpart.
                    return Ok(Vec::new());
                };
                match self.blocks.get(&index) {
                    Some(Block::JsonText) => {
                        Ok(self.block_delta(index, json!({ "text": input }), Some(input), None))
                    }
                    Some(Block::Tool(i)) => {
                        let i = *i;
                        if input.is_empty() {
                            return Ok(Vec::new());
                        }
                        Ok(self.tool_delta(ToolCallDelta {
                            index: i,
                            id: None,
                            kind: None,
                            function: FunctionCallDelta {
                                thought_signature: None,
                                name: None,
                                arguments: Some(input.to_owned()),
                            },
                        }))
                    }
                    None => Err(TranslateError::InvalidResponse(format!(
                        "toolUse delta for content block {index} without a contentBlockStart"
                    ))),
                }
            }
            "messageStop" => {
                let stop = v
                    .get("stopReason")
                    .and_then(Value::as_str)
                    .unwrap_or("end_turn");
                let mut finish = finish_reason(stop);
                if self.json_answer && finish == FinishReason::ToolCalls {
                    finish = FinishReason::Stop;
                }
                self.finished = true;
                Ok(vec![self.chunk(Delta::default(), Some(finish))])
            }
            "metadata" => {
                if let Some(u) = v.get("usage") {
                    let u: TokenUsage = serde_json::from_value(u.clone()).map_err(|e| {
                        TranslateError::InvalidResponse(format!("metadata usage: {e}"))
                    })?;
                    self.usage = Some(u.to_openai());
                }
                Ok(Vec::new())
            }
            // contentBlockStop and events added later.
            _ => Ok(Vec::new()),
        }
    }
}

impl ChunkTranslator for ConverseStream {
    fn on_frame(&mut self, frame: Frame<'_>) -> Result<Vec<ChatChunk>, TranslateError> {
        let event = frame.event.unwrap_or_default();
        match frame.message_type {
            Some("exception") => return Err(stream_exception(event, frame.data)),
            Some("error") => {
                return Err(stream_exception(
                    if event.is_empty() {
                        "internalServerException"
                    } else {
                        event
                    },
                    frame.data,
                ))
            }
            _ => {}
        }
        if event.ends_with("Exception") {
            return Err(stream_exception(event, frame.data));
        }
        let v: Value = serde_json::from_slice(frame.data).map_err(|e| {
            TranslateError::InvalidResponse(format!("ConverseStream {event} payload: {e}"))
        })?;
        if frame.event.is_some() {
            return self.on_event(event, &v);
        }
        // No event name: accept the `{"<eventName>": {...}}` wrapping some decoders produce.
        match v
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.iter().next())
        {
            Some((name, inner)) if name.ends_with("Exception") => {
                Err(stream_exception(name, inner.to_string().as_bytes()))
            }
            Some((name, inner)) => {
                let (name, inner) = (name.clone(), inner.clone());
                self.on_event(&name, &inner)
            }
            None => Ok(Vec::new()),
        }
    }

    fn finish(&mut self) -> Result<Vec<ChatChunk>, TranslateError> {
        if !self.finished {
            return Err(TranslateError::InvalidResponse(
                "Bedrock stream ended before messageStop".into(),
            ));
        }
        let Some(usage) = self.usage.take().filter(|_| self.include_usage) else {
            return Ok(Vec::new());
        };
        Ok(vec![self.head.usage(usage)])
    }
}
