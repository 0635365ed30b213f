//! Rerank (`POST /v1/rerank`) in Cohere's v2 shape, for every catalogue host whose published
//! API has a rerank endpoint. Pure: a typed request in, wire bytes out, and back.
//!
//! | Host | Endpoint | Request | Response |
//! |---|---|---|---|
//! | Cohere (native adapter) | `/v2/rerank` | as is | as is |
//! | Jina, Together | `{base}/rerank` | as is, `return_documents` made explicit | `id`/`meta` added, `usage` kept |
//! | Voyage | `{base}/rerank` | `top_n` → `top_k`, documents as strings | `data` → `results`, `document` string → `{text}` |
//! | Fireworks | `{base}/rerank` | documents as strings | as Voyage |
//!
//! Cohere's `return_documents` defaults to `false`; Jina's and Fireworks' to `true`. Every
//! host but Cohere is sent the client's value or `false`, so the answer is the same wherever
//! it is served. A parameter a host has no equivalent for (`max_tokens_per_doc`, `rank_fields`
//! on Voyage and Fireworks) is refused before any I/O rather than silently dropped, so a
//! fallback can move on to a host that honours it.

use serde::Deserialize;
use serde_json::{Map, Value};
use switchyard_types::chat::{ChatRequest, ChatResponse};
use switchyard_types::rerank::{
    RerankMeta, RerankRequest, RerankResponse, RerankResult, RerankUsage, ResultDocument, Units,
};
use switchyard_types::{ErrorEnvelope, ErrorKind};

use crate::native::{
    ChunkTranslator, NativeAdapter, ProviderOptions, TranslateError, WireContext, WireRequest,
};

/// How a host's rerank API differs from Cohere's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Cohere's own API: request and answer pass as they are.
    Cohere,
    /// Cohere's request; an answer with `results` but maybe no `id` or `meta` (Jina, Together).
    CohereLike,
    /// `top_k`, string documents; an answer with `data` (Voyage).
    Voyage,
    /// String documents; an answer with `data` and string documents (Fireworks).
    Fireworks,
}

/// The rerank "adapter" of an OpenAI-compatible host with a rerank endpoint. The gateway
/// builds the URL from the catalogue (`{base}{prefix}/rerank`); only the bodies and errors are
/// translated here.
#[derive(Debug)]
pub struct RerankHost {
    pub dialect: Dialect,
    /// The host's name, for messages.
    pub name: &'static str,
}

pub static JINA: RerankHost = RerankHost {
    dialect: Dialect::CohereLike,
    name: "Jina",
};
pub static TOGETHER: RerankHost = RerankHost {
    dialect: Dialect::CohereLike,
    name: "Together",
};
pub static VOYAGE: RerankHost = RerankHost {
    dialect: Dialect::Voyage,
    name: "Voyage",
};
pub static FIREWORKS: RerankHost = RerankHost {
    dialect: Dialect::Fireworks,
    name: "Fireworks",
};

/// The rerank adapter of an OpenAI-compatible catalogue row, by slug; `None` when the host has
/// no rerank API this gateway knows.
pub fn host(slug: &str) -> Option<&'static RerankHost> {
    match slug {
        "jina" => Some(&JINA),
        "together-ai" => Some(&TOGETHER),
        "voyage" => Some(&VOYAGE),
        "fireworks-ai" => Some(&FIREWORKS),
        _ => None,
    }
}

/// The body to send `dialect`'s host for `req`, with `model` as the model.
pub fn request_body(
    dialect: Dialect,
    req: &RerankRequest,
    model: &str,
    host: &str,
) -> Result<Vec<u8>, TranslateError> {
    if model.is_empty() {
        return Err(TranslateError::invalid_request(
            "a rerank model is required",
            Some("model"),
        ));
    }
    let mut req = req.clone();
    req.model = model.to_owned();
    let value = match dialect {
        Dialect::Cohere => to_value(&req)?,
        Dialect::CohereLike => {
            req.return_documents = Some(req.return_documents.unwrap_or(false));
            to_value(&req)?
        }
        Dialect::Voyage | Dialect::Fireworks => list_request(dialect, req, host)?,
    };
    serde_json::to_vec(&value).map_err(|e| TranslateError::invalid_request(e.to_string(), None))
}

