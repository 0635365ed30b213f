//! Anthropic Messages requests sent natively to the hosts that serve Claude: the client's body
//! as it wrote it — `cache_control`, thinking, tools of every type, beta features — with only
//! the addressing each host asks for.
//!
//! | host | path | `model` | `anthropic_version` | betas |
//! |---|---|---|---|---|
//! | Anthropic | `/messages` (base URL ends in `/v1`) | kept | `anthropic-version` header | `anthropic-beta` header, comma-joined |
//! | Vertex AI | `/v1/projects/{p}/locations/{r}/publishers/anthropic/models/{m}:rawPredict` (`:streamRawPredict`) | moved to the path | body, default `vertex-2023-10-16` | `anthropic-beta` header, comma-joined |
//! | Bedrock | `/model/{m}/invoke` (`/invoke-with-response-stream`) | moved to the path | body, default `bedrock-2023-05-31` | body `anthropic_beta` array |
//!
//! A client that cannot send headers may put `anthropic_version` and `anthropic_beta` in the
//! body (Portkey accepts them there too): they are moved to wherever the host wants them.

use serde_json::{Map, Value};

use crate::anthropic::{DEFAULT_ANTHROPIC_VERSION, VERTEX_ANTHROPIC_VERSION};
use crate::native::{TranslateError, WireRequest};

/// The `anthropic_version` Bedrock's Claude models require.
pub const BEDROCK_ANTHROPIC_VERSION: &str = "bedrock-2023-05-31";

/// A host that serves Claude's Messages API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaudeHost {
    Anthropic,
    /// Vertex AI, with its project and region.
    Vertex,
    Bedrock,
}

/// What the gateway knows of the request besides its body.
#[derive(Debug, Clone, Default)]
pub struct ClaudeCall<'a> {
    /// The model id to call (after routing), without a Vertex publisher prefix.
    pub model: &'a str,
    pub stream: bool,
    /// `anthropic-version` from the client's header or the target's option.
    pub version: Option<&'a str>,
    /// Beta names from the client's `anthropic-beta` headers and the target's option (comma
    /// lists allowed; split, trimmed and deduplicated here).
    pub betas: Vec<&'a str>,
    /// Vertex AI's project and region (checked by the caller to be URL-safe).
    pub vertex: Option<(&'a str, &'a str)>,
}

/// The wire request for `body` (a JSON object) on `host`.
pub fn native_request(
    host: ClaudeHost,
    body: &[u8],
    call: &ClaudeCall<'_>,
) -> Result<WireRequest, TranslateError> {
    let mut obj: Map<String, Value> = serde_json::from_slice(body)
        .map_err(|e| TranslateError::invalid_request(format!("invalid JSON body: {e}"), None))?;
    let body_version = match obj.remove("anthropic_version") {
        Some(Value::String(v)) => Some(v),
        _ => None,
    };
    let body_betas = obj.remove("anthropic_beta");
    let mut betas: Vec<String> = Vec::new();
    let mut add = |b: &str| {
        for name in b.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if !betas.iter().any(|x| x == name) {
                betas.push(name.to_owned());
            }
        }
    };
    call.betas.iter().for_each(|b| add(b));
    match &body_betas {
        Some(Value::String(s)) => add(s),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).for_each(&mut add),
        _ => {}
    }
    let version = call.version.map(str::to_owned).or(body_version);
    let model = call.model;
    if model.is_empty() {
        return Err(TranslateError::invalid_request(
            "`model` is required",
            Some("model"),
        ));
    }
    let mut headers = Vec::new();
    let beta_header = |headers: &mut Vec<(String, String)>| {
        if !betas.is_empty() {
            headers.push(("anthropic-beta".to_owned(), betas.join(",")));
        }
    };
    let path = match host {
        ClaudeHost::Anthropic => {
            obj.insert("model".into(), Value::String(model.to_owned()));
            headers.push((
                "anthropic-version".to_owned(),
                version.unwrap_or_else(|| DEFAULT_ANTHROPIC_VERSION.to_owned()),
            ));
            beta_header(&mut headers);
            "/messages".to_owned()
        }
        ClaudeHost::Vertex => {
            let Some((project, region)) = call.vertex else {
                return Err(TranslateError::invalid_request(
                    "Claude on Vertex AI needs vertex_project_id and vertex_region",
                    Some("vertex_project_id"),
                ));
            };
            check_segment(model)?;
            check_option(project, "vertex_project_id")?;
            check_option(region, "vertex_region")?;
            obj.remove("model");
            obj.insert(
                "anthropic_version".into(),
                Value::String(version.unwrap_or_else(|| VERTEX_ANTHROPIC_VERSION.to_owned())),
            );
            beta_header(&mut headers);
            let method = if call.stream {
                "streamRawPredict"
            } else {
                "rawPredict"
            };
            format!(
                "/v1/projects/{project}/locations/{region}/publishers/anthropic/models/{model}:{method}"
            )
        }
        ClaudeHost::Bedrock => {
            obj.remove("model");
            obj.remove("stream");
            obj.insert(
                "anthropic_version".into(),
                Value::String(version.unwrap_or_else(|| BEDROCK_ANTHROPIC_VERSION.to_owned())),
            );
            if !betas.is_empty() {
                let list = betas.iter().cloned().map(Value::String).collect();
                obj.insert("anthropic_beta".into(), Value::Array(list));
            }
            let op = if call.stream {
                "invoke-with-response-stream"
            } else {
                "invoke"
            };
            format!("/model/{}/{op}", crate::bedrock::encode_model_id(model))
        }
    };
    let body = serde_json::to_vec(&Value::Object(obj)).map_err(|e| {
        TranslateError::invalid_request(format!("cannot encode request: {e}"), None)
    })?;
    Ok(WireRequest {
        path,
        headers,
        body,
    })
}

