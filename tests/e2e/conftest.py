"""End-to-end fixtures: real `switchyard` and `switchyard-mock` processes on loopback ports.

Binaries come from `$SWITCHYARD_BIN_DIR` (default `<repo>/target/debug`); build them with
`cargo build -p switchyard -p switchyard-mock` (scripts/e2e does this).

Each process binds port 0 and prints the address it got as its first stdout line
(`listening on http://127.0.0.1:PORT`), so no port is picked here and none can be taken by
another process in between.

Every gateway writes its stderr to a temp file. When a test fails, the part of each gateway's
log written during that test is attached to the failure report.
"""

from __future__ import annotations

import atexit
import os
import selectors
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
BIN_DIR = Path(os.environ.get("SWITCHYARD_BIN_DIR") or REPO / "target" / "debug")
STARTUP_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0

# Everything here is on loopback: keep a developer's HTTP(S)_PROXY away from the SDKs (httpx)
# and from the gateway's upstream client (reqwest), which inherit this environment.
for _var in ("NO_PROXY", "no_proxy"):
    os.environ[_var] = ",".join(filter(None, [os.environ.get(_var), "127.0.0.1", "localhost"]))


def binary(name: str) -> Path:
    path = BIN_DIR / name
    if not path.is_file():
        pytest.exit(
            f"{path} not found: run `cargo build -p switchyard -p switchyard-mock` "
            "or set SWITCHYARD_BIN_DIR",
            returncode=2,
        )
    return path


_children: list[subprocess.Popen] = []


def spawn(args, **kwargs) -> subprocess.Popen:
    proc = subprocess.Popen(args, **kwargs)
    _children.append(proc)
    return proc


@atexit.register
def _reap_children() -> None:
    """Safety net if pytest dies before fixture teardown: no orphaned servers."""
    for proc in _children:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM, wait; SIGKILL if it does not exit in time."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)
    if proc.stdout is not None:
        proc.stdout.close()


@dataclass
class Mock:
    name: str
    url: str  # http://127.0.0.1:PORT (no /v1)
    proc: subprocess.Popen

    @property
    def v1(self) -> str:
        return f"{self.url}/v1"

    @property
    def greeting(self) -> str:
        return f"Hello from {self.name}"


@dataclass
class Gateway:
    name: str
    url: str  # http://127.0.0.1:PORT (no /v1)
    proc: subprocess.Popen
    log_path: Path
    config_path: Optional[Path] = None
    _mark: int = field(default=0, repr=False)

    @property
    def v1(self) -> str:
        return f"{self.url}/v1"

    def log(self, since: int = 0) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(since)
                return f.read().decode("utf-8", "replace")
        except OSError as e:
            return f"<cannot read {self.log_path}: {e}>"

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0


LISTENING = "listening on "


def read_url(proc: subprocess.Popen, what: str, stderr: Callable[[], str]) -> str:
    """The `http://127.0.0.1:PORT` that `proc` prints as its first stdout line once bound.

    Waits up to STARTUP_TIMEOUT; on a timeout, an early exit or an unexpected line, stops the
    process and raises with what it wrote on stderr.
    """
    line = b""
    eof = False
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    try:
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(timeout=left):
                break
            chunk = os.read(proc.stdout.fileno(), 1)  # one byte: never read past the first line
            if not chunk:
                eof = True
                break
            line += chunk
    finally:
        sel.close()
    text = line.decode("utf-8", "replace").strip()
    if text.startswith(LISTENING + "http://"):
        return text[len(LISTENING):]
    if line.endswith(b"\n"):
        why = "unexpected first stdout line"
    elif eof:
        try:
            why = f"exited with {proc.wait(timeout=STOP_TIMEOUT)} during startup"
        except subprocess.TimeoutExpired:
            why = "closed its stdout during startup"
    else:
        why = f"no address line on stdout within {STARTUP_TIMEOUT}s"
    stop(proc)
    raise RuntimeError(f"{what} did not start: {why} (stdout: {text!r}); stderr:\n{stderr()}")


def start_mock(name: str, *extra: str) -> Mock:
    """A mock upstream; `extra` arguments go to `switchyard-mock` (`--fast` answers Anthropic's
    `/v1/messages` in Anthropic's shape)."""
    exe = binary("switchyard-mock")
    err = tempfile.TemporaryFile()
    proc = spawn(
        [str(exe), "--port", "0", "--name", name, *extra],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=err,
    )

    def stderr() -> str:
        err.seek(0)
        return err.read().decode("utf-8", "replace")

    try:
        url = read_url(proc, f"mock {name!r}", stderr)
    finally:
        err.close()
    return Mock(name=name, url=url, proc=proc)


