"""Sign-in with OpenID Connect against a real OpenID provider: the npm package oidc-provider, started on loopback
(tests/support/oidc.py), driven through the whole authorization-code flow without a browser. The first sign-in makes
a user; an existing user is linked only by an address the provider verified; slipway's tokens and session follow.
Hostile cases: a wrong or replayed state, a callback from another browser, a replayed code, an ID token with the
wrong nonce, audience or issuer, a broken signature, alg none, an unknown kid (refused) and a rotated key (refetched
and accepted), and the provider down (a clear 503, the circuit in /metrics)."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest
import urllib.parse
import uuid

import harness
import oidc
from itutil import assert_problem
from test_auth import PASSWORD, identity_env, metric

CONCEPT = """app: portal
auth:
  roles: [member]
  default_role: member
  users:
    fields:
      name: {{ type: text, max: 100 }}
  oidc:
    test:
      issuer: "{issuer}"
      client_id: slipway
      redirect_uri: "http://127.0.0.1:{port}/api/v1/auth/oidc/test/callback"
      scopes: [openid, email, profile]
outbound:
  connect_timeout: 1s
  timeout: 5s
  circuit: {{ failures: 2, window: 1m, open_for: 1s }}
collections:
  notes:
    fields:
      owner: {{ type: relation, to: users, required: true }}
    rules:
      list: "owner = @auth.id"
