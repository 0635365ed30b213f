"""Gateway keys through the official SDKs: a key made with the admin API works as the OpenAI
SDK's `api_key`, the Anthropic SDK's `api_key` and the Portkey SDK's `api_key`; the SDKs raise
their typed errors for a wrong key (401) and a spent rate limit (429); two gateway processes
sharing the real PostgreSQL and Redis know the same keys and hold one limit."""

import subprocess
import uuid

import anthropic
import httpx
import openai
import pytest
from portkey_ai import Portkey

from conftest import start_gateway, start_mock, stop, stop_gateway

ADMIN = "e2e-admin-key-0123456789"
MESSAGES = [{"role": "user", "content": "hi"}]

CONFIG = """\
auth:
  admin_key: {admin}
database:
  url: sqlite://{db}
  encryption_key: 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
providers:
  openai:
    api_key: sk-server
    base_url: {mock}
  anthropic:
    api_key: sk-ant-server
    base_url: {anthropic_mock}
routes:
  m:
    provider: openai
  claude:
    provider: anthropic
    allow_proxy_paths: [messages]
"""


@pytest.fixture(scope="module")
def anthropic_mock():
    """A mock that answers `/v1/messages` in Anthropic's shape."""
    m = start_mock("mock-anthropic", "--fast")
    yield m
    stop(m.proc)


@pytest.fixture(scope="module")
def keyed(tmp_path_factory, mock_a, anthropic_mock):
    """A gateway with gateway keys on (SQLite records in a temp dir)."""
    d = tmp_path_factory.mktemp("governance")
    path = d / "switchyard.yaml"
    path.write_text(CONFIG.format(admin=ADMIN, db=d / "records.db", mock=mock_a.v1,
                                  anthropic_mock=anthropic_mock.v1))
    gw = start_gateway("keys", config=path)
    yield gw
    stop_gateway(gw)


def new_key(gw, **settings) -> str:
    r = httpx.post(f"{gw.url}/admin/keys", json={"name": "e2e", **settings},
                   headers={"Authorization": f"Bearer {ADMIN}"})
    assert r.status_code == 201, r.text
    key = r.json()["key"]
    assert key.startswith("sy-")
    return key


def test_openai_sdk_with_a_gateway_key(keyed, mock_a):
    client = openai.OpenAI(api_key=new_key(keyed), base_url=keyed.v1)
    r = client.chat.completions.create(model="m", messages=MESSAGES)
    assert r.choices[0].message.content == mock_a.greeting


def test_openai_sdk_raises_authentication_error_for_a_wrong_key(keyed):
    client = openai.OpenAI(api_key="sy-not-a-key", base_url=keyed.v1, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as e:
        client.chat.completions.create(model="m", messages=MESSAGES)
    assert e.value.code == "invalid_gateway_key"


def test_openai_sdk_raises_rate_limit_error_with_openais_headers(keyed):
    key = new_key(keyed, rate_limits=[{"type": "requests", "unit": "rpm", "value": 1}])
    client = openai.OpenAI(api_key=key, base_url=keyed.v1, max_retries=0)
    client.chat.completions.create(model="m", messages=MESSAGES)
    with pytest.raises(openai.RateLimitError) as e:
        client.chat.completions.create(model="m", messages=MESSAGES)
    assert e.value.code == "rate_limit_exceeded"
    assert e.value.response.headers["x-ratelimit-remaining-requests"] == "0"
    assert int(e.value.response.headers["retry-after"]) >= 1


def test_anthropic_sdk_with_a_gateway_key(keyed):
    client = anthropic.Anthropic(api_key=new_key(keyed), base_url=keyed.url, max_retries=0)
    msg = client.messages.create(model="claude", max_tokens=32, messages=MESSAGES)
    assert msg.content[0].text == "Hello from mock-anthropic"


def test_anthropic_sdk_raises_authentication_error_for_a_wrong_key(keyed):
    client = anthropic.Anthropic(api_key="sy-wrong", base_url=keyed.url, max_retries=0)
    with pytest.raises(anthropic.AuthenticationError):
        client.messages.create(model="claude", max_tokens=32, messages=MESSAGES)


def test_portkey_sdk_with_a_gateway_key(keyed, mock_a):
    pk = Portkey(api_key=new_key(keyed), base_url=keyed.v1)
    r = pk.chat.completions.create(model="m", messages=MESSAGES)
    assert r.choices[0].message.content == mock_a.greeting


def test_a_key_s_usage_is_readable_with_the_key_itself(keyed):
    key = new_key(keyed)
    openai.OpenAI(api_key=key, base_url=keyed.v1).chat.completions.create(model="m", messages=MESSAGES)
    own = httpx.get(f"{keyed.url}/admin/usage", headers={"Authorization": f"Bearer {key}"})
    assert own.status_code == 200, own.text
    others = httpx.get(f"{keyed.url}/admin/keys", headers={"Authorization": f"Bearer {key}"})
    assert others.status_code == 403


NODE_CONFIG = """\
auth:
  admin_key: {admin}
database:
  url: "postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D{schema}"
  encryption_key: 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
redis:
  url: redis://127.0.0.1:6379
  prefix: "sy-e2e-{schema}:"
providers:
  openai:
    api_key: sk-server
    base_url: {mock}
routes:
  m:
    provider: openai
"""


def psql(sql: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-qc", sql],
                   check=True, capture_output=True)


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory, mock_a):
    """Two gateway processes sharing the real PostgreSQL (records) and Redis (counters)."""
    schema = f"switchyard_e2e_{uuid.uuid4().hex}"
    psql(f"CREATE SCHEMA {schema}")
    path = tmp_path_factory.mktemp("nodes") / "switchyard.yaml"
    path.write_text(NODE_CONFIG.format(admin=ADMIN, schema=schema, mock=mock_a.v1))
    nodes = [start_gateway("node-1", config=path), start_gateway("node-2", config=path)]
    yield nodes
    for gw in nodes:
        stop_gateway(gw)
    psql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_two_gateway_processes_enforce_one_rate_limit_and_share_keys(two_nodes):
    one, two = two_nodes
    # Made on one node, known to the other (one database).
    key = new_key(one, rate_limits=[{"type": "requests", "unit": "rpm", "value": 4}])
    clients = [openai.OpenAI(api_key=key, base_url=gw.v1, max_retries=0) for gw in (one, two)]
    ok = limited = 0
    for i in range(10):
        try:
            clients[i % 2].chat.completions.create(model="m", messages=MESSAGES)
            ok += 1
        except openai.RateLimitError:
            limited += 1
    assert (ok, limited) == (4, 6)
