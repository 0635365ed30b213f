//! The SSE decoder and the event-boundary scan on arbitrary bytes.
//!
//! First byte: chunk size (`b % 32 + 1`); rest: the stream. Checks that chunking never changes
//! the decoded events, that `complete_prefix_len` stays in bounds and ends on a blank line, and
//! that a small line limit bounds the decoder's buffer.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_types::sse::{complete_prefix_len, SseDecoder, SseError, SseEvent};

type Decoded = (Vec<Result<SseEvent, SseError>>, Option<SseEvent>);

fn decode(mut dec: SseDecoder, bytes: &[u8], chunk: usize) -> Decoded {
    let mut out = Vec::new();
    for piece in bytes.chunks(chunk.max(1)) {
        dec.push(piece);
        while let Some(ev) = dec.next_event() {
            let stop = matches!(ev, Err(SseError::LineTooLong(_)));
            out.push(ev);
            if stop {
                return (out, None);
            }
        }
    }
    (out, dec.finish())
}

fn ends_in_blank_line(p: &[u8]) -> bool {
    let n = p.len();
    let start = if p.ends_with(b"\r\n") {
        n - 2
    } else if p.ends_with(b"\n") || p.ends_with(b"\r") {
        n - 1
    } else {
        return false;
    };
    start > 0 && matches!(p[start - 1], b'\n' | b'\r')
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, bytes)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(first % 32) + 1;
    let whole = decode(SseDecoder::default(), bytes, bytes.len());
    let chunked = decode(SseDecoder::default(), bytes, chunk);
    assert_eq!(whole, chunked, "chunking changed the events");

    // A small limit: bounded buffering, and an error rather than a panic.
    let limit = usize::from(first);
    let (events, _) = decode(SseDecoder::new(limit), bytes, chunk);
    let _ = events;

    if let Some(n) = complete_prefix_len(bytes) {
        assert!(n <= bytes.len());
        let prefix = &bytes[..n];
        assert!(ends_in_blank_line(prefix));
        assert!(!(prefix.ends_with(b"\r") && bytes.get(n) == Some(&b'\n')));
        let (mut a, tail) = decode(SseDecoder::default(), prefix, prefix.len());
        assert_eq!(tail, None);
        let (b, tail) = decode(SseDecoder::default(), &bytes[n..], bytes.len());
        a.extend(b);
        assert_eq!(
            (a, tail),
            whole,
            "forwarding the complete prefix changed the events"
        );
    }
});
