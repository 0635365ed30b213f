//! Streams and cached answers: a streamed answer is assembled into the one JSON response it
//! stands for ([`Assembler`]), and a cached response is replayed as a valid stream when the
//! next request streams ([`to_sse`]): for chat, a role chunk, the content, the tool calls, the
//! finish reason, usage when asked for, `[DONE]` — what the OpenAI SDKs parse.

use bytes::Bytes;
use serde_json::{json, Map, Value};
use switchyard_providers::Endpoint;
use switchyard_types::usage::TokenUsage;

/// One choice being assembled.
#[derive(Default)]
struct Choice {
    role: Option<String>,
    content: String,
    refusal: Option<String>,
    /// Tool calls by their stream index: (id, type, name, arguments).
    tool_calls: std::collections::BTreeMap<u64, (Value, Value, String, String)>,
    finish_reason: Value,
    text: String,
}

/// Assembles a streamed answer (whole SSE events, as the gateway forwards them) — or takes a
/// whole body — into the JSON of the equivalent plain response.
pub struct Assembler {
    endpoint: Endpoint,
    whole: Vec<u8>,
    head: Map<String, Value>,
    choices: std::collections::BTreeMap<u64, Choice>,
    usage: Option<Value>,
    done: bool,
    broken: bool,
    seen: usize,
    limit: usize,
}

impl Assembler {
    /// An assembler that gives up past `limit` bytes.
    pub fn new(endpoint: Endpoint, limit: usize) -> Self {
        Assembler {
            endpoint,
            whole: Vec::new(),
            head: Map::new(),
            choices: Default::default(),
            usage: None,
            done: false,
            broken: false,
            seen: 0,
            limit,
        }
    }

    /// One chunk of the response body.
    pub fn push(&mut self, chunk: &[u8]) {
        self.seen = self.seen.saturating_add(chunk.len());
        if self.broken || self.seen > self.limit {
            self.broken = true;
            return;
        }
        self.whole.extend_from_slice(chunk);
    }

    /// The plain response's JSON, when the body was a whole JSON object or a stream that ended
    /// with `[DONE]` and no error; `None` otherwise (nothing is cached). A stream whose usage
    /// chunk was not forwarded (the gateway asked for it, not the client) gets `usage` from
    /// the gateway's own reading.
    pub fn finish(mut self, usage: Option<TokenUsage>) -> Option<Bytes> {
        if self.broken {
            return None;
        }
        let whole = std::mem::take(&mut self.whole);
        let trimmed = whole.trim_ascii_start();
        if trimmed.starts_with(b"{") {
            return serde_json::from_slice::<Map<String, Value>>(trimmed)
                .ok()
                .map(|_| Bytes::from(whole));
        }
        if self.endpoint == Endpoint::Messages {
            // Anthropic's event stream, assembled into its message.
            return switchyard_providers::dialect::anthropic::assemble(&whole).map(Bytes::from);
        }
        for event in split_events(&whole) {
            self.event(&event);
            if self.broken {
                return None;
            }
        }
        if !self.done {
            return None;
        }
        if self.usage.is_none() {
            self.usage = usage.map(|u| {
                json!({"prompt_tokens": u.input, "completion_tokens": u.output,
                    "total_tokens": u.total,
                    "prompt_tokens_details": {"cached_tokens": u.cached_input},
                    "completion_tokens_details": {"reasoning_tokens": u.reasoning}})
            });
        }
        self.build()
    }

