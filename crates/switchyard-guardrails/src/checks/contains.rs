//! `default.contains`: passes when the text contains any / all / none of `words`.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::params::{Operator, Params};
use crate::{ready, text, Check, CheckContext, CheckError, CheckFuture, CheckOutcome, PreparedCheck};

/// `default.contains`. Parameters: `words` (required list of strings; case-sensitive substring
/// matches), `operator` (`any` | `all` | `none`, default `any`). Like Portkey, an empty text is
/// not an error (it contains no word), and an empty `words` list is allowed (`any` fails, `all`
/// and `none` pass).
pub struct Contains;

struct Prepared {
    words: Vec<String>,
    operator: Operator,
}

impl Check for Contains {
    fn id(&self) -> &'static str {
        "default.contains"
    }

    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
        let p = Params::new(params)?;
        let words = p
            .string_list("words", false)?
            .ok_or_else(|| crate::params::invalid("`words` is required (a list of strings)"))?;
        Ok(Arc::new(Prepared {
            words,
            operator: p.operator("operator", Operator::Any)?,
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
        let text = text::text(cx)?;
        let (found, missing): (Vec<&String>, Vec<&String>) =
            self.words.iter().partition(|w| text.contains(w.as_str()));
        let verdict = self.operator.verdict(found.len(), missing.len());
        let op = self.operator.as_str();
        let detail = match (self.operator, verdict) {
            (Operator::Any, true) => "At least one word was found.",
            (Operator::All, true) => "All words were found.",
            (Operator::None, true) => "No words were found.",
            (Operator::Any, false) => "No words were found.",
            (Operator::All, false) => "Some words were missing.",
            (Operator::None, false) => "Some words were found.",
        };
        let result = if verdict { "passed" } else { "failed" };
        Ok(CheckOutcome::new(
            verdict,
            json!({
                "explanation": format!("Check {result} for '{op}' words. {detail}"),
                "foundWords": found,
                "missingWords": missing,
                "operator": op,
            }),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{error, outcome, Cx};

    const TEXT: &str = "adding some text before this word1 and adding some text after";

    #[test]
    fn verdicts() {
        let cases = [
            (json!({"words": ["word1", "word2"], "operator": "any"}), TEXT, true,
             json!({"explanation": "Check passed for 'any' words. At least one word was found.", "foundWords": ["word1"], "missingWords": ["word2"], "operator": "any"})),
            (json!({"words": ["word1", "word2"], "operator": "all"}), TEXT, false,
             json!({"explanation": "Check failed for 'all' words. Some words were missing.", "foundWords": ["word1"], "missingWords": ["word2"], "operator": "all"})),
            (json!({"words": ["word2", "word3"], "operator": "none"}), TEXT, true,
             json!({"explanation": "Check passed for 'none' words. No words were found.", "foundWords": [], "missingWords": ["word2", "word3"], "operator": "none"})),
            (json!({"words": ["word1"], "operator": "none"}), TEXT, false,
             json!({"explanation": "Check failed for 'none' words. Some words were found.", "foundWords": ["word1"], "missingWords": [], "operator": "none"})),
            (json!({"words": [], "operator": "any"}), "some text", false,
             json!({"explanation": "Check failed for 'any' words. No words were found.", "foundWords": [], "missingWords": [], "operator": "any"})),
            (json!({"words": ["text", "word1"], "operator": "all"}), "Adding some TEXT before this Word1 and adding some text after", false,
             json!({"explanation": "Check failed for 'all' words. Some words were missing.", "foundWords": ["text"], "missingWords": ["word1"], "operator": "all"})),
            (json!({"words": ["a"]}), "", false,
             json!({"explanation": "Check failed for 'any' words. No words were found.", "foundWords": [], "missingWords": ["a"], "operator": "any"})),
        ];
        for (params, text, verdict, data) in cases {
            let o = outcome(&Contains, params.clone(), &Cx::assistant(text));
            assert_eq!(o, CheckOutcome::new(verdict, data), "{params}");
        }
    }

    #[test]
    fn errors() {
        let cases = [
            (json!({"operator": "any"}), Cx::assistant("x"), "invalid: `words` is required"),
            (json!({"words": "a,b"}), Cx::assistant("x"), "invalid: `words` must be a list of strings"),
            (json!({"words": ["a", 1]}), Cx::assistant("x"), "invalid: `words` must be a list of strings"),
            (json!({"words": ["a"], "operator": "most"}), Cx::assistant("x"), "invalid: `operator` must be"),
            (json!({"words": ["a"]}), Cx::chat_response(json!({})), "no choices"),
        ];
        for (params, cx, want) in cases {
            let got = error(&Contains, params.clone(), &cx);
            assert!(got.contains(want), "{params}: {got}");
        }
    }
}
