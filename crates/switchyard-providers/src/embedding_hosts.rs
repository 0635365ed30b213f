//! Embedding hosts whose API is OpenAI's with a few members named their own way: the client's
//! body is rewritten for them, member by member, and everything else is passed on as sent.
//!
//! - **Voyage** (<https://docs.voyageai.com/reference/embeddings-api>): OpenAI's `dimensions` is
//!   `output_dimension`; `encoding_format` is `null` (floats) or `"base64"`, so OpenAI's
//!   `"float"` is left out; `input_type` is `"query"` or `"document"`, and the names Cohere and
//!   Portkey users send (`search_query`, `search_document`) are mapped to them.
//! - **Jina** (<https://api.jina.ai/redoc#tag/embeddings>): takes `dimensions` and
//!   `encoding_format` as OpenAI does; the kind of input is its `task`
//!   (`retrieval.query`, `retrieval.passage`, `classification`, `separation`,
//!   `text-matching`), which an `input_type` in Cohere's or Voyage's words is mapped to.
//!
//! Any other host gets the body untouched (`rewrite` answers `None` without reading it).

use serde_json::{Map, Value};

use crate::native::TranslateError;

/// The body to send `slug`'s embeddings endpoint instead of `body`, or `None` to send `body`
/// as it is.
pub fn rewrite(slug: &str, body: &[u8]) -> Result<Option<Vec<u8>>, TranslateError> {
    let map: fn(&mut Map<String, Value>) -> Result<bool, TranslateError> = match slug {
        "voyage" => voyage,
        "jina" => jina,
        _ => return Ok(None),
    };
    let mut req: Map<String, Value> = serde_json::from_slice(body).map_err(|e| {
        TranslateError::invalid_request(format!("invalid embeddings request: {e}"), None)
    })?;
    if !map(&mut req)? {
        return Ok(None);
    }
    serde_json::to_vec(&req)
        .map(Some)
        .map_err(|e| TranslateError::InvalidResponse(format!("re-encoding the request: {e}")))
}

fn input_type(req: &Map<String, Value>) -> Result<Option<&str>, TranslateError> {
    match req.get("input_type") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(TranslateError::invalid_request(
            "`input_type` must be a string",
            Some("input_type"),
        )),
    }
}

fn voyage(req: &mut Map<String, Value>) -> Result<bool, TranslateError> {
    let mut changed = false;
    if let Some(d) = req.remove("dimensions") {
        if !req.contains_key("output_dimension") && !d.is_null() {
            req.insert("output_dimension".into(), d);
        }
        changed = true;
    }
    if req.get("encoding_format").and_then(Value::as_str) == Some("float") {
        req.remove("encoding_format");
        changed = true;
    }
    let mapped = match input_type(req)? {
        None | Some("query" | "document") => None,
        Some("search_query") => Some("query"),
        Some("search_document") => Some("document"),
        Some(other) => {
            return Err(TranslateError::invalid_request(
                format!("Voyage embeddings take input_type `query` or `document`, not `{other}`"),
                Some("input_type"),
            ))
        }
    };
    if let Some(m) = mapped {
        req.insert("input_type".into(), Value::String(m.into()));
        changed = true;
    }
    Ok(changed)
}

fn jina(req: &mut Map<String, Value>) -> Result<bool, TranslateError> {
    let Some(kind) = input_type(req)? else {
        return Ok(false);
    };
    let task = match kind {
        "search_query" | "query" => "retrieval.query",
        "search_document" | "document" => "retrieval.passage",
        "classification" => "classification",
        "clustering" => "separation",
        other => {
            return Err(TranslateError::invalid_request(
                format!(
                    "Jina embeddings have no task for input_type `{other}` (use search_query, \
                     search_document, classification or clustering, or Jina's own `task`)"
                ),
                Some("input_type"),
            ))
        }
    };
    req.remove("input_type");
    req.entry("task")
        .or_insert_with(|| Value::String(task.into()));
    Ok(true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::{json, Value};

    use super::*;

    fn sent(slug: &str, body: Value) -> Option<Value> {
        rewrite(slug, body.to_string().as_bytes())
            .unwrap()
            .map(|b| serde_json::from_slice(&b).unwrap())
    }

    #[test]
    fn voyage_gets_output_dimension_its_input_types_and_no_float_format() {
        let out = sent(
            "voyage",
            json!({"model": "voyage-3.5", "input": ["a"], "dimensions": 512,
                   "encoding_format": "float", "input_type": "search_document", "truncation": false}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"model": "voyage-3.5", "input": ["a"], "output_dimension": 512,
                   "input_type": "document", "truncation": false})
        );
        // base64 is Voyage's own value and passes.
        let b64 = json!({"model": "voyage-3.5", "input": "a", "encoding_format": "base64"});
        assert_eq!(sent("voyage", b64), None);
    }

    #[test]
    fn voyage_refuses_an_input_type_it_has_no_counterpart_for() {
        let e = rewrite(
            "voyage",
            br#"{"model":"voyage-3.5","input":"a","input_type":"clustering"}"#,
        )
        .unwrap_err();
        assert!(
            matches!(&e, TranslateError::InvalidRequest { param: Some(p), .. } if p == "input_type"),
            "{e:?}"
        );
    }

    #[test]
    fn jina_gets_its_task_from_input_type_and_a_task_sent_wins() {
        let out = sent(
            "jina",
            json!({"model": "jina-embeddings-v3", "input": ["a"], "input_type": "search_query", "dimensions": 256}),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"model": "jina-embeddings-v3", "input": ["a"], "task": "retrieval.query", "dimensions": 256})
        );
        let out = sent(
            "jina",
            json!({"model": "m", "input": "a", "input_type": "clustering", "task": "text-matching"}),
        )
        .unwrap();
        assert_eq!(out["task"], "text-matching");
        assert!(out.get("input_type").is_none());
        assert_eq!(sent("jina", json!({"model": "m", "input": "a"})), None);
    }

    #[test]
    fn other_hosts_are_not_read() {
        assert_eq!(rewrite("openai", b"not json").unwrap(), None);
    }
}
