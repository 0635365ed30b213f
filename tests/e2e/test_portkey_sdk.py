"""The Portkey Python SDK (portkey-ai 2.3.4) against the gateway: headers, Gateway Configs."""

import pytest
from portkey_ai import Portkey
from portkey_ai._vendor.openai import APIStatusError  # what the SDK raises for HTTP errors

MESSAGES = [{"role": "user", "content": "hi"}]


def content(r) -> str:
    return r.choices[0].message.content


@pytest.fixture()
def portkey(gateway, mock_a):
    return Portkey(base_url=gateway.v1, provider="openai", Authorization="sk-test", custom_host=mock_a.v1)


def test_chat(portkey, mock_a):
    r = portkey.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert content(r) == mock_a.greeting
    assert r.model == "gpt-4o-mini"
    assert r.usage.total_tokens == 8
    h = r.get_headers()  # the SDK's view of the x-portkey-* response headers
    assert h["provider"] == "openai"
    assert h["last-used-option-index"] == "config"
    assert h["retry-attempt-count"] == "0"
    assert len(h["trace-id"]) == 36


def test_trace_id_is_echoed(gateway, mock_a):
    pk = Portkey(base_url=gateway.v1, provider="openai", Authorization="sk-test",
                 custom_host=mock_a.v1, trace_id="e2e-trace-1")
    r = pk.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert r.get_headers()["trace-id"] == "e2e-trace-1"