/// The wire request counting the tokens of `body` (a Messages request) on `host`:
/// Anthropic's `/messages/count_tokens`, Vertex AI's `count-tokens:rawPredict` (the model stays
/// in the body), Bedrock's `CountTokens` (the InvokeModel body, base64, in
/// `input.invokeModel.body`; its answer is read by [`bedrock_count_response`]).
pub fn count_tokens_request(
    host: ClaudeHost,
    body: &[u8],
    call: &ClaudeCall<'_>,
) -> Result<WireRequest, TranslateError> {
    use base64::Engine as _;
    let invoke = ClaudeCall {
        stream: false,
        betas: call.betas.clone(),
        ..*call
    };
    let mut wire = native_request(host, body, &invoke)?;
    match host {
        ClaudeHost::Anthropic => wire.path = "/messages/count_tokens".to_owned(),
        ClaudeHost::Vertex => {
            let (project, region) = call.vertex.unwrap_or_default();
            let mut obj: Map<String, Value> = serde_json::from_slice(&wire.body)
                .map_err(|e| TranslateError::invalid_request(e.to_string(), None))?;
            obj.insert("model".into(), Value::String(call.model.to_owned()));
            wire.body = serde_json::to_vec(&obj)
                .map_err(|e| TranslateError::invalid_request(e.to_string(), None))?;
            wire.path = format!(
                "/v1/projects/{project}/locations/{region}/publishers/anthropic/models/count-tokens:rawPredict"
            );
        }
        ClaudeHost::Bedrock => {
            let encoded = base64::engine::general_purpose::STANDARD.encode(&wire.body);
            let outer = serde_json::json!({"input": {"invokeModel": {"body": encoded}}});
            wire.body = serde_json::to_vec(&outer)
                .map_err(|e| TranslateError::invalid_request(e.to_string(), None))?;
            wire.path = format!(
                "/model/{}/count-tokens",
                crate::bedrock::encode_model_id(call.model)
            );
        }
    }
    Ok(wire)
}

/// Bedrock's `CountTokens` answer (`{"inputTokens": n}`) in Anthropic's shape
/// (`{"input_tokens": n}`).
pub fn bedrock_count_response(body: &[u8]) -> Result<Vec<u8>, TranslateError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| TranslateError::InvalidResponse(format!("not a CountTokens answer: {e}")))?;
    let n = v
        .get("inputTokens")
        .and_then(Value::as_u64)
        .ok_or_else(|| {
            TranslateError::InvalidResponse("CountTokens answer without inputTokens".into())
        })?;
    Ok(serde_json::json!({"input_tokens": n})
        .to_string()
        .into_bytes())
}

