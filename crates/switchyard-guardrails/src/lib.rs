//! Guardrail checks for Switchyard: Portkey's built-in (`default.*`) checks implemented natively,
//! plus a PII detector/redactor ([`pii`]) and a prompt-injection heuristic. The crate is pure: no
//! network or file I/O, no async runtime. Checks that need I/O (Portkey's `webhook`, `jwt`, `log`)
//! live in the gateway and plug into the same [`Registry`].
//!
//! # The model: check → prepared check → outcome
//!
//! * A [`Check`] is a *kind* of check, named by its full id (`"default.regexMatch"`). It owns no
//!   configuration.
//! * [`Check::prepare`] validates a config's parameters (the JSON object Portkey calls
//!   `parameters`) **once, when the config is loaded**, and returns a [`PreparedCheck`]: regexes
//!   compiled, schemas built, numbers range-checked. Bad parameters are reported then, as
//!   [`CheckError::InvalidParameters`], so a request never discovers a broken config.
//! * [`PreparedCheck::run`] is called per request (or response) with a [`CheckContext`] and
//!   yields a [`CheckOutcome`]: the `verdict` (true = pass), Portkey's `data` explanation, and —
//!   for mutators/redactors — the whole rewritten request or response JSON in `transformed`.
//!   A problem with *this* request (no text to analyse, no model) is a [`CheckError::Failed`].
//!
//! `run` returns a boxed future ([`CheckFuture`]) so a check that needs I/O can await it; every
//! check in this crate is synchronous and returns [`ready`].
//!
//! Text is read the way Portkey reads it (see [`text`]): before the request it is the *current
//! content part* — the last message's content for chat/messages, `prompt` for completions,
//! `input` for embeddings; after it, the first choice's content (or the Anthropic `content`
//! blocks). Content-part arrays are read part by part and joined with `\n`.
//!
//! # Writing a new check
//!
//! One file under `src/checks/` plus one line in the list in `src/checks/mod.rs`:
//!
//! ```
//! use std::sync::Arc;
//! use serde_json::{json, Value};
//! use switchyard_guardrails::{
//!     ready, text, Check, CheckContext, CheckError, CheckFuture, CheckOutcome, PreparedCheck,
//! };
//!
//! /// `default.startsWith` — passes when the text starts with `prefix`.
//! pub struct StartsWith;
//!
//! struct Prepared {
//!     prefix: String,
//! }
//!
//! impl Check for StartsWith {
//!     fn id(&self) -> &'static str {
//!         "default.startsWith"
//!     }
//!     fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
//!         let prefix = params
//!             .get("prefix")
//!             .and_then(Value::as_str)
//!             .filter(|p| !p.is_empty())
//!             .ok_or_else(|| CheckError::InvalidParameters("`prefix` must be a non-empty string".into()))?;
//!         Ok(Arc::new(Prepared { prefix: prefix.to_owned() }))
//!     }
//! }
//!
//! impl PreparedCheck for Prepared {
//!     fn run<'a>(&'a self, cx: &'a CheckContext<'a>) -> CheckFuture<'a> {
//!         ready((|| {
//!             let text = text::require_text(cx, "Missing text to analyze")?;
//!             let verdict = text.starts_with(&self.prefix);
//!             Ok(CheckOutcome::new(verdict, json!({ "prefix": self.prefix })))
//!         })())
//!     }
//! }
//!
//! let mut registry = switchyard_guardrails::Registry::builtin();
//! registry.register(Arc::new(StartsWith));
//! assert!(registry.get("startsWith").is_some());
//! ```
//!
//! Conventions the built-in checks follow: Portkey's parameter names and defaults; `not: true`
//! inverts a verdict; unknown parameters are ignored (Portkey's runner reads some of its own, e.g.
//! `failOnError`); every number is checked in `prepare` (negative, fractional or absurdly large
//! values are refused); each file carries table-driven tests.
#![forbid(unsafe_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::{Map, Value};

pub mod checks;
pub mod pii;
pub mod text;

mod b64;
mod json_extract;
mod params;
mod registry;
mod util;

pub use registry::Registry;

/// When a check runs. Portkey: `beforeRequestHook` / `afterRequestHook`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookEvent {
    /// Input guardrails: the request is checked (and may be rewritten) before it goes upstream.
    BeforeRequest,
    /// Output guardrails: the response is checked (and may be rewritten) before the client sees it.
    AfterRequest,
}

impl HookEvent {
    /// Portkey's name: `"beforeRequestHook"` or `"afterRequestHook"`.
    pub fn as_portkey(&self) -> &'static str {
        match self {
            HookEvent::BeforeRequest => "beforeRequestHook",
            HookEvent::AfterRequest => "afterRequestHook",
        }
    }
}

