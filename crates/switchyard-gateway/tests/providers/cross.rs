//! Beyond the per-provider battery: one fallback across three wire formats, Vertex AI with a
//! service account (token exchange on a loopback token endpoint), Bedrock's other credentials.

use serde_json::{json, Value};

use super::openapi::{assert_conforms, Shape};
use super::spec::{self, json_reply, Provider};
use super::support::{assert_calls, base64url_decode, completion_choice, only_request};
use crate::common::{header, Gateway, MockServer, Reply};

const GEMINI_TOOLS: &str =
    include_str!("../../../switchyard-providers/fixtures/google/response_parallel_tools.json");
const GEMINI_TEXT: &str =
    include_str!("../../../switchyard-providers/fixtures/google/response_text.json");
const ANTHROPIC_OVERLOADED: &str =
    include_str!("../../../switchyard-providers/fixtures/anthropic/error_overloaded.json");
const TEST_SA_KEY: &str = include_str!("../../src/auth/testdata/test_sa_key.pem");

#[tokio::test]
async fn fallback_openai_then_anthropic_then_gemini_sends_tools_in_each_format() {
    let openai = MockServer::start("openai").await;
    openai.push(Reply::error(503, "The server is overloaded"));
    let anthropic = MockServer::start("anthropic").await;
    anthropic.push(json_reply(529, ANTHROPIC_OVERLOADED));
    let gemini = MockServer::start("gemini").await;
    gemini.push(json_reply(200, GEMINI_TOOLS));
    let gw = Gateway::start("").await;
    let config = json!({"strategy": {"mode": "fallback"}, "targets": [
        crate::common::target(&openai),
        {"provider": "anthropic", "api_key": "sk-ant-fb", "custom_host": format!("http://{}/v1", anthropic.addr()),
         "override_params": {"model": "claude-3-5-haiku-20241022"}},
        {"provider": "google", "api_key": "AIza-fb", "custom_host": format!("http://{}", gemini.addr()),
         "override_params": {"model": "gemini-2.0-flash"}}
    ]})
    .to_string();
    let params = json!({"type": "object", "properties": {"location": {"type": "string"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["location"]});
    let tools = json!([{"type": "function", "function": {"name": "get_weather",
        "description": "Current weather for a city", "parameters": params}}]);
    let body = json!({"model": "gpt-4o-mini", "tools": tools,
        "messages": [{"role": "user", "content": "Weather in Tokyo and Mumbai?"}]});
    let resp = gw.chat(body, &[("x-portkey-config", &config)]).await;

    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&resp, "x-portkey-last-used-option-index"),
        "config.targets[2]"
    );
    assert_eq!(header(&resp, "x-portkey-provider"), "google");
    let v: Value = resp.json().await.unwrap();
    let choice = completion_choice(Provider::Google, &v);
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_calls(
        &choice["message"]["tool_calls"],
        &[
            (
                None,
                "get_weather",
                json!({"location": "Tokyo", "unit": "celsius"}),
            ),
            (
                None,
                "get_weather",
                json!({"location": "Mumbai", "unit": "celsius"}),
            ),
        ],
    );

    let (got, sent) = only_request(&openai);
    assert_eq!(got.path, "/v1/chat/completions");
    assert_eq!(sent["tools"], tools, "OpenAI gets the tools as sent");
    assert_eq!(sent["model"], "gpt-4o-mini");

    let (got, sent) = only_request(&anthropic);
    assert_eq!(got.path, "/v1/messages");
    assert_eq!(got.header("x-api-key"), Some("sk-ant-fb"));
    assert_eq!(sent["model"], "claude-3-5-haiku-20241022");
    assert_eq!(
        sent["tools"],
        json!([{"name": "get_weather", "description": "Current weather for a city", "input_schema": params}])
    );

    let (got, sent) = only_request(&gemini);
    assert_eq!(got.path, "/v1beta/models/gemini-2.0-flash:generateContent");
    assert_eq!(got.header("x-goog-api-key"), Some("AIza-fb"));
    assert_eq!(
        sent["tools"],
        json!([{"functionDeclarations": [{"name": "get_weather", "description": "Current weather for a city",
            "parameters": {"type": "OBJECT", "properties": {"location": {"type": "STRING"},
                "unit": {"type": "STRING", "enum": ["celsius", "fahrenheit"]}}, "required": ["location"]}}]}])
    );
}