    fn event(&mut self, event: &Event) {
        if event.name.as_deref() == Some("error") {
            self.broken = true;
            return;
        }
        let data = event.data.trim();
        if data.is_empty() {
            return;
        }
        if data == "[DONE]" {
            self.done = true;
            return;
        }
        let Ok(Value::Object(chunk)) = serde_json::from_str::<Value>(data) else {
            self.broken = true;
            return;
        };
        if chunk.contains_key("error") {
            self.broken = true;
            return;
        }
        for k in [
            "id",
            "created",
            "model",
            "system_fingerprint",
            "service_tier",
        ] {
            if let Some(v) = chunk.get(k).filter(|v| !v.is_null()) {
                self.head.entry(k).or_insert_with(|| v.clone());
            }
        }
        if let Some(u) = chunk.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(u.clone());
        }
        for c in chunk
            .get("choices")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let index = c.get("index").and_then(Value::as_u64).unwrap_or(0);
            let choice = self.choices.entry(index).or_default();
            if let Some(f) = c.get("finish_reason").filter(|f| !f.is_null()) {
                choice.finish_reason = f.clone();
            }
            if let Some(t) = c.get("text").and_then(Value::as_str) {
                choice.text.push_str(t);
            }
            let Some(delta) = c.get("delta") else {
                continue;
            };
            if let Some(r) = delta.get("role").and_then(Value::as_str) {
                choice.role = Some(r.to_owned());
            }
            if let Some(t) = delta.get("content").and_then(Value::as_str) {
                choice.content.push_str(t);
            }
            if let Some(t) = delta.get("refusal").and_then(Value::as_str) {
                choice.refusal.get_or_insert_with(String::new).push_str(t);
            }
            for tc in delta
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let i = tc.get("index").and_then(Value::as_u64).unwrap_or(0);
                let call = choice.tool_calls.entry(i).or_insert_with(|| {
                    (Value::Null, json!("function"), String::new(), String::new())
                });
                if let Some(id) = tc.get("id").filter(|v| !v.is_null()) {
                    call.0 = id.clone();
                }
                if let Some(t) = tc.get("type").filter(|v| !v.is_null()) {
                    call.1 = t.clone();
                }
                if let Some(f) = tc.get("function") {
                    if let Some(n) = f.get("name").and_then(Value::as_str) {
                        call.2.push_str(n);
                    }
                    if let Some(a) = f.get("arguments").and_then(Value::as_str) {
                        call.3.push_str(a);
                    }
                }
            }
        }
    }

    fn build(self) -> Option<Bytes> {
        let chat = self.endpoint == Endpoint::ChatCompletions;
        let choices: Vec<Value> = self
            .choices
            .into_iter()
            .map(|(index, c)| {
                if !chat {
                    return json!({"index": index, "text": c.text, "logprobs": null,
                        "finish_reason": c.finish_reason});
                }
                let mut message = json!({
                    "role": c.role.unwrap_or_else(|| "assistant".into()),
                    "content": if c.content.is_empty() && !c.tool_calls.is_empty() {
                        Value::Null
                    } else {
                        Value::String(c.content)
                    },
                    "refusal": c.refusal,
                });
                if !c.tool_calls.is_empty() {
                    message["tool_calls"] = c
                        .tool_calls
                        .into_values()
                        .map(|(id, kind, name, arguments)| {
                            json!({"id": id, "type": kind,
                                "function": {"name": name, "arguments": arguments}})
                        })
                        .collect();
                }
                json!({"index": index, "message": message, "logprobs": null,
                    "finish_reason": c.finish_reason})
            })
            .collect();
        let mut out = self.head;
        out.insert(
            "object".into(),
            json!(if chat {
                "chat.completion"
            } else {
                "text_completion"
            }),
        );
        out.insert("choices".into(), Value::Array(choices));
        if let Some(u) = self.usage {
            out.insert("usage".into(), u);
        }
        serde_json::to_vec(&out).ok().map(Bytes::from)
    }
}

/// One SSE event.
struct Event {
    name: Option<String>,
    data: String,
}

fn split_events(bytes: &[u8]) -> Vec<Event> {
    let mut dec = switchyard_types::sse::SseDecoder::default();
    dec.push(bytes);
    let mut out = Vec::new();
    while let Some(Ok(ev)) = dec.next_event() {
        out.push(Event {
            name: ev.event,
            data: ev.data,
        });
    }
    out.extend(dec.finish().map(|ev| Event {
        name: ev.event,
        data: ev.data,
    }));
    out
}

