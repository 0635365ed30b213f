//! `default.addPrefix`: a mutator that prepends `prefix` to a message (chat/messages) or to the
//! prompt (completions), before the request.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::params::Params;
use crate::{
    ready, text, Check, CheckContext, CheckError, CheckFuture, CheckOutcome, HookEvent, PreparedCheck,
    RequestType,
};

/// `default.addPrefix`. Parameters: `prefix` (required string), `applyToRole` (default `user`),
/// `addToExisting` (default true: prefix the first message of that role; false: insert a new
/// message of that role before it), `onlyIfEmpty` (default false: only prefix a message whose
/// content is empty). The verdict is always true. After the request, and for embeddings or other
/// request types, it does nothing.
///
/// When no message has the role, one is created: at the start for `system`, at the end
/// otherwise. Deviations from Portkey: when the target is the last message and its content is
/// an array whose first part is not text (an image), a text part is inserted before it (Portkey
/// sets a `text` field on the image part); `onlyIfEmpty` on a non-empty message leaves the
/// request untouched with `transformed: None` (Portkey reports an unchanged copy as transformed).
pub struct AddPrefix;

struct Prepared {
    prefix: String,
    role: String,
    add_to_existing: bool,
    only_if_empty: bool,
}

impl Check for AddPrefix {
    fn id(&self) -> &'static str {
        "default.addPrefix"
    }

    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
        let p = Params::new(params)?;
        let prefix = p.required_str("prefix").map_err(|_| {
            crate::params::invalid("Prefix parameter is required and must be a string")
        })?;
        let role = match p.str("applyToRole")? {
            None | Some("") => "user",
            Some(role) => role,
        };
        Ok(Arc::new(Prepared {
            prefix: prefix.to_owned(),
            role: role.to_owned(),
            add_to_existing: p.bool("addToExisting", true)?,
            only_if_empty: p.bool("onlyIfEmpty", false)?,
        }))
    }
}

impl PreparedCheck for Prepared {
    fn run<'a>(&'a self, cx: &'a CheckContext<'a>) -> CheckFuture<'a> {
        ready(self.check(cx))
    }
}

impl Prepared {
    fn check(&self, cx: &CheckContext<'_>) -> Result<CheckOutcome, CheckError> {
        let transformed = match (cx.event, cx.request_type) {
            (HookEvent::BeforeRequest, RequestType::ChatComplete | RequestType::Messages) => {
                self.prefix_chat(cx)?
            }
            (HookEvent::BeforeRequest, RequestType::Complete) => self.prefix_prompt(cx)?,
            _ => return Ok(CheckOutcome::new(true, Value::Null)),
        };
        Ok(CheckOutcome::new(
            true,
            json!({
                "prefix": self.prefix,
                "requestType": cx.request_type.as_portkey(),
                "applyToRole": self.role,
                "addToExisting": self.add_to_existing,
                "onlyIfEmpty": self.only_if_empty,
            }),
        )
        .with_transformed(transformed))
    }

    /// A completion: the prompt (or its first element) gets the prefix.
    fn prefix_prompt(&self, cx: &CheckContext<'_>) -> Result<Option<Value>, CheckError> {
        let part = text::current_content_part(cx)?;
        if part.content.is_none() {
            return Ok(None);
        }
        let first = part.texts.first().copied().flatten().unwrap_or("");
        let new = format!("{}{first}", self.prefix);
        text::set_current_content_part(cx, &[Some(new)]).map(Some)
    }

    fn prefix_chat(&self, cx: &CheckContext<'_>) -> Result<Option<Value>, CheckError> {
        let Some(messages) = cx.request.get("messages").and_then(Value::as_array) else {
            return Err(CheckError::Failed("the request has no `messages` array".into()));
        };
        let target = messages
            .iter()
            .position(|m| m.get("role").and_then(Value::as_str) == Some(self.role.as_str()));
        let new_message = || {
            let content = if cx.request_type == RequestType::Messages {
                json!([{ "type": "text", "text": self.prefix }])
            } else {
                json!(self.prefix)
            };
            json!({ "role": self.role, "content": content })
        };
        let mut request = cx.request.clone();
        let Some(messages) = request.get_mut("messages").and_then(Value::as_array_mut) else {
            return Ok(None);
        };
        match target {
            Some(i) => {
                let content = messages.get(i).and_then(|m| m.get("content"));
                if self.only_if_empty && !is_empty(content) {
                    return Ok(None);
                }
                if self.add_to_existing {
                    if let Some(message) = messages.get_mut(i).and_then(Value::as_object_mut) {
                        let content = message.remove("content").unwrap_or(Value::Null);
                        message.insert("content".to_owned(), self.prefixed(content));
                    }
                } else {
                    messages.insert(i, new_message());
                }
            }
            None if self.role == "system" => messages.insert(0, new_message()),
            None => messages.push(new_message()),
        }
        Ok(Some(request))
    }

