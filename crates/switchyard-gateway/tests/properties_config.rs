//! Property tests for configuration: Portkey Gateway Configs (`config::gateway::build`), the
//! server's YAML file (`GatewayConfig::from_yaml`) and target selection on the trees they build.
//!
//! Configs are generated from the real keys (strategy, targets, provider, weight, retry, …) and
//! values that are sometimes right, sometimes of the wrong type, mixed with junk keys; a
//! client sends these per request, so nothing may panic and every error must name its field.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use switchyard_gateway::config::gateway::{build, BuildInput, Origin};
use switchyard_gateway::config::providers::Providers;
use switchyard_gateway::routing::query::Facts;
use switchyard_gateway::routing::select::{pick_conditional, pick_weighted};
use switchyard_gateway::routing::tree::{Mode, Node, NodeKind};
use switchyard_gateway::ssrf::TrustedHosts;
use switchyard_gateway::GatewayConfig;

/// Cases per property: 256 in the normal suite (each file runs in a few seconds); set
/// `PROPTEST_CASES` for a longer hunt.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256)
}

/// Like `proptest!`, but each property runs on a thread with a 64 MiB stack: the generators of
/// nested values recurse through large frames in unoptimised builds, and 2 MiB (the test
/// threads' default) is not always enough. The failing input is in the panic message.
macro_rules! properties {
    ($(#[test] fn $name:ident($($arg:pat in $strat:expr),+ $(,)?) $body:block)*) => {$(
        #[test]
        fn $name() {
            let thread = std::thread::Builder::new()
                .name(stringify!($name).into())
                .stack_size(64 << 20)
                .spawn(|| {
                    let config = ProptestConfig {
                        failure_persistence: None,
                        ..ProptestConfig::with_cases(cases())
                    };
                    let mut runner = proptest::test_runner::TestRunner::new(config);
                    runner
                        .run(&($($strat,)+), |($($arg,)+)| {
                            $body
                            Ok(())
                        })
                        .map_err(|e| e.to_string())
                })
                .unwrap();
            match thread.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => panic!("{}: {e}", stringify!($name)),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    )*};
}

fn junk() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        prop::sample::select(vec![
            json!(0),
            json!(-1),
            json!(1.5),
            json!(1e308),
            json!(u64::MAX),
            json!(i64::MIN)
        ]),
        ".{0,10}".prop_map(Value::String),
        Just(json!([])),
        Just(json!({})),
        Just(json!([1, "a", null])),
    ]
}

/// Mostly `valid`, sometimes a value of the wrong type or shape.
fn mostly<S: Strategy<Value = Value> + 'static>(valid: S) -> BoxedStrategy<Value> {
    prop_oneof![30 => valid, 1 => junk()].boxed()
}

fn provider() -> BoxedStrategy<Value> {
    mostly(prop_oneof![
        30 => prop::sample::select(vec![
            "openai", "anthropic", "bedrock", "vertex-ai", "google", "cohere", "azure-openai",
            "groq", "mistral-ai", "together-ai", "ollama", "openrouter", "deepseek",
        ])
        .prop_map(Value::from),
        1 => prop::sample::select(vec!["OpenAI", "nope", "", "open ai"]).prop_map(Value::from),
    ])
}

fn custom_host() -> BoxedStrategy<Value> {
    mostly(prop_oneof![
        30 => prop::sample::select(vec![
            "https://api.example.com/v1",
            "http://localhost:11434",
            "http://127.0.0.1:8080/v1",
            "http://[::1]:80",
            "",
        ])
        .prop_map(Value::from),
        1 => prop::sample::select(vec![
            "http://10.0.0.1",
            "http://169.254.169.254/latest",
            "http://[fe80::1]",
            "https://user:pw@example.com",
            "ftp://example.com",
            "https://",
            "example.com",
            "http://0x7f.1",
            "http://2130706433",
            "https://exa mple.com",
        ])
        .prop_map(Value::from),
    ])
}

fn status_codes() -> BoxedStrategy<Value> {
    mostly(
        prop::collection::vec(
            prop_oneof![
                30 => prop::sample::select(vec![429, 500, 502, 503, 504, 408]).prop_map(Value::from),
                1 => prop::sample::select(vec![json!(99), json!(600), json!("429")]),
            ],
            0..4,
        )
        .prop_map(Value::Array),
    )
}

