#!/usr/bin/env python3
"""`make bench`: wrk against a bare Boost.Beast server (the HTTP limit of this box) and against slipway, with the
same connections and duration in the same run. Prints a table and writes results.json.

Scenarios (targets from the foundation issue):
  hello   bare Beast "hello" server                         (the 100 % line)
  get     GET one post by id, anonymous, view rule          ≥ 60 % of hello
  list    LIST 20 with filter=published = true&sort=-created ≥ 35 % of hello (repeated query: list cache)
  list_miss the same list, but every request misses the list cache (the SQL path)
  create  durable POST, 64 connections, group commit        ≥ 20,000 req/s
  get_half GET at half its peak rate: p99                   < 2 ms
plus idle RSS (≤ 20 MB) and start-to-ready with 10,000 rows (≤ 100 ms)."""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TOKEN = "bench-admin-token-0123456789abcdef0123456789"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url, proc, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"bench: server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.001)
    sys.exit(f"bench: {url} not ready")


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def wrk(port, script, connections, duration, threads=2, env=None):
    e = dict(os.environ, BENCH_DIR=HERE, BENCH_TOKEN=TOKEN)
    e.update(env or {})
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--latency",
                          "-s", os.path.join(HERE, script), f"http://127.0.0.1:{port}"],
                         capture_output=True, text=True, env=e, check=True).stdout
    for line in out.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    sys.exit("bench: wrk printed no report:\n" + out)


def start_slipway(binary, data, port):
    env = dict(os.environ, SLIPWAY_ADMIN_TOKEN=TOKEN)
    t0 = time.monotonic()
    proc = subprocess.Popen([binary, "serve", "--config", os.path.join(ROOT, "examples/blog/slipway.yaml"),
                             "--data", data, "--listen", f"127.0.0.1:{port}", "--log-level", "warn"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    wait_ready(f"http://127.0.0.1:{port}/readyz", proc)
    return proc, (time.monotonic() - t0) * 1000


def seed(port, n):
    """Creates n posts over keep-alive connections; returns the ids of published ones."""
    import http.client
    ids = []
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(n):
        body = json.dumps({"title": f"post {i}", "body": "seed", "views": i, "published": i % 2 == 0})
        conn.request("POST", "/api/v1/posts", body=body,
                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
        r = conn.getresponse()
        data = json.loads(r.read())
        if r.status != 201:
            sys.exit(f"bench: seeding failed: {r.status} {data}")
        if i % 2 == 0:
            ids.append(data["id"])
    conn.close()
    return ids


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build-bench")
    ap.add_argument("--out", default="build/bench/results.json")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--rows", type=int, default=10000)
    args = ap.parse_args()
    binary = os.path.join(args.build, "slipway")
    hello = os.path.join(args.build, "bench", "hello_server")
    for b in (binary, hello):
        if not os.path.exists(b):
            sys.exit(f"bench: {b} not built")
    results = {"machine": {"cores": os.cpu_count()}, "duration_s": args.duration, "connections": args.connections}

    # 1. The HTTP limit: bare Beast.
    port = free_port()
    hp = subprocess.Popen([hello, str(port)], stdout=subprocess.DEVNULL)
    wait_ready(f"http://127.0.0.1:{port}/", hp)
    results["hello"] = wrk(port, "hello.lua", args.connections, args.duration)
    stop(hp)

    # 2. slipway with 10,000 posts.
    data = tempfile.mkdtemp(prefix="slipway-bench-")
    try:
        port = free_port()
        proc, _ = start_slipway(binary, data, port)
        ids = seed(port, args.rows)
        stop(proc)
        proc, ready_ms = start_slipway(binary, data, port)  # restart: start-to-ready with the rows present
        results["start_to_ready_ms"] = round(ready_ms, 1)
        time.sleep(1)
        results["idle_rss_mb"] = round(rss_kb(proc.pid) / 1024, 1)
        ids_file = os.path.join(data, "ids.txt")
        with open(ids_file, "w") as f:
            f.write("\n".join(ids))
        env = {"BENCH_IDS": ids_file}
        results["get"] = wrk(port, "get.lua", args.connections, args.duration, env=env)
        results["list"] = wrk(port, "list.lua", args.connections, args.duration)
        results["list_uncached"] = wrk(port, "list_miss.lua", args.connections, args.duration)
        # Half the peak GET rate: each connection paces itself (wrk's delay()).
        per_conn_rate = results["get"]["rps"] / 2 / args.connections
        env_half = dict(env, BENCH_INTERVAL_MS=str(max(1, int(1000 / per_conn_rate))))
        results["get_half"] = wrk(port, "get.lua", args.connections, args.duration, env=env_half)
        results["create"] = wrk(port, "create.lua", 64, args.duration)
        stop(proc)
    finally:
        shutil.rmtree(data, ignore_errors=True)

    base = results["hello"]["rps"]
    results["ratios"] = {"get_vs_hello": round(results["get"]["rps"] / base, 3),
                         "list_vs_hello": round(results["list"]["rps"] / base, 3),
                         "list_uncached_vs_hello": round(results["list_uncached"]["rps"] / base, 3)}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)

    def row(name, r, target):
        print(f"{name:<10} {r['rps']:>10.0f} {r['p50_ms']:>8.3f} {r['p99_ms']:>8.3f} {r['non2xx'] + r['errors']:>7}  {target}")
    print(f"{'scenario':<10} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}  target")
    row("hello", results["hello"], "(HTTP limit)")
    row("get", results["get"], f"≥ 60 % of hello: {results['ratios']['get_vs_hello']:.0%}")
    row("list", results["list"], f"≥ 35 % of hello: {results['ratios']['list_vs_hello']:.0%}")
    row("list_miss", results["list_uncached"],
        f"every request misses the list cache: {results['ratios']['list_uncached_vs_hello']:.0%}")
    row("get_half", results["get_half"], "p99 < 2 ms")
    row("create", results["create"], "≥ 20,000 req/s (64 connections, durable)")
    print(f"idle RSS {results['idle_rss_mb']} MB (≤ 20 MB); start to ready with {args.rows} rows "
          f"{results['start_to_ready_ms']} ms (≤ 100 ms)")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
