//! Native providers: translating the OpenAI request into the provider's wire format and the
//! provider's response, stream and errors back, around the provider-agnostic attempt loop.

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use http_body::Body as _;
use serde::de::DeserializeOwned;
use switchyard_providers::bedrock::EventStreamDecoder;
use switchyard_providers::dialect::{self, ChunkEncoder, EventRelay};
use switchyard_providers::native::{
    ChunkTranslator, Frame, NativeAdapter, ProviderOptions, StreamFraming, TranslateError,
    WireContext,
};
use switchyard_types::chat::{ChatChunk, ChatRequest};
use switchyard_types::embeddings::EmbeddingsRequest;
use switchyard_types::sse::SseDecoder;
use switchyard_types::usage::{scan_body, TokenUsage};
use switchyard_types::{ErrorEnvelope, ErrorKind};
use tokio::time::{Instant, Sleep};

use super::stream::{error_event_for, StreamLimits};
use crate::error::GatewayError;
use crate::upstream::UpstreamBody;

/// Which translation a native call needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NativeOp {
    Chat,
    /// `/v1/completions` (never streamed: refused before the call is made).
    Completions,
    Embeddings,
    Images,
    /// Rerank, in Cohere's shape (`switchyard_providers::rerank`).
    Rerank,
}

/// The shape a call's answer is given to the client in.
#[derive(Debug, Clone)]
pub enum Shape {
    /// OpenAI's (chat completion, embeddings).
    OpenAi,
    /// Anthropic's Messages, written from the chat answer (`dialect::anthropic`).
    Messages,
    /// A Response object or event stream, written from the chat answer (`dialect::responses`).
    Responses(Arc<ResponseOut>),
    /// The provider's own answer, already in the client's dialect: a whole body passes as it
    /// is, a stream is relayed.
    Relay(Relay),
    /// Bedrock's `CountTokens` answer, in Anthropic's `count_tokens` shape.
    BedrockTokenCount,
}

/// What a Response written from a chat answer repeats of its request.
#[derive(Debug)]
pub struct ResponseOut {
    pub id: String,
    pub created_at: u64,
    pub echo: dialect::responses::Echo,
}

/// Which relay passes a provider's native stream on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relay {
    /// Anthropic's SSE (api.anthropic.com, Vertex AI `:streamRawPredict`).
    AnthropicSse,
    /// Bedrock's `InvokeModelWithResponseStream` of a Claude model.
    BedrockClaude,
}

/// Portkey's `strict_open_ai_compliance` for one request to one target: true unless the
/// target's config or the client's `x-portkey-strict-open-ai-compliance` header says `false`.
pub fn strict_compliance(target: Option<bool>, client_headers: &http::HeaderMap) -> bool {
    target != Some(false)
        && !client_headers
            .get("x-portkey-strict-open-ai-compliance")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"false"))
}

