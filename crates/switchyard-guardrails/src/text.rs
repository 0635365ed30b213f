//! Where a check's text lives in a request or response, and how a transforming check writes new
//! text back — Portkey's `getText` / `getCurrentContentPart` / `setCurrentContentPart`.
//!
//! The *target* is the request before the request and the response after it. Its *current
//! content part* is:
//!
//! | request type | before the request | after the request |
//! |---|---|---|
//! | `chatComplete` | `messages[last].content` | `choices[0].message.content` |
//! | `messages` | `messages[last].content` | `content` (Anthropic blocks; `choices[0]…` if absent) |
//! | `complete` | `prompt` | `choices[0].text` |
//! | `embed` | `input` | — |
//!
//! A content part is a string (one text *slot*) or an array (one slot per item: a string item is
//! its own text, an object item its `text` field, anything else — an image part, token ids — a
//! slot without text). [`ContentPart::joined`] joins the non-empty slots with `\n` (Portkey's
//! `getText`).
//!
//! Differences from Portkey, deliberately: a missing `messages`/`choices` is a
//! [`CheckError::Failed`] rather than a JavaScript `TypeError`; a replacement of `""` really
//! empties a slot (Portkey's `text || original` keeps the original); embedding `input` can be
//! rewritten (Portkey silently drops that rewrite); a completion response is read and written at
//! `choices[0]` (Portkey reads `choices[0]` but writes `choices[last]`); a chat response whose
//! content is an array of parts is read part by part.

use std::borrow::Cow;

use serde_json::Value;

use crate::{CheckContext, CheckError, HookEvent, RequestType};

/// The JSON a check reads: the request before the request, the response after it.
pub fn target<'a>(cx: &CheckContext<'a>) -> Option<&'a Value> {
    match cx.event {
        HookEvent::BeforeRequest => Some(cx.request),
        HookEvent::AfterRequest => cx.response,
    }
}

/// The current content part of a request or response.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentPart<'a> {
    /// The raw content (a string, an array of parts, ...); `None` when absent or `null`.
    pub content: Option<&'a Value>,
    /// One entry per slot; `None` for a slot without text.
    pub texts: Vec<Option<&'a str>>,
}

impl<'a> ContentPart<'a> {
    fn of(content: Option<&'a Value>) -> Self {
        let content = content.filter(|c| !c.is_null());
        ContentPart {
            content,
            texts: slots(content),
        }
    }

    /// The non-empty slots joined with `\n` (Portkey's `getText`); borrowed when there is at most
    /// one.
    pub fn joined(&self) -> Cow<'a, str> {
        let mut texts = self.texts.iter().flatten().filter(|t| !t.is_empty());
        let Some(first) = texts.next() else {
            return Cow::Borrowed("");
        };
        let Some(second) = texts.next() else {
            return Cow::Borrowed(first);
        };
        let mut joined = String::with_capacity(first.len() + second.len() + 1);
        joined.push_str(first);
        for t in std::iter::once(second).chain(texts) {
            joined.push('\n');
            joined.push_str(t);
        }
        Cow::Owned(joined)
    }
}

fn slots(content: Option<&Value>) -> Vec<Option<&str>> {
    match content {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => vec![Some(s.as_str())],
        Some(Value::Array(items)) => items.iter().map(slot_text).collect(),
        Some(other) => vec![slot_text(other)],
    }
}

fn slot_text(item: &Value) -> Option<&str> {
    match item {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("text").and_then(Value::as_str),
        _ => None,
    }
}

/// A place in the target that holds a content part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loc {
    Message(usize),
    System,
    Prompt,
    Input,
    ChoiceMessage(usize),
    ChoiceText(usize),
    Blocks,
}

impl Loc {
    fn get(self, json: &Value) -> Option<&Value> {
        match self {
            Loc::Message(i) => json.get("messages")?.get(i)?.get("content"),
            Loc::System => json.get("system"),
            Loc::Prompt => json.get("prompt"),
            Loc::Input => json.get("input"),
            Loc::ChoiceMessage(i) => json.get("choices")?.get(i)?.get("message")?.get("content"),
            Loc::ChoiceText(i) => json.get("choices")?.get(i)?.get("text"),
            Loc::Blocks => json.get("content"),
        }
    }

    fn get_mut(self, json: &mut Value) -> Option<&mut Value> {
        match self {
            Loc::Message(i) => json.get_mut("messages")?.get_mut(i)?.get_mut("content"),
            Loc::System => json.get_mut("system"),
            Loc::Prompt => json.get_mut("prompt"),
            Loc::Input => json.get_mut("input"),
            Loc::ChoiceMessage(i) => json
                .get_mut("choices")?
                .get_mut(i)?
                .get_mut("message")?
                .get_mut("content"),
            Loc::ChoiceText(i) => json.get_mut("choices")?.get_mut(i)?.get_mut("text"),
            Loc::Blocks => json.get_mut("content"),
        }
    }
}

