//! Finding JSON in model output, for `jsonSchema` and `jsonKeys`.
//!
//! Candidates, in order: the whole text if it is JSON; else the contents of ```` ``` ````
//! (or ```` ```json ````) fences; else (or also, for [`Mode::FencesAndBraces`]) the outermost
//! balanced `{...}` spans of the text. Portkey finds braces with the lazy regex `{[\s\S]*?}`,
//! which stops at the first `}` and so never extracts a nested object outside a fence; here the
//! braces are balanced (string-aware), and a span that does not parse is searched for inner
//! objects.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

/// Where to look when the whole text is not JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Fences; braces only when there is no fence (Portkey's `jsonSchema`).
    FencesElseBraces,
    /// Fences, then braces (Portkey's `jsonKeys`).
    FencesAndBraces,
}

/// At most this many candidates are parsed, so a hostile text costs bounded work.
const MAX_ATTEMPTS: usize = 64;

static FENCE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?s)```+(?:json)?\s*(.*?)```+").ok());

/// The JSON values found in `text`, in the order described in the module docs.
pub(crate) fn extract(text: &str, mode: Mode) -> Vec<Value> {
    let trimmed = text.trim();
    if trimmed.starts_with(['{', '[']) {
        if let Ok(v) = serde_json::from_str::<Value>(trimmed) {
            return vec![v];
        }
    }
    let mut found = Vec::new();
    let mut attempts = 0;
    let fences: Vec<&str> = FENCE.as_ref().map_or_else(Vec::new, |re| {
        re.captures_iter(text)
            .filter_map(|c| c.get(1))
            .map(|m| m.as_str().trim())
            .collect()
    });
    for fence in &fences {
        match parse(fence, &mut attempts) {
            Some(v) => found.push(v),
            None => braces(fence, &mut attempts, &mut found),
        }
    }
    if fences.is_empty() || mode == Mode::FencesAndBraces {
        braces(text, &mut attempts, &mut found);
    }
    found
}

fn parse(text: &str, attempts: &mut usize) -> Option<Value> {
    if *attempts >= MAX_ATTEMPTS {
        return None;
    }
    *attempts += 1;
    serde_json::from_str(text).ok()
}

/// Parses the outermost balanced `{...}` spans of `text`; a span that does not parse is
/// searched for inner spans.
fn braces(text: &str, attempts: &mut usize, found: &mut Vec<Value>) {
    let spans = balanced_spans(text);
    take_outermost(text, &spans, 0, text.len(), attempts, found);
}

/// Every balanced `{...}` span, as (start, end) byte offsets, in order of their end. Quotes are
/// tracked inside braces only, so prose apostrophes and quotes around the JSON are harmless.
fn balanced_spans(text: &str) -> Vec<(usize, usize)> {
    let mut stack = Vec::new();
    let mut spans = Vec::new();
    let (mut in_string, mut escaped) = (false, false);
    for (i, &b) in text.as_bytes().iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' if !stack.is_empty() => in_string = true,
            b'{' => stack.push(i),
            b'}' => {
                if let Some(start) = stack.pop() {
                    spans.push((start, i + 1));
                }
            }
            _ => {}
        }
    }
    spans.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    spans
}

/// Parses the outermost spans within `lo..hi` (spans sorted by start, longest first).
fn take_outermost(
    text: &str,
    spans: &[(usize, usize)],
    lo: usize,
    hi: usize,
    attempts: &mut usize,
    found: &mut Vec<Value>,
) {
    let mut covered_to = lo;
    for &(start, end) in spans {
        if *attempts >= MAX_ATTEMPTS {
            return;
        }
        if start < covered_to || end > hi {
            continue;
        }
        covered_to = end;
        match text.get(start..end).and_then(|s| parse(s, attempts)) {
            Some(v) => found.push(v),
            None => take_outermost(text, spans, start + 1, end - 1, attempts, found),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn extracts() {
        use Mode::*;
        let cases: Vec<(&str, Mode, Vec<Value>)> = vec![
            ("{\"a\": 1}", FencesElseBraces, vec![json!({"a": 1})]),
            ("  [1, 2] ", FencesElseBraces, vec![json!([1, 2])]),
            (
                "text ```json\n{\"key\": \"value\"}\n``` and {\"key\":\"v2\"}",
                FencesElseBraces,
                vec![json!({"key": "value"})],
            ),
            (
                "text ```json\n{\"key\": \"value\"}\n``` and {\"key\":\"v2\"}",
                FencesAndBraces,
                vec![
                    json!({"key": "value"}),
                    json!({"key": "value"}),
                    json!({"key": "v2"}),
                ],
            ),
            (
                "```\n{\"a\": {\"b\": [1, {\"c\": 2}]}}\n```",
                FencesElseBraces,
                vec![json!({"a": {"b": [1, {"c": 2}]}})],
            ),
            (
                "Here: {\"user\": {\"name\": \"x}\"}} done",
                FencesElseBraces,
                vec![json!({"user": {"name": "x}"}})],
            ),
            (
                "{\"key1\": \"value1\"} {\"key2\": \"value2\", \"key3\": \"value3\"}",
                FencesAndBraces,
                vec![
                    json!({"key1": "value1"}),
                    json!({"key2": "value2", "key3": "value3"}),
                ],
            ),
            (
                "{not json {\"inner\": true} still not}",
                FencesElseBraces,
                vec![json!({"inner": true})],
            ),
            (
                "```python\n{\"a\": 1}\n```",
                FencesElseBraces,
                vec![json!({"a": 1})],
            ),
            ("no json {\"key\":\"value", FencesElseBraces, vec![]),
            (
                "It's a \"quote\" then {\"a\": \"it's\"}",
                FencesElseBraces,
                vec![json!({"a": "it's"})],
            ),
            ("plain text", FencesAndBraces, vec![]),
        ];
        for (text, mode, want) in cases {
            assert_eq!(extract(text, mode), want, "{text:?}");
        }
    }

    #[test]
    fn bounded_on_hostile_input() {
        let text = "{".repeat(10_000) + &"}".repeat(10_000);
        assert!(extract(&text, Mode::FencesAndBraces).is_empty());
        let many = "{x} ".repeat(1000);
        assert!(extract(&many, Mode::FencesAndBraces).is_empty());
    }
}
