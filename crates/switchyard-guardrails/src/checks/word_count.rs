//! `default.wordCount`: passes when the number of words is within `minWords..=maxWords`.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::params::Params;
use crate::util::excerpt;
use crate::{ready, text, Check, CheckContext, CheckError, CheckFuture, CheckOutcome, PreparedCheck};

/// `default.wordCount`. Parameters: `minWords` (default 0), `maxWords` (default 99999), `not`
/// (default false: with it, passes when the count is *outside* the range). Words are runs of
/// non-whitespace (Portkey: `text.trim().split(/\s+/)`).
pub struct WordCount;

struct Prepared {
    min: u64,
    max: u64,
    not: bool,
}

impl Check for WordCount {
    fn id(&self) -> &'static str {
        "default.wordCount"
    }

    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
        let p = Params::new(params)?;
        let (min, max) = p.range(("minWords", 0), ("maxWords", 99_999))?;
        Ok(Arc::new(Prepared { min, max, not: p.not()? }))
    }
}

/// The number of whitespace-separated words.
pub fn count_words(text: &str) -> u64 {
    if text.is_ascii() {
        // The common case, byte by byte: count the starts of non-whitespace runs.
        let mut count = 0;
        let mut in_word = false;
        for &b in text.as_bytes() {
            let space = matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
            count += u64::from(!space && !in_word);
            in_word = !space;
        }
        count
    } else {
        text.split_whitespace().count() as u64
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
        let text = text.trim();
        if text.is_empty() {
            return Err(CheckError::Failed("Missing text to analyze".into()));
        }
        let count = count_words(text);
        let in_range = (self.min..=self.max).contains(&count);
        let verdict = in_range != self.not;
        let (min, max) = (self.min, self.max);
        let explanation = match (verdict, self.not) {
            (true, true) => format!("The text contains {count} words, which is outside the specified range of {min}-{max} words as expected."),
            (true, false) => format!("The text contains {count} words, which is within the specified range of {min}-{max} words."),
            (false, true) => format!("The text contains {count} words, which is within the specified range of {min}-{max} words when it should not be."),
            (false, false) => format!("The text contains {count} words, which is outside the specified range of {min}-{max} words."),
        };
        Ok(CheckOutcome::new(
            verdict,
            json!({
                "wordCount": count,
                "minWords": min,
                "maxWords": max,
                "not": self.not,
                "verdict": verdict,
                "explanation": explanation,
                "textExcerpt": excerpt(text),
            }),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{error, outcome, Cx};

    #[test]
    fn counts_words() {
        for (text, want) in [
            ("", 0),
            ("one", 1),
            ("  two\twords\n", 2),
            ("This is a sentence with 7 words.", 7),
            ("héllo wörld\u{3000}three", 3),
            ("a\u{a0}b\u{b}c", 3), // no-break space and vertical tab are whitespace, as in JS
        ] {
            assert_eq!(count_words(text), want, "{text:?}");
        }
    }

    #[test]
    fn verdicts() {
        let seven = "This is a sentence with 7 words.";
        let cases = [
            (json!({"minWords": 5, "maxWords": 8}), seven, true, "which is within the specified range of 5-8 words."),
            (json!({"minWords": 10, "maxWords": 15}), seven, false, "which is outside the specified range of 10-15 words."),
            (json!({"minWords": 10, "maxWords": 15, "not": true}), seven, true, "as expected."),
            (json!({"minWords": 7, "maxWords": 7, "not": true}), seven, false, "when it should not be."),
            (json!({}), seven, true, "range of 0-99999 words."),
            (json!({"maxWords": 6}), seven, false, "range of 0-6 words."),
        ];
        for (params, text, verdict, explanation) in cases {
            let o = outcome(&WordCount, params.clone(), &Cx::assistant(text));
            assert_eq!(o.verdict, verdict, "{params}");
            assert!(o.data["explanation"].as_str().unwrap().ends_with(explanation), "{params}: {}", o.data);
        }
        let o = outcome(&WordCount, json!({"minWords": 5, "maxWords": 8}), &Cx::assistant(seven));
        assert_eq!(
            o.data,
            json!({"wordCount": 7, "minWords": 5, "maxWords": 8, "not": false, "verdict": true,
                   "explanation": "The text contains 7 words, which is within the specified range of 5-8 words.",
                   "textExcerpt": seven})
        );
        let o = outcome(&WordCount, json!({"minWords": 40, "maxWords": 60}), &Cx::assistant(&"word ".repeat(50)));
        assert_eq!(o.data["wordCount"], 50);
        assert!(o.data["textExcerpt"].as_str().unwrap().ends_with("..."));
    }

    #[test]
    fn errors() {
        let cases = [
            (json!({"minWords": "invalid", "maxWords": 5}), Cx::assistant("x"), "invalid: `minWords` must be a whole number"),
            (json!({"minWords": -1}), Cx::assistant("x"), "invalid: `minWords` must be zero or more"),
            (json!({"maxWords": 2.5}), Cx::assistant("x"), "invalid: `maxWords` must be a whole number"),
            (json!({"maxWords": 1e30}), Cx::assistant("x"), "invalid: `maxWords` must be at most"),
            (json!({"minWords": 6, "maxWords": 5}), Cx::assistant("x"), "invalid: `minWords` (6) is greater"),
            (json!({}), Cx::assistant(""), "Missing text to analyze"),
            (json!({}), Cx::assistant("   \n\t   "), "Missing text to analyze"),
            (json!({}), Cx::streamed(), "Missing text to analyze"),
        ];
        for (params, cx, want) in cases {
            let got = error(&WordCount, params.clone(), &cx);
            assert!(got.contains(want), "{params}: {got}");
        }
    }
}
