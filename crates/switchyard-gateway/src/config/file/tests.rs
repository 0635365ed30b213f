use super::*;
use crate::routing::tree::{Credential, Mode, NodeKind};

fn no_env(_: &str) -> Option<String> {
    None
}

fn errors(yaml: &str) -> String {
    GatewayConfig::from_yaml(yaml, &no_env)
        .unwrap_err()
        .to_string()
}

#[test]
fn an_empty_file_is_a_valid_config_with_defaults() {
    let c = GatewayConfig::from_yaml("", &no_env).unwrap();
    assert_eq!(c.server.listen.to_string(), DEFAULT_LISTEN);
    assert_eq!(c.server.max_body_bytes, 10 << 20);
    assert!(c.routes.is_empty());
    assert!(c.default_route.is_none());
}

#[test]
fn server_settings_parse_human_units() {
    let c = GatewayConfig::from_yaml(
        "server:\n  listen: 0.0.0.0:9000\n  max_body_size: 2MiB\n  shutdown_grace: 5s\n  retry_base_delay: 250ms\n  trusted_hosts: [10.0.0.0/8]\n",
        &no_env,
    )
    .unwrap();
    assert_eq!(c.server.listen.port(), 9000);
    assert_eq!(c.server.max_body_bytes, 2 << 20);
    assert_eq!(c.server.shutdown_grace, Duration::from_secs(5));
    assert_eq!(c.server.retry_base_delay, Duration::from_millis(250));
    assert!(c
        .server
        .trusted_hosts
        .trusts_ip("10.1.2.3".parse().unwrap()));
    assert!(
        c.server
            .trusted_hosts
            .trusts_ip("127.0.0.1".parse().unwrap()),
        "loopback stays trusted"
    );
}

#[test]
fn unknown_keys_and_bad_values_are_reported_with_paths() {
    let e = errors("server:\n  lisen: x\n");
    assert!(e.contains("server"), "{e}");
    assert!(e.contains("lisen"), "{e}");
    let e = errors("server:\n  shutdown_grace: soon\n");
    assert!(e.contains("server.shutdown_grace"), "{e}");
    let e = errors("routs: {}\n");
    assert!(e.contains("routs: unknown section"), "{e}");
    let e = errors("providers:\n  mystery: {api_key: x}\n");
    assert!(e.contains("providers.mystery"), "{e}");
    let e = errors("providers:\n  openai: {api_key: x, colour: blue}\n");
    assert!(e.contains("providers.openai.colour"), "{e}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let e = GatewayConfig::from_yaml(
        r#"
routes:
  a:
    strategy: {mode: fallback}
    targets:
      - provider: nope
      - provider: openai
        retry: {attempts: 99}
  b:
    provider: groq
default_route: missing
"#,
        &no_env,
    )
    .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("routes.a.targets[0].provider: unknown provider `nope`"),
        "{text}"
    );
    assert!(
        text.contains("routes.a.targets[1].retry.attempts"),
        "{text}"
    );
    assert!(
        text.contains("routes.b.api_key: no API key for provider `groq`"),
        "{text}"
    );
    assert!(
        text.contains("default_route: no route is named `missing`"),
        "{text}"
    );
}

#[test]
fn env_references_resolve_and_missing_ones_fail() {
    let env = |k: &str| (k == "GROQ_KEY").then(|| "gsk-1".to_owned());
    let c =
        GatewayConfig::from_yaml("providers:\n  groq:\n    api_key: ${GROQ_KEY}\n", &env).unwrap();
    let groq = c.providers.get("groq").unwrap();
    assert_eq!(groq.api_key.as_ref().unwrap().expose(), "gsk-1");
    let e = errors("providers:\n  groq:\n    api_key: ${GROQ_KEY}\n");
    assert!(
        e.contains("providers.groq.api_key: environment variable `GROQ_KEY` is not set"),
        "{e}"
    );
}

