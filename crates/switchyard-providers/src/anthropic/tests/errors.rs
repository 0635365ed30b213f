//! Anthropic / Vertex AI error bodies -> OpenAI errors.

use super::*;

fn mapped(status: u16, body: &str) -> switchyard_types::ErrorEnvelope {
    super::super::Anthropic.error_response(status, body.as_bytes())
}

#[test]
fn overloaded_error_maps_to_server_error_with_the_anthropic_code() {
    let e = mapped(529, fixture!("error_overloaded.json"));
    assert_eq!(
        to_value(&e),
        serde_json::json!({"error": {"message": "Overloaded", "type": "server_error", "param": null, "code": "overloaded_error"}})
    );
}

#[test]
fn documented_error_types_map_to_their_openai_types() {
    let cases = [
        (
            400,
            fixture!("error_invalid_request.json"),
            "invalid_request_error",
        ),
        (
            401,
            fixture!("error_authentication.json"),
            "authentication_error",
        ),
        (429, fixture!("error_rate_limit.json"), "rate_limit_error"),
        (
            403,
            r#"{"type":"error","error":{"type":"permission_error","message":"no"}}"#,
            "permission_error",
        ),
        (
            404,
            r#"{"type":"error","error":{"type":"not_found_error","message":"no model"}}"#,
            "not_found_error",
        ),
        (
            413,
            r#"{"type":"error","error":{"type":"request_too_large","message":"too big"}}"#,
            "invalid_request_error",
        ),
        (
            500,
            r#"{"type":"error","error":{"type":"api_error","message":"boom"}}"#,
            "api_error",
        ),
        (
            504,
            r#"{"type":"error","error":{"type":"timeout_error","message":"slow"}}"#,
            "timeout_error",
        ),
    ];
    for (status, body, kind) in cases {
        let e = mapped(status, body);
        assert_eq!(e.error.kind, kind, "{body}");
        assert!(!e.error.message.is_empty());
    }
    let e = mapped(400, fixture!("error_invalid_request.json"));
    assert_eq!(
        e.error.message,
        "messages.1.content.0.tool_use.input: Input should be a valid dictionary"
    );
    assert_eq!(e.error.code.as_deref(), Some("invalid_request_error"));
}

#[test]
fn unknown_anthropic_error_type_falls_back_to_the_status() {
    let e = mapped(
        429,
        r#"{"type":"error","error":{"type":"acceleration_error","message":"slow down"}}"#,
    );
    assert_eq!(e.error.kind, "rate_limit_error");
    assert_eq!(e.error.code.as_deref(), Some("acceleration_error"));
}

#[test]
fn google_shaped_vertex_error_maps_by_status() {
    let e = mapped(429, fixture!("error_vertex_google.json"));
    assert_eq!(e.error.kind, "rate_limit_error");
    assert_eq!(e.error.code.as_deref(), Some("RESOURCE_EXHAUSTED"));
    assert!(e.error.message.starts_with("Quota exceeded"));
    let e = super::super::VertexAnthropic.error_response(
        403,
        br#"{"error":{"code":403,"message":"Permission denied","status":"PERMISSION_DENIED"}}"#,
    );
    assert_eq!(e.error.kind, "permission_error");
}

#[test]
fn non_json_error_body_keeps_its_text_and_the_status_kind() {
    let e = mapped(502, "<html>Bad Gateway</html>");
    assert_eq!(e.error.kind, "api_error");
    assert!(e.error.message.contains("Bad Gateway"));
    let e = mapped(401, "");
    assert_eq!(e.error.kind, "authentication_error");
    assert_eq!(e.error.message, "provider returned HTTP 401");
}
