"""Listing: filter, sort, limit, cursor, fields, expand, count, and the 400s for every malformed parameter."""

import unittest

import harness
from itutil import assert_problem, create_many, quote


class ListParameters(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.ada = s.request("POST", "/api/v1/authors", body={"name": "Ada", "email": "ada@example.com"}).json()
        cls.bob = s.request("POST", "/api/v1/authors", body={"name": "Bob", "email": "bob@example.com"}).json()
        bodies = []
        for i in range(30):
            bodies.append({"title": f"post {i:02d}", "views": i % 10, "published": i % 3 != 0,
                           "author": (cls.ada if i % 2 == 0 else cls.bob)["id"], "status": "live" if i < 5 else "draft",
                           "body": "100% sure_thing" if i == 7 else None})
        cls.posts = create_many(s, "posts", bodies, threads=1)  # one thread: creation order = title order


    def get(self, query, token="admin"):
        return self.server.request("GET", "/api/v1/posts" + query, token=token)

    def items(self, query, token="admin"):
        r = self.get(query, token)
        self.assertEqual(r.status, 200, r)
        return r.json()["items"]

    def titles(self, query, token="admin"):
        return [p["title"] for p in self.items(query, token)]

    def test_list_shape_and_default_limit_of_20(self):
        r = self.get("")
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(set(body), {"items", "next_cursor"})
        self.assertEqual(len(body["items"]), 20)
        self.assertIsInstance(body["next_cursor"], str)
        self.assertTrue((r.header("Content-Type") or "").startswith("application/json"))

    def test_last_page_has_null_next_cursor(self):
        body = self.get("?limit=500").json()
        self.assertEqual(len(body["items"]), 30)
        self.assertIsNone(body["next_cursor"])

    def test_count_true_adds_total(self):
        body = self.get("?count=true&limit=1&filter=" + quote("views >= 5")).json()
        self.assertEqual(body["total"], 15)
        self.assertEqual(len(body["items"]), 1)
        self.assertNotIn("total", self.get("?count=false").json())

    def test_count_must_be_true_or_false(self):
        self.assertEqual(assert_problem(self, self.get("?count=yes"), 400).get("parameter"), "count")

    def test_filter_with_comparisons_and_logic(self):
        got = self.titles("?limit=500&filter=" + quote("views > 7 && (status = 'live' || title ~ 'post 1%')"))
        self.assertEqual(sorted(got), ["post 18", "post 19"])
        got = self.titles("?limit=500&filter=" + quote("title in ('post 01', 'post 02') && !(views = 1)"))
        self.assertEqual(got, ["post 02"])

    def test_filter_like_escapes_wildcards(self):
        self.assertEqual(self.titles("?filter=" + quote("body ~ '100\\% sure_'")), ["post 07"])
        self.assertEqual(self.titles("?filter=" + quote("body ~ '1_0'")), [])

    def test_filter_on_null(self):
        self.assertEqual(self.titles("?filter=" + quote("body != null")), ["post 07"])
        self.assertEqual(len(self.items("?limit=500&filter=" + quote("body = null"))), 29)

    def test_filter_by_relation_path(self):
        got = self.items("?limit=500&filter=" + quote("author.name = 'Ada'"))
        self.assertEqual(len(got), 15)
        self.assertTrue(all(p["author"] == self.ada["id"] for p in got))

    def test_sort_descending_and_tie_break(self):
        got = self.items("?limit=500&sort=" + quote("-views,title"))
        keys = [(p["views"], p["title"]) for p in got]
        self.assertEqual(keys, sorted(keys, key=lambda k: (-k[0], k[1])))

    def test_default_sort_is_creation_order(self):
        self.assertEqual(self.titles("?limit=500"), [f"post {i:02d}" for i in range(30)])

    def test_sort_by_created_descending(self):
        created = [p["created"] for p in self.items("?limit=500&sort=-created")]
        self.assertEqual(len(created), 30)
        self.assertEqual(created, sorted(created, reverse=True))

    def test_limit_bounds(self):
        self.assertEqual(len(self.items("?limit=1")), 1)
        self.assertEqual(len(self.items("?limit=500")), 30)
        for bad in ("0", "501", "-1", "abc", "1.5", "", "99999999999999999999"):
            problem = assert_problem(self, self.get("?limit=" + bad), 400)
            self.assertEqual(problem.get("parameter"), "limit", bad)

    def test_cursor_pages_cover_everything_once(self):
        seen, cursor = [], None
        for _ in range(20):
            q = "?limit=7&sort=-views" + (f"&cursor={quote(cursor)}" if cursor else "")
            body = self.get(q).json()
            seen += [p["id"] for p in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        self.assertEqual(len(seen), 30)
        self.assertEqual(len(set(seen)), 30)

    def test_bad_cursor_is_400(self):
        for bad in ("garbage", "AAAA", "eyJ4IjoxfQ", "%00"):
            assert_problem(self, self.get("?cursor=" + bad), 400)

    def test_cursor_from_another_sort_is_400(self):
        cursor = self.get("?limit=2&sort=-views").json()["next_cursor"]
        r = self.get(f"?limit=2&sort=title&cursor={quote(cursor)}")
        assert_problem(self, r, 400)

    def test_fields_projection(self):
        got = self.items("?limit=3&fields=title,views")
        self.assertEqual([set(p) for p in got], [{"title", "views"}] * 3)
        got = self.items("?limit=1&fields=" + quote("id, created"))
        self.assertEqual(set(got[0]), {"id", "created"})

    def test_expand_embeds_authors(self):
        got = self.items("?limit=2&expand=author")
        for p in got:
            self.assertEqual(p["expand"]["author"]["id"], p["author"])
            self.assertIn(p["expand"]["author"]["name"], ("Ada", "Bob"))

    def test_anonymous_list_applies_the_list_rule(self):
        anon = self.items("?limit=500", token=None)
        self.assertEqual(len(anon), 20)
        self.assertTrue(all(p["published"] for p in anon))
        body = self.get("?count=true&limit=1", token=None).json()
        self.assertEqual(body["total"], 20)

    def test_anonymous_filter_cannot_reveal_rows_outside_the_rule(self):
        self.assertEqual(self.items("?filter=" + quote("published = false"), token=None), [])
        widened = self.items("?limit=500&filter=" + quote("published = false || true"), token=None)
        self.assertEqual(len(widened), 20)
        self.assertTrue(all(p["published"] for p in widened))

    # --- 400s with parameter and position -----------------------------------------------------------------------

    def test_filter_errors_name_the_parameter_and_position(self):
        cases = [("views > ", None), ("titel = 'x'", 0), ("views = 'x'", None), ("views >> 1", None),
                 ("title = 'unterminated", None), ("(views = 1", None), ("views = 1 && nope = 2", 13)]
        for expr, position in cases:
            problem = assert_problem(self, self.get("?filter=" + quote(expr)), 400)
            self.assertEqual(problem.get("parameter"), "filter", expr)
            self.assertIsInstance(problem.get("position"), int, (expr, problem))
            self.assertGreaterEqual(problem["position"], 0)
            self.assertLessEqual(problem["position"], len(expr))
            if position is not None:
                self.assertEqual(problem["position"], position, (expr, problem))

    def test_unknown_field_suggests_the_right_one(self):
        problem = assert_problem(self, self.get("?filter=" + quote("titel = 'x'")), 400)
        self.assertIn("title", problem["detail"])

    def test_sort_errors_name_the_parameter_and_position(self):
        for expr, position in (("nope", 0), ("title,-bogus", 7), ("title,,views", None), ("--views", None)):
            problem = assert_problem(self, self.get("?sort=" + quote(expr)), 400)
            self.assertEqual(problem.get("parameter"), "sort", expr)
            self.assertIsInstance(problem.get("position"), int, (expr, problem))
            if position is not None:
                self.assertEqual(problem["position"], position, (expr, problem))

    def test_fields_errors_name_the_parameter_and_position(self):
        for expr, position in (("title,bogus", 6), ("bogus", 0)):
            problem = assert_problem(self, self.get("?fields=" + quote(expr)), 400)
            self.assertEqual(problem.get("parameter"), "fields")
            self.assertEqual(problem.get("position"), position, (expr, problem))

    def test_sort_by_json_field_is_400(self):
        assert_problem(self, self.get("?sort=tags"), 400)

    def test_unknown_query_parameter_is_400(self):
        problem = assert_problem(self, self.get("?page=2"), 400)
        self.assertIn("page", problem["detail"])

    def test_repeated_query_parameter_is_400(self):
        problem = assert_problem(self, self.get("?limit=1&limit=2"), 400)
        self.assertIn("more than once", problem["detail"])

    def test_malformed_percent_escape_is_400(self):
        assert_problem(self, self.get("?filter=%zz"), 400)
        assert_problem(self, self.get("?filter=%ff%fe"), 400)  # not UTF-8

    def test_a_filter_over_the_expression_limit_is_400_and_over_the_target_limit_414(self):
        expr = "||".join(f"views={i}" for i in range(400))  # 4.4 KB: past the 4096-byte expression limit, 6.8 KB quoted
        assert_problem(self, self.get("?filter=" + quote(expr)), 400)
        expr = " || ".join(f"views = {i}" for i in range(20000))
        assert_problem(self, self.get("?filter=" + quote(expr)), 414)

    def test_deeply_nested_filter_is_400(self):
        expr = "(" * 600 + "views = 1" + ")" * 600  # far past the nesting limit, within the 8 KiB target
        assert_problem(self, self.get("?filter=" + quote(expr)), 400)

    def test_post_on_list_route_rejects_query_parameters(self):
        r = self.server.request("POST", "/api/v1/posts?limit=1", body={"title": "q"})
        assert_problem(self, r, 400)


if __name__ == "__main__":
    harness.main()
