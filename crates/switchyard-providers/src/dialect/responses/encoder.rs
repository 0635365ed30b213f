//! Chat chunks -> the Responses event stream.

use serde_json::{json, Value};
use switchyard_types::chat::{ChatChunk, FinishReason, ToolCallDelta, Usage};
use switchyard_types::ErrorEnvelope;

use super::response::{
    call_item, finish_status, message_item, reasoning_item, response_object, summary_part,
    text_part, Snapshot,
};
use super::{call_item_id, message_id, reasoning_id, Echo};
use crate::dialect::ChunkEncoder;

/// The Responses event stream for a stream of chat chunks.
pub fn encoder(echo: Echo, id: String, created_at: u64) -> Box<dyn ChunkEncoder> {
    Box::new(Encoder {
        echo,
        id,
        created_at,
        model: String::new(),
        seq: 0,
        started: false,
        ended: false,
        items: Vec::new(),
        messages: 0,
        calls: 0,
        reasonings: 0,
        finish: None,
        usage: None,
    })
}

/// Error codes a Response's `error.code` may carry (the SDK's `ResponseError.code`).
const ERROR_CODES: &[&str] = &[
    "server_error",
    "rate_limit_exceeded",
    "invalid_prompt",
    "data_residency_mismatch",
    "bio_policy",
    "vector_store_timeout",
    "invalid_image",
    "invalid_image_format",
    "invalid_base64_image",
    "invalid_image_url",
    "image_too_large",
    "image_too_small",
    "image_parse_error",
    "image_content_policy_violation",
    "invalid_image_mode",
    "image_file_too_large",
    "unsupported_image_media_type",
    "empty_image_file",
    "failed_to_download_image",
    "image_file_not_found",
];

struct Encoder {
    echo: Echo,
    id: String,
    created_at: u64,
    model: String,
    seq: u64,
    started: bool,
    ended: bool,
    /// Output items in `output_index` order.
    items: Vec<Item>,
    /// Message, function call and reasoning items opened so far (for their ids).
    messages: usize,
    calls: usize,
    reasonings: usize,
    finish: Option<FinishReason>,
    usage: Option<Usage>,
}

struct Item {
    id: String,
    open: bool,
    /// `in_progress` while open, then the status it was closed with.
    status: &'static str,
    kind: Kind,
}

enum Kind {
    /// The chat `reasoning_content`, as one summary part.
    Reasoning {
        text: String,
    },
    Message {
        text: String,
    },
    Call {
        /// The chat tool call's `index`.
        index: u32,
        call_id: String,
        name: String,
        arguments: String,
    },
}

impl Encoder {
    fn emit(&mut self, kind: &str, mut data: Value, out: &mut Vec<u8>) {
        data["type"] = json!(kind);
        data["sequence_number"] = json!(self.seq);
        self.seq = self.seq.saturating_add(1);
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(kind.as_bytes());
        out.extend_from_slice(b"\ndata: ");
        out.extend_from_slice(data.to_string().as_bytes());
        out.extend_from_slice(b"\n\n");
    }

    fn start(&mut self, model: &str, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        self.model = model.to_owned();
        let response = self.snapshot("in_progress", None, None);
        self.emit(
            "response.created",
            json!({"response": response.clone()}),
            out,
        );
        self.emit("response.in_progress", json!({"response": response}), out);
    }

    /// The Response object as it stands, with every item as it stands.
    fn snapshot(&self, status: &str, reason: Option<&str>, error: Option<(&str, &str)>) -> Value {
        let output = if status == "in_progress" {
            Vec::new()
        } else {
            self.items
                .iter()
                .map(|it| self.item_json(it, it.status))
                .collect()
        };
        response_object(&Snapshot {
            echo: &self.echo,
            id: &self.id,
            created_at: self.created_at,
            model: &self.model,
            status,
            incomplete_reason: reason,
            output,
            usage: if status == "in_progress" {
                None
            } else {
                self.usage.as_ref()
            },
            error,
        })
    }

    fn item_json(&self, item: &Item, status: &str) -> Value {
        match &item.kind {
            Kind::Reasoning { text } => reasoning_item(&item.id, text, status),
            Kind::Message { text } => message_item(&item.id, vec![text_part(text)], status),
            Kind::Call {
                call_id,
                name,
                arguments,
                ..
            } => call_item(&item.id, call_id, name, arguments, status),
        }
    }

