//! OpenAI's Responses API on every target (`POST /v1/responses`, `GET`/`DELETE
//! /v1/responses/{id}`, `GET /v1/responses/{id}/input_items`).
//!
//! OpenAI and Azure OpenAI serve it themselves (the engine passes the request on); for every
//! other target the engine translates it through chat completions (`engine::responses`). The
//! conversation state such targets lack — what `previous_response_id` continues, what
//! `GET /v1/responses/{id}` returns — is kept here:
//!
//! - [`Responses::prepare`] reads the chain of stored responses a request continues, oldest
//!   first, and translates the request with it once (a [`Turn`], read by every target tried);
//! - [`hook::ResponsesHook`] sees the answer go by and stores it (its input items and Response
//!   object) unless the request said `store: false`: first in a short-lived in-process map,
//!   so the client's next turn on this node finds it at once, then in the records database
//!   (the SQLite file by default, PostgreSQL for many nodes), kept for `responses.retention`;
//! - [`http`] answers the reads and deletes, passing ids it does not know on to the provider
//!   the request routes to (OpenAI's own store).
//!
//! A stored response belongs to the gateway key that created it (when keys are on): other keys
//! neither continue nor read it.

pub mod hook;
pub mod http;

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use switchyard_providers::dialect::responses::{self, Translated};
use switchyard_providers::native::TranslateError;
use switchyard_store::{Store, StoredResponse};
use tokio::sync::OnceCell;

use crate::config::GatewayConfig;
use crate::error::GatewayError;
use crate::governance::Principal;

/// Most stored responses one request's conversation is read back through.
const MAX_CHAIN: usize = 256;
/// How long a stored response stays in the in-process map (the database has it after that).
const RECENT_TTL: Duration = Duration::from_secs(120);
/// Most responses in the in-process map.
const RECENT_CAPACITY: u64 = 10_000;
/// How often expired rows are deleted.
const PURGE_EVERY: Duration = Duration::from_secs(3_600);

/// One Responses request, as every target tried sees it.
#[derive(Debug)]
pub struct Turn {
    /// `resp_…`: the id of the Response the gateway writes.
    pub id: String,
    /// Unix seconds.
    pub created_at: u64,
    /// `previous_response_id`.
    pub previous_id: Option<String>,
    /// The previous response is one this gateway stored: OpenAI's own store does not know it,
    /// so every target gets the conversation through chat completions.
    pub previous_stored: bool,
    /// The answer is to be stored (`store` not false, and storing on).
    pub store: bool,
    /// The gateway key that sends it.
    pub owner: Option<String>,
    /// The request and its conversation as a chat completion (an error refuses the targets
    /// that need it; OpenAI's own API may still take the request).
    pub translated: Result<Translated, TranslateError>,
}

/// What a stored response holds, parsed.
#[derive(Debug, Clone)]
pub struct Stored {
    pub previous_id: Option<String>,
    pub owner: Option<String>,
    pub input_items: Arc<Vec<Value>>,
    pub response: Arc<Value>,
}

/// The conversation state of the Responses API.
pub struct Responses {
    settings: crate::config::responses::ResponsesSettings,
    /// The records database, opened on first use (a gateway that never serves a Responses
    /// request to another provider never opens it).
    store: OnceCell<Store>,
    /// The governance database, when it is open already.
    shared: Option<Store>,
    /// What opens the database otherwise (the server's governance settings).
    open_with: GatewayConfig,
    recent: moka::sync::Cache<String, Stored>,
    /// Ids deleted on this node lately: a deletion that comes before the database write of the
    /// same response (made right after it was answered) must win over that write.
    deleted: moka::sync::Cache<String, ()>,
}

#[derive(Deserialize, Default)]
struct Head {
    #[serde(default)]
    previous_response_id: Option<String>,
    #[serde(default)]
    store: Option<bool>,
}

impl Responses {
    pub fn new(config: &GatewayConfig, shared: Option<Store>) -> Self {
        let settings = config.responses.clone();
        Responses {
            open_with: GatewayConfig {
                governance: config.governance.clone(),
                ..GatewayConfig::default()
            },
            recent: moka::sync::Cache::builder()
                .max_capacity(RECENT_CAPACITY)
                .time_to_live(RECENT_TTL.min(settings.retention))
                .build(),
            deleted: moka::sync::Cache::builder()
                .max_capacity(RECENT_CAPACITY)
                .time_to_live(RECENT_TTL)
                .build(),
            settings,
            store: OnceCell::new(),
            shared,
        }
    }

    /// The records database.
    async fn store(&self) -> Result<&Store, GatewayError> {
        self.store
            .get_or_try_init(|| async {
                let store = match &self.shared {
                    Some(s) => s.clone(),
                    None => crate::governance::open_store(&self.open_with)
                        .await
                        .map_err(GatewayError::Internal)?,
                };
                let purge = store.clone();
                tokio::spawn(async move {
                    let mut every = tokio::time::interval(PURGE_EVERY);
                    loop {
                        every.tick().await;
                        if let Err(e) = purge.purge_responses(now()).await {
                            tracing::warn!(error = %e, "purging expired responses failed");
                        }
                    }
                });
                Ok(store)
            })
            .await
    }

