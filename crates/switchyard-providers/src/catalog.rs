//! Every provider Switchyard can route to, keyed by Portkey's provider slug.
//!
//! A URL is built as `base_url + prefix + "/" + endpoint`, where `endpoint` is the OpenAI path
//! after `/v1/` (`chat/completions`, `embeddings`, …). `base_url` is what a `custom_host`
//! replaces, so custom hosts mean the same thing here as in Portkey (for `openai` a custom host
//! ends in `/v1`; for `together-ai`, whose prefix is `/v1`, it does not).

/// How a provider expects its API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthStyle {
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// The key as the value of the named header.
    Header(&'static str),
    /// No credentials (local servers); a key, if given, is still sent as a bearer token.
    Optional,
    /// AWS Signature Version 4 from the `aws_*` options (or a Bedrock API key as a bearer
    /// token).
    AwsSigV4,
    /// A Google OAuth access token: the key itself, or one exchanged for the
    /// `vertex_service_account_json` option.
    GoogleOAuth,
}

/// The API shape a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// OpenAI's API: requests pass through with only `model`/override params touched.
    OpenAiCompatible,
    /// OpenAI's API at Azure's addresses (`/openai/deployments/{deployment}/…?api-version=`).
    AzureOpenAi,
    /// A provider with its own API, translated by a [`crate::native::NativeAdapter`].
    Native(Native),
}

/// The providers with their own API shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Native {
    Anthropic,
    Google,
    VertexAi,
    Bedrock,
    Cohere,
}

/// The endpoints the gateway understands; anything else is proxied as-is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    ChatCompletions,
    Completions,
    Embeddings,
    /// Anthropic's Messages API: native on Claude targets, served through the chat path
    /// (`dialect::anthropic`) on every other.
    Messages,
    /// `images/generations`: passed to OpenAI-compatible hosts as it is, translated for native
    /// providers that have an image API.
    ImageGenerations,
    /// OpenAI's Responses API: native on OpenAI and Azure OpenAI, served through the chat path
    /// (`dialect::responses`) on every other target.
    Responses,
    /// Anthropic's `messages/count_tokens`, on Claude targets.
    CountTokens,
}

impl Endpoint {
    /// The path after `/v1/`.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "chat/completions",
            Endpoint::Completions => "completions",
            Endpoint::Embeddings => "embeddings",
            Endpoint::Messages => "messages",
            Endpoint::ImageGenerations => "images/generations",
            Endpoint::Responses => "responses",
            Endpoint::CountTokens => "messages/count_tokens",
        }
    }

    /// A low-cardinality name for logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "chat_completions",
            Endpoint::Completions => "completions",
            Endpoint::Embeddings => "embeddings",
            Endpoint::Messages => "messages",
            Endpoint::ImageGenerations => "image_generations",
            Endpoint::Responses => "responses",
            Endpoint::CountTokens => "count_tokens",
        }
    }
}

/// One row of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderSpec {
    /// Portkey's slug, as sent in `x-portkey-provider` or a config's `provider`.
    pub slug: &'static str,
    pub kind: ProviderKind,
    /// The default base URL (replaced by `custom_host`). Empty when the provider has no public
    /// endpoint and a host must be configured.
    pub base_url: &'static str,
    /// Inserted between the base URL and the endpoint path.
    pub prefix: &'static str,
    pub auth: AuthStyle,
    /// Endpoints the provider serves; requests for others are refused before any I/O.
    pub endpoints: &'static [Endpoint],
    /// The host accepts OpenAI's `stream_options: {"include_usage": true}`, so the gateway can
    /// ask for a stream's usage even when the client did not (and drop the extra chunk).
    pub stream_usage: bool,
}

impl ProviderSpec {
    pub fn supports(&self, endpoint: Endpoint) -> bool {
        self.endpoints.contains(&endpoint)
    }

    /// The full URL of `path` (an OpenAI path after `/v1/`) under `base` (the default base URL
    /// or a custom host).
    pub fn url(&self, base: &str, path: &str) -> String {
        let base = base.trim_end_matches('/');
        let path = path.trim_start_matches('/');
        let mut url = String::with_capacity(base.len() + self.prefix.len() + path.len() + 1);
        url.push_str(base);
        url.push_str(self.prefix);
        url.push('/');
        url.push_str(path);
        url
    }

