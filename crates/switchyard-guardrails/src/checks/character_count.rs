//! `default.characterCount`: passes when the number of characters is within
//! `minCharacters..=maxCharacters`.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::params::Params;
use crate::util::excerpt;
use crate::{ready, text, Check, CheckContext, CheckError, CheckFuture, CheckOutcome, PreparedCheck};

/// `default.characterCount`. Parameters: `minCharacters` (default 0), `maxCharacters` (default
/// 9999999), `not` (default false). Counts Unicode scalar values; Portkey counts UTF-16 units, so
/// a character outside the Basic Multilingual Plane (an emoji) counts 1 here and 2 there.
pub struct CharacterCount;

struct Prepared {
    min: u64,
    max: u64,
    not: bool,
}

impl Check for CharacterCount {
    fn id(&self) -> &'static str {
        "default.characterCount"
    }

    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
        let p = Params::new(params)?;
        let (min, max) = p.range(("minCharacters", 0), ("maxCharacters", 9_999_999))?;
        Ok(Arc::new(Prepared { min, max, not: p.not()? }))
    }
}

impl PreparedCheck for Prepared {
    fn run<'a>(&'a self, cx: &'a CheckContext<'a>) -> CheckFuture<'a> {
        ready(self.check(cx))
    }
}

impl Prepared {
    fn check(&self, cx: &CheckContext<'_>) -> Result<CheckOutcome, CheckError> {
        let text = text::require_text(cx, "Missing text to analyze")?;
        let count = text.chars().count() as u64;
        let in_range = (self.min..=self.max).contains(&count);
        let verdict = in_range != self.not;
        let (min, max) = (self.min, self.max);
        let explanation = match (verdict, self.not) {
            (true, true) => format!("The text contains {count} characters, which is outside the specified range of {min}-{max} characters as expected."),
            (true, false) => format!("The text contains {count} characters, which is within the specified range of {min}-{max} characters."),
            (false, true) => format!("The text contains {count} characters, which is within the specified range of {min}-{max} characters when it should not be."),
            (false, false) => format!("The text contains {count} characters, which is outside the specified range of {min}-{max} characters."),
        };
        Ok(CheckOutcome::new(
            verdict,
            json!({
                "characterCount": count,
                "minCharacters": min,
                "maxCharacters": max,
                "not": self.not,
                "verdict": verdict,
                "explanation": explanation,
                "textExcerpt": excerpt(&text),
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
        let cases = [
            (json!({"minCharacters": 10, "maxCharacters": 50}), "This is a test.", true, "15 characters, which is within the specified range of 10-50 characters."),
            (json!({"minCharacters": 1, "maxCharacters": 5}), "This is a test.", false, "15 characters, which is outside the specified range of 1-5 characters."),
            (json!({"minCharacters": 1, "maxCharacters": 5, "not": true}), "This is a test.", true, "as expected."),
            (json!({"minCharacters": 1, "maxCharacters": 5}), "😀é", true, "2 characters"),
            (json!({"minCharacters": 1, "maxCharacters": 10}), "   ", true, "3 characters"),
            (json!({}), "x", true, "range of 0-9999999 characters."),
        ];
        for (params, text, verdict, explanation) in cases {
            let o = outcome(&CharacterCount, params.clone(), &Cx::assistant(text));
            assert_eq!(o.verdict, verdict, "{params}");
            assert!(o.data["explanation"].as_str().unwrap().contains(explanation), "{params}: {}", o.data);
        }
    }

    #[test]
    fn errors() {
        let cases = [
            (json!({"minCharacters": "1"}), Cx::assistant("x"), "invalid: `minCharacters` must be a whole number"),
            (json!({"maxCharacters": -3}), Cx::assistant("x"), "invalid: `maxCharacters` must be zero or more"),
            (json!({"minCharacters": 3, "maxCharacters": 2}), Cx::assistant("x"), "invalid: `minCharacters` (3) is greater"),
            (json!({}), Cx::assistant(""), "Missing text to analyze"),
        ];
        for (params, cx, want) in cases {
            let got = error(&CharacterCount, params.clone(), &cx);
            assert!(got.contains(want), "{params}: {got}");
        }
    }
}
