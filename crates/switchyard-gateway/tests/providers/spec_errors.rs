//! Per-provider failure replies (error bodies, broken streams) and embeddings exchanges, with
//! what the client should get back. The routing and chat replies are in `spec.rs`.

use std::time::Duration;

use serde_json::json;

use super::spec::{
    aws_event, aws_exception, eventstream, json_reply, sse, EmbeddingsCase, ErrorCase, Family,
    Provider,
};
use super::spec::{AZURE_API_VERSION, AZURE_DEPLOYMENT, VERTEX_PROJECT, VERTEX_REGION};
use crate::common::Reply;

macro_rules! fixture {
    ($path:literal) => {
        include_str!(concat!("../../../switchyard-providers/fixtures/", $path))
    };
}
macro_rules! fixture_bytes {
    ($path:literal) => {
        include_bytes!(concat!("../../../switchyard-providers/fixtures/", $path))
    };
}

impl Provider {
    /// The provider's answer to bad credentials.
    pub fn auth_error(self) -> ErrorCase {
        match self {
            Provider::Anthropic => ErrorCase {
                status: 401,
                reply: json_reply(401, fixture!("anthropic/error_authentication.json")),
                message: "invalid x-api-key",
                kind: Some("authentication_error"),
                code: Some("authentication_error"),
            },
            // The Gemini API answers a bad key with 400 INVALID_ARGUMENT / API_KEY_INVALID.
            Provider::Google => ErrorCase {
                status: 400,
                reply: json_reply(400, fixture!("google/error_api_key_invalid.json")),
                message: "API key not valid. Please pass a valid API key.",
                kind: Some("authentication_error"),
                code: Some("INVALID_ARGUMENT"),
            },
            Provider::VertexGemini | Provider::VertexClaude => ErrorCase {
                status: 401,
                reply: json_reply(401, fixture!("google/error_unauthenticated.json")),
                message: "Request had invalid authentication credentials.",
                kind: Some("authentication_error"),
                code: Some("UNAUTHENTICATED"),
            },
            // Bedrock answers an unknown access key with 403 UnrecognizedClientException.
            Provider::Bedrock => ErrorCase {
                status: 403,
                reply: json_reply(
                    403,
                    r#"{"message":"The security token included in the request is invalid."}"#,
                ),
                message: "The security token included in the request is invalid.",
                kind: Some("permission_error"),
                code: None,
            },
            Provider::Cohere => ErrorCase {
                status: 401,
                reply: json_reply(
                    401,
                    r#"{"id":"7f1c2b3a-0000-4000-8000-000000000001","message":"invalid api token"}"#,
                ),
                message: "invalid api token",
                kind: Some("authentication_error"),
                code: None,
            },
            Provider::WorkersAi => ErrorCase {
                status: 401,
                reply: json_reply(401, fixture!("workers-ai/error_auth.json")),
                message: "Error 10000: Authentication error",
                kind: Some("authentication_error"),
                code: None,
            },
            Provider::Nomic => ErrorCase {
                status: 401,
                reply: json_reply(401, fixture!("nomic/error_auth.json")),
                message: "Could not validate credentials",
                kind: Some("authentication_error"),
                code: None,
            },
            Provider::Oracle => ErrorCase {
                status: 401,
                reply: json_reply(401, fixture!("oracle/error_auth.json")),
                message: "The required information to complete authentication was not provided",
                kind: Some("authentication_error"),
                code: Some("NotAuthenticated"),
            },
            Provider::Predibase => ErrorCase {
                status: 401,
                reply: json_reply(401, fixture!("predibase/error_auth.json")),
                message: "Invalid or missing API token",
                kind: Some("authentication_error"),
                code: Some("401"),
            },
            Provider::Azure => ErrorCase {
                status: 401,
                reply: json_reply(
                    401,
                    r#"{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}}"#,
                ),
                message: "Access denied due to invalid subscription key",
                kind: None,
                code: Some("401"),
            },
        }
    }