    /// Whether a request to this provider can be made without any API key.
    pub fn key_optional(&self) -> bool {
        matches!(self.auth, AuthStyle::Optional)
    }

    /// The base URL depends on per-target options (region, resource name).
    pub fn dynamic_base(&self) -> bool {
        self.base_url.is_empty()
    }
}

use Endpoint::{ChatCompletions as Chat, Completions as Cmpl, Embeddings as Emb};

const ALL: &[Endpoint] = &[Chat, Cmpl, Emb];
const CHAT_CMPL: &[Endpoint] = &[Chat, Cmpl];
const CHAT_EMB: &[Endpoint] = &[Chat, Emb];
const CHAT: &[Endpoint] = &[Chat];
/// Embedding-only hosts (`jina`, `voyage`): chat and completions are refused before any I/O.
const EMB: &[Endpoint] = &[Emb];

const fn compat(
    slug: &'static str,
    base_url: &'static str,
    prefix: &'static str,
    auth: AuthStyle,
    endpoints: &'static [Endpoint],
) -> ProviderSpec {
    ProviderSpec {
        slug,
        kind: ProviderKind::OpenAiCompatible,
        base_url,
        prefix,
        auth,
        endpoints,
        stream_usage: true,
    }
}

/// A host that refuses request members it does not know (so the gateway never adds
/// `stream_options` on its own).
const fn strict(spec: ProviderSpec) -> ProviderSpec {
    ProviderSpec {
        stream_usage: false,
        ..spec
    }
}

const fn native(
    slug: &'static str,
    kind: ProviderKind,
    base_url: &'static str,
    prefix: &'static str,
    auth: AuthStyle,
    endpoints: &'static [Endpoint],
) -> ProviderSpec {
    ProviderSpec {
        slug,
        kind,
        base_url,
        prefix,
        auth,
        endpoints,
        // Azure OpenAI takes it; native adapters report usage without being asked.
        stream_usage: matches!(kind, ProviderKind::AzureOpenAi),
    }
}

use AuthStyle::{Bearer, Optional};
use ProviderKind::Native as N;

