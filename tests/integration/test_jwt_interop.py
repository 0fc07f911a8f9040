"""slipway's access tokens checked by an independent JWT implementation, the npm package `jose` (through
tests/interop/jwt.mjs, installed by `make test`): jose verifies the tokens slipway issues against slipway's JWKS, and
forges the ones slipway must refuse — alg none, another algorithm, HMAC keyed with the public key, a key slipway
does not have under its kid or an unknown one, an altered signature — and, signed with slipway's REAL key (the test
writes the key file, so it knows the seed), a wrong audience or issuer, an expired or not-yet-valid token. So what
is proven is that slipway checks the claims, not only the signature; and a correctly signed token that slipway never
issued is accepted, until its session is logged out.

node and jose are part of what `make test` installs: when either is missing this test fails, it does not skip."""

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import uuid

import harness
from itutil import assert_problem

NOTES = os.path.join(harness.SOURCE_DIR, "examples", "notes", "slipway.yaml")
JWT_MJS = os.path.join(harness.SOURCE_DIR, "tests", "interop", "jwt.mjs")
PASSWORD = "correct horse battery staple"
ISSUER, AUDIENCE = "slipway:notes", "notes"  # the defaults for `app: notes` (docs/concept-file.md#auth)
ACCESS_TTL = 900  # examples/notes: access_ttl 15m


def jose(command, request):
    """Runs `node tests/interop/jwt.mjs COMMAND` with `request` as JSON on stdin; returns its JSON answer."""
    node = shutil.which("node")
    if node is None:
        raise AssertionError("node is not installed: `make test` installs it (scripts/install-deps)")
    p = subprocess.run([node, JWT_MJS, command], input=json.dumps(request), capture_output=True, text=True,
                       timeout=60)
    if p.returncode != 0:
        hint = " (the npm package jose is missing: scripts/install-test-deps installs it, `make test` runs it)" \
            if "Cannot find package 'jose'" in p.stderr else ""
        raise AssertionError(f"jwt.mjs {command} exited with {p.returncode}{hint}: {p.stderr}")
    return json.loads(p.stdout)


