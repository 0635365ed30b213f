use super::*;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn decode_all(bytes: &[u8]) -> Vec<OwnedFrame> {
    let mut d = EventStreamDecoder::new();
    d.push(bytes);
    let mut out = Vec::new();
    while let Some(f) = d.next_frame() {
        out.push(f.unwrap());
    }
    d.finish().unwrap();
    out
}

#[test]
fn crc32_matches_the_standard_check_value() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc32(b""), 0);
}

/// The test vector of `awslabs/aws-c-event-stream` (one `content-type` header, payload
/// `{'foo':'bar'}`), as bytes produced by AWS's own encoder.
#[test]
fn decodes_the_aws_reference_vector() {
    let bytes = hex(
        "0000003d0000002007fd83960c636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e7b27666f6f273a27626172277d8d9c08b1",
    );
    let frames = decode_all(&bytes);
    assert_eq!(frames.len(), 1);
    assert_eq!(
        frames[0].header("content-type"),
        Some(&HeaderValue::String("application/json".into()))
    );
    assert_eq!(frames[0].payload, b"{'foo':'bar'}");
    assert_eq!(frames[0].event_type, None);
}

/// A `modelStreamErrorException` frame captured from Bedrock (published in the Vercel AI SDK's
/// test fixtures, `model-stream-error-exception.eventstream.base64.txt`).
#[test]
fn decodes_a_captured_bedrock_exception_frame() {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(
            include_str!("../../../fixtures/bedrock/model_stream_error_exception.eventstream.b64")
                .trim(),
        )
        .unwrap();
    let frames = decode_all(&bytes);
    assert_eq!(frames.len(), 1);
    let f = &frames[0];
    assert_eq!(f.message_type.as_deref(), Some("exception"));
    assert_eq!(
        f.exception_type.as_deref(),
        Some("modelStreamErrorException")
    );
    let frame = f.as_frame();
    assert_eq!(frame.event, Some("modelStreamErrorException"));
    assert_eq!(frame.message_type, Some("exception"));
    let v: serde_json::Value = serde_json::from_slice(frame.data).unwrap();
    assert_eq!(v["originalStatusCode"], 500);
}

#[test]
fn round_trips_every_header_type() {
    let headers = vec![
        ("t", HeaderValue::Bool(true)),
        ("f", HeaderValue::Bool(false)),
        ("b", HeaderValue::Byte(-3)),
        ("s", HeaderValue::Int16(-300)),
        ("i", HeaderValue::Int32(70000)),
        ("l", HeaderValue::Int64(-1 << 40)),
        ("bytes", HeaderValue::Bytes(vec![0, 1, 2, 255])),
        ("str", HeaderValue::String("héllo".into())),
        ("ts", HeaderValue::Timestamp(1_700_000_000_000)),
        ("uuid", HeaderValue::Uuid([7; 16])),
    ];
    let bytes = encode_message(&headers, b"payload").unwrap();
    let frames = decode_all(&bytes);
    let got: Vec<(&str, &HeaderValue)> = frames[0]
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v))
        .collect();
    let want: Vec<(&str, &HeaderValue)> = headers.iter().map(|(n, v)| (*n, v)).collect();
    assert_eq!(got, want);
    assert_eq!(frames[0].payload, b"payload");
}

