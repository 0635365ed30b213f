//! Portkey's hooks dialect → prepared hooks.
//!
//! Two spellings, as Portkey defines them:
//!
//! - **Hook objects** (`before_request_hooks`, `after_request_hooks`): `{id, type: guardrail |
//!   mutator, checks: [{id, parameters, is_enabled}], deny, async, sequential, on_fail,
//!   on_success}`.
//! - **Shorthand** (`input_guardrails`, `output_guardrails`, `input_mutators`,
//!   `output_mutators`): every key but the hook's own fields is a check id (a bare id means
//!   `default.<id>`) and its value the check's parameters.
//!
//! Either list may name a guardrail of the server file's `guardrails:` section by its name (a
//! string, or an object with only `id`), like Portkey's saved guardrails. Checks are looked up
//! in the [`Catalog`]'s registry and prepared here (regexes compiled, schemas built), so a
//! request only runs them.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use serde_json::{Map, Value};
use switchyard_guardrails::{HookEvent, PreparedCheck, Registry};

use crate::config::errors::ConfigErrors;

/// Guardrail or mutator (Portkey's hook `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookKind {
    Guardrail,
    Mutator,
}

impl HookKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HookKind::Guardrail => "guardrail",
            HookKind::Mutator => "mutator",
        }
    }
}

/// One check of a hook, prepared.
pub struct CheckSpec {
    /// The full id (`default.regexMatch`).
    pub id: String,
    pub check: Arc<dyn PreparedCheck>,
    /// `failOnError`: a check that errors fails its hook (else an error passes).
    pub fail_on_error: bool,
}

impl std::fmt::Debug for CheckSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckSpec")
            .field("id", &self.id)
            .field("fail_on_error", &self.fail_on_error)
            .finish()
    }
}

/// One hook: its checks and what its failure does.
#[derive(Debug)]
pub struct HookSpec {
    pub id: String,
    pub kind: HookKind,
    pub event: HookEvent,
    /// The enabled checks (`is_enabled: false` ones are dropped when parsed).
    pub checks: Vec<CheckSpec>,
    /// A failure denies the request (446) instead of flagging it (246).
    pub deny: bool,
    /// Runs in the background, never delaying or changing the answer; its result is logged.
    pub run_async: bool,
    /// Checks run one after another, each seeing the previous one's rewrite.
    pub sequential: bool,
    pub on_fail: Option<Value>,
    pub on_success: Option<Value>,
}

/// The hooks of one target, after inheritance.
#[derive(Debug, Default)]
pub struct LeafHooks {
    pub before: Vec<Arc<HookSpec>>,
    pub after: Vec<Arc<HookSpec>>,
    /// `strict_open_ai_compliance: false`: hook results go out as an SSE frame of a stream.
    pub result_frames: bool,
}

impl LeafHooks {
    /// Whether any after-request hook may deny (a stream is then held until it passes).
    pub fn after_denies(&self) -> bool {
        self.after.iter().any(|h| h.deny && !h.run_async)
    }
}

/// Where checks and named guardrails come from: the check registry (built-in and the gateway's
/// own I/O checks) and the server file's `guardrails:` section.
#[derive(Clone, Debug)]
pub struct Catalog {
    pub registry: Registry,
    /// Named guardrails, as written (a hook object or shorthand).
    pub named: HashMap<String, Value>,
}

impl Default for Catalog {
    fn default() -> Self {
        Catalog::builtin().clone()
    }
}

impl Catalog {
    /// The built-in checks, and no named guardrails.
    pub fn builtin() -> &'static Catalog {
        static BUILTIN: LazyLock<Catalog> = LazyLock::new(|| Catalog {
            registry: super::registry(),
            named: HashMap::new(),
        });
        &BUILTIN
    }
}

/// The hook fields of a shorthand object; every other key is a check.
const SHORTHAND_FIELDS: &[&str] = &[
    "deny",
    "on_fail",
    "on_success",
    "async",
    "id",
    "type",
    "guardrail_version_id",
    "sequential",
];

const HOOK_KEYS: &[&str] = &[
    "id",
    "type",
    "checks",
    "deny",
    "async",
    "sequential",
    "on_fail",
    "on_success",
    "guardrail_version_id",
    "event_type",
    "name",
];

