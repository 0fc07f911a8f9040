"""Access rules per action, for anonymous callers and the admin: lists show only permitted rows, a hidden row is a
404, a denied create is a 403, an absent rule is admin-only, "true" is everyone; hidden fields; expand and relation
paths obey the target's view rule."""

import shutil
import tempfile
import unittest
import uuid

import harness
from itutil import admin_total, assert_problem, quote

CONCEPT = """
app: rules
collections:
  open:
    fields:
      title:  { type: text }
      secret: { type: text, hidden: true }
    rules:
      list: "true"
      view: "true"
      create: "true"
      update: "true"
      delete: "true"
  notes:
    fields:
      title:  { type: text }
      public: { type: bool, default: false }
    rules:
      list: "public = true"
      view: "public = true"
      create: "public = true"
      update: "public = true"
      delete: "public = true"
  locked:
    fields:
      title: { type: text }
  mine:
    fields:
      title: { type: text }
      owner: { type: text }
    rules:
      list: "owner = @auth.id"
      view: "owner = @auth.id"
  writers:
    fields:
      name:   { type: text }
      banned: { type: bool, default: false }
    rules:
      list: "banned = false"
      view: "banned = false"
  articles:
    fields:
      title:  { type: text }
      writer: { type: relation, to: writers, on_delete: set_null }
    rules:
      list: "writer.name = 'ann'"
      view: "true"
  letters:
    fields:
      title:  { type: text }
      writer: { type: relation, to: writers }
    rules:
      list: "true"
      view: "true"
      create: "true"
      update: "true"
"""


