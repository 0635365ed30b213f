//! OpenAI embeddings -> Cohere `POST /v2/embed` (<https://docs.cohere.com/reference/embed>).

use serde_json::{json, Map, Value};
use switchyard_types::embeddings::{EmbeddingsRequest, EmbeddingsResponse};

use crate::native::{TranslateError, WireContext, WireRequest};

pub(super) fn request(
    req: &EmbeddingsRequest,
    cx: &WireContext<'_>,
) -> Result<WireRequest, TranslateError> {
    let texts = req.input.texts().ok_or_else(|| {
        TranslateError::invalid_request(
            "token-array inputs are not supported on Cohere; send text",
            Some("input"),
        )
    })?;
    if texts.is_empty() {
        return Err(TranslateError::invalid_request(
            "input must not be empty",
            Some("input"),
        ));
    }
    let mut b = Map::new();
    b.insert("model".into(), json!(cx.model));
    b.insert("texts".into(), json!(texts));
    b.insert(
        "input_type".into(),
        req.extra
            .get("input_type")
            .cloned()
            .unwrap_or_else(|| json!("search_document")),
    );
    b.insert("embedding_types".into(), json!(["float"]));
    if let Some(d) = req.dimensions {
        b.insert("output_dimension".into(), json!(d));
    }
    if let Some(t) = req.extra.get("truncate") {
        b.insert("truncate".into(), t.clone());
    }
    Ok(WireRequest {
        path: "/v2/embed".into(),
        headers: Vec::new(),
        body: serde_json::to_vec(&Value::Object(b))
            .map_err(|e| TranslateError::invalid_request(e.to_string(), None))?,
    })
}

fn floats(v: &Value) -> Option<Vec<f32>> {
    v.as_array()?
        .iter()
        .map(|x| x.as_f64().map(|f| f as f32))
        .collect()
}

pub(super) fn response(
    body: &[u8],
    cx: &WireContext<'_>,
) -> Result<EmbeddingsResponse, TranslateError> {
    let bad = |what: &str| TranslateError::InvalidResponse(format!("Cohere embed: {what}"));
    let v: Value = serde_json::from_slice(body).map_err(|e| bad(&e.to_string()))?;
    let list = match v.get("embeddings") {
        Some(Value::Object(o)) => o
            .get("float")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("`embeddings` has no `float` vectors"))?,
        // The v1 `embeddings_floats` shape.
        Some(Value::Array(a)) => a,
        _ => return Err(bad("no `embeddings` member")),
    };
    let vectors = list
        .iter()
        .map(floats)
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| bad("`embeddings.float` are not arrays of numbers"))?;
    let tokens = v
        .pointer("/meta/billed_units/input_tokens")
        .and_then(Value::as_f64)
        .filter(|n| n.is_finite() && *n >= 0.0)
        .map_or(0, |n| n.round() as u64);
    Ok(EmbeddingsResponse::from_vectors(cx.model, vectors, tokens))
}
