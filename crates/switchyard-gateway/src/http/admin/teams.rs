//! `/admin/teams`: teams, groups of gateway keys that share settings (access globs, rate limits,
//! a budget) on top of each key's own.
//!
//! - `POST /admin/teams` `{name, models?, providers?, routes?, virtual_keys?, rate_limits?,
//!   usage_limits?, metadata?, config?}` → 201, the record.
//! - `GET /admin/teams`, `GET /admin/teams/{id}`.
//! - `PATCH /admin/teams/{id}`: `name` and settings members, merged into the stored settings
//!   (`null` removes one).
//! - `DELETE /admin/teams/{id}` → `{"id", "deleted": true}`; 409 while keys that are not revoked
//!   belong to it.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use http::{HeaderMap, StatusCode};
use serde_json::{json, Map, Value};
use switchyard_store::{NewTeam, StoreError, TeamPatch, TeamRecord};

use super::{
    admin, bad, conflict, json_object, list as list_of, merge_settings, not_found, record, reply,
    store_error, text, unknown, Fail, Reply, SETTINGS,
};
use crate::http::server::App;

const FIELDS: &str = "name, models, providers, routes, virtual_keys, rate_limits, \
                      usage_limits, metadata, config or guardrails";

/// A body's name and settings members.
fn fields(body: Map<String, Value>) -> Result<(Option<String>, Map<String, Value>), Fail> {
    let (mut name, mut settings) = (None, Map::new());
    for (k, v) in body {
        match k.as_str() {
            "name" => name = Some(text(v, "name")?),
            s if SETTINGS.contains(&s) => {
                settings.insert(k, v);
            }
            _ => return Err(unknown(&k, FIELDS)),
        }
    }
    Ok((name, settings))
}

fn render(t: &TeamRecord) -> Value {
    record(t, &[("object", json!("team"))])
}

/// `POST /admin/teams`.
pub async fn create(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Reply {
    let keys = admin(&app, &headers).await?;
    let (name, settings) = fields(json_object(&app, &headers, body).await?)?;
    let name = name.ok_or_else(|| bad("name: missing (a name for the team)", Some("name")))?;
    let settings = merge_settings(&app.config, &json!({}), settings)?;
    let team = keys
        .store()
        .insert_team(NewTeam { name, settings })
        .await
        .map_err(store_error)?;
    Ok(reply(StatusCode::CREATED, &render(&team)))
}

/// `GET /admin/teams`.
pub async fn list(State(app): State<Arc<App>>, headers: HeaderMap) -> Reply {
    let keys = admin(&app, &headers).await?;
    let teams = keys.store().teams().await.map_err(store_error)?;
    Ok(list_of(teams.iter().map(render).collect()))
}

/// `GET /admin/teams/{id}`.
pub async fn get(State(app): State<Arc<App>>, Path(id): Path<String>, headers: HeaderMap) -> Reply {
    let keys = admin(&app, &headers).await?;
    match keys.store().team(&id).await.map_err(store_error)? {
        Some(t) => Ok(reply(StatusCode::OK, &render(&t))),
        None => Err(not_found("team", &id)),
    }
}

/// `PATCH /admin/teams/{id}`.
pub async fn patch(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Reply {
    let keys = admin(&app, &headers).await?;
    let (name, changes) = fields(json_object(&app, &headers, body).await?)?;
    let store = keys.store();
    let Some(current) = store.team(&id).await.map_err(store_error)? else {
        return Err(not_found("team", &id));
    };
    let settings = if changes.is_empty() {
        None
    } else {
        Some(merge_settings(&app.config, &current.settings, changes)?)
    };
    let updated = store
        .update_team(&id, TeamPatch { name, settings })
        .await
        .map_err(store_error)?;
    // Keys carry their team's settings: this node reads them again.
    keys.forget_all();
    match updated {
        Some(t) => Ok(reply(StatusCode::OK, &render(&t))),
        None => Err(not_found("team", &id)),
    }
}

/// `DELETE /admin/teams/{id}`.
pub async fn delete(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Reply {
    let keys = admin(&app, &headers).await?;
    match keys.store().delete_team(&id).await {
        Ok(true) => {
            keys.forget_all();
            Ok(reply(StatusCode::OK, &json!({"id": id, "deleted": true})))
        }
        Ok(false) => Err(not_found("team", &id)),
        Err(StoreError::Conflict(m)) => Err(conflict(m)),
        Err(e) => Err(store_error(e)),
    }
}
