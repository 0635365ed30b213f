//! `/admin/credentials`: virtual keys, provider credentials stored encrypted under a name that
//! requests use (`x-portkey-virtual-key: <name>`, or `virtual_key` in a Gateway Config).
//!
//! - `POST /admin/credentials` `{name, provider, api_key?, custom_host?, rate_limits?,
//!   usage_limits?, <provider options: aws_region, aws_secret_access_key,
//!   vertex_service_account_json, …>}` → 201. `name`: 1 to 64 of `A-Z a-z 0-9 . _ -`; a name
//!   the server file's `virtual_keys:` defines is a 409, as is one already stored.
//! - `GET /admin/credentials`: the server file's virtual keys (`"source": "file"`, read-only),
//!   then the database's (`"source": "database"`). `GET /admin/credentials/{name}` (or its id).
//! - `PATCH /admin/credentials/{name}`: members merged into the stored definition (`null`
//!   removes one; `provider` may change, `name` may not).
//! - `DELETE /admin/credentials/{name}` → `{"id", "name", "deleted": true}`.
//!
//! PATCH and DELETE of a file virtual key are a 409. No response carries a secret: a virtual key
//! is shown as its record (settings: `custom_host`, `rate_limits`, `usage_limits`) plus
//! `secret_fields`, the names of its secret members (`api_key`, provider options). A change is
//! used at once on this node; other nodes pick it up within `auth.reload_interval`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use http::{HeaderMap, StatusCode};
use serde_json::{json, Map, Value};
use switchyard_store::{CredentialPatch, CredentialRecord, NewCredential, StoreError};

use super::{
    admin, bad, conflict, invalid, json_object, list as list_of, not_found, record, reply,
    store_error, Fail, Reply,
};
use crate::governance::virtual_keys::{split, Source, VirtualKey};
use crate::http::server::App;

fn valid_name(n: &str) -> bool {
    (1..=64).contains(&n.len())
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The names of a stored secret's members, never their values.
fn secret_names(secret: &Value) -> Vec<String> {
    secret
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// The names of a loaded virtual key's secret members.
fn loaded_names(vk: &VirtualKey) -> Vec<String> {
    let api_key = vk.api_key.as_ref().map(|_| "api_key".to_owned());
    api_key
        .into_iter()
        .chain(vk.options.keys().cloned())
        .collect()
}

fn render_stored(r: &CredentialRecord, secret_fields: Vec<String>) -> Value {
    record(
        r,
        &[
            ("object", json!("credential")),
            ("source", json!("database")),
            ("read_only", json!(false)),
            ("secret_fields", json!(secret_fields)),
        ],
    )
}

fn render_file(vk: &VirtualKey) -> Value {
    let mut settings = vk.policy.to_value();
    if let (Some(h), Value::Object(m)) = (&vk.custom_host, &mut settings) {
        m.insert("custom_host".into(), json!(h));
    }
    json!({
        "object": "credential",
        "id": vk.id,
        "name": vk.name,
        "provider": vk.provider,
        "source": "file",
        "read_only": true,
        "settings": settings,
        "secret_fields": loaded_names(vk),
    })
}

fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        v => v,
    }
}

/// A flat definition checked: the (provider, secret, settings) to store, or a 400 naming the
/// field at fault.
fn check(app: &App, name: &str, def: &Map<String, Value>) -> Result<(String, Value, Value), Fail> {
    let (provider, secret, settings) = split(def).map_err(invalid)?;
    if app.config.providers.get(&provider).is_none() {
        return Err(bad(
            format!("provider: unknown provider `{provider}`"),
            Some("provider"),
        ));
    }
    let (secret, settings) = (without_nulls(secret), without_nulls(settings));
    VirtualKey::from_parts(
        String::new(),
        name.to_owned(),
        provider.clone(),
        &secret,
        &settings,
        Source::Database,
    )
    .map_err(invalid)?;
    Ok((provider, secret, settings))
}

fn read_only(name: &str) -> Fail {
    conflict(format!(
        "the virtual key `{name}` is defined in the server file, where it can be changed; the admin API can't"
    ))
}

/// Makes this node use the database's virtual keys as they are now.
async fn reload(app: &App) {
    if let Err(e) = app.governance.reload_virtual_keys().await {
        tracing::warn!(error = %e, "virtual keys could not be reloaded after an admin change");
    }
}