"""


@unittest.skipUnless(oidc.node_available(), "node or tests/interop's oidc-provider is missing (scripts/install-test-deps)")
class OidcSignIn(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="slipway-it-oidc-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.port = harness.free_port()
        cls.callback = f"http://127.0.0.1:{cls.port}/api/v1/auth/oidc/test/callback"
        cls.idp = oidc.OidcProvider(cls.tmp.name, clients=[{"client_id": "slipway", "client_secret": "s3cret",
                                                            "redirect_uris": [cls.callback]}],
                                    accounts={}).start()
        cls.addClassCleanup(cls.idp.stop)
        config = harness.write_concept(cls.tmp.name, CONCEPT.format(issuer=cls.idp.issuer, port=cls.port))
        env = dict(identity_env(cls.tmp.name), SLIPWAY_OIDC_TEST_CLIENT_SECRET="s3cret")
        cls.server = harness.Server(config=config, env=env, port=cls.port).start()
        cls.addClassCleanup(cls.server.cleanup)
        cls.start_url = f"http://127.0.0.1:{cls.port}/api/v1/auth/oidc/test"

    def account(self, verified=True, email=None):
        who = "u" + uuid.uuid4().hex[:10]
        email = email or f"{who}@example.com"
        self.idp.add_account(who, {"email": email, "email_verified": verified, "name": "Name " + who})
        return who, email

    def to_callback(self, who, browser=None):
        """Runs the flow up to slipway's callback; (browser, callback URL not yet requested)."""
        browser = browser or oidc.Browser()
        r = browser.get(self.start_url + "?login_hint=" + who, stop_at=self.callback)
        self.assertTrue(r.stopped, browser.hops)
        self.assertIn("code", r.query)
        return browser, r.url

    def sign_in(self, who):
        browser, url = self.to_callback(who)
        return browser.get(url, follow=False)

    def test_the_first_sign_in_makes_a_user_and_gives_slipways_own_tokens(self):
        who, email = self.account()
        browser = oidc.Browser()
        r = browser.get(self.start_url + "?login_hint=" + who, follow=False)
        self.assertEqual(r.status, 302)
        location = urllib.parse.urlsplit(r.headers["Location"])
        q = urllib.parse.parse_qs(location.query)
        self.assertTrue(r.headers["Location"].startswith(self.idp.issuer + "/"))
        self.assertEqual(q["response_type"], ["code"])
        self.assertEqual(q["client_id"], ["slipway"])
        self.assertEqual(q["redirect_uri"], [self.callback])
        self.assertEqual(q["code_challenge_method"], ["S256"])
        self.assertEqual(len(q["code_challenge"][0]), 43)
        self.assertEqual(set(q["scope"][0].split()), {"openid", "email", "profile"})
        self.assertGreaterEqual(len(q["state"][0]), 43)
        self.assertGreaterEqual(len(q["nonce"][0]), 43)
        cookie = r.headers["Set-Cookie"]
        for attr in ("HttpOnly", "Secure", "SameSite=Lax", "Path=/api/v1/auth/oidc/test"):
            self.assertIn(attr, cookie)
        r = browser.get(r.headers["Location"], stop_at=self.callback)
        r = browser.get(r.url, follow=False)
        self.assertEqual(r.status, 200, r.body)
        body = r.json()
        self.assertEqual(body["user"]["email"], email)
        self.assertEqual(body["user"]["name"], "Name " + who)
        me = self.server.request("GET", "/api/v1/auth/me", token=body["access_token"])
        self.assertEqual(me.status, 200)
        self.assertEqual(me.json()["aal"], 1)
        self.assertEqual(me.json()["roles"], ["member"])
        r = self.server.request("POST", "/api/v1/auth/refresh", token=None, body={"refresh_token": body["refresh_token"]})
        self.assertEqual(r.status, 200)
        # The account has no password: password login is refused like any wrong password.
        assert_problem(self, self.server.request("POST", "/api/v1/auth/login", token=None,
                                                 body={"email": email, "password": PASSWORD}), 401)
        # The second sign-in finds the same user through the linked identity.
        again = self.sign_in(who)
        self.assertEqual(again.status, 200, again.body)
        self.assertEqual(again.json()["user"]["id"], body["user"]["id"])

    def test_a_rotated_signing_key_is_fetched_again_and_accepted(self):
        # Runs before the hostile tests (name order): its unknown kid is the first that makes slipway refetch keys,
        # which it does at most every 10 s per provider.
        who, _ = self.account()
        browser, url = self.to_callback(who)
        self.idp.next_token("rotate")
        r = browser.get(url, follow=False)
        self.assertEqual(r.status, 200, r.body)

    def test_an_address_the_provider_has_not_verified_makes_no_account(self):
        who, email = self.account(verified=False)
        p = assert_problem(self, r_to(self.sign_in(who)), 403)
        self.assertIn("not verified", p["detail"])
        self.assertEqual(self.server.request("GET", "/api/v1/admin/users?filter=" +
                                             urllib.parse.quote(f"email = '{email}'")).json()["items"], [])

    def test_an_existing_user_is_linked_only_by_an_address_the_provider_verified(self):
        email = f"x{uuid.uuid4().hex[:10]}@example.com"
        r = self.server.request("POST", "/api/v1/auth/signup", token=None, body={"email": email, "password": PASSWORD})
        self.assertEqual(r.status, 201)
        local = r.json()
        # Whoever pre-registered the address also put a second factor on it.
        r = self.server.request("POST", "/api/v1/auth/mfa/totp", token=local["access_token"], body={"password": PASSWORD})
        self.assertEqual(r.status, 201)
        if shutil.which("oathtool"):
            code = subprocess.run(["oathtool", "--totp", "-b", r.json()["secret"]], capture_output=True,
                                  text=True).stdout.strip()
            r = self.server.request("POST", "/api/v1/auth/mfa/totp/confirm", token=local["access_token"],
                                    body={"code": code})
            self.assertEqual(r.status, 200)
            local["access_token"] = r.json()["access_token"]
        unverified, _ = self.account(verified=False, email=email)
        r = self.sign_in(unverified)
        assert_problem(self, r_to(r), 409)
        verified, _ = self.account(verified=True, email=email)
        r = self.sign_in(verified)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["user"]["id"], local["user"]["id"])
        self.assertIn("access_token", r.json())  # the pre-registered factor is gone with the rest: no challenge
        # The local address was never verified: whoever set that password had not proven it, so the password and
        # its sessions are gone now.
        assert_problem(self, self.server.request("GET", "/api/v1/auth/me", token=local["access_token"]), 401)
        assert_problem(self, self.server.request("POST", "/api/v1/auth/login", token=None,
                                                 body={"email": email, "password": PASSWORD}), 401)
        audit = self.server.request("GET", "/api/v1/admin/audit?limit=50&filter=" +
                                    urllib.parse.quote(f"actor_id = '{local['user']['id']}'")).json()["items"]
        self.assertIn("auth.oidc.link", [e["action"] for e in audit])

    def test_state_must_be_this_browsers_and_is_used_once(self):
        who, _ = self.account()
        browser, url = self.to_callback(who)
        # Another browser (no binding cookie) presenting the callback: refused, and the state is spent.
        assert_problem(self, r_to(oidc.Browser().get(url, follow=False)), 401)
        assert_problem(self, r_to(browser.get(url, follow=False)), 401)
        # A made-up state, a missing state.
        browser, url = self.to_callback(who)
        forged = re.sub(r"state=[^&]+", "state=" + "A" * 43, url)
        assert_problem(self, r_to(browser.get(forged, follow=False)), 401)
        assert_problem(self, r_to(browser.get(self.callback + "?code=x", follow=False)), 400)
        # The real one still works once, and its replay is refused (the code too would be: it is spent).
        self.assertEqual(browser.get(url, follow=False).status, 200)
        assert_problem(self, r_to(browser.get(url, follow=False)), 401)

    def test_a_replayed_code_is_refused_by_the_provider(self):
        who, _ = self.account()
        browser, url = self.to_callback(who)
        self.assertEqual(browser.get(url, follow=False).status, 200)
        # The same code with a fresh state of this browser: the provider refuses the spent code.
        fresh_browser, fresh = self.to_callback(who)
        code = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["code"][0]
        replay = re.sub(r"code=[^&]+", "code=" + urllib.parse.quote(code), fresh)
        r = fresh_browser.get(replay, follow=False)
        p = assert_problem(self, r_to(r), 401)
        self.assertIn("invalid_grant", p["detail"])

    def test_hostile_id_tokens_are_refused(self):
        who, _ = self.account()
        for mode in ("nonce", "aud", "iss", "expired", "signature", "alg_none", "unknown_kid"):
            browser, url = self.to_callback(who)
            self.idp.next_token(mode)
            r = browser.get(url, follow=False)
            p = assert_problem(self, r_to(r), 401)
            self.assertEqual(p["detail"], "The identity provider's answer could not be verified.", mode)

    @unittest.skipUnless(shutil.which("oathtool"), "oathtool is not installed")
    def test_a_user_with_a_second_factor_is_still_asked_for_it(self):
        who, _ = self.account()
        first = self.sign_in(who).json()
        token = first["access_token"]
        secret = self.server.request("POST", "/api/v1/auth/mfa/totp", token=token).json()["secret"]
        code = subprocess.run(["oathtool", "--totp", "-b", secret], capture_output=True, text=True).stdout.strip()
        self.assertEqual(self.server.request("POST", "/api/v1/auth/mfa/totp/confirm", token=token,
                                             body={"code": code}).status, 200)
        r = self.sign_in(who)
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(r.json()["mfa_required"])
        self.assertNotIn("access_token", r.json())
        self.assertIn("mfa_token", r.json())

    def test_the_provider_saying_no_and_hostile_parameters(self):
        browser = oidc.Browser()
        r = browser.get(self.start_url + "?login_hint=nobody-" + uuid.uuid4().hex, stop_at=self.callback)
        self.assertIn("error", r.query)
        p = assert_problem(self, r_to(browser.get(r.url, follow=False)), 401)
        self.assertIn("access_denied", p["detail"])
        assert_problem(self, r_to(browser.get(self.start_url.replace("/test", "/nope"), follow=False)), 404)
        assert_problem(self, r_to(browser.get(self.start_url + "?login_hint=" + "x" * 300, follow=False)), 400)
        assert_problem(self, r_to(browser.get(self.start_url + "?other=1", follow=False)), 400)
        assert_problem(self, r_to(browser.get(self.callback + "?state=a&state=b", follow=False)), 400)
        assert_problem(self, r_to(browser.get(self.callback + "?state=%zz", follow=False)), 400)
        assert_problem(self, r_to(browser.get(self.callback + "?state=" + "x" * 3000, follow=False)), 400)
        assert_problem(self, r_to(browser.get(self.callback + "?code=abc", follow=False)), 400)  # no state


