"""Hostile input on every path: SQL injection strings, oversized bodies and headers, deep nesting, invalid UTF-8.
Each gets its precise error, no internals leak, the server keeps serving and the database is unchanged."""

import json
import unittest

import harness
from itutil import (admin_total, assert_no_leak, assert_problem, create_many, parse_raw_response, quote,
                    raw_exchange)

INJECTIONS = [
    "'; DROP TABLE posts; --",
    "1 OR 1=1",
    '" OR ""="',
    "posts; DELETE FROM posts",
    "' UNION SELECT * FROM sqlite_master --",
    "title) OR (1=1",
    "\\'; --",
    "title = 'x' /* */",
]


class HostileInput(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.seeded = create_many(cls.server, "posts", [{"title": f"seed {i}", "published": True} for i in range(10)])
        cls.author = cls.server.request("POST", "/api/v1/authors", body={"name": "Seed", "email": "s@example.com"}).json()


    def assert_intact(self):
        """The tables and their rows survived: admin still sees all seeded posts and the author."""
        r = self.server.request("GET", "/api/v1/posts?limit=500&filter=" + quote("title ~ 'seed '"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual({p["id"] for p in r.json()["items"]}, {p["id"] for p in self.seeded})
        self.assertEqual(self.server.request("GET", f"/api/v1/authors/{self.author['id']}").status, 200)
        self.assertEqual(self.server.request("GET", "/readyz", token=None).status, 200)

    def get(self, path, token="admin"):
        return self.server.request("GET", path, token=token)

    def test_sql_injection_in_filter_is_a_400_or_a_harmless_string(self):
        for s in INJECTIONS:
            for expr in (s, f"title = '{s}'", f"title = \"{s}\"", f"title ~ '{s}'"):
                r = self.get("/api/v1/posts?filter=" + quote(expr))
                self.assertIn(r.status, (200, 400), (expr, r))
                assert_no_leak(self, r.body, echo=s)
                if r.status == 200:  # a quoted string is data: it can never widen the query to other rows
                    returned = {p["id"] for p in r.json()["items"]}
                    self.assertEqual(returned & {p["id"] for p in self.seeded}, set(), expr)
                else:
                    self.assertEqual(assert_problem(self, r, 400, echo=s).get("parameter"), "filter")
        self.assert_intact()

    def test_escaped_quote_in_a_filter_string_is_data(self):
        create_many(self.server, "posts", [{"title": "it's \"quoted\""}])
        r = self.get("/api/v1/posts?filter=" + quote("title = 'it\\'s \"quoted\"'"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual([p["title"] for p in r.json()["items"]], ["it's \"quoted\""])

    def test_sql_injection_in_sort_and_fields_is_400(self):
        for s in INJECTIONS:
            for param in ("sort", "fields", "expand"):
                r = self.get(f"/api/v1/posts?{param}=" + quote(s))
                problem = assert_problem(self, r, 400, echo=s)
                self.assertEqual(problem.get("parameter"), param, (param, s))
        self.assert_intact()

    def test_sql_injection_in_ids_is_404(self):
        for s in INJECTIONS:
            for method in ("GET", "DELETE"):
                r = self.server.request(method, "/api/v1/posts/" + quote(s))
                assert_problem(self, r, 404)
            r = self.server.request("PATCH", "/api/v1/posts/" + quote(s), body={"title": "pwned"})
            self.assertIn(r.status, (404,), r)
        self.assert_intact()

    def test_sql_injection_in_collection_names_is_404(self):
        for s in INJECTIONS + ["sqlite_master", "_slipway_migrations", "_slipway_idempotency", "posts%00"]:
            r = self.get("/api/v1/" + quote(s))
            assert_problem(self, r, 404)
            r = self.server.request("POST", "/api/v1/" + quote(s), body={"title": "x"})
            assert_problem(self, r, 404)
        self.assert_intact()

    def test_sql_injection_in_field_values_is_stored_verbatim(self):
        created = create_many(self.server, "authors", [{"name": s} for s in INJECTIONS])
        for rec, s in zip(created, INJECTIONS):
            got = self.get(f"/api/v1/authors/{rec['id']}").json()
            self.assertEqual(got["name"], s)
            r = self.get("/api/v1/authors?filter=" + quote("name = '" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"))
            self.assertEqual([a["id"] for a in r.json()["items"]], [rec["id"]], s)
        self.assert_intact()

    def test_sql_injection_in_cursor_and_limit_is_400(self):
        for s in INJECTIONS:
            assert_problem(self, self.get("/api/v1/posts?cursor=" + quote(s)), 400)
            assert_problem(self, self.get("/api/v1/posts?limit=" + quote(s)), 400)
        self.assert_intact()

    def test_sql_injection_in_json_keys_is_422_unknown(self):
        body = {"title": "k", "x\"; DROP TABLE posts; --": 1}
        r = self.server.request("POST", "/api/v1/posts", body=body)
        problem = assert_problem(self, r, 422)
        self.assertEqual([e["code"] for e in problem["errors"]], ["unknown"])
        self.assert_intact()

    def test_hostile_requests_never_leak_internals(self):
        s = self.server
        responses = [
            s.request("GET", "/api/v1/posts?filter=" + quote("'")),
            s.request("GET", "/api/v1/posts?filter=" + quote("title = 'x' AND 1=1")),
            s.request("GET", "/api/v1/posts?sort=" + quote("title;")),
            s.request("GET", "/api/v1/posts?cursor=" + quote("eyJ1bmlvbiI6InNlbGVjdCJ9")),
            s.request("GET", "/api/v1/posts/..%2f..%2fetc%2fpasswd"),
            s.request("GET", "/api/v1/../../etc/passwd"),
            s.request("POST", "/api/v1/posts", raw_body=b"\x00\x01\x02", headers={"Content-Type": "application/json"}),
            s.request("POST", "/api/v1/posts", raw_body=b'{"title":' + b"[" * 100, headers={"Content-Type": "application/json"}),
            s.request("POST", "/api/v1/posts", body={"title": "x", "author": "'; DROP TABLE authors; --"}),
            s.request("POST", "/api/v1/posts", body={"title": "x", "author": "01900000-0000-7000-8000-000000000000"}),
            s.request("POST", "/api/v1/authors", body={"name": "Seed", "email": "s@example.com"}),  # unique: 409
            s.request("PATCH", f"/api/v1/posts/{self.seeded[0]['id']}", body={"views": "1; DROP TABLE posts"}),
            s.request("DELETE", "/api/v1/posts"),
        ]
        for r in responses:
            self.assertGreaterEqual(r.status, 400, r)
            self.assertLess(r.status, 500, r)
            assert_no_leak(self, r.body)
            for k, v in r.headers.items():
                assert_no_leak(self, v)
        self.assert_intact()

    # --- oversized input ----------------------------------------------------------------------------------------

    def test_ten_megabyte_body_is_413_and_nothing_is_created(self):
        before = admin_total(self.server, "posts")
        body = b'{"title":"' + b"x" * (10 * 1024 * 1024) + b'"}'
        head = (f"POST /api/v1/posts HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {harness.ADMIN_TOKEN}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        chunks = [body[i:i + 65536] for i in range(0, len(body), 65536)]
        raw, _ = raw_exchange(self.server.port, head, chunks=chunks)
        status, _, resp_body = parse_raw_response(raw)
        self.assertEqual(status, 413, raw[:500])
        self.assertIn(b"payload-too-large", resp_body)
        self.assertEqual(admin_total(self.server, "posts"), before)
        self.assert_intact()

    def test_chunked_body_over_the_limit_is_413(self):
        before = admin_total(self.server, "posts")
        head = (f"POST /api/v1/posts HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {harness.ADMIN_TOKEN}\r\n"
                f"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
        piece = b"x" * 65536
        chunks = [b'a\r\n{"title":"\r\n'] + [b"10000\r\n" + piece + b"\r\n"] * 40 + [b'2\r\n"}\r\n0\r\n\r\n']
        raw, _ = raw_exchange(self.server.port, head, chunks=chunks)
        status, _, _ = parse_raw_response(raw)
        self.assertEqual(status, 413, raw[:500])
        self.assertEqual(admin_total(self.server, "posts"), before)

    def test_writes_refused_from_their_header_are_answered_without_reading_the_body(self):
        # Each announces a body of 50 MB and sends none of it: the answer can only come from the header. An
        # anonymous write that posts' rules refuse whatever it carries (no create rule: admins only), a write with a
        # bad token, and a write to no route at all.
        cases = [
            ("POST /api/v1/posts", "", 403),
            ("PATCH /api/v1/posts/0190f5a0-0000-7000-8000-000000000000", "", 403),
            ("POST /api/v1/posts", "Authorization: Bearer not-a-token\r\n", 401),
            ("POST /api/v1/nowhere/at/all", "", 404),
        ]
        before = admin_total(self.server, "posts")
        for line, extra, expected in cases:
            with self.subTest(line=line, status=expected):
                head = (f"{line} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}Content-Type: application/json\r\n"
                        f"Content-Length: {50 * 1024 * 1024}\r\n\r\n").encode()
                raw, closed = raw_exchange(self.server.port, head, timeout=10)
                status, headers, body = parse_raw_response(raw)
                self.assertEqual(status, expected, raw[:500])
                self.assertEqual(headers.get("connection"), "close")  # the unread body is never parsed as a request
                self.assertTrue(closed)
                self.assertEqual(json.loads(body)["status"], expected)
        self.assertEqual(admin_total(self.server, "posts"), before)

    def test_a_thousand_headers_are_refused(self):
        head = "GET /api/v1/posts HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(
            f"X-Flood-{i}: {'v' * 20}\r\n" for i in range(1000)) + "\r\n"
        raw, closed = raw_exchange(self.server.port, head.encode())
        status, _, _ = parse_raw_response(raw)
        self.assertIn(status, (400, 431, None), raw[:300])
        if status is None:
            self.assertTrue(closed, "neither an answer nor a closed connection")
        self.assert_intact()

    def test_a_hundred_kilobyte_header_is_refused(self):
        head = "GET /api/v1/posts HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + "a" * (100 * 1024) + "\r\n\r\n"
        raw, closed = raw_exchange(self.server.port, head.encode())
        status, _, _ = parse_raw_response(raw)
        self.assertIn(status, (400, 431, None), raw[:300])
        if status is None:
            self.assertTrue(closed)
        self.assert_intact()

    def test_a_hundred_kilobyte_url_is_refused(self):
        head = "GET /api/v1/posts?filter=" + "a" * (100 * 1024) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        raw, closed = raw_exchange(self.server.port, head.encode())
        status, _, _ = parse_raw_response(raw)
        self.assertEqual(status, 414, raw[:300])
        self.assertTrue(closed)

    def test_garbage_request_line_is_400_or_closed(self):
        for garbage in (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40,  # a TLS ClientHello
                        b"HELLO\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"GET /livez HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"):
            raw, closed = raw_exchange(self.server.port, garbage, timeout=5)
            status, _, _ = parse_raw_response(raw)
            self.assertIn(status, (400, 505, None), (garbage[:20], raw[:200]))
            if status is None:
                self.assertTrue(closed, garbage[:20])
        self.assert_intact()

    def test_deeply_nested_json_of_ten_thousand_levels_is_400(self):
        for data in (b"[" * 10000, b'{"title":' + b"[" * 10000 + b"]" * 10000 + b"}", b'{"a":' * 10000 + b"1" + b"}" * 10000):
            r = self.server.request("POST", "/api/v1/posts", raw_body=data, headers={"Content-Type": "application/json"})
            assert_problem(self, r, 400)
        self.assert_intact()

    def test_huge_numbers_are_400_or_422(self):
        for raw in (b'{"title":"n","views":1e400}', b'{"title":"n","views":99999999999999999999}',
                    b'{"title":"n","views":-1e400}', b'{"title":"n","views":1' + b"0" * 5000 + b"}"):
            r = self.server.request("POST", "/api/v1/posts", raw_body=raw, headers={"Content-Type": "application/json"})
            self.assertIn(r.status, (400, 422), (raw[:60], r))
            assert_problem(self, r, r.status)
        self.assertEqual(admin_total(self.server, "posts", "title = 'n'"), 0)

    def test_invalid_utf8_in_body_is_400(self):
        for raw in (b'{"title":"\xff"}', b'{"title":"\xe2\x82"}', b'{"\xfe":"x"}', b'{"title":"\xf4\x90\x80\x80"}'):
            r = self.server.request("POST", "/api/v1/posts", raw_body=raw, headers={"Content-Type": "application/json"})
            assert_problem(self, r, 400)

    def test_nul_characters_are_refused_everywhere(self):
        r = self.server.request("POST", "/api/v1/posts", raw_body=b'{"title":"a\\u0000b"}',
                                headers={"Content-Type": "application/json"})
        self.assertIn(r.status, (400, 422), r)
        r = self.server.request("POST", "/api/v1/posts", raw_body=b'{"title\\u0000":"a"}',
                                headers={"Content-Type": "application/json"})
        self.assertIn(r.status, (400, 422), r)
        assert_problem(self, self.get("/api/v1/posts?filter=" + quote("title = 'a\x00b'")), 400)
        raw, _ = raw_exchange(self.server.port, b"GET /api/v1/posts\x00 HTTP/1.1\r\nHost: x\r\n\r\n", timeout=5)
        self.assertIn(parse_raw_response(raw)[0], (400, 404, None))
        self.assert_intact()

    def test_unicode_text_round_trips(self):
        title = "héllo wörld — 日本語 🚀 \u202e"
        rec = create_many(self.server, "posts", [{"title": title}])[0]
        self.assertEqual(self.get(f"/api/v1/posts/{rec['id']}").json()["title"], title)
        r = self.get("/api/v1/posts?filter=" + quote(f"title = '{title}'"))
        self.assertEqual([p["id"] for p in r.json()["items"]], [rec["id"]])

    def test_server_still_serves_after_all_that(self):
        self.assertEqual(self.get("/livez", token=None).status, 200)
        self.assert_intact()


if __name__ == "__main__":
    harness.main()
