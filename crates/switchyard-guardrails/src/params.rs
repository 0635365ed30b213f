//! Reading Portkey `parameters` objects strictly: every mistake is a
//! [`CheckError::InvalidParameters`] naming the parameter, found when the config is loaded.

use serde_json::{Map, Value};

use crate::CheckError;

/// JavaScript's `Number.MAX_SAFE_INTEGER`: the largest count a parameter may hold.
pub(crate) const MAX_COUNT: u64 = (1 << 53) - 1;

pub(crate) fn invalid(msg: impl Into<String>) -> CheckError {
    CheckError::InvalidParameters(msg.into())
}

/// A check's parameters; `null` reads as `{}`. A `null` parameter reads as absent.
#[derive(Clone, Copy)]
pub(crate) struct Params<'a>(Option<&'a Map<String, Value>>);

impl<'a> Params<'a> {
    pub(crate) fn new(params: &'a Value) -> Result<Self, CheckError> {
        match params {
            Value::Null => Ok(Params(None)),
            Value::Object(map) => Ok(Params(Some(map))),
            other => Err(invalid(format!(
                "parameters must be a JSON object, not {}",
                kind(other)
            ))),
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&'a Value> {
        self.0?.get(name).filter(|v| !v.is_null())
    }

    /// A boolean, `default` when absent.
    pub(crate) fn bool(&self, name: &str, default: bool) -> Result<bool, CheckError> {
        match self.get(name) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(invalid(format!(
                "`{name}` must be a boolean, not {}",
                kind(other)
            ))),
        }
    }

    /// `not`, Portkey's verdict inverter (default false).
    pub(crate) fn not(&self) -> Result<bool, CheckError> {
        self.bool("not", false)
    }

    /// A string, if present.
    pub(crate) fn str(&self, name: &str) -> Result<Option<&'a str>, CheckError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(invalid(format!(
                "`{name}` must be a string, not {}",
                kind(other)
            ))),
        }
    }

    /// A required, non-empty string.
    pub(crate) fn required_str(&self, name: &str) -> Result<&'a str, CheckError> {
        match self.str(name)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(invalid(format!(
                "`{name}` is required (a non-empty string)"
            ))),
        }
    }

    /// A whole number in `0..=MAX_COUNT`; `default` when absent (required when `None`).
    pub(crate) fn count(&self, name: &str, default: Option<u64>) -> Result<u64, CheckError> {
        let Some(value) = self.get(name) else {
            return default
                .ok_or_else(|| invalid(format!("`{name}` is required (a whole number)")));
        };
        let bad = |why: &str| invalid(format!("`{name}` must be {why}, not {value}"));
        let Value::Number(n) = value else {
            return Err(bad("a whole number"));
        };
        if let Some(u) = n.as_u64() {
            return if u <= MAX_COUNT {
                Ok(u)
            } else {
                Err(bad("at most 9007199254740991"))
            };
        }
        if n.as_i64().is_some() {
            return Err(bad("zero or more"));
        }
        let f = n.as_f64().unwrap_or(f64::NAN);
        if !f.is_finite() || f.fract() != 0.0 {
            Err(bad("a whole number"))
        } else if f < 0.0 {
            Err(bad("zero or more"))
        } else if f > MAX_COUNT as f64 {
            Err(bad("at most 9007199254740991"))
        } else {
            // Exact: a whole f64 in 0..=2^53.
            Ok(f as u64)
        }
    }

    /// `min..=max` from two count parameters, with their defaults; `min > max` is refused.
    pub(crate) fn range(
        &self,
        (min_name, min_default): (&str, u64),
        (max_name, max_default): (&str, u64),
    ) -> Result<(u64, u64), CheckError> {
        let min = self.count(min_name, Some(min_default))?;
        let max = self.count(max_name, Some(max_default))?;
        if min > max {
            return Err(invalid(format!(
                "`{min_name}` ({min}) is greater than `{max_name}` ({max})"
            )));
        }
        Ok((min, max))
    }

    /// A finite number in `lo..=hi`; `default` when absent.
    pub(crate) fn number_in(
        &self,
        name: &str,
        default: f64,
        (lo, hi): (f64, f64),
    ) -> Result<f64, CheckError> {
        let Some(value) = self.get(name) else {
            return Ok(default);
        };
        match value.as_f64() {
            Some(f) if f.is_finite() && (lo..=hi).contains(&f) => Ok(f),
            _ => Err(invalid(format!(
                "`{name}` must be a number from {lo} to {hi}, not {value}"
            ))),
        }
    }

    /// An array of strings, if present. With `comma_separated`, a string `"a, b"` reads as
    /// `["a", "b"]` (Portkey accepts that form for some list parameters).
    pub(crate) fn string_list(
        &self,
        name: &str,
        comma_separated: bool,
    ) -> Result<Option<Vec<String>>, CheckError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) if comma_separated => Ok(Some(split_list(s))),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(invalid(format!(
                        "`{name}` must be a list of strings; it holds {}",
                        kind(other)
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(invalid(format!(
                "`{name}` must be a list of strings, not {}",
                kind(other)
            ))),
        }
    }

    /// A required, non-empty array of strings.
    pub(crate) fn required_list(&self, name: &str) -> Result<Vec<String>, CheckError> {
        match self.string_list(name, false)? {
            Some(list) if !list.is_empty() => Ok(list),
            _ => Err(invalid(format!(
                "`{name}` is required (a non-empty list of strings)"
            ))),
        }
    }

    /// `any` / `all` / `none`, `default` when absent.
    pub(crate) fn operator(&self, name: &str, default: Operator) -> Result<Operator, CheckError> {
        match self.str(name)? {
            None => Ok(default),
            Some("any") => Ok(Operator::Any),
            Some("all") => Ok(Operator::All),
            Some("none") => Ok(Operator::None),
            Some(other) => Err(invalid(format!(
                "`{name}` must be \"any\", \"all\" or \"none\", not {other:?}"
            ))),
        }
    }
}

