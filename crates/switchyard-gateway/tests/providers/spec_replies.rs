//! The provider-format replies of the battery (from the adapters' fixtures), with what the
//! client should get back: plain text, streams, tool calls and JSON mode, per provider.

use std::time::Duration;

use serde_json::{json, Value};

use super::spec::*;
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
    /// A plain text answer: (reply, content, usage).
    pub fn text_reply(self, mock_name: &str) -> (Reply, String, Usage) {
        match self.family() {
            Family::Anthropic => (
                json_reply(200, fixture!("anthropic/resp_text.json")),
                "Hello! How can I help you today?".into(),
                // input 12 + cache read 2048 + cache write 100.
                Usage(2160, 9, 2169),
            ),
            Family::Gemini => (
                json_reply(200, fixture!("google/response_text.json")),
                "The capital of France is Paris.".into(),
                // candidates 8 + thoughts 27.
                Usage(1045, 35, 1080),
            ),
            Family::Converse => (
                json_reply(200, fixture!("bedrock/response_text.json")),
                "Paris is the capital of France.".into(),
                Usage(1036, 9, 1045),
            ),
            Family::Cohere => (
                json_reply(200, fixture!("cohere/response_text.json")),
                "LLMs stand for Large Language Models, which are a type of neural network model."
                    .into(),
                Usage(2034, 18, 2052),
            ),
            Family::WorkersAi => (
                json_reply(200, fixture!("workers-ai/chat_response.json")),
                "The capital of France is Paris.".into(),
                Usage(45, 8, 53),
            ),
            Family::Nomic => unreachable!("nomic serves embeddings only"),
            Family::Predibase => (
                json_reply(200, fixture!("predibase/chat_response.json")),
                "The capital of France is Paris.".into(),
                Usage(19, 8, 27),
            ),
            Family::Oracle => (
                json_reply(200, fixture!("oracle/chat_response.json")),
                "The capital of France is Paris.".into(),
                Usage(42, 8, 50),
            ),
            Family::OpenAi => (
                Reply::Default,
                format!("Hello from {mock_name}"),
                Usage(5, 3, 8),
            ),
        }
    }

    /// A streamed text answer with usage: (reply, content, usage).
    pub fn stream_reply(self, mock_name: &str) -> (Reply, String, Usage) {
        match self.family() {
            Family::Anthropic => (
                sse(fixture!("anthropic/stream_text.sse")),
                "Hello!".into(),
                // input 25 + cache read 1024; output 15 (message_delta is cumulative).
                Usage(1049, 15, 1064),
            ),
            Family::Gemini => (
                sse(fixture!("google/stream_text.sse")),
                "The capital of France is Paris.".into(),
                Usage(9, 7, 16),
            ),
            Family::Converse => (
                eventstream(fixture_bytes!("bedrock/stream_text.eventstream")),
                "Hello! How can I help?".into(),
                Usage(14, 8, 22),
            ),
            Family::Cohere => (
                sse(fixture!("cohere/stream_text.sse")),
                "Hello there!".into(),
                Usage(3, 3, 6),
            ),
            Family::WorkersAi => (
                sse(fixture!("workers-ai/stream_text.sse")),
                "The capital of France is Paris.".into(),
                Usage(18, 7, 25),
            ),
            Family::Nomic => unreachable!("nomic serves embeddings only"),
            Family::Predibase => (
                sse(fixture!("predibase/stream_text.sse")),
                "The capital of France is Paris.".into(),
                Usage(19, 8, 27),
            ),
            Family::Oracle => (
                sse(fixture!("oracle/stream_text.sse")),
                "The capital of France is Paris.".into(),
                Usage(18, 7, 25),
            ),
            Family::OpenAi => (
                Reply::Default,
                format!("Hello from {mock_name}"),
                Usage(5, 3, 8),
            ),
        }
    }

    /// An answer with tool calls: (reply, content, calls).
    pub fn tool_reply(self) -> (Reply, Option<&'static str>, Vec<Call>) {
        match self.family() {
            Family::Anthropic => (
                json_reply(200, fixture!("anthropic/resp_tool_use.json")),
                Some("I'll check the weather in both cities."),
                vec![
                    (
                        Some("toolu_01A09q90qw90lq917835lq9"),
                        "get_weather",
                        json!({"location": "Paris, France", "unit": "celsius"}),
                    ),
                    (
                        Some("toolu_01B19q90qw90lq917835lq0"),
                        "get_weather",
                        json!({"location": "Berlin, Germany"}),
                    ),
                ],
            ),
            Family::Gemini => (
                json_reply(200, fixture!("google/response_parallel_tools.json")),
                Some("I'll check both cities."),
                vec![
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
            ),
            Family::Converse => (
                json_reply(200, fixture!("bedrock/response_tool_use.json")),
                Some("I'll check both cities."),
                vec![
                    (
                        Some("tooluse_kZJMlvQmRJ6eAyJE5GIl7Q"),
                        "get_weather",
                        json!({"city": "Paris"}),
                    ),
                    (
                        Some("tooluse_2ZCk6Rw9RmGdaDqKVPzMhg"),
                        "get_weather",
                        json!({"city": "Tokyo", "unit": "celsius"}),
                    ),
                ],
            ),
            Family::Cohere => (
                json_reply(200, fixture!("cohere/response_tool_calls.json")),
                // Cohere's tool_plan becomes the content.
                Some("I will search for the weather in Toronto and Paris."),
                vec![
                    (
                        Some("get_weather_1byjy32y4hvq"),
                        "get_weather",
                        json!({"location": "Toronto"}),
                    ),
                    (
                        Some("get_weather_2kjd92mx0aq1"),
                        "get_weather",
                        json!({"location": "Paris"}),
                    ),
                ],
            ),
            // Both documented shapes: `{name, arguments}` (no id) and OpenAI's.
            Family::WorkersAi => (
                json_reply(200, fixture!("workers-ai/chat_tool_calls.json")),
                None,
                vec![
                    (None, "get_weather", json!({"city": "Paris"})),
                    (
                        Some("chatcmpl-tool-8b1f2c"),
                        "get_weather",
                        json!({"city": "Tokyo"}),
                    ),
                ],
            ),
            Family::Oracle => (
                json_reply(200, fixture!("oracle/chat_tool_calls.json")),
                None,
                vec![
                    (
                        Some("chatcmpl-tool-5d2e1f0a"),
                        "get_weather",
                        json!({"city": "Paris"}),
                    ),
                    (
                        Some("chatcmpl-tool-9c4b7a13"),
                        "get_weather",
                        json!({"city": "Tokyo"}),
                    ),
                ],
            ),
            Family::Nomic => unreachable!("nomic serves embeddings only"),
            Family::OpenAi | Family::Predibase => (
                openai_completion(
                    self.model(),
                    json!({"role": "assistant", "content": null, "tool_calls": [
                        {"id": "call_az1", "type": "function",
                         "function": {"name": "get_weather", "arguments": "{\"city\":\"Tokyo\"}"}}]}),
                    "tool_calls",
                ),
                None,
                vec![(Some("call_az1"), "get_weather", json!({"city": "Tokyo"}))],
            ),
        }
    }

    /// A streamed answer with tool calls: (reply, content, calls).
    pub fn stream_tool_reply(self) -> (Reply, Option<&'static str>, Vec<Call>) {
        match self.family() {
            Family::Anthropic => (
                sse(fixture!("anthropic/stream_tool_use.sse")),
                Some("Okay, let's check the weather for both cities:"),
                vec![
                    (
                        Some("toolu_01T1x1fJ34qAmk2tNTrN7Up6"),
                        "get_weather",
                        json!({"location": "San Francisco, CA"}),
                    ),
                    (
                        Some("toolu_02U2y2gK45rBnl3uUsOs8Vq7"),
                        "get_weather",
                        json!({"location": "Tokyo"}),
                    ),
                ],
            ),
            Family::Gemini => (
                sse(fixture!("google/stream_tool_calls.sse")),
                Some("Let me look that up."),
                vec![
                    (None, "get_weather", json!({"location": "Tokyo"})),
                    (None, "get_time", json!({"timezone": "Asia/Tokyo"})),
                ],
            ),
            Family::Converse => (
                eventstream(fixture_bytes!("bedrock/stream_tool_use.eventstream")),
                Some("Let me check both."),
                vec![
                    (
                        Some("tooluse_kZJMlvQmRJ6eAyJE5GIl7Q"),
                        "get_weather",
                        json!({"city": "Paris"}),
                    ),
                    (
                        Some("tooluse_2ZCk6Rw9RmGdaDqKVPzMhg"),
                        "get_time",
                        json!({"tz": "Europe/Paris"}),
                    ),
                ],
            ),
            Family::Cohere => (
                sse(fixture!("cohere/stream_tool_calls.sse")),
                Some("I will check both."),
                vec![
                    (
                        Some("get_weather_nsz5zm3w56q3"),
                        "get_weather",
                        json!({"location": "Toronto"}),
                    ),
                    (
                        Some("get_weather_0v2r6c1bz4xw"),
                        "get_weather",
                        json!({"location": "Paris"}),
                    ),
                ],
            ),
            Family::WorkersAi => (
                sse(concat!(
                    "data: {\"response\":\"Let me check.\"}\n\n",
                    "data: {\"response\":\"\",\"tool_calls\":[{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}]}\n\n",
                    "data: {\"response\":\"\",\"tool_calls\":[{\"id\":\"call_wai_2\",\"type\":\"function\",",
                    "\"function\":{\"name\":\"get_time\",\"arguments\":\"{\\\"tz\\\":\\\"Europe/Paris\\\"}\"}}]}\n\n",
                    "data: {\"response\":\"\",\"usage\":{\"prompt_tokens\":80,\"completion_tokens\":20,\"total_tokens\":100}}\n\n",
                    "data: [DONE]\n\n"
                )),
                Some("Let me check."),
                vec![
                    (None, "get_weather", json!({"city": "Paris"})),
                    (Some("call_wai_2"), "get_time", json!({"tz": "Europe/Paris"})),
                ],
            ),
            // Arguments in pieces: an event without an id continues the last call.
            Family::Oracle => (
                sse(fixture!("oracle/stream_tool_calls.sse")),
                Some("Let me check."),
                vec![
                    (
                        Some("chatcmpl-tool-a1"),
                        "get_weather",
                        json!({"city": "Paris"}),
                    ),
                    (
                        Some("chatcmpl-tool-b2"),
                        "get_time",
                        json!({"tz": "Europe/Paris"}),
                    ),
                ],
            ),
            Family::Nomic => unreachable!("nomic serves embeddings only"),
            Family::OpenAi | Family::Predibase => {
                let chunk = |delta: Value, finish: Value| {
                    json!({"id": "chatcmpl-az", "object": "chat.completion.chunk", "created": 1,
                           "model": self.model(),
                           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
                    .to_string()
                };
                let events = vec![
                    chunk(json!({"role": "assistant", "content": null}), Value::Null),
                    chunk(
                        json!({"tool_calls": [{"index": 0, "id": "call_az1", "type": "function",
                                               "function": {"name": "get_weather", "arguments": ""}}]}),
                        Value::Null,
                    ),
                    chunk(
                        json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]}),
                        Value::Null,
                    ),
                    chunk(
                        json!({"tool_calls": [{"index": 0, "function": {"arguments": "\"Tokyo\"}"}}]}),
                        Value::Null,
                    ),
                    chunk(json!({}), json!("tool_calls")),
                ];
                (
                    Reply::Sse {
                        events,
                        gap: Duration::ZERO,
                        end: crate::common::StreamEnd::Done,
                    },
                    None,
                    vec![(Some("call_az1"), "get_weather", json!({"city": "Tokyo"}))],
                )
            }
        }
    }

    /// A JSON-mode answer: (reply, the JSON the client's content must hold).
    pub fn json_reply(self) -> (Reply, Value) {
        let paris = json!({"capital": "Paris"});
        match self.family() {
            Family::Anthropic => (
                json_reply(200, fixture!("anthropic/resp_json.json")),
                json!({"name": "Science fair", "date": "Friday", "participants": ["Alice", "Bob"]}),
            ),
            Family::Gemini => {
                let body = json!({
                    "candidates": [{"content": {"parts": [{"text": paris.to_string()}], "role": "model"},
                                    "finishReason": "STOP", "index": 0}],
                    "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 6, "totalTokenCount": 26},
                    "responseId": "json-resp-1"
                });
                (json_reply(200, &body.to_string()), paris)
            }
            Family::Converse => (
                json_reply(200, fixture!("bedrock/response_json_tool.json")),
                json!({"capital": "Paris", "country": "France"}),
            ),
            Family::Cohere => {
                let body = json!({
                    "id": "json-resp-1",
                    "message": {"role": "assistant", "content": [{"type": "text", "text": paris.to_string()}]},
                    "finish_reason": "COMPLETE",
                    "usage": {"billed_units": {"input_tokens": 20, "output_tokens": 6}}
                });
                (json_reply(200, &body.to_string()), paris)
            }
            // In JSON mode Workers AI answers with the object itself as `response`.
            Family::WorkersAi => {
                let body = json!({
                    "result": {"response": paris.clone(),
                               "usage": {"prompt_tokens": 20, "completion_tokens": 6, "total_tokens": 26}},
                    "success": true, "errors": [], "messages": []
                });
                (json_reply(200, &body.to_string()), paris)
            }
            Family::Oracle => {
                let body = json!({
                    "modelId": self.model(), "modelVersion": "1.0.0",
                    "chatResponse": {"apiFormat": "GENERIC", "timeCreated": "2025-05-14T09:30:00.000Z",
                        "choices": [{"index": 0, "message": {"role": "ASSISTANT",
                            "content": [{"type": "TEXT", "text": paris.to_string()}]},
                            "finishReason": "stop"}],
                        "usage": {"promptTokens": 20, "completionTokens": 6, "totalTokens": 26}}
                });
                (json_reply(200, &body.to_string()), paris)
            }
            Family::Nomic => unreachable!("nomic serves embeddings only"),
            Family::OpenAi | Family::Predibase => (
                openai_completion(
                    self.model(),
                    json!({"role": "assistant", "content": paris.to_string()}),
                    "stop",
                ),
                paris,
            ),
        }
    }
}
