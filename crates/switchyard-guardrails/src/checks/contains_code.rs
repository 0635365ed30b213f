//! `default.containsCode`: passes when the text has a fenced code block in `format`.

use std::sync::{Arc, LazyLock};

use regex::Regex;
use serde_json::{json, Value};

use crate::params::Params;
use crate::util::excerpt;
use crate::{ready, text, Check, CheckContext, CheckError, CheckFuture, CheckOutcome, PreparedCheck};

/// `default.containsCode`. Parameters: `format` (required: Portkey's names — `SQL`, `Python`,
/// `TypeScript`, `JavaScript`, `Java`, `C#`, `C++`, `C`, `Ruby`, `PHP`, `Swift`, `Kotlin`, `Go`,
/// `Rust`, `Scala`, `R`, `Perl`, `Shell`, `HTML`, `CSS`, `XML`, `JSON`, `YAML`, `Markdown`,
/// `Dockerfile`; an unlisted name matches a fence tag of that name), `not` (default false).
///
/// Only fenced blocks with a language tag count (```` ```py ````). Beyond Portkey, fence tags
/// such as `c++`, `c#`, `bash`, `yaml`, `rust`, `golang` are recognised (Portkey's `\w+` cannot
/// read `c++`, and its table maps `sh` but not `bash`).
pub struct ContainsCode;

struct Prepared {
    format: String,
    not: bool,
}

static FENCE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?s)```([A-Za-z0-9_+#\-]+)[ \t]*\r?\n.*?\n```").ok());

/// The language a fence tag names, in Portkey's spelling.
fn language(tag: &str) -> String {
    let lower = tag.to_ascii_lowercase();
    let name = match lower.as_str() {
        "sql" | "mysql" | "postgresql" | "psql" | "sqlite" | "plsql" => "SQL",
        "py" | "python" | "python3" | "gyp" => "Python",
        "ts" | "tsx" | "typescript" => "TypeScript",
        "js" | "jsx" | "javascript" | "mjs" | "cjs" | "node" => "JavaScript",
        "java" => "Java",
        "cs" | "c#" | "csharp" => "C#",
        "cpp" | "c++" | "cxx" | "cc" | "hpp" => "C++",
        "c" | "h" => "C",
        "rb" | "ruby" => "Ruby",
        "php" => "PHP",
        "swift" => "Swift",
        "kt" | "kts" | "kotlin" => "Kotlin",
        "go" | "golang" => "Go",
        "rs" | "rust" => "Rust",
        "scala" => "Scala",
        "r" => "R",
        "pl" | "perl" => "Perl",
        "sh" | "bash" | "shell" | "zsh" | "console" | "shellscript" => "Shell",
        "html" | "htm" => "HTML",
        "css" => "CSS",
        "xml" => "XML",
        "json" | "jsonc" => "JSON",
        "yml" | "yaml" => "YAML",
        "md" | "markdown" => "Markdown",
        "dockerfile" | "docker" => "Dockerfile",
        _ => return lower,
    };
    name.to_owned()
}

impl Check for ContainsCode {
    fn id(&self) -> &'static str {
        "default.containsCode"
    }

    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
        let p = Params::new(params)?;
        Ok(Arc::new(Prepared {
            format: p.required_str("format")?.to_owned(),
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
        let text = text::require_text(cx, "No text content to analyze")?;
        let fence = FENCE
            .as_ref()
            .ok_or_else(|| CheckError::Failed("the code-fence pattern did not compile".into()))?;
        let found: Vec<String> = fence
            .captures_iter(&text)
            .filter_map(|c| c.get(1))
            .map(|tag| language(tag.as_str()))
            .collect();
        let format = &self.format;
        if found.is_empty() {
            return Ok(CheckOutcome::new(
                self.not,
                json!({
                    "explanation": "No code blocks found in the text",
                    "searchedFormat": format,
                    "not": self.not,
                    "foundFormats": [],
                    "textExcerpt": excerpt(&text),
                }),
            ));
        }
        let has = found.iter().any(|f| f == format || f.eq_ignore_ascii_case(format));
        let verdict = has != self.not;
        let explanation = match (verdict, self.not) {
            (true, true) => format!("No code blocks in {format} format found as expected"),
            (true, false) => format!("Found code block(s) in {format} format"),
            (false, true) => format!("Found code block(s) in {format} format when none were expected"),
            (false, false) => format!("No code blocks in {format} format found"),
        };
        Ok(CheckOutcome::new(
            verdict,
            json!({
                "explanation": explanation,
                "searchedFormat": format,
                "not": self.not,
                "foundFormats": found,
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
            ("Python", false, "```py\nprint(\"Hello World\")\n```", true, "Found code block(s) in Python format", json!(["Python"])),
            ("Python", false, "```js\nconsole.log(\"Hello\");\n```", false, "No code blocks in Python format found", json!(["JavaScript"])),
            ("Python", false, "This is just plain text", false, "No code blocks found in the text", json!([])),
            ("Python", true, "This is just plain text", true, "No code blocks found in the text", json!([])),
            ("Python", false, "```py\nprint(\"Hello\")\n```\n```js\nconsole.log(\"Hi\");\n```", true, "Found code block(s) in Python format", json!(["Python", "JavaScript"])),
            ("Python", true, "```python\nx = 1\n```", false, "Found code block(s) in Python format when none were expected", json!(["Python"])),
            ("Python", true, "```sql\nSELECT 1\n```", true, "No code blocks in Python format found as expected", json!(["SQL"])),
            ("C++", false, "```c++\nint main() {}\n```", true, "Found code block(s) in C++ format", json!(["C++"])),
            ("Shell", false, "```bash\nls\n```", true, "Found code block(s) in Shell format", json!(["Shell"])),
            ("haskell", false, "```haskell\nmain = pure ()\n```", true, "Found code block(s) in haskell format", json!(["haskell"])),
            ("Python", false, "```\nno tag\n```", false, "No code blocks found in the text", json!([])),
        ];
        for (format, not, text, verdict, explanation, found) in cases {
            let o = outcome(&ContainsCode, json!({"format": format, "not": not}), &Cx::assistant(text));
            assert_eq!(o.verdict, verdict, "{text:?}");
            assert_eq!(o.data["explanation"], explanation, "{text:?}");
            assert_eq!(o.data["foundFormats"], found, "{text:?}");
            assert_eq!(o.data["searchedFormat"], format);
        }
    }

    #[test]
    fn errors() {
        let cases = [
            (json!({}), Cx::assistant("```py\nprint(\"Hello\")\n```"), "invalid: `format` is required"),
            (json!({"format": "Python"}), Cx::assistant(""), "No text content to analyze"),
            (json!({"format": "Python", "not": "no"}), Cx::assistant("x"), "invalid: `not` must be a boolean"),
        ];
        for (params, cx, want) in cases {
            let got = error(&ContainsCode, params.clone(), &cx);
            assert!(got.contains(want), "{params}: {got}");
        }
    }
}
