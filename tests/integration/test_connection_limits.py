"""Connection limits of the real binary: one client address cannot hold more than --max-connections-per-client
(SLIPWAY_MAX_CONNECTIONS_PER_CLIENT) open connections, while other clients are still served."""

import os
import shutil
import socket
import tempfile
import unittest

import harness
from itutil import parse_raw_response

GET = b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def connect(port, source="127.0.0.1"):
    s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
    return s


def roundtrip(s):
    """One keep-alive GET on `s`; returns the status (None when the server closed instead)."""
    s.sendall(GET)
    return read_status(s)


def read_status(s):
    data = b""
    while b"\r\n\r\n" not in data:
        got = s.recv(4096)
        if not got:
            return None
        data += got
    status, headers, body = parse_raw_response(data)
    while len(body) < int(headers.get("content-length", "0")):
        body += s.recv(4096)
    return status


class PerClientLimit(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = harness.Server(env={"SLIPWAY_MAX_CONNECTIONS_PER_CLIENT": "3"}).start()
        cls.addClassCleanup(cls.server.cleanup)

    def test_a_client_over_its_limit_gets_503_and_others_are_served(self):
        held = []
        try:
            def hold_one_more():
                # The harness's readiness probes came from this address too; until the server has seen them
                # close, a connection may still be refused: retry then.
                s = connect(self.server.port)
                if roundtrip(s) == 200:
                    held.append(s)
                else:
                    s.close()
                return len(held) == 3
            harness.wait_for(hold_one_more, what="three connections held")
            fourth = connect(self.server.port)
            try:
                self.assertEqual(read_status(fourth), 503)
            finally:
                fourth.close()
            other = connect(self.server.port, source="127.0.0.2")
            try:
                self.assertEqual(roundtrip(other), 200)
            finally:
                other.close()
            for s in held:
                self.assertEqual(roundtrip(s), 200)
        finally:
            for s in held:
                s.close()
        harness.wait_for(lambda: any('"max_connections_per_client":"3"' in line for line in
                                     self.server.stdout().splitlines()), what="the refusal log line")


class PerClientLimitValues(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="slipway-limits-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_out_of_range_or_not_a_number_is_exit_2(self):
        for bad in ("0", "-1", "10001", "abc"):
            for args, env in ((["--max-connections-per-client", bad], {}),
                              ([], {"SLIPWAY_MAX_CONNECTIONS_PER_CLIENT": bad})):
                with self.subTest(value=bad, flag=bool(args)):
                    p = harness.run_cli("serve", "--config", harness.EXAMPLE, "--data", os.path.join(self.tmp, "d"),
                                        "--listen", f"127.0.0.1:{harness.free_port()}", *args,
                                        env=dict({"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN}, **env), timeout=30)
                    self.assertEqual(p.returncode, 2, p.stderr)


if __name__ == "__main__":
    harness.main()
