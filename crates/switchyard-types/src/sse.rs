//! An incremental Server-Sent Events decoder (WHATWG event-stream grammar).
//!
//! Bytes go in as they arrive ([`SseDecoder::push`]); complete events come out
//! ([`SseDecoder::next_event`]). Lines may end in `\n`, `\r\n` or `\r`; comments and unknown fields
//! are ignored; multi-line `data` is joined with `\n`. A line, or an event's data, longer than
//! the configured limit is an error rather than unbounded buffering.

use bytes::{Buf, BytesMut};

/// One dispatched event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, if the event had one.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The `id:` field, if the event had one.
    pub id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    #[error("event-stream line longer than {0} bytes")]
    LineTooLong(usize),
    #[error("event-stream event larger than {0} bytes")]
    EventTooLarge(usize),
    #[error("event-stream is not valid UTF-8")]
    InvalidUtf8,
}

/// Incremental decoder; see the module docs.
#[derive(Debug)]
pub struct SseDecoder {
    buf: BytesMut,
    max_line: usize,
    event: SseEvent,
    has_data: bool,
    /// A `\r` ended the previous line; a `\n` right after it belongs to the same line end.
    skip_lf: bool,
    /// Bytes of `buf` already scanned for a line end without finding one.
    scanned: usize,
    /// The pending event's data outgrew the limit.
    overflow: bool,
}

impl Default for SseDecoder {
    fn default() -> Self {
        Self::new(16 * 1024 * 1024)
    }
}

impl SseDecoder {
    /// A decoder that refuses lines, and events' data, longer than `max_line` bytes.
    pub fn new(max_line: usize) -> Self {
        SseDecoder {
            buf: BytesMut::new(),
            max_line,
            event: SseEvent::default(),
            has_data: false,
            skip_lf: false,
            scanned: 0,
            overflow: false,
        }
    }

    /// Appends bytes received from the stream.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// Returns the next complete event, `None` when more bytes are needed.
    pub fn next_event(&mut self) -> Option<Result<SseEvent, SseError>> {
        loop {
            if self.skip_lf && !self.buf.is_empty() {
                if self.buf[0] == b'\n' {
                    self.buf.advance(1);
                }
                self.skip_lf = false;
            }
            let pos = match self.buf[self.scanned..]
                .iter()
                .position(|&b| b == b'\n' || b == b'\r')
            {
                Some(p) => self.scanned + p,
                None => {
                    self.scanned = self.buf.len();
                    if self.buf.len() > self.max_line {
                        return Some(Err(SseError::LineTooLong(self.max_line)));
                    }
                    return None;
                }
            };
            self.scanned = 0;
            let line = self.buf.split_to(pos);
            let terminator = self.buf[0];
            self.buf.advance(1);
            if terminator == b'\r' {
                self.skip_lf = true;
            }
            let line = match std::str::from_utf8(&line) {
                Ok(l) => l,
                Err(_) => return Some(Err(SseError::InvalidUtf8)),
            };
            let ev = self.process_line(line);
            if self.overflow {
                return Some(Err(SseError::EventTooLarge(self.max_line)));
            }
            if let Some(ev) = ev {
                return Some(Ok(ev));
            }
        }
    }

    /// Ends the stream: an event whose blank line never came is dispatched if it has data
    /// (lenient, as many providers omit the final blank line).
    pub fn finish(&mut self) -> Option<SseEvent> {
        if !self.buf.is_empty() {
            let rest = self.buf.split();
            if let Ok(line) = std::str::from_utf8(&rest) {
                let line = line.to_owned();
                if let Some(ev) = self.process_line(&line) {
                    return Some(ev);
                }
            }
        }
        self.dispatch()
    }

    fn process_line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.find(':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.event.data.len() + value.len() + 1 > self.max_line {
                    self.overflow = true;
                    return None;
                }
                if self.has_data {
                    self.event.data.push('\n');
                }
                self.event.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event.event = Some(value.to_owned()),
            "id" => self.event.id = Some(value.to_owned()),
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<SseEvent> {
        if !self.has_data && self.event.event.is_none() {
            self.event = SseEvent::default();
            return None;
        }
        self.has_data = false;
        Some(std::mem::take(&mut self.event))
    }
}