    /// The request's turn: its new id, the conversation it continues, its translation.
    pub async fn prepare(
        &self,
        body: &[u8],
        principal: Option<&Principal>,
    ) -> Result<Turn, GatewayError> {
        let head: Head = serde_json::from_slice(body).unwrap_or_default();
        let owner = owner_of(principal);
        let mut chain = Vec::new();
        if let (Some(first), true) = (&head.previous_response_id, self.settings.store) {
            let mut next = Some(first.clone());
            while let Some(id) = next.take() {
                if chain.len() >= MAX_CHAIN {
                    break;
                }
                match self.get(&id, owner.as_deref()).await? {
                    Some(s) => {
                        next = s.previous_id.clone();
                        chain.push(s);
                    }
                    None => break,
                }
            }
        }
        let mut history = Vec::new();
        for s in chain.iter().rev() {
            history.extend(s.input_items.iter().cloned());
            history.extend(responses::output_items(&s.response));
        }
        Ok(Turn {
            id: responses::new_id(uuid::Uuid::new_v4().as_u128()),
            created_at: crate::engine::native::unix_now(),
            previous_id: head.previous_response_id,
            previous_stored: !chain.is_empty(),
            store: self.settings.store && head.store != Some(false),
            owner,
            translated: responses::request_to_chat(body, &history),
        })
    }

    /// A stored response `owner` may see.
    pub async fn get(&self, id: &str, owner: Option<&str>) -> Result<Option<Stored>, GatewayError> {
        let visible = |s: &Stored| s.owner.is_none() || s.owner.as_deref() == owner;
        if self.deleted.contains_key(id) {
            return Ok(None);
        }
        if let Some(s) = self.recent.get(id) {
            return Ok(visible(&s).then_some(s));
        }
        let row = self
            .store()
            .await?
            .response(id, now())
            .await
            .map_err(|e| GatewayError::Internal(format!("reading a stored response: {e}")))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let parsed = Stored {
            input_items: Arc::new(serde_json::from_str(&row.input_items).unwrap_or_default()),
            response: Arc::new(serde_json::from_str(&row.response).unwrap_or_default()),
            previous_id: row.previous_id,
            owner: row.owner,
        };
        Ok(visible(&parsed).then_some(parsed))
    }

    /// Deletes a stored response `owner` may see; whether there was one.
    pub async fn delete(&self, id: &str, owner: Option<&str>) -> Result<bool, GatewayError> {
        if self.get(id, owner).await?.is_none() {
            return Ok(false);
        }
        // Found here or in the database: deleted, even when its database write has not landed
        // yet (the writer deletes the row again once it has).
        self.deleted.insert(id.to_owned(), ());
        self.recent.invalidate(id);
        self.store()
            .await?
            .delete_response(id)
            .await
            .map_err(|e| GatewayError::Internal(format!("deleting a stored response: {e}")))?;
        Ok(true)
    }

    /// Keeps the answer of `turn`: at once in this process, then in the database.
    pub fn remember(self: &Arc<Self>, turn: &Turn, response: Value) {
        let Ok(translated) = &turn.translated else {
            return;
        };
        let stored = Stored {
            previous_id: turn.previous_id.clone().filter(|_| turn.previous_stored),
            owner: turn.owner.clone(),
            input_items: Arc::new(translated.input_items.clone()),
            response: Arc::new(response),
        };
        self.recent.insert(turn.id.clone(), stored.clone());
        let retention = i64::try_from(self.settings.retention.as_secs()).unwrap_or(i64::MAX);
        let created = i64::try_from(turn.created_at).unwrap_or(0);
        let row = StoredResponse {
            id: turn.id.clone(),
            created_at: created,
            expires_at: created.saturating_add(retention),
            previous_id: stored.previous_id,
            owner: stored.owner,
            input_items: serde_json::to_string(&*stored.input_items)
                .unwrap_or_else(|_| "[]".into()),
            response: stored.response.to_string(),
        };
        let this = self.clone();
        tokio::spawn(async move {
            let written = match this.store().await {
                Ok(store) => match store.put_response(&row).await {
                    // Deleted while this write was on its way.
                    Ok(()) if this.deleted.contains_key(&row.id) => {
                        store.delete_response(&row.id).await.map(drop)
                    }
                    other => other,
                }
                .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = written {
                tracing::warn!(id = %row.id, error = %e, "storing a response failed");
            }
        });
    }
}

/// The gateway key a principal is (`None`: keys are off, or the admin key).
pub fn owner_of(principal: Option<&Principal>) -> Option<String> {
    principal.and_then(|p| p.key()).map(|k| k.id.clone())
}

fn now() -> i64 {
    i64::try_from(crate::engine::native::unix_now()).unwrap_or(i64::MAX)
}
