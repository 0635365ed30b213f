//! Test helpers: owned contexts and a one-poll executor for the (synchronous) built-in checks.

use std::task::{Context, Poll, Waker};

use serde_json::{Map, Value};

use crate::{Check, CheckContext, CheckError, CheckOutcome, HookEvent, RequestType};

/// An owned [`CheckContext`].
#[derive(Debug, Clone)]
pub(crate) struct Cx {
    pub event: HookEvent,
    pub request_type: RequestType,
    pub request: Value,
    pub response: Option<Value>,
    pub metadata: Map<String, Value>,
}

impl Cx {
    pub fn before(request_type: RequestType, request: Value) -> Self {
        Cx {
            event: HookEvent::BeforeRequest,
            request_type,
            request,
            response: None,
            metadata: Map::new(),
        }
    }
    pub fn after(request_type: RequestType, response: Value) -> Self {
        Cx {
            event: HookEvent::AfterRequest,
            request_type,
            request: Value::Object(Map::new()),
            response: Some(response),
            metadata: Map::new(),
        }
    }
    pub fn chat(request: Value) -> Self {
        Cx::before(RequestType::ChatComplete, request)
    }
    pub fn messages(request: Value) -> Self {
        Cx::before(RequestType::Messages, request)
    }
    pub fn complete(request: Value) -> Self {
        Cx::before(RequestType::Complete, request)
    }
    pub fn embed(request: Value) -> Self {
        Cx::before(RequestType::Embed, request)
    }
    pub fn other(request: Value) -> Self {
        Cx::before(RequestType::Other, request)
    }
    /// A chat request whose last (user) message is `text`.
    pub fn user(text: &str) -> Self {
        Cx::chat(
            serde_json::json!({"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}),
        )
    }
    pub fn chat_response(response: Value) -> Self {
        Cx::after(RequestType::ChatComplete, response)
    }
    pub fn complete_response(response: Value) -> Self {
        Cx::after(RequestType::Complete, response)
    }
    pub fn messages_response(response: Value) -> Self {
        Cx::after(RequestType::Messages, response)
    }
    /// A chat response whose first choice says `text`.
    pub fn assistant(text: &str) -> Self {
        Cx::chat_response(
            serde_json::json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}),
        )
    }
    /// An after-request context whose response was streamed (no JSON).
    pub fn streamed() -> Self {
        Cx {
            response: None,
            ..Cx::after(RequestType::ChatComplete, Value::Null)
        }
    }
    pub fn with_metadata(mut self, metadata: Value) -> Self {
        if let Value::Object(m) = metadata {
            self.metadata = m;
        }
        self
    }
    pub fn with_request(mut self, request: Value) -> Self {
        self.request = request;
        self
    }
    pub fn cx(&self) -> CheckContext<'_> {
        CheckContext {
            event: self.event,
            request_type: self.request_type,
            request: &self.request,
            response: self.response.as_ref(),
            provider: "openai",
            metadata: &self.metadata,
            headers: None,
        }
    }
}

/// Prepares `check` with `params` and runs it once on `cx`.
pub(crate) fn run(check: &dyn Check, params: Value, cx: &Cx) -> Result<CheckOutcome, CheckError> {
    let prepared = check.prepare(&params)?;
    let context = cx.cx();
    let mut fut = prepared.run(&context);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(r) => r,
        Poll::Pending => Err(CheckError::Failed(
            "check did not complete synchronously".into(),
        )),
    }
}

/// [`run`], expecting success.
pub(crate) fn outcome(check: &dyn Check, params: Value, cx: &Cx) -> CheckOutcome {
    match run(check, params.clone(), cx) {
        Ok(o) => o,
        Err(e) => panic!("{} {params}: {e}", check.id()),
    }
}

/// The message of a failure, `InvalidParameters` prefixed with `invalid: `.
pub(crate) fn error(check: &dyn Check, params: Value, cx: &Cx) -> String {
    match run(check, params.clone(), cx) {
        Ok(o) => panic!("{} {params}: expected an error, got {o:?}", check.id()),
        Err(CheckError::InvalidParameters(m)) => format!("invalid: {m}"),
        Err(CheckError::Failed(m)) => m,
    }
}