/// The kind of request being guarded. Portkey's `requestType` strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestType {
    /// `"chatComplete"`: `/v1/chat/completions`.
    ChatComplete,
    /// `"complete"`: `/v1/completions`.
    Complete,
    /// `"embed"`: `/v1/embeddings`.
    Embed,
    /// `"messages"`: Anthropic's `/v1/messages`.
    Messages,
    /// Anything else. Portkey skips guardrails on other endpoints; text checks find no text here.
    Other,
}

impl RequestType {
    /// Portkey's string; [`RequestType::Other`] is `"other"`.
    pub fn as_portkey(&self) -> &'static str {
        match self {
            RequestType::ChatComplete => "chatComplete",
            RequestType::Complete => "complete",
            RequestType::Embed => "embed",
            RequestType::Messages => "messages",
            RequestType::Other => "other",
        }
    }

    /// The inverse of [`RequestType::as_portkey`]; an unknown string is [`RequestType::Other`].
    pub fn from_portkey(s: &str) -> Self {
        match s {
            "chatComplete" => RequestType::ChatComplete,
            "complete" => RequestType::Complete,
            "embed" => RequestType::Embed,
            "messages" => RequestType::Messages,
            _ => RequestType::Other,
        }
    }
}

/// What a check sees.
#[derive(Debug, Clone, Copy)]
pub struct CheckContext<'a> {
    pub event: HookEvent,
    pub request_type: RequestType,
    /// The request JSON, OpenAI shape (chat: `messages`, completions: `prompt`, embeddings:
    /// `input`; Anthropic shape for [`RequestType::Messages`]).
    pub request: &'a Value,
    /// After the request: the response JSON (chat: `choices[0].message.content`, completions:
    /// `choices[0].text`, messages: `content` blocks). `None` before the request, or for a
    /// streamed response that has not been assembled.
    pub response: Option<&'a Value>,
    /// The provider slug.
    pub provider: &'a str,
    /// `x-portkey-metadata`.
    pub metadata: &'a Map<String, Value>,
    /// The client's request headers, for checks that authenticate the caller (the gateway's
    /// `default.jwt`). `None` where they are not at hand (output checks of a stream). Never
    /// sent anywhere by a check.
    pub headers: Option<&'a http::HeaderMap>,
}

/// The result of one check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOutcome {
    /// `true` = the check passed.
    pub verdict: bool,
    /// Portkey's per-check `data` (explanation), `Value::Null` if none.
    pub data: Value,
    /// A mutator/redaction's rewrite: the WHOLE new request JSON (before-request) or response
    /// JSON (after-request). `None` when nothing changed.
    pub transformed: Option<Value>,
}

impl CheckOutcome {
    /// An outcome that rewrites nothing.
    pub fn new(verdict: bool, data: Value) -> Self {
        CheckOutcome {
            verdict,
            data,
            transformed: None,
        }
    }

    /// The same outcome with `transformed` set.
    pub fn with_transformed(mut self, transformed: Option<Value>) -> Self {
        self.transformed = transformed;
        self
    }
}

/// Why a check could not give a verdict.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// The parameters are wrong; found by [`Check::prepare`], when the config is loaded.
    #[error("invalid parameters: {0}")]
    InvalidParameters(String),
    /// The check could not run on this request/response (no text, no model, ...).
    #[error("{0}")]
    Failed(String),
}

/// What [`PreparedCheck::run`] returns.
pub type CheckFuture<'a> =
    Pin<Box<dyn Future<Output = Result<CheckOutcome, CheckError>> + Send + 'a>>;

/// A kind of check (`default.regexMatch`). Parameters are validated and compiled ONCE, when a
/// config naming the check is loaded.
pub trait Check: Send + Sync + 'static {
    /// The full id, e.g. `"default.regexMatch"`.
    fn id(&self) -> &'static str;
    /// Validates and compiles `params` (Portkey's `parameters` object; `null` is treated as `{}`).
    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError>;
}

/// A check with its parameters, ready to run many times.
pub trait PreparedCheck: Send + Sync + 'static {
    fn run<'a>(&'a self, cx: &'a CheckContext<'a>) -> CheckFuture<'a>;
}

/// `Box::pin(std::future::ready(r))`: the [`CheckFuture`] of a synchronous check.
pub fn ready<'a>(r: Result<CheckOutcome, CheckError>) -> CheckFuture<'a> {
    Box::pin(std::future::ready(r))
}

#[cfg(test)]
mod testutil;