/// Everything needed to translate one native call's response.
pub struct NativeCall {
    pub adapter: &'static dyn NativeAdapter,
    pub op: NativeOp,
    pub shape: Shape,
    pub model: String,
    pub stream: bool,
    pub include_usage: bool,
    pub response_id: String,
    pub created: u64,
    pub options: ProviderOptions,
    /// [`WireContext::strict`].
    pub strict: bool,
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
            strict: self.strict,
        }
    }

    /// Translates a whole 2xx response body to OpenAI JSON.
    /// Translates a whole 2xx response body to OpenAI JSON, with the usage it reports.
    pub fn translate_body(&self, body: &[u8]) -> Result<(Bytes, Option<TokenUsage>), GatewayError> {
        let cx = self.cx();
        let (json, usage) = match (self.op, &self.shape) {
            (_, Shape::BedrockTokenCount) => {
                let bytes =
                    dialect::claude::bedrock_count_response(body).map_err(translate_error)?;
                return Ok((Bytes::from(bytes), None));
            }
            (_, Shape::Relay(_)) => {
                // Already the client's shape: checked to be JSON, its usage read.
                let usage = scan_body(body).map_err(|_| {
                    GatewayError::UpstreamStream(
                        "the upstream answered 2xx with a body that is not valid JSON".into(),
                    )
                })?;
                return Ok((Bytes::copy_from_slice(body), usage));
            }
            (NativeOp::Chat, shape) => {
                let resp = self
                    .adapter
                    .chat_response(body, &cx)
                    .map_err(translate_error)?;
                let usage = resp.usage.as_ref().map(TokenUsage::from);
                match shape {
                    Shape::Messages => {
                        let bytes = dialect::anthropic::response_from_chat(&resp)
                            .map_err(translate_error)?;
                        return Ok((Bytes::from(bytes), usage));
                    }
                    Shape::Responses(out) => {
                        let object = dialect::responses::response_from_chat(
                            &resp,
                            &out.echo,
                            &out.id,
                            out.created_at,
                        )
                        .map_err(translate_error)?;
                        (serde_json::to_vec(&object), usage)
                    }
                    _ => (serde_json::to_vec(&resp), usage),
                }
            }
            (NativeOp::Completions, _) => {
                let resp = self
                    .adapter
                    .completions_response(body, &cx)
                    .map_err(translate_error)?;
                let usage = resp.usage.as_ref().map(TokenUsage::from);
                (serde_json::to_vec(&resp), usage)
            }
            (NativeOp::Images, _) => {
                let resp = self
                    .adapter
                    .images_response(body, &cx)
                    .map_err(translate_error)?;
                (serde_json::to_vec(&resp), None)
            }
            (NativeOp::Rerank, _) => {
                let resp = self
                    .adapter
                    .rerank_response(body, &cx)
                    .map_err(translate_error)?;
                let usage = resp.token_usage();
                (serde_json::to_vec(&resp), usage)
            }
            (NativeOp::Embeddings, _) => {
                let resp = self
                    .adapter
                    .embeddings_response(body, &cx)
                    .map_err(translate_error)?;
                (
                    serde_json::to_vec(&resp),
                    Some(TokenUsage::from(&resp.usage)),
                )
            }
        };
        json.map(|j| (Bytes::from(j), usage))
            .map_err(|e| GatewayError::Internal(format!("serialising the response: {e}")))
    }

    /// The OpenAI error for a non-2xx provider response, typed by the response header the
    /// adapter names (Bedrock's `x-amzn-ErrorType`) when it names one.
    pub fn error(&self, status: u16, headers: &http::HeaderMap, body: &[u8]) -> ErrorEnvelope {
        let error_type = self
            .adapter
            .error_type_header()
            .and_then(|name| headers.get(name))
            .and_then(|v| v.to_str().ok());
        self.adapter.error_response_typed(status, error_type, body)
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
    source: Source,
    idle: Duration,
    /// The commit deadline, then the idle bound (reset by every frame).
    timer: Pin<Box<Sleep>>,
    committed: bool,
    out: Output,
    finished: bool,
    error: Option<String>,
}

/// What reads the provider's frames.
enum Source {
    /// Frames become chat chunks (written out by [`Output`]).
    Chat(Box<dyn ChunkTranslator>),
    /// Frames are already the client's dialect: passed on (re-framed when needed).
    Relay(Box<dyn EventRelay>),
}

/// Translated chunks waiting to be sent.
struct Output {
    /// Writes chunks in the client's dialect (`None`: OpenAI's `data:` events).
    encoder: Option<Box<dyn ChunkEncoder>>,
    queue: VecDeque<Bytes>,
    /// Bytes queued (bounded before the commit by `max_held`).
    bytes: usize,
    /// A chunk with content, a tool call, a finish reason or usage has been produced.
    substantive: bool,
    /// The client asked for usage (`stream_options.include_usage`); the translator always
    /// reports it, for the gateway's own accounting.
    client_usage: bool,
    usage: Option<TokenUsage>,
}

