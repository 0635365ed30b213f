//! `default.regexReplace`: replaces what `rule` matches with `redactText` (a mutator). Passes
//! unless `failOnDetection` is set and something matched.

use std::sync::Arc;

use regex::{Captures, Regex};
use serde_json::{json, Value};

use crate::params::{invalid, Params};
use crate::util::{user_regex, Flags};
use crate::{ready, text, Check, CheckContext, CheckError, CheckFuture, CheckOutcome, PreparedCheck};

/// `default.regexReplace`. Parameters: `rule` (required; a pattern, or `/pattern/flags` with
/// JavaScript flags `g` (replace every match — otherwise only the first, like `String.replace`),
/// `i`, `m`, `s`, `u`, `d`; the sticky `y` is refused), `redactText` (default `"[REDACTED]"`;
/// JavaScript replacement patterns `$&`, `$1`, `$<name>`, `` $` ``, `$'`, `$$` work),
/// `failOnDetection` (default false).
pub struct RegexReplace;

struct Prepared {
    rule: String,
    regex: Regex,
    global: bool,
    redact_text: String,
    template: Vec<Piece>,
    fail_on_detection: bool,
}

/// A piece of a JavaScript replacement template.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Literal(String),
    Whole,
    Before,
    After,
    Group(usize),
    Named(String),
}

impl Check for RegexReplace {
    fn id(&self) -> &'static str {
        "default.regexReplace"
    }

    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
        let p = Params::new(params)?;
        let rule = p.required_str("rule")?;
        let (pattern, flags, global) = parse_rule(rule)?;
        let regex = user_regex("rule", pattern, flags)?;
        // Portkey: `parameters.redactText || '[REDACTED]'`, so "" also means the default.
        let redact_text = match p.str("redactText")? {
            Some(t) if !t.is_empty() => t.to_owned(),
            _ => "[REDACTED]".to_owned(),
        };
        Ok(Arc::new(Prepared {
            template: parse_template(&redact_text, &regex),
            rule: rule.to_owned(),
            regex,
            global,
            redact_text,
            fail_on_detection: p.bool("failOnDetection", false)?,
        }))
    }
}

/// `/pattern/flags` (the last `/` ends the pattern) or a bare pattern.
fn parse_rule(rule: &str) -> Result<(&str, Flags, bool), CheckError> {
    let literal = rule
        .strip_prefix('/')
        .and_then(|rest| rest.rsplit_once('/'))
        .filter(|(pattern, flags)| {
            !pattern.is_empty() && flags.chars().all(|c| "gimsuyd".contains(c))
        });
    let Some((pattern, flag_chars)) = literal else {
        return Ok((rule, Flags::default(), false));
    };
    let mut flags = Flags::default();
    let mut global = false;
    for (i, c) in flag_chars.char_indices() {
        if flag_chars[..i].contains(c) {
            return Err(invalid(format!("`rule` repeats the regex flag {c:?}")));
        }
        match c {
            'g' => global = true,
            'i' => flags.case_insensitive = true,
            'm' => flags.multi_line = true,
            's' => flags.dot_all = true,
            'y' => return Err(invalid("`rule`: the sticky flag `y` is not supported")),
            _ => {} // `u` (always Unicode here), `d` (indices: nothing to do)
        }
    }
    Ok((pattern, flags, global))
}