class JwtInterop(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="slipway-it-jwt-")
        cls.addClassCleanup(cls.tmp.cleanup)
        # The test writes slipway's key file, so it holds the seed of slipway's one (active) signing key.
        cls.seed = base64.b64encode(os.urandom(32)).decode()
        keys = os.path.join(cls.tmp.name, "jwt.keys")
        with open(keys, "w") as f:
            f.write("# the test's key\n" + cls.seed + "\n")
        os.chmod(keys, 0o600)
        cls.server = harness.Server(config=NOTES, env={"SLIPWAY_JWT_KEYS_FILE": keys,
                                                      "SLIPWAY_DATA_KEYS": base64.b64encode(os.urandom(32)).decode()}).start()
        cls.addClassCleanup(cls.server.cleanup)
        cls.jwks_url = f"http://127.0.0.1:{cls.server.port}/api/v1/auth/jwks.json"

    def req(self, *a, **kw):
        kw.setdefault("token", None)
        return self.server.request(*a, **kw)

    def sign_up(self):
        r = self.req("POST", "/api/v1/auth/signup",
                     body={"email": f"{uuid.uuid4().hex[:12]}@example.com", "password": PASSWORD})
        self.assertEqual(r.status, 201, r)
        return r.json()

    def verify(self, token, issuer=ISSUER, audience=AUDIENCE):
        return jose("verify", {"jwks_url": self.jwks_url, "token": token, "issuer": issuer, "audience": audience})

    def forge(self, specs):
        """specs: name → spec (tests/interop/jwt.mjs); returns name → token."""
        return jose("sign", {"jwks_url": self.jwks_url, "seed": self.seed,
                             "tokens": [dict(spec, name=name) for name, spec in specs.items()]})

    def claims_of(self, user):
        """Claims of a token slipway would issue now for `user`'s live session (sub and sid taken from a real one)."""
        me = self.req("GET", "/api/v1/auth/me", token=user["access_token"])
        self.assertEqual(me.status, 200, me)
        now = int(time.time())
        return {"iss": ISSUER, "aud": AUDIENCE, "sub": user["user"]["id"], "sid": me.json()["session_id"],
                "roles": ["member"], "aal": 1, "iat": now, "exp": now + ACCESS_TTL}

    def assert_refused(self, token):
        """401 problem+json on a user route and on a records route; returns the problem without its request_id."""
        bodies = []
        for path in ("/api/v1/auth/me", "/api/v1/notes"):
            r = self.req("GET", path, token=token)
            body = assert_problem(self, r, 401, "unauthorized")
            self.assertEqual(r.header("WWW-Authenticate"), "Bearer")
            body.pop("request_id")
            bodies.append(body)
        self.assertEqual(bodies[0], bodies[1])
        return bodies[0]

    def assert_refused_alike(self, tokens):
        """Every token refused, all with the same answer: which check failed is for the log, never the caller."""
        answers = {}
        for name, token in tokens.items():
            with self.subTest(name):
                answers[name] = self.assert_refused(token)
        self.assertEqual(len({json.dumps(a, sort_keys=True) for a in answers.values()}), 1, answers)

    def assert_accepted_as(self, token, user, sid):
        me = self.req("GET", "/api/v1/auth/me", token=token)
        self.assertEqual(me.status, 200, me)
        self.assertEqual((me.json()["user"]["id"], me.json()["session_id"]), (user["user"]["id"], sid))

    def test_jose_verifies_the_tokens_slipway_issues_against_its_jwks(self):
        user = self.sign_up()
        jwks = self.req("GET", "/api/v1/auth/jwks.json").json()["keys"]
        me = self.req("GET", "/api/v1/auth/me", token=user["access_token"]).json()
        refreshed = self.req("POST", "/api/v1/auth/refresh", body={"refresh_token": user["refresh_token"]})
        self.assertEqual(refreshed.status, 200, refreshed)
        for label, token in (("sign-up", user["access_token"]), ("refresh", refreshed.json()["access_token"])):
            with self.subTest(label):
                v = self.verify(token)
                self.assertTrue(v["ok"], v)
                self.assertEqual(v["header"], {"alg": "EdDSA", "typ": "JWT", "kid": jwks[0]["kid"]})
                p = v["payload"]
                self.assertEqual({k: p[k] for k in ("iss", "aud", "sub", "sid", "roles", "aal")},
                                 {"iss": ISSUER, "aud": AUDIENCE, "sub": user["user"]["id"],
                                  "sid": me["session_id"], "roles": ["member"], "aal": 1})
                self.assertEqual(p["exp"] - p["iat"], ACCESS_TTL)
                self.assertLessEqual(abs(p["iat"] - time.time()), 60)
        # The verifier is no rubber stamp: the same token for another audience or issuer is refused by jose too.
        for issuer, audience in ((ISSUER, "blog"), ("slipway:blog", AUDIENCE)):
            v = self.verify(user["access_token"], issuer=issuer, audience=audience)
            self.assertEqual((v["ok"], v.get("code")), (False, "ERR_JWT_CLAIM_VALIDATION_FAILED"), v)

    def test_tokens_forged_without_slipways_key_are_refused(self):
        user = self.sign_up()
        escalated = dict(self.claims_of(user), roles=["admin", "member"])
        forged = self.forge({
            "alg none": {"alg": "none", "claims": escalated},
            "alg none under slipway's kid": {"alg": "none", "kid": "slipway", "claims": escalated},
            "HS256 keyed with the public key's bytes": {"alg": "HS256", "key": "jwks-x", "kid": "slipway",
                                                        "claims": escalated},
            "HS256 keyed with the public key's text": {"alg": "HS256", "key": "jwks-x-text", "kid": "slipway",
                                                       "claims": escalated},
            "HS256 keyed with the public key's PEM": {"alg": "HS256", "key": "jwks-spki-pem", "kid": "slipway",
                                                      "claims": escalated},
            "ES256, a fresh key under slipway's kid": {"alg": "ES256", "key": "fresh", "kid": "slipway",
                                                       "claims": escalated},
            "EdDSA, a fresh key under slipway's kid": {"alg": "EdDSA", "key": "fresh", "kid": "slipway",
                                                       "claims": escalated},
            "EdDSA, a fresh key under its own (unknown) kid": {"alg": "EdDSA", "key": "fresh", "kid": "own",
                                                               "claims": escalated},
            "EdDSA, a fresh key without kid": {"alg": "EdDSA", "key": "fresh", "kid": None, "claims": escalated},
            "EdDSA, a fresh key embedded as jwk": {"alg": "EdDSA", "key": "fresh", "kid": "own", "embed_jwk": True,
                                                   "claims": escalated},
            "EdDSA, slipway's key, one signature bit flipped": {"alg": "EdDSA", "key": "slipway", "kid": "slipway",
                                                                "claims": escalated, "tamper": "signature"},
        })
        self.assertEqual(len(forged), 11)
        self.assert_refused_alike(forged)
        # The user's own token still works: nothing above harmed the session.
        self.assertEqual(self.req("GET", "/api/v1/auth/me", token=user["access_token"]).status, 200)

    def test_hostile_claims_signed_with_slipways_real_key_are_refused(self):
        user = self.sign_up()
        valid = self.claims_of(user)
        now = valid["iat"]
        hostile = {
            "wrong audience": dict(valid, aud="blog"),
            "an audience list without ours": dict(valid, aud=["blog", "other"]),
            "wrong issuer": dict(valid, iss="slipway:blog"),
            "no issuer": {k: v for k, v in valid.items() if k != "iss"},
            "no audience": {k: v for k, v in valid.items() if k != "aud"},
            "expired a minute ago": dict(valid, iat=now - ACCESS_TTL - 60, exp=now - 60),
            "issued an hour ahead": dict(valid, iat=now + 3600, exp=now + 3600 + ACCESS_TTL),
            "not before an hour ahead": dict(valid, nbf=now + 3600),
            "exp as a string": dict(valid, exp=str(valid["exp"])),
            "no session": {k: v for k, v in valid.items() if k != "sid"},
            "aal out of range": dict(valid, aal=4),
        }
        forged = self.forge({name: {"alg": "EdDSA", "key": "slipway", "kid": "slipway", "claims": claims}
                             for name, claims in hostile.items()})
        self.assert_refused_alike(forged)

    def test_a_token_signed_with_slipways_real_key_is_accepted_until_its_session_ends(self):
        user = self.sign_up()
        valid = self.claims_of(user)
        first = self.forge({
            "valid": {"alg": "EdDSA", "key": "slipway", "kid": "slipway", "claims": valid},
            "audience in a list": {"alg": "EdDSA", "key": "slipway", "kid": "slipway",
                                   "claims": dict(valid, aud=["other", AUDIENCE])},
        })
        # The control of every refusal above: same key, same kid, same shape — slipway accepts it, and so does jose.
        self.assertNotEqual(first["valid"], user["access_token"])
        for name, token in first.items():
            with self.subTest(name):
                self.assert_accepted_as(token, user, valid["sid"])
        self.assertTrue(self.verify(first["valid"])["ok"])
        self.assertEqual(self.req("POST", "/api/v1/auth/logout", token=user["access_token"]).status, 204)
        # After logout: the accepted token, and one signed afterwards (never seen, so never cached), are refused.
        later = self.forge({"valid after logout": {"alg": "EdDSA", "key": "slipway", "kid": "slipway",
                                                   "claims": dict(valid, jti="after-logout")}})
        for token in (first["valid"], first["audience in a list"], later["valid after logout"]):
            self.assert_refused(token)


if __name__ == "__main__":
    harness.main()
