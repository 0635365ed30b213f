//! Native PII and secret detection and redaction, used by `default.pii` and usable directly (the
//! gateway calls [`redact`] / [`Redactor`] on streamed text).
//!
//! One pass of a [`RegexSet`] over the text tells which kinds of value may be present — for text
//! without PII that is all the work done. Each kind that may be present is then searched with its
//! own regex, and every candidate is validated: credit cards by Luhn (and issuer digit), IBANs by
//! ISO 7064 mod-97, US SSNs by the SSA's never-issued ranges, IP addresses by parsing, JWTs by
//! decoding their header, API keys by looking random. Overlapping findings are resolved by
//! specificity (an Anthropic key is not also an OpenAI key; a card number is not also a phone
//! number).
//!
//! A [`Finding`] holds the category and byte range, never the value; a [`Redactor`] remembers
//! which values it has numbered by a hash, not by the value.
//!
//! | category | placeholder | what |
//! |---|---|---|
//! | `email` | `[EMAIL_n]` | e-mail addresses |
//! | `phone` | `[PHONE_n]` | `+`-prefixed international numbers (8–15 digits), NANP `(555) 123-4567` / `555-123-4567` |
//! | `credit_card` | `[CREDIT_CARD_n]` | 13–19 digits, optionally grouped by spaces or dashes, Luhn-valid |
//! | `ssn` | `[SSN_n]` | US SSNs `123-45-6789` / `123 45 6789` in issuable ranges |
//! | `iban` | `[IBAN_n]` | IBANs (upper case, optionally grouped by 4), mod-97 valid |
//! | `ip_address` | `[IP_ADDRESS_n]` | IPv4 dotted quads, IPv6 addresses |
//! | `aws_access_key` | `[AWS_ACCESS_KEY_n]` | `AKIA…`/`ASIA…` access key ids |
//! | `gcp_api_key` | `[GCP_API_KEY_n]` | Google API keys `AIza…` |
//! | `openai_api_key` | `[OPENAI_API_KEY_n]` | `sk-…`, `sk-proj-…`, `sk-svcacct-…`, `sk-admin-…` |
//! | `anthropic_api_key` | `[ANTHROPIC_API_KEY_n]` | `sk-ant-…` |
//! | `github_token` | `[GITHUB_TOKEN_n]` | `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` tokens, `github_pat_…` |
//! | `jwt` | `[JWT_n]` | JSON Web Tokens (`eyJ…​.…​.…`) |

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use regex::{Regex, RegexSet};

/// A kind of sensitive value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    Email,
    Phone,
    CreditCard,
    Ssn,
    Iban,
    IpAddress,
    AwsAccessKey,
    GcpApiKey,
    OpenaiApiKey,
    AnthropicApiKey,
    GithubToken,
    Jwt,
}

impl Category {
    /// Every category.
    pub const ALL: [Category; 12] = [
        Category::Email,
        Category::Phone,
        Category::CreditCard,
        Category::Ssn,
        Category::Iban,
        Category::IpAddress,
        Category::AwsAccessKey,
        Category::GcpApiKey,
        Category::OpenaiApiKey,
        Category::AnthropicApiKey,
        Category::GithubToken,
        Category::Jwt,
    ];

