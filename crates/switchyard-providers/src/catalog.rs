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
    /// `Authorization: <scheme> <key>` with a scheme other than `Bearer` (Bytez: `Key`).
    Scheme(&'static str),
    /// No credentials (local servers); a key, if given, is still sent as a bearer token.
    Optional,
    /// AWS Signature Version 4 from the `aws_*` options (or a Bedrock API key as a bearer
    /// token).
    AwsSigV4,
    /// A Google OAuth access token: the key itself, or one exchanged for the
    /// `vertex_service_account_json` option.
    GoogleOAuth,
    /// OCI's HTTP signature (draft-cavage, `rsa-sha256`) from the `oracle_tenancy`,
    /// `oracle_user`, `oracle_fingerprint` and `oracle_private_key` options.
    OciSignature,
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
    WorkersAi,
    /// Embeddings only.
    Nomic,
    Predibase,
    /// Image generation only.
    StabilityAi,
    /// Image generation only.
    Segmind,
    /// Proxy only, signed with SigV4 for `sagemaker`.
    Sagemaker,
    /// Completions only (Triton's generate extension).
    Triton,
    /// Chat through Bytez's model API (no stream).
    Bytez,
    /// OCI Generative AI, signed with OCI's HTTP signature.
    Oracle,
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
    /// `rerank`, in Cohere's v2 shape (`crate::rerank`): Cohere natively, translated for the
    /// OpenAI-compatible hosts that have a rerank API.
    Rerank,
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
            Endpoint::Rerank => "rerank",
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
            Endpoint::Rerank => "rerank",
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

    /// The path a pass-through request (`/v1/{path}`) takes under the base URL: `path` itself,
    /// except on Meshy, whose API version Portkey picks by path (`v2` for `text-to-3d`, `v1`
    /// for every other), unless the client already names one.
    pub fn proxy_path<'a>(&self, path: &'a str) -> std::borrow::Cow<'a, str> {
        if self.slug != "meshy" || path.starts_with("v1/") || path.starts_with("v2/") {
            return std::borrow::Cow::Borrowed(path);
        }
        let route = path.split('?').next().unwrap_or(path);
        let version = if route.contains("text-to-3d") {
            "v2"
        } else {
            "v1"
        };
        std::borrow::Cow::Owned(format!("{version}/{path}"))
    }

    /// A provider served only through the pass-through proxy (no translated endpoint).
    pub fn proxy_only(&self) -> bool {
        self.endpoints.is_empty()
    }

    /// The AWS service a SigV4 signature is for (rows with [`AuthStyle::AwsSigV4`]).
    pub fn signing_service(&self) -> &'static str {
        match self.slug {
            "sagemaker" => "sagemaker",
            _ => "bedrock",
        }
    }
}

use Endpoint::{ChatCompletions as Chat, Completions as Cmpl, Embeddings as Emb};

