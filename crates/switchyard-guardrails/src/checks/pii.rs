//! `default.pii`: finds PII and secrets natively (see [`crate::pii`]) and blocks or redacts them.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::params::{invalid, Params};
use crate::pii::{Categories, Category, Redactor};
use crate::text::{self, Scope};
use crate::{ready, Check, CheckContext, CheckError, CheckFuture, CheckOutcome, PreparedCheck};

/// `default.pii` (not in Portkey). Parameters:
///
/// * `categories`: the kinds to look for (default: all) — `email`, `phone`, `credit_card`,
///   `ssn`, `iban`, `ip_address`, `aws_access_key`, `gcp_api_key`, `openai_api_key`,
///   `anthropic_api_key`, `github_token`, `jwt`;
/// * `action`: `block` (default: the verdict is false when anything is found) or `redact` (the
///   verdict is true and `transformed` holds the request/response with each value replaced by
///   `[EMAIL_1]`, `[CREDIT_CARD_1]`, ...; the same value keeps its number across the texts);
/// * `scope`: `all` (default: every message, and Anthropic's `system`, of a request — a chat
///   history re-sends earlier turns; every choice of a response) or `current` (Portkey's current
///   content part only).
///
/// `data` lists the categories found with their counts — never the values.
pub struct Pii;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Block,
    Redact,
}

struct Prepared {
    categories: Categories,
    action: Action,
    scope: Scope,
}

impl Check for Pii {
    fn id(&self) -> &'static str {
        "default.pii"
    }

    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
        crate::pii::ensure_compiled().map_err(CheckError::Failed)?;
        let p = Params::new(params)?;
        let categories = match p.string_list("categories", false)? {
            None => Categories::ALL,
            Some(names) if names.is_empty() => {
                return Err(invalid("`categories` is empty; omit it to look for every category"))
            }
            Some(names) => Categories::from_names(names.iter().map(String::as_str))
                .map_err(|e| invalid(format!("`categories`: {e}")))?,
        };
        let action = match p.str("action")? {
            None | Some("block") => Action::Block,
            Some("redact") => Action::Redact,
            Some(other) => {
                return Err(invalid(format!("`action` must be \"block\" or \"redact\", not {other:?}")))
            }
        };
        let scope = match p.str("scope")? {
            None | Some("all") => Scope::All,
            Some("current") => Scope::Current,
            Some(other) => {
                return Err(invalid(format!("`scope` must be \"all\" or \"current\", not {other:?}")))
            }
        };
        Ok(Arc::new(Prepared { categories, action, scope }))
    }
}

impl PreparedCheck for Prepared {
    fn run<'a>(&'a self, cx: &'a CheckContext<'a>) -> CheckFuture<'a> {
        ready(self.check(cx))
    }
}

