//! Conditional-routing queries: a MongoDB-like language over `metadata.*` and `params.*`.
//!
//! Portkey's operators are supported (`$eq $ne $gt $gte $lt $lte $in $nin $regex $and $or`),
//! with two deliberate generalisations: paths may be any depth (`params.response_format.type`),
//! and every key of a query object is ANDed (Portkey stops at the first `$and`/`$or`).

use regex::{Regex, RegexBuilder};

/// The longest `$regex` pattern a config may carry.
pub const MAX_REGEX_LEN: usize = 1024;
/// The most memory one compiled `$regex` may take (the regex crate's automata), so a client's
/// config can't make the gateway build a huge matcher per request.
const MAX_REGEX_SIZE: usize = 256 << 10;

/// Compiles a `$regex` from a config, bounded in pattern length and compiled size. (The regex
/// crate matches in linear time, so there is no catastrophic backtracking to guard against.)
fn regex(pattern: &str) -> Result<Regex, String> {
    if pattern.len() > MAX_REGEX_LEN {
        return Err(format!(
            "regular expression longer than {MAX_REGEX_LEN} bytes"
        ));
    }
    RegexBuilder::new(pattern)
        .size_limit(MAX_REGEX_SIZE)
        .dfa_size_limit(MAX_REGEX_SIZE)
        .build()
        .map_err(|e| format!("invalid regular expression: {e}"))
}
use serde_json::{Map, Value};

use crate::config::errors::ConfigErrors;

/// A parsed query.
#[derive(Debug)]
pub enum Query {
    All(Vec<Query>),
    Any(Vec<Query>),
    Field { path: Vec<String>, ops: Vec<Op> },
}

#[derive(Debug)]
pub enum Op {
    Eq(Value),
    Ne(Value),
    Gt(f64),
    Gte(f64),
    Lt(f64),
    Lte(f64),
    In(Vec<Value>),
    Nin(Vec<Value>),
    Regex(Regex),
}

/// What a query is evaluated against.
pub struct Facts<'a> {
    pub metadata: &'a Map<String, Value>,
    /// The request body, `None` when it is not a JSON object.
    pub params: Option<&'a Value>,
}

impl Query {
    /// Parses a query object; problems are reported under `path`.
    pub fn parse(value: &Value, path: &str, errs: &mut ConfigErrors) -> Option<Query> {
        let Some(obj) = value.as_object() else {
            errs.push(path, "a query must be a JSON object");
            return None;
        };
        let mut parts = Vec::with_capacity(obj.len());
        for (key, v) in obj {
            let here = format!("{path}.{key}");
            match key.as_str() {
                "$and" | "$or" => {
                    let Some(items) = v.as_array() else {
                        errs.push(&here, "must be an array of queries");
                        continue;
                    };
                    let subs: Vec<Query> = items
                        .iter()
                        .enumerate()
                        .filter_map(|(i, q)| Query::parse(q, &format!("{here}[{i}]"), errs))
                        .collect();
                    parts.push(if key == "$and" {
                        Query::All(subs)
                    } else {
                        Query::Any(subs)
                    });
                }
                k if k.starts_with('$') => {
                    errs.push(&here, format!("unsupported operator `{k}`"));
                }
                field => {
                    let segs: Vec<String> = field.split('.').map(str::to_owned).collect();
                    if segs.len() < 2
                        || !matches!(segs[0].as_str(), "metadata" | "params")
                        || segs.iter().any(String::is_empty)
                    {
                        errs.push(
                            &here,
                            "a query key must be `metadata.<key>` or `params.<key>` (or $and/$or)",
                        );
                        continue;
                    }
                    if let Some(ops) = parse_ops(v, &here, errs) {
                        parts.push(Query::Field { path: segs, ops });
                    }
                }
            }
        }
        Some(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Query::All(parts)
        })
    }

    /// Whether the query reads the request body.
    pub fn reads_params(&self) -> bool {
        match self {
            Query::All(q) | Query::Any(q) => q.iter().any(Query::reads_params),
            Query::Field { path, .. } => path[0] == "params",
        }
    }

    pub fn matches(&self, facts: &Facts<'_>) -> bool {
        match self {
            Query::All(q) => q.iter().all(|q| q.matches(facts)),
            Query::Any(q) => q.iter().any(|q| q.matches(facts)),
            Query::Field { path, ops } => {
                let root = match path[0].as_str() {
                    "metadata" => facts.metadata.get(&path[1]),
                    _ => facts.params.and_then(|p| p.get(&path[1])),
                };
                let value = path[2..]
                    .iter()
                    .try_fold(root, |v, seg| Some(v?.get(seg.as_str())))
                    .flatten();
                ops.iter().all(|op| op.matches(value))
            }
        }
    }
}

