//! Portkey's JSON Gateway Config → the routing tree.
//!
//! Accepts the config exactly as Portkey documents it (snake_case keys, `strategy` + nested
//! `targets`, `retry`, `request_timeout`, `override_params`, …), validates every field in one
//! pass (each problem with its path), and resolves inheritance so each leaf is self-contained.
//! Unknown keys are refused (a typo must not silently change routing); keys of features this
//! gateway does not have are refused with a clear message. Hooks and
//! guardrails are parsed by `guardrails::spec`.
//! A target's provider, credentials and options are resolved in [`leaf`].

mod leaf;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use switchyard_providers::native::ProviderOptions;

use super::errors::ConfigErrors;
use super::keys;
use super::providers::Providers;
use super::secret::Secret;
use crate::cache::policy::CachePolicy;
use crate::governance::virtual_keys::VirtualKey;
use crate::guardrails::spec::{Catalog, HookKind, HookSpec, Parser};
use crate::routing::query::Query;
use crate::routing::tree::{
    Condition, Group, Mode, Node, NodeKind, RetryPolicy, DEFAULT_RETRY_STATUSES,
};
use crate::ssrf::TrustedHosts;
use switchyard_guardrails::HookEvent;

/// Most retries one target may ask for (Portkey's documented limit).
pub const MAX_RETRY_ATTEMPTS: u64 = 5;

/// Who wrote the config: a client (per request) or the operator (the server's config file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Client,
    Server,
}

/// Everything besides the config itself that building a tree needs.
pub struct BuildInput<'a> {
    pub providers: &'a Providers,
    pub origin: Origin,
    pub trusted_hosts: &'a TrustedHosts,
    /// `x-portkey-provider`: the provider of a root that has neither `provider` nor `targets`.
    pub header_provider: Option<&'a str>,
    /// The `Authorization` bearer key, used with `header_provider` only (as Portkey does).
    pub header_key: Option<Secret>,
    /// Provider options from `x-portkey-*` headers, for the `header_provider` leaf.
    pub header_options: ProviderOptions,
    /// `x-portkey-custom-host`: beats every leaf's `custom_host`.
    pub custom_host: Option<&'a str>,
    /// The server file configures `cache.semantic` (else `mode: semantic` is an error).
    pub semantic_cache: bool,
    /// The guardrail checks and the server file's named guardrails.
    pub guardrails: &'a Catalog,
    /// The virtual keys targets may name (`virtual_key`).
    pub virtual_keys: &'a HashMap<String, Arc<VirtualKey>>,
    /// `x-portkey-virtual-key`: the credential of a root that has neither `provider` nor
    /// `targets`.
    pub header_virtual_key: Option<&'a str>,
}

impl<'a> BuildInput<'a> {
    pub fn new(providers: &'a Providers, origin: Origin, trusted_hosts: &'a TrustedHosts) -> Self {
        BuildInput {
            providers,
            origin,
            trusted_hosts,
            header_provider: None,
            header_key: None,
            header_options: ProviderOptions::new(),
            custom_host: None,
            semantic_cache: false,
            guardrails: Catalog::builtin(),
            virtual_keys: no_virtual_keys(),
            header_virtual_key: None,
        }
    }
}

/// An empty set of virtual keys.
pub fn no_virtual_keys() -> &'static HashMap<String, Arc<VirtualKey>> {
    static EMPTY: std::sync::OnceLock<HashMap<String, Arc<VirtualKey>>> =
        std::sync::OnceLock::new();
    EMPTY.get_or_init(HashMap::new)
}

/// Builds the tree of `config`, reporting problems under `err_root` (e.g. `config` or
/// `routes.fast`). Node paths (for `x-portkey-last-used-option-index`) always start at `config`.
pub fn build(config: &Value, err_root: &str, input: &BuildInput<'_>) -> Result<Node, ConfigErrors> {
    build_tree(config, err_root, input).map(|b| b.node)
}

/// A tree, and the keys of its config that were ignored (`keys.rs`), by path.
pub struct Built {
    pub node: Node,
    pub ignored: Vec<String>,
}

