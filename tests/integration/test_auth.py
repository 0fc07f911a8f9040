"""Identity over HTTP on the notes example (examples/notes): sign-up, login, refresh with rotation and reuse
detection, logout, password change, sessions, the users collection's own rules — and the full story of two users
whose notes the rules keep apart. Hostile input on every auth route changes nothing."""

import base64
import concurrent.futures
import json
import os
import re
import tempfile
import time
import unittest
import uuid

import harness
from itutil import assert_problem, error_pairs

NOTES = os.path.join(harness.SOURCE_DIR, "examples", "notes", "slipway.yaml")
PASSWORD = "correct horse battery staple"


def key_file(directory, name="jwt.keys"):
    """A fresh key file (one random 32-byte key, 0600) under `directory`: the format of signing and data keys."""
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write("# test key\n" + base64.b64encode(os.urandom(32)).decode() + "\n")
    os.chmod(path, 0o600)
    return path


def identity_env(directory):
    """The two secrets production needs with `auth:`: the signing keys and the data keys, as files under `directory`."""
    return {"SLIPWAY_JWT_KEYS_FILE": key_file(directory), "SLIPWAY_DATA_KEYS_FILE": key_file(directory, "data.keys")}


def notes_data(tmp):
    """(data directory, environment with the key files) under `tmp`, for servers restarted on the same data."""
    return os.path.join(tmp, "data"), identity_env(tmp)


def notes_server(data, env):
    """A notes server (not started) on `data` with `env`; use as a context manager."""
    return harness.Server(config=NOTES, data_dir=data, env=env)


