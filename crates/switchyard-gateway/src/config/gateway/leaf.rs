//! A target (leaf) of a Gateway Config: its provider, credentials, host and options — and the
//! rules that keep the operator's credentials the operator's (they go only to the provider's
//! configured host, and a client can't choose the host, account or headers they are used
//! with).

use std::sync::Arc;

use serde_json::{Map, Value};
use switchyard_providers::native::ProviderOptions;
use switchyard_providers::{AuthStyle, Native, ProviderKind, ProviderSpec};

use super::{is_option_key, Builder, Inherited, Origin};
use crate::auth::aws_chain;
use crate::config::secret::Secret;
use crate::governance::virtual_keys::VirtualKey;
use crate::guardrails::spec::{HookSpec, LeafHooks};
use crate::routing::tree::{Credential, Leaf};
use crate::ssrf::check_custom_host;

/// Credentials given as provider options instead of an API key: AWS keys for Bedrock, a service
/// account for Vertex AI.
fn has_option_credentials(spec: &ProviderSpec, options: &ProviderOptions) -> bool {
    // OCI requests are always signed from options; a missing one is named when signing.
    spec.auth == AuthStyle::OciSignature
        || credential_option(spec).is_some_and(|k| options.contains_key(k))
        || (spec.auth == AuthStyle::AwsSigV4 && aws_chain::names_default_chain(options))
}

/// The option that carries a provider's credentials, for providers that take them that way.
fn credential_option(spec: &ProviderSpec) -> Option<&'static str> {
    match (spec.auth, spec.kind) {
        (AuthStyle::AwsSigV4, _) => Some("aws_access_key_id"),
        (AuthStyle::GoogleOAuth, _) => Some("vertex_service_account_json"),
        (AuthStyle::OciSignature, _) => Some("oracle_private_key"),
        (_, ProviderKind::AzureOpenAi) => Some("azure_ad_token"),
        _ => None,
    }
}

/// The option credentials in use are the operator's (not replaced by the client's own).
fn uses_server_option_credentials(
    spec: &ProviderSpec,
    server: &ProviderOptions,
    effective: &ProviderOptions,
) -> bool {
    let Some(key) = credential_option(spec) else {
        return false;
    };
    if server.get(key).is_some() && server.get(key) == effective.get(key) {
        return true;
    }
    // The gateway's own AWS identity (the default credential chain): only where the operator's
    // options choose it, the target kept that choice and sent no keys of its own.
    spec.auth == AuthStyle::AwsSigV4
        && aws_chain::names_default_chain(server)
        && server.get(aws_chain::OPT_AUTH_TYPE) == effective.get(aws_chain::OPT_AUTH_TYPE)
        && !effective.contains_key(key)
}

/// Options that pick where a target's credentials are sent (an Azure resource is a host) or
/// which account pays: with the operator's credentials only the operator may set them.
const SERVER_CREDENTIAL_PINNED_OPTIONS: &[&str] = &[
    "azure_resource_name",
    "resource_name",
    "openai_organization",
    "openai_project",
    "oracle_compartment_id",
    // Which account or tenant the operator's key acts on.
    "workers_ai_account_id",
    "predibase_tenant_id",
];

