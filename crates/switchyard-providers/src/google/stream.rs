//! `streamGenerateContent?alt=sse` frames → `chat.completion.chunk`s.
//!
//! Every SSE frame carries a whole `GenerateContentResponse` holding that frame's new text and
//! any complete function calls. A candidate is done when a frame gives it a `finishReason`; the
//! stream has no other terminal event, so `finish()` fails when a candidate never finished.
//!
//! When `strict_open_ai_compliance` is false, thought parts are also streamed as
//! `delta.reasoning_content` and, as Portkey does, `delta.content_blocks`:
//! `{"index": 0, "delta": {"thinking": ..}}` for thoughts, `{"index": 0 | 1, "delta": {"text": ..}}`
//! for answer text (1 once thoughts were seen); a function call's `thoughtSignature` goes on
//! its tool call delta as `function.thought_signature`.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use switchyard_types::chat::{
    ChatChunk, ChunkChoice, Delta, FinishReason, FunctionCallDelta, Role, ToolCallDelta, Usage,
};

use super::response::{self, CallIds, GenerateContentResponse};
use crate::native::{ChunkTranslator, Frame, TranslateError, WireContext};

#[derive(Debug, Default)]
struct ChoiceState {
    role_sent: bool,
    tool_calls: u32,
    finished: bool,
    /// A thought part was streamed (Portkey then numbers text blocks 1).
    thought_seen: bool,
}

pub(super) struct GeminiStream {
    fallback_id: String,
    model: String,
    created: u64,
    include_usage: bool,
    strict: bool,
    /// The chunk id, fixed by the first frame (Gemini's `responseId` when it has one).
    id: Option<String>,
    ids: Option<CallIds>,
    choices: BTreeMap<u32, ChoiceState>,
    usage: Option<Usage>,
    ended: bool,
}

impl GeminiStream {
    pub(super) fn new(cx: &WireContext<'_>) -> Self {
        GeminiStream {
            fallback_id: cx.response_id.to_owned(),
            model: cx.model.to_owned(),
            created: cx.created,
            include_usage: cx.include_usage,
            strict: cx.strict,
            id: None,
            ids: None,
            choices: BTreeMap::new(),
            usage: None,
            ended: false,
        }
    }

    fn chunk(&self, choices: Vec<ChunkChoice>, usage: Option<Usage>) -> ChatChunk {
        ChatChunk::new(
            self.id.clone().unwrap_or_else(|| self.fallback_id.clone()),
            self.created,
            self.model.clone(),
            choices,
            usage,
        )
    }

