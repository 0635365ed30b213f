//! Token usage, read from OpenAI-shaped response bodies and event streams without building
//! them.
//!
//! Every path through the gateway ends with one [`TokenUsage`] record (limits, budgets, cost,
//! metrics and the request log all read it): a whole body is validated and its top-level
//! `usage` read in one pass ([`scan_body`]); a stream's usage chunk is found by a cheap byte
//! search ([`carries_usage`]) and only the events that carry it are parsed ([`scan_events`]),
//! which can also drop a usage-only chunk the client did not ask for.

use serde::de::IgnoredAny;
use serde::Deserialize;

/// Tokens one request used, in OpenAI's terms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenUsage {
    /// Prompt (input) tokens, cached ones included.
    pub input: u64,
    /// Completion (output) tokens, reasoning ones included.
    pub output: u64,
    pub total: u64,
    /// Input tokens served from the provider's prompt cache.
    pub cached_input: u64,
    /// Output tokens spent on reasoning.
    pub reasoning: u64,
}

impl TokenUsage {
    /// Usage with `total` = `input` + `output`.
    pub fn new(input: u64, output: u64) -> Self {
        TokenUsage {
            input,
            output,
            total: input.saturating_add(output),
            ..TokenUsage::default()
        }
    }
}

impl From<&crate::chat::Usage> for TokenUsage {
    fn from(u: &crate::chat::Usage) -> Self {
        TokenUsage {
            input: u.prompt_tokens,
            output: u.completion_tokens,
            total: u.total_tokens,
            cached_input: u
                .prompt_tokens_details
                .as_ref()
                .map_or(0, |d| d.cached_tokens),
            reasoning: u
                .completion_tokens_details
                .as_ref()
                .map_or(0, |d| d.reasoning_tokens),
        }
    }
}

impl From<&crate::embeddings::EmbeddingsUsage> for TokenUsage {
    fn from(u: &crate::embeddings::EmbeddingsUsage) -> Self {
        TokenUsage {
            input: u.prompt_tokens,
            total: u.total_tokens,
            ..TokenUsage::default()
        }
    }
}

/// `usage` as OpenAI's chat, completions, embeddings and Responses APIs write it. Numbers that
/// are not non-negative integers (a hostile or buggy upstream) make the usage unreadable, never
/// a panic.
#[derive(Deserialize)]
struct WireUsage {
    #[serde(default, alias = "input_tokens")]
    prompt_tokens: u64,
    #[serde(default, alias = "output_tokens")]
    completion_tokens: u64,
    #[serde(default)]
    total_tokens: Option<u64>,
    #[serde(default, alias = "input_tokens_details")]
    prompt_tokens_details: Option<CachedDetails>,
    #[serde(default, alias = "output_tokens_details")]
    completion_tokens_details: Option<ReasoningDetails>,
}

#[derive(Deserialize)]
struct CachedDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct ReasoningDetails {
    #[serde(default)]
    reasoning_tokens: Option<u64>,
}

impl From<WireUsage> for TokenUsage {
    fn from(w: WireUsage) -> Self {
        // Some embedding APIs (Voyage) report only `total_tokens`: all of it is input.
        let input = match (w.prompt_tokens, w.completion_tokens, w.total_tokens) {
            (0, 0, Some(total)) => total,
            _ => w.prompt_tokens,
        };
        TokenUsage {
            input,
            output: w.completion_tokens,
            total: w
                .total_tokens
                .unwrap_or(w.prompt_tokens.saturating_add(w.completion_tokens)),
            cached_input: w
                .prompt_tokens_details
                .and_then(|d| d.cached_tokens)
                .unwrap_or(0),
            reasoning: w
                .completion_tokens_details
                .and_then(|d| d.reasoning_tokens)
                .unwrap_or(0),
        }
    }
}

/// A usage value that may be `null`, absent or malformed: only a well-formed object counts.
struct MaybeUsage(Option<TokenUsage>);

impl<'de> Deserialize<'de> for MaybeUsage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <&serde_json::value::RawValue>::deserialize(d)?;
        Ok(MaybeUsage(
            serde_json::from_str::<WireUsage>(raw.get())
                .ok()
                .map(TokenUsage::from),
        ))
    }
}

