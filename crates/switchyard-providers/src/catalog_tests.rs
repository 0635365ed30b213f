//! The catalogue's own checks: slugs, URLs, endpoints, and docs/providers.md accounting for
//! every Portkey slug.

use super::*;

/// The embedding-only rows; every other row serves chat completions, except:
const EMBEDDING_ONLY: &[&str] = &["jina", "nomic", "voyage"];
/// the image-generation-only rows
const IMAGE_ONLY: &[&str] = &["recraft-ai", "segmind", "stability-ai"];
/// the completions-only rows
const COMPLETIONS_ONLY: &[&str] = &["triton"];
/// and the proxy-only rows (no endpoint translated; every path passed as it is).
const PROXY_ONLY_ROWS: &[&str] = &["meshy", "replicate", "sagemaker", "tripo3d"];

#[test]
fn catalogue_is_sorted_unique_and_large_enough() {
    assert!(CATALOG.windows(2).all(|w| w[0].slug < w[1].slug));
    assert!(CATALOG.len() >= 57);
    for p in CATALOG {
        assert_eq!(lookup(p.slug), Some(p));
        assert_eq!(
            p.proxy_only(),
            PROXY_ONLY_ROWS.contains(&p.slug),
            "{}",
            p.slug
        );
        if EMBEDDING_ONLY.contains(&p.slug) {
            assert!(
                p.endpoints == EMB_RERANK || p.endpoints == EMB,
                "{}",
                p.slug
            );
        } else if IMAGE_ONLY.contains(&p.slug) {
            assert_eq!(p.endpoints, IMAGES, "{}", p.slug);
        } else if COMPLETIONS_ONLY.contains(&p.slug) {
            assert_eq!(p.endpoints, CMPL, "{}", p.slug);
        } else if !p.proxy_only() {
            assert!(p.supports(Endpoint::ChatCompletions), "{}", p.slug);
        }
        assert!(
            p.base_url.starts_with("http") || p.dynamic_base(),
            "{}",
            p.slug
        );
        assert!(!p.base_url.ends_with('/'), "{}", p.slug);
        assert!(
            p.prefix.is_empty() || (p.prefix.starts_with('/') && !p.prefix.ends_with('/')),
            "{}",
            p.slug
        );
    }
    assert!(lookup("nope").is_none());
}

/// One OpenAI-compatible row as Portkey's `src/providers/<slug>/api.ts` has it: the base URL
/// its `getBaseURL` returns (what a `custom_host` replaces; empty where Portkey takes it
/// from an option), the path its `getEndpoint` appends for chat (or embeddings, for the
/// embedding-only hosts), the auth header, the endpoints its `index.ts` maps, and whether
/// Portkey forwards `stream_options` (so the gateway may add it).
struct Expected {
    slug: &'static str,
    base_url: &'static str,
    first_path: &'static str,
    auth: AuthStyle,
    endpoints: &'static [Endpoint],
    stream_usage: bool,
}

const fn row(
    slug: &'static str,
    base_url: &'static str,
    first_path: &'static str,
    endpoints: &'static [Endpoint],
    stream_usage: bool,
) -> Expected {
    Expected {
        slug,
        base_url,
        first_path,
        auth: Bearer,
        endpoints,
        stream_usage,
    }
}

