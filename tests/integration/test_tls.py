"""TLS of the real binary: --tls-listen with certificate files made by `openssl req`, HTTPS answers with HSTS,
start-up refusing bad files, certificate reload on SIGHUP without dropping open connections, and two independent
scanners (sslscan, testssl.sh) against the listener, and the protection of issue 10 (rate limits, CORS preflights,
security headers, a write refused before its body) through TLS. Only the first class touches records, so only it
runs on every engine; the rest is the HTTP layer's and runs once."""

import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET

import harness

TLS_ONLY = harness.sqlite_only("TLS does not depend on the engine")
HSTS = "max-age=63072000"


def make_certificate(directory, name, common_name, serial, key_type="ec"):
    """A self-signed certificate for 127.0.0.1 and its unencrypted key: (cert_path, key_path)."""
    cert, key = os.path.join(directory, f"{name}.crt"), os.path.join(directory, f"{name}.key")
    new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if key_type == "ec" else ["-newkey", "rsa:2048"]
    subprocess.run(["openssl", "req", "-x509", *new_key, "-nodes", "-keyout", key, "-out", cert, "-days", "30",
                    "-subj", f"/CN={common_name}", "-set_serial", str(serial),
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def install(source_cert, source_key, cert, key):
    """Puts a certificate pair where the server reads it (what a deploy or certbot does before kill -HUP)."""
    shutil.copyfile(source_cert, cert)
    shutil.copyfile(source_key, key)


def client_context(*trusted):
    """A verifying client (hostname included: the certificates name IP 127.0.0.1) trusting `trusted` certificates."""
    ctx = ssl.create_default_context()
    for cert in trusted:
        ctx.load_verify_locations(cert)
    ctx.set_alpn_protocols(["http/1.1"])  # as browsers and http.client's own default context do
    return ctx


def https(port, ctx, timeout=30):
    return http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=timeout)


def get(conn, path, headers=None):
    conn.request("GET", path, headers=headers or {})
    r = conn.getresponse()
    return harness.Response(r.status, r.getheaders(), r.read())


def peer_serial(conn):
    return int(conn.sock.getpeercert()["serialNumber"], 16)


def tls_args(port, cert, key, *extra):
    return ["--tls-listen", f"127.0.0.1:{port}", "--tls-cert", cert, "--tls-key", key, *extra]


def start_https_server(cls, name, serial, key_type="ec", **server_args):
    """For a test class: a temp dir, a certificate for it (`cls.cert`, `cls.key`), a server with a TLS listener
    (`cls.server`, `cls.tls_port`) and a client context that trusts it (`cls.ctx`), all cleaned up with the class."""
    cls.tmp = tempfile.mkdtemp(prefix=f"slipway-tls-{name}-")
    cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
    cls.cert, cls.key = make_certificate(cls.tmp, name, f"slipway-{name}", serial, key_type)
    cls.tls_port = harness.free_port()
    config = server_args.pop("concept", None)
    if config is not None:
        server_args["config"] = harness.write_concept(cls.tmp, config)
    cls.server = harness.Server(args=tls_args(cls.tls_port, cls.cert, cls.key), **server_args).start()
    cls.addClassCleanup(cls.server.cleanup)
    cls.ctx = client_context(cls.cert)


class Https(unittest.TestCase):
    """HTTPS beside plain HTTP, on every engine."""

    @classmethod
    def setUpClass(cls):
        start_https_server(cls, "a", 4097)

    def test_livez_over_https_carries_hsts_and_plain_http_does_not(self):
        conn = https(self.tls_port, self.ctx)
        try:
            r = get(conn, "/livez")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json(), {"status": "ok"})
            self.assertEqual(r.header("Strict-Transport-Security"), HSTS)
            self.assertIn(conn.sock.version(), ("TLSv1.2", "TLSv1.3"))
            self.assertEqual(conn.sock.selected_alpn_protocol(), "http/1.1")
        finally:
            conn.close()
        plain = self.server.request("GET", "/livez", token=None)
        self.assertEqual(plain.status, 200)
        self.assertIsNone(plain.header("Strict-Transport-Security"))

    def test_a_record_is_created_and_read_over_https(self):
        conn = https(self.tls_port, self.ctx)
        try:
            auth = {"Authorization": f"Bearer {self.server.admin_token}", "Content-Type": "application/json"}
            conn.request("POST", "/api/v1/authors", body=json.dumps({"name": "Ann over TLS"}), headers=auth)
            r = conn.getresponse()
            created = harness.Response(r.status, r.getheaders(), r.read())
            self.assertEqual(created.status, 201, created)
            self.assertEqual(created.header("Strict-Transport-Security"), HSTS)
            read = get(conn, f"/api/v1/authors/{created.json()['id']}")  # the same keep-alive connection
            self.assertEqual(read.status, 200, read)
            self.assertEqual(read.json()["name"], "Ann over TLS")
        finally:
            conn.close()

    def test_plain_http_to_the_tls_port_is_closed_without_an_answer(self):
        with socket.create_connection(("127.0.0.1", self.tls_port), timeout=10) as s:
            s.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertNotIn(b"HTTP/1.1 200", s.recv(4096))

    def test_listening_line_metrics_and_certificate_log(self):
        lines = self.server.log_lines()
        listening = next(line for line in lines if line["msg"] == "listening")
        self.assertEqual(listening["address"], f"127.0.0.1:{self.server.port}")
        self.assertEqual(listening["tls_address"], f"127.0.0.1:{self.tls_port}")
        loaded = next(line for line in lines if line["msg"] == "TLS certificate loaded")
        self.assertEqual(loaded["subject"], "CN=slipway-a")
        self.assertEqual(int(loaded["serial"], 16), 4097)
        conn = https(self.tls_port, self.ctx)
        try:
            self.assertEqual(get(conn, "/livez").status, 200)
            not_after = ssl.cert_time_to_seconds(conn.sock.getpeercert()["notAfter"])
            metrics = get(conn, "/metrics").body.decode()
        finally:
            conn.close()
        self.assertIn('slipway_tls_handshakes_total{result="ok"}', metrics)
        expiry = [line for line in metrics.splitlines()
                  if line.startswith("slipway_tls_certificate_expiry_timestamp_seconds ")]
        self.assertEqual(len(expiry), 1, metrics)
        self.assertEqual(float(expiry[0].split()[1]), not_after)


