"""Requests a proxy in front could read differently from us: ambiguous body framing, obs-folded headers, and an
empty or repeated Authorization header. Each is refused (400/401), never guessed at or treated as anonymous."""

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


if __name__ == "__main__":
    harness.main()
