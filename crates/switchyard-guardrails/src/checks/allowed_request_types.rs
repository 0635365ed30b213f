//! `default.allowedRequestTypes`: passes when the request type (endpoint) is allowed.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::params::{invalid, split_list, Params};
use crate::{ready, Check, CheckContext, CheckError, CheckFuture, CheckOutcome, PreparedCheck};

/// `default.allowedRequestTypes`. Parameters: `allowedTypes`, `blockedTypes` (lists of Portkey
/// request types — `chatComplete`, `complete`, `embed`, `messages`, ... — or comma-separated
/// strings). Without them, the request metadata's `supported_endpoints` / `blocked_endpoints`
/// apply (same forms). Blocked wins over allowed; with neither list, everything is allowed. A
/// type in both lists is refused (at load time when both come from the parameters).
pub struct AllowedRequestTypes;

struct Prepared {
    allowed: Option<Vec<String>>,
    blocked: Option<Vec<String>>,
}

impl Check for AllowedRequestTypes {
    fn id(&self) -> &'static str {
        "default.allowedRequestTypes"
    }

    fn prepare(&self, params: &Value) -> Result<Arc<dyn PreparedCheck>, CheckError> {
        let p = Params::new(params)?;
        let allowed = p.string_list("allowedTypes", true)?.filter(|l| !l.is_empty());
        let blocked = p.string_list("blockedTypes", true)?.filter(|l| !l.is_empty());
        if let (Some(a), Some(b)) = (&allowed, &blocked) {
            conflicts(a, b).map_err(invalid)?;
        }
        Ok(Arc::new(Prepared { allowed, blocked }))
    }
}

fn conflicts(allowed: &[String], blocked: &[String]) -> Result<(), String> {
    let both: Vec<&str> = allowed
        .iter()
        .filter(|t| blocked.contains(t))
        .map(String::as_str)
        .collect();
    if both.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "Conflict detected: The following types appear in both allowedTypes and blockedTypes: {}. Please remove them from one list.",
            both.join(", ")
        ))
    }
}

/// A metadata list: an array of strings or a comma-separated string.
fn metadata_list(metadata: &Map<String, Value>, key: &str) -> Option<Vec<String>> {
    let list = match metadata.get(key)? {
        Value::String(s) => split_list(s),
        Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => return None,
    };
    (!list.is_empty()).then_some(list)
}

impl PreparedCheck for Prepared {
    fn run<'a>(&'a self, cx: &'a CheckContext<'a>) -> CheckFuture<'a> {
        ready(self.check(cx))
    }
}

