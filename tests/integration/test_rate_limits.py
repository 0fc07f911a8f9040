"""Rate limits of the real binary: a burst per route class lets exactly its quota through and answers the rest 429
with Retry-After and the RateLimit fields; users, API keys and addresses have buckets of their own; a forwarding
header is believed only from a trusted proxy; preflights and probes are never limited; a refused request's body is
never read; the defaults are on."""

import re
import socket
import tempfile
import unittest

import harness
from itutil import parse_raw_response
from test_auth import identity_env, metric

PASSWORD = "correct horse battery staple"

# Windows of an hour: nothing refills while a test runs, however slow the machine, so the counts are exact.
CONCEPT = """
app: limits
auth:
  roles: [member]
  default_role: member
  signup: open
cors:
  origins: ["https://app.example.com"]
  methods: [GET, POST, PATCH, DELETE]
  headers: [authorization, content-type]
rate_limits:
  read:  { address: 5/h, user: 7/h, api_key: 9/h }
  write: { address: 3/h }
  login: { address: 2/h }
  auth:  { address: 6/h }
  admin: { address: 4/h }
collections:
  notes:
    fields:
      title: { type: text }
    rules:
      list: "true"
      view: "true"
      create: "true"
"""


class Client:
    """Requests from one loopback address: each test gets buckets of its own."""

    def __init__(self, server, source):
        self.server = server
        self.source = source

    def request(self, method, path, body=None, headers=None, token=None):
        return self.server.request(method, path, body=body, headers=headers, token=token, source=self.source)


def statuses(client, n, *args, **kwargs):
    return [client.request(*args, **kwargs).status for _ in range(n)]


