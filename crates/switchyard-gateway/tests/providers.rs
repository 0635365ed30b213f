//! Cross-provider conformance battery. The same cases run for every provider, through the real
//! server, against a mock upstream that speaks the provider's own wire format (bodies and
//! streams from the adapters' fixtures): what the upstream receives (path, authentication,
//! translated body) and what the OpenAI client gets back (shapes, content, tool calls, usage,
//! errors, stream endings, fallback).
//!
//! - `providers/spec.rs`, `providers/spec_replies.rs`, `providers/spec_errors.rs`: per
//!   provider, how to route to it, its replies and what the client should get back.
//! - `providers/chat.rs`, `providers/errors.rs`: the cases.
//! - `providers/depth.rs`: reasoning and prompt caching, for the providers that have them.
//! - `providers/cross.rs`: a fallback across three providers, Vertex AI service accounts,
//!   Bedrock session tokens.
//! - `providers/edges.rs`: translated answers the battery does not produce (reasoning,
//!   logprobs, several candidates, blocked prompts, truncated streams), checked against the spec.
//! - `providers/openapi.rs`: every body, chunk and error the gateway writes is validated against
//!   OpenAI's published OpenAPI spec (`tests/fixtures/openai-openapi/`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mod providers {
    pub mod chat;
    pub mod cross;
    pub mod depth;
    pub mod edges;
    pub mod errors;
    pub mod openapi;
    pub mod spec;
    pub mod spec_errors;
    pub mod spec_replies;
    pub mod support;

    /// Every per-provider case, by name.
    pub mod cases {
        pub use super::chat::*;
        pub use super::depth::*;
        pub use super::errors::*;
    }
}

