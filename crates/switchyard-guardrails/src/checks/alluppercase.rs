//! `default.alluppercase`: passes when every letter of the text is uppercase.

use std::sync::Arc;

use serde_json::Value;

use super::case::{self, Case};
use crate::{ready, Check, CheckContext, CheckError, CheckFuture, PreparedCheck};

/// `default.alluppercase`. Parameters: `not` (default false). Letters without case are ignored, so a
/// text without letters passes; an empty text is an error. Letters are judged with Unicode case
/// (Portkey looks at ASCII letters only), so `"ÉCOLE"` is upper case and `"École"` is not.
pub struct AllUppercase;

struct Prepared {
    not: bool,
}

impl Check for AllUppercase {
    fn id(&self) -> &'static str {
        "default.alluppercase"
    }

    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
        Ok(Arc::new(Prepared { not: case::prepare_not(params)? }))
    }
}

impl PreparedCheck for Prepared {
    fn run<'a>(&'a self, cx: &'a CheckContext<'a>) -> CheckFuture<'a> {
        ready(case::check(Case::Upper, self.not, cx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{error, outcome, Cx};
    use crate::CheckOutcome;
    use serde_json::json;

    #[test]
    fn verdicts() {
        let long = "THIS IS ALL UPPERCASE TEXT!".repeat(10);
        let cases = [
            (json!({"not": false}), "THIS IS ALL UPPERCASE TEXT!", true, json!({"verdict": true, "not": false, "explanation": "All alphabetic characters in the text are uppercase.", "textExcerpt": "THIS IS ALL UPPERCASE TEXT!"})),
            (json!({}), "This Has Mixed Case.", false, json!({"verdict": false, "not": false, "explanation": "The text contains lowercase characters.", "textExcerpt": "This Has Mixed Case."})),
            (json!({}), "123 !@#$%", true, json!({"verdict": true, "not": false, "explanation": "All alphabetic characters in the text are uppercase.", "textExcerpt": "123 !@#$%"})),
        ];
        for (params, text, verdict, data) in cases {
            assert_eq!(outcome(&AllUppercase, params.clone(), &Cx::assistant(text)), CheckOutcome::new(verdict, data), "{params}");
        }
        let inverted = outcome(&AllUppercase, json!({"not": true}), &Cx::user("This Has Mixed Case."));
        assert!(inverted.verdict);
        assert!(inverted.data["explanation"].as_str().unwrap().ends_with("as expected."));
        let inverted = outcome(&AllUppercase, json!({"not": true}), &Cx::user("THIS IS ALL UPPERCASE TEXT!"));
        assert!(!inverted.verdict);
        assert!(inverted.data["explanation"].as_str().unwrap().ends_with("when they should not be."));
        let o = outcome(&AllUppercase, json!({}), &Cx::assistant(&long));
        assert!(o.data["textExcerpt"].as_str().unwrap().ends_with("..."));
    }

    #[test]
    fn errors() {
        assert_eq!(error(&AllUppercase, json!({}), &Cx::assistant("")), "Missing text to analyze");
        assert!(error(&AllUppercase, json!({"not": 1}), &Cx::assistant("x")).starts_with("invalid: `not`"));
    }
}
