#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the provider fixtures and docs examples. Idempotent: seed
# files are named by content hash, so re-running adds nothing twice. The fuzzers grow the
# corpora from there; corpus/ is not committed.
set -euo pipefail
cd "$(dirname "$0")"
fx=../crates/switchyard-providers/fixtures

seed() { # seed TARGET PREFIX_BYTE_HEX FILE...
  local target=$1 prefix=$2
  shift 2
  mkdir -p "corpus/$target"
  for f in "$@"; do
    [ -f "$f" ] || continue
    local tmp
    tmp=$(mktemp)
    if [ -n "$prefix" ]; then printf "\\x$prefix" >"$tmp"; fi
    cat "$f" >>"$tmp"
    mv "$tmp" "corpus/$target/$(sha1sum <"$tmp" | cut -c1-16)"
  done
}

# Flags byte for the provider targets (see fuzz_targets/common/mod.rs):
#   00 wire bytes, 1-byte chunks; 01 the same with include_usage; f0 wire bytes, 16-byte chunks;
#   04 chat_response; 06 error_response (status 400); 96 error_response (status 429);
#   08/09 Vertex AI variants of 00/01.
for p in 00 01 f0 08 09; do
  seed anthropic_stream $p $fx/anthropic/stream_*.sse
  seed gemini_stream $p $fx/google/stream_*.sse
  seed cohere_stream $p $fx/cohere/stream_*.sse
  seed bedrock_stream $p $fx/bedrock/*.eventstream
done
seed anthropic_stream 04 $fx/anthropic/resp_*.json
seed gemini_stream 04 $fx/google/response_*.json $fx/google/*embed*.json $fx/google/vertex_predict_response.json
seed cohere_stream 04 $fx/cohere/response_*.json $fx/cohere/embed_response.json
seed bedrock_stream 04 $fx/bedrock/response_*.json $fx/bedrock/embed_*.json
for p in 06 96; do
  seed anthropic_stream $p $fx/anthropic/error_*.json
  seed gemini_stream $p $fx/google/error_*.json
  seed cohere_stream $p $fx/cohere/error_*.json
  seed bedrock_stream $p $fx/bedrock/error_*.json
done

# Decoders: every fixture stream, with a few chunk sizes.
for p in 00 07 1f; do
  seed sse_decoder $p $fx/*/stream_*.sse
  seed openai_stream_forward $p $fx/*/stream_*.sse
  seed bedrock_eventstream $p $fx/bedrock/*.eventstream
done

# JSON bodies: every request fixture in the OpenAI shape.
seed json_inspect_patch "" $fx/*/*.openai.json $fx/*/request_*.json
seed native_request "" $fx/*/*.openai.json $fx/bedrock/request_full.openai.json $fx/cohere/request_full.openai.json $fx/google/request_conversation.json

# Configs: the docs' examples (JSON Gateway Configs and YAML config files).
mkdir -p corpus/gateway_config corpus/config_yaml
find ../docs -name '*.json' -print0 | while IFS= read -r -d '' f; do seed gateway_config "" "$f"; done
find ../docs -name '*.yaml' -o -name '*.yml' | while read -r f; do seed config_yaml "" "$f"; done
# JSON blocks of the configuration guide.
python3 - <<'PY'
import hashlib, json, os, re, glob
for md in glob.glob("../docs/**/*.md", recursive=True):
    text = open(md, encoding="utf-8").read()
    for lang, block in re.findall(r"```(json|yaml|yml)\n(.*?)```", text, re.S):
        target = "gateway_config" if lang == "json" else "config_yaml"
        if target == "gateway_config":
            try:
                json.loads(block)
            except ValueError:
                continue
        name = hashlib.sha1(block.encode()).hexdigest()[:16]
        with open(f"corpus/{target}/{name}", "w", encoding="utf-8") as f:
            f.write(block)
PY
# Gateway Configs: hand-written ones covering every feature, and every route of the examples.
python3 - <<'PY'
import hashlib, json, glob
configs = [
    {"provider": "openai", "api_key": "sk-x"},
    {"strategy": {"mode": "fallback", "on_status_codes": [429, 500]},
     "targets": [{"provider": "openai", "api_key": "k", "override_params": {"model": "gpt-4o"}},
                 {"provider": "anthropic", "api_key": "k", "retry": {"attempts": 3, "on_status_codes": [429], "use_retry_after_header": True}}]},
    {"strategy": {"mode": "loadbalance"}, "request_timeout": 5000,
     "targets": [{"provider": "openai", "api_key": "k", "weight": 0.7},
                 {"provider": "groq", "api_key": "k", "weight": 0.3, "custom_host": "https://api.example.com/v1"}]},
    {"strategy": {"mode": "conditional",
                  "conditions": [{"query": {"metadata.user_plan": {"$eq": "paid"}}, "then": "fast"},
                                 {"query": {"$or": [{"params.model": {"$in": ["a", "b"]}}, {"params.temperature": {"$gt": 0.5}}]}, "then": "cheap"},
                                 {"query": {"params.user": {"$regex": "^u[0-9]+$"}}, "then": "fast"}],
                  "default": "cheap"},
     "targets": [{"name": "fast", "provider": "openai", "api_key": "k"},
                 {"name": "cheap", "strategy": {"mode": "single"}, "targets": [{"provider": "mistral-ai", "api_key": "k"}]}]},
    {"strategy": {"mode": "fallback"}, "forward_headers": ["x-trace-id"], "cache": {"mode": "simple"},
     "targets": [{"provider": "bedrock", "aws_access_key_id": "a", "aws_secret_access_key": "s", "aws_region": "us-east-1"},
                 {"provider": "vertex-ai", "vertex_project_id": "p", "vertex_region": "us-central1", "api_key": "t"},
                 {"provider": "azure-openai", "api_key": "k", "resource_name": "r", "deployment_id": "d", "api_version": "2024-06-01"}]},
    {"virtual_key": "vk", "mode": "fallback", "options": [{"provider": "openai"}]},
]
for path in glob.glob("../docs/examples/*.yaml"):
    import yaml
    doc = yaml.safe_load(open(path)) or {}
    for route in (doc.get("routes") or {}).values():
        configs.append(route)
    if isinstance(doc.get("default_route"), dict):
        configs.append(doc["default_route"])
for c in configs:
    text = json.dumps(c)
    with open("corpus/gateway_config/" + hashlib.sha1(text.encode()).hexdigest()[:16], "w") as f:
        f.write(text)
PY

for t in corpus/*; do echo "$t: $(ls "$t" | wc -l) seeds"; done