/// JavaScript's `GetSubstitution` rules, resolved against `regex`'s groups.
fn parse_template(template: &str, regex: &Regex) -> Vec<Piece> {
    let groups = regex.captures_len() - 1;
    let has_names = regex.capture_names().flatten().next().is_some();
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = template;
    let push = |pieces: &mut Vec<Piece>, literal: &mut String, piece: Piece| {
        if !literal.is_empty() {
            pieces.push(Piece::Literal(std::mem::take(literal)));
        }
        pieces.push(piece);
    };
    while let Some(at) = rest.find('$') {
        literal.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let digit = |i: usize| after.as_bytes().get(i).filter(|b| b.is_ascii_digit()).map(|b| usize::from(b - b'0'));
        let (piece, used) = match after.as_bytes().first() {
            Some(b'$') => (Piece::Literal("$".into()), 1),
            Some(b'&') => (Piece::Whole, 1),
            Some(b'`') => (Piece::Before, 1),
            Some(b'\'') => (Piece::After, 1),
            Some(b'0'..=b'9') => match (digit(0), digit(1)) {
                (Some(a), Some(b)) if (1..=groups).contains(&(a * 10 + b)) => (Piece::Group(a * 10 + b), 2),
                (Some(a), _) if (1..=groups).contains(&a) => (Piece::Group(a), 1),
                _ => (Piece::Literal("$".into()), 0),
            },
            Some(b'<') if has_names => match after.find('>') {
                Some(end) => (Piece::Named(after[1..end].to_owned()), end + 1),
                None => (Piece::Literal("$".into()), 0),
            },
            _ => (Piece::Literal("$".into()), 0),
        };
        match piece {
            Piece::Literal(s) => literal.push_str(&s),
            piece => push(&mut pieces, &mut literal, piece),
        }
        rest = &after[used..];
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    pieces
}

impl PreparedCheck for Prepared {
    fn run<'a>(&'a self, cx: &'a CheckContext<'a>) -> CheckFuture<'a> {
        ready(self.check(cx))
    }
}

impl Prepared {
    fn check(&self, cx: &CheckContext<'_>) -> Result<CheckOutcome, CheckError> {
        let part = text::current_content_part(cx)?;
        if part.content.is_none() || part.content.and_then(Value::as_str) == Some("") {
            return Err(CheckError::Failed("Missing text to match".into()));
        }
        let replaced: Vec<Option<String>> = part
            .texts
            .iter()
            .map(|t| t.filter(|t| !t.is_empty()).and_then(|t| self.replace(t)))
            .collect();
        let matched = replaced.iter().any(Option::is_some);
        let transformed = if matched {
            Some(text::set_current_content_part(cx, &replaced)?)
        } else {
            None
        };
        let verdict = !(self.fail_on_detection && matched);
        let explanation = if matched {
            format!(
                "Pattern '{}' matched and was replaced with '{}'",
                self.rule, self.redact_text
            )
        } else {
            format!("The regex pattern '{}' did not match any text.", self.rule)
        };
        Ok(CheckOutcome::new(
            verdict,
            json!({ "regexPattern": self.rule, "verdict": verdict, "explanation": explanation }),
        )
        .with_transformed(transformed))
    }

    /// The text with the first (or, with `g`, every) match replaced; `None` without a match.
    fn replace(&self, text: &str) -> Option<String> {
        let limit = if self.global { usize::MAX } else { 1 };
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        let mut matched = false;
        for caps in self.regex.captures_iter(text).take(limit) {
            let Some(whole) = caps.get(0) else { continue };
            matched = true;
            out.push_str(&text[last..whole.start()]);
            self.expand(&caps, text, &mut out);
            last = whole.end();
        }
        if !matched {
            return None;
        }
        out.push_str(&text[last..]);
        Some(out)
    }

