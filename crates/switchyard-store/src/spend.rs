//! Spend: cost, tokens and requests summed per (scope, id, period), one row each, incremented by
//! upserts. The gateway decides the scopes (`key`, `team`, `vk`) and periods (`2026-12-02`,
//! `2026-W49`, `2026-12`, `all`); the store only adds up.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Arguments as _, Row as _};

use crate::{db_err, now, Store, StoreError};

/// An amount to add to one (scope, id, period) row.
#[derive(Debug, Clone)]
pub struct SpendDelta {
    /// `"key"`, `"team"` or `"vk"`.
    pub scope: String,
    pub id: String,
    /// `"2026-12-02"`, `"2026-W49"`, `"2026-12"` or `"all"`.
    pub period: String,
    pub cost_usd: f64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub requests: i64,
}

/// Totals of one row.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Spend {
    pub cost_usd: f64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub requests: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SpendRow {
    pub scope: String,
    pub id: String,
    pub period: String,
    #[serde(flatten)]
    pub spend: Spend,
    /// Unix seconds of the last increment.
    pub updated_at: i64,
}

/// Which rows [`Store::usage`] returns: `None` matches anything.
#[derive(Debug, Clone, Default)]
pub struct UsageFilter {
    pub scope: Option<String>,
    pub id: Option<String>,
    pub period: Option<String>,
    /// At most this many rows; 0 means [`UsageFilter::DEFAULT_LIMIT`].
    pub limit: u32,
}

impl UsageFilter {
    pub const DEFAULT_LIMIT: u32 = 1000;
}

impl Store {
    /// Adds every delta to its row (created at zero when missing), all in one transaction.
    /// Deltas for the same row are summed first, and rows are written in a fixed order, so
    /// concurrent callers on PostgreSQL never deadlock and no increment is lost.
    pub async fn add_spend(&self, rows: &[SpendDelta]) -> Result<(), StoreError> {
        let mut merged: BTreeMap<(&str, &str, &str), Spend> = BTreeMap::new();
        for d in rows {
            let s = merged.entry((&d.scope, &d.id, &d.period)).or_default();
            s.cost_usd += d.cost_usd;
            s.input_tokens = s.input_tokens.saturating_add(d.input_tokens);
            s.output_tokens = s.output_tokens.saturating_add(d.output_tokens);
            s.requests = s.requests.saturating_add(d.requests);
        }
        if merged.is_empty() {
            return Ok(());
        }
        let now = now();
        let mut tx = self.write_tx().await?;
        for ((scope, id, period), s) in merged {
            sqlx::query(
                "INSERT INTO spend
                   (scope, id, period, cost_usd, input_tokens, output_tokens, requests, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (scope, id, period) DO UPDATE SET
                   cost_usd = spend.cost_usd + excluded.cost_usd,
                   input_tokens = spend.input_tokens + excluded.input_tokens,
                   output_tokens = spend.output_tokens + excluded.output_tokens,
                   requests = spend.requests + excluded.requests,
                   updated_at = excluded.updated_at",
            )
            .bind(scope)
            .bind(id)
            .bind(period)
            .bind(s.cost_usd)
            .bind(s.input_tokens)
            .bind(s.output_tokens)
            .bind(s.requests)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    /// The totals of one row; `None` when nothing was ever added to it.
    pub async fn spend(
        &self,
        scope: &str,
        id: &str,
        period: &str,
    ) -> Result<Option<Spend>, StoreError> {
        let row = sqlx::query(
            "SELECT scope, id, period, cost_usd, input_tokens, output_tokens, requests, updated_at
             FROM spend WHERE scope = $1 AND id = $2 AND period = $3",
        )
        .bind(scope)
        .bind(id)
        .bind(period)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(row.as_ref().map(spend_row).transpose()?.map(|r| r.spend))
    }

    /// Rows matching the filter, newest period first (periods compare as text, so within one kind
    /// of period — days, weeks or months — later sorts first; `all` sorts before them), then by
    /// scope and id.
    pub async fn usage(&self, f: &UsageFilter) -> Result<Vec<SpendRow>, StoreError> {
        let mut args = AnyArguments::default();
        let mut conditions = Vec::new();
        for (column, value) in [("scope", &f.scope), ("id", &f.id), ("period", &f.period)] {
            if let Some(value) = value {
                args.add(value.clone())
                    .map_err(|e| StoreError::Database(e.to_string()))?;
                conditions.push(format!("{column} = ${}", args.len()));
            }
        }
        let limit = if f.limit == 0 {
            UsageFilter::DEFAULT_LIMIT
        } else {
            f.limit
        };
        args.add(i64::from(limit))
            .map_err(|e| StoreError::Database(e.to_string()))?;
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT scope, id, period, cost_usd, input_tokens, output_tokens, requests, updated_at
             FROM spend {filter} ORDER BY period DESC, scope, id LIMIT ${}",
            args.len()
        );
        let rows = sqlx::query_with(&sql, args)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(spend_row).collect()
    }
}

fn spend_row(row: &AnyRow) -> Result<SpendRow, StoreError> {
    Ok(SpendRow {
        scope: row.try_get("scope").map_err(db_err)?,
        id: row.try_get("id").map_err(db_err)?,
        period: row.try_get("period").map_err(db_err)?,
        spend: Spend {
            cost_usd: row.try_get("cost_usd").map_err(db_err)?,
            input_tokens: row.try_get("input_tokens").map_err(db_err)?,
            output_tokens: row.try_get("output_tokens").map_err(db_err)?,
            requests: row.try_get("requests").map_err(db_err)?,
        },
        updated_at: row.try_get("updated_at").map_err(db_err)?,
    })
}
