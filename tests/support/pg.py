"""PostgreSQL for the integration tests: private clusters (scripts/pg-cluster), a fresh database per test, and SQL
through the `psql` client. Standard library only, like harness.py (no psycopg on a fresh Debian 12).

    from pg import shared_cluster, psql
    url = shared_cluster().create_database()      # postgres://slipway@127.0.0.1:PORT/t_1234_1_a1b2c3, empty
    ... start slipway on url ...
    psql(url, "SELECT count(*) FROM posts")       # [['3']]

shared_cluster() is one --fast cluster per test process, started on first use under a temporary directory on a
free port (never 5432), or the cluster named by SLIPWAY_TEST_PG_URL when that is set (e.g. one cluster for a whole
CI run: `SLIPWAY_TEST_PG_URL=$(scripts/pg-cluster start /tmp/pg 55440 --fast) make test`). Tests share it through
databases of their own; a test that stops or restarts PostgreSQL makes a Cluster of its own instead (a second or so
for initdb), so that it cannot cut the other tests' connections.

A cluster this module starts is stopped and its directory deleted when the process exits, even when it is killed:
a watchdog process waits for this one's end (EOF on a pipe only this process holds) and then cleans up.

Self-test: python3 tests/support/pg.py --selftest"""

import atexit
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import urllib.parse

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PG_CLUSTER = os.path.join(SOURCE_DIR, "scripts", "pg-cluster")
PGBIN = os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin")
PSQL = os.path.join(PGBIN, "psql") if os.path.exists(os.path.join(PGBIN, "psql")) else "psql"
DEFAULT_PORT = 5432
START_ATTEMPTS = 5  # a free port can be taken between choosing it and PostgreSQL binding it: try another

# psql's unaligned output: records end with NUL (text values cannot hold one), fields are separated by the ASCII
# unit separator and NULL is printed as the sentinel below; values that contain either control character cannot be
# told apart (no test stores them).
_FIELD_SEP = "\x1f"
_NULL = "\x01NULL\x01"


class PgError(Exception):
    """A failure of scripts/pg-cluster or psql; the message is theirs (with the cluster log's tail, for a start)."""


def psql(url, sql, timeout=60):
    """Runs `sql` with psql on the database at `url`; returns the rows of its last statement as lists of str, None
    for NULL, in PostgreSQL's text form ('t'/'f' for booleans). Several statements in `sql` run as one transaction
    (psql -c). A statement that returns no rows gives []. Raises PgError with psql's message."""
    cmd = [PSQL, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-F", _FIELD_SEP, "-0", "-P", f"null={_NULL}",
           "-d", url, "-c", sql]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise PgError(f"psql on {url}: {r.stderr.strip()}")
    if not r.stdout:
        return []
    return [[None if v == _NULL else v for v in record.split(_FIELD_SEP)] for record in r.stdout.split("\0")[:-1]]


def base_url_of(url):
    """postgres://user@host:port, without the database of `url`."""
    u = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "", "", ""))


_db_counter = 0
_db_lock = threading.Lock()


