//! `default.regexMatch`: passes when the text matches `rule` (or, with `not`, when it doesn't).

use std::sync::Arc;

use regex::Regex;
use serde_json::{json, Map, Value};

use crate::params::Params;
use crate::util::{excerpt, user_regex, utf16_index, Flags};
use crate::{ready, text, Check, CheckContext, CheckError, CheckFuture, CheckOutcome, PreparedCheck};

/// `default.regexMatch`. Parameters: `rule` (required; `regex`-crate syntax, no look-around or
/// backreferences), `not` (default false).
pub struct RegexMatch;

struct Prepared {
    rule: String,
    regex: Regex,
    not: bool,
}

impl Check for RegexMatch {
    fn id(&self) -> &'static str {
        "default.regexMatch"
    }

    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
        let p = Params::new(params)?;
        let rule = p.required_str("rule")?;
        Ok(Arc::new(Prepared {
            regex: user_regex("rule", rule, Flags::default())?,
            rule: rule.to_owned(),
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
        let text = text::require_text(cx, "Missing text to match")?;
        let details = self.match_details(&text);
        let matched = details.is_some();
        let verdict = matched != self.not;
        let rule = &self.rule;
        let explanation = match (verdict, self.not) {
            (true, true) => format!("The regex pattern '{rule}' did not match the text as expected."),
            (true, false) => format!("The regex pattern '{rule}' successfully matched the text."),
            (false, true) => format!("The regex pattern '{rule}' matched the text when it should not have."),
            (false, false) => format!("The regex pattern '{rule}' did not match the text."),
        };
        Ok(CheckOutcome::new(
            verdict,
            json!({
                "regexPattern": rule,
                "not": self.not,
                "verdict": verdict,
                "explanation": explanation,
                "matchDetails": details,
                "textExcerpt": excerpt(&text),
            }),
        ))
    }

    /// Portkey's `matchDetails`: the match, its (UTF-16) index, named groups and positional
    /// captures (`null` for a group that did not take part).
    fn match_details(&self, text: &str) -> Option<Value> {
        if self.regex.captures_len() == 1 {
            // No groups: the plain search is cheaper than resolving captures.
            let m = self.regex.find(text)?;
            return Some(json!({
                "matchedText": m.as_str(),
                "index": utf16_index(text, m.start()),
                "groups": {},
                "captures": [],
            }));
        }
        let caps = self.regex.captures(text)?;
        let whole = caps.get(0)?;
        let text_of = |m: Option<regex::Match<'_>>| m.map_or(Value::Null, |m| m.as_str().into());
        let groups: Map<String, Value> = self
            .regex
            .capture_names()
            .enumerate()
            .filter_map(|(i, name)| Some((name?.to_owned(), text_of(caps.get(i)))))
            .collect();
        let captures: Vec<Value> = (1..caps.len()).map(|i| text_of(caps.get(i))).collect();
        Some(json!({
            "matchedText": whole.as_str(),
            "index": utf16_index(text, whole.start()),
            "groups": groups,
            "captures": captures,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{error, outcome, Cx};

    const FOX: &str = "The quick brown fox jumps over the lazy dog.";

    #[test]
    fn verdicts() {
        let cases = [
            (json!({"rule": "quick.*fox"}), FOX, true, "successfully matched"),
            (json!({"rule": "zebra", "not": false}), FOX, false, "did not match the text."),
            (json!({"rule": "zebra", "not": true}), FOX, true, "did not match the text as expected"),
            (json!({"rule": "fox", "not": true}), FOX, false, "when it should not have"),
            (json!({"rule": "^The", "failOnError": true}), FOX, true, "successfully matched"),
            (json!({"rule": "(?i)QUICK"}), FOX, true, "successfully matched"),
        ];
        for (params, text, verdict, explanation) in cases {
            let o = outcome(&RegexMatch, params.clone(), &Cx::assistant(text));
            assert_eq!(o.verdict, verdict, "{params}");
            assert!(o.data["explanation"].as_str().unwrap().contains(explanation), "{params}: {}", o.data);
            assert_eq!(o.transformed, None);
        }
    }

    #[test]
    fn match_details() {
        let cases = [
            ("quick.*fox", json!({"matchedText": "quick brown fox", "index": 4, "groups": {}, "captures": []})),
            (
                "(quick) (brown) (fox)",
                json!({"matchedText": "quick brown fox", "index": 4, "groups": {}, "captures": ["quick", "brown", "fox"]}),
            ),
            (
                "(?<adjective1>quick) (?<adjective2>brown) (?<animal>fox)",
                json!({"matchedText": "quick brown fox", "index": 4,
                       "groups": {"adjective1": "quick", "adjective2": "brown", "animal": "fox"},
                       "captures": ["quick", "brown", "fox"]}),
            ),
            ("(cat)?dog", json!({"matchedText": "dog", "index": 40, "groups": {}, "captures": [null]})),
            ("zebra", Value::Null),
        ];
        for (rule, want) in cases {
            let o = outcome(&RegexMatch, json!({"rule": rule}), &Cx::user(FOX));
            assert_eq!(o.data["matchDetails"], want, "{rule}");
        }
        // JavaScript indexes count UTF-16 units.
        let o = outcome(&RegexMatch, json!({"rule": "x"}), &Cx::user("😀éx"));
        assert_eq!(o.data["matchDetails"]["index"], 3);
    }

    #[test]
    fn excerpt_and_parts() {
        let long = "a".repeat(200);
        let o = outcome(&RegexMatch, json!({"rule": "a"}), &Cx::assistant(&long));
        assert_eq!(o.data["textExcerpt"], format!("{}...", "a".repeat(100)));
        let parts = Cx::chat(json!({"messages": [{"role": "user", "content": [
            {"type": "text", "text": "first"}, {"type": "image_url", "image_url": {"url": "u"}}, {"type": "text", "text": "second"}
        ]}]}));
        let o = outcome(&RegexMatch, json!({"rule": "first\nsecond"}), &parts);
        assert!(o.verdict);
    }

    #[test]
    fn errors() {
        let cases = [
            (json!({"rule": "("}), Cx::user(FOX), "invalid: `rule` is not a valid regex"),
            (json!({"rule": ""}), Cx::user(FOX), "invalid: `rule` is required"),
            (json!({}), Cx::user(FOX), "invalid: `rule` is required"),
            (json!({"rule": 5}), Cx::user(FOX), "invalid: `rule` must be a string"),
            (json!({"rule": "a", "not": "yes"}), Cx::user(FOX), "invalid: `not` must be a boolean"),
            (json!({"rule": "(?=a)"}), Cx::user(FOX), "invalid: `rule` is not a valid regex"),
            (json!({"rule": "test"}), Cx::assistant(""), "Missing text to match"),
            (json!({"rule": "test"}), Cx::streamed(), "Missing text to match"),
            (json!({"rule": "test"}), Cx::chat(json!({"messages": []})), "no messages"),
        ];
        for (params, cx, want) in cases {
            let got = error(&RegexMatch, params.clone(), &cx);
            assert!(got.contains(want), "{params}: {got}");
        }
    }
}