@unittest.skipUnless(oidc.node_available(), "node or tests/interop's oidc-provider is missing (scripts/install-test-deps)")
class OidcProviderDown(unittest.TestCase):
    def test_a_provider_that_is_down_gets_a_clear_503_and_opens_its_circuit(self):
        with tempfile.TemporaryDirectory(prefix="slipway-it-oidc-down-") as tmp:
            port = harness.free_port()
            callback = f"http://127.0.0.1:{port}/api/v1/auth/oidc/test/callback"
            idp = oidc.OidcProvider(tmp, clients=[{"client_id": "slipway", "client_secret": "s3cret",
                                                   "redirect_uris": [callback]}], accounts={}).start()
            issuer = idp.issuer
            idp.stop()
            config = harness.write_concept(tmp, CONCEPT.format(issuer=issuer, port=port))
            env = dict(identity_env(tmp), SLIPWAY_OIDC_TEST_CLIENT_SECRET="s3cret")
            with harness.Server(config=config, env=env, port=port) as server:
                for _ in range(3):
                    r = server.request("GET", "/api/v1/auth/oidc/test", token=None)
                    p = assert_problem(self, r, 503)
                    self.assertIn("identity provider cannot be reached", p["detail"])
                destination = '{destination="' + issuer.replace("http://", "http://") + '"}'
                harness.wait_for(lambda: metric(server, "slipway_outbound_circuit_state", destination) == 2,
                                 what="the provider's circuit to open")
                # Everything else still answers.
                self.assertEqual(server.request("GET", "/readyz", token=None).status, 200)

    def test_a_provider_without_its_secret_stops_start_up(self):
        with tempfile.TemporaryDirectory(prefix="slipway-it-oidc-secret-") as tmp:
            config = harness.write_concept(tmp, CONCEPT.format(issuer="https://idp.example", port=8080))
            r = harness.run_cli("serve", "--config", config, "--data", os.path.join(tmp, "data"),
                                "--listen", f"127.0.0.1:{harness.free_port()}",
                                env=dict(identity_env(tmp), SLIPWAY_ADMIN_TOKEN=harness.ADMIN_TOKEN), timeout=30)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("SLIPWAY_OIDC_TEST_CLIENT_SECRET", r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)


def r_to(r):
    """oidc.Response → harness.Response (what assert_problem reads)."""
    return harness.Response(r.status, r.headers.items(), r.body)


if __name__ == "__main__":
    harness.main()