/// How a translated stream began.
pub enum NativeStart {
    Ok(Box<NativeStream>),
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
        limits: StreamLimits,
        hold: bool,
    ) -> NativeStart {
        let decoder = match call.adapter.stream_framing() {
            StreamFraming::Sse => Decoder::Sse(SseDecoder::default()),
            StreamFraming::AwsEventStream => Decoder::Aws(Box::default()),
        };
        let mut cx = call.cx();
        cx.include_usage = true;
        let (source, encoder) = match &call.shape {
            Shape::Relay(Relay::AnthropicSse) => {
                (Source::Relay(dialect::anthropic::sse_relay()), None)
            }
            Shape::Relay(Relay::BedrockClaude) => {
                (Source::Relay(dialect::anthropic::bedrock_relay()), None)
            }
            Shape::Messages => (
                Source::Chat(call.adapter.chat_stream(&cx)),
                Some(dialect::anthropic::encoder()),
            ),
            Shape::Responses(out) => (
                Source::Chat(call.adapter.chat_stream(&cx)),
                Some(dialect::responses::encoder(
                    out.echo.clone(),
                    out.id.clone(),
                    out.created_at,
                )),
            ),
            Shape::OpenAi | Shape::BedrockTokenCount => {
                (Source::Chat(call.adapter.chat_stream(&cx)), None)
            }
        };
        let mut s = Box::new(NativeStream {
            body,
            decoder,
            source,
            idle: limits.idle,
            timer: Box::pin(tokio::time::sleep_until(limits.commit_by)),
            committed: false,
            out: Output {
                encoder,
                queue: VecDeque::new(),
                bytes: 0,
                substantive: false,
                client_usage: call.include_usage,
                usage: None,
            },
            finished: false,
            error: None,
        });
        // Commit only once something worth sending is ready: a provider's opening frame (role
        // only) may still be followed by an error, and then the attempt can fall back.
        // With `hold` false, any first chunk commits; past `max_held` queued bytes, too.
        loop {
            let committed = s.out.substantive
                || (!s.out.queue.is_empty() && (!hold || s.out.bytes > limits.max_held));
            if committed || s.finished {
                break;
            }
            match poll_fn(|cx| s.poll_step(cx)).await {
                Step::Progress => {}
                Step::Failed(e) => return NativeStart::Failed(e),
                Step::TimedOut => return NativeStart::TimedOut,
            }
        }
        s.committed = true;
        let next = Instant::now() + s.idle;
        s.timer.as_mut().reset(next);
        NativeStart::Ok(s)
    }

    /// Tokens the provider reported, if it did.
    pub fn usage(&self) -> Option<TokenUsage> {
        self.out.usage
    }

    /// Why the stream ended badly, if it did.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The next bytes for the client; `None` at the end.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        loop {
            if let Some(b) = self.out.queue.pop_front() {
                self.out.bytes -= b.len();
                return Poll::Ready(Some(b));
            }
            if self.finished {
                return Poll::Ready(None);
            }
            match ready!(self.poll_step(cx)) {
                Step::Progress => {}
                Step::Failed(e) => {
                    self.finished = true;
                    self.error = Some(e.to_string());
                    return Poll::Ready(Some(self.error_event(&e.envelope())));
                }
                Step::TimedOut => {
                    self.finished = true;
                    let ms = self.idle.as_millis();
                    let msg = format!("upstream stream stalled for more than {ms}ms");
                    let env = ErrorEnvelope::new(ErrorKind::TimeoutError, msg.clone())
                        .with_code("upstream_stream_error");
                    self.error = Some(msg);
                    return Poll::Ready(Some(self.error_event(&env)));
                }
            }
        }
    }

    /// Reads one upstream body frame and translates every complete provider frame in it.
    fn poll_step(&mut self, cx: &mut Context<'_>) -> Poll<Step> {
        let frame = match Pin::new(&mut self.body).poll_frame(cx) {
            Poll::Ready(f) => f,
            Poll::Pending => {
                ready!(self.timer.as_mut().poll(cx));
                return Poll::Ready(Step::TimedOut);
            }
        };
        if self.committed {
            let next = Instant::now() + self.idle;
            self.timer.as_mut().reset(next);
        }
        Poll::Ready(match frame {
            None => {
                self.finished = true;
                if let Decoder::Sse(dec) = &mut self.decoder {
                    if let Some(ev) = dec.finish() {
                        let f = Frame {
                            event: ev.event.as_deref(),
                            data: ev.data.as_bytes(),
                            message_type: None,
                        };
                        if let Err(e) = self.on_frame(f) {
                            return Poll::Ready(Step::Failed(e));
                        }
                    }
                }
                match self.end() {
                    Ok(()) => Step::Progress,
                    Err(e) => Step::Failed(e),
                }
            }
            Some(Err(e)) => Step::Failed(GatewayError::UpstreamStream(format!(
                "upstream stream failed: {e}"
            ))),
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => match self.feed(&data) {
                    Ok(()) => Step::Progress,
                    Err(e) => Step::Failed(e),
                },
                Err(_) => Step::Progress,
            },
        })
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
                    Self::take(&mut self.source, &mut self.out, f)?;
                }
            }
            Decoder::Aws(dec) => {
                dec.push(data);
                while let Some(frame) = dec.next_frame() {
                    let frame = frame.map_err(|e| {
                        GatewayError::UpstreamStream(format!("malformed AWS event stream: {e}"))
                    })?;
                    Self::take(&mut self.source, &mut self.out, frame.as_frame())?;
                }
            }
        }
        Ok(())
    }

    fn on_frame(&mut self, f: Frame<'_>) -> Result<(), GatewayError> {
        Self::take(&mut self.source, &mut self.out, f)
    }

    /// One provider frame, through the source into the output.
    fn take(source: &mut Source, out: &mut Output, f: Frame<'_>) -> Result<(), GatewayError> {
        match source {
            Source::Chat(t) => {
                let chunks = t.on_frame(f).map_err(translate_error)?;
                out.push_chunks(chunks);
            }
            Source::Relay(r) => {
                let mut buf = Vec::new();
                let content = r.on_frame(f, &mut buf).map_err(translate_error)?;
                out.substantive |= content;
                out.usage = r.usage().or(out.usage);
                out.push_vec(buf);
            }
        }
        Ok(())
    }

    /// The provider's stream ended: its final output, and the client's closing events.
    fn end(&mut self) -> Result<(), GatewayError> {
        match &mut self.source {
            Source::Chat(t) => {
                let chunks = t.finish().map_err(translate_error)?;
                self.out.push_chunks(chunks);
                match &mut self.out.encoder {
                    Some(enc) => {
                        let mut buf = Vec::new();
                        enc.finish(&mut buf);
                        self.out.push_vec(buf);
                    }
                    None => self.out.push(Bytes::from_static(b"data: [DONE]\n\n")),
                }
            }
            Source::Relay(r) => {
                let mut buf = Vec::new();
                r.finish(&mut buf).map_err(translate_error)?;
                self.out.usage = r.usage().or(self.out.usage);
                self.out.push_vec(buf);
            }
        }
        Ok(())
    }

    /// The client's error event for a failure after the commit, in its dialect.
    fn error_event(&mut self, env: &ErrorEnvelope) -> Bytes {
        let mut buf = Vec::new();
        match (&mut self.source, &mut self.out.encoder) {
            (Source::Relay(r), _) => r.error(env, &mut buf),
            (Source::Chat(_), Some(enc)) => enc.error(env, &mut buf),
            (Source::Chat(_), None) => return error_event_for(env),
        }
        Bytes::from(buf)
    }
}