/// The rows added for Portkey's remaining OpenAI-compatible slugs (Portkey gateway commit
/// 669825cbe89ee51569918b8f78a9db486fd69dd4).
const PORTKEY_COMPAT_ROWS: &[Expected] = &[
    row(
        "302ai",
        "https://api.302.ai",
        "/v1/chat/completions",
        CHAT,
        false,
    ),
    row(
        "aibadgr",
        "https://aibadgr.com/api/v1",
        "/chat/completions",
        CHAT,
        true,
    ),
    row("azure-ai", "", "/chat/completions", ALL, false),
    row(
        "cometapi",
        "https://api.cometapi.com/v1",
        "/chat/completions",
        CHAT_EMB,
        true,
    ),
    row(
        "deepbricks",
        "https://api.deepbricks.ai/v1",
        "/chat/completions",
        CHAT,
        true,
    ),
    row(
        "iointelligence",
        "https://api.intelligence.io.solutions/api/v1",
        "/chat/completions",
        CHAT_EMB,
        true,
    ),
    row(
        "jina",
        "https://api.jina.ai/v1",
        "/embeddings",
        EMB_RERANK,
        true,
    ),
    row(
        "kluster-ai",
        "https://api.kluster.ai/v1",
        "/chat/completions",
        CHAT_EMB,
        true,
    ),
    row(
        "krutrim",
        "https://cloud.olakrutrim.com/v1",
        "/chat/completions",
        CHAT,
        true,
    ),
    row(
        "lemonfox-ai",
        "https://api.lemonfox.ai/v1",
        "/chat/completions",
        CHAT,
        false,
    ),
    row(
        "lingyi",
        "https://api.lingyiwanwu.com",
        "/v1/chat/completions",
        CHAT,
        false,
    ),
    row(
        "matterai",
        "https://api.matterai.so/v1",
        "/chat/completions",
        CHAT,
        true,
    ),
    Expected {
        auth: Optional,
        ..row("modal", "", "/chat/completions", CHAT_CMPL, true)
    },
    row(
        "monsterapi",
        "https://llm.monsterapi.ai/v1",
        "/chat/completions",
        CHAT,
        false,
    ),
    row(
        "ncompass",
        "https://api.ncompass.tech/v1",
        "/chat/completions",
        CHAT,
        false,
    ),
    row(
        "nextbit",
        "https://api.nextbit256.com/v1",
        "/chat/completions",
        CHAT_CMPL,
        true,
    ),
    row(
        "ovhcloud",
        "https://oai.endpoints.kepler.ai.cloud.ovh.net/v1",
        "/chat/completions",
        CHAT,
        true,
    ),
    row(
        "upstage",
        "https://api.upstage.ai/v1/solar",
        "/chat/completions",
        CHAT_EMB,
        true,
    ),
    row(
        "voyage",
        "https://api.voyageai.com/v1",
        "/embeddings",
        EMB_RERANK,
        true,
    ),
    row(
        "z-ai",
        "https://api.z.ai/api/paas/v4",
        "/chat/completions",
        CHAT,
        true,
    ),
    row(
        "zhipu",
        "https://open.bigmodel.cn/api/paas/v4",
        "/chat/completions",
        CHAT_EMB,
        false,
    ),
];

#[test]
fn portkey_compatible_rows_match_portkey() {
    for e in PORTKEY_COMPAT_ROWS {
        let p = lookup(e.slug).unwrap_or_else(|| panic!("{} missing", e.slug));
        assert_eq!(p.kind, ProviderKind::OpenAiCompatible, "{}", e.slug);
        assert_eq!(p.base_url, e.base_url, "{}", e.slug);
        assert_eq!(p.auth, e.auth, "{}", e.slug);
        assert_eq!(p.endpoints, e.endpoints, "{}", e.slug);
        assert_eq!(p.stream_usage, e.stream_usage, "{}", e.slug);
        assert_eq!(p.dynamic_base(), e.base_url.is_empty(), "{}", e.slug);
        let first = if p.supports(Endpoint::ChatCompletions) {
            Endpoint::ChatCompletions
        } else {
            Endpoint::Embeddings
        };
        // Portkey's URL is getBaseURL() + getEndpoint(); a custom host replaces the first.
        let host = if e.base_url.is_empty() {
            "https://custom.example/v1"
        } else {
            e.base_url
        };
        assert_eq!(
            p.url(host, first.path()),
            format!("{host}{}", e.first_path),
            "{}",
            e.slug
        );
        if p.supports(Endpoint::Embeddings) && first != Endpoint::Embeddings {
            assert_eq!(
                p.url(host, "embeddings"),
                format!(
                    "{host}{}",
                    e.first_path.replace("chat/completions", "embeddings")
                ),
                "{}",
                e.slug
            );
        }
    }
}

/// Every provider slug Portkey's gateway registers (`src/providers/index.ts`, same commit)
/// that the catalogue does not serve, with the reason docs/providers.md gives.
const PORTKEY_NOT_YET: &[(&str, &str)] = &[
    ("milvus", "not a model provider"),
    ("palm", "deprecated"),
    ("qdrant", "not a model provider"),
];

