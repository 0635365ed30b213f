//! Bedrock errors typed by `x-amzn-ErrorType`, and Bedrock credentials from the AWS default
//! credential chain — only for the operator's providers that opt in.
//!
//! One test here sets AWS environment variables (the chain's first source). Environment
//! variables are process-wide, so this binary holds only that test and tests that never reach the
//! chain (they are refused before it, or bring their own keys); nothing else sets AWS variables.

mod common;

use common::*;
use serde_json::{json, Value};

const BEDROCK_RESP: &str =
    include_str!("../../switchyard-providers/fixtures/bedrock/response_text.json");

/// Headers routing to `mock` as a client-supplied Bedrock target with the client's own keys.
fn client_bedrock(mock: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("x-portkey-provider", "bedrock".to_owned()),
        ("x-portkey-aws-access-key-id", "AKIDCLIENT".to_owned()),
        (
            "x-portkey-aws-secret-access-key",
            "client-secret".to_owned(),
        ),
        ("x-portkey-aws-region", "us-west-2".to_owned()),
        ("x-portkey-custom-host", format!("http://{}", mock.addr())),
    ]
}

fn pairs<'a>(h: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    h.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn aws_error(status: u16, error_type: &str, message: &str) -> Reply {
    Reply::Json {
        status,
        body: json!({ "message": message }).to_string(),
        headers: vec![
            (
                "x-amzn-ErrorType".to_owned(),
                format!("{error_type}:http://internal.amazon.com/coral/com.amazon.bedrock/"),
            ),
            ("x-amzn-RequestId".to_owned(), "req-1".to_owned()),
        ],
    }
}

#[tokio::test]
async fn bedrock_errors_are_typed_by_the_x_amzn_errortype_header() {
    let mock = MockServer::start("bedrock").await;
    let gw = Gateway::start("").await;
    let headers = client_bedrock(&mock);
    for (status, error_type, kind) in [
        (400, "ValidationException", "invalid_request_error"),
        (400, "ServiceQuotaExceededException", "rate_limit_error"),
        (403, "AccessDeniedException", "permission_error"),
        (403, "UnrecognizedClientException", "authentication_error"),
        (404, "ResourceNotFoundException", "not_found_error"),
        (408, "ModelTimeoutException", "timeout_error"),
        (424, "ModelErrorException", "api_error"),
        (503, "ServiceUnavailableException", "api_error"),
    ] {
        mock.push(aws_error(status, error_type, "what went wrong"));
        let (got, body) =
            error_of(gw.chat(hi("amazon.nova-lite-v1:0"), &pairs(&headers)).await).await;
        assert_eq!(got, status, "{error_type}: {body}");
        assert_eq!(body["error"]["type"], kind, "{error_type}: {body}");
        assert_eq!(body["error"]["code"], error_type, "{error_type}: {body}");
        assert_eq!(body["error"]["message"], "what went wrong", "{error_type}");
    }
}

fn chain_config(bedrock: &MockServer) -> String {
    format!(
        r#"
providers:
  bedrock:
    base_url: http://{b}
    aws_auth_type: default_chain
    aws_region: eu-west-1
routes:
  nova:
    provider: bedrock
    override_params: {{model: amazon.nova-lite-v1:0}}
"#,
        b = bedrock.addr()
    )
}

