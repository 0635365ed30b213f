//! The whole-events-only forwarding of OpenAI streams.
//!
//! `engine::stream::EventForwarder` reads a `hyper::body::Incoming`, which only a live connection
//! produces, so this target drives the same public pieces it is built from with the same logic:
//! chunks arrive, whole chunks that end on an event boundary pass through as they are, otherwise
//! bytes are held and the `complete_prefix_len` prefix is sent. Checks: nothing is lost or
//! reordered, every piece sent ends on a blank line, and a client decoding each piece on its own
//! sees exactly the events of the upstream stream.
//!
//! Input: first byte = chunk size (`b % 48 + 1`), rest = the upstream bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_types::sse::{complete_prefix_len, SseDecoder, SseError, SseEvent};

fn events(bytes: &[u8]) -> Vec<Result<SseEvent, SseError>> {
    let mut d = SseDecoder::default();
    d.push(bytes);
    let mut out = Vec::new();
    while let Some(e) = d.next_event() {
        out.push(e);
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, upstream)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(first % 48) + 1;
    let mut buf: Vec<u8> = Vec::new();
    let mut sent: Vec<Vec<u8>> = Vec::new();
    for piece in upstream.chunks(chunk) {
        if buf.is_empty() && complete_prefix_len(piece) == Some(piece.len()) {
            sent.push(piece.to_vec());
            continue;
        }
        buf.extend_from_slice(piece);
        if let Some(n) = complete_prefix_len(&buf) {
            sent.push(buf.drain(..n).collect());
        }
    }
    let joined: Vec<u8> = sent.concat();
    assert_eq!(
        [joined.as_slice(), &buf].concat(),
        upstream,
        "bytes lost or reordered"
    );
    let mut client = Vec::new();
    for s in &sent {
        assert!(
            complete_prefix_len(s) == Some(s.len()),
            "a forwarded piece does not end on an event boundary"
        );
        client.extend(events(s));
    }
    assert_eq!(
        client,
        events(&joined),
        "piecewise decoding differs from the stream"
    );
});
