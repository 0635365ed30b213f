//! `default.modelWhitelist`: passes when the request's `model` is in `models`.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::params::Params;
use crate::{ready, Check, CheckContext, CheckError, CheckFuture, CheckOutcome, PreparedCheck};

/// `default.modelWhitelist` (Portkey's manifest spells it `modelwhitelist`; the registry resolves
/// either). Parameters: `models` (required list of model names, exact match), `not` (default
/// false: with it, the listed models are blocked instead).
pub struct ModelWhitelist;

struct Prepared {
    models: Vec<String>,
    not: bool,
}

impl Check for ModelWhitelist {
    fn id(&self) -> &'static str {
        "default.modelWhitelist"
    }

    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
        let p = Params::new(params)?;
        let models = p
            .string_list("models", false)?
            .ok_or_else(|| crate::params::invalid("`models` is required (a list of model names)"))?;
        Ok(Arc::new(Prepared { models, not: p.not()? }))
    }
}

/// The request's `model`, or a [`CheckError::Failed`].
pub(crate) fn request_model<'a>(cx: &CheckContext<'a>) -> Result<&'a str, CheckError> {
    cx.request
        .get("model")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| CheckError::Failed("Missing model in request".into()))
}

impl PreparedCheck for Prepared {
    fn run<'a>(&'a self, cx: &'a CheckContext<'a>) -> CheckFuture<'a> {
        ready(self.check(cx))
    }
}

impl Prepared {
    fn check(&self, cx: &CheckContext<'_>) -> Result<CheckOutcome, CheckError> {
        let model = request_model(cx)?;
        let in_list = self.models.iter().any(|m| m == model);
        let verdict = in_list != self.not;
        let explanation = match (verdict, self.not) {
            (true, true) => format!("Model \"{model}\" is not in the allowed list as expected."),
            (true, false) => format!("Model \"{model}\" is allowed."),
            (false, true) => format!("Model \"{model}\" is in the allowed list when it should not be."),
            (false, false) => format!("Model \"{model}\" is not in the allowed list."),
        };
        Ok(CheckOutcome::new(
            verdict,
            json!({
                "verdict": verdict,
                "not": self.not,
                "explanation": explanation,
                "requestedModel": model,
                "allowedModels": self.models,
            }),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{error, outcome, Cx};

    fn model(m: &str) -> Cx {
        Cx::chat(json!({"model": m, "messages": [{"role": "user", "content": "hi"}]}))
    }

    #[test]
    fn verdicts() {
        let cases = [
            (json!({"models": ["gemini-1.5-flash-001"], "not": false}), "gemini-1.5-flash-001", true,
             json!({"verdict": true, "not": false, "explanation": "Model \"gemini-1.5-flash-001\" is allowed.",
                    "requestedModel": "gemini-1.5-flash-001", "allowedModels": ["gemini-1.5-flash-001"]})),
            (json!({"models": ["gemini-1.5-flash-001"]}), "gemini-1.5-pro-001", false,
             json!({"verdict": false, "not": false, "explanation": "Model \"gemini-1.5-pro-001\" is not in the allowed list.",
                    "requestedModel": "gemini-1.5-pro-001", "allowedModels": ["gemini-1.5-flash-001"]})),
            (json!({"models": ["a"], "not": true}), "b", true,
             json!({"verdict": true, "not": true, "explanation": "Model \"b\" is not in the allowed list as expected.",
                    "requestedModel": "b", "allowedModels": ["a"]})),
            (json!({"models": ["a"], "not": true}), "a", false,
             json!({"verdict": false, "not": true, "explanation": "Model \"a\" is in the allowed list when it should not be.",
                    "requestedModel": "a", "allowedModels": ["a"]})),
            (json!({"models": []}), "a", false,
             json!({"verdict": false, "not": false, "explanation": "Model \"a\" is not in the allowed list.",
                    "requestedModel": "a", "allowedModels": []})),
        ];
        for (params, m, verdict, data) in cases {
            assert_eq!(outcome(&ModelWhitelist, params.clone(), &model(m)), CheckOutcome::new(verdict, data), "{params}");
        }
        // After the request, the request's model is still what is checked.
        let after = Cx::assistant("x").with_request(json!({"model": "a"}));
        assert!(outcome(&ModelWhitelist, json!({"models": ["a"]}), &after).verdict);
    }

    #[test]
    fn errors() {
        let cases = [
            (json!({}), model("a"), "invalid: `models` is required"),
            (json!({"models": "a"}), model("a"), "invalid: `models` must be a list"),
            (json!({"models": ["a"]}), Cx::chat(json!({"messages": []})), "Missing model in request"),
        ];
        for (params, cx, want) in cases {
            let got = error(&ModelWhitelist, params.clone(), &cx);
            assert!(got.contains(want), "{params}: {got}");
        }
    }
}
