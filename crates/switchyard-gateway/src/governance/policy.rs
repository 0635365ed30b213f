//! What a gateway key, a team or a virtual key may do: its access globs, rate limits and
//! budget — Portkey's hosted field names, validated once (when a key is created or loaded) with
//! errors that name the field.
//!
//! ```json
//! {"models": ["gpt-4o*"], "providers": ["openai"], "routes": ["fast"], "virtual_keys": ["openai-*"],
//!  "rate_limits": [{"type": "requests", "unit": "rpm", "value": 60},
//!                  {"type": "tokens", "unit": "rpd", "value": 1000000, "on_store_error": "closed"}],
//!  "usage_limits": {"type": "cost", "credit_limit": 25, "periodic_reset": "monthly", "alert_threshold": 20},
//!  "metadata": {"_user": "ana"}, "config": {…a Gateway Config…}}
//! ```

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchyard_limits::Window;

/// `rate_limits[].type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LimitKind {
    Requests,
    Tokens,
}

impl LimitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::Requests => "requests",
            LimitKind::Tokens => "tokens",
        }
    }
}

/// `rate_limits[].unit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Rpm,
    Rph,
    Rpd,
}

impl Unit {
    pub fn window(self) -> Window {
        match self {
            Unit::Rpm => Window::Minute,
            Unit::Rph => Window::Hour,
            Unit::Rpd => Window::Day,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Rpm => "rpm",
            Unit::Rph => "rph",
            Unit::Rpd => "rpd",
        }
    }
}

/// What a limit does when its shared counters (Redis) can't be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnStoreError {
    /// Serve the request, counting it in this process only, and log a warning.
    #[default]
    Open,
    /// Refuse with 503.
    Closed,
}

/// One entry of `rate_limits`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    #[serde(rename = "type")]
    pub kind: LimitKind,
    pub unit: Unit,
    pub value: u64,
    #[serde(default, skip_serializing_if = "is_default")]
    pub on_store_error: OnStoreError,
}

fn is_default<T: Default + PartialEq>(t: &T) -> bool {
    *t == T::default()
}

/// `usage_limits.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BudgetKind {
    /// US dollars, from the price table.
    Cost,
    /// Input plus output tokens.
    Tokens,
}

/// `usage_limits.periodic_reset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reset {
    Daily,
    Weekly,
    Monthly,
}

/// `usage_limits`: a budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageLimit {
    #[serde(rename = "type")]
    pub kind: BudgetKind,
    pub credit_limit: f64,
    /// Without it the budget never resets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub periodic_reset: Option<Reset>,
    /// Spend (in the budget's unit) at which an alert is logged and posted, once per period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_threshold: Option<f64>,
}

/// The settings of a key, a team or a virtual key (absent fields: no restriction).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Globs over the model a request names (a route alias included) and the model each
    /// target sends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models: Option<Vec<String>>,
    /// Globs over the provider slug of each target tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub providers: Option<Vec<String>>,
    /// Globs over the server file's route the request takes (`default` for the default route).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routes: Option<Vec<String>>,
    /// Globs over the virtual keys a request may use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtual_keys: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rate_limits: Vec<RateLimit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_limits: Option<UsageLimit>,
    /// Merged into `x-portkey-metadata` (the key's values win).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
    /// A Gateway Config used when the request routes by nothing else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Value>,
    /// Guardrails every request of the key runs, whatever its route: lists as in a Gateway
    /// Config's `default_input_guardrails` / `default_output_guardrails`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrails: Option<KeyGuardrails>,
}

/// A key's guardrails.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyGuardrails {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input: Vec<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output: Vec<Value>,
}

impl KeyGuardrails {
    /// As the root members of a Gateway Config (`None` when both lists are empty).
    pub fn as_config_defaults(&self) -> Option<Map<String, Value>> {
        if self.input.is_empty() && self.output.is_empty() {
            return None;
        }
        let mut m = Map::new();
        if !self.input.is_empty() {
            m.insert(
                "default_input_guardrails".into(),
                Value::Array(self.input.clone()),
            );
        }
        if !self.output.is_empty() {
            m.insert(
                "default_output_guardrails".into(),
                Value::Array(self.output.clone()),
            );
        }
        Some(m)
    }
}