def metric(server, name, labels=""):
    text = server.request("GET", "/metrics", token=None).body.decode()
    m = re.search(r"^" + re.escape(name + labels) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


class AuthServer(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="slipway-it-auth-")
        cls.server = harness.Server(config=NOTES, env=identity_env(cls.tmp.name)).start()
        cls.addClassCleanup(cls.server.cleanup)
        cls.addClassCleanup(cls.tmp.cleanup)

    def req(self, *a, **kw):
        kw.setdefault("token", None)
        return self.server.request(*a, **kw)

    def sign_up(self, email=None, password=PASSWORD, **extra):
        email = email or f"{uuid.uuid4().hex[:12]}@example.com"
        r = self.req("POST", "/api/v1/auth/signup", body={"email": email, "password": password, **extra})
        self.assertEqual(r.status, 201, r)
        return r.json()

    def login(self, email, password=PASSWORD):
        return self.req("POST", "/api/v1/auth/login", body={"email": email, "password": password})

    def refresh(self, token):
        return self.req("POST", "/api/v1/auth/refresh", body={"refresh_token": token})


class SignUpAndLogin(AuthServer):
    def test_sign_up_answers_the_user_and_a_token_pair_and_never_a_password(self):
        r = self.req("POST", "/api/v1/auth/signup",
                     body={"email": "Grace.Hopper@Example.COM", "password": PASSWORD, "name": "Grace"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.header("Cache-Control"), "no-store")
        body = r.json()
        self.assertEqual(body["token_type"], "Bearer")
        self.assertEqual(body["expires_in"], 900)
        self.assertEqual(body["user"]["email"], "grace.hopper@example.com")  # stored normalised
        self.assertEqual(body["user"]["name"], "Grace")
        self.assertGreaterEqual(len(body["refresh_token"]), 43)  # 256 random bits, base64url
        self.assertEqual(body["access_token"].count("."), 2)
        self.assertNotIn(PASSWORD, r.body.decode())
        self.assertNotIn("argon2", r.body.decode())
        me = self.req("GET", "/api/v1/auth/me", token=body["access_token"])
        self.assertEqual(me.status, 200, me)
        self.assertEqual(me.json()["user"]["id"], body["user"]["id"])
        self.assertEqual(me.json()["roles"], ["member"])  # the default role
        # The address is unique whatever its case.
        again = self.req("POST", "/api/v1/auth/signup", body={"email": "grace.hopper@example.com", "password": PASSWORD})
        self.assertIn(("email", "unique"), error_pairs(assert_problem(self, again, 409)))

    def test_login_with_the_password_and_any_case_of_the_address(self):
        user = self.sign_up(email="alan@example.com")
        r = self.login("ALAN@example.com")
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["user"]["id"], user["user"]["id"])
        self.assertEqual(set(body), {"access_token", "token_type", "expires_in", "refresh_token", "user"})
        self.assertNotEqual(body["refresh_token"], user["refresh_token"])  # a new session

    def test_unknown_address_and_wrong_password_answer_alike_after_the_same_work(self):
        self.sign_up(email="known@example.com")
        hashes = metric(self.server, "slipway_auth_password_hashes_total")
        unknown = self.login("nobody-here@example.com")
        wrong = self.login("known@example.com", "not the password at all")
        self.assertEqual(metric(self.server, "slipway_auth_password_hashes_total"), hashes + 2)
        a, b = assert_problem(self, unknown, 401), assert_problem(self, wrong, 401)
        for body in (a, b):
            body.pop("request_id")
        self.assertEqual(a, b)
        self.assertEqual(unknown.header("WWW-Authenticate"), wrong.header("WWW-Authenticate"))

    def test_password_policy_on_sign_up(self):
        cases = {"short": "abc", "eleven char": "abcdefghijk", "common": "qwerty123456",
                 "too long": "x" * 1025}
        for label, password in cases.items():
            with self.subTest(label):
                r = self.req("POST", "/api/v1/auth/signup",
                             body={"email": f"{uuid.uuid4().hex[:8]}@example.com", "password": password})
                self.assertIn(("password", "password_policy"), error_pairs(assert_problem(self, r, 422)))
        # 64 characters, and code points not bytes: twelve emoji are twelve characters.
        self.sign_up(password="p" * 64)
        self.sign_up(password="\U0001F600" * 12)

    def test_sign_up_validates_the_user_fields_and_reports_everything_at_once(self):
        r = self.req("POST", "/api/v1/auth/signup",
                     body={"email": "not-an-address", "name": "x" * 101, "role": "admin", "id": "x"})
        self.assertTrue({("password", "required"), ("email", "email"), ("name", "max"), ("role", "unknown"),
                         ("id", "read_only")} <= error_pairs(assert_problem(self, r, 422)), r)

    def test_hostile_bodies_are_refused_and_create_nothing(self):
        cases = [
            (b"", 400), (b"{", 400), (b"[]", 400), (b'"x"', 400),
            (b'{"email":"a\xff@example.com","password":"' + b"p" * 20 + b'"}', 400),  # invalid UTF-8
            (json.dumps({"email": "x@example.com", "password": 12345678901234}).encode(), 422),
            (json.dumps({"email": "' OR 1=1 --@example.com", "password": PASSWORD}).encode(), 422),
            (json.dumps({"email": "x@example.com", "password": "p" * 10_000}).encode(), 422),
        ]
        for body, status in cases:
            with self.subTest(body=body[:40]):
                r = self.req("POST", "/api/v1/auth/signup", raw_body=body, headers={"Content-Type": "application/json"})
                assert_problem(self, r, status)
        for body, status in [(b"{", 400), (json.dumps({"email": "' OR '1'='1", "password": "' OR '1'='1"}).encode(), 401),
                             (json.dumps({"email": ["a"], "password": PASSWORD}).encode(), 422),
                             (json.dumps({"email": "a@example.com"}).encode(), 422),
                             (json.dumps({"email": "a@example.com", "password": "p" * 5000}).encode(), 422)]:
            with self.subTest(login=body[:40]):
                r = self.req("POST", "/api/v1/auth/login", raw_body=body, headers={"Content-Type": "application/json"})
                assert_problem(self, r, status)
        admin_users = self.server.request("GET", "/api/v1/users?filter=" + "email%20~%20%27OR%27")
        self.assertEqual(admin_users.json()["items"], [])

    def test_the_users_collection_is_served_through_its_rules(self):
        a, b = self.sign_up(name="A"), self.sign_up(name="B")
        own = self.req("GET", f"/api/v1/users/{a['user']['id']}", token=a["access_token"])
        self.assertEqual(own.status, 200, own)
        self.assertEqual(self.req("GET", f"/api/v1/users/{b['user']['id']}", token=a["access_token"]).status, 404)
        assert_problem(self, self.req("GET", "/api/v1/users", token=a["access_token"]), 403)  # list: admin only
        r = self.req("PATCH", f"/api/v1/users/{a['user']['id']}", body={"name": "A2"}, token=a["access_token"])
        self.assertEqual(r.status, 200, r)
        r = self.req("PATCH", f"/api/v1/users/{a['user']['id']}", body={"email": "x@example.com"}, token=a["access_token"])
        self.assertIn(("email", "read_only"), error_pairs(assert_problem(self, r, 422)))
        r = self.server.request("POST", "/api/v1/users", body={"email": "direct@example.com"})
        assert_problem(self, r, 405)
        self.assertIn("signup", r.json()["detail"])

    def test_jwks_lists_the_public_key(self):
        r = self.req("GET", "/api/v1/auth/jwks.json")
        self.assertEqual(r.status, 200, r)
        keys = r.json()["keys"]
        self.assertEqual(len(keys), 1)
        self.assertEqual({k: keys[0][k] for k in ("kty", "crv", "alg", "use")},
                         {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig"})
        self.assertNotIn("d", keys[0])  # never the private part


class Sessions(AuthServer):
    def test_the_full_story_of_two_users(self):
        ada, bob = self.sign_up(name="Ada"), self.sign_up(name="Bob")
        note = self.req("POST", "/api/v1/notes", body={"title": "Ada's", "owner": ada["user"]["id"]},
                        token=ada["access_token"])
        self.assertEqual(note.status, 201, note)
        nid = note.json()["id"]
        # Bob cannot see, change, delete or impersonate.
        self.assertEqual(self.req("GET", "/api/v1/notes", token=bob["access_token"]).json()["items"], [])
        self.assertEqual(self.req("GET", f"/api/v1/notes/{nid}", token=bob["access_token"]).status, 404)
        self.assertEqual(self.req("PATCH", f"/api/v1/notes/{nid}", body={"title": "mine"}, token=bob["access_token"]).status, 404)
        self.assertEqual(self.req("DELETE", f"/api/v1/notes/{nid}", token=bob["access_token"]).status, 404)
        assert_problem(self, self.req("POST", "/api/v1/notes", body={"title": "x", "owner": ada["user"]["id"]},
                                      token=bob["access_token"]), 422)  # Bob may not even view Ada's user record
        self.assertEqual([n["id"] for n in self.req("GET", "/api/v1/notes", token=ada["access_token"]).json()["items"]], [nid])
        # Refresh rotates; the old token presented again after the next rotation ends the session.
        r1 = self.refresh(ada["refresh_token"])
        self.assertEqual(r1.status, 200, r1)
        r2 = self.refresh(r1.json()["refresh_token"])
        self.assertEqual(r2.status, 200, r2)
        reused = metric(self.server, "slipway_auth_token_refreshes_total", '{outcome="reused"}')
        assert_problem(self, self.refresh(ada["refresh_token"]), 401)
        self.assertEqual(metric(self.server, "slipway_auth_token_refreshes_total", '{outcome="reused"}'), reused + 1)
        assert_problem(self, self.refresh(r2.json()["refresh_token"]), 401)  # the session is gone for everyone
        assert_problem(self, self.req("GET", "/api/v1/notes", token=r2.json()["access_token"]), 401)
        # Log in again, log out: that access token stops at once.
        again = self.login(ada["user"]["email"]).json()
        self.assertEqual(self.req("GET", "/api/v1/auth/me", token=again["access_token"]).status, 200)
        self.assertEqual(self.req("POST", "/api/v1/auth/logout", token=again["access_token"]).status, 204)
        assert_problem(self, self.req("GET", "/api/v1/auth/me", token=again["access_token"]), 401)
        assert_problem(self, self.refresh(again["refresh_token"]), 401)

    def test_two_tabs_refreshing_at_once_both_stay_signed_in(self):
        user = self.sign_up()
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: self.refresh(user["refresh_token"]), range(4)))
        self.assertEqual([a.status for a in answers], [200] * 4, answers)
        successors = {a.json()["refresh_token"] for a in answers}
        self.assertEqual(len(successors), 1)  # one rotation; the others got the same successor
        self.assertEqual(self.refresh(successors.pop()).status, 200)

    def test_password_change_ends_the_other_sessions_and_keeps_this_one(self):
        email = f"{uuid.uuid4().hex[:10]}@example.com"
        first = self.sign_up(email=email)
        second = self.login(email).json()
        r = self.req("POST", "/api/v1/auth/password", token=first["access_token"],
                     body={"current_password": "wrong password entirely", "new_password": "a new long passphrase"})
        assert_problem(self, r, 403)
        r = self.req("POST", "/api/v1/auth/password", token=first["access_token"],
                     body={"current_password": PASSWORD, "new_password": "a new long passphrase"})
        self.assertEqual(r.status, 204, r)
        assert_problem(self, self.req("GET", "/api/v1/auth/me", token=second["access_token"]), 401)
        assert_problem(self, self.refresh(second["refresh_token"]), 401)
        self.assertEqual(self.req("GET", "/api/v1/auth/me", token=first["access_token"]).status, 200)
        assert_problem(self, self.login(email), 401)
        self.assertEqual(self.login(email, "a new long passphrase").status, 200)
        r = self.req("POST", "/api/v1/auth/password", token=first["access_token"],
                     body={"current_password": "a new long passphrase", "new_password": "short"})
        self.assertIn(("new_password", "password_policy"), error_pairs(assert_problem(self, r, 422)))

    def test_sessions_are_listed_and_revoked_one_or_all_others(self):
        email = f"{uuid.uuid4().hex[:10]}@example.com"
        a = self.sign_up(email=email)
        b = self.login(email).json()
        c = self.login(email).json()
        listed = self.req("GET", "/api/v1/auth/sessions", token=a["access_token"])
        self.assertEqual(listed.status, 200, listed)
        items = listed.json()["items"]
        self.assertEqual(len(items), 3)
        self.assertEqual(sum(1 for s in items if s["current"]), 1)
        self.assertEqual(set(items[0]), {"id", "created", "last_used", "expires", "user_agent", "address", "current"})
        b_sid = next(s["id"] for s in items if not s["current"] and self.req("GET", "/api/v1/auth/me", token=b["access_token"]).json()["session_id"] == s["id"])
        self.assertEqual(self.req("DELETE", f"/api/v1/auth/sessions/{b_sid}", token=a["access_token"]).status, 204)
        assert_problem(self, self.req("GET", "/api/v1/auth/me", token=b["access_token"]), 401)
        assert_problem(self, self.req("DELETE", f"/api/v1/auth/sessions/{b_sid}", token=a["access_token"]), 404)
        other = self.sign_up()
        assert_problem(self, self.req("DELETE", f"/api/v1/auth/sessions/{b_sid}", token=other["access_token"]), 404)
        self.assertEqual(self.req("DELETE", "/api/v1/auth/sessions", token=a["access_token"]).status, 204)
        assert_problem(self, self.req("GET", "/api/v1/auth/me", token=c["access_token"]), 401)
        self.assertEqual(len(self.req("GET", "/api/v1/auth/sessions", token=a["access_token"]).json()["items"]), 1)

    def test_user_routes_need_a_signed_in_user(self):
        for method, path in (("GET", "/api/v1/auth/me"), ("POST", "/api/v1/auth/logout"),
                             ("GET", "/api/v1/auth/sessions"), ("POST", "/api/v1/auth/password")):
            with self.subTest(path):
                assert_problem(self, self.req(method, path), 401)
                assert_problem(self, self.server.request(method, path), 403)  # the admin token is no user

    def test_tokens_that_are_not_ours_are_401(self):
        user = self.sign_up()
        head, payload, sig = user["access_token"].split(".")
        def b64(obj):
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
        forged = [
            b64({"alg": "none", "typ": "JWT"}) + "." + payload + ".",
            head + "." + payload + "." + sig[:-2] + ("AA" if not sig.endswith("AA") else "BA"),
            head + "." + b64({"sub": user["user"]["id"], "exp": 99999999999}) + "." + sig,
            "x" * 9000, "a.b.c", "..", user["access_token"] + "x",
        ]
        for token in forged:
            with self.subTest(token=token[:30]):
                assert_problem(self, self.req("GET", "/api/v1/auth/me", token=token), 401)


class BruteForce(unittest.TestCase):
    def test_repeated_failures_get_429_alike_for_known_and_unknown_accounts_and_survive_a_restart(self):
        with tempfile.TemporaryDirectory(prefix="slipway-it-auth-throttle-") as tmp:
            data, env = notes_data(tmp)
            with notes_server(data, env) as s:
                def login(email, password="wrong password, surely"):
                    return s.request("POST", "/api/v1/auth/login", token=None,
                                     body={"email": email, "password": password})
                self.assertEqual(s.request("POST", "/api/v1/auth/signup", token=None,
                                           body={"email": "victim@example.com", "password": PASSWORD}).status, 201)
                def lock_for_a_while(email):
                    """Fails wrong logins until the account's lock is 8 s (5 free, then 1, 2, 4, 8 s): long enough
                    that the checks below run inside it however slow the machine (a lock starts when its attempt
                    does, before the hash)."""
                    statuses = [login(email).status for _ in range(5)]
                    self.assertEqual(statuses, [401] * 5, email)  # five free failures per account
                    failures = 5
                    while failures < 9:
                        r = login(email)
                        if r.status == 401:
                            failures += 1
                        else:
                            assert_problem(self, r, 429)
                            time.sleep(0.05)
                answers = {}
                for email in ("victim@example.com", "nobody@example.com"):
                    lock_for_a_while(email)
                    # Even the right password waits, and the answer is the same whether or not the account exists.
                    locked = login(email, PASSWORD)
                    body = assert_problem(self, locked, 429)
                    self.assertGreaterEqual(int(locked.header("Retry-After")), 1)
                    body.pop("request_id")
                    body["detail"] = re.sub(r"\d+ seconds?", "N seconds", body["detail"])
                    answers[email] = body
                self.assertEqual(answers["victim@example.com"], answers["nobody@example.com"])
                self.assertGreaterEqual(metric(s, "slipway_auth_logins_total", '{outcome="throttled"}'), 2)
                # Restart at once, inside the last account's 8 s lock: the lock holds across it.
            with notes_server(data, env) as s:
                r = s.request("POST", "/api/v1/auth/login", token=None,
                              body={"email": "nobody@example.com", "password": PASSWORD})
                assert_problem(self, r, 429)
                self.assertGreaterEqual(int(r.header("Retry-After")), 1)


class RestartKeepsRevocations(unittest.TestCase):
    def test_a_logged_out_access_token_stays_refused_after_a_restart(self):
        with tempfile.TemporaryDirectory(prefix="slipway-it-auth-restart-") as tmp:
            data, env = notes_data(tmp)
            with notes_server(data, env) as s:
                r = s.request("POST", "/api/v1/auth/signup", token=None,
                              body={"email": "r@example.com", "password": PASSWORD})
                token = r.json()["access_token"]
                self.assertEqual(s.request("POST", "/api/v1/auth/logout", token=token).status, 204)
            with notes_server(data, env) as s:
                assert_problem(self, s.request("GET", "/api/v1/auth/me", token=token), 401)
                self.assertEqual(s.request("POST", "/api/v1/auth/login", token=None,
                                           body={"email": "r@example.com", "password": PASSWORD}).status, 200)

    def test_production_without_signing_keys_refuses_to_start(self):
        with tempfile.TemporaryDirectory(prefix="slipway-it-auth-nokey-") as tmp:
            r = harness.run_cli("serve", "--config", NOTES, "--data", os.path.join(tmp, "data"),
                                "--listen", f"127.0.0.1:{harness.free_port()}",
                                env={"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN}, timeout=30)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("SLIPWAY_JWT_KEYS_FILE", r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
            self.assertFalse(os.path.exists(os.path.join(tmp, "data", "slipway.db")))
            bad = os.path.join(tmp, "bad.keys")
            with open(bad, "w") as f:
                f.write("not a key\n")
            r = harness.run_cli("serve", "--config", NOTES, "--data", os.path.join(tmp, "data"),
                                "--listen", f"127.0.0.1:{harness.free_port()}",
                                env={"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN, "SLIPWAY_JWT_KEYS_FILE": bad}, timeout=30)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("line 1", r.stderr)
            self.assertNotIn("not a key", r.stderr)

    def test_production_without_data_keys_refuses_to_start(self):
        with tempfile.TemporaryDirectory(prefix="slipway-it-auth-nodatakey-") as tmp:
            env = {"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN, "SLIPWAY_JWT_KEYS_FILE": key_file(tmp)}
            r = harness.run_cli("serve", "--config", NOTES, "--data", os.path.join(tmp, "data"),
                                "--listen", f"127.0.0.1:{harness.free_port()}", env=env, timeout=30)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("SLIPWAY_DATA_KEYS_FILE", r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
            self.assertFalse(os.path.exists(os.path.join(tmp, "data", "slipway.db")))
            for text, message in (("bm90IGEga2V5\n", "data key file line 1: not a data key"),
                                  ("# none\n", "data key file holds no key")):
                r = harness.run_cli("serve", "--config", NOTES, "--data", os.path.join(tmp, "data"),
                                    "--listen", f"127.0.0.1:{harness.free_port()}",
                                    env={**env, "SLIPWAY_DATA_KEYS": text}, timeout=30)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("SLIPWAY_DATA_KEYS: " + message, r.stderr)
                self.assertNotIn("bm90IGEga2V5", r.stderr)  # never the key text itself
            r = harness.run_cli("serve", "--config", NOTES, "--data", os.path.join(tmp, "data"),
                                "--listen", f"127.0.0.1:{harness.free_port()}",
                                env={**env, "SLIPWAY_DATA_KEYS": "x", "SLIPWAY_DATA_KEYS_FILE": "/nonexistent"},
                                timeout=30)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("set SLIPWAY_DATA_KEYS or SLIPWAY_DATA_KEYS_FILE, not both", r.stderr)


if __name__ == "__main__":
    harness.main()
