//! What a response cost: tokens × the price table.
//!
//! The table ships with the binary (`prices.json`, US dollars per million tokens, per provider
//! and model) and the server file's `pricing:` section overrides or extends it:
//!
//! ```yaml
//! pricing:
//!   openai:
//!     gpt-4o: {input: 2.5, output: 10, cached_input: 1.25}
//!   my-vllm:                      # a provider the operator added
//!     llama-3-70b: {input: 0, output: 0}
//! ```
//!
//! A model is found by its exact id, else by the longest priced id it starts with
//! (`gpt-4o-2024-08-06` → `gpt-4o`); Azure OpenAI falls back to OpenAI's prices, Vertex AI to
//! Google's. A model without a price costs nothing and says so (`None`).

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;
use switchyard_types::usage::TokenUsage;

/// One model's prices, US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input: f64,
    #[serde(default)]
    pub output: f64,
    /// Prompt tokens served from the provider's cache (defaults to `input`).
    #[serde(default)]
    pub cached_input: Option<f64>,
    /// Prompt tokens written to the provider's cache (not billed separately here: OpenAI-shaped
    /// usage does not report them).
    #[serde(default)]
    pub cache_write: Option<f64>,
}

impl Price {
    fn check(&self) -> bool {
        [self.input, self.output]
            .into_iter()
            .chain(self.cached_input)
            .chain(self.cache_write)
            .all(|p| p.is_finite() && p >= 0.0)
    }

    /// The cost of `usage`, in US dollars.
    pub fn cost(&self, usage: &TokenUsage) -> f64 {
        let cached = usage.cached_input.min(usage.input);
        let fresh = usage.input - cached;
        (fresh as f64 * self.input
            + cached as f64 * self.cached_input.unwrap_or(self.input)
            + usage.output as f64 * self.output)
            / 1e6
    }
}

/// Read for every priced answer: `foldhash` (seeded per process) instead of SipHash. Lookups
/// only: the keys are the table's, which a client cannot add to.
type Map<V> = HashMap<String, V, foldhash::fast::RandomState>;

/// Provider → model → price.
#[derive(Debug, Clone, Default)]
pub struct PriceTable {
    by_provider: Map<Map<Price>>,
}

static SHIPPED: &str = include_str!("prices.json");

impl PriceTable {
    /// The table shipped with the binary.
    pub fn shipped() -> &'static PriceTable {
        static TABLE: OnceLock<PriceTable> = OnceLock::new();
        TABLE.get_or_init(|| {
            let v: Value = serde_json::from_str(SHIPPED).unwrap_or(Value::Null);
            PriceTable::from_value(&v).unwrap_or_default()
        })
    }

    /// A table from `{provider: {model: {input, output, …}}}` (keys starting with `_` are
    /// comments); the error names the entry at fault.
    pub fn from_value(v: &Value) -> Result<PriceTable, String> {
        let mut t = PriceTable::default();
        t.extend(v)?;
        Ok(t)
    }

    /// Adds (or replaces) the prices of `v`.
    pub fn extend(&mut self, v: &Value) -> Result<(), String> {
        let Some(providers) = v.as_object() else {
            return Err("must be a mapping of provider to models".into());
        };
        for (provider, models) in providers.iter().filter(|(k, _)| !k.starts_with('_')) {
            let Some(models) = models.as_object() else {
                return Err(format!("{provider}: must be a mapping of model to prices"));
            };
            let entry = self.by_provider.entry(provider.clone()).or_default();
            for (model, price) in models {
                let p: Price = serde_json::from_value(price.clone())
                    .map_err(|e| format!("{provider}.{model}: {e}"))?;
                if !p.check() {
                    return Err(format!(
                        "{provider}.{model}: prices must be numbers of 0 or more"
                    ));
                }
                entry.insert(model.clone(), p);
            }
        }
        Ok(())
    }

    /// The price of `model` at `provider`.
    pub fn price(&self, provider: &str, model: &str) -> Option<Price> {
        let fallback = match provider {
            "azure-openai" => Some("openai"),
            "vertex-ai" => Some("google"),
            _ => None,
        };
        std::iter::once(provider)
            .chain(fallback)
            .find_map(|p| self.lookup(p, model))
    }

    fn lookup(&self, provider: &str, model: &str) -> Option<Price> {
        let models = self.by_provider.get(provider)?;
        // Bedrock's cross-region inference profiles (`us.anthropic.claude-…`) cost what the
        // model does.
        let model = match model.split_once('.') {
            Some((region, rest))
                if provider == "bedrock"
                    && matches!(
                        region,
                        "us" | "eu" | "apac" | "ap" | "global" | "us-gov" | "ca" | "jp" | "au"
                    ) =>
            {
                rest
            }
            _ => model,
        };
        if let Some(p) = models.get(model) {
            return Some(*p);
        }
        models
            .iter()
            .filter(|(id, _)| model.starts_with(id.as_str()))
            .max_by_key(|(id, _)| id.len())
            .map(|(_, p)| *p)
    }

    /// Models priced, over all providers.
    pub fn len(&self) -> usize {
        self.by_provider.values().map(Map::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_shipped_table_parses_and_prices_well_known_models() {
        let t = PriceTable::shipped();
        assert!(t.len() > 50, "{} models", t.len());
        let p = t.price("openai", "gpt-4o-mini").unwrap();
        assert_eq!((p.input, p.output), (0.15, 0.6));
        // Azure falls back to OpenAI's prices; a dated id to its family's.
        assert!(t.price("azure-openai", "gpt-4o-mini").is_some());
        assert!(t.price("openai", "gpt-4o-mini-2099-01-01").is_some());
        assert!(t.price("openai", "no-such-model").is_none());
    }

    #[test]
    fn cost_counts_cached_input_at_its_own_price() {
        let p = Price {
            input: 2.0,
            output: 8.0,
            cached_input: Some(0.5),
            cache_write: None,
        };
        let mut u = TokenUsage::new(1_000_000, 500_000);
        assert!((p.cost(&u) - 6.0).abs() < 1e-9);
        u.cached_input = 400_000;
        assert!((p.cost(&u) - (1.2 + 0.2 + 4.0)).abs() < 1e-9);
    }

    #[test]
    fn the_file_overrides_and_extends_the_table() {
        let mut t = PriceTable::shipped().clone();
        t.extend(&json!({"openai": {"gpt-4o-mini": {"input": 1, "output": 2}}, "my-vllm": {"llama": {"input": 0}}}))
            .unwrap();
        assert_eq!(t.price("openai", "gpt-4o-mini").unwrap().input, 1.0);
        assert_eq!(t.price("my-vllm", "llama").unwrap().output, 0.0);
        let e = t
            .extend(&json!({"openai": {"x": {"input": -1}}}))
            .unwrap_err();
        assert!(e.starts_with("openai.x"), "{e}");
        let e = t
            .extend(&json!({"openai": {"x": {"inptu": 1}}}))
            .unwrap_err();
        assert!(e.contains("inptu"), "{e}");
    }
}