/// One module per provider with one `#[tokio::test]` per case; a case may carry attributes.
macro_rules! provider_tests {
    ($module:ident: $provider:expr => { $( $(#[$attr:meta])* $case:ident ),* $(,)? }) => {
        mod $module {
            use crate::providers::spec::Provider;
            $(
                #[tokio::test]
                $(#[$attr])*
                async fn $case() {
                    let case = concat!(stringify!($module), "::", stringify!($case));
                    let run = crate::providers::cases::$case($provider);
                    crate::providers::openapi::CASE.scope(case, run).await
                }
            )*
        }
    };
}

provider_tests!(anthropic: Provider::Anthropic => {
    reasoning_is_returned_when_not_strict_and_dropped_when_strict,
    reasoning_stream_carries_content_blocks_when_not_strict,
    thinking_signature_round_trips_in_a_tool_turn,
    cache_control_reaches_the_provider_and_cached_tokens_are_reported,
    simple_chat_is_translated_both_ways,
    system_prompt_lands_where_the_provider_expects_it,
    streaming_yields_openai_chunks_usage_and_done,
    streaming_without_include_usage_sends_no_usage_chunk,
    tool_definitions_calls_and_results_round_trip,
    streamed_tool_calls_arrive_as_openai_deltas,
    image_data_url_becomes_the_provider_image_part,
    json_schema_mode_returns_the_json_as_content,
    embeddings_translate_or_are_refused_before_io,
    auth_failure_keeps_the_provider_status_in_openai_shape,
    provider_error_keeps_its_status_in_openai_shape,
    error_bodies_get_the_documented_openai_type_and_code,
    stream_error_before_content_falls_back_to_the_next_target,
    stream_error_after_a_role_only_chunk_still_falls_back,
    stream_error_after_content_ends_with_an_sse_error_event,
    config_target_fields_route_like_the_headers,
    retry_replays_the_translated_request_after_a_provider_error,
});

provider_tests!(google: Provider::Google => {
    reasoning_is_returned_when_not_strict_and_dropped_when_strict,
    reasoning_stream_carries_content_blocks_when_not_strict,
    thinking_signature_round_trips_in_a_tool_turn,
    cache_control_reaches_the_provider_and_cached_tokens_are_reported,
    simple_chat_is_translated_both_ways,
    system_prompt_lands_where_the_provider_expects_it,
    streaming_yields_openai_chunks_usage_and_done,
    streaming_without_include_usage_sends_no_usage_chunk,
    tool_definitions_calls_and_results_round_trip,
    streamed_tool_calls_arrive_as_openai_deltas,
    image_data_url_becomes_the_provider_image_part,
    json_schema_mode_returns_the_json_as_content,
    embeddings_translate_or_are_refused_before_io,
    auth_failure_keeps_the_provider_status_in_openai_shape,
    provider_error_keeps_its_status_in_openai_shape,
    error_bodies_get_the_documented_openai_type_and_code,
    stream_error_before_content_falls_back_to_the_next_target,
    stream_error_after_a_role_only_chunk_still_falls_back,
    stream_error_after_content_ends_with_an_sse_error_event,
    config_target_fields_route_like_the_headers,
    retry_replays_the_translated_request_after_a_provider_error,
});

provider_tests!(vertex_gemini: Provider::VertexGemini => {
    reasoning_is_returned_when_not_strict_and_dropped_when_strict,
    reasoning_stream_carries_content_blocks_when_not_strict,
    thinking_signature_round_trips_in_a_tool_turn,
    cache_control_reaches_the_provider_and_cached_tokens_are_reported,
    simple_chat_is_translated_both_ways,
    system_prompt_lands_where_the_provider_expects_it,
    streaming_yields_openai_chunks_usage_and_done,
    streaming_without_include_usage_sends_no_usage_chunk,
    tool_definitions_calls_and_results_round_trip,
    streamed_tool_calls_arrive_as_openai_deltas,
    image_data_url_becomes_the_provider_image_part,
    json_schema_mode_returns_the_json_as_content,
    embeddings_translate_or_are_refused_before_io,
    auth_failure_keeps_the_provider_status_in_openai_shape,
    provider_error_keeps_its_status_in_openai_shape,
    error_bodies_get_the_documented_openai_type_and_code,
    stream_error_before_content_falls_back_to_the_next_target,
    stream_error_after_a_role_only_chunk_still_falls_back,
    stream_error_after_content_ends_with_an_sse_error_event,
    config_target_fields_route_like_the_headers,
    retry_replays_the_translated_request_after_a_provider_error,
});

provider_tests!(vertex_claude: Provider::VertexClaude => {
    reasoning_is_returned_when_not_strict_and_dropped_when_strict,
    reasoning_stream_carries_content_blocks_when_not_strict,
    thinking_signature_round_trips_in_a_tool_turn,
    cache_control_reaches_the_provider_and_cached_tokens_are_reported,
    simple_chat_is_translated_both_ways,
    system_prompt_lands_where_the_provider_expects_it,
    streaming_yields_openai_chunks_usage_and_done,
    streaming_without_include_usage_sends_no_usage_chunk,
    tool_definitions_calls_and_results_round_trip,
    streamed_tool_calls_arrive_as_openai_deltas,
    image_data_url_becomes_the_provider_image_part,
    json_schema_mode_returns_the_json_as_content,
    embeddings_translate_or_are_refused_before_io,
    auth_failure_keeps_the_provider_status_in_openai_shape,
    provider_error_keeps_its_status_in_openai_shape,
    error_bodies_get_the_documented_openai_type_and_code,
    stream_error_before_content_falls_back_to_the_next_target,
    stream_error_after_a_role_only_chunk_still_falls_back,
    stream_error_after_content_ends_with_an_sse_error_event,
    config_target_fields_route_like_the_headers,
    retry_replays_the_translated_request_after_a_provider_error,
});

provider_tests!(bedrock: Provider::Bedrock => {
    reasoning_is_returned_when_not_strict_and_dropped_when_strict,
    reasoning_stream_carries_content_blocks_when_not_strict,
    thinking_signature_round_trips_in_a_tool_turn,
    cache_control_reaches_the_provider_and_cached_tokens_are_reported,
    simple_chat_is_translated_both_ways,
    system_prompt_lands_where_the_provider_expects_it,
    streaming_yields_openai_chunks_usage_and_done,
    streaming_without_include_usage_sends_no_usage_chunk,
    tool_definitions_calls_and_results_round_trip,
    streamed_tool_calls_arrive_as_openai_deltas,
    image_data_url_becomes_the_provider_image_part,
    json_schema_mode_returns_the_json_as_content,
    embeddings_translate_or_are_refused_before_io,
    auth_failure_keeps_the_provider_status_in_openai_shape,
    provider_error_keeps_its_status_in_openai_shape,
    error_bodies_get_the_documented_openai_type_and_code,
    stream_error_before_content_falls_back_to_the_next_target,
    stream_error_after_a_role_only_chunk_still_falls_back,
    stream_error_after_content_ends_with_an_sse_error_event,
    config_target_fields_route_like_the_headers,
    retry_replays_the_translated_request_after_a_provider_error,
});

provider_tests!(cohere: Provider::Cohere => {
    simple_chat_is_translated_both_ways,
    system_prompt_lands_where_the_provider_expects_it,
    streaming_yields_openai_chunks_usage_and_done,
    streaming_without_include_usage_sends_no_usage_chunk,
    tool_definitions_calls_and_results_round_trip,
    streamed_tool_calls_arrive_as_openai_deltas,
    image_data_url_becomes_the_provider_image_part,
    json_schema_mode_returns_the_json_as_content,
    embeddings_translate_or_are_refused_before_io,
    auth_failure_keeps_the_provider_status_in_openai_shape,
    provider_error_keeps_its_status_in_openai_shape,
    error_bodies_get_the_documented_openai_type_and_code,
    stream_error_before_content_falls_back_to_the_next_target,
    stream_error_after_a_role_only_chunk_still_falls_back,
    stream_error_after_content_ends_with_an_sse_error_event,
    config_target_fields_route_like_the_headers,
    retry_replays_the_translated_request_after_a_provider_error,
});

provider_tests!(azure_openai: Provider::Azure => {
    simple_chat_is_translated_both_ways,
    system_prompt_lands_where_the_provider_expects_it,
    streaming_yields_openai_chunks_usage_and_done,
    streaming_without_include_usage_sends_no_usage_chunk,
    tool_definitions_calls_and_results_round_trip,
    streamed_tool_calls_arrive_as_openai_deltas,
    image_data_url_becomes_the_provider_image_part,
    json_schema_mode_returns_the_json_as_content,
    embeddings_translate_or_are_refused_before_io,
    auth_failure_keeps_the_provider_status_in_openai_shape,
    provider_error_keeps_its_status_in_openai_shape,
    error_bodies_get_the_documented_openai_type_and_code,
    stream_error_before_content_falls_back_to_the_next_target,
    stream_error_after_a_role_only_chunk_still_falls_back,
    stream_error_after_content_ends_with_an_sse_error_event,
    config_target_fields_route_like_the_headers,
    retry_replays_the_translated_request_after_a_provider_error,
});

// Text only (no image inputs), so the image case does not apply.
provider_tests!(workers_ai: Provider::WorkersAi => {
    simple_chat_is_translated_both_ways,
    system_prompt_lands_where_the_provider_expects_it,
    streaming_yields_openai_chunks_usage_and_done,
    streaming_without_include_usage_sends_no_usage_chunk,
    tool_definitions_calls_and_results_round_trip,
    streamed_tool_calls_arrive_as_openai_deltas,
    json_schema_mode_returns_the_json_as_content,
    embeddings_translate_or_are_refused_before_io,
    auth_failure_keeps_the_provider_status_in_openai_shape,
    provider_error_keeps_its_status_in_openai_shape,
    error_bodies_get_the_documented_openai_type_and_code,
    stream_error_before_content_falls_back_to_the_next_target,
    stream_error_after_a_role_only_chunk_still_falls_back,
    stream_error_after_content_ends_with_an_sse_error_event,
    config_target_fields_route_like_the_headers,
    retry_replays_the_translated_request_after_a_provider_error,
});

// Embeddings only: chat is refused before any I/O.
provider_tests!(nomic: Provider::Nomic => {
    embeddings_translate_or_are_refused_before_io,
});

// Predibase's answers are OpenAI-shaped; its address and `model` are its own. No embeddings.
provider_tests!(predibase: Provider::Predibase => {
    simple_chat_is_translated_both_ways,
    system_prompt_lands_where_the_provider_expects_it,
    streaming_yields_openai_chunks_usage_and_done,
    streaming_without_include_usage_sends_no_usage_chunk,
    tool_definitions_calls_and_results_round_trip,
    streamed_tool_calls_arrive_as_openai_deltas,
    image_data_url_becomes_the_provider_image_part,
    json_schema_mode_returns_the_json_as_content,
    embeddings_translate_or_are_refused_before_io,
    auth_failure_keeps_the_provider_status_in_openai_shape,
    provider_error_keeps_its_status_in_openai_shape,
    error_bodies_get_the_documented_openai_type_and_code,
    stream_error_before_content_falls_back_to_the_next_target,
    stream_error_after_a_role_only_chunk_still_falls_back,
    stream_error_after_content_ends_with_an_sse_error_event,
    config_target_fields_route_like_the_headers,
    retry_replays_the_translated_request_after_a_provider_error,
});

// OCI Generative AI: GENERIC-format chat, every request signed (the mock checks the signature
// verifies over what it received). No embeddings.
provider_tests!(oracle: Provider::Oracle => {
    simple_chat_is_translated_both_ways,
    system_prompt_lands_where_the_provider_expects_it,
    streaming_yields_openai_chunks_usage_and_done,
    streaming_without_include_usage_sends_no_usage_chunk,
    tool_definitions_calls_and_results_round_trip,
    streamed_tool_calls_arrive_as_openai_deltas,
    image_data_url_becomes_the_provider_image_part,
    json_schema_mode_returns_the_json_as_content,
    embeddings_translate_or_are_refused_before_io,
    auth_failure_keeps_the_provider_status_in_openai_shape,
    provider_error_keeps_its_status_in_openai_shape,
    error_bodies_get_the_documented_openai_type_and_code,
    stream_error_before_content_falls_back_to_the_next_target,
    stream_error_after_a_role_only_chunk_still_falls_back,
    stream_error_after_content_ends_with_an_sse_error_event,
    config_target_fields_route_like_the_headers,
    retry_replays_the_translated_request_after_a_provider_error,
});
