//! Gateway keys: the bearer keys clients send. The store keeps each one's SHA-256, never its text,
//! and keeps revoked keys (with `revoked_at`) so usage history still names them.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row as _;

use crate::crypto::new_id;
use crate::{conflict_or_db, db_err, json_text, json_value, now, KeyHash, Sets, Store, StoreError};

/// A gateway key as the gateway sees it. Carries no hash and no key text.
#[derive(Debug, Clone, Serialize)]
pub struct KeyRecord {
    pub id: String,
    pub name: String,
    pub team_id: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// A JSON object the gateway owns: models, rate_limits, usage_limits, metadata, config…
    pub settings: serde_json::Value,
}

/// A key to store; its text stays with the caller, only `hash` is kept.
#[derive(Debug)]
pub struct NewKey {
    pub name: String,
    pub hash: KeyHash,
    pub team_id: Option<String>,
    pub expires_at: Option<i64>,
    pub settings: serde_json::Value,
}

/// Fields to change; `None` leaves a field as it is (`Some(None)` clears an optional one).
#[derive(Debug, Default)]
pub struct KeyPatch {
    pub name: Option<String>,
    pub team_id: Option<Option<String>>,
    pub expires_at: Option<Option<i64>>,
    /// Replaces the whole settings object.
    pub settings: Option<serde_json::Value>,
}

const COLUMNS: &str = "id, name, team_id, created_at, expires_at, revoked_at, settings";

impl Store {
    /// Stores a new key with a generated `key_…` id. A `team_id` must name an existing team
    /// ([`StoreError::NotFound`] otherwise); the same hash twice is a [`StoreError::Conflict`].
    pub async fn insert_key(&self, k: NewKey) -> Result<KeyRecord, StoreError> {
        if let Some(team) = &k.team_id {
            self.require_team(team).await?;
        }
        let record = KeyRecord {
            id: new_id("key_")?,
            name: k.name,
            team_id: k.team_id,
            created_at: now(),
            expires_at: k.expires_at,
            revoked_at: None,
            settings: k.settings,
        };
        sqlx::query(
            "INSERT INTO gateway_keys (id, name, hash, team_id, created_at, expires_at, settings)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&record.id)
        .bind(&record.name)
        .bind(k.hash.0.to_vec())
        .bind(&record.team_id)
        .bind(record.created_at)
        .bind(record.expires_at)
        .bind(json_text(&record.settings)?)
        .execute(&self.pool)
        .await
        .map_err(|e| conflict_or_db(e, || "a key with this hash already exists".into()))?;
        Ok(record)
    }

    /// The key with this hash, revoked or expired ones included: the caller checks `revoked_at`
    /// and `expires_at`.
    pub async fn key_by_hash(&self, hash: &KeyHash) -> Result<Option<KeyRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM gateway_keys WHERE hash = $1");
        let row = sqlx::query(&sql)
            .bind(hash.0.to_vec())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(key_from_row).transpose()
    }

    pub async fn key(&self, id: &str) -> Result<Option<KeyRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM gateway_keys WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(key_from_row).transpose()
    }

    /// Every key (revoked ones included), or a team's, oldest first.
    pub async fn keys(&self, team_id: Option<&str>) -> Result<Vec<KeyRecord>, StoreError> {
        let rows = match team_id {
            Some(team) => {
                let sql =
                    format!("SELECT {COLUMNS} FROM gateway_keys WHERE team_id = $1 ORDER BY seq");
                sqlx::query(&sql).bind(team).fetch_all(&self.pool).await
            }
            None => {
                let sql = format!("SELECT {COLUMNS} FROM gateway_keys ORDER BY seq");
                sqlx::query(&sql).fetch_all(&self.pool).await
            }
        }
        .map_err(db_err)?;
        rows.iter().map(key_from_row).collect()
    }

    /// Changes the given fields only; `None` when there is no such key. A new `team_id` must name
    /// an existing team ([`StoreError::NotFound`] otherwise).
    pub async fn update_key(
        &self,
        id: &str,
        patch: KeyPatch,
    ) -> Result<Option<KeyRecord>, StoreError> {
        if let Some(Some(team)) = &patch.team_id {
            self.require_team(team).await?;
        }
        let mut sets = Sets::new(id)?;
        if let Some(name) = patch.name {
            sets.set("name", name)?;
        }
        if let Some(team_id) = patch.team_id {
            sets.set("team_id", team_id)?;
        }
        if let Some(expires_at) = patch.expires_at {
            sets.set("expires_at", expires_at)?;
        }
        if let Some(settings) = patch.settings {
            sets.set("settings", json_text(&settings)?)?;
        }
        let Some((assignments, args)) = sets.finish() else {
            return self.key(id).await;
        };
        let sql =
            format!("UPDATE gateway_keys SET {assignments} WHERE id = $1 RETURNING {COLUMNS}");
        let row = sqlx::query_with(&sql, args)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(key_from_row).transpose()
    }

    /// Marks the key revoked now (a key already revoked keeps its first `revoked_at`). The row
    /// stays, for usage history. `false` when there is no such key.
    pub async fn revoke_key(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE gateway_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
        )
        .bind(id)
        .bind(now())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }
}

fn key_from_row(row: &AnyRow) -> Result<KeyRecord, StoreError> {
    Ok(KeyRecord {
        id: row.try_get("id").map_err(db_err)?,
        name: row.try_get("name").map_err(db_err)?,
        team_id: row.try_get("team_id").map_err(db_err)?,
        created_at: row.try_get("created_at").map_err(db_err)?,
        expires_at: row.try_get("expires_at").map_err(db_err)?,
        revoked_at: row.try_get("revoked_at").map_err(db_err)?,
        settings: json_value(&row.try_get::<String, _>("settings").map_err(db_err)?)?,
    })
}
