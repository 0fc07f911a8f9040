"""Requests a proxy in front could read differently from us: ambiguous body framing, obs-folded headers, and an
empty or repeated Authorization header. Each is refused (400/401), never guessed at or treated as anonymous. And the
RFC 9110 answers for what the server does not do: 414 for a target too long, 405/501 with Allow for methods,
OPTIONS on a route and on the server as a whole."""

import unittest

import harness
from itutil import assert_problem, parse_raw_response, raw_exchange

TOKEN = harness.ADMIN_TOKEN


def raw(server, text):
    """Sends `text` on a fresh connection; returns (status, headers, body, closed_by_server)."""
    data, closed = raw_exchange(server.port, text.encode(), timeout=5.0)
    status, headers, body = parse_raw_response(data)
    return status, headers, body, closed


class Framing(harness.ServerTestCase):
    def test_transfer_encoding_other_than_chunked_is_400_and_closes(self):
        # Behind a proxy that frames by Content-Length, the bytes after the five would be a second request of ours.
        # Framed by its Content-Length, this body is a valid record (it used to be created: 201).
        body_json = '{"title":"framed by length"}'
        smuggled = "GET /api/v1/posts HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        for coding in ("xchunked", "identity", "gzip, chunked"):
            status, headers, body, closed = raw(self.server, (
                f"POST /api/v1/posts HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
                f"Content-Type: application/json\r\nTransfer-Encoding: {coding}\r\n"
                f"Content-Length: {len(body_json)}\r\n\r\n{body_json}{smuggled}"))
            self.assertEqual(status, 400, (coding, body))
            # Closed right after the one answer (raw_exchange reads EOF, not a second response's bytes).
            self.assertTrue(closed, coding)
            self.assertEqual(len(body), int(headers["content-length"]), coding)
        r = self.server.request("GET", "/api/v1/posts?count=true&filter=" + "title%20%3D%20'framed%20by%20length'")
        self.assertEqual(r.json()["total"], 0, "a request with ambiguous framing was acted on")

    def test_both_transfer_encoding_and_content_length_is_400(self):
        status, _, _, closed = raw(self.server, (
            f"POST /api/v1/posts HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 20\r\n\r\n"
            '10\r\n{"title":"smug"}\r\n0\r\n\r\n'))
        self.assertEqual(status, 400)
        self.assertTrue(closed)

    def test_obs_fold_is_400(self):
        status, _, _, closed = raw(self.server, (
            "GET /api/v1/posts HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer\r\n " + TOKEN + "\r\n\r\n"))
        self.assertEqual(status, 400)
        self.assertTrue(closed)

    def test_chunked_still_works(self):
        body = '{"title":"chunked ok"}'
        status, _, resp, _ = raw(self.server, (
            f"POST /api/v1/posts HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            f"{len(body):x}\r\n{body}\r\n0\r\n\r\n"))
        self.assertEqual(status, 201, resp)


class AuthorizationHeader(harness.ServerTestCase):
    def test_empty_authorization_is_401_not_anonymous(self):
        # posts lets anonymous callers list published posts: an empty header must not fall back to that.
        for value in ("", "   "):
            status, headers, body, _ = raw(self.server, (
                f"GET /api/v1/posts HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization:{value}\r\nConnection: close\r\n\r\n"))
            self.assertEqual(status, 401, (value, body))
            self.assertEqual(headers.get("www-authenticate"), "Bearer")

    def test_repeated_authorization_is_400_even_when_both_are_valid(self):
        for second in (f"Bearer {TOKEN}", "Bearer not-the-token-not-the-token-not-the-token", ""):
            status, _, body, _ = raw(self.server, (
                f"GET /api/v1/posts HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
                f"Authorization: {second}\r\nConnection: close\r\n\r\n"))
            self.assertEqual(status, 400, (second, body))
            self.assertIn(b"Authorization", body)

    def test_one_valid_token_is_the_admin_and_no_header_is_anonymous(self):
        author = {"name": "Once", "email": "once@example.com"}
        self.assertEqual(self.server.request("POST", "/api/v1/authors", body=author).status, 201)
        assert_problem(self, self.server.request("POST", "/api/v1/authors", body=author, token=None), 403)
        self.assertEqual(self.server.request("GET", "/api/v1/posts", token=None).status, 200)


class Conformance(harness.ServerTestCase):
    def test_an_over_long_request_target_is_414_not_431(self):
        for size in (9 * 1024, 20 * 1024, 100 * 1024):  # past the 8 KiB target limit; the last two past 16 KiB
            with self.subTest(size=size):
                status, headers, body, closed = raw(self.server, (
                    "GET /api/v1/posts?filter=" + "a" * size + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
                self.assertEqual(status, 414, body[:200])
                self.assertIn(b"uri-too-long", body)
                self.assertTrue(closed)
        # Headers past the header limit with a short target are still 431.
        status, _, _, _ = raw(self.server, "GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + "b" * 20000 +
                              "\r\n\r\n")
        self.assertEqual(status, 431)

    def test_a_method_a_route_does_not_serve_is_405_with_allow(self):
        for method in ("PUT", "TRACE"):
            with self.subTest(method=method):
                status, headers, body, _ = raw(self.server, f"{method} /api/v1/posts HTTP/1.1\r\nHost: x\r\n"
                                               f"Authorization: Bearer {TOKEN}\r\n\r\n")
                self.assertEqual(status, 405, body)
                self.assertEqual(headers.get("allow"), "GET, HEAD, POST, OPTIONS")
        r = self.server.request("DELETE", "/livez", token=None)
        self.assertEqual(r.status, 405)
        self.assertEqual(r.header("Allow"), "GET, HEAD, OPTIONS")

    def test_an_unknown_method_is_501_with_what_the_server_implements(self):
        for line in ("BREW /api/v1/posts", "PROPFIND /api/v1/posts", "FOO /nowhere"):
            with self.subTest(line=line):
                status, headers, body, _ = raw(self.server, f"{line} HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertEqual(status, 501, body)
                self.assertEqual(headers.get("allow"), "GET, HEAD, POST, PATCH, DELETE, OPTIONS")
                self.assertIn(b"not-implemented", body)

    def test_options_answers_allow_for_a_route_and_for_the_server(self):
        r = self.server.request("OPTIONS", "/api/v1/posts/0190f5a0-0000-7000-8000-000000000000", token=None)
        self.assertEqual(r.status, 204)
        self.assertEqual(r.header("Allow"), "GET, HEAD, PATCH, DELETE, OPTIONS")
        status, headers, _, _ = raw(self.server, "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(status, 204)
        self.assertEqual(headers.get("allow"), "GET, HEAD, POST, PATCH, DELETE, OPTIONS")
        self.assertEqual(self.server.request("OPTIONS", "/nowhere", token=None).status, 404)


if __name__ == "__main__":
    harness.main()