#[test]
fn a_pasted_portkey_config_becomes_a_route_with_inheritance_resolved() {
    let c = GatewayConfig::from_yaml(
        r#"
providers:
  openai: {api_key: sk-1}
  anyscale: {api_key: as-1}
routes:
  smart:
    strategy: {mode: fallback, on_status_codes: [429, 503]}
    retry: {attempts: 2}
    request_timeout: 3000
    override_params: {temperature: 0}
    targets:
      - provider: openai
        override_params: {model: gpt-4o}
      - strategy: {mode: loadbalance}
        targets:
          - {provider: anyscale, weight: 0.7, retry: {attempts: 1, on_status_codes: [500]}}
          - {provider: openai, weight: 0.3}
default_route: smart
"#,
        &no_env,
    )
    .unwrap();
    let root = c.routes.get("smart").unwrap();
    let NodeKind::Group(g) = &root.kind else {
        panic!("group")
    };
    assert_eq!(g.mode, Mode::Fallback);
    assert_eq!(g.on_status_codes.as_deref(), Some(&[429, 503][..]));
    let leaves = root.leaves();
    assert_eq!(leaves.len(), 3);
    assert_eq!(leaves[0].retry.attempts, 2);
    assert_eq!(leaves[0].request_timeout, Some(Duration::from_millis(3000)));
    let names: Vec<&str> = leaves[0]
        .override_params
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(names, ["temperature", "model"]);
    assert_eq!(
        leaves[1].retry.attempts, 1,
        "a child's retry replaces the parent's"
    );
    assert_eq!(leaves[1].retry.on_status_codes, vec![500]);
    assert!(matches!(leaves[2].credential, Credential::Server(_)));
    let NodeKind::Group(lb) = &g.targets[1].kind else {
        panic!("group")
    };
    assert_eq!(g.targets[1].path.as_ref(), "config.targets[1]");
    assert_eq!(lb.targets[0].path.as_ref(), "config.targets[1].targets[0]");
    assert_eq!(lb.targets[0].weight, 0.7);
    assert!(c.default_route.is_some());
}

#[test]
fn cache_and_redis_sections_are_checked_with_their_paths() {
    let e = errors(
        "cache:
  backend: redis
",
    );
    assert!(
        e.contains("cache.backend: redis needs a `redis:` section"),
        "{e}"
    );
    let e = errors(
        "cache:
  backend: disk
",
    );
    assert!(e.contains("cache.backend: unknown backend `disk`"), "{e}");
    let e = errors(
        "cache:
  max_bytes: lots
",
    );
    assert!(e.contains("cache.max_bytes"), "{e}");
    let e = errors(
        "redis:
  url: http://127.0.0.1:6379
",
    );
    assert!(e.contains("redis.url: must be a redis://"), "{e}");
    let e = errors(
        "redis:
  url: redis://x
  tls: true
",
    );
    assert!(e.contains("redis"), "{e}");
    let e = errors(
        "auth:
  admin_key: short
",
    );
    assert!(
        e.contains("auth.admin_key: must be at least 16 characters"),
        "{e}"
    );
    let e = errors(
        "server:
  admin_key: admin-key-0123456789
",
    );
    assert!(
        e.contains("server.admin_key: moved to auth.admin_key"),
        "{e}"
    );
    let c = GatewayConfig::from_yaml(
        "redis:
  url: redis://127.0.0.1:6379
cache:
  backend: redis
  shared_namespaces: [faq]
",
        &no_env,
    )
    .unwrap();
    assert_eq!(c.cache.backend, crate::config::stores::CacheBackend::Redis);
    assert_eq!(c.cache.shared_namespaces, ["faq"]);
    assert_eq!(
        c.redis.unwrap().timeout,
        std::time::Duration::from_millis(50)
    );
}

#[test]
fn the_semantic_section_is_checked_and_needs_an_existing_route() {
    let e = errors("cache:\n  semantic:\n    route: embed\n");
    assert!(
        e.contains("cache.semantic.route: no route is named `embed`"),
        "{e}"
    );
    let e = errors("cache:\n  semantic:\n    route: embed\n    threshold: 1.5\n");
    assert!(e.contains("cache.semantic.threshold"), "{e}");
    let e = errors("cache:\n  semantic:\n    route: embed\n    k: 3\n");
    assert!(e.contains("cache.semantic"), "{e}");
    // Without the section, a route asking for semantic mode is refused where it says so.
    let e = errors("routes:\n  m:\n    provider: ollama\n    cache: {mode: semantic}\n");
    assert!(
        e.contains("routes.m.cache.mode: semantic caching needs"),
        "{e}"
    );
    let c = GatewayConfig::from_yaml(
        "routes:
  embed: {provider: ollama}
  chat: {provider: ollama, cache: {mode: semantic, max_age: 120}}
cache:
  semantic:
    route: embed
    threshold: 0.9
    timeout: 500ms
    max_input_size: 1KiB
    max_entries: 10
    max_bytes: 1MiB
",
        &no_env,
    )
    .unwrap();
    let s = c.cache.semantic.unwrap();
    assert_eq!((s.route.as_str(), s.threshold), ("embed", 0.9));
    assert_eq!(s.timeout, std::time::Duration::from_millis(500));
    assert_eq!(
        (s.max_input_bytes, s.max_entries, s.max_bytes),
        (1024, 10, 1 << 20)
    );
    let chat = c.routes["chat"].leaves()[0].cache.unwrap();
    assert!(chat.semantic);
}