/// The length of the prefix of `buf` that ends on an event boundary (a blank line), or `None`
/// if `buf` holds no complete event. Used to forward whole events only.
pub fn complete_prefix_len(buf: &[u8]) -> Option<usize> {
    // Scan backwards for "\n\n", "\r\r" or "\r\n\r\n" (which ends with "\n\r\n" too).
    let mut i = buf.len();
    while i >= 2 {
        let (a, b) = (buf[i - 2], buf[i - 1]);
        if (a == b'\n' && b == b'\n') || (a == b'\r' && b == b'\r') {
            // "\r\r\n": the trailing \n belongs to the second line end.
            if a == b'\r' && buf.get(i) == Some(&b'\n') {
                return Some(i + 1);
            }
            return Some(i);
        }
        if i >= 3 && buf[i - 3] == b'\n' && a == b'\r' && b == b'\n' {
            return Some(i);
        }
        i -= 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(dec: &mut SseDecoder) -> Vec<SseEvent> {
        let mut v = vec![];
        while let Some(e) = dec.next_event() {
            v.push(e.unwrap());
        }
        v
    }

    #[test]
    fn decodes_events_split_across_chunks() {
        let mut d = SseDecoder::default();
        d.push(b"data: {\"a\"");
        assert!(d.next_event().is_none());
        d.push(b":1}\n\nevent: ping\ndata: x\n");
        let ev = all(&mut d);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].data, "{\"a\":1}");
        d.push(b"\n");
        let ev = all(&mut d);
        assert_eq!(ev[0].event.as_deref(), Some("ping"));
        assert_eq!(ev[0].data, "x");
    }

    #[test]
    fn handles_crlf_cr_comments_and_multiline_data() {
        let mut d = SseDecoder::default();
        d.push(b": keep-alive\r\ndata: a\r\ndata: b\r\n\r\ndata:c\r\r");
        let ev = all(&mut d);
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].data, "a\nb");
        assert_eq!(ev[1].data, "c");
    }

    #[test]
    fn crlf_split_between_chunks_is_one_line_end() {
        let mut d = SseDecoder::default();
        d.push(b"data: a\r");
        assert!(all(&mut d).is_empty());
        d.push(b"\n\r\n");
        let ev = all(&mut d);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].data, "a");
    }

    #[test]
    fn finish_dispatches_unterminated_event() {
        let mut d = SseDecoder::default();
        d.push(b"data: [DONE]");
        assert!(d.next_event().is_none());
        assert_eq!(d.finish().unwrap().data, "[DONE]");
    }

    #[test]
    fn an_event_larger_than_the_limit_is_an_error() {
        let mut d = SseDecoder::new(32);
        let mut result = None;
        for _ in 0..10 {
            d.push(b"data: 0123456789\n");
            if let Some(r) = d.next_event() {
                result = Some(r);
                break;
            }
        }
        assert_eq!(result, Some(Err(SseError::EventTooLarge(32))));
    }

    #[test]
    fn overlong_line_is_an_error() {
        let mut d = SseDecoder::new(8);
        d.push(b"data: 0123456789");
        assert_eq!(d.next_event(), Some(Err(SseError::LineTooLong(8))));
    }

    #[test]
    fn complete_prefix_finds_last_boundary() {
        assert_eq!(complete_prefix_len(b"data: a\n\ndata: b"), Some(9));
        assert_eq!(complete_prefix_len(b"data: a\n\ndata: b\n\n"), Some(18));
        assert_eq!(complete_prefix_len(b"data: a\r\n\r\n"), Some(11));
        assert_eq!(complete_prefix_len(b"data: a\n"), None);
        assert_eq!(complete_prefix_len(b""), None);
        assert_eq!(complete_prefix_len(b"data: a\r\r\n"), Some(10));
    }
}
