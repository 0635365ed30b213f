//! Native providers: translating the OpenAI request into the provider's wire format and the
//! provider's response, stream and errors back, around the provider-agnostic attempt loop.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use switchyard_providers::bedrock::EventStreamDecoder;
use switchyard_providers::native::{
    ChunkTranslator, Frame, NativeAdapter, ProviderOptions, StreamFraming, TranslateError,
    WireContext,
};
use switchyard_types::chat::{ChatChunk, ChatRequest};
use switchyard_types::embeddings::EmbeddingsRequest;
use switchyard_types::sse::SseDecoder;
use switchyard_types::{ErrorEnvelope, ErrorKind};

use super::stream::error_event_for;
use crate::error::GatewayError;
use crate::upstream::UpstreamBody;

/// Which translation a native call needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NativeOp {
    Chat,
    Embeddings,
}

/// Everything needed to translate one native call's response.
pub struct NativeCall {
    pub adapter: &'static dyn NativeAdapter,
    pub op: NativeOp,
    pub model: String,
    pub stream: bool,
    pub include_usage: bool,
    pub response_id: String,
    pub created: u64,
    pub options: ProviderOptions,
}

impl NativeCall {
    pub fn cx(&self) -> WireContext<'_> {
        WireContext {
            model: &self.model,
            stream: self.stream,
            include_usage: self.include_usage,
            response_id: &self.response_id,
            created: self.created,
            options: &self.options,
        }
    }

    /// Translates a whole 2xx response body to OpenAI JSON.
    pub fn translate_body(&self, body: &[u8]) -> Result<Bytes, GatewayError> {
        let cx = self.cx();
        let json = match self.op {
            NativeOp::Chat => serde_json::to_vec(
                &self
                    .adapter
                    .chat_response(body, &cx)
                    .map_err(translate_error)?,
            ),
            NativeOp::Embeddings => serde_json::to_vec(
                &self
                    .adapter
                    .embeddings_response(body, &cx)
                    .map_err(translate_error)?,
            ),
        };
        json.map(Bytes::from)
            .map_err(|e| GatewayError::Internal(format!("serialising the response: {e}")))
    }

    /// The OpenAI error for a non-2xx provider response.
    pub fn error(&self, status: u16, body: &[u8]) -> ErrorEnvelope {
        self.adapter.error_response(status, body)
    }
}

/// Parses an OpenAI request body into its typed form, naming the offending field on failure.
pub fn parse_typed<T: DeserializeOwned>(body: &[u8]) -> Result<T, GatewayError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        GatewayError::BadRequest {
            message: format!("invalid request for this provider: `{path}`: {inner}"),
            param: (path != ".").then_some(path),
        }
    })
}

/// The typed chat request and the model it names.
pub fn parse_chat(body: &[u8]) -> Result<ChatRequest, GatewayError> {
    parse_typed(body)
}

pub fn parse_embeddings(body: &[u8]) -> Result<EmbeddingsRequest, GatewayError> {
    parse_typed(body)
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Maps a translation failure to the gateway's error.
pub fn translate_error(e: TranslateError) -> GatewayError {
    match e {
        TranslateError::InvalidRequest { message, param } => {
            GatewayError::BadRequest { message, param }
        }
        TranslateError::InvalidResponse(m) => {
            GatewayError::UpstreamStream(format!("invalid response from the provider: {m}"))
        }
        TranslateError::Upstream { status, error } => GatewayError::Upstream {
            status: http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::BAD_GATEWAY),
            envelope: error,
        },
    }
}

enum Decoder {
    Sse(SseDecoder),
    Aws(Box<EventStreamDecoder>),
}

/// A provider's stream translated to OpenAI `chat.completion.chunk` events.
pub struct NativeStream {
    body: UpstreamBody,
    decoder: Decoder,
    translator: Box<dyn ChunkTranslator>,
    idle: Option<Duration>,
    out: VecDeque<Bytes>,
    /// A chunk with content, a tool call, a finish reason or usage has been produced.
    substantive: bool,
    finished: bool,
}

/// How a translated stream began.
pub enum NativeStart {
    Ok(NativeStream),
    Failed(GatewayError),
    TimedOut,
}

enum Step {
    /// More output queued (or the stream ended and final output is queued).
    Progress,
    Failed(GatewayError),
    TimedOut,
}

impl NativeStream {
    /// Reads until the first translated chunk, so an early provider error can still fall back.
    pub async fn start(
        call: &NativeCall,
        body: UpstreamBody,
        idle: Option<Duration>,
        hold: bool,
    ) -> NativeStart {
        let decoder = match call.adapter.stream_framing() {
            StreamFraming::Sse => Decoder::Sse(SseDecoder::default()),
            StreamFraming::AwsEventStream => Decoder::Aws(Box::default()),
        };
        let mut s = NativeStream {
            body,
            decoder,
            translator: call.adapter.chat_stream(&call.cx()),
            idle,
            out: VecDeque::new(),
            substantive: false,
            finished: false,
        };
        // Commit only once something worth sending is ready: a provider's opening frame (role
        // only) may still be followed by an error, and then the attempt can fall back.
        // With `hold` false, any first chunk commits.
        loop {
            let committed = s.substantive || (!hold && !s.out.is_empty());
            if committed || s.finished {
                break;
            }
            match s.step().await {
                Step::Progress => {}
                Step::Failed(e) => return NativeStart::Failed(e),
                Step::TimedOut => return NativeStart::TimedOut,
            }
        }
        NativeStart::Ok(s)
    }

