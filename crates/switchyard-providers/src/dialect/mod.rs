//! Client dialects besides OpenAI chat completions, served through the chat path.
//!
//! A request in another API's shape (Anthropic Messages, OpenAI Responses) is translated to an
//! OpenAI [`ChatRequest`](switchyard_types::chat::ChatRequest) for any target that does not
//! speak that API natively; the target's answer — an OpenAI chat response or a stream of
//! `chat.completion.chunk`s, whatever provider produced it — is written back in the client's
//! dialect by the dialect's response translation and its [`ChunkEncoder`]. A target that does
//! speak the dialect natively (Claude for Messages) gets the client's body as sent, and its
//! stream is passed on by an [`EventRelay`].
//!
//! Everything here is pure, like the rest of this crate.

pub mod anthropic;
pub mod claude;
pub mod openai;
pub mod responses;

use switchyard_types::chat::ChatChunk;
use switchyard_types::usage::TokenUsage;
use switchyard_types::ErrorEnvelope;

use crate::native::{Frame, TranslateError};

/// Writes a stream of OpenAI chat chunks in a client dialect's event format. One per request.
///
/// The chunks it is given always carry usage when the provider reported it (the gateway asks
/// for it on its own account); the encoder decides whether its dialect shows it.
pub trait ChunkEncoder: Send {
    /// Appends the wire bytes for one chunk (possibly none) to `out`.
    fn chunk(&mut self, chunk: &ChatChunk, out: &mut Vec<u8>);
    /// The upstream stream ended normally: appends the closing events.
    fn finish(&mut self, out: &mut Vec<u8>);
    /// The stream failed after it was committed to the client: appends the dialect's error event.
    fn error(&mut self, error: &ErrorEnvelope, out: &mut Vec<u8>);
}

/// Passes a provider's native stream of the client's own dialect on to the client (re-framed
/// when the provider frames it differently), reading its usage and its errors on the way.
pub trait EventRelay: Send {
    /// Handles one upstream frame, appending the client's bytes to `out`. Returns whether the
    /// frame carried content (text, tool input, a stop reason): the first such frame commits
    /// the stream, so an error before it can still fall back. An error event in the stream is
    /// returned as [`TranslateError::Upstream`].
    fn on_frame(&mut self, frame: Frame<'_>, out: &mut Vec<u8>) -> Result<bool, TranslateError>;
    /// The upstream stream ended. An error means it ended before the provider said it was
    /// complete.
    fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), TranslateError>;
    /// The tokens reported so far.
    fn usage(&self) -> Option<TokenUsage>;
    /// Appends the dialect's error event, for a failure after the commit.
    fn error(&mut self, error: &ErrorEnvelope, out: &mut Vec<u8>);
}