fn retry() -> BoxedStrategy<Value> {
    mostly(
        (
            prop_oneof![60 => (0u64..=5).prop_map(|n| Some(Value::from(n))), 1 => Just(None), 1 => Just(Some(json!(6)))],
            prop::option::of(status_codes()),
            prop::option::of(mostly(any::<bool>().prop_map(Value::Bool))),
            prop_oneof![
                30 => Just(None),
                3 => Just(Some("use_retry_after_headers")),
                1 => Just(Some("backoff")),
            ],
        )
            .prop_map(|(attempts, codes, after, extra)| {
                let mut m = Map::new();
                attempts.map(|v| m.insert("attempts".into(), v));
                codes.map(|v| m.insert("on_status_codes".into(), v));
                after.map(|v| m.insert("use_retry_after_header".into(), v));
                extra.map(|k| m.insert(k.into(), json!(true)));
                Value::Object(m)
            }),
    )
}

fn header_names() -> BoxedStrategy<Value> {
    mostly(
        prop::collection::vec(
            prop_oneof![
                30 => prop::sample::select(vec!["x-trace-id", "X-Request-Id", " x-pad ", "traceparent"]).prop_map(Value::from),
                1 => prop::sample::select(vec!["bad header", "", "é"]).prop_map(Value::from),
            ],
            0..4,
        )
        .prop_map(Value::Array),
    )
}

/// A `metadata.*` / `params.*` query, with operators of every kind (and wrong ones).
fn query() -> BoxedStrategy<Value> {
    let operand = prop_oneof![
        30 => prop::sample::select(vec![
            json!("paid"),
            json!(5),
            json!(null),
            json!({"$eq": "paid"}),
            json!({"$ne": 1}),
            json!({"$gt": 0.5, "$lte": "7"}),
            json!({"$in": ["a", "b"]}),
            json!({"$nin": []}),
            json!({"$regex": "^u[0-9]+$"}),
            json!({"$regex": "\\p{Greek}+"}),
            json!({"plain": "object"}),
        ]),
        1 => prop::sample::select(vec![
            json!({"$gte": "x"}),
            json!({"$lt": null}),
            json!({"$nin": "a"}),
            json!({"$regex": "("}),
            json!({"$regex": 5}),
            json!({"$exists": true}),
        ]),
    ];
    let key = prop_oneof![
        30 => prop::sample::select(vec!["metadata.user_plan", "params.model", "params.response_format.type", "metadata.a.b"]),
        1 => prop::sample::select(vec!["metadata", "params.", "metadata..x", "other.x", "$foo", ""]),
    ];
    let field = prop::collection::vec((key, operand), 1..3)
        .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()));
    field
        .prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                10 => (prop::sample::select(vec!["$and", "$or"]), prop::collection::vec(inner.clone(), 0..3))
                    .prop_map(|(op, qs)| json!({ op: qs })),
                1 => (prop::sample::select(vec!["$and", "$or"]), junk()).prop_map(|(op, v)| json!({ op: v })),
                10 => inner,
            ]
        })
        .boxed()
}

/// Extra members for a node: provider options (valid) and, rarely, unsupported, legacy or
/// unknown keys.
fn node_extras() -> impl Strategy<Value = Vec<(String, Value)>> {
    let option = (
        prop::sample::select(vec![
            "aws_region",
            "aws_access_key_id",
            "aws_secret_access_key",
            "vertex_project_id",
            "vertex_region",
            "vertex_service_account_json",
            "azure_ad_token",
            "resource_name",
            "deployment_id",
            "api_version",
            "anthropic_version",
            "openai_organization",
        ]),
        prop_oneof![10 => ".{0,8}".prop_map(Value::String), 1 => junk()],
    )
        .prop_map(|(k, v)| (k.to_owned(), v));
    let known = (
        prop::sample::select(vec![
            "cache",
            "strict_open_ai_compliance",
            "id",
            "on_status_codes",
            "before_request_hooks",
            "output_guardrails",
        ]),
        junk(),
    )
        .prop_map(|(k, v)| (k.to_owned(), v));
    let bad = (
        prop_oneof![
            prop::sample::select(vec![
                "virtual_key",
                "mode",
                "options",
                "Provider",
                "unknown"
            ])
            .prop_map(String::from),
            "[a-zA-Z_]{1,8}",
        ],
        junk(),
    );
    prop::collection::vec(prop_oneof![20 => option, 5 => known, 1 => bad], 0..3)
}

