//! Stored provider credentials ("virtual keys"): a unique name, the provider, non-secret settings,
//! and the secret part (the API key and secret credential options) as one JSON value sealed with
//! the store's [`Cipher`](crate::Cipher), bound to the credential's id so a sealed secret cannot be
//! moved to another row. The secret is only ever decrypted by the `*_with_secret*` calls.

use std::fmt;

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row as _, Transaction};

use crate::crypto::new_id;
use crate::{conflict_or_db, db_err, json_text, json_value, now, Sets, Store, StoreError};

/// A credential without its secret.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialRecord {
    pub id: String,
    pub name: String,
    pub provider: String,
    /// Unix seconds.
    pub created_at: i64,
    pub updated_at: i64,
    /// Non-secret settings (custom_host, limits…), a JSON object the gateway owns.
    pub settings: serde_json::Value,
}

pub struct NewCredential {
    /// Unique among credentials.
    pub name: String,
    pub provider: String,
    /// Encrypted as one blob; never returned by the plain getters.
    pub secret: serde_json::Value,
    pub settings: serde_json::Value,
}

/// Fields to change; `None` leaves a field as it is. Every change sets `updated_at`.
#[derive(Default)]
pub struct CredentialPatch {
    pub provider: Option<String>,
    /// Replaces the whole secret.
    pub secret: Option<serde_json::Value>,
    /// Replaces the whole settings object.
    pub settings: Option<serde_json::Value>,
}

impl fmt::Debug for NewCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewCredential")
            .field("name", &self.name)
            .field("provider", &self.provider)
            .field("secret", &"<redacted>")
            .field("settings", &self.settings)
            .finish()
    }
}

impl fmt::Debug for CredentialPatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialPatch")
            .field("provider", &self.provider)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("settings", &self.settings)
            .finish()
    }
}

const COLUMNS: &str = "id, name, provider, created_at, updated_at, settings";
/// Matches a credential by id or by name, preferring the id; `$1` is the text.
const BY_NAME_OR_ID: &str =
    "WHERE id = $1 OR name = $1 ORDER BY CASE WHEN id = $1 THEN 0 ELSE 1 END LIMIT 1";