/// Portkey's provider map (`src/providers/index.ts`).
const PORTKEY_SLUGS: &[&str] = &[
    "302ai",
    "ai21",
    "aibadgr",
    "anthropic",
    "anyscale",
    "azure-ai",
    "azure-openai",
    "bedrock",
    "bytez",
    "cerebras",
    "cohere",
    "cometapi",
    "dashscope",
    "deepbricks",
    "deepinfra",
    "deepseek",
    "featherless-ai",
    "fireworks-ai",
    "github",
    "google",
    "groq",
    "huggingface",
    "hyperbolic",
    "inference-net",
    "iointelligence",
    "jina",
    "kluster-ai",
    "krutrim",
    "lambda",
    "lemonfox-ai",
    "lepton",
    "lingyi",
    "matterai",
    "meshy",
    "milvus",
    "mistral-ai",
    "modal",
    "monsterapi",
    "moonshot",
    "ncompass",
    "nebius",
    "nextbit",
    "nomic",
    "novita-ai",
    "nscale",
    "ollama",
    "openai",
    "openrouter",
    "oracle",
    "ovhcloud",
    "palm",
    "perplexity-ai",
    "predibase",
    "qdrant",
    "recraft-ai",
    "reka-ai",
    "replicate",
    "sagemaker",
    "sambanova",
    "segmind",
    "siliconflow",
    "stability-ai",
    "together-ai",
    "tripo3d",
    "triton",
    "upstage",
    "vertex-ai",
    "voyage",
    "workers-ai",
    "x-ai",
    "z-ai",
    "zhipu",
];

#[test]
fn every_portkey_slug_is_served_or_documented_as_not_yet() {
    assert_eq!(PORTKEY_SLUGS.len(), 72);
    for slug in PORTKEY_SLUGS {
        let not_yet = PORTKEY_NOT_YET.iter().any(|(s, _)| s == slug);
        assert_ne!(lookup(slug).is_some(), not_yet, "{slug}");
    }
    for (slug, _) in PORTKEY_NOT_YET {
        assert!(PORTKEY_SLUGS.contains(slug), "{slug}");
    }
    // The slugs the catalogue adds to Portkey's list (OpenAI-compatible local servers).
    let extra: Vec<&str> = slugs().filter(|s| !PORTKEY_SLUGS.contains(s)).collect();
    assert_eq!(extra, ["lm-studio", "nvidia-nim", "vllm"]);
}

#[test]
fn docs_list_every_slug_and_every_not_yet_reason() {
    let docs = include_str!("../../../docs/providers.md");
    let (served, not_yet) = docs
        .split_once("## Portkey slugs not supported yet")
        .expect("docs/providers.md has the not-supported section");
    for slug in slugs() {
        assert!(
            served.contains(&format!("`{slug}`")),
            "{slug} not in the docs"
        );
    }
    for (slug, reason) in PORTKEY_NOT_YET {
        let line = not_yet
            .lines()
            .find(|l| l.starts_with(&format!("| `{slug}` |")))
            .unwrap_or_else(|| panic!("{slug} not in the not-supported table"));
        assert!(line.contains(reason), "{slug}: {line}");
    }
}

#[test]
fn every_native_provider_is_in_the_catalogue() {
    for slug in [
        "anthropic",
        "azure-openai",
        "bedrock",
        "bytez",
        "cohere",
        "google",
        "nomic",
        "predibase",
        "triton",
        "vertex-ai",
        "workers-ai",
    ] {
        assert!(lookup(slug).is_some(), "{slug}");
    }
}

/// The image and proxy-only rows as Portkey's `src/providers/<slug>/api.ts` has them (base
/// URL and auth header; same commit as above).
#[test]
fn image_and_proxy_only_rows_match_portkey() {
    for (slug, base, auth, endpoints) in [
        (
            "recraft-ai",
            "https://external.api.recraft.ai/v1",
            Bearer,
            IMAGES,
        ),
        (
            "segmind",
            "https://api.segmind.com/v1",
            AuthStyle::Header("x-api-key"),
            IMAGES,
        ),
        ("stability-ai", "https://api.stability.ai", Bearer, IMAGES),
        (
            "replicate",
            "https://api.replicate.com/v1",
            Bearer,
            PROXY_ONLY,
        ),
        (
            "tripo3d",
            "https://api.tripo3d.ai/v2/openapi",
            Bearer,
            PROXY_ONLY,
        ),
        ("meshy", "https://api.meshy.ai/openapi", Bearer, PROXY_ONLY),
    ] {
        let p = lookup(slug).unwrap_or_else(|| panic!("{slug} missing"));
        assert_eq!(
            (p.base_url, p.auth, p.endpoints),
            (base, auth, endpoints),
            "{slug}"
        );
    }
    // SageMaker: the address comes from `aws_region`, signed for service `sagemaker`.
    let sagemaker = lookup("sagemaker").unwrap();
    assert!(sagemaker.proxy_only() && sagemaker.dynamic_base());
    assert_eq!(sagemaker.auth, AuthStyle::AwsSigV4);
    assert_eq!(sagemaker.signing_service(), "sagemaker");
    assert_eq!(lookup("bedrock").unwrap().signing_service(), "bedrock");
    let recraft = lookup("recraft-ai").unwrap();
    assert_eq!(
        recraft.url(recraft.base_url, "images/generations"),
        "https://external.api.recraft.ai/v1/images/generations"
    );
}