fn service_account(token_uri: &str) -> Value {
    json!({
        "type": "service_account",
        "project_id": spec::VERTEX_PROJECT,
        "private_key_id": "test-key-id-1",
        "private_key": TEST_SA_KEY,
        "client_email": "switchyard-test@my-project.iam.gserviceaccount.com",
        "token_uri": token_uri,
    })
}

#[tokio::test]
async fn vertex_service_account_is_exchanged_for_a_cached_bearer_token() {
    let token = MockServer::start("token").await;
    token.push(Reply::status(
        200,
        json!({"access_token": "ya29.from-service-account", "expires_in": 3599, "token_type": "Bearer"}),
    ));
    let vertex = MockServer::start("vertex").await;
    vertex.set_default(json_reply(200, GEMINI_TEXT));
    let gw = Gateway::start("").await;
    let token_uri = format!("http://{}/token", token.addr());
    let config =
        json!({"provider": "vertex-ai", "custom_host": format!("http://{}", vertex.addr()),
        "vertex_project_id": spec::VERTEX_PROJECT, "vertex_region": spec::VERTEX_REGION,
        "vertex_service_account_json": service_account(&token_uri).to_string()})
        .to_string();
    for _ in 0..2 {
        let resp = gw
            .chat(
                crate::common::hi(Provider::VertexGemini.model()),
                &[("x-portkey-config", &config)],
            )
            .await;
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.unwrap();
        assert_eq!(
            completion_choice(Provider::VertexGemini, &v)["message"]["content"],
            "The capital of France is Paris."
        );
    }

    let calls = vertex.requests();
    assert_eq!(calls.len(), 2);
    for c in &calls {
        assert_eq!(c.path, Provider::VertexGemini.chat_path(false));
        assert_eq!(
            c.header("authorization"),
            Some("Bearer ya29.from-service-account")
        );
    }
    let exchanges = token.requests();
    assert_eq!(
        exchanges.len(),
        1,
        "the token is cached for the second request"
    );
    let ex = &exchanges[0];
    assert_eq!(ex.method, "POST");
    assert_eq!(ex.path, "/token");
    assert_eq!(
        ex.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form = std::str::from_utf8(&ex.body).unwrap();
    let jwt = form
        .strip_prefix("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=")
        .unwrap_or_else(|| panic!("jwt-bearer grant: {form}"));
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "{jwt}");
    let head: Value = serde_json::from_slice(&base64url_decode(parts[0])).unwrap();
    assert_eq!(head["alg"], "RS256");
    assert_eq!(head["kid"], "test-key-id-1");
    let claims: Value = serde_json::from_slice(&base64url_decode(parts[1])).unwrap();
    assert_eq!(
        claims["iss"],
        "switchyard-test@my-project.iam.gserviceaccount.com"
    );
    assert_eq!(claims["aud"], token_uri.as_str());
    assert_eq!(
        claims["scope"],
        "https://www.googleapis.com/auth/cloud-platform"
    );
    let (iat, exp) = (
        claims["iat"].as_u64().unwrap(),
        claims["exp"].as_u64().unwrap(),
    );
    assert_eq!(exp - iat, 3600, "{claims}");
    // RS256 with a 2048-bit key: a 256-byte signature.
    assert_eq!(base64url_decode(parts[2]).len(), 256);
}

