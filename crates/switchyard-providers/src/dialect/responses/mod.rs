//! OpenAI Responses (`POST /v1/responses`) as a client dialect, served through the chat path.
//!
//! A Responses request is translated to an OpenAI chat-completions request
//! ([`request_to_chat`]); the chat answer comes back as a Response object
//! ([`response_from_chat`]) or as the Responses event stream ([`encoder`]), in the shapes the
//! OpenAI SDK's models define (`openai/types/responses/*.py`), so `client.responses.create` and
//! `client.responses.stream` parse them unchanged, tool calls included. Conversation state
//! (`previous_response_id`) is the gateway's: it hands the earlier items in as `history`.
//!
//! # Mapping
//!
//! Request:
//! - `instructions` becomes a leading `system` message; `history` items come next, then `input`.
//! - `input` as a string is one `user` message. Message items (`{"role", "content"}`, with or
//!   without `"type": "message"`): roles `user` and `assistant` are kept, `system` and
//!   `developer` become `system` messages (text only). Parts: `input_text`/`output_text` are
//!   text, `refusal` is text, `input_image` with `image_url` is an `image_url` part (`detail`
//!   kept), `input_file` with `file_data` is a chat `file` part (`filename` kept). Images and
//!   files by `file_id` (and files by `file_url`) are refused: OpenAI's file store is not
//!   reachable from other providers. Assistant and system parts are joined into one string.
//! - `function_call` items become `tool_calls` of an assistant message: they attach to the
//!   assistant message right before them (text then calls is one assistant turn, as the
//!   Responses output of one turn is), and consecutive calls share one message.
//!   `function_call_output` items become `tool` messages (`call_id` -> `tool_call_id`; an
//!   output given as parts keeps its parts). `reasoning` items are dropped. `item_reference`
//!   and the items of OpenAI's built-in tools are refused.
//! - `tools`: `function` tools become chat function tools (`strict` only when given: OpenAI's
//!   Responses default of `true` is not imposed on other providers). Every other tool type is
//!   refused ("only available on OpenAI targets"). An empty list sends no tools; `tool_choice`
//!   and `parallel_tool_calls` are only sent with tools (providers refuse them alone).
//! - `tool_choice`: `auto`/`none`/`required` as is, `{"type":"function","name"}` as a named
//!   choice; other choices (`allowed_tools`, built-in tool types) are refused.
//! - `max_output_tokens` becomes `max_tokens` (the name every chat provider accepts).
//! - `temperature`, `top_p`, `user` as is. `text.format`: `json_schema` becomes
//!   `response_format` `json_schema` (`name`, `schema`, `strict`, `description`),
//!   `json_object` stays, `text` sends nothing. `text.verbosity` is not sent.
//! - `reasoning.effort` becomes `reasoning_effort`; `reasoning.summary` is not sent.
//! - `stream: true` becomes `stream: true` with `stream_options.include_usage: true`.
//! - Not sent upstream: `store`, `previous_response_id`, `metadata`, `truncation`, `include`,
//!   `background`, `service_tier`, `prompt_cache_key`, `safety_identifier`, `max_tool_calls`,
//!   `top_logprobs`. `prompt` (stored prompts) and `conversation` are refused.
//!
//! Response:
//! - `status` is `completed`; a `length` finish is `incomplete` with reason
//!   `max_output_tokens`, a `content_filter` finish `incomplete` with reason `content_filter`
//!   (the last output item is then `incomplete` too).
//! - `output`: a `reasoning` item (the chat `reasoning_content` as its one `summary_text`
//!   part, no `encrypted_content`) when there is reasoning, then one assistant `message` item
//!   with an `output_text` part when there is text (and a `refusal` part for a refusal), then
//!   one `function_call` item per tool call (`call_id` = the chat tool call id). Item ids derive
//!   from the response id: `rs_<id>`, `msg_<id>` (`rs_<id>_<n>`, `msg_<id>_<n>` for a later one
//!   of a stream) and `fc_<id>_<n>`, where `<id>` is the response id without its `resp_` prefix.
//! - `usage`: `prompt_tokens` -> `input_tokens`, `completion_tokens` -> `output_tokens`,
//!   cached and reasoning tokens from the chat details (0 when absent), `cache_write_tokens` 0.
//! - The request's `instructions`, `tools`, `tool_choice`, `temperature`, `top_p`,
//!   `max_output_tokens`, `parallel_tool_calls`, `previous_response_id`, `store`, `text`,
//!   `metadata`, `user`, `reasoning`, `truncation` (and `prompt_cache_key`,
//!   `safety_identifier`, `max_tool_calls`, `top_logprobs` when given) are echoed as written.
//!
//! Stream: `response.created`, `response.in_progress`, then per item `output_item.added`,
//! (`reasoning_summary_part.added`, `reasoning_summary_text.delta`…,
//! `reasoning_summary_text.done`, `reasoning_summary_part.done` |
//! `content_part.added`, `output_text.delta`…, `output_text.done`, `content_part.done` |
//! `function_call_arguments.delta`…, `function_call_arguments.done`), `output_item.done`, and
//! last `response.completed` (or `response.incomplete`) carrying the whole Response. A failure
//! after the stream started ends it with `response.failed`.

