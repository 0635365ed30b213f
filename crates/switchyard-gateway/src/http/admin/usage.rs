//! `GET /admin/usage[?scope=key|team|vk&id=…&period=YYYY-MM-DD&limit=N]` →
//! `{"object": "list", "data": [{scope, id, period, cost_usd, input_tokens, output_tokens,
//! requests, updated_at}…]}`: spend per key, team and virtual key (`vk`) and day, newest first
//! (`limit`: 1 to 10000, default 1000).
//!
//! With the admin key: any rows. With an ordinary gateway key: its own rows only (`scope=key`,
//! `id=<its id>`, which are implied); asking for anything else is a 403.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use http::HeaderMap;
use serde::Deserialize;
use switchyard_store::UsageFilter;

use super::{bad, caller, fail, list, query, record, store_error, Caller, Reply};
use crate::governance::GovernanceError;
use crate::http::server::App;

/// The most rows one call returns.
const MAX_LIMIT: u32 = 10_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageQuery {
    scope: Option<String>,
    id: Option<String>,
    period: Option<String>,
    limit: Option<u32>,
}

/// `GET /admin/usage`.
pub async fn usage(
    State(app): State<Arc<App>>,
    q: Result<Query<UsageQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Reply {
    let (who, keys) = caller(&app, &headers).await?;
    let q = query(q)?;
    if q.scope
        .as_deref()
        .is_some_and(|s| !matches!(s, "key" | "team" | "vk"))
    {
        return Err(bad("scope: must be key, team or vk", Some("scope")));
    }
    let period_ok = |p: &str| {
        (1..=16).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if q.period.as_deref().is_some_and(|p| !period_ok(p)) {
        return Err(bad("period: must be a day (YYYY-MM-DD)", Some("period")));
    }
    let limit = match q.limit {
        None => 0,
        Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            return Err(bad(
                format!("limit: must be 1 to {MAX_LIMIT}"),
                Some("limit"),
            ))
        }
    };
    let mut filter = UsageFilter {
        scope: q.scope,
        id: q.id,
        period: q.period,
        limit,
    };
    if let Caller::Key(k) = who {
        // An ordinary key reads its own rows, and nothing else.
        let other_scope = filter.scope.as_deref().is_some_and(|s| s != "key");
        let other_id = filter.id.as_deref().is_some_and(|i| i != k.id);
        if other_scope || other_id {
            return Err(fail(GovernanceError::AdminOnly));
        }
        filter.scope = Some("key".into());
        filter.id = Some(k.id.clone());
    }
    let rows = keys.store().usage(&filter).await.map_err(store_error)?;
    Ok(list(rows.iter().map(|r| record(r, &[])).collect()))
}
