"""PostgreSQL back-pressure and timeouts: a request that cannot get a database connection within --db-pool-wait-ms is
answered 503 with Retry-After (never queued without bound), a statement that runs past --db-statement-timeout-ms is
cancelled and answered 503, and neither leaves the instance worse off: once the database is free again every
request succeeds. The database is made slow the honest way: another session holds a lock the request needs."""

import os
import subprocess
import tempfile
import threading
import time
import unittest

import harness


@harness.postgres_only("the connection pool and statement timeout are PostgreSQL's")
class PoolAndTimeouts(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="slipway-it-pg-limits-")
        self.data = os.path.join(self.tmp.name, "data")

    def tearDown(self):
        self.tmp.cleanup()

    def hold_lock(self, seconds):
        """Another session locks the posts table for `seconds`; returns once the lock is held."""
        url = harness.database_url(self.data)
        holder = subprocess.Popen(["psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                                   f"BEGIN; LOCK TABLE posts IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep({seconds}); COMMIT;"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        harness.wait_for(lambda: harness.psql(self.data, "SELECT count(*) FROM pg_locks l JOIN pg_class c ON "
                                                         "c.oid = l.relation WHERE c.relname = 'posts' AND "
                                                         "l.mode = 'AccessExclusiveLock' AND l.granted").strip() == "1",
                         what="the lock held")
        return holder

    def test_a_request_that_finds_no_free_connection_gets_503_with_retry_after_and_the_pool_recovers(self):
        # A GET by id goes on the pipelined connection (its queue waits as long as the pool would); with
        # --db-read-pipelines 0 it takes the one pooled connection.
        for pipelines in ("1", "0"):
            with self.subTest(read_pipelines=pipelines):
                self.no_free_connection(["--db-read-pipelines", pipelines])
                harness.drop_database(self.data)

    def no_free_connection(self, extra):
        args = ["--db-pool-size", "1", "--db-pool-wait-ms", "100", "--db-statement-timeout-ms", "10000", *extra]
        with harness.Server(data_dir=self.data, args=args) as s:
            pid = s.request("POST", "/api/v1/posts", body={"title": "x", "published": True}).json()["id"]
            holder = self.hold_lock(3)
            try:
                stuck = {}
                first = threading.Thread(target=lambda: stuck.setdefault("r", s.request("GET", f"/api/v1/posts/{pid}")))
                first.start()  # takes the only connection and waits for the lock
                harness.wait_for(lambda: harness.psql(self.data, "SELECT count(*) FROM pg_stat_activity WHERE "
                                                                 "wait_event_type = 'Lock'").strip() != "0",
                                 what="a request waiting on the lock")
                t0 = time.monotonic()
                r = s.request("GET", f"/api/v1/posts/{pid}")
                self.assertEqual(r.status, 503, r)
                self.assertEqual(r.header("Retry-After"), "1")
                self.assertIn("no connection came free", r.json()["detail"])
                self.assertLess(time.monotonic() - t0, 2)
                first.join(timeout=30)
                self.assertEqual(stuck["r"].status, 200)  # served once the lock went away
            finally:
                holder.wait(timeout=30)
            self.assertEqual(s.request("GET", f"/api/v1/posts/{pid}").status, 200)
            metrics = s.request("GET", "/metrics", token=None).body.decode()
            self.assertRegex(metrics, r"slipway_db_pool_timeouts [1-9]")
            pipelined = r"slipway_db_pipelined_reads [1-9]" if extra[-1] != "0" else r"slipway_db_pipelined_reads 0\n"
            self.assertRegex(metrics, pipelined)

    def test_a_statement_past_the_timeout_is_cancelled_and_answered_503(self):
        args = ["--db-statement-timeout-ms", "300"]
        with harness.Server(data_dir=self.data, args=args) as s:
            pid = s.request("POST", "/api/v1/posts", body={"title": "x", "published": True}).json()["id"]
            holder = self.hold_lock(3)
            try:
                t0 = time.monotonic()
                r = s.request("GET", f"/api/v1/posts/{pid}")
                self.assertEqual(r.status, 503, r)
                self.assertEqual(r.header("Retry-After"), "1")
                self.assertLess(time.monotonic() - t0, 2.5)  # cancelled at 0.3 s, not when the lock went away
                w = s.request("PATCH", f"/api/v1/posts/{pid}", body={"title": "y"})
                self.assertEqual(w.status, 503, w)
            finally:
                holder.wait(timeout=30)
            got = s.request("GET", f"/api/v1/posts/{pid}").json()
            self.assertEqual((got["title"], got["version"]), ("x", 1))  # the cancelled write changed nothing


if __name__ == "__main__":
    harness.main()
