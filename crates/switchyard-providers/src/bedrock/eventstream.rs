//! AWS event-stream framing (`application/vnd.amazon.eventstream`), as Bedrock's
//! `ConverseStream` and `InvokeModelWithResponseStream` send it.
//!
//! A message is
//!
//! ```text
//! total length (u32 BE) | headers length (u32 BE) | prelude CRC32 (of the first 8 bytes)
//! headers (name len u8, name, value type u8, value) ...
//! payload
//! message CRC32 (of everything before it)
//! ```
//!
//! Both CRCs are IEEE CRC-32 (the gzip one). Spec: "Event stream encoding",
//! <https://docs.aws.amazon.com/lexv2/latest/dg/event-stream-encoding.html> and
//! <https://docs.aws.amazon.com/transcribe/latest/dg/event-stream.html>; header value types follow
//! the reference implementation (`awslabs/aws-c-event-stream`, `aws-smithy-eventstream`).
//!
//! [`EventStreamDecoder`] is incremental: [`push`](EventStreamDecoder::push) bytes as they arrive
//! and drain [`next_frame`](EventStreamDecoder::next_frame). A corrupt message (bad CRC, impossible
//! lengths, malformed headers) is an error, never a panic; after an error the decoder refuses all
//! further input, because a byte stream that lost its framing cannot be resynchronised.

use crate::native::Frame;

/// Prelude (two lengths + CRC) size.
const PRELUDE_LEN: usize = 12;
/// Prelude plus the trailing message CRC: the smallest possible message.
const MIN_MESSAGE_LEN: usize = 16;
/// The largest message AWS sends (16 MiB, `AWS_EVENT_STREAM_MAX_MESSAGE_SIZE`).
pub const MAX_MESSAGE_LEN: usize = 16 * 1024 * 1024;
/// The largest headers section (128 KiB, `AWS_EVENT_STREAM_MAX_HEADERS_SIZE`).
pub const MAX_HEADERS_LEN: usize = 128 * 1024;

/// Why a byte stream is not a valid event stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventStreamError {
    #[error("event-stream prelude CRC mismatch (frame says {expected:#010x}, computed {computed:#010x})")]
    PreludeCrc { expected: u32, computed: u32 },
    #[error("event-stream message CRC mismatch (frame says {expected:#010x}, computed {computed:#010x})")]
    MessageCrc { expected: u32, computed: u32 },
    #[error("invalid event-stream message length {0}")]
    InvalidLength(u32),
    #[error("invalid event-stream headers length {headers} in a message of {total} bytes")]
    InvalidHeadersLength { headers: u32, total: u32 },
    #[error("malformed event-stream header: {0}")]
    InvalidHeader(String),
    #[error("event stream ended inside a message ({0} bytes left undecoded)")]
    Truncated(usize),
    #[error("event stream already failed; no further input is decoded")]
    Failed,
}

/// A typed header value (types 0–9 of the encoding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderValue {
    Bool(bool),
    Byte(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Bytes(Vec<u8>),
    String(String),
    /// Milliseconds since the Unix epoch.
    Timestamp(i64),
    Uuid([u8; 16]),
}

impl HeaderValue {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            HeaderValue::String(s) => Some(s),
            _ => None,
        }
    }
}

/// One decoded message, owning its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedFrame {
    /// `:event-type` (for `:message-type` `event`).
    pub event_type: Option<String>,
    /// `:message-type`: `event`, `exception` or `error`.
    pub message_type: Option<String>,
    /// `:exception-type` (for `:message-type` `exception`).
    pub exception_type: Option<String>,
    /// `:error-code` (for `:message-type` `error`).
    pub error_code: Option<String>,
    /// `:error-message` (for `:message-type` `error`).
    pub error_message: Option<String>,
    /// Every header, in wire order.
    pub headers: Vec<(String, HeaderValue)>,
    pub payload: Vec<u8>,
}

impl OwnedFrame {
    /// The first header named `name`.
    pub fn header(&self, name: &str) -> Option<&HeaderValue> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The frame as an adapter sees it: `event` is `:event-type`, else `:exception-type`, else
    /// `:error-code`.
    pub fn as_frame(&self) -> Frame<'_> {
        Frame {
            event: self
                .event_type
                .as_deref()
                .or(self.exception_type.as_deref())
                .or(self.error_code.as_deref()),
            data: &self.payload,
            message_type: self.message_type.as_deref(),
        }
    }
}

/// Incremental event-stream decoder.
#[derive(Debug, Default)]
pub struct EventStreamDecoder {
    buf: Vec<u8>,
    /// Start of the undecoded bytes in `buf`.
    pos: usize,
    failed: bool,
}