class Rules(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="slipway-it-rules-")
        cls.server = harness.Server(config=harness.write_concept(cls.tmp, CONCEPT)).start()
        cls.addClassCleanup(cls.server.cleanup)  # also when setUpClass fails

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def req(self, *a, **kw):
        return self.server.request(*a, **kw)

    def admin_create(self, collection, body):
        r = self.req("POST", f"/api/v1/{collection}", body=body)
        self.assertEqual(r.status, 201, r)
        return r.json()

    # --- "true": everyone ---------------------------------------------------------------------------------------

    def test_true_rules_let_anonymous_do_everything(self):
        r = self.req("POST", "/api/v1/open", body={"title": "anon"}, token=None)
        self.assertEqual(r.status, 201, r)
        rid = r.json()["id"]
        self.assertEqual(self.req("GET", f"/api/v1/open/{rid}", token=None).status, 200)
        self.assertIn(rid, [x["id"] for x in self.req("GET", "/api/v1/open?limit=500", token=None).json()["items"]])
        r = self.req("PATCH", f"/api/v1/open/{rid}", body={"title": "anon2"}, token=None)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["title"], "anon2")
        self.assertEqual(self.req("DELETE", f"/api/v1/open/{rid}", token=None).status, 204)
        self.assertEqual(self.req("GET", f"/api/v1/open/{rid}").status, 404)

    def test_idempotency_key_from_an_anonymous_caller_is_400_and_creates_nothing(self):
        # Keys are scoped to the caller; anonymous callers have no scope of their own to share safely.
        tag = uuid.uuid4().hex
        r = self.req("POST", "/api/v1/open", body={"title": "anon key " + tag}, headers={"Idempotency-Key": tag},
                     token=None)
        self.assertIn("authenticated", assert_problem(self, r, 400)["detail"])
        self.assertEqual(admin_total(self.server, "open", f"title = 'anon key {tag}'"), 0)

    # --- absent rules: admin only -------------------------------------------------------------------------------

    def test_absent_rules_are_403_for_anonymous_and_open_for_admin(self):
        rec = self.admin_create("locked", {"title": "admin only"})
        assert_problem(self, self.req("GET", "/api/v1/locked", token=None), 403, "forbidden")
        r = self.req("GET", f"/api/v1/locked/{rec['id']}", token=None)
        self.assertIn(r.status, (403, 404), r)
        assert_problem(self, r, r.status)
        assert_problem(self, self.req("POST", "/api/v1/locked", body={"title": "x"}, token=None), 403)
        r = self.req("PATCH", f"/api/v1/locked/{rec['id']}", body={"title": "x"}, token=None)
        self.assertIn(r.status, (403, 404), r)
        r = self.req("DELETE", f"/api/v1/locked/{rec['id']}", token=None)
        self.assertIn(r.status, (403, 404), r)
        got = self.req("GET", f"/api/v1/locked/{rec['id']}")
        self.assertEqual(got.status, 200)
        self.assertEqual(got.json()["title"], "admin only")
        self.assertEqual(got.json()["version"], 1)
        self.assertEqual(admin_total(self.server, "locked", "title = 'x'"), 0)

    def test_wrong_token_is_401_not_anonymous(self):
        r = self.req("GET", "/api/v1/open", token="not-the-admin-token-not-the-admin-token")
        assert_problem(self, r, 401)
        self.assertEqual(r.header("WWW-Authenticate"), "Bearer")

    # --- row rules ----------------------------------------------------------------------------------------------

    def test_list_shows_only_rows_the_rule_permits(self):
        tag = uuid.uuid4().hex[:8]
        pub = self.admin_create("notes", {"title": f"pub {tag}", "public": True})
        priv = self.admin_create("notes", {"title": f"priv {tag}", "public": False})
        anon = [x["id"] for x in self.req("GET", "/api/v1/notes?limit=500&filter=" + quote(f"title ~ '{tag}'"),
                                          token=None).json()["items"]]
        self.assertEqual(anon, [pub["id"]])
        admin = [x["id"] for x in self.req("GET", "/api/v1/notes?limit=500&filter=" + quote(f"title ~ '{tag}'"))
                 .json()["items"]]
        self.assertEqual(sorted(admin), sorted([pub["id"], priv["id"]]))

    def test_count_counts_only_permitted_rows(self):
        tag = uuid.uuid4().hex[:8]
        self.admin_create("notes", {"title": f"c {tag}", "public": True})
        self.admin_create("notes", {"title": f"c {tag}", "public": False})
        r = self.req("GET", "/api/v1/notes?count=true&filter=" + quote(f"title = 'c {tag}'"), token=None)
        self.assertEqual(r.json()["total"], 1)

    def test_view_update_delete_of_a_hidden_row_are_404(self):
        priv = self.admin_create("notes", {"title": "private", "public": False})
        assert_problem(self, self.req("GET", f"/api/v1/notes/{priv['id']}", token=None), 404)
        assert_problem(self, self.req("PATCH", f"/api/v1/notes/{priv['id']}", body={"title": "hacked"}, token=None), 404)
        assert_problem(self, self.req("DELETE", f"/api/v1/notes/{priv['id']}", token=None), 404)
        got = self.req("GET", f"/api/v1/notes/{priv['id']}").json()
        self.assertEqual(got["title"], "private")
        self.assertEqual(got["version"], 1)

    def test_hidden_row_404_is_indistinguishable_from_a_missing_row(self):
        priv = self.admin_create("notes", {"title": "private2", "public": False})
        hidden = self.req("GET", f"/api/v1/notes/{priv['id']}", token=None).json()
        missing = self.req("GET", f"/api/v1/notes/{uuid.uuid4()}", token=None).json()
        for key in ("type", "title", "status", "detail"):
            self.assertEqual(hidden[key], missing[key])

    def test_permitted_row_can_be_viewed_updated_and_deleted_by_anonymous(self):
        pub = self.admin_create("notes", {"title": "public", "public": True})
        self.assertEqual(self.req("GET", f"/api/v1/notes/{pub['id']}", token=None).status, 200)
        r = self.req("PATCH", f"/api/v1/notes/{pub['id']}", body={"title": "edited"}, token=None)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.req("DELETE", f"/api/v1/notes/{pub['id']}", token=None).status, 204)

    def test_create_is_checked_against_the_new_record(self):
        tag = uuid.uuid4().hex[:8]
        r = self.req("POST", "/api/v1/notes", body={"title": f"denied {tag}", "public": False}, token=None)
        assert_problem(self, r, 403, "forbidden")
        r = self.req("POST", "/api/v1/notes", body={"title": f"default {tag}"}, token=None)  # default public=false
        assert_problem(self, r, 403)
        self.assertEqual(admin_total(self.server, "notes", f"title ~ '{tag}'"), 0)
        r = self.req("POST", "/api/v1/notes", body={"title": f"allowed {tag}", "public": True}, token=None)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(admin_total(self.server, "notes", f"title ~ '{tag}'"), 1)

    def test_auth_id_rule_hides_everything_from_anonymous_but_not_from_admin(self):
        a = self.admin_create("mine", {"title": "admin's", "owner": "admin"})
        b = self.admin_create("mine", {"title": "nobody's"})
        r = self.req("GET", "/api/v1/mine?limit=500", token=None)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["items"], [])
        assert_problem(self, self.req("GET", f"/api/v1/mine/{a['id']}", token=None), 404)
        assert_problem(self, self.req("GET", f"/api/v1/mine/{b['id']}", token=None), 404)
        ids = {x["id"] for x in self.req("GET", "/api/v1/mine?limit=500").json()["items"]}
        self.assertTrue({a["id"], b["id"]} <= ids)

    # --- hidden fields ------------------------------------------------------------------------------------------

    def test_hidden_field_is_never_returned_even_to_the_admin(self):
        r = self.req("POST", "/api/v1/open", body={"title": "h", "secret": "s3cr3t-value"})
        self.assertEqual(r.status, 201, r)
        self.assertNotIn("secret", r.json())
        self.assertNotIn(b"s3cr3t-value", r.body)
        for token in ("admin", None):
            got = self.req("GET", f"/api/v1/open/{r.json()['id']}", token=token)
            self.assertNotIn("secret", got.json())
            lst = self.req("GET", "/api/v1/open?limit=500", token=token)
            self.assertNotIn(b"s3cr3t-value", lst.body)
        patched = self.req("PATCH", f"/api/v1/open/{r.json()['id']}", body={"title": "h2"})
        self.assertNotIn("secret", patched.json())

    def test_hidden_field_in_filter_sort_or_fields_is_unknown_to_anonymous(self):
        for q, param in (("filter=" + quote("secret = 'x'"), "filter"), ("sort=secret", "sort"),
                         ("fields=secret", "fields")):
            problem = assert_problem(self, self.req("GET", f"/api/v1/open?{q}", token=None), 400)
            self.assertEqual(problem.get("parameter"), param)

    def test_unknown_field_error_does_not_suggest_a_hidden_field(self):
        problem = assert_problem(self, self.req("GET", "/api/v1/open?filter=" + quote("secre = 'x'"), token=None), 400)
        self.assertNotIn("secret", problem["detail"])

    def test_admin_may_filter_by_a_hidden_field(self):
        tag = uuid.uuid4().hex
        rec = self.admin_create("open", {"title": "hf", "secret": tag})
        r = self.req("GET", "/api/v1/open?filter=" + quote(f"secret = '{tag}'"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual([x["id"] for x in r.json()["items"]], [rec["id"]])
        r = self.req("GET", "/api/v1/open?filter=" + quote(f"secret = '{tag}'"), token=None)
        self.assertEqual(r.status, 400)

    # --- relations obey the target's view rule ------------------------------------------------------------------

    def test_relation_path_and_expand_never_reach_rows_the_caller_may_not_view(self):
        ann = self.admin_create("writers", {"name": "ann"})
        bob = self.admin_create("writers", {"name": "bob"})
        banned_ann = self.admin_create("writers", {"name": "ann", "banned": True})
        a1 = self.admin_create("articles", {"title": "by ann", "writer": ann["id"]})
        self.admin_create("articles", {"title": "by bob", "writer": bob["id"]})
        a3 = self.admin_create("articles", {"title": "by banned ann", "writer": banned_ann["id"]})

        anon = self.req("GET", "/api/v1/articles?limit=500&expand=writer", token=None)
        self.assertEqual(anon.status, 200, anon)
        self.assertEqual([x["id"] for x in anon.json()["items"]], [a1["id"]])
        self.assertEqual(anon.json()["items"][0]["expand"]["writer"]["name"], "ann")

        admin = self.req("GET", "/api/v1/articles?limit=500")
        self.assertEqual(len(admin.json()["items"]), 3)

        # view is "true": the article itself is visible, but its banned writer is never embedded, and its id reads
        # as null (issue 6 item 7: an id would tell that a hidden record exists); the admin sees it.
        got = self.req("GET", f"/api/v1/articles/{a3['id']}?expand=writer", token=None)
        self.assertEqual(got.status, 200, got)
        self.assertIsNone(got.json()["writer"])
        self.assertNotIn(banned_ann["id"], got.body.decode())
        self.assertNotIn(banned_ann["id"], str(got.json().get("expand", {})))
        self.assertNotIn(b"banned", got.body.replace(b"by banned ann", b""))
        got = self.req("GET", f"/api/v1/articles/{a3['id']}?expand=writer")
        self.assertEqual(got.json()["expand"]["writer"]["id"], banned_ann["id"])

        self.assertEqual(self.req("GET", f"/api/v1/articles/{a3['id']}").json()["writer"], banned_ann["id"])

        # A filter through the relation path cannot match through a writer the caller may not view.
        r = self.req("GET", "/api/v1/writers?filter=" + quote("banned = true"), token=None)
        self.assertEqual(r.json()["items"], [])

    def test_a_relation_write_must_name_a_record_the_writer_may_view(self):
        # Issue 6 item 7: an anonymous create could point at a hidden row and learn it exists (201 versus 422).
        visible = self.admin_create("writers", {"name": "cat"})
        hidden = self.admin_create("writers", {"name": "dan", "banned": True})
        missing = str(uuid.uuid4())
        answers = {}
        for name, wid in (("hidden", hidden["id"]), ("missing", missing)):
            r = self.req("POST", "/api/v1/letters", body={"title": "x", "writer": wid}, token=None)
            p = assert_problem(self, r, 422)
            answers[name] = (p["detail"], p["errors"])
        self.assertEqual(answers["hidden"], answers["missing"])  # indistinguishable
        self.assertEqual(answers["hidden"][1], [{"field": "writer", "code": "relation",
                                                 "message": "no record in 'writers' has this id"}])
        ok = self.req("POST", "/api/v1/letters", body={"title": "x", "writer": visible["id"]}, token=None)
        self.assertEqual(ok.status, 201, ok)
        self.assertEqual(ok.json()["writer"], visible["id"])
        # The same on update; the admin may point anywhere.
        r = self.req("PATCH", f"/api/v1/letters/{ok.json()['id']}", body={"writer": hidden["id"]}, token=None)
        self.assertEqual(assert_problem(self, r, 422)["errors"][0]["code"], "relation")
        r = self.req("PATCH", f"/api/v1/letters/{ok.json()['id']}", body={"writer": hidden["id"]})
        self.assertEqual(r.status, 200, r)
        # Once pointing at a hidden writer, anonymous reads (record, list, and the PATCH answer) show null.
        rec = self.req("GET", f"/api/v1/letters/{ok.json()['id']}", token=None)
        self.assertIsNone(rec.json()["writer"])
        listed = self.req("GET", "/api/v1/letters?limit=500", token=None).json()["items"]
        self.assertNotIn(hidden["id"], str(listed))
        r = self.req("PATCH", f"/api/v1/letters/{ok.json()['id']}", body={"title": "y"}, token=None)
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.json()["writer"])
        # Nor can a filter or a sort probe the masked id (found in review): no range search, no null test, no order.
        for q in ("filter=" + quote(f"writer > '{hidden['id'][:8]}'"), "filter=" + quote("writer != null"),
                  "sort=writer"):
            r = self.req("GET", f"/api/v1/letters?{q}", token=None)
            self.assertEqual(assert_problem(self, r, 400)["parameter"], q.split("=")[0], q)
        # Through the relation the writer's view rule applies: the hidden writer matches nothing.
        r = self.req("GET", "/api/v1/letters?filter=" + quote(f"writer.id = '{hidden['id']}'"), token=None)
        self.assertEqual(r.json()["items"], [])
        r = self.req("GET", "/api/v1/letters?filter=" + quote(f"writer.id = '{visible['id']}'"), token=None)
        self.assertEqual(r.status, 200, r)
        # The admin may filter on the stored value.
        r = self.req("GET", "/api/v1/letters?filter=" + quote(f"writer = '{hidden['id']}'"))
        self.assertEqual([i["id"] for i in r.json()["items"]], [ok.json()["id"]])


if __name__ == "__main__":
    harness.main()
