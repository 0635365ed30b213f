//! Per-provider facts for the battery: how a client routes to the provider, where the request
//! lands upstream and how it is authenticated (its replies are in `spec_replies.rs`).

use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};
use switchyard_mock::Recorded;

use crate::common::{MockServer, Reply};

pub const ANTHROPIC_KEY: &str = "sk-ant-test-key";
pub const GOOGLE_KEY: &str = "AIzaSy-test-key";
pub const VERTEX_TOKEN: &str = "ya29.test-access-token";
pub const VERTEX_PROJECT: &str = "my-project";
pub const VERTEX_REGION: &str = "us-central1";
pub const AWS_KEY_ID: &str = "AKIDEXAMPLE";
pub const AWS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
pub const AWS_REGION: &str = "us-west-2";
pub const COHERE_KEY: &str = "co-test-key";
pub const AZURE_KEY: &str = "azure-test-key";
pub const AZURE_DEPLOYMENT: &str = "gpt4o-prod";
pub const AZURE_API_VERSION: &str = "2024-06-01";
pub const WORKERS_AI_TOKEN: &str = "cf-test-api-token";
pub const WORKERS_AI_ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";
pub const NOMIC_KEY: &str = "nk-test-key";
pub const PREDIBASE_KEY: &str = "pb-test-key";
pub const PREDIBASE_TENANT: &str = "tenant-7f3a";
pub const ORACLE_TENANCY: &str = "ocid1.tenancy.oc1..aaaaaaaatenancy";
pub const ORACLE_USER: &str = "ocid1.user.oc1..aaaaaaaauser";
pub const ORACLE_FINGERPRINT: &str = "20:3b:97:13:55:1c:5b:0d:d3:37:d8:50:4e:c5:3a:34";
pub const ORACLE_COMPARTMENT: &str = "ocid1.compartment.oc1..aaaaaaaacompartment";
/// A throwaway RSA key (`src/auth/testdata/README.md`) standing for an OCI API signing key.
pub const ORACLE_KEY: &str = include_str!("../../src/auth/testdata/test_sa_key.pem");

/// Every provider the battery runs against. Vertex AI appears twice: Gemini models use the
/// Gemini format, Claude models Anthropic's `rawPredict` format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Anthropic,
    Google,
    VertexGemini,
    VertexClaude,
    Bedrock,
    Cohere,
    Azure,
    WorkersAi,
    /// Embeddings only: only the embeddings case runs.
    Nomic,
    Predibase,
    /// OCI Generative AI, GENERIC format, requests signed with OCI's HTTP signature.
    Oracle,
}

/// The wire format a provider's bodies use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Anthropic,
    Gemini,
    Converse,
    Cohere,
    OpenAi,
    WorkersAi,
    Nomic,
    /// OpenAI-shaped bodies at Predibase's address, `model` rewritten.
    Predibase,
    /// OCI `ChatDetails` with a GENERIC `chatRequest`.
    Oracle,
}

/// Token counts the client should see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage(pub u64, pub u64, pub u64);

impl Usage {
    pub fn assert_in(self, usage: &Value) {
        assert_eq!(usage["prompt_tokens"], self.0, "prompt_tokens in {usage}");
        assert_eq!(
            usage["completion_tokens"], self.1,
            "completion_tokens in {usage}"
        );
        assert_eq!(usage["total_tokens"], self.2, "total_tokens in {usage}");
    }
}

/// A tool call the client should get: (id if the provider gives one, name, parsed arguments).
pub type Call = (Option<&'static str>, &'static str, Value);

/// An upstream error reply and the OpenAI error it should become.
pub struct ErrorCase {
    pub status: u16,
    pub reply: Reply,
    /// The provider's own message, which the client's error message should carry.
    pub message: &'static str,
    /// The OpenAI `type` documented in docs/providers/<provider>.md (`None`: an OpenAI-shaped
    /// host, whose error is passed through as it is).
    pub kind: Option<&'static str>,
    /// The OpenAI `code` documented for this body (`None`: not asserted).
    pub code: Option<&'static str>,
}

/// An embeddings exchange.
pub struct EmbeddingsCase {
    pub model: &'static str,
    pub input: Value,
    pub path: String,
    pub reply: Reply,
    /// The translated upstream body, compared whole (or, for OpenAI-shaped hosts, the client's).
    pub body: Value,
    pub vectors: Vec<Vec<f64>>,
    pub prompt_tokens: u64,
}

/// A 200 reply in the provider's format, sent in small pieces so frames straddle reads.
pub fn raw(content_type: &str, bytes: &[u8]) -> Reply {
    Reply::Raw {
        status: 200,
        content_type: content_type.to_owned(),
        chunks: bytes.chunks(37).map(Bytes::copy_from_slice).collect(),
        gap: Duration::ZERO,
    }
}