impl EventStreamDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends received bytes. Ignored once the decoder has failed.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.failed {
            return;
        }
        if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet decoded into a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Whether a corrupt message stopped the decoder.
    pub fn has_failed(&self) -> bool {
        self.failed
    }

    /// The next complete message: `None` when more bytes are needed (or after a failure, which
    /// is reported once), `Some(Err)` for a corrupt message.
    pub fn next_frame(&mut self) -> Option<Result<OwnedFrame, EventStreamError>> {
        if self.failed {
            return None;
        }
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        match decode_message(rest) {
            Ok(None) => None,
            Ok(Some((frame, used))) => {
                self.pos += used;
                if self.pos == self.buf.len() {
                    self.buf.clear();
                    self.pos = 0;
                }
                Some(Ok(frame))
            }
            Err(e) => {
                self.failed = true;
                self.buf = Vec::new();
                self.pos = 0;
                Some(Err(e))
            }
        }
    }

    /// Call when the byte stream has ended: an error if it stopped inside a message or the
    /// decoder failed earlier.
    pub fn finish(&self) -> Result<(), EventStreamError> {
        if self.failed {
            return Err(EventStreamError::Failed);
        }
        match self.buffered() {
            0 => Ok(()),
            n => Err(EventStreamError::Truncated(n)),
        }
    }
}

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Decodes one message from the start of `b`: `Ok(None)` if incomplete, else the frame and the
/// number of bytes it used.
fn decode_message(b: &[u8]) -> Result<Option<(OwnedFrame, usize)>, EventStreamError> {
    let (Some(total), Some(headers_len), Some(prelude_crc)) =
        (be_u32(b, 0), be_u32(b, 4), be_u32(b, 8))
    else {
        return Ok(None);
    };
    let computed = crc32(b.get(..8).unwrap_or_default());
    if computed != prelude_crc {
        return Err(EventStreamError::PreludeCrc {
            expected: prelude_crc,
            computed,
        });
    }
    let total_len = total as usize;
    if !(MIN_MESSAGE_LEN..=MAX_MESSAGE_LEN).contains(&total_len) {
        return Err(EventStreamError::InvalidLength(total));
    }
    let hlen = headers_len as usize;
    if hlen > MAX_HEADERS_LEN || hlen > total_len - MIN_MESSAGE_LEN {
        return Err(EventStreamError::InvalidHeadersLength {
            headers: headers_len,
            total,
        });
    }
    let Some(message) = b.get(..total_len) else {
        return Ok(None);
    };
    let crc_at = total_len - 4;
    let expected = be_u32(message, crc_at).unwrap_or_default();
    let computed = crc32(message.get(..crc_at).unwrap_or_default());
    if computed != expected {
        return Err(EventStreamError::MessageCrc { expected, computed });
    }
    let headers = parse_headers(
        message
            .get(PRELUDE_LEN..PRELUDE_LEN + hlen)
            .unwrap_or_default(),
    )?;
    let payload = message
        .get(PRELUDE_LEN + hlen..crc_at)
        .unwrap_or_default()
        .to_vec();
    let text = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_str())
            .map(str::to_owned)
    };
    let frame = OwnedFrame {
        event_type: text(":event-type"),
        message_type: text(":message-type"),
        exception_type: text(":exception-type"),
        error_code: text(":error-code"),
        error_message: text(":error-message"),
        headers,
        payload,
    };
    Ok(Some((frame, total_len)))
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], EventStreamError> {
        let s = self
            .b
            .get(self.at..self.at.saturating_add(n))
            .ok_or_else(|| {
                EventStreamError::InvalidHeader(format!("{what} runs past the headers"))
            })?;
        self.at += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], EventStreamError> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }
}

fn parse_headers(b: &[u8]) -> Result<Vec<(String, HeaderValue)>, EventStreamError> {
    let mut r = Reader { b, at: 0 };
    let mut out = Vec::new();
    while r.at < b.len() {
        let [name_len] = r.array::<1>("header name length")?;
        if name_len == 0 {
            return Err(EventStreamError::InvalidHeader("empty header name".into()));
        }
        let name = std::str::from_utf8(r.take(name_len as usize, "header name")?)
            .map_err(|_| EventStreamError::InvalidHeader("header name is not UTF-8".into()))?
            .to_owned();
        let [kind] = r.array::<1>("header value type")?;
        let value = match kind {
            0 => HeaderValue::Bool(true),
            1 => HeaderValue::Bool(false),
            2 => HeaderValue::Byte(i8::from_be_bytes(r.array::<1>("byte value")?)),
            3 => HeaderValue::Int16(i16::from_be_bytes(r.array::<2>("int16 value")?)),
            4 => HeaderValue::Int32(i32::from_be_bytes(r.array::<4>("int32 value")?)),
            5 => HeaderValue::Int64(i64::from_be_bytes(r.array::<8>("int64 value")?)),
            6 | 7 => {
                let len = u16::from_be_bytes(r.array::<2>("value length")?) as usize;
                let bytes = r.take(len, "header value")?;
                if kind == 6 {
                    HeaderValue::Bytes(bytes.to_vec())
                } else {
                    HeaderValue::String(
                        std::str::from_utf8(bytes)
                            .map_err(|_| {
                                EventStreamError::InvalidHeader(format!(
                                    "value of {name} is not UTF-8"
                                ))
                            })?
                            .to_owned(),
                    )
                }
            }
            8 => HeaderValue::Timestamp(i64::from_be_bytes(r.array::<8>("timestamp value")?)),
            9 => HeaderValue::Uuid(r.array::<16>("uuid value")?),
            other => {
                return Err(EventStreamError::InvalidHeader(format!(
                    "unknown value type {other} for {name}"
                )))
            }
        };
        out.push((name, value));
    }
    Ok(out)
}