    /// The parameter name: `"email"`, `"credit_card"`, ...
    pub fn name(self) -> &'static str {
        match self {
            Category::Email => "email",
            Category::Phone => "phone",
            Category::CreditCard => "credit_card",
            Category::Ssn => "ssn",
            Category::Iban => "iban",
            Category::IpAddress => "ip_address",
            Category::AwsAccessKey => "aws_access_key",
            Category::GcpApiKey => "gcp_api_key",
            Category::OpenaiApiKey => "openai_api_key",
            Category::AnthropicApiKey => "anthropic_api_key",
            Category::GithubToken => "github_token",
            Category::Jwt => "jwt",
        }
    }

    /// The placeholder label: `"EMAIL"`, `"CREDIT_CARD"`, ...
    pub fn label(self) -> &'static str {
        match self {
            Category::Email => "EMAIL",
            Category::Phone => "PHONE",
            Category::CreditCard => "CREDIT_CARD",
            Category::Ssn => "SSN",
            Category::Iban => "IBAN",
            Category::IpAddress => "IP_ADDRESS",
            Category::AwsAccessKey => "AWS_ACCESS_KEY",
            Category::GcpApiKey => "GCP_API_KEY",
            Category::OpenaiApiKey => "OPENAI_API_KEY",
            Category::AnthropicApiKey => "ANTHROPIC_API_KEY",
            Category::GithubToken => "GITHUB_TOKEN",
            Category::Jwt => "JWT",
        }
    }

    /// The category named `name` (as [`Category::name`], ASCII case-insensitive).
    pub fn from_name(name: &str) -> Option<Category> {
        Category::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }

    /// Which of two overlapping findings wins: the lower rank (the more specific pattern).
    fn rank(self) -> u8 {
        match self {
            Category::AnthropicApiKey => 0,
            Category::OpenaiApiKey => 1,
            Category::GithubToken => 2,
            Category::AwsAccessKey => 3,
            Category::GcpApiKey => 4,
            Category::Jwt => 5,
            Category::Email => 6,
            Category::Iban => 7,
            Category::CreditCard => 8,
            Category::Ssn => 9,
            Category::IpAddress => 10,
            Category::Phone => 11,
        }
    }
}

/// A set of categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Categories(u16);

impl Categories {
    /// Every category.
    pub const ALL: Categories = Categories((1 << Category::ALL.len()) - 1);
    /// No category.
    pub const NONE: Categories = Categories(0);

    pub fn contains(self, category: Category) -> bool {
        self.0 & category.bit() != 0
    }

