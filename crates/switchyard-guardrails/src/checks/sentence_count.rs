//! `default.sentenceCount`: passes when the number of sentences is within
//! `minSentences..=maxSentences`.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::params::Params;
use crate::util::excerpt;
use crate::{ready, text, Check, CheckContext, CheckError, CheckFuture, CheckOutcome, PreparedCheck};

/// `default.sentenceCount`. Parameters: `minSentences` (default 0), `maxSentences` (default
/// 99999), `not` (default false). An empty text has 0 sentences (it is not an error, as in
/// Portkey).
///
/// A sentence is counted per run of terminators `.`, `!`, `?`. Portkey counts each terminator
/// character (`text.split(/[.!?]/).length - 1`), so `"Wait... what?!"` is 5 sentences there and 2
/// here.
pub struct SentenceCount;

struct Prepared {
    min: u64,
    max: u64,
    not: bool,
}

impl Check for SentenceCount {
    fn id(&self) -> &'static str {
        "default.sentenceCount"
    }

    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
        let p = Params::new(params)?;
        let (min, max) = p.range(("minSentences", 0), ("maxSentences", 99_999))?;
        Ok(Arc::new(Prepared { min, max, not: p.not()? }))
    }
}

/// The number of runs of `.`, `!` and `?`.
pub fn count_sentences(text: &str) -> u64 {
    let mut count = 0;
    let mut in_run = false;
    for &b in text.as_bytes() {
        let terminator = matches!(b, b'.' | b'!' | b'?');
        count += u64::from(terminator && !in_run);
        in_run = terminator;
    }
    count
}

impl PreparedCheck for Prepared {
    fn run<'a>(&'a self, cx: &'a CheckContext<'a>) -> CheckFuture<'a> {
        ready(self.check(cx))
    }
}

impl Prepared {
    fn check(&self, cx: &CheckContext<'_>) -> Result<CheckOutcome, CheckError> {
        let text = text::text(cx)?;
        let count = count_sentences(&text);
        let in_range = (self.min..=self.max).contains(&count);
        let verdict = in_range != self.not;
        let (min, max) = (self.min, self.max);
        let explanation = match (verdict, self.not) {
            (true, true) => format!("The sentence count ({count}) is outside the specified range of {min} to {max} as expected."),
            (true, false) => format!("The sentence count ({count}) is within the specified range of {min} to {max}."),
            (false, true) => format!("The sentence count ({count}) is within the specified range of {min} to {max} when it should not be."),
            (false, false) => format!("The sentence count ({count}) is outside the specified range of {min} to {max}."),
        };
        Ok(CheckOutcome::new(
            verdict,
            json!({
                "sentenceCount": count,
                "minCount": min,
                "maxCount": max,
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
    fn counts_sentences() {
        for (text, want) in [
            ("", 0),
            ("No terminator", 0),
            ("This is a sentence. This is another sentence.", 2),
            ("Wait... what?!", 2),
            ("Really? Yes! Ok.", 3),
        ] {
            assert_eq!(count_sentences(text), want, "{text:?}");
        }
    }

    #[test]
    fn verdicts() {
        let two = "This is a sentence. This is another sentence.";
        let o = outcome(&SentenceCount, json!({"minSentences": 1, "maxSentences": 3, "not": false}), &Cx::assistant(two));
        assert_eq!(
            o.data,
            json!({"sentenceCount": 2, "minCount": 1, "maxCount": 3, "not": false, "verdict": true,
                   "explanation": "The sentence count (2) is within the specified range of 1 to 3.",
                   "textExcerpt": two})
        );
        let cases = [
            (json!({"minSentences": 3, "maxSentences": 4}), two, false, "is outside the specified range of 3 to 4."),
            (json!({"minSentences": 3, "maxSentences": 4, "not": true}), two, true, "as expected."),
            (json!({"minSentences": 2, "maxSentences": 2, "not": true}), two, false, "when it should not be."),
            (json!({"minSentences": 1, "maxSentences": 3}), "", false, "The sentence count (0) is outside"),
            (json!({}), "", true, "range of 0 to 99999."),
        ];
        for (params, text, verdict, explanation) in cases {
            let o = outcome(&SentenceCount, params.clone(), &Cx::assistant(text));
            assert_eq!(o.verdict, verdict, "{params}");
            assert!(o.data["explanation"].as_str().unwrap().contains(explanation), "{params}: {}", o.data);
        }
        // A streamed response has no text: 0 sentences.
        assert_eq!(outcome(&SentenceCount, json!({}), &Cx::streamed()).data["sentenceCount"], 0);
    }

    #[test]
    fn errors() {
        let cases = [
            (json!({"minSentences": "a"}), Cx::assistant("x"), "invalid: `minSentences` must be a whole number"),
            (json!({"maxSentences": 0.5}), Cx::assistant("x"), "invalid: `maxSentences` must be a whole number"),
            (json!({"minSentences": 2, "maxSentences": 1}), Cx::assistant("x"), "invalid: `minSentences` (2) is greater"),
            (json!({}), Cx::chat_response(json!({"choices": []})), "the response has no choices"),
        ];
        for (params, cx, want) in cases {
            let got = error(&SentenceCount, params.clone(), &cx);
            assert!(got.contains(want), "{params}: {got}");
        }
    }
}