const ALL: &[Endpoint] = &[Chat, Cmpl, Emb];
const CHAT_CMPL: &[Endpoint] = &[Chat, Cmpl];
const CHAT_EMB: &[Endpoint] = &[Chat, Emb];
const CHAT: &[Endpoint] = &[Chat];
/// Embedding-only hosts: chat and completions are refused before any I/O.
const EMB: &[Endpoint] = &[Emb];
/// Hosts with a rerank API (`crate::rerank`).
const ALL_RERANK: &[Endpoint] = &[Chat, Cmpl, Emb, Endpoint::Rerank];
const CHAT_EMB_RERANK: &[Endpoint] = &[Chat, Emb, Endpoint::Rerank];
/// Embedding and rerank hosts (`jina`, `voyage`): chat and completions are refused before any
/// I/O.
const EMB_RERANK: &[Endpoint] = &[Emb, Endpoint::Rerank];
/// Image-generation-only providers (`recraft-ai`, `segmind`, `stability-ai`).
const IMAGES: &[Endpoint] = &[Endpoint::ImageGenerations];
/// Completions-only providers (`triton`).
const CMPL: &[Endpoint] = &[Cmpl];
/// Proxy-only providers (`replicate`, `tripo3d`, …): no endpoint is translated; every other
/// `/v1/*` path is passed as it is, with the provider's credentials.
const PROXY_ONLY: &[Endpoint] = &[];

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
    // AI21 Jamba: AI21's current chat API is OpenAI-shaped (`/studio/v1/chat/completions`);
    // Portkey still calls the retired Jurassic-2 `/{model}/chat`. Strict: AI21 documents no
    // `stream_options`.
    strict(compat(
        "ai21",
        "https://api.ai21.com/studio/v1",
        "",
        Bearer,
        CHAT,
    )),
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
    // Bytez: chat through its model API (`POST /models/v2/{model}`), keyed `Authorization: Key
    // <key>` (docs.bytez.com/http/model/run), as Portkey calls it.
    native(
        "bytez",
        N(Native::Bytez),
        "https://api.bytez.com",
        "",
        AuthStyle::Scheme("Key"),
        CHAT,
    ),
    compat("cerebras", "https://api.cerebras.ai/v1", "", Bearer, CHAT),
    native(
        "cohere",
        N(Native::Cohere),
        "https://api.cohere.com",
        "",
        Bearer,
        CHAT_EMB_RERANK,
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
        ALL_RERANK,
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
    compat("jina", "https://api.jina.ai/v1", "", Bearer, EMB_RERANK),
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
    // Meshy (3D generation): proxy only; the API version segment is chosen per path as
    // Portkey does ([`ProviderSpec::proxy_path`]).
    compat(
        "meshy",
        "https://api.meshy.ai/openapi",
        "",
        Bearer,
        PROXY_ONLY,
    ),
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
    native(
        "nomic",
        N(Native::Nomic),
        "https://api-atlas.nomic.ai",
        "",
        Bearer,
        EMB,
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
    // OCI Generative AI: the base URL names the region (`oracle_region`); requests are signed.
    native(
        "oracle",
        N(Native::Oracle),
        "",
        "",
        AuthStyle::OciSignature,
        CHAT,
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
    // Predibase: OpenAI-shaped chat at an address built from the tenant and the model.
    native(
        "predibase",
        N(Native::Predibase),
        "https://serving.app.predibase.com",
        "",
        Bearer,
        CHAT,
    ),
    // Recraft's image API is OpenAI's shape with Recraft's own members (`style`, `substyle`,
    // `controls`, …), which pass as they are.
    compat(
        "recraft-ai",
        "https://external.api.recraft.ai/v1",
        "",
        Bearer,
        IMAGES,
    ),
    // Reka: Reka's Chat API is now OpenAI-compatible at `https://api.reka.ai/v1` with the key as
    // a bearer token (docs.reka.ai/chat/ "Overview": "our API is fully OpenAI-compatible",
    // `OpenAI(base_url="https://api.reka.ai/v1")`; bearer auth per
    // docs.reka.ai/research/api-reference). Portkey still calls the older `/chat` with
    // `conversation_history` and `x-api-key`. Strict: Reka documents no `stream_options`.
    strict(compat(
        "reka-ai",
        "https://api.reka.ai/v1",
        "",
        Bearer,
        CHAT,
    )),
    // Replicate: proxy only (Portkey maps no endpoint), e.g. `POST /v1/predictions`.
    compat(
        "replicate",
        "https://api.replicate.com/v1",
        "",
        Bearer,
        PROXY_ONLY,
    ),
    // SageMaker: proxy only (`POST /v1/endpoints/{endpoint}/invocations`); the base URL names
    // the region (`aws_region`).
    native(
        "sagemaker",
        N(Native::Sagemaker),
        "",
        "",
        AuthStyle::AwsSigV4,
        PROXY_ONLY,
    ),
    compat("sambanova", "https://api.sambanova.ai", "/v1", Bearer, CHAT),
    native(
        "segmind",
        N(Native::Segmind),
        "https://api.segmind.com/v1",
        "",
        AuthStyle::Header("x-api-key"),
        IMAGES,
    ),
    compat(
        "siliconflow",
        "https://api.siliconflow.cn/v1",
        "",
        Bearer,
        CHAT_EMB,
    ),
    native(
        "stability-ai",
        N(Native::StabilityAi),
        "https://api.stability.ai",
        "",
        Bearer,
        IMAGES,
    ),
    compat(
        "together-ai",
        "https://api.together.xyz",
        "/v1",
        Bearer,
        ALL_RERANK,
    ),
    // Tripo (3D generation): proxy only, e.g. `POST /v1/task`.
    compat(
        "tripo3d",
        "https://api.tripo3d.ai/v2/openapi",
        "",
        Bearer,
        PROXY_ONLY,
    ),
    // NVIDIA Triton (generate extension): completions at `{custom_host}/generate`, the custom
    // host naming the model (`…/v2/models/{model}`) as in Portkey; no default host, no key.
    native("triton", N(Native::Triton), "", "", Optional, CMPL),
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
    compat(
        "voyage",
        "https://api.voyageai.com/v1",
        "",
        Bearer,
        EMB_RERANK,
    ),
    // Cloudflare Workers AI: the base URL names the account (`workers_ai_account_id`).
    native("workers-ai", N(Native::WorkersAi), "", "", Bearer, CHAT_EMB),
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
#[path = "catalog_tests.rs"]
mod tests;
