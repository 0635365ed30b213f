//! The providers a gateway can reach: the built-in catalogue, plus what the server's config file
//! adds (credentials, a different base URL, or a new OpenAI-compatible host under its own name).

use std::collections::HashMap;
use std::sync::Arc;

use switchyard_providers::catalog::{self, ProviderSpec};
use switchyard_providers::native::ProviderOptions;

use super::secret::Secret;

/// One provider as this gateway knows it. `Debug` prints option names only (options may hold
/// credentials).
pub struct ProviderEntry {
    /// The name targets use (`provider: <slug>`).
    pub slug: String,
    pub spec: &'static ProviderSpec,
    base_url: String,
    /// The operator's key for this provider, from the config file.
    pub api_key: Option<Secret>,
    /// Provider options set by the operator (region, API version, …).
    pub options: ProviderOptions,
    /// Defined or changed by the server's config file.
    pub configured: bool,
    /// A host the operator added under its own name (OpenAI-compatible).
    pub custom: bool,
}

impl std::fmt::Debug for ProviderEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderEntry")
            .field("slug", &self.slug)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key)
            .field("options", &self.options.keys().collect::<Vec<_>>())
            .field("configured", &self.configured)
            .field("custom", &self.custom)
            .finish()
    }
}

impl ProviderEntry {
    pub fn builtin(spec: &'static ProviderSpec) -> Self {
        ProviderEntry {
            slug: spec.slug.to_owned(),
            spec,
            base_url: spec.base_url.to_owned(),
            api_key: None,
            options: ProviderOptions::new(),
            configured: false,
            custom: false,
        }
    }

    pub fn new(
        slug: String,
        spec: &'static ProviderSpec,
        base_url: Option<String>,
        api_key: Option<Secret>,
        options: ProviderOptions,
    ) -> Self {
        ProviderEntry {
            custom: slug != spec.slug,
            slug,
            spec,
            base_url: base_url.unwrap_or_else(|| spec.base_url.to_owned()),
            api_key,
            options,
            configured: true,
        }
    }

    /// Requests may go without a key: local servers, and hosts the operator added (which get a
    /// key only if one is configured).
    pub fn key_optional(&self) -> bool {
        self.custom || self.spec.key_optional()
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }
}

/// Slug → provider. Built once at start-up.
#[derive(Debug, Clone)]
pub struct Providers {
    map: HashMap<String, Arc<ProviderEntry>>,
}

impl Default for Providers {
    fn default() -> Self {
        Providers {
            map: catalog::CATALOG
                .iter()
                .map(|s| (s.slug.to_owned(), Arc::new(ProviderEntry::builtin(s))))
                .collect(),
        }
    }
}

impl Providers {
    pub fn insert(&mut self, entry: ProviderEntry) {
        self.map.insert(entry.slug.clone(), Arc::new(entry));
    }

    pub fn get(&self, slug: &str) -> Option<&Arc<ProviderEntry>> {
        self.map.get(slug)
    }

    /// All slugs, sorted.
    pub fn slugs(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.map.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// Providers the config file set up (with credentials or a host), sorted by slug.
    pub fn configured(&self) -> Vec<&Arc<ProviderEntry>> {
        let mut v: Vec<_> = self.map.values().filter(|p| p.configured).collect();
        v.sort_unstable_by(|a, b| a.slug.cmp(&b.slug));
        v
    }
}