/// A Vertex AI model id goes into the URL path as it is: only characters that need no escape.
fn check_segment(model: &str) -> Result<(), TranslateError> {
    let ok = model
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'));
    if ok {
        Ok(())
    } else {
        Err(TranslateError::invalid_request(
            format!("`{model}` is not a valid Vertex AI Claude model id"),
            Some("model"),
        ))
    }
}

/// A Vertex AI project or region goes into the URL path: letters, digits, `-`, `_`, `.`, `:`.
fn check_option(value: &str, key: &str) -> Result<(), TranslateError> {
    let ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if ok {
        Ok(())
    } else {
        Err(TranslateError::invalid_request(
            format!("`{key}` contains characters not allowed in a Vertex AI URL"),
            Some(key),
        ))
    }
}

/// Whether `model` (as it will be sent) is a Claude model on a host that also serves others.
pub fn is_claude_on(host: ClaudeHost, model: &str) -> bool {
    match host {
        ClaudeHost::Anthropic => true,
        ClaudeHost::Vertex => model.starts_with("claude") || model.starts_with("anthropic."),
        // Model ids (`anthropic.claude-…`), cross-region profiles (`us.anthropic.claude-…`) and
        // ARNs naming either.
        ClaudeHost::Bedrock => {
            model.starts_with("anthropic.")
                || model.contains(".anthropic.")
                || model.contains("/anthropic.")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(w: &WireRequest) -> Value {
        serde_json::from_slice(&w.body).unwrap()
    }

    const REQ: &[u8] = br#"{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,
        "messages":[{"role":"user","content":[{"type":"text","text":"hi","cache_control":{"type":"ephemeral"}}]}],
        "thinking":{"type":"enabled","budget_tokens":2048},"anthropic_beta":["context-1m-2025-08-07"]}"#;

    #[test]
    fn anthropic_keeps_the_body_and_sends_version_and_betas_as_headers() {
        let call = ClaudeCall {
            model: "claude-sonnet-4-5",
            stream: true,
            version: None,
            betas: vec![
                "prompt-caching-2024-07-31, files-api-2025-04-14",
                "files-api-2025-04-14",
            ],
            vertex: None,
        };
        let w = native_request(ClaudeHost::Anthropic, REQ, &call).unwrap();
        assert_eq!(w.path, "/messages");
        let b = body(&w);
        assert_eq!(b["model"], "claude-sonnet-4-5");
        assert_eq!(b["stream"], true);
        assert_eq!(b["thinking"]["budget_tokens"], 2048);
        assert_eq!(
            b["messages"][0]["content"][0]["cache_control"]["type"],
            "ephemeral"
        );
        assert!(b.get("anthropic_beta").is_none());
        assert_eq!(
            w.headers,
            vec![
                ("anthropic-version".to_owned(), "2023-06-01".to_owned()),
                (
                    "anthropic-beta".to_owned(),
                    "prompt-caching-2024-07-31,files-api-2025-04-14,context-1m-2025-08-07"
                        .to_owned()
                ),
            ]
        );
    }

    #[test]
    fn vertex_moves_the_model_into_the_path_and_the_version_into_the_body() {
        let call = ClaudeCall {
            model: "claude-sonnet-4-5@20250929",
            stream: true,
            version: None,
            betas: vec![],
            vertex: Some(("proj", "us-east5")),
        };
        let w = native_request(ClaudeHost::Vertex, REQ, &call).unwrap();
        assert_eq!(
            w.path,
            "/v1/projects/proj/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict"
        );
        let b = body(&w);
        assert!(b.get("model").is_none());
        assert_eq!(b["anthropic_version"], "vertex-2023-10-16");
        assert_eq!(b["stream"], true);
        assert_eq!(
            w.headers,
            vec![(
                "anthropic-beta".to_owned(),
                "context-1m-2025-08-07".to_owned()
            )]
        );
        let bad = ClaudeCall {
            model: "claude/../x",
            ..call.clone()
        };
        assert!(native_request(ClaudeHost::Vertex, REQ, &bad).is_err());
        for vertex in [
            ("proj/../other", "us-east5"),
            ("proj", "us-east5/x"),
            ("", "r"),
        ] {
            let bad = ClaudeCall {
                vertex: Some(vertex),
                ..call.clone()
            };
            assert!(
                native_request(ClaudeHost::Vertex, REQ, &bad).is_err(),
                "{vertex:?}"
            );
        }
    }

    #[test]
    fn bedrock_invokes_the_model_with_betas_in_the_body() {
        let call = ClaudeCall {
            model: "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
            stream: false,
            version: None,
            betas: vec!["token-efficient-tools-2025-02-19"],
            vertex: None,
        };
        let w = native_request(ClaudeHost::Bedrock, REQ, &call).unwrap();
        assert_eq!(
            w.path,
            "/model/us.anthropic.claude-3-7-sonnet-20250219-v1%3A0/invoke"
        );
        let b = body(&w);
        assert!(b.get("model").is_none() && b.get("stream").is_none());
        assert_eq!(b["anthropic_version"], "bedrock-2023-05-31");
        assert_eq!(
            b["anthropic_beta"],
            serde_json::json!(["token-efficient-tools-2025-02-19", "context-1m-2025-08-07"])
        );
        assert!(w.headers.is_empty());
        let stream = ClaudeCall {
            stream: true,
            ..call
        };
        assert!(native_request(ClaudeHost::Bedrock, REQ, &stream)
            .unwrap()
            .path
            .ends_with("/invoke-with-response-stream"));
    }

    #[test]
    fn token_counts_go_to_each_hosts_counting_api() {
        let call = ClaudeCall {
            model: "claude-sonnet-4-5",
            stream: true,
            version: None,
            betas: vec![],
            vertex: Some(("proj", "us-east5")),
        };
        let a = count_tokens_request(ClaudeHost::Anthropic, REQ, &call).unwrap();
        assert_eq!(a.path, "/messages/count_tokens");
        assert_eq!(body(&a)["model"], "claude-sonnet-4-5");
        let v = count_tokens_request(ClaudeHost::Vertex, REQ, &call).unwrap();
        assert_eq!(
            v.path,
            "/v1/projects/proj/locations/us-east5/publishers/anthropic/models/count-tokens:rawPredict"
        );
        assert_eq!(body(&v)["model"], "claude-sonnet-4-5");
        let b = count_tokens_request(
            ClaudeHost::Bedrock,
            REQ,
            &ClaudeCall {
                model: "anthropic.claude-3-haiku-20240307-v1:0",
                ..call
            },
        )
        .unwrap();
        assert_eq!(
            b.path,
            "/model/anthropic.claude-3-haiku-20240307-v1%3A0/count-tokens"
        );
        use base64::Engine as _;
        let inner = base64::engine::general_purpose::STANDARD
            .decode(body(&b)["input"]["invokeModel"]["body"].as_str().unwrap())
            .unwrap();
        let inner: Value = serde_json::from_slice(&inner).unwrap();
        assert_eq!(inner["anthropic_version"], "bedrock-2023-05-31");
        assert!(inner.get("stream").is_none());
        assert_eq!(
            bedrock_count_response(br#"{"inputTokens": 42}"#).unwrap(),
            br#"{"input_tokens":42}"#
        );
        assert!(bedrock_count_response(b"{}").is_err());
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused() {
        let call = ClaudeCall {
            model: "m",
            ..ClaudeCall::default()
        };
        assert!(native_request(ClaudeHost::Anthropic, b"[1]", &call).is_err());
        assert!(native_request(ClaudeHost::Anthropic, b"{", &call).is_err());
    }

    #[test]
    fn claude_models_are_told_apart_from_others_on_shared_hosts() {
        assert!(is_claude_on(
            ClaudeHost::Vertex,
            "claude-3-5-haiku@20241022"
        ));
        assert!(!is_claude_on(ClaudeHost::Vertex, "gemini-2.0-flash"));
        assert!(is_claude_on(
            ClaudeHost::Bedrock,
            "anthropic.claude-3-haiku-20240307-v1:0"
        ));
        assert!(is_claude_on(
            ClaudeHost::Bedrock,
            "eu.anthropic.claude-3-7-sonnet-20250219-v1:0"
        ));
        assert!(!is_claude_on(ClaudeHost::Bedrock, "amazon.nova-pro-v1:0"));
    }
}
