//! Forwarding an OpenAI-format event stream: whole events only, as they arrive.
//!
//! Bytes are passed on at event boundaries (a partial event is held until its blank line
//! arrives), so a client never sees half an event, and an upstream that dies mid-stream is
//! reported with a final SSE `error` event instead of a silent truncation. A stream that stalls
//! longer than the idle bound between chunks is cut the same way.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use switchyard_types::sse::{complete_prefix_len, SseDecoder};
use switchyard_types::{ErrorEnvelope, ErrorKind};

use crate::upstream::UpstreamBody;

/// The largest single event buffered while waiting for its end.
const MAX_PENDING_EVENT: usize = 16 << 20;

/// Reads an upstream event stream and yields client-ready byte chunks.
pub struct EventForwarder {
    body: UpstreamBody,
    /// Bytes of an event whose blank line has not arrived yet.
    buf: BytesMut,
    /// `buf[..scanned]` holds no event boundary (so each byte is scanned about once).
    scanned: usize,
    idle: Option<Duration>,
    first: Option<Bytes>,
    saw_done: bool,
    finished: bool,
}

/// What the first complete event(s) of a stream said.
pub enum StreamStart {
    /// Events to forward; the stream is healthy so far.
    Ok(EventForwarder),
    /// The upstream reported an error before any data: may fall back.
    Error(ErrorEnvelope),
    /// The stream broke or ended before its first event: may fall back.
    Broken(String),
    /// No event within the idle bound.
    TimedOut,
}

impl EventForwarder {
    /// Reads until the first substantive event (content, a tool call, a finish reason, usage or
    /// `[DONE]`), so an upstream error — including one right after a role-only opening chunk —
    /// can still fall back. The events read so far are sent first once the stream commits.
    /// With `hold` false, the stream commits on its first complete event instead (nothing
    /// could recover from a later failure, so there is no reason to delay the first byte).
    pub async fn start(body: UpstreamBody, idle: Option<Duration>, hold: bool) -> StreamStart {
        let mut f = EventForwarder {
            body,
            buf: BytesMut::new(),
            scanned: 0,
            idle,
            first: None,
            saw_done: false,
            finished: false,
        };
        let mut held = BytesMut::new();
        loop {
            match f.read_frame().await {
                Read::Data(data) => {
                    f.buf.extend_from_slice(&data);
                    let events = match f.take_complete() {
                        Ok(Some(events)) => events,
                        Ok(None) => continue,
                        Err(too_large) => return StreamStart::Broken(too_large),
                    };
                    match inspect_events(&events) {
                        Peeked::Error(err) => return StreamStart::Error(err),
                        Peeked::Substantive => {
                            held.extend_from_slice(&events);
                            f.saw_done = ends_with_done(&held);
                            f.first = Some(held.freeze());
                            return StreamStart::Ok(f);
                        }
                        Peeked::Preamble if hold => held.extend_from_slice(&events),
                        Peeked::Preamble => {
                            held.extend_from_slice(&events);
                            f.first = Some(held.freeze());
                            return StreamStart::Ok(f);
                        }
                    }
                }
                Read::End => {
                    if let Peeked::Error(err) = inspect_events(&f.buf) {
                        return StreamStart::Error(err);
                    }
                    return StreamStart::Broken(
                        "upstream closed the stream before sending any content".into(),
                    );
                }
                Read::Failed(e) => return StreamStart::Broken(e),
                Read::TimedOut => return StreamStart::TimedOut,
            }
        }
    }

