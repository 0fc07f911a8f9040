"""Multi-factor login over HTTP (docs/security.md#multi-factor-login), with codes from Debian's oathtool — an
independent RFC 6238 implementation: enrolment with secret, otpauth URI and QR code; confirmation with a first code
(one step early or late accepted, two refused); login in two steps; a code and a recovery code each work once;
wrong codes end a challenge and are throttled; removal needs re-authentication and ends the other sessions;
`mfa: required_for` and `@auth.aal` in rules; every step audited; the secret never stored in the clear. Hostile
input on every new route changes nothing."""

import base64
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import uuid

import harness
from itutil import assert_problem
from test_auth import NOTES, PASSWORD, identity_env, metric

STEP = 30

VAULT = """app: vault
auth:
  roles: [staff, member]
  default_role: member
  mfa: { required_for: [staff], issuer: "Vault & Co" }
collections:
  secrets:
    fields:
      title: { type: text, required: true }
      owner: { type: relation, to: users, required: true }
    rules:
      list: "owner = @auth.id && @auth.aal >= 2"
      view: "owner = @auth.id && @auth.aal >= 2"
      create: "owner = @auth.id && @auth.aal = 2"
"""


def totp(secret, offset_steps=0):
    """The code oathtool computes for `secret` (base32) at now + offset_steps × 30 s."""
    at = int(time.time()) + offset_steps * STEP
    out = subprocess.run(["oathtool", "--totp", "-b", "--now", f"@{at}", secret], check=True, capture_output=True,
                         text=True, timeout=30).stdout.strip()
    assert re.fullmatch(r"\d{6}", out), out
    return out


def settle():
    """Waits until the clock is well inside a 30-second step, so a code one step away cannot become two away
    between computing it here and checking it there."""
    while not 2 <= time.time() % STEP <= STEP - 6:
        time.sleep(0.5)


class _Signups(unittest.TestCase):
    """A started server (`config`) and fresh users on it; the two classes below differ in their concept file."""
    config = NOTES

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="slipway-it-mfa-")
        cls.data = os.path.join(cls.tmp.name, "data")
        config = cls.config if os.path.exists(cls.config) else harness.write_concept(cls.tmp.name, cls.config)
        cls.server = harness.Server(config=config, data_dir=cls.data, env=identity_env(cls.tmp.name)).start()
        cls.addClassCleanup(cls.server.cleanup)
        cls.addClassCleanup(cls.tmp.cleanup)

    def req(self, *a, **kw):
        kw.setdefault("token", None)
        return self.server.request(*a, **kw)

    def sign_up(self):
        """(address, user id, access token) of a new user."""
        email = f"{uuid.uuid4().hex[:12]}@example.com"
        r = self.req("POST", "/api/v1/auth/signup", body={"email": email, "password": PASSWORD})
        self.assertEqual(r.status, 201, r)
        return email, r.json()["user"]["id"], r.json()["access_token"]


