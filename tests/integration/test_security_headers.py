"""Security headers of the real binary: every response — a record, a list, a problem of any status, a preflight, a
probe, the session's own 413 — carries X-Content-Type-Options, Referrer-Policy and a Content-Security-Policy that
lets nothing run; the file's `security_headers:` changes what it names."""

import tempfile
import unittest

import harness
from itutil import parse_raw_response, raw_exchange

API_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"

CONCEPT = """
app: headers
cors:
  origins: ["https://app.example.com"]
security_headers:
  referrer_policy: strict-origin-when-cross-origin
collections:
  notes:
    fields:
      title: { type: text }
    rules:
      list: "true"
      view: "true"
"""


class Defaults(harness.ServerTestCase):
    def assert_secured(self, status, headers, referrer="no-referrer"):
        self.assertEqual(headers.get("x-content-type-options"), "nosniff", status)
        self.assertEqual(headers.get("referrer-policy"), referrer, status)
        self.assertEqual(headers.get("content-security-policy"), API_POLICY, status)

    def test_every_kind_of_response_carries_them(self):
        s = self.server
        created = s.request("POST", "/api/v1/posts", body={"title": "h", "published": True})
        self.assertEqual(created.status, 201, created)
        cases = [
            ("GET", f"/api/v1/posts/{created.json()['id']}", "admin", 200),
            ("GET", "/api/v1/posts", None, 200),
            ("GET", "/api/v1/nowhere", None, 404),
            ("PUT", "/api/v1/posts", "admin", 405),
            ("GET", "/api/v1/posts", "not-a-token", 401),
            ("POST", "/api/v1/posts", None, 403),
            ("GET", "/api/v1/posts?filter=nope%20%3D%201", None, 400),
            ("OPTIONS", "/api/v1/posts", None, 204),
            ("GET", "/livez", None, 200),
            ("GET", "/metrics", None, 200),
        ]
        for method, path, token, status in cases:
            with self.subTest(method=method, path=path):
                r = s.request(method, path, token=token, body={"title": "x"} if method == "POST" else None)
                self.assertEqual(r.status, status, r)
                self.assert_secured(status, {k: v for k, v in r.headers.items()})

    def test_the_sessions_own_413_carries_them_too(self):
        head = (f"POST /api/v1/posts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {harness.ADMIN_TOKEN}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {64 * 1024 * 1024}\r\n\r\n").encode()
        raw, _ = raw_exchange(self.server.port, head, timeout=10)
        status, headers, _ = parse_raw_response(raw)
        self.assertEqual(status, 413)
        self.assert_secured(status, headers)

    def test_no_hsts_over_plain_http(self):
        self.assertIsNone(self.server.request("GET", "/livez", token=None).header("Strict-Transport-Security"))


class Configured(unittest.TestCase):
    def test_the_file_sets_the_referrer_policy_and_preflights_carry_it(self):
        tmp = tempfile.TemporaryDirectory(prefix="slipway-it-headers-")
        self.addCleanup(tmp.cleanup)
        with harness.Server(config=harness.write_concept(tmp.name, CONCEPT)) as s:
            r = s.request("GET", "/api/v1/notes", token=None)
            self.assertEqual(r.header("Referrer-Policy"), "strict-origin-when-cross-origin")
            self.assertEqual(r.header("Content-Security-Policy"), API_POLICY)
            pre = s.request("OPTIONS", "/api/v1/notes", token=None,
                            headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"})
            self.assertEqual(pre.status, 204, pre)
            self.assertEqual(pre.header("Referrer-Policy"), "strict-origin-when-cross-origin")


if __name__ == "__main__":
    harness.main()