#[allow(clippy::type_complexity)]
fn common_members() -> impl Strategy<Value = Vec<(&'static str, Value)>> {
    (
        prop::option::of(mostly(prop::sample::select(vec!["a", "b", "c"]).prop_map(Value::from))),
        prop::option::of(mostly(prop_oneof![
            30 => prop::sample::select(vec![json!(0), json!(1), json!(0.25), json!(3), json!(1e-300)]),
            1 => Just(json!(-1)),
        ])),
        prop::option::of(mostly(prop::sample::select(vec![
            json!({"model": "gpt-4o", "temperature": 0.2}),
            json!({"max_tokens": {"deep": [1]}}),
            json!(null),
        ]))),
        prop::option::of(retry()),
        prop::option::of(custom_host()),
        prop::option::of(header_names()),
        prop::option::of(mostly(prop_oneof![
            30 => prop::sample::select(vec![json!(1), json!(5000), json!(u64::MAX), json!(null)]),
            1 => prop::sample::select(vec![json!(0), json!(1.5)]),
        ])),
    )
        .prop_map(|(name, weight, over, retry, host, headers, timeout)| {
            [
                ("name", name),
                ("weight", weight),
                ("override_params", over),
                ("retry", retry),
                ("custom_host", host),
                ("forward_headers", headers),
                ("request_timeout", timeout),
            ]
            .into_iter()
            .filter_map(|(k, v)| Some((k, v?)))
            .collect()
        })
}

fn leaf() -> impl Strategy<Value = Value> {
    (
        prop_oneof![30 => provider().prop_map(Some), 1 => Just(None)],
        prop_oneof![
            30 => Just(Some(json!("sk-test"))),
            2 => Just(None),
            1 => Just(Some(json!(""))),
            1 => junk().prop_map(Some),
        ],
        common_members(),
        node_extras(),
    )
        .prop_map(|(provider, key, common, extras)| {
            let mut m = Map::new();
            provider.map(|p| m.insert("provider".into(), p));
            key.map(|k| m.insert("api_key".into(), k));
            for (k, v) in common {
                m.insert(k.into(), v);
            }
            for (k, v) in extras {
                m.insert(k, v);
            }
            Value::Object(m)
        })
}