def create_database(base_url, prefix="t"):
    """Creates an empty database with a name no other test process can pick (prefix, pid, a counter, random
    hex); returns its URL."""
    global _db_counter
    with _db_lock:
        _db_counter += 1
        n = _db_counter
    name = f"{prefix}_{os.getpid()}_{n}_{secrets.token_hex(3)}"
    base = base_url_of(base_url)
    psql(f"{base}/postgres", f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def drop_database(base_url, name):
    """Drops database `name` (or the database of a URL that create_database returned), even with clients still
    connected (WITH (FORCE): their connections are cut). Nothing to do if it does not exist."""
    if "://" in name:
        name = urllib.parse.urlsplit(name).path.lstrip("/")
    if not name or '"' in name:
        raise ValueError(f"not a database name: {name!r}")
    psql(f"{base_url_of(base_url)}/postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port():
    """A free loopback port chosen by the kernel (an ephemeral one, so never PostgreSQL's default 5432)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port != DEFAULT_PORT:
            return port


class Cluster:
    """A private cluster in `dir` on 127.0.0.1:`port`, driven by scripts/pg-cluster (see its header). Made on the
    first start(); `fast` (fsync & co. off) is for test suites. Not thread-safe: one thread drives a cluster."""

    owned = True  # this object may stop and restart the cluster

    def __init__(self, dir, port, fast=False):
        self.dir = os.path.abspath(dir)
        self.port = port
        self.fast = fast
        self._watchdog = None

    def _run(self, *args):
        r = subprocess.run([PG_CLUSTER, *args], capture_output=True, text=True, timeout=180)
        if r.returncode != 0:
            raise PgError(r.stderr.strip() or f"pg-cluster {args[0]} exited with {r.returncode}")
        return r.stdout.strip()

    def start(self):
        """Makes the cluster if there is none and starts it (nothing to do if it runs); returns url()."""
        return self._run("start", self.dir, str(self.port), *(["--fast"] if self.fast else []))

    def stop(self):
        """Fast shutdown: open connections are cut. Nothing to do if stopped or never started."""
        if os.path.exists(os.path.join(self.dir, "data", "PG_VERSION")):
            self._run("stop", self.dir)

    def restart(self):
        """Stops (if running) and starts again on the same port with the same settings; returns url()."""
        return self._run("restart", self.dir)

    def url(self):
        """The base URL, postgres://slipway@127.0.0.1:PORT (append /DBNAME)."""
        return f"postgres://slipway@127.0.0.1:{self.port}"

    def create_database(self, prefix="t"):
        return create_database(self.url(), prefix)

    def drop_database(self, name):
        drop_database(self.url(), name)

    def destroy_at_exit(self):
        """Stops the cluster and deletes `dir` when this process ends, however it ends (a watchdog process that
        waits for EOF on a pipe only this process holds). At a normal exit, waits until that is done."""
        if self._watchdog:
            return
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, PG_CLUSTER, self.dir], stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, start_new_session=True)  # Ctrl-C on our process group does not stop it
        atexit.register(self.destroy)

    def destroy(self):
        """Stops the cluster and deletes `dir` now (through the watchdog, if there is one)."""
        if self._watchdog:
            self._watchdog.stdin.close()
            self._watchdog.wait(timeout=120)
            self._watchdog = None
        else:
            self.stop()
            shutil.rmtree(self.dir, ignore_errors=True)


# The watchdog: sys.argv = [-c, pg-cluster, dir]. Reads stdin until EOF, i.e. until its parent closed the pipe or
# died, then stops the cluster and deletes the directory.
_WATCHDOG = """
import os, shutil, subprocess, sys
sys.stdin.read()
if os.path.exists(os.path.join(sys.argv[2], "data", "PG_VERSION")):
    subprocess.run([sys.argv[1], "stop", sys.argv[2]], stdout=subprocess.DEVNULL)
shutil.rmtree(sys.argv[2], ignore_errors=True)
"""


class ExternalCluster:
    """A cluster someone else runs (SLIPWAY_TEST_PG_URL): databases yes, stop and restart no."""

    owned = False

    def __init__(self, url):
        self._url = base_url_of(url)

    def url(self):
        return self._url

    def create_database(self, prefix="t"):
        return create_database(self._url, prefix)

    def drop_database(self, name):
        drop_database(self._url, name)

    def start(self):
        return self._url

    def stop(self):
        raise PgError(f"{self._url} (SLIPWAY_TEST_PG_URL) is not this process's to stop; use a Cluster of its own")

    restart = stop


_shared = None
_shared_lock = threading.Lock()


def shared_cluster():
    """The test process's cluster: the one at SLIPWAY_TEST_PG_URL if set, else a --fast Cluster started on first
    call (temporary directory, free port) and destroyed at exit. Sets SLIPWAY_TEST_PG_URL for child processes, so
    a test's helpers that run Python again reuse it."""
    global _shared
    with _shared_lock:
        if _shared is not None:
            return _shared
        url = os.environ.get("SLIPWAY_TEST_PG_URL")
        if url:
            _shared = ExternalCluster(url)
            return _shared
        cluster = Cluster(tempfile.mkdtemp(prefix="slipway-pg-"), free_port(), fast=True)
        cluster.destroy_at_exit()
        for attempt in range(START_ATTEMPTS):
            try:
                cluster.start()
                break
            except PgError as e:
                if "already in use" not in str(e) or attempt == START_ATTEMPTS - 1:
                    raise
                cluster.port = free_port()
        os.environ["SLIPWAY_TEST_PG_URL"] = cluster.url()
        _shared = cluster
        return _shared


