"""Hot reload of the config file: a changed file is applied without a restart, a broken one is
refused (its problems logged) while the running config keeps serving, and SIGHUP reloads even
when the file's time and size look unchanged."""

import os
import signal
import time

import openai
import pytest

from conftest import start_gateway, stop_gateway

CONFIG = """\
providers:
  openai:
    api_key: sk-server
    base_url: {mock}
routes:
  m:
    provider: openai
"""


def answer(gw) -> str:
    c = openai.OpenAI(api_key="k", base_url=gw.v1, max_retries=0, timeout=10)
    return c.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}]) \
        .choices[0].message.content


def eventually(check, timeout: float = 8.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture()
def reloading(tmp_path, mock_a):
    path = tmp_path / "switchyard.yaml"
    path.write_text(CONFIG.format(mock=mock_a.v1))
    gw = start_gateway("reload", config=path)
    yield gw, path
    stop_gateway(gw)


def test_a_changed_file_is_applied_and_a_broken_one_is_refused(reloading, mock_a, mock_b):
    gw, path = reloading
    assert answer(gw) == mock_a.greeting
    path.write_text(CONFIG.format(mock=mock_b.v1))
    assert eventually(lambda: answer(gw) == mock_b.greeting), "the watcher applied the new file"
    path.write_text("routes:\n  m:\n    provider: no-such-provider\n")
    assert eventually(lambda: "config not reloaded" in gw.log()), gw.log()
    assert "no-such-provider" in gw.log()
    assert answer(gw) == mock_b.greeting, "the running config kept serving"


def test_sighup_reloads_a_file_whose_stamp_looks_unchanged(reloading, mock_a, mock_b):
    gw, path = reloading
    assert answer(gw) == mock_a.greeting
    before = os.stat(path)
    text = CONFIG.format(mock=mock_b.v1)
    # Same size (the two mocks' URLs differ only in their port digits) and the old mtime: only
    # the signal can tell the gateway.
    assert len(text) == before.st_size
    path.write_text(text)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    time.sleep(2.5)
    assert answer(gw) == mock_a.greeting, "the watcher saw no change"
    gw.proc.send_signal(signal.SIGHUP)
    assert eventually(lambda: answer(gw) == mock_b.greeting), gw.log()