/// A Gateway Config: nested groups of leaves, the right keys mostly, junk sometimes.
fn config() -> BoxedStrategy<Value> {
    let node = prop_oneof![40 => leaf(), 1 => junk()];
    node.prop_recursive(4, 24, 4, |inner| {
        let strategy = (
            mostly(prop::sample::select(vec!["single", "fallback", "loadbalance", "conditional"]).prop_map(Value::from)),
            prop::option::of(status_codes()),
            prop::collection::vec(
                (
                    prop_oneof![30 => query().prop_map(Some), 1 => Just(None)],
                    prop_oneof![30 => prop::sample::select(vec!["a", "b", "c"]).prop_map(|n| Some(Value::from(n))), 1 => Just(None), 1 => junk().prop_map(Some)],
                ),
                0..3,
            ),
            prop::option::of(mostly(prop::sample::select(vec!["a", "b", "zzz"]).prop_map(Value::from))),
            prop_oneof![30 => Just(None), 1 => Just(Some("bogus"))],
        )
            .prop_map(|(mode, codes, conditions, default, extra)| {
                let mut s = Map::new();
                s.insert("mode".into(), mode);
                codes.map(|c| s.insert("on_status_codes".into(), c));
                if !conditions.is_empty() || s["mode"] == "conditional" {
                    let list = conditions
                        .into_iter()
                        .map(|(q, then)| {
                            let mut c = Map::new();
                            q.map(|q| c.insert("query".into(), q));
                            then.map(|t| c.insert("then".into(), t));
                            Value::Object(c)
                        })
                        .collect();
                    s.insert("conditions".into(), Value::Array(list));
                }
                default.map(|d| s.insert("default".into(), d));
                extra.map(|k| s.insert(k.into(), json!(1)));
                Value::Object(s)
            });
        (
            mostly(strategy),
            mostly(prop::collection::vec(inner, 1..4).prop_map(|mut targets| {
                // Distinct names make conditional groups valid more often.
                for (i, t) in targets.iter_mut().enumerate() {
                    if let Some(o) = t.as_object_mut() {
                        if o.get("name").is_some_and(Value::is_string) {
                            o.insert("name".into(), Value::from(["a", "b", "c", "d"][i % 4]));
                        }
                    }
                }
                Value::Array(targets)
            })),
            prop_oneof![30 => Just((true, true)), 1 => Just((true, false)), 1 => Just((false, true))],
            common_members(),
            node_extras(),
        )
            .prop_map(|(strategy, targets, (has_s, has_t), common, extras)| {
                let mut m = Map::new();
                if has_s {
                    m.insert("strategy".into(), strategy);
                }
                if has_t {
                    m.insert("targets".into(), targets);
                }
                for (k, v) in common {
                    m.insert(k.into(), v);
                }
                for (k, v) in extras {
                    m.insert(k, v);
                }
                Value::Object(m)
            })
    })
    .boxed()
}

fn check_tree(node: &Node) -> Result<(), TestCaseError> {
    prop_assert!(node.path.starts_with("config"), "node path {}", node.path);
    prop_assert!(node.weight.is_finite() && node.weight >= 0.0);
    if let NodeKind::Group(g) = &node.kind {
        prop_assert!(!g.targets.is_empty());
        for c in &g.conditions {
            prop_assert!(c.then < g.targets.len());
        }
        prop_assert!(g.default.is_none_or(|d| d < g.targets.len()));
        if g.mode == Mode::LoadBalance {
            for r in [0.0, 0.25, 0.5, 0.75, 1.0 - f64::EPSILON] {
                let i = pick_weighted(&g.targets, r).unwrap();
                prop_assert!(g.targets[i].weight > 0.0);
            }
        }
        if g.mode == Mode::Conditional {
            let meta = json!({"user_plan": "paid"});
            let params = json!({"model": "b", "response_format": {"type": "json_object"}});
            let facts = Facts {
                metadata: meta.as_object().unwrap(),
                params: Some(&params),
            };
            if let Some(i) = pick_conditional(g, &facts) {
                prop_assert!(i < g.targets.len());
            }
        }
        for t in &g.targets {
            check_tree(t)?;
        }
    }
    Ok(())
}

