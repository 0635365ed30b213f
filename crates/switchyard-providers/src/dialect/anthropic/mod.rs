//! Anthropic Messages (`POST /v1/messages`) as a client dialect.
//!
//! A client speaking Anthropic's Messages API (the Anthropic SDKs, Claude Code) is served by any
//! target: for a Claude target the body goes through as sent and the provider's own stream is
//! passed on ([`sse_relay`] for api.anthropic.com and Vertex AI, [`bedrock_relay`] for Bedrock's
//! `InvokeModelWithResponseStream`); for every other target the request becomes an OpenAI chat
//! request ([`request_to_chat`]) and the chat answer is written back as a Messages answer
//! ([`response_from_chat`], [`encoder`]). Errors are written in Anthropic's shape
//! ([`error_body`]).
//!
//! # Request: Messages -> chat completions
//!
//! - `model`, `temperature`, `top_p`, `max_tokens` (optional here) are copied;
//!   `stop_sequences` -> `stop`; `metadata.user_id` -> `user`.
//! - `stream: true` -> `stream: true` with `stream_options.include_usage: true`.
//! - `system` (a string, or text blocks joined with `\n`) -> one leading `system` message.
//! - User content: `text` -> text part; `image` with a `base64` source -> an `image_url` part
//!   holding `data:<media_type>;base64,<data>`, with a `url` source -> that URL; `document` with
//!   a `base64` source (PDF) -> a `file` part `{"file_data": "data:application/pdf;base64,…",
//!   "filename": <title or "document.pdf">}`, with a `text` source -> a text part of its data,
//!   with a `content` source -> a text part of its text blocks; `search_result` -> a text part of
//!   its text blocks.
//! - `tool_result` blocks -> one `tool` message each (`tool_call_id` = `tool_use_id`, content =
//!   the string, or the result's text blocks joined with `\n`; images inside are dropped), in
//!   order and before the rest of that user message. `is_error` changes nothing.
//! - Assistant content: text blocks joined with `\n` -> `content`; `tool_use` ->
//!   `tool_calls` (`arguments` = `input` as a JSON string). An assistant turn left with nothing
//!   (only thinking) is left out.
//! - `thinking` / `redacted_thinking` blocks in the history are dropped.
//! - `tools`: custom tools (no `type`, or `custom`) -> functions (`input_schema` ->
//!   `parameters`, `strict` kept). Anthropic server tools (`web_search_…`, `bash_…`,
//!   `text_editor_…`, `computer_…`, `code_execution_…`, `mcp_toolset`, …) are refused:
//!   they exist only on Claude targets.
//! - `tool_choice`: `auto` -> `"auto"`, `any` -> `"required"`, `tool` -> the named function,
//!   `none` -> `"none"`; `disable_parallel_tool_use: true` -> `parallel_tool_calls: false`.
//!   Both are left out when there are no tools (OpenAI refuses them without tools).
//! - `thinking: {"type":"enabled","budget_tokens":N}` -> `reasoning_effort` `low` (N < 4096),
//!   `medium` (N < 16384, or no budget) or `high`; otherwise `output_config.effort`
//!   (`low`/`medium`/`high`, `max` -> `high`).
//! - `output_config.format` (or the beta `output_format`) `{"type":"json_schema","schema":…}`
//!   -> `response_format` `json_schema` named `output`, strict.
//! - Refused as only available on Claude targets: image or document sources of type `file`
//!   (Files API), document `url` sources, and content blocks of other types (server tool use
//!   and results, `container_upload`, …).
//! - Dropped: `top_k`, `service_tier`, `container`, `mcp_servers`, `context_management`,
//!   `inference_geo`, `metadata` members besides `user_id`, `cache_control` and `citations`
//!   on any block, a document's `context` and `title` (besides the PDF file name), and every
//!   member this translation does not know. Unknown members never fail a request.
//!
//! # Response: chat completion -> Message
//!
//! - `id` is kept when it starts with `msg_`, else it is `msg_` + the chat id.
//! - `content`: a `thinking` block (`"signature": ""`: only Claude signs its thinking) for
//!   non-empty reasoning (`reasoning_content`), then a `text` block for non-empty text (or the
//!   refusal), then a `tool_use` block per tool call; an empty answer is `content: []`. A tool call's `input` is its `arguments`
//!   parsed: `{}` for an empty string, the object for a JSON object, and
//!   `{"arguments": "<raw string>"}` for anything else (invalid or non-object JSON). A tool call
//!   without an id gets `toolu_<chat id>_<n>`.
//! - `stop_reason`: `stop` -> `end_turn`, `length` -> `max_tokens`, `tool_calls` /
//!   `function_call` -> `tool_use`, `content_filter` (or a refusal) -> `refusal`, none ->
//!   `end_turn`; `stop` (or none) with tool calls -> `tool_use`. `stop_sequence` is always
//!   `null` (chat completions do not say which sequence matched).
//! - `usage`: `input_tokens` = prompt tokens minus cached tokens, `cache_read_input_tokens` =
//!   cached tokens, `output_tokens` = completion tokens, `cache_creation_input_tokens` = 0.
//!   Only the first choice is shown.
//!
//! # Stream: chat chunks -> Messages events
//!
//! `message_start` (usage zero unless already known) comes with the first content; reasoning
//! opens a `thinking` block (`thinking_delta`, empty `signature`, no `signature_delta`), text a
//! `text` block (`text_delta`), each tool call a `tool_use` block (`input_json_delta` with the
//! argument fragments); a new block closes the previous one (`content_block_stop`). At the end:
//! `message_delta` (stop reason as above, usage with `output_tokens`, `input_tokens` and
//! `cache_read_input_tokens` when the provider reported usage) and `message_stop`. No `ping`.
//! Argument fragments for a tool call whose block was already closed (providers that interleave
//! parallel calls) are sent as `input_json_delta` for that call's earlier index.
//!
//! # Errors
//!
//! `{"type":"error","error":{"type":T,"message":M}}`: T is the upstream's Anthropic error type
//! when the error carries one (its `code`), else by status: 400 `invalid_request_error`, 401
//! `authentication_error`, 402 `billing_error`, 403 `permission_error`, 404 `not_found_error`,
//! 413 `request_too_large`, 429 `rate_limit_error`, 408 and 504 `timeout_error`, 529
//! `overloaded_error`, other 5xx `api_error`, other 4xx `invalid_request_error`. In a stream
//! (no status) the OpenAI error type names it (`server_error` -> `api_error`).
//!
//! # Relays (Claude targets)
//!
//! Events are passed on verbatim; content events (`content_block_*`, `message_delta`,
//! `message_stop`) commit the stream, `message_start`, `ping` and unknown events do not. Usage:
//! input = `input_tokens` + `cache_read_input_tokens` + `cache_creation_input_tokens`, cached =
//! `cache_read_input_tokens`, output = the last `output_tokens`. An `error` event is an upstream
//! error with the status Anthropic documents for its type; Bedrock exception frames map
//! `throttlingException`, `serviceQuotaExceededException` and `modelNotReadyException` 429,
//! `validationException` 400, `accessDeniedException` 403, `resourceNotFoundException` 404,
//! `modelTimeoutException` 408, `serviceUnavailableException` 503, and
//! `modelStreamErrorException`, `internalServerException` and others 500, with the payload's
//! `message`. Bedrock's `amazon-bedrock-invocationMetrics` stays in `message_stop`. A stream
//! without `message_stop` is incomplete.

