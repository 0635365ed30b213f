//! The server file's governance sections: `auth:`, `database:`, `virtual_keys:` and `pricing:`.
//!
//! ```yaml
//! auth:
//!   admin_key: ${SWITCHYARD_ADMIN_KEY}  # setting it turns gateway keys on (or set the variable)
//!   key_cache_ttl: 10s       # how long a node trusts what it read about a key
//!   reload_interval: 10s     # how often virtual keys changed on other nodes are picked up
//!   counters: redis          # memory | redis (default: redis when a `redis:` section exists)
//!   alert_webhook: https://hooks.example.com/budget   # POSTed when a budget crosses its alert
//! database:
//!   url: postgres://gateway@db:5432/switchyard   # default: a SQLite file in the data dir
//!   encryption_key: ${SWITCHYARD_ENCRYPTION_KEY} # 32 bytes, hex or base64
//! virtual_keys:
//!   openai-prod: {provider: openai, api_key: ${OPENAI_API_KEY}}
//! pricing:
//!   openai: {gpt-4o: {input: 2.5, output: 10}}
//! ```
//!
//! Environment variables beat the file: `SWITCHYARD_ADMIN_KEY`, `SWITCHYARD_DATABASE_URL`,
//! `SWITCHYARD_ENCRYPTION_KEY`, `SWITCHYARD_DATA_DIR` (default `./switchyard-data`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::errors::ConfigErrors;
use super::providers::Providers;
use super::secret::Secret;
use super::stores::RedisSettings;
use super::values::HumanDuration;
use crate::governance::cost::PriceTable;
use crate::governance::virtual_keys::{self, Source, VirtualKey};

/// Where rate-limit and spend counters live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counters {
    Memory,
    Redis,
}

/// Gateway keys, virtual keys, limits, budgets and prices.
#[derive(Debug, Clone)]
pub struct GovernanceSettings {
    /// Gateway keys are required when set.
    pub admin_key: Option<Secret>,
    pub key_cache_ttl: Duration,
    pub reload_interval: Duration,
    pub counters: Counters,
    pub alert_webhook: Option<String>,
    /// The database of keys, teams, credentials and spend (`None`: the default SQLite file).
    pub database_url: Option<String>,
    pub data_dir: PathBuf,
    pub encryption_key: Option<Secret>,
    /// The file's virtual keys, by name.
    pub virtual_keys: HashMap<String, Arc<VirtualKey>>,
    pub prices: PriceTable,
}

impl Default for GovernanceSettings {
    fn default() -> Self {
        GovernanceSettings {
            admin_key: None,
            key_cache_ttl: Duration::from_secs(10),
            reload_interval: Duration::from_secs(10),
            counters: Counters::Memory,
            alert_webhook: None,
            database_url: None,
            data_dir: PathBuf::from("switchyard-data"),
            encryption_key: None,
            virtual_keys: HashMap::new(),
            prices: PriceTable::shipped().clone(),
        }
    }
}

impl GovernanceSettings {
    /// Gateway keys are required.
    pub fn auth_enabled(&self) -> bool {
        self.admin_key.is_some()
    }

    /// The database URL in use: the configured one, or the SQLite file in the data dir.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!("sqlite://{}", self.data_dir.join("switchyard.db").display())
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    admin_key: Option<String>,
    key_cache_ttl: Option<HumanDuration>,
    reload_interval: Option<HumanDuration>,
    counters: Option<String>,
    alert_webhook: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    url: Option<String>,
    encryption_key: Option<String>,
}

fn section<T: serde::de::DeserializeOwned>(
    v: Option<&Value>,
    name: &str,
    errs: &mut ConfigErrors,
) -> Option<T> {
    errs.read(v.filter(|v| !v.is_null())?, name)
}

/// The sections a governance setup reads from the file's root (and the environment).
pub struct Sections<'a> {
    pub auth: Option<&'a Value>,
    pub database: Option<&'a Value>,
    pub virtual_keys: Option<&'a Value>,
    pub pricing: Option<&'a Value>,
}

