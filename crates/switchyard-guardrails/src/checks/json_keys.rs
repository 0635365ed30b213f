//! `default.jsonKeys`: passes when JSON found in the text has any / all / none of `keys`.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::json_extract::{extract, Mode};
use crate::params::{Operator, Params};
use crate::util::excerpt;
use crate::{ready, text, Check, CheckContext, CheckError, CheckFuture, CheckOutcome, PreparedCheck};

/// `default.jsonKeys`. Parameters: `keys` (required, non-empty list of top-level keys),
/// `operator` (`any` | `all` | `none`, default `any`). The JSON is found like `jsonSchema`'s, but
/// fenced and unfenced candidates are all considered (as in Portkey). The first candidate that
/// passes wins; otherwise the one with the most keys present is reported.
pub struct JsonKeys;

struct Prepared {
    keys: Vec<String>,
    operator: Operator,
}

impl Check for JsonKeys {
    fn id(&self) -> &'static str {
        "default.jsonKeys"
    }

    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
        let p = Params::new(params)?;
        Ok(Arc::new(Prepared {
            keys: p.required_list("keys")?,
            operator: p.operator("operator", Operator::Any)?,
        }))
    }
}

impl PreparedCheck for Prepared {
    fn run<'a>(&'a self, cx: &'a CheckContext<'a>) -> CheckFuture<'a> {
        ready(self.check(cx))
    }
}

struct Best<'a> {
    json: Option<&'a Value>,
    present: Vec<&'a String>,
    missing: Vec<&'a String>,
    verdict: bool,
}

impl Prepared {
    fn check(&self, cx: &CheckContext<'_>) -> Result<CheckOutcome, CheckError> {
        let text = text::require_text(cx, "Missing text to analyze")?;
        let op = self.operator.as_str();
        let candidates = extract(&text, Mode::FencesAndBraces);
        if candidates.is_empty() {
            return Ok(CheckOutcome::new(
                false,
                json!({
                    "explanation": "No valid JSON found in the text.",
                    "requiredKeys": self.keys,
                    "operator": op,
                    "textExcerpt": excerpt(&text),
                }),
            ));
        }
        let mut best = Best {
            json: None,
            present: Vec::new(),
            missing: self.keys.iter().collect(),
            verdict: false,
        };
        for candidate in &candidates {
            let (present, missing): (Vec<&String>, Vec<&String>) = self
                .keys
                .iter()
                .partition(|k| candidate.as_object().is_some_and(|o| o.contains_key(k.as_str())));
            let verdict = self.operator.verdict(present.len(), missing.len());
            if verdict || present.len() > best.present.len() {
                best = Best { json: Some(candidate), present, missing, verdict };
            }
            if verdict {
                break;
            }
        }
        Ok(CheckOutcome::new(
            best.verdict,
            json!({
                "matchedJson": best.json,
                "verdict": best.verdict,
                "explanation": explanation(self.operator, &best.present, &best.missing, best.verdict),
                "presentKeys": best.present,
                "missingKeys": best.missing,
                "operator": op,
                "textExcerpt": excerpt(&text),
            }),
        ))
    }
}

