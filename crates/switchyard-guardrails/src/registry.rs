//! The table of check kinds a config may name.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::Check;

/// Check kinds by full id. Cheap to clone (the checks are shared).
#[derive(Clone, Default)]
pub struct Registry {
    checks: BTreeMap<&'static str, Arc<dyn Check>>,
}

impl Registry {
    /// Every pure built-in check: Portkey's `default.*` checks that need no I/O, plus
    /// `default.pii` and `default.promptInjection`.
    pub fn builtin() -> Registry {
        let mut registry = Registry::default();
        for check in crate::checks::builtin() {
            registry.register(check);
        }
        registry
    }

    /// Adds `check` under its id, replacing a check of the same id.
    pub fn register(&mut self, check: Arc<dyn Check>) {
        self.checks.insert(check.id(), check);
    }

    /// The check named `id`. A bare name resolves in the `default` namespace (`"regexMatch"` is
    /// `"default.regexMatch"`), and a name that matches no id exactly is tried ignoring ASCII case
    /// (Portkey's manifest spells `default.modelWhitelist` as `modelwhitelist`).
    pub fn get(&self, id: &str) -> Option<&Arc<dyn Check>> {
        if let Some(check) = self.checks.get(id) {
            return Some(check);
        }
        let qualified;
        let id = if id.contains('.') {
            id
        } else {
            qualified = format!("default.{id}");
            if let Some(check) = self.checks.get(qualified.as_str()) {
                return Some(check);
            }
            qualified.as_str()
        };
        self.checks
            .iter()
            .find(|(known, _)| known.eq_ignore_ascii_case(id))
            .map(|(_, check)| check)
    }

    /// The registered ids, sorted.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.checks.keys().copied()
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.checks.keys()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn resolves_bare_qualified_and_case_insensitive_ids() {
        let registry = Registry::builtin();
        for (name, want) in [
            ("default.regexMatch", Some("default.regexMatch")),
            ("regexMatch", Some("default.regexMatch")),
            ("modelwhitelist", Some("default.modelWhitelist")),
            ("default.modelwhitelist", Some("default.modelWhitelist")),
            ("default.webhook", None),
            ("nope", None),
            ("other.regexMatch", None),
        ] {
            assert_eq!(registry.get(name).map(|c| c.id()), want, "{name}");
        }
    }

    #[test]
    fn builtin_has_every_pure_check_with_unique_ids() {
        let registry = Registry::builtin();
        let ids: Vec<&str> = registry.ids().collect();
        let want = [
            "default.addPrefix",
            "default.alllowercase",
            "default.allowedRequestTypes",
            "default.alluppercase",
            "default.characterCount",
            "default.contains",
            "default.containsCode",
            "default.endsWith",
            "default.jsonKeys",
            "default.jsonSchema",
            "default.modelRules",
            "default.modelWhitelist",
            "default.notNull",
            "default.pii",
            "default.promptInjection",
            "default.regexMatch",
            "default.regexReplace",
            "default.requiredMetadataKeys",
            "default.sentenceCount",
            "default.validUrls",
            "default.wordCount",
        ];
        assert_eq!(ids, want);
        assert_eq!(crate::checks::builtin().len(), want.len(), "duplicate ids");
    }

    struct Fake;
    impl Check for Fake {
        fn id(&self) -> &'static str {
            "default.regexMatch"
        }
        fn prepare(&self, _: &Value) -> Result<Arc<dyn crate::PreparedCheck>, crate::CheckError> {
            Err(crate::CheckError::InvalidParameters("fake".into()))
        }
    }

    #[test]
    fn register_replaces_same_id() {
        let mut registry = Registry::builtin();
        let before = registry.ids().count();
        registry.register(Arc::new(Fake));
        assert_eq!(registry.ids().count(), before);
        let err = registry
            .get("regexMatch")
            .map(|c| c.prepare(&json!({"rule": "a"})).err());
        assert_eq!(
            err,
            Some(Some(crate::CheckError::InvalidParameters("fake".into())))
        );
    }
}
