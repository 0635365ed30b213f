//! Gateway keys: who is calling.
//!
//! A key is read from the first of `x-portkey-api-key` (the Portkey SDK), `Authorization:
//! Bearer` (the OpenAI SDK), `x-api-key` (the Anthropic SDK) and `api-key` (the Azure SDK) that
//! the request carries; that header is then removed, so the key never reaches an upstream and
//! is never taken for a provider key. Keys are stored as SHA-256 digests (they are 256 random
//! bits: a slow hash would add nothing but latency), and what a node read about a key is kept
//! for `auth.key_cache_ttl`, so a request costs a hash and a map lookup.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use switchyard_store::{hash_key, KeyHash, KeyRecord, Store, TeamRecord};

use super::error::GovernanceError;
use super::limits::Compiled;
use super::period::now_secs;
use super::policy::Policy;
use crate::config::Secret;

/// A team: its own limits and budget, shared by its keys.
#[derive(Debug)]
pub struct TeamEntry {
    pub id: String,
    pub name: String,
    pub policy: Policy,
    pub limits: Arc<Compiled>,
}

/// What a node knows about one gateway key.
#[derive(Debug)]
pub struct KeyEntry {
    pub id: String,
    pub name: String,
    pub policy: Policy,
    pub limits: Arc<Compiled>,
    pub team: Option<Arc<TeamEntry>>,
    pub expires_at: Option<i64>,
    pub revoked: bool,
    /// The guardrails every request of the key runs (its team's, then its own) as a Gateway
    /// Config's root members, with an id naming this key and these lists (trees built with them
    /// are cached under it, so a change of the lists builds new ones).
    pub guardrails: Option<(String, serde_json::Map<String, serde_json::Value>)>,
}

/// The caller of a request.
#[derive(Debug, Clone)]
pub enum Principal {
    /// The admin key: everything, no limits.
    Admin,
    Key(Arc<KeyEntry>),
}

impl Principal {
    pub fn key(&self) -> Option<&Arc<KeyEntry>> {
        match self {
            Principal::Admin => None,
            Principal::Key(k) => Some(k),
        }
    }
}

impl KeyEntry {
    /// The metadata every request of the key carries: the team's, then the key's (which wins).
    pub fn metadata(&self) -> impl Iterator<Item = (&String, &serde_json::Value)> {
        self.team
            .iter()
            .flat_map(|t| t.policy.metadata.iter())
            .chain(self.policy.metadata.iter())
    }

    /// The default Gateway Config: the key's, else its team's.
    pub fn default_config(&self) -> Option<&serde_json::Value> {
        self.policy
            .config
            .as_ref()
            .or_else(|| self.team.as_ref()?.policy.config.as_ref())
    }
}

/// The guardrails of a key and its team as a Gateway Config's root members, with their id.
fn guardrail_defaults(
    key_id: &str,
    key: &Policy,
    team: Option<&TeamEntry>,
) -> Option<(String, serde_json::Map<String, serde_json::Value>)> {
    let mut all = super::policy::KeyGuardrails::default();
    for g in team
        .and_then(|t| t.policy.guardrails.as_ref())
        .into_iter()
        .chain(key.guardrails.as_ref())
    {
        all.input.extend(g.input.iter().cloned());
        all.output.extend(g.output.iter().cloned());
    }
    let members = all.as_config_defaults()?;
    let text = serde_json::Value::Object(members.clone()).to_string();
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    let tag: String = digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Some((format!("{key_id}:{tag}"), members))
}

/// The headers a gateway key may come in, in the order they are read.
pub const KEY_HEADERS: &[&str] = &["x-portkey-api-key", "authorization", "x-api-key", "api-key"];

/// Takes the gateway key out of `headers` (`None` when none carries one).
pub fn take_key(headers: &mut HeaderMap) -> Option<String> {
    for name in KEY_HEADERS {
        let Some(v) = headers.get(*name) else {
            continue;
        };
        let text = v.to_str().unwrap_or("").trim();
        let key = if *name == "authorization" {
            text.strip_prefix("Bearer ")
                .or_else(|| text.strip_prefix("bearer "))
                .unwrap_or(text)
                .trim()
        } else {
            text
        };
        let key = key.to_owned();
        headers.remove(*name);
        if !key.is_empty() {
            return Some(key);
        }
    }
    None
}

/// Gateway-key authentication, with a short-lived cache of what the database said.
pub struct Keys {
    store: Store,
    admin: KeyHash,
    /// The web console's session-signing key, derived from the admin key (never the key
    /// itself).
    console: [u8; 32],
    cache: moka::sync::Cache<[u8; 32], Arc<KeyEntry>>,
}

