//! `default.notNull`: passes when the content is not null, empty or only whitespace.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::params::Params;
use crate::text::{self, ContentPart};
use crate::{ready, Check, CheckContext, CheckError, CheckFuture, CheckOutcome, PreparedCheck};

/// `default.notNull`. Parameters: `not` (default false: with it, passes when the content IS
/// null). Meant for responses; a streamed response (no JSON) is null. Unlike Portkey (a
/// JavaScript `TypeError`), a response without choices is null content rather than an error.
pub struct NotNull;

struct Prepared {
    not: bool,
}

impl Check for NotNull {
    fn id(&self) -> &'static str {
        "default.notNull"
    }

    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
        Ok(Arc::new(Prepared { not: Params::new(params)?.not()? }))
    }
}

impl PreparedCheck for Prepared {
    fn run<'a>(&'a self, cx: &'a CheckContext<'a>) -> CheckFuture<'a> {
        ready(Ok(self.check(cx)))
    }
}

impl Prepared {
    fn check(&self, cx: &CheckContext<'_>) -> CheckOutcome {
        let part = text::current_content_part(cx).unwrap_or(ContentPart {
            content: None,
            texts: Vec::new(),
        });
        let is_null = match part.content {
            None => true,
            Some(Value::String(s)) => s.trim().is_empty(),
            Some(Value::Array(a)) if a.is_empty() => true,
            Some(_) => part.texts.iter().all(|t| t.is_none_or(|t| t.trim().is_empty())),
        };
        let verdict = is_null == self.not;
        let content_type = match part.content {
            None => "null",
            Some(Value::String(_)) => "string",
            Some(Value::Bool(_)) => "boolean",
            Some(Value::Number(_)) => "number",
            Some(_) => "object",
        };
        CheckOutcome::new(
            verdict,
            json!({
                "isNull": is_null,
                "contentType": content_type,
                "textArrayLength": part.texts.len(),
                "explanation": if is_null {
                    "Content is null, undefined, or empty."
                } else {
                    "Content exists and is not null."
                },
                "verdict": if verdict { "passed" } else { "failed" },
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{error, outcome, Cx};

    #[test]
    fn verdicts() {
        let chat = |content: Value| Cx::chat_response(json!({"choices": [{"message": {"role": "assistant", "content": content}}]}));
        let cases = [
            (chat(json!("Hello! How can I help you?")), false, true, false),
            (chat(json!(null)), false, false, true),
            (chat(json!("")), false, false, true),
            (chat(json!("   ")), false, false, true),
            (chat(json!(null)), true, true, true),
            (chat(json!("Hello!")), true, false, false),
            (Cx::complete_response(json!({"choices": [{"text": "Generated text response"}]})), false, true, false),
            (Cx::complete_response(json!({"choices": [{"text": null}]})), false, false, true),
            (Cx::messages_response(json!({"content": [{"type": "text", "text": "Hello from Claude!"}]})), false, true, false),
            (Cx::messages_response(json!({"content": []})), false, false, true),
            (Cx::messages_response(json!({"content": [{"type": "text", "text": " "}]})), false, false, true),
            (Cx::streamed(), false, false, true),
            (Cx::chat_response(json!({"choices": []})), false, false, true),
        ];
        for (cx, not, verdict, is_null) in cases {
            let o = outcome(&NotNull, json!({"not": not}), &cx);
            assert_eq!(o.verdict, verdict, "{:?}", cx.response);
            assert_eq!(o.data["isNull"], is_null, "{:?}", cx.response);
        }
        let o = outcome(&NotNull, json!({}), &chat(json!("hi")));
        assert_eq!(
            o.data,
            json!({"isNull": false, "contentType": "string", "textArrayLength": 1,
                   "explanation": "Content exists and is not null.", "verdict": "passed"})
        );
    }

    #[test]
    fn errors() {
        assert!(error(&NotNull, json!({"not": 0}), &Cx::streamed()).starts_with("invalid: `not`"));
    }
}
