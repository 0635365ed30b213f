//! OpenAI `chat.completion.chunk`s -> Anthropic Messages SSE events.
//!
//! `message_start` goes out with the first content (or at the end of an empty stream); reasoning
//! deltas open a `thinking` block (empty `signature`), text deltas a `text` block, each tool call (by its OpenAI `index`, or a new `id` at a known
//! index) opens a `tool_use` block; opening a block closes the previous one. The finish reason
//! and the usage-only chunk may come in either order, so `message_delta` and `message_stop` are
//! written by [`ChunkEncoder::finish`].

use serde_json::{json, Value};
use switchyard_types::chat::{ChatChunk, FinishReason, ToolCallDelta, Usage};
use switchyard_types::ErrorEnvelope;

use super::response::{
    error_json, error_type_without_status, message_id, stop_reason, usage_numbers,
};
use super::write_event;
use crate::dialect::ChunkEncoder;

/// The kind of the open content block.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Block {
    Thinking,
    Text,
    ToolUse,
}

/// A tool call seen in the stream.
struct ToolState {
    /// OpenAI `tool_calls[].index`.
    openai_index: u32,
    id: String,
    /// Anthropic content block index.
    block: u32,
}

#[derive(Default)]
pub(super) struct Encoder {
    id: Option<String>,
    model: String,
    started: bool,
    done: bool,
    next_block: u32,
    /// The open content block: its index and kind.
    open: Option<(u32, Block)>,
    tools: Vec<ToolState>,
    finish: Option<FinishReason>,
    usage: Option<Usage>,
}

impl Encoder {
    pub(super) fn new() -> Self {
        Encoder::default()
    }

    fn message_id(&self) -> String {
        message_id(self.id.as_deref().unwrap_or("switchyard"))
    }

    fn ensure_started(&mut self, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        let (input, cached, output) = self.usage.as_ref().map_or((0, 0, 0), usage_numbers);
        let event = json!({
            "type": "message_start",
            "message": {
                "id": self.message_id(),
                "type": "message",
                "role": "assistant",
                "model": self.model,
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": {
                    "input_tokens": input,
                    "output_tokens": output,
                    "cache_read_input_tokens": cached,
                    "cache_creation_input_tokens": 0,
                },
            },
        });
        write_event(out, "message_start", &event);
    }

    fn close_block(&mut self, out: &mut Vec<u8>) {
        if let Some((index, _)) = self.open.take() {
            write_event(
                out,
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": index}),
            );
        }
    }

    /// Closes the open block and opens a new one; returns its index.
    fn open_block(&mut self, block: Value, kind: Block, out: &mut Vec<u8>) -> u32 {
        self.ensure_started(out);
        self.close_block(out);
        let index = self.next_block;
        self.next_block = self.next_block.saturating_add(1);
        write_event(
            out,
            "content_block_start",
            &json!({"type": "content_block_start", "index": index, "content_block": block}),
        );
        self.open = Some((index, kind));
        index
    }

    fn delta(out: &mut Vec<u8>, index: u32, delta: Value) {
        write_event(
            out,
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": index, "delta": delta}),
        );
    }

    fn thinking(&mut self, thinking: &str, out: &mut Vec<u8>) {
        let index = match self.open {
            Some((index, Block::Thinking)) => index,
            _ => self.open_block(
                json!({"type": "thinking", "thinking": "", "signature": ""}),
                Block::Thinking,
                out,
            ),
        };
        Self::delta(
            out,
            index,
            json!({"type": "thinking_delta", "thinking": thinking}),
        );
    }

    fn text(&mut self, text: &str, out: &mut Vec<u8>) {
        let index = match self.open {
            Some((index, Block::Text)) => index,
            _ => self.open_block(json!({"type": "text", "text": ""}), Block::Text, out),
        };
        Self::delta(out, index, json!({"type": "text_delta", "text": text}));
    }

    fn tool_call(&mut self, call: &ToolCallDelta, out: &mut Vec<u8>) {
        let new_id = call.id.as_deref().filter(|id| !id.is_empty());
        // The latest call at this index, unless the delta names a different call.
        let known = self
            .tools
            .iter()
            .rev()
            .find(|t| t.openai_index == call.index)
            .filter(|t| new_id.is_none_or(|id| id == t.id))
            .map(|t| t.block);
        let block = match known {
            Some(block) => block,
            None => {
                let id = new_id.map_or_else(
                    || format!("toolu_{}_{}", self.message_id(), self.next_block),
                    str::to_owned,
                );
                let name = call.function.name.clone().unwrap_or_default();
                let block = self.open_block(
                    json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
                    Block::ToolUse,
                    out,
                );
                self.tools.push(ToolState {
                    openai_index: call.index,
                    id,
                    block,
                });
                block
            }
        };
        if let Some(args) = call.function.arguments.as_deref().filter(|a| !a.is_empty()) {
            Self::delta(
                out,
                block,
                json!({"type": "input_json_delta", "partial_json": args}),
            );
        }
    }

    fn message_delta_usage(&self) -> Value {
        match &self.usage {
            Some(u) => {
                let (input, cached, output) = usage_numbers(u);
                json!({
                    "output_tokens": output,
                    "input_tokens": input,
                    "cache_read_input_tokens": cached,
                })
            }
            None => json!({"output_tokens": 0}),
        }
    }
}

impl ChunkEncoder for Encoder {
    fn chunk(&mut self, chunk: &ChatChunk, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        if self.id.is_none() && !chunk.id.is_empty() {
            self.id = Some(chunk.id.clone());
        }
        if self.model.is_empty() {
            self.model.clone_from(&chunk.model);
        }
        if let Some(usage) = &chunk.usage {
            self.usage = Some(usage.clone());
        }
        // Anthropic has one answer: only the first choice is shown.
        let Some(choice) = chunk.choices.iter().find(|c| c.index == 0) else {
            return;
        };
        if let Some(reason) = choice.finish_reason {
            self.finish = Some(reason);
        }
        let reasoning = choice.delta.reasoning_content.as_deref();
        if let Some(thinking) = reasoning.filter(|t| !t.is_empty()) {
            self.thinking(thinking, out);
        }
        if let Some(text) = choice.delta.content.as_deref().filter(|t| !t.is_empty()) {
            self.text(text, out);
        }
        for call in choice.delta.tool_calls.as_deref().unwrap_or_default() {
            self.tool_call(call, out);
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        self.done = true;
        self.ensure_started(out);
        self.close_block(out);
        let stop = stop_reason(self.finish, !self.tools.is_empty());
        write_event(
            out,
            "message_delta",
            &json!({
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": null},
                "usage": self.message_delta_usage(),
            }),
        );
        write_event(out, "message_stop", &json!({"type": "message_stop"}));
    }

    fn error(&mut self, error: &ErrorEnvelope, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        self.done = true;
        write_event(
            out,
            "error",
            &error_json(error_type_without_status(error), error),
        );
    }
}