    /// The next chunk for the client; `None` once the stream is over.
    pub async fn next(&mut self) -> Option<Bytes> {
        if let Some(first) = self.first.take() {
            return Some(first);
        }
        if self.finished {
            return None;
        }
        loop {
            match self.read_frame().await {
                Read::Data(data) => {
                    if self.buf.is_empty() && complete_prefix_len(&data) == Some(data.len()) {
                        // Whole events: pass the upstream's buffer on without copying.
                        self.saw_done = ends_with_done(&data);
                        return Some(data);
                    }
                    self.buf.extend_from_slice(&data);
                    match self.take_complete() {
                        Ok(Some(out)) => {
                            let out = out.freeze();
                            self.saw_done = ends_with_done(&out);
                            return Some(out);
                        }
                        Ok(None) => {}
                        Err(too_large) => {
                            self.finished = true;
                            return Some(error_event(&too_large));
                        }
                    }
                }
                Read::End => {
                    self.finished = true;
                    let rest = std::mem::take(&mut self.buf);
                    if self.saw_done && rest.iter().all(u8::is_ascii_whitespace) {
                        return None;
                    }
                    if !self.saw_done && is_done_event(&rest) {
                        // `data: [DONE]` without its final blank line: complete it.
                        let mut out = rest;
                        out.extend_from_slice(b"\n\n");
                        return Some(out.freeze());
                    }
                    return Some(error_event(
                        "upstream stream ended before it was complete (no [DONE])",
                    ));
                }
                Read::Failed(e) => {
                    self.finished = true;
                    return Some(error_event(&format!("upstream stream failed: {e}")));
                }
                Read::TimedOut => {
                    self.finished = true;
                    let ms = self.idle.map(|d| d.as_millis()).unwrap_or_default();
                    return Some(error_event(&format!(
                        "upstream stream stalled for more than {ms}ms"
                    )));
                }
            }
        }
    }

    /// Splits off the complete events at the front of the buffer, if any. Only bytes not scanned
    /// before are searched, so an event arriving in many pieces costs linear time; an event
    /// larger than [`MAX_PENDING_EVENT`] is an error rather than unbounded buffering.
    fn take_complete(&mut self) -> Result<Option<BytesMut>, String> {
        // A boundary can straddle the old end by up to three bytes ("\r\n\r\n").
        let from = self.scanned.saturating_sub(3);
        match complete_prefix_len(&self.buf[from..]) {
            Some(n) => {
                let events = self.buf.split_to(from + n);
                // The boundary found is the last one: what remains holds none.
                self.scanned = self.buf.len();
                Ok(Some(events))
            }
            None if self.buf.len() > MAX_PENDING_EVENT => Err(format!(
                "upstream sent an event larger than {} MiB",
                MAX_PENDING_EVENT >> 20
            )),
            None => {
                self.scanned = self.buf.len();
                Ok(None)
            }
        }
    }

    async fn read_frame(&mut self) -> Read {
        loop {
            let frame = match self.idle {
                Some(t) => match tokio::time::timeout(t, self.body.frame()).await {
                    Ok(f) => f,
                    Err(_) => return Read::TimedOut,
                },
                None => self.body.frame().await,
            };
            match frame {
                None => return Read::End,
                Some(Err(e)) => return Read::Failed(e.to_string()),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        if !data.is_empty() {
                            return Read::Data(data);
                        }
                    }
                }
            }
        }
    }
}

enum Read {
    Data(Bytes),
    End,
    Failed(String),
    TimedOut,
}

/// An SSE `error` event carrying an OpenAI error object.
pub fn error_event(message: &str) -> Bytes {
    error_event_for(
        &ErrorEnvelope::new(ErrorKind::ApiError, message).with_code("upstream_stream_error"),
    )
}

/// An SSE `error` event carrying `env`.
pub fn error_event_for(env: &ErrorEnvelope) -> Bytes {
    let json = env.to_bytes();
    let mut out = BytesMut::with_capacity(json.len() + 24);
    out.extend_from_slice(b"event: error\ndata: ");
    out.extend_from_slice(&json);
    out.extend_from_slice(b"\n\n");
    out.freeze()
}

fn ends_with_done(chunk: &[u8]) -> bool {
    let tail = &chunk[chunk.len().saturating_sub(24)..];
    tail.windows(6).any(|w| w == b"[DONE]")
}

fn is_done_event(rest: &[u8]) -> bool {
    let t = rest.trim_ascii();
    t == b"data: [DONE]" || t == b"data:[DONE]"
}

/// What the events of a chunk read before the commit say.
enum Peeked {
    /// An error event (`event: error`, or data holding a top-level `error` member).
    Error(ErrorEnvelope),
    /// Something worth committing to.
    Substantive,
    /// Only role-only or empty chunks, comments and pings.
    Preamble,
}

