//! A target's cache policy, from the Gateway Config's `cache` object (Portkey's dialect:
//! `{"mode": "simple" | "semantic", "max_age": <seconds>}`), and the request headers that steer
//! one request's use of it.

use std::time::Duration;

use http::HeaderMap;
use serde_json::Value;

/// The shortest and longest an entry may live; `max_age` outside is clamped (documented).
pub const MIN_AGE: Duration = Duration::from_secs(60);
pub const MAX_AGE: Duration = Duration::from_secs(90 * 86_400);
/// `max_age` when the config names none: seven days.
pub const DEFAULT_AGE: Duration = Duration::from_secs(7 * 86_400);

/// How a target's answers are cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    /// How long a stored answer is served.
    pub max_age: Duration,
    /// `mode: semantic`: also answer a request that means the same as a stored one.
    pub semantic: bool,
}

/// Parses a `cache` value: `None` for `null`; an error message for anything Portkey's dialect
/// does not mean, and for `semantic` when the server file configures no `cache.semantic`.
pub fn parse(
    v: &Value,
    semantic_available: bool,
) -> Result<Option<CachePolicy>, (String, &'static str)> {
    let obj = match v {
        Value::Null => return Ok(None),
        Value::Object(o) => o,
        _ => {
            return Err((
                String::new(),
                "must be an object like {\"mode\": \"simple\", \"max_age\": 3600}",
            ))
        }
    };
    for k in obj.keys() {
        if !matches!(k.as_str(), "mode" | "max_age" | "maxAge") {
            return Err((format!(".{k}"), "unknown field (expected mode, max_age)"));
        }
    }
    let semantic = match obj.get("mode").and_then(Value::as_str) {
        Some("simple") => false,
        Some("semantic") if semantic_available => true,
        Some("semantic") => {
            return Err((
                ".mode".into(),
                "semantic caching needs an embedding route: set `cache.semantic.route` in the server's config file",
            ))
        }
        _ => return Err((".mode".into(), "must be `simple` or `semantic`")),
    };
    let max_age = match obj.get("max_age").or_else(|| obj.get("maxAge")) {
        None | Some(Value::Null) => DEFAULT_AGE,
        Some(v) => match v.as_f64() {
            Some(s) if s.is_finite() && s >= 0.0 => Duration::try_from_secs_f64(s)
                .unwrap_or(MAX_AGE)
                .clamp(MIN_AGE, MAX_AGE),
            _ => return Err((".max_age".into(), "must be a number of seconds")),
        },
    };
    Ok(Some(CachePolicy { max_age, semantic }))
}

/// `x-portkey-cache-force-refresh: true`: skip the read, store the fresh answer.
pub const FORCE_REFRESH: &str = "x-portkey-cache-force-refresh";
/// `x-portkey-cache-namespace: <name>`: a partition the client chooses.
pub const NAMESPACE: &str = "x-portkey-cache-namespace";

/// What one request asks of the cache.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directives {
    /// Don't read (force refresh, or `Cache-Control: no-cache`).
    pub skip_read: bool,
    /// Don't write (`Cache-Control: no-store`).
    pub skip_write: bool,
    /// The client's namespace.
    pub namespace: Option<String>,
}

impl Directives {
    pub fn of(headers: &HeaderMap) -> Directives {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        let control: Vec<String> = headers
            .get_all(http::header::CACHE_CONTROL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|d| d.trim().to_ascii_lowercase())
            .collect();
        Directives {
            skip_read: text(FORCE_REFRESH).is_some_and(|v| v.eq_ignore_ascii_case("true"))
                || control.iter().any(|d| d == "no-cache"),
            skip_write: control.iter().any(|d| d == "no-store"),
            namespace: text(NAMESPACE).filter(|n| !n.is_empty()).map(str::to_owned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn max_age_is_in_seconds_clamped_and_defaults_to_seven_days() {
        let age = |v: Value| parse(&v, false).unwrap().unwrap().max_age;
        assert_eq!(age(json!({"mode": "simple"})), DEFAULT_AGE);
        assert_eq!(
            age(json!({"mode": "simple", "max_age": 3600})),
            Duration::from_secs(3600)
        );
        assert_eq!(age(json!({"mode": "simple", "max_age": 1})), MIN_AGE);
        assert_eq!(age(json!({"mode": "simple", "max_age": 1e300})), MAX_AGE);
        assert_eq!(parse(&Value::Null, false).unwrap(), None);
    }

    #[test]
    fn anything_else_is_refused_with_its_field() {
        for (v, at) in [
            (json!("simple"), ""),
            (json!({"mode": "fuzzy"}), ".mode"),
            (json!({"mode": "semantic"}), ".mode"),
            (json!({"mode": "simple", "max_age": -1}), ".max_age"),
            (json!({"mode": "simple", "ttl": 5}), ".ttl"),
        ] {
            assert_eq!(parse(&v, false).unwrap_err().0, at, "{v}");
        }
    }

    #[test]
    fn semantic_mode_needs_the_servers_embedding_route() {
        let v = json!({"mode": "semantic", "max_age": 600});
        assert_eq!(parse(&v, false).unwrap_err().0, ".mode");
        let p = parse(&v, true).unwrap().unwrap();
        assert!(p.semantic);
        assert_eq!(p.max_age, Duration::from_secs(600));
        assert!(
            !parse(&json!({"mode": "simple"}), true)
                .unwrap()
                .unwrap()
                .semantic
        );
    }

    #[test]
    fn directives_come_from_portkeys_headers_and_cache_control() {
        let mut h = HeaderMap::new();
        assert_eq!(Directives::of(&h), Directives::default());
        h.insert(FORCE_REFRESH, "true".parse().unwrap());
        h.insert(NAMESPACE, " team-a ".parse().unwrap());
        h.insert("cache-control", "max-age=0, No-Store".parse().unwrap());
        let d = Directives::of(&h);
        assert!(d.skip_read && d.skip_write);
        assert_eq!(d.namespace.as_deref(), Some("team-a"));
        let mut h = HeaderMap::new();
        h.insert("cache-control", "no-cache".parse().unwrap());
        assert!(Directives::of(&h).skip_read);
    }
}