fn explanation(operator: Operator, present: &[&String], missing: &[&String], verdict: bool) -> String {
    let list = |keys: &[&String]| keys.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ");
    let present = if present.is_empty() {
        "No matching keys found".to_owned()
    } else {
        format!("Found keys: [{}]", list(present))
    };
    let missing = if missing.is_empty() {
        "No missing keys".to_owned()
    } else {
        format!("Missing keys: [{}]", list(missing))
    };
    match (operator, verdict) {
        (Operator::Any, true) => format!("Successfully found at least one required key. {present}."),
        (Operator::Any, false) => format!("Failed to find any required keys. {missing}."),
        (Operator::All, true) => format!("Successfully found all required keys. {present}."),
        (Operator::All, false) => format!("Failed to find all required keys. {missing}."),
        (Operator::None, true) => format!("Successfully verified no required keys are present. {missing}."),
        (Operator::None, false) => format!("Found some keys that should not be present. {present}."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{error, outcome, Cx};

    const TWO: &str = "{\"key1\": \"value1\", \"key2\": \"value2\"}";

    #[test]
    fn portkey_cases() {
        let cases = [
            (json!({"keys": ["key1", "key3"], "operator": "any"}), true,
             json!({"matchedJson": {"key1": "value1", "key2": "value2"}, "verdict": true,
                    "explanation": "Successfully found at least one required key. Found keys: [key1].",
                    "presentKeys": ["key1"], "missingKeys": ["key3"], "operator": "any", "textExcerpt": TWO})),
            (json!({"keys": ["key1", "key2"], "operator": "all"}), true,
             json!({"matchedJson": {"key1": "value1", "key2": "value2"}, "verdict": true,
                    "explanation": "Successfully found all required keys. Found keys: [key1, key2].",
                    "presentKeys": ["key1", "key2"], "missingKeys": [], "operator": "all", "textExcerpt": TWO})),
            (json!({"keys": ["key3", "key4"], "operator": "none"}), true,
             json!({"matchedJson": {"key1": "value1", "key2": "value2"}, "verdict": true,
                    "explanation": "Successfully verified no required keys are present. Missing keys: [key3, key4].",
                    "presentKeys": [], "missingKeys": ["key3", "key4"], "operator": "none", "textExcerpt": TWO})),
        ];
        for (params, verdict, data) in cases {
            assert_eq!(outcome(&JsonKeys, params.clone(), &Cx::assistant(TWO)), CheckOutcome::new(verdict, data), "{params}");
        }
    }

    #[test]
    fn verdicts() {
        let cases = [
            ("```json\n{\"key1\": \"value1\", \"key2\": \"value2\"}\n```", json!({"keys": ["key1"]}), true, json!(["key1"]), "Successfully found at least one required key. Found keys: [key1]."),
            ("{\"key1\": \"value1\"} {\"key2\": \"value2\", \"key3\": \"value3\"}", json!({"keys": ["key2", "key3"], "operator": "all"}), true, json!(["key2", "key3"]), "Successfully found all required keys. Found keys: [key2, key3]."),
            ("{\"a\": 1}", json!({"keys": ["a", "b"], "operator": "all"}), false, json!(["a"]), "Failed to find all required keys. Missing keys: [b]."),
            ("{\"a\": 1}", json!({"keys": ["b"]}), false, json!([]), "Failed to find any required keys. Missing keys: [b]."),
            ("{\"a\": 1}", json!({"keys": ["a"], "operator": "none"}), false, json!(["a"]), "Found some keys that should not be present. Found keys: [a]."),
            ("[1, 2]", json!({"keys": ["a"], "operator": "none"}), true, json!([]), "Successfully verified no required keys are present. Missing keys: [a]."),
        ];
        for (text, params, verdict, present, explanation) in cases {
            let o = outcome(&JsonKeys, params.clone(), &Cx::assistant(text));
            assert_eq!(o.verdict, verdict, "{text}");
            assert_eq!(o.data["presentKeys"], present, "{text}");
            assert_eq!(o.data["explanation"], explanation, "{text}");
        }
        let o = outcome(&JsonKeys, json!({"keys": ["key1"]}), &Cx::assistant("This is just plain text with no JSON"));
        assert_eq!(
            o,
            CheckOutcome::new(false, json!({"explanation": "No valid JSON found in the text.", "requiredKeys": ["key1"],
                                            "operator": "any", "textExcerpt": "This is just plain text with no JSON"}))
        );
    }

    #[test]
    fn errors() {
        let cases = [
            (json!({"keys": ["key1"], "operator": "any"}), Cx::assistant(""), "Missing text to analyze"),
            (json!({"operator": "any"}), Cx::assistant(TWO), "invalid: `keys` is required"),
            (json!({"keys": []}), Cx::assistant(TWO), "invalid: `keys` is required"),
            (json!({"keys": ["key1"], "operator": "invalid"}), Cx::assistant(TWO), "invalid: `operator` must be"),
        ];
        for (params, cx, want) in cases {
            let got = error(&JsonKeys, params.clone(), &cx);
            assert!(got.contains(want), "{params}: {got}");
        }
    }
}