#[derive(Deserialize)]
struct BodyPeek {
    #[serde(default)]
    usage: Option<MaybeUsage>,
}

/// Validates that `body` is one JSON value and reads the top-level `usage` of an object (other
/// members are skipped without being built). `Err` when the body is not valid JSON.
pub fn scan_body(body: &[u8]) -> Result<Option<TokenUsage>, serde_json::Error> {
    if body.trim_ascii_start().starts_with(b"{") {
        serde_json::from_slice::<BodyPeek>(body).map(|p| p.usage.and_then(|u| u.0))
    } else {
        // Valid JSON that is not an object (an array, a string) has no usage.
        serde_json::from_slice::<IgnoredAny>(body).map(|_| None)
    }
}

/// Whether `chunk` holds a `"usage"` member whose value is an object (`"usage":null`, which
/// OpenAI writes on every chunk once usage is requested, does not count). A byte search: most
/// stream chunks are rejected without parsing.
pub fn carries_usage(chunk: &[u8]) -> bool {
    const KEY: &[u8] = b"\"usage\"";
    let mut from = 0;
    while let Some(pos) = find(&chunk[from..], KEY) {
        let after = &chunk[from + pos + KEY.len()..];
        let mut rest = after.trim_ascii_start();
        if let Some(r) = rest.strip_prefix(b":") {
            rest = r.trim_ascii_start();
            if rest.first() == Some(&b'{') {
                return true;
            }
        }
        from += pos + KEY.len();
    }
    false
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[derive(Deserialize)]
struct ChunkPeek {
    #[serde(default)]
    choices: Option<Vec<IgnoredAny>>,
    #[serde(default)]
    usage: Option<MaybeUsage>,
}

/// What [`scan_events`] found in a chunk of complete events.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct EventScan {
    /// The last well-formed usage object in the chunk.
    pub usage: Option<TokenUsage>,
    /// The chunk without its usage-only events, when `strip` asked for that and one was found.
    pub stripped: Option<Vec<u8>>,
}

/// Reads usage from the `data:` of each complete SSE event in `chunk`. With `strip`, an event
/// whose only purpose is usage (`"choices": []`, as OpenAI's final usage chunk) is removed from
/// the output — the gateway asked for it on its own account, not the client's.
pub fn scan_events(chunk: &[u8], strip: bool) -> EventScan {
    let mut scan = EventScan::default();
    if !carries_usage(chunk) {
        return scan;
    }
    let mut kept: Vec<u8> = Vec::new();
    let mut dropped = false;
    for range in event_ranges(chunk) {
        let event = &chunk[range];
        let mut keep = true;
        if carries_usage(event) {
            let data = event_data(event);
            if let Ok(peek) = serde_json::from_slice::<ChunkPeek>(&data) {
                if let Some(u) = peek.usage.and_then(|u| u.0) {
                    scan.usage = Some(u);
                    keep = !(strip && peek.choices.is_none_or(|c| c.is_empty()));
                }
            }
        }
        if keep {
            kept.extend_from_slice(event);
        } else {
            dropped = true;
        }
    }
    if dropped {
        scan.stripped = Some(kept);
    }
    scan
}

/// Byte ranges of the events in `chunk`, each with its closing blank line; bytes after the last
/// blank line form a final range.
fn event_ranges(chunk: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut line_start = 0;
    let mut i = 0;
    while i < chunk.len() {
        let b = chunk[i];
        if b == b'\n' || b == b'\r' {
            let line_empty = i == line_start;
            // A CRLF pair is one line end.
            let end = if b == b'\r' && chunk.get(i + 1) == Some(&b'\n') {
                i + 2
            } else {
                i + 1
            };
            if line_empty && i > start {
                out.push(start..end);
                start = end;
            }
            line_start = end;
            i = end;
        } else {
            i += 1;
        }
    }
    if start < chunk.len() {
        out.push(start..chunk.len());
    }
    out
}