impl Builder<'_, '_> {
    pub(super) fn leaf(
        &mut self,
        obj: &Map<String, Value>,
        suffix: &str,
        inherited: Inherited,
        is_root: bool,
    ) -> Option<Leaf> {
        let vk = self.virtual_key(obj, suffix, is_root)?;
        let from_header = obj.get("provider").is_none() && is_root && vk.is_none();
        let slug = match (obj.get("provider"), &vk) {
            (Some(Value::String(p)), Some(vk)) if *p != vk.provider => {
                self.err(
                    &format!("{suffix}.provider"),
                    format!(
                        "the virtual key `{}` is for provider `{}`",
                        vk.name, vk.provider
                    ),
                );
                return None;
            }
            (_, Some(vk)) => vk.provider.as_str(),
            (p, None) => match p {
                Some(Value::String(s)) => s.as_str(),
                Some(_) => {
                    self.err(&format!("{suffix}.provider"), "must be a string");
                    return None;
                }
                None => match self.input.header_provider.filter(|_| is_root) {
                    Some(p) => p,
                    None => {
                        let msg = if is_root {
                            "no provider: send the x-portkey-provider header, or a config with `provider` or `strategy` and `targets`"
                        } else {
                            "a target needs `provider` (or `strategy` and `targets`)"
                        };
                        self.err(&format!("{suffix}.provider"), msg);
                        return None;
                    }
                },
            },
        };
        let Some(entry) = self.input.providers.get(slug).cloned() else {
            let at = if from_header {
                "x-portkey-provider".to_owned()
            } else {
                format!("{}{suffix}.provider", self.err_root)
            };
            self.errs.push(
                &at,
                format!(
                    "unknown provider `{slug}`; known providers: {}",
                    self.input.providers.slugs().join(", ")
                ),
            );
            return None;
        };

        // The options the operator set: the provider's, then the virtual key's.
        let base_options = match &vk {
            Some(vk) => {
                let mut o = entry.options.clone();
                o.extend(vk.options.clone());
                o
            }
            None => entry.options.clone(),
        };
        let mut options = base_options.clone();
        if from_header {
            options.extend(self.input.header_options.clone());
        }
        for (k, v) in obj {
            if is_option_key(k) {
                let s = match v {
                    Value::String(s) => s.clone(),
                    Value::Null => continue,
                    other => other.to_string(),
                };
                options.insert(k.clone(), s);
            }
        }

        if entry.spec.kind == ProviderKind::Native(Native::Bedrock)
            && !options.contains_key("aws_region")
        {
            // Portkey's default region.
            options.insert("aws_region".to_owned(), "us-east-1".to_owned());
        }
        let hooks = leaf_hooks(&inherited);
        if let Some(vk) = &vk {
            return self.virtual_key_leaf(
                obj,
                suffix,
                inherited,
                vk.clone(),
                entry,
                options,
                &base_options,
                hooks,
            );
        }
        let client_host = self.input.origin == Origin::Client;
        let custom_host = self
            .input
            .custom_host
            .filter(|_| client_host)
            .map(str::to_owned)
            .or_else(|| inherited.custom_host.clone());
        if let Some(host) = &custom_host {
            // A public-looking name passes here; the public pool's resolver checks its addresses
            // when each connection is made.
            if client_host {
                if let Err(e) = check_custom_host(host, self.input.trusted_hosts) {
                    self.err(&format!("{suffix}.custom_host"), e);
                }
            } else if let Err(e) = crate::ssrf::validate_base_url(host) {
                self.err(&format!("{suffix}.custom_host"), e);
            }
        }

        let credential = match obj.get("api_key") {
            Some(Value::String(k)) if !k.is_empty() => Credential::Client(Secret::new(k.as_str())),
            Some(Value::String(_) | Value::Null) | None => {
                match self.input.header_key.clone().filter(|_| from_header) {
                    Some(k) => Credential::Client(k),
                    None => match &entry.api_key {
                        Some(k) if self.input.origin == Origin::Server || custom_host.is_none() => {
                            Credential::Server(k.clone())
                        }
                        Some(_) => {
                            self.errs.push_credentials(
                                &format!("{}{suffix}.api_key", self.err_root),
                                format!("a target with a custom host must carry its own api_key (the server's key for `{slug}` is only sent to its configured host)"),
                            );
                            return None;
                        }
                        None if entry.key_optional()
                            || has_option_credentials(entry.spec, &options) =>
                        {
                            Credential::None
                        }
                        None => {
                            let how = if from_header {
                                "send `Authorization: Bearer <key>`"
                            } else {
                                "set `api_key` in the target"
                            };
                            self.errs.push_credentials(
                                &format!("{}{suffix}.api_key", self.err_root),
                                format!("no API key for provider `{slug}`: {how}, or configure providers.{slug}.api_key in the server's config file"),
                            );
                            return None;
                        }
                    },
                }
            }
            Some(_) => {
                self.err(&format!("{suffix}.api_key"), "must be a string");
                return None;
            }
        };

        if matches!(credential, Credential::None)
            && client_host
            && custom_host.is_some()
            && uses_server_option_credentials(entry.spec, &entry.options, &options)
        {
            self.errs.push_credentials(
                &format!("{}{suffix}.custom_host", self.err_root),
                format!("a target with a custom host must carry its own credentials (the server's credentials for `{slug}` are only sent to its configured host)"),
            );
            return None;
        }

        let server_credentials = matches!(credential, Credential::Server(_))
            || (matches!(credential, Credential::None)
                && uses_server_option_credentials(entry.spec, &entry.options, &options));
        if server_credentials {
            // Nothing from a client may choose where the operator's credentials go or which of
            // the operator's accounts pays.
            if client_host
                && inherited
                    .forward_headers
                    .as_ref()
                    .is_some_and(|f| !f.is_empty())
            {
                self.errs.push_credentials(
                    &format!("{}{suffix}.forward_headers", self.err_root),
                    format!("a target using the gateway's credentials for `{slug}` can't forward client headers; send your own api_key to use forward_headers"),
                );
                return None;
            }
            for key in SERVER_CREDENTIAL_PINNED_OPTIONS {
                if options.get(*key) != entry.options.get(*key) {
                    self.errs.push_credentials(
                        &format!("{}{suffix}.{key}", self.err_root),
                        format!("a target using the gateway's credentials for `{slug}` can't set {key}; send your own credentials to choose it"),
                    );
                    return None;
                }
            }
        }
        let client_host = client_host && custom_host.is_some();
        Some(assemble(
            Decided {
                entry,
                credential,
                custom_host,
                client_host,
                server_credentials,
                options,
                hooks,
                virtual_key: None,
            },
            inherited,
        ))
    }