/// The catalogue, sorted by slug. Base URLs and path prefixes follow each provider's published
/// OpenAI-compatible API (and Portkey's gateway, so custom hosts carry over unchanged).
pub static CATALOG: &[ProviderSpec] = &[
    // 302.AI: Portkey forwards only a handful of chat parameters (never `stream_options`).
    strict(compat("302ai", "https://api.302.ai", "/v1", Bearer, CHAT)),
    compat("aibadgr", "https://aibadgr.com/api/v1", "", Bearer, CHAT),
    native(
        "anthropic",
        N(Native::Anthropic),
        "https://api.anthropic.com/v1",
        "",
        AuthStyle::Header("x-api-key"),
        CHAT,
    ),
    compat(
        "anyscale",
        "https://api.endpoints.anyscale.com/v1",
        "",
        Bearer,
        ALL,
    ),
    // Azure AI Foundry / Azure AI model inference: the endpoint is per deployment (Portkey's
    // `azure_foundry_url`), so a `custom_host` is required. Strict: without Portkey's
    // `extra-parameters: drop` header the service refuses members it does not know.
    strict(compat("azure-ai", "", "", Bearer, ALL)),
    native(
        "azure-openai",
        ProviderKind::AzureOpenAi,
        "",
        "",
        AuthStyle::Header("api-key"),
        ALL,
    ),
    native(
        "bedrock",
        N(Native::Bedrock),
        "",
        "",
        AuthStyle::AwsSigV4,
        CHAT_EMB,
    ),
    compat("cerebras", "https://api.cerebras.ai/v1", "", Bearer, CHAT),
    native(
        "cohere",
        N(Native::Cohere),
        "https://api.cohere.com",
        "",
        Bearer,
        CHAT_EMB,
    ),
    compat(
        "cometapi",
        "https://api.cometapi.com/v1",
        "",
        Bearer,
        CHAT_EMB,
    ),
    compat(
        "dashscope",
        "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
        "",
        Bearer,
        CHAT_EMB,
    ),
    compat(
        "deepbricks",
        "https://api.deepbricks.ai/v1",
        "",
        Bearer,
        CHAT,
    ),
    compat(
        "deepinfra",
        "https://api.deepinfra.com/v1/openai",
        "",
        Bearer,
        ALL,
    ),
    compat(
        "deepseek",
        "https://api.deepseek.com",
        "/v1",
        Bearer,
        CHAT_CMPL,
    ),
    compat(
        "featherless-ai",
        "https://api.featherless.ai/v1",
        "",
        Bearer,
        CHAT_CMPL,
    ),
    compat(
        "fireworks-ai",
        "https://api.fireworks.ai/inference/v1",
        "",
        Bearer,
        ALL,
    ),
    compat(
        "github",
        "https://models.inference.ai.azure.com",
        "",
        Bearer,
        ALL,
    ),
    native(
        "google",
        N(Native::Google),
        "https://generativelanguage.googleapis.com",
        "",
        AuthStyle::Header("x-goog-api-key"),
        CHAT_EMB,
    ),
    compat("groq", "https://api.groq.com/openai/v1", "", Bearer, CHAT),
    compat(
        "huggingface",
        "https://router.huggingface.co",
        "/v1",
        Bearer,
        CHAT_CMPL,
    ),
    compat(
        "hyperbolic",
        "https://api.hyperbolic.xyz",
        "/v1",
        Bearer,
        CHAT_CMPL,
    ),
    compat(
        "inference-net",
        "https://api.inference.net/v1",
        "",
        Bearer,
        CHAT_CMPL,
    ),
    compat(
        "iointelligence",
        "https://api.intelligence.io.solutions/api/v1",
        "",
        Bearer,
        CHAT_EMB,
    ),
    compat("jina", "https://api.jina.ai/v1", "", Bearer, EMB),
    compat(
        "kluster-ai",
        "https://api.kluster.ai/v1",
        "",
        Bearer,
        CHAT_EMB,
    ),
    compat(
        "krutrim",
        "https://cloud.olakrutrim.com/v1",
        "",
        Bearer,
        CHAT,
    ),
    compat(
        "lambda",
        "https://api.lambdalabs.com/v1",
        "",
        Bearer,
        CHAT_CMPL,
    ),
    // Portkey leaves `stream_options` out of what it forwards to Lemonfox.
    strict(compat(
        "lemonfox-ai",
        "https://api.lemonfox.ai/v1",
        "",
        Bearer,
        CHAT,
    )),
    compat(
        "lepton",
        "https://api.lepton.ai",
        "/api/v1",
        Bearer,
        CHAT_CMPL,
    ),
    strict(compat(
        "lingyi",
        "https://api.lingyiwanwu.com",
        "/v1",
        Bearer,
        CHAT,
    )),
    compat("lm-studio", "http://localhost:1234", "/v1", Optional, ALL),
    compat("matterai", "https://api.matterai.so/v1", "", Bearer, CHAT),
    // Mistral reports usage in its last chunk unasked and rejects unknown members.
    strict(compat(
        "mistral-ai",
        "https://api.mistral.ai/v1",
        "",
        Bearer,
        CHAT_EMB,
    )),
    // Modal serves the user's own deployment (`https://<workspace>--<app>.modal.run/v1`), so a
    // `custom_host` is required; with no key the client's `Modal-Key`/`Modal-Secret` headers
    // (forwarded) authenticate instead.
    compat("modal", "", "", Optional, CHAT_CMPL),
    strict(compat(
        "monsterapi",
        "https://llm.monsterapi.ai/v1",
        "",
        Bearer,
        CHAT,
    )),
    compat("moonshot", "https://api.moonshot.cn/v1", "", Bearer, CHAT),
    strict(compat(
        "ncompass",
        "https://api.ncompass.tech/v1",
        "",
        Bearer,
        CHAT,
    )),
    compat("nebius", "https://api.studio.nebius.ai/v1", "", Bearer, ALL),
    compat(
        "nextbit",
        "https://api.nextbit256.com/v1",
        "",
        Bearer,
        CHAT_CMPL,
    ),
    compat(
        "novita-ai",
        "https://api.novita.ai/v3/openai",
        "",
        Bearer,
        CHAT_CMPL,
    ),
    compat(
        "nscale",
        "https://inference.api.nscale.com/v1",
        "",
        Bearer,
        CHAT,
    ),
    compat(
        "nvidia-nim",
        "https://integrate.api.nvidia.com/v1",
        "",
        Bearer,
        ALL,
    ),
    compat("ollama", "http://localhost:11434", "/v1", Optional, ALL),
    compat("openai", "https://api.openai.com/v1", "", Bearer, ALL),
    compat(
        "openrouter",
        "https://openrouter.ai/api",
        "/v1",
        Bearer,
        CHAT_CMPL,
    ),
    compat(
        "ovhcloud",
        "https://oai.endpoints.kepler.ai.cloud.ovh.net/v1",
        "",
        Bearer,
        CHAT,
    ),
    compat(
        "perplexity-ai",
        "https://api.perplexity.ai",
        "",
        Bearer,
        CHAT,
    ),
    compat("sambanova", "https://api.sambanova.ai", "/v1", Bearer, CHAT),
    compat(
        "siliconflow",
        "https://api.siliconflow.cn/v1",
        "",
        Bearer,
        CHAT_EMB,
    ),
    compat(
        "together-ai",
        "https://api.together.xyz",
        "/v1",
        Bearer,
        ALL,
    ),
    compat(
        "upstage",
        "https://api.upstage.ai/v1/solar",
        "",
        Bearer,
        CHAT_EMB,
    ),
    native(
        "vertex-ai",
        N(Native::VertexAi),
        "",
        "",
        AuthStyle::GoogleOAuth,
        CHAT_EMB,
    ),
    compat("vllm", "http://localhost:8000", "/v1", Optional, ALL),
    compat("voyage", "https://api.voyageai.com/v1", "", Bearer, EMB),
    compat("x-ai", "https://api.x.ai/v1", "", Bearer, ALL),
    compat("z-ai", "https://api.z.ai/api/paas/v4", "", Bearer, CHAT),
    // Zhipu (BigModel): Portkey forwards only a handful of chat parameters.
    strict(compat(
        "zhipu",
        "https://open.bigmodel.cn/api/paas/v4",
        "",
        Bearer,
        CHAT_EMB,
    )),
];