fn to_value(req: &RerankRequest) -> Result<Value, TranslateError> {
    serde_json::to_value(req).map_err(|e| TranslateError::invalid_request(e.to_string(), None))
}

/// Voyage's and Fireworks' request: string documents, and (Voyage) `top_k`.
fn list_request(dialect: Dialect, req: RerankRequest, host: &str) -> Result<Value, TranslateError> {
    let unsupported = |param: &str, hint: &str| {
        TranslateError::invalid_request(
            format!("{host} rerank does not support `{param}`{hint}"),
            Some(param),
        )
    };
    if req.max_tokens_per_doc.is_some() {
        let hint = match dialect {
            Dialect::Voyage => " (it truncates long documents itself; see `truncation`)",
            _ => "",
        };
        return Err(unsupported("max_tokens_per_doc", hint));
    }
    if req.rank_fields.is_some() {
        return Err(unsupported(
            "rank_fields",
            ": send each document as a string",
        ));
    }
    let mut documents = Vec::with_capacity(req.documents.len());
    for (i, d) in req.documents.iter().enumerate() {
        let text = d.plain_text().ok_or_else(|| {
            TranslateError::invalid_request(
                format!(
                    "{host} rerank takes text documents: send a string or {{\"text\": …}} at documents[{i}]"
                ),
                Some("documents"),
            )
        })?;
        documents.push(Value::String(text.to_owned()));
    }
    // The client's other members go along (Voyage's `truncation`, Fireworks' `task`).
    let mut out = req.extra;
    out.insert("model".into(), Value::String(req.model));
    out.insert("query".into(), Value::String(req.query));
    out.insert("documents".into(), Value::Array(documents));
    if let Some(n) = req.top_n {
        let key = match dialect {
            Dialect::Voyage => "top_k",
            _ => "top_n",
        };
        out.insert(key.into(), Value::from(n));
    }
    out.insert(
        "return_documents".into(),
        Value::Bool(req.return_documents.unwrap_or(false)),
    );
    Ok(Value::Object(out))
}