#[test]
fn an_inline_default_route_is_accepted() {
    let c = GatewayConfig::from_yaml(
        "default_route:\n  provider: ollama\n  custom_host: http://localhost:11434\n",
        &no_env,
    )
    .unwrap();
    let leaves = c.default_route.as_ref().unwrap().leaves();
    assert!(matches!(leaves[0].credential, Credential::None));
    assert_eq!(leaves[0].base_url(), "http://localhost:11434");
}

#[test]
fn every_example_config_in_docs_parses() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let env = |k: &str| match k {
                "SWITCHYARD_DATABASE_URL" | "SWITCHYARD_DATA_DIR" => None,
                _ => Some("dummy-value-0123456789".to_owned()),
            };
            if let Err(e) = GatewayConfig::from_yaml(&text, &env) {
                panic!("{}: {e}", path.display());
            }
            seen += 1;
        }
    }
    assert!(seen >= 2, "examples found: {seen}");
}

#[test]
fn the_circuit_breaker_is_on_by_default() {
    let c = GatewayConfig::from_yaml("", &no_env).unwrap();
    assert_eq!(
        c.server.circuit_breaker,
        CircuitBreakerSettings {
            enabled: true,
            failure_threshold: 5,
            cooldown: Duration::from_secs(30),
            max_cooldown: Duration::from_secs(300),
        }
    );
}

#[test]
fn circuit_breaker_settings_parse() {
    let c = GatewayConfig::from_yaml(
        "server:\n  circuit_breaker: {failure_threshold: 3, cooldown: 200ms, max_cooldown: 2s}\n",
        &no_env,
    )
    .unwrap();
    let cb = c.server.circuit_breaker;
    assert!(cb.enabled);
    assert_eq!(cb.failure_threshold, 3);
    assert_eq!(cb.cooldown, Duration::from_millis(200));
    assert_eq!(cb.max_cooldown, Duration::from_secs(2));

    let c = GatewayConfig::from_yaml("server:\n  circuit_breaker: {enabled: false}\n", &no_env)
        .unwrap();
    assert!(!c.server.circuit_breaker.enabled);

    // A cooldown above the default cap raises the cap rather than failing.
    let c =
        GatewayConfig::from_yaml("server:\n  circuit_breaker: {cooldown: 10m}\n", &no_env).unwrap();
    assert_eq!(
        c.server.circuit_breaker.max_cooldown,
        Duration::from_secs(600)
    );
}

#[test]
fn bad_circuit_breaker_settings_are_reported_with_paths() {
    let e = errors("server:\n  circuit_breaker: {failure_threshold: 0}\n");
    assert!(
        e.contains("server.circuit_breaker.failure_threshold"),
        "{e}"
    );
    let e = errors("server:\n  circuit_breaker: {cooldown: 0s}\n");
    assert!(e.contains("server.circuit_breaker.cooldown"), "{e}");
    let e = errors("server:\n  circuit_breaker: {cooldown: 1m, max_cooldown: 30s}\n");
    assert!(e.contains("server.circuit_breaker.max_cooldown"), "{e}");
    let e = errors("server:\n  circuit_breaker: {treshold: 3}\n");
    assert!(e.contains("server.circuit_breaker"), "{e}");
    assert!(e.contains("treshold"), "{e}");
    let e = errors("server:\n  circuit_breaker: {cooldown: soon}\n");
    assert!(e.contains("server.circuit_breaker.cooldown"), "{e}");
}