fn parse_ops(v: &Value, path: &str, errs: &mut ConfigErrors) -> Option<Vec<Op>> {
    let obj = match v.as_object() {
        Some(o) if o.keys().any(|k| k.starts_with('$')) => o,
        _ => return Some(vec![Op::Eq(v.clone())]),
    };
    let mut ops = Vec::with_capacity(obj.len());
    let before = errs.len();
    for (op, arg) in obj {
        let here = format!("{path}.{op}");
        let number = |errs: &mut ConfigErrors| match as_number(arg) {
            Some(n) => Some(n),
            None => {
                errs.push(&here, "must be a number");
                None
            }
        };
        let list = |errs: &mut ConfigErrors| match arg.as_array() {
            Some(a) => Some(a.clone()),
            None => {
                errs.push(&here, "must be an array");
                None
            }
        };
        let parsed = match op.as_str() {
            "$eq" => Some(Op::Eq(arg.clone())),
            "$ne" => Some(Op::Ne(arg.clone())),
            "$gt" => number(errs).map(Op::Gt),
            "$gte" => number(errs).map(Op::Gte),
            "$lt" => number(errs).map(Op::Lt),
            "$lte" => number(errs).map(Op::Lte),
            "$in" => list(errs).map(Op::In),
            "$nin" => list(errs).map(Op::Nin),
            "$regex" => match arg.as_str().map(regex) {
                Some(Ok(r)) => Some(Op::Regex(r)),
                Some(Err(e)) => {
                    errs.push(&here, e);
                    None
                }
                None => {
                    errs.push(&here, "must be a string");
                    None
                }
            },
            other => {
                errs.push(&here, format!("unsupported operator `{other}`"));
                None
            }
        };
        ops.extend(parsed);
    }
    (errs.len() == before).then_some(ops)
}

/// A number, or a string holding one (metadata values are strings).
fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl Op {
    fn matches(&self, value: Option<&Value>) -> bool {
        match self {
            Op::Eq(want) => value == Some(want),
            Op::Ne(want) => value != Some(want),
            Op::Gt(n) => value.and_then(as_number).is_some_and(|v| v > *n),
            Op::Gte(n) => value.and_then(as_number).is_some_and(|v| v >= *n),
            Op::Lt(n) => value.and_then(as_number).is_some_and(|v| v < *n),
            Op::Lte(n) => value.and_then(as_number).is_some_and(|v| v <= *n),
            Op::In(list) => value.is_some_and(|v| list.contains(v)),
            Op::Nin(list) => !value.is_some_and(|v| list.contains(v)),
            Op::Regex(re) => value
                .and_then(Value::as_str)
                .is_some_and(|s| re.is_match(s)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(v: Value) -> Query {
        let mut errs = ConfigErrors::default();
        let q = Query::parse(&v, "q", &mut errs).unwrap();
        assert!(errs.is_empty(), "{errs}");
        q
    }

    fn facts<'a>(meta: &'a Map<String, Value>, params: &'a Value) -> Facts<'a> {
        Facts {
            metadata: meta,
            params: Some(params),
        }
    }

    #[test]
    fn equality_and_comparison_operators() {
        let meta = json!({"tier": "pro", "score": "7"});
        let meta = meta.as_object().unwrap();
        let params = json!({"model": "gpt-4o", "max_tokens": 500, "response_format": {"type": "json_object"}});
        let f = facts(meta, &params);
        assert!(q(json!({"metadata.tier": "pro"})).matches(&f));
        assert!(!q(json!({"metadata.tier": {"$ne": "pro"}})).matches(&f));
        assert!(q(json!({"metadata.score": {"$gt": 5, "$lte": 7}})).matches(&f));
        assert!(!q(json!({"params.max_tokens": {"$lt": 100}})).matches(&f));
        assert!(q(json!({"params.model": {"$in": ["gpt-4o", "x"]}})).matches(&f));
        assert!(q(json!({"params.model": {"$nin": ["y"]}})).matches(&f));
        assert!(q(json!({"params.model": {"$regex": "^gpt-4"}})).matches(&f));
        assert!(q(json!({"params.response_format.type": "json_object"})).matches(&f));
        assert!(!q(json!({"metadata.missing": {"$gt": 0}})).matches(&f));
    }

    #[test]
    fn oversized_regexes_are_refused() {
        let mut errs = ConfigErrors::default();
        let long = "a".repeat(MAX_REGEX_LEN + 1);
        Query::parse(&json!({"params.m": {"$regex": long}}), "q", &mut errs);
        // Short, but its compiled automaton is enormous.
        let huge = "\\w{1000}\\w{1000}\\w{1000}";
        Query::parse(&json!({"params.m": {"$regex": huge}}), "q", &mut errs);
        assert_eq!(errs.len(), 2, "{errs}");
        assert!(errs.to_string().contains("longer than 1024 bytes"));
    }

    #[test]
    fn logical_operators_and_implicit_and() {
        let meta = json!({"tier": "free", "region": "eu"});
        let meta = meta.as_object().unwrap();
        let params = json!({});
        let f = facts(meta, &params);
        assert!(
            q(json!({"$or": [{"metadata.tier": "pro"}, {"metadata.region": "eu"}]})).matches(&f)
        );
        assert!(
            !q(json!({"$and": [{"metadata.tier": "pro"}, {"metadata.region": "eu"}]})).matches(&f)
        );
        assert!(!q(json!({"metadata.tier": "free", "metadata.region": "us"})).matches(&f));
    }

    #[test]
    fn invalid_queries_name_the_path() {
        let mut errs = ConfigErrors::default();
        Query::parse(
            &json!({"user.tier": 1, "metadata.x": {"$foo": 1}, "params.y": {"$regex": "("}, "metadata.z": {"$gt": "abc"}}),
            "strategy.conditions[0].query",
            &mut errs,
        );
        let text = errs.to_string();
        assert!(
            text.contains("strategy.conditions[0].query.user.tier"),
            "{text}"
        );
        assert!(text.contains("$foo"), "{text}");
        assert!(text.contains("invalid regular expression"), "{text}");
        assert!(
            text.contains("query.metadata.z.$gt: must be a number"),
            "{text}"
        );
    }

    #[test]
    fn reads_params_only_when_a_params_key_is_used() {
        assert!(!q(json!({"metadata.a": 1})).reads_params());
        assert!(q(json!({"$or": [{"metadata.a": 1}, {"params.b": 2}]})).reads_params());
    }
}
