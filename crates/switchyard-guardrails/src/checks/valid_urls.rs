//! `default.validUrls`: passes when every URL in the text is valid.

use std::sync::{Arc, LazyLock};

use regex::Regex;
use serde_json::{json, Value};
use url::{Host, Url};

use crate::params::Params;
use crate::util::excerpt;
use crate::{ready, text, Check, CheckContext, CheckError, CheckFuture, CheckOutcome, PreparedCheck};

/// `default.validUrls`. Parameters: `onlyDNS` (default false), `not` (default false: passes
/// when the URLs are invalid).
///
/// **Syntax only.** Portkey checks each URL with an HTTP `HEAD` request, or with `onlyDNS` a
/// DNS-over-HTTPS lookup of its host. This crate does no I/O, so both modes validate syntax: an
/// `http(s)` URL that parses, whose host is an IP address or a domain of valid labels ending in
/// an alphabetic top-level domain. `data.validationMethod` says `"syntax"`, and
/// `data.requestedValidationMethod` what Portkey would have done. A gateway that wants the DNS
/// mode can register its own `default.validUrls` over this one.
///
/// URLs are found like Portkey's (`https?://` up to whitespace, a comma, a quote, a brace or a
/// bracket), with trailing sentence punctuation (`.`, `)`, `!`, `?`, `;`, `:`) dropped. Without
/// any URL the verdict is false whatever `not` says, as in Portkey.
pub struct ValidUrls;

struct Prepared {
    only_dns: bool,
    not: bool,
}

static URL: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"https?://[^\s,"'{}\[\]]+"#).ok());

const NOTE: &str = "URLs are validated by syntax only: switchyard-guardrails does no network I/O, so no HTTP request or DNS lookup was made.";

impl Check for ValidUrls {
    fn id(&self) -> &'static str {
        "default.validUrls"
    }

    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
        let p = Params::new(params)?;
        Ok(Arc::new(Prepared {
            only_dns: p.bool("onlyDNS", false)?,
            not: p.not()?,
        }))
    }
}

/// Whether `url` is a syntactically valid http(s) URL with a plausible host.
pub fn is_valid_url(url: &str) -> bool {
    let Ok(parsed) = Url::parse(url) else {
        return false;
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return false;
    }
    match parsed.host() {
        Some(Host::Ipv4(_) | Host::Ipv6(_)) => true,
        Some(Host::Domain(domain)) => is_valid_domain(domain),
        None => false,
    }
}

fn is_valid_domain(domain: &str) -> bool {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    if domain.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let tld_ok = labels.last().is_some_and(|tld| {
        tld.len() >= 2 && (tld.bytes().all(|b| b.is_ascii_alphabetic()) || tld.starts_with("xn--"))
    });
    labels.len() >= 2 && labels.iter().all(label_ok) && tld_ok
}

impl PreparedCheck for Prepared {
    fn run<'a>(&'a self, cx: &'a CheckContext<'a>) -> CheckFuture<'a> {
        ready(self.check(cx))
    }
}

impl Prepared {
    fn check(&self, cx: &CheckContext<'_>) -> Result<CheckOutcome, CheckError> {
        let text = text::require_text(cx, "Missing text to analyze")?;
        let requested = if self.only_dns { "DNS lookup" } else { "HTTP request" };
        let (valid, invalid): (Vec<&str>, Vec<&str>) =
            find_urls(&text).into_iter().partition(|u| is_valid_url(u));
        Ok(judge(
            &valid,
            &invalid,
            self.not,
            Method {
                used: "syntax",
                requested,
                note: Some(NOTE),
            },
            &text,
        ))
    }
}

/// The URLs in `text`, as Portkey finds them (`https?://` up to whitespace, a comma, a quote,
/// a brace or a bracket), without trailing sentence punctuation.
pub fn find_urls(text: &str) -> Vec<&str> {
    URL.as_ref().map_or_else(Vec::new, |re| {
        re.find_iter(text)
            .map(|m| m.as_str().trim_end_matches(['.', ')', '!', '?', ';', ':']))
            .collect()
    })
}

/// How URLs were validated, for `data`.
#[derive(Debug, Clone, Copy)]
pub struct Method<'a> {
    /// `"syntax"`, `"DNS lookup"` or `"HTTP request"`.
    pub used: &'a str,
    /// What Portkey would have done.
    pub requested: &'a str,
    pub note: Option<&'a str>,
}