#[test]
fn encoded_event_frames_carry_bedrock_headers() {
    let bytes = encode_event("contentBlockDelta", br#"{"contentBlockIndex":0}"#).unwrap();
    let f = &decode_all(&bytes)[0];
    assert_eq!(f.event_type.as_deref(), Some("contentBlockDelta"));
    assert_eq!(f.message_type.as_deref(), Some("event"));
    assert_eq!(f.as_frame().event, Some("contentBlockDelta"));
}

#[test]
fn frames_split_at_every_byte_boundary_decode_identically() {
    let mut stream = encode_event("messageStart", br#"{"role":"assistant"}"#).unwrap();
    stream.extend(encode_event("messageStop", br#"{"stopReason":"end_turn"}"#).unwrap());
    let whole = decode_all(&stream);
    assert_eq!(whole.len(), 2);
    for split in 0..=stream.len() {
        let mut d = EventStreamDecoder::new();
        let mut got = Vec::new();
        d.push(&stream[..split]);
        while let Some(f) = d.next_frame() {
            got.push(f.unwrap());
        }
        d.push(&stream[split..]);
        while let Some(f) = d.next_frame() {
            got.push(f.unwrap());
        }
        assert_eq!(got, whole, "split at {split}");
        assert_eq!(d.buffered(), 0);
        d.finish().unwrap();
    }
}

#[test]
fn byte_at_a_time_feeding_decodes_all_frames() {
    let mut stream = Vec::new();
    for i in 0..5 {
        stream.extend(
            encode_event("contentBlockDelta", format!("{{\"n\":{i}}}").as_bytes()).unwrap(),
        );
    }
    let mut d = EventStreamDecoder::new();
    let mut n = 0;
    for b in &stream {
        d.push(std::slice::from_ref(b));
        while let Some(f) = d.next_frame() {
            f.unwrap();
            n += 1;
        }
    }
    assert_eq!(n, 5);
    d.finish().unwrap();
}

#[test]
fn truncated_stream_is_reported_by_finish() {
    let bytes = encode_event("messageStop", br#"{"stopReason":"end_turn"}"#).unwrap();
    let mut d = EventStreamDecoder::new();
    d.push(&bytes[..bytes.len() - 3]);
    assert!(d.next_frame().is_none());
    assert_eq!(
        d.finish(),
        Err(EventStreamError::Truncated(bytes.len() - 3))
    );
    // A lone partial prelude is also truncation.
    let mut d = EventStreamDecoder::new();
    d.push(&bytes[..5]);
    assert!(d.next_frame().is_none());
    assert_eq!(d.finish(), Err(EventStreamError::Truncated(5)));
}

#[test]
fn corrupt_payload_fails_the_message_crc() {
    let mut bytes = encode_event("messageStop", br#"{"stopReason":"end_turn"}"#).unwrap();
    let n = bytes.len();
    bytes[n - 8] ^= 0x01;
    let mut d = EventStreamDecoder::new();
    d.push(&bytes);
    assert!(matches!(
        d.next_frame(),
        Some(Err(EventStreamError::MessageCrc { .. }))
    ));
    // Reported once, then the decoder stays failed and ignores input.
    assert!(d.next_frame().is_none());
    d.push(&encode_event("x", b"{}").unwrap());
    assert!(d.next_frame().is_none());
    assert!(d.has_failed());
    assert_eq!(d.finish(), Err(EventStreamError::Failed));
}

#[test]
fn corrupt_length_fails_the_prelude_crc_before_waiting_for_bytes() {
    let mut bytes = encode_event("messageStop", b"{}").unwrap();
    bytes[2] = 0x7f; // claims a ~8 MB message
    let mut d = EventStreamDecoder::new();
    d.push(&bytes[..12]);
    assert!(matches!(
        d.next_frame(),
        Some(Err(EventStreamError::PreludeCrc { .. }))
    ));
}

fn with_prelude(total: u32, headers: u32, rest: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&total.to_be_bytes());
    b.extend_from_slice(&headers.to_be_bytes());
    let c = crc32(&b);
    b.extend_from_slice(&c.to_be_bytes());
    b.extend_from_slice(rest);
    b
}

#[test]
fn impossible_lengths_are_errors() {
    let mut d = EventStreamDecoder::new();
    d.push(&with_prelude(8, 0, &[]));
    assert_eq!(
        d.next_frame(),
        Some(Err(EventStreamError::InvalidLength(8)))
    );

    let mut d = EventStreamDecoder::new();
    d.push(&with_prelude(u32::MAX, 0, &[]));
    assert_eq!(
        d.next_frame(),
        Some(Err(EventStreamError::InvalidLength(u32::MAX)))
    );

    let mut d = EventStreamDecoder::new();
    d.push(&with_prelude(20, 10, &[0; 8]));
    assert_eq!(
        d.next_frame(),
        Some(Err(EventStreamError::InvalidHeadersLength {
            headers: 10,
            total: 20
        }))
    );
}

fn with_headers(h: &[u8]) -> Vec<u8> {
    let total = (16 + h.len()) as u32;
    let mut b = with_prelude(total, h.len() as u32, h);
    let c = crc32(&b);
    b.extend_from_slice(&c.to_be_bytes());
    b
}

#[test]
fn malformed_headers_are_errors_not_panics() {
    let cases: Vec<Vec<u8>> = vec![
        vec![0],                            // empty name
        vec![5, b'a'],                      // name runs past the headers
        vec![1, b'a', 42],                  // unknown value type
        vec![1, b'a', 7, 0, 9, b'x'],       // string runs past the headers
        vec![1, b'a', 4, 0, 0],             // int32 cut short
        vec![1, b'a', 7, 0, 2, 0xff, 0xfe], // string not UTF-8
        vec![2, 0xc3, 0x28, 0],             // name not UTF-8
        vec![1, b'a'],                      // missing value type
    ];
    for h in cases {
        let mut d = EventStreamDecoder::new();
        d.push(&with_headers(&h));
        assert!(
            matches!(
                d.next_frame(),
                Some(Err(EventStreamError::InvalidHeader(_)))
            ),
            "headers {h:?}"
        );
    }
}

#[test]
fn arbitrary_garbage_never_panics() {
    // A deterministic pseudo-random walk over byte strings, including valid preludes with
    // garbage after them.
    let mut x: u32 = 0x1234_5678;
    for len in 0..200usize {
        let mut bytes = Vec::with_capacity(len);
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            bytes.push(x as u8);
        }
        let mut d = EventStreamDecoder::new();
        d.push(&bytes);
        while let Some(r) = d.next_frame() {
            if r.is_err() {
                break;
            }
        }
        let mut d = EventStreamDecoder::new();
        d.push(&with_prelude((16 + len) as u32, (len / 2) as u32, &bytes));
        d.push(&[0, 0, 0, 0]);
        while let Some(r) = d.next_frame() {
            if r.is_err() {
                break;
            }
        }
    }
}

#[test]
fn encoder_rejects_oversized_headers() {
    let long = "x".repeat(256);
    assert!(encode_message(&[(long.as_str(), HeaderValue::Bool(true))], b"").is_err());
    assert!(encode_message(&[("", HeaderValue::Bool(true))], b"").is_err());
    let big = HeaderValue::Bytes(vec![0; 70_000]);
    assert!(encode_message(&[("a", big)], b"").is_err());
}
