//! Human-readable values in config files: durations (`250ms`, `30s`, `5m`), byte sizes
//! (`10MiB`), and `${ENV}` references.

use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::time::Duration;

use super::errors::ConfigErrors;

/// Parses `250ms`, `30s`, `5m`, `1h`, `7d`, or a bare number of milliseconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 500ms, 30s or 5m"))?;
    let ms = match unit.trim() {
        "" | "ms" => Some(n),
        "s" => n.checked_mul(1_000),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        "d" => n.checked_mul(86_400_000),
        _ => return Err(format!("`{s}` is not a duration like 500ms, 30s or 5m")),
    };
    ms.map(Duration::from_millis)
        .ok_or_else(|| format!("`{s}` is too long"))
}

/// Parses `1048576`, `512KiB`, `10MiB`, `1GiB` (also `KB`/`MB`/`GB`, as powers of 1024).
pub fn parse_size(s: &str) -> Result<usize, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: usize = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size like 10MiB"))?;
    let mult: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("`{s}` is not a size like 10MiB")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("`{s}` is too large"))
}

/// A duration field: a string like `30s` or a number of milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => n
                .as_u64()
                .map(|ms| HumanDuration(Duration::from_millis(ms)))
                .ok_or_else(|| {
                    serde::de::Error::custom("a duration must be a whole number of milliseconds")
                }),
            Value::String(s) => parse_duration(&s)
                .map(HumanDuration)
                .map_err(serde::de::Error::custom),
            _ => Err(serde::de::Error::custom("expected a duration like 30s")),
        }
    }
}

/// A size field: a string like `10MiB` or a number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub usize);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => n
                .as_u64()
                .and_then(|b| usize::try_from(b).ok())
                .map(ByteSize)
                .ok_or_else(|| serde::de::Error::custom("a size must be a whole number of bytes")),
            Value::String(s) => parse_size(&s)
                .map(ByteSize)
                .map_err(serde::de::Error::custom),
            _ => Err(serde::de::Error::custom("expected a size like 10MiB")),
        }
    }
}

/// Replaces `${NAME}` and `${NAME:-default}` in every string of `value`, and a whole string
/// `env:NAME`, with the environment's values. A missing variable without a default is an error
/// naming the field.
pub fn interpolate_env(
    value: &mut Value,
    path: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    errs: &mut ConfigErrors,
) {
    match value {
        Value::String(s) => match expand(s, lookup) {
            Ok(Some(new)) => *s = new,
            Ok(None) => {}
            Err(var) => errs.push(
                path,
                format!("environment variable `{var}` is not set (use ${{{var}:-default}} for a fallback)"),
            ),
        },
        Value::Array(a) => {
            for (i, v) in a.iter_mut().enumerate() {
                interpolate_env(v, &format!("{path}[{i}]"), lookup, errs);
            }
        }
        Value::Object(o) => {
            for (k, v) in o.iter_mut() {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                interpolate_env(v, &child, lookup, errs);
            }
        }
        _ => {}
    }
}

/// `Ok(None)`: nothing to expand. `Err(name)`: a variable is missing.
fn expand(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Option<String>, String> {
    if let Some(name) = s.strip_prefix("env:") {
        let name = name.trim();
        return lookup(name).map(Some).ok_or_else(|| name.to_owned());
    }
    if !s.contains("${") {
        return Ok(None);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let inner = &after[..end];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        match lookup(name).or_else(|| default.map(str::to_owned)) {
            Some(v) => out.push_str(&v),
            None => return Err(name.to_owned()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations_and_sizes_parse_with_units() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1500").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert_eq!(parse_size("10MiB").unwrap(), 10 << 20);
        assert_eq!(parse_size("512kb").unwrap(), 512 << 10);
        assert_eq!(parse_size("42").unwrap(), 42);
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn env_references_expand_with_defaults_and_report_missing() {
        let env = |k: &str| (k == "KEY").then(|| "sk-1".to_owned());
        let mut v = json!({"a": "${KEY}", "b": "x-${NOPE:-d}-y", "c": ["env:KEY"], "d": "${MISSING}", "e": 5});
        let mut errs = ConfigErrors::default();
        interpolate_env(&mut v, "", &env, &mut errs);
        assert_eq!(v["a"], "sk-1");
        assert_eq!(v["b"], "x-d-y");
        assert_eq!(v["c"][0], "sk-1");
        assert_eq!(errs.len(), 1);
        assert!(errs
            .to_string()
            .starts_with("d: environment variable `MISSING`"));
    }
}
