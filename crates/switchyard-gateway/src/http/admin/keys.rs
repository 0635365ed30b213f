//! `/admin/keys`: gateway keys.
//!
//! - `POST /admin/keys` `{name, team_id?, expires_at?, models?, providers?, routes?,
//!   virtual_keys?, rate_limits?, usage_limits?, metadata?, config?}` → 201, the record with the
//!   key's text in `key`: the only time it is shown (the database keeps its SHA-256).
//! - `GET /admin/keys[?team_id=…]` → `{"object": "list", "data": […]}` (revoked keys included);
//!   `GET /admin/keys/{id}`.
//! - `PATCH /admin/keys/{id}`: any subset of the fields. Settings members merge into the stored
//!   settings (`null` removes one); `team_id: null` takes the key out of its team and
//!   `expires_at: null` makes it never expire.
//! - `DELETE /admin/keys/{id}` → `{"id", "revoked": true}`: revoked, the record kept for usage
//!   history.
//!
//! `expires_at` is unix seconds. This node sees every change at once (its key cache is emptied);
//! other nodes within `auth.key_cache_ttl`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use switchyard_store::{generate_key, KeyPatch, KeyRecord, NewKey, StoreError};

use super::{
    admin, bad, json_object, list as list_of, merge_settings, not_found, query, record, reply,
    store_error, text, unknown, Fail, Reply, SETTINGS,
};
use crate::governance::period::now_secs;
use crate::http::server::App;

const FIELDS: &str = "name, team_id, expires_at, models, providers, routes, virtual_keys, \
                      rate_limits, usage_limits, metadata, config or guardrails";

/// A body's members, read and type-checked.
#[derive(Default)]
struct Fields {
    name: Option<String>,
    team_id: Option<Option<String>>,
    expires_at: Option<Option<i64>>,
    settings: Map<String, Value>,
}

fn fields(body: Map<String, Value>) -> Result<Fields, Fail> {
    let mut f = Fields::default();
    for (k, v) in body {
        match k.as_str() {
            "name" => f.name = Some(text(v, "name")?),
            "team_id" => {
                f.team_id = Some(match v {
                    Value::Null => None,
                    v => Some(text(v, "team_id")?),
                })
            }
            "expires_at" => {
                f.expires_at = Some(match v {
                    Value::Null => None,
                    Value::Number(n) if n.as_i64().is_some_and(|t| t > 0) => n.as_i64(),
                    _ => {
                        return Err(bad(
                            "expires_at: must be unix seconds (a positive integer) or null",
                            Some("expires_at"),
                        ))
                    }
                })
            }
            s if SETTINGS.contains(&s) => {
                f.settings.insert(k, v);
            }
            _ => return Err(unknown(&k, FIELDS)),
        }
    }
    Ok(f)
}

/// A key's record as the API shows it (never its text).
fn render(r: &KeyRecord) -> Value {
    record(
        r,
        &[
            ("object", json!("gateway_key")),
            ("revoked", json!(r.revoked_at.is_some())),
        ],
    )
}

/// A store error of a key's write: an unknown team is the caller's 400.
fn write_error(e: StoreError, team: Option<&str>) -> Fail {
    match (e, team) {
        (StoreError::NotFound, Some(t)) => bad(format!("team_id: no team `{t}`"), Some("team_id")),
        (e, _) => store_error(e),
    }
}

/// `POST /admin/keys`.
pub async fn create(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Reply {
    let keys = admin(&app, &headers).await?;
    let f = fields(json_object(&app, &headers, body).await?)?;
    let name = f
        .name
        .ok_or_else(|| bad("name: missing (a name for the key)", Some("name")))?;
    let team_id = f.team_id.flatten();
    let expires_at = f.expires_at.flatten();
    if expires_at.is_some_and(|t| t <= now_secs()) {
        return Err(bad("expires_at: must be in the future", Some("expires_at")));
    }
    let settings = merge_settings(&app.config, &json!({}), f.settings)?;
    let (text, hash) = generate_key().map_err(store_error)?;
    let new = NewKey {
        name,
        hash,
        team_id: team_id.clone(),
        expires_at,
        settings,
    };
    let created = keys
        .store()
        .insert_key(new)
        .await
        .map_err(|e| write_error(e, team_id.as_deref()))?;
    keys.forget_all();
    let mut shown = render(&created);
    if let Value::Object(m) = &mut shown {
        m.insert("key".into(), Value::String(text));
    }
    Ok(reply(StatusCode::CREATED, &shown))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    team_id: Option<String>,
}

/// `GET /admin/keys[?team_id=…]`.
pub async fn list(
    State(app): State<Arc<App>>,
    q: Result<Query<ListQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Reply {
    let keys = admin(&app, &headers).await?;
    let q = query(q)?;
    let all = keys
        .store()
        .keys(q.team_id.as_deref())
        .await
        .map_err(store_error)?;
    Ok(list_of(all.iter().map(render).collect()))
}

/// `GET /admin/keys/{id}`.
pub async fn get(State(app): State<Arc<App>>, Path(id): Path<String>, headers: HeaderMap) -> Reply {
    let keys = admin(&app, &headers).await?;
    match keys.store().key(&id).await.map_err(store_error)? {
        Some(r) => Ok(reply(StatusCode::OK, &render(&r))),
        None => Err(not_found("gateway key", &id)),
    }
}

/// `PATCH /admin/keys/{id}`.
pub async fn patch(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Reply {
    let keys = admin(&app, &headers).await?;
    let f = fields(json_object(&app, &headers, body).await?)?;
    let store = keys.store();
    let Some(current) = store.key(&id).await.map_err(store_error)? else {
        return Err(not_found("gateway key", &id));
    };
    let settings = if f.settings.is_empty() {
        None
    } else {
        Some(merge_settings(&app.config, &current.settings, f.settings)?)
    };
    let team = f.team_id.clone().flatten();
    let change = KeyPatch {
        name: f.name,
        team_id: f.team_id,
        expires_at: f.expires_at,
        settings,
    };
    let updated = store
        .update_key(&id, change)
        .await
        .map_err(|e| write_error(e, team.as_deref()))?;
    keys.forget_all();
    match updated {
        Some(r) => Ok(reply(StatusCode::OK, &render(&r))),
        None => Err(not_found("gateway key", &id)),
    }
}

/// `DELETE /admin/keys/{id}`: revokes the key.
pub async fn revoke(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Reply {
    let keys = admin(&app, &headers).await?;
    if !keys.store().revoke_key(&id).await.map_err(store_error)? {
        return Err(not_found("gateway key", &id));
    }
    keys.forget_all();
    Ok(reply(StatusCode::OK, &json!({"id": id, "revoked": true})))
}
