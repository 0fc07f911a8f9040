"""Slow clients (issue 10): Debian's slowhttptest in its three modes — slowloris (a header that never ends), slow body
(a POST body a few bytes at a time) and slow read (responses read a few bytes at a time through a tiny window) —
against the real binary. While each runs, an ordinary client on another address is answered every time, slipway
never holds more of the attacker's connections than its per-client limit, and when the attack ends it holds none.

The tests cannot pass without an attack: slowhttptest must have had the per-client limit's worth of connections
open (its CSV report), and slipway must have held that many (ss counts the sockets the slipway process owns) while
the ordinary client was being served; slowloris must have been ended by slipway (the header timeout), slow body
must have reached no handler, and slow read must have left that many of slipway's responses stuck mid-write (its
/metrics: in flight)."""

import collections
import csv
import http.client
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import harness

# The concept file of the server under attack: anyone may list, read and create notes, so slowhttptest (which
# cannot send an Authorization header) gets requests that slipway must read to the end and answer in full.
#
# RATE LIMITS MUST BE RAISED HERE once they are on by default (issue 10): slowhttptest's requests come from one
# address, and the ordinary client asks several times a second for the whole run; a 429 would end an attacker's
# request early (no slow body or slow read left to test), or fail the ordinary client.
CONCEPT = """\
app: notes

collections:
  notes:
    fields:
      title: { type: text, required: true, max: 200 }
      body:  { type: text }
    rules:
      list: "true"
      view: "true"
      create: "true"
"""

PER_CLIENT = 8              # SLIPWAY_MAX_CONNECTIONS_PER_CLIENT of the server under attack
ATTACK_CONNECTIONS = 200    # slowhttptest -c: many times the limit, so the limit is what stops it
ATTACK_RATE = 100           # slowhttptest -r: new connections per second
ATTACK_SECONDS = 12         # slowhttptest -l: each attack's length
# Connections slipway has accepted beyond the limit only to answer them 503 and close them at once; one or two
# may be caught in that instant by a sample.
MARGIN = 4
ORDINARY_TIMEOUT_S = 5      # the ordinary client's timeout: "answered at all", not a measure of speed
SAMPLE_EVERY_S = 0.2
# Slow read: the answers to one connection must outgrow what the kernel takes off slipway's hands (a socket's send
# buffer grows up to net.ipv4.tcp_wmem's maximum, 4 MiB by default) before slipway's own write has to wait for the
# reader. The page is about 1 MB (20 records of 50 kB: few writes to seed); slowhttptest pipelines enough requests
# for it (-k) to exceed this machine's maximum. That costs no more work: slipway reads a connection's next request
# only once the previous answer is written, so it renders a page or two per connection and then waits.
SLOW_READ_RECORDS = 20
SLOW_READ_RECORD_BYTES = 50_000


def require_tool(name):
    if shutil.which(name) is None:
        raise AssertionError(f"{name} is not installed: run scripts/install-deps (it installs it from Debian)")


class Attack:
    """What one slowhttptest run left: its exit status, its output, its CSV report (one row per second: Seconds,
    Closed, Pending, Connected, Service Available) and the samples taken while it ran."""

    def __init__(self, returncode, output, report, samples):
        self.returncode = returncode
        self.output = output
        self.report = report
        self.samples = samples

    def most_connected(self):
        return max((int(row["Connected"]) for row in self.report), default=0)


# One look at the server during an attack: the ordinary client's answer (a status, or the exception it got), the
# connections from the attacker's address that slipway holds, and slipway's requests in flight.
Sample = collections.namedtuple("Sample", "at ordinary held in_flight")


