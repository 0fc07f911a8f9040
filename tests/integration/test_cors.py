"""CORS: the exact requests a browser sends for a front end on another origin — the preflight (OPTIONS with Origin,
Access-Control-Request-Method and -Headers), then the actual request — from an allowed and a refused origin, with
the `cors:` section of the concept file; and nothing at all without that section."""

import os
import shutil
import tempfile
import unittest
import uuid

import harness
from itutil import assert_problem, parse_raw_response, raw_exchange

APP = "https://app.example.com"
ADMIN_UI = "http://localhost:5173"
EVIL = "https://evil.example.net"
PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"

CORS_SECTION = f"""
cors:
  origins: ["{APP}", "{ADMIN_UI}"]
  methods: [GET, POST, PATCH, DELETE]
  headers: [authorization, content-type, if-match]
  expose_headers: [etag, location, x-request-id]
  credentials: true
  max_age: 600
"""


def concept_with(section):
    with open(harness.EXAMPLE) as f:
        return f.read() + section


def acao_headers(resp):
    return {k: v for k, v in resp.headers.items() if k.startswith("access-control-")}


class ServerWithConcept:
    """A started server on a copy of the blog example with `section` appended."""

    @staticmethod
    def start(test_class, section):
        tmp = tempfile.mkdtemp(prefix="slipway-cors-")
        test_class.addClassCleanup(shutil.rmtree, tmp, True)
        path = harness.write_concept(tmp, concept_with(section))
        server = harness.Server(config=path).start()
        test_class.addClassCleanup(server.cleanup)
        return server