/// [`build`], also reporting the keys it ignored.
pub fn build_tree(
    config: &Value,
    err_root: &str,
    input: &BuildInput<'_>,
) -> Result<Built, ConfigErrors> {
    let mut b = Builder {
        input,
        err_root,
        errs: ConfigErrors::default(),
        ignored: Vec::new(),
    };
    let node = b.node(config, "", &Inherited::default(), true);
    match node {
        Some(node) if b.errs.is_empty() => Ok(Built {
            node,
            ignored: b.ignored,
        }),
        _ => {
            if b.errs.is_empty() {
                b.errs.push(err_root, "invalid configuration");
            }
            Err(b.errs)
        }
    }
}

/// Values a node passes down to its targets.
#[derive(Default, Clone)]
struct Inherited {
    override_params: Vec<(String, Box<RawValue>)>,
    retry: Option<RetryPolicy>,
    custom_host: Option<String>,
    forward_headers: Option<Vec<HeaderName>>,
    request_timeout: Option<Duration>,
    allow_proxy_paths: Option<Vec<String>>,
    cache: Option<CachePolicy>,
    /// Input and output hooks: a node's own lists replace the inherited ones.
    before: Option<Arc<[Arc<HookSpec>]>>,
    after: Option<Arc<[Arc<HookSpec>]>>,
    /// `default_input_guardrails` / `default_output_guardrails` of the root: every target's.
    default_before: Option<Arc<[Arc<HookSpec>]>>,
    default_after: Option<Arc<[Arc<HookSpec>]>>,
    strict_open_ai_compliance: Option<bool>,
}

/// The hook lists of a node, each key with its event and kind (`None`: hook objects).
const HOOK_LISTS: &[(&str, HookEvent, Option<HookKind>)] = &[
    ("before_request_hooks", HookEvent::BeforeRequest, None),
    (
        "input_guardrails",
        HookEvent::BeforeRequest,
        Some(HookKind::Guardrail),
    ),
    (
        "input_mutators",
        HookEvent::BeforeRequest,
        Some(HookKind::Mutator),
    ),
    ("after_request_hooks", HookEvent::AfterRequest, None),
    (
        "output_guardrails",
        HookEvent::AfterRequest,
        Some(HookKind::Guardrail),
    ),
    (
        "output_mutators",
        HookEvent::AfterRequest,
        Some(HookKind::Mutator),
    ),
];

const NODE_KEYS: &[&str] = &[
    "strategy",
    "targets",
    "name",
    "weight",
    "provider",
    "api_key",
    "custom_host",
    "forward_headers",
    "override_params",
    "retry",
    "request_timeout",
    "cache",
    "strict_open_ai_compliance",
    "on_status_codes",
    "id",
    "allow_proxy_paths",
    "total_timeout",
    "before_request_hooks",
    "after_request_hooks",
    "input_guardrails",
    "output_guardrails",
    "input_mutators",
    "output_mutators",
    "default_input_guardrails",
    "default_output_guardrails",
    "virtual_key",
];

const STRATEGY_KEYS: &[&str] = &["mode", "on_status_codes", "conditions", "default"];

const RETRY_KEYS: &[&str] = &[
    "attempts",
    "on_status_codes",
    "use_retry_after_header",
    "use_retry_after_headers",
    "after_send",
];

/// Keys refused with a reason (none today; virtual keys were, until they existed).
const UNSUPPORTED_KEYS: &[(&str, &str)] = &[];

/// Provider-specific fields, passed to the provider adapter as options.
const OPTION_PREFIXES: &[&str] = &[
    "aws_",
    "vertex_",
    "azure_",
    "anthropic_",
    "openai_",
    "google_",
    "fireworks_",
    "huggingface_",
    "mistral_",
    "workers_ai_",
    "predibase_",
    "amzn_sagemaker_",
    "oracle_",
];
const OPTION_KEYS: &[&str] = &["deployment_id", "api_version", "resource_name"];

pub(crate) fn is_option_key(key: &str) -> bool {
    OPTION_KEYS.contains(&key) || OPTION_PREFIXES.iter().any(|p| key.starts_with(p))
}

struct Builder<'i, 'a> {
    input: &'i BuildInput<'a>,
    err_root: &'i str,
    errs: ConfigErrors,
    /// Keys that are no config key (`keys.rs`), by path.
    ignored: Vec<String>,
}

impl Builder<'_, '_> {
    fn err(&mut self, suffix: &str, msg: impl Into<String>) {
        let path = format!("{}{}", self.err_root, suffix);
        self.errs.push(&path, msg);
    }