/// The concatenated `data:` lines of one event (joined with `\n`, as SSE defines).
fn event_data(event: &[u8]) -> Vec<u8> {
    let mut data = Vec::new();
    for line in event.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(v) = line.strip_prefix(b"data:") {
            if !data.is_empty() {
                data.push(b'\n');
            }
            data.extend_from_slice(v.strip_prefix(b" ").unwrap_or(v));
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_usage_with_only_a_total_is_all_input() {
        // Voyage's embeddings answer.
        let u = scan_body(br#"{"data":[],"usage":{"total_tokens":12}}"#)
            .unwrap()
            .unwrap();
        assert_eq!((u.input, u.output, u.total), (12, 0, 12));
        let both =
            scan_body(br#"{"usage":{"prompt_tokens":0,"completion_tokens":4,"total_tokens":4}}"#)
                .unwrap()
                .unwrap();
        assert_eq!((both.input, both.output), (0, 4));
    }

    #[test]
    fn a_body_is_validated_and_its_usage_read_in_one_pass() {
        let body = br#"{"id":"x","choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8,"prompt_tokens_details":{"cached_tokens":2},"completion_tokens_details":{"reasoning_tokens":1}}}"#;
        let u = scan_body(body).unwrap().unwrap();
        assert_eq!(
            u,
            TokenUsage {
                input: 5,
                output: 3,
                total: 8,
                cached_input: 2,
                reasoning: 1
            }
        );
        assert_eq!(scan_body(br#"{"data":[]}"#).unwrap(), None);
        assert_eq!(scan_body(br#"{"usage":null}"#).unwrap(), None);
        assert_eq!(scan_body(b"[1,2]").unwrap(), None);
        assert!(scan_body(b"{\"usage\":").is_err());
        assert!(scan_body(b"not json").is_err());
        // A malformed usage object is unreadable usage, not an invalid body.
        assert_eq!(
            scan_body(br#"{"usage":{"prompt_tokens":-1}}"#).unwrap(),
            None
        );
        assert_eq!(
            scan_body(br#"{"usage":{"prompt_tokens":1e300}}"#).unwrap(),
            None
        );
        // Responses-API names and a missing total.
        let u = scan_body(br#"{"usage":{"input_tokens":4,"output_tokens":6}}"#)
            .unwrap()
            .unwrap();
        assert_eq!((u.input, u.output, u.total), (4, 6, 10));
    }

    #[test]
    fn only_usage_objects_count_as_usage() {
        assert!(carries_usage(br#"data: {"usage":{"total_tokens":1}}"#));
        assert!(carries_usage(br#"data: {"usage" : {"total_tokens":1}}"#));
        assert!(!carries_usage(br#"data: {"choices":[],"usage":null}"#));
        assert!(!carries_usage(br#"data: {"content":"usage"}"#));
    }

    const USAGE_CHUNK: &str = "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3,\"total_tokens\":8}}\n\n";

    #[test]
    fn the_usage_only_chunk_is_read_and_stripped_on_request() {
        let content = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}],\"usage\":null}\n\n";
        let chunk = format!("{content}{USAGE_CHUNK}data: [DONE]\n\n");
        let scan = scan_events(chunk.as_bytes(), true);
        assert_eq!(scan.usage, Some(TokenUsage::new(5, 3)));
        assert_eq!(
            String::from_utf8(scan.stripped.unwrap()).unwrap(),
            format!("{content}data: [DONE]\n\n")
        );
        let kept = scan_events(chunk.as_bytes(), false);
        assert_eq!(kept.usage, Some(TokenUsage::new(5, 3)));
        assert_eq!(
            kept.stripped, None,
            "the client asked for it: forwarded as is"
        );
    }

    #[test]
    fn usage_on_a_content_chunk_is_read_but_never_stripped() {
        let chunk = "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}\r\n\r\n";
        let scan = scan_events(chunk.as_bytes(), true);
        assert_eq!(scan.usage, Some(TokenUsage::new(1, 2)));
        assert_eq!(scan.stripped, None);
    }

    #[test]
    fn event_ranges_cover_every_byte_with_any_line_ending() {
        for chunk in [
            "data: a\n\ndata: b\n\n",
            "data: a\r\n\r\ndata: b\r\n\r\n",
            "event: x\ndata: a\n\ndata: tail",
            "\n\ndata: a\n\n",
        ] {
            let ranges = event_ranges(chunk.as_bytes());
            let joined: String = ranges.iter().map(|r| &chunk[r.clone()]).collect();
            assert_eq!(joined, chunk);
        }
        assert_eq!(event_ranges(b"data: a\n\ndata: b\n\n").len(), 2);
    }
}
