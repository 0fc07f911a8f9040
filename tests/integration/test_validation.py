"""Request bodies: validation (422 listing every failing field), malformed bodies (400), content types (415),
body size (413) and the problem+json shape of every error."""

import json
import unittest
import uuid

import harness
from itutil import admin_total, assert_problem, error_pairs, quote


class BodyValidation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = __import__("tempfile").mkdtemp(prefix="slipway-it-validation-")
        cls.config = harness.write_concept(cls.tmp, """
app: types
collections:
  things:
    fields:
      name:    { type: text, required: true, min: 2, max: 10 }
      code:    { type: text, pattern: "^[A-Z]{3}$" }
      count:   { type: int, min: 0, max: 100 }
      ratio:   { type: float, min: 0, max: 1 }
      flag:    { type: bool }
      when:    { type: datetime }
      mail:    { type: email }
      site:    { type: url }
      kind:    { type: enum, values: [a, b] }
      data:    { type: json }
      serial:  { type: text, immutable: true }
    rules:
      list: "true"
      view: "true"
""")
        cls.server = harness.Server(config=cls.config).start()
        cls.addClassCleanup(cls.server.cleanup)  # also when setUpClass fails

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        __import__("shutil").rmtree(cls.tmp, ignore_errors=True)

    def post(self, body=None, **kw):
        return self.server.request("POST", "/api/v1/things", body=body, **kw)

    def test_valid_values_of_every_type_round_trip(self):
        body = {"name": "ok", "code": "ABC", "count": 7, "ratio": 0.5, "flag": True, "when": "2026-01-31T12:00:00Z",
                "mail": "a@example.com", "site": "https://example.com/x", "kind": "b", "data": {"n": [1, 2]},
                "serial": "S1"}
        r = self.post(body)
        self.assertEqual(r.status, 201, r)
        rec = r.json()
        for k, v in body.items():
            if k != "when":
                self.assertEqual(rec[k], v, k)
        self.assertEqual(rec["when"], "2026-01-31T12:00:00.000Z")

    def test_every_failing_field_is_listed_in_one_422(self):
        before = admin_total(self.server, "things")
        body = {"name": "x" * 11, "code": "abc", "count": -1, "ratio": 2, "flag": "yes", "when": "yesterday",
                "mail": "not-mail", "site": "ftp://x", "kind": "c", "bogus": 1, "id": "x"}
        problem = assert_problem(self, self.post(body), 422, "validation-failed")
        self.assertEqual(error_pairs(problem), {
            ("name", "max"), ("code", "pattern"), ("count", "min"), ("ratio", "max"), ("flag", "type"),
            ("when", "datetime"), ("mail", "email"), ("site", "url"), ("kind", "enum"), ("bogus", "unknown"),
            ("id", "read_only")})
        for e in problem["errors"]:
            self.assertIsInstance(e["message"], str)
            self.assertTrue(e["message"])
        self.assertEqual(admin_total(self.server, "things"), before)

    def test_missing_required_field_is_422_required(self):
        problem = assert_problem(self, self.post({}), 422)
        self.assertEqual(error_pairs(problem), {("name", "required")})
        problem = assert_problem(self, self.post({"name": None}), 422)
        self.assertEqual(error_pairs(problem), {("name", "required")})

    def test_text_length_limits_count_characters_not_bytes(self):
        self.assertEqual(self.post({"name": "é" * 10}).status, 201)
        self.assertIn(("name", "min"), error_pairs(assert_problem(self, self.post({"name": "é"}), 422)))

    def test_wrong_json_types_are_422_type(self):
        cases = [({"name": 5}, "name"), ({"name": "ok", "count": "1"}, "count"), ({"name": "ok", "count": 1.5}, "count"),
                 ({"name": "ok", "ratio": "x"}, "ratio"), ({"name": "ok", "flag": 1}, "flag"),
                 ({"name": "ok", "kind": 1}, "kind"), ({"name": ["ok"]}, "name")]
        for body, field in cases:
            problem = assert_problem(self, self.post(body), 422)
            self.assertIn((field, "type"), error_pairs(problem), body)

    def test_failed_validation_creates_nothing(self):
        before = admin_total(self.server, "things")
        assert_problem(self, self.post({"name": "ok", "count": -5}), 422)
        self.assertEqual(admin_total(self.server, "things"), before)

    def test_immutable_field_cannot_be_patched(self):
        rec = self.post({"name": "imm", "serial": "S9"}).json()
        r = self.server.request("PATCH", f"/api/v1/things/{rec['id']}", body={"serial": "S10"})
        self.assertIn(("serial", "immutable"), error_pairs(assert_problem(self, r, 422)))
        self.assertEqual(self.server.request("GET", f"/api/v1/things/{rec['id']}").json()["serial"], "S9")

    def test_patch_validates_like_create(self):
        rec = self.post({"name": "patchme"}).json()
        r = self.server.request("PATCH", f"/api/v1/things/{rec['id']}", body={"count": 101, "kind": "z"})
        self.assertEqual(error_pairs(assert_problem(self, r, 422)), {("count", "max"), ("kind", "enum")})

    def test_huge_numbers_are_rejected(self):
        for raw in (b'{"name":"ok","count":99999999999999999999}', b'{"name":"ok","count":1e400}',
                    b'{"name":"ok","ratio":1e400}', b'{"name":"ok","count":-99999999999999999999}'):
            r = self.server.request("POST", "/api/v1/things", raw_body=raw, headers={"Content-Type": "application/json"})
            self.assertIn(r.status, (400, 422), (raw, r))
            assert_problem(self, r, r.status)

    def test_non_finite_numbers_inside_json_fields_are_422_and_nothing_is_stored(self):
        # Issue 6 item 4: 1e999 overflows a double; stored, it was served as `Infinity` and broke every page.
        before = admin_total(self.server, "things")
        for raw, where in ((b'{"name":"ok","data":{"meta":{"x":1e999}}}', "meta.x"),
                           (b'{"name":"ok","data":[1,-1e999]}', "[1]"),
                           (b'{"name":"ok","data":1e999}', "the value")):
            r = self.server.request("POST", "/api/v1/things", raw_body=raw, headers={"Content-Type": "application/json"})
            p = assert_problem(self, r, 422)
            self.assertEqual(error_pairs(p), {("data", "range")}, raw)
            self.assertIn(where, p["errors"][0]["message"])
        self.assertEqual(admin_total(self.server, "things"), before)
        rec = self.post({"name": "okay"}).json()
        r = self.server.request("PATCH", f"/api/v1/things/{rec['id']}", raw_body=b'{"data":{"a":[{"b":-1e999}]}}',
                                headers={"Content-Type": "application/json"})
        self.assertEqual(error_pairs(assert_problem(self, r, 422)), {("data", "range")})
        # Large but finite numbers are kept, and every list page stays valid JSON (the harness parses strictly).
        r = self.server.request("POST", "/api/v1/things", raw_body=b'{"name":"ok","data":{"x":1e308}}',
                                headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.server.request("GET", "/api/v1/things?limit=500").status, 200)

    def test_datetimes_outside_years_0001_to_9999_utc_are_422(self):
        # Issue 6 item 5: offsets that push the instant out of range were stored as year -1 or 10000.
        for bad in ("0000-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+00:01",
                    "0000-06-01"):
            r = self.post({"name": "ok", "when": bad})
            self.assertEqual(error_pairs(assert_problem(self, r, 422)), {("when", "datetime")}, bad)
        # The extremes themselves are accepted, and what the server writes it accepts back (create, filter).
        for good, stored in (("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z"),
                             ("9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"),
                             ("0001-01-01T05:00:00+05:00", "0001-01-01T00:00:00.000Z")):
            r = self.post({"name": "ok", "when": good})
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.json()["when"], stored)
            self.assertEqual(self.post({"name": "ok", "when": stored}).status, 201)
            self.assertGreaterEqual(admin_total(self.server, "things", f"when = '{stored}'"), 2)
        r = self.server.request("GET", "/api/v1/things?filter=" + quote("when > '9999-12-31T23:59:59-23:59'"))
        self.assertEqual(assert_problem(self, r, 400)["parameter"], "filter")

    def test_nul_in_a_string_is_rejected(self):
        r = self.post({"name": "a\u0000b"})
        self.assertIn(r.status, (400, 422), r)
        assert_problem(self, r, r.status)

    # --- malformed bodies: 400 ----------------------------------------------------------------------------------

    def raw(self, data, ctype="application/json", method="POST", path="/api/v1/things"):
        headers = {"Content-Type": ctype} if ctype else {}
        return self.server.request(method, path, raw_body=data, headers=headers)

    def test_malformed_json_is_400(self):
        for data in (b'{"name": "x"', b"{name: 'x'}", b'{"name": "x"} trailing', b"", b'{"a":1,}'):
            assert_problem(self, self.raw(data), 400, "bad-request")

    def test_a_body_that_is_not_an_object_is_400(self):
        for data in (b"[1,2]", b'"text"', b"42", b"null", b"true"):
            assert_problem(self, self.raw(data), 400)

    def test_invalid_utf8_is_400(self):
        for data in (b'{"name": "\xff\xfe"}', b'{"name": "\xc0\xaf"}', b'{"name": "\xed\xa0\x80"}'):
            assert_problem(self, self.raw(data), 400)

    def test_nesting_deeper_than_32_is_400(self):
        deep = b'{"name":"ok","data":' + b"[" * 40 + b"]" * 40 + b"}"
        assert_problem(self, self.raw(deep), 400)
        shallow = b'{"name":"ok","data":' + b"[" * 20 + b"]" * 20 + b"}"
        self.assertEqual(self.raw(shallow).status, 201)

    def test_malformed_patch_body_is_400(self):
        rec = self.post({"name": "pb"}).json()
        assert_problem(self, self.raw(b"{oops", method="PATCH", path=f"/api/v1/things/{rec['id']}"), 400)

    # --- content type: 415 --------------------------------------------------------------------------------------

    def test_wrong_or_missing_content_type_is_415(self):
        body = json.dumps({"name": "ct"}).encode()
        for ctype in ("text/plain", "application/x-www-form-urlencoded", None, "application/jsonx"):
            assert_problem(self, self.raw(body, ctype=ctype), 415, "unsupported-media-type")

    def test_json_content_type_with_charset_is_accepted(self):
        r = self.raw(json.dumps({"name": "cs"}).encode(), ctype="application/json; charset=utf-8")
        self.assertEqual(r.status, 201, r)
        r = self.raw(json.dumps({"name": "cs2"}).encode(), ctype="Application/JSON")
        self.assertEqual(r.status, 201, r)

    def test_patch_with_wrong_content_type_is_415(self):
        rec = self.post({"name": "p415"}).json()
        r = self.raw(b'{"count":1}', ctype="text/plain", method="PATCH", path=f"/api/v1/things/{rec['id']}")
        assert_problem(self, r, 415)

    # --- size: 413 ----------------------------------------------------------------------------------------------

    def test_body_over_one_mebibyte_is_413_and_creates_nothing(self):
        before = admin_total(self.server, "things")
        data = json.dumps({"name": "big", "data": "x" * (1024 * 1024)}).encode()
        try:
            r = self.raw(data)
        except (BrokenPipeError, ConnectionResetError):
            self.fail("the server reset the connection instead of answering 413")
        assert_problem(self, r, 413, "payload-too-large")
        self.assertEqual(admin_total(self.server, "things"), before)

    def test_body_just_under_one_mebibyte_is_accepted(self):
        data = json.dumps({"name": "nearly", "data": "x" * (1024 * 1024 - 100)}).encode()
        self.assertLessEqual(len(data), 1024 * 1024)
        r = self.raw(data)
        self.assertEqual(r.status, 201, r)