    /// The virtual key a target names (`virtual_key`, or `x-portkey-virtual-key` for a root
    /// without a provider): `Ok(None)` when it names none, `None` after an error.
    fn virtual_key(
        &mut self,
        obj: &Map<String, Value>,
        suffix: &str,
        is_root: bool,
    ) -> Option<Option<Arc<VirtualKey>>> {
        let (name, at) = match obj.get("virtual_key") {
            Some(Value::String(n)) if !n.is_empty() => {
                (n.as_str(), format!("{}{suffix}.virtual_key", self.err_root))
            }
            None | Some(Value::Null) => match self.input.header_virtual_key {
                Some(n) if is_root && obj.get("provider").is_none() => {
                    (n, "x-portkey-virtual-key".to_owned())
                }
                _ => return Some(None),
            },
            Some(_) => {
                self.err(
                    &format!("{suffix}.virtual_key"),
                    "must be a virtual key's name",
                );
                return None;
            }
        };
        match self.input.virtual_keys.get(name) {
            Some(vk) => Some(Some(vk.clone())),
            None => {
                self.errs
                    .push(&at, format!("no virtual key is named `{name}`"));
                None
            }
        }
    }

    /// A target using a virtual key: the operator's credential, sent only where the operator
    /// said (the provider's host, or the virtual key's own `custom_host`).
    #[allow(clippy::too_many_arguments)]
    fn virtual_key_leaf(
        &mut self,
        obj: &Map<String, Value>,
        suffix: &str,
        inherited: Inherited,
        vk: Arc<VirtualKey>,
        entry: Arc<crate::config::providers::ProviderEntry>,
        options: ProviderOptions,
        base_options: &ProviderOptions,
        hooks: Option<Arc<LeafHooks>>,
    ) -> Option<Leaf> {
        let client = self.input.origin == Origin::Client;
        let at = |k: &str| format!("{}{suffix}.{k}", self.err_root);
        if obj.get("api_key").is_some_and(|k| !k.is_null()) {
            self.errs.push(
                &at("api_key"),
                format!(
                    "a target with the virtual key `{}` can't also carry api_key",
                    vk.name
                ),
            );
            return None;
        }
        let client_custom_host = self.input.custom_host.filter(|_| client).is_some()
            || (client && inherited.custom_host.is_some());
        if client_custom_host {
            self.errs.push_credentials(
                &at("custom_host"),
                format!("a target with the virtual key `{}` can't choose its host (the credential goes only where the operator configured it)", vk.name),
            );
            return None;
        }
        if client
            && inherited
                .forward_headers
                .as_ref()
                .is_some_and(|f| !f.is_empty())
        {
            self.errs.push_credentials(
                &at("forward_headers"),
                format!(
                    "a target with the virtual key `{}` can't forward client headers",
                    vk.name
                ),
            );
            return None;
        }
        for key in SERVER_CREDENTIAL_PINNED_OPTIONS {
            if options.get(*key) != base_options.get(*key) {
                self.errs.push_credentials(
                    &at(key),
                    format!(
                        "a target with the virtual key `{}` can't set {key}",
                        vk.name
                    ),
                );
                return None;
            }
        }
        let custom_host = vk.custom_host.clone().or(if client {
            None
        } else {
            inherited.custom_host.clone()
        });
        let credential = match &vk.api_key {
            Some(k) => Credential::Server(k.clone()),
            None => Credential::None,
        };
        Some(assemble(
            Decided {
                entry,
                credential,
                custom_host,
                client_host: false,
                server_credentials: true,
                options,
                hooks,
                virtual_key: Some(vk),
            },
            inherited,
        ))
    }
}