impl Store {
    /// Stores a new credential with a generated `vk_…` id; a taken name is a
    /// [`StoreError::Conflict`].
    pub async fn insert_credential(
        &self,
        c: NewCredential,
    ) -> Result<CredentialRecord, StoreError> {
        let now = now();
        let record = CredentialRecord {
            id: new_id("vk_")?,
            name: c.name,
            provider: c.provider,
            created_at: now,
            updated_at: now,
            settings: c.settings,
        };
        let sealed = self.seal_secret(&record.id, &c.secret)?;
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO credentials (id, name, provider, secret, created_at, updated_at, settings)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&record.id)
        .bind(&record.name)
        .bind(&record.provider)
        .bind(sealed)
        .bind(now)
        .bind(now)
        .bind(json_text(&record.settings)?)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            conflict_or_db(e, || {
                format!("a credential named {:?} already exists", record.name)
            })
        })?;
        bump_revision(&mut tx).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(record)
    }

    /// The credential with this id or, failing that, this name.
    pub async fn credential(
        &self,
        name_or_id: &str,
    ) -> Result<Option<CredentialRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM credentials {BY_NAME_OR_ID}");
        let row = sqlx::query(&sql)
            .bind(name_or_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(credential_from_row).transpose()
    }

    /// Every credential, oldest first.
    pub async fn credentials(&self) -> Result<Vec<CredentialRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM credentials ORDER BY seq");
        let rows = sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(credential_from_row).collect()
    }

    /// Changes the given fields only and sets `updated_at`; `None` when there is no such
    /// credential.
    pub async fn update_credential(
        &self,
        name_or_id: &str,
        patch: CredentialPatch,
    ) -> Result<Option<CredentialRecord>, StoreError> {
        if patch.provider.is_none() && patch.secret.is_none() && patch.settings.is_none() {
            return self.credential(name_or_id).await;
        }
        let mut tx = self.write_tx().await?;
        let Some(id) = resolve(&mut tx, name_or_id).await? else {
            return Ok(None);
        };
        let mut sets = Sets::new(&id)?;
        if let Some(provider) = patch.provider {
            sets.set("provider", provider)?;
        }
        if let Some(secret) = &patch.secret {
            sets.set("secret", self.seal_secret(&id, secret)?)?;
        }
        if let Some(settings) = &patch.settings {
            sets.set("settings", json_text(settings)?)?;
        }
        sets.set("updated_at", now())?;
        let Some((assignments, args)) = sets.finish() else {
            return Ok(None);
        };
        let sql = format!("UPDATE credentials SET {assignments} WHERE id = $1 RETURNING {COLUMNS}");
        let row = sqlx::query_with(&sql, args)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        let record = row.as_ref().map(credential_from_row).transpose()?;
        bump_revision(&mut tx).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(record)
    }

    /// Deletes the credential; `false` when there is none.
    pub async fn delete_credential(&self, name_or_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.write_tx().await?;
        let Some(id) = resolve(&mut tx, name_or_id).await? else {
            return Ok(false);
        };
        sqlx::query("DELETE FROM credentials WHERE id = $1")
            .bind(&id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        bump_revision(&mut tx).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    /// Every credential with its secret decrypted, oldest first (for the gateway's in-memory
    /// registry). One secret that does not decrypt (wrong key, tampered row) fails the whole call
    /// with a [`StoreError::Crypto`] naming the credential, not its secret.
    pub async fn credentials_with_secrets(
        &self,
    ) -> Result<Vec<(CredentialRecord, serde_json::Value)>, StoreError> {
        let sql = format!("SELECT {COLUMNS}, secret FROM credentials ORDER BY seq");
        let rows = sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(|row| self.with_secret(row)).collect()
    }

    /// One credential (by id or name) with its secret decrypted.
    pub async fn credential_with_secret(
        &self,
        name_or_id: &str,
    ) -> Result<Option<(CredentialRecord, serde_json::Value)>, StoreError> {
        let sql = format!("SELECT {COLUMNS}, secret FROM credentials {BY_NAME_OR_ID}");
        let row = sqlx::query(&sql)
            .bind(name_or_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(|row| self.with_secret(row)).transpose()
    }

    /// A cheap change marker for polling: `(revision, count)`. The revision is a counter that
    /// every credential insert, update and delete bumps in the same transaction (on any node
    /// sharing the database), so two changes within one second still differ, unlike
    /// `max(updated_at)`; `count` is the number of credentials. Reload when the pair changes.
    pub async fn credentials_version(&self) -> Result<(i64, i64), StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT value FROM store_meta WHERE name = 'credentials_revision') AS revision,
                    (SELECT COUNT(*) FROM credentials) AS n",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        let revision: Option<i64> = row.try_get("revision").map_err(db_err)?;
        let count: i64 = row.try_get("n").map_err(db_err)?;
        Ok((revision.unwrap_or(0), count))
    }

    fn seal_secret(&self, id: &str, secret: &serde_json::Value) -> Result<Vec<u8>, StoreError> {
        let plain = serde_json::to_vec(secret)
            .map_err(|_| StoreError::Crypto("a secret could not be encoded as JSON".into()))?;
        self.cipher.seal(&plain, id.as_bytes())
    }

    fn with_secret(
        &self,
        row: &AnyRow,
    ) -> Result<(CredentialRecord, serde_json::Value), StoreError> {
        let record = credential_from_row(row)?;
        let sealed: Vec<u8> = row.try_get("secret").map_err(db_err)?;
        let named = |e: StoreError| match e {
            StoreError::Crypto(m) => {
                StoreError::Crypto(format!("credential {:?}: {m}", record.name))
            }
            other => other,
        };
        let plain = self
            .cipher
            .open(&sealed, record.id.as_bytes())
            .map_err(named)?;
        // Not the parser's message: it could quote part of the secret.
        let secret = serde_json::from_slice(&plain)
            .map_err(|_| named(StoreError::Crypto("a decrypted secret is not JSON".into())))?;
        Ok((record, secret))
    }
}

/// The id of the credential with this id or name, inside a write transaction.
async fn resolve(
    tx: &mut Transaction<'static, Any>,
    name_or_id: &str,
) -> Result<Option<String>, StoreError> {
    let sql = format!("SELECT id FROM credentials {BY_NAME_OR_ID}");
    sqlx::query_scalar(&sql)
        .bind(name_or_id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(db_err)
}

async fn bump_revision(tx: &mut Transaction<'static, Any>) -> Result<(), StoreError> {
    sqlx::query("UPDATE store_meta SET value = value + 1 WHERE name = 'credentials_revision'")
        .execute(&mut **tx)
        .await
        .map_err(db_err)?;
    Ok(())
}

fn credential_from_row(row: &AnyRow) -> Result<CredentialRecord, StoreError> {
    Ok(CredentialRecord {
        id: row.try_get("id").map_err(db_err)?,
        name: row.try_get("name").map_err(db_err)?,
        provider: row.try_get("provider").map_err(db_err)?,
        created_at: row.try_get("created_at").map_err(db_err)?,
        updated_at: row.try_get("updated_at").map_err(db_err)?,
        settings: json_value(&row.try_get::<String, _>("settings").map_err(db_err)?)?,
    })
}
