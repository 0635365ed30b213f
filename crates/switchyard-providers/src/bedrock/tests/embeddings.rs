use super::*;
use switchyard_types::embeddings::EmbeddingsRequest;

fn emb(v: Value) -> EmbeddingsRequest {
    serde_json::from_value(v).unwrap()
}

#[test]
fn titan_embeddings_send_one_input_text_with_dimensions() {
    let c = cx_model("amazon.titan-embed-text-v2:0");
    let w = Bedrock
        .embeddings_request(
            &emb(json!({"model": "x", "input": "hello", "dimensions": 256})),
            &c,
        )
        .unwrap();
    assert_eq!(w.path, "/model/amazon.titan-embed-text-v2%3A0/invoke");
    let b: Value = serde_json::from_slice(&w.body).unwrap();
    assert_eq!(b, json!({"inputText": "hello", "dimensions": 256}));
    let w = Bedrock
        .embeddings_request(
            &emb(json!({"model": "x", "input": ["only"], "normalize": true})),
            &c,
        )
        .unwrap();
    let b: Value = serde_json::from_slice(&w.body).unwrap();
    assert_eq!(b, json!({"inputText": "only", "normalize": true}));
}

#[test]
fn titan_rejects_several_inputs_in_one_request() {
    let c = cx_model("amazon.titan-embed-text-v2:0");
    let r = Bedrock.embeddings_request(&emb(json!({"model": "x", "input": ["a", "b"]})), &c);
    assert!(
        matches!(r, Err(TranslateError::InvalidRequest { message, .. }) if message.contains("one input"))
    );
}

#[test]
fn cohere_embeddings_send_texts_as_search_documents() {
    let c = cx_model("cohere.embed-english-v3");
    let w = Bedrock
        .embeddings_request(&emb(json!({"model": "x", "input": ["a", "b"]})), &c)
        .unwrap();
    assert_eq!(w.path, "/model/cohere.embed-english-v3/invoke");
    let b: Value = serde_json::from_slice(&w.body).unwrap();
    assert_eq!(
        b,
        json!({"texts": ["a", "b"], "input_type": "search_document"})
    );
    let w = Bedrock
        .embeddings_request(
            &emb(json!({"model": "x", "input": "q", "input_type": "search_query", "dimensions": 512})),
            &cx_model("us.cohere.embed-v4:0"),
        )
        .unwrap();
    let b: Value = serde_json::from_slice(&w.body).unwrap();
    assert_eq!(
        b,
        json!({"texts": ["q"], "input_type": "search_query", "output_dimension": 512})
    );
}

#[test]
fn other_models_and_token_inputs_are_rejected() {
    let r = Bedrock.embeddings_request(
        &emb(json!({"model": "x", "input": "a"})),
        &cx_model("meta.llama3-70b-instruct-v1:0"),
    );
    assert!(
        matches!(r, Err(TranslateError::InvalidRequest { param: Some(p), .. }) if p == "model")
    );
    let r = Bedrock.embeddings_request(
        &emb(json!({"model": "x", "input": [1, 2, 3]})),
        &cx_model("amazon.titan-embed-text-v2:0"),
    );
    assert!(
        matches!(r, Err(TranslateError::InvalidRequest { param: Some(p), .. }) if p == "input")
    );
}

#[test]
fn titan_response_becomes_an_openai_list_with_token_count() {
    let c = cx_model("amazon.titan-embed-text-v2:0");
    let r = Bedrock
        .embeddings_response(
            include_bytes!("../../../fixtures/bedrock/embed_titan_response.json"),
            &c,
        )
        .unwrap();
    assert_eq!(r.object, "list");
    assert_eq!(r.model, "amazon.titan-embed-text-v2:0");
    assert_eq!(r.data.len(), 1);
    assert_eq!(r.data[0].object, "embedding");
    assert_eq!(r.data[0].embedding, vec![0.0123f32, -0.0456, 0.0789, 0.5]);
    assert_eq!((r.usage.prompt_tokens, r.usage.total_tokens), (7, 7));
}

#[test]
fn cohere_response_keeps_input_order() {
    let c = cx_model("cohere.embed-english-v3");
    let r = Bedrock
        .embeddings_response(
            include_bytes!("../../../fixtures/bedrock/embed_cohere_response.json"),
            &c,
        )
        .unwrap();
    assert_eq!(r.data.len(), 2);
    assert_eq!(r.data[1].index, 1);
    assert_eq!(r.data[1].embedding, vec![0.25, 0.5, -0.125]);
    assert_eq!(r.usage.prompt_tokens, 0);
    // The embedding_types shape.
    let r = Bedrock
        .embeddings_response(br#"{"embeddings":{"float":[[1.0,2.0]]},"id":"x"}"#, &c)
        .unwrap();
    assert_eq!(r.data[0].embedding, vec![1.0, 2.0]);
    assert!(matches!(
        Bedrock.embeddings_response(br#"{"embeddings":{"int8":[[1]]}}"#, &c),
        Err(TranslateError::InvalidResponse(_))
    ));
}