/// `"a, b,,c"` → `["a", "b", "c"]`.
pub(crate) fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The any/all/none operator of `contains`, `jsonKeys` and `requiredMetadataKeys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operator {
    Any,
    All,
    None,
}

impl Operator {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Operator::Any => "any",
            Operator::All => "all",
            Operator::None => "none",
        }
    }

    /// The verdict given how many of the listed items were found and how many were missing.
    pub(crate) fn verdict(self, found: usize, missing: usize) -> bool {
        match self {
            Operator::Any => found > 0,
            Operator::All => missing == 0,
            Operator::None => found == 0,
        }
    }
}

pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts() {
        let cases: &[(Value, Result<u64, &str>)] = &[
            (json!(0), Ok(0)),
            (json!(5), Ok(5)),
            (json!(5.0), Ok(5)),
            (json!(9007199254740991u64), Ok(MAX_COUNT)),
            (json!(9007199254740992u64), Err("at most")),
            (json!(1e300), Err("at most")),
            (json!(-1), Err("zero or more")),
            (json!(-1.0), Err("zero or more")),
            (json!(1.5), Err("whole number")),
            (json!("5"), Err("whole number")),
            (json!(true), Err("whole number")),
        ];
        for (value, want) in cases {
            let params = json!({ "n": value });
            let got = Params::new(&params).and_then(|p| p.count("n", None));
            match (got, want) {
                (Ok(got), Ok(want)) => assert_eq!(got, *want, "{value}"),
                (Err(CheckError::InvalidParameters(msg)), Err(want)) => {
                    assert!(msg.contains(want), "{value}: {msg}")
                }
                (got, want) => panic!("{value}: got {got:?}, want {want:?}"),
            }
        }
        let empty = json!({});
        assert_eq!(
            Params::new(&empty).and_then(|p| p.count("n", Some(7))),
            Ok(7)
        );
        assert!(Params::new(&empty)
            .and_then(|p| p.count("n", None))
            .is_err());
    }

    #[test]
    fn ranges_and_shapes() {
        let p = json!({"min": 5, "max": 4});
        assert!(Params::new(&p)
            .and_then(|p| p.range(("min", 0), ("max", 10)))
            .is_err());
        assert!(Params::new(&json!([])).is_err());
        assert!(Params::new(&json!(null)).is_ok());
        let p = json!({"b": "yes", "l": ["a", 1], "s": "a, b ,", "o": "some", "t": 2});
        let p = Params::new(&p).unwrap();
        assert!(p.bool("b", false).is_err());
        assert!(p.string_list("l", false).is_err());
        assert_eq!(
            p.string_list("s", true),
            Ok(Some(vec!["a".to_owned(), "b".to_owned()]))
        );
        assert!(p.string_list("s", false).is_err());
        assert!(p.operator("o", Operator::Any).is_err());
        assert_eq!(p.operator("missing", Operator::All), Ok(Operator::All));
        assert!(p.number_in("t", 0.5, (0.0, 1.0)).is_err());
        assert_eq!(p.number_in("missing", 0.5, (0.0, 1.0)), Ok(0.5));
    }
}