_gateways: list[Gateway] = []


def start_gateway(name: str, config: Optional[Path] = None) -> Gateway:
    exe = binary("switchyard")
    log = tempfile.NamedTemporaryFile(prefix=f"switchyard-{name}-", suffix=".log", delete=False)
    args = [str(exe), "serve", "--listen", "127.0.0.1:0"]
    if config is not None:
        args += ["--config", str(config)]
    env = dict(os.environ)
    env.setdefault("SWITCHYARD_LOG", "info")
    env.setdefault("NO_COLOR", "1")  # plain text in failure reports
    # A caller's SWITCHYARD_CONFIG would silently change these gateways.
    for var in ("SWITCHYARD_CONFIG", "SWITCHYARD_LISTEN", "SWITCHYARD_ADMIN_KEY",
                "SWITCHYARD_DATABASE_URL", "SWITCHYARD_ENCRYPTION_KEY", "SWITCHYARD_DATA_DIR"):
        env.pop(var, None)
    proc = spawn(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, env=env)
    log.close()
    log_path = Path(log.name)
    gw = Gateway(name=name, url="", proc=proc, log_path=log_path, config_path=config)
    try:
        gw.url = read_url(proc, f"gateway {name!r}", gw.log)
        # The line says it is bound; one request shows it also serves.
        r = httpx.get(f"{gw.url}/health", timeout=STARTUP_TIMEOUT)
        if r.status_code != 200:
            raise RuntimeError(f"gateway {name!r}: /health answered HTTP {r.status_code}")
    except BaseException as e:
        stop(proc)
        text = gw.log()
        log_path.unlink(missing_ok=True)
        if isinstance(e, httpx.HTTPError):
            raise RuntimeError(f"gateway {name!r}: /health failed ({e!r}); stderr:\n{text}") from e
        raise
    _gateways.append(gw)
    return gw


def stop_gateway(gw: Gateway) -> None:
    stop(gw.proc)
    if gw in _gateways:
        _gateways.remove(gw)
    try:
        gw.log_path.unlink()
    except OSError:
        pass


# ---- failure reports: attach what each gateway logged during the failing test ----

def pytest_runtest_setup(item):
    for gw in _gateways:
        gw._mark = gw.log_size()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for gw in list(_gateways):
            text = gw.log(gw._mark)
            if len(text) > 20_000:
                text = "...\n" + text[-20_000:]
            status = "running" if gw.proc.poll() is None else f"exited {gw.proc.returncode}"
            report.sections.append(
                (f"gateway {gw.name} stderr ({gw.log_path}, {status})", text or "<empty>"))


# ---- fixtures ----

@pytest.fixture(scope="session")
def mock_a():
    m = start_mock("mock-a")
    yield m
    stop(m.proc)


@pytest.fixture(scope="session")
def mock_b():
    m = start_mock("mock-b")
    yield m
    stop(m.proc)


@pytest.fixture(scope="session")
def dead_v1():
    """A base URL whose port refuses connections.

    The socket stays bound but never listens, so connecting is refused (like a closed port)
    and no other process can take the port while the session runs.
    """
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    yield f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    s.close()


@pytest.fixture(scope="session")
def gateway():
    """A gateway with no config file: routing comes from request headers only."""
    gw = start_gateway("headers")
    yield gw
    stop_gateway(gw)


FILE_CONFIG = """\
providers:
  openai:
    api_key: sk-server
    base_url: {mock_a}
routes:
  fast:
    strategy: {{mode: fallback}}
    targets:
      - provider: openai
        custom_host: {dead}
      - provider: openai
        custom_host: {mock_b}
  plain:
    strategy: {{mode: single}}
    targets:
      - provider: openai
        override_params: {{model: gpt-4o-mini}}
"""


@pytest.fixture(scope="session")
def file_gateway(tmp_path_factory, mock_a, mock_b, dead_v1):
    """A gateway with a YAML config: server key for openai, routes `fast` and `plain`."""
    path = tmp_path_factory.mktemp("config") / "switchyard.yaml"
    path.write_text(FILE_CONFIG.format(mock_a=mock_a.v1, mock_b=mock_b.v1, dead=dead_v1))
    gw = start_gateway("file-config", config=path)
    yield gw
    stop_gateway(gw)
