//! The AWS event-stream decoder on arbitrary bytes.
//!
//! First byte: chunk size (`b % 64 + 1`); rest: the byte stream. Checks that chunking never
//! changes the outcome, and that every frame decoded re-encodes (`encode_message`) to exactly
//! the bytes it came from.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_providers::bedrock::eventstream::{encode_message, EventStreamDecoder};
use switchyard_providers::bedrock::{EventStreamError, OwnedFrame};

fn decode(
    bytes: &[u8],
    chunk: usize,
) -> (
    Vec<Result<OwnedFrame, EventStreamError>>,
    Result<(), EventStreamError>,
) {
    let mut dec = EventStreamDecoder::new();
    let mut out = Vec::new();
    for piece in bytes.chunks(chunk.max(1)) {
        dec.push(piece);
        while let Some(f) = dec.next_frame() {
            out.push(f);
        }
    }
    // After a failure the decoder reports nothing more.
    assert!(dec.next_frame().is_none());
    (out, dec.finish())
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, bytes)) = data.split_first() else {
        return;
    };
    let whole = decode(bytes, bytes.len());
    let chunked = decode(bytes, usize::from(first % 64) + 1);
    // Whole-input decoding may stop at an incomplete message where a chunked one also does;
    // the frames and the first error must agree.
    assert_eq!(whole.0, chunked.0, "chunking changed the frames");
    assert_eq!(whole.1, chunked.1);

    let mut at = 0;
    for f in whole.0.iter() {
        let Ok(f) = f else { break };
        let headers: Vec<(&str, _)> = f
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.clone()))
            .collect();
        let enc = encode_message(&headers, &f.payload).expect("a decoded frame must re-encode");
        assert_eq!(
            &bytes[at..at + enc.len()],
            &enc[..],
            "re-encoding changed the bytes"
        );
        at += enc.len();
        let _ = f.as_frame();
    }
});
