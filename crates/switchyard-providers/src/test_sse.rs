//! For adapters' unit tests: feeds an SSE text through a stream translator the way the gateway
//! does (decode the events, one frame each, then `finish`).

use serde_json::Value;
use switchyard_types::sse::SseDecoder;

use crate::native::{ChunkTranslator, Frame, TranslateError};

/// The chunks `t` yields for `sse` (as JSON), and how the stream ended: the first error stops
/// it, with the chunks yielded before.
pub(crate) fn run_sse(
    t: Box<dyn ChunkTranslator>,
    sse: &str,
) -> (Vec<Value>, Result<(), TranslateError>) {
    let mut dec = SseDecoder::new(1 << 20);
    dec.push(sse.as_bytes());
    let mut events = Vec::new();
    while let Some(e) = dec.next_event() {
        events.push(e.unwrap());
    }
    events.extend(dec.finish());
    run_frames(
        t,
        events.iter().map(|e| Frame {
            event: e.event.as_deref(),
            data: e.data.as_bytes(),
            message_type: None,
        }),
    )
}

/// [`run_sse`] for frames given one by one.
pub(crate) fn run_frames<'a>(
    mut t: Box<dyn ChunkTranslator>,
    frames: impl IntoIterator<Item = Frame<'a>>,
) -> (Vec<Value>, Result<(), TranslateError>) {
    let mut out = Vec::new();
    for frame in frames {
        match t.on_frame(frame) {
            Ok(c) => out.extend(c.iter().map(|c| serde_json::to_value(c).unwrap())),
            Err(err) => return (out, Err(err)),
        }
    }
    match t.finish() {
        Ok(c) => {
            out.extend(c.iter().map(|c| serde_json::to_value(c).unwrap()));
            (out, Ok(()))
        }
        Err(err) => (out, Err(err)),
    }
}