impl Policy {
    /// Reads and checks settings; the error names the field (`rate_limits[0].unit: …`).
    pub fn from_value(v: &Value) -> Result<Policy, String> {
        let policy: Policy = serde_path_to_error::deserialize(v).map_err(|e| {
            let path = e.path().to_string();
            if path == "." {
                e.into_inner().to_string()
            } else {
                format!("{path}: {}", e.into_inner())
            }
        })?;
        policy.check()?;
        Ok(policy)
    }

    fn check(&self) -> Result<(), String> {
        for (i, l) in self.rate_limits.iter().enumerate() {
            if l.value == 0 {
                return Err(format!("rate_limits[{i}].value: must be at least 1"));
            }
        }
        if let Some(u) = &self.usage_limits {
            if !(u.credit_limit.is_finite() && u.credit_limit > 0.0) {
                return Err("usage_limits.credit_limit: must be a number above 0".into());
            }
            if let Some(a) = u.alert_threshold {
                if !(a.is_finite() && a > 0.0) {
                    return Err("usage_limits.alert_threshold: must be a number above 0".into());
                }
            }
        }
        for (name, globs) in [
            ("models", &self.models),
            ("providers", &self.providers),
            ("routes", &self.routes),
            ("virtual_keys", &self.virtual_keys),
        ] {
            if let Some(g) = globs {
                if g.iter().any(String::is_empty) {
                    return Err(format!("{name}: a pattern is empty"));
                }
            }
        }
        if let Some(c) = &self.config {
            if !c.is_object() {
                return Err("config: must be a Gateway Config (a JSON object)".into());
            }
        }
        Ok(())
    }

    /// The settings as stored (absent fields left out).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Object(Map::new()))
    }
}

/// `*` matches any run of characters (`/` included), `?` one character; anything else itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Whether `globs` (absent: anything) allow `name`.
pub fn allowed(globs: &Option<Vec<String>>, name: &str) -> bool {
    globs
        .as_ref()
        .is_none_or(|g| g.iter().any(|p| glob_match(p, name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn globs_match_stars_and_question_marks() {
        assert!(glob_match("gpt-4o*", "gpt-4o-mini"));
        assert!(glob_match("*", "anything/at-all"));
        assert!(glob_match("claude-?-haiku", "claude-3-haiku"));
        assert!(glob_match("*-mini", "gpt-4o-mini"));
        assert!(!glob_match("gpt-4o*", "gpt-4"));
        assert!(!glob_match("openai", "openai-prod"));
        assert!(allowed(&None, "x"));
        assert!(!allowed(&Some(vec![]), "x"));
    }

    #[test]
    fn portkey_field_names_are_read() {
        let p = Policy::from_value(&json!({
            "rate_limits": [{"type": "requests", "unit": "rpm", "value": 10}],
            "usage_limits": {"type": "cost", "credit_limit": 5, "periodic_reset": "monthly"},
        }))
        .unwrap();
        assert_eq!(p.rate_limits[0].unit, Unit::Rpm);
        assert_eq!(p.usage_limits.unwrap().periodic_reset, Some(Reset::Monthly));
    }

    #[test]
    fn bad_settings_name_their_field() {
        let e = Policy::from_value(
            &json!({"rate_limits": [{"type": "requests", "unit": "rps", "value": 1}]}),
        )
        .unwrap_err();
        assert!(e.starts_with("rate_limits[0].unit"), "{e}");
        let e = Policy::from_value(&json!({"usage_limits": {"type": "cost", "credit_limit": 0}}))
            .unwrap_err();
        assert!(e.contains("credit_limit"), "{e}");
        let e = Policy::from_value(&json!({"modles": ["x"]})).unwrap_err();
        assert!(e.contains("modles"), "{e}");
        let e = Policy::from_value(
            &json!({"rate_limits": [{"type": "tokens", "unit": "rpm", "value": 0}]}),
        )
        .unwrap_err();
        assert!(e.contains("at least 1"), "{e}");
    }
}