impl Prepared {
    fn check(&self, cx: &CheckContext<'_>) -> Result<CheckOutcome, CheckError> {
        let mut redactor = Redactor::new(self.categories);
        let mut counts = [0usize; Category::ALL.len()];
        let redact = self.action == Action::Redact;
        let transformed = text::map_texts(cx, self.scope, |t| {
            if redact {
                let (new, findings) = redactor.redact(t);
                findings.iter().for_each(|f| counts[f.category as usize] += 1);
                (!findings.is_empty()).then_some(new)
            } else {
                redactor.detect(t).iter().for_each(|f| counts[f.category as usize] += 1);
                None
            }
        })?;
        let total: usize = counts.iter().sum();
        let found: Map<String, Value> = Category::ALL
            .into_iter()
            .zip(counts)
            .filter(|&(_, n)| n > 0)
            .map(|(c, n)| (c.name().to_owned(), n.into()))
            .collect();
        let names: Vec<&str> = found.keys().map(String::as_str).collect();
        let (verdict, explanation) = match (total, self.action) {
            (0, _) => (true, "No PII found.".to_owned()),
            (_, Action::Block) => (false, format!("PII found ({}).", names.join(", "))),
            (_, Action::Redact) => (true, format!("PII found and redacted ({}).", names.join(", "))),
        };
        Ok(CheckOutcome::new(
            verdict,
            json!({
                "verdict": verdict,
                "action": match self.action { Action::Block => "block", Action::Redact => "redact" },
                "detected": total > 0,
                "categories": found,
                "total": total,
                "explanation": explanation,
            }),
        )
        .with_transformed(transformed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{error, outcome, Cx};

    const CARD: &str = "4111 1111 1111 1111";

    #[test]
    fn blocks_and_counts_without_values() {
        let cx = Cx::user(&format!("I'm jane@example.com, card {CARD}, also jane@example.com"));
        let o = outcome(&Pii, json!({}), &cx);
        assert!(!o.verdict);
        assert_eq!(o.transformed, None);
        assert_eq!(
            o.data,
            json!({"verdict": false, "action": "block", "detected": true, "categories": {"credit_card": 1, "email": 2},
                   "total": 3, "explanation": "PII found (credit_card, email)."})
        );
        let text = o.data.to_string();
        assert!(!text.contains("jane") && !text.contains("4111"), "{text}");

        let o = outcome(&Pii, json!({"categories": ["phone"]}), &cx);
        assert!(o.verdict);
        assert_eq!(o.data["explanation"], "No PII found.");
        assert_eq!(o.data["categories"], json!({}));
    }

    #[test]
    fn redacts_requests_and_responses() {
        let cx = Cx::chat(json!({"model": "m", "messages": [
            {"role": "system", "content": "Support bot."},
            {"role": "user", "content": "my email is a@b.co"},
            {"role": "assistant", "content": "noted"},
            {"role": "user", "content": [{"type": "text", "text": "and c@d.co, again a@b.co"}, {"type": "image_url", "image_url": {"url": "u"}}]}
        ]}));
        let o = outcome(&Pii, json!({"action": "redact"}), &cx);
        assert!(o.verdict);
        assert_eq!(o.data["categories"], json!({"email": 3}));
        assert_eq!(o.data["explanation"], "PII found and redacted (email).");
        let t = o.transformed.unwrap();
        assert_eq!(t["messages"][1]["content"], "my email is [EMAIL_1]");
        assert_eq!(t["messages"][3]["content"][0]["text"], "and [EMAIL_2], again [EMAIL_1]");
        assert_eq!(t["messages"][3]["content"][1], json!({"type": "image_url", "image_url": {"url": "u"}}));
        assert_eq!(t["model"], "m");

        let o = outcome(&Pii, json!({"action": "redact", "scope": "current"}), &cx);
        let t = o.transformed.unwrap();
        assert_eq!(t["messages"][1]["content"], "my email is a@b.co");
        assert_eq!(t["messages"][3]["content"][0]["text"], "and [EMAIL_1], again [EMAIL_2]");

        let resp = Cx::chat_response(json!({"choices": [
            {"message": {"content": "key AKIAIOSFODNN7EXAMPLE"}},
            {"message": {"content": "ssn 123-45-6789"}}
        ]}));
        let o = outcome(&Pii, json!({"action": "redact"}), &resp);
        let t = o.transformed.unwrap();
        assert_eq!(t["choices"][0]["message"]["content"], "key [AWS_ACCESS_KEY_1]");
        assert_eq!(t["choices"][1]["message"]["content"], "ssn [SSN_1]");

        let clean = outcome(&Pii, json!({"action": "redact"}), &Cx::user("nothing to see"));
        assert_eq!(clean.transformed, None);
        assert!(clean.verdict);
        // A streamed response has nothing to check.
        assert!(outcome(&Pii, json!({}), &Cx::streamed()).verdict);
    }

    #[test]
    fn errors() {
        let cases = [
            (json!({"categories": ["email", "passport"]}), "invalid: `categories`: unknown PII category \"passport\""),
            (json!({"categories": []}), "invalid: `categories` is empty"),
            (json!({"categories": "email"}), "invalid: `categories` must be a list of strings"),
            (json!({"action": "mask"}), "invalid: `action` must be \"block\" or \"redact\""),
            (json!({"scope": "last"}), "invalid: `scope` must be \"all\" or \"current\""),
        ];
        for (params, want) in cases {
            let got = error(&Pii, params.clone(), &Cx::user("x"));
            assert!(got.contains(want), "{params}: {got}");
        }
        assert!(error(&Pii, json!({}), &Cx::chat(json!({"messages": []}))).contains("no messages"));
    }
}