    /// The next bytes for the client; `None` at the end.
    pub async fn next(&mut self) -> Option<Bytes> {
        loop {
            if let Some(b) = self.out.pop_front() {
                return Some(b);
            }
            if self.finished {
                return None;
            }
            match self.step().await {
                Step::Progress => {}
                Step::Failed(e) => {
                    self.finished = true;
                    return Some(error_event_for(&e.envelope()));
                }
                Step::TimedOut => {
                    self.finished = true;
                    let ms = self.idle.map(|d| d.as_millis()).unwrap_or_default();
                    let env = ErrorEnvelope::new(
                        ErrorKind::TimeoutError,
                        format!("upstream stream stalled for more than {ms}ms"),
                    )
                    .with_code("upstream_stream_error");
                    return Some(error_event_for(&env));
                }
            }
        }
    }

    /// Reads one upstream body frame and translates every complete provider frame in it.
    async fn step(&mut self) -> Step {
        let frame = match self.idle {
            Some(t) => match tokio::time::timeout(t, self.body.frame()).await {
                Ok(f) => f,
                Err(_) => return Step::TimedOut,
            },
            None => self.body.frame().await,
        };
        match frame {
            None => {
                self.finished = true;
                if let Decoder::Sse(dec) = &mut self.decoder {
                    if let Some(ev) = dec.finish() {
                        let f = Frame {
                            event: ev.event.as_deref(),
                            data: ev.data.as_bytes(),
                            message_type: None,
                        };
                        match on_frame(&mut *self.translator, f, &mut self.out) {
                            Ok(sub) => self.substantive |= sub,
                            Err(e) => return Step::Failed(e),
                        }
                    }
                }
                match self.translator.finish() {
                    Ok(chunks) => {
                        self.substantive |= push_chunks(&chunks, &mut self.out);
                        self.out.push_back(Bytes::from_static(b"data: [DONE]\n\n"));
                        Step::Progress
                    }
                    Err(e) => Step::Failed(translate_error(e)),
                }
            }
            Some(Err(e)) => Step::Failed(GatewayError::UpstreamStream(format!(
                "upstream stream failed: {e}"
            ))),
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else {
                    return Step::Progress;
                };
                match self.feed(&data) {
                    Ok(()) => Step::Progress,
                    Err(e) => Step::Failed(e),
                }
            }
        }
    }

    fn feed(&mut self, data: &[u8]) -> Result<(), GatewayError> {
        match &mut self.decoder {
            Decoder::Sse(dec) => {
                dec.push(data);
                while let Some(ev) = dec.next_event() {
                    let ev = ev.map_err(|e| {
                        GatewayError::UpstreamStream(format!("malformed event stream: {e}"))
                    })?;
                    let f = Frame {
                        event: ev.event.as_deref(),
                        data: ev.data.as_bytes(),
                        message_type: None,
                    };
                    self.substantive |= on_frame(&mut *self.translator, f, &mut self.out)?;
                }
            }
            Decoder::Aws(dec) => {
                dec.push(data);
                while let Some(frame) = dec.next_frame() {
                    let frame = frame.map_err(|e| {
                        GatewayError::UpstreamStream(format!("malformed AWS event stream: {e}"))
                    })?;
                    self.substantive |=
                        on_frame(&mut *self.translator, frame.as_frame(), &mut self.out)?;
                }
            }
        }
        Ok(())
    }
}

/// Translates one frame; returns whether it produced a substantive chunk.
fn on_frame(
    t: &mut dyn ChunkTranslator,
    f: Frame<'_>,
    out: &mut VecDeque<Bytes>,
) -> Result<bool, GatewayError> {
    let chunks = t.on_frame(f).map_err(translate_error)?;
    Ok(push_chunks(&chunks, out))
}

/// A chunk that says something: content, a tool call, a finish reason or usage (a role-only
/// opening chunk does not).
fn is_substantive(c: &ChatChunk) -> bool {
    c.usage.is_some()
        || c.choices.iter().any(|ch| {
            ch.finish_reason.is_some()
                || ch.delta.content.as_deref().is_some_and(|t| !t.is_empty())
                || ch.delta.tool_calls.as_ref().is_some_and(|t| !t.is_empty())
        })
}

/// Queues the chunks as SSE events; returns whether any is substantive.
fn push_chunks(chunks: &[ChatChunk], out: &mut VecDeque<Bytes>) -> bool {
    let substantive = chunks.iter().any(is_substantive);
    for c in chunks {
        if let Ok(json) = serde_json::to_vec(c) {
            let mut b = BytesMut::with_capacity(json.len() + 8);
            b.extend_from_slice(b"data: ");
            b.extend_from_slice(&json);
            b.extend_from_slice(b"\n\n");
            out.push_back(b.freeze());
        }
    }
    substantive
}
