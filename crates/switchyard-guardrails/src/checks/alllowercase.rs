//! `default.alllowercase`: passes when every letter of the text is lowercase.

use std::sync::Arc;

use serde_json::Value;

use super::case::{self, Case};
use crate::{ready, Check, CheckContext, CheckError, CheckFuture, PreparedCheck};

/// `default.alllowercase`. Parameters: `not` (default false). Letters without case are ignored, so a
/// text without letters passes; an empty text is an error. Letters are judged with Unicode case
/// (Portkey looks at ASCII letters only), so `"ÉCOLE"` is upper case and `"École"` is not.
pub struct AllLowercase;

struct Prepared {
    not: bool,
}

impl Check for AllLowercase {
    fn id(&self) -> &'static str {
        "default.alllowercase"
    }

    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
        Ok(Arc::new(Prepared { not: case::prepare_not(params)? }))
    }
}

impl PreparedCheck for Prepared {
    fn run<'a>(&'a self, cx: &'a CheckContext<'a>) -> CheckFuture<'a> {
        ready(case::check(Case::Lower, self.not, cx))
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
        let long = "this is all lowercase text!".repeat(10);
        let cases = [
            (json!({"not": false}), "this is all lowercase text!", true, json!({"verdict": true, "not": false, "explanation": "All alphabetic characters in the text are lowercase.", "textExcerpt": "this is all lowercase text!"})),
            (json!({}), "This Has Mixed Case.", false, json!({"verdict": false, "not": false, "explanation": "The text contains uppercase characters.", "textExcerpt": "This Has Mixed Case."})),
            (json!({}), "123 !@#$%", true, json!({"verdict": true, "not": false, "explanation": "All alphabetic characters in the text are lowercase.", "textExcerpt": "123 !@#$%"})),
        ];
        for (params, text, verdict, data) in cases {
            assert_eq!(outcome(&AllLowercase, params.clone(), &Cx::assistant(text)), CheckOutcome::new(verdict, data), "{params}");
        }
        let inverted = outcome(&AllLowercase, json!({"not": true}), &Cx::user("This Has Mixed Case."));
        assert!(inverted.verdict);
        assert!(inverted.data["explanation"].as_str().unwrap().ends_with("as expected."));
        let inverted = outcome(&AllLowercase, json!({"not": true}), &Cx::user("this is all lowercase text!"));
        assert!(!inverted.verdict);
        assert!(inverted.data["explanation"].as_str().unwrap().ends_with("when they should not be."));
        let o = outcome(&AllLowercase, json!({}), &Cx::assistant(&long));
        assert!(o.data["textExcerpt"].as_str().unwrap().ends_with("..."));
    }

    #[test]
    fn errors() {
        assert_eq!(error(&AllLowercase, json!({}), &Cx::assistant("")), "Missing text to analyze");
        assert!(error(&AllLowercase, json!({"not": 1}), &Cx::assistant("x")).starts_with("invalid: `not`"));
    }
}
