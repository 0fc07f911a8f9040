"""Process lifecycle: graceful drain on SIGTERM (in-flight requests complete, /readyz stops answering 200, exit 0)
and durability across kill -9 during concurrent writes (every acknowledged create is there after a restart)."""

import json
import os
import shutil
import signal
import socket
import tempfile
import threading
import unittest

import harness
from itutil import parse_raw_response, quote

IN_FLIGHT = 20


def read_interim(sock, timeout=30):
    """Reads one interim response head (e.g. `HTTP/1.1 100 Continue`) byte by byte, so nothing after it is lost."""
    sock.settimeout(timeout)
    data = b""
    while not data.endswith(b"\r\n\r\n"):
        b = sock.recv(1)
        if not b:
            break
        data += b
    return data


def read_response(sock, timeout=30):
    sock.settimeout(timeout)
    data = b""
    while True:
        status, headers, body = parse_raw_response(data)
        if status is not None and "content-length" in headers and len(body) >= int(headers["content-length"]):
            return status, headers, body[:int(headers["content-length"])]
        chunk = sock.recv(65536)
        if not chunk:
            return status, headers, body
        data += chunk


class GracefulDrain(unittest.TestCase):
    def test_requests_in_flight_at_sigterm_all_complete_and_the_process_exits_0(self):
        data = tempfile.mkdtemp(prefix="slipway-it-drain-")
        try:
            server = harness.Server(data_dir=data).start()
            socks, bodies = [], []
            try:
                # Each request sends its headers with `Expect: 100-continue`; the interim 100 proves the server has
                # read them, so the request is in flight when SIGTERM arrives. The bodies follow after the signal.
                for i in range(IN_FLIGHT):
                    body = json.dumps({"title": f"in flight {i:02d}", "body": "x" * 2000}).encode()
                    head = (f"POST /api/v1/posts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            f"Authorization: Bearer {harness.ADMIN_TOKEN}\r\nContent-Type: application/json\r\n"
                            f"Expect: 100-continue\r\nContent-Length: {len(body)}\r\n\r\n").encode()
                    s = socket.create_connection(("127.0.0.1", server.port), timeout=30)
                    s.sendall(head)
                    socks.append(s)
                    bodies.append(body)
                for s in socks:
                    interim = read_interim(s)
                    self.assertTrue(interim.startswith(b"HTTP/1.1 100"), interim)

                server.proc.send_signal(signal.SIGTERM)

                def not_ready():
                    try:
                        return server.request("GET", "/readyz", token=None).status == 503
                    except OSError:
                        return True  # the listener is closed: no new traffic is accepted
                harness.wait_for(not_ready, what="/readyz to stop answering 200 after SIGTERM")
                self.assertIsNone(server.proc.poll(), "the process exited with requests still in flight")

                results = [None] * IN_FLIGHT

                def finish(i):
                    try:
                        socks[i].sendall(bodies[i])
                        results[i] = read_response(socks[i])
                    except OSError as e:
                        results[i] = (None, {}, repr(e).encode())

                threads = [threading.Thread(target=finish, args=(i,)) for i in range(IN_FLIGHT)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                statuses = [r[0] for r in results]
                self.assertEqual(statuses, [201] * IN_FLIGHT, [r[2][:200] for r in results])
                ids = [json.loads(r[2])["id"] for r in results]
                rc = server.proc.wait(timeout=30)
                self.assertEqual(rc, 0, server.stderr())
            finally:
                for s in socks:
                    s.close()
                server.cleanup()
            # Every acknowledged create is in the database.
            with harness.Server(data_dir=data) as again:
                for rid in ids:
                    self.assertEqual(again.request("GET", f"/api/v1/posts/{rid}").status, 200, rid)
        finally:
            shutil.rmtree(data, ignore_errors=True)

    def test_sigterm_under_load_answers_no_errors_and_keeps_every_acknowledged_write(self):
        data = tempfile.mkdtemp(prefix="slipway-it-drain2-")
        try:
            server = harness.Server(data_dir=data).start()
            statuses, acked, lock = [], [], threading.Lock()
            stop = threading.Event()

            def writer(n):
                conn = server.connection(timeout=30)
                i = 0
                while not stop.is_set():
                    try:
                        r = server.request("POST", "/api/v1/posts", conn=conn, body={"title": f"load {n}-{i}"})
                    except Exception:  # noqa: BLE001 - the server closed the keep-alive connection while draining
                        return
                    with lock:
                        statuses.append(r.status)
                        if r.status == 201:
                            acked.append(r.json()["id"])
                    if r.header("Connection") == "close":
                        return
                    i += 1

            threads = [threading.Thread(target=writer, args=(n,)) for n in range(IN_FLIGHT)]
            for t in threads:
                t.start()
            try:
                harness.wait_for(lambda: len(acked) >= 200, timeout=60, what="load before SIGTERM")
                server.proc.send_signal(signal.SIGTERM)
                rc = server.proc.wait(timeout=30)
            finally:
                stop.set()
                for t in threads:
                    t.join(timeout=30)
                err = server.stderr()
                server.cleanup()
            self.assertEqual(rc, 0, err)
            self.assertEqual({s for s in statuses if s != 201}, set(), "a request failed during the drain")
            with harness.Server(data_dir=data) as again:
                total = again.request("GET", "/api/v1/posts?count=true&limit=1").json()["total"]
                self.assertEqual(total, len(set(acked)))
        finally:
            shutil.rmtree(data, ignore_errors=True)

    def test_idle_keep_alive_connections_do_not_delay_shutdown(self):
        server = harness.Server().start()
        try:
            conns = [server.connection() for _ in range(5)]
            for c in conns:
                self.assertEqual(server.request("GET", "/livez", conn=c, token=None).status, 200)
            server.proc.send_signal(signal.SIGTERM)
            rc = server.proc.wait(timeout=10)
            self.assertEqual(rc, 0, server.stderr())
            for c in conns:
                c.close()
        finally:
            server.cleanup()

    def test_a_connection_accepted_before_sigterm_gets_its_request_answered(self):
        # A load balancer keeps opening connections until its health check sees /readyz turn 503, and sends each
        # request right after connecting. A connection that was open when the drain began, with its request not yet
        # sent, must be answered (with Connection: close), not reset: a reset POST cannot be retried safely.
        server = harness.Server().start()
        try:
            early = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            server.proc.send_signal(signal.SIGTERM)

            def refusing():
                try:
                    socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
                    return False
                except OSError:
                    return True
            harness.wait_for(refusing, what="the listener closed")  # the drain has begun
            body = json.dumps({"title": "sent after the drain began"}).encode()
            early.sendall((f"POST /api/v1/posts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           f"Authorization: Bearer {harness.ADMIN_TOKEN}\r\nContent-Type: application/json\r\n"
                           f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
            status, headers, _ = read_response(early)
            early.close()
            self.assertEqual((status, headers.get("connection")), (201, "close"))
            self.assertEqual(server.proc.wait(timeout=10), 0, server.stderr())
        finally:
            server.cleanup()

    def test_a_silent_new_connection_does_not_hold_shutdown_for_the_header_timeout(self):
        server = harness.Server().start()
        try:
            silent = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            server.proc.send_signal(signal.SIGTERM)
            self.assertEqual(server.proc.wait(timeout=8), 0, server.stderr())  # the header timeout is 10 s
            silent.settimeout(5)
            self.assertEqual(silent.recv(1), b"")  # closed without an answer: it never asked anything
            silent.close()
        finally:
            server.cleanup()

    def test_sigint_also_drains_and_exits_0(self):
        server = harness.Server().start()
        try:
            self.assertEqual(server.request("POST", "/api/v1/posts", body={"title": "x"}).status, 201)
            server.proc.send_signal(signal.SIGINT)
            self.assertEqual(server.proc.wait(timeout=10), 0, server.stderr())
            self.assertIn('"stopped"', server.stdout() + server.stderr())
        finally:
            server.cleanup()


class KillNine(unittest.TestCase):
    def test_every_acknowledged_create_survives_kill_9(self):
        data = tempfile.mkdtemp(prefix="slipway-it-kill9-")
        try:
            server = harness.Server(data_dir=data).start()
            acked = []
            lock = threading.Lock()
            stop = threading.Event()

            def writer(n):
                conn = server.connection(timeout=10)
                i = 0
                while not stop.is_set():
                    try:
                        r = server.request("POST", "/api/v1/posts", conn=conn,
                                           body={"title": f"w{n}-{i}", "published": True})
                    except Exception:  # noqa: BLE001 - the server was killed under us
                        return
                    if r.status == 201:
                        with lock:
                            acked.append(r.json()["id"])
                    i += 1

            threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
            for t in threads:
                t.start()
            try:
                harness.wait_for(lambda: len(acked) >= 300, timeout=60, what="300 acknowledged creates")
                server.proc.send_signal(signal.SIGKILL)
                server.proc.wait(timeout=10)
            finally:
                stop.set()
                for t in threads:
                    t.join(timeout=30)
                server.cleanup()
            acked_ids = set(acked)
            self.assertGreaterEqual(len(acked_ids), 300)

            with harness.Server(data_dir=data) as again:
                stored, cursor = set(), None
                while True:
                    q = "/api/v1/posts?limit=500&fields=id" + (f"&cursor={quote(cursor)}" if cursor else "")
                    r = again.request("GET", q)
                    self.assertEqual(r.status, 200, r)
                    stored |= {p["id"] for p in r.json()["items"]}
                    cursor = r.json()["next_cursor"]
                    if not cursor:
                        break
                missing = acked_ids - stored
                self.assertEqual(missing, set(), f"{len(missing)} acknowledged creates were lost")
                for rid in list(acked_ids)[-20:]:
                    self.assertEqual(again.request("GET", f"/api/v1/posts/{rid}").status, 200)
        finally:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