    fn node(&mut self, v: &Value, suffix: &str, parent: &Inherited, is_root: bool) -> Option<Node> {
        let Some(obj) = v.as_object() else {
            self.err(suffix, "must be a JSON object");
            return None;
        };
        let obj = &*keys::normalized(obj, NODE_KEYS, &|k| {
            is_option_key(k) || UNSUPPORTED_KEYS.iter().any(|(u, _)| *u == k)
        });
        self.check_keys(obj, suffix);
        let inherited = self.inherit(obj, suffix, parent);
        let name = match obj.get("name") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.err(&format!("{suffix}.name"), "must be a string");
                None
            }
        };
        let weight = match obj.get("weight") {
            None | Some(Value::Null) => 1.0,
            Some(w) => match w.as_f64() {
                Some(w) if w.is_finite() && w >= 0.0 => w,
                _ => {
                    self.err(&format!("{suffix}.weight"), "must be a number >= 0");
                    1.0
                }
            },
        };
        let total_timeout = match obj.get("total_timeout") {
            None | Some(Value::Null) => None,
            Some(_) if !is_root => {
                self.err(
                    &format!("{suffix}.total_timeout"),
                    "bounds the whole request: set it at the top level of the config",
                );
                None
            }
            Some(v) => match v.as_u64() {
                Some(ms) if ms > 0 => Some(Duration::from_millis(ms)),
                _ => {
                    self.err(
                        &format!("{suffix}.total_timeout"),
                        "must be a positive whole number of milliseconds",
                    );
                    None
                }
            },
        };
        let path: Arc<str> = format!("config{suffix}").into();
        let kind = if obj.contains_key("targets") || obj.contains_key("strategy") {
            NodeKind::Group(self.group(obj, suffix, &inherited)?)
        } else {
            NodeKind::Leaf(Arc::new(self.leaf(obj, suffix, inherited, is_root)?))
        };
        Some(Node {
            path,
            name,
            weight,
            kind,
            total_timeout,
        })
    }

    fn check_keys(&mut self, obj: &Map<String, Value>, suffix: &str) {
        for key in obj.keys() {
            let k = key.as_str();
            if NODE_KEYS.contains(&k) || is_option_key(k) {
                continue;
            }
            let here = format!("{suffix}.{k}");
            if let Some((_, why)) = UNSUPPORTED_KEYS.iter().find(|(u, _)| *u == k) {
                self.err(&here, *why);
            } else if k == "mode" || k == "options" {
                self.err(
                    &here,
                    "this is the legacy config format; use `strategy: {mode: ...}` and `targets: [...]`",
                );
            } else {
                self.unknown_key(k, &here, NODE_KEYS);
            }
        }
    }

    /// A key its level does not know: a typo of a known key (or, on a node, of a refused one)
    /// is refused, anything else is ignored and reported (`keys.rs`). The legacy format's
    /// `mode` and `options` are refused by name only, so `model` is never taken for a typo of
    /// `mode`.
    fn unknown_key(&mut self, key: &str, here: &str, known: &[&'static str]) {
        let verdict = match keys::classify(key, known, &|_| false) {
            keys::KeyVerdict::Ignored if known == NODE_KEYS => {
                let refused: Vec<&'static str> = UNSUPPORTED_KEYS.iter().map(|(k, _)| *k).collect();
                keys::classify(key, &refused, &|_| false)
            }
            other => other,
        };
        match verdict {
            keys::KeyVerdict::Typo(meant) => {
                self.err(here, format!("unknown field; did you mean `{meant}`?"))
            }
            keys::KeyVerdict::Ignored => self.ignored.push(format!("{}{here}", self.err_root)),
            keys::KeyVerdict::Known(_) => self.err(here, "unknown field"),
        }
    }

    fn inherit(&mut self, obj: &Map<String, Value>, suffix: &str, parent: &Inherited) -> Inherited {
        let mut out = parent.clone();
        if let Some(v) = obj.get("override_params") {
            match v {
                Value::Object(m) => {
                    for (k, val) in m {
                        match serde_json::value::to_raw_value(val) {
                            Ok(raw) => {
                                out.override_params.retain(|(pk, _)| pk != k);
                                out.override_params.push((k.clone(), raw));
                            }
                            Err(e) => {
                                self.err(&format!("{suffix}.override_params.{k}"), e.to_string())
                            }
                        }
                    }
                }
                Value::Null => {}
                _ => self.err(&format!("{suffix}.override_params"), "must be an object"),
            }
        }
        if let Some(v) = obj.get("retry") {
            out.retry = self.retry(v, &format!("{suffix}.retry"));
        }
        // Portkey's `azure_foundry_url` names an `azure-ai` target's host: read as its
        // `custom_host` (with every check a custom host gets) when it has none.
        let foundry = (obj.get("provider").and_then(Value::as_str) == Some("azure-ai"))
            .then(|| obj.get(crate::config::file::FOUNDRY_URL))
            .flatten();
        if let Some(v) = obj.get("custom_host").or(foundry) {
            match v {
                Value::String(s) if !s.is_empty() => out.custom_host = Some(s.clone()),
                Value::String(_) | Value::Null => {}
                _ => self.err(&format!("{suffix}.custom_host"), "must be a string"),
            }
        }
        if let Some(v) = obj.get("forward_headers") {
            let at = format!("{suffix}.forward_headers");
            let names = self.header_names(v, &at);
            if let Err(e) = crate::upstream::headers::check_forwardable(&names) {
                self.err(&at, e);
            }
            out.forward_headers = Some(names);
        }
        if let Some(v) = obj.get("cache") {
            // A node's own cache replaces the inherited one (`null` turns it off).
            match crate::cache::policy::parse(v, self.input.semantic_cache) {
                Ok(policy) => out.cache = policy,
                Err((sub, msg)) => self.err(&format!("{suffix}.cache{sub}"), msg),
            }
        }
        if let Some(v) = obj.get("allow_proxy_paths") {
            let at = format!("{suffix}.allow_proxy_paths");
            if self.input.origin == Origin::Client {
                self.err(
                    &at,
                    "only the server's config file may open /v1/* pass-through on its credentials",
                );
            } else {
                match v.as_array() {
                    Some(list) => {
                        let mut paths = Vec::with_capacity(list.len());
                        for (i, p) in list.iter().enumerate() {
                            match p.as_str().map(|p| p.trim().trim_matches('/')) {
                                Some(p) if !p.is_empty() && !p.contains('?') => {
                                    paths.push(p.to_owned())
                                }
                                _ => self.err(
                                    &format!("{at}[{i}]"),
                                    "must be a path after /v1/ such as `files` or `batches`, or `*`",
                                ),
                            }
                        }
                        out.allow_proxy_paths = Some(paths);
                    }
                    None => self.err(
                        &at,
                        "must be an array of paths such as [\"files\", \"batches\"]",
                    ),
                }
            }
        }
        self.inherit_hooks(obj, suffix, &mut out);
        if let Some(v) = obj.get("request_timeout") {
            match v.as_u64() {
                Some(ms) if ms > 0 => out.request_timeout = Some(Duration::from_millis(ms)),
                _ if v.is_null() => {}
                _ => self.err(
                    &format!("{suffix}.request_timeout"),
                    "must be a positive whole number of milliseconds",
                ),
            }
        }
        out
    }

    /// A node's hook lists (Portkey: the node's `before_request_hooks`, then its
    /// `input_guardrails`, then its `input_mutators`; the same for output), replacing the
    /// inherited ones when it has any of them.
    fn inherit_hooks(&mut self, obj: &Map<String, Value>, suffix: &str, out: &mut Inherited) {
        let mut own: [Option<Vec<Arc<HookSpec>>>; 2] = [None, None];
        for (key, event, kind) in HOOK_LISTS {
            let Some(v) = obj.get(*key) else { continue };
            let hooks = Parser {
                catalog: self.input.guardrails,
                errs: &mut self.errs,
            }
            .list(
                v,
                &format!("{}{suffix}.{key}", self.err_root),
                *event,
                *kind,
            );
            let side = usize::from(*event == HookEvent::AfterRequest);
            own[side].get_or_insert_with(Vec::new).extend(hooks);
        }
        let [before, after] = own;
        if let Some(b) = before {
            out.before = Some(b.into());
        }
        if let Some(a) = after {
            out.after = Some(a.into());
        }
        for (key, event, slot) in [
            (
                "default_input_guardrails",
                HookEvent::BeforeRequest,
                &mut out.default_before,
            ),
            (
                "default_output_guardrails",
                HookEvent::AfterRequest,
                &mut out.default_after,
            ),
        ] {
            let Some(v) = obj.get(key) else { continue };
            if !suffix.is_empty() {
                self.errs.push(
                    &format!("{}{suffix}.{key}", self.err_root),
                    "applies to every target: set it at the top level of the config",
                );
                continue;
            }
            let hooks = Parser {
                catalog: self.input.guardrails,
                errs: &mut self.errs,
            }
            .list(
                v,
                &format!("{}.{key}", self.err_root),
                event,
                Some(HookKind::Guardrail),
            );
            *slot = Some(hooks.into());
        }
        match obj.get("strict_open_ai_compliance") {
            None | Some(Value::Null) => {}
            Some(Value::Bool(b)) => out.strict_open_ai_compliance = Some(*b),
            Some(_) => self.err(
                &format!("{suffix}.strict_open_ai_compliance"),
                "must be true or false",
            ),
        }
    }

    fn retry(&mut self, v: &Value, here: &str) -> Option<RetryPolicy> {
        let obj = match v {
            Value::Null => return None,
            Value::Object(o) => keys::normalized(o, RETRY_KEYS, &|_| false),
            _ => {
                self.err(here, "must be an object like {\"attempts\": 3}");
                return None;
            }
        };
        let mut policy = RetryPolicy {
            attempts: 0,
            on_status_codes: DEFAULT_RETRY_STATUSES.to_vec(),
            use_retry_after_header: false,
            after_send: false,
        };
        for (k, val) in obj.iter() {
            let at = format!("{here}.{k}");
            match k.as_str() {
                "attempts" => match val.as_u64() {
                    Some(n) if n <= MAX_RETRY_ATTEMPTS => policy.attempts = n as u32,
                    _ => self.err(
                        &at,
                        format!("must be a whole number from 0 to {MAX_RETRY_ATTEMPTS}"),
                    ),
                },
                "on_status_codes" => {
                    if let Some(codes) = self.status_codes(val, &at) {
                        policy.on_status_codes = codes;
                    }
                }
                "use_retry_after_header" | "use_retry_after_headers" => match val.as_bool() {
                    Some(b) => policy.use_retry_after_header = b,
                    None => self.err(&at, "must be true or false"),
                },
                "after_send" => match val.as_bool() {
                    Some(b) => policy.after_send = b,
                    None => self.err(&at, "must be true or false"),
                },
                other => {
                    let at = at.strip_prefix(self.err_root).unwrap_or(&at).to_owned();
                    self.unknown_key(other, &at, RETRY_KEYS)
                }
            }
        }
        if !obj.contains_key("attempts") {
            self.err(&format!("{here}.attempts"), "is required");
        }
        Some(policy)
    }

    fn status_codes(&mut self, v: &Value, here: &str) -> Option<Vec<u16>> {
        let Some(arr) = v.as_array() else {
            self.err(here, "must be an array of HTTP status codes");
            return None;
        };
        let mut out = Vec::with_capacity(arr.len());
        for (i, c) in arr.iter().enumerate() {
            match c.as_u64() {
                Some(n @ 100..=599) => out.push(n as u16),
                _ => self.err(
                    &format!("{here}[{i}]"),
                    "must be an HTTP status code (100-599)",
                ),
            }
        }
        Some(out)
    }

    fn header_names(&mut self, v: &Value, here: &str) -> Vec<HeaderName> {
        let Some(arr) = v.as_array() else {
            self.err(here, "must be an array of header names");
            return vec![];
        };
        let mut out = Vec::with_capacity(arr.len());
        for (i, h) in arr.iter().enumerate() {
            match h
                .as_str()
                .map(|s| HeaderName::from_bytes(s.trim().as_bytes()))
            {
                Some(Ok(name)) => out.push(name),
                _ => self.err(&format!("{here}[{i}]"), "must be a valid header name"),
            }
        }
        out
    }

    fn group(
        &mut self,
        obj: &Map<String, Value>,
        suffix: &str,
        inherited: &Inherited,
    ) -> Option<Group> {
        let strategy_at = format!("{suffix}.strategy");
        let Some(strategy) = obj
            .get("strategy")
            .and_then(Value::as_object)
            .map(|s| keys::normalized(s, STRATEGY_KEYS, &|_| false))
        else {
            self.err(
                &strategy_at,
                "is required with `targets` and must be an object like {\"mode\": \"fallback\"}",
            );
            return None;
        };
        let mode = match strategy.get("mode").and_then(Value::as_str) {
            Some("single") => Mode::Single,
            Some("fallback") => Mode::Fallback,
            Some("loadbalance") => Mode::LoadBalance,
            Some("conditional") => Mode::Conditional,
            Some(other) => {
                self.err(
                    &format!("{strategy_at}.mode"),
                    format!("unknown mode `{other}` (expected single, fallback, loadbalance or conditional)"),
                );
                return None;
            }
            None => {
                self.err(&format!("{strategy_at}.mode"), "is required");
                return None;
            }
        };
        for k in strategy.keys() {
            if !STRATEGY_KEYS.contains(&k.as_str()) {
                self.unknown_key(k, &format!("{suffix}.strategy.{k}"), STRATEGY_KEYS);
            }
        }
        let on_status_codes = strategy
            .get("on_status_codes")
            .and_then(|v| self.status_codes(v, &format!("{strategy_at}.on_status_codes")));

        let targets_at = format!("{suffix}.targets");
        let Some(raw_targets) = obj.get("targets").and_then(Value::as_array) else {
            self.err(
                &targets_at,
                "is required with `strategy` and must be an array",
            );
            return None;
        };
        if raw_targets.is_empty() {
            self.err(&targets_at, "must not be empty");
            return None;
        }
        let mut targets = Vec::with_capacity(raw_targets.len());
        for (i, t) in raw_targets.iter().enumerate() {
            if let Some(n) = self.node(t, &format!("{targets_at}[{i}]"), inherited, false) {
                targets.push(n);
            }
        }
        if targets.len() != raw_targets.len() {
            return None;
        }
        if mode == Mode::LoadBalance && targets.iter().all(|t| t.weight <= 0.0) {
            self.err(&targets_at, "at least one target needs a weight above 0");
        }
        let index_of = |name: &str| targets.iter().position(|t| t.name.as_deref() == Some(name));
        let mut conditions = Vec::new();
        let mut default = None;
        if mode == Mode::Conditional {
            for (i, t) in targets.iter().enumerate() {
                if let Some(n) = &t.name {
                    if targets[..i].iter().any(|o| o.name.as_deref() == Some(n)) {
                        self.err(
                            &format!("{targets_at}[{i}].name"),
                            format!("duplicate target name `{n}`"),
                        );
                    }
                }
            }
            let cond_at = format!("{strategy_at}.conditions");
            match strategy.get("conditions").and_then(Value::as_array) {
                Some(list) if !list.is_empty() => {
                    for (i, c) in list.iter().enumerate() {
                        let at = format!("{cond_at}[{i}]");
                        let then = c.get("then").and_then(Value::as_str);
                        let then_idx = match then {
                            Some(name) => match index_of(name) {
                                Some(idx) => Some(idx),
                                None => {
                                    self.err(
                                        &format!("{at}.then"),
                                        format!("no target is named `{name}`"),
                                    );
                                    None
                                }
                            },
                            None => {
                                self.err(&format!("{at}.then"), "is required (a target name)");
                                None
                            }
                        };
                        let full_at = format!("{}{at}.query", self.err_root);
                        let query = match c.get("query") {
                            Some(q) => Query::parse(q, &full_at, &mut self.errs),
                            None => {
                                self.err(&format!("{at}.query"), "is required");
                                None
                            }
                        };
                        if let (Some(query), Some(then)) = (query, then_idx) {
                            conditions.push(Condition { query, then });
                        }
                    }
                }
                _ => self.err(
                    &cond_at,
                    "conditional routing needs a non-empty `conditions` array",
                ),
            }
            match strategy.get("default") {
                None | Some(Value::Null) => {}
                Some(Value::String(name)) => match index_of(name) {
                    Some(idx) => default = Some(idx),
                    None => self.err(
                        &format!("{strategy_at}.default"),
                        format!("no target is named `{name}`"),
                    ),
                },
                Some(_) => self.err(&format!("{strategy_at}.default"), "must be a target name"),
            }
        }
        Some(Group {
            mode,
            targets,
            on_status_codes,
            conditions,
            default,
        })
    }
}