    fn reasoning(&mut self, delta: &str, out: &mut Vec<u8>) {
        let open_reasoning = self
            .items
            .last()
            .is_some_and(|it| it.open && matches!(it.kind, Kind::Reasoning { .. }));
        if !open_reasoning {
            self.close_all("completed", out);
            let id = reasoning_id(&self.id, self.reasonings);
            self.reasonings = self.reasonings.saturating_add(1);
            let output_index = self.items.len();
            let mut added = reasoning_item(&id, "", "in_progress");
            added["summary"] = json!([]);
            self.emit(
                "response.output_item.added",
                json!({"output_index": output_index, "item": added}),
                out,
            );
            self.emit(
                "response.reasoning_summary_part.added",
                json!({
                    "item_id": id,
                    "output_index": output_index,
                    "summary_index": 0,
                    "part": summary_part(""),
                }),
                out,
            );
            self.items.push(Item {
                id,
                open: true,
                status: "in_progress",
                kind: Kind::Reasoning {
                    text: String::new(),
                },
            });
        }
        let output_index = self.items.len().saturating_sub(1);
        let Some(item) = self.items.last_mut() else {
            return;
        };
        if let Kind::Reasoning { text } = &mut item.kind {
            text.push_str(delta);
        }
        let item_id = item.id.clone();
        self.emit(
            "response.reasoning_summary_text.delta",
            json!({
                "item_id": item_id,
                "output_index": output_index,
                "summary_index": 0,
                "delta": delta,
            }),
            out,
        );
    }

    fn text(&mut self, delta: &str, out: &mut Vec<u8>) {
        let open_message = self
            .items
            .last()
            .is_some_and(|it| it.open && matches!(it.kind, Kind::Message { .. }));
        if !open_message {
            self.close_all("completed", out);
            let id = message_id(&self.id, self.messages);
            self.messages = self.messages.saturating_add(1);
            let output_index = self.items.len();
            self.emit(
                "response.output_item.added",
                json!({
                    "output_index": output_index,
                    "item": message_item(&id, Vec::new(), "in_progress"),
                }),
                out,
            );
            self.emit(
                "response.content_part.added",
                json!({
                    "item_id": id,
                    "output_index": output_index,
                    "content_index": 0,
                    "part": text_part(""),
                }),
                out,
            );
            self.items.push(Item {
                id,
                open: true,
                status: "in_progress",
                kind: Kind::Message {
                    text: String::new(),
                },
            });
        }
        let output_index = self.items.len().saturating_sub(1);
        let Some(item) = self.items.last_mut() else {
            return;
        };
        if let Kind::Message { text } = &mut item.kind {
            text.push_str(delta);
        }
        let item_id = item.id.clone();
        self.emit(
            "response.output_text.delta",
            json!({
                "item_id": item_id,
                "output_index": output_index,
                "content_index": 0,
                "delta": delta,
                "logprobs": [],
            }),
            out,
        );
    }

    fn tool_call(&mut self, tc: &ToolCallDelta, out: &mut Vec<u8>) {
        // The latest call with this index, unless the delta names a different call id (some
        // providers number every call 0).
        let existing = self.items.iter().rposition(|it| match &it.kind {
            Kind::Call { index, call_id, .. } => {
                *index == tc.index && tc.id.as_deref().is_none_or(|id| id == call_id)
            }
            Kind::Message { .. } | Kind::Reasoning { .. } => false,
        });
        let fragment = tc.function.arguments.as_deref().unwrap_or("");
        let pos = match existing {
            Some(pos) => {
                if let Some(Item {
                    kind: Kind::Call { name, .. },
                    ..
                }) = self.items.get_mut(pos)
                {
                    if let Some(more) = tc.function.name.as_deref() {
                        if name.is_empty() {
                            more.clone_into(name);
                        }
                    }
                }
                pos
            }
            None => {
                self.close_all("completed", out);
                let id = call_item_id(&self.id, self.calls);
                let call_id = tc
                    .id
                    .clone()
                    .unwrap_or_else(|| format!("call_{}", id.trim_start_matches("fc_")));
                self.calls = self.calls.saturating_add(1);
                let name = tc.function.name.clone().unwrap_or_default();
                let output_index = self.items.len();
                self.emit(
                    "response.output_item.added",
                    json!({
                        "output_index": output_index,
                        "item": call_item(&id, &call_id, &name, "", "in_progress"),
                    }),
                    out,
                );
                self.items.push(Item {
                    id,
                    open: true,
                    status: "in_progress",
                    kind: Kind::Call {
                        index: tc.index,
                        call_id,
                        name,
                        arguments: String::new(),
                    },
                });
                output_index
            }
        };
        if fragment.is_empty() {
            return;
        }
        let Some(item) = self.items.get_mut(pos) else {
            return;
        };
        if let Kind::Call { arguments, .. } = &mut item.kind {
            arguments.push_str(fragment);
        }
        // A fragment for a call already closed (a provider interleaving calls) is kept for the
        // final response but can no longer be streamed.
        if item.open {
            let item_id = item.id.clone();
            self.emit(
                "response.function_call_arguments.delta",
                json!({"item_id": item_id, "output_index": pos, "delta": fragment}),
                out,
            );
        }
    }