    /// This set with `category` added.
    pub fn with(self, category: Category) -> Categories {
        Categories(self.0 | category.bit())
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The categories in the set, in [`Category::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Category> {
        Category::ALL.into_iter().filter(move |c| self.contains(*c))
    }

    /// The set named by `names`; an unknown name is an error naming it and the valid names.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Categories, String> {
        names.into_iter().try_fold(Categories::NONE, |set, name| {
            Category::from_name(name)
                .map(|c| set.with(c))
                .ok_or_else(|| {
                    let valid: Vec<&str> = Category::ALL.iter().map(|c| c.name()).collect();
                    format!(
                        "unknown PII category {name:?} (known: {})",
                        valid.join(", ")
                    )
                })
        })
    }
}

impl FromIterator<Category> for Categories {
    fn from_iter<I: IntoIterator<Item = Category>>(iter: I) -> Self {
        iter.into_iter().fold(Categories::NONE, Categories::with)
    }
}

/// One sensitive value found in a text: its category, its byte range in the text, and its
/// placeholder number (the same value of a category gets the same number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    pub category: Category,
    pub start: usize,
    pub end: usize,
    pub number: usize,
}

impl Finding {
    /// `[EMAIL_1]`.
    pub fn placeholder(&self) -> String {
        format!("[{}_{}]", self.category.label(), self.number)
    }
}

/// Narrows or rejects a regex candidate `start..end` of `text`.
type Validate = fn(&str, usize, usize) -> Option<(usize, usize)>;

struct Pattern {
    category: Category,
    regex: &'static str,
    validate: Validate,
}

const PATTERNS: &[Pattern] = &[
    Pattern {
        category: Category::Email,
        regex: r"[A-Za-z0-9._%+\-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?-u:\b)",
        validate: email,
    },
    Pattern {
        category: Category::Phone,
        regex: r"\+[1-9][0-9]{0,2}(?:[ .\-]?\(?[0-9]{2,4}\)?){2,5}(?-u:\b)",
        validate: intl_phone,
    },
    Pattern {
        category: Category::Phone,
        regex: r"(?:(?-u:\b)1[ .\-])?(?:\([0-9]{3}\)[ .\-]?|(?-u:\b)[0-9]{3}[ .\-])[0-9]{3}[ .\-][0-9]{4}(?-u:\b)",
        validate: nanp_phone,
    },
    Pattern {
        category: Category::CreditCard,
        regex: r"(?-u:\b)[0-9](?:[ \-]?[0-9]){12,18}(?-u:\b)",
        validate: credit_card,
    },
    Pattern {
        category: Category::Ssn,
        regex: r"(?-u:\b)(?:[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{3} [0-9]{2} [0-9]{4})(?-u:\b)",
        validate: ssn,
    },
    Pattern {
        category: Category::Iban,
        regex: r"(?-u:\b)[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?-u:\b)",
        validate: iban,
    },
    Pattern {
        category: Category::IpAddress,
        regex: r"(?-u:\b)(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?-u:\b)",
        validate: ipv4,
    },
    Pattern {
        category: Category::IpAddress,
        regex: r"(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:\.[0-9]{1,3}){0,3}",
        validate: ipv6,
    },
    Pattern {
        category: Category::AwsAccessKey,
        regex: r"(?-u:\b)(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?-u:\b)",
        validate: accept,
    },
    Pattern {
        category: Category::GcpApiKey,
        regex: r"(?-u:\b)AIza[0-9A-Za-z_\-]{35}",
        validate: gcp_key,
    },
    Pattern {
        category: Category::OpenaiApiKey,
        regex: r"(?-u:\b)sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}",
        validate: openai_key,
    },
    Pattern {
        category: Category::AnthropicApiKey,
        regex: r"(?-u:\b)sk-ant-[A-Za-z0-9_\-]{20,}",
        validate: random_key,
    },
    Pattern {
        category: Category::GithubToken,
        regex: r"(?-u:\b)(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?-u:\b)",
        validate: accept,
    },
    Pattern {
        category: Category::Jwt,
        regex: r"(?-u:\b)eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*",
        validate: jwt,
    },
];

struct Detector {
    set: RegexSet,
    regexes: Vec<Regex>,
}

static DETECTOR: LazyLock<Result<Detector, regex::Error>> = LazyLock::new(|| {
    Ok(Detector {
        set: RegexSet::new(PATTERNS.iter().map(|p| p.regex))?,
        regexes: PATTERNS
            .iter()
            .map(|p| Regex::new(p.regex))
            .collect::<Result<_, _>>()?,
    })
});

/// Compiles the detector now (it is compiled once, on first use); an error would be a bug in
/// this crate's patterns, and `default.pii` reports it when a config is loaded.
pub fn ensure_compiled() -> Result<(), String> {
    DETECTOR
        .as_ref()
        .map(|_| ())
        .map_err(|e| format!("the PII patterns did not compile: {e}"))
}

/// The sensitive values of `categories` in `text`, in order, without overlaps. Each is numbered
/// as [`redact`] would number it.
pub fn detect(text: &str, categories: &Categories) -> Vec<Finding> {
    Redactor::new(*categories).detect(text)
}

/// `text` with every sensitive value of `categories` replaced by a typed, numbered placeholder
/// (`[EMAIL_1]`, `[EMAIL_2]`; the same value gets the same number), and the findings (byte
/// ranges in the *original* text).
///
/// Stateless: each call numbers from 1. To keep numbers consistent across several texts (the
/// chunks of a stream, the messages of a conversation) use a [`Redactor`]. A value split
/// between two calls is not found, so a streaming caller should redact at safe boundaries
/// (e.g. whole lines), holding back the rest.
pub fn redact(text: &str, categories: &Categories) -> (String, Vec<Finding>) {
    Redactor::new(*categories).redact(text)
}

/// Redacts several texts with one numbering: the same value gets the same placeholder in every
/// text. Remembers values by a 64-bit hash, never the values themselves.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    categories: Categories,
    numbers: HashMap<(Category, u64), usize>,
    counts: [usize; Category::ALL.len()],
}

impl Redactor {
    pub fn new(categories: Categories) -> Redactor {
        Redactor {
            categories,
            ..Redactor::default()
        }
    }

    /// [`detect`], numbering with this redactor's memory.
    pub fn detect(&mut self, text: &str) -> Vec<Finding> {
        let mut spans = candidates(text, self.categories);
        spans.sort_unstable_by_key(|&(_, start, _)| start);
        spans
            .into_iter()
            .map(|(category, start, end)| Finding {
                category,
                start,
                end,
                number: self.number(category, text.get(start..end).unwrap_or("")),
            })
            .collect()
    }

    /// [`redact`], numbering with this redactor's memory.
    pub fn redact(&mut self, text: &str) -> (String, Vec<Finding>) {
        let findings = self.detect(text);
        if findings.is_empty() {
            return (text.to_owned(), findings);
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for f in &findings {
            out.push_str(text.get(last..f.start).unwrap_or(""));
            out.push_str(&f.placeholder());
            last = f.end;
        }
        out.push_str(text.get(last..).unwrap_or(""));
        (out, findings)
    }

    fn number(&mut self, category: Category, value: &str) -> usize {
        let mut h = DefaultHasher::new();
        value.hash(&mut h);
        let counts = &mut self.counts;
        *self
            .numbers
            .entry((category, h.finish()))
            .or_insert_with(|| {
                let n = &mut counts[category as usize];
                *n += 1;
                *n
            })
    }
}

/// Validated, non-overlapping (category, start, end) spans, unordered.
fn candidates(text: &str, categories: Categories) -> Vec<(Category, usize, usize)> {
    let Ok(detector) = DETECTOR.as_ref() else {
        return Vec::new();
    };
    if categories.is_empty() || text.is_empty() {
        return Vec::new();
    }
    let mut spans: Vec<(Category, usize, usize)> = Vec::new();
    for i in detector.set.matches(text).iter() {
        let (Some(pattern), Some(regex)) = (PATTERNS.get(i), detector.regexes.get(i)) else {
            continue;
        };
        if !categories.contains(pattern.category) {
            continue;
        }
        for m in regex.find_iter(text) {
            if let Some((start, end)) = (pattern.validate)(text, m.start(), m.end()) {
                spans.push((pattern.category, start, end));
            }
        }
    }
    // Most specific first; a span overlapping one already kept is dropped.
    spans.sort_unstable_by_key(|&(c, start, end)| (c.rank(), start, usize::MAX - end));
    let mut kept: Vec<(Category, usize, usize)> = Vec::with_capacity(spans.len());
    for span in spans {
        if !kept.iter().any(|k| span.1 < k.2 && k.1 < span.2) {
            kept.push(span);
        }
    }
    kept
}

// ---- validation ----

fn accept(_: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    Some((start, end))
}

fn before(text: &str, start: usize) -> Option<char> {
    text.get(..start)?.chars().next_back()
}

fn after(text: &str, end: usize) -> Option<char> {
    text.get(end..)?.chars().next()
}

fn digits(s: &str) -> Vec<u8> {
    s.bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect()
}

fn email(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let value = text.get(start..end)?;
    let (local, _) = value.split_once('@')?;
    // A local part does not start or end with a dot; trim them off rather than reject.
    let lead = local.len() - local.trim_start_matches('.').len();
    let local = local.trim_start_matches('.');
    (!local.is_empty() && !local.ends_with('.')).then_some((start + lead, end))
}

fn intl_phone(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    if before(text, start).is_some_and(|c| c.is_alphanumeric()) {
        return None;
    }
    let n = digits(text.get(start..end)?).len();
    (8..=15).contains(&n).then_some((start, end))
}

fn nanp_phone(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    if before(text, start).is_some_and(|c| c == '+' || c == '-' || c == '.' || c.is_alphanumeric())
    {
        return None;
    }
    // Not the start of a longer dashed or dotted number.
    let next_is_digit = || {
        text.get(end + 1..)
            .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
    };
    if after(text, end).is_some_and(|c| c == '-' || (c == '.' && next_is_digit())) {
        return None;
    }
    Some((start, end))
}

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let d2 = d * 2;
                if d2 > 9 {
                    d2 - 9
                } else {
                    d2
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// Luhn-valid, 13–19 digits, a card issuer's first digit (2–6), not one repeated digit. A
/// candidate that fails is retried without its trailing digit groups (a card number followed by
/// another number).
fn credit_card(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let value = text.get(start..end)?;
    let ok = |s: &str| {
        let d = digits(s);
        (13..=19).contains(&d.len())
            && matches!(d.first(), Some(2..=6))
            && d.iter().any(|&x| Some(&x) != d.first())
            && luhn(&d)
    };
    if ok(value) {
        return Some((start, end));
    }
    value
        .char_indices()
        .rev()
        .filter(|&(_, c)| c == ' ' || c == '-')
        .map(|(i, _)| i)
        .find(|&i| ok(&value[..i]))
        .map(|i| (start, start + i))
}

fn ssn(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let d = digits(text.get(start..end)?);
    let area = d.iter().take(3).fold(0u32, |n, &x| n * 10 + u32::from(x));
    let group = d
        .iter()
        .skip(3)
        .take(2)
        .fold(0u32, |n, &x| n * 10 + u32::from(x));
    let serial = d.iter().skip(5).fold(0u32, |n, &x| n * 10 + u32::from(x));
    let valid = area != 0 && area != 666 && area < 900 && group != 0 && serial != 0;
    valid.then_some((start, end))
}

fn iban_ok(s: &str) -> bool {
    let compact: Vec<u8> = s.bytes().filter(|b| *b != b' ').collect();
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let mut rem: u32 = 0;
    for &b in tail.iter().chain(head) {
        let v = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// ISO 7064 mod-97 (retrying without trailing groups, like [`credit_card`]).
fn iban(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let value = text.get(start..end)?;
    if iban_ok(value) {
        return Some((start, end));
    }
    value
        .char_indices()
        .rev()
        .filter(|&(_, c)| c == ' ')
        .map(|(i, _)| i)
        .find(|&i| iban_ok(&value[..i]))
        .map(|i| (start, start + i))
}

/// Not part of a longer dotted number (a version string like `1.2.3.4.5`).
fn ipv4(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    if before(text, start) == Some('.') {
        return None;
    }
    let mut rest = text.get(end..)?.chars();
    if rest.next() == Some('.') && rest.next().is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    text.get(start..end)?
        .parse::<Ipv4Addr>()
        .ok()
        .map(|_| (start, end))
}

/// Parses as an IPv6 address, is delimited (not inside a word or a `std::io` path), and has at
/// least two groups of digits (not `::` or `a::b`).
fn ipv6(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let value = text.get(start..end)?;
    let glued = |c: char| c.is_alphanumeric() || c == ':' || c == '_' || c == '.';
    if before(text, start).is_some_and(glued)
        || after(text, end).is_some_and(|c| glued(c) && c != '.')
    {
        return None;
    }
    let groups = value.split([':', '.']).filter(|g| !g.is_empty()).count();
    if value.len() < 6 || groups < 2 {
        return None;
    }
    value.parse::<Ipv6Addr>().ok().map(|_| (start, end))
}

/// Random-looking: a key's body has a digit, an upper- and a lower-case letter.
fn looks_random(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes().any(|b| b.is_ascii_uppercase())
        && s.bytes().any(|b| b.is_ascii_lowercase())
}

fn random_key(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    looks_random(text.get(start..end)?).then_some((start, end))
}

fn openai_key(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let value = text.get(start..end)?;
    (!value.starts_with("sk-ant-") && looks_random(value)).then_some((start, end))
}

fn gcp_key(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    if after(text, end).is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return None;
    }
    Some((start, end))
}

/// The header decodes to a JSON object naming an algorithm.
fn jwt(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let header = text.get(start..end)?.split('.').next()?;
    let decoded = crate::b64::decode(header)?;
    let header: serde_json::Value = serde_json::from_slice(&decoded).ok()?;
    header.get("alg")?;
    Some((start, end))
}

#[cfg(test)]
mod tests;
