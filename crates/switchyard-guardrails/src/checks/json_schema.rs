//! `default.jsonSchema`: passes when JSON found in the text validates against `schema`.

use std::sync::Arc;

use jsonschema::{Draft, Validator};
use serde_json::{json, Value};

use crate::json_extract::{extract, Mode};
use crate::params::{invalid, kind, Params};
use crate::{ready, text, Check, CheckContext, CheckError, CheckFuture, CheckOutcome, PreparedCheck};

/// `default.jsonSchema`. Parameters: `schema` (required JSON Schema object, draft 2020-12 unless
/// it says otherwise; `format` is asserted, like Portkey's validator; remote `$ref`s are refused
/// at load time), `not` (default false: passes when the JSON does NOT match).
///
/// The JSON is the whole text, else the ```` ``` ```` fenced blocks, else the outermost `{...}`
/// spans (see `json_extract`). The first candidate that validates wins; otherwise the first one
/// found is reported with its errors (at most 20). Without any JSON the verdict is false
/// whatever `not` says, as in Portkey.
pub struct JsonSchema;

/// At most this many validation errors are reported.
const MAX_ERRORS: usize = 20;

struct Prepared {
    validator: Validator,
    not: bool,
}

impl Check for JsonSchema {
    fn id(&self) -> &'static str {
        "default.jsonSchema"
    }

    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
        let p = Params::new(params)?;
        let schema = match p.get("schema") {
            Some(s @ (Value::Object(_) | Value::Bool(_))) => s,
            Some(other) => {
                return Err(invalid(format!("`schema` must be a JSON Schema object, not {}", kind(other))))
            }
            None => return Err(invalid("`schema` is required (a JSON Schema object)")),
        };
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .should_validate_formats(true)
            .build(schema)
            .map_err(|e| invalid(format!("`schema` is not a valid JSON Schema: {e}")))?;
        Ok(Arc::new(Prepared { validator, not: p.not()? }))
    }
}

impl PreparedCheck for Prepared {
    fn run<'a>(&'a self, cx: &'a CheckContext<'a>) -> CheckFuture<'a> {
        ready(self.check(cx))
    }
}