fn inspect_events(chunk: &[u8]) -> Peeked {
    let mut dec = SseDecoder::default();
    dec.push(chunk);
    let mut events = Vec::new();
    while let Some(Ok(ev)) = dec.next_event() {
        events.push(ev);
    }
    events.extend(dec.finish());
    let mut substantive = false;
    for ev in events {
        let named_error = ev.event.as_deref() == Some("error");
        if named_error || ev.data.contains("\"error\"") {
            match ErrorEnvelope::from_upstream(ev.data.as_bytes()) {
                Some(e) => return Peeked::Error(e),
                None if named_error => {
                    return Peeked::Error(ErrorEnvelope::new(ErrorKind::ApiError, ev.data))
                }
                None => {}
            }
        }
        substantive |= is_substantive(&ev.data);
    }
    if substantive {
        Peeked::Substantive
    } else {
        Peeked::Preamble
    }
}

/// Whether an event's data is more than a role-only opening chunk: any delta member besides
/// `role` with a value, a finish reason, usage, completion text, `[DONE]`, or anything that is
/// not a recognisable chunk (forwarded rather than held).
fn is_substantive(data: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Chunk {
        #[serde(default)]
        choices: Vec<ChoicePeek>,
        #[serde(default)]
        usage: Option<serde_json::Value>,
    }
    #[derive(serde::Deserialize)]
    struct ChoicePeek {
        #[serde(default)]
        delta: Option<serde_json::Map<String, serde_json::Value>>,
        #[serde(default)]
        finish_reason: Option<serde_json::Value>,
        #[serde(default)]
        text: Option<String>,
    }
    if data.is_empty() {
        return false;
    }
    let Ok(chunk) = serde_json::from_str::<Chunk>(data) else {
        return true;
    };
    let has_value = |v: &serde_json::Value| match v {
        serde_json::Value::Null => false,
        serde_json::Value::String(s) => !s.is_empty(),
        serde_json::Value::Array(a) => !a.is_empty(),
        _ => true,
    };
    chunk.usage.as_ref().is_some_and(has_value)
        || chunk.choices.iter().any(|c| {
            c.finish_reason.as_ref().is_some_and(has_value)
                || c.text.as_deref().is_some_and(|t| !t.is_empty())
                || c.delta
                    .as_ref()
                    .is_some_and(|d| d.iter().any(|(k, v)| k != "role" && has_value(v)))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_event_is_a_named_sse_event_with_openai_error() {
        let e = error_event("boom");
        let s = std::str::from_utf8(&e).unwrap();
        assert!(s.starts_with("event: error\ndata: {\"error\":{\"message\":\"boom\""));
        assert!(s.ends_with("\n\n"));
    }

    #[test]
    fn early_errors_are_detected() {
        assert!(matches!(
            inspect_events(b"data: {\"error\":{\"message\":\"overloaded\"}}\n\n"),
            Peeked::Error(_)
        ));
        assert!(matches!(
            inspect_events(b"event: error\ndata: oops\n\n"),
            Peeked::Error(_)
        ));
        assert!(matches!(
            inspect_events(b"data: {\"choices\":[{\"delta\":{\"content\":\"error\"}}]}\n\n"),
            Peeked::Substantive
        ));
    }

    #[test]
    fn role_only_and_empty_chunks_are_preamble() {
        let preamble: &[u8] = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n: ping\n\n";
        assert!(matches!(inspect_events(preamble), Peeked::Preamble));
        for data in [
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0}]}}]}"#,
            r#"{"choices":[{"delta":{"reasoning_content":"hmm"}}]}"#,
            r#"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#,
            r#"{"choices":[],"usage":{"total_tokens":3}}"#,
            r#"{"choices":[{"text":"hi"}]}"#,
            "[DONE]",
        ] {
            assert!(is_substantive(data), "{data}");
        }
        assert!(!is_substantive(
            r#"{"choices":[{"delta":{"role":"assistant"}}]}"#
        ));
    }

    #[test]
    fn done_detection_looks_at_the_tail() {
        assert!(ends_with_done(b"data: {}\n\ndata: [DONE]\n\n"));
        assert!(!ends_with_done(b"data: {}\n\n"));
        assert!(is_done_event(b"data: [DONE]"));
    }
}
