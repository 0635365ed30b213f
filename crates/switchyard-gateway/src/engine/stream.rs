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

/// Reads an upstream event stream and yields client-ready byte chunks.
pub struct EventForwarder {
    body: UpstreamBody,
    buf: BytesMut,
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
    /// Reads until the first complete event, so an early error can still fall back.
    pub async fn start(body: UpstreamBody, idle: Option<Duration>) -> StreamStart {
        let mut f = EventForwarder {
            body,
            buf: BytesMut::new(),
            idle,
            first: None,
            saw_done: false,
            finished: false,
        };
        loop {
            match f.read_frame().await {
                Read::Data(data) => {
                    f.buf.extend_from_slice(&data);
                    if let Some(n) = complete_prefix_len(&f.buf) {
                        let first = f.buf.split_to(n).freeze();
                        if let Some(err) = first_event_error(&first) {
                            return StreamStart::Error(err);
                        }
                        f.saw_done = ends_with_done(&first);
                        f.first = Some(first);
                        return StreamStart::Ok(f);
                    }
                }
                Read::End => {
                    if let Some(err) = first_event_error(&f.buf) {
                        return StreamStart::Error(err);
                    }
                    return StreamStart::Broken(
                        "upstream closed the stream before its first event".into(),
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
                    if let Some(n) = complete_prefix_len(&self.buf) {
                        let out = self.buf.split_to(n).freeze();
                        self.saw_done = ends_with_done(&out);
                        return Some(out);
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

/// The error in the first event of `chunk`, if it is one (`event: error`, or data holding a
/// top-level `error` member, as OpenAI-compatible hosts send).
fn first_event_error(chunk: &[u8]) -> Option<ErrorEnvelope> {
    let mut dec = SseDecoder::default();
    dec.push(chunk);
    let ev = match dec.next_event() {
        Some(Ok(ev)) => ev,
        Some(Err(_)) => return None,
        None => dec.finish()?,
    };
    let named_error = ev.event.as_deref() == Some("error");
    if !named_error && !ev.data.contains("\"error\"") {
        return None;
    }
    let parsed = ErrorEnvelope::from_upstream(ev.data.as_bytes());
    match parsed {
        Some(e) => Some(e),
        None if named_error => Some(ErrorEnvelope::new(ErrorKind::ApiError, ev.data)),
        None => None,
    }
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
    fn first_event_errors_are_detected() {
        assert!(first_event_error(b"data: {\"error\":{\"message\":\"overloaded\"}}\n\n").is_some());
        assert!(first_event_error(b"event: error\ndata: oops\n\n").is_some());
        assert!(first_event_error(
            b"data: {\"choices\":[{\"delta\":{\"content\":\"error\"}}]}\n\n"
        )
        .is_none());
    }

    #[test]
    fn done_detection_looks_at_the_tail() {
        assert!(ends_with_done(b"data: {}\n\ndata: [DONE]\n\n"));
        assert!(!ends_with_done(b"data: {}\n\n"));
        assert!(is_done_event(b"data: [DONE]"));
    }
}