#[tokio::test]
async fn vertex_service_account_rejected_by_the_token_endpoint_is_a_401_without_upstream_call() {
    let token = MockServer::start("token").await;
    token.push(Reply::status(
        400,
        json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}),
    ));
    let vertex = MockServer::start("vertex").await;
    let gw = Gateway::start("").await;
    let token_uri = format!("http://{}/token", token.addr());
    let config =
        json!({"provider": "vertex-ai", "custom_host": format!("http://{}", vertex.addr()),
        "vertex_project_id": spec::VERTEX_PROJECT, "vertex_region": spec::VERTEX_REGION,
        "vertex_service_account_json": service_account(&token_uri).to_string()})
        .to_string();
    let resp = gw
        .chat(
            crate::common::hi(Provider::VertexGemini.model()),
            &[("x-portkey-config", &config)],
        )
        .await;
    let (status, body) = crate::common::error_of(resp).await;
    assert_conforms(Provider::VertexGemini, Shape::Error, &body);
    assert_eq!(status, 401, "{body}");
    let msg = body["error"]["message"].as_str().unwrap();
    assert!(msg.contains("invalid_grant"), "{body}");
    assert!(
        !msg.contains("PRIVATE KEY"),
        "no key material in errors: {body}"
    );
    assert_eq!(token.hits(), 1);
    assert_eq!(vertex.hits(), 0);
}

#[tokio::test]
async fn bedrock_session_token_is_sent_and_signed() {
    let mock = MockServer::start("bedrock").await;
    mock.push(json_reply(
        200,
        include_str!("../../../switchyard-providers/fixtures/bedrock/response_text.json"),
    ));
    let gw = Gateway::start("").await;
    let mut h = Provider::Bedrock.headers(&mock);
    h.push((
        "x-portkey-aws-session-token",
        "IQoJb3JpZ2luX2VjEXAMPLE".to_owned(),
    ));
    let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let resp = gw
        .chat(crate::common::hi(Provider::Bedrock.model()), &h)
        .await;
    assert_eq!(resp.status(), 200);
    let (got, _) = only_request(&mock);
    Provider::Bedrock.assert_auth(&got);
    assert_eq!(
        got.header("x-amz-security-token"),
        Some("IQoJb3JpZ2luX2VjEXAMPLE")
    );
    let auth = got.header("authorization").unwrap();
    assert!(
        auth.contains("x-amz-security-token"),
        "the session token is signed: {auth}"
    );
}

#[tokio::test]
async fn bedrock_api_key_is_a_bearer_token_instead_of_sigv4() {
    let mock = MockServer::start("bedrock").await;
    mock.push(json_reply(
        200,
        include_str!("../../../switchyard-providers/fixtures/bedrock/response_text.json"),
    ));
    let gw = Gateway::start("").await;
    let host = format!("http://{}", mock.addr());
    let resp = gw
        .chat(
            crate::common::hi(Provider::Bedrock.model()),
            &[
                ("x-portkey-provider", "bedrock"),
                ("x-portkey-custom-host", &host),
                ("x-portkey-aws-region", spec::AWS_REGION),
                ("authorization", "Bearer ABSKbedrock-api-key"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let (got, _) = only_request(&mock);
    assert_eq!(got.path, Provider::Bedrock.chat_path(false));
    assert_eq!(
        got.header("authorization"),
        Some("Bearer ABSKbedrock-api-key")
    );
    assert!(got.header("x-amz-date").is_none(), "not signed");
}

#[tokio::test]
async fn oracle_without_a_signing_option_is_a_400_naming_it_before_io() {
    let mock = MockServer::start("oracle").await;
    let gw = Gateway::start("").await;
    for missing in [
        "x-portkey-oracle-private-key",
        "x-portkey-oracle-fingerprint",
    ] {
        let h = Provider::Oracle.headers(&mock);
        let h: Vec<(&str, &str)> = h
            .iter()
            .filter(|(k, _)| *k != missing)
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        let resp = gw
            .chat(crate::common::hi(Provider::Oracle.model()), &h)
            .await;
        assert_eq!(resp.status(), 400, "{missing}");
        let v: serde_json::Value = resp.json().await.unwrap();
        let option = missing.trim_start_matches("x-portkey-").replace('-', "_");
        assert_eq!(v["error"]["param"], option.as_str(), "{v}");
        assert!(
            !v.to_string().contains("PRIVATE KEY"),
            "the key is never echoed: {v}"
        );
    }
    assert_eq!(mock.hits(), 0);
}
