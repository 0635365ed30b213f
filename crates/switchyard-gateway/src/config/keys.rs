//! The rule for keys a Gateway Config does not know, at every level (a node, its `strategy`,
//! its `retry`):
//!
//! - a **known key in camelCase** (`overrideParams`, `retry.onStatusCodes`) is read as its
//!   snake_case form, as Portkey does;
//! - a key **one or two edits away from a known key** (`overide_params`, `targts`, `weigth`,
//!   `api_keys`) is a 400 that names the key it probably meant — a typo must not silently
//!   change routing;
//! - **any other key** (`model`, `max_tokens`, `description`…, which Portkey accepts and never
//!   reads) is ignored, so configs that work with Portkey work here — but not silently: the
//!   response says so in `x-switchyard-ignored-config-keys` (and the server logs a warning for
//!   keys ignored in its config file).

use std::borrow::Cow;

use serde_json::{Map, Value};

/// What a key is, for a level whose known keys are given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyVerdict {
    /// A known key (possibly after camelCase → snake_case).
    Known(String),
    /// Probably a typo of this known key.
    Typo(&'static str),
    /// Not a config key: ignored and reported.
    Ignored,
}

/// Classifies `key` against the `known` keys of its level (`is_known` adds families of keys
/// such as provider options).
pub fn classify(key: &str, known: &[&'static str], is_known: &dyn Fn(&str) -> bool) -> KeyVerdict {
    if known.contains(&key) || is_known(key) {
        return KeyVerdict::Known(key.to_owned());
    }
    let snake = snake_case(key);
    if snake != key && (known.contains(&snake.as_str()) || is_known(&snake)) {
        return KeyVerdict::Known(snake);
    }
    let lower = snake.as_str();
    let max = if lower.len() >= 5 { 2 } else { 1 };
    known
        .iter()
        .map(|k| (*k, distance(lower, k)))
        .filter(|(_, d)| *d <= max)
        .min_by_key(|(_, d)| *d)
        .map_or(KeyVerdict::Ignored, |(k, _)| KeyVerdict::Typo(k))
}

/// `object` with camelCase known keys renamed to snake_case (borrowed when none is).
pub fn normalized<'a>(
    object: &'a Map<String, Value>,
    known: &[&'static str],
    is_known: &dyn Fn(&str) -> bool,
) -> Cow<'a, Map<String, Value>> {
    if !object
        .keys()
        .any(|k| k.bytes().any(|b| b.is_ascii_uppercase()))
    {
        return Cow::Borrowed(object);
    }
    let mut out = Map::with_capacity(object.len());
    for (k, v) in object {
        let key = match classify(k, known, is_known) {
            KeyVerdict::Known(snake) if !object.contains_key(&snake) || snake == *k => snake,
            _ => k.clone(),
        };
        out.insert(key, v.clone());
    }
    Cow::Owned(out)
}

/// `overrideParams` → `override_params`.
fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for (i, c) in key.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Levenshtein distance (keys are short: a two-row table is plenty).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &[
        "override_params",
        "targets",
        "weight",
        "api_key",
        "retry",
        "name",
    ];

    fn verdict(k: &str) -> KeyVerdict {
        classify(k, KNOWN, &|k| k.starts_with("aws_"))
    }

    #[test]
    fn camel_case_known_keys_are_read_as_snake_case() {
        assert_eq!(
            verdict("overrideParams"),
            KeyVerdict::Known("override_params".into())
        );
        assert_eq!(verdict("apiKey"), KeyVerdict::Known("api_key".into()));
        assert_eq!(verdict("awsRegion"), KeyVerdict::Known("aws_region".into()));
    }

    #[test]
    fn near_misses_of_known_keys_are_typos() {
        assert_eq!(
            verdict("overide_params"),
            KeyVerdict::Typo("override_params")
        );
        assert_eq!(verdict("targts"), KeyVerdict::Typo("targets"));
        assert_eq!(verdict("weigth"), KeyVerdict::Typo("weight"));
        assert_eq!(verdict("api_keys"), KeyVerdict::Typo("api_key"));
        assert_eq!(verdict("retyr"), KeyVerdict::Typo("retry"));
    }

    #[test]
    fn other_keys_are_ignored() {
        for k in [
            "model",
            "max_tokens",
            "description",
            "temperature",
            "metadata",
        ] {
            assert_eq!(verdict(k), KeyVerdict::Ignored, "{k}");
        }
    }

    #[test]
    fn normalizing_renames_only_known_camel_case_keys() {
        let m: Map<String, Value> = serde_json::from_str(
            r#"{"overrideParams": {"maxTokens": 1}, "fooBar": 1, "name": "x"}"#,
        )
        .unwrap();
        let n = normalized(&m, KNOWN, &|_| false);
        assert!(n.contains_key("override_params") && n.contains_key("fooBar"));
        assert_eq!(
            n["override_params"]["maxTokens"], 1,
            "values are kept as they are"
        );
        let plain: Map<String, Value> = serde_json::from_str(r#"{"name": "x"}"#).unwrap();
        assert!(matches!(
            normalized(&plain, KNOWN, &|_| false),
            Cow::Borrowed(_)
        ));
    }
}
