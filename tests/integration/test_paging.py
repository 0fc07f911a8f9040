"""Keyset pagination through 1,000 rows while other clients insert: no duplicates, and no row that existed before
paging began is skipped."""

import random
import threading
import unittest

import harness
from itutil import create_many, quote

ROWS = 1000


class PagingUnderConcurrentInserts(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        bodies = [{"title": f"row {i:04d}", "views": i % 50, "published": i % 2 == 0} for i in range(ROWS)]
        cls.initial = create_many(cls.server, "posts", bodies, threads=4)
        cls.initial_ids = {r["id"] for r in cls.initial}


    def page_through(self, query, limit=37, token="admin"):
        """Pages through the list while two other threads insert; returns (ids in page order, inserted count)."""
        stop = threading.Event()
        inserted = []
        errors = []

        def inserter(n):
            conn = self.server.connection()
            rnd = random.Random(n)
            try:
                while not stop.is_set():
                    r = self.server.request("POST", "/api/v1/posts", conn=conn,
                                            body={"title": f"late {n}", "views": rnd.randrange(0, 60),
                                                  "published": rnd.random() < 0.5})
                    if r.status != 201:
                        errors.append(r)
                        return
                    inserted.append(r.json()["id"])
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
            finally:
                conn.close()

        threads = [threading.Thread(target=inserter, args=(n,)) for n in range(2)]
        for t in threads:
            t.start()
        harness.wait_for(lambda: len(inserted) >= 2 or errors, what="inserts to start")
        seen = []
        cursor = None
        pages = 0
        conn = self.server.connection()
        try:
            while True:
                q = f"/api/v1/posts?limit={limit}" + query + (f"&cursor={quote(cursor)}" if cursor else "")
                r = self.server.request("GET", q, conn=conn, token=token)
                self.assertEqual(r.status, 200, r)
                body = r.json()
                self.assertLessEqual(len(body["items"]), limit)
                seen += [p["id"] for p in body["items"]]
                pages += 1
                cursor = body["next_cursor"]
                if cursor is None:
                    break
                self.assertLess(pages, 200, "paging does not end")
        finally:
            conn.close()
            stop.set()
            for t in threads:
                t.join()
        self.assertEqual(errors, [])
        return seen, len(inserted)

    def assert_complete(self, seen, inserted, expected_initial):
        dupes = {i for i in seen if seen.count(i) > 1} if len(seen) != len(set(seen)) else set()
        self.assertEqual(dupes, set(), "a row appeared on two pages")
        missing = expected_initial - set(seen)
        self.assertEqual(missing, set(), f"{len(missing)} rows that existed before paging were skipped")
        self.assertGreater(inserted, 0, "no insert happened while paging: the test proved nothing")

    def test_default_sort_pages_without_duplicates_or_skips(self):
        seen, inserted = self.page_through("")
        self.assert_complete(seen, inserted, self.initial_ids)
        self.assertEqual(seen, sorted(seen), "default order is by id (creation order)")

    def test_sort_by_views_descending_with_ties_pages_without_duplicates_or_skips(self):
        seen, inserted = self.page_through("&sort=-views")
        self.assert_complete(seen, inserted, self.initial_ids)

    def test_sort_by_two_keys_pages_without_duplicates_or_skips(self):
        seen, inserted = self.page_through("&sort=" + quote("published,-created"), limit=50)
        self.assert_complete(seen, inserted, self.initial_ids)

    def test_filtered_anonymous_list_pages_without_duplicates_or_skips(self):
        published = {r["id"] for r in self.initial if r["published"]}
        seen, inserted = self.page_through("&sort=-views&filter=" + quote("views >= 10"), token=None)
        expected = {r["id"] for r in self.initial if r["published"] and r["views"] >= 10}
        self.assert_complete(seen, inserted, expected)
        self.assertTrue(set(seen) - (self.initial_ids - published) == set(seen), "anonymous saw an unpublished row")

    def test_views_order_holds_across_pages(self):
        r = self.server.request("GET", "/api/v1/posts?limit=500&sort=-views&fields=id,views")
        views = [p["views"] for p in r.json()["items"]]
        self.assertEqual(views, sorted(views, reverse=True))


class SealedCursors(unittest.TestCase):
    """Issue 6 item 8: next_cursor was plain base64 of the sort values, hidden fields included. It is now sealed
    with a key kept in the database: opaque, tamper-proof, and still valid after a restart."""

    CONFIG = """app: t
collections:
  items:
    fields:
      name:   { type: text }
      secret: { type: text, hidden: true }
    rules:
      list: "true"
      view: "true"
"""

    def test_cursors_are_opaque_tamper_proof_and_survive_a_restart(self):
        import base64
        import shutil
        import tempfile
        tmp = tempfile.mkdtemp(prefix="slipway-it-cursor-")
        try:
            config = harness.write_concept(tmp, self.CONFIG)
            data = f"{tmp}/data"
            with harness.Server(config=config, data_dir=data) as s:
                for i in range(10):
                    body = {"name": f"n{i}", "secret": f"hush-{i:02d}"}
                    self.assertEqual(s.request("POST", "/api/v1/items", body=body).status, 201)
                first = s.request("GET", "/api/v1/items?limit=4&sort=-secret").json()  # the admin sorts by it
                cursor = first["next_cursor"]
                raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
                self.assertNotIn(b"hush", raw)
                self.assertNotIn(first["items"][-1]["id"].encode(), raw)
                for i in (0, len(cursor) // 2, len(cursor) - 1):
                    forged = cursor[:i] + ("A" if cursor[i] != "A" else "B") + cursor[i + 1:]
                    r = s.request("GET", f"/api/v1/items?limit=4&sort=-secret&cursor={quote(forged)}")
                    self.assertEqual(r.status, 400, r)
                    self.assertEqual(r.json()["parameter"], "cursor")
            with harness.Server(config=config, data_dir=data) as s:  # a restart keeps the key
                names = [i["name"] for i in first["items"]]
                while cursor:
                    page = s.request("GET", f"/api/v1/items?limit=4&sort=-secret&cursor={quote(cursor)}")
                    self.assertEqual(page.status, 200, page)
                    names += [i["name"] for i in page.json()["items"]]
                    cursor = page.json()["next_cursor"]
                self.assertEqual(names, [f"n{i}" for i in range(9, -1, -1)])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
