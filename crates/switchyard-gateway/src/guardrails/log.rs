//! `default.log`: POSTs the hook context to a collector and passes once it was delivered.
//!
//! Parameters (Portkey's): `logURL` (required, http or https, no credentials), `headers` (an
//! object, or a JSON string of one), `timeout` (milliseconds, default 3000, at most 60000),
//! `failOnError`. The body is what `default.webhook` sends (`webhook::payload`: the request
//! and answer JSON and text, provider, request type, metadata, event; never the client's
//! headers). A 2xx answer is a pass (`data: {"message": "Logged the request to <URL without its
//! query>"}`); its body is not read for anything. A timeout, an unreachable collector or a
//! non-2xx answer is an error of the check — it passes unless `failOnError`, Portkey's rule —
//! so a collector that is down never blocks traffic unless asked to.
//!
//! Like the webhook, the URL is reached through `outbound::send` (addresses checked when the
//! connection is made). Portkey lists the check for output hooks; it works on either side.
//! Put it in an `async: true` hook to keep it off the request's path.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{json, Value};
use switchyard_guardrails::{
    Check, CheckContext, CheckError, CheckFuture, CheckOutcome, PreparedCheck, Registry,
};

use super::{outbound, webhook};

/// The most of a collector's answer read (it is only drained).
const MAX_ANSWER: usize = 1 << 20;

pub(super) fn register(r: &mut Registry) {
    r.register(Arc::new(Log));
}

struct Log;

struct Prepared(outbound::Target);

impl Check for Log {
    fn id(&self) -> &'static str {
        "default.log"
    }

    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
        Ok(Arc::new(Prepared(outbound::Target::from_params(
            params, "logURL",
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
        let body = Bytes::from(webhook::payload(cx).to_string());
        let (status, _) = self
            .0
            .post("log collector", body, MAX_ANSWER)
            .await
            .map_err(CheckError::Failed)?;
        if !status.is_success() {
            return Err(CheckError::Failed(format!(
                "the log collector answered HTTP {}",
                status.as_u16()
            )));
        }
        let message = format!(
            "Logged the request to {}",
            outbound::display_url(&self.0.uri)
        );
        Ok(CheckOutcome::new(true, json!({ "message": message })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepare(params: Value) -> Result<(), String> {
        Log.prepare(&params).map(|_| ()).map_err(|e| e.to_string())
    }

    #[test]
    fn parameters_are_checked_when_the_config_is_loaded() {
        assert_eq!(
            prepare(json!({"logURL": "https://logs.example/in"})),
            Ok(())
        );
        assert_eq!(
            prepare(
                json!({"logURL": "http://logs.example/in", "headers": "{\"x-k\": \"v\"}",
                           "timeout": 60000})
            ),
            Ok(())
        );
        let cases = [
            (json!({}), "`logURL` is required"),
            (json!({"logURL": "ftp://logs.example/in"}), "http or https"),
            (
                json!({"logURL": "https://a:b@logs.example/"}),
                "credentials",
            ),
            (
                json!({"logURL": "https://logs.example/", "headers": 3}),
                "`headers`",
            ),
            (
                json!({"logURL": "https://logs.example/", "headers": "not json"}),
                "`headers`",
            ),
            (
                json!({"logURL": "https://logs.example/", "timeout": 0}),
                "`timeout`",
            ),
            (
                json!({"logURL": "https://logs.example/", "timeout": 60001}),
                "`timeout`",
            ),
            (
                json!({"logURL": "https://logs.example/", "timeout": 2.5}),
                "`timeout`",
            ),
        ];
        for (params, want) in cases {
            match prepare(params.clone()) {
                Err(e) => assert!(e.contains(want), "{params}: {e}"),
                Ok(()) => panic!("{params}: accepted"),
            }
        }
    }
}