/// `POST /admin/credentials`.
pub async fn create(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Reply {
    let keys = admin(&app, &headers).await?;
    let mut def = json_object(&app, &headers, body).await?;
    let name = match def.remove("name") {
        Some(Value::String(n)) if valid_name(&n) => n,
        Some(Value::String(_)) => {
            return Err(bad(
                "name: must be 1 to 64 characters of A-Z, a-z, 0-9, `.`, `_` and `-`",
                Some("name"),
            ))
        }
        Some(_) => return Err(bad("name: must be a string", Some("name"))),
        None => return Err(bad("name: missing (the virtual key's name)", Some("name"))),
    };
    if app.governance.registry.in_file(&name) {
        return Err(conflict(format!(
            "the server file already defines a virtual key named `{name}`"
        )));
    }
    let (provider, secret, settings) = check(&app, &name, &def)?;
    let fields = secret_names(&secret);
    let new = NewCredential {
        name,
        provider,
        secret,
        settings,
    };
    let created = keys
        .store()
        .insert_credential(new)
        .await
        .map_err(store_error)?;
    reload(&app).await;
    Ok(reply(StatusCode::CREATED, &render_stored(&created, fields)))
}

/// `GET /admin/credentials`.
pub async fn list(State(app): State<Arc<App>>, headers: HeaderMap) -> Reply {
    let keys = admin(&app, &headers).await?;
    let mut file: Vec<&Arc<VirtualKey>> = app.config.governance.virtual_keys.values().collect();
    file.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    let mut data: Vec<Value> = file.into_iter().map(|vk| render_file(vk)).collect();
    let store = keys.store();
    match store.credentials_with_secrets().await {
        Ok(all) => data.extend(all.iter().map(|(r, s)| render_stored(r, secret_names(s)))),
        Err(StoreError::Crypto(e)) => {
            // One secret that does not decrypt fails the call: list the records, with the
            // secret members of the ones this node loaded.
            tracing::warn!(error = %e, "a stored virtual key's secret could not be decrypted");
            let registry = &app.governance.registry;
            for r in store.credentials().await.map_err(store_error)? {
                let names = registry
                    .get(&r.name)
                    .filter(|vk| vk.source == Source::Database)
                    .map(|vk| loaded_names(&vk))
                    .unwrap_or_default();
                data.push(render_stored(&r, names));
            }
        }
        Err(e) => return Err(store_error(e)),
    }
    Ok(list_of(data))
}

/// `GET /admin/credentials/{name}`.
pub async fn get(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Reply {
    let keys = admin(&app, &headers).await?;
    if let Some(vk) = app.config.governance.virtual_keys.get(&name) {
        return Ok(reply(StatusCode::OK, &render_file(vk)));
    }
    match keys
        .store()
        .credential_with_secret(&name)
        .await
        .map_err(store_error)?
    {
        Some((r, secret)) => Ok(reply(
            StatusCode::OK,
            &render_stored(&r, secret_names(&secret)),
        )),
        None => Err(not_found("virtual key", &name)),
    }
}

/// `PATCH /admin/credentials/{name}`.
pub async fn patch(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Reply {
    let keys = admin(&app, &headers).await?;
    if app.governance.registry.in_file(&name) {
        return Err(read_only(&name));
    }
    let changes = json_object(&app, &headers, body).await?;
    let store = keys.store();
    let Some((current, secret)) = store
        .credential_with_secret(&name)
        .await
        .map_err(store_error)?
    else {
        return Err(not_found("virtual key", &name));
    };
    // The stored definition, flat again, with the changes over it.
    let mut def = Map::new();
    def.insert("provider".into(), json!(current.provider));
    for part in [secret, current.settings.clone()] {
        if let Value::Object(m) = part {
            def.extend(m);
        }
    }
    for (k, v) in changes {
        if k == "name" {
            if v.as_str() != Some(current.name.as_str()) {
                return Err(bad(
                    "name: a virtual key can't be renamed; create one under the new name and delete this one",
                    Some("name"),
                ));
            }
            continue;
        }
        // A null stays until `check` (which drops it): an unknown member is still refused.
        def.insert(k, v);
    }
    let (provider, secret, settings) = check(&app, &current.name, &def)?;
    let fields = secret_names(&secret);
    let change = CredentialPatch {
        provider: Some(provider),
        secret: Some(secret),
        settings: Some(settings),
    };
    let Some(updated) = store
        .update_credential(&current.id, change)
        .await
        .map_err(store_error)?
    else {
        return Err(not_found("virtual key", &name));
    };
    reload(&app).await;
    Ok(reply(StatusCode::OK, &render_stored(&updated, fields)))
}

/// `DELETE /admin/credentials/{name}`.
pub async fn delete(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Reply {
    let keys = admin(&app, &headers).await?;
    if app.governance.registry.in_file(&name) {
        return Err(read_only(&name));
    }
    let store = keys.store();
    let Some(current) = store.credential(&name).await.map_err(store_error)? else {
        return Err(not_found("virtual key", &name));
    };
    if !store
        .delete_credential(&current.id)
        .await
        .map_err(store_error)?
    {
        return Err(not_found("virtual key", &name));
    }
    reload(&app).await;
    let body = json!({"id": current.id, "name": current.name, "deleted": true});
    Ok(reply(StatusCode::OK, &body))
}