/// Which content parts a check reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// Portkey's current content part (see the module docs).
    #[default]
    Current,
    /// Every text the target carries: all messages (and Anthropic's top-level `system`) of a
    /// request, all choices of a response. Used by the PII check, since a chat history re-sends
    /// earlier turns on every request.
    All,
}

fn messages_len(json: &Value) -> Result<usize, CheckError> {
    match json.get("messages") {
        Some(Value::Array(m)) if !m.is_empty() => Ok(m.len()),
        Some(Value::Array(_)) => Err(CheckError::Failed("the request has no messages".into())),
        _ => Err(CheckError::Failed(
            "the request has no `messages` array".into(),
        )),
    }
}

fn choices_len(json: &Value) -> Result<usize, CheckError> {
    match json.get("choices") {
        Some(Value::Array(c)) if !c.is_empty() => Ok(c.len()),
        _ => Err(CheckError::Failed("the response has no choices".into())),
    }
}

/// How many choices a scope reads: all of them, or the first.
fn choice_count(json: &Value, all: bool) -> Result<usize, CheckError> {
    let n = choices_len(json)?;
    Ok(if all { n } else { 1 })
}

/// The places of `scope` in `json` (the target of an `event` on a `request_type`).
fn locations(
    json: &Value,
    event: HookEvent,
    request_type: RequestType,
    scope: Scope,
) -> Result<Vec<Loc>, CheckError> {
    if !json.is_object() {
        return Err(CheckError::Failed(format!(
            "the {} is not a JSON object",
            match event {
                HookEvent::BeforeRequest => "request",
                HookEvent::AfterRequest => "response",
            }
        )));
    }
    let all = scope == Scope::All;
    Ok(match (event, request_type) {
        (HookEvent::BeforeRequest, RequestType::ChatComplete | RequestType::Messages) => {
            let n = messages_len(json)?;
            let mut locs = Vec::new();
            if all {
                if json.get("system").is_some_and(|s| !s.is_null()) {
                    locs.push(Loc::System);
                }
                locs.extend((0..n).map(Loc::Message));
            } else {
                locs.push(Loc::Message(n - 1));
            }
            locs
        }
        (HookEvent::BeforeRequest, RequestType::Complete) => vec![Loc::Prompt],
        (HookEvent::BeforeRequest, RequestType::Embed) => vec![Loc::Input],
        (HookEvent::AfterRequest, RequestType::ChatComplete) => {
            let n = choice_count(json, all)?;
            (0..n).map(Loc::ChoiceMessage).collect()
        }
        (HookEvent::AfterRequest, RequestType::Complete) => {
            let n = choice_count(json, all)?;
            (0..n).map(Loc::ChoiceText).collect()
        }
        (HookEvent::AfterRequest, RequestType::Messages) => {
            if json.get("content").is_some_and(Value::is_array) {
                vec![Loc::Blocks]
            } else {
                let n = choice_count(json, all)?;
                (0..n).map(Loc::ChoiceMessage).collect()
            }
        }
        (_, RequestType::Other) | (HookEvent::AfterRequest, RequestType::Embed) => Vec::new(),
    })
}

/// The current content part. An absent target (a streamed response not assembled) or a request
/// type without text gives an empty part; a request without messages, a response without choices
/// or a target that is not an object is a [`CheckError::Failed`].
pub fn current_content_part<'a>(cx: &CheckContext<'a>) -> Result<ContentPart<'a>, CheckError> {
    let Some(json) = target(cx) else {
        return Ok(ContentPart::of(None));
    };
    let locs = locations(json, cx.event, cx.request_type, Scope::Current)?;
    Ok(ContentPart::of(locs.first().and_then(|loc| loc.get(json))))
}

/// The text of the current content part (Portkey's `getText`), possibly empty; borrowed from the
/// JSON unless several parts had to be joined.
pub fn text<'a>(cx: &CheckContext<'a>) -> Result<Cow<'a, str>, CheckError> {
    Ok(current_content_part(cx)?.joined())
}

/// [`text`], but an empty text is a [`CheckError::Failed`] with `missing` as its message.
pub fn require_text<'a>(cx: &CheckContext<'a>, missing: &str) -> Result<Cow<'a, str>, CheckError> {
    let text = text(cx)?;
    if text.is_empty() {
        Err(CheckError::Failed(missing.to_owned()))
    } else {
        Ok(text)
    }
}