class Limits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="slipway-it-limits-")
        cls.addClassCleanup(cls.tmp.cleanup)
        env = identity_env(cls.tmp.name)
        env["SLIPWAY_RATE_LIMITS"] = "on"
        cls.server = harness.Server(config=harness.write_concept(cls.tmp.name, CONCEPT), env=env).start()
        cls.addClassCleanup(cls.server.cleanup)

    def client(self, last_octet):
        return Client(self.server, f"127.0.0.{last_octet}")

    def test_a_read_burst_passes_its_quota_then_gets_429_with_retry_after_and_ratelimit_fields(self):
        c = self.client(10)
        remaining = []
        for _ in range(5):
            r = c.request("GET", "/api/v1/notes")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("RateLimit-Policy"), '"read-address";q=5;w=3600')
            remaining.append(re.fullmatch(r'"read-address";r=(\d+);t=(\d+)', r.header("RateLimit")).group(1))
        self.assertEqual(remaining, ["4", "3", "2", "1", "0"])
        r = c.request("GET", "/api/v1/notes")
        self.assertEqual(r.status, 429, r)
        self.assertEqual(r.header("Content-Type"), "application/problem+json")
        problem = r.json()
        self.assertEqual(problem["status"], 429)
        self.assertTrue(problem["type"].endswith("/too-many-requests"), problem)
        self.assertIn("read", problem["detail"])
        self.assertEqual(r.header("Retry-After"), "720")  # one request refills every 3600 s / 5
        self.assertEqual(r.header("RateLimit-Policy"), '"read-address";q=5;w=3600')
        self.assertRegex(r.header("RateLimit"), r'^"read-address";r=0;t=\d+$')
        # A GET by id is the same class; a write is another bucket and still has its own quota.
        self.assertEqual(c.request("GET", "/api/v1/notes/0190f5a0-0000-7000-8000-000000000000").status, 429)
        self.assertEqual(statuses(c, 4, "POST", "/api/v1/notes", body={"title": "w"}), [201, 201, 201, 429])

    def test_login_is_stricter_and_refused_before_any_password_is_hashed(self):
        c = self.client(11)
        body = {"email": "nobody@example.com", "password": "wrong password, surely"}
        self.assertEqual(statuses(c, 3, "POST", "/api/v1/auth/login", body=body), [401, 401, 429])
        self.assertEqual(statuses(c, 2, "GET", "/api/v1/notes"), [200, 200])  # reading is another class

    def test_a_signed_in_user_has_a_bucket_of_their_own_apart_from_the_address(self):
        c = self.client(12)
        self.assertEqual(statuses(c, 6, "GET", "/api/v1/notes"), [200] * 5 + [429])
        r = c.request("POST", "/api/v1/auth/signup", body={"email": "reader@example.com", "password": PASSWORD})
        self.assertEqual(r.status, 201, r)
        token = r.json()["access_token"]
        got = [c.request("GET", "/api/v1/notes", token=token) for _ in range(8)]
        self.assertEqual([r.status for r in got], [200] * 7 + [429])
        self.assertEqual(got[0].header("RateLimit-Policy"), '"read-user";q=7;w=3600')
        self.assertIn("user", got[-1].json()["detail"])
        # The user's bucket follows the user, not the address.
        other = self.client(13)
        self.assertEqual(other.request("GET", "/api/v1/notes", token=token).status, 429)
        self.assertEqual(other.request("GET", "/api/v1/notes").status, 200)

    def test_an_api_key_has_a_bucket_of_its_own(self):
        c = self.client(14)
        r = c.request("POST", "/api/v1/admin/api-keys", body={"name": "svc", "roles": ["member"]},
                      token=harness.ADMIN_TOKEN)
        self.assertEqual(r.status, 201, r)
        key = r.json()["key"]
        got = [c.request("GET", "/api/v1/notes", token=key) for _ in range(10)]
        self.assertEqual([r.status for r in got], [200] * 9 + [429])
        self.assertEqual(got[0].header("RateLimit-Policy"), '"read-api_key";q=9;w=3600')

    def test_failed_credentials_are_charged_to_the_address(self):
        c = self.client(15)
        self.assertEqual(statuses(c, 6, "GET", "/api/v1/notes", token="not-a-valid-token"), [401] * 5 + [429])
        self.assertEqual(c.request("GET", "/api/v1/notes").status, 429)

    def test_a_spoofed_forwarding_header_from_an_untrusted_peer_changes_nothing(self):
        c = self.client(16)
        self.assertEqual(statuses(c, 5, "GET", "/api/v1/notes"), [200] * 5)
        for header in ({"X-Forwarded-For": "203.0.113.7"}, {"Forwarded": "for=203.0.113.8"},
                       {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}, {"X-Real-IP": "203.0.113.10"}):
            with self.subTest(header=header):
                self.assertEqual(c.request("GET", "/api/v1/notes", headers=header).status, 429)
        def refused():
            return [l for l in self.server.log_lines() if l.get("remote") == "127.0.0.16" and l.get("status") == 429]
        # Logged under the peer's address, never the claimed one.
        harness.wait_for(lambda: len(refused()) == 4, what="four 429 lines under the peer's address")

    def test_preflights_and_probes_are_never_limited(self):
        c = self.client(17)
        self.assertEqual(statuses(c, 6, "GET", "/api/v1/notes"), [200] * 5 + [429])
        preflight = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers": "content-type"}
        got = [c.request("OPTIONS", "/api/v1/notes", headers=preflight) for _ in range(20)]
        self.assertEqual({r.status for r in got}, {204})
        self.assertEqual(got[0].header("Access-Control-Allow-Origin"), "https://app.example.com")
        self.assertIsNone(got[0].header("RateLimit"))
        self.assertEqual(set(statuses(c, 30, "GET", "/livez")), {200})
        self.assertEqual(set(statuses(c, 10, "GET", "/readyz")), {200})
        # The actual request a page then sends gets a 429 its script can read (CORS headers on the refusal).
        r = c.request("GET", "/api/v1/notes", headers={"Origin": "https://app.example.com"})
        self.assertEqual(r.status, 429)
        self.assertEqual(r.header("Access-Control-Allow-Origin"), "https://app.example.com")

    def announce_a_big_body(self, last_octet):
        """POSTs a header announcing 50 MB and sends none of it: (status, headers) of the answer, which can only
        come from the header."""
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10,
                                      source_address=(f"127.0.0.{last_octet}", 0)) as s:
            s.sendall(b"POST /api/v1/notes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 52428800\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                got = s.recv(4096)
                self.assertTrue(got, "closed without an answer")
                data += got
        status, headers, _ = parse_raw_response(data)
        return status, headers

    def test_a_refused_write_is_answered_without_reading_its_body(self):
        c = self.client(18)
        self.assertEqual(statuses(c, 3, "POST", "/api/v1/notes", body={"title": "w"}), [201] * 3)
        status, headers = self.announce_a_big_body(18)
        self.assertEqual(status, 429)
        self.assertEqual(headers.get("connection"), "close")

    def test_a_body_over_the_limit_gets_413_with_the_ratelimit_fields(self):
        status, headers = self.announce_a_big_body(21)
        self.assertEqual(status, 413)
        self.assertEqual(headers.get("ratelimit-policy"), '"write-address";q=3;w=3600')
        self.assertRegex(headers.get("ratelimit", ""), r'^"write-address";r=2;t=\d+$')  # the request took a token

    def test_requests_to_no_route_are_limited_like_reads(self):
        c = self.client(19)
        self.assertEqual(statuses(c, 6, "GET", "/wp-login.php"), [404] * 5 + [429])

    def test_rejections_are_counted_in_metrics_and_logged(self):
        c = self.client(20)
        before = metric(self.server, "slipway_rate_limit_rejections_total", '{class="admin",kind="address"}')
        got = statuses(c, 6, "GET", "/api/v1/admin/api-keys", token=harness.ADMIN_TOKEN)
        self.assertEqual(got, [200] * 4 + [429] * 2)  # the admin token is charged to its address
        after = metric(self.server, "slipway_rate_limit_rejections_total", '{class="admin",kind="address"}')
        self.assertEqual(after - before, 2)
        def logged():
            return [l for l in self.server.log_lines() if l.get("remote") == "127.0.0.20" and l.get("status") == 429]
        harness.wait_for(lambda: len(logged()) == 2, what="two 429 lines in the access log")
        self.assertEqual(logged()[0]["route"], "/api/v1/admin/api-keys")


class TrustedProxies(unittest.TestCase):
    """Behind a proxy every connection comes from the proxy: the client is read from its forwarding header."""

    def start(self, server_section):
        tmp = tempfile.TemporaryDirectory(prefix="slipway-it-proxy-")
        self.addCleanup(tmp.cleanup)
        concept = CONCEPT.replace("app: limits\n", "app: limits\nserver:\n" + server_section)
        env = identity_env(tmp.name)
        env["SLIPWAY_RATE_LIMITS"] = "on"
        server = harness.Server(config=harness.write_concept(tmp.name, concept), env=env).start()
        self.addCleanup(server.cleanup)
        return server

    def test_each_forwarded_client_has_its_own_bucket_and_the_proxy_cannot_be_bypassed(self):
        server = self.start("  trusted_proxies: [127.0.0.1]\n")
        proxy = Client(server, "127.0.0.1")
        for client in ("203.0.113.1", "203.0.113.2"):
            got = statuses(proxy, 6, "GET", "/api/v1/notes", headers={"X-Forwarded-For": client})
            self.assertEqual(got, [200] * 5 + [429], client)
        # A client that adds its own X-Forwarded-For in front of what the proxy appends does not escape.
        got = statuses(proxy, 2, "GET", "/api/v1/notes", headers={"X-Forwarded-For": "198.51.100.9, 203.0.113.1"})
        self.assertEqual(got, [429, 429])
        # A peer that is not the proxy is its own client, whatever it claims.
        direct = Client(server, "127.0.0.2")
        got = statuses(direct, 6, "GET", "/api/v1/notes", headers={"X-Forwarded-For": "203.0.113.50"})
        self.assertEqual(got, [200] * 5 + [429])
        self.assertEqual(direct.request("GET", "/api/v1/notes", headers={"X-Forwarded-For": "203.0.113.51"}).status, 429)
        def remotes():
            return {l.get("remote") for l in server.log_lines() if l.get("route") == "/api/v1/{collection}"}
        harness.wait_for(lambda: {"203.0.113.1", "203.0.113.2", "127.0.0.2"} <= remotes(),
                         what="the forwarded clients in the access log")
        self.assertNotIn("203.0.113.50", remotes())

    def test_the_forwarded_header_when_configured(self):
        server = self.start("  trusted_proxies: [127.0.0.0/8]\n  client_address_header: forwarded\n")
        proxy = Client(server, "127.0.0.1")
        fwd = {"Forwarded": 'for="[2001:db8::1]:4711";proto=https, for=127.0.0.5'}  # a second proxy, also trusted
        self.assertEqual(statuses(proxy, 6, "GET", "/api/v1/notes", headers=fwd), [200] * 5 + [429])
        # Another address of the same IPv6 /64 is the same client; X-Forwarded-For is not read at all.
        same = {"Forwarded": "for=\"[2001:db8::2]\"", "X-Forwarded-For": "203.0.113.77"}
        self.assertEqual(proxy.request("GET", "/api/v1/notes", headers=same).status, 429)
        self.assertEqual(proxy.request("GET", "/api/v1/notes", headers={"Forwarded": "for=192.0.2.60"}).status, 200)
        harness.wait_for(lambda: "2001:db8::1" in {l.get("remote") for l in server.log_lines()},
                         what="the forwarded IPv6 client in the access log")


class Defaults(unittest.TestCase):
    def test_the_defaults_are_on_and_an_operator_can_switch_them_off(self):
        with harness.Server(env={"SLIPWAY_RATE_LIMITS": "on"}) as on:
            r = on.request("GET", "/api/v1/posts", token=None)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("RateLimit-Policy"), '"read-address";q=300;w=10')
            self.assertIsNone(on.request("GET", "/livez", token=None).header("RateLimit"))
        with harness.Server(env={"SLIPWAY_RATE_LIMITS": "off"}) as off:
            self.assertIsNone(off.request("GET", "/api/v1/posts", token=None).header("RateLimit"))
            self.assertIn("rate limits are off", off.stdout())

    def test_a_bad_switch_value_is_one_line_and_a_usage_exit(self):
        r = harness.run_cli("serve", "--config", harness.EXAMPLE, "--rate-limits", "maybe")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(r.stderr.strip().count("\n"), 0, r.stderr)
        self.assertIn("--rate-limits must be on or off", r.stderr)


if __name__ == "__main__":
    harness.main()
