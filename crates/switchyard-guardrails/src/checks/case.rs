//! The shared logic of `default.alluppercase` and `default.alllowercase`.

use serde_json::{json, Value};

use crate::params::Params;
use crate::util::excerpt;
use crate::{text, CheckContext, CheckError, CheckOutcome};

/// Which case a check wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Case {
    Upper,
    Lower,
}

pub(crate) fn prepare_not(params: &Value) -> Result<bool, CheckError> {
    Params::new(params)?.not()
}

/// Whether every cased letter of `text` is in `case`. Letters without case (digits, CJK) do not
/// count. Portkey only looks at ASCII letters (`/[^a-zA-Z]/g`); this looks at every letter, so
/// `"ÉCOLE"` is uppercase and `"École"` is not.
pub(crate) fn is_all(case: Case, text: &str) -> bool {
    if text.is_ascii() {
        let bytes = text.as_bytes();
        match case {
            Case::Upper => !bytes.iter().any(u8::is_ascii_lowercase),
            Case::Lower => !bytes.iter().any(u8::is_ascii_uppercase),
        }
    } else {
        match case {
            Case::Upper => !text.chars().any(char::is_lowercase),
            Case::Lower => !text.chars().any(char::is_uppercase),
        }
    }
}

pub(crate) fn check(
    case: Case,
    not: bool,
    cx: &CheckContext<'_>,
) -> Result<CheckOutcome, CheckError> {
    let text = text::require_text(cx, "Missing text to analyze")?;
    let all = is_all(case, &text);
    let verdict = all != not;
    let (this, other) = match case {
        Case::Upper => ("uppercase", "lowercase"),
        Case::Lower => ("lowercase", "uppercase"),
    };
    let explanation = match (verdict, not) {
        (true, true) => format!("The text contains {other} characters as expected."),
        (true, false) => format!("All alphabetic characters in the text are {this}."),
        (false, true) => {
            format!("All alphabetic characters in the text are {this} when they should not be.")
        }
        (false, false) => format!("The text contains {other} characters."),
    };
    Ok(CheckOutcome::new(
        verdict,
        json!({
            "verdict": verdict,
            "not": not,
            "explanation": explanation,
            "textExcerpt": excerpt(&text),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases() {
        for (text, upper, lower) in [
            ("THIS IS ALL UPPERCASE TEXT!", true, false),
            ("this is all lowercase text!", false, true),
            ("This Has Mixed Case.", false, false),
            ("123 !@#$%", true, true),
            ("ÉCOLE 42", true, false),
            ("école", false, true),
            ("École", false, false),
            ("日本語", true, true),
        ] {
            assert_eq!(is_all(Case::Upper, text), upper, "{text}");
            assert_eq!(is_all(Case::Lower, text), lower, "{text}");
        }
    }
}
