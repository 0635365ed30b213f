//! Usage read from a pass-through body (`/v1/*` proxied as-is: Anthropic's `/v1/messages`,
//! OpenAI's `/v1/responses`, …), so limits, budgets and cost count those requests too.
//!
//! The body goes to the client untouched; the meter sees a copy of its bytes. A JSON body is
//! kept (up to a bound) and its `usage` read at the end; an event stream is scanned event by
//! event and only events that carry a `"usage"` member are parsed. Every dialect's names are
//! read — `prompt_tokens` / `completion_tokens` (OpenAI chat), `input_tokens` / `output_tokens`
//! (Anthropic, OpenAI Responses), cached-prompt details of both — wherever `usage` sits (at the
//! top, or inside `message` / `response` as their streams put it), and the largest count of
//! each kind wins (Anthropic streams report input first and output at the end).

use bytes::BytesMut;
use serde_json::Value;
use switchyard_types::usage::{carries_usage, TokenUsage};

/// The largest JSON body read for usage (a larger one is passed on unread).
const MAX_JSON: usize = 4 << 20;
/// The longest event an event-stream meter buffers.
const MAX_EVENT: usize = 1 << 20;

enum Mode {
    Json(BytesMut),
    Events(BytesMut),
    /// Gave up (too large, or not a kind the meter reads).
    Off,
}

/// The meter of one pass-through body.
pub struct RawMeter {
    mode: Mode,
    seen: Option<TokenUsage>,
}

impl RawMeter {
    /// A meter for a body of `content_type`, or `None` when such bodies carry no usage.
    pub fn for_content_type(content_type: Option<&str>) -> Option<RawMeter> {
        let ct = content_type?.split(';').next()?.trim().to_ascii_lowercase();
        let mode = if ct == "text/event-stream" {
            Mode::Events(BytesMut::new())
        } else if ct == "application/json" || ct.ends_with("+json") {
            Mode::Json(BytesMut::new())
        } else {
            return None;
        };
        Some(RawMeter { mode, seen: None })
    }

    /// Sees the next bytes of the body.
    pub fn feed(&mut self, chunk: &[u8]) {
        let RawMeter { mode, seen } = self;
        match mode {
            Mode::Json(buf) => {
                if buf.len() + chunk.len() > MAX_JSON {
                    *mode = Mode::Off;
                } else {
                    buf.extend_from_slice(chunk);
                }
            }
            Mode::Events(buf) => {
                buf.extend_from_slice(chunk);
                while let Some(end) = event_end(buf) {
                    let event = buf.split_to(end);
                    if carries_usage(&event) {
                        for line in event[..].split(|b| *b == b'\n') {
                            if let Some(data) = line.strip_prefix(b"data:") {
                                read(seen, data.trim_ascii());
                            }
                        }
                    }
                }
                if buf.len() > MAX_EVENT {
                    *mode = Mode::Off;
                }
            }
            Mode::Off => {}
        }
    }

    /// The usage the body reported, once it ended.
    pub fn usage(&mut self) -> Option<TokenUsage> {
        if let Mode::Json(buf) = std::mem::replace(&mut self.mode, Mode::Off) {
            read(&mut self.seen, &buf);
        }
        self.seen
    }
}

/// Adds what the JSON text `json` reports to `seen` (the largest count of each kind).
fn read(seen: &mut Option<TokenUsage>, json: &[u8]) {
    let Ok(v) = serde_json::from_slice::<Value>(json) else {
        return;
    };
    let mut found = Vec::new();
    usages(&v, 0, &mut found);
    for u in found {
        let s = seen.get_or_insert_with(TokenUsage::default);
        s.input = s.input.max(u.input);
        s.output = s.output.max(u.output);
        s.cached_input = s.cached_input.max(u.cached_input);
        s.total = s.input.saturating_add(s.output);
    }
}

/// The end (past its blank line) of the first whole event in `buf`.
fn event_end(buf: &[u8]) -> Option<usize> {
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|p| p + 2);
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4);
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Every `usage` object in `v` (to a small depth).
fn usages(v: &Value, depth: usize, out: &mut Vec<TokenUsage>) {
    let Some(obj) = v.as_object() else { return };
    if let Some(u) = obj.get("usage").and_then(Value::as_object) {
        let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
        let nested = |outer: &str, k: &str| {
            u.get(outer)
                .and_then(|d| d.get(k))
                .and_then(Value::as_u64)
                .unwrap_or(0)
        };
        let cached = n("cache_read_input_tokens")
            .max(nested("prompt_tokens_details", "cached_tokens"))
            .max(nested("input_tokens_details", "cached_tokens"));
        // Anthropic counts cache reads and writes apart from `input_tokens`.
        let input = n("prompt_tokens").max(
            n("input_tokens") + n("cache_read_input_tokens") + n("cache_creation_input_tokens"),
        );
        out.push(TokenUsage {
            input,
            output: n("completion_tokens").max(n("output_tokens")),
            total: 0,
            cached_input: cached,
            reasoning: 0,
        });
    }
    if depth < 2 {
        for key in ["message", "response"] {
            if let Some(inner) = obj.get(key) {
                usages(inner, depth + 1, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_body_of_any_dialect_reports_its_usage() {
        for (body, input, output) in [
            (
                r#"{"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}"#,
                5,
                3,
            ),
            (
                r#"{"type":"message","usage":{"input_tokens":7,"output_tokens":2}}"#,
                7,
                2,
            ),
            (
                r#"{"object":"response","usage":{"input_tokens":4,"output_tokens":9,"input_tokens_details":{"cached_tokens":1}}}"#,
                4,
                9,
            ),
        ] {
            let mut m = RawMeter::for_content_type(Some("application/json")).unwrap();
            let (a, b) = body.split_at(body.len() / 2);
            m.feed(a.as_bytes());
            m.feed(b.as_bytes());
            let u = m.usage().unwrap();
            assert_eq!(
                (u.input, u.output, u.total),
                (input, output, input + output),
                "{body}"
            );
        }
    }

    #[test]
    fn an_anthropic_stream_reports_input_first_and_output_last() {
        let mut m = RawMeter::for_content_type(Some("text/event-stream; charset=utf-8")).unwrap();
        let events = concat!(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"Hi\"}}\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":15}}\n\n",
        );
        for chunk in events.as_bytes().chunks(7) {
            m.feed(chunk);
        }
        let u = m.usage().unwrap();
        assert_eq!((u.input, u.output), (25, 15));
    }

    #[test]
    fn bodies_without_usage_or_of_other_kinds_report_none() {
        assert!(RawMeter::for_content_type(Some("audio/mpeg")).is_none());
        let mut m = RawMeter::for_content_type(Some("application/json")).unwrap();
        m.feed(b"{\"data\":[]}");
        assert_eq!(m.usage(), None);
    }
}
