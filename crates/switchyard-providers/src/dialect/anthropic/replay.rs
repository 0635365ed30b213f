//! A Messages event stream to the message it spells ([`assemble`]), and a message back to a
//! stream ([`replay`]): how a streamed Messages answer is cached, and how a cached one is
//! answered to a client that asked for a stream.

use serde_json::{json, Map, Value};
use switchyard_types::sse::SseDecoder;

use super::write_event;

/// The largest SSE line read while assembling.
const MAX_LINE: usize = 16 << 20;

/// The message an Anthropic event stream spells, as JSON; `None` when the stream failed (an
/// `error` event), ended before `message_stop`, or is not one.
pub fn assemble(stream: &[u8]) -> Option<Vec<u8>> {
    let mut dec = SseDecoder::new(MAX_LINE);
    dec.push(stream);
    let mut message: Option<Map<String, Value>> = None;
    let mut blocks: Vec<Value> = Vec::new();
    let mut partial: Vec<String> = Vec::new();
    let mut stopped = false;
    let mut events = Vec::new();
    while let Some(ev) = dec.next_event() {
        events.push(ev.ok()?);
    }
    events.extend(dec.finish());
    for ev in events {
        if ev.data.trim().is_empty() {
            continue;
        }
        let data: Value = serde_json::from_str(&ev.data).ok()?;
        let kind = ev
            .event
            .as_deref()
            .or_else(|| data.get("type").and_then(Value::as_str))?;
        let index = || {
            data.get("index")
                .and_then(Value::as_u64)
                .and_then(|i| usize::try_from(i).ok())
        };
        match kind {
            "message_start" => message = data.get("message")?.as_object().cloned(),
            "content_block_start" => {
                let i = index()?;
                if i != blocks.len() {
                    return None;
                }
                blocks.push(data.get("content_block")?.clone());
                partial.push(String::new());
            }
            "content_block_delta" => {
                let i = index()?;
                let block = blocks.get_mut(i)?.as_object_mut()?;
                let delta = data.get("delta")?;
                let append = |block: &mut Map<String, Value>, field: &str, more: &str| {
                    let mut text = block
                        .get(field)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    text.push_str(more);
                    block.insert(field.to_owned(), Value::String(text));
                };
                match delta.get("type").and_then(Value::as_str)? {
                    "text_delta" => append(block, "text", delta.get("text")?.as_str()?),
                    "thinking_delta" => append(block, "thinking", delta.get("thinking")?.as_str()?),
                    "signature_delta" => {
                        block.insert("signature".into(), delta.get("signature")?.clone());
                    }
                    "input_json_delta" => partial
                        .get_mut(i)?
                        .push_str(delta.get("partial_json")?.as_str()?),
                    // A delta this gateway does not know (citations, …): the answer is not
                    // kept rather than kept wrong.
                    _ => return None,
                }
            }
            "content_block_stop" => {
                let i = index()?;
                let json = partial.get(i)?;
                if !json.is_empty() {
                    let input: Value = serde_json::from_str(json).ok()?;
                    blocks
                        .get_mut(i)?
                        .as_object_mut()?
                        .insert("input".into(), input);
                }
            }
            "message_delta" => {
                let m = message.as_mut()?;
                if let Some(d) = data.get("delta").and_then(Value::as_object) {
                    for (k, v) in d {
                        m.insert(k.clone(), v.clone());
                    }
                }
                if let Some(u) = data.get("usage").and_then(Value::as_object) {
                    let usage = m
                        .entry("usage")
                        .or_insert_with(|| Value::Object(Map::new()))
                        .as_object_mut()?;
                    for (k, v) in u {
                        usage.insert(k.clone(), v.clone());
                    }
                }
            }
            "message_stop" => stopped = true,
            "ping" => {}
            _ => return None,
        }
    }
    let mut m = message.filter(|_| stopped)?;
    m.insert("content".into(), Value::Array(blocks));
    serde_json::to_vec(&Value::Object(m)).ok()
}

/// The event stream of a whole message (JSON): each block in one delta.
pub fn replay(message: &[u8]) -> Option<Vec<u8>> {
    let Value::Object(mut m) = serde_json::from_slice::<Value>(message).ok()? else {
        return None;
    };
    if m.get("type").and_then(Value::as_str) != Some("message") {
        return None;
    }
    let blocks = match m.remove("content") {
        Some(Value::Array(b)) => b,
        _ => Vec::new(),
    };
    let stop_reason = m
        .insert("stop_reason".into(), Value::Null)
        .unwrap_or(Value::Null);
    let stop_sequence = m
        .insert("stop_sequence".into(), Value::Null)
        .unwrap_or(Value::Null);
    let usage = m.get("usage").cloned().unwrap_or_else(|| json!({}));
    m.insert("content".into(), json!([]));
    let mut out = Vec::new();
    write_event(
        &mut out,
        "message_start",
        &json!({"type": "message_start", "message": Value::Object(m)}),
    );
    for (index, block) in blocks.into_iter().enumerate() {
        let kind = block
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let (start, delta) = match kind {
            "text" => (
                json!({"type": "text", "text": ""}),
                vec![
                    json!({"type": "text_delta", "text": block.get("text").cloned().unwrap_or(json!(""))}),
                ],
            ),
            "tool_use" => (
                json!({"type": "tool_use", "id": block.get("id"), "name": block.get("name"), "input": {}}),
                vec![json!({"type": "input_json_delta",
                    "partial_json": block.get("input").map(Value::to_string).unwrap_or_default()})],
            ),
            "thinking" => {
                let mut deltas = vec![json!({"type": "thinking_delta",
                    "thinking": block.get("thinking").cloned().unwrap_or(json!(""))})];
                if let Some(sig) = block
                    .get("signature")
                    .filter(|s| s.as_str().is_some_and(|s| !s.is_empty()))
                {
                    deltas.push(json!({"type": "signature_delta", "signature": sig}));
                }
                (
                    json!({"type": "thinking", "thinking": "", "signature": ""}),
                    deltas,
                )
            }
            // Any other block (redacted thinking, server tool results) goes whole in its start.
            _ => (block.clone(), Vec::new()),
        };
        write_event(
            &mut out,
            "content_block_start",
            &json!({"type": "content_block_start", "index": index, "content_block": start}),
        );
        for d in delta {
            write_event(
                &mut out,
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": index, "delta": d}),
            );
        }
        write_event(
            &mut out,
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": index}),
        );
    }
    write_event(
        &mut out,
        "message_delta",
        &json!({"type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
                "usage": usage}),
    );
    write_event(&mut out, "message_stop", &json!({"type": "message_stop"}));
    Some(out)
}
