#!/usr/bin/env python3
"""Switchyard benchmark harness: one command, every scenario, side by side in one run.

Starts the in-repo fast mock upstream, nginx `proxy_pass` (when installed) and the gateway
(release builds), drives them with wrk, curl and (for `streams`) Python's asyncio, and prints a
Markdown report (also written to bench/out/report.md). Usage:

    bench/run [--duration SECONDS] [--only NAME[,NAME...]] [--streams N] [--repeat N]

Scenarios: chat, fallback, anthropic, cache, guardrails, governance, observability, bigbody, stream,
streams. Needs wrk and curl (and nginx
for the plain-proxy column): apt-get install wrk nginx-light curl. Binaries are built into and
run from $CARGO_TARGET_DIR/release (default target/release).
"""
import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
# Where `cargo build --release` puts the binaries: $CARGO_TARGET_DIR (relative to the workspace,
# where cargo runs) or target/.
REL = os.path.join(ROOT, os.environ.get("CARGO_TARGET_DIR") or "target", "release")
CLK = os.sysconf("SC_CLK_TCK")

CHAT = {"model": "gpt-4o-mini", "messages": [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Write one short sentence about gateways."}],
    "temperature": 0.2, "max_tokens": 64}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port, path="/health", timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1):
                return
        except Exception:
            time.sleep(0.002)
    raise RuntimeError(f"nothing answered on port {port}")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def steal_ticks():
    """CPU time the hypervisor gave to others (all CPUs, in clock ticks; 0 where not reported)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return int(fields[8]) if len(fields) > 8 else 0


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def rss_kib_tree(pid):
    """VmRSS in KiB of a process plus its direct children (nginx: the master and its workers)."""
    pids = [pid]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        pids.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total


def raise_nofile(need):
    """Raises RLIMIT_NOFILE (soft, and hard when allowed) to at least `need`; children started
    afterwards inherit it. Returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return soft
    if hard != resource.RLIM_INFINITY and hard < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))
            return need
        except (ValueError, OSError):
            need = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    return need


def write_body(obj_or_bytes, name):
    path = os.path.join(OUT, name)
    data = obj_or_bytes if isinstance(obj_or_bytes, bytes) else json.dumps(obj_or_bytes).encode()
    with open(path, "wb") as f:
        f.write(data)
    return path


def wrk(url, conns, duration, body_file, headers="", path="/v1/chat/completions"):
    env = dict(os.environ, BODY_FILE=body_file, HEADERS=headers, PATH_=path)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{conns}", f"-d{duration}s", "--latency", "-s",
         os.path.join(ROOT, "bench", "scenario.lua"), url],
        env=env, capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("RESULT"))
    return {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}


def curl_stream(url, body_file, headers, n):
    """Sequential streamed requests: time to first byte and to last byte, in ms."""
    ttfb, ttlb = [], []
    cmd = ["curl", "-s", "-o", "/dev/null", "-w", "%{time_starttransfer} %{time_total}",
           "-H", "content-type: application/json", "--data-binary", f"@{body_file}"]
    for line in headers.splitlines():
        cmd += ["-H", line]
    for _ in range(n):
        out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
        a, b = out.split()
        ttfb.append(float(a) * 1000)
        ttlb.append(float(b) * 1000)
    q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(len(xs) * p))]
    return {"ttfb_p50": q(ttfb, 0.5), "ttfb_p99": q(ttfb, 0.99), "ttlb_p50": q(ttlb, 0.5), "ttlb_p99": q(ttlb, 0.99)}


