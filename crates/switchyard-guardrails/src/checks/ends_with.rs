//! `default.endsWith`: passes when the text ends with `suffix` (or `suffix.`).

use std::sync::Arc;

use serde_json::{json, Value};

use crate::params::Params;
use crate::util::excerpt;
use crate::{ready, text, Check, CheckContext, CheckError, CheckFuture, CheckOutcome, PreparedCheck};

/// `default.endsWith`. Parameters: `suffix` (required, non-empty), `not` (default false). Like
/// Portkey, the suffix followed by a period also counts. Unlike Portkey, trailing whitespace of
/// the text is ignored (model output often ends with a newline).
pub struct EndsWith;

struct Prepared {
    suffix: String,
    with_period: String,
    not: bool,
}

impl Check for EndsWith {
    fn id(&self) -> &'static str {
        "default.endsWith"
    }

    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
        let p = Params::new(params)?;
        let suffix = p.required_str("suffix")?;
        Ok(Arc::new(Prepared {
            suffix: suffix.to_owned(),
            with_period: format!("{suffix}."),
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
        let text = text::require_text(cx, "Missing text to analyze")?;
        let trimmed = text.trim_end();
        let ends = |t: &str| t.ends_with(&self.suffix) || t.ends_with(&self.with_period);
        let ends_with = ends(&text) || ends(trimmed);
        let period = !trimmed.ends_with(&self.suffix) && trimmed.ends_with(&self.with_period);
        let verdict = ends_with != self.not;
        let suffix = &self.suffix;
        let explanation = match (verdict, self.not) {
            (true, true) => format!("The text does not end with \"{suffix}\" as expected."),
            (true, false) => format!(
                "The text ends with \"{suffix}\"{}.",
                if period { " (including trailing period)" } else { "" }
            ),
            (false, true) => format!("The text ends with \"{suffix}\" when it should not."),
            (false, false) => format!("The text does not end with \"{suffix}\"."),
        };
        Ok(CheckOutcome::new(
            verdict,
            json!({
                "suffix": suffix,
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
            (json!({"suffix": "HarryPortkey", "not": false}), "This is a test ending with HarryPortkey", true, "The text ends with \"HarryPortkey\"."),
            (json!({"suffix": "HarryPortkey"}), "This is a test ending with HarryPortkey.", true, "The text ends with \"HarryPortkey\" (including trailing period)."),
            (json!({"suffix": "HarryPortkey"}), "ending with HarryPortkey\n", true, "The text ends with \"HarryPortkey\"."),
            (json!({"suffix": "HarryPortkey"}), "This is a test ending with something else", false, "The text does not end with \"HarryPortkey\"."),
            (json!({"suffix": "HarryPortkey", "not": true}), "ending with something else", true, "The text does not end with \"HarryPortkey\" as expected."),
            (json!({"suffix": "HarryPortkey", "not": true}), "ending with HarryPortkey", false, "The text ends with \"HarryPortkey\" when it should not."),
            (json!({"suffix": "end."}), "the end.", true, "The text ends with \"end.\"."),
        ];
        for (params, text, verdict, explanation) in cases {
            let o = outcome(&EndsWith, params.clone(), &Cx::assistant(text));
            assert_eq!(o.verdict, verdict, "{params} {text:?}");
            assert_eq!(o.data["explanation"], explanation, "{params} {text:?}");
            assert_eq!(o.data["textExcerpt"], text);
        }
    }

    #[test]
    fn errors() {
        let cases = [
            (json!({"suffix": "x"}), Cx::assistant(""), "Missing text to analyze"),
            (json!({}), Cx::assistant("x"), "invalid: `suffix` is required"),
            (json!({"suffix": ""}), Cx::assistant("x"), "invalid: `suffix` is required"),
        ];
        for (params, cx, want) in cases {
            let got = error(&EndsWith, params.clone(), &cx);
            assert!(got.contains(want), "{params}: {got}");
        }
    }
}
