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
plus idle RSS (≤ 20 MB) and start-to-ready with 10,000 rows (≤ 100 ms).

TLS scenarios (issue 10), on the same server with --tls-listen and a P-256 certificate made for the run:
  https_get      the get scenario over HTTPS keep-alive connections   (reported next to get)
  tls_handshakes new full TLS handshakes per second: two `openssl s_time -new` clients (connect, handshake, close)

Auth scenarios (targets from the identity issue), on a second slipway serving examples/notes in production mode
with a generated key file:
  get_user  GET one note by id with a user's access token, rule owner = @auth.id   ≥ 70 % of hello
  refresh   token refreshes, 64 connections, one session (refresh-token chain) each ≥ 10,000/s
  login     logins at the default argon2id parameters, 16 connections            (reported)
  get_paced the get_user GET at a fixed moderate rate, 4 connections, alone        (the baseline of the next)
  get_during_login the same paced GET while the login flood runs beside it: p99   < 5 ms
  login_totp  logins completed with TOTP (password, then the code), 16 client threads: logins/s   (reported)

PostgreSQL scenarios (targets from the PostgreSQL issue), on a private durable cluster (scripts/pg-cluster, no
--fast) with the same 10,000 posts; the 100 % line is the hand-written Beast + libpq server (bench/limit/pg_server.cpp)
on the same database:
  pg_limit_get, pg_limit_list, pg_limit_create   the bare Beast + libpq server
  pg_get    GET one post by id through the view rule, one instance        ≥ 70 % of pg_limit_get
  pg_list   LIST 20 filter + sort, one instance (no list cache on PostgreSQL)
  pg_create durable POST, 64 connections, one instance (write p99 reported)
  pg2_get, pg2_list, pg2_create   the same through haproxy in front of two instances
Parse Server on PostgreSQL, the peer for CREATE ≥ 10×, runs from ../shared/peers (PEERS="parse:2 slipway_pg:2").