async def _one_stream(host, port, request, events, stats, open_gate, timeout):
    """One streaming request on its own HTTP/1.1 connection, kept until the stream ends. Reads
    and discards the body (chunked or not), counting `chat.completion.chunk` events and the
    final `[DONE]`; records when the first event arrived."""
    t0 = time.monotonic()
    writer = None
    got, done, opened = 0, False, False
    try:
        async with open_gate:  # bounds connections being opened at once (listen backlogs)
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
            writer.write(request)
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
            status = head.split(b" ", 2)[1]
            if status != b"200":
                stats["errors"].append(f"HTTP {status.decode()}")
                return
            lower = head.lower()
            chunked = b"transfer-encoding: chunked" in lower
            pending = b""

            async def body_pieces():
                if not chunked:
                    while piece := await reader.read(65536):
                        yield piece
                    return
                while True:
                    size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    if size == 0:
                        await reader.readuntil(b"\r\n")
                        return
                    piece = await reader.readexactly(size + 2)
                    yield piece[:-2]

            pieces = body_pieces()
            # The gate is held until the first event: "open" means the stream is flowing.
            while not opened:
                piece = await asyncio.wait_for(pieces.__anext__(), timeout)
                pending += piece.replace(b"\r\n", b"\n")
                if b"\n\n" in pending:
                    opened = True
                    stats["opened"] += 1
                    stats["open_now"] += 1
                    stats["max_open"] = max(stats["max_open"], stats["open_now"])
                    stats["open_times"].append(time.monotonic() - t0)
        async for piece in pieces:
            pending += piece.replace(b"\r\n", b"\n")
            *complete, pending = pending.split(b"\n\n")
            for ev in complete:
                if ev.startswith(b"data: [DONE]"):
                    done = True
                elif b'"chat.completion.chunk"' in ev:
                    got += 1
        for ev in pending.split(b"\n\n"):
            if ev.startswith(b"data: [DONE]"):
                done = True
            elif b'"chat.completion.chunk"' in ev:
                got += 1
    except StopAsyncIteration:
        stats["errors"].append("body ended before the first event")
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as e:
        stats["errors"].append(type(e).__name__ + (f": {e}" if str(e) else ""))
    finally:
        if opened:
            stats["open_now"] -= 1
        if writer is not None:
            writer.close()
    if got >= events and done:
        stats["completed"] += 1
    elif opened:
        stats["short"].append(got)


async def _streams_run(port, n, events, gap_ms, headers, pids, sample_s=0.1):
    body = json.dumps(dict(CHAT, stream=True)).encode()
    head = [f"POST /v1/chat/completions HTTP/1.1", f"host: 127.0.0.1:{port}",
            "content-type: application/json", f"content-length: {len(body)}"]
    head += [l for l in headers.splitlines() if l.strip()]
    request = ("\r\n".join(head) + "\r\n\r\n").encode() + body
    stats = {"opened": 0, "open_now": 0, "max_open": 0, "completed": 0, "open_times": [],
             "errors": [], "short": []}
    peak = {"kib": 0}
    stop = asyncio.Event()

    async def sampler():
        while not stop.is_set():
            kib = sum(rss_kib_tree(p) for p in pids)
            peak["kib"] = max(peak["kib"], kib)
            try:
                await asyncio.wait_for(stop.wait(), sample_s)
            except asyncio.TimeoutError:
                pass

    # At most 64 connecting at once: the mock's and the gateway's listen backlog is 128 (tokio's
    # default), and an overflowing accept queue drops SYNs (a 1 s retransmit for that stream).
    gate = asyncio.Semaphore(64)
    timeout = events * gap_ms / 1000 + 60
    sampling = asyncio.create_task(sampler())
    t0 = time.monotonic()
    # All N start at once, at most 64 connecting (before their first event) at a time.
    await asyncio.gather(*(_one_stream("127.0.0.1", port, request, events, stats, gate, timeout) for _ in range(n)))
    elapsed = time.monotonic() - t0
    stop.set()
    await sampling
    # From the start until the last stream saw its first event.
    stats["all_open_s"] = max(stats["open_times"]) if len(stats["open_times"]) == n else None
    return stats, peak, elapsed


