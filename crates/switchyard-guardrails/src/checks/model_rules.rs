//! `default.modelRules`: passes when the request's model is allowed by metadata-driven rules.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::model_whitelist::request_model;
use crate::params::{invalid, kind, Params};
use crate::util::js_string;
use crate::{ready, Check, CheckContext, CheckError, CheckFuture, CheckOutcome, PreparedCheck};

/// `default.modelRules`. Parameters: `rules` (required): `{"defaults": ["model", ...],
/// "metadata": {"<metadata key>": {"<value>": ["model", ...]}}}`, and `not` (default false: the
/// resolved models are blocked instead).
///
/// Every metadata rule whose key is in the request metadata with a listed value (or, for an
/// array value, any listed element) contributes its models; when none matches, `defaults`
/// apply. Rules are reported in key order (Portkey: the config's order). No resolved model at all is an error. Portkey silently skips malformed rules; here
/// they are refused when the config is loaded.
pub struct ModelRules;

struct Prepared {
    defaults: Vec<String>,
    /// metadata key → (metadata value → models).
    rules: Vec<(String, Map<String, Value>)>,
    not: bool,
}

impl Check for ModelRules {
    fn id(&self) -> &'static str {
        "default.modelRules"
    }

    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
        let p = Params::new(params)?;
        let rules = match p.get("rules") {
            Some(Value::Object(r)) => r,
            Some(other) => return Err(invalid(format!("`rules` must be an object, not {}", kind(other)))),
            None => return Err(invalid("`rules` is required (an object with `defaults` and/or `metadata`)")),
        };
        let defaults: Vec<String> = match rules.get("defaults") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            Some(_) => return Err(invalid("`rules.defaults` must be a list of model names")),
        };
        let mut metadata_rules = Vec::new();
        match rules.get("metadata") {
            None | Some(Value::Null) => {}
            Some(Value::Object(by_key)) => {
                for (key, mapping) in by_key {
                    let Value::Object(mapping) = mapping else {
                        return Err(invalid(format!("`rules.metadata.{key}` must be an object of value → models")));
                    };
                    for (value, models) in mapping {
                        let ok = models.as_array().is_some_and(|m| m.iter().all(Value::is_string));
                        if !ok {
                            return Err(invalid(format!(
                                "`rules.metadata.{key}.{value}` must be a list of model names"
                            )));
                        }
                    }
                    metadata_rules.push((key.clone(), mapping.clone()));
                }
            }
            Some(other) => {
                return Err(invalid(format!("`rules.metadata` must be an object, not {}", kind(other))))
            }
        }
        if defaults.is_empty() && metadata_rules.iter().all(|(_, m)| m.is_empty()) {
            return Err(invalid("`rules` names no models (no `defaults`, no `metadata` rules)"));
        }
        Ok(Arc::new(Prepared {
            defaults,
            rules: metadata_rules,
            not: p.not()?,
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
        let model = request_model(cx)?;
        let mut matched: BTreeSet<&str> = BTreeSet::new();
        let mut matched_rules: Vec<String> = Vec::new();
        for (key, mapping) in &self.rules {
            let values: Vec<String> = match cx.metadata.get(key) {
                None | Some(Value::Null) => continue,
                Some(Value::Array(items)) => items.iter().filter_map(js_string).collect(),
                Some(v) => js_string(v).into_iter().collect(),
            };
            for value in values {
                if let Some(Value::Array(models)) = mapping.get(&value) {
                    matched_rules.push(format!("{key}:{value}"));
                    matched.extend(models.iter().filter_map(Value::as_str).filter(|m| !m.is_empty()));
                }
            }
        }
        let using_defaults = matched.is_empty();
        let in_list = if using_defaults {
            if self.defaults.is_empty() {
                return Err(CheckError::Failed("No allowed models resolved from rules".into()));
            }
            self.defaults.iter().any(|m| m == model)
        } else {
            matched.contains(model)
        };
        let verdict = in_list != self.not;
        let mut explanation = match (verdict, self.not) {
            (true, true) => format!("Model \"{model}\" is not permitted by rules (blocked list)."),
            (true, false) => format!("Model \"{model}\" is allowed by rules."),
            (false, true) => format!("Model \"{model}\" is permitted by rules (in blocked list)."),
            (false, false) => format!("Model \"{model}\" is not allowed by rules."),
        };
        if verdict {
            if !matched_rules.is_empty() {
                explanation.push_str(&format!(" (matched rules: {})", matched_rules.join(", ")));
            } else if using_defaults {
                explanation.push_str(" (using default models)");
            }
        }
        Ok(CheckOutcome::new(verdict, json!({ "explanation": explanation })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{error, outcome, Cx};

    fn req(model: &str, metadata: Value) -> Cx {
        Cx::chat(json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})).with_metadata(metadata)
    }

    #[test]
    fn verdicts() {
        let rules = json!({
            "defaults": ["gpt-4o-mini"],
            "metadata": {
                "tier": {"pro": ["gpt-4o", "claude-3-5-sonnet"], "free": ["gpt-4o-mini"]},
                "team": {"research": ["o1"]}
            }
        });
        let cases = [
            ("gpt-4o-mini", json!({}), false, true, "Model \"gpt-4o-mini\" is allowed by rules. (using default models)"),
            ("gpt-4o", json!({}), false, false, "Model \"gpt-4o\" is not allowed by rules."),
            ("gpt-4o", json!({"tier": "pro"}), false, true, "Model \"gpt-4o\" is allowed by rules. (matched rules: tier:pro)"),
            ("gpt-4o-mini", json!({"tier": "pro"}), false, false, "Model \"gpt-4o-mini\" is not allowed by rules."),
            ("o1", json!({"tier": "pro", "team": ["x", "research"]}), false, true, "Model \"o1\" is allowed by rules. (matched rules: team:research, tier:pro)"),
            ("gpt-4o", json!({"tier": "enterprise"}), false, false, "Model \"gpt-4o\" is not allowed by rules."),
            ("gpt-4o", json!({"tier": "pro"}), true, false, "Model \"gpt-4o\" is permitted by rules (in blocked list)."),
            ("o1", json!({"tier": "pro"}), true, true, "Model \"o1\" is not permitted by rules (blocked list). (matched rules: tier:pro)"),
        ];
        for (model, metadata, not, verdict, explanation) in cases {
            let o = outcome(&ModelRules, json!({"rules": rules, "not": not}), &req(model, metadata.clone()));
            assert_eq!(o, CheckOutcome::new(verdict, json!({"explanation": explanation})), "{model} {metadata}");
        }
        // Numbers and booleans in metadata compare as JavaScript strings.
        let rules = json!({"metadata": {"level": {"2": ["m"], "true": ["n"]}}});
        assert!(outcome(&ModelRules, json!({"rules": rules}), &req("m", json!({"level": 2}))).verdict);
        assert!(outcome(&ModelRules, json!({"rules": rules}), &req("n", json!({"level": true}))).verdict);
    }

    #[test]
    fn errors() {
        let ok = json!({"defaults": ["a"]});
        let cases = [
            (json!({}), req("a", json!({})), "invalid: `rules` is required"),
            (json!({"rules": []}), req("a", json!({})), "invalid: `rules` must be an object"),
            (json!({"rules": {}}), req("a", json!({})), "invalid: `rules` names no models"),
            (json!({"rules": {"defaults": "a"}}), req("a", json!({})), "invalid: `rules.defaults` must be a list"),
            (json!({"rules": {"metadata": []}}), req("a", json!({})), "invalid: `rules.metadata` must be an object"),
            (json!({"rules": {"metadata": {"k": ["a"]}}}), req("a", json!({})), "invalid: `rules.metadata.k` must be an object"),
            (json!({"rules": {"metadata": {"k": {"v": "a"}}}}), req("a", json!({})), "invalid: `rules.metadata.k.v` must be a list"),
            (json!({"rules": ok, "not": 1}), req("a", json!({})), "invalid: `not` must be a boolean"),
            (json!({"rules": {"metadata": {"k": {"v": ["a"]}}}}), req("a", json!({})), "No allowed models resolved from rules"),
            (json!({"rules": ok}), Cx::chat(json!({"messages": []})), "Missing model in request"),
        ];
        for (params, cx, want) in cases {
            let got = error(&ModelRules, params.clone(), &cx);
            assert!(got.contains(want), "{params}: {got}");
        }
    }
}
