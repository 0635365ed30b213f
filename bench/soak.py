#!/usr/bin/env python3
"""Soak run: a steady request rate for a long time against a mix of healthy and failing
upstreams; samples error rate, latency and gateway RSS every slice and reports whether either
grows. Usage: bench/soak [--minutes 10] [--slice 30]"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as harness  # noqa: E402

ROOT = harness.ROOT
REL = harness.REL


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--slice", type=int, default=30)
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    os.makedirs(harness.OUT, exist_ok=True)
    if not args.no_build:
        harness.subprocess.run(["cargo", "build", "--release", "-p", "switchyard", "-p", "switchyard-mock"], cwd=ROOT, check=True)
    procs = harness.Procs()
    rows = []
    try:
        ok_port, flaky_port, gw_port, dead = (harness.free_port() for _ in range(4))
        procs.start([f"{REL}/switchyard-mock", "--fast", "--port", str(ok_port)])
        procs.start([f"{REL}/switchyard-mock", "--fast", "--port", str(flaky_port), "--fail-every", "3"])
        gw = procs.start([f"{REL}/switchyard", "serve", "--listen", f"127.0.0.1:{gw_port}"],
                         env=dict(os.environ, SWITCHYARD_LOG="warn"))
        for p in (ok_port, flaky_port, gw_port):
            harness.wait_http(p)
        ok, flaky = f"http://127.0.0.1:{ok_port}/v1", f"http://127.0.0.1:{flaky_port}/v1"
        # Half the traffic: a flaky target (every 3rd answer a 503) with a fallback to a healthy
        # one; a quarter: the flaky target alone (its 503s reach the client); a quarter: a dead
        # target falling back to the healthy one.
        cfg = {"strategy": {"mode": "loadbalance"}, "targets": [
            {"weight": 2, "strategy": {"mode": "fallback"}, "targets": [
                {"provider": "openai", "api_key": "k1", "custom_host": flaky},
                {"provider": "openai", "api_key": "k2", "custom_host": ok}]},
            {"weight": 1, "provider": "openai", "api_key": "k3", "custom_host": flaky},
            {"weight": 1, "strategy": {"mode": "fallback"}, "targets": [
                {"provider": "openai", "api_key": "k4", "custom_host": f"http://127.0.0.1:{dead}/v1"},
                {"provider": "openai", "api_key": "k5", "custom_host": ok}]},
        ]}
        body = harness.write_body(harness.CHAT, "soak.json")
        headers = f"x-portkey-config: {json.dumps(cfg)}"
        env = dict(os.environ, BODY_FILE=body, HEADERS=headers, PATH_="/v1/chat/completions", DELAY_MS="4")
        deadline = time.monotonic() + args.minutes * 60
        start = time.monotonic()
        while time.monotonic() < deadline:
            out = harness.subprocess.run(
                ["wrk", "-t1", "-c8", f"-d{args.slice}s", "-s", os.path.join(ROOT, "bench", "scenario.lua"),
                 f"http://127.0.0.1:{gw_port}/v1/chat/completions"],
                env=env, capture_output=True, text=True, check=True).stdout
            line = next(l for l in out.splitlines() if l.startswith("RESULT"))
            r = {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
            row = (time.monotonic() - start, r["rps"], r["non2xx"] / max(r["requests"], 1), r["p99"], r["errors"],
                   harness.rss_mib(gw.pid))
            rows.append(row)
            print(f"t={row[0]:6.0f}s rps={row[1]:7.0f} non2xx={row[2]:.3%} p99={row[3]:.0f}µs socket-errors={row[4]:.0f} rss={row[5]:.1f}MiB",
                  file=sys.stderr)
    finally:
        procs.stop()
    n = len(rows)
    half = max(n // 2, 1)
    first, second = rows[:half], rows[half:] or rows[:half]
    avg = lambda xs, i: sum(x[i] for x in xs) / len(xs)
    lines = [
        f"Soak of {args.minutes:.0f} min ({n} slices of {args.slice}s), 8 connections each pacing 4 ms between requests, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        "| slice end (s) | req/s | non-2xx | p99 µs | socket errors | gateway RSS MiB |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {t:.0f} | {rps:.0f} | {e:.2%} | {p99:.0f} | {se:.0f} | {rss:.1f} |" for t, rps, e, p99, se, rss in rows]
    lines += ["",
              f"- non-2xx share: {avg(first, 2):.2%} in the first half, {avg(second, 2):.2%} in the second",
              f"- RSS: {rows[0][5]:.1f} MiB after the first slice, {max(r[5] for r in rows):.1f} MiB at most, {rows[-1][5]:.1f} MiB at the end",
              f"- req/s: {avg(first, 1):.0f} in the first half, {avg(second, 1):.0f} in the second"]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(harness.OUT, "soak.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
