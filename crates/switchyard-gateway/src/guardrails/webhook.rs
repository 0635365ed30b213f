//! `default.webhook`: a check answered by any HTTP service — the way to write a guardrail in
//! any language.
//!
//! Parameters (Portkey's): `webhookURL` (required, http or https), `headers` (an object, or a
//! JSON string of one), `timeout` (milliseconds, default 3000, at most 60000), `failOnError`.
//! The gateway POSTs `{request: {json, text}, response: {json, text, statusCode}, provider,
//! requestType, metadata, eventType}` (never the client's headers) and reads back `{verdict,
//! data?, transformedData?: {request: {json}} | {response: {json}}}`. A timeout, a non-2xx
//! answer or a body without a boolean `verdict` is an error of the check (it passes unless
//! `failOnError`).
//!
//! The URL is connected to through the gateway's client pool for hosts a client named
//! (`outbound::send`): its addresses are checked when the connection is made (no internal
//! addresses unless `server.trusted_hosts` allows them), like a `custom_host`.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{json, Value};
use switchyard_guardrails::{
    text, Check, CheckContext, CheckError, CheckFuture, CheckOutcome, HookEvent, PreparedCheck,
    Registry,
};

use super::outbound;
/// Kept here for the server's start-up: checks that do I/O use the server's clients.
pub use super::outbound::install;

/// The largest webhook answer read.
const MAX_ANSWER: usize = 4 << 20;

pub(super) fn register(r: &mut Registry) {
    r.register(Arc::new(Webhook));
}

struct Webhook;

struct Prepared(outbound::Target);

impl Check for Webhook {
    fn id(&self) -> &'static str {
        "default.webhook"
    }

    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
        Ok(Arc::new(Prepared(outbound::Target::from_params(
            params,
            "webhookURL",
        )?)))
    }
}

impl PreparedCheck for Prepared {
    fn run<'a>(&'a self, cx: &'a CheckContext<'a>) -> CheckFuture<'a> {
        Box::pin(self.call(cx))
    }
}

impl Prepared {
    async fn call(&self, cx: &CheckContext<'_>) -> Result<CheckOutcome, CheckError> {
        let failed = |m: String| CheckError::Failed(m);
        let body = Bytes::from(payload(cx).to_string());
        let (status, body) = self
            .0
            .post("webhook", body, MAX_ANSWER)
            .await
            .map_err(failed)?;
        if !status.is_success() {
            return Err(failed(format!(
                "the webhook answered HTTP {}",
                status.as_u16()
            )));
        }
        let v: Value = serde_json::from_slice(&body)
            .map_err(|_| failed("the webhook's answer is not JSON".into()))?;
        let Some(verdict) = v.get("verdict").and_then(Value::as_bool) else {
            return Err(failed(
                "the webhook's answer has no boolean `verdict`".into(),
            ));
        };
        let side = match cx.event {
            HookEvent::BeforeRequest => "request",
            HookEvent::AfterRequest => "response",
        };
        let transformed = v
            .pointer(&format!("/transformedData/{side}/json"))
            .filter(|j| j.is_object())
            .cloned();
        let data = json!({
            "verdict": verdict,
            "explanation": if verdict { "Webhook request succeeded" } else { "Webhook request failed" },
            // Without its query, which may hold a token.
            "webhookUrl": outbound::display_url(&self.0.uri),
            "responseData": v.get("data").cloned().unwrap_or(Value::Null),
        });
        Ok(CheckOutcome::new(verdict, data).with_transformed(transformed))
    }
}

/// What a webhook (and `default.log`) is sent: Portkey's hook context — `{request: {json,
/// text}, response: {json, text, statusCode}, provider, requestType, metadata, eventType}`.
/// Never the client's headers.
pub(super) fn payload(cx: &CheckContext<'_>) -> Value {
    let response_text = match cx.event {
        HookEvent::AfterRequest => text::get_text(cx).unwrap_or_default(),
        HookEvent::BeforeRequest => String::new(),
    };
    let request_text = {
        let before = CheckContext {
            event: HookEvent::BeforeRequest,
            ..*cx
        };
        text::get_text(&before).unwrap_or_default()
    };
    json!({
        "request": {"json": cx.request, "text": request_text},
        "response": {
            "json": cx.response.cloned().unwrap_or_else(|| json!({})),
            "text": response_text,
            "statusCode": if cx.response.is_some() { json!(200) } else { Value::Null },
        },
        "provider": cx.provider,
        "requestType": cx.request_type.as_portkey(),
        "metadata": cx.metadata,
        "eventType": cx.event.as_portkey(),
    })
}
