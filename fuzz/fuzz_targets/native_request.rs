//! OpenAI chat and embeddings requests (any JSON the typed structs accept) through every native
//! adapter's `chat_request` / `embeddings_request`: Ok or Err, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_providers::native::{ProviderOptions, WireContext};
use switchyard_providers::{adapter, Native};
use switchyard_types::chat::ChatRequest;
use switchyard_types::embeddings::EmbeddingsRequest;

fuzz_target!(|data: &[u8]| {
    let chat = serde_json::from_slice::<ChatRequest>(data).ok();
    let embed = serde_json::from_slice::<EmbeddingsRequest>(data).ok();
    if chat.is_none() && embed.is_none() {
        return;
    }
    let mut options = ProviderOptions::new();
    options.insert("aws_region".into(), "us-east-1".into());
    options.insert("vertex_project_id".into(), "p".into());
    options.insert("vertex_region".into(), "us-central1".into());
    let model = chat
        .as_ref()
        .map(|c| c.model.as_str())
        .or(embed.as_ref().map(|e| e.model.as_str()))
        .unwrap_or("");
    let stream = chat.as_ref().is_some_and(ChatRequest::is_stream);
    let include_usage = chat.as_ref().is_some_and(ChatRequest::include_usage);
    let cx = WireContext {
        model,
        stream,
        include_usage,
        response_id: "chatcmpl-fuzz",
        created: 0,
        options: &options,
    };
    for native in [
        Native::Anthropic,
        Native::Google,
        Native::VertexAi,
        Native::Bedrock,
        Native::Cohere,
    ] {
        for m in [model, "claude-sonnet-4-5"] {
            let Ok((a, m)) = adapter(native, m) else {
                continue;
            };
            let cx = WireContext {
                model: m,
                ..cx.clone()
            };
            if let Some(req) = &chat {
                if let Ok(wire) = a.chat_request(req, &cx) {
                    assert!(wire.path.starts_with('/'), "path {:?}", wire.path);
                    serde_json::from_slice::<serde_json::Value>(&wire.body)
                        .expect("wire body is JSON");
                }
            }
            if let Some(req) = &embed {
                let _ = a.embeddings_request(req, &cx);
            }
        }
    }
});