/// The one test that sets AWS environment variables (see the module docs).
#[tokio::test]
async fn an_opted_in_provider_signs_with_the_default_chain_from_the_environment() {
    let nowhere = temp_dir("aws-chain").join("absent");
    std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDFROMCHAIN");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "chain-secret");
    std::env::set_var("AWS_SESSION_TOKEN", "chain-session-token");
    // No profile files, no instance metadata: the environment is the only source.
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", &nowhere);
    std::env::set_var("AWS_CONFIG_FILE", &nowhere);
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");

    let bedrock = MockServer::start("bedrock").await;
    for _ in 0..2 {
        bedrock.push(Reply::Json {
            status: 200,
            body: BEDROCK_RESP.into(),
            headers: vec![],
        });
    }
    let gw = Gateway::start(&chain_config(&bedrock)).await;

    // A route of the server's config file.
    let resp = gw.chat(hi("nova"), &[]).await;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["object"], "chat.completion");
    // A client's header route to the operator's provider: the operator's credentials, as with
    // keys in the config file.
    let resp = gw
        .chat(
            hi("amazon.nova-lite-v1:0"),
            &[("x-portkey-provider", "bedrock")],
        )
        .await;
    assert_eq!(resp.status(), 200);

    let requests = bedrock.requests();
    assert_eq!(requests.len(), 2);
    for got in &requests {
        assert_eq!(got.path, "/model/amazon.nova-lite-v1%3A0/converse");
        let auth = got.header("authorization").unwrap();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDFROMCHAIN/"),
            "{auth}"
        );
        assert!(auth.contains("/eu-west-1/bedrock/aws4_request"), "{auth}");
        assert_eq!(
            got.header("x-amz-security-token"),
            Some("chain-session-token")
        );
    }

    // A client's custom host never gets the gateway's identity.
    let evil = MockServer::start("evil").await;
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
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("own credentials"),
        "{body}"
    );
    assert_eq!(evil.hits(), 0);

    // A target that changes the auth type loses the operator's identity: it has no credentials.
    let (status, body) = error_of(
        gw.chat(
            hi("amazon.nova-lite-v1:0"),
            &[
                ("x-portkey-provider", "bedrock"),
                ("x-portkey-aws-auth-type", "accessKey"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "missing_api_key", "{body}");
    assert_eq!(bedrock.hits(), 2);
}

#[tokio::test]
async fn a_client_target_cannot_ask_for_the_gateways_aws_identity() {
    let mock = MockServer::start("bedrock").await;
    // A gateway with no Bedrock provider configured, and one whose operator configured Bedrock
    // without opting in to the chain.
    let not_opted_in = format!(
        r#"
providers:
  bedrock:
    base_url: http://{m}
    aws_region: eu-west-1
"#,
        m = mock.addr()
    );
    let host = format!("http://{}", mock.addr());
    for gw in [
        Gateway::start("").await,
        Gateway::start(&not_opted_in).await,
    ] {
        let (status, body) = error_of(
            gw.chat(
                hi("amazon.nova-lite-v1:0"),
                &[
                    ("x-portkey-provider", "bedrock"),
                    ("x-portkey-aws-auth-type", "default_chain"),
                    ("x-portkey-aws-region", "us-east-1"),
                    ("x-portkey-custom-host", &host),
                ],
            )
            .await,
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["param"], "aws_auth_type", "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("server's config file"),
            "{body}"
        );
        // The same in a Gateway Config target.
        let config = json!({"provider": "bedrock", "aws_auth_type": "default_chain", "aws_region": "us-east-1", "custom_host": host}).to_string();
        let (status, body) = error_of(
            gw.chat(
                hi("amazon.nova-lite-v1:0"),
                &[("x-portkey-config", &config)],
            )
            .await,
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["param"], "aws_auth_type", "{body}");
    }
    assert_eq!(mock.hits(), 0);
}

#[tokio::test]
async fn the_config_file_accepts_only_known_aws_auth_types() {
    let yaml = |t: &str| format!("providers:\n  bedrock:\n    aws_auth_type: {t}\n");
    for ok in ["default_chain", "accessKey", "apiKey"] {
        assert!(
            switchyard_gateway::config::GatewayConfig::from_yaml(&yaml(ok), &|_| None).is_ok(),
            "{ok}"
        );
    }
    for bad in ["assumedRole", "ambient"] {
        let e = switchyard_gateway::config::GatewayConfig::from_yaml(&yaml(bad), &|_| None)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("providers.bedrock.aws_auth_type"), "{bad}: {e}");
    }
}