def test_stream(portkey, mock_a):
    chunks = list(portkey.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == mock_a.greeting
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_stream_with_usage(portkey, mock_a):
    chunks = list(portkey.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == mock_a.greeting
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 8


def test_fallback_skips_a_dead_target(gateway, mock_b, dead_v1):
    config = {
        "strategy": {"mode": "fallback"},
        "targets": [
            {"provider": "openai", "api_key": "k", "custom_host": dead_v1},
            {"provider": "openai", "api_key": "k", "custom_host": mock_b.v1},
        ],
    }
    pk = Portkey(base_url=gateway.v1, config=config)
    r = pk.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert content(r) == mock_b.greeting
    assert r.get_headers()["last-used-option-index"] == "config.targets[1]"

    # The same through the vendored OpenAI client's raw response.
    raw = pk.openai_client.with_raw_response.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert raw.headers["x-portkey-last-used-option-index"] == "config.targets[1]"
    assert raw.parse().choices[0].message.content == mock_b.greeting

    chunks = list(pk.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == mock_b.greeting


def test_fallback_with_every_target_dead_returns_the_last_error(gateway, dead_v1):
    dead = {"provider": "openai", "api_key": "k", "custom_host": dead_v1}
    pk = Portkey(base_url=gateway.v1, config={"strategy": {"mode": "fallback"}, "targets": [dead, dead]})
    with pytest.raises(APIStatusError) as exc:
        pk.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    err = exc.value
    assert err.status_code == 502
    assert err.response.headers["x-portkey-last-used-option-index"] == "config.targets[1]"
    msg = err.response.json()["error"]["message"]
    assert msg.startswith("All 2 targets failed"), msg
    assert "config.targets[0] (openai)" in msg and "config.targets[1] (openai)" in msg


def test_loadbalance_never_picks_weight_zero(gateway, mock_a, mock_b):
    config = {
        "strategy": {"mode": "loadbalance"},
        "targets": [
            {"provider": "openai", "api_key": "k", "custom_host": mock_a.v1, "weight": 1},
            {"provider": "openai", "api_key": "k", "custom_host": mock_b.v1, "weight": 0},
        ],
    }
    pk = Portkey(base_url=gateway.v1, config=config)
    for _ in range(10):
        r = pk.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert content(r) == mock_a.greeting
        assert r.get_headers()["last-used-option-index"] == "config.targets[0]"


def test_loadbalance_order_does_not_matter(gateway, mock_a, mock_b):
    config = {
        "strategy": {"mode": "loadbalance"},
        "targets": [
            {"provider": "openai", "api_key": "k", "custom_host": mock_a.v1, "weight": 0},
            {"provider": "openai", "api_key": "k", "custom_host": mock_b.v1, "weight": 1},
        ],
    }
    pk = Portkey(base_url=gateway.v1, config=config)
    seen = {content(pk.chat.completions.create(model="m", messages=MESSAGES)) for _ in range(10)}
    assert seen == {mock_b.greeting}


def test_conditional_routing_on_sdk_metadata(gateway, mock_a, mock_b):
    """`metadata=` becomes x-portkey-metadata (json.dumps with spaces); conditions read it."""
    config = {
        "strategy": {
            "mode": "conditional",
            "conditions": [{"query": {"metadata.tier": {"$eq": "pro"}}, "then": "pro"}],
            "default": "free",
        },
        "targets": [
            {"name": "free", "provider": "openai", "api_key": "k", "custom_host": mock_a.v1},
            {"name": "pro", "provider": "openai", "api_key": "k", "custom_host": mock_b.v1},
        ],
    }
    pro = Portkey(base_url=gateway.v1, config=config, metadata={"tier": "pro", "user": "u1"})
    r = pro.chat.completions.create(model="m", messages=MESSAGES)
    assert content(r) == mock_b.greeting
    assert r.get_headers()["last-used-option-index"] == "config.targets[1]"
    free = Portkey(base_url=gateway.v1, config=config, metadata={"tier": "free"})
    assert content(free.chat.completions.create(model="m", messages=MESSAGES)) == mock_a.greeting


def test_completions(portkey, mock_a):
    r = portkey.completions.create(model="gpt-3.5-turbo-instruct", prompt="say hi")
    assert r.choices[0].text == mock_a.greeting
    assert r.model == "gpt-3.5-turbo-instruct"


def test_default_sdk_key_with_a_client_custom_host(gateway, mock_a):
    """Without Authorization the SDK sends `Bearer OPENAI_API_KEY`; the custom host gets that key."""
    pk = Portkey(base_url=gateway.v1, provider="openai", custom_host=mock_a.v1)
    assert content(pk.chat.completions.create(model="m", messages=MESSAGES)) == mock_a.greeting


def test_models_list(portkey):
    assert [m.id for m in portkey.models.list().data] == ["mock-model"]


def test_sdk_custom_host_beats_the_config_custom_host(gateway, mock_a, mock_b):
    """`custom_host=` (x-portkey-custom-host) overrides every leaf's custom_host, as in Portkey."""
    pk = Portkey(base_url=gateway.v1, custom_host=mock_a.v1,
                 config={"provider": "openai", "api_key": "k", "custom_host": mock_b.v1})
    assert content(pk.chat.completions.create(model="m", messages=MESSAGES)) == mock_a.greeting


def test_embeddings(portkey):
    r = portkey.embeddings.create(model="text-embedding-3-small", input=["first", "second"])
    assert len(r.data) == 2
    assert [d.index for d in r.data] == [0, 1]
    assert all(len(d.embedding) == 3 for d in r.data)
    assert r.get_headers()["provider"] == "openai"


def test_embeddings_through_a_config(gateway, mock_b):
    pk = Portkey(base_url=gateway.v1,
                 config={"provider": "openai", "api_key": "k", "custom_host": mock_b.v1})
    r = pk.embeddings.create(model="text-embedding-3-small", input="one")
    assert len(r.data) == 1 and len(r.data[0].embedding) == 3


def test_guardrails_deny_flag_and_fall_back(gateway, mock_a, mock_b):
    """Portkey's hooks dialect through its SDK: a denying PII guardrail answers 446 without
    calling the provider, a fallback moves past it, and a failed check without deny is a 246
    the SDK still parses."""
    pii = [{"role": "user", "content": "mail me at jane.doe@example.com"}]
    guarded = {"provider": "openai", "api_key": "k", "custom_host": mock_a.v1,
               "input_guardrails": [{"deny": True, "pii": {"action": "block"}}]}
    pk = Portkey(base_url=gateway.v1, config=guarded)
    assert content(pk.chat.completions.create(model="m", messages=MESSAGES)) == mock_a.greeting

    with pytest.raises(APIStatusError) as exc:
        pk.chat.completions.create(model="m", messages=pii)
    assert exc.value.status_code == 446
    body = exc.value.response.json()
    assert body["error"]["type"] == "hooks_failed"
    check = body["hook_results"]["before_request_hooks"][0]["checks"][0]
    assert check["id"] == "default.pii" and check["verdict"] is False
    assert "jane.doe" not in exc.value.response.text, "the detected value is never echoed"

    fallback = {"strategy": {"mode": "fallback"},
                "targets": [guarded, {"provider": "openai", "api_key": "k", "custom_host": mock_b.v1}]}
    pk = Portkey(base_url=gateway.v1, config=fallback)
    assert content(pk.chat.completions.create(model="m", messages=pii)) == mock_b.greeting

    flagged = {"provider": "openai", "api_key": "k", "custom_host": mock_a.v1,
               "output_guardrails": [{"wordCount": {"minWords": 50}}]}
    pk = Portkey(base_url=gateway.v1, config=flagged)
    raw = pk.openai_client.with_raw_response.chat.completions.create(model="m", messages=MESSAGES)
    assert raw.status_code == 246
    assert raw.parse().choices[0].message.content == mock_a.greeting
