"""Records API on the blog example: create, get, patch, delete, record shape, ETags, conditional requests,
Idempotency-Key, relations and cascades."""

import re
import unittest
import uuid

import harness
from itutil import TIME_RE, UUID7_RE, admin_total, assert_problem, error_pairs, quote


class RecordsApi(harness.ServerTestCase):
    def req(self, *a, **kw):
        return self.server.request(*a, **kw)

    def make_author(self, name="Ada", email=None):
        r = self.req("POST", "/api/v1/authors", body={"name": name, "email": email or f"{uuid.uuid4().hex}@example.com"})
        self.assertEqual(r.status, 201, r)
        return r.json()

    def make_post(self, **fields):
        body = {"title": "Hello", "published": True}
        body.update(fields)
        r = self.req("POST", "/api/v1/posts", body=body)
        self.assertEqual(r.status, 201, r)
        return r

    # --- create -------------------------------------------------------------------------------------------------

    def test_create_returns_201_with_location_etag_and_the_full_record(self):
        author = self.make_author()
        r = self.make_post(title="First", body="text", author=author["id"], tags=["intro", {"k": 1}])
        rec = r.json()
        self.assertRegex(rec["id"], UUID7_RE)
        self.assertEqual(r.header("Location"), f"/api/v1/posts/{rec['id']}")
        self.assertEqual(r.header("ETag"), '"1"')
        self.assertTrue((r.header("Content-Type") or "").startswith("application/json"))
        self.assertEqual(rec["version"], 1)
        self.assertRegex(rec["created"], TIME_RE)
        self.assertRegex(rec["updated"], TIME_RE)
        self.assertEqual(rec["created"], rec["updated"])
        self.assertEqual(rec["title"], "First")
        self.assertEqual(rec["body"], "text")
        self.assertEqual(rec["author"], author["id"])
        self.assertEqual(rec["tags"], ["intro", {"k": 1}])
        self.assertEqual(set(rec), {"id", "created", "updated", "version", "title", "body", "views", "published",
                                    "author", "tags", "status"})

    def test_create_applies_defaults_and_leaves_absent_fields_null(self):
        rec = self.make_post(title="Defaults").json()
        self.assertEqual(rec["views"], 0)
        self.assertIs(rec["published"], True)
        self.assertEqual(rec["status"], "draft")
        self.assertIsNone(rec["body"])
        self.assertIsNone(rec["author"])
        r = self.req("POST", "/api/v1/posts", body={"title": "unpublished"})
        self.assertIs(r.json()["published"], False)

    def test_every_create_stores_exactly_the_fields_sent(self):
        # Many creates on one keep-alive connection, as any HTTP client library does: each stored record must hold
        # the body that was sent with it (a request body must never be lost or mixed up with another one's).
        conn = self.server.connection()
        try:
            for i in range(200):
                sent = {"title": f"exact {i}", "body": f"body {i}", "views": i, "published": i % 2 == 0,
                        "tags": [i, "t"], "status": "live"}
                r = self.req("POST", "/api/v1/posts", body=sent, conn=conn)
                self.assertEqual(r.status, 201, (i, r))
                got = self.req("GET", r.header("Location"), conn=conn).json()
                self.assertEqual({k: got[k] for k in sent}, sent, i)
        finally:
            conn.close()

    def test_location_of_a_created_record_serves_the_same_record(self):
        r = self.make_post(title="Located")
        got = self.req("GET", r.header("Location"))
        self.assertEqual(got.status, 200, got)
        self.assertEqual(got.json(), r.json())
        self.assertEqual(got.header("ETag"), '"1"')

    def test_ids_are_unique_and_sortable_in_creation_order(self):
        ids = [self.make_post(title=f"order {i}").json()["id"] for i in range(5)]
        self.assertEqual(len(set(ids)), 5)
        self.assertEqual(ids, sorted(ids))

    def test_created_timestamps_are_utc_milliseconds(self):
        rec = self.make_post(title="time").json()
        self.assertTrue(rec["created"].endswith("Z"))
        self.assertRegex(rec["created"], TIME_RE)

    def test_record_id_lookup_is_case_insensitive(self):
        rec = self.make_post(title="Upper").json()
        r = self.req("GET", f"/api/v1/posts/{rec['id'].upper()}")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["id"], rec["id"])

    # --- get ----------------------------------------------------------------------------------------------------

    def test_get_missing_record_is_404_problem(self):
        r = self.req("GET", f"/api/v1/posts/{uuid.uuid4()}")
        assert_problem(self, r, 404, "not-found")

    def test_get_with_a_non_uuid_id_is_404(self):
        assert_problem(self, self.req("GET", "/api/v1/posts/not-an-id"), 404)

    def test_get_in_unknown_collection_is_404(self):
        assert_problem(self, self.req("GET", f"/api/v1/nope/{uuid.uuid4()}"), 404)
        assert_problem(self, self.req("GET", "/api/v1/nope"), 404)

    def test_create_in_unknown_collection_is_404(self):
        assert_problem(self, self.req("POST", "/api/v1/nope", body={"title": "x"}), 404, "not-found")
        assert_problem(self, self.req("PATCH", f"/api/v1/nope/{uuid.uuid4()}", body={"title": "x"}), 404)
        assert_problem(self, self.req("DELETE", f"/api/v1/nope/{uuid.uuid4()}"), 404)

    def test_get_with_fields_projects_the_record(self):
        rec = self.make_post(title="Projected", views=3).json()
        r = self.req("GET", f"/api/v1/posts/{rec['id']}?fields=id,title")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"id": rec["id"], "title": "Projected"})

    def test_get_with_unknown_query_parameter_is_400(self):
        rec = self.make_post(title="q").json()
        body = assert_problem(self, self.req("GET", f"/api/v1/posts/{rec['id']}?filter=views>1"), 400)
        self.assertIn("filter", body["detail"])

    def test_get_with_expand_embeds_the_author_and_extends_the_etag(self):
        author = self.make_author(name="Grace")
        rec = self.make_post(title="Expanded", author=author["id"]).json()
        r = self.req("GET", f"/api/v1/posts/{rec['id']}?expand=author")
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["author"], author["id"])
        self.assertEqual(body["expand"]["author"]["id"], author["id"])
        self.assertEqual(body["expand"]["author"]["name"], "Grace")
        self.assertRegex(r.header("ETag"), r'^"1-[0-9a-f]+"$')
        # The expanded ETag changes when the embedded author changes.
        self.assertEqual(self.req("PATCH", f"/api/v1/authors/{author['id']}", body={"name": "Grace H"}).status, 200)
        r2 = self.req("GET", f"/api/v1/posts/{rec['id']}?expand=author")
        self.assertNotEqual(r2.header("ETag"), r.header("ETag"))
        self.assertEqual(r2.json()["expand"]["author"]["name"], "Grace H")

    def test_expand_of_a_non_relation_field_is_400(self):
        rec = self.make_post(title="bad expand").json()
        body = assert_problem(self, self.req("GET", f"/api/v1/posts/{rec['id']}?expand=title"), 400)
        self.assertEqual(body.get("parameter"), "expand")

    # --- conditional requests -----------------------------------------------------------------------------------

    def test_if_none_match_with_current_etag_is_304_without_body(self):
        rec = self.make_post(title="cached").json()
        r = self.req("GET", f"/api/v1/posts/{rec['id']}", headers={"If-None-Match": '"1"'})
        self.assertEqual(r.status, 304, r)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("ETag"), '"1"')

    def test_if_none_match_with_weak_or_listed_etag_is_304(self):
        rec = self.make_post(title="cached weak").json()
        for inm in ('W/"1"', '"7", "1"', "*"):
            r = self.req("GET", f"/api/v1/posts/{rec['id']}", headers={"If-None-Match": inm})
            self.assertEqual(r.status, 304, (inm, r))

    def test_if_none_match_with_old_etag_is_200(self):
        rec = self.make_post(title="changed").json()
        self.assertEqual(self.req("PATCH", f"/api/v1/posts/{rec['id']}", body={"views": 1}).status, 200)
        r = self.req("GET", f"/api/v1/posts/{rec['id']}", headers={"If-None-Match": '"1"'})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("ETag"), '"2"')

    def test_patch_increments_version_and_updated_but_keeps_created(self):
        rec = self.make_post(title="to patch").json()
        r = self.req("PATCH", f"/api/v1/posts/{rec['id']}", body={"views": 5, "status": "live"})
        self.assertEqual(r.status, 200, r)
        out = r.json()
        self.assertEqual(out["version"], 2)
        self.assertEqual(r.header("ETag"), '"2"')
        self.assertEqual(out["views"], 5)
        self.assertEqual(out["status"], "live")
        self.assertEqual(out["title"], "to patch")
        self.assertEqual(out["created"], rec["created"])
        self.assertGreaterEqual(out["updated"], rec["updated"])
        self.assertEqual(self.req("GET", f"/api/v1/posts/{rec['id']}").json(), out)

    def test_patch_with_current_if_match_succeeds(self):
        rec = self.make_post(title="if-match").json()
        r = self.req("PATCH", f"/api/v1/posts/{rec['id']}", body={"views": 1}, headers={"If-Match": '"1"'})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["version"], 2)

    def test_patch_with_stale_if_match_is_412_and_changes_nothing(self):
        rec = self.make_post(title="lost update").json()
        self.assertEqual(self.req("PATCH", f"/api/v1/posts/{rec['id']}", body={"views": 1},
                                  headers={"If-Match": '"1"'}).status, 200)
        r = self.req("PATCH", f"/api/v1/posts/{rec['id']}", body={"views": 2}, headers={"If-Match": '"1"'})
        self.assertEqual(assert_problem(self, r, 412, "precondition-failed")["detail"],
                         "The record was changed by someone else since version 1: the record is at version 2.")
        # Issue 6 item 14: a version newer than the record's is not "changed by someone else".
        r = self.req("PATCH", f"/api/v1/posts/{rec['id']}", body={"views": 2}, headers={"If-Match": '"7"'})
        self.assertEqual(assert_problem(self, r, 412)["detail"],
                         "If-Match names version 7, which this record never had; the record is at version 2.")
        now = self.req("GET", f"/api/v1/posts/{rec['id']}").json()
        self.assertEqual(now["views"], 1)
        self.assertEqual(now["version"], 2)

    def test_an_if_match_that_cannot_match_whatever_its_form_is_412_and_changes_nothing(self):
        # RFC 9110 §13.1.1: If-Match uses the strong comparison, so a weak tag never matches; a malformed one names
        # no representation at all. Either way the precondition is false: 412, never 400.
        rec = self.make_post(title="bad if-match").json()
        for im in ("1", '"abc"', '"0"', '"', 'W/"1"', '"1" junk', "*, *", '"2", "3"'):
            with self.subTest(if_match=im):
                r = self.req("PATCH", f"/api/v1/posts/{rec['id']}", body={"views": 1}, headers={"If-Match": im})
                assert_problem(self, r, 412, "precondition-failed")
                r = self.req("DELETE", f"/api/v1/posts/{rec['id']}", headers={"If-Match": im})
                assert_problem(self, r, 412, "precondition-failed")
        self.assertEqual(self.req("GET", f"/api/v1/posts/{rec['id']}").json()["version"], 1)

    def test_if_match_star_matches_an_existing_record_and_a_list_matches_any_of_its_tags(self):
        rec = self.make_post(title="star if-match").json()
        r = self.req("PATCH", f"/api/v1/posts/{rec['id']}", body={"views": 1}, headers={"If-Match": "*"})
        self.assertEqual(r.status, 200, r)
        r = self.req("PATCH", f"/api/v1/posts/{rec['id']}", body={"views": 2}, headers={"If-Match": 'W/"2", "9", "2"'})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["version"], 3)
        # `*` on a record that does not exist: there is nothing to match, and the answer stays 404.
        assert_problem(self, self.req("PATCH", f"/api/v1/posts/{uuid.uuid4()}", body={"views": 1},
                                      headers={"If-Match": "*"}), 404)
        self.assertEqual(self.req("DELETE", f"/api/v1/posts/{rec['id']}", headers={"If-Match": "*"}).status, 204)

    def test_patch_of_missing_record_is_404(self):
        assert_problem(self, self.req("PATCH", f"/api/v1/posts/{uuid.uuid4()}", body={"views": 1}), 404)

    def test_patch_of_system_fields_is_422_read_only(self):
        rec = self.make_post(title="sys").json()
        r = self.req("PATCH", f"/api/v1/posts/{rec['id']}", body={"id": str(uuid.uuid4()), "version": 9})
        body = assert_problem(self, r, 422)
        self.assertIn(("id", "read_only"), error_pairs(body))
        self.assertIn(("version", "read_only"), error_pairs(body))

    def test_patch_cannot_clear_a_required_field(self):
        rec = self.make_post(title="required").json()
        for value in (None, ""):
            body = assert_problem(self, self.req("PATCH", f"/api/v1/posts/{rec['id']}", body={"title": value}), 422)
            self.assertIn(("title", "required"), error_pairs(body))
        self.assertEqual(self.req("GET", f"/api/v1/posts/{rec['id']}").json()["title"], "required")

    def test_delete_is_204_then_the_record_is_gone(self):
        rec = self.make_post(title="to delete").json()
        r = self.req("DELETE", f"/api/v1/posts/{rec['id']}")
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, b"")
        assert_problem(self, self.req("GET", f"/api/v1/posts/{rec['id']}"), 404)
        assert_problem(self, self.req("DELETE", f"/api/v1/posts/{rec['id']}"), 404)

    def test_delete_with_stale_if_match_is_412_and_keeps_the_record(self):
        rec = self.make_post(title="keep me").json()
        self.assertEqual(self.req("PATCH", f"/api/v1/posts/{rec['id']}", body={"views": 1}).status, 200)
        assert_problem(self, self.req("DELETE", f"/api/v1/posts/{rec['id']}", headers={"If-Match": '"1"'}), 412)
        self.assertEqual(self.req("GET", f"/api/v1/posts/{rec['id']}").status, 200)
        self.assertEqual(self.req("DELETE", f"/api/v1/posts/{rec['id']}", headers={"If-Match": '"2"'}).status, 204)

    def test_deleting_an_author_cascades_to_their_posts(self):
        author = self.make_author(name="Cascade")
        p1 = self.make_post(title="c1", author=author["id"]).json()
        p2 = self.make_post(title="c2", author=author["id"]).json()
        other = self.make_post(title="c3").json()
        self.assertEqual(self.req("DELETE", f"/api/v1/authors/{author['id']}").status, 204)
        self.assertEqual(self.req("GET", f"/api/v1/posts/{p1['id']}").status, 404)
        self.assertEqual(self.req("GET", f"/api/v1/posts/{p2['id']}").status, 404)
        self.assertEqual(self.req("GET", f"/api/v1/posts/{other['id']}").status, 200)

    # --- relations and uniqueness -------------------------------------------------------------------------------

    def test_relation_to_a_missing_record_is_422_relation(self):
        missing = "0190a000-0000-7000-8000-000000000000"
        body = assert_problem(self, self.req("POST", "/api/v1/posts", body={"title": "x", "author": missing}), 422)
        self.assertIn(("author", "relation"), error_pairs(body))
        self.assertEqual(admin_total(self.server, "posts", "title = 'x'"), 0)

    def test_relation_that_is_not_an_id_is_422_relation(self):
        body = assert_problem(self, self.req("POST", "/api/v1/posts", body={"title": "y", "author": "nope"}), 422)
        self.assertIn(("author", "relation"), error_pairs(body))

    def test_patch_relation_to_a_missing_record_is_422(self):
        rec = self.make_post(title="rel patch").json()
        r = self.req("PATCH", f"/api/v1/posts/{rec['id']}", body={"author": "0190a000-0000-7000-8000-000000000001"})
        self.assertIn(("author", "relation"), error_pairs(assert_problem(self, r, 422)))

    def test_duplicate_unique_email_is_409_and_not_stored(self):
        email = f"{uuid.uuid4().hex}@example.com"
        self.make_author(name="One", email=email)
        r = self.req("POST", "/api/v1/authors", body={"name": "Two", "email": email})
        p = assert_problem(self, r, 409, "conflict")
        # Issue 6 item 14: the 409 names the field whose value is taken.
        self.assertEqual(p["detail"], "Another record already has this value of 'email'.")
        self.assertEqual(p["errors"], [{"field": "email", "code": "unique", "message": "is already taken by another record"}])
        self.assertEqual(admin_total(self.server, "authors", f"email = '{email}'"), 1)

    def test_patch_into_a_unique_conflict_is_409(self):
        a = self.make_author(name="A")
        b = self.make_author(name="B")
        r = self.req("PATCH", f"/api/v1/authors/{b['id']}", body={"email": a["email"]})
        self.assertEqual(assert_problem(self, r, 409)["errors"][0]["field"], "email")
        self.assertEqual(self.req("GET", f"/api/v1/authors/{b['id']}").json()["email"], b["email"])

    # --- Idempotency-Key ----------------------------------------------------------------------------------------

    def test_idempotent_retry_returns_the_first_record_without_a_duplicate(self):
        key = "idem-" + uuid.uuid4().hex
        title = "idem " + key
        body = {"title": title, "views": 3}
        first = self.req("POST", "/api/v1/posts", body=body, headers={"Idempotency-Key": key})
        self.assertEqual(first.status, 201, first)
        self.assertIsNone(first.header("Idempotent-Replayed"))
        second = self.req("POST", "/api/v1/posts", body=body, headers={"Idempotency-Key": key})
        self.assertEqual(second.status, 201, second)
        self.assertEqual(second.header("Idempotent-Replayed"), "true")
        self.assertEqual(second.json()["id"], first.json()["id"])
        self.assertEqual(second.header("Location"), first.header("Location"))
        self.assertEqual(admin_total(self.server, "posts", f"title = '{title}'"), 1)

    def test_idempotency_key_reused_with_a_different_body_is_422(self):
        key = "idem-" + uuid.uuid4().hex
        self.assertEqual(self.req("POST", "/api/v1/posts", body={"title": "k1 " + key},
                                  headers={"Idempotency-Key": key}).status, 201)
        r = self.req("POST", "/api/v1/posts", body={"title": "k2 " + key}, headers={"Idempotency-Key": key})
        assert_problem(self, r, 422)
        self.assertEqual(admin_total(self.server, "posts", f"title = 'k2 {key}'"), 0)

    def test_different_idempotency_keys_create_different_records(self):
        tag = uuid.uuid4().hex
        ids = {self.req("POST", "/api/v1/posts", body={"title": "dk " + tag},
                        headers={"Idempotency-Key": f"{tag}-{i}"}).json()["id"] for i in range(2)}
        self.assertEqual(len(ids), 2)

    def test_invalid_idempotency_keys_are_400_and_create_nothing(self):
        tag = uuid.uuid4().hex
        for key in ("k" * 256, "has space", "tab\there"):
            r = self.req("POST", "/api/v1/posts", body={"title": "bad key " + tag}, headers={"Idempotency-Key": key})
            assert_problem(self, r, 400)
        self.assertEqual(admin_total(self.server, "posts", f"title = 'bad key {tag}'"), 0)

    def test_idempotency_key_of_255_chars_is_accepted(self):
        r = self.req("POST", "/api/v1/posts", body={"title": "long key"}, headers={"Idempotency-Key": "k" * 255})
        self.assertEqual(r.status, 201, r)

    # --- auth ---------------------------------------------------------------------------------------------------

    def test_wrong_token_is_401_with_www_authenticate(self):
        for token in ("wrong-token-0123456789abcdef0123456789", harness.ADMIN_TOKEN + "x", "x"):
            r = self.req("GET", "/api/v1/authors", token=token)
            assert_problem(self, r, 401, "unauthorized")
            self.assertEqual(r.header("WWW-Authenticate"), "Bearer")

    def test_non_bearer_authorization_is_401(self):
        r = self.req("GET", "/api/v1/authors", token=None, headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
        assert_problem(self, r, 401)

    def test_anonymous_may_not_create_update_or_delete_posts(self):
        rec = self.make_post(title="anon").json()
        assert_problem(self, self.req("POST", "/api/v1/posts", body={"title": "anon"}, token=None), 403, "forbidden")
        assert_problem(self, self.req("PATCH", f"/api/v1/posts/{rec['id']}", body={"views": 9}, token=None), 403)
        assert_problem(self, self.req("DELETE", f"/api/v1/posts/{rec['id']}", token=None), 403)
        self.assertEqual(self.req("GET", f"/api/v1/posts/{rec['id']}").json()["version"], 1)

    def test_anonymous_sees_published_posts_only(self):
        pub = self.make_post(title="visible", published=True).json()
        draft = self.make_post(title="invisible", published=False).json()
        self.assertEqual(self.req("GET", f"/api/v1/posts/{pub['id']}", token=None).status, 200)
        assert_problem(self, self.req("GET", f"/api/v1/posts/{draft['id']}", token=None), 404)
        self.assertEqual(self.req("GET", f"/api/v1/posts/{draft['id']}").status, 200)
        r = self.req("GET", "/api/v1/posts?limit=500&filter=" + quote("title ~ 'visible'"), token=None)
        titles = {p["title"] for p in r.json()["items"]}
        self.assertIn("visible", titles)
        self.assertNotIn("invisible", titles)


if __name__ == "__main__":
    harness.main()