mod encoder;
mod relay;
mod replay;
mod request;
mod response;
#[cfg(test)]
mod tests;

use serde_json::Value;
use switchyard_types::chat::{ChatRequest, ChatResponse};
use switchyard_types::ErrorEnvelope;

use super::{ChunkEncoder, EventRelay};
use crate::native::TranslateError;

/// Translates a Messages request body to an OpenAI chat request. Malformed input is an
/// [`TranslateError::InvalidRequest`] naming the member.
pub fn request_to_chat(body: &[u8]) -> Result<ChatRequest, TranslateError> {
    request::request_to_chat(body)
}

/// The Messages response body (`"type": "message"`) for a chat completion.
pub fn response_from_chat(resp: &ChatResponse) -> Result<Vec<u8>, TranslateError> {
    response::response_from_chat(resp)
}

/// Anthropic's error body for an error returned with `status`.
pub fn error_body(status: u16, error: &ErrorEnvelope) -> Vec<u8> {
    response::error_body(status, error)
}

/// Writes a stream of chat chunks as Messages SSE events.
pub fn encoder() -> Box<dyn ChunkEncoder> {
    Box::new(encoder::Encoder::new())
}

/// Passes on Anthropic's own SSE stream (api.anthropic.com, Vertex AI `:streamRawPredict`).
pub fn sse_relay() -> Box<dyn EventRelay> {
    Box::new(relay::Relay::new(relay::Framing::Sse))
}

pub use replay::{assemble, replay};

/// Passes on a Bedrock `InvokeModelWithResponseStream` stream of a Claude model as Anthropic SSE.
pub fn bedrock_relay() -> Box<dyn EventRelay> {
    Box::new(relay::Relay::new(relay::Framing::Bedrock))
}

/// Appends `event: <name>\ndata: <json>\n\n`.
fn write_event(out: &mut Vec<u8>, name: &str, data: &Value) {
    // Serialising a `Value` cannot fail (its map keys are strings).
    if let Ok(json) = serde_json::to_vec(data) {
        write_raw_event(out, name, &json);
    }
}

/// Appends `event: <name>` and `data` (one `data:` line per line of it), then a blank line.
fn write_raw_event(out: &mut Vec<u8>, name: &str, data: &[u8]) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(name.as_bytes());
    out.push(b'\n');
    for line in data.split(|b| *b == b'\n' || *b == b'\r') {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.push(b'\n');
}
