"""Several stateless slipway instances on one PostgreSQL database, behind a real load balancer (Debian's haproxy,
health-checking /readyz): a write acknowledged by one instance is read at once on another; a rolling restart under
continuous load fails no request and loses no acknowledged write; identity changes made on one instance (a logout,
an API key) reach the others; PostgreSQL restarted under load makes requests fail fast with 503 and every instance
recovers by itself. PostgreSQL only (SQLite is one process by design)."""

import http.client
import json
import os
import signal
import subprocess
import tempfile
import threading
import time
import unittest

import harness
import pg
from test_auth import NOTES, PASSWORD, identity_env


class Haproxy:
    """haproxy in front of `ports`, health-checking GET /readyz every 100 ms. A backend that refuses a connection
    (stopped, or draining and no longer accepting) is retried on another one: a refused connection carried no
    request, so retrying it is always safe (also for POST)."""

    def __init__(self, tmp, ports):
        self.port = harness.free_port()
        self.stats_port = harness.free_port()
        servers = "\n".join(f"    server s{i} 127.0.0.1:{p} check" for i, p in enumerate(ports))
        self.config = os.path.join(tmp, "haproxy.cfg")
        with open(self.config, "w") as f:
            f.write(f"""global
    maxconn 2000
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch 1
    option http-server-close
frontend fe
    bind 127.0.0.1:{self.port}
    default_backend slipway
frontend stats
    bind 127.0.0.1:{self.stats_port}
    stats enable
    stats uri /stats
backend slipway
    balance roundrobin
    retry-on conn-failure empty-response
    option httpchk GET /readyz
    http-check expect status 200
    timeout check 2s
    default-server inter 100ms fall 2 rise 2
{servers}
""")
        self.proc = subprocess.Popen(["haproxy", "-db", "-f", self.config], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)

    def up(self):
        """Names of the backends haproxy sends requests to now."""
        if self.proc.poll() is not None:
            raise AssertionError(f"haproxy exited: {self.proc.stderr.read().decode()}")
        c = http.client.HTTPConnection("127.0.0.1", self.stats_port, timeout=5)
        try:
            c.request("GET", "/stats;csv")
            rows = c.getresponse().read().decode().splitlines()
        except OSError:  # not listening yet
            return set()
        finally:
            c.close()
        head = rows[0].lstrip("# ").split(",")
        out = set()
        for line in rows[1:]:
            row = dict(zip(head, line.split(",")))
            if row.get("pxname") == "slipway" and row.get("svname", "").startswith("s") and row.get("status") == "UP":
                out.add(row["svname"])
        return out

    def wait_up(self, names):
        harness.wait_for(lambda: set(names) <= self.up(), timeout=20, what=f"haproxy sees {names} up")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Load:
    """A bounded client: `threads` workers, each creating a post and reading one back through `port` in a loop
    until stopped. Every request gets an answer or counts as a failure; acknowledged creates are remembered."""

    def __init__(self, port, threads=4, timeout=15):
        self.port, self.timeout = port, timeout
        self.stop_flag = threading.Event()
        self.lock = threading.Lock()
        self.acked, self.failures, self.statuses, self.slowest = [], [], {}, 0.0
        self.workers = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(threads)]

    def request(self, method, path, body=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        t0 = time.monotonic()
        try:
            h = {"Authorization": f"Bearer {harness.ADMIN_TOKEN}"}
            data = None
            if body is not None:
                data, h["Content-Type"] = json.dumps(body).encode(), "application/json"
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()
            with self.lock:
                self.slowest = max(self.slowest, time.monotonic() - t0)

    def run(self, worker):
        n = 0
        while not self.stop_flag.is_set():
            n += 1
            try:
                status, body = self.request("POST", "/api/v1/posts", {"title": f"w{worker}-{n}", "published": True})
                with self.lock:
                    self.statuses[status] = self.statuses.get(status, 0) + 1
                if status == 201:
                    pid = json.loads(body)["id"]
                    with self.lock:
                        self.acked.append(pid)
                    status, _ = self.request("GET", f"/api/v1/posts/{pid}")
                    with self.lock:
                        self.statuses[status] = self.statuses.get(status, 0) + 1
                    if status != 200:
                        self.fail(f"GET {pid}: {status} {_[:200]!r}")
                else:
                    self.fail(f"POST: {status} {body[:200]!r}")
            except Exception as e:  # a connection error or a timeout: a failed request
                self.fail(f"{type(e).__name__}: {e}")

    def fail(self, what):
        with self.lock:
            self.failures.append(what)

    def __enter__(self):
        for w in self.workers:
            w.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        for w in self.workers:
            w.join(timeout=60)

    def count(self):
        with self.lock:
            return len(self.acked)


@harness.postgres_only("several instances share one PostgreSQL database")
class ScaleOut(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="slipway-it-scale-")
        self.url = harness.database_url(os.path.join(self.tmp.name, "shared"))
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.cleanup()
        harness.drop_database(os.path.join(self.tmp.name, "shared"))
        self.tmp.cleanup()

    def instance(self, port=None, config=harness.EXAMPLE, env=None):
        data = tempfile.mkdtemp(dir=self.tmp.name)
        s = harness.Server(config=config, data_dir=data, port=port,
                           env={"SLIPWAY_DATABASE_URL": self.url, **(env or {})}, args=["--migrate"])
        self.servers.append(s)
        return s.start()

    def test_a_write_acknowledged_by_one_instance_is_read_at_once_on_another_1000_times(self):
        a, b = self.instance(), self.instance()
        pid = a.request("POST", "/api/v1/posts", body={"title": "v0", "published": True}).json()["id"]
        conn_a, conn_b = a.connection(), b.connection()
        for i in range(1, 1001):  # A writes and B reads, then the other way round: each reader has read the version
            writer, reader = (a, b) if i <= 500 else (b, a)  # before, so a cache of it would be served now
            wc, rc = (conn_a, conn_b) if i <= 500 else (conn_b, conn_a)
            w = writer.request("PATCH", f"/api/v1/posts/{pid}", body={"title": f"v{i}"}, conn=wc)
            self.assertEqual(w.status, 200, w)
            r = reader.request("GET", f"/api/v1/posts/{pid}", conn=rc).json()
            self.assertEqual((r["title"], r["version"]), (f"v{i}", i + 1), f"stale read on round {i}")
            if i % 100 == 0:  # and the list on the other instance has it too
                items = reader.request("GET", "/api/v1/posts?filter=" + f"title%20%3D%20'v{i}'", conn=rc).json()
                self.assertEqual([p["id"] for p in items["items"]], [pid])

    def test_a_rolling_restart_under_load_fails_no_request_and_loses_no_write(self):
        ports = [harness.free_port(), harness.free_port()]
        for p in ports:
            self.instance(port=p)
        lb = Haproxy(self.tmp.name, ports)
        try:
            lb.wait_up({"s0", "s1"})
            with Load(lb.port) as load:
                harness.wait_for(lambda: load.count() >= 20, what="load running")
                for i, s in enumerate(self.servers):
                    before = load.count()
                    self.assertEqual(s.stop(), 0)  # SIGTERM: /readyz 503, stop accepting, finish in flight
                    harness.wait_for(lambda: load.count() >= before + 20, what="load served by the other instance")
                    s.start()
                    lb.wait_up({f"s{i}"})
                    harness.wait_for(lambda: load.count() >= before + 40, what="load after the restart")
            self.assertEqual(load.failures[:5], [], f"{len(load.failures)} failed requests; statuses {load.statuses}")
            self.assertGreater(len(load.acked), 80)
        finally:
            lb.stop()
        # Every acknowledged write is there, on whichever instance answers.
        ids = set(load.acked)
        a = self.servers[0]
        seen = set()
        cursor = ""
        while True:
            page = a.request("GET", "/api/v1/posts?limit=500" + (f"&cursor={cursor}" if cursor else "")).json()
            seen.update(p["id"] for p in page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                break
        self.assertEqual(ids - seen, set())

    def test_a_logout_and_api_keys_made_on_one_instance_hold_on_the_others(self):
        tmp = self.tmp.name
        env = identity_env(tmp)
        a, b = self.instance(config=NOTES, env=env), self.instance(config=NOTES, env=env)
        u = a.request("POST", "/api/v1/auth/signup", token=None,
                      body={"email": "ada@example.com", "password": PASSWORD}).json()
        token = u["access_token"]
        self.assertEqual(b.request("GET", "/api/v1/auth/me", token=token).status, 200)
        self.assertEqual(a.request("POST", "/api/v1/auth/logout", token=token).status, 204)
        harness.wait_for(lambda: b.request("GET", "/api/v1/auth/me", token=token).status == 401,
                         timeout=5, what="the logout reaches the other instance")
        key = a.request("POST", "/api/v1/admin/api-keys", body={"name": "k", "roles": ["admin"]}).json()
        harness.wait_for(lambda: b.request("GET", "/api/v1/notes", token=key["key"]).status == 200,
                         timeout=5, what="a new API key works on the other instance")
        self.assertEqual(a.request("DELETE", f"/api/v1/admin/api-keys/{key['id']}").status, 204)
        harness.wait_for(lambda: b.request("GET", "/api/v1/notes", token=key["key"]).status == 401,
                         timeout=5, what="a revoked API key is refused on the other instance")


def ready(server):
    if server.proc.poll() is not None:
        raise AssertionError(f"slipway exited with {server.proc.returncode}: {server.stderr()}")
    try:
        return server.request("GET", "/readyz", token=None).status == 200
    except OSError:
        return False


def blog_variant(tmp, name, edit):
    """The blog example with one edit of its text (a field added, removed), written to `tmp/name`."""
    with open(harness.EXAMPLE) as f:
        text = f.read()
    changed = edit(text)
    assert changed != text, "the edit changed nothing"
    return harness.write_concept(tmp, changed, name)


@harness.postgres_only("several instances share one PostgreSQL database")
class RollingSchemaChange(unittest.TestCase):
    """A rolling deploy of a new concept: the safe step (a new field with a default, a new index) is applied by the
    first new instance while old ones serve under load, and they keep serving what they know; a destructive step
    is refused while an instance of another version is connected, and goes through once none is."""

    def test_safe_steps_apply_under_load_and_destructive_ones_wait_for_the_old_instances(self):
        with tempfile.TemporaryDirectory(prefix="slipway-it-rolling-schema-") as tmp:
            shared = os.path.join(tmp, "shared")
            url = harness.database_url(shared)
            env = {"SLIPWAY_DATABASE_URL": url}
            v2 = blog_variant(tmp, "v2.yaml", lambda t: t.replace(
                "      status:    { type: enum, values: [draft, live], default: draft }\n",
                "      status:    { type: enum, values: [draft, live], default: draft }\n"
                "      subtitle:  { type: text, default: \"none\" }\n").replace(
                "indexes: [[published, created]]", "indexes: [[published, created], [views]]"))
            v3 = blog_variant(tmp, "v3.yaml", lambda t: t.replace(
                "      tags:      { type: json }\n", ""))
            # Three instances starting at once on an empty database: one applies the plan, the others find it done.
            ports = [harness.free_port(), harness.free_port()]
            old = [harness.Server(data_dir=os.path.join(tmp, f"old{i}"), port=p, env=env, args=["--migrate"])
                   for i, p in enumerate(ports)]
            extra = harness.Server(data_dir=os.path.join(tmp, "extra"), env=env, args=["--migrate"])
            servers = old + [extra]
            try:
                for s in servers:
                    s.start(wait_ready=False)
                for s in servers:
                    harness.wait_for(lambda s=s: ready(s), what="started")
                self.assertEqual(harness.psql(shared, "SELECT count(*) FROM _slipway_migrations").strip(), "1")
                extra.cleanup()
                servers.remove(extra)
                lb = Haproxy(tmp, ports)
                try:
                    lb.wait_up({"s0", "s1"})
                    with Load(lb.port) as load:
                        harness.wait_for(lambda: load.count() >= 20, what="load running")
                        new = harness.Server(config=v2, data_dir=os.path.join(tmp, "new"), env=env, args=["--migrate"])
                        servers.append(new)
                        new.start()  # applies the safe steps while the old instances serve
                        before = load.count()
                        harness.wait_for(lambda: load.count() >= before + 40, what="the old instances still serve")
                        post = new.request("POST", "/api/v1/posts", body={"title": "new", "subtitle": "hello"}).json()
                        self.assertEqual(post["subtitle"], "hello")
                        # A record an old instance writes gets the new field's default; it reads what it knows.
                        made = old[0].request("POST", "/api/v1/posts", body={"title": "old"}).json()
                        self.assertNotIn("subtitle", made)
                        self.assertEqual(new.request("GET", f"/api/v1/posts/{made['id']}").json()["subtitle"], "none")
                        self.assertEqual(old[1].request("GET", f"/api/v1/posts/{post['id']}").json()["title"], "new")
                    self.assertEqual(load.failures[:5], [], f"{len(load.failures)} failed; {load.statuses}")
                finally:
                    lb.stop()
                # Dropping a field while v1 instances are connected: refused, and nothing changes.
                p = harness.run_cli("migrate", "apply", "--allow-destructive", "--config", v3, "--data",
                                    os.path.join(tmp, "cli"), env=env)
                self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
                self.assertIn("serving another version of the concept", p.stderr)
                self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
                self.assertEqual(harness.psql(shared, "SELECT count(*) FROM _slipway_migrations").strip(), "2")
                for s in servers:
                    s.stop()
                p = harness.run_cli("migrate", "apply", "--allow-destructive", "--config", v3, "--data",
                                    os.path.join(tmp, "cli"), env=env)
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                self.assertEqual(harness.psql(shared, "SELECT count(*) FROM _slipway_migrations").strip(), "3")
            finally:
                for s in servers:
                    s.cleanup()
                harness.drop_database(shared)


@harness.postgres_only("restarts a PostgreSQL cluster of its own")
class DatabaseRestart(unittest.TestCase):
    def test_requests_fail_fast_with_503_while_postgresql_is_down_and_every_instance_recovers_by_itself(self):
        with tempfile.TemporaryDirectory(prefix="slipway-it-pgrestart-") as tmp:
            os.chmod(tmp, 0o755)  # run as root, the cluster belongs to the postgres user, which must reach it
            cluster = pg.Cluster(os.path.join(tmp, "pg"), pg.free_port(), fast=True)
            cluster.start()
            try:
                url = cluster.create_database()
                servers = [harness.Server(data_dir=os.path.join(tmp, f"d{i}"), args=["--migrate"],
                                          env={"SLIPWAY_DATABASE_URL": url}).start() for i in range(2)]
                try:
                    self.run_outage(cluster, servers)
                finally:
                    for s in servers:
                        s.cleanup()
            finally:
                cluster.destroy()

    def run_outage(self, cluster, servers):
        loads = [Load(s.port, threads=2, timeout=20) for s in servers]
        for l in loads:
            l.__enter__()
        try:
            harness.wait_for(lambda: all(l.count() >= 10 for l in loads), what="load running")
            cluster.stop()
            for s in servers:  # readiness says so, and requests are refused quickly, not held
                harness.wait_for(lambda s=s: s.request("GET", "/readyz", token=None).status == 503,
                                 timeout=10, what="/readyz 503 while PostgreSQL is down")
            t0 = time.monotonic()
            r = servers[0].request("POST", "/api/v1/posts", body={"title": "during"})
            self.assertEqual(r.status, 503, r)
            self.assertIsNotNone(r.header("Retry-After"))
            self.assertLess(time.monotonic() - t0, 5)
            cluster.start()
            for s in servers:  # no restart of slipway: each finds the database again
                harness.wait_for(lambda s=s: s.request("GET", "/readyz", token=None).status == 200,
                                 timeout=20, what="/readyz 200 again")
            counts = [l.count() for l in loads]
            harness.wait_for(lambda: all(l.count() >= c + 10 for l, c in zip(loads, counts)),
                             timeout=20, what="writes succeed again on every instance")
        finally:
            for l in loads:
                l.__exit__(None, None, None)
        for l in loads:
            # Failures are answers, never hangs or broken connections: 503 (with the load's own message) only.
            other = [f for f in l.failures if not f.startswith("POST: 503") and not f.startswith("GET") or "Error" in f]
            self.assertEqual(other, [], f"statuses {l.statuses}")
            self.assertLess(l.slowest, 10, "a request was held past the timeouts")


if __name__ == "__main__":
    harness.main()