class Cors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ServerWithConcept.start(cls, CORS_SECTION)
        cls.post = cls.server.request("POST", "/api/v1/posts", body={"title": "cors", "published": True}).json()

    def preflight(self, origin, method="PATCH", headers="authorization, content-type", path=None):
        h = {"Origin": origin, "Access-Control-Request-Method": method}
        if headers:
            h["Access-Control-Request-Headers"] = headers
        # A browser's preflight never carries credentials.
        return self.server.request("OPTIONS", path or f"/api/v1/posts/{self.post['id']}", headers=h, token=None)

    def test_preflight_from_an_allowed_origin_is_204_with_the_allow_headers(self):
        r = self.preflight(APP)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("Access-Control-Allow-Origin"), APP)
        self.assertEqual(r.header("Access-Control-Allow-Credentials"), "true")
        self.assertEqual(r.header("Access-Control-Allow-Methods"), "GET, POST, PATCH, DELETE")
        self.assertEqual(r.header("Access-Control-Allow-Headers"), "authorization, content-type, if-match")
        self.assertEqual(r.header("Access-Control-Max-Age"), "600")
        self.assertEqual(r.header("Vary"), PREFLIGHT_VARY)

    def test_then_the_actual_request_carries_the_origin_headers(self):
        r = self.server.request("PATCH", f"/api/v1/posts/{self.post['id']}", body={"views": 3},
                                headers={"Origin": APP})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Access-Control-Allow-Origin"), APP)
        self.assertEqual(r.header("Access-Control-Allow-Credentials"), "true")
        self.assertEqual(r.header("Access-Control-Expose-Headers"), "etag, location, x-request-id")
        self.assertEqual(r.header("Vary"), "Origin")
        self.assertIsNotNone(r.header("ETag"))

    def test_errors_carry_them_too_so_the_page_can_read_them(self):
        r = self.server.request("GET", f"/api/v1/posts/{uuid.uuid4()}", headers={"Origin": ADMIN_UI})
        assert_problem(self, r, 404)
        self.assertEqual(r.header("Access-Control-Allow-Origin"), ADMIN_UI)
        r = self.server.request("GET", "/api/v1/authors", token="not-the-token-not-the-token-not-the-token",
                                headers={"Origin": APP})
        assert_problem(self, r, 401)
        self.assertEqual(r.header("Access-Control-Allow-Origin"), APP)

    def test_a_body_too_large_for_the_http_layer_is_readable_by_the_page(self):
        head = (f"POST /api/v1/posts HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: {APP}\r\n"
                f"Authorization: Bearer {harness.ADMIN_TOKEN}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {8 << 20}\r\n\r\n").encode()
        raw, _ = raw_exchange(self.server.port, head)
        status, headers, _ = parse_raw_response(raw)
        self.assertEqual(status, 413, raw[:300])
        self.assertEqual(headers.get("access-control-allow-origin"), APP)
        self.assertEqual(headers.get("vary"), "Origin")

    def test_preflight_from_a_refused_origin_has_no_allow_headers(self):
        for origin in (EVIL, APP + "/", APP.upper(), "null"):
            r = self.preflight(origin)
            assert_problem(self, r, 403, "forbidden")
            self.assertEqual([k for k in acao_headers(r) if k.startswith("access-control-allow-")], [], origin)
            self.assertEqual(r.header("Vary"), PREFLIGHT_VARY)

    def test_the_actual_request_from_a_refused_origin_gets_no_allow_origin(self):
        r = self.server.request("GET", f"/api/v1/posts/{self.post['id']}", headers={"Origin": EVIL})
        self.assertEqual(r.status, 200, r)  # the server answers; the browser hides it from the page
        self.assertEqual(acao_headers(r), {})
        self.assertEqual(r.header("Vary"), "Origin")

    def test_preflight_for_a_method_or_header_not_allowed_is_refused(self):
        for method, headers in (("PUT", None), ("PATCH", "authorization, x-secret"), ("DELETE", "cookie")):
            r = self.preflight(APP, method, headers)
            assert_problem(self, r, 403)
            self.assertIsNone(r.header("Access-Control-Allow-Origin"), (method, headers))
        ok = self.preflight(APP, "GET", "Authorization, If-Match")  # header names in any case
        self.assertEqual(ok.status, 204)

    def test_preflight_is_answered_before_authentication(self):
        r = self.server.request("OPTIONS", "/api/v1/authors", token="not-the-token-not-the-token-not-the-token",
                                headers={"Origin": APP, "Access-Control-Request-Method": "POST"})
        self.assertEqual(r.status, 204, r)

    def test_list_cache_neither_drops_nor_crosses_the_origin(self):
        path = "/api/v1/posts?limit=3&sort=-created"
        seen = []
        for origin in (APP, APP, ADMIN_UI, EVIL, None, APP):  # the repeats are list-cache hits
            r = self.server.request("GET", path, token=None, headers={"Origin": origin} if origin else {})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("Vary"), "Origin")
            seen.append(r.header("Access-Control-Allow-Origin"))
        self.assertEqual(seen, [APP, APP, ADMIN_UI, None, None, APP])

    def test_options_without_preflight_headers_lists_the_methods(self):
        r = self.server.request("OPTIONS", f"/api/v1/posts/{self.post['id']}", token=None)
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.header("Allow"), "GET, HEAD, PATCH, DELETE, OPTIONS")
        self.assertIsNone(r.header("Access-Control-Allow-Origin"))
        assert_problem(self, self.server.request("OPTIONS", "/nope", token=None), 404)


class CorsWithAnyOrigin(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ServerWithConcept.start(cls, '\ncors:\n  origins: ["*"]\n  methods: [PATCH]\n')

    def test_any_origin_gets_a_star_and_nothing_varies(self):
        r = self.server.request("OPTIONS", "/api/v1/posts", token=None,
                                headers={"Origin": EVIL, "Access-Control-Request-Method": "PATCH"})
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.header("Access-Control-Allow-Origin"), "*")
        self.assertIsNone(r.header("Access-Control-Allow-Credentials"))
        g = self.server.request("GET", "/api/v1/posts", token=None, headers={"Origin": EVIL})
        self.assertEqual(g.header("Access-Control-Allow-Origin"), "*")
        self.assertIsNone(g.header("Vary"))


class WithoutCorsSection(harness.ServerTestCase):
    def test_nothing_is_allowed_and_no_access_control_header_is_sent(self):
        r = self.server.request("OPTIONS", "/api/v1/posts", token=None,
                                headers={"Origin": APP, "Access-Control-Request-Method": "POST",
                                         "Access-Control-Request-Headers": "authorization"})
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.header("Allow"), "GET, HEAD, POST, OPTIONS")
        self.assertEqual(acao_headers(r), {})
        g = self.server.request("GET", "/api/v1/posts", headers={"Origin": APP})
        self.assertEqual(g.status, 200)
        self.assertEqual(acao_headers(g), {})
        self.assertIsNone(g.header("Vary"))


if __name__ == "__main__":
    harness.main()
