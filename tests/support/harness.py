"""Integration-test harness: starts the real `slipway` binary on a free loopback port with a temporary data
directory and speaks HTTP to it. Standard library only (runs on a fresh Debian 12 with python3)."""

import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

BIN = os.environ.get("SLIPWAY_BIN", "build/slipway")
SOURCE_DIR = os.environ.get("SLIPWAY_SOURCE_DIR", os.getcwd())
ADMIN_TOKEN = "test-admin-token-0123456789abcdef0123456789"
EXAMPLE = os.path.join(SOURCE_DIR, "examples", "blog", "slipway.yaml")

# One parameter selects the engine for the whole suite: SLIPWAY_TEST_PG_URL (postgres://user@host:port, no database
# name) runs every server and every CLI command on PostgreSQL, one database per data directory, so a server restarted
# on the same directory (or a CLI command given it) finds the same data. Unset: SQLite, the default users get.
PG_URL = os.environ.get("SLIPWAY_TEST_PG_URL", "").rstrip("/")
ENGINE = "postgres" if PG_URL else "sqlite"
_databases = set()


def _psql(sql, database="postgres"):
    r = subprocess.run(["psql", f"{PG_URL}/{database}", "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError(f"psql failed: {sql}: {r.stderr.strip()}")
    return r.stdout


def database_name(data_dir):
    return "t_" + hashlib.sha1(os.path.realpath(data_dir).encode()).hexdigest()[:24]


def database_url(data_dir):
    """The PostgreSQL database of a data directory (created on first use), or None on SQLite."""
    if not PG_URL:
        return None
    name = database_name(data_dir)
    if name not in _databases:
        if not _psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"):
            _psql(f"CREATE DATABASE {name}")
        _databases.add(name)
    return f"{PG_URL}/{name}"


def drop_database(data_dir):
    if PG_URL:
        name = database_name(data_dir)
        _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        _databases.discard(name)


def psql(data_dir, sql):
    """Runs SQL on a data directory's PostgreSQL database; its output, one row per line, columns split by '|'."""
    return _psql(sql, database_name(data_dir))


def engine_env(data_dir):
    """The environment a slipway process needs to use a data directory's database on the engine under test."""
    return {"SLIPWAY_DATABASE_URL": database_url(data_dir)} if PG_URL else {}


def db_exec(data_dir, sql):
    """Runs SQL on a data directory's database, whichever the engine (the tests' own hand on the data: tampering)."""
    if PG_URL:
        _psql(sql, database_name(data_dir))
    else:
        subprocess.run(["sqlite3", os.path.join(data_dir, "slipway.db"), sql], check=True, capture_output=True,
                       text=True, timeout=60)


def db_json(data_dir, sql):
    """The rows of a query on a data directory's database as a list of dicts (column name → value)."""
    if PG_URL:
        out = _psql(f"SELECT COALESCE(json_agg(q), '[]') FROM ({sql}) q", database_name(data_dir))
    else:
        out = subprocess.run(["sqlite3", "-json", os.path.join(data_dir, "slipway.db"), sql], check=True,
                             capture_output=True, text=True, timeout=60).stdout
    return json.loads(out) if out.strip() else []


def sqlite_only(reason):
    """Skips a test (or class) on PostgreSQL: it reads or edits SQLite files, the engine's own business."""
    return unittest.skipIf(ENGINE == "postgres", f"SQLite only: {reason}")


def postgres_only(reason):
    return unittest.skipIf(ENGINE != "postgres", f"PostgreSQL only: {reason}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=15.0, what="condition"):
    """Polls `predicate` until it returns truthy; fails after `timeout` seconds (a safety net, not a timing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _refuse_constant(name):
    raise ValueError(f"non-standard JSON constant {name}")


def strict_json(text):
    """json.loads that refuses what RFC 8259 does not allow (Infinity, -Infinity, NaN), as strict clients do."""
    return json.loads(text, parse_constant=_refuse_constant)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body
        # Every JSON answer of the suite is read once with a strict parser (issue 6 item 4): a response that a
        # strict client cannot parse fails whichever test received it.
        if body and "json" in (self.headers.get("content-type") or ""):
            try:
                self._json = strict_json(body)
            except ValueError as e:
                raise AssertionError(f"invalid JSON in a {status} response: {e}: {body[:300]!r}")

    def json(self):
        if not hasattr(self, "_json"):
            self._json = strict_json(self.body)
        return self._json

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return f"<Response {self.status} {self.body[:300]!r}>"


def run_cli(*args, env=None, cwd=None, timeout=60):
    """Runs `slipway ARGS`; returns CompletedProcess with text stdout/stderr."""
    full_env = dict(os.environ)
    full_env.pop("SLIPWAY_ADMIN_TOKEN", None)
    if PG_URL and "--data" in args and "SLIPWAY_DATABASE_URL" not in (env or {}):
        data_dir = args[list(args).index("--data") + 1]
        full_env["SLIPWAY_DATABASE_URL"] = database_url(data_dir)
    if env:
        full_env.update(env)
    return subprocess.run([BIN, *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=timeout)


class Server:
    """A started slipway. Use as a context manager or call start()/stop()."""

    def __init__(self, config=EXAMPLE, data_dir=None, env=None, args=(), admin_token=ADMIN_TOKEN, mode="production",
                 port=None):
        self.config = config
        self.fixed_port = port  # a restart keeps it (a load balancer's backend); else a free one at each start
        self.own_data = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="slipway-it-")
        self.env = env or {}
        self.args = list(args)
        self.admin_token = admin_token
        self.mode = mode
        self.port = None
        self.proc = None
        self.stdout_path = None
        self.stderr_path = None

    def start(self, wait_ready=True):
        self.port = self.fixed_port or free_port()
        env = dict(os.environ)
        env.pop("SLIPWAY_ADMIN_TOKEN", None)
        if self.admin_token:
            env["SLIPWAY_ADMIN_TOKEN"] = self.admin_token
        if PG_URL:
            env["SLIPWAY_DATABASE_URL"] = database_url(self.data_dir)
        # The functional suites make hundreds of requests a second from one address, logins included: they run with
        # the rate limits off unless they set SLIPWAY_RATE_LIMITS themselves. test_rate_limits.py tests the
        # defaults, which are on.
        env["SLIPWAY_RATE_LIMITS"] = "off"
        env.update(self.env)
        fd, self.stdout_path = tempfile.mkstemp(prefix="slipway-out-")
        os.close(fd)
        fd, self.stderr_path = tempfile.mkstemp(prefix="slipway-err-")
        os.close(fd)
        cmd = [BIN, "serve", "--config", self.config, "--data", self.data_dir,
               "--listen", f"127.0.0.1:{self.port}", "--mode", self.mode, *self.args]
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._out, stderr=self._err, env=env)
        if wait_ready:
            def ready():
                if self.proc.poll() is not None:
                    raise AssertionError(f"slipway exited with {self.proc.returncode}: {self.stderr()}")
                try:
                    return self.request("GET", "/readyz", token=None).status == 200
                except OSError:
                    return False
            wait_for(ready, what="/readyz")
        return self

    def stdout(self):
        with open(self.stdout_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_lines(self):
        return [strict_json(line) for line in self.stdout().splitlines() if line.startswith("{")]

    def connection(self, timeout=30, source=None):
        """source: the loopback address to connect from (all of 127.0.0.0/8 is local), e.g. to be another client."""
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout,
                                          source_address=(source, 0) if source else None)

    def request(self, method, path, body=None, headers=None, token="admin", conn=None, raw_body=None, source=None):
        """token: "admin" (the configured admin token), None (anonymous) or a literal token string. source: see
        connection()."""
        h = {}
        if token == "admin":
            h["Authorization"] = f"Bearer {self.admin_token}"
        elif token:
            h["Authorization"] = f"Bearer {token}"
        data = raw_body
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if headers:
            h.update(headers)
        own = conn is None
        c = conn or self.connection(source=source)
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            return Response(r.status, r.getheaders(), r.read())
        finally:
            if own:
                c.close()

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (getattr(self, "_out", None), getattr(self, "_err", None)):
            if f:
                f.close()
        return self.proc.returncode if self.proc else None

    def cleanup(self):
        self.stop()
        if self.own_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            drop_database(self.data_dir)
        for p in (self.stdout_path, self.stderr_path):
            if p and os.path.exists(p):
                os.unlink(p)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()


class ServerTestCase(unittest.TestCase):
    """A TestCase class with one started server (the blog example) shared by its tests, cleaned up even when
    setUpClass fails."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.addClassCleanup(cls.server.cleanup)


def write_concept(directory, text, name="slipway.yaml"):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def main():
    """Runs the calling module's tests; exit code 0 only when all pass."""
    unittest.main(module="__main__", verbosity=2)
