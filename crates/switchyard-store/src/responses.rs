//! Responses the gateway answered for OpenAI's Responses API (`POST /v1/responses` with
//! `store` on): what a later request's `previous_response_id` continues from, and what
//! `GET /v1/responses/{id}` returns. Each row keeps its own input items and its Response object;
//! a conversation is the chain of `previous_id`s.

use sqlx::any::AnyRow;
use sqlx::Row as _;

use crate::{db_err, Store, StoreError};

/// One stored response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// `resp_…`.
    pub id: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds after which the row is gone (never read, purged by [`Store::purge_responses`]).
    pub expires_at: i64,
    /// The response this one continued (`previous_response_id`).
    pub previous_id: Option<String>,
    /// Who may read it: the gateway key's id, or `None` when keys are off.
    pub owner: Option<String>,
    /// The request's input items (a JSON array).
    pub input_items: String,
    /// The Response object (JSON).
    pub response: String,
}

const COLUMNS: &str = "id, created_at, expires_at, previous_id, owner, input_items, response";

impl Store {
    /// Stores (or replaces) a response.
    pub async fn put_response(&self, r: &StoredResponse) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO responses (id, created_at, expires_at, previous_id, owner, input_items, response)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at,
               input_items = excluded.input_items, response = excluded.response",
        )
        .bind(&r.id)
        .bind(r.created_at)
        .bind(r.expires_at)
        .bind(&r.previous_id)
        .bind(&r.owner)
        .bind(&r.input_items)
        .bind(&r.response)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// The response `id`, unless it expired before `now` (unix seconds).
    pub async fn response(&self, id: &str, now: i64) -> Result<Option<StoredResponse>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM responses WHERE id = $1 AND expires_at > $2");
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(from_row).transpose()
    }

    /// Deletes the response `id`; whether there was one.
    pub async fn delete_response(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM responses WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes every response that expired before `now`; how many.
    pub async fn purge_responses(&self, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM responses WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}

fn from_row(row: &AnyRow) -> Result<StoredResponse, StoreError> {
    Ok(StoredResponse {
        id: row.try_get("id").map_err(db_err)?,
        created_at: row.try_get("created_at").map_err(db_err)?,
        expires_at: row.try_get("expires_at").map_err(db_err)?,
        previous_id: row.try_get("previous_id").map_err(db_err)?,
        owner: row.try_get("owner").map_err(db_err)?,
        input_items: row.try_get("input_items").map_err(db_err)?,
        response: row.try_get("response").map_err(db_err)?,
    })
}