    /// Portkey's `buildPrefixedContent`.
    fn prefixed(&self, content: Value) -> Value {
        match content {
            Value::Null => Value::String(self.prefix.clone()),
            Value::String(s) => Value::String(format!("{}{s}", self.prefix)),
            Value::Array(mut parts) => {
                let first_is_text = parts
                    .first()
                    .is_some_and(|p| p.get("type").and_then(Value::as_str) == Some("text"));
                if first_is_text {
                    if let Some(Value::Object(first)) = parts.first_mut() {
                        let text = first.get("text").and_then(Value::as_str).unwrap_or("");
                        let text = format!("{}{text}", self.prefix);
                        first.insert("text".to_owned(), Value::String(text));
                    }
                } else {
                    parts.insert(0, json!({ "type": "text", "text": self.prefix }));
                }
                Value::Array(parts)
            }
            other => Value::String(format!("{}{other}", self.prefix)),
        }
    }
}

fn is_empty(content: Option<&Value>) -> bool {
    match content {
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{error, outcome, Cx};

    fn chat(messages: Value) -> Cx {
        Cx::chat(json!({"model": "gpt-4", "messages": messages}))
    }
    fn anthropic(messages: Value) -> Cx {
        Cx::messages(json!({"model": "claude-3-opus-20240229", "messages": messages}))
    }

    #[test]
    fn chat_and_messages() {
        let sys_user = json!([{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "Hello, how are you?"}]);
        let cases = [
            (chat(sys_user.clone()), json!({"prefix": "IMPORTANT: ", "applyToRole": "user"}),
             json!([{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "IMPORTANT: Hello, how are you?"}])),
            (chat(sys_user.clone()), json!({"prefix": "CRITICAL: ", "applyToRole": "system"}),
             json!([{"role": "system", "content": "CRITICAL: You are a helpful assistant."}, {"role": "user", "content": "Hello, how are you?"}])),
            (chat(json!([{"role": "system", "content": "s"}])), json!({"prefix": "PREFIX: ", "applyToRole": "user"}),
             json!([{"role": "system", "content": "s"}, {"role": "user", "content": "PREFIX: "}])),
            (chat(json!([{"role": "user", "content": "Hello!"}])), json!({"prefix": "SYSTEM PREFIX: ", "applyToRole": "system"}),
             json!([{"role": "system", "content": "SYSTEM PREFIX: "}, {"role": "user", "content": "Hello!"}])),
            (chat(json!([{"role": "system", "content": "s"}, {"role": "user", "content": "Hello!"}])), json!({"prefix": "PREFIX: ", "addToExisting": false}),
             json!([{"role": "system", "content": "s"}, {"role": "user", "content": "PREFIX: "}, {"role": "user", "content": "Hello!"}])),
            (chat(json!([{"role": "user", "content": ""}])), json!({"prefix": "PREFIX: ", "onlyIfEmpty": true}),
             json!([{"role": "user", "content": "PREFIX: "}])),
            (chat(json!([{"role": "user", "content": "First message"}, {"role": "assistant", "content": "Response"}, {"role": "user", "content": "Second message"}])),
             json!({"prefix": "PREFIX: "}),
             json!([{"role": "user", "content": "PREFIX: First message"}, {"role": "assistant", "content": "Response"}, {"role": "user", "content": "Second message"}])),
            (chat(json!([{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi there!"}])), json!({"prefix": "As an AI assistant: ", "applyToRole": "assistant"}),
             json!([{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "As an AI assistant: Hi there!"}])),
            (anthropic(json!([{"role": "user", "content": [{"type": "text", "text": "Hello, Claude!"}]}])), json!({"prefix": "IMPORTANT: "}),
             json!([{"role": "user", "content": [{"type": "text", "text": "IMPORTANT: Hello, Claude!"}]}])),
            (anthropic(json!([{"role": "user", "content": [{"type": "text", "text": "First block"}, {"type": "text", "text": "Second block"}]}])), json!({"prefix": "PREFIX: "}),
             json!([{"role": "user", "content": [{"type": "text", "text": "PREFIX: First block"}, {"type": "text", "text": "Second block"}]}])),
            (anthropic(json!([{"role": "user", "content": [{"type": "image", "source": {"type": "url", "url": "u"}}, {"type": "text", "text": "What is in this image?"}]}])),
             json!({"prefix": "Analyze carefully: "}),
             json!([{"role": "user", "content": [{"type": "text", "text": "Analyze carefully: "}, {"type": "image", "source": {"type": "url", "url": "u"}}, {"type": "text", "text": "What is in this image?"}]}])),
            (anthropic(json!([])), json!({"prefix": "User instruction: "}),
             json!([{"role": "user", "content": [{"type": "text", "text": "User instruction: "}]}])),
            (anthropic(json!([{"role": "user", "content": [{"type": "text", "text": "Original message"}]}])), json!({"prefix": "Prefix message", "addToExisting": false}),
             json!([{"role": "user", "content": [{"type": "text", "text": "Prefix message"}]}, {"role": "user", "content": [{"type": "text", "text": "Original message"}]}])),
            (anthropic(json!([{"role": "user", "content": [{"type": "text", "text": "Hello!"}], "metadata": {"custom": "value"}}])), json!({"prefix": "PREFIX: "}),
             json!([{"role": "user", "content": [{"type": "text", "text": "PREFIX: Hello!"}], "metadata": {"custom": "value"}}])),
        ];
        for (cx, params, want) in cases {
            let o = outcome(&AddPrefix, params.clone(), &cx);
            assert!(o.verdict);
            let got = o.transformed.unwrap_or_else(|| panic!("{params}: not transformed"));
            assert_eq!(got["messages"], want, "{params}");
            assert_eq!(got["model"], cx.request["model"]);
        }
    }

    #[test]
    fn data_and_no_ops() {
        let o = outcome(&AddPrefix, json!({"prefix": "P: "}), &chat(json!([{"role": "user", "content": "Hello!"}])));
        assert_eq!(
            o.data,
            json!({"prefix": "P: ", "requestType": "chatComplete", "applyToRole": "user", "addToExisting": true, "onlyIfEmpty": false})
        );
        let o = outcome(&AddPrefix, json!({"prefix": "IMPORTANT: "}), &Cx::complete(json!({"model": "m", "prompt": "Write a story about a dog."})));
        assert_eq!(o.transformed.unwrap()["prompt"], "IMPORTANT: Write a story about a dog.");
        let o = outcome(&AddPrefix, json!({"prefix": "P"}), &Cx::complete(json!({"prompt": ["a", "b"]})));
        assert_eq!(o.transformed.unwrap()["prompt"], json!(["Pa", "b"]));
        let no_ops = [
            (json!({"prefix": "P", "onlyIfEmpty": true}), chat(json!([{"role": "user", "content": "Existing content"}]))),
            (json!({"prefix": "P", "onlyIfEmpty": true}), anthropic(json!([{"role": "user", "content": [{"type": "text", "text": "x"}]}]))),
            (json!({"prefix": "P"}), Cx::assistant("x")),
            (json!({"prefix": "P"}), Cx::embed(json!({"input": "Hello world"}))),
            (json!({"prefix": "P"}), Cx::complete(json!({"model": "m"}))),
        ];
        for (params, cx) in no_ops {
            let o = outcome(&AddPrefix, params.clone(), &cx);
            assert!(o.verdict);
            assert_eq!(o.transformed, None, "{params}");
        }
        assert_eq!(outcome(&AddPrefix, json!({"prefix": "P"}), &Cx::assistant("x")).data, Value::Null);
    }

    #[test]
    fn errors() {
        let cases = [
            (json!({}), chat(json!([])), "invalid: Prefix parameter is required and must be a string"),
            (json!({"prefix": 123}), chat(json!([])), "invalid: Prefix parameter is required and must be a string"),
            (json!({"prefix": "P", "addToExisting": "no"}), chat(json!([])), "invalid: `addToExisting` must be a boolean"),
            (json!({"prefix": "P"}), Cx::chat(json!({})), "no `messages`"),
        ];
        for (params, cx, want) in cases {
            let got = error(&AddPrefix, params.clone(), &cx);
            assert!(got.contains(want), "{params}: {got}");
        }
    }
}