    /// The provider saying it is overloaded or rate limited.
    pub fn provider_error(self) -> ErrorCase {
        let quota = "Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model";
        match self {
            Provider::Anthropic => ErrorCase {
                status: 529,
                reply: json_reply(529, fixture!("anthropic/error_overloaded.json")),
                message: "Overloaded",
                kind: Some("server_error"),
                code: Some("overloaded_error"),
            },
            Provider::Google => ErrorCase {
                status: 429,
                reply: json_reply(429, fixture!("google/error_resource_exhausted.json")),
                message: "You exceeded your current quota",
                kind: Some("rate_limit_error"),
                code: Some("RESOURCE_EXHAUSTED"),
            },
            // Vertex AI wraps its errors in a one-element array.
            Provider::VertexGemini | Provider::VertexClaude => ErrorCase {
                status: 429,
                reply: json_reply(429, fixture!("anthropic/error_vertex_google.json")),
                message: quota,
                kind: Some("rate_limit_error"),
                code: Some("RESOURCE_EXHAUSTED"),
            },
            Provider::Bedrock => ErrorCase {
                status: 429,
                reply: json_reply(429, fixture!("bedrock/error_throttling.json")),
                message: "Too many requests, please wait before trying again.",
                kind: Some("rate_limit_error"),
                code: None,
            },
            Provider::Cohere => ErrorCase {
                status: 429,
                reply: json_reply(429, fixture!("cohere/error_rate_limit.json")),
                message: "You are using a Trial key",
                kind: Some("rate_limit_error"),
                code: None,
            },
            Provider::WorkersAi => ErrorCase {
                status: 429,
                reply: json_reply(429, fixture!("workers-ai/error_rate_limit.json")),
                message: "Error 3040: Capacity temporarily exceeded",
                kind: Some("rate_limit_error"),
                code: None,
            },
            Provider::Nomic => ErrorCase {
                status: 429,
                reply: json_reply(429, r#"{"detail":"Rate limit exceeded"}"#),
                message: "Rate limit exceeded",
                kind: Some("rate_limit_error"),
                code: None,
            },
            Provider::Oracle => ErrorCase {
                status: 429,
                reply: json_reply(429, fixture!("oracle/error_rate_limit.json")),
                message: "User-rate limit exceeded.",
                kind: Some("rate_limit_error"),
                code: Some("TooManyRequests"),
            },
            Provider::Predibase => ErrorCase {
                status: 429,
                reply: json_reply(
                    429,
                    r#"{"error":"Rate limit exceeded, please retry later"}"#,
                ),
                message: "Rate limit exceeded",
                kind: Some("rate_limit_error"),
                code: None,
            },
            Provider::Azure => ErrorCase {
                status: 429,
                reply: json_reply(
                    429,
                    r#"{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-06-01 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 6 seconds."}}"#,
                ),
                message: "Requests to the ChatCompletions_Create Operation",
                kind: None,
                code: Some("429"),
            },
        }
    }

    /// A 200 stream whose very first frame is an error.
    pub fn error_first_stream(self) -> Reply {
        match self.family() {
            Family::Anthropic => sse(concat!(
                "event: error\n",
                "data: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n"
            )),
            Family::Gemini => sse(concat!(
                "data: {\"error\":{\"code\":503,\"message\":\"The model is overloaded. Please try again later.\",",
                "\"status\":\"UNAVAILABLE\"}}\n\n"
            )),
            Family::Converse => eventstream(&aws_exception(
                "throttlingException",
                "Too many requests, please wait before trying again.",
            )),
            Family::Cohere => sse(concat!(
                "event: message-end\n",
                "data: {\"type\":\"message-end\",\"delta\":{\"error\":\"internal server error, please try again later\",",
                "\"finish_reason\":\"ERROR\"}}\n\n"
            )),
            Family::WorkersAi => sse("data: {\"errors\":[{\"code\":3040,\"message\":\"Capacity temporarily exceeded, please try again.\"}]}\n\n"),
            Family::Nomic => unreachable!("nomic serves embeddings only"),
            Family::Predibase => sse("data: {\"error\":\"Request failed during generation: Server error: CUDA out of memory\",\"error_type\":\"generation\"}\n\n"),
            Family::Oracle => sse("data: {\"code\":\"InternalServerError\",\"message\":\"The model is temporarily unavailable.\"}\n\n"),
            Family::OpenAi => sse(concat!(
                "data: {\"error\":{\"message\":\"The server had an error while processing your request.\",",
                "\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n"
            )),
        }
    }

    /// A 200 stream that opens the message (a role-only first chunk, no content) and then
    /// reports an error, as providers do when they fail right after accepting the request.
    pub fn error_after_start_stream(self) -> Reply {
        match self.family() {
            Family::Anthropic => sse(concat!(
                "event: message_start\n",
                "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01Start\",\"type\":\"message\",",
                "\"role\":\"assistant\",\"content\":[],\"model\":\"claude\",\"stop_reason\":null,",
                "\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n",
                "event: error\n",
                "data: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n"
            )),
            Family::Gemini => sse(concat!(
                "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"\"}],\"role\":\"model\"},\"index\":0}],",
                "\"responseId\":\"start-1\"}\n\n",
                "data: {\"error\":{\"code\":503,\"message\":\"The model is overloaded. Please try again later.\",",
                "\"status\":\"UNAVAILABLE\"}}\n\n"
            )),
            Family::Converse => {
                let mut bytes = aws_event("messageStart", json!({"role": "assistant"}));
                bytes.extend(aws_exception(
                    "throttlingException",
                    "Too many requests, please wait before trying again.",
                ));
                eventstream(&bytes)
            }
            Family::Cohere => sse(concat!(
                "event: message-start\n",
                "data: {\"id\":\"start-1\",\"type\":\"message-start\",\"delta\":{\"message\":{\"role\":\"assistant\",",
                "\"content\":[],\"tool_plan\":\"\",\"tool_calls\":[],\"citations\":[]}}}\n\n",
                "event: message-end\n",
                "data: {\"type\":\"message-end\",\"delta\":{\"error\":\"internal server error, please try again later\",",
                "\"finish_reason\":\"ERROR\"}}\n\n"
            )),
            Family::WorkersAi => sse(concat!(
                "data: {\"response\":\"\"}\n\n",
                "data: {\"errors\":[{\"code\":3040,\"message\":\"Capacity temporarily exceeded, please try again.\"}]}\n\n"
            )),
            Family::Nomic => unreachable!("nomic serves embeddings only"),
            Family::Oracle => sse(concat!(
                "data: {\"index\":0,\"message\":{\"role\":\"ASSISTANT\",\"content\":[{\"type\":\"TEXT\",\"text\":\"\"}]}}\n\n",
                "data: {\"code\":\"InternalServerError\",\"message\":\"The model is temporarily unavailable.\"}\n\n"
            )),
            Family::Predibase => sse(concat!(
                "data: {\"id\":\"null\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"pb-adapter/2\",",
                "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n",
                "data: {\"error\":\"Request failed during generation: Server error: CUDA out of memory\",\"error_type\":\"generation\"}\n\n"
            )),
            Family::OpenAi => sse(concat!(
                "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",",
                "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n",
                "data: {\"error\":{\"message\":\"The server had an error while processing your request.\",",
                "\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n"
            )),
        }
    }

    /// A 200 stream that fails after some content: (reply, content before the failure, a piece
    /// of the error message the client should get).
    pub fn error_mid_stream(self) -> (Reply, &'static str, &'static str) {
        match self.family() {
            Family::Anthropic => (
                sse(fixture!("anthropic/stream_error.sse")),
                "Once upon",
                "Overloaded",
            ),
            Family::Gemini => (
                sse(fixture!("google/stream_error.sse")),
                "Once upon a time",
                "The model is overloaded",
            ),
            Family::Converse => (
                eventstream(fixture_bytes!("bedrock/stream_throttled.eventstream")),
                "Once upon",
                "Too many requests",
            ),
            Family::Cohere => (
                sse(fixture!("cohere/stream_error.sse")),
                "Partial",
                "internal server error",
            ),
            Family::WorkersAi => (
                sse(concat!(
                    "data: {\"response\":\"Once upon\"}\n\n",
                    "data: {\"errors\":[{\"code\":3040,\"message\":\"Capacity temporarily exceeded, please try again.\"}]}\n\n"
                )),
                "Once upon",
                "Capacity temporarily exceeded",
            ),
            Family::Nomic => unreachable!("nomic serves embeddings only"),
            Family::Predibase => (
                sse(concat!(
                    "data: {\"id\":\"null\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"pb-adapter/2\",",
                "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Once upon\"},\"finish_reason\":null}]}\n\n",
                    "data: {\"error\":\"Request failed during generation: Server error: CUDA out of memory\",\"error_type\":\"generation\"}\n\n"
                )),
                "Once upon",
                "CUDA out of memory",
            ),
            Family::Oracle => (
                sse(concat!(
                    "data: {\"index\":0,\"message\":{\"role\":\"ASSISTANT\",\"content\":[{\"type\":\"TEXT\",\"text\":\"Once upon\"}]}}\n\n",
                    "data: {\"code\":\"InternalServerError\",\"message\":\"The model is temporarily unavailable.\"}\n\n"
                )),
                "Once upon",
                "temporarily unavailable",
            ),
            Family::OpenAi => {
                let mut events = switchyard_mock::chat_chunks("azure", self.model(), false);
                events.truncate(2);
                (
                    Reply::Sse {
                        events,
                        gap: Duration::ZERO,
                        end: crate::common::StreamEnd::Cut,
                    },
                    "Hello",
                    "upstream stream failed",
                )
            }
        }
    }

    /// The embeddings exchange, for providers that offer embeddings.
    pub fn embeddings(self) -> Option<EmbeddingsCase> {
        let two = json!(["hello", "goodbye"]);
        let vertex_path = |model: &str| {
            format!("/v1/projects/{VERTEX_PROJECT}/locations/{VERTEX_REGION}/publishers/google/models/{model}:predict")
        };
        Some(match self {
            Provider::Anthropic | Provider::VertexClaude | Provider::Predibase | Provider::Oracle => {
                return None
            }
            Provider::Google => EmbeddingsCase {
                model: "text-embedding-004",
                input: two,
                path: "/v1beta/models/text-embedding-004:batchEmbedContents".into(),
                reply: json_reply(200, fixture!("google/batch_embed_response.json")),
                body: json!({"requests": [
                    {"model": "models/text-embedding-004", "content": {"parts": [{"text": "hello"}]}},
                    {"model": "models/text-embedding-004", "content": {"parts": [{"text": "goodbye"}]}}
                ]}),
                vectors: vec![
                    vec![0.013168523, -0.008711934, -0.046782676, 0.00069968984],
                    vec![-0.0121113, 0.0304411, -0.0501932, 0.0113325],
                ],
                prompt_tokens: 0,
            },
            Provider::VertexGemini => EmbeddingsCase {
                model: "text-embedding-005",
                input: two,
                path: vertex_path("text-embedding-005"),
                reply: json_reply(200, fixture!("google/vertex_predict_response.json")),
                body: json!({"instances": [{"content": "hello"}, {"content": "goodbye"}]}),
                vectors: vec![
                    vec![0.005_842_493, 0.011_848_051, 0.021_647_478, -0.042_318_2],
                    vec![-0.0104323, 0.0210024, 0.0331177, -0.0139271],
                ],
                prompt_tokens: 10,
            },
            Provider::Bedrock => EmbeddingsCase {
                model: "cohere.embed-english-v3",
                input: json!(["hello world", "goodbye world"]),
                path: "/model/cohere.embed-english-v3/invoke".into(),
                reply: json_reply(200, fixture!("bedrock/embed_cohere_response.json")),
                body: json!({"texts": ["hello world", "goodbye world"], "input_type": "search_document"}),
                vectors: vec![vec![0.015, -0.021, 0.007], vec![0.25, 0.5, -0.125]],
                prompt_tokens: 0,
            },
            Provider::Cohere => EmbeddingsCase {
                model: "embed-english-v3.0",
                input: two,
                path: "/v2/embed".into(),
                reply: json_reply(200, fixture!("cohere/embed_response.json")),
                body: json!({"model": "embed-english-v3.0", "texts": ["hello", "goodbye"],
                             "input_type": "search_document", "embedding_types": ["float"]}),
                vectors: vec![
                    vec![0.016296387, -0.008354187, -0.04699707],
                    vec![-0.0072021484, 0.025146484, 0.015625],
                ],
                prompt_tokens: 2,
            },
            Provider::WorkersAi => EmbeddingsCase {
                model: "@cf/baai/bge-base-en-v1.5",
                input: two.clone(),
                path: "/@cf/baai/bge-base-en-v1.5".into(),
                reply: json_reply(200, fixture!("workers-ai/embed_response.json")),
                body: json!({"text": ["hello", "goodbye"]}),
                vectors: vec![
                    vec![0.0123, -0.0456, 0.0789, 0.0011],
                    vec![-0.0321, 0.0654, -0.0987, 0.0022],
                ],
                prompt_tokens: 0,
            },
            Provider::Nomic => EmbeddingsCase {
                model: "nomic-embed-text-v1.5",
                input: two.clone(),
                path: "/v1/embedding/text".into(),
                reply: json_reply(200, fixture!("nomic/embed_response.json")),
                body: json!({"model": "nomic-embed-text-v1.5", "texts": ["hello", "goodbye"]}),
                vectors: vec![
                    vec![0.008918762, 0.06036377, -0.17004395, -0.031341553],
                    vec![-0.010566711, 0.047546387, -0.15209961, 0.0126953125],
                ],
                prompt_tokens: 4,
            },
            Provider::Azure => EmbeddingsCase {
                model: "text-embedding-3-small",
                input: two.clone(),
                path: format!(
                    "/openai/deployments/{AZURE_DEPLOYMENT}/embeddings?api-version={AZURE_API_VERSION}"
                ),
                reply: Reply::Default,
                body: json!({"model": "text-embedding-3-small", "input": two}),
                vectors: vec![vec![0.1, 0.2, 0.3], vec![0.1, 0.2, 0.3]],
                prompt_tokens: 2,
            },
        })
    }
}
