//! Native-provider credentials from every source: the server's config file, request headers,
//! and the rules that keep the operator's credentials on the operator's hosts.

mod common;

use common::*;
use serde_json::{json, Value};

const ANTHROPIC_RESP: &str =
    include_str!("../../switchyard-providers/fixtures/anthropic/resp_text.json");
const BEDROCK_RESP: &str =
    include_str!("../../switchyard-providers/fixtures/bedrock/response_text.json");

fn file_config(anthropic: &MockServer, bedrock: &MockServer) -> String {
    format!(
        r#"
providers:
  anthropic:
    api_key: sk-ant-server
    base_url: http://{a}/v1
    anthropic_beta: tools-2024-04-04
  bedrock:
    base_url: http://{b}
    aws_access_key_id: AKIDSERVER
    aws_secret_access_key: server-secret
    aws_region: eu-west-1
routes:
  claude:
    provider: anthropic
    override_params: {{model: claude-3-5-haiku-latest}}
  nova:
    provider: bedrock
    override_params: {{model: amazon.nova-lite-v1:0}}
"#,
        a = anthropic.addr(),
        b = bedrock.addr()
    )
}

#[tokio::test]
async fn server_file_credentials_and_options_reach_native_providers() {
    let anthropic = MockServer::start("anthropic").await;
    anthropic.push(Reply::Json {
        status: 200,
        body: ANTHROPIC_RESP.into(),
        headers: vec![],
    });
    let bedrock = MockServer::start("bedrock").await;
    bedrock.push(Reply::Json {
        status: 200,
        body: BEDROCK_RESP.into(),
        headers: vec![],
    });
    let gw = Gateway::start(&file_config(&anthropic, &bedrock)).await;

    let resp = gw
        .chat(
            hi("claude"),
            &[("authorization", "Bearer client-key-ignored")],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let got = &anthropic.requests()[0];
    assert_eq!(got.header("x-api-key"), Some("sk-ant-server"));
    assert_eq!(got.header("anthropic-beta"), Some("tools-2024-04-04"));
    assert_eq!(got.json()["model"], "claude-3-5-haiku-latest");

    let resp = gw.chat(hi("nova"), &[]).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["object"], "chat.completion");
    let got = &bedrock.requests()[0];
    assert_eq!(got.path, "/model/amazon.nova-lite-v1%3A0/converse");
    let auth = got.header("authorization").unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDSERVER/"),
        "{auth}"
    );
    assert!(auth.contains("/eu-west-1/bedrock/aws4_request"), "{auth}");
}

#[tokio::test]
async fn a_client_custom_host_cannot_borrow_server_aws_credentials() {
    let anthropic = MockServer::start("anthropic").await;
    let bedrock = MockServer::start("bedrock").await;
    let evil = MockServer::start("evil").await;
    let gw = Gateway::start(&file_config(&anthropic, &bedrock)).await;
    let config = json!({"provider": "bedrock", "custom_host": format!("http://{}", evil.addr())})
        .to_string();
    let (status, body) = error_of(
        gw.chat(
            hi("amazon.nova-lite-v1:0"),
            &[("x-portkey-config", &config)],
        )
        .await,
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("own credentials"));
    assert_eq!(evil.hits(), 0);
}

#[tokio::test]
async fn azure_entra_tokens_are_sent_as_bearer_tokens() {
    let mock = MockServer::start("azure").await;
    let gw = Gateway::start("").await;
    let host = format!("http://{}/openai", mock.addr());
    // An Entra ID token given as azure_ad_token replaces the API key.
    let resp = gw
        .chat(
            hi("gpt-4o"),
            &[
                ("x-portkey-provider", "azure-openai"),
                ("x-portkey-azure-ad-token", "eyJ-entra"),
                ("x-portkey-custom-host", &host),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let got = &mock.requests()[0];
    assert_eq!(got.header("authorization"), Some("Bearer eyJ-entra"));
    assert!(got.header("api-key").is_none());
    assert_eq!(
        got.path,
        "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
    );

    // azure_auth_mode: entra sends the key itself as a bearer token.
    let resp = gw
        .chat(
            hi("gpt-4o"),
            &[
                ("x-portkey-provider", "azure-openai"),
                ("authorization", "Bearer tok-2"),
                ("x-portkey-azure-auth-mode", "entra"),
                ("x-portkey-azure-deployment-id", "prod"),
                ("x-portkey-custom-host", &host),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200);
    let got = &mock.requests()[1];
    assert_eq!(got.header("authorization"), Some("Bearer tok-2"));
    assert_eq!(
        got.path,
        "/openai/deployments/prod/chat/completions?api-version=2024-10-21"
    );
}

#[tokio::test]
async fn azure_needs_a_resource_name_or_host() {
    let gw = Gateway::start("").await;
    let (status, body) = error_of(
        gw.chat(
            hi("gpt-4o"),
            &[
                ("x-portkey-provider", "azure-openai"),
                ("authorization", "Bearer k"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "azure_resource_name");
}

#[tokio::test]
async fn native_requests_with_invalid_shapes_are_400_naming_the_field() {
    let mock = MockServer::start("anthropic").await;
    let gw = Gateway::start("").await;
    let host = format!("http://{}", mock.addr());
    let body = json!({"model": "claude-3-5-haiku-latest", "messages": [{"role": "wizard", "content": "hi"}]});
    let (status, err) = error_of(
        gw.chat(
            body,
            &[
                ("x-portkey-provider", "anthropic"),
                ("authorization", "Bearer k"),
                ("x-portkey-custom-host", &host),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        err["error"]["param"]
            .as_str()
            .unwrap()
            .starts_with("messages[0]"),
        "{err}"
    );
    assert_eq!(mock.hits(), 0);
}