/// Parses one hook list of a config (`key` is its name, `path` where it is, for errors).
pub struct Parser<'a> {
    pub catalog: &'a Catalog,
    pub errs: &'a mut ConfigErrors,
}

impl Parser<'_> {
    /// `before_request_hooks` / `after_request_hooks` (`shorthand: None`), or a shorthand list
    /// (`shorthand: Some(kind)`).
    pub fn list(
        &mut self,
        v: &Value,
        path: &str,
        event: HookEvent,
        shorthand: Option<HookKind>,
    ) -> Vec<Arc<HookSpec>> {
        let Some(items) = v.as_array() else {
            self.errs.push(path, "must be an array of hooks");
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let at = format!("{path}[{i}]");
            if let Some(h) = self.item(item, &at, event, shorthand, i, 0) {
                out.push(Arc::new(h));
            }
        }
        out
    }

    fn item(
        &mut self,
        item: &Value,
        at: &str,
        event: HookEvent,
        shorthand: Option<HookKind>,
        index: usize,
        depth: u8,
    ) -> Option<HookSpec> {
        // A named guardrail of the server file: `"pii-block"` or `{"id": "pii-block"}`.
        let name = match item {
            Value::String(s) => Some(s.as_str()),
            Value::Object(o) if o.len() == 1 => o.get("id").and_then(Value::as_str),
            _ => None,
        };
        if let Some(name) = name {
            let Some(def) = self.catalog.named.get(name) else {
                self.errs.push(
                    at,
                    format!("no guardrail is named `{name}` in the server's `guardrails` section"),
                );
                return None;
            };
            if depth > 0 {
                self.errs
                    .push(at, "a named guardrail can't name another one");
                return None;
            }
            let def = def.clone();
            let mut h = self.item(
                &def,
                &format!("guardrails.{name}"),
                event,
                Some(shorthand.unwrap_or(HookKind::Guardrail)),
                index,
                depth + 1,
            )?;
            h.id = name.to_owned();
            return Some(h);
        }
        let Some(obj) = item.as_object() else {
            self.errs
                .push(at, "must be a hook object or the name of a guardrail");
            return None;
        };
        // A full hook object (it has `checks`), wherever it is written.
        if obj.contains_key("checks") || shorthand.is_none() {
            self.full(obj, at, event, index)
        } else {
            self.shorthand(
                obj,
                at,
                event,
                shorthand.unwrap_or(HookKind::Guardrail),
                index,
            )
        }
    }

    fn full(
        &mut self,
        obj: &Map<String, Value>,
        at: &str,
        event: HookEvent,
        index: usize,
    ) -> Option<HookSpec> {
        for k in obj.keys() {
            if !HOOK_KEYS.contains(&k.as_str()) {
                self.errs
                    .push(&format!("{at}.{k}"), "is not a field of a hook");
            }
        }
        let kind = match obj.get("type") {
            None | Some(Value::Null) => HookKind::Guardrail,
            Some(Value::String(s)) if s == "guardrail" => HookKind::Guardrail,
            Some(Value::String(s)) if s == "mutator" => HookKind::Mutator,
            Some(_) => {
                self.errs
                    .push(&format!("{at}.type"), "must be `guardrail` or `mutator`");
                HookKind::Guardrail
            }
        };
        let mut checks = Vec::new();
        match obj.get("checks") {
            Some(Value::Array(list)) => {
                for (i, c) in list.iter().enumerate() {
                    let cat = format!("{at}.checks[{i}]");
                    let Some(c) = c.as_object() else {
                        self.errs.push(&cat, "must be an object with `id`");
                        continue;
                    };
                    let Some(id) = c.get("id").and_then(Value::as_str) else {
                        self.errs
                            .push(&format!("{cat}.id"), "is required (a check id)");
                        continue;
                    };
                    if c.get("is_enabled") == Some(&Value::Bool(false)) {
                        continue;
                    }
                    let params = c.get("parameters").cloned().unwrap_or(Value::Null);
                    if let Some(spec) = self.check(id, &params, &cat) {
                        checks.push(spec);
                    }
                }
            }
            None | Some(Value::Null) => {}
            Some(_) => self
                .errs
                .push(&format!("{at}.checks"), "must be an array of checks"),
        }
        let (deny, run_async, sequential) = self.flags(obj, at);
        Some(HookSpec {
            id: self.hook_id(obj, event, index),
            kind,
            event,
            checks,
            deny,
            run_async,
            sequential,
            on_fail: obj.get("on_fail").cloned(),
            on_success: obj.get("on_success").cloned(),
        })
    }

    fn shorthand(
        &mut self,
        obj: &Map<String, Value>,
        at: &str,
        event: HookEvent,
        kind: HookKind,
        index: usize,
    ) -> Option<HookSpec> {
        let mut checks = Vec::new();
        for (key, params) in obj {
            if SHORTHAND_FIELDS.contains(&key.as_str()) {
                continue;
            }
            let id = params.get("id").and_then(Value::as_str).unwrap_or(key);
            if params.get("is_enabled") == Some(&Value::Bool(false)) {
                continue;
            }
            if let Some(spec) = self.check(id, params, &format!("{at}.{key}")) {
                checks.push(spec);
            }
        }
        let (deny, run_async, sequential) = self.flags(obj, at);
        Some(HookSpec {
            id: self.hook_id(obj, event, index),
            kind: match obj.get("type").and_then(Value::as_str) {
                Some("mutator") => HookKind::Mutator,
                Some("guardrail") => HookKind::Guardrail,
                _ => kind,
            },
            event,
            checks,
            deny,
            run_async,
            sequential,
            on_fail: obj.get("on_fail").cloned(),
            on_success: obj.get("on_success").cloned(),
        })
    }

    fn hook_id(&self, obj: &Map<String, Value>, event: HookEvent, index: usize) -> String {
        match obj.get("id").and_then(Value::as_str) {
            Some(id) => id.to_owned(),
            None => {
                let side = match event {
                    HookEvent::BeforeRequest => "input",
                    HookEvent::AfterRequest => "output",
                };
                format!("{side}_guardrail_{}", index + 1)
            }
        }
    }

    fn flags(&mut self, obj: &Map<String, Value>, at: &str) -> (bool, bool, bool) {
        let mut flag = |name: &str| match obj.get(name) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.errs
                    .push(&format!("{at}.{name}"), "must be true or false");
                false
            }
        };
        (flag("deny"), flag("async"), flag("sequential"))
    }

    fn check(&mut self, id: &str, params: &Value, at: &str) -> Option<CheckSpec> {
        let full = if id.contains('.') {
            id.to_owned()
        } else {
            format!("default.{id}")
        };
        let Some(kind) = self.catalog.registry.get(&full) else {
            self.errs.push(
                at,
                format!("unknown check `{full}` (docs/guardrails.md lists the checks)"),
            );
            return None;
        };
        let (params, fail_on_error) = match params {
            Value::Object(p) => {
                let mut p = p.clone();
                for k in ["is_enabled", "id"] {
                    p.remove(k);
                }
                let fail = match p.remove("failOnError") {
                    None | Some(Value::Null) => false,
                    Some(Value::Bool(b)) => b,
                    Some(_) => {
                        self.errs
                            .push(&format!("{at}.failOnError"), "must be true or false");
                        false
                    }
                };
                (Value::Object(p), fail)
            }
            Value::Null | Value::Bool(true) => (Value::Object(Map::new()), false),
            _ => {
                self.errs
                    .push(at, "must be an object of the check's parameters");
                return None;
            }
        };
        match kind.prepare(&params) {
            Ok(check) => Some(CheckSpec {
                id: full,
                check,
                fail_on_error,
            }),
            Err(e) => {
                self.errs.push(at, format!("`{full}`: {e}"));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value, shorthand: Option<HookKind>) -> Result<Vec<Arc<HookSpec>>, String> {
        let mut errs = ConfigErrors::default();
        let mut catalog = Catalog::builtin().clone();
        catalog.named.insert(
            "pii-block".into(),
            json!({"deny": true, "pii": {"action": "block"}}),
        );
        let mut p = Parser {
            catalog: &catalog,
            errs: &mut errs,
        };
        let out = p.list(&v, "config.x", HookEvent::BeforeRequest, shorthand);
        if errs.is_empty() {
            Ok(out)
        } else {
            Err(errs.to_string())
        }
    }

    #[test]
    fn shorthand_keys_are_checks_and_bare_ids_are_default() {
        let hooks = parse(
            json!([{"deny": true, "regexMatch": {"rule": "a+"}, "default.wordCount": {"minWords": 1, "maxWords": 9}}]),
            Some(HookKind::Guardrail),
        )
        .unwrap();
        assert_eq!(hooks.len(), 1);
        let h = &hooks[0];
        assert!(h.deny && !h.run_async && !h.sequential);
        let mut ids: Vec<_> = h.checks.iter().map(|c| c.id.as_str()).collect();
        ids.sort_unstable();
        assert_eq!(ids, ["default.regexMatch", "default.wordCount"]);
        assert_eq!(h.id, "input_guardrail_1");
    }

    #[test]
    fn full_hook_objects_parse_with_their_flags() {
        let hooks = parse(
            json!([{"id": "g1", "type": "mutator", "sequential": true, "async": false,
                    "checks": [{"id": "default.addPrefix", "parameters": {"prefix": "x"}},
                               {"id": "default.regexMatch", "parameters": {"rule": "a"}, "is_enabled": false}]}]),
            None,
        )
        .unwrap();
        let h = &hooks[0];
        assert_eq!(h.id, "g1");
        assert_eq!(h.kind, HookKind::Mutator);
        assert!(h.sequential);
        assert_eq!(h.checks.len(), 1, "the disabled check is dropped");
    }

    #[test]
    fn a_named_guardrail_is_found_by_name() {
        let hooks = parse(json!(["pii-block"]), Some(HookKind::Guardrail)).unwrap();
        assert_eq!(hooks[0].id, "pii-block");
        assert!(hooks[0].deny);
        assert_eq!(hooks[0].checks[0].id, "default.pii");
        let hooks = parse(json!([{"id": "pii-block"}]), None).unwrap();
        assert_eq!(hooks[0].checks[0].id, "default.pii");
    }

    #[test]
    fn mistakes_are_reported_with_their_path() {
        let e = parse(json!(["nope"]), Some(HookKind::Guardrail)).unwrap_err();
        assert!(e.contains("config.x[0]") && e.contains("nope"), "{e}");
        let e = parse(json!([{"notACheck": {}}]), Some(HookKind::Guardrail)).unwrap_err();
        assert!(e.contains("default.notACheck"), "{e}");
        let e = parse(
            json!([{"regexMatch": {"rule": "("}}]),
            Some(HookKind::Guardrail),
        )
        .unwrap_err();
        assert!(e.contains("config.x[0].regexMatch"), "{e}");
        let e = parse(json!([{"checks": [], "deny": "yes"}]), None).unwrap_err();
        assert!(e.contains("config.x[0].deny"), "{e}");
        let e = parse(json!({"a": 1}), None).unwrap_err();
        assert!(e.contains("must be an array"), "{e}");
        let e = parse(
            json!([{"regexMatch": {"rule": "a", "failOnError": 3}}]),
            Some(HookKind::Guardrail),
        )
        .unwrap_err();
        assert!(e.contains("failOnError"), "{e}");
    }

    #[test]
    fn every_documented_check_example_parses() {
        let doc = include_str!("../../../../docs/guardrails.md");
        let start = doc
            .find("```jsonc\n")
            .expect("guardrails.md has the examples")
            + 9;
        let len = doc[start..].find("```").unwrap();
        let mut seen = 0;
        for line in doc[start..start + len]
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            let json = line.split("   //").next().unwrap().trim();
            let v: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{line}: {e}"));
            let hooks = parse(json!([v]), Some(HookKind::Guardrail))
                .unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(hooks[0].checks.len(), 1, "{line}");
            seen += 1;
        }
        let registry = super::super::registry();
        assert_eq!(seen, registry.ids().count(), "one example per check");
    }

    #[test]
    fn fail_on_error_is_read_and_not_passed_to_the_check() {
        let hooks = parse(
            json!([{"regexMatch": {"rule": "a", "failOnError": true}}]),
            Some(HookKind::Guardrail),
        )
        .unwrap();
        assert!(hooks[0].checks[0].fail_on_error);
    }
}