mod encoder;
mod request;
mod response;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_response;
#[cfg(test)]
mod tests_stream;

use serde_json::{Map, Value};
use switchyard_types::chat::ChatRequest;

pub use encoder::encoder;
pub use request::request_to_chat;
pub use response::{output_items, response_from_chat};

/// What a Responses request becomes on the chat path.
#[derive(Debug, Clone)]
pub struct Translated {
    pub chat: ChatRequest,
    /// The request's own input as a list of Responses items (a string input becomes one user
    /// message item; every item gets an `id`, a `type` and a `status`, a message's string
    /// content becomes a list of parts), for `GET /v1/responses/{id}/input_items` and for
    /// later turns.
    pub input_items: Vec<Value>,
    /// The request fields a Response object echoes back.
    pub echo: Echo,
}

/// The request fields a Response object repeats (`instructions`, `tools`, `tool_choice`,
/// `temperature`, `top_p`, `max_output_tokens`, `parallel_tool_calls`, `previous_response_id`,
/// `store`, `text`, `metadata`, `user`, `reasoning`, `truncation`, …), kept as the client wrote
/// them, with OpenAI's defaults for the absent ones. Also holds the request's `model`, used
/// when the chat answer names none.
#[derive(Debug, Clone, Default)]
pub struct Echo(pub Map<String, Value>);

/// A fresh response id (`resp_` and 48 hex digits) from a caller-supplied seed (e.g. a
/// random number or a request counter mixed with the time): this crate does no I/O and has no
/// randomness of its own.
pub fn new_id(seed: u128) -> String {
    let a = fnv1a(&seed.to_le_bytes(), 0xcbf2_9ce4_8422_2325);
    let b = fnv1a(&seed.to_be_bytes(), a);
    let c = fnv1a(&a.to_le_bytes(), b);
    format!("resp_{a:016x}{b:016x}{c:016x}")
}

/// FNV-1a, 64 bits, from `basis`.
pub(crate) fn fnv1a(bytes: &[u8], basis: u64) -> u64 {
    bytes.iter().fold(basis, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The part of a response id that item ids are made of.
fn id_stem(response_id: &str) -> &str {
    response_id.strip_prefix("resp_").unwrap_or(response_id)
}

/// The id of the `n`th (from 0) message item of a response.
pub(crate) fn message_id(response_id: &str, n: usize) -> String {
    let stem = id_stem(response_id);
    if n == 0 {
        format!("msg_{stem}")
    } else {
        format!("msg_{stem}_{n}")
    }
}

/// The id of the `n`th (from 0) reasoning item of a response.
pub(crate) fn reasoning_id(response_id: &str, n: usize) -> String {
    let stem = id_stem(response_id);
    if n == 0 {
        format!("rs_{stem}")
    } else {
        format!("rs_{stem}_{n}")
    }
}

/// The id of the `n`th (from 0) function call item of a response.
pub(crate) fn call_item_id(response_id: &str, n: usize) -> String {
    format!("fc_{}_{n}", id_stem(response_id))
}
