//! The request log through the admin API (admin key only; see `telemetry::request_log`):
//!
//! - `GET /admin/logs?key_id=&team_id=&provider=&model=&status=&error=&since=&until=&trace_id=&limit=&before=`
//!   → `{"object": "list", "data": [row…], "next": "<cursor>" | null}`, newest first. `status`
//!   is a status (`503`) or a class (`5xx`); `model` matches the model asked for or sent;
//!   `since`/`until` are unix milliseconds or a duration ago (`15m`, `2h`, `7d`); `limit` 1 to
//!   1000 (default 100); `before` is the `next` of the previous page.
//! - `GET /admin/analytics?bucket=minute|hour|day&group_by=provider|model|key&since=&until=` →
//!   `{"bucket", "group_by", "since", "until", "data": [{time, group, requests, errors, p50_ms,
//!   p95_ms, input_tokens, output_tokens, cost_usd}…]}` (default: hourly per provider over the
//!   last 24 hours; at most 10 000 buckets).
//!
//! A bad parameter is a 400 whose `param` names it.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use switchyard_store::{AnalyticsQuery, Bucket, GroupBy, LogFilter, StatusFilter};

use super::{admin, bad, query, record, reply, store_error, Fail, Reply};
use crate::http::server::App;
use crate::telemetry::request_log::now_ms;

/// The most rows one page holds.
const MAX_LIMIT: u32 = 1000;
/// The most analytics buckets one call spans.
const MAX_BUCKETS: i64 = 10_000;
/// A filter value's longest length.
const MAX_VALUE: usize = 512;

type Params = Vec<(String, String)>;

/// `GET /admin/logs`.
pub async fn logs(
    State(app): State<Arc<App>>,
    q: Result<Query<Params>, QueryRejection>,
    headers: HeaderMap,
) -> Reply {
    let keys = admin(&app, &headers).await?;
    let now = now_ms();
    let mut f = LogFilter::default();
    for (name, value) in query(q)? {
        let text = || -> Result<Option<String>, Fail> {
            if value.len() > MAX_VALUE {
                return Err(bad(
                    format!("{name}: longer than {MAX_VALUE} bytes"),
                    Some(&name),
                ));
            }
            Ok(Some(value.clone()))
        };
        match name.as_str() {
            "key_id" => f.key_id = text()?,
            "team_id" => f.team_id = text()?,
            "provider" => f.provider = text()?,
            "model" => f.model = text()?,
            "error" => f.error = text()?,
            "trace_id" => f.trace_id = text()?,
            "status" => f.status = Some(status(&value)?),
            "since" => f.since = Some(time(&name, &value, now)?),
            "until" => f.until = Some(time(&name, &value, now)?),
            "limit" => {
                f.limit = value
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        bad(format!("limit: must be 1 to {MAX_LIMIT}"), Some("limit"))
                    })?;
            }
            "before" => f.before = Some(cursor(&value)?),
            other => return Err(unknown(other, "key_id, team_id, provider, model, status, error, since, until, trace_id, limit, before")),
        }
    }
    let limit = if f.limit == 0 {
        LogFilter::DEFAULT_LIMIT
    } else {
        f.limit
    };
    let rows = keys.store().logs(&f).await.map_err(store_error)?;
    let next = match rows.last() {
        Some(last) if rows.len() == limit as usize => Value::String(last.cursor()),
        _ => Value::Null,
    };
    let data: Vec<Value> = rows.iter().map(|r| record(r, &[])).collect();
    Ok(reply(
        StatusCode::OK,
        &json!({"object": "list", "data": data, "next": next}),
    ))
}

