"""The response cache through the official `openai` SDK: a streamed answer is cached and a hit
is replayed as a stream the SDK parses, and two gateway processes share entries — exact and
semantic — through the real Redis server (127.0.0.1:6379, started by scripts/services)."""

import json
import time
import uuid

import pytest
from openai import OpenAI

from conftest import start_gateway, stop_gateway

MESSAGES = [{"role": "user", "content": "tell me something cacheable"}]


def cached_client(gateway, mock, key: str, mode: str = "simple") -> OpenAI:
    config = {
        "provider": "openai",
        "api_key": key,
        "custom_host": mock.v1,
        "cache": {"mode": mode, "max_age": 600},
    }
    return OpenAI(
        base_url=gateway.v1,
        api_key="unused",
        max_retries=0,
        timeout=10,
        default_headers={"x-portkey-config": json.dumps(config)},
    )


def stream_text(client) -> tuple[str, str]:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    status = raw.headers["x-portkey-cache-status"]
    chunks = list(raw.parse())
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"
    return status, "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_a_cached_stream_is_replayed_as_a_stream_the_sdk_parses(gateway, mock_a):
    client = cached_client(gateway, mock_a, f"sk-{uuid.uuid4().hex}")
    first_status, first = stream_text(client)
    assert first_status == "MISS"
    time.sleep(0.1)  # storing happens after the answer went out
    second_status, second = stream_text(client)
    assert second_status == "HIT"
    assert second == first == mock_a.greeting

    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)
    assert raw.headers["x-portkey-cache-status"] == "HIT"
    assert raw.parse().choices[0].message.content == mock_a.greeting


# Both gateways embed through mock-b's bag-of-words model: texts with the same words match.
REDIS_CONFIG = """
redis:
  url: redis://127.0.0.1:6379
  prefix: "{prefix}"
routes:
  embed:
    provider: openai
    api_key: sk-embed
    custom_host: {embedder}
    override_params: {{model: mock-bag-of-words}}
cache:
  backend: redis
  semantic:
    route: embed
"""


@pytest.fixture()
def redis_gateways(tmp_path, mock_b):
    prefix = f"switchyard-e2e-{uuid.uuid4().hex}:"
    path = tmp_path / "redis.yaml"
    path.write_text(REDIS_CONFIG.format(prefix=prefix, embedder=mock_b.v1))
    one = start_gateway("redis-one", config=path)
    two = start_gateway("redis-two", config=path)
    yield one, two
    stop_gateway(one)
    stop_gateway(two)


def test_two_gateway_processes_share_entries_through_redis(redis_gateways, mock_a):
    one, two = redis_gateways
    key = f"sk-{uuid.uuid4().hex}"
    raw = cached_client(one, mock_a, key).chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=MESSAGES
    )
    assert raw.headers["x-portkey-cache-status"] == "MISS"
    stored = raw.parse()
    time.sleep(0.2)
    raw = cached_client(two, mock_a, key).chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=MESSAGES
    )
    assert raw.headers["x-portkey-cache-status"] == "HIT"
    hit = raw.parse()
    assert hit.id == stored.id
    assert hit.choices[0].message.content == stored.choices[0].message.content


def test_two_gateway_processes_share_semantic_entries_through_redis(redis_gateways, mock_a):
    one, two = redis_gateways
    key = f"sk-{uuid.uuid4().hex}"

    def ask(gw, text: str, headers=None):
        client = cached_client(gw, mock_a, key, "semantic")
        return client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini",
            messages=[
                {"role": "system", "content": "Answer briefly."},
                {"role": "user", "content": text},
            ],
            extra_headers=headers,
        )

    raw = ask(one, "What is the capital of France?")
    assert raw.headers["x-portkey-cache-status"] == "SEMANTIC MISS"
    stored = raw.parse()
    deadline = time.monotonic() + 5
    while True:
        # no-store: a miss while the vector travels must not store an answer of its own.
        raw = ask(two, "what is the capital of france", {"cache-control": "no-store"})
        status = raw.headers["x-portkey-cache-status"]
        if status == "SEMANTIC HIT" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert status == "SEMANTIC HIT", "the other process's vector, read from the Redis stream"
    assert float(raw.headers["x-switchyard-cache-similarity"]) >= 0.95
    hit = raw.parse()
    assert hit.id == stored.id
    assert hit.choices[0].message.content == stored.choices[0].message.content
