//! Extended thinking and prompt-caching rules shared by every Claude translation: the Anthropic
//! API, Claude on Vertex AI and Claude through Bedrock Converse.
//!
//! * `thinking` (Portkey's parameter, Anthropic's shape) is sent as the client wrote it.
//! * `reasoning_effort` without `thinking` becomes
//!   `{"type": "enabled", "budget_tokens": B}` with B = 1024 (`minimal`, `low`), 8192
//!   (`medium`) or 24576 (`high`), the budgets the Gemini mapping uses; `none` sends nothing.
//! * Anthropic counts the budget inside `max_tokens` and requires `max_tokens > budget_tokens`:
//!   with no client limit `max_tokens` is 4096 (budget + 4096 when the budget is 4096 or more);
//!   a client limit that does not exceed the budget is sent as budget + limit, so the answer
//!   keeps the room the client asked for.
//! * `cache_control` markers (on parts, messages, tools) become `{"type": "ephemeral"}`, keeping
//!   a `ttl` the client gave (Portkey always sends `ephemeral`).

use serde_json::{json, Map, Value};
use switchyard_types::chat::ChatRequest;

use crate::native::TranslateError;

/// `max_tokens` sent when the client set neither `max_completion_tokens` nor `max_tokens`
/// (Anthropic requires the field).
pub(crate) const DEFAULT_MAX_TOKENS: u32 = 4096;

/// The thinking budget a `reasoning_effort` stands for; `None` for `none` (no thinking).
pub(crate) fn effort_budget(effort: &str) -> Result<Option<u64>, TranslateError> {
    match effort {
        "none" => Ok(None),
        "minimal" | "low" => Ok(Some(1024)),
        "medium" => Ok(Some(8192)),
        "high" => Ok(Some(24576)),
        other => Err(TranslateError::invalid_request(
            format!(
                "unknown reasoning_effort {other:?}: expected none, minimal, low, medium or high"
            ),
            Some("reasoning_effort"),
        )),
    }
}

/// The Anthropic `thinking` object for `req`: the client's `thinking` as is, else one derived
/// from `reasoning_effort`, else none.
pub(crate) fn thinking(req: &ChatRequest) -> Result<Option<Value>, TranslateError> {
    if let Some(t) = req.extra.get("thinking").filter(|v| !v.is_null()) {
        if !t.is_object() {
            return Err(TranslateError::invalid_request(
                "thinking must be an object such as {\"type\": \"enabled\", \"budget_tokens\": 2048}",
                Some("thinking"),
            ));
        }
        return Ok(Some(t.clone()));
    }
    let Some(effort) = req.extra.get("reasoning_effort").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let effort = effort.as_str().ok_or_else(|| {
        TranslateError::invalid_request(
            "reasoning_effort must be a string",
            Some("reasoning_effort"),
        )
    })?;
    Ok(effort_budget(effort)?.map(|b| json!({ "type": "enabled", "budget_tokens": b })))
}

/// The budget of an enabled `thinking` object (0 when thinking is off or has no budget).
pub(crate) fn budget(thinking: Option<&Value>) -> u64 {
    thinking
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("enabled"))
        .and_then(|t| t.get("budget_tokens"))
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

/// The `max_tokens` to send for the client's limit and a thinking budget (see the module docs).
pub(crate) fn max_tokens(requested: Option<u32>, budget: u64) -> u64 {
    match requested.map(u64::from) {
        Some(n) if budget > 0 && n <= budget => budget.saturating_add(n),
        Some(n) => n,
        None => {
            let default = u64::from(DEFAULT_MAX_TOKENS);
            if budget >= default {
                budget.saturating_add(default)
            } else {
                default
            }
        }
    }
}

/// The Anthropic `cache_control` for a client's marker: `{"type": "ephemeral"}` plus the
/// marker's `ttl`. `None` (no caching) for an absent, `null` or `false` marker.
pub(crate) fn cache_control(marker: Option<&Value>) -> Option<Value> {
    let marker = marker.filter(|m| !m.is_null() && m.as_bool() != Some(false))?;
    let mut out = Map::new();
    out.insert("type".into(), json!("ephemeral"));
    if let Some(ttl) = marker.get("ttl").filter(|t| !t.is_null()) {
        out.insert("ttl".into(), ttl.clone());
    }
    Some(Value::Object(out))
}

/// Sets `cache_control` on an Anthropic block (a JSON object) when the marker asks for caching
/// and the block has none yet.
pub(crate) fn mark(block: &mut Value, marker: Option<&Value>) {
    if let (Some(cc), Some(obj)) = (cache_control(marker), block.as_object_mut()) {
        obj.entry("cache_control").or_insert(cc);
    }
}