pub fn sse(text: &str) -> Reply {
    raw("text/event-stream", text.as_bytes())
}

pub fn eventstream(bytes: &[u8]) -> Reply {
    raw("application/vnd.amazon.eventstream", bytes)
}

pub fn json_reply(status: u16, body: &str) -> Reply {
    Reply::Json {
        status,
        body: body.to_owned(),
        headers: vec![],
    }
}

/// One Bedrock event-stream event.
pub fn aws_event(event: &str, payload: Value) -> Vec<u8> {
    switchyard_providers::bedrock::eventstream::encode_event(event, payload.to_string().as_bytes())
        .expect("encode event")
}

pub fn aws_exception(exception: &str, message: &str) -> Vec<u8> {
    let payload = json!({ "message": message }).to_string();
    switchyard_providers::bedrock::eventstream::encode_exception(exception, payload.as_bytes())
        .expect("encode exception")
}

/// An OpenAI chat completion with the given message, as Azure OpenAI answers.
pub fn openai_completion(model: &str, message: Value, finish: &str) -> Reply {
    let body = json!({
        "id": "chatcmpl-azure-1", "object": "chat.completion", "created": 1_700_000_000u64,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30}
    });
    json_reply(200, &body.to_string())
}

impl Provider {
    pub fn slug(self) -> &'static str {
        match self {
            Provider::Anthropic => "anthropic",
            Provider::Google => "google",
            Provider::VertexGemini | Provider::VertexClaude => "vertex-ai",
            Provider::Bedrock => "bedrock",
            Provider::Cohere => "cohere",
            Provider::Azure => "azure-openai",
            Provider::WorkersAi => "workers-ai",
            Provider::Nomic => "nomic",
            Provider::Predibase => "predibase",
            Provider::Oracle => "oracle",
        }
    }

    pub fn family(self) -> Family {
        match self {
            Provider::Anthropic | Provider::VertexClaude => Family::Anthropic,
            Provider::Google | Provider::VertexGemini => Family::Gemini,
            Provider::Bedrock => Family::Converse,
            Provider::Cohere => Family::Cohere,
            Provider::Azure => Family::OpenAi,
            Provider::WorkersAi => Family::WorkersAi,
            Provider::Nomic => Family::Nomic,
            Provider::Predibase => Family::Predibase,
            Provider::Oracle => Family::Oracle,
        }
    }

    pub fn model(self) -> &'static str {
        match self {
            Provider::Anthropic => "claude-3-5-haiku-20241022",
            Provider::Google => "gemini-2.0-flash",
            Provider::VertexGemini => "gemini-2.0-flash-001",
            Provider::VertexClaude => "claude-3-5-haiku@20241022",
            Provider::Bedrock => "anthropic.claude-3-haiku-20240307-v1:0",
            Provider::Cohere => "command-r-plus-08-2024",
            Provider::Azure => "gpt-4o",
            Provider::WorkersAi => "@cf/meta/llama-3.1-8b-instruct",
            Provider::Nomic => "nomic-embed-text-v1.5",
            Provider::Predibase => "llama-3-1-8b-instruct:pb-adapter/2",
            Provider::Oracle => "meta.llama-3.3-70b-instruct",
        }
    }

    /// The custom host the client names for `mock`.
    pub fn host(self, mock: &MockServer) -> String {
        match self {
            Provider::Azure => format!("http://{}/openai", mock.addr()),
            // Portkey's convention: Anthropic's base URL includes the API version.
            Provider::Anthropic => format!("http://{}/v1", mock.addr()),
            _ => format!("http://{}", mock.addr()),
        }
    }

    /// Request headers that route to this provider on `mock` (credentials included).
    pub fn headers(self, mock: &MockServer) -> Vec<(&'static str, String)> {
        let mut h = vec![
            ("x-portkey-provider", self.slug().to_owned()),
            ("x-portkey-custom-host", self.host(mock)),
        ];
        let bearer = |k: &str| ("authorization", format!("Bearer {k}"));
        match self {
            Provider::Anthropic => h.push(bearer(ANTHROPIC_KEY)),
            Provider::Google => h.push(bearer(GOOGLE_KEY)),
            Provider::VertexGemini | Provider::VertexClaude => {
                h.push(bearer(VERTEX_TOKEN));
                h.push(("x-portkey-vertex-project-id", VERTEX_PROJECT.to_owned()));
                h.push(("x-portkey-vertex-region", VERTEX_REGION.to_owned()));
            }
            Provider::Bedrock => {
                h.push(("x-portkey-aws-access-key-id", AWS_KEY_ID.to_owned()));
                h.push(("x-portkey-aws-secret-access-key", AWS_SECRET.to_owned()));
                h.push(("x-portkey-aws-region", AWS_REGION.to_owned()));
            }
            Provider::Cohere => h.push(bearer(COHERE_KEY)),
            Provider::Azure => {
                h.push(bearer(AZURE_KEY));
                h.push(("x-portkey-azure-deployment-id", AZURE_DEPLOYMENT.to_owned()));
                h.push(("x-portkey-azure-api-version", AZURE_API_VERSION.to_owned()));
            }
            Provider::WorkersAi => {
                h.push(bearer(WORKERS_AI_TOKEN));
                h.push((
                    "x-portkey-workers-ai-account-id",
                    WORKERS_AI_ACCOUNT.to_owned(),
                ));
            }
            Provider::Nomic => h.push(bearer(NOMIC_KEY)),
            Provider::Predibase => {
                h.push(bearer(PREDIBASE_KEY));
                h.push(("x-portkey-predibase-tenant-id", PREDIBASE_TENANT.to_owned()));
            }
            // The PEM key fits in one header line with its line breaks written as `\n`.
            Provider::Oracle => {
                h.push(("x-portkey-oracle-region", "us-chicago-1".to_owned()));
                h.push((
                    "x-portkey-oracle-compartment-id",
                    ORACLE_COMPARTMENT.to_owned(),
                ));
                h.push(("x-portkey-oracle-tenancy", ORACLE_TENANCY.to_owned()));
                h.push(("x-portkey-oracle-user", ORACLE_USER.to_owned()));
                h.push((
                    "x-portkey-oracle-fingerprint",
                    ORACLE_FINGERPRINT.to_owned(),
                ));
                h.push((
                    "x-portkey-oracle-private-key",
                    ORACLE_KEY.trim().replace('\n', "\\n"),
                ));
            }
        }
        h
    }

    /// The same routing as a Gateway Config target.
    pub fn target(self, mock: &MockServer) -> Value {
        let host = self.host(mock);
        match self {
            Provider::Anthropic => {
                json!({"provider": "anthropic", "api_key": ANTHROPIC_KEY, "custom_host": host})
            }
            Provider::Google => {
                json!({"provider": "google", "api_key": GOOGLE_KEY, "custom_host": host})
            }
            Provider::VertexGemini | Provider::VertexClaude => json!({
                "provider": "vertex-ai", "api_key": VERTEX_TOKEN, "custom_host": host,
                "vertex_project_id": VERTEX_PROJECT, "vertex_region": VERTEX_REGION
            }),
            Provider::Bedrock => json!({
                "provider": "bedrock", "custom_host": host, "aws_access_key_id": AWS_KEY_ID,
                "aws_secret_access_key": AWS_SECRET, "aws_region": AWS_REGION
            }),
            Provider::Cohere => {
                json!({"provider": "cohere", "api_key": COHERE_KEY, "custom_host": host})
            }
            Provider::Azure => json!({
                "provider": "azure-openai", "api_key": AZURE_KEY, "custom_host": host,
                "azure_deployment_id": AZURE_DEPLOYMENT, "azure_api_version": AZURE_API_VERSION
            }),
            // Portkey's camelCase spelling of the option.
            Provider::WorkersAi => json!({
                "provider": "workers-ai", "api_key": WORKERS_AI_TOKEN, "custom_host": host,
                "workersAiAccountId": WORKERS_AI_ACCOUNT
            }),
            Provider::Nomic => {
                json!({"provider": "nomic", "api_key": NOMIC_KEY, "custom_host": host})
            }
            Provider::Predibase => json!({
                "provider": "predibase", "api_key": PREDIBASE_KEY, "custom_host": host,
                "predibaseTenantId": PREDIBASE_TENANT
            }),
            // Portkey's camelCase spellings.
            Provider::Oracle => json!({
                "provider": "oracle", "custom_host": host, "oracleRegion": "us-chicago-1",
                "oracleCompartmentId": ORACLE_COMPARTMENT, "oracleTenancy": ORACLE_TENANCY,
                "oracleUser": ORACLE_USER, "oracleFingerprint": ORACLE_FINGERPRINT,
                "oraclePrivateKey": ORACLE_KEY
            }),
        }
    }

    /// Path and query the chat request must reach upstream.
    pub fn chat_path(self, stream: bool) -> String {
        let vertex = |publisher: &str, model: &str, method: &str| {
            format!(
                "/v1/projects/{VERTEX_PROJECT}/locations/{VERTEX_REGION}/publishers/{publisher}/models/{model}:{method}"
            )
        };
        let gemini_method = if stream {
            "streamGenerateContent?alt=sse"
        } else {
            "generateContent"
        };
        match self {
            Provider::Anthropic => "/v1/messages".to_owned(),
            Provider::Google => format!("/v1beta/models/{}:{gemini_method}", self.model()),
            Provider::VertexGemini => vertex("google", self.model(), gemini_method),
            Provider::VertexClaude => vertex(
                "anthropic",
                self.model(),
                if stream { "streamRawPredict" } else { "rawPredict" },
            ),
            Provider::Bedrock => format!(
                "/model/anthropic.claude-3-haiku-20240307-v1%3A0/{}",
                if stream { "converse-stream" } else { "converse" }
            ),
            Provider::Cohere => "/v2/chat".to_owned(),
            Provider::Azure => format!(
                "/openai/deployments/{AZURE_DEPLOYMENT}/chat/completions?api-version={AZURE_API_VERSION}"
            ),
            // The base URL (what a custom host replaces) ends in `/ai/run`; the model is the path.
            Provider::WorkersAi => format!("/{}", self.model()),
            Provider::Nomic => unreachable!("nomic serves embeddings only"),
            // The base model in the path; the adapter id goes in the body.
            Provider::Predibase => format!(
                "/{PREDIBASE_TENANT}/deployments/v2/llms/llama-3-1-8b-instruct/v1/chat/completions"
            ),
            Provider::Oracle => "/20231130/actions/chat".to_owned(),
        }
    }

    /// Asserts the upstream request carries this provider's credentials, in its own way only.
    pub fn assert_auth(self, got: &Recorded) {
        let auth = got.header("authorization");
        match self {
            Provider::Anthropic => {
                assert_eq!(got.header("x-api-key"), Some(ANTHROPIC_KEY));
                assert_eq!(auth, None, "the key travels only as x-api-key");
                assert_eq!(got.header("anthropic-version"), Some("2023-06-01"));
            }
            Provider::Google => {
                assert_eq!(got.header("x-goog-api-key"), Some(GOOGLE_KEY));
                assert_eq!(auth, None, "the key travels only as x-goog-api-key");
                assert!(
                    !got.path.contains("key="),
                    "no key in the URL: {}",
                    got.path
                );
            }
            Provider::VertexGemini | Provider::VertexClaude => {
                assert_eq!(auth, Some(format!("Bearer {VERTEX_TOKEN}").as_str()));
            }
            Provider::Bedrock => {
                let auth = auth.expect("SigV4 authorization header");
                let date = got.header("x-amz-date").expect("x-amz-date");
                assert_eq!(date.len(), 16, "x-amz-date is YYYYMMDDTHHMMSSZ: {date}");
                assert!(date.ends_with('Z') && date.as_bytes()[8] == b'T', "{date}");
                let scope = format!(
                    "AWS4-HMAC-SHA256 Credential={AWS_KEY_ID}/{}/{AWS_REGION}/bedrock/aws4_request, ",
                    &date[..8]
                );
                assert!(auth.starts_with(&scope), "{auth}");
                let signed = auth
                    .split("SignedHeaders=")
                    .nth(1)
                    .and_then(|s| s.split(',').next())
                    .expect("SignedHeaders");
                for h in ["host", "x-amz-date", "x-amz-content-sha256"] {
                    assert!(signed.split(';').any(|s| s == h), "{h} is signed: {auth}");
                }
                let sig = auth.rsplit("Signature=").next().unwrap_or("");
                assert_eq!(sig.len(), 64, "hex SHA-256 signature: {auth}");
                assert!(sig.bytes().all(|b| b.is_ascii_hexdigit()), "{auth}");
                assert!(!auth.contains(AWS_SECRET), "the secret never travels");
            }
            Provider::Cohere => {
                assert_eq!(auth, Some(format!("Bearer {COHERE_KEY}").as_str()));
            }
            Provider::Azure => {
                assert_eq!(got.header("api-key"), Some(AZURE_KEY));
                assert_eq!(auth, None, "the key travels only as api-key");
            }
            Provider::WorkersAi => {
                assert_eq!(auth, Some(format!("Bearer {WORKERS_AI_TOKEN}").as_str()));
            }
            Provider::Nomic => {
                assert_eq!(auth, Some(format!("Bearer {NOMIC_KEY}").as_str()));
            }
            Provider::Predibase => {
                assert_eq!(auth, Some(format!("Bearer {PREDIBASE_KEY}").as_str()));
            }
            Provider::Oracle => super::support::assert_oci_signature(
                got,
                &format!("{ORACLE_TENANCY}/{ORACLE_USER}/{ORACLE_FINGERPRINT}"),
                ORACLE_KEY,
            ),
        }
        for (name, _) in &got.headers {
            assert!(
                !name.as_str().starts_with("x-portkey-"),
                "gateway headers stay at the gateway: {name}"
            );
        }
    }
}
