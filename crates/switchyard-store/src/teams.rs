//! Teams: groups of gateway keys sharing settings and a budget. Names need not be unique.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row as _;

use crate::crypto::new_id;
use crate::{db_err, json_text, json_value, now, Sets, Store, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct TeamRecord {
    pub id: String,
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    /// A JSON object the gateway owns.
    pub settings: serde_json::Value,
}

#[derive(Debug)]
pub struct NewTeam {
    pub name: String,
    pub settings: serde_json::Value,
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct TeamPatch {
    pub name: Option<String>,
    /// Replaces the whole settings object.
    pub settings: Option<serde_json::Value>,
}

const COLUMNS: &str = "id, name, created_at, settings";

impl Store {
    /// Stores a new team with a generated `team_…` id.
    pub async fn insert_team(&self, t: NewTeam) -> Result<TeamRecord, StoreError> {
        let record = TeamRecord {
            id: new_id("team_")?,
            name: t.name,
            created_at: now(),
            settings: t.settings,
        };
        sqlx::query("INSERT INTO teams (id, name, created_at, settings) VALUES ($1, $2, $3, $4)")
            .bind(&record.id)
            .bind(&record.name)
            .bind(record.created_at)
            .bind(json_text(&record.settings)?)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(record)
    }

    pub async fn team(&self, id: &str) -> Result<Option<TeamRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM teams WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(team_from_row).transpose()
    }

    /// Every team, oldest first.
    pub async fn teams(&self) -> Result<Vec<TeamRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM teams ORDER BY seq");
        let rows = sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(team_from_row).collect()
    }

    /// Changes the given fields only; `None` when there is no such team.
    pub async fn update_team(
        &self,
        id: &str,
        patch: TeamPatch,
    ) -> Result<Option<TeamRecord>, StoreError> {
        let mut sets = Sets::new(id)?;
        if let Some(name) = patch.name {
            sets.set("name", name)?;
        }
        if let Some(settings) = patch.settings {
            sets.set("settings", json_text(&settings)?)?;
        }
        let Some((assignments, args)) = sets.finish() else {
            return self.team(id).await;
        };
        let sql = format!("UPDATE teams SET {assignments} WHERE id = $1 RETURNING {COLUMNS}");
        let row = sqlx::query_with(&sql, args)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(team_from_row).transpose()
    }

    /// Deletes the team; `false` when there is none. A team that unrevoked keys still belong to
    /// is not deleted ([`StoreError::Conflict`]); revoked keys keep naming it.
    pub async fn delete_team(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "DELETE FROM teams WHERE id = $1 AND NOT EXISTS
               (SELECT 1 FROM gateway_keys WHERE team_id = $1 AND revoked_at IS NULL)",
        )
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if done.rows_affected() > 0 {
            return Ok(true);
        }
        if self.team(id).await?.is_none() {
            return Ok(false);
        }
        Err(StoreError::Conflict(format!(
            "team {id} still has keys that are not revoked; revoke or move them first"
        )))
    }

    /// [`StoreError::NotFound`] unless the team exists.
    pub(crate) async fn require_team(&self, id: &str) -> Result<(), StoreError> {
        let found = sqlx::query("SELECT 1 FROM teams WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        found.map(|_| ()).ok_or(StoreError::NotFound)
    }
}

fn team_from_row(row: &AnyRow) -> Result<TeamRecord, StoreError> {
    Ok(TeamRecord {
        id: row.try_get("id").map_err(db_err)?,
        name: row.try_get("name").map_err(db_err)?,
        created_at: row.try_get("created_at").map_err(db_err)?,
        settings: json_value(&row.try_get::<String, _>("settings").map_err(db_err)?)?,
    })
}