#[test]
fn the_documented_config_file_parses() {
    let doc = include_str!("../../../../../docs/configuration.md");
    let start = doc
        .find("```yaml\nserver:")
        .expect("configuration.md has the server file example")
        + "```yaml\n".len();
    let len = doc[start..].find("```").unwrap();
    // Every `${VAR}` resolves; the governance overrides read straight from the environment
    // (a database URL, a data dir) are left unset.
    let env = |k: &str| {
        (!matches!(k, "SWITCHYARD_DATABASE_URL" | "SWITCHYARD_DATA_DIR"))
            .then(|| format!("value-of-{k}"))
    };
    let c =
        GatewayConfig::from_yaml(&doc[start..start + len], &env).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        c.server.circuit_breaker,
        CircuitBreakerSettings::default(),
        "the example shows the defaults"
    );
    assert_eq!(
        c.server.dns,
        DnsSettings::default(),
        "the example shows the defaults"
    );
    assert!(c.default_route.is_some());
    assert_eq!(c.cache.backend, crate::config::stores::CacheBackend::Memory);
    assert_eq!(
        c.redis.map(|r| r.url).as_deref(),
        Some("redis://127.0.0.1:6379")
    );
    assert!(c.governance.admin_key.is_some());
    assert!(c.governance.virtual_keys.contains_key("openai-prod"));
}

#[test]
fn worker_threads_default_to_the_core_count_and_refuse_zero() {
    assert_eq!(
        GatewayConfig::from_yaml("", &no_env)
            .unwrap()
            .server
            .worker_threads,
        None
    );
    let c = GatewayConfig::from_yaml("server:\n  worker_threads: 1\n", &no_env).unwrap();
    assert_eq!(c.server.worker_threads, Some(1));
    let e = errors("server:\n  worker_threads: 0\n");
    assert!(
        e.contains("server.worker_threads: must be at least 1"),
        "{e}"
    );
}

#[test]
fn dns_settings_default_to_the_system_resolver_with_a_five_minute_cap() {
    let c = GatewayConfig::from_yaml("", &no_env).unwrap();
    let dns = c.server.dns;
    assert!(dns.nameservers.is_empty());
    assert_eq!(dns.max_ttl, Duration::from_secs(300));
    assert_eq!(dns.min_ttl, Duration::ZERO);
    assert_eq!((dns.timeout, dns.attempts), (None, None));
}

#[test]
fn dns_settings_parse() {
    let c = GatewayConfig::from_yaml(
        "server:\n  dns:\n    nameservers: [\"127.0.0.1:5353\", 10.0.0.2, \"[::1]:5300\", \"::1\"]\n    cache_size: 64\n    min_ttl: 1s\n    max_ttl: 1m\n    timeout: 250ms\n    attempts: 0\n",
        &no_env,
    )
    .unwrap();
    let dns = c.server.dns;
    let ns: Vec<String> = dns.nameservers.iter().map(|a| a.to_string()).collect();
    assert_eq!(
        ns,
        ["127.0.0.1:5353", "10.0.0.2:53", "[::1]:5300", "[::1]:53"]
    );
    assert_eq!(dns.cache_size, 64);
    assert_eq!(dns.min_ttl, Duration::from_secs(1));
    assert_eq!(dns.max_ttl, Duration::from_secs(60));
    assert_eq!(dns.timeout, Some(Duration::from_millis(250)));
    assert_eq!(dns.attempts, Some(0));

    // A min_ttl above the default cap raises the cap.
    let c = GatewayConfig::from_yaml("server:\n  dns: {min_ttl: 10m}\n", &no_env).unwrap();
    assert_eq!(c.server.dns.max_ttl, Duration::from_secs(600));
}

#[test]
fn bad_dns_settings_are_reported_with_paths() {
    let e = errors("server:\n  dns: {nameservers: [10.0.0.2, dns.example.com]}\n");
    assert!(e.contains("server.dns.nameservers[1]"), "{e}");
    let e = errors("server:\n  dns: {cache_size: 0}\n");
    assert!(e.contains("server.dns.cache_size"), "{e}");
    let e = errors("server:\n  dns: {min_ttl: 1m, max_ttl: 30s}\n");
    assert!(e.contains("server.dns.max_ttl"), "{e}");
    let e = errors("server:\n  dns: {timeout: 0s}\n");
    assert!(e.contains("server.dns.timeout"), "{e}");
    let e = errors("server:\n  dns: {max_ttl: forever}\n");
    assert!(e.contains("server.dns.max_ttl"), "{e}");
    let e = errors("server:\n  dns: {nameserver: [10.0.0.2]}\n");
    assert!(e.contains("server.dns") && e.contains("nameserver"), "{e}");
}
