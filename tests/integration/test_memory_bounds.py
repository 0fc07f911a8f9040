"""Memory stays bounded under client-chosen input (issue 6 item 6): every distinct filter shape used to be prepared
once per reader connection and kept forever (9,000 anonymous requests took RSS from 27 MB to 520 MB). The
per-connection statement cache is now an LRU bounded by count (256) and bytes (2 MiB); this test sends thousands of
distinct shapes and reads the server's resident memory from /proc. The bound asserted is derived from those
configured numbers, not from time."""

import os
import unittest
from urllib.parse import quote

import harness

# Per-connection cache bound (src/storage/sqlite/connection.h) times the reader connections (one per event loop),
# plus the list cache's byte budget (src/api/list_cache.h: 8 shards x 4 MiB), plus slack for allocator behaviour.
THREADS = 2
ALLOWED_GROWTH_MB = THREADS * 2 + 32 + 16


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise AssertionError("no VmRSS")


def shape(i, terms=24):
    """A filter whose SQL text differs for every i < 2**terms: each bit picks '<' or '>', and the i-th term's
    field picks between two columns, so no two shapes share a prepared statement."""
    parts = []
    for b in range(terms):
        bit = (i >> b) & 1
        parts.append(f"views {'>' if bit else '<'} {b}" if b % 2 else f"(title {'!=' if bit else '='} 'x')")
    return " || ".join(parts)


class StatementCacheBound(unittest.TestCase):
    def test_thousands_of_distinct_filter_shapes_keep_memory_bounded(self):
        env = {}
        if "ASAN_OPTIONS" in os.environ:  # ASan holds freed memory in quarantine: keep it small for this count
            env["ASAN_OPTIONS"] = os.environ["ASAN_OPTIONS"] + ":quarantine_size_mb=4"
        with harness.Server(args=["--threads", str(THREADS)], env=env) as s:
            conn = s.connection()
            try:
                def get(i):
                    r = s.request("GET", "/api/v1/posts?limit=1&filter=" + quote(shape(i)), token=None, conn=conn)
                    self.assertEqual(r.status, 200, r)

                for i in range(600):  # warm-up: fill the caches to their bounds
                    get(i)
                baseline = rss_mb(s.proc.pid)
                for i in range(600, 10600):
                    get(i)
                grown = rss_mb(s.proc.pid) - baseline
            finally:
                conn.close()
            print(f"RSS grew by {grown:.1f} MB over 10,000 distinct filter shapes (baseline {baseline:.1f} MB)")
            self.assertLess(grown, ALLOWED_GROWTH_MB,
                            f"RSS grew by {grown:.1f} MB over 10,000 distinct filter shapes (baseline {baseline:.1f} MB)")
            metrics = s.request("GET", "/metrics", token=None).body.decode()
            evictions = [l for l in metrics.splitlines() if l.startswith("slipway_db_statement_cache_evictions ")]
            self.assertEqual(len(evictions), 1, metrics[:500])
            self.assertGreater(float(evictions[0].split()[1]), 5000)


if __name__ == "__main__":
    harness.main()
