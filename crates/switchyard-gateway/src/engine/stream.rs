//! Forwarding an OpenAI-format event stream: whole events only, as they arrive.
//!
//! Bytes are passed on at event boundaries (a partial event is held until its blank line
//! arrives), so a client never sees half an event, and an upstream that dies mid-stream is
//! reported with a final SSE `error` event instead of a silent truncation.
//!
//! Time and memory are bounded at every point: until the stream commits, the attempt's deadline
//! applies whatever the upstream sends (pings and comments don't extend it) and at most
//! [`StreamLimits::max_held`] bytes of preamble are held back; after the commit, a stream that
//! stays silent longer than the idle bound is cut. Usage is read from the stream as it passes
//! (`switchyard_types::usage`), and a usage chunk the gateway asked for on its own account is
//! not forwarded.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body::Body as _;
use switchyard_types::sse::{complete_prefix_len, SseDecoder};
use switchyard_types::usage::{scan_events, TokenUsage};
use switchyard_types::{ErrorEnvelope, ErrorKind};
use tokio::time::{Instant, Sleep};

use crate::upstream::UpstreamBody;

/// The largest single event buffered while waiting for its end.
const MAX_PENDING_EVENT: usize = 16 << 20;

/// The time and memory bounds of one streamed attempt.
#[derive(Debug, Clone, Copy)]
pub struct StreamLimits {
    /// The stream must commit (its first substantive event, or its first event when nothing
    /// is held back) by then: the attempt's deadline, which pings don't move.
    pub commit_by: Instant,
    /// After the commit, the longest silence from the upstream.
    pub idle: Duration,
    /// The most preamble (role-only chunks, comments, pings) held back before the commit; past
    /// it the stream commits with what it has.
    pub max_held: usize,
}

/// Reads an upstream event stream and yields client-ready byte chunks.
pub struct EventForwarder {
    body: UpstreamBody,
    /// Bytes of an event whose blank line has not arrived yet.
    buf: BytesMut,
    /// `buf[..scanned]` holds no event boundary (so each byte is scanned about once).
    scanned: usize,
    idle: Duration,
    /// The commit deadline, then the idle bound (reset by every chunk).
    timer: Pin<Box<Sleep>>,
    committed: bool,
    first: Option<Bytes>,
    saw_done: bool,
    finished: bool,
    /// The client did not ask for usage: the gateway did, and the usage-only chunk is dropped.
    strip_usage: bool,
    usage: Option<TokenUsage>,
    error: Option<String>,
}

/// What the first complete event(s) of a stream said.
pub enum StreamStart {
    /// Events to forward; the stream is healthy so far.
    Ok(Box<EventForwarder>),
    /// The upstream reported an error before any data: may fall back.
    Error(ErrorEnvelope),
    /// The stream broke or ended before its first event: may fall back.
    Broken(String),
    /// No commit before the deadline.
    TimedOut,
}