@unittest.skipUnless(shutil.which("oathtool"), "oathtool is not installed (scripts/install-deps installs it)")
class MfaFlows(_Signups):
    def enrol(self, token, confirm_offset=0):
        """Enrols and confirms TOTP; returns (secret, recovery codes, the confirming session's new token)."""
        r = self.req("POST", "/api/v1/auth/mfa/totp", token=token, body={"password": PASSWORD})
        self.assertEqual(r.status, 201, r)
        secret = r.json()["secret"]
        r = self.req("POST", "/api/v1/auth/mfa/totp/confirm", token=token, body={"code": totp(secret, confirm_offset)})
        self.assertEqual(r.status, 200, r)
        return secret, r.json()["recovery_codes"], r.json()["access_token"]

    def challenge(self, email):
        r = self.req("POST", "/api/v1/auth/login", body={"email": email, "password": PASSWORD})
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertTrue(body["mfa_required"])
        self.assertNotIn("access_token", body)
        self.assertNotIn("refresh_token", body)
        return body["mfa_token"]

    def aal(self, token):
        r = self.req("GET", "/api/v1/auth/me", token=token)
        self.assertEqual(r.status, 200, r)
        return r.json()["aal"]

    def test_enrolment_gives_secret_uri_and_qr_and_is_confirmed_with_a_first_code(self):
        email, _, token = self.sign_up()
        r = self.req("POST", "/api/v1/auth/mfa/totp", token=token, body={"password": PASSWORD})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.header("Cache-Control"), "no-store")
        body = r.json()
        self.assertRegex(body["secret"], r"^[A-Z2-7]{32}$")  # 160 bits in base32
        self.assertEqual(len(base64.b32decode(body["secret"])), 20)
        uri = body["otpauth_uri"]
        self.assertTrue(uri.startswith("otpauth://totp/notes:" + email.replace("@", "%40") + "?"), uri)
        for part in ("secret=" + body["secret"], "issuer=notes", "algorithm=SHA1", "digits=6", "period=30"):
            self.assertIn(part, uri)
        self.assertTrue(body["qr_svg"].startswith("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        self.assertEqual(self.aal(token), 1)
        # A second enrolment before confirming replaces the first: only the newest secret confirms.
        again = self.req("POST", "/api/v1/auth/mfa/totp", token=token, body={"password": PASSWORD}).json()
        self.assertNotEqual(again["secret"], body["secret"])
        settle()
        r = self.req("POST", "/api/v1/auth/mfa/totp/confirm", token=token, body={"code": totp(body["secret"])})
        if totp(body["secret"]) != totp(again["secret"]):
            assert_problem(self, r, 422)
        # Two steps away is refused; one step early is accepted.
        for offset in (-2, 2):
            r = self.req("POST", "/api/v1/auth/mfa/totp/confirm", token=token, body={"code": totp(again["secret"], offset)})
            assert_problem(self, r, 422)
        r = self.req("POST", "/api/v1/auth/mfa/totp/confirm", token=token, body={"code": totp(again["secret"], -1)})
        self.assertEqual(r.status, 200, r)
        codes = r.json()["recovery_codes"]
        self.assertEqual(len(codes), 10)
        self.assertEqual(len(set(codes)), 10)
        for c in codes:
            self.assertRegex(c, r"^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$")
        self.assertEqual(self.aal(r.json()["access_token"]), 2)  # the confirming session proved the factor
        # Confirmed: neither a second confirmation nor a new enrolment over it.
        assert_problem(self, self.req("POST", "/api/v1/auth/mfa/totp/confirm", token=token,
                                      body={"code": totp(again["secret"])}), 409)
        assert_problem(self, self.req("POST", "/api/v1/auth/mfa/totp", token=token, body={"password": PASSWORD}), 409)
        # The secret is stored sealed: neither its base32 nor its bytes are in the row.
        rows = harness.db_json(self.data, "SELECT secret FROM _slipway_totp")
        stored = " ".join(r["secret"] for r in rows)
        self.assertTrue(stored)
        self.assertNotIn(again["secret"], stored)
        self.assertNotIn(base64.b64encode(base64.b32decode(again["secret"])).decode().rstrip("="), stored)
        recovery = harness.db_json(self.data, "SELECT digest FROM _slipway_recovery_codes")
        self.assertFalse(any(c.replace("-", "") in str(recovery) for c in codes))

    def test_enrolment_needs_the_password_and_confirming_ends_the_other_sessions(self):
        email, _, token = self.sign_up()
        other = self.req("POST", "/api/v1/auth/login", body={"email": email, "password": PASSWORD}).json()["access_token"]
        assert_problem(self, self.req("POST", "/api/v1/auth/mfa/totp", token=token), 400)  # no body
        assert_problem(self, self.req("POST", "/api/v1/auth/mfa/totp", token=token, body={}), 422)  # no password
        p = assert_problem(self, self.req("POST", "/api/v1/auth/mfa/totp", token=token,
                                          body={"password": "wrong " + PASSWORD}), 403)
        self.assertEqual(p["errors"][0]["field"], "password")
        self.assertEqual(self.aal(other), 1)
        settle()
        secret, _, strong = self.enrol(token)
        # Every session made without the factor ends; the confirming one goes on at level 2.
        assert_problem(self, self.req("GET", "/api/v1/auth/me", token=other), 401)
        self.assertEqual(self.aal(strong), 2)
        # The password alone does not remove the factor from a level-1 token (the sign-up's, still unexpired).
        p = assert_problem(self, self.req("DELETE", "/api/v1/auth/mfa/totp", token=token, body={"password": PASSWORD}),
                           403)
        self.assertIn("code", p["detail"])
        self.assertTrue(self.challenge(email))

    def test_login_takes_a_second_step_and_each_code_works_once(self):
        email, _, token = self.sign_up()
        settle()
        secret, codes, _ = self.enrol(token)
        before = metric(self.server, "slipway_auth_mfa_total", '{event="verified"}')
        mfa_token = self.challenge(email)
        # The same code as the confirmation: already spent.
        assert_problem(self, self.req("POST", "/api/v1/auth/mfa/verify", body={"mfa_token": mfa_token,
                                                                               "code": totp(secret)}), 401)
        r = self.req("POST", "/api/v1/auth/mfa/verify", body={"mfa_token": mfa_token, "code": totp(secret, 1)})
        self.assertEqual(r.status, 200, r)
        tokens = r.json()
        self.assertEqual(self.aal(tokens["access_token"]), 2)
        self.assertEqual(tokens["user"]["email"], email)
        # The refresh token keeps the level.
        r = self.req("POST", "/api/v1/auth/refresh", body={"refresh_token": tokens["refresh_token"]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.aal(r.json()["access_token"]), 2)
        # The mfa_token is spent with the login; the code is spent too, whatever challenge presents it.
        assert_problem(self, self.req("POST", "/api/v1/auth/mfa/verify", body={"mfa_token": mfa_token,
                                                                               "code": totp(secret, 1)}), 401)
        assert_problem(self, self.req("POST", "/api/v1/auth/mfa/verify", body={"mfa_token": self.challenge(email),
                                                                               "code": totp(secret, 1)}), 401)
        # A recovery code, typed carelessly, works once.
        r = self.req("POST", "/api/v1/auth/mfa/verify",
                     body={"mfa_token": self.challenge(email), "recovery_code": " " + codes[0].upper() + " "})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.aal(r.json()["access_token"]), 2)
        assert_problem(self, self.req("POST", "/api/v1/auth/mfa/verify",
                                      body={"mfa_token": self.challenge(email), "recovery_code": codes[0]}), 401)
        self.assertEqual(metric(self.server, "slipway_auth_mfa_total", '{event="verified"}'), before + 2)

    def test_wrong_codes_end_the_challenge_and_are_throttled(self):
        email, _, token = self.sign_up()
        settle()
        secret, _, _ = self.enrol(token)
        wrong = f"{(int(totp(secret, 1)) + 1) % 1000000:06d}"
        mfa_token = self.challenge(email)
        for _ in range(5):
            assert_problem(self, self.req("POST", "/api/v1/auth/mfa/verify",
                                          body={"mfa_token": mfa_token, "code": wrong}), 401)
        # Five wrong codes: this challenge is over, even for the right code (the password is needed again)...
        r = self.req("POST", "/api/v1/auth/mfa/verify", body={"mfa_token": mfa_token, "code": totp(secret, 1)})
        self.assertIn(r.status, (401, 429), r)
        # ...and the factor is locked for a while, whatever challenge asks.
        fresh = self.challenge(email)
        statuses = []
        for _ in range(3):
            r = self.req("POST", "/api/v1/auth/mfa/verify", body={"mfa_token": fresh, "code": wrong})
            statuses.append(r.status)
            if r.status == 429:
                self.assertRegex(r.header("Retry-After"), r"^[1-9]\d*$")
                break
        self.assertIn(429, statuses)
        r = self.req("POST", "/api/v1/auth/mfa/verify", body={"mfa_token": fresh, "code": totp(secret, 1)})
        assert_problem(self, r, 429)  # locked: not even the right code gets through now

    def test_removal_needs_reauthentication_and_ends_the_other_sessions(self):
        email = f"{uuid.uuid4().hex[:12]}@example.com"
        signed_up = self.req("POST", "/api/v1/auth/signup", body={"email": email, "password": PASSWORD}).json()
        token = signed_up["access_token"]
        settle()
        secret, codes, token = self.enrol(token)
        other = self.req("POST", "/api/v1/auth/mfa/verify",
                         body={"mfa_token": self.challenge(email), "recovery_code": codes[1]}).json()["access_token"]
        self.assertEqual(self.aal(other), 2)
        r = self.req("DELETE", "/api/v1/auth/mfa/totp", token=token, body={"password": "wrong " + PASSWORD})
        assert_problem(self, r, 403)
        r = self.req("DELETE", "/api/v1/auth/mfa/totp", token=token, body={"code": totp(secret)})  # spent at confirm
        assert_problem(self, r, 403)
        r = self.req("DELETE", "/api/v1/auth/mfa/totp", token=token, body={"password": PASSWORD})
        self.assertEqual(r.status, 204, r)
        assert_problem(self, self.req("GET", "/api/v1/auth/me", token=other), 401)  # the other session is over
        # This session goes on at level 1: its next access token says so (the one in hand lives out its minutes).
        r = self.req("POST", "/api/v1/auth/refresh", body={"refresh_token": signed_up["refresh_token"]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.aal(r.json()["access_token"]), 1)
        assert_problem(self, self.req("DELETE", "/api/v1/auth/mfa/totp", token=token, body={"password": PASSWORD}), 404)
        # Without a factor, the password alone signs in again, and the old recovery codes are gone.
        r = self.req("POST", "/api/v1/auth/login", body={"email": email, "password": PASSWORD})
        self.assertEqual(r.status, 200, r)
        self.assertIn("access_token", r.json())
        self.assertEqual(harness.db_json(self.data, "SELECT COUNT(*) AS n FROM _slipway_recovery_codes r JOIN "
                                                    "_slipway_accounts a ON a.user_id = r.user_id JOIN users u ON "
                                                    f"u.id = a.user_id WHERE u.email = '{email}'")[0]["n"], 0)

    def test_removal_with_a_current_code(self):
        email, _, token = self.sign_up()
        settle()
        secret, _, token = self.enrol(token)
        r = self.req("DELETE", "/api/v1/auth/mfa/totp", token=token, body={"code": totp(secret, 1)})
        self.assertEqual(r.status, 204, r)
        self.assertEqual(self.req("GET", "/api/v1/auth/mfa/totp", token=token).status, 405)

    def test_every_step_is_audited(self):
        email, _, token = self.sign_up()
        settle()
        secret, codes, token = self.enrol(token)
        mfa_token = self.challenge(email)
        self.req("POST", "/api/v1/auth/mfa/verify", body={"mfa_token": mfa_token, "code": "000000"
                                                          if totp(secret, 1) != "000000" else "111111"})
        self.assertEqual(self.req("POST", "/api/v1/auth/mfa/verify",
                                  body={"mfa_token": mfa_token, "recovery_code": codes[2]}).status, 200)
        self.assertEqual(self.req("DELETE", "/api/v1/auth/mfa/totp", token=token, body={"password": PASSWORD}).status,
                         204)
        uid = self.req("GET", "/api/v1/auth/me", token=token).json()["user"]["id"]
        r = self.server.request("GET", "/api/v1/admin/audit?limit=100&filter=" +
                                f"actor_id%20%3D%20%27{uid}%27&sort=seq")
        self.assertEqual(r.status, 200, r)
        actions = [e["action"] for e in r.json()["items"]]
        for a in ("auth.mfa.totp.enrol", "auth.mfa.totp.confirm", "auth.login.mfa_challenge", "auth.mfa.failure",
                  "auth.mfa.recovery_code.use", "auth.login.success", "auth.mfa.totp.remove"):
            self.assertIn(a, actions)
        failure = next(e for e in r.json()["items"] if e["action"] == "auth.mfa.failure")
        self.assertEqual(failure["reason"], "wrong_code")
        text = str(r.json())
        self.assertNotIn(secret, text)
        self.assertNotIn(codes[2], text)

    def test_hostile_input_gets_a_precise_problem_and_changes_nothing(self):
        email, _, token = self.sign_up()
        assert_problem(self, self.req("POST", "/api/v1/auth/mfa/totp"), 401)
        assert_problem(self, self.req("POST", "/api/v1/auth/mfa/totp", token="admin"), 403)
        assert_problem(self, self.req("POST", "/api/v1/auth/mfa/totp/confirm", token=token, body={"code": "123456"}),
                       409)  # nothing to confirm
        r = self.req("POST", "/api/v1/auth/mfa/totp", token=token, body={"password": PASSWORD})
        self.assertEqual(r.status, 201)
        for body, status in (({}, 422), ({"code": 123456}, 422), ({"code": "12345"}, 422), ({"code": "abcdef"}, 422),
                             ({"code": "1" * 5000}, 413), ({"code": "123456", "extra": 1}, 422)):
            r = self.req("POST", "/api/v1/auth/mfa/totp/confirm", token=token, body=body)
            self.assertIn(r.status, (status, 400, 422), (body, r))
            assert_problem(self, r, r.status)
        r = self.server.request("POST", "/api/v1/auth/mfa/totp/confirm", token=token,
                                raw_body=b"{not json", headers={"Content-Type": "application/json"})
        assert_problem(self, r, 400)
        for body in ({}, {"code": "123456"}, {"mfa_token": "x"}, {"mfa_token": "x", "code": "1", "recovery_code": "2"},
                     {"mfa_token": ["x"], "code": "123456"}):
            r = self.req("POST", "/api/v1/auth/mfa/verify", body=body)
            self.assertIn(r.status, (400, 422), (body, r))
            assert_problem(self, r, r.status)
        for body in ({"mfa_token": "nope", "code": "123456"}, {"mfa_token": "' OR 1=1 --", "recovery_code": "x"}):
            assert_problem(self, self.req("POST", "/api/v1/auth/mfa/verify", body=body), 401)
        for body in ({}, {"password": PASSWORD, "code": "123456"}):
            assert_problem(self, self.req("DELETE", "/api/v1/auth/mfa/totp", token=token, body=body), 422)
        # Nothing changed: the enrolment still waits, the password alone still signs in.
        r = self.req("POST", "/api/v1/auth/login", body={"email": email, "password": PASSWORD})
        self.assertEqual(r.status, 200, r)
        uid = r.json()["user"]["id"]
        rows = harness.db_json(self.data, f"SELECT confirmed_ms, last_step FROM _slipway_totp WHERE user_id = '{uid}'")
        self.assertEqual(rows, [{"confirmed_ms": None, "last_step": None}])
        self.assertEqual(harness.db_json(self.data, "SELECT COUNT(*) AS n FROM _slipway_recovery_codes WHERE "
                                                    f"user_id = '{uid}'")[0]["n"], 0)


@unittest.skipUnless(shutil.which("oathtool"), "oathtool is not installed (scripts/install-deps installs it)")
class MfaPolicies(_Signups):
    """`auth: mfa: required_for` and rules that demand `@auth.aal`."""
    config = VAULT

    def test_a_rule_can_demand_a_second_factor(self):
        email, uid, token = self.sign_up()
        assert_problem(self, self.req("POST", "/api/v1/secrets", token=token, body={"title": "t", "owner": uid}), 403)
        r = self.req("POST", "/api/v1/auth/mfa/totp", token=token, body={"password": PASSWORD})
        self.assertEqual(r.status, 201)
        self.assertIn("issuer=Vault%20%26%20Co", r.json()["otpauth_uri"])
        settle()
        r = self.req("POST", "/api/v1/auth/mfa/totp/confirm", token=token, body={"code": totp(r.json()["secret"])})
        self.assertEqual(r.status, 200, r)
        strong = r.json()["access_token"]
        r = self.req("POST", "/api/v1/secrets", token=strong, body={"title": "t", "owner": uid})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.req("GET", "/api/v1/secrets", token=strong).json()["items"][0]["title"], "t")
        # The same user at level 1 (an older access token of the same session) sees nothing.
        self.assertEqual(self.req("GET", "/api/v1/secrets", token=token).json()["items"], [])

    def test_a_required_role_without_a_factor_may_only_enrol(self):
        email, uid, _ = self.sign_up()
        r = self.server.request("PATCH", f"/api/v1/admin/users/{uid}", body={"roles": ["staff"]})
        self.assertEqual(r.status, 200, r)
        r = self.req("POST", "/api/v1/auth/login", body={"email": email, "password": PASSWORD})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json()["mfa_enrolment_required"])
        token = r.json()["access_token"]
        p = assert_problem(self, self.req("GET", "/api/v1/secrets", token=token), 403)
        self.assertIn("second factor", p["detail"])
        assert_problem(self, self.req("GET", "/api/v1/auth/sessions", token=token), 403)
        self.assertEqual(self.req("GET", "/api/v1/auth/me", token=token).status, 200)
        r = self.req("POST", "/api/v1/auth/mfa/totp", token=token, body={"password": PASSWORD})
        self.assertEqual(r.status, 201, r)
        settle()
        r = self.req("POST", "/api/v1/auth/mfa/totp/confirm", token=token, body={"code": totp(r.json()["secret"])})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.req("GET", "/api/v1/auth/sessions", token=r.json()["access_token"]).status, 200)
        # From now on a login asks for the factor.
        r = self.req("POST", "/api/v1/auth/login", body={"email": email, "password": PASSWORD})
        self.assertTrue(r.json()["mfa_required"])


if __name__ == "__main__":
    harness.main()