/// `GET /admin/analytics`.
pub async fn analytics(
    State(app): State<Arc<App>>,
    q: Result<Query<Params>, QueryRejection>,
    headers: HeaderMap,
) -> Reply {
    let keys = admin(&app, &headers).await?;
    let now = now_ms();
    let (mut bucket, mut group_by, mut since, mut until) =
        (Bucket::Hour, GroupBy::Provider, None, None);
    for (name, value) in query(q)? {
        match name.as_str() {
            "bucket" => {
                bucket = match value.as_str() {
                    "minute" => Bucket::Minute,
                    "hour" => Bucket::Hour,
                    "day" => Bucket::Day,
                    _ => return Err(bad("bucket: must be minute, hour or day", Some("bucket"))),
                }
            }
            "group_by" => {
                group_by = match value.as_str() {
                    "provider" => GroupBy::Provider,
                    "model" => GroupBy::Model,
                    "key" => GroupBy::Key,
                    _ => {
                        return Err(bad(
                            "group_by: must be provider, model or key",
                            Some("group_by"),
                        ))
                    }
                }
            }
            "since" => since = Some(time(&name, &value, now)?),
            "until" => until = Some(time(&name, &value, now)?),
            other => return Err(unknown(other, "bucket, group_by, since, until")),
        }
    }
    let until = until.unwrap_or(now.saturating_add(1));
    let since = since.unwrap_or(until.saturating_sub(86_400_000));
    if since >= until {
        return Err(bad("since: must be before until", Some("since")));
    }
    if (until - since) / bucket.millis() > MAX_BUCKETS {
        return Err(bad(
            format!("since: the window spans more than {MAX_BUCKETS} buckets; use a larger bucket"),
            Some("since"),
        ));
    }
    let q = AnalyticsQuery {
        bucket,
        group_by,
        since,
        until,
    };
    let rows = keys.store().analytics(&q).await.map_err(store_error)?;
    let data: Vec<Value> = rows.iter().map(|r| record(r, &[])).collect();
    Ok(reply(
        StatusCode::OK,
        &json!({"bucket": bucket, "group_by": group_by, "since": since, "until": until, "data": data}),
    ))
}

fn unknown(name: &str, expected: &str) -> Fail {
    bad(
        format!("{name}: unknown parameter (expected {expected})"),
        Some(name),
    )
}

/// `503` or `5xx`.
fn status(v: &str) -> Result<StatusFilter, Fail> {
    let err = || {
        bad(
            "status: must be a status like 503 or a class like 5xx",
            Some("status"),
        )
    };
    let b = v.as_bytes();
    if b.len() != 3 || !(b'1'..=b'5').contains(&b[0]) {
        return Err(err());
    }
    if v[1..].eq_ignore_ascii_case("xx") {
        return Ok(StatusFilter::Class(b[0] - b'0'));
    }
    v.parse::<u16>().map(StatusFilter::Exact).map_err(|_| err())
}

/// Unix milliseconds, or a duration before `now` (`15m`, `2h`, `7d`).
fn time(name: &str, v: &str, now: i64) -> Result<i64, Fail> {
    let err = || {
        bad(
            format!("{name}: must be unix milliseconds or a duration ago like 15m, 2h or 7d"),
            Some(name),
        )
    };
    if let Ok(ms) = v.parse::<i64>() {
        return if ms >= 0 { Ok(ms) } else { Err(err()) };
    }
    let ago = match v.strip_suffix('d') {
        Some(days) => days
            .parse::<i64>()
            .ok()
            .and_then(|d| d.checked_mul(86_400_000)),
        None => crate::config::values::parse_duration(v)
            .ok()
            .and_then(|d| i64::try_from(d.as_millis()).ok()),
    };
    ago.map(|a| now.saturating_sub(a).max(0)).ok_or_else(err)
}

/// `<time>_<id>`.
fn cursor(v: &str) -> Result<(i64, i64), Fail> {
    v.split_once('_')
        .and_then(|(t, id)| Some((t.parse().ok()?, id.parse().ok()?)))
        .ok_or_else(|| {
            bad(
                "before: not a cursor from a previous page's `next`",
                Some("before"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_time_and_cursor_parse() {
        assert!(matches!(status("5xx"), Ok(StatusFilter::Class(5))));
        assert!(matches!(status("429"), Ok(StatusFilter::Exact(429))));
        for bad_status in ["5x", "600", "abc", "", "2XY"] {
            assert!(status(bad_status).is_err(), "{bad_status}");
        }
        assert_eq!(time("since", "1234", 10_000).ok(), Some(1234));
        assert_eq!(time("since", "2s", 10_000).ok(), Some(8_000));
        assert_eq!(time("since", "1d", 100_000_000).ok(), Some(13_600_000));
        assert!(time("since", "-5", 0).is_err());
        assert!(time("since", "soon", 0).is_err());
        assert_eq!(cursor("17_3").ok(), Some((17, 3)));
        assert!(cursor("17").is_err());
    }
}