def streams_scenario(args, procs, route_headers_for):
    """Memory per concurrent stream: N long-lived SSE streams through each target at once.
    Starts its own processes (a mock spacing its events `--stream-gap-ms` apart, nginx, the
    gateway), so idle and after are those of a fresh process, whatever ran before."""
    n, events, gap = args.streams, args.stream_events, args.stream_gap_ms
    raise_nofile(3 * n + 2048)
    mock_port = free_port()
    mock = procs.start([f"{REL}/switchyard-mock", "--fast", "--port", str(mock_port), "--threads", "1",
                        "--stream-events", str(events), "--stream-gap-ms", str(gap)])
    wait_http(mock_port)
    mock_url = f"http://127.0.0.1:{mock_port}"
    targets = [("direct", mock.pid, mock_port, "")]
    if shutil.which("nginx"):
        nginx_port = free_port()
        # Each stream holds a client and an upstream connection; nginx starts closing idle
        # connections (fresh ones not yet read from included) once fewer than 1/16 are free.
        conns = max(4096, 3 * n + 1024)
        conf = open(os.path.join(ROOT, "bench", "nginx.conf")).read()
        conf = (conf.replace("MOCK_PORT", str(mock_port)).replace("NGINX_PORT", str(nginx_port))
                .replace("WORKER_CONNECTIONS", str(conns)).replace("NOFILE", str(conns + 256))
                .replace("PID_FILE", os.path.join(OUT, "nginx-streams.pid")))
        ng = procs.start(["nginx", "-c", write_body(conf.encode(), "nginx-streams.conf")])
        wait_http(nginx_port)
        targets.append(("nginx", ng.pid, nginx_port, ""))
    gw_port = free_port()
    gw_cmd = [f"{REL}/switchyard", "serve", "--listen", f"127.0.0.1:{gw_port}"]
    if args.workers:
        gw_cmd += ["--config", write_body(f"server:\n  worker_threads: {args.workers}\n".encode(), "gateway.yaml")]
    gw = procs.start(gw_cmd, env=dict(os.environ, SWITCHYARD_LOG="warn"))
    wait_http(gw_port)
    targets.append(("switchyard", gw.pid, gw_port, route_headers_for(mock_url)))

    rows = []
    for name, pid, port, headers in targets:
        time.sleep(1)
        idle = rss_kib_tree(pid)
        stats, peak, elapsed = asyncio.run(_streams_run(port, n, events, gap, headers, [pid]))
        time.sleep(2)
        after = rss_kib_tree(pid)
        row = {"target": name, "idle": idle, "peak": peak["kib"], "after": after,
               "per_stream": (peak["kib"] - idle) / n, "completed": stats["completed"],
               "max_open": stats["max_open"], "all_open_s": stats["all_open_s"], "elapsed": elapsed,
               "errors": stats["errors"], "short": stats["short"]}
        rows.append(row)
        errs = {}
        for e in stats["errors"]:
            errs[e] = errs.get(e, 0) + 1
        all_open = "-" if stats["all_open_s"] is None else f"{stats['all_open_s']:.2f}s"
        ot = sorted(stats["open_times"]) or [0.0]
        all_open += f" (first event p50 {ot[len(ot) // 2] * 1000:.0f} ms, p99 {ot[int(len(ot) * 0.99)] * 1000:.0f} ms)"
        print(f"streams {name:11} n={n} idle={idle / 1024:.1f}MiB peak={peak['kib'] / 1024:.1f}MiB "
              f"({row['per_stream']:.1f} KiB/stream) after={after / 1024:.1f}MiB completed={stats['completed']}/{n} "
              f"max_open={stats['max_open']} all_open={all_open} run={elapsed:.1f}s"
              + (f" errors={errs}" if errs else "") + (f" short={stats['short'][:10]}" if stats["short"] else ""),
              file=sys.stderr)
    return rows


class Procs:
    def __init__(self):
        self.procs = []

    def start(self, args, **kw):
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=kw.pop("stderr", subprocess.DEVNULL), **kw)
        self.procs.append(p)
        return p

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