--only NAME[,NAME...] runs a subset (hello always runs: it is the 100 % line)."""

import argparse
import base64
import concurrent.futures
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
PASSWORD = "bench passphrase, long enough"
LOGIN_USERS = 16
LOGIN_CONNECTIONS = 16
LOGIN_TIMEOUT_S = 10  # 16 logins queue for a few hashing workers: hundreds of ms each is their normal latency
REFRESH_CONNECTIONS = 64
PACED_CONNECTIONS = 4
PACED_INTERVAL_MS = 2  # each paced connection waits 2 ms between requests: at most ~2,000 GET/s in all
BLOG_SCENARIOS = ("get", "list", "list_miss", "get_half", "create", "https_get", "tls_handshakes")
TLS_SCENARIOS = ("https_get", "tls_handshakes")
HANDSHAKE_CLIENTS = 2
AUTH_SCENARIOS = ("get_user", "refresh", "login", "get_during_login", "login_totp")
TOTP_USERS = 600  # each user's code works once per 30-second step: enough users that no thread waits for a step
PG_SCENARIOS = ("pg_limit_get", "pg_limit_list", "pg_limit_create", "pg_get", "pg_list", "pg_create",
                "pg2_get", "pg2_list", "pg2_create")


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


def wrk_start(port, script, connections, duration, threads=2, env=None, timeout_s=2, scheme="http"):
    """Starts wrk in the background; wrk_report() waits for it and returns its JSON report (report.lua).
    timeout_s: wrk counts a slower answer as an error and leaves it out of the latencies (wrk's default, 2 s).
    scheme: "https" speaks TLS (each connection handshakes once, then keeps alive)."""
    e = dict(os.environ, BENCH_DIR=HERE, BENCH_TOKEN=TOKEN, BENCH_THREADS=str(threads))
    e.update(env or {})
    return subprocess.Popen(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--latency",
                             "--timeout", f"{timeout_s}s", "-s", os.path.join(HERE, script),
                             f"{scheme}://127.0.0.1:{port}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)


def wrk_report(proc):
    out, err = proc.communicate()
    if proc.returncode != 0:
        sys.exit(f"bench: wrk exited with {proc.returncode}: {err}")
    for line in out.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    sys.exit("bench: wrk printed no report:\n" + out + err)


def wrk(port, script, connections, duration, threads=2, env=None, timeout_s=2, scheme="http"):
    return wrk_report(wrk_start(port, script, connections, duration, threads, env, timeout_s, scheme))


# The rate limits stay on in every scenario (their cost is part of what is measured, as the defaults are on), with
# quotas no benchmark reaches: wrk's thousands of requests a second all come from 127.0.0.1, and a 429 would measure
# nothing. Appended to the example concept files.
BENCH_LIMITS = """
rate_limits:
  read:  { address: 1000000000/s, user: 1000000000/s, api_key: 1000000000/s }
  write: { address: 1000000000/s, user: 1000000000/s, api_key: 1000000000/s }
  login: { address: 1000000000/s }
  auth:  { address: 1000000000/s, user: 1000000000/s }
"""


RATE_LIMITS = "on"  # --rate-limits


def bench_concept(example, directory):
    """`examples/<example>/slipway.yaml` with BENCH_LIMITS, written into `directory`; returns its path."""
    with open(os.path.join(ROOT, "examples", example, "slipway.yaml")) as f:
        text = f.read()
    path = os.path.join(directory, f"{example}-bench.yaml")
    with open(path, "w") as f:
        f.write(text + BENCH_LIMITS)
    return path


def make_certificate(directory):
    """A self-signed P-256 certificate and key for 127.0.0.1 in `directory`: (cert, key)."""
    cert, key = os.path.join(directory, "tls.crt"), os.path.join(directory, "tls.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "7", "-subj", "/CN=slipway-bench",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def cpu_seconds(pid):
    """User + system CPU time the process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tls_handshakes(port, duration, server_pid, clients=HANDSHAKE_CLIENTS):
    """New full handshakes per second: `clients` openssl s_time processes, each connecting, handshaking (TLS 1.3,
    no session reuse) and closing in a loop for `duration` seconds. The rate is all their connections over the
    wall-clock time, since s_time's own figure counts only its user CPU time. The clients share the cores with the
    server, so the server's CPU time per handshake is reported too."""
    import re
    cpu0 = cpu_seconds(server_pid)
    t0 = time.monotonic()
    procs = [subprocess.Popen(["openssl", "s_time", "-connect", f"127.0.0.1:{port}", "-new", "-time", str(duration)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(clients)]
    total = 0
    for p in procs:
        out, _ = p.communicate(timeout=duration + 60)
        m = re.search(r"(\d+) connections in [\d.]+ real seconds", out)
        if p.returncode != 0 or not m:
            sys.exit(f"bench: openssl s_time failed: {out[-500:]}")
        total += int(m.group(1))
    elapsed = time.monotonic() - t0
    server_ms = (cpu_seconds(server_pid) - cpu0) * 1000 / max(total, 1)
    return {"rps": total / elapsed, "connections": total, "clients": clients, "seconds": round(elapsed, 2),
            "server_cpu_ms_per_handshake": round(server_ms, 3), "p50_ms": 0.0, "p99_ms": 0.0, "non2xx": 0,
            "errors": 0}


def start_slipway(binary, data, port, database=None, tls_port=None):
    """tls_port: also listen for HTTPS there, with a certificate made in `data`."""
    env = dict(os.environ, SLIPWAY_ADMIN_TOKEN=TOKEN)
    if database:
        env["SLIPWAY_DATABASE_URL"] = database
    tls = []
    if tls_port:
        cert, key = make_certificate(data)
        tls = ["--tls-listen", f"127.0.0.1:{tls_port}", "--tls-cert", cert, "--tls-key", key]
    t0 = time.monotonic()
    env["SLIPWAY_RATE_LIMITS"] = RATE_LIMITS
    config = bench_concept("blog", tempfile.mkdtemp(prefix="slipway-bench-concept-"))
    proc = subprocess.Popen([binary, "serve", "--config", config,
                             "--data", data, "--listen", f"127.0.0.1:{port}", "--log-level", "warn", "--migrate",
                             *tls],
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


def call(port, method, path, body=None, token=None, expect=200):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    r = conn.getresponse()
    data = json.loads(r.read() or b"null")
    conn.close()
    if r.status != expect:
        sys.exit(f"bench: {method} {path}: {r.status} {data}")
    return data


def start_notes(binary, data, port):
    """slipway on examples/notes in production mode, with key files generated for this run."""
    keys = os.path.join(data, "jwt.keys")
    with open(keys, "w") as f:
        f.write(base64.b64encode(os.urandom(32)).decode() + "\n")
    os.chmod(keys, 0o600)
    env = dict(os.environ, SLIPWAY_ADMIN_TOKEN=TOKEN, SLIPWAY_JWT_KEYS_FILE=keys,
               SLIPWAY_DATA_KEYS=base64.b64encode(os.urandom(32)).decode())
    env["SLIPWAY_RATE_LIMITS"] = RATE_LIMITS
    proc = subprocess.Popen([binary, "serve", "--config", bench_concept("notes", data),
                             "--data", os.path.join(data, "db"), "--listen", f"127.0.0.1:{port}",
                             "--log-level", "warn"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    wait_ready(f"http://127.0.0.1:{port}/readyz", proc)
    return proc


def auth_scenarios(binary, args, want, results):
    """get_user, refresh, login, get_paced and get_during_login against examples/notes."""
    data = tempfile.mkdtemp(prefix="slipway-bench-auth-")
    try:
        port = free_port()
        proc = start_notes(binary, data, port)
        # Accounts: LOGIN_USERS users (the login flood cycles through them); the first owns the notes that
        # get_user reads; REFRESH_CONNECTIONS + 2 further sessions (logins spread over the users) carry one
        # refresh chain per refresh connection, and a spare per wrk thread. Each sign-up and login is an
        # argon2id hash: a few seconds in all.
        emails = [f"bench{i}@example.com" for i in range(LOGIN_USERS)]
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            users = list(pool.map(lambda e: call(port, "POST", "/api/v1/auth/signup", expect=201,
                                                 body={"email": e, "password": PASSWORD}), emails))
            sessions = [] if not want("refresh") else list(pool.map(
                lambda i: call(port, "POST", "/api/v1/auth/login",
                               body={"email": emails[i % len(emails)], "password": PASSWORD}),
                range(REFRESH_CONNECTIONS + 2)))  # a spare for each of wrk's 2 threads (refresh.lua says why)
        owner = users[0]
        ids = [call(port, "POST", "/api/v1/notes", token=owner["access_token"], expect=201,
                    body={"title": f"note {i}", "body": "bench", "owner": owner["user"]["id"]})["id"]
               for i in range(100)]
        files = {name: os.path.join(data, name) for name in ("ids.txt", "emails.txt", "refresh.txt")}
        for name, lines in (("ids.txt", ids), ("emails.txt", emails),
                            ("refresh.txt", [s["refresh_token"] for s in sessions])):
            with open(files[name], "w") as f:
                f.write("\n".join(lines) + "\n")
        get_env = {"BENCH_IDS": files["ids.txt"], "BENCH_PATH": "/api/v1/notes/",
                   "BENCH_BEARER": owner["access_token"]}
        paced_env = dict(get_env, BENCH_INTERVAL_MS=str(PACED_INTERVAL_MS))
        login_env = {"BENCH_LOGIN_EMAILS": files["emails.txt"], "BENCH_PASSWORD": PASSWORD}
        if want("get_user"):
            results["get_user"] = wrk(port, "get.lua", args.connections, args.duration, env=get_env)
        if want("refresh"):
            results["refresh"] = wrk(port, "refresh.lua", REFRESH_CONNECTIONS, args.duration,
                                     env={"BENCH_REFRESH_TOKENS": files["refresh.txt"]})
        if want("login"):
            results["login"] = wrk(port, "login.lua", LOGIN_CONNECTIONS, args.duration, env=login_env,
                                   timeout_s=LOGIN_TIMEOUT_S)
        if want("get_during_login"):
            results["get_paced"] = wrk(port, "get.lua", PACED_CONNECTIONS, args.duration, threads=1, env=paced_env)
            flood = wrk_start(port, "login.lua", LOGIN_CONNECTIONS, args.duration + 2, threads=1, env=login_env,
                              timeout_s=LOGIN_TIMEOUT_S)
            time.sleep(1)  # the flood is at full rate before the measured GETs start, and outlasts them
            results["get_during_login"] = wrk(port, "get.lua", PACED_CONNECTIONS, args.duration, threads=1,
                                              env=paced_env)
            results["login_during_get"] = wrk_report(flood)
        if want("login_totp"):
            results["login_totp"] = login_totp(port, args.duration)
        stop(proc)
    finally:
        shutil.rmtree(data, ignore_errors=True)


def totp(secret_b32, step):
    """RFC 6238 (HMAC-SHA1, 6 digits) for a base32 secret at a 30-second step: what an authenticator app shows."""
    import hashlib
    import hmac
    import struct
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 15
    return f"{(struct.unpack('>I', mac[offset:offset + 4])[0] & 0x7fffffff) % 1000000:06d}"


def login_totp(port, duration, threads=16):
    """Two-step logins (password → mfa_token → TOTP code), each through to tokens at assurance level 2, from
    `threads` client threads for `duration` seconds. A user's code works once per step, so users with a factor are
    made first (TOTP_USERS) and each thread takes the next user that has not logged in this step."""
    import http.client
    import threading
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        def enrol(i):
            email = f"totp{i}@example.com"
            token = call(port, "POST", "/api/v1/auth/signup", expect=201,
                         body={"email": email, "password": PASSWORD})["access_token"]
            secret = call(port, "POST", "/api/v1/auth/mfa/totp", token=token, expect=201,
                          body={"password": PASSWORD})["secret"]
            call(port, "POST", "/api/v1/auth/mfa/totp/confirm", token=token,
                 body={"code": totp(secret, int(time.time()) // 30 - 1)})
            return email, secret
        users = list(pool.map(enrol, range(TOTP_USERS)))
    lock = threading.Lock()
    used = {}  # user index -> the last step its code was spent for
    latencies, errors = [], [0]
    deadline = time.monotonic() + duration

    def next_user():
        step = int(time.time()) // 30
        with lock:
            for i in range(len(users)):
                if used.get(i, -1) < step:
                    used[i] = step
                    return i, step
        return None, step

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/json"}
        while time.monotonic() < deadline:
            i, step = next_user()
            if i is None:
                time.sleep(0.05)
                continue
            email, secret = users[i]
            t0 = time.monotonic()
            conn.request("POST", "/api/v1/auth/login", json.dumps({"email": email, "password": PASSWORD}), headers)
            r = conn.getresponse()
            first = json.loads(r.read())
            if r.status != 200 or "mfa_token" not in first:
                errors[0] += 1
                continue
            conn.request("POST", "/api/v1/auth/mfa/verify",
                         json.dumps({"mfa_token": first["mfa_token"], "code": totp(secret, step)}), headers)
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                errors[0] += 1
                continue
            with lock:
                latencies.append(time.monotonic() - t0)
        conn.close()

    start = time.monotonic()
    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    elapsed = time.monotonic() - start
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else 0.0
    return {"rps": len(latencies) / elapsed, "p50_ms": pick(0.5), "p99_ms": pick(0.99), "non2xx": errors[0],
            "errors": 0, "requests": len(latencies)}


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
    ap.add_argument("--rate-limits", choices=("on", "off"), default="on",
                    help="off: slipway without its rate limits, to see what they cost (default on, as deployed)")
    ap.add_argument("--only", default="", help="comma-separated scenarios to run (default: all): "
                    + ", ".join(BLOG_SCENARIOS + AUTH_SCENARIOS + PG_SCENARIOS))
    args = ap.parse_args()
    global RATE_LIMITS
    RATE_LIMITS = args.rate_limits
    only = {n for n in args.only.split(",") if n}
    unknown = only - set(BLOG_SCENARIOS + AUTH_SCENARIOS + PG_SCENARIOS + ("hello",))
    if unknown:
        sys.exit(f"bench: unknown scenario {', '.join(sorted(unknown))}")

    def want(name):
        return not only or name in only

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
    if any(want(n) for n in BLOG_SCENARIOS):
        blog_scenarios(binary, args, want, results)

    # 3. slipway with users: examples/notes.
    if any(want(n) for n in AUTH_SCENARIOS):
        auth_scenarios(binary, args, want, results)

    # 4. PostgreSQL: the Beast + libpq limit, one instance, two behind haproxy.
    if any(want(n) for n in PG_SCENARIOS):
        pg_scenarios(binary, args, want, results)

    base = results["hello"]["rps"]
    results["ratios"] = {f"{name}_vs_hello": round(results[name]["rps"] / base, 3)
                         for name in ("get", "list", "list_uncached", "get_user", "https_get") if name in results}
    if "get" in results and "https_get" in results:
        results["ratios"]["https_get_vs_get"] = round(results["https_get"]["rps"] / results["get"]["rps"], 3)
    for name in ("get", "list", "create"):
        limit = results.get(f"pg_limit_{name}")
        for n in (f"pg_{name}", f"pg2_{name}"):
            if limit and n in results:
                results["ratios"][f"{n}_vs_limit"] = round(results[n]["rps"] / limit["rps"], 3)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)

    def row(name, key, target):
        if key not in results:
            return
        r = results[key]
        errors = r["non2xx"] + r["errors"]
        print(f"{name:<16} {r['rps']:>10.0f} {r['p50_ms']:>8.3f} {r['p99_ms']:>8.3f} {errors:>7}  {target}")

    def ratio(key):
        return f"{results['ratios'].get(key + '_vs_hello', 0):.0%}"
    print(f"{'scenario':<16} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}  target")
    row("hello", "hello", "(HTTP limit)")
    row("get", "get", f"≥ 75 % of hello: {ratio('get')}")
    row("list", "list", f"≥ 35 % of hello: {ratio('list')}")
    row("list_miss", "list_uncached", f"every request misses the list cache: {ratio('list_uncached')}")
    row("get_half", "get_half", "p99 < 2 ms")
    row("create", "create", "≥ 20,000 req/s (64 connections, durable)")
    if "https_get" in results:
        row("https_get", "https_get", f"(get over HTTPS keep-alive) {results['ratios'].get('https_get_vs_get', 0):.0%} "
            f"of get, {ratio('https_get')} of hello")
    if "tls_handshakes" in results:
        row("tls_handshakes", "tls_handshakes", f"new TLS 1.3 handshakes/s (P-256, {HANDSHAKE_CLIENTS} s_time clients; "
            f"server CPU {results['tls_handshakes']['server_cpu_ms_per_handshake']} ms each)")
    row("get_user", "get_user", f"≥ 70 % of hello: {ratio('get_user')}")
    row("refresh", "refresh", f"≥ 10,000/s ({REFRESH_CONNECTIONS} connections, durable, one chain each)")
    row("login", "login", f"(argon2id defaults, {LOGIN_CONNECTIONS} connections)")
    row("get_paced", "get_paced", f"(get_user paced, {PACED_CONNECTIONS} connections, alone)")
    row("get_during_login", "get_during_login", "p99 < 5 ms")
    row("  login beside", "login_during_get", "(the flood it ran beside)")
    row("login_totp", "login_totp", "(password + TOTP code to aal 2, 16 client threads; latency of both steps)")
    def pg_ratio(key):
        return f"{results['ratios'].get(key + '_vs_limit', 0):.0%} of the limit"
    row("pg_limit_get", "pg_limit_get", "(Beast + libpq: the PostgreSQL limit)")
    row("pg_get", "pg_get", f"≥ 70 %: {pg_ratio('pg_get')}")
    row("pg2_get", "pg2_get", f"(2 instances, haproxy) {pg_ratio('pg2_get')}")
    row("pg_limit_list", "pg_limit_list", "(Beast + libpq)")
    row("pg_list", "pg_list", pg_ratio("pg_list"))
    row("pg2_list", "pg2_list", f"(2 instances, haproxy) {pg_ratio('pg2_list')}")
    row("pg_limit_create", "pg_limit_create", "(Beast + libpq, 64 connections)")
    row("pg_create", "pg_create", f"write p99 reported; {pg_ratio('pg_create')}")
    row("pg2_create", "pg2_create", f"(2 instances, haproxy) {pg_ratio('pg2_create')}")
    if "idle_rss_mb" in results:
        print(f"idle RSS {results['idle_rss_mb']} MB (≤ 20 MB); start to ready with {args.rows} rows "
              f"{results['start_to_ready_ms']} ms (≤ 100 ms)")
    print(f"wrote {args.out}")


def blog_scenarios(binary, args, want, results):
    """get, list, list_miss, get_half, create, idle RSS and start-to-ready against examples/blog."""
    data = tempfile.mkdtemp(prefix="slipway-bench-")
    try:
        port = free_port()
        tls_port = free_port() if any(want(n) for n in TLS_SCENARIOS) else None
        proc, _ = start_slipway(binary, data, port)
        ids = seed(port, args.rows)
        stop(proc)
        # restart: start-to-ready with the rows present (and the TLS files loaded when a TLS scenario runs)
        proc, ready_ms = start_slipway(binary, data, port, tls_port=tls_port)
        results["start_to_ready_ms"] = round(ready_ms, 1)
        time.sleep(1)
        results["idle_rss_mb"] = round(rss_kb(proc.pid) / 1024, 1)
        ids_file = os.path.join(data, "ids.txt")
        with open(ids_file, "w") as f:
            f.write("\n".join(ids))
        env = {"BENCH_IDS": ids_file}
        if want("get") or want("get_half"):  # get_half is paced from get's peak
            results["get"] = wrk(port, "get.lua", args.connections, args.duration, env=env)
        if want("list"):
            results["list"] = wrk(port, "list.lua", args.connections, args.duration)
        if want("list_miss"):
            results["list_uncached"] = wrk(port, "list_miss.lua", args.connections, args.duration)
        if want("get_half"):
            # Half the peak GET rate: each connection paces itself (wrk's delay()).
            per_conn_rate = results["get"]["rps"] / 2 / args.connections
            env_half = dict(env, BENCH_INTERVAL_MS=str(max(1, int(1000 / per_conn_rate))))
            results["get_half"] = wrk(port, "get.lua", args.connections, args.duration, env=env_half)
        if want("https_get"):
            results["https_get"] = wrk(tls_port, "get.lua", args.connections, args.duration, env=env, scheme="https")
        if want("tls_handshakes"):
            results["tls_handshakes"] = tls_handshakes(tls_port, args.duration, proc.pid)
        if want("create"):
            results["create"] = wrk(port, "create.lua", 64, args.duration)
        stop(proc)
    finally:
        shutil.rmtree(data, ignore_errors=True)


def pg_scenarios(binary, args, want, results):
    """The blog's get/list/create on a private durable PostgreSQL cluster: the Beast + libpq limit server, one
    slipway instance, and two behind haproxy, all on the same database and rows."""
    pg_dir = tempfile.mkdtemp(prefix="slipway-bench-pg-")
    os.chmod(pg_dir, 0o755)  # run as root, the cluster belongs to the postgres user
    cluster = os.path.join(ROOT, "scripts", "pg-cluster")
    pg_port = free_port()
    procs = []
    try:
        base = subprocess.run([cluster, "start", os.path.join(pg_dir, "pg"), str(pg_port)], check=True,
                              capture_output=True, text=True).stdout.strip()
        url = subprocess.run([cluster, "createdb", os.path.join(pg_dir, "pg"), "bench"], check=True,
                             capture_output=True, text=True).stdout.strip() or f"{base}/bench"
        data = tempfile.mkdtemp(dir=pg_dir)
        port = free_port()
        proc, _ = start_slipway(binary, data, port, url)
        procs.append(proc)
        ids = seed(port, args.rows)
        ids_file = os.path.join(pg_dir, "ids.txt")
        with open(ids_file, "w") as f:
            f.write("\n".join(ids))
        env = {"BENCH_IDS": ids_file}

        def three(prefix, target):  # the foundation's three workloads against one server
            for name, script, conns in (("get", "get.lua", args.connections),
                                        ("list", "list.lua", args.connections), ("create", "create.lua", 64)):
                if want(f"{prefix}_{name}"):
                    results[f"{prefix}_{name}"] = wrk(target, script, conns, args.duration, env=env)

        limit_bin = os.path.join(args.build, "bench", "pg_limit_server")
        if any(want(n) for n in ("pg_limit_get", "pg_limit_list", "pg_limit_create")):
            if not os.path.exists(limit_bin):
                sys.exit(f"bench: {limit_bin} not built")
            lport = free_port()
            lp = subprocess.Popen([limit_bin, str(lport), url], stdout=subprocess.DEVNULL)
            wait_ready(f"http://127.0.0.1:{lport}/", lp)  # answers without touching PostgreSQL
            three("pg_limit", lport)
            stop(lp)
        three("pg", port)
        if any(want(n) for n in ("pg2_get", "pg2_list", "pg2_create")):
            port2 = free_port()
            proc2, _ = start_slipway(binary, tempfile.mkdtemp(dir=pg_dir), port2, url)
            procs.append(proc2)
            lb_port = free_port()
            cfg = os.path.join(pg_dir, "haproxy.cfg")
            with open(cfg, "w") as f:
                f.write(f"""global
    maxconn 4000
    nbthread 1
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:{lb_port}
    default_backend slipway
backend slipway
    balance roundrobin
    server a 127.0.0.1:{port}
    server b 127.0.0.1:{port2}
""")
            lb = subprocess.Popen(["haproxy", "-db", "-f", cfg], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_ready(f"http://127.0.0.1:{lb_port}/readyz", lb)
            three("pg2", lb_port)
            stop(lb)
    finally:
        for p in procs:
            if p.poll() is None:
                stop(p)
        subprocess.run([cluster, "stop", os.path.join(pg_dir, "pg")], capture_output=True)
        shutil.rmtree(pg_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
