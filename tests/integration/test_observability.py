"""Health, routing, request ids, W3C trace context, the JSON access log and Prometheus metrics."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest
import uuid

import harness
from itutil import REQUEST_ID_RE, assert_problem

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
SECRET_BODY = "body-secret-" + uuid.uuid4().hex


class HealthAndRouting(harness.ServerTestCase):
    def test_livez_and_readyz_are_200_for_anyone(self):
        for path in ("/livez", "/readyz"):
            r = self.server.request("GET", path, token=None)
            self.assertEqual(r.status, 200, r)
            self.assertIn("status", r.json())

    def test_health_routes_do_not_need_or_check_a_token(self):
        r = self.server.request("GET", "/livez", token="not-a-valid-token-not-a-valid-token")
        self.assertEqual(r.status, 200, r)

    def test_head_on_health_is_200_without_body(self):
        r = self.server.request("HEAD", "/livez", token=None)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"")

    def test_unknown_paths_are_404_problems(self):
        for path in ("/", "/api", "/api/v1", "/api/v1/", "/api/v2/posts", "/api/v1/posts/a/b", "/livez/x",
                     "/api/v1/unknown", "/API/V1/posts"):
            assert_problem(self, self.server.request("GET", path), 404, "not-found")

    def test_wrong_method_is_405_with_allow(self):
        cases = [("POST", "/livez", "GET, HEAD, OPTIONS"), ("DELETE", "/metrics", "GET, HEAD, OPTIONS"),
                 ("PUT", "/api/v1/posts", "GET, HEAD, POST, OPTIONS"),
                 ("DELETE", "/api/v1/posts", "GET, HEAD, POST, OPTIONS"),
                 ("PATCH", "/api/v1/posts", "GET, HEAD, POST, OPTIONS"),
                 ("POST", f"/api/v1/posts/{uuid.uuid4()}", "GET, HEAD, PATCH, DELETE, OPTIONS"),
                 ("PUT", f"/api/v1/posts/{uuid.uuid4()}", "GET, HEAD, PATCH, DELETE, OPTIONS")]
        for method, path, allow in cases:
            r = self.server.request(method, path)
            assert_problem(self, r, 405, "method-not-allowed")
            self.assertEqual(r.header("Allow"), allow, (method, path))

    def test_wrong_method_with_a_json_body_is_still_405(self):
        # A client that PUTs a record (a common mistake) must learn the method is wrong, not that the body is large.
        for method, path in (("PUT", f"/api/v1/posts/{uuid.uuid4()}"), ("POST", "/livez"), ("PUT", "/api/v1/posts")):
            r = self.server.request(method, path, body={"title": "x"})
            assert_problem(self, r, 405)

    def test_security_headers_are_set(self):
        r = self.server.request("GET", "/api/v1/authors")
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff")

    def test_keep_alive_serves_many_requests_on_one_connection(self):
        conn = self.server.connection()
        try:
            for _ in range(50):
                self.assertEqual(self.server.request("GET", "/livez", conn=conn, token=None).status, 200)
            conn.sock.getpeername()  # still the same, still open
        finally:
            conn.close()


class RequestIdsAndTracing(harness.ServerTestCase):
    def test_every_response_has_a_generated_request_id(self):
        ids = set()
        for path in ("/livez", "/api/v1/posts", "/nope"):
            rid = self.server.request("GET", path).header("X-Request-Id")
            self.assertRegex(rid or "", REQUEST_ID_RE)
            ids.add(rid)
        self.assertEqual(len(ids), 3)

    def test_valid_client_request_id_is_echoed(self):
        for rid in ("abc-123", "A.b_C-9", "x" * 64, "0"):
            r = self.server.request("GET", "/api/v1/authors", headers={"X-Request-Id": rid})
            self.assertEqual(r.header("X-Request-Id"), rid)

    def test_hostile_request_ids_are_replaced(self):
        for rid in ("x" * 65, "has space", "<script>alert(1)</script>", "a\"b", "semi;colon", "ü"):
            r = self.server.request("GET", "/api/v1/authors", headers={"X-Request-Id": rid.encode("utf-8").decode("latin-1")})
            got = r.header("X-Request-Id")
            self.assertNotEqual(got, rid)
            self.assertRegex(got or "", REQUEST_ID_RE)

    def test_traceparent_trace_id_is_propagated(self):
        r = self.server.request("GET", "/api/v1/authors", headers={"traceparent": TRACEPARENT})
        tp = r.header("traceparent")
        self.assertIsNotNone(tp)
        self.assertRegex(tp, rf"^00-{TRACE_ID}-[0-9a-f]{{16}}-[0-9a-f]{{2}}$")

    def test_invalid_traceparent_starts_a_new_trace(self):
        for bad in ("garbage", f"00-{'0' * 32}-00f067aa0ba902b7-01", f"00-{TRACE_ID.upper()}-00f067aa0ba902b7-01"):
            r = self.server.request("GET", "/livez", headers={"traceparent": bad})
            tp = r.header("traceparent") or ""
            self.assertRegex(tp, r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
            self.assertNotIn(TRACE_ID, tp.lower())
            self.assertNotEqual(tp.split("-")[1], "0" * 32)

    def test_without_traceparent_a_fresh_trace_per_request(self):
        a = self.server.request("GET", "/livez").header("traceparent")
        b = self.server.request("GET", "/livez").header("traceparent")
        self.assertRegex(a or "", r"^00-[0-9a-f]{32}-")
        self.assertNotEqual(a.split("-")[1], b.split("-")[1])


class AccessLog(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.rid = "log-test-" + uuid.uuid4().hex[:12]
        cls.created = s.request("POST", "/api/v1/authors", body={"name": SECRET_BODY, "email": "log@example.com"},
                                headers={"X-Request-Id": cls.rid, "traceparent": TRACEPARENT})
        cls.get_rid = "log-get-" + uuid.uuid4().hex[:12]
        s.request("GET", f"/api/v1/authors/{cls.created.json()['id']}", headers={"X-Request-Id": cls.get_rid})
        cls.bad_token_rid = "log-401-" + uuid.uuid4().hex[:12]
        s.request("GET", "/api/v1/authors", token="wrong-token-wrong-token-wrong-token!",
                  headers={"X-Request-Id": cls.bad_token_rid})
        cls.line = cls.find(cls.get_rid)


    @classmethod
    def find(cls, rid):
        def look():
            for line in cls.server.log_lines():
                if line.get("request_id") == rid:
                    return line
            return None
        return harness.wait_for(look, what=f"access log line for {rid}")

    def test_one_json_line_per_request_with_the_documented_fields(self):
        line = self.line
        for key in ("time", "level", "request_id", "trace_id", "method", "route", "status", "duration_ms", "bytes"):
            self.assertIn(key, line)
        self.assertEqual(line["method"], "GET")
        self.assertEqual(line["route"], "/api/v1/{collection}/{id}")
        self.assertEqual(line["status"], 200)
        self.assertIsInstance(line["duration_ms"], (int, float))
        self.assertGreaterEqual(line["duration_ms"], 0)
        self.assertGreater(line["bytes"], 0)
        self.assertRegex(line["trace_id"], r"^[0-9a-f]{32}$")
        self.assertRegex(line["time"], r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
        matching = [x for x in self.server.log_lines() if x.get("request_id") == self.get_rid]
        self.assertEqual(len(matching), 1)

    def test_every_stdout_line_is_json(self):
        self.find(self.bad_token_rid)
        for raw in self.server.stdout().splitlines():
            if raw.strip():
                self.assertTrue(raw.startswith("{"), raw)

    def test_log_line_carries_the_incoming_trace_id_and_list_route(self):
        line = self.find(self.rid)
        self.assertEqual(line["trace_id"], TRACE_ID)
        self.assertEqual(line["route"], "/api/v1/{collection}")
        self.assertEqual(line["method"], "POST")
        self.assertEqual(line["status"], 201)

    def test_unmatched_paths_are_logged_under_a_fixed_route(self):
        rid = "log-404-" + uuid.uuid4().hex[:8]
        self.server.request("GET", "/some/random/" + uuid.uuid4().hex, headers={"X-Request-Id": rid})
        line = self.find(rid)
        self.assertEqual(line["status"], 404)
        self.assertNotIn("/some/random", line["route"])

    def test_every_response_after_authentication_names_the_caller_errors_included(self):
        s = self.server
        author = self.created.json()
        missing = str(uuid.uuid4())
        cases = [  # (method, path, body, headers, expected status) — each answered on a different path of the app
            ("GET", f"/api/v1/posts/{missing}", None, {}, 404),                      # not found (storage read)
            ("GET", "/api/v1/posts?filter=" + "title%20%3D%3D", None, {}, 400),      # bad filter
            ("GET", "/api/v1/posts?nope=1", None, {}, 400),                          # unknown parameter
            ("GET", "/api/v1/nosuchcollection", None, {}, 404),                      # unknown collection
            ("POST", "/api/v1/authors", {"name": 5}, {}, 422),                       # validation
            ("PATCH", f"/api/v1/authors/{author['id']}", {"name": "x"}, {"If-Match": '"999"'}, 412),  # writer
            ("DELETE", f"/api/v1/authors/{missing}", None, {}, 404),                 # writer, not found
            ("GET", f"/api/v1/authors/{author['id']}", None, {"If-None-Match": f'"{author["version"]}"'}, 304),
            ("GET", "/api/v1/authors", None, {}, 200),
        ]
        rids = []
        for method, path, body, headers, status in cases:
            rid = "log-user-" + uuid.uuid4().hex[:12]
            r = s.request(method, path, body=body, headers={"X-Request-Id": rid, **headers})
            self.assertEqual(r.status, status, (method, path, r))
            rids.append(rid)
        for rid, case in zip(rids, cases):
            self.assertEqual(self.find(rid).get("user_id"), "admin", case)
        # Anonymous requests, and those answered before the caller is known, name nobody.
        anon = "log-anon-" + uuid.uuid4().hex[:12]
        self.assertEqual(s.request("GET", f"/api/v1/posts/{missing}", token=None,
                                   headers={"X-Request-Id": anon}).status, 404)
        self.assertNotIn("user_id", self.find(anon))
        self.assertNotIn("user_id", self.find(self.bad_token_rid))

    def test_admin_token_and_request_bodies_never_reach_the_logs(self):
        self.find(self.bad_token_rid)
        out, err = self.server.stdout(), self.server.stderr()
        for text in (out, err):
            self.assertNotIn(harness.ADMIN_TOKEN, text)
            self.assertNotIn("wrong-token-wrong-token-wrong-token!", text)
            self.assertNotIn(SECRET_BODY, text)


class Metrics(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        s.request("POST", "/api/v1/authors", body={"name": "m", "email": "m@example.com"})
        for _ in range(3):
            s.request("GET", "/api/v1/authors")
        s.request("GET", "/api/v1/nope")

        # A request is counted once its response is written, which may be just after the client has read it: wait
        # until the last of them (the 404) shows, not only the first.
        def scraped():
            r = s.request("GET", "/metrics", token=None)
            text = r.body.decode()
            return r if all(x in text for x in ('route="/api/v1/{collection}"', 'status="201"', 'status="404"')) else None
        cls.resp = harness.wait_for(scraped, what="request metrics")
        cls.text = cls.resp.body.decode()


    def samples(self, name):
        out = []
        for line in self.text.splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                m = re.match(r"^(\S+?)(\{(.*)\})?\s+(\S+)$", line)
                labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
                out.append((labels, float(m.group(4))))
        return out

    def test_metrics_is_prometheus_text(self):
        self.assertEqual(self.resp.status, 200)
        self.assertTrue(self.resp.header("Content-Type").startswith("text/plain"), self.resp.header("Content-Type"))
        self.assertIn("# TYPE slipway_http_requests_total counter", self.text)

    def test_requests_are_counted_by_route_method_and_status(self):
        s = self.samples("slipway_http_requests_total")
        by = {(l.get("route"), l.get("method"), l.get("status")): v for l, v in s}
        self.assertGreaterEqual(by.get(("/api/v1/{collection}", "GET", "200"), 0), 3)
        self.assertGreaterEqual(by.get(("/api/v1/{collection}", "POST", "201"), 0), 1)
        self.assertGreaterEqual(sum(v for (r, m, st), v in by.items() if st == "404"), 1)
        for (route, _, _), _ in by.items():
            self.assertNotIn("nope", route or "")

    def test_latency_histogram_by_route(self):
        self.assertIn("# TYPE slipway_http_request_duration_seconds histogram", self.text)
        buckets = self.samples("slipway_http_request_duration_seconds_bucket")
        self.assertTrue(any(l.get("le") == "+Inf" and l.get("route") == "/api/v1/{collection}" for l, _ in buckets))
        self.assertTrue(self.samples("slipway_http_request_duration_seconds_count"))
        self.assertTrue(self.samples("slipway_http_request_duration_seconds_sum"))

    def test_commit_batch_size_and_build_info(self):
        self.assertTrue(self.samples("slipway_db_commit_batch_size_count"), "slipway_db_commit_batch_size histogram")
        self.assertGreaterEqual(self.samples("slipway_db_commit_batch_size_count")[0][1], 1)
        info = self.samples("slipway_build_info")
        self.assertEqual(len(info), 1)
        self.assertEqual(info[0][1], 1)
        self.assertIn("version", info[0][0])

    def test_in_flight_gauge_exists(self):
        self.assertTrue(self.samples("slipway_http_in_flight_requests"))

    def test_promtool_accepts_the_metrics(self):
        promtool = shutil.which("promtool") or ("/usr/bin/promtool" if os.path.exists("/usr/bin/promtool") else None)
        if not promtool:
            self.skipTest("promtool is not installed")
        p = subprocess.run([promtool, "check", "metrics"], input=self.text, capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    harness.main()
