//! Governance: who may call (gateway keys, teams, the admin key), with whose provider
//! credentials (virtual keys), how much (rate limits, budgets) and at what cost (the price
//! table). docs/governance.md is the user's guide.
//!
//! - `auth`: gateway keys → a [`Principal`], before the request is routed;
//! - `virtual_keys`: stored credentials, resolved while the routing tree is built;
//! - `hook`: the pipeline hook — access and limits on request and per target, cost in the
//!   response head, settlement and spend when the response is over;
//! - `limits`, `spend`, `period`: rate-limit counters, budgets and their periods;
//! - `cost`: the price table; `policy`: the settings of keys, teams and virtual keys.
//!
//! One node needs nothing installed: records in a SQLite file, counters in process. Many nodes
//! share counters through Redis and records through PostgreSQL.

pub mod auth;
pub mod cost;
pub mod error;
pub mod hook;
pub mod limits;
pub mod period;
pub mod policy;
pub mod spend;
pub mod virtual_keys;

use std::sync::Arc;

pub use auth::Principal;
pub use error::GovernanceError;
use switchyard_limits::Counters;
use switchyard_store::{Cipher, Store};

use crate::config::governance::Counters as CounterBackend;
use crate::config::GatewayConfig;
use auth::Keys;
use cost::PriceTable;
use limits::Limiter;
use spend::Budgets;
use virtual_keys::{Registry, Source, VirtualKey};

/// Governance's state, shared by every request.
pub struct Governance {
    /// Gateway keys (`None`: auth is off).
    pub keys: Option<Keys>,
    pub registry: Registry,
    pub limiter: Limiter,
    pub budgets: Budgets,
    pub prices: PriceTable,
}

impl Governance {
    /// Opens the database (when auth is on), loads its virtual keys and starts the background
    /// tasks (spend writer, virtual-key reload).
    pub async fn start(config: &GatewayConfig) -> Result<Arc<Governance>, String> {
        let g = &config.governance;
        let store = match &g.admin_key {
            Some(_) => Some(open_store(config).await?),
            None => None,
        };
        let (counters, shared) = match (g.counters, &config.redis) {
            (CounterBackend::Redis, Some(r)) => {
                let client =
                    redis::Client::open(r.url.as_str()).map_err(|e| format!("redis.url: {e}"))?;
                (
                    Counters::redis(client, format!("{}limits:", r.prefix), r.timeout),
                    true,
                )
            }
            _ => (Counters::memory(), false),
        };
        let alert = match &g.alert_webhook {
            Some(u) => Some(
                u.parse::<http::Uri>()
                    .map_err(|e| format!("auth.alert_webhook: {e}"))?,
            ),
            None => None,
        };
        let keys = match (&g.admin_key, &store) {
            (Some(admin), Some(store)) => Some(Keys::new(store.clone(), admin, g.key_cache_ttl)),
            _ => None,
        };
        let gov = Arc::new(Governance {
            keys,
            registry: Registry::new(g.virtual_keys.clone()),
            limiter: Limiter::new(counters.clone(), shared),
            budgets: Budgets::new(counters, store, alert),
            prices: g.prices.clone(),
        });
        if gov.keys.is_some() {
            gov.reload_virtual_keys().await?;
            let weak = Arc::downgrade(&gov);
            let every = g.reload_interval;
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                tick.tick().await;
                let mut last = None;
                loop {
                    tick.tick().await;
                    let Some(gov) = weak.upgrade() else { break };
                    let Some(store) = gov.store() else { break };
                    match store.credentials_version().await {
                        Ok(v) if Some(v) != last => {
                            if let Err(e) = gov.reload_virtual_keys().await {
                                tracing::warn!(error = %e, "virtual keys could not be reloaded");
                            } else {
                                last = Some(v);
                            }
                        }
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "virtual keys could not be checked for changes")
                        }
                    }
                }
            });
        }
        Ok(gov)
    }

    /// What `record`'s response cost, in US dollars (`None`: no usage, or an unpriced
    /// model).
    ///
    /// Computed once per request and kept in the record (`RequestRecord::cost`) for the
    /// other hooks that report it, as long as its usage and answering target stay the same.
    pub fn cost(&self, record: &crate::pipeline::RequestRecord) -> Option<f64> {
        let usage = record.usage?;
        let provider = record.provider.as_ref()?;
        let leaf = record.leaf.as_ref()?;
        let inputs = crate::pipeline::record::CostInputs::new(usage, provider, leaf);
        record.cost.get_or(inputs, || {
            let model = leaf.model_sent(record.model.as_deref())?;
            Some(self.prices.price(&provider.slug, &model)?.cost(&usage))
        })
    }

    /// Gateway keys are required.
    pub fn auth_enabled(&self) -> bool {
        self.keys.is_some()
    }

    /// The database of keys, teams, credentials and spend (when auth is on).
    pub fn store(&self) -> Option<&Store> {
        self.keys.as_ref().map(Keys::store)
    }

    /// Reads the database's virtual keys again.
    pub async fn reload_virtual_keys(&self) -> Result<(), String> {
        let Some(store) = self.store() else {
            return Ok(());
        };
        let stored = store
            .credentials_with_secrets()
            .await
            .map_err(|e| e.to_string())?;
        let mut keys = Vec::with_capacity(stored.len());
        for (record, secret) in stored {
            match VirtualKey::from_parts(
                record.id.clone(),
                record.name.clone(),
                record.provider.clone(),
                &secret,
                &record.settings,
                Source::Database,
            ) {
                Ok(vk) => keys.push(Arc::new(vk)),
                Err(e) => {
                    tracing::warn!(virtual_key = %record.name, error = %e, "a stored virtual key is invalid and was not loaded")
                }
            }
        }
        self.registry.set_stored(keys);
        Ok(())
    }
}

