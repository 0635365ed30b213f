//! Virtual keys, as Portkey means them: a provider credential stored on the server under a
//! name (`openai-prod`), used by `x-portkey-virtual-key: openai-prod` or `virtual_key` in a
//! Gateway Config target. The client never sees the credential; the gateway sends it only to
//! the provider's configured host (or the virtual key's own `custom_host`, set by the operator).
//!
//! They come from the server file's `virtual_keys:` section and from the admin API (stored
//! encrypted in the database). Both are kept in memory as one [`Registry`] snapshot, so a
//! request resolves a name with one map lookup; the database's are reloaded when the admin API
//! changes one and, for changes made on other nodes, every `auth.reload_interval`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use serde_json::{Map, Value};
use switchyard_providers::native::ProviderOptions;

use super::limits::Compiled;
use super::policy::Policy;
use crate::config::gateway::is_option_key;
use crate::config::Secret;

/// Where a virtual key was defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    File,
    Database,
}

/// One stored credential. `Debug` prints no secret.
pub struct VirtualKey {
    /// `vk_…` for the database's, the name for the file's.
    pub id: String,
    pub name: String,
    pub provider: String,
    pub api_key: Option<Secret>,
    /// Provider options (AWS keys, a Vertex service account, Azure's resource…): secret too.
    pub options: ProviderOptions,
    /// The host the credential is sent to instead of the provider's (the operator's choice).
    pub custom_host: Option<String>,
    /// Its rate limits and budget.
    pub policy: Policy,
    /// …with their counter keys.
    pub limits: Arc<Compiled>,
    pub source: Source,
}

impl fmt::Debug for VirtualKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VirtualKey")
            .field("name", &self.name)
            .field("provider", &self.provider)
            .field("options", &self.options.keys().collect::<Vec<_>>())
            .field("custom_host", &self.custom_host)
            .finish_non_exhaustive()
    }
}

/// The members of a virtual key's definition that are settings (stored in clear); every other
/// member (`api_key`, provider options) is the credential (stored encrypted).
const SETTINGS: &[&str] = &["custom_host", "rate_limits", "usage_limits"];

/// Splits a flat definition (`{provider, api_key, custom_host, rate_limits, aws_region, …}`)
/// into (provider, secret, settings). Unknown members are an error naming them.
pub fn split(def: &Map<String, Value>) -> Result<(String, Value, Value), String> {
    let provider = match def.get("provider") {
        Some(Value::String(p)) if !p.is_empty() => p.clone(),
        Some(_) => return Err("provider: must be a provider name".into()),
        None => return Err("provider: missing (the provider the credential is for)".into()),
    };
    let (mut secret, mut settings) = (Map::new(), Map::new());
    for (k, v) in def {
        match k.as_str() {
            "provider" | "name" => {}
            k if SETTINGS.contains(&k) => {
                settings.insert(k.to_owned(), v.clone());
            }
            "api_key" => {
                secret.insert(k.to_owned(), v.clone());
            }
            k if is_option_key(k) => {
                secret.insert(k.to_owned(), v.clone());
            }
            other => {
                return Err(format!(
                "{other}: unknown field (expected provider, api_key, custom_host, rate_limits, usage_limits or a provider option such as aws_region)"
            ))
            }
        }
    }
    Ok((provider, Value::Object(secret), Value::Object(settings)))
}

impl VirtualKey {
    /// A virtual key from its stored parts; the error names the field at fault.
    pub fn from_parts(
        id: String,
        name: String,
        provider: String,
        secret: &Value,
        settings: &Value,
        source: Source,
    ) -> Result<VirtualKey, String> {
        let mut api_key = None;
        let mut options = ProviderOptions::new();
        if let Some(secret) = secret.as_object() {
            for (k, v) in secret {
                let s = match v {
                    Value::String(s) => s.clone(),
                    Value::Null => continue,
                    other if k != "api_key" => other.to_string(),
                    _ => return Err("api_key: must be a string".into()),
                };
                if k == "api_key" {
                    if !s.is_empty() {
                        api_key = Some(Secret::new(s));
                    }
                } else {
                    options.insert(k.clone(), s);
                }
            }
        }
        let custom_host = match settings.get("custom_host") {
            None | Some(Value::Null) => None,
            Some(Value::String(h)) => {
                crate::ssrf::validate_base_url(h).map_err(|e| format!("custom_host: {e}"))?;
                Some(h.clone())
            }
            Some(_) => return Err("custom_host: must be a URL".into()),
        };
        let mut limits = Map::new();
        for k in ["rate_limits", "usage_limits"] {
            if let Some(v) = settings.get(k).filter(|v| !v.is_null()) {
                limits.insert(k.to_owned(), v.clone());
            }
        }
        let policy = Policy::from_value(&Value::Object(limits))?;
        Ok(VirtualKey {
            limits: Arc::new(Compiled::new("vk", &id, &policy)),
            id,
            name,
            provider,
            api_key,
            options,
            custom_host,
            policy,
            source,
        })
    }
}

