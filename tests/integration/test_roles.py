"""Role tests in rules and filters ('editor' in @auth.roles) through the real binary: a role rule admits by the
caller's roles and is never answered from a verdict cached for another caller; a filter's role test is plain
membership (the admin token holds the role admin, an anonymous caller none); an undeclared role is a 400 at its
position with a did-you-mean; the removed @auth.role says what replaces it."""

import shutil
import tempfile
import unittest
import uuid

import harness
from itutil import assert_problem, quote
from test_auth import PASSWORD, identity_env

CONCEPT = """
app: roles
collections:
  drafts:
    fields:
      title:     { type: text }
      published: { type: bool, default: false }
    rules:
      list: "published || 'editor' in @auth.roles"
      view: "published || 'editor' in @auth.roles"
  board:
    fields:
      title: { type: text }
    rules:
      list: "true"
      view: "true"
auth:
  roles: [editor, member]
"""


class Roles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="slipway-it-roles-")
        cls.server = harness.Server(config=harness.write_concept(cls.tmp, CONCEPT),
                                    env=identity_env(cls.tmp)).start()
        cls.addClassCleanup(cls.server.cleanup)  # also when setUpClass fails

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def req(self, *a, **kw):
        return self.server.request(*a, **kw)

    def create(self, collection, body):
        r = self.req("POST", f"/api/v1/{collection}", body=body)
        self.assertEqual(r.status, 201, r)
        return r.json()

    def ids(self, path, token="admin"):
        r = self.req("GET", path, token=token)
        self.assertEqual(r.status, 200, r)
        return {x["id"] for x in r.json()["items"]}

    def test_a_role_rule_admits_only_by_the_callers_roles(self):
        tag = uuid.uuid4().hex[:8]
        pub = self.create("drafts", {"title": f"pub {tag}", "published": True})
        draft = self.create("drafts", {"title": f"draft {tag}"})
        flt = "&filter=" + quote(f"title ~ '{tag}'")
        self.assertEqual(self.ids("/api/v1/drafts?limit=500" + flt, token=None), {pub["id"]})
        self.assertEqual(self.ids("/api/v1/drafts?limit=500" + flt), {pub["id"], draft["id"]})
        # The admin's read may fill the record cache; the anonymous caller must still get the rule's own answer.
        for _ in range(2):
            self.assertEqual(self.req("GET", f"/api/v1/drafts/{draft['id']}").status, 200)
            assert_problem(self, self.req("GET", f"/api/v1/drafts/{draft['id']}", token=None), 404)
            self.assertEqual(self.req("GET", f"/api/v1/drafts/{pub['id']}", token=None).status, 200)

    def user(self, roles):
        email = f"{uuid.uuid4().hex[:12]}@example.com"
        r = self.req("POST", "/api/v1/auth/signup", token=None, body={"email": email, "password": PASSWORD})
        self.assertEqual(r.status, 201, r)
        uid = r.json()["user"]["id"]
        self.assertEqual(self.req("PATCH", f"/api/v1/admin/users/{uid}", body={"roles": roles}).status, 200)
        r = self.req("POST", "/api/v1/auth/login", token=None, body={"email": email, "password": PASSWORD})
        self.assertEqual(r.status, 200, r)
        return r.json()["access_token"]

    def test_two_users_whose_roles_differ_never_share_a_cached_list_or_record(self):
        # The same query, the same record, alternating callers: each answer is the rule's own for that caller, never
        # one cached for the other (the list cache keys on rule_key; a role rule is never a row-only cache verdict).
        tag = uuid.uuid4().hex[:8]
        draft = self.create("drafts", {"title": f"secret {tag}"})
        editor, member = self.user(["editor"]), self.user(["member"])
        path = "/api/v1/drafts?limit=500&filter=" + quote(f"title ~ '{tag}'")
        for _ in range(3):
            self.assertEqual(self.ids(path, token=editor), {draft["id"]})
            self.assertEqual(self.ids(path, token=member), set())
            self.assertEqual(self.req("GET", f"/api/v1/drafts/{draft['id']}", token=editor).status, 200)
            assert_problem(self, self.req("GET", f"/api/v1/drafts/{draft['id']}", token=member), 404)
        for token in (member, editor):  # and the other order, from a cold start of each
            self.assertEqual(self.ids(path + "&count=true", token=token), {draft["id"]} if token == editor else set())

    def test_a_filters_role_test_is_membership(self):
        rec = self.create("board", {"title": "note"})
        admin_role = "/api/v1/board?limit=500&filter=" + quote("'admin' in @auth.roles")
        not_admin_role = "/api/v1/board?limit=500&filter=" + quote("!('admin' in @auth.roles)")
        editor_role = "/api/v1/board?limit=500&filter=" + quote("'editor' in @auth.roles")
        self.assertIn(rec["id"], self.ids(admin_role))
        self.assertEqual(self.ids(not_admin_role), set())
        self.assertEqual(self.ids(editor_role), set())  # the admin token holds only the role admin
        self.assertEqual(self.ids(admin_role, token=None), set())
        self.assertIn(rec["id"], self.ids(not_admin_role, token=None))

    def test_an_undeclared_role_is_a_400_at_the_role(self):
        expr = "title = 'x' || 'edtor' in @auth.roles"
        problem = assert_problem(self, self.req("GET", "/api/v1/board?filter=" + quote(expr)), 400, echo=expr)
        self.assertEqual(problem.get("parameter"), "filter")
        self.assertEqual(problem["position"], 15)
        self.assertIn("did you mean 'editor'?", problem["detail"])

    def test_a_field_left_of_auth_roles_is_a_400(self):
        expr = "title in @auth.roles"
        problem = assert_problem(self, self.req("GET", "/api/v1/board?filter=" + quote(expr)), 400, echo=expr)
        self.assertEqual(problem["position"], 0)
        self.assertIn("only a role name in quotes", problem["detail"])

    def test_the_single_valued_auth_role_is_a_400_that_shows_the_replacement(self):
        expr = "@auth.role = 'editor'"
        problem = assert_problem(self, self.req("GET", "/api/v1/board?filter=" + quote(expr)), 400, echo=expr)
        self.assertEqual(problem["position"], 0)
        self.assertTrue(problem["detail"].startswith("@auth.role is gone: test membership with 'editor' in @auth.roles"),
                        problem["detail"])


if __name__ == "__main__":
    unittest.main()