/// The outcome once every URL found is known to be valid or not (Portkey's verdict and data):
/// without any URL the verdict is false, whatever `not` says.
pub fn judge(valid: &[&str], invalid: &[&str], not: bool, method: Method<'_>, text: &str) -> CheckOutcome {
    let total = valid.len() + invalid.len();
    if total == 0 {
        return CheckOutcome::new(
            false,
            json!({
                "explanation": "No URLs found in the text.",
                "urls": [],
                "validationMethod": method.used,
                "requestedValidationMethod": method.requested,
                "not": not,
                "textExcerpt": excerpt(text),
            }),
        );
    }
    let all_valid = invalid.is_empty();
    let verdict = all_valid != not;
    let explanation = match (verdict, not) {
        (true, true) => format!("All URLs are invalid as expected ({} of {total}).", invalid.len()),
        (true, false) => format!("All URLs are valid ({} found).", valid.len()),
        (false, true) => format!("Some URLs are valid when they should all be invalid ({} of {total}).", valid.len()),
        (false, false) => format!("Some URLs are invalid ({} of {total} failed).", invalid.len()),
    };
    let mut data = json!({
        "verdict": verdict,
        "not": not,
        "explanation": explanation,
        "validUrls": valid,
        "invalidUrls": invalid,
        "validationMethod": method.used,
        "requestedValidationMethod": method.requested,
        "textExcerpt": excerpt(text),
    });
    if let (Some(note), Some(obj)) = (method.note, data.as_object_mut()) {
        obj.insert("note".into(), Value::String(note.into()));
    }
    CheckOutcome::new(verdict, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{error, outcome, Cx};

    #[test]
    fn url_syntax() {
        for (url, valid) in [
            ("https://example.com", true),
            ("https://example.com/path?param=1#section", true),
            ("http://sub.example.co.uk:8080/x", true),
            ("https://127.0.0.1/x", true),
            ("https://[::1]:8443/", true),
            ("https://xn--bcher-kva.example", true),
            ("https://bücher.example", true),
            ("https://example.com.", true),
            ("https://malformed.123", false),
            ("https://localhost", false),
            ("https://exa_mple.com", false),
            ("https://-bad.com", false),
            ("https://", false),
            ("https://example.c", false),
            ("https://a..b.com", false),
        ] {
            assert_eq!(is_valid_url(url), valid, "{url}");
        }
    }

    #[test]
    fn verdicts() {
        let cases = [
            ("Check out https://example.com and https://google.com", json!({"onlyDNS": true}), true,
             json!(["https://example.com", "https://google.com"]), json!([]), "All URLs are valid (2 found).", "DNS lookup"),
            ("Check out https://malformed.123 and http://x.example.com/path?invalid=true#bad.", json!({}), false,
             json!(["http://x.example.com/path?invalid=true#bad"]), json!(["https://malformed.123"]), "Some URLs are invalid (1 of 2 failed).", "HTTP request"),
            ("bad https://malformed.123", json!({"not": true}), true,
             json!([]), json!(["https://malformed.123"]), "All URLs are invalid as expected (1 of 1).", "HTTP request"),
            ("see (https://example.com/a).", json!({"not": true}), false,
             json!(["https://example.com/a"]), json!([]), "Some URLs are valid when they should all be invalid (1 of 1).", "HTTP request"),
        ];
        for (text, params, verdict, valid, invalid, explanation, requested) in cases {
            let o = outcome(&ValidUrls, params.clone(), &Cx::assistant(text));
            assert_eq!(o.verdict, verdict, "{text}");
            assert_eq!(o.data["validUrls"], valid, "{text}");
            assert_eq!(o.data["invalidUrls"], invalid, "{text}");
            assert_eq!(o.data["explanation"], explanation, "{text}");
            assert_eq!(o.data["validationMethod"], "syntax");
            assert_eq!(o.data["requestedValidationMethod"], requested);
            assert!(o.data["note"].as_str().unwrap().contains("syntax only"));
        }
        for not in [false, true] {
            let o = outcome(&ValidUrls, json!({"not": not}), &Cx::assistant("This text contains no URLs"));
            assert!(!o.verdict);
            assert_eq!(o.data["explanation"], "No URLs found in the text.");
            assert_eq!(o.data["urls"], json!([]));
        }
        let long = format!("Here's a very long text {} with a URL https://example.com in the middle {}", "-".repeat(200), "-".repeat(200));
        let o = outcome(&ValidUrls, json!({}), &Cx::assistant(&long));
        assert!(o.data["textExcerpt"].as_str().unwrap().ends_with("..."));
        assert_eq!(o.data["validUrls"], json!(["https://example.com"]));
    }

    #[test]
    fn errors() {
        assert_eq!(error(&ValidUrls, json!({}), &Cx::assistant("")), "Missing text to analyze");
        assert!(error(&ValidUrls, json!({"onlyDNS": "yes"}), &Cx::assistant("x")).starts_with("invalid: `onlyDNS`"));
    }
}