/// Portkey's `getText`: the current content part's text, `None` when there is none (no text, or
/// no messages/choices to take it from).
pub fn get_text(cx: &CheckContext<'_>) -> Option<String> {
    text(cx).ok().filter(|t| !t.is_empty()).map(Cow::into_owned)
}

/// Portkey's `setCurrentContentPart`: a copy of the target JSON with the current content part's
/// slot `i` replaced by `texts[i]` where that is `Some` (a slot without text is left alone).
pub fn set_current_content_part(
    cx: &CheckContext<'_>,
    texts: &[Option<String>],
) -> Result<Value, CheckError> {
    let json =
        target(cx).ok_or_else(|| CheckError::Failed("there is no response to rewrite".into()))?;
    let locs = locations(json, cx.event, cx.request_type, Scope::Current)?;
    let loc = locs
        .first()
        .ok_or_else(|| CheckError::Failed("this request type has no text to rewrite".into()))?;
    let mut new = json.clone();
    if let Some(content) = loc.get_mut(&mut new) {
        for (i, text) in texts.iter().enumerate() {
            if let Some(text) = text {
                set_slot(content, i, text.clone());
            }
        }
    }
    Ok(new)
}

/// Calls `f` on every non-empty text slot of `scope`; where it returns `Some`, that slot is
/// replaced. Returns the rewritten target — cloned only if something was replaced — or `None`.
pub fn map_texts(
    cx: &CheckContext<'_>,
    scope: Scope,
    mut f: impl FnMut(&str) -> Option<String>,
) -> Result<Option<Value>, CheckError> {
    let Some(json) = target(cx) else {
        return Ok(None);
    };
    let locs = locations(json, cx.event, cx.request_type, scope)?;
    let mut replacements: Vec<(Loc, usize, String)> = Vec::new();
    for &loc in &locs {
        for (i, text) in slots(loc.get(json)).into_iter().enumerate() {
            if let Some(text) = text.filter(|t| !t.is_empty()) {
                if let Some(new) = f(text) {
                    replacements.push((loc, i, new));
                }
            }
        }
    }
    if replacements.is_empty() {
        return Ok(None);
    }
    let mut new = json.clone();
    for (loc, i, text) in replacements {
        if let Some(content) = loc.get_mut(&mut new) {
            set_slot(content, i, text);
        }
    }
    Ok(Some(new))
}