/// Finds a provider by slug.
pub fn lookup(slug: &str) -> Option<&'static ProviderSpec> {
    CATALOG
        .binary_search_by(|p| p.slug.cmp(slug))
        .ok()
        .and_then(|i| CATALOG.get(i))
}

/// Every slug, for error messages and `/v1/models`.
pub fn slugs() -> impl Iterator<Item = &'static str> {
    CATALOG.iter().map(|p| p.slug)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedding-only rows; every other row serves chat completions.
    const EMBEDDING_ONLY: &[&str] = &["jina", "voyage"];

    #[test]
    fn catalogue_is_sorted_unique_and_large_enough() {
        assert!(CATALOG.windows(2).all(|w| w[0].slug < w[1].slug));
        assert!(CATALOG.len() >= 57);
        for p in CATALOG {
            assert_eq!(lookup(p.slug), Some(p));
            assert!(!p.endpoints.is_empty(), "{}", p.slug);
            if EMBEDDING_ONLY.contains(&p.slug) {
                assert_eq!(p.endpoints, EMB, "{}", p.slug);
            } else {
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
        row("jina", "https://api.jina.ai/v1", "/embeddings", EMB, true),
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
            EMB,
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
        ("ai21", "own wire format"),
        ("bytez", "own wire format"),
        ("meshy", "not a model provider"),
        ("milvus", "not a model provider"),
        ("nomic", "own wire format"),
        ("oracle", "own wire format"),
        ("palm", "deprecated"),
        ("predibase", "own wire format"),
        ("qdrant", "not a model provider"),
        ("recraft-ai", "own wire format"),
        ("reka-ai", "own wire format"),
        ("replicate", "own wire format"),
        ("sagemaker", "own wire format"),
        ("segmind", "own wire format"),
        ("stability-ai", "own wire format"),
        ("tripo3d", "not a model provider"),
        ("triton", "own wire format"),
        ("workers-ai", "own wire format"),
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
            "cohere",
            "google",
            "vertex-ai",
        ] {
            assert!(lookup(slug).is_some(), "{slug}");
        }
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
}