/// Checks what a key's or team's settings name against this server's configuration: its
/// guardrails (checks exist, parameters valid) and its default config (a valid Gateway
/// Config). The error names the field.
pub fn check_policy(config: &GatewayConfig, policy: &policy::Policy) -> Result<(), String> {
    use crate::config::gateway::{self, BuildInput, Origin};
    let input = BuildInput {
        guardrails: &config.guardrails,
        virtual_keys: &config.governance.virtual_keys,
        semantic_cache: config.cache.semantic.is_some(),
        ..BuildInput::new(
            &config.providers,
            Origin::Server,
            &config.server.trusted_hosts,
        )
    };
    if let Some(mut m) = policy
        .guardrails
        .as_ref()
        .and_then(|g| g.as_config_defaults())
    {
        // Any target will do: only the guardrail lists are being checked.
        m.insert("provider".into(), "openai".into());
        m.insert("api_key".into(), "check".into());
        gateway::build(&serde_json::Value::Object(m), "guardrails", &input)
            .map_err(|e| e.to_string())?;
    }
    if let Some(c) = &policy.config {
        let input = BuildInput {
            origin: Origin::Client,
            ..input
        };
        if let Err(e) = gateway::build(c, "config", &input) {
            // A default config may rely on the request for its credentials.
            if !e.only_credentials() {
                return Err(e.to_string());
            }
        }
    }
    Ok(())
}

/// Opens the records database, with the credentials' encryption key from the environment or
/// the file (or, on a first zero-config start, a key file created in the data dir).
pub async fn open_store(config: &GatewayConfig) -> Result<Store, String> {
    let g = &config.governance;
    let cipher = match &g.encryption_key {
        Some(k) => Cipher::from_text(k.expose())
            .map_err(|e| format!("SWITCHYARD_ENCRYPTION_KEY / database.encryption_key: {e}"))?,
        None => {
            let path = g.data_dir.join("encryption.key");
            let (cipher, created) =
                Cipher::load_or_create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            if created {
                tracing::warn!(path = %path.display(), "created a key to encrypt stored provider credentials; set SWITCHYARD_ENCRYPTION_KEY (the same on every node) for production");
            }
            cipher
        }
    };
    let url = g.database_url();
    Store::open(&url, cipher)
        .await
        .map_err(|e| format!("the database ({}): {e}", redact_url(&url)))
}

/// A database URL without its password.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{user}@{}", &url[..s], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}
