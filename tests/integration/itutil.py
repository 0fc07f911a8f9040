"""Shared helpers for the integration tests (standard library only). Not a test itself: ctest runs test_*.py."""

import json
import re
import select
import socket
import threading
import time

import harness

UUID7_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
PROBLEM_TYPE_PREFIX = "https://slipway.dev/problems/"
# What a response must never contain: SQL text, engine names, internal paths, exception text.
LEAK_MARKERS = ("SELECT", "sqlite", "/work", ".cpp", "exception")


def assert_problem(tc, resp, status, slug=None, echo=None):
    """Asserts `resp` is an RFC 9457 problem with `status`; returns the parsed body. `echo`: the client's own input,
    which a detail may quote back (it is not a leak)."""
    tc.assertEqual(resp.status, status, resp)
    ctype = resp.header("Content-Type") or ""
    tc.assertTrue(ctype.startswith("application/problem+json"), f"Content-Type was {ctype!r}: {resp}")
    body = resp.json()
    for key in ("type", "title", "status", "detail", "request_id"):
        tc.assertIn(key, body, resp)
    tc.assertEqual(body["status"], status)
    tc.assertTrue(body["type"].startswith(PROBLEM_TYPE_PREFIX), body["type"])
    if slug:
        tc.assertEqual(body["type"], PROBLEM_TYPE_PREFIX + slug)
    tc.assertIsInstance(body["title"], str)
    tc.assertTrue(body["title"])
    tc.assertEqual(body["request_id"], resp.header("X-Request-Id"), "problem request_id = X-Request-Id header")
    assert_no_leak(tc, resp.body, echo)
    return body


def assert_no_leak(tc, raw, echo=None):
    text = raw.decode("utf-8", "replace") if isinstance(raw, (bytes, bytearray)) else str(raw)
    if echo:
        for form in (json.dumps(echo)[1:-1], echo):
            text = text.replace(form, "")
    for marker in LEAK_MARKERS:
        tc.assertNotIn(marker.lower(), text.lower(), f"response leaks {marker!r}: {text[:400]}")


def error_pairs(problem):
    return {(e["field"], e["code"]) for e in problem.get("errors", [])}


def parse_raw_response(raw):
    """Returns (status or None, headers dict lower-case, body bytes) for raw HTTP/1.1 response bytes."""
    if not raw:
        return None, {}, b""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    m = re.match(rb"^HTTP/1\.[01] (\d{3})", lines[0])
    if not m:
        return None, {}, raw
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower().decode("latin-1")] = v.strip().decode("latin-1")
    return int(m.group(1)), headers, body


def raw_exchange(port, data, timeout=10.0, chunks=()):
    """Sends `data` (then each of `chunks`, stopping when the server answers or closes) on a fresh connection and
    reads until the server closes or `timeout` passes. Returns (raw response bytes, closed_by_server)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    received = bytearray()
    closed = False
    deadline = time.monotonic() + timeout
    try:
        try:
            s.sendall(data)
            for chunk in chunks:
                r, _, _ = select.select([s], [], [], 0)
                if r:
                    break  # the server has answered (or closed): stop sending
                s.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        while time.monotonic() < deadline:
            r, _, _ = select.select([s], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                break
            try:
                got = s.recv(65536)
            except ConnectionResetError:
                closed = True
                break
            if not got:
                closed = True
                break
            received += got
            status, headers, body = parse_raw_response(bytes(received))
            if status is not None and "content-length" in headers and len(body) >= int(headers["content-length"]):
                # A complete response; see whether the server closes right after it.
                r, _, _ = select.select([s], [], [], 1.0)
                if r:
                    try:
                        closed = s.recv(1) == b""
                    except ConnectionResetError:
                        closed = True
                break
    finally:
        s.close()
    return bytes(received), closed


def admin_total(server, collection, filter_expr=None):
    """The number of records in `collection` the admin sees (optionally filtered), via count=true."""
    q = f"/api/v1/{collection}?count=true&limit=1"
    if filter_expr:
        q += "&filter=" + quote(filter_expr)
    r = server.request("GET", q)
    if r.status != 200:
        raise AssertionError(f"count of {collection} failed: {r}")
    return r.json()["total"]


def quote(s):
    from urllib.parse import quote as q
    return q(s, safe="")


def create_many(server, collection, bodies, threads=4):
    """Creates every body as admin over `threads` keep-alive connections; returns the created records in order."""
    results = [None] * len(bodies)
    errors = []

    def worker(start):
        conn = server.connection()
        try:
            for i in range(start, len(bodies), threads):
                try:
                    r = server.request("POST", f"/api/v1/{collection}", body=bodies[i], conn=conn)
                except (OSError, harness.http.client.HTTPException):
                    conn.close()
                    conn = server.connection()
                    r = server.request("POST", f"/api/v1/{collection}", body=bodies[i], conn=conn)
                if r.status != 201:
                    errors.append(r)
                    return
                results[i] = r.json()
        finally:
            conn.close()

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise AssertionError(f"create failed: {errors[0]}")
    return results


def json_body(obj):
    return json.dumps(obj).encode()