BENCH_ADMIN = "bench-admin-key-0123456789"


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def create_key(port, body):
    """A gateway key made through the admin API."""
    import urllib.request
    req = urllib.request.Request(f"http://127.0.0.1:{port}/admin/keys", data=json.dumps(body).encode(),
                                 headers={"authorization": f"Bearer {BENCH_ADMIN}",
                                          "content-type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())["key"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--only", default="")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--workers", type=int, default=1,
                    help="gateway worker threads (default 1, like the single nginx worker; 0: one per core)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="rounds of the observability scenario's configurations, run in turn (medians reported)")
    ap.add_argument("--streams", type=int, default=2000, help="concurrent streams in the streams scenario")
    ap.add_argument("--stream-events", type=int, default=10, help="chunks per stream in the streams scenario")
    ap.add_argument("--stream-gap-ms", type=int, default=1000, help="gap between events in the streams scenario")
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))
    want = lambda name: not only or name in only
    needs = {"wrk": ("chat", "fallback", "anthropic", "bigbody", "cache", "guardrails", "governance", "observability"), "curl": ("stream",)}
    for tool, scenarios in needs.items():
        if any(want(s) for s in scenarios) and not shutil.which(tool):
            sys.exit(f"{tool} not found: apt-get install wrk curl nginx-light")
    os.makedirs(OUT, exist_ok=True)
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "switchyard", "-p", "switchyard-mock"], cwd=ROOT, check=True)

    procs = Procs()
    report = []
    try:
        mock_port, slow_port, nginx_port, gw_port = (free_port() for _ in range(4))
        procs.start([f"{REL}/switchyard-mock", "--fast", "--port", str(mock_port), "--threads", "1"])
        procs.start([f"{REL}/switchyard-mock", "--fast", "--port", str(slow_port), "--threads", "1",
                     "--stream-gap-ms", "5"])
        wait_http(mock_port)
        wait_http(slow_port)

        # Start-up: exec to the first answered /health.
        t0 = time.monotonic()
        gw_cmd = [f"{REL}/switchyard", "serve", "--listen", f"127.0.0.1:{gw_port}"]
        if args.workers:
            gw_cmd += ["--config", write_body(f"server:\n  worker_threads: {args.workers}\n".encode(), "gateway.yaml")]
        gw = procs.start(gw_cmd, env=dict(os.environ, SWITCHYARD_LOG="warn"))
        wait_http(gw_port)
        startup_ms = (time.monotonic() - t0) * 1000
        idle_rss = rss_mib(gw.pid)

        have_nginx = shutil.which("nginx") is not None
        if have_nginx:
            conf = open(os.path.join(ROOT, "bench", "nginx.conf")).read()
            conf = (conf.replace("MOCK_PORT", str(mock_port)).replace("NGINX_PORT", str(nginx_port))
                    .replace("WORKER_CONNECTIONS", "4096").replace("NOFILE", "8192")
                    .replace("PID_FILE", os.path.join(OUT, "nginx.pid")))
            conf_path = write_body(conf.encode(), "nginx.conf")
            procs.start(["nginx", "-c", conf_path])
            wait_http(nginx_port)

        mock_url = f"http://127.0.0.1:{mock_port}"
        route_to = lambda url: f"x-portkey-provider: openai\nauthorization: Bearer sk-bench\nx-portkey-custom-host: {url}/v1"
        route = route_to(mock_url)
        chat = write_body(CHAT, "chat.json")
        targets = [("direct", mock_url, ""), ("switchyard", f"http://127.0.0.1:{gw_port}", route)]
        if have_nginx:
            targets.insert(1, ("nginx", f"http://127.0.0.1:{nginx_port}", ""))

        rows = []
        obs_rounds = {}
        def measure(scenario, name, base, conns, body, headers, path="/v1/chat/completions", pid=None):
            pid = pid or gw.pid
            before = cpu_seconds(pid) if name == "switchyard" else None
            stolen = steal_ticks()
            r = wrk(base + path, conns, args.duration, body, headers, path)
            cpu_us = (cpu_seconds(pid) - before) / max(r["requests"], 1) * 1e6 if before is not None else None
            # Share of the machine's CPU time stolen by the host during the run.
            r["steal"] = 100 * (steal_ticks() - stolen) / CLK / args.duration / (os.cpu_count() or 1)
            rows.append((scenario, name, conns, r, cpu_us))
            print(f"{scenario:28} {name:11} c={conns:<4} {r['rps']:>9.0f} req/s  p50={r['p50']:.0f}µs p99={r['p99']:.0f}µs"
                  + (f"  cpu/req={cpu_us:.1f}µs" if cpu_us else "") + f"  errors={r['errors']:.0f} non2xx={r['non2xx']:.0f}"
                  + f"  steal={r['steal']:.1f}%",
                  file=sys.stderr)
            return r

        if want("chat"):
            for conns in (1, 32, 256):
                for name, base, headers in targets:
                    measure("chat", name, base, conns, chat, headers)
        rss_after_256 = rss_mib(gw.pid)

        if want("fallback"):
            dead = free_port()
            cfg = json.dumps({"strategy": {"mode": "fallback"}, "targets": [
                {"provider": "openai", "api_key": "sk-1", "custom_host": f"http://127.0.0.1:{dead}/v1"},
                {"provider": "openai", "api_key": "sk-2", "custom_host": f"{mock_url}/v1"}]})
            measure("fallback (1st target down)", "switchyard", f"http://127.0.0.1:{gw_port}", 32, chat, f"x-portkey-config: {cfg}")

        if want("anthropic"):
            anthropic = f"x-portkey-provider: anthropic\nauthorization: Bearer sk-ant\nx-portkey-custom-host: {mock_url}/v1"
            measure("translated to Anthropic", "switchyard", f"http://127.0.0.1:{gw_port}", 32,
                    write_body(dict(CHAT, model="claude-3-5-haiku-latest"), "anthropic.json"), anthropic)

        if want("cache"):
            # The same question every time: after the first, every request is a hit the gateway
            # answers from its memory cache without calling the mock.
            cfg = json.dumps({"provider": "openai", "api_key": "sk-bench", "custom_host": f"{mock_url}/v1",
                              "cache": {"mode": "simple", "max_age": 600}})
            measure("cache hit", "switchyard", f"http://127.0.0.1:{gw_port}", 32, chat, f"x-portkey-config: {cfg}")

        if want("guardrails"):
            # A typical input guardrail on a ~2 kB prompt — regexMatch + pii + wordCount — against
            # the same request and target without it: the difference is what the checks add.
            prompt = ("Please summarise the following notes for the weekly report. " * 34)[:2000]
            body = write_body(dict(CHAT, messages=[{"role": "user", "content": prompt}]), "guarded.json")
            plain = {"provider": "openai", "api_key": "sk-bench", "custom_host": f"{mock_url}/v1"}
            guarded = dict(plain, input_guardrails=[{"deny": True,
                                                     "regexMatch": {"rule": "(?i)ignore (all )?previous instructions", "not": True},
                                                     "pii": {"action": "block"},
                                                     "wordCount": {"minWords": 1, "maxWords": 1000}}])
            for label, cfg in (("2 kB prompt, no guardrail", plain), ("2 kB prompt, input guardrail", guarded)):
                measure(label, "switchyard", f"http://127.0.0.1:{gw_port}", 32, body, f"x-portkey-config: {json.dumps(cfg)}")

        if want("governance"):
            # Gateway keys with a rate limit and a budget that never refuse (each request
            # takes one request, reserves and settles its tokens, checks and charges the
            # budget), in process and through Redis, against the same route without keys.
            measure("no gateway key", "switchyard", f"http://127.0.0.1:{gw_port}", 32, chat, route)
            for label, redis in (("key + rate limit + budget, in process", False),
                                 ("key + rate limit + budget, Redis", True)):
                if redis and not port_open(6379):
                    print("governance: no Redis on 127.0.0.1:6379, skipping its row", file=sys.stderr)
                    continue
                port = free_port()
                tag = "redis" if redis else "memory"
                db = os.path.join(OUT, f"governance-{tag}-{os.getpid()}.db")
                yaml = (f"server:\n  worker_threads: {args.workers or os.cpu_count()}\n"
                        f"auth:\n  admin_key: {BENCH_ADMIN}\n"
                        f"database:\n  url: sqlite://{db}\n  encryption_key: {'ab' * 32}\n")
                if redis:
                    yaml += f"redis:\n  url: redis://127.0.0.1:6379\n  prefix: \"sy-bench-{os.getpid()}:\"\n"
                p = procs.start([f"{REL}/switchyard", "serve", "--listen", f"127.0.0.1:{port}", "--config",
                                 write_body(yaml.encode(), f"governance-{tag}.yaml")],
                                env=dict(os.environ, SWITCHYARD_LOG="warn"))
                wait_http(port)
                key = create_key(port, {"name": "bench",
                                        "rate_limits": [{"type": "requests", "unit": "rpm", "value": 10**12},
                                                        {"type": "tokens", "unit": "rpm", "value": 10**15}],
                                        "usage_limits": {"type": "cost", "credit_limit": 10**9}})
                measure(label, "switchyard", f"http://127.0.0.1:{port}", 32, chat,
                        route + f"\nx-portkey-api-key: {key}", pid=p.pid)

        if want("observability"):
            # The same route with every observability feature off (metrics disabled, no log, no
            # traces) and with all of them on: metrics, the request log in SQLite, and traces
            # exported over OTLP/HTTP to a collector of their own (a second mock, which answers
            # any POST) — as in production, the collector is not the upstream: sharing the
            # upstream mock's one thread, the exports (~1 KB a request) slowed the upstream.
            collector_port = free_port()
            procs.start([f"{REL}/switchyard-mock", "--fast", "--port", str(collector_port), "--threads", "1"])
            wait_http(collector_port)
            log = "request_log:\n  enabled: true\n"
            traces = f"traces:\n  endpoint: http://127.0.0.1:{collector_port}\n"
            gateways = []
            for tag, label, extra in (("off", "observability off", "metrics:\n  enabled: false\n"),
                                      ("metrics", "metrics", ""),
                                      ("log", "metrics + request log", log),
                                      ("traces", "metrics + traces", traces),
                                      ("all", "metrics + request log + traces", log + traces)):
                port = free_port()
                yaml = (f"server:\n  worker_threads: {args.workers or os.cpu_count()}\n" + extra
                        + f"database:\n  url: sqlite://{os.path.join(OUT, f'observability-{tag}-{os.getpid()}.db')}\n"
                        f"  encryption_key: {'ab' * 32}\n")
                p = procs.start([f"{REL}/switchyard", "serve", "--listen", f"127.0.0.1:{port}", "--config",
                                 write_body(yaml.encode(), f"observability-{tag}.yaml")],
                                env=dict(os.environ, SWITCHYARD_LOG="warn"))
                wait_http(port)
                gateways.append((label, port, p.pid))
            # Rounds of every configuration in turn (`--repeat`): a machine whose speed drifts
            # (a shared host) drifts over all of them alike, and each round's "all three"/"off"
            # ratio compares two runs a minute apart at most.
            for _ in range(max(args.repeat, 1)):
                for label, port, pid in gateways:
                    r = measure(label, "switchyard", f"http://127.0.0.1:{port}", 32, chat, route, pid=pid)
                    obs_rounds.setdefault(label, []).append((r["rps"], rows[-1][4], r["steal"]))

        if want("bigbody"):
            big = dict(CHAT)
            big["messages"] = CHAT["messages"] + [{"role": "user", "content": "x" * (1 << 20)}]
            body = write_body(big, "big.json")
            for name, base, headers in targets:
                measure("1 MB request body", name, base, 8, body, headers)

        stream_rows = []
        if want("stream"):
            body = write_body(dict(CHAT, stream=True), "stream.json")
            slow_url = f"http://127.0.0.1:{slow_port}"
            sroute = f"x-portkey-provider: openai\nauthorization: Bearer sk-bench\nx-portkey-custom-host: {slow_url}/v1"
            for name, base, headers in (("direct", slow_url, ""), ("switchyard", f"http://127.0.0.1:{gw_port}", sroute)):
                r = curl_stream(base + "/v1/chat/completions", body, headers, 200)
                stream_rows.append((name, r))
                print(f"stream {name:11} {r}", file=sys.stderr)

        streams_rows = streams_scenario(args, procs, route_to) if want("streams") else []

        workers = args.workers or os.cpu_count()
        report.append(f"Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
                      + (f"wrk 1 thread, {args.duration}s per row, " if rows else "")
                      + f"{os.cpu_count()} cores shared by load generator, mock (1 thread), nginx (1 worker) and gateway "
                      f"({workers} worker thread{'s' if workers > 1 else ''}).\n")
        if rows:
            report.append("| scenario | target | conns | req/s | p50 µs | p90 µs | p99 µs | gateway CPU µs/req | errors |")
            report.append("|---|---|---|---|---|---|---|---|---|")
        for scenario, name, conns, r, cpu in rows:
            report.append(f"| {scenario} | {name} | {conns} | {r['rps']:.0f} | {r['p50']:.0f} | {r['p90']:.0f} | {r['p99']:.0f} | "
                          f"{'' if cpu is None else f'{cpu:.1f}'} | {r['errors'] + r['non2xx']:.0f} |")
        if len(obs_rounds.get("observability off", [])) > 1:
            off = obs_rounds["observability off"]
            report.append("")
            report.append(f"Observability, {len(off)} rounds in turn (median; per-round cost against the same round's \"off\"):")
            report.append("")
            report.append("| observability | median req/s | median CPU µs/req | throughput cost, median of rounds | rounds' costs | most CPU stolen by the host in a run |")
            report.append("|---|---|---|---|---|---|")
            for label, runs in obs_rounds.items():
                costs = [100 * (1 - rps / o[0]) for (rps, _, _), o in zip(runs, off)]
                report.append(f"| {label} | {statistics.median(r[0] for r in runs):.0f} | "
                              f"{statistics.median(r[1] for r in runs if r[1] is not None):.1f} | "
                              f"{statistics.median(costs):.1f}% | {', '.join(f'{c:.0f}%' for c in costs)} | "
                              f"{max(r[2] for r in runs):.0f}% |")
        by = {(s, n, c): r for s, n, c, r, _ in rows}
        if rows:
            report.append("")
        for conns in (1, 32, 256):
            d, g, x = by.get(("chat", "direct", conns)), by.get(("chat", "switchyard", conns)), by.get(("chat", "nginx", conns))
            if d and g:
                line = f"- chat, {conns} conns: gateway adds {g['p50'] - d['p50']:.0f} µs at p50 and {g['p99'] - d['p99']:.0f} µs at p99 over direct"
                if x:
                    line += f"; throughput {100 * g['rps'] / x['rps']:.0f}% of nginx (nginx adds {x['p50'] - d['p50']:.0f} µs at p50)"
                report.append(line)
        if stream_rows:
            if rows:
                report.append("")
            report.append("| streaming (7 events, 5 ms apart; 200 sequential requests) | TTFB p50 ms | TTFB p99 ms | TTLB p50 ms | TTLB p99 ms |")
            report.append("|---|---|---|---|---|")
            for name, r in stream_rows:
                report.append(f"| {name} | {r['ttfb_p50']:.2f} | {r['ttfb_p99']:.2f} | {r['ttlb_p50']:.2f} | {r['ttlb_p99']:.2f} |")
        if streams_rows:
            n = args.streams
            if rows or stream_rows:
                report.append("")
            report.append(f"Memory per concurrent stream: {n} streams at once, each {args.stream_events} chunk events "
                          f"then [DONE], {args.stream_gap_ms} ms apart, one HTTP/1.1 connection each; RSS of the target "
                          f"process (nginx: master + worker), peak sampled every 100 ms, after = 2 s after the last stream "
                          f"ended; KiB/stream = (peak − idle) / {n}.\n")
            report.append(f"| target | idle MiB | with {n} streams MiB | KiB/stream | after MiB | completed | all open after s |")
            report.append("|---|---|---|---|---|---|---|")
            for r in streams_rows:
                all_open = "—" if r["all_open_s"] is None else f"{r['all_open_s']:.2f}"
                report.append(f"| {r['target']} | {r['idle'] / 1024:.1f} | {r['peak'] / 1024:.1f} | {r['per_stream']:.1f} | "
                              f"{r['after'] / 1024:.1f} | {r['completed']}/{n} | {all_open} |")
        report.append("")
        report.append(f"- gateway start-up (exec → first /health answer): {startup_ms:.0f} ms")
        if want("chat"):
            report.append(f"- gateway RSS: {idle_rss:.1f} MiB idle, {rss_after_256:.1f} MiB after the 256-connection run, "
                          f"{rss_mib(gw.pid):.1f} MiB at the end")
    finally:
        procs.stop()
    text = "\n".join(report) + "\n"
    with open(os.path.join(OUT, "report.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