fn check_build(v: &Value, root: &str) -> Result<(), TestCaseError> {
    let providers = Providers::default();
    let trusted = TrustedHosts::default();
    for origin in [Origin::Client, Origin::Server] {
        let input = BuildInput::new(&providers, origin, &trusted);
        match build(v, root, &input) {
            Ok(tree) => check_tree(&tree)?,
            Err(errs) => {
                prop_assert!(!errs.is_empty());
                for e in &errs.0 {
                    prop_assert!(
                        e.path.starts_with(root),
                        "error path {:?} ({})",
                        e.path,
                        e.message
                    );
                    prop_assert!(!e.message.is_empty());
                }
            }
        }
    }
    Ok(())
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    junk().prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((".{0,8}", inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

properties! {
    #[test]
    fn gateway_config_build_is_ok_or_errors_under_config(v in config()) {
        check_build(&v, "config")?;
    }

    #[test]
    fn gateway_config_errors_use_the_given_root(v in config()) {
        check_build(&v, "routes.fast")?;
    }

    #[test]
    fn gateway_config_on_arbitrary_json(v in arbitrary_json()) {
        check_build(&v, "config")?;
    }
}

// ---------------------------------------------------------------------------------------------
// The YAML config file
// ---------------------------------------------------------------------------------------------

fn env(k: &str) -> Option<String> {
    (k.len() % 2 == 0).then(|| format!("value-of-{k}"))
}

fn yaml_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        junk(),
        prop::sample::select(vec![
            "${HOME}",
            "${ODD}",
            "${ODD:-fallback}",
            "${",
            "${}",
            "${:-x}",
            "env:AB",
            "env:",
            "$${AB}",
            "10MiB",
            "18446744073709551615GiB",
            "30s",
            "250ms",
            "5m",
            "1h",
            "99999999999999999999h",
            "-1s",
            "1.5s",
            "127.0.0.1:8787",
            "[::1]:0",
            "localhost:80",
            "10.0.0.0/8",
            "10.0.0.0/33",
            "*.internal",
            "::1/129",
        ])
        .prop_map(Value::from),
    ]
}

fn yaml_doc() -> impl Strategy<Value = Value> {
    let server_key = prop::sample::select(vec![
        "listen",
        "max_body_size",
        "shutdown_grace",
        "trusted_hosts",
        "retry_base_delay",
        "retry_max_delay",
        "max_retry_after",
        "default_request_timeout",
        "connect_timeout",
        "pool_idle_timeout",
        "pool_max_idle_per_host",
        "bogus",
    ]);
    let server = prop::collection::vec(
        (
            server_key,
            prop_oneof![
                yaml_scalar(),
                prop::collection::vec(yaml_scalar(), 0..3).prop_map(Value::Array)
            ],
        ),
        0..5,
    )
    .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()));
    let provider_settings = prop::collection::vec(
        (
            prop::sample::select(vec![
                "api_key",
                "base_url",
                "aws_region",
                "vertex_project_id",
                "azure_api_version",
                "nope",
            ]),
            yaml_scalar(),
        ),
        0..4,
    )
    .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()));
    let providers = prop::collection::vec(
        (
            prop::sample::select(vec![
                "openai",
                "anthropic",
                "bedrock",
                "my-local",
                "vertex-ai",
            ]),
            prop_oneof![4 => provider_settings, 1 => junk()],
        ),
        0..3,
    )
    .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()));
    let routes = prop::collection::vec(
        (prop::sample::select(vec!["fast", "cheap", "a.b"]), config()),
        0..3,
    )
    .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()));
    (
        prop::option::of(prop_oneof![4 => server, 1 => junk()]),
        prop::option::of(prop_oneof![4 => providers, 1 => junk()]),
        prop::option::of(prop_oneof![4 => routes, 1 => junk()]),
        prop::option::of(prop_oneof![
            prop::sample::select(vec!["fast", "nope"]).prop_map(Value::from),
            config(),
            junk()
        ]),
        prop::option::of(junk()),
    )
        .prop_map(|(server, providers, routes, default_route, extra)| {
            let mut m = Map::new();
            server.map(|v| m.insert("server".into(), v));
            providers.map(|v| m.insert("providers".into(), v));
            routes.map(|v| m.insert("routes".into(), v));
            default_route.map(|v| m.insert("default_route".into(), v));
            extra.map(|v| m.insert("extra".into(), v));
            Value::Object(m)
        })
}

fn examples() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples");
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    out.push("server:\n  listen: 127.0.0.1:0\n".into());
    out
}

properties! {
    #[test]
    fn yaml_arbitrary_text_never_panics(text in prop_oneof![
        ".{0,200}",
        "[ -~\n]{0,200}",
        prop::collection::vec(prop::sample::select(vec![
            "server:", "providers:", "routes:", "default_route:", "\n", "  ", "- ", ": ", "{", "}", "[", "]",
            "&a ", "*a", "<<: *a", "!!binary ", "'", "\"", "#", "${X}", "~", "null", "0x1F", ".inf", "---\n", "...\n",
        ]), 0..40).prop_map(|v| v.concat()),
    ]) {
        let _ = GatewayConfig::from_yaml(&text, &env);
    }

    #[test]
    fn yaml_mutated_examples_never_panic(
        base in prop::sample::select(examples()),
        edits in prop::collection::vec((any::<usize>(), prop::sample::select(vec!["", " ", "\n", ":", "- ", "${", "}", "'", "&x ", "*x", "\t", "[", "{"])), 0..6),
    ) {
        let mut text = base.into_bytes();
        for (at, ins) in edits {
            let at = at % (text.len() + 1);
            text.splice(at..at, ins.bytes());
        }
        let text = String::from_utf8_lossy(&text);
        let _ = GatewayConfig::from_yaml(&text, &env);
    }

    #[test]
    fn yaml_generated_configs_never_panic(doc in yaml_doc()) {
        let text = serde_yaml_ng::to_string(&doc).unwrap();
        match GatewayConfig::from_yaml(&text, &env) {
            Ok(cfg) => {
                for tree in cfg.routes.values() {
                    check_server_tree(tree)?;
                }
            }
            Err(errs) => prop_assert!(!errs.is_empty()),
        }
        // JSON is YAML too.
        let _ = GatewayConfig::from_yaml(&doc.to_string(), &env);
    }
}

