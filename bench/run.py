#!/usr/bin/env python3
"""Switchyard benchmark harness: one command, every scenario, side by side in one run.

Starts the in-repo fast mock upstream, nginx `proxy_pass` (when installed) and the gateway
(release builds), drives them with wrk and curl, and prints a Markdown report (also written to
bench/out/report.md). Usage:

    bench/run [--duration SECONDS] [--only NAME[,NAME...]]

Needs wrk and curl (and nginx for the plain-proxy column): apt-get install wrk nginx-light curl.
"""
import argparse
import json
import os
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
REL = os.path.join(ROOT, "target", "release")
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


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--only", default="")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--workers", type=int, default=1,
                    help="gateway worker threads (default 1, like the single nginx worker; 0: one per core)")
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))
    want = lambda name: not only or name in only
    for tool in ("wrk", "curl"):
        if not shutil.which(tool):
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
            conf = conf.replace("MOCK_PORT", str(mock_port)).replace("NGINX_PORT", str(nginx_port))
            conf_path = write_body(conf.encode(), "nginx.conf")
            procs.start(["nginx", "-c", conf_path])
            wait_http(nginx_port)

        mock_url = f"http://127.0.0.1:{mock_port}"
        route = f"x-portkey-provider: openai\nauthorization: Bearer sk-bench\nx-portkey-custom-host: {mock_url}/v1"
        chat = write_body(CHAT, "chat.json")
        targets = [("direct", mock_url, ""), ("switchyard", f"http://127.0.0.1:{gw_port}", route)]
        if have_nginx:
            targets.insert(1, ("nginx", f"http://127.0.0.1:{nginx_port}", ""))

        rows = []
        def measure(scenario, name, base, conns, body, headers, path="/v1/chat/completions"):
            before = cpu_seconds(gw.pid) if name == "switchyard" else None
            r = wrk(base + path, conns, args.duration, body, headers, path)
            cpu_us = (cpu_seconds(gw.pid) - before) / max(r["requests"], 1) * 1e6 if before is not None else None
            rows.append((scenario, name, conns, r, cpu_us))
            print(f"{scenario:28} {name:11} c={conns:<4} {r['rps']:>9.0f} req/s  p50={r['p50']:.0f}µs p99={r['p99']:.0f}µs"
                  + (f"  cpu/req={cpu_us:.1f}µs" if cpu_us else "") + f"  errors={r['errors']:.0f} non2xx={r['non2xx']:.0f}",
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
            anthropic = f"x-portkey-provider: anthropic\nauthorization: Bearer sk-ant\nx-portkey-custom-host: {mock_url}"
            measure("translated to Anthropic", "switchyard", f"http://127.0.0.1:{gw_port}", 32,
                    write_body(dict(CHAT, model="claude-3-5-haiku-latest"), "anthropic.json"), anthropic)

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

        workers = args.workers or os.cpu_count()
        report.append(f"Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, wrk 1 thread, {args.duration}s per row, "
                      f"{os.cpu_count()} cores shared by load generator, mock (1 thread), nginx (1 worker) and gateway "
                      f"({workers} worker thread{'s' if workers > 1 else ''}).\n")
        report.append("| scenario | target | conns | req/s | p50 µs | p90 µs | p99 µs | gateway CPU µs/req | errors |")
        report.append("|---|---|---|---|---|---|---|---|---|")
        for scenario, name, conns, r, cpu in rows:
            report.append(f"| {scenario} | {name} | {conns} | {r['rps']:.0f} | {r['p50']:.0f} | {r['p90']:.0f} | {r['p99']:.0f} | "
                          f"{'' if cpu is None else f'{cpu:.1f}'} | {r['errors'] + r['non2xx']:.0f} |")
        by = {(s, n, c): r for s, n, c, r, _ in rows}
        report.append("")
        for conns in (1, 32, 256):
            d, g, x = by.get(("chat", "direct", conns)), by.get(("chat", "switchyard", conns)), by.get(("chat", "nginx", conns))
            if d and g:
                line = f"- chat, {conns} conns: gateway adds {g['p50'] - d['p50']:.0f} µs at p50 and {g['p99'] - d['p99']:.0f} µs at p99 over direct"
                if x:
                    line += f"; throughput {100 * g['rps'] / x['rps']:.0f}% of nginx (nginx adds {x['p50'] - d['p50']:.0f} µs at p50)"
                report.append(line)
        if stream_rows:
            report.append("")
            report.append("| streaming (7 events, 5 ms apart; 200 sequential requests) | TTFB p50 ms | TTFB p99 ms | TTLB p50 ms | TTLB p99 ms |")
            report.append("|---|---|---|---|---|")
            for name, r in stream_rows:
                report.append(f"| {name} | {r['ttfb_p50']:.2f} | {r['ttfb_p99']:.2f} | {r['ttlb_p50']:.2f} | {r['ttlb_p99']:.2f} |")
        report.append("")
        report.append(f"- gateway start-up (exec → first /health answer): {startup_ms:.0f} ms")
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
