//! The one response body type of the gateway, with the completion guard that drives the
//! on-complete phase.
//!
//! Every response — a whole answer, an OpenAI stream forwarded event by event, a native stream
//! translated chunk by chunk, a pass-through body, an error — is a [`ResponseBody`]. It counts
//! the bytes it sends, runs the per-chunk taps on streams, and when it ends (its last frame was
//! produced) or is dropped early (the client went away, or the connection broke), it hands the
//! request's [`RequestRecord`] to the on-complete hooks, exactly once.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::OwnedSemaphorePermit;

use super::meter::RawMeter;
use super::{ChunkAction, Pipeline, RequestRecord, StreamTap};
use crate::engine::native::NativeStream;
use crate::engine::stream::EventForwarder;
use crate::upstream::UpstreamBody;

/// The error a pass-through body can end with (its upstream broke mid-body).
pub type BodyError = Box<dyn std::error::Error + Send + Sync>;

enum Inner {
    /// A whole body, not yet sent (`None` once sent).
    Full(Option<Bytes>),
    Events(Box<EventForwarder>),
    Native(Box<NativeStream>),
    /// A pass-through body, with the meter that reads its usage (when someone wants it).
    Raw(Box<UpstreamBody>, Option<Box<RawMeter>>),
}

/// What the on-complete phase needs, held by the body until it ends. The record is in the
/// `Arc` on-complete shares it in from the start (one allocation, as a box was); nothing else
/// holds it until then, so the body updates it in place.
struct Completion {
    record: Arc<RequestRecord>,
    pipeline: Arc<Pipeline>,
    taps: Vec<Box<dyn StreamTap>>,
}

impl Completion {
    /// The record, to update (always there: it is shared only on complete).
    fn record_mut(&mut self) -> Option<&mut RequestRecord> {
        Arc::get_mut(&mut self.record)
    }
}

/// A response body whose end (or early drop) completes the request in the pipeline.
pub struct ResponseBody {
    inner: Inner,
    completion: Option<Completion>,
    /// The load-shedding permit: a request counts as in flight until its body is over.
    _permit: Option<Arc<OwnedSemaphorePermit>>,
}

impl ResponseBody {
    pub fn full(bytes: Bytes) -> Self {
        ResponseBody::new(Inner::Full(Some(bytes)))
    }

    pub fn events(f: Box<EventForwarder>) -> Self {
        ResponseBody::new(Inner::Events(f))
    }

    pub fn native(s: Box<NativeStream>) -> Self {
        ResponseBody::new(Inner::Native(s))
    }

    pub fn raw(body: Box<UpstreamBody>, meter: Option<RawMeter>) -> Self {
        ResponseBody::new(Inner::Raw(body, meter.map(Box::new)))
    }

    fn new(inner: Inner) -> Self {
        ResponseBody {
            inner,
            completion: None,
            _permit: None,
        }
    }

    /// Completes `record` in `pipeline` when this body is over. Nothing is kept when no hook
    /// reads completed requests.
    pub fn complete_with(
        mut self,
        mut record: RequestRecord,
        pipeline: &Arc<Pipeline>,
        permit: Option<Arc<OwnedSemaphorePermit>>,
    ) -> Self {
        self._permit = permit;
        let taps = match self.inner {
            Inner::Raw(..) => Vec::new(),
            _ => pipeline.taps(&record),
        };
        if taps.is_empty() && !pipeline.has_on_complete() {
            return self;
        }
        if let Inner::Full(Some(b)) = &self.inner {
            record.bytes = b.len() as u64;
        }
        self.completion = Some(Completion {
            record: Arc::new(record),
            pipeline: pipeline.clone(),
            taps,
        });
        self
    }

    /// Runs the on-complete phase (once: the completion is taken).
    fn finish(&mut self, client_gone: bool) {
        let Some(mut c) = self.completion.take() else {
            return;
        };
        if let Some(r) = c.record_mut() {
            r.client_gone = client_gone;
            if let Inner::Raw(_, Some(m)) = &mut self.inner {
                r.usage = m.usage().or(r.usage);
            }
            r.duration = r.started.elapsed();
            match &self.inner {
                Inner::Events(f) => {
                    r.usage = f.usage().or(r.usage);
                    if let Some(e) = f.error() {
                        r.stream_error = Some(e.to_owned());
                    }
                }
                Inner::Native(s) => {
                    r.usage = s.usage().or(r.usage);
                    if let Some(e) = s.error() {
                        r.stream_error = Some(e.to_owned());
                    }
                }
                Inner::Full(_) | Inner::Raw(..) => {}
            }
        }
        c.pipeline.on_complete(&c.record);
    }