/// A `results`-shaped answer (Cohere, Jina, Together).
#[derive(Deserialize)]
struct ResultsAnswer {
    #[serde(default)]
    id: Option<String>,
    results: Vec<RerankResult>,
    #[serde(default)]
    meta: Option<RerankMeta>,
    #[serde(default)]
    usage: Option<RerankUsage>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// A `data`-shaped answer (Voyage, Fireworks).
#[derive(Deserialize)]
struct ListAnswer {
    data: Vec<ListItem>,
    #[serde(default)]
    usage: Option<RerankUsage>,
    #[serde(default)]
    model: Option<Value>,
}

#[derive(Deserialize)]
struct ListItem {
    index: u64,
    relevance_score: f64,
    #[serde(default)]
    document: Option<ListDocument>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ListDocument {
    Text(String),
    Object(ResultDocument),
}

/// `dialect`'s 2xx answer in Cohere's shape. `id` names an answer that has none.
pub fn response(dialect: Dialect, body: &[u8], id: &str) -> Result<RerankResponse, TranslateError> {
    if body.trim_ascii_start().starts_with(b"{\"error\"") {
        if let Some(error) = ErrorEnvelope::from_upstream(body) {
            return Err(TranslateError::Upstream { status: 502, error });
        }
    }
    let invalid =
        |e: serde_json::Error| TranslateError::InvalidResponse(format!("not a rerank answer: {e}"));
    match dialect {
        Dialect::Cohere | Dialect::CohereLike => {
            let a: ResultsAnswer = serde_json::from_slice(body).map_err(invalid)?;
            let meta = a.meta.or_else(|| meta_from(a.usage.as_ref()));
            Ok(RerankResponse {
                id: a.id.unwrap_or_else(|| id.to_owned()),
                results: a.results,
                meta,
                usage: a.usage,
                extra: a.extra,
            })
        }
        Dialect::Voyage | Dialect::Fireworks => {
            let a: ListAnswer = serde_json::from_slice(body).map_err(invalid)?;
            let results = a
                .data
                .into_iter()
                .map(|item| RerankResult {
                    index: item.index,
                    relevance_score: item.relevance_score,
                    document: item.document.map(|d| match d {
                        ListDocument::Text(text) => ResultDocument {
                            text: Some(text),
                            extra: Map::new(),
                        },
                        ListDocument::Object(o) => o,
                    }),
                })
                .collect();
            let mut extra = Map::new();
            if let Some(model) = a.model {
                extra.insert("model".into(), model);
            }
            Ok(RerankResponse {
                id: id.to_owned(),
                results,
                meta: meta_from(a.usage.as_ref()),
                usage: a.usage,
                extra,
            })
        }
    }
}

/// Cohere's `meta` for a host that reports tokens instead: `billed_units.input_tokens`.
fn meta_from(usage: Option<&RerankUsage>) -> Option<RerankMeta> {
    let input = usage?.input_tokens()?;
    Some(RerankMeta {
        billed_units: Some(Units {
            input_tokens: Some(input.into()),
            ..Units::default()
        }),
        ..RerankMeta::default()
    })
}

/// A rerank host's error body as an OpenAI error: an OpenAI or Cohere error object
/// (`{"error": …}`, `{"message": …}`), or FastAPI's `{"detail": …}` (Voyage, Jina).
pub fn error_response(status: u16, body: &[u8]) -> ErrorEnvelope {
    if let Some(e) = ErrorEnvelope::from_upstream(body) {
        if !e.error.message.is_empty() {
            return e;
        }
    }
    #[derive(Deserialize)]
    struct Detail {
        detail: Value,
    }
    let message = match serde_json::from_slice::<Detail>(body).map(|d| d.detail) {
        Ok(Value::String(s)) => s,
        Ok(Value::Array(items)) => items
            .iter()
            .map(|i| match i.get("msg").and_then(Value::as_str) {
                Some(m) => m.to_owned(),
                None => i.to_string(),
            })
            .collect::<Vec<_>>()
            .join("; "),
        Ok(other) => other.to_string(),
        Err(_) => {
            let text = String::from_utf8_lossy(&body[..body.len().min(512)])
                .trim()
                .to_owned();
            if text.is_empty() {
                format!("upstream returned HTTP {status}")
            } else {
                format!("upstream returned HTTP {status}: {text}")
            }
        }
    };
    ErrorEnvelope::new(ErrorKind::for_status(status), message)
}

impl RerankHost {
    fn no_chat(&self) -> TranslateError {
        TranslateError::invalid_request(
            format!("{} is reached here for rerank only", self.name),
            None,
        )
    }
}

impl NativeAdapter for RerankHost {
    fn base_url(&self, _options: &ProviderOptions) -> Result<String, TranslateError> {
        Err(TranslateError::invalid_request(
            "an OpenAI-compatible host's URL comes from the catalogue",
            None,
        ))
    }

    fn chat_request(
        &self,
        _req: &ChatRequest,
        _cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        Err(self.no_chat())
    }

    fn chat_response(
        &self,
        _body: &[u8],
        _cx: &WireContext<'_>,
    ) -> Result<ChatResponse, TranslateError> {
        Err(self.no_chat())
    }

    fn chat_stream(&self, cx: &WireContext<'_>) -> Box<dyn ChunkTranslator> {
        // Never asked for: rerank does not stream.
        crate::dialect::openai::OPENAI_SHAPE.chat_stream(cx)
    }

    fn rerank_request(
        &self,
        req: &RerankRequest,
        cx: &WireContext<'_>,
    ) -> Result<WireRequest, TranslateError> {
        Ok(WireRequest {
            path: "/rerank".into(),
            headers: Vec::new(),
            body: request_body(self.dialect, req, cx.model, self.name)?,
        })
    }

    fn rerank_response(
        &self,
        body: &[u8],
        cx: &WireContext<'_>,
    ) -> Result<RerankResponse, TranslateError> {
        response(self.dialect, body, cx.response_id)
    }

    fn error_response(&self, status: u16, body: &[u8]) -> ErrorEnvelope {
        error_response(status, body)
    }
}

#[cfg(test)]
mod tests;