impl EventForwarder {
    /// Reads until the first substantive event (content, a tool call, a finish reason, usage or
    /// `[DONE]`), so an upstream error — including one right after a role-only opening chunk —
    /// can still fall back. The events read so far are sent first once the stream commits.
    /// With `hold` false, the stream commits on its first complete event instead (nothing
    /// could recover from a later failure, so there is no reason to delay the first byte).
    pub async fn start(
        body: UpstreamBody,
        limits: StreamLimits,
        hold: bool,
        strip_usage: bool,
    ) -> StreamStart {
        let mut f = Box::new(EventForwarder {
            body,
            buf: BytesMut::new(),
            scanned: 0,
            idle: limits.idle,
            timer: Box::pin(tokio::time::sleep_until(limits.commit_by)),
            committed: false,
            first: None,
            saw_done: false,
            finished: false,
            strip_usage,
            usage: None,
            error: None,
        });
        let mut held = BytesMut::new();
        loop {
            match poll_fn(|cx| f.poll_read(cx)).await {
                Read::Data(data) => {
                    f.buf.extend_from_slice(&data);
                    let events = match f.take_complete() {
                        Ok(Some(events)) => events,
                        Ok(None) => continue,
                        Err(too_large) => return StreamStart::Broken(too_large),
                    };
                    match inspect_events(&events) {
                        Peeked::Error(err) => return StreamStart::Error(err),
                        Peeked::Preamble
                            if hold && held.len() + events.len() <= limits.max_held =>
                        {
                            held.extend_from_slice(&events)
                        }
                        // Substantive, nothing to hold for, or held long enough: commit.
                        _ => {
                            held.extend_from_slice(&events);
                            f.commit(held.freeze());
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

    fn commit(&mut self, first: Bytes) {
        self.committed = true;
        self.saw_done = ends_with_done(&first);
        let first = self.account(first);
        self.first = Some(first);
        let next = Instant::now() + self.idle;
        self.timer.as_mut().reset(next);
    }

    /// Tokens the stream reported, if it did.
    pub fn usage(&self) -> Option<TokenUsage> {
        self.usage
    }

    /// Why the stream ended badly, if it did.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Reads usage from a chunk of complete events, and drops the usage-only event the client
    /// did not ask for.
    fn account(&mut self, chunk: Bytes) -> Bytes {
        let scan = scan_events(&chunk, self.strip_usage);
        if scan.usage.is_some() {
            self.usage = scan.usage;
        }
        match scan.stripped {
            Some(rest) => Bytes::from(rest),
            None => chunk,
        }
    }

    fn fail(&mut self, message: String) -> Bytes {
        self.finished = true;
        let event = error_event(&message);
        self.error = Some(message);
        event
    }

    /// The next chunk for the client; `None` once the stream is over.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        if let Some(first) = self.first.take() {
            if !first.is_empty() {
                return Poll::Ready(Some(first));
            }
        }
        if self.finished {
            return Poll::Ready(None);
        }
        loop {
            let out = match ready!(self.poll_read(cx)) {
                Read::Data(data) => {
                    if self.buf.is_empty() && complete_prefix_len(&data) == Some(data.len()) {
                        // Whole events: pass the upstream's buffer on without copying.
                        data
                    } else {
                        self.buf.extend_from_slice(&data);
                        match self.take_complete() {
                            Ok(Some(out)) => out.freeze(),
                            Ok(None) => continue,
                            Err(too_large) => return Poll::Ready(Some(self.fail(too_large))),
                        }
                    }
                }
                Read::End => {
                    self.finished = true;
                    let rest = std::mem::take(&mut self.buf);
                    if self.saw_done && rest.iter().all(u8::is_ascii_whitespace) {
                        return Poll::Ready(None);
                    }
                    if !self.saw_done && is_done_event(&rest) {
                        // `data: [DONE]` without its final blank line: complete it.
                        let mut out = rest;
                        out.extend_from_slice(b"\n\n");
                        return Poll::Ready(Some(out.freeze()));
                    }
                    let msg = "upstream stream ended before it was complete (no [DONE])";
                    return Poll::Ready(Some(self.fail(msg.into())));
                }
                Read::Failed(e) => {
                    return Poll::Ready(Some(self.fail(format!("upstream stream failed: {e}"))))
                }
                Read::TimedOut => {
                    let ms = self.idle.as_millis();
                    let msg = format!("upstream stream stalled for more than {ms}ms");
                    return Poll::Ready(Some(self.fail(msg)));
                }
            };
            self.saw_done = ends_with_done(&out);
            let out = self.account(out);
            if !out.is_empty() {
                return Poll::Ready(Some(out));
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

    /// The next data frame. Before the commit the timer is the commit deadline, which nothing
    /// moves; after it, every frame restarts the idle bound.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<Read> {
        loop {
            match Pin::new(&mut self.body).poll_frame(cx) {
                Poll::Ready(None) => return Poll::Ready(Read::End),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Read::Failed(e.to_string())),
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        if !data.is_empty() {
                            if self.committed {
                                let next = Instant::now() + self.idle;
                                self.timer.as_mut().reset(next);
                            }
                            return Poll::Ready(Read::Data(data));
                        }
                    }
                }
                Poll::Pending => {
                    ready!(self.timer.as_mut().poll(cx));
                    return Poll::Ready(Read::TimedOut);
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

/// Whether the last event of `chunk` is `data: [DONE]` — the whole data line, not `[DONE]`
/// somewhere in a content chunk.
fn ends_with_done(chunk: &[u8]) -> bool {
    chunk
        .split(|b| *b == b'\n' || *b == b'\r')
        .rev()
        .find(|line| !line.is_empty())
        .is_some_and(|line| line == b"data: [DONE]" || line == b"data:[DONE]")
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
    fn done_is_recognised_only_as_a_whole_data_line() {
        assert!(ends_with_done(b"data: {}\n\ndata: [DONE]\n\n"));
        assert!(ends_with_done(b"data:[DONE]\r\n\r\n"));
        assert!(!ends_with_done(b"data: {}\n\n"));
        assert!(!ends_with_done(
            b"data: {\"choices\":[{\"delta\":{\"content\":\"[DONE]\"}}]}\n\n"
        ));
        assert!(!ends_with_done(
            b"data: {\"content\":\"x\ndata: [DONE]x\"}\n\n"
        ));
        assert!(is_done_event(b"data: [DONE]"));
    }
}