impl Keys {
    pub fn new(store: Store, admin_key: &Secret, ttl: Duration) -> Keys {
        Keys {
            store,
            admin: hash_key(admin_key.expose()),
            console: console_session_key(admin_key.expose()),
            cache: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ttl)
                .build(),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Whether `key` is the admin key (compared by digest: the time taken says nothing
    /// about the key).
    pub fn is_admin(&self, key: &str) -> bool {
        hash_key(key).0 == self.admin.0
    }

    /// The key the web console signs its session cookies with (`http::console`): derived from
    /// the admin key once, at start-up, so every node with the same admin key accepts the
    /// others' sessions and a new admin key ends every session.
    pub fn console_session_key(&self) -> &[u8; 32] {
        &self.console
    }

    /// Who sent `headers` (the key's header is removed).
    pub async fn authenticate(
        &self,
        headers: &mut HeaderMap,
    ) -> Result<Principal, GovernanceError> {
        let key = take_key(headers).ok_or(GovernanceError::MissingKey)?;
        self.principal(&key).await
    }

    /// Who `key` is.
    pub async fn principal(&self, key: &str) -> Result<Principal, GovernanceError> {
        if self.is_admin(key) {
            return Ok(Principal::Admin);
        }
        if !key.starts_with("sy-") {
            return Err(GovernanceError::InvalidKey);
        }
        let hash = hash_key(key);
        let entry = match self.cache.get(&hash.0) {
            Some(e) => e,
            None => {
                let record = self
                    .store
                    .key_by_hash(&hash)
                    .await
                    .map_err(|e| GovernanceError::Store(e.to_string()))?
                    .ok_or(GovernanceError::InvalidKey)?;
                let entry = Arc::new(self.entry(record).await?);
                self.cache.insert(hash.0, entry.clone());
                entry
            }
        };
        if entry.revoked {
            return Err(GovernanceError::RevokedKey);
        }
        if entry.expires_at.is_some_and(|t| t <= now_secs()) {
            return Err(GovernanceError::ExpiredKey);
        }
        Ok(Principal::Key(entry))
    }

    async fn entry(&self, r: KeyRecord) -> Result<KeyEntry, GovernanceError> {
        let team = match &r.team_id {
            Some(id) => self
                .store
                .team(id)
                .await
                .map_err(|e| GovernanceError::Store(e.to_string()))?
                .map(|t| Arc::new(team_entry(t))),
            None => None,
        };
        let policy = Policy::from_value(&r.settings).unwrap_or_else(|e| {
            // Stored settings were checked when written; a row edited by hand is served with
            // no extra rights, but with its limits unread — said loudly.
            tracing::warn!(key_id = %r.id, error = %e, "a gateway key's stored settings are invalid");
            Policy::default()
        });
        Ok(KeyEntry {
            guardrails: guardrail_defaults(&r.id, &policy, team.as_deref()),
            limits: Arc::new(Compiled::new("key", &r.id, &policy)),
            id: r.id,
            name: r.name,
            policy,
            team,
            expires_at: r.expires_at,
            revoked: r.revoked_at.is_some(),
        })
    }

    /// Forgets everything cached (after an admin change, so this node sees it at once).
    pub fn forget_all(&self) {
        self.cache.invalidate_all();
    }
}

/// SHA-256(`switchyard-console-session\0` ‖ admin key): the console's HMAC key. A separate
/// domain from the key's stored digest, so neither can stand in for the other.
fn console_session_key(admin_key: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"switchyard-console-session\0");
    h.update(admin_key.as_bytes());
    h.finalize().into()
}

/// A team as the limits see it.
pub fn team_entry(t: TeamRecord) -> TeamEntry {
    let policy = Policy::from_value(&t.settings).unwrap_or_else(|e| {
        tracing::warn!(team_id = %t.id, error = %e, "a team's stored settings are invalid");
        Policy::default()
    });
    TeamEntry {
        limits: Arc::new(Compiled::new("team", &t.id, &policy)),
        id: t.id,
        name: t.name,
        policy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn the_key_is_taken_from_the_first_header_that_carries_one() {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            HeaderValue::from_static("Bearer sk-provider"),
        );
        h.insert("x-portkey-api-key", HeaderValue::from_static("sy-gateway"));
        assert_eq!(take_key(&mut h).as_deref(), Some("sy-gateway"));
        // The provider key stays where it was.
        assert!(h.contains_key("authorization") && !h.contains_key("x-portkey-api-key"));

        let mut h = HeaderMap::new();
        h.insert("authorization", HeaderValue::from_static("Bearer sy-abc"));
        assert_eq!(take_key(&mut h).as_deref(), Some("sy-abc"));
        assert!(h.is_empty());

        let mut h = HeaderMap::new();
        h.insert("x-api-key", HeaderValue::from_static("sy-anthropic"));
        assert_eq!(take_key(&mut h).as_deref(), Some("sy-anthropic"));
        assert_eq!(take_key(&mut HeaderMap::new()), None);
    }
}