fn check_server_tree(node: &Node) -> Result<(), TestCaseError> {
    prop_assert!(node.weight.is_finite() && node.weight >= 0.0);
    if let NodeKind::Group(g) = &node.kind {
        prop_assert!(!g.targets.is_empty());
        for t in &g.targets {
            check_server_tree(t)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Load balancing
// ---------------------------------------------------------------------------------------------

/// The targets of a built `loadbalance` group with these weights.
fn loadbalance(weights: &[f64]) -> Node {
    let targets: Vec<Value> = weights
        .iter()
        .map(|w| json!({"provider": "openai", "api_key": "k", "weight": w}))
        .collect();
    let cfg = json!({"strategy": {"mode": "loadbalance"}, "targets": targets});
    let providers = Providers::default();
    let trusted = TrustedHosts::default();
    build(
        &cfg,
        "config",
        &BuildInput::new(&providers, Origin::Client, &trusted),
    )
    .unwrap()
}

fn group_targets(node: &Node) -> &[Node] {
    match &node.kind {
        NodeKind::Group(g) => &g.targets,
        NodeKind::Leaf(_) => panic!("not a group"),
    }
}

/// Every target whose share of the total weight is at least 1/20 is picked for some `r` on a
/// grid of step 1/100, and a target of weight 0 never is.
fn check_shares(weights: &[f64]) -> Result<(), TestCaseError> {
    let node = loadbalance(weights);
    let targets = group_targets(&node);
    let max = weights.iter().copied().fold(0.0, f64::max);
    let scaled: Vec<f64> = weights.iter().map(|w| w / max).collect();
    let total: f64 = scaled.iter().sum();
    let picks: Vec<usize> = (0..100)
        .map(|k| pick_weighted(targets, f64::from(k) / 100.0).unwrap())
        .collect();
    for (i, share) in scaled.iter().map(|w| w / total).enumerate() {
        if weights[i] == 0.0 {
            prop_assert!(!picks.contains(&i), "weight 0 target {i} picked");
        }
        if share >= 0.05 {
            prop_assert!(
                picks.contains(&i),
                "target {i} with share {share} never picked: {picks:?}"
            );
        }
    }
    Ok(())
}

properties! {
    #[test]
    fn loadbalance_picks_follow_weights(
        weights in prop::collection::vec(prop_oneof![Just(0.0), Just(1.0), 0.0f64..100.0, 1e-300f64..1e-290, 1e290f64..1e300], 1..6)
            .prop_filter("a positive weight", |w| w.iter().any(|w| *w > 0.0)),
    ) {
        check_shares(&weights)?;
    }
}

/// Fixed finding (property `loadbalance_picks_follow_weights` with weights up to `f64::MAX`):
/// the config accepts any finite weight, but `routing::select::pick_by_weight` sums the weights
/// without scaling, so weights whose sum overflows (`[1e308, 1e308]`) make the total infinite
/// and every pick lands on the last target: `r * inf` is never below a finite weight (and
/// `0 * inf` is NaN). Low impact (a config with such weights is odd), but the config is accepted
/// and silently routes 100% of traffic to one target; either refuse weights whose sum is not
/// finite when building, or divide by the largest weight when picking.
#[test]
fn loadbalance_with_huge_weights_follows_weights() {
    check_shares(&[1e308, 1e308]).unwrap();
}
