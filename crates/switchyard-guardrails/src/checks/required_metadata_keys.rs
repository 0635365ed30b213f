//! `default.requiredMetadataKeys`: passes when the request metadata has all / any / none of
//! `metadataKeys`.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::params::{Operator, Params};
use crate::{ready, Check, CheckContext, CheckError, CheckFuture, CheckOutcome, HookEvent, PreparedCheck};

/// `default.requiredMetadataKeys`. Parameters: `metadataKeys` (required, non-empty list),
/// `operator` (`all` | `any` | `none`, default `all`). Before-request only, like Portkey.
pub struct RequiredMetadataKeys;

struct Prepared {
    keys: Vec<String>,
    operator: Operator,
}

impl Check for RequiredMetadataKeys {
    fn id(&self) -> &'static str {
        "default.requiredMetadataKeys"
    }

    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
        let p = Params::new(params)?;
        Ok(Arc::new(Prepared {
            keys: p.required_list("metadataKeys")?,
            operator: p.operator("operator", Operator::All)?,
        }))
    }
}

impl PreparedCheck for Prepared {
    fn run<'a>(&'a self, cx: &'a CheckContext<'a>) -> CheckFuture<'a> {
        ready(self.check(cx))
    }
}

impl Prepared {
    fn check(&self, cx: &CheckContext<'_>) -> Result<CheckOutcome, CheckError> {
        if cx.event != HookEvent::BeforeRequest {
            return Err(CheckError::Failed(
                "This plugin only works for before_request_hooks".into(),
            ));
        }
        let (found, missing): (Vec<&String>, Vec<&String>) =
            self.keys.iter().partition(|k| cx.metadata.contains_key(k.as_str()));
        let verdict = self.operator.verdict(found.len(), missing.len());
        let op = self.operator.as_str();
        let detail = match (self.operator, verdict) {
            (Operator::Any, true) => "At least one metadata key was found.",
            (Operator::All, true) => "All metadata keys were found.",
            (Operator::None, true) => "No metadata keys were found.",
            (Operator::Any, false) => "No metadata keys were found.",
            (Operator::All, false) => "Some metadata keys were missing.",
            (Operator::None, false) => "Some metadata keys were found.",
        };
        let result = if verdict { "passed" } else { "failed" };
        Ok(CheckOutcome::new(
            verdict,
            json!({
                "explanation": format!("Check {result} for '{op}' metadata keys. {detail}"),
                "missing_metadata_keys": missing,
                "found_metadata_keys": found,
                "operator": op,
            }),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{error, outcome, Cx};

    #[test]
    fn verdicts() {
        let meta = json!({"user": "u1", "team": "t"});
        let cases = [
            (json!({"metadataKeys": ["user", "team"], "operator": "all"}), true, "Check passed for 'all' metadata keys. All metadata keys were found.", json!([]), json!(["user", "team"])),
            (json!({"metadataKeys": ["user", "env"]}), false, "Check failed for 'all' metadata keys. Some metadata keys were missing.", json!(["env"]), json!(["user"])),
            (json!({"metadataKeys": ["env", "user"], "operator": "any"}), true, "Check passed for 'any' metadata keys. At least one metadata key was found.", json!(["env"]), json!(["user"])),
            (json!({"metadataKeys": ["env"], "operator": "any"}), false, "Check failed for 'any' metadata keys. No metadata keys were found.", json!(["env"]), json!([])),
            (json!({"metadataKeys": ["env"], "operator": "none"}), true, "Check passed for 'none' metadata keys. No metadata keys were found.", json!(["env"]), json!([])),
            (json!({"metadataKeys": ["team"], "operator": "none"}), false, "Check failed for 'none' metadata keys. Some metadata keys were found.", json!([]), json!(["team"])),
        ];
        for (params, verdict, explanation, missing, found) in cases {
            let o = outcome(&RequiredMetadataKeys, params.clone(), &Cx::user("x").with_metadata(meta.clone()));
            let op = params.get("operator").cloned().unwrap_or(json!("all"));
            assert_eq!(
                o,
                CheckOutcome::new(verdict, json!({"explanation": explanation, "missing_metadata_keys": missing, "found_metadata_keys": found, "operator": op})),
                "{params}"
            );
        }
    }

    #[test]
    fn errors() {
        let cases = [
            (json!({}), Cx::user("x"), "invalid: `metadataKeys` is required"),
            (json!({"metadataKeys": []}), Cx::user("x"), "invalid: `metadataKeys` is required"),
            (json!({"metadataKeys": [1]}), Cx::user("x"), "invalid: `metadataKeys` must be a list of strings"),
            (json!({"metadataKeys": ["a"], "operator": "some"}), Cx::user("x"), "invalid: `operator` must be"),
            (json!({"metadataKeys": ["a"]}), Cx::assistant("x"), "This plugin only works for before_request_hooks"),
        ];
        for (params, cx, want) in cases {
            let got = error(&RequiredMetadataKeys, params.clone(), &cx);
            assert!(got.contains(want), "{params}: {got}");
        }
    }
}