class ProblemShape(harness.ServerTestCase):
    def test_every_error_status_is_a_problem_with_the_request_id(self):
        s = self.server
        cases = [
            (s.request("GET", "/nope"), 404),
            (s.request("GET", "/api/v1/posts?bogus=1"), 400),
            (s.request("GET", "/api/v1/posts", token="bad-token-bad-token-bad-token-bad"), 401),
            (s.request("POST", "/api/v1/posts", body={"title": "x"}, token=None), 403),
            (s.request("PUT", "/api/v1/posts"), 405),
            (s.request("POST", "/api/v1/posts", raw_body=b"x", headers={"Content-Type": "text/plain"}), 415),
            (s.request("POST", "/api/v1/posts", body={}), 422),
        ]
        for resp, status in cases:
            assert_problem(self, resp, status)

    def test_validation_problem_has_errors_array(self):
        r = self.server.request("POST", "/api/v1/posts", body={"views": -1})
        problem = assert_problem(self, r, 422)
        self.assertEqual(error_pairs(problem), {("title", "required"), ("views", "min")})
        self.assertEqual(problem["title"], "Validation Failed")

    def test_request_id_from_client_appears_in_the_problem(self):
        rid = "client-req." + uuid.uuid4().hex[:8]
        r = self.server.request("GET", "/api/v1/nope", headers={"X-Request-Id": rid})
        self.assertEqual(assert_problem(self, r, 404)["request_id"], rid)


if __name__ == "__main__":
    harness.main()