@TLS_ONLY
class StartUp(unittest.TestCase):
    """Flags and files: every mistake is one line on stderr naming what is wrong, and exit code 2."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="slipway-tls-start-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.cert, cls.key = make_certificate(cls.tmp, "a", "slipway-a", 1)
        cls.other_cert, cls.other_key = make_certificate(cls.tmp, "b", "slipway-b", 2)
        cls.rsa_cert, cls.rsa_key = make_certificate(cls.tmp, "r", "slipway-r", 3, key_type="rsa")
        cls.garbage = os.path.join(cls.tmp, "garbage.pem")
        with open(cls.garbage, "w") as f:
            f.write("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")

    def serve(self, *args, env=None):
        return harness.run_cli("serve", "--config", harness.EXAMPLE, "--data", os.path.join(self.tmp, "data"),
                               "--listen", f"127.0.0.1:{harness.free_port()}", *args,
                               env=dict({"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN}, **(env or {})), timeout=60)

    def assert_refused(self, p, *named):
        self.assertEqual(p.returncode, 2, p.stderr)
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertTrue(lines[0].startswith("slipway: "), lines[0])
        for text in named:
            self.assertIn(text, lines[0])

    def test_bad_missing_or_mismatched_files_are_one_line_naming_the_file(self):
        missing = os.path.join(self.tmp, "missing.pem")
        cases = [
            ((missing, self.key), (missing, "No such file or directory")),
            ((self.cert, missing), (missing, "No such file or directory")),
            ((self.garbage, self.key), (self.garbage,)),
            ((self.cert, self.garbage), (self.garbage,)),
            ((self.cert, self.other_key), (self.other_key, self.cert, "does not match")),
            ((self.cert, self.rsa_key), (self.rsa_key, self.cert, "does not match")),
        ]
        for (cert, key), named in cases:
            with self.subTest(cert=os.path.basename(cert), key=os.path.basename(key)):
                self.assert_refused(self.serve(*tls_args(harness.free_port(), cert, key)), *named)
        # `check` validates the same files the same way, without serving.
        p = harness.run_cli("check", "--config", harness.EXAMPLE, *tls_args(8443, self.cert, self.other_key),
                            env={"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN})
        self.assert_refused(p, self.other_key, "does not match")
        p = harness.run_cli("check", "--config", harness.EXAMPLE, *tls_args(8443, self.cert, self.key),
                            env={"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("tls listen 127.0.0.1:8443", p.stdout)

    def test_incomplete_or_contradictory_flags_are_usage_errors(self):
        port = f"127.0.0.1:{harness.free_port()}"
        cases = [
            (["--tls-listen", port], {}, ("--tls-cert", "--tls-key")),
            (["--tls-cert", self.cert, "--tls-key", self.key], {}, ("--tls-listen",)),
            ([], {"SLIPWAY_TLS_LISTEN": port, "SLIPWAY_TLS_CERT_FILE": self.cert}, ("--tls-key",)),
            (["--tls-listen", "nowhere", "--tls-cert", self.cert, "--tls-key", self.key], {}, ("--tls-listen",)),
            (["--listen", "off"], {}, ("--listen off",)),
            (["--hsts-max-age", "60"], {}, ("--hsts-max-age",)),
        ]
        for args, env, named in cases:
            with self.subTest(args=args, env=env):
                p = harness.run_cli("serve", "--config", harness.EXAMPLE, "--data", os.path.join(self.tmp, "data"),
                                    *args, env=dict({"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN}, **env), timeout=60)
                self.assert_refused(p, *named)

    def test_tls_only_from_the_environment(self):
        """--listen off (here SLIPWAY_LISTEN=off) serves HTTPS alone; SLIPWAY_HSTS_MAX_AGE sets the header."""
        port = harness.free_port()
        env = dict(os.environ, SLIPWAY_ADMIN_TOKEN=harness.ADMIN_TOKEN, SLIPWAY_LISTEN="off",
                   SLIPWAY_TLS_LISTEN=f"127.0.0.1:{port}", SLIPWAY_TLS_CERT_FILE=self.cert,
                   SLIPWAY_TLS_KEY_FILE=self.key, SLIPWAY_HSTS_MAX_AGE="600")
        data = os.path.join(self.tmp, "tls-only")
        proc = subprocess.Popen([harness.BIN, "serve", "--config", harness.EXAMPLE, "--data", data],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        try:
            ctx = client_context(self.cert)

            def ready():
                if proc.poll() is not None:
                    raise AssertionError(f"slipway exited with {proc.returncode}: {proc.stderr.read()}")
                try:
                    conn = https(port, ctx, timeout=5)
                    try:
                        return get(conn, "/readyz")
                    finally:
                        conn.close()
                except OSError:
                    return None
            r = harness.wait_for(ready, what="/readyz over HTTPS")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("Strict-Transport-Security"), "max-age=600")
        finally:
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0)
        listening = next(json.loads(line) for line in out.decode().splitlines() if '"msg":"listening"' in line)
        self.assertEqual(listening["tls_address"], f"127.0.0.1:{port}")
        self.assertNotIn("address", listening)


@TLS_ONLY
class Reload(unittest.TestCase):
    """kill -HUP reloads the files into a new context: new connections get the new certificate, open ones go on."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="slipway-tls-reload-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.a = make_certificate(self.tmp, "a", "slipway-a", 4097)
        self.b = make_certificate(self.tmp, "b", "slipway-b", 8194)
        self.cert, self.key = os.path.join(self.tmp, "served.crt"), os.path.join(self.tmp, "served.key")
        install(*self.a, self.cert, self.key)
        self.tls_port = harness.free_port()
        self.server = harness.Server(args=tls_args(self.tls_port, self.cert, self.key)).start()
        self.addCleanup(self.server.cleanup)
        self.ctx = client_context(self.a[0], self.b[0])

    def hangup_and_wait_for(self, msg):
        seen = sum(1 for line in self.server.log_lines() if line["msg"] == msg)
        self.server.proc.send_signal(signal.SIGHUP)
        return harness.wait_for(lambda: [line for line in self.server.log_lines() if line["msg"] == msg][seen:],
                                what=f"log line {msg!r}")[0]

    def test_sighup_serves_the_new_certificate_and_keeps_open_connections(self):
        old = https(self.tls_port, self.ctx)
        try:
            self.assertEqual(get(old, "/livez").status, 200)
            self.assertEqual(peer_serial(old), 4097)
            install(*self.b, self.cert, self.key)
            line = self.hangup_and_wait_for("TLS certificate reloaded")
            self.assertEqual(int(line["serial"], 16), 8194)
            self.assertEqual(line["subject"], "CN=slipway-b")
            self.assertIn("not_after", line)
            new = https(self.tls_port, self.ctx)
            try:
                self.assertEqual(get(new, "/livez").status, 200)
                self.assertEqual(peer_serial(new), 8194)
            finally:
                new.close()
            again = get(old, "/livez")  # the keep-alive connection made before the reload still answers
            self.assertEqual(again.status, 200)
            self.assertEqual(again.header("Strict-Transport-Security"), HSTS)
        finally:
            old.close()
        self.assertEqual(self.server.proc.poll(), None)

    def test_sighup_with_a_broken_key_keeps_serving_the_old_certificate(self):
        with open(self.key, "w") as f:
            f.write("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
        line = self.hangup_and_wait_for("TLS reload failed: still serving the previous certificate")
        self.assertEqual(line["level"], "error")
        self.assertIn(self.key, line["cause"])
        conn = https(self.tls_port, self.ctx)
        try:
            self.assertEqual(get(conn, "/livez").status, 200)
            self.assertEqual(peer_serial(conn), 4097)
        finally:
            conn.close()
        # Mending the files and signalling again picks them up.
        install(*self.b, self.cert, self.key)
        self.hangup_and_wait_for("TLS certificate reloaded")
        conn = https(self.tls_port, self.ctx)
        try:
            self.assertEqual(get(conn, "/livez").status, 200)
            self.assertEqual(peer_serial(conn), 8194)
        finally:
            conn.close()


# Findings about the test's own self-signed certificate, expected and therefore excluded by id: no CA vouches for it
# and it names no revocation service. Only testssl.sh's certificate checks (-S) produce them; they are not run here
# (they take minutes on a loaded 2-core box and say nothing about slipway), but the exclusion is by id, so adding
# them cannot hide any other finding.
SELF_SIGNED_CERTIFICATE_FINDINGS = {
    "cert_chain_of_trust",       # "failed (self signed)"
    "cert_trust",                # the CN/SAN match is checked against a name that is not the certificate's
    "cert_caIssuers",            # no CA issuers URL
    "cert_crlDistributionPoints",
    "cert_ocspURL",
    "OCSP_stapling",
    "cert_validityPeriod",       # 30 days
    "cert_expirationStatus",
}
# What testssl.sh must have checked (its ids for -I -T -BB -R -C -B): flaws of the TLS implementation and its setup,
# and compression. Protocols, ciphers and Heartbleed come from sslscan, which enumerates them with its own
# ClientHellos in a second; testssl.sh's own protocol and cipher runs (-p -s -f) and Heartbleed check (-H) would add
# minutes on a loaded 2-core box and find nothing sslscan does not.
TESTSSL_CHECKS = ("CCS", "ticketbleed", "ROBOT", "secure_renego", "secure_client_renego", "CRIME_TLS", "BREACH")
# TLS 1.2 suites allowed by slipway's policy; TLS 1.3 suites are all AEAD with forward secrecy.
TLS12_ALLOWED = {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305",
                 "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305"}
WEAK_MARKERS = ("NULL", "EXP", "RC4", "DES", "MD5", "ADH", "AECDH", "anon", "CBC", "PSK", "SRP", "CAMELLIA", "ARIA",
                "SEED", "IDEA")


@TLS_ONLY
class Scanners(unittest.TestCase):
    """sslscan and testssl.sh against the TLS listener (an RSA certificate, so RSA suites would show too)."""

    @classmethod
    def setUpClass(cls):
        start_https_server(cls, "scan", 5, key_type="rsa")

    def test_sslscan_finds_only_tls_12_and_13_with_strong_suites(self):
        p = subprocess.run(["sslscan", "--xml=-", "--no-colour", f"127.0.0.1:{self.tls_port}"],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        test = ET.fromstring(p.stdout[p.stdout.index("<?xml"):]).find("ssltest")
        protocols = {f"{e.get('type')}{e.get('version')}": e.get("enabled") == "1" for e in test.iter("protocol")}
        self.assertEqual(protocols, {"ssl2": False, "ssl3": False, "tls1.0": False, "tls1.1": False,
                                     "tls1.2": True, "tls1.3": True})
        ciphers = [(e.get("sslversion"), e.get("cipher"), e.get("strength")) for e in test.iter("cipher")]
        self.assertTrue(ciphers, p.stdout)
        for version, name, strength in ciphers:
            with self.subTest(cipher=name):
                self.assertIn(version, ("TLSv1.2", "TLSv1.3"))
                if version == "TLSv1.2":
                    self.assertIn(name, TLS12_ALLOWED)
                else:
                    self.assertTrue(name.startswith("TLS_") and ("GCM" in name or "CHACHA20_POLY1305" in name), name)
                self.assertFalse(any(m in name for m in WEAK_MARKERS), name)
                self.assertFalse(name.endswith("-SHA"), name)  # a SHA-1 MAC
                self.assertIn(strength, ("strong", "acceptable"))
        self.assertIn(("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", "strong"), ciphers)
        self.assertEqual(test.find("renegotiation").get("supported"), "0")
        self.assertTrue(all(e.get("vulnerable") == "0" for e in test.iter("heartbleed")))

    def test_testssl_reports_no_high_or_critical_finding(self):
        testssl = shutil.which("testssl") or shutil.which("testssl.sh")
        self.assertIsNotNone(testssl, "testssl.sh is not installed: run scripts/install-deps")
        report = os.path.join(self.tmp, "testssl.json")
        p = subprocess.run([testssl, "--quiet", "--color", "0", "--warnings", "off", "--nodns", "none",
                            "-I", "-T", "-BB", "-R", "-C", "-B", "--jsonfile", report,
                            f"127.0.0.1:{self.tls_port}"], capture_output=True, text=True, timeout=300)
        with open(report) as f:
            findings = json.load(f)
        by_id = {f["id"]: f for f in findings}
        self.assertNotIn("scanProblem", by_id, p.stdout)
        for check in TESTSSL_CHECKS:
            self.assertIn(check, by_id, p.stdout)
        serious = [f for f in findings if f["severity"] in ("HIGH", "CRITICAL")
                   and f["id"] not in SELF_SIGNED_CERTIFICATE_FINDINGS]
        self.assertEqual(serious, [], p.stdout)
        self.assertEqual(by_id["secure_client_renego"]["severity"], "OK", by_id["secure_client_renego"])
        self.assertEqual(by_id["CRIME_TLS"]["severity"], "OK", by_id["CRIME_TLS"])


PROTECTED_CONCEPT = """
app: tls-protection
cors:
  origins: ["https://app.example.com"]
  methods: [GET, POST]
  headers: [authorization, content-type]
rate_limits:
  read: { address: 3/h }
collections:
  notes:
    fields:
      title: { type: text }
    rules:
      list: "true"
      create: "@auth.id != null"
"""


@TLS_ONLY
class ProtectionOverHttps(unittest.TestCase):
    """The limiter, the security headers, CORS and the refusal before the body work the same through TLS."""

    @classmethod
    def setUpClass(cls):
        start_https_server(cls, "p", 4099, concept=PROTECTED_CONCEPT, env={"SLIPWAY_RATE_LIMITS": "on"})

    def connect(self, last_octet):
        """An HTTPS connection from 127.0.0.<last_octet>: each test has buckets of its own."""
        conn = http.client.HTTPSConnection("127.0.0.1", self.tls_port, context=self.ctx, timeout=30,
                                           source_address=(f"127.0.0.{last_octet}", 0))
        self.addCleanup(conn.close)
        return conn

    def test_every_https_answer_carries_the_security_headers_and_hsts(self):
        conn = self.connect(30)
        for path in ("/api/v1/notes", "/livez", "/no-such-route"):
            r = get(conn, path)
            self.assertEqual(r.header("Strict-Transport-Security"), HSTS, path)
            self.assertEqual(r.header("X-Content-Type-Options"), "nosniff", path)
            self.assertEqual(r.header("Referrer-Policy"), "no-referrer", path)
            self.assertIn("default-src 'none'", r.header("Content-Security-Policy") or "", path)

    def test_a_read_burst_over_https_gets_429_and_a_preflight_still_passes(self):
        conn = self.connect(31)
        got = [get(conn, "/api/v1/notes") for _ in range(4)]
        self.assertEqual([r.status for r in got], [200, 200, 200, 429])
        self.assertEqual(got[0].header("RateLimit-Policy"), '"read-address";q=3;w=3600')
        refused = got[3]
        self.assertTrue(refused.header("Content-Type").startswith("application/problem+json"), refused)
        self.assertGreater(int(refused.header("Retry-After")), 0)
        self.assertEqual(refused.header("Strict-Transport-Security"), HSTS)
        # The browser's preflight for the same route, from the same exhausted address, is answered as ever.
        conn.request("OPTIONS", "/api/v1/notes", headers={"Origin": "https://app.example.com",
                                                          "Access-Control-Request-Method": "GET"})
        r = conn.getresponse()
        r.read()
        self.assertEqual(r.status, 204)
        self.assertEqual(r.getheader("Access-Control-Allow-Origin"), "https://app.example.com")
        again = get(conn, "/api/v1/notes", headers={"Origin": "https://app.example.com"})
        self.assertEqual(again.status, 429)
        self.assertEqual(again.header("Access-Control-Allow-Origin"), "https://app.example.com")

    def test_an_anonymous_write_is_refused_over_https_without_reading_its_body(self):
        with socket.create_connection(("127.0.0.1", self.tls_port), timeout=30,
                                      source_address=("127.0.0.32", 0)) as raw:
            with self.ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                # 50 MB announced, none sent: the answer can only come from the header.
                s.sendall(b"POST /api/v1/notes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 52428800\r\n\r\n")
                data = b""
                while True:
                    try:
                        got = s.recv(4096)
                    except ssl.SSLZeroReturnError:  # the server's close_notify after its answer
                        break
                    if not got:
                        break
                    data += got
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
        self.assertTrue(head.startswith("http/1.1 403"), data[:300])
        self.assertIn("connection: close", head)
        self.assertIn("strict-transport-security: " + HSTS, head)
        count = self.server.request("GET", "/api/v1/notes?limit=1", token="admin")
        self.assertEqual(count.status, 200)
        self.assertEqual(count.json()["items"], [])


if __name__ == "__main__":
    harness.main()