impl Prepared {
    fn check(&self, cx: &CheckContext<'_>) -> Result<CheckOutcome, CheckError> {
        let text = text::text(cx)?;
        let candidates = extract(&text, Mode::FencesElseBraces);
        let best = candidates
            .iter()
            .find(|c| self.validator.is_valid(c))
            .map(|c| (c, true))
            .or_else(|| candidates.first().map(|c| (c, false)));
        let Some((json, valid)) = best else {
            return Ok(CheckOutcome::new(
                false,
                json!({ "explanation": "No valid JSON found in the response.", "not": self.not }),
            ));
        };
        let errors: Vec<Value> = if valid {
            Vec::new()
        } else {
            self.validator
                .iter_errors(json)
                .take(MAX_ERRORS)
                .map(|e| json!({ "path": e.instance_path().as_str(), "message": e.to_string() }))
                .collect()
        };
        let verdict = valid != self.not;
        let explanation = match (verdict, self.not) {
            (true, true) => "Successfully validated JSON does not match the schema as expected.",
            (true, false) => "Successfully validated JSON against the provided schema.",
            (false, true) => "JSON matches the schema when it should not.",
            (false, false) => "Failed to validate JSON against the provided schema.",
        };
        Ok(CheckOutcome::new(
            verdict,
            json!({
                "matchedJson": json,
                "not": self.not,
                "explanation": explanation,
                "validationErrors": errors,
            }),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{error, outcome, Cx};

    fn key_schema(key: &str) -> Value {
        json!({"type": "object", "properties": {key: {"type": "string"}}, "required": [key]})
    }

    fn profile_schema() -> Value {
        json!({
            "type": "object",
            "properties": {"user": {
                "type": "object",
                "required": ["name", "contact", "preferences"],
                "properties": {
                    "name": {"type": "string"},
                    "contact": {"type": "object", "required": ["email", "phone"], "properties": {
                        "email": {"type": "string", "format": "email"},
                        "phone": {"type": "object", "required": ["country", "number"], "properties": {
                            "country": {"type": "string"}, "number": {"type": "string"}}}}},
                    "preferences": {"type": "object", "required": ["theme", "notifications"], "properties": {
                        "theme": {"type": "string", "enum": ["light", "dark"]},
                        "notifications": {"type": "boolean"}}}
                }
            }},
            "required": ["user"]
        })
    }

    #[test]
    fn verdicts() {
        let cases = [
            (key_schema("key"), false, "adding some text before this ```json\n{\"key\": \"value\"}\n```\n and adding some text after {\"key\":\"value\"}", true, json!({"key": "value"}), "Successfully validated"),
            (key_schema("key2"), false, "{\"key\": \"value\"}", false, json!({"key": "value"}), "Failed to validate"),
            (key_schema("key2"), true, "{\"key\": \"value\"}", true, json!({"key": "value"}), "does not match the schema as expected"),
            (key_schema("key"), true, "{\"key\": \"value\"}", false, json!({"key": "value"}), "matches the schema when it should not"),
            (key_schema("key"), false, "before ```json\n{\"key1\": \"value\"}\n```\n after {\"key\":\"value", false, json!({"key1": "value"}), "Failed to validate"),
            (key_schema("key"), false, "first {\"other\": 1} then {\"key\": \"v\"}", true, json!({"key": "v"}), "Successfully validated"),
            (json!({"type": "array", "items": {"type": "integer"}}), false, "[1, 2, 3]", true, json!([1, 2, 3]), "Successfully validated"),
            (profile_schema(), false, "Here's a profile:\n```json\n{\"user\": {\"name\": \"John Doe\", \"contact\": {\"email\": \"john@example.com\", \"phone\": {\"country\": \"+1\", \"number\": \"555-0123\"}}, \"preferences\": {\"theme\": \"dark\", \"notifications\": true}}}\n```\nThat's all.", true, json!({"user": {"name": "John Doe", "contact": {"email": "john@example.com", "phone": {"country": "+1", "number": "555-0123"}}, "preferences": {"theme": "dark", "notifications": true}}}), "Successfully validated"),
            // A nested object outside a fence (Portkey's lazy regex cannot extract this one).
            (profile_schema(), false, "Profile: {\"user\": {\"name\": \"J\", \"contact\": {\"email\": \"j@example.com\", \"phone\": {\"country\": \"+1\", \"number\": \"1\"}}, \"preferences\": {\"theme\": \"light\", \"notifications\": false}}} ok", true, json!({"user": {"name": "J", "contact": {"email": "j@example.com", "phone": {"country": "+1", "number": "1"}}, "preferences": {"theme": "light", "notifications": false}}}), "Successfully validated"),
        ];
        for (schema, not, text, verdict, matched, explanation) in cases {
            let o = outcome(&JsonSchema, json!({"schema": schema, "not": not}), &Cx::assistant(text));
            assert_eq!(o.verdict, verdict, "{text:?}");
            assert_eq!(o.data["matchedJson"], matched, "{text:?}");
            assert!(o.data["explanation"].as_str().unwrap().contains(explanation), "{text:?}: {}", o.data);
            assert!(o.data["validationErrors"].is_array());
        }
    }

    #[test]
    fn reports_validation_errors() {
        let text = "```json\n{\"user\": {\"name\": \"John Doe\", \"contact\": {\"email\": \"invalid-email\", \"phone\": {\"country\": \"+1\"}}, \"preferences\": {\"theme\": \"invalid-theme\", \"notifications\": \"not-a-boolean\"}}}\n```";
        let o = outcome(&JsonSchema, json!({"schema": profile_schema()}), &Cx::assistant(text));
        assert!(!o.verdict);
        let errors = o.data["validationErrors"].as_array().unwrap();
        let paths: Vec<&str> = errors.iter().map(|e| e["path"].as_str().unwrap()).collect();
        for want in ["/user/contact/email", "/user/contact/phone", "/user/preferences/theme", "/user/preferences/notifications"] {
            assert!(paths.contains(&want), "{want} not in {paths:?}");
        }
        assert!(errors.iter().all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty())));
    }

    #[test]
    fn no_json() {
        for (text, not) in [("This is just plain text with no JSON", false), ("plain", true), ("", false)] {
            let o = outcome(&JsonSchema, json!({"schema": key_schema("key"), "not": not}), &Cx::assistant(text));
            assert_eq!(o, CheckOutcome::new(false, json!({"explanation": "No valid JSON found in the response.", "not": not})));
        }
    }

    #[test]
    fn errors() {
        let cases = [
            (json!({}), "invalid: `schema` is required"),
            (json!({"schema": "{}"}), "invalid: `schema` must be a JSON Schema object"),
            (json!({"schema": {"type": "nope"}}), "invalid: `schema` is not a valid JSON Schema"),
            (json!({"schema": {"$ref": "https://example.com/schema.json"}}), "invalid: `schema` is not a valid JSON Schema"),
            (json!({"schema": {}, "not": []}), "invalid: `not` must be a boolean"),
        ];
        for (params, want) in cases {
            let got = error(&JsonSchema, params.clone(), &Cx::assistant("{}"));
            assert!(got.contains(want), "{params}: {got}");
        }
    }
}