impl Output {
    fn push(&mut self, b: Bytes) {
        self.bytes += b.len();
        self.queue.push_back(b);
    }

    /// Queues the chunks as SSE events, taking their usage for the gateway's record. Usage the
    /// client did not ask for is not sent: a usage-only chunk is dropped, and usage on a content
    /// chunk is removed from it.
    fn push_vec(&mut self, buf: Vec<u8>) {
        if !buf.is_empty() {
            self.push(Bytes::from(buf));
        }
    }

    fn push_chunks(&mut self, chunks: Vec<ChatChunk>) {
        for mut c in chunks {
            self.substantive |= is_substantive(&c);
            if let Some(u) = &c.usage {
                self.usage = Some(TokenUsage::from(u));
            }
            if let Some(enc) = &mut self.encoder {
                // The dialect decides what of the usage it shows.
                let mut buf = Vec::new();
                enc.chunk(&c, &mut buf);
                self.push_vec(buf);
                continue;
            }
            // Usage the client did not ask for is not sent.
            if c.usage.is_some() && !self.client_usage {
                if c.choices.is_empty() {
                    continue;
                }
                c.usage = None;
            }
            if let Ok(json) = serde_json::to_vec(&c) {
                let mut b = BytesMut::with_capacity(json.len() + 8);
                b.extend_from_slice(b"data: ");
                b.extend_from_slice(&json);
                b.extend_from_slice(b"\n\n");
                self.push(b.freeze());
            }
        }
    }
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
