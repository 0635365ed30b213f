//! `GET` and `DELETE /v1/responses/{id}`, `GET /v1/responses/{id}/input_items`: answered from
//! the gateway's store; an id it does not hold is passed on when the request routes to OpenAI
//! or Azure OpenAI (or through a config or virtual key), which keep the responses they wrote
//! themselves, and is a 404 otherwise.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{Method, StatusCode};
use serde_json::{json, Value};

use super::owner_of;
use switchyard_types::{ErrorEnvelope, ErrorKind};

use crate::error::{error_response, json_response, GatewayError};
use crate::http::headers::{CONFIG, PROVIDER, VIRTUAL_KEY};
use crate::http::server::App;

/// `GET` or `DELETE /v1/responses/{id}`.
pub async fn one(State(app): State<Arc<App>>, Path(id): Path<String>, req: Request) -> Response {
    let delete = req.method() == Method::DELETE;
    let key = id.clone();
    answer(app, &key, req, |state, owner| async move {
        if delete {
            let gone = state.delete(&id, owner.as_deref()).await?;
            Ok(gone.then(|| json!({"id": id, "object": "response.deleted", "deleted": true})))
        } else {
            let s = state.get(&id, owner.as_deref()).await?;
            Ok(s.map(|s| (*s.response).clone()))
        }
    })
    .await
}

/// `GET /v1/responses/{id}/input_items`: the request's input items, newest first as OpenAI
/// lists them (`order=asc` for oldest first).
pub async fn input_items(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let ascending = req
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "order=asc"));
    let key = id.clone();
    answer(app, &key, req, |state, owner| async move {
        let Some(s) = state.get(&id, owner.as_deref()).await? else {
            return Ok(None);
        };
        let mut items: Vec<Value> = (*s.input_items).clone();
        if !ascending {
            items.reverse();
        }
        let first = items.first().and_then(|i| i.get("id")).cloned();
        let last = items.last().and_then(|i| i.get("id")).cloned();
        Ok(Some(json!({
            "object": "list", "data": items, "first_id": first, "last_id": last, "has_more": false
        })))
    })
    .await
}

/// Authenticates, runs `found` on the store, and answers what it found — or passes the request
/// on to the provider it routes to.
async fn answer<F, Fut>(app: Arc<App>, id: &str, req: Request, found: F) -> Response
where
    F: FnOnce(Arc<super::Responses>, Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Option<Value>, GatewayError>>,
{
    let owner = match &app.governance.keys {
        Some(keys) => {
            // On a copy of the headers: a request passed on is authenticated again.
            let mut headers = req.headers().clone();
            match keys.authenticate(&mut headers).await {
                Ok(p) => owner_of(Some(&p)),
                Err(e) => return GatewayError::from(e).into_response(),
            }
        }
        None => None,
    };
    match found(app.responses.clone(), owner).await {
        Ok(Some(v)) => json_response(StatusCode::OK, Bytes::from(v.to_string())),
        Ok(None) => {
            // Only OpenAI's own API (or a config, which may route there) keeps responses the
            // gateway does not hold.
            let provider = req.headers().get(PROVIDER).map(|v| v.as_bytes());
            let to_openai = matches!(provider, Some(b"openai" | b"azure-openai"))
                || (provider.is_none()
                    && [CONFIG, VIRTUAL_KEY]
                        .iter()
                        .any(|h| req.headers().contains_key(*h)));
            if to_openai {
                crate::http::handlers::proxy(State(app), req).await
            } else {
                let e = ErrorEnvelope::new(
                    ErrorKind::NotFoundError,
                    format!("No response found with id '{id}'."),
                )
                .with_param("response_id");
                error_response(StatusCode::NOT_FOUND, &e)
            }
        }
        Err(e) => e.into_response(),
    }
}