    fn on_response(&mut self, r: GenerateContentResponse) -> Vec<ChatChunk> {
        if self.id.is_none() {
            let id = r
                .response_id
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| self.fallback_id.clone());
            self.ids = Some(CallIds::new(&id));
            self.id = Some(id);
        }
        if let Some(u) = &r.usage_metadata {
            self.usage = Some(response::usage(u));
        }
        let mut out = Vec::new();
        let blocked = r
            .prompt_feedback
            .as_ref()
            .and_then(|f| f.block_reason.as_ref())
            .is_some();
        if r.candidates.is_empty() && blocked {
            // The prompt was blocked: one filtered, empty answer.
            let state = self.choices.entry(0).or_default();
            if !state.finished {
                let role = (!state.role_sent).then_some(Role::Assistant);
                state.role_sent = true;
                state.finished = true;
                let choice = ChunkChoice {
                    index: 0,
                    delta: Delta {
                        role,
                        ..Delta::default()
                    },
                    finish_reason: Some(FinishReason::ContentFilter),
                };
                out.push(self.chunk(vec![choice], None));
            }
            return out;
        }
        for (pos, c) in r.candidates.iter().enumerate() {
            let index = c.index.unwrap_or(pos as u32);
            if self.choices.get(&index).is_some_and(|s| s.finished) {
                // Nothing may follow a choice's finish_reason.
                continue;
            }
            let (text, calls) = response::candidate_output(c);
            let mut tool_deltas = Vec::with_capacity(calls.len());
            for (name, arguments, signature) in calls {
                let id = self.ids.as_mut().map(CallIds::next_id);
                let state = self.choices.entry(index).or_default();
                tool_deltas.push(ToolCallDelta {
                    index: state.tool_calls,
                    id,
                    kind: Some("function".into()),
                    function: FunctionCallDelta {
                        name: Some(name),
                        arguments: Some(arguments),
                        thought_signature: signature.filter(|_| !self.strict),
                    },
                });
                state.tool_calls += 1;
            }
            let strict = self.strict;
            let state = self.choices.entry(index).or_default();
            let (reasoning, blocks) = if strict {
                (None, None)
            } else {
                let (thoughts, native) = response::native_blocks(c);
                let blocks: Vec<Value> = native
                    .into_iter()
                    .map(|mut b| {
                        let kind = b.get("type").and_then(Value::as_str).map(str::to_owned);
                        let i = match kind.as_deref() {
                            Some("thinking") => {
                                state.thought_seen = true;
                                0
                            }
                            Some("text") => u32::from(state.thought_seen),
                            _ => u32::from(state.thought_seen) + 1,
                        };
                        if let (Some(obj), Some("thinking" | "text")) =
                            (b.as_object_mut(), kind.as_deref())
                        {
                            obj.remove("type");
                        }
                        json!({ "index": i, "delta": b })
                    })
                    .collect();
                (thoughts, (!blocks.is_empty()).then_some(blocks))
            };
            let finish = c
                .finish_reason
                .as_deref()
                .map(|f| response::finish_reason(f, state.tool_calls > 0));
            let has_delta = text.is_some()
                || !tool_deltas.is_empty()
                || reasoning.is_some()
                || blocks.is_some();
            if !has_delta && finish.is_none() && state.role_sent {
                continue;
            }
            let role = (!state.role_sent).then_some(Role::Assistant);
            state.role_sent = true;
            if finish.is_some() {
                state.finished = true;
            }
            let choice = ChunkChoice {
                index,
                delta: Delta {
                    role,
                    content: text,
                    tool_calls: (!tool_deltas.is_empty()).then_some(tool_deltas),
                    reasoning_content: reasoning,
                    content_blocks: blocks,
                },
                finish_reason: finish,
            };
            out.push(self.chunk(vec![choice], None));
        }
        out
    }
}

impl ChunkTranslator for GeminiStream {
    fn on_frame(&mut self, frame: Frame<'_>) -> Result<Vec<ChatChunk>, TranslateError> {
        let data = std::str::from_utf8(frame.data)
            .map_err(|_| {
                TranslateError::InvalidResponse("Gemini stream frame is not UTF-8".into())
            })?
            .trim();
        if data.is_empty() || data == "[DONE]" {
            return Ok(Vec::new());
        }
        // `alt=sse` frames are single objects; a JSON array (the non-SSE framing) is accepted too.
        let value: Value = serde_json::from_str(data).map_err(|e| {
            TranslateError::InvalidResponse(format!("Gemini stream frame is not JSON: {e}"))
        })?;
        let items = match value {
            Value::Array(items) => items,
            other => vec![other],
        };
        let mut out = Vec::new();
        for item in items {
            let r = response::parse_value(item)?;
            out.extend(self.on_response(r));
        }
        Ok(out)
    }

    fn finish(&mut self) -> Result<Vec<ChatChunk>, TranslateError> {
        if self.ended {
            return Ok(Vec::new());
        }
        self.ended = true;
        if self.choices.is_empty() {
            return Err(TranslateError::InvalidResponse(
                "Gemini stream ended before any candidate".into(),
            ));
        }
        if let Some((index, _)) = self.choices.iter().find(|(_, s)| !s.finished) {
            return Err(TranslateError::InvalidResponse(format!(
                "Gemini stream ended before candidate {index} had a finishReason"
            )));
        }
        if !self.include_usage {
            return Ok(Vec::new());
        }
        let usage = self.usage.clone().unwrap_or_else(|| Usage::new(0, 0));
        Ok(vec![self.chunk(Vec::new(), Some(usage))])
    }
}
