"""Two gateway processes sharing the real PostgreSQL (records, request log) and Redis (counters,
cache) behave as one: one budget, one cache and one request log across them; a node told to stop
mid-load finishes every request it had accepted, and they are in the shared log."""

import subprocess
import threading
import time
import uuid

import httpx
import openai
import pytest

from conftest import start_gateway, start_mock, stop, stop_gateway

ADMIN = "e2e-nodes-admin-key-0123456789"
MESSAGES = [{"role": "user", "content": "hi"}]

CONFIG = """\
auth:
  admin_key: {admin}
database:
  url: "postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D{schema}"
  encryption_key: 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
redis:
  url: redis://127.0.0.1:6379
  prefix: "sy-nodes-{schema}:"
cache:
  backend: redis
request_log:
  enabled: true
providers:
  openai:
    api_key: sk-server
    base_url: {mock}
  slow:
    base_url: {slow}
routes:
  s:
    provider: slow
  m:
    provider: openai
    override_params: {{model: gpt-4o-mini}}
  cached:
    provider: openai
    override_params: {{model: gpt-4o-mini}}
    cache: {{mode: simple, max_age: 600}}
"""


def psql(sql: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-qc", sql],
                   check=True, capture_output=True)


@pytest.fixture(scope="module")
def slow_mock():
    """An upstream that takes a second per answer, so requests are in flight when a node stops."""
    m = start_mock("slow", "--latency-ms", "1000")
    yield m
    stop(m.proc)


@pytest.fixture(scope="module")
def nodes(tmp_path_factory, mock_a, slow_mock):
    schema = f"switchyard_nodes_{uuid.uuid4().hex}"
    psql(f"CREATE SCHEMA {schema}")
    path = tmp_path_factory.mktemp("nodes") / "switchyard.yaml"
    path.write_text(CONFIG.format(admin=ADMIN, schema=schema, mock=mock_a.v1, slow=slow_mock.v1))
    started = [start_gateway("node-a", config=path), start_gateway("node-b", config=path)]
    yield started
    for gw in started:
        if gw.proc.poll() is None:
            stop_gateway(gw)
    psql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def admin(gw, method: str, path: str, **kw) -> httpx.Response:
    return httpx.request(method, f"{gw.url}{path}", headers={"Authorization": f"Bearer {ADMIN}"},
                         timeout=10, **kw)


def new_key(gw, **settings) -> str:
    r = admin(gw, "POST", "/admin/keys", json={"name": "nodes", **settings})
    assert r.status_code == 201, r.text
    return r.json()["key"]


def logged(gw, trace_id: str, wait: float = 5.0) -> list:
    """The request-log rows of `trace_id`, waiting for the batched writers."""
    deadline = time.monotonic() + wait
    while True:
        rows = admin(gw, "GET", f"/admin/logs?trace_id={trace_id}").json()["data"]
        if rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def test_one_budget_across_nodes(nodes):
    a, b = nodes
    # Each answer costs ~2.55e-6 USD (5 input, 3 output tokens of gpt-4o-mini).
    key = new_key(a, usage_limits={"type": "cost", "credit_limit": 0.000004})
    clients = [openai.OpenAI(api_key=key, base_url=gw.v1, max_retries=0) for gw in nodes]
    clients[0].chat.completions.create(model="m", messages=MESSAGES)
    clients[1].chat.completions.create(model="m", messages=MESSAGES)
    # Spent on two nodes: the budget is over on both.
    deadline = time.monotonic() + 5
    while True:
        try:
            clients[0].chat.completions.create(model="m", messages=MESSAGES)
        except openai.APIStatusError as e:
            assert e.status_code == 412
            assert e.code == "budget_exceeded"
            break
        assert time.monotonic() < deadline, "the budget was never enforced"
        time.sleep(0.1)
    with pytest.raises(openai.APIStatusError) as e:
        clients[1].chat.completions.create(model="m", messages=MESSAGES)
    assert e.value.status_code == 412


def test_one_cache_across_nodes(nodes):
    a, b = nodes
    key = new_key(a)
    question = [{"role": "user", "content": f"cache me {uuid.uuid4()}"}]
    first = openai.OpenAI(api_key=key, base_url=a.v1, max_retries=0).chat.completions.with_raw_response.create(
        model="cached", messages=question)
    assert first.headers["x-portkey-cache-status"] == "MISS"
    deadline = time.monotonic() + 5
    while True:  # the store is written after the answer went out
        again = openai.OpenAI(api_key=key, base_url=b.v1, max_retries=0).chat.completions.with_raw_response.create(
            model="cached", messages=question)
        if again.headers["x-portkey-cache-status"] == "HIT" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert again.headers["x-portkey-cache-status"] == "HIT"
    assert again.parse().choices[0].message.content == first.parse().choices[0].message.content


def test_one_request_log_across_nodes(nodes):
    a, b = nodes
    key = new_key(a)
    r = openai.OpenAI(api_key=key, base_url=b.v1, max_retries=0).chat.completions.with_raw_response.create(
        model="m", messages=MESSAGES)
    trace = r.headers["x-portkey-trace-id"]
    rows = logged(a, trace)  # served by b, read through a
    assert len(rows) == 1 and rows[0]["status"] == 200


def test_a_node_stopped_mid_load_finishes_what_it_accepted(nodes, mock_a):
    a, b = nodes
    key = new_key(a)
    results: list = []
    lock = threading.Lock()
    http = httpx.Client(timeout=10)  # one client: its set-up is not part of the race

    def call() -> None:
        trace = f"drain-{uuid.uuid4()}"
        try:
            r = http.post(f"{b.v1}/chat/completions",
                          headers={"x-portkey-api-key": key, "x-portkey-trace-id": trace},
                          json={"model": "s", "messages": MESSAGES})
            outcome = (r.status_code, r.json()["choices"][0]["message"]["content"])
        except httpx.TransportError as e:  # refused: never accepted
            outcome = ("refused", type(e).__name__)
        with lock:
            results.append((trace, outcome))

    threads = [threading.Thread(target=call) for _ in range(12)]
    for t in threads:
        t.start()
    time.sleep(0.5)  # all twelve are in flight (the upstream takes a second)
    b.proc.terminate()  # SIGTERM: drain
    for t in threads:
        t.join()
    b.proc.wait(timeout=10)
    http.close()
    accepted = [(trace, o) for trace, o in results if o[0] != "refused"]
    assert len(accepted) == 12, results
    assert all(o == (200, "Hello from slow") for _, o in accepted), results
    # Every request the stopped node finished is in the shared log.
    for trace, _ in accepted:
        assert len(logged(a, trace)) == 1, trace
    # Once stopped it accepts nothing; the surviving node serves on.
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{b.url}/health", timeout=2)
    r = openai.OpenAI(api_key=key, base_url=a.v1, max_retries=0).chat.completions.create(
        model="m", messages=MESSAGES)
    assert r.choices[0].message.content == mock_a.greeting