class SlowClients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_tool("slowhttptest")
        require_tool("ss")
        cls.tmp = tempfile.mkdtemp(prefix="slipway-slow-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.server = harness.Server(config=harness.write_concept(cls.tmp, CONCEPT),
                                    env={"SLIPWAY_MAX_CONNECTIONS_PER_CLIENT": str(PER_CLIENT)}).start()
        cls.addClassCleanup(cls.server.cleanup)
        conn = cls.server.connection()
        cls.seeded = set()
        try:
            for i in range(SLOW_READ_RECORDS):
                r = cls.server.request("POST", "/api/v1/notes", conn=conn,
                                       body={"title": f"note {i}", "body": "x" * SLOW_READ_RECORD_BYTES})
                assert r.status == 201, r
                cls.seeded.add(r.header("X-Request-Id"))
            page = cls.server.request("GET", f"/api/v1/notes?limit={SLOW_READ_RECORDS}", token=None, conn=conn)
            assert page.status == 200 and len(page.json()["items"]) == SLOW_READ_RECORDS, page
        finally:
            conn.close()
        with open("/proc/sys/net/ipv4/tcp_wmem") as f:
            send_buffer_max = int(f.read().split()[2])
        cls.slow_read_pipelined = send_buffer_max // len(page.body) + 2

    # --- what the test observes, always from 127.0.0.2: slipway counts connections per client address, and the
    # attacker (slowhttptest) comes from 127.0.0.1.

    def ordinary(self, path, token="admin"):
        """One request of an ordinary client from 127.0.0.2 on a connection of its own: its status and body, or the
        exception it got (a timeout, a refused or reset connection)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=ORDINARY_TIMEOUT_S,
                                          source_address=("127.0.0.2", 0))
        headers = {"Authorization": f"Bearer {self.server.admin_token}"} if token else {}
        try:
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
            return r.status, r.read()
        except OSError as e:
            return e, b""
        finally:
            conn.close()

    def held(self):
        """Established connections from the attacker's address whose socket the slipway process owns (accepted ones;
        a connection still in the kernel's accept queue belongs to no process and is not slipway's doing)."""
        out = subprocess.run(["ss", "-Htnp", "state", "established", f"( sport = :{self.server.port} )"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
        owned = f"pid={self.server.proc.pid},"
        return sum(1 for line in out.splitlines() if owned in line and line.split()[3].startswith("127.0.0.1:"))

    def in_flight(self):
        """slipway's requests in flight (header read, response not yet written), but for this one."""
        status, body = self.ordinary("/metrics", token=None)
        if status != 200:
            return None
        for line in body.decode().splitlines():
            if line.startswith("slipway_http_in_flight_requests "):
                return int(float(line.split()[1])) - 1
        raise AssertionError("/metrics has no slipway_http_in_flight_requests")

    def sample(self, started):
        status, _ = self.ordinary("/api/v1/notes?limit=1&fields=id")
        return Sample(round(time.monotonic() - started, 1), status, self.held(), self.in_flight())

    # --- the attack

    def attack(self, mode, path, *options, seconds=ATTACK_SECONDS):
        """Runs slowhttptest (`mode`: -H, -B or -X) against `path` from 127.0.0.1 and samples the server until it ends."""
        prefix = os.path.join(self.tmp, mode.lstrip("-"))
        cmd = ["slowhttptest", mode, "-u", f"http://127.0.0.1:{self.server.port}{path}",
               "-c", str(ATTACK_CONNECTIONS), "-r", str(ATTACK_RATE), "-l", str(seconds),
               "-g", "-o", prefix, *options]
        with open(prefix + ".out", "wb") as out:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        self.addCleanup(self.stop, proc)
        started = time.monotonic()
        samples = []
        while True:
            samples.append(self.sample(started))
            try:
                proc.wait(timeout=SAMPLE_EVERY_S)  # the pace of the samples, and the end of the attack
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() - started > seconds + 60:
                    raise AssertionError(f"slowhttptest {mode} ran far past its -l {seconds} s")
        with open(prefix + ".out", "rb") as f:
            output = f.read().decode("utf-8", "replace")
        report = []
        if os.path.exists(prefix + ".csv"):
            with open(prefix + ".csv", newline="") as f:
                report = list(csv.DictReader(f))
        return Attack(proc.returncode, output, report, samples)

    @staticmethod
    def stop(proc):
        if proc.poll() is None:
            proc.kill()
        proc.wait()

    def assert_withstood(self, attack):
        self.assertEqual(attack.returncode, 0, attack.output[-2000:])
        # slowhttptest ran and got the per-client limit's worth of connections at least: not a vacuous pass.
        self.assertGreaterEqual(attack.most_connected(), PER_CLIENT, f"slowhttptest's report: {attack.report}")
        failed = [s for s in attack.samples if s.ordinary != 200]
        self.assertEqual(failed, [], "the ordinary client from 127.0.0.2 went unanswered")
        most = max(s.held for s in attack.samples)
        self.assertLessEqual(most, PER_CLIENT + MARGIN, f"slipway held {most} of the attacker's connections")
        at_limit = [s for s in attack.samples if s.held >= PER_CLIENT]
        self.assertGreaterEqual(len(at_limit), 5, f"the attack never held the limit while the ordinary client asked: "
                                                  f"{attack.samples}")
        # Once the attacker is gone, slipway lets go of everything it held.
        harness.wait_for(lambda: self.held() == 0, what="slipway to close the attacker's connections")

    def test_slowloris_holds_no_more_than_the_limit_and_the_header_timeout_ends_it(self):
        # -i 2: a new header line every 2 s, so only the header timeout (10 s for the whole header) can end these.
        attack = self.attack("-H", "/api/v1/notes", "-i", "2", "-x", "24", seconds=ATTACK_SECONDS + 8)
        self.assert_withstood(attack)
        # slowhttptest stops early when the server has closed every connection it held: the header timeout did.
        self.assertIn("No open connections left", attack.output, attack.output[-2000:])

    def test_slow_body_holds_no_more_than_the_limit_and_others_are_served(self):
        # 8 kB announced, up to 24 bytes every 2 s: the body timeout (30 s) is longer than the attack. (A request
        # counts in slipway_http_in_flight_requests only once its body is in, so these do not.)
        attack = self.attack("-B", "/api/v1/notes", "-i", "2", "-x", "24", "-s", "8192", "-f", "application/json")
        self.assert_withstood(attack)
        # No incomplete body reached a handler: not one of the attacker's POSTs was answered.
        answered = [line for line in self.server.log_lines()
                    if line.get("msg") == "request" and line["method"] == "POST" and line.get("remote") == "127.0.0.1"
                    and line["request_id"] not in self.seeded]
        self.assertEqual(answered, [])

    def test_slow_read_holds_no_more_than_the_limit_and_others_are_served(self):
        # A window of 1-256 bytes, 32 bytes read a second.
        attack = self.attack("-X", f"/api/v1/notes?limit={SLOW_READ_RECORDS}", "-k", str(self.slow_read_pipelined),
                             "-n", "1", "-w", "1", "-y", "256", "-z", "32")
        self.assert_withstood(attack)
        # slipway's writes really waited for the slow readers, while the ordinary client was served.
        self.assertGreaterEqual(max(s.in_flight or 0 for s in attack.samples), PER_CLIENT, attack.samples)


if __name__ == "__main__":
    harness.main()