/// Parses the governance sections.
pub fn parse(
    s: Sections<'_>,
    providers: &Providers,
    redis: Option<&RedisSettings>,
    env: &dyn Fn(&str) -> Option<String>,
    errs: &mut ConfigErrors,
) -> GovernanceSettings {
    let mut g = GovernanceSettings::default();
    let env = |k: &str| env(k).filter(|v| !v.is_empty());
    let auth: Option<RawAuth> = section(s.auth, "auth", errs);
    let (mut admin_key, mut counters) = (None, None);
    if let Some(a) = auth {
        admin_key = a.admin_key.filter(|k| !k.is_empty());
        if let Some(t) = a.key_cache_ttl {
            g.key_cache_ttl = t.0;
        }
        if let Some(t) = a.reload_interval {
            if t.0.is_zero() {
                errs.push("auth.reload_interval", "must be longer than 0");
            }
            g.reload_interval = t.0;
        }
        counters = a.counters;
        if let Some(url) = a.alert_webhook {
            if let Err(e) = crate::ssrf::validate_base_url(&url) {
                errs.push("auth.alert_webhook", e);
            }
            g.alert_webhook = Some(url);
        }
    }
    let (at, key) = match env("SWITCHYARD_ADMIN_KEY") {
        Some(k) => ("SWITCHYARD_ADMIN_KEY", Some(k)),
        None => ("auth.admin_key", admin_key),
    };
    match key {
        Some(k) if k.len() < 16 => errs.push(
            at,
            "must be at least 16 characters (it guards the admin API and every gateway key)",
        ),
        Some(k) => g.admin_key = Some(Secret::new(k)),
        None => {}
    }
    g.counters = match counters.as_deref() {
        None if redis.is_some() => Counters::Redis,
        None | Some("memory") => Counters::Memory,
        Some("redis") if redis.is_some() => Counters::Redis,
        Some("redis") => {
            errs.push(
                "auth.counters",
                "redis needs a `redis:` section with its url",
            );
            Counters::Memory
        }
        Some(other) => {
            errs.push(
                "auth.counters",
                format!("unknown counters `{other}` (expected memory or redis)"),
            );
            Counters::Memory
        }
    };

    let db: Option<RawDatabase> = section(s.database, "database", errs);
    let (url, enc) = db.map_or((None, None), |d| (d.url, d.encryption_key));
    g.database_url = env("SWITCHYARD_DATABASE_URL").or(url);
    if let Some(u) = &g.database_url {
        if !(u.starts_with("sqlite:")
            || u.starts_with("postgres://")
            || u.starts_with("postgresql://"))
        {
            errs.push("database.url", "must be a sqlite:// or postgres:// URL");
        }
    }
    g.encryption_key = env("SWITCHYARD_ENCRYPTION_KEY")
        .or(enc.filter(|k| !k.is_empty()))
        .map(Secret::new);
    if let Some(d) = env("SWITCHYARD_DATA_DIR") {
        g.data_dir = PathBuf::from(d);
    }

    if let Some(v) = s.virtual_keys.filter(|v| !v.is_null()) {
        match v.as_object() {
            Some(map) => {
                for (name, def) in map {
                    let at = format!("virtual_keys.{name}");
                    match parse_virtual_key(name, def, providers) {
                        Ok(vk) => {
                            g.virtual_keys.insert(name.clone(), Arc::new(vk));
                        }
                        Err(e) => errs.push(&at, e),
                    }
                }
            }
            None => errs.push(
                "virtual_keys",
                "must be a mapping of name to {provider, api_key, …}",
            ),
        }
    }
    if let Some(p) = s.pricing.filter(|v| !v.is_null()) {
        if let Err(e) = g.prices.extend(p) {
            errs.push("pricing", e);
        }
    }
    g
}

fn parse_virtual_key(name: &str, def: &Value, providers: &Providers) -> Result<VirtualKey, String> {
    let obj = def
        .as_object()
        .ok_or("must be a mapping (provider, api_key, …)")?;
    let (provider, secret, settings) = virtual_keys::split(obj)?;
    if providers.get(&provider).is_none() {
        return Err(format!("provider: unknown provider `{provider}`"));
    }
    VirtualKey::from_parts(
        name.to_owned(),
        name.to_owned(),
        provider,
        &secret,
        &settings,
        Source::File,
    )
}