/// What a target's own keys decided: where it goes, with whose credentials.
struct Decided {
    entry: Arc<crate::config::providers::ProviderEntry>,
    credential: Credential,
    custom_host: Option<String>,
    client_host: bool,
    server_credentials: bool,
    options: ProviderOptions,
    hooks: Option<Arc<LeafHooks>>,
    virtual_key: Option<Arc<VirtualKey>>,
}

/// The leaf: what its keys decided, with what it inherited.
fn assemble(d: Decided, inherited: Inherited) -> Leaf {
    Leaf {
        server_credentials: d.server_credentials,
        provider: d.entry,
        credential: d.credential,
        custom_host: d.custom_host,
        client_host: d.client_host,
        forward_headers: inherited.forward_headers.unwrap_or_default(),
        allow_proxy_paths: inherited.allow_proxy_paths.unwrap_or_default(),
        override_params: inherited.override_params,
        retry: inherited.retry.unwrap_or_default(),
        request_timeout: inherited.request_timeout,
        options: d.options,
        cache: inherited.cache,
        hooks: d.hooks,
        strict_open_ai_compliance: inherited.strict_open_ai_compliance,
        virtual_key: d.virtual_key,
        memo: Default::default(),
    }
}

/// A target's hooks: the root's defaults, then its own (or inherited) lists; `None` when it
/// has none, so an unguarded target costs nothing.
fn leaf_hooks(i: &Inherited) -> Option<Arc<LeafHooks>> {
    let join = |d: &Option<Arc<[Arc<HookSpec>]>>, own: &Option<Arc<[Arc<HookSpec>]>>| {
        d.iter()
            .chain(own.iter())
            .flat_map(|l| l.iter().cloned())
            .collect::<Vec<_>>()
    };
    let before = join(&i.default_before, &i.before);
    let after = join(&i.default_after, &i.after);
    if before.is_empty() && after.is_empty() {
        return None;
    }
    Some(Arc::new(LeafHooks {
        before,
        after,
        result_frames: i.strict_open_ai_compliance == Some(false),
    }))
}
