"""The admin API on the notes example: users listed with their roles, given other roles (their tokens refresh into
the new ones), disabled and deleted (their tokens stop at once); API keys created (shown once), used, listed,
revoked. Every one of these writes is in the audit log, which still verifies."""

import os
import subprocess
import tempfile
import unittest
import uuid

import harness
from itutil import assert_problem, error_pairs
from test_auth import NOTES, PASSWORD, identity_env, notes_data, notes_server


class Admin(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="slipway-it-admin-")
        cls.env = identity_env(cls.tmp.name)
        cls.data = os.path.join(cls.tmp.name, "data")
        cls.server = harness.Server(config=NOTES, data_dir=cls.data, env=cls.env).start()
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.addClassCleanup(cls.server.cleanup)

    def req(self, *a, **kw):
        return self.server.request(*a, **kw)

    def sign_up(self):
        email = f"{uuid.uuid4().hex[:12]}@example.com"
        r = self.req("POST", "/api/v1/auth/signup", token=None, body={"email": email, "password": PASSWORD})
        self.assertEqual(r.status, 201, r)
        return r.json()

    def test_users_are_listed_with_roles_and_can_be_filtered(self):
        u = self.sign_up()
        r = self.req("GET", "/api/v1/admin/users?filter=" + f"email%20%3D%20%27{u['user']['email']}%27")
        self.assertEqual(r.status, 200, r)
        items = r.json()["items"]
        self.assertEqual(len(items), 1)
        self.assertEqual((items[0]["id"], items[0]["roles"], items[0]["disabled"]), (u["user"]["id"], ["member"], False))
        self.assertNotIn("password", r.body.decode())
        assert_problem(self, self.req("GET", "/api/v1/admin/users?bogus=1"), 400)

    def test_new_roles_reach_the_user_at_the_next_refresh_and_old_tokens_stop(self):
        u = self.sign_up()
        uid = u["user"]["id"]
        r = self.req("PATCH", f"/api/v1/admin/users/{uid}", body={"roles": ["editor", "member", "editor"]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["roles"], ["editor", "member"])
        assert_problem(self, self.req("GET", "/api/v1/auth/me", token=u["access_token"]), 401)
        fresh = self.req("POST", "/api/v1/auth/refresh", token=None, body={"refresh_token": u["refresh_token"]}).json()
        me = self.req("GET", "/api/v1/auth/me", token=fresh["access_token"])
        self.assertEqual(me.json()["roles"], ["editor", "member"])
        bad = self.req("PATCH", f"/api/v1/admin/users/{uid}", body={"roles": ["root"]})
        self.assertIn(("roles", "enum"), error_pairs(assert_problem(self, bad, 422)))
        bad = self.req("PATCH", f"/api/v1/admin/users/{uid}", body={"email": "x@example.com"})
        self.assertIn(("email", "unknown"), error_pairs(assert_problem(self, bad, 422)))
        assert_problem(self, self.req("PATCH", f"/api/v1/admin/users/{uuid.uuid4()}", body={"roles": []}), 404)

    def test_a_disabled_user_is_out_at_once_and_back_when_enabled(self):
        u = self.sign_up()
        uid, email = u["user"]["id"], u["user"]["email"]
        self.assertEqual(self.req("PATCH", f"/api/v1/admin/users/{uid}", body={"disabled": True}).json()["disabled"], True)
        assert_problem(self, self.req("GET", "/api/v1/auth/me", token=u["access_token"]), 401)
        assert_problem(self, self.req("POST", "/api/v1/auth/refresh", token=None,
                                      body={"refresh_token": u["refresh_token"]}), 401)
        login = self.req("POST", "/api/v1/auth/login", token=None, body={"email": email, "password": PASSWORD})
        self.assertEqual(assert_problem(self, login, 401)["detail"], "The e-mail address or the password is wrong.")
        self.req("PATCH", f"/api/v1/admin/users/{uid}", body={"disabled": False})
        self.assertEqual(self.req("POST", "/api/v1/auth/login", token=None,
                                  body={"email": email, "password": PASSWORD}).status, 200)

    def test_a_deleted_user_is_gone_with_its_sessions(self):
        u = self.sign_up()
        uid = u["user"]["id"]
        note = self.req("POST", "/api/v1/notes", token=u["access_token"], body={"title": "t", "owner": uid})
        self.assertEqual(note.status, 201, note)
        self.assertEqual(self.req("DELETE", f"/api/v1/admin/users/{uid}").status, 204)
        assert_problem(self, self.req("GET", "/api/v1/auth/me", token=u["access_token"]), 401)
        assert_problem(self, self.req("POST", "/api/v1/auth/refresh", token=None,
                                      body={"refresh_token": u["refresh_token"]}), 401)
        self.assertEqual(self.req("GET", f"/api/v1/notes/{note.json()['id']}").status, 404)  # cascaded
        assert_problem(self, self.req("DELETE", f"/api/v1/admin/users/{uid}"), 404)

    def test_api_keys_are_shown_once_used_listed_and_revoked(self):
        r = self.req("POST", "/api/v1/admin/api-keys", body={"name": "reporting", "roles": ["admin"]})
        self.assertEqual(r.status, 201, r)
        created = r.json()
        key = created["key"]
        self.assertRegex(key, r"^slw_[a-z2-7]{8}_[A-Za-z0-9]{43}$")
        self.assertEqual(created["prefix"], key[4:12])
        # The admin role: every rule admits it.
        listed = self.req("GET", "/api/v1/notes", token=key)
        self.assertEqual(listed.status, 200, listed)
        assert_problem(self, self.req("GET", "/api/v1/auth/me", token=key), 403)  # a key is not a signed-in user
        member = self.req("POST", "/api/v1/admin/api-keys", body={"name": "svc", "roles": ["member"]}).json()["key"]
        assert_problem(self, self.req("GET", "/api/v1/admin/api-keys", token=member), 403)
        keys = self.req("GET", "/api/v1/admin/api-keys").json()["items"]
        mine = next(k for k in keys if k["id"] == created["id"])
        self.assertEqual((mine["name"], mine["roles"], mine["revoked"]), ("reporting", ["admin"], None))
        self.assertNotIn(key, str(keys))
        self.assertNotIn(key[13:], self.req("GET", "/api/v1/admin/api-keys").body.decode())
        self.assertEqual(self.req("DELETE", f"/api/v1/admin/api-keys/{created['id']}").status, 204)
        assert_problem(self, self.req("GET", "/api/v1/notes", token=key), 401)
        assert_problem(self, self.req("DELETE", f"/api/v1/admin/api-keys/{created['id']}"), 404)
        for token in (key[:-1] + ("A" if key[-1] != "A" else "B"), "slw_" + "a" * 52, "slw_x"):
            assert_problem(self, self.req("GET", "/api/v1/notes", token=token), 401)
        for body, field in (({"roles": []}, "name"), ({"name": "x", "roles": ["nope"]}, "roles"),
                            ({"name": "x", "expires": "2001-01-01T00:00:00Z"}, "expires"), ({"name": "x", "id": "y"}, "id")):
            self.assertIn(field, {f for f, _ in error_pairs(assert_problem(self, self.req("POST", "/api/v1/admin/api-keys", body=body), 422))})

    def test_admin_routes_need_the_admin(self):
        u = self.sign_up()
        for method, path in (("GET", "/api/v1/admin/users"), ("GET", "/api/v1/admin/api-keys"),
                             ("POST", "/api/v1/admin/api-keys")):
            assert_problem(self, self.req(method, path, token=None), 401)
            assert_problem(self, self.req(method, path, token=u["access_token"]), 403)


class RestartKeepsUserRevocations(unittest.TestCase):
    def test_a_token_with_roles_taken_away_stays_refused_after_a_restart(self):
        with tempfile.TemporaryDirectory(prefix="slipway-it-admin-restart-") as tmp:
            data, env = notes_data(tmp)
            with notes_server(data, env) as s:
                u = s.request("POST", "/api/v1/auth/signup", token=None,
                              body={"email": "demoted@example.com", "password": PASSWORD}).json()
                uid = u["user"]["id"]
                self.assertEqual(s.request("PATCH", f"/api/v1/admin/users/{uid}", body={"roles": ["admin"]}).status, 200)
                admin = s.request("POST", "/api/v1/auth/login", token=None,
                                  body={"email": "demoted@example.com", "password": PASSWORD}).json()
                self.assertEqual(s.request("GET", "/api/v1/admin/users", token=admin["access_token"]).status, 200)
                self.assertEqual(s.request("PATCH", f"/api/v1/admin/users/{uid.upper()}", body={"roles": []}).status, 200)
                assert_problem(self, s.request("GET", "/api/v1/admin/users", token=admin["access_token"]), 401)
            with notes_server(data, env) as s:
                assert_problem(self, s.request("GET", "/api/v1/admin/users", token=admin["access_token"]), 401)
                fresh = s.request("POST", "/api/v1/auth/refresh", token=None,
                                  body={"refresh_token": admin["refresh_token"]}).json()
                assert_problem(self, s.request("GET", "/api/v1/admin/users", token=fresh["access_token"]), 403)


class AdminAuditAndUsage(unittest.TestCase):
    def test_admin_writes_and_first_key_use_are_audited_and_last_use_survives_a_restart(self):
        with tempfile.TemporaryDirectory(prefix="slipway-it-admin-audit-") as tmp:
            data, env = notes_data(tmp)
            with notes_server(data, env) as s:
                u = s.request("POST", "/api/v1/auth/signup", token=None,
                              body={"email": "a@example.com", "password": PASSWORD}).json()
                s.request("PATCH", f"/api/v1/admin/users/{u['user']['id']}", body={"roles": ["editor"], "disabled": True})
                key = s.request("POST", "/api/v1/admin/api-keys", body={"name": "k", "roles": ["admin"]}).json()
                for _ in range(3):
                    self.assertEqual(s.request("GET", "/api/v1/notes", token=key["key"]).status, 200)
                # A signed-in user's denial is chained (anonymous ones are only counted).
                v = s.request("POST", "/api/v1/auth/signup", token=None,
                              body={"email": "v@example.com", "password": PASSWORD}).json()
                self.assertEqual(s.request("GET", "/api/v1/admin/users", token=v["access_token"]).status, 403)
                s.request("DELETE", f"/api/v1/admin/api-keys/{key['id']}")
            actions = [r["action"] for r in harness.db_json(data, "SELECT action FROM _slipway_audit ORDER BY seq")]
            for a in ("auth.signup", "user.roles.set", "user.disable", "api_key.create", "api_key.first_use", "api_key.revoke",
                      "access.denied"):
                self.assertIn(a, actions)
            self.assertEqual(actions.count("api_key.first_use"), 1)
            r = harness.run_cli("audit", "verify", "--config", NOTES, "--data", data)
            self.assertEqual(r.returncode, 0, r.stderr)
            with notes_server(data, env) as s:
                keys = s.request("GET", "/api/v1/admin/api-keys").json()["items"]
                self.assertIsNotNone(keys[0]["last_used"])
                self.assertIsNotNone(keys[0]["revoked"])


if __name__ == "__main__":
    harness.main()