/// Encodes one message (for mock upstreams and tests). Fails only if a header name is longer than
/// 255 bytes, a value longer than 65535 bytes, or the message larger than [`MAX_MESSAGE_LEN`].
pub fn encode_message(
    headers: &[(&str, HeaderValue)],
    payload: &[u8],
) -> Result<Vec<u8>, EventStreamError> {
    let mut h = Vec::new();
    for (name, value) in headers {
        let name_len = u8::try_from(name.len())
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| EventStreamError::InvalidHeader(format!("bad header name {name:?}")))?;
        h.push(name_len);
        h.extend_from_slice(name.as_bytes());
        let var = |h: &mut Vec<u8>, kind: u8, bytes: &[u8]| -> Result<(), EventStreamError> {
            let len = u16::try_from(bytes.len())
                .map_err(|_| EventStreamError::InvalidHeader(format!("{name} value too long")))?;
            h.push(kind);
            h.extend_from_slice(&len.to_be_bytes());
            h.extend_from_slice(bytes);
            Ok(())
        };
        match value {
            HeaderValue::Bool(true) => h.push(0),
            HeaderValue::Bool(false) => h.push(1),
            HeaderValue::Byte(v) => {
                h.push(2);
                h.extend_from_slice(&v.to_be_bytes());
            }
            HeaderValue::Int16(v) => {
                h.push(3);
                h.extend_from_slice(&v.to_be_bytes());
            }
            HeaderValue::Int32(v) => {
                h.push(4);
                h.extend_from_slice(&v.to_be_bytes());
            }
            HeaderValue::Int64(v) => {
                h.push(5);
                h.extend_from_slice(&v.to_be_bytes());
            }
            HeaderValue::Bytes(v) => var(&mut h, 6, v)?,
            HeaderValue::String(v) => var(&mut h, 7, v.as_bytes())?,
            HeaderValue::Timestamp(v) => {
                h.push(8);
                h.extend_from_slice(&v.to_be_bytes());
            }
            HeaderValue::Uuid(v) => {
                h.push(9);
                h.extend_from_slice(v);
            }
        }
    }
    let total = MIN_MESSAGE_LEN + h.len() + payload.len();
    if total > MAX_MESSAGE_LEN || h.len() > MAX_HEADERS_LEN {
        return Err(EventStreamError::InvalidLength(
            u32::try_from(total).unwrap_or(u32::MAX),
        ));
    }
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(h.len() as u32).to_be_bytes());
    let prelude_crc = crc32(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(payload);
    let message_crc = crc32(&out);
    out.extend_from_slice(&message_crc.to_be_bytes());
    Ok(out)
}

/// An `event` message as Bedrock sends it (`:event-type`, `:content-type: application/json`,
/// `:message-type: event`).
pub fn encode_event(event_type: &str, payload: &[u8]) -> Result<Vec<u8>, EventStreamError> {
    encode_message(
        &[
            (":event-type", HeaderValue::String(event_type.into())),
            (
                ":content-type",
                HeaderValue::String("application/json".into()),
            ),
            (":message-type", HeaderValue::String("event".into())),
        ],
        payload,
    )
}

/// An `exception` message (`:exception-type`, `:message-type: exception`).
pub fn encode_exception(exception_type: &str, payload: &[u8]) -> Result<Vec<u8>, EventStreamError> {
    encode_message(
        &[
            (":message-type", HeaderValue::String("exception".into())),
            (
                ":exception-type",
                HeaderValue::String(exception_type.into()),
            ),
            (
                ":content-type",
                HeaderValue::String("application/json".into()),
            ),
        ],
        payload,
    )
}

const CRC_TABLE: [u32; 256] = crc_table();

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

/// IEEE CRC-32 (reflected, polynomial 0x04C11DB7), as gzip and the event-stream encoding use.
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c = CRC_TABLE[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

#[cfg(test)]
#[path = "tests/eventstream.rs"]
mod tests;