/// Every virtual key by name, as of one moment: `generation` changes whenever they do (the
/// route cache keys on it, so a tree built with an old credential is not reused).
#[derive(Default)]
pub struct Snapshot {
    pub generation: u64,
    pub keys: HashMap<String, Arc<VirtualKey>>,
}

/// Every virtual key by name: the file's, then the database's (a database key may not shadow
/// a file key of the same name). Cheap to read: a snapshot behind a lock held for a clone.
#[derive(Default)]
pub struct Registry {
    file: HashMap<String, Arc<VirtualKey>>,
    current: RwLock<Arc<Snapshot>>,
}

impl Registry {
    pub fn new(file: HashMap<String, Arc<VirtualKey>>) -> Registry {
        let current = RwLock::new(Arc::new(Snapshot {
            generation: 0,
            keys: file.clone(),
        }));
        Registry { file, current }
    }

    /// The virtual key named `name`.
    pub fn get(&self, name: &str) -> Option<Arc<VirtualKey>> {
        self.snapshot().keys.get(name).cloned()
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Whether `name` is defined in the server file.
    pub fn in_file(&self, name: &str) -> bool {
        self.file.contains_key(name)
    }

    /// Replaces the database's keys.
    pub fn set_stored(&self, stored: Vec<Arc<VirtualKey>>) {
        let mut keys = self.file.clone();
        for vk in stored {
            if !keys.contains_key(&vk.name) {
                keys.insert(vk.name.clone(), vk);
            }
        }
        let mut cur = self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *cur = Arc::new(Snapshot {
            generation: cur.generation.wrapping_add(1),
            keys,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_definition_splits_into_secret_and_settings() {
        let def = json!({"provider": "bedrock", "aws_access_key_id": "AKIA", "aws_secret_access_key": "s3cret",
            "aws_region": "eu-west-1", "rate_limits": [{"type": "requests", "unit": "rpm", "value": 5}]});
        let (p, secret, settings) = split(def.as_object().unwrap()).unwrap();
        assert_eq!(p, "bedrock");
        assert_eq!(secret["aws_secret_access_key"], "s3cret");
        assert!(settings.get("aws_secret_access_key").is_none());
        let vk =
            VirtualKey::from_parts("vk".into(), "b".into(), p, &secret, &settings, Source::File)
                .unwrap();
        assert_eq!(vk.options["aws_region"], "eu-west-1");
        assert_eq!(vk.policy.rate_limits.len(), 1);
        assert!(!format!("{vk:?}").contains("s3cret"));
        let e = split(
            json!({"provider": "openai", "apikey": "x"})
                .as_object()
                .unwrap(),
        )
        .unwrap_err();
        assert!(e.starts_with("apikey"), "{e}");
    }

    #[test]
    fn stored_keys_do_not_shadow_the_files() {
        let f = |name: &str, p: &str, src| {
            Arc::new(
                VirtualKey::from_parts(
                    name.into(),
                    name.into(),
                    p.into(),
                    &json!({}),
                    &json!({}),
                    src,
                )
                .unwrap(),
            )
        };
        let r = Registry::new(HashMap::from([(
            "a".to_owned(),
            f("a", "openai", Source::File),
        )]));
        r.set_stored(vec![
            f("a", "groq", Source::Database),
            f("b", "groq", Source::Database),
        ]);
        assert_eq!(r.get("a").unwrap().provider, "openai");
        assert_eq!(r.get("b").unwrap().provider, "groq");
        r.set_stored(vec![]);
        assert!(r.get("b").is_none());
    }
}