    /// Closes every open item, in order: the last one gets `last_status`, the others
    /// `completed`.
    fn close_all(&mut self, last_status: &'static str, out: &mut Vec<u8>) {
        let last = self.items.len().saturating_sub(1);
        for pos in 0..self.items.len() {
            let Some(item) = self.items.get_mut(pos) else {
                continue;
            };
            if !item.open {
                continue;
            }
            let status = if pos == last {
                last_status
            } else {
                "completed"
            };
            item.open = false;
            item.status = status;
            let item_id = item.id.clone();
            let done = match &item.kind {
                Kind::Reasoning { text } => {
                    let text = text.clone();
                    self.emit(
                        "response.reasoning_summary_text.done",
                        json!({
                            "item_id": item_id,
                            "output_index": pos,
                            "summary_index": 0,
                            "text": text,
                        }),
                        out,
                    );
                    let mut part_done = json!({
                        "item_id": item_id,
                        "output_index": pos,
                        "summary_index": 0,
                        "part": summary_part(&text),
                    });
                    // The SDK's marker for a part cut short (absent when it completed).
                    if status == "incomplete" {
                        part_done["status"] = json!("incomplete");
                    }
                    self.emit("response.reasoning_summary_part.done", part_done, out);
                    reasoning_item(&item_id, &text, status)
                }
                Kind::Message { text } => {
                    let text = text.clone();
                    self.emit(
                        "response.output_text.done",
                        json!({
                            "item_id": item_id,
                            "output_index": pos,
                            "content_index": 0,
                            "text": text,
                            "logprobs": [],
                        }),
                        out,
                    );
                    self.emit(
                        "response.content_part.done",
                        json!({
                            "item_id": item_id,
                            "output_index": pos,
                            "content_index": 0,
                            "part": text_part(&text),
                        }),
                        out,
                    );
                    message_item(&item_id, vec![text_part(&text)], status)
                }
                Kind::Call {
                    call_id,
                    name,
                    arguments,
                    ..
                } => {
                    let done = call_item(&item_id, call_id, name, arguments, status);
                    let (name, arguments) = (name.clone(), arguments.clone());
                    self.emit(
                        "response.function_call_arguments.done",
                        json!({
                            "item_id": item_id,
                            "output_index": pos,
                            "name": name,
                            "arguments": arguments,
                        }),
                        out,
                    );
                    done
                }
            };
            self.emit(
                "response.output_item.done",
                json!({"output_index": pos, "item": done}),
                out,
            );
        }
    }
}

impl ChunkEncoder for Encoder {
    fn chunk(&mut self, chunk: &ChatChunk, out: &mut Vec<u8>) {
        if self.ended {
            return;
        }
        self.start(&chunk.model, out);
        if self.model.is_empty() && !chunk.model.is_empty() {
            self.model.clone_from(&chunk.model);
        }
        if let Some(u) = &chunk.usage {
            self.usage = Some(u.clone());
        }
        for choice in chunk.choices.iter().filter(|c| c.index == 0) {
            let reasoning = choice.delta.reasoning_content.as_deref();
            if let Some(r) = reasoning.filter(|r| !r.is_empty()) {
                self.reasoning(r, out);
            }
            if let Some(text) = choice.delta.content.as_deref() {
                if !text.is_empty() {
                    self.text(text, out);
                }
            }
            for tc in choice.delta.tool_calls.iter().flatten() {
                self.tool_call(tc, out);
            }
            if choice.finish_reason.is_some() {
                self.finish = choice.finish_reason;
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        if self.ended {
            return;
        }
        let model = self.echo_model();
        self.start(&model, out);
        let (status, reason) = finish_status(self.finish);
        // The last item is the one a length or content-filter stop cut short.
        self.close_all(
            if reason.is_some() {
                "incomplete"
            } else {
                "completed"
            },
            out,
        );
        self.ended = true;
        let response = self.snapshot(status, reason, None);
        let kind = if reason.is_some() {
            "response.incomplete"
        } else {
            "response.completed"
        };
        self.emit(kind, json!({"response": response}), out);
    }

    fn error(&mut self, error: &ErrorEnvelope, out: &mut Vec<u8>) {
        if self.ended {
            return;
        }
        let model = self.echo_model();
        self.start(&model, out);
        self.ended = true;
        for item in self.items.iter_mut().filter(|it| it.open) {
            item.status = "incomplete";
        }
        let code = error_code(error);
        let response = self.snapshot("failed", None, Some((code, &error.error.message)));
        self.emit("response.failed", json!({"response": response}), out);
    }
}

impl Encoder {
    fn echo_model(&self) -> String {
        self.echo
            .0
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    }
}

/// A `ResponseError.code` for an error envelope: its code, or a code for its type, when the SDK
/// allows it; else `server_error`.
fn error_code(error: &ErrorEnvelope) -> &'static str {
    let wanted = match (error.error.code.as_deref(), error.error.kind.as_str()) {
        (Some(code), _) if ERROR_CODES.contains(&code) => code,
        (_, "rate_limit_error") => "rate_limit_exceeded",
        (_, kind) => kind,
    };
    ERROR_CODES
        .iter()
        .find(|c| **c == wanted)
        .copied()
        .unwrap_or("server_error")
}