def _selftest():
    import time

    def check(cond, what):
        if not cond:
            raise AssertionError(what)

    def wait_for_sleeper(url):  # until the pg_sleep() of `holder` runs, so a restart or drop has it to cut
        deadline = time.monotonic() + 30
        while psql(url, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'") == [["0"]]:
            check(time.monotonic() < deadline, "the holding connection never ran")
            time.sleep(0.02)

    t0 = time.monotonic()
    work = tempfile.mkdtemp(prefix="slipway-pg-selftest-")
    os.chmod(work, 0o755)  # run as root, the cluster's owner (postgres) must reach the directory inside
    try:
        c = Cluster(os.path.join(work, "pg"), free_port(), fast=True)
        check(c.start() == c.url(), "start prints the base URL")
        check(c.start() == c.url(), "a second start is a no-op")
        db = c.create_database("selftest")
        rows = psql(db, "CREATE TABLE t (a int, b text, c boolean); "
                        "INSERT INTO t VALUES (1, NULL, true), (2, '', false), (3, 'x|y\nz', NULL); "
                        "SELECT a, b, c FROM t ORDER BY a")
        check(rows == [["1", None, "t"], ["2", "", "f"], ["3", "x|y\nz", None]], f"rows round-trip: {rows}")
        check(psql(db, "SELECT 1 WHERE false") == [], "no rows")
        check(psql(db, "SELECT ''") == [[""]], "one empty value")
        check(psql(db, "SHOW fsync") == [["off"]], "--fast turns fsync off")
        try:
            psql(db, "SELECT * FROM missing")
            check(False, "an SQL error raises")
        except PgError as e:
            check("missing" in str(e), f"psql's message is kept: {e}")
        holder = subprocess.Popen([PSQL, "-X", "-q", "-d", db, "-c", "SELECT pg_sleep(60)"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_sleeper(db)
        check(c.restart() == c.url(), "restart prints the base URL")
        check(holder.wait(timeout=30) != 0, "restart cut the open connection")
        check(psql(db, "SELECT count(*) FROM t") == [["3"]], "data survives a restart")
        holder = subprocess.Popen([PSQL, "-X", "-q", "-d", db, "-c", "SELECT pg_sleep(60)"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_sleeper(db)
        c.drop_database(db)
        c.drop_database(db)  # dropping again is a no-op
        check(holder.wait(timeout=30) != 0, "drop cut the open connection")
        check(psql(c.url() + "/postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'selftest%'")
              == [["0"]], "the database is gone")
        c.stop()
        c.stop()  # stopping again is a no-op
        try:
            psql(db, "SELECT 1")
            check(False, "a stopped cluster refuses connections")
        except PgError:
            pass

        env_before = os.environ.pop("SLIPWAY_TEST_PG_URL", None)
        s = shared_cluster()
        check(s is shared_cluster() and s.owned, "one shared cluster per process")
        check(psql(s.create_database(), "SELECT current_user") == [["slipway"]], "a shared database")
        child = subprocess.run(
            [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import pg; "
             "c = pg.shared_cluster(); print(c.url(), c.owned)", os.path.dirname(os.path.abspath(__file__))],
            capture_output=True, text=True, check=True)
        check(child.stdout.split() == [s.url(), "False"], f"a child process reuses it: {child.stdout}")
        if env_before is not None:
            os.environ["SLIPWAY_TEST_PG_URL"] = env_before
    finally:
        Cluster(os.path.join(work, "pg"), 0).destroy()
        shutil.rmtree(work, ignore_errors=True)
    print(f"pg.py selftest: ok ({time.monotonic() - t0:.1f} s)")


if __name__ == "__main__":
    if sys.argv[1:] != ["--selftest"]:
        sys.exit("usage: python3 tests/support/pg.py --selftest")
    _selftest()