fn set_slot(content: &mut Value, i: usize, text: String) {
    match content {
        Value::String(s) if i == 0 => *s = text,
        Value::Array(items) => match items.get_mut(i) {
            Some(Value::String(s)) => *s = text,
            Some(Value::Object(o)) if o.get("text").is_some_and(Value::is_string) => {
                o.insert("text".to_owned(), Value::String(text));
            }
            _ => {}
        },
        Value::Object(o) if i == 0 && o.get("text").is_some_and(Value::is_string) => {
            o.insert("text".to_owned(), Value::String(text));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Cx;
    use serde_json::json;

    #[test]
    fn reads_the_current_content_part() {
        let cases: Vec<(Cx, Result<&str, &str>)> = vec![
            (
                Cx::chat(
                    json!({"messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}]}),
                ),
                Ok("hi"),
            ),
            (
                Cx::chat(json!({"messages": [{"role": "user", "content": [
                    {"type": "text", "text": "a"},
                    {"type": "image_url", "image_url": {"url": "x"}},
                    {"type": "text", "text": ""},
                    {"type": "text", "text": "b"}
                ]}]})),
                Ok("a\nb"),
            ),
            (
                Cx::chat(json!({"messages": [{"role": "user", "content": null}]})),
                Ok(""),
            ),
            (Cx::chat(json!({"messages": []})), Err("no messages")),
            (Cx::chat(json!({"model": "x"})), Err("no `messages`")),
            (Cx::chat(json!("text")), Err("not a JSON object")),
            (Cx::complete(json!({"prompt": "p"})), Ok("p")),
            (
                Cx::complete(json!({"prompt": ["p", [1, 2], "q"]})),
                Ok("p\nq"),
            ),
            (Cx::embed(json!({"input": ["x", "y"]})), Ok("x\ny")),
            (Cx::other(json!({"input": "x"})), Ok("")),
            (
                Cx::chat_response(
                    json!({"choices": [{"message": {"content": "out"}}, {"message": {"content": "2nd"}}]}),
                ),
                Ok("out"),
            ),
            (Cx::chat_response(json!({"choices": []})), Err("no choices")),
            (
                Cx::complete_response(json!({"choices": [{"text": "t"}]})),
                Ok("t"),
            ),
            (
                Cx::messages_response(
                    json!({"content": [{"type": "text", "text": "c1"}, {"type": "tool_use"}, {"type": "text", "text": "c2"}]}),
                ),
                Ok("c1\nc2"),
            ),
            (
                Cx::messages_response(json!({"choices": [{"message": {"content": "oai"}}]})),
                Ok("oai"),
            ),
            (Cx::streamed(), Ok("")),
        ];
        for (cx, want) in cases {
            let got = text(&cx.cx());
            match (got, want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want),
                (Err(CheckError::Failed(msg)), Err(want)) => assert!(msg.contains(want), "{msg}"),
                (got, want) => panic!("got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn single_part_text_is_borrowed() {
        let cx = Cx::chat(json!({"messages": [{"role": "user", "content": "hi"}]}));
        assert!(matches!(text(&cx.cx()), Ok(Cow::Borrowed("hi"))));
        assert_eq!(get_text(&cx.cx()).as_deref(), Some("hi"));
        let empty = Cx::chat(json!({"messages": [{"role": "user", "content": ""}]}));
        assert_eq!(get_text(&empty.cx()), None);
        assert!(require_text(&empty.cx(), "Missing").is_err());
    }

    #[test]
    fn sets_the_current_content_part() {
        let cases = vec![
            (
                Cx::chat(
                    json!({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b", "name": "n"}]}),
                ),
                vec![Some("B".to_owned())],
                json!({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "B", "name": "n"}]}),
            ),
            (
                Cx::chat(
                    json!({"messages": [{"role": "user", "content": [{"type": "image_url"}, {"type": "text", "text": "b"}]}]}),
                ),
                vec![Some("X".to_owned()), Some(String::new())],
                json!({"messages": [{"role": "user", "content": [{"type": "image_url"}, {"type": "text", "text": ""}]}]}),
            ),
            (
                Cx::complete(json!({"prompt": ["a", "b"]})),
                vec![None, Some("B".to_owned())],
                json!({"prompt": ["a", "B"]}),
            ),
            (
                Cx::embed(json!({"input": "a"})),
                vec![Some("A".to_owned())],
                json!({"input": "A"}),
            ),
            (
                Cx::chat_response(
                    json!({"choices": [{"message": {"content": "a"}}, {"message": {"content": "b"}}]}),
                ),
                vec![Some("A".to_owned())],
                json!({"choices": [{"message": {"content": "A"}}, {"message": {"content": "b"}}]}),
            ),
            (
                Cx::complete_response(json!({"choices": [{"text": "a"}, {"text": "b"}]})),
                vec![Some("A".to_owned())],
                json!({"choices": [{"text": "A"}, {"text": "b"}]}),
            ),
            (
                Cx::messages_response(json!({"content": [{"type": "text", "text": "a"}]})),
                vec![Some("A".to_owned())],
                json!({"content": [{"type": "text", "text": "A"}]}),
            ),
        ];
        for (cx, texts, want) in cases {
            assert_eq!(set_current_content_part(&cx.cx(), &texts), Ok(want));
        }
        assert!(set_current_content_part(&Cx::streamed().cx(), &[]).is_err());
        assert!(set_current_content_part(&Cx::other(json!({})).cx(), &[]).is_err());
    }

    #[test]
    fn maps_every_text_in_scope_all() {
        let cx = Cx::messages(json!({
            "system": "s",
            "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": [{"type": "text", "text": "b"}]}]
        }));
        let mut seen = Vec::new();
        let new = map_texts(&cx.cx(), Scope::All, |t| {
            seen.push(t.to_owned());
            (t != "a").then(|| t.to_uppercase())
        });
        assert_eq!(seen, ["s", "a", "b"]);
        assert_eq!(
            new,
            Ok(Some(json!({
                "system": "S",
                "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": [{"type": "text", "text": "B"}]}]
            })))
        );
        let mut seen = Vec::new();
        let _ = map_texts(&cx.cx(), Scope::Current, |t| {
            seen.push(t.to_owned());
            None
        });
        assert_eq!(seen, ["b"]);
        let resp = Cx::chat_response(
            json!({"choices": [{"message": {"content": "a"}}, {"message": {"content": "b"}}]}),
        );
        assert_eq!(
            map_texts(&resp.cx(), Scope::All, |t| Some(t.repeat(2))),
            Ok(Some(
                json!({"choices": [{"message": {"content": "aa"}}, {"message": {"content": "bb"}}]})
            ))
        );
        assert_eq!(map_texts(&resp.cx(), Scope::All, |_| None), Ok(None));
    }
}