    fn expand(&self, caps: &Captures<'_>, text: &str, out: &mut String) {
        let whole = caps.get(0);
        for piece in &self.template {
            match piece {
                Piece::Literal(s) => out.push_str(s),
                Piece::Whole => out.push_str(whole.map_or("", |m| m.as_str())),
                Piece::Before => out.push_str(&text[..whole.map_or(0, |m| m.start())]),
                Piece::After => out.push_str(&text[whole.map_or(text.len(), |m| m.end())..]),
                Piece::Group(i) => out.push_str(caps.get(*i).map_or("", |m| m.as_str())),
                Piece::Named(n) => out.push_str(caps.name(n).map_or("", |m| m.as_str())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{error, outcome, Cx};

    #[test]
    fn replaces_like_javascript() {
        let cases = [
            // (rule, redactText, text, want)
            ("\\d{3}", None, "call 555 or 666", "call [REDACTED] or 666"),
            ("/\\d{3}/g", None, "call 555 or 666", "call [REDACTED] or [REDACTED]"),
            ("/secret/gi", Some("***"), "Secret and SECRET", "*** and ***"),
            ("(\\w+)@(\\w+)", Some("$2 at $1"), "mail bob@example now", "mail example at bob now"),
            ("(?<user>\\w+)@", Some("<$<user>>"), "bob@x", "<bob>x"),
            ("b", Some("[$&]"), "abc", "a[b]c"),
            ("b", Some("[$`|$']"), "abc", "a[a|c]c"),
            ("b", Some("$$1 $1 $0 $"), "abc", "a$1 $1 $0 $c"),
            ("(b)", Some("$11"), "abc", "ab1c"),
            ("/a.b/s", Some("X"), "a\nb", "X"),
            ("/^b/m", Some("X"), "a\nb", "a\nX"),
            ("/a\\/b/", Some("X"), "a/b", "X"),
            ("/x/", None, "/x/ and x", "/[REDACTED]/ and x"),
        ];
        for (rule, redact, text, want) in cases {
            let mut params = json!({ "rule": rule });
            if let Some(r) = redact {
                params["redactText"] = json!(r);
            }
            let o = outcome(&RegexReplace, params, &Cx::user(text));
            assert!(o.verdict);
            let got = o.transformed.as_ref().map(|t| t["messages"][0]["content"].clone());
            assert_eq!(got, Some(json!(want)), "{rule} on {text:?}");
            assert_eq!(o.transformed.unwrap()["model"], "gpt-4o");
        }
    }

    #[test]
    fn verdict_data_and_parts() {
        let o = outcome(&RegexReplace, json!({"rule": "zebra"}), &Cx::user("no match"));
        assert_eq!(
            o,
            CheckOutcome::new(
                true,
                json!({"regexPattern": "zebra", "verdict": true,
                       "explanation": "The regex pattern 'zebra' did not match any text."})
            )
        );
        let o = outcome(&RegexReplace, json!({"rule": "x", "failOnDetection": true}), &Cx::assistant("axa"));
        assert!(!o.verdict);
        assert_eq!(o.data["explanation"], "Pattern 'x' matched and was replaced with '[REDACTED]'");
        assert_eq!(o.transformed.unwrap()["choices"][0]["message"]["content"], "a[REDACTED]a");
        let parts = Cx::chat(json!({"messages": [{"role": "user", "content": [
            {"type": "text", "text": "x1"}, {"type": "image_url", "image_url": {"url": "x"}}, {"type": "text", "text": "x2"}
        ]}]}));
        let o = outcome(&RegexReplace, json!({"rule": "x", "redactText": "y"}), &parts);
        assert_eq!(
            o.transformed.unwrap()["messages"][0]["content"],
            json!([{"type": "text", "text": "y1"}, {"type": "image_url", "image_url": {"url": "x"}}, {"type": "text", "text": "y2"}])
        );
        let o = outcome(&RegexReplace, json!({"rule": "/p/g", "redactText": ""}), &Cx::complete(json!({"prompt": ["p", "q"]})));
        assert_eq!(o.transformed.unwrap()["prompt"], json!(["[REDACTED]", "q"]));
    }

    #[test]
    fn errors() {
        let cases = [
            (json!({}), Cx::user("x"), "invalid: `rule` is required"),
            (json!({"rule": "("}), Cx::user("x"), "invalid: `rule` is not a valid regex"),
            (json!({"rule": "/a/gg"}), Cx::user("x"), "invalid: `rule` repeats"),
            (json!({"rule": "/a/y"}), Cx::user("x"), "invalid: `rule`: the sticky flag"),
            (json!({"rule": "a", "failOnDetection": 1}), Cx::user("x"), "invalid: `failOnDetection` must be a boolean"),
            (json!({"rule": "a", "redactText": 1}), Cx::user("x"), "invalid: `redactText` must be a string"),
            (json!({"rule": "a"}), Cx::user(""), "Missing text to match"),
            (json!({"rule": "a"}), Cx::streamed(), "Missing text to match"),
        ];
        for (params, cx, want) in cases {
            let got = error(&RegexReplace, params.clone(), &cx);
            assert!(got.contains(want), "{params}: {got}");
        }
    }
}