    /// Passes a chunk through the taps; `true` when a tap cut the stream.
    fn tap(&mut self, mut chunk: Bytes) -> (Bytes, bool) {
        let Some(c) = self.completion.as_mut() else {
            return (chunk, false);
        };
        for tap in &mut c.taps {
            match tap.on_chunk(chunk) {
                ChunkAction::Send(b) => chunk = b,
                ChunkAction::Cut(b) => return (b, true),
            }
        }
        (chunk, false)
    }

    fn has_taps(&self) -> bool {
        self.completion.as_ref().is_some_and(|c| !c.taps.is_empty())
    }

    /// A whole body through the taps, and what they hold at its end.
    fn tap_whole(&mut self, body: Bytes) -> Bytes {
        let (mut out, cut) = self.tap(body);
        if !cut {
            if let Some(rest) = self.drain_taps() {
                let mut joined = Vec::with_capacity(out.len() + rest.len());
                joined.extend_from_slice(&out);
                joined.extend_from_slice(&rest);
                out = Bytes::from(joined);
            }
        }
        if let Some(r) = self.completion.as_mut().and_then(Completion::record_mut) {
            r.bytes = out.len() as u64;
        }
        out
    }

    /// What the taps still hold at the end of the stream.
    fn drain_taps(&mut self) -> Option<Bytes> {
        let usage = match &self.inner {
            Inner::Events(f) => f.usage(),
            Inner::Native(s) => s.usage(),
            Inner::Full(_) | Inner::Raw(..) => None,
        };
        let c = self.completion.as_mut()?;
        let usage = usage.or(c.record.usage);
        let mut out = Vec::new();
        for tap in &mut c.taps {
            if let Some(b) = tap.on_end(usage) {
                out.extend_from_slice(&b);
            }
        }
        c.taps.clear();
        (!out.is_empty()).then(|| Bytes::from(out))
    }

    fn count(&mut self, n: usize) {
        if let Some(r) = self.completion.as_mut().and_then(Completion::record_mut) {
            r.bytes += n as u64;
        }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        loop {
            let next = match &mut this.inner {
                Inner::Full(b) => {
                    let b = b.take();
                    // A whole body passes the taps as one chunk, and is over once its one
                    // frame is out (hyper may not poll again after `is_end_stream`).
                    let b = match b {
                        Some(b) if this.has_taps() => Some(this.tap_whole(b)),
                        other => other,
                    };
                    this.finish(false);
                    return Poll::Ready(b.map(|b| Ok(Frame::data(b))));
                }
                Inner::Events(f) => ready!(f.poll_next(cx)),
                Inner::Native(s) => ready!(s.poll_next(cx)),
                Inner::Raw(body, meter) => match ready!(Pin::new(body.as_mut()).poll_frame(cx)) {
                    Some(Ok(frame)) => match frame.into_data() {
                        Ok(data) => {
                            if let Some(m) = meter {
                                m.feed(&data);
                            }
                            Some(data)
                        }
                        Err(trailers) => return Poll::Ready(Some(Ok(trailers))),
                    },
                    Some(Err(e)) => {
                        if let Some(r) = this.completion.as_mut().and_then(Completion::record_mut) {
                            r.stream_error = Some(format!("upstream body failed: {e}"));
                        }
                        this.finish(false);
                        return Poll::Ready(Some(Err(e)));
                    }
                    None => None,
                },
            };
            let Some(chunk) = next else {
                if let Some(rest) = this.drain_taps() {
                    this.count(rest.len());
                    return Poll::Ready(Some(Ok(Frame::data(rest))));
                }
                this.finish(false);
                return Poll::Ready(None);
            };
            let (chunk, cut) = this.tap(chunk);
            if cut {
                // The stream ends here: keep the record, drop the upstream.
                if let Some(r) = this.completion.as_mut().and_then(Completion::record_mut) {
                    r.stream_error = Some("cut by the pipeline".into());
                }
                this.count(chunk.len());
                this.finish(false);
                this.inner = Inner::Full(None);
                return Poll::Ready((!chunk.is_empty()).then(|| Ok(Frame::data(chunk))));
            }
            if chunk.is_empty() {
                continue;
            }
            this.count(chunk.len());
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Inner::Full(b) => b.is_none(),
            Inner::Raw(body, _) => body.is_end_stream(),
            Inner::Events(_) | Inner::Native(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Inner::Full(None) => SizeHint::with_exact(0),
            Inner::Raw(body, _) => body.size_hint(),
            Inner::Events(_) | Inner::Native(_) => SizeHint::default(),
        }
    }
}

impl Drop for ResponseBody {
    /// A body dropped before it ended: the client went away (or the connection broke) while
    /// the response was still going out.
    fn drop(&mut self) {
        if self.completion.is_some() {
            let gone = match &self.inner {
                Inner::Full(b) => b.as_ref().is_some_and(|b| !b.is_empty()),
                _ => true,
            };
            self.finish(gone);
        }
    }
}
