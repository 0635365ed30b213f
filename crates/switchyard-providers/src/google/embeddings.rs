//! OpenAI embeddings ↔ Gemini API `batchEmbedContents` and Vertex AI `predict`.

use serde::Deserialize;
use serde_json::{json, Map, Value};
use switchyard_types::embeddings::{EmbeddingsRequest, EmbeddingsResponse};

use crate::native::TranslateError;

/// The input texts; token-array inputs and empty lists are refused.
fn texts(req: &EmbeddingsRequest) -> Result<Vec<&str>, TranslateError> {
    let texts = req.input.texts().ok_or_else(|| {
        TranslateError::invalid_request(
            "Gemini embeddings take text input, not token arrays",
            Some("input"),
        )
    })?;
    if texts.is_empty() {
        return Err(TranslateError::invalid_request(
            "input must not be empty",
            Some("input"),
        ));
    }
    Ok(texts)
}

/// The optional `task_type` member (`RETRIEVAL_QUERY`, `RETRIEVAL_DOCUMENT`, …).
fn task_type(req: &EmbeddingsRequest) -> Result<Option<&str>, TranslateError> {
    match req.extra.get("task_type") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(t)) => Ok(Some(t.as_str())),
        Some(_) => Err(TranslateError::invalid_request(
            "task_type must be a string",
            Some("task_type"),
        )),
    }
}

/// Gemini API `batchEmbedContents` body: one request per input.
pub(super) fn gemini_body(req: &EmbeddingsRequest, model: &str) -> Result<Value, TranslateError> {
    let task = task_type(req)?;
    let requests: Vec<Value> = texts(req)?
        .into_iter()
        .map(|text| {
            let mut r = Map::new();
            r.insert("model".into(), json!(format!("models/{model}")));
            r.insert("content".into(), json!({ "parts": [{ "text": text }] }));
            if let Some(d) = req.dimensions {
                r.insert("outputDimensionality".into(), json!(d));
            }
            if let Some(t) = task {
                r.insert("taskType".into(), json!(t));
            }
            Value::Object(r)
        })
        .collect();
    Ok(json!({ "requests": requests }))
}

/// Vertex AI `predict` body: `instances[{content, task_type}]`, `parameters`.
pub(super) fn vertex_body(req: &EmbeddingsRequest) -> Result<Value, TranslateError> {
    let task = task_type(req)?;
    let instances: Vec<Value> = texts(req)?
        .into_iter()
        .map(|text| match task {
            Some(t) => json!({ "content": text, "task_type": t }),
            None => json!({ "content": text }),
        })
        .collect();
    let mut body = Map::new();
    body.insert("instances".into(), Value::Array(instances));
    if let Some(d) = req.dimensions {
        body.insert("parameters".into(), json!({ "outputDimensionality": d }));
    }
    Ok(Value::Object(body))
}

#[derive(Deserialize)]
struct Values {
    #[serde(default)]
    values: Vec<f32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchEmbedResponse {
    #[serde(default)]
    embeddings: Vec<Values>,
    #[serde(default)]
    usage_metadata: Option<BatchUsage>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchUsage {
    #[serde(default)]
    prompt_token_count: u64,
}

fn decode<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, TranslateError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        TranslateError::InvalidResponse(format!("embeddings response is not JSON: {e}"))
    })?;
    if let Some(err) = value.get("error").filter(|e| e.is_object()) {
        let status = err
            .get("code")
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
            .filter(|c| *c >= 400)
            .unwrap_or(500);
        return Err(TranslateError::Upstream {
            status,
            error: super::response::google_error(status, err),
        });
    }
    serde_json::from_value(value).map_err(|e| {
        TranslateError::InvalidResponse(format!("unexpected embeddings response shape: {e}"))
    })
}

/// `{"embeddings":[{"values":[…]}]}` → OpenAI list. The Gemini API reports no token counts
/// for embeddings (unless it sends `usageMetadata`), so usage is 0 then.
pub(super) fn gemini_response(
    body: &[u8],
    model: &str,
) -> Result<EmbeddingsResponse, TranslateError> {
    let r: BatchEmbedResponse = decode(body)?;
    if r.embeddings.is_empty() {
        return Err(TranslateError::InvalidResponse(
            "Gemini batchEmbedContents response has no embeddings".into(),
        ));
    }
    let tokens = r.usage_metadata.map(|u| u.prompt_token_count).unwrap_or(0);
    let vectors = r.embeddings.into_iter().map(|e| e.values).collect();
    Ok(EmbeddingsResponse::from_vectors(model, vectors, tokens))
}

#[derive(Deserialize)]
struct PredictResponse {
    #[serde(default)]
    predictions: Vec<Prediction>,
}

#[derive(Deserialize)]
struct Prediction {
    embeddings: PredictionEmbeddings,
}

#[derive(Deserialize)]
struct PredictionEmbeddings {
    #[serde(default)]
    values: Vec<f32>,
    #[serde(default)]
    statistics: Option<Statistics>,
}

#[derive(Deserialize)]
struct Statistics {
    #[serde(default)]
    token_count: f64,
}

/// `{"predictions":[{"embeddings":{"values":[…],"statistics":{"token_count":N}}}]}` → OpenAI
/// list; usage is the sum of `token_count`.
pub(super) fn vertex_response(
    body: &[u8],
    model: &str,
) -> Result<EmbeddingsResponse, TranslateError> {
    let r: PredictResponse = decode(body)?;
    let mut tokens = 0u64;
    let mut vectors = Vec::with_capacity(r.predictions.len());
    for p in r.predictions {
        if let Some(s) = p.embeddings.statistics {
            tokens = tokens.saturating_add(s.token_count.max(0.0).round() as u64);
        }
        vectors.push(p.embeddings.values);
    }
    if vectors.is_empty() {
        return Err(TranslateError::InvalidResponse(
            "Vertex AI predict response has no predictions".into(),
        ));
    }
    Ok(EmbeddingsResponse::from_vectors(model, vectors, tokens))
}
