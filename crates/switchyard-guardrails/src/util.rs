//! Small helpers shared by the checks.

use regex::{Regex, RegexBuilder};
use serde_json::Value;

use crate::params::invalid;
use crate::CheckError;

/// Regex flags a config may set (JavaScript's `i`, `m`, `s`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Flags {
    pub case_insensitive: bool,
    pub multi_line: bool,
    pub dot_all: bool,
}

/// Compiles a regex from a config (parameter `name`). The syntax is the `regex` crate's, which
/// runs in linear time: JavaScript's look-around and backreferences are refused here, when the
/// config is loaded, rather than risking catastrophic backtracking on the request path.
pub(crate) fn user_regex(name: &str, pattern: &str, flags: Flags) -> Result<Regex, CheckError> {
    RegexBuilder::new(pattern)
        .case_insensitive(flags.case_insensitive)
        .multi_line(flags.multi_line)
        .dot_matches_new_line(flags.dot_all)
        .size_limit(4 << 20)
        .build()
        .map_err(|e| invalid(format!("`{name}` is not a valid regex: {e}")))
}

/// The offset of byte `i` of `text` in UTF-16 code units (JavaScript's string index).
pub(crate) fn utf16_index(text: &str, i: usize) -> usize {
    text.get(..i).map_or(0, |s| s.encode_utf16().count())
}

/// Portkey's `textExcerpt`: the first 100 characters, then `...` if there were more. Counts
/// characters (Portkey counts UTF-16 units), so a surrogate pair is never split.
pub(crate) fn excerpt(text: &str) -> String {
    match text.char_indices().nth(100) {
        Some((cut, _)) => {
            let mut s = String::with_capacity(cut + 3);
            s.push_str(&text[..cut]);
            s.push_str("...");
            s
        }
        None => text.to_owned(),
    }
}

/// JavaScript's `String(value)` for the scalar JSON values a metadata map holds; `None` for
/// objects and arrays.
pub(crate) fn js_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e21 && n.is_f64() => format!("{f:.0}"),
            _ => n.to_string(),
        }),
        Value::Null => Some("null".to_owned()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn excerpt_cuts_at_100_chars() {
        for (text, want) in [
            ("short".to_owned(), "short".to_owned()),
            ("a".repeat(100), "a".repeat(100)),
            ("a".repeat(101), format!("{}...", "a".repeat(100))),
            ("é".repeat(150), format!("{}...", "é".repeat(100))),
        ] {
            assert_eq!(excerpt(&text), want);
        }
    }

    #[test]
    fn js_string_matches_javascript() {
        for (value, want) in [
            (json!("x"), Some("x")),
            (json!(true), Some("true")),
            (json!(5), Some("5")),
            (json!(5.0), Some("5")),
            (json!(1.5), Some("1.5")),
            (json!(null), Some("null")),
            (json!([1]), None),
        ] {
            assert_eq!(js_string(&value).as_deref(), want, "{value}");
        }
    }
}
