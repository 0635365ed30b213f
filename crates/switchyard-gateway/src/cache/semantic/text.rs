//! What a semantic lookup compares by meaning, and what must match exactly.
//!
//! A request is split into the **text** (embedded, compared by cosine similarity) and the
//! **rest** (hashed into the partition: only requests whose rest is identical are compared).
//!
//! - Chat completions: the text is the content of the conversation's messages, joined by
//!   newlines. A leading `system` or `developer` message is the instructions, not the question:
//!   it stays in the rest, so a different system prompt is a different partition (Portkey
//!   ignores it entirely, and may answer under other instructions). The roles, names and order
//!   of the messages stay in the rest too. Conversations of more than four messages, messages
//!   with anything but text (images, audio, tool calls, tool results) and a text over the
//!   embedding's input limit are not compared by meaning (exact matching still applies).
//! - Completions: the text is the `prompt` (a string, or a list of one string).
//! - Everything else (embeddings…) is matched exactly only.

use serde_json::{Map, Value};
use switchyard_providers::Endpoint;

/// The most messages a semantically cached conversation has (Portkey's limit).
pub const MAX_MESSAGES: usize = 4;

/// A request split for a semantic lookup.
#[derive(Debug, PartialEq)]
pub struct Split {
    /// The request without the text: hashed into the partition.
    pub rest: Map<String, Value>,
    /// The text compared by meaning.
    pub text: String,
}

/// Splits `body` (the canonical upstream body), or `None` when the request is not compared by
/// meaning.
pub fn split(endpoint: Endpoint, mut body: Map<String, Value>, max_input: usize) -> Option<Split> {
    let text = match endpoint {
        Endpoint::ChatCompletions => chat_text(body.get_mut("messages")?)?,
        Endpoint::Completions => match body.remove("prompt")? {
            Value::String(s) => s,
            Value::Array(mut a) if a.len() == 1 => match a.pop()? {
                Value::String(s) => s,
                _ => return None,
            },
            _ => return None,
        },
        _ => return None,
    };
    if text.trim().is_empty() || text.len() > max_input {
        return None;
    }
    Some(Split { rest: body, text })
}

/// Takes the compared text out of `messages`.
fn chat_text(messages: &mut Value) -> Option<String> {
    let messages = messages.as_array_mut()?;
    if messages.is_empty() || messages.len() > MAX_MESSAGES {
        return None;
    }
    let instructions = messages.len() > 1
        && matches!(
            messages[0].get("role").and_then(Value::as_str),
            Some("system" | "developer")
        );
    let mut text = String::new();
    for m in messages.iter_mut().skip(usize::from(instructions)) {
        let m = m.as_object_mut()?;
        if !m
            .keys()
            .all(|k| matches!(k.as_str(), "role" | "content" | "name"))
        {
            return None;
        }
        match m.get("role").and_then(Value::as_str) {
            Some("user" | "assistant" | "system" | "developer") => {}
            _ => return None,
        }
        if !text.is_empty() {
            text.push('\n');
        }
        match m.remove("content")? {
            Value::String(s) => text.push_str(&s),
            Value::Array(parts) => {
                for (i, p) in parts.iter().enumerate() {
                    if p.get("type").and_then(Value::as_str) != Some("text") {
                        return None;
                    }
                    if i > 0 {
                        text.push('\n');
                    }
                    text.push_str(p.get("text")?.as_str()?);
                }
            }
            _ => return None,
        }
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(o) => o,
            _ => Map::new(),
        }
    }

    #[test]
    fn the_system_prompt_and_the_roles_stay_in_the_partition_the_rest_is_compared() {
        let s = split(
            Endpoint::ChatCompletions,
            obj(json!({"model": "m", "temperature": 0, "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "Capital"}, {"type": "text", "text": "of France?"}]},
            ]})),
            1000,
        )
        .unwrap();
        assert_eq!(s.text, "Capital\nof France?");
        assert_eq!(
            Value::Object(s.rest),
            json!({"model": "m", "temperature": 0, "messages": [
                {"role": "system", "content": "Be brief."}, {"role": "user"}]})
        );
    }

    #[test]
    fn a_lone_message_is_compared_itself() {
        let s = split(
            Endpoint::ChatCompletions,
            obj(json!({"messages": [{"role": "user", "content": "hi there"}]})),
            1000,
        )
        .unwrap();
        assert_eq!(s.text, "hi there");
    }

    #[test]
    fn long_conversations_non_text_parts_and_long_text_are_not_compared() {
        let msg = json!({"role": "user", "content": "q"});
        let long = json!({"messages": [msg, msg, msg, msg, msg]});
        assert_eq!(split(Endpoint::ChatCompletions, obj(long), 1000), None);
        let image = json!({"messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:,"}}]}]});
        assert_eq!(split(Endpoint::ChatCompletions, obj(image), 1000), None);
        let tool = json!({"messages": [{"role": "user", "content": "q"},
            {"role": "assistant", "content": null, "tool_calls": []}]});
        assert_eq!(split(Endpoint::ChatCompletions, obj(tool), 1000), None);
        let big = json!({"messages": [{"role": "user", "content": "x".repeat(11)}]});
        assert_eq!(split(Endpoint::ChatCompletions, obj(big), 10), None);
        let blank = json!({"messages": [{"role": "user", "content": "  "}]});
        assert_eq!(split(Endpoint::ChatCompletions, obj(blank), 10), None);
    }

    #[test]
    fn a_completion_compares_its_prompt_and_embeddings_are_exact_only() {
        let s = split(
            Endpoint::Completions,
            obj(json!({"model": "m", "prompt": ["Say hi"]})),
            100,
        )
        .unwrap();
        assert_eq!(
            (s.text.as_str(), Value::Object(s.rest)),
            ("Say hi", json!({"model": "m"}))
        );
        let e = obj(json!({"model": "m", "input": "x"}));
        assert_eq!(split(Endpoint::Embeddings, e, 100), None);
    }
}