impl Prepared {
    fn check(&self, cx: &CheckContext<'_>) -> Result<CheckOutcome, CheckError> {
        let from_params = self.allowed.is_some() || self.blocked.is_some();
        let allowed = self
            .allowed
            .clone()
            .or_else(|| metadata_list(cx.metadata, "supported_endpoints"))
            .unwrap_or_default();
        let blocked = self
            .blocked
            .clone()
            .or_else(|| metadata_list(cx.metadata, "blocked_endpoints"))
            .unwrap_or_default();
        let from_metadata = !from_params
            && (cx.metadata.contains_key("supported_endpoints")
                || cx.metadata.contains_key("blocked_endpoints"));
        conflicts(&allowed, &blocked).map_err(CheckError::Failed)?;

        let current = cx.request_type.as_portkey();
        let is_allowed = allowed.iter().any(|t| t == current);
        let is_blocked = blocked.iter().any(|t| t == current);
        let (mode, verdict) = match (allowed.is_empty(), blocked.is_empty()) {
            (true, true) => ("unrestricted", true),
            (true, false) => ("blocklist", !is_blocked),
            (false, true) => ("allowlist", is_allowed),
            (false, false) => ("combined", !is_blocked && is_allowed),
        };
        let explanation = match (mode, verdict) {
            ("combined", false) if is_blocked => format!("Request type \"{current}\" is explicitly blocked."),
            ("combined", false) => format!(
                "Request type \"{current}\" is not in the allowed list. Allowed types (excluding blocked): {}",
                allowed.iter().filter(|t| !blocked.contains(t)).cloned().collect::<Vec<_>>().join(", ")
            ),
            ("combined", true) => format!("Request type \"{current}\" is allowed (in allowlist and not blocked)."),
            ("blocklist", true) => format!("Request type \"{current}\" is allowed (not in blocklist)."),
            ("blocklist", false) => format!("Request type \"{current}\" is blocked."),
            ("allowlist", true) => format!("Request type \"{current}\" is allowed."),
            ("allowlist", false) => format!(
                "Request type \"{current}\" is not allowed. Allowed types are: {}",
                allowed.join(", ")
            ),
            _ => format!("Request type \"{current}\" is allowed (no restrictions configured)."),
        };
        let mut data = Map::new();
        data.insert("currentRequestType".into(), current.into());
        if !allowed.is_empty() {
            data.insert("allowedTypes".into(), json!(allowed));
        } else if mode == "unrestricted" {
            data.insert("allowedTypes".into(), json!(["all"]));
        }
        if !blocked.is_empty() {
            data.insert("blockedTypes".into(), json!(blocked));
        }
        data.insert("verdict".into(), verdict.into());
        data.insert("explanation".into(), explanation.into());
        let source = if from_params {
            "parameters"
        } else if from_metadata {
            "metadata"
        } else {
            "default"
        };
        data.insert("source".into(), source.into());
        data.insert("mode".into(), mode.into());
        Ok(CheckOutcome::new(verdict, Value::Object(data)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{error, outcome, Cx};
    use crate::RequestType;

    fn cx(request_type: RequestType, metadata: Value) -> Cx {
        Cx::before(request_type, json!({"messages": [{"role": "user", "content": "x"}]})).with_metadata(metadata)
    }

    #[test]
    fn verdicts() {
        use RequestType::*;
        let cases = [
            (json!({"allowedTypes": ["chatComplete", "complete", "embed"]}), ChatComplete, json!({}), true, "parameters", "allowlist", "Request type \"chatComplete\" is allowed."),
            (json!({"allowedTypes": ["chatComplete", "complete"]}), Embed, json!({}), false, "parameters", "allowlist", "Request type \"embed\" is not allowed. Allowed types are: chatComplete, complete"),
            (json!({"allowedTypes": "chatComplete, complete, embed"}), Embed, json!({}), true, "parameters", "allowlist", "Request type \"embed\" is allowed."),
            (json!({}), Complete, json!({"supported_endpoints": "complete, chatComplete"}), true, "metadata", "allowlist", "Request type \"complete\" is allowed."),
            (json!({"allowedTypes": ["embed", "rerank"]}), Embed, json!({"supported_endpoints": "complete"}), true, "parameters", "allowlist", "Request type \"embed\" is allowed."),
            (json!({}), ChatComplete, json!({}), true, "default", "unrestricted", "Request type \"chatComplete\" is allowed (no restrictions configured)."),
            (json!({"blockedTypes": ["embed"]}), Embed, json!({}), false, "parameters", "blocklist", "Request type \"embed\" is blocked."),
            (json!({"blockedTypes": "embed, complete"}), Messages, json!({}), true, "parameters", "blocklist", "Request type \"messages\" is allowed (not in blocklist)."),
            (json!({}), Embed, json!({"blocked_endpoints": ["embed"]}), false, "metadata", "blocklist", "Request type \"embed\" is blocked."),
            (json!({"blockedTypes": ["complete"]}), Embed, json!({"blocked_endpoints": ["embed"]}), true, "parameters", "blocklist", "Request type \"embed\" is allowed (not in blocklist)."),
            (json!({"allowedTypes": ["chatComplete", "embed"], "blockedTypes": ["complete"]}), Embed, json!({}), true, "parameters", "combined", "Request type \"embed\" is allowed (in allowlist and not blocked)."),
            (json!({"allowedTypes": ["chatComplete"], "blockedTypes": ["complete"]}), Complete, json!({}), false, "parameters", "combined", "Request type \"complete\" is explicitly blocked."),
            (json!({"allowedTypes": ["chatComplete"], "blockedTypes": ["complete"]}), Embed, json!({}), false, "parameters", "combined", "Request type \"embed\" is not in the allowed list. Allowed types (excluding blocked): chatComplete"),
            (json!({"allowedTypes": ["chatComplete"]}), Other, json!({}), false, "parameters", "allowlist", "Request type \"other\" is not allowed. Allowed types are: chatComplete"),
        ];
        for (params, rt, metadata, verdict, source, mode, explanation) in cases {
            let o = outcome(&AllowedRequestTypes, params.clone(), &cx(rt, metadata));
            assert_eq!(o.verdict, verdict, "{params} {rt:?}");
            assert_eq!(o.data["source"], source, "{params} {rt:?}");
            assert_eq!(o.data["mode"], mode, "{params} {rt:?}");
            assert_eq!(o.data["explanation"], explanation, "{params} {rt:?}");
        }
        let o = outcome(&AllowedRequestTypes, json!({}), &cx(ChatComplete, json!({})));
        assert_eq!(o.data["allowedTypes"], json!(["all"]));
        let o = outcome(&AllowedRequestTypes, json!({}), &cx(Embed, json!({"supported_endpoints": "embed, rerank, moderate"})));
        assert_eq!(o.data["allowedTypes"], json!(["embed", "rerank", "moderate"]));
    }

    #[test]
    fn errors() {
        let cases = [
            (json!({"allowedTypes": ["chatComplete", "embed"], "blockedTypes": "embed"}), json!({}), "invalid: Conflict detected: The following types appear in both allowedTypes and blockedTypes: embed."),
            (json!({}), json!({"supported_endpoints": "embed", "blocked_endpoints": "embed"}), "Conflict detected"),
            (json!({"allowedTypes": 5}), json!({}), "invalid: `allowedTypes` must be a list of strings"),
        ];
        for (params, metadata, want) in cases {
            let got = error(&AllowedRequestTypes, params.clone(), &cx(RequestType::Embed, metadata));
            assert!(got.contains(want), "{params}: {got}");
        }
    }
}
