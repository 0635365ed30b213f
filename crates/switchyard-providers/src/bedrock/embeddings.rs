//! OpenAI embeddings -> Bedrock `InvokeModel` for Amazon Titan text embeddings and Cohere Embed.
//!
//! - Titan (<https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html>):
//!   `{inputText, dimensions?, normalize?}` -> `{embedding, inputTextTokenCount}`; one text per call.
//! - Cohere Embed (<https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed.html>):
//!   `{texts, input_type, truncate?, output_dimension?}` -> `{embeddings: [[..]]}` or
//!   `{embeddings: {float: [[..]]}}`; no token counts in the body.

use serde_json::{json, Map, Value};
use switchyard_types::embeddings::{EmbeddingsRequest, EmbeddingsResponse};

use super::encode_model_id;
use crate::native::{TranslateError, WireContext, WireRequest};

enum Family {
    Titan,
    Cohere,
}

fn family(model: &str) -> Option<Family> {
    // Model ids may be bare (`amazon.titan-embed-text-v2:0`), region-prefixed inference profiles
    // (`us.cohere.embed-v4:0`) or ARNs ending in either.
    if model.contains("amazon.titan-embed") {
        Some(Family::Titan)
    } else if model.contains("cohere.embed") {
        Some(Family::Cohere)
    } else {
        None
    }
}

pub(super) fn request(
    req: &EmbeddingsRequest,
    cx: &WireContext<'_>,
) -> Result<WireRequest, TranslateError> {
    let texts = req.input.texts().ok_or_else(|| {
        TranslateError::invalid_request(
            "token-array inputs are not supported on Bedrock; send text",
            Some("input"),
        )
    })?;
    let body = match family(cx.model) {
        Some(Family::Titan) => {
            let [text] = texts.as_slice() else {
                return Err(TranslateError::invalid_request(
                    format!(
                        "Titan text embeddings take one input per request, got {}; send one \
                         string per request",
                        texts.len()
                    ),
                    Some("input"),
                ));
            };
            let mut b = Map::new();
            b.insert("inputText".into(), json!(text));
            if let Some(d) = req.dimensions {
                b.insert("dimensions".into(), json!(d));
            }
            if let Some(n) = req.extra.get("normalize") {
                b.insert("normalize".into(), n.clone());
            }
            Value::Object(b)
        }
        Some(Family::Cohere) => {
            if texts.is_empty() {
                return Err(TranslateError::invalid_request(
                    "input must not be empty",
                    Some("input"),
                ));
            }
            let mut b = Map::new();
            b.insert("texts".into(), json!(texts));
            b.insert(
                "input_type".into(),
                req.extra
                    .get("input_type")
                    .cloned()
                    .unwrap_or_else(|| json!("search_document")),
            );
            if let Some(t) = req.extra.get("truncate") {
                b.insert("truncate".into(), t.clone());
            }
            if let Some(d) = req.dimensions {
                b.insert("output_dimension".into(), json!(d));
            }
            Value::Object(b)
        }
        None => {
            return Err(TranslateError::invalid_request(
                format!(
                    "embeddings on Bedrock support Amazon Titan text (amazon.titan-embed-*) and \
                     Cohere Embed (cohere.embed-*) models, not {:?}",
                    cx.model
                ),
                Some("model"),
            ))
        }
    };
    Ok(WireRequest {
        path: format!("/model/{}/invoke", encode_model_id(cx.model)),
        headers: vec![("accept".into(), "application/json".into())],
        body: serde_json::to_vec(&body)
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
    let bad = |what: &str| TranslateError::InvalidResponse(format!("Bedrock embeddings: {what}"));
    let v: Value = serde_json::from_slice(body).map_err(|e| bad(&e.to_string()))?;
    if let Some(e) = v.get("embedding") {
        let vector = floats(e).ok_or_else(|| bad("`embedding` is not an array of numbers"))?;
        let tokens = v
            .get("inputTextTokenCount")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        return Ok(EmbeddingsResponse::from_vectors(
            cx.model,
            vec![vector],
            tokens,
        ));
    }
    let list = match v.get("embeddings") {
        Some(Value::Array(a)) => a,
        Some(Value::Object(o)) => o
            .get("float")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("`embeddings` has no `float` vectors"))?,
        _ => return Err(bad("no `embedding` or `embeddings` member")),
    };
    let vectors = list
        .iter()
        .map(floats)
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| bad("`embeddings` are not arrays of numbers"))?;
    Ok(EmbeddingsResponse::from_vectors(cx.model, vectors, 0))
}