#[test]
fn meshy_proxy_paths_get_portkeys_api_version() {
    let meshy = lookup("meshy").unwrap();
    assert_eq!(meshy.proxy_path("text-to-3d"), "v2/text-to-3d");
    assert_eq!(
        meshy.proxy_path("text-to-3d/abc?x=1"),
        "v2/text-to-3d/abc?x=1"
    );
    assert_eq!(meshy.proxy_path("image-to-3d"), "v1/image-to-3d");
    assert_eq!(meshy.proxy_path("v2/rigging"), "v2/rigging");
    let replicate = lookup("replicate").unwrap();
    assert_eq!(replicate.proxy_path("predictions"), "predictions");
}

#[test]
fn ai21_serves_jamba_chat_at_its_openai_shaped_endpoint() {
    let ai21 = lookup("ai21").unwrap();
    assert_eq!(ai21.kind, ProviderKind::OpenAiCompatible);
    assert_eq!(ai21.endpoints, CHAT);
    assert!(!ai21.stream_usage);
    assert_eq!(
        ai21.url(ai21.base_url, Endpoint::ChatCompletions.path()),
        "https://api.ai21.com/studio/v1/chat/completions"
    );
}

#[test]
fn bytez_is_keyed_with_the_key_scheme_at_portkeys_base_url() {
    let bytez = lookup("bytez").unwrap();
    assert_eq!(bytez.kind, ProviderKind::Native(Native::Bytez));
    assert_eq!(bytez.base_url, "https://api.bytez.com");
    assert_eq!(bytez.auth, AuthStyle::Scheme("Key"));
    assert_eq!(bytez.endpoints, CHAT);
    assert!(!bytez.key_optional());
}

#[test]
fn triton_is_completions_only_with_no_default_host_and_no_key() {
    let triton = lookup("triton").unwrap();
    assert_eq!(triton.kind, ProviderKind::Native(Native::Triton));
    assert!(triton.dynamic_base() && triton.key_optional());
    assert_eq!(triton.endpoints, CMPL);
}

#[test]
fn reka_serves_chat_at_its_openai_compatible_endpoint_with_a_bearer_key() {
    let reka = lookup("reka-ai").unwrap();
    assert_eq!(reka.kind, ProviderKind::OpenAiCompatible);
    assert_eq!((reka.auth, reka.endpoints), (Bearer, CHAT));
    assert!(!reka.stream_usage);
    assert_eq!(
        reka.url(reka.base_url, Endpoint::ChatCompletions.path()),
        "https://api.reka.ai/v1/chat/completions"
    );
}

#[test]
fn urls_follow_portkey_custom_host_rules() {
    let openai = lookup("openai").unwrap();
    assert_eq!(
        openai.url(openai.base_url, "chat/completions"),
        "https://api.openai.com/v1/chat/completions"
    );
    assert_eq!(
        openai.url("http://127.0.0.1:9/v1/", "embeddings"),
        "http://127.0.0.1:9/v1/embeddings"
    );
    let together = lookup("together-ai").unwrap();
    assert_eq!(
        together.url("http://h:1", "chat/completions"),
        "http://h:1/v1/chat/completions"
    );
    let groq = lookup("groq").unwrap();
    assert_eq!(
        groq.url(groq.base_url, "chat/completions"),
        "https://api.groq.com/openai/v1/chat/completions"
    );
}