/// A cached chat or completions response replayed as the stream a `stream: true` request
/// expects; `None` when the body is not such a response.
pub fn to_sse(endpoint: Endpoint, body: &[u8], include_usage: bool) -> Option<Bytes> {
    let Value::Object(resp) = serde_json::from_slice::<Value>(body).ok()? else {
        return None;
    };
    let chat = endpoint == Endpoint::ChatCompletions;
    let object = if chat {
        "chat.completion.chunk"
    } else {
        "text_completion"
    };
    let mut head = Map::new();
    for k in [
        "id",
        "created",
        "model",
        "system_fingerprint",
        "service_tier",
    ] {
        if let Some(v) = resp.get(k) {
            head.insert(k.into(), v.clone());
        }
    }
    head.insert("object".into(), json!(object));
    let mut out = Vec::new();
    let mut emit = |choices: Value, usage: Option<&Value>| {
        let mut chunk = head.clone();
        chunk.insert("choices".into(), choices);
        if let Some(u) = usage {
            chunk.insert("usage".into(), u.clone());
        }
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(&serde_json::to_vec(&Value::Object(chunk)).unwrap_or_default());
        out.extend_from_slice(b"\n\n");
    };
    for c in resp.get("choices")?.as_array()? {
        let index = c.get("index").cloned().unwrap_or(json!(0));
        let finish = c.get("finish_reason").cloned().unwrap_or(Value::Null);
        if !chat {
            let text = c.get("text").cloned().unwrap_or(json!(""));
            emit(
                json!([{"index": index, "text": text, "logprobs": null, "finish_reason": finish}]),
                None,
            );
            continue;
        }
        let message = c.get("message")?;
        let role = message.get("role").cloned().unwrap_or(json!("assistant"));
        emit(
            json!([{"index": index, "delta": {"role": role, "content": ""}, "logprobs": null, "finish_reason": null}]),
            None,
        );
        if let Some(text) = message
            .get("content")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            emit(
                json!([{"index": index, "delta": {"content": text}, "logprobs": null, "finish_reason": null}]),
                None,
            );
        }
        if let Some(calls) = message.get("tool_calls").and_then(Value::as_array) {
            let deltas: Vec<Value> = calls
                .iter()
                .enumerate()
                .map(|(i, call)| {
                    let mut d = call.clone();
                    d["index"] = json!(i);
                    d
                })
                .collect();
            emit(
                json!([{"index": index, "delta": {"tool_calls": deltas}, "logprobs": null, "finish_reason": null}]),
                None,
            );
        }
        emit(
            json!([{"index": index, "delta": {}, "logprobs": null, "finish_reason": finish}]),
            None,
        );
    }
    if include_usage {
        if let Some(u) = resp.get("usage") {
            emit(json!([]), Some(u));
        }
    }
    out.extend_from_slice(b"data: [DONE]\n\n");
    Some(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(delta: Value, finish: Value) -> String {
        format!(
            "data: {}\n\n",
            json!({"id": "c1", "object": "chat.completion.chunk", "created": 7, "model": "m",
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        )
    }

    fn assemble(chunks: &[String]) -> Option<Value> {
        let mut a = Assembler::new(Endpoint::ChatCompletions, 1 << 20);
        for c in chunks {
            a.push(c.as_bytes());
        }
        a.finish(None).map(|b| serde_json::from_slice(&b).unwrap())
    }

    #[test]
    fn a_complete_stream_becomes_the_plain_response() {
        let v = assemble(&[
            chunk(json!({"role": "assistant", "content": ""}), Value::Null),
            chunk(json!({"content": "Hel"}), Value::Null),
            chunk(json!({"content": "lo"}), Value::Null),
            chunk(json!({}), json!("stop")),
            "data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}\n\n".into(),
            "data: [DONE]\n\n".into(),
        ])
        .unwrap();
        assert_eq!(v["object"], "chat.completion");
        assert_eq!(v["id"], "c1");
        assert_eq!(v["choices"][0]["message"]["content"], "Hello");
        assert_eq!(v["choices"][0]["message"]["refusal"], Value::Null);
        assert_eq!(v["choices"][0]["finish_reason"], "stop");
        assert_eq!(v["usage"]["total_tokens"], 3);
    }

    #[test]
    fn tool_call_deltas_are_joined() {
        let v = assemble(&[
            chunk(json!({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"ci"}}]}), Value::Null),
            chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "ty\":\"Paris\"}"}}]}), Value::Null),
            chunk(json!({}), json!("tool_calls")),
            "data: [DONE]\n\n".into(),
        ])
        .unwrap();
        let call = &v["choices"][0]["message"]["tool_calls"][0];
        assert_eq!(call["id"], "call_1");
        assert_eq!(call["function"]["arguments"], "{\"city\":\"Paris\"}");
        assert_eq!(v["choices"][0]["message"]["content"], Value::Null);
    }

    #[test]
    fn broken_cut_or_oversized_streams_are_not_cached() {
        let start = chunk(json!({"content": "Hi"}), Value::Null);
        assert!(
            assemble(std::slice::from_ref(&start)).is_none(),
            "no [DONE]"
        );
        assert!(assemble(&[
            start.clone(),
            "event: error\ndata: {\"error\":{\"message\":\"cut\"}}\n\n".into()
        ])
        .is_none());
        let mut a = Assembler::new(Endpoint::ChatCompletions, 10);
        a.push(start.as_bytes());
        a.push(b"data: [DONE]\n\n");
        assert!(a.finish(None).is_none());
    }

    #[test]
    fn a_replayed_stream_assembles_back_to_the_same_answer() {
        let plain = json!({"id": "c1", "object": "chat.completion", "created": 7, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello",
                "refusal": null}, "logprobs": null, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}});
        let sse = to_sse(
            Endpoint::ChatCompletions,
            plain.to_string().as_bytes(),
            true,
        )
        .unwrap();
        let text = String::from_utf8(sse.to_vec()).unwrap();
        assert!(text.ends_with("data: [DONE]\n\n"));
        assert!(text.contains("\"usage\""));
        let mut a = Assembler::new(Endpoint::ChatCompletions, 1 << 20);
        a.push(&sse);
        let back: Value = serde_json::from_slice(&a.finish(None).unwrap()).unwrap();
        assert_eq!(back, plain);
        let no_usage = to_sse(
            Endpoint::ChatCompletions,
            plain.to_string().as_bytes(),
            false,
        )
        .unwrap();
        assert!(!String::from_utf8(no_usage.to_vec())
            .unwrap()
            .contains("\"usage\""));
    }

    #[test]
    fn a_whole_json_body_is_taken_as_it_is() {
        let mut a = Assembler::new(Endpoint::Embeddings, 1 << 20);
        a.push(br#"{"object":"list","data":[]}"#);
        assert_eq!(
            a.finish(None).unwrap().as_ref(),
            br#"{"object":"list","data":[]}"#
        );
    }
}
