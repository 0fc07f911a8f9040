"""The e-mail flows over HTTP with a real SMTP server (Debian's aiosmtpd, tests/support/smtp.py): verification at
sign-up (login waits for it when the file says so), password reset (202 for every address, mail only for known
ones, every session ended, MFA still asked), change of address (re-authentication, the old address told). The
tests read the delivered mails and follow their links. Mail is queued durably: an SMTP outage costs requests
nothing, the circuit opens and closes as the metrics show, and queued mail survives a restart of slipway. Hostile
input on every new route changes nothing."""

import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import uuid

import harness
import smtp
from itutil import assert_problem
from test_auth import PASSWORD, identity_env, metric

CONCEPT = """app: letters
auth:
  roles: [member]
  default_role: member
  email:
    app_url: https://app.example.com/account/
    verification: required
smtp:
  host: 127.0.0.1
  port: {port}
  tls: none
  from: no-reply@letters.example
  from_name: Letters
outbound:
  connect_timeout: 1s
  timeout: 5s
  circuit: {{ failures: 2, window: 1m, open_for: 1s }}
collections:
  letters:
    fields:
      text: {{ type: text }}
      owner: {{ type: relation, to: users, required: true }}
    rules:
      list: "owner = @auth.id"
"""

NEW_PASSWORD = "a different horse battery"


def token_of(message, path):
    """The token of the link to `path` in a mail (what the app's page would post)."""
    text = smtp.body(message)
    m = re.search(r"(https://app\.example\.com/account" + re.escape(path) + r"\?token=[A-Za-z0-9_-]+)", text)
    assert m, text
    link = urllib.parse.urlsplit(m.group(1))
    return urllib.parse.parse_qs(link.query)["token"][0]


@unittest.skipUnless(smtp.interpreter(), "python3-aiosmtpd is not installed (scripts/install-deps installs it)")
class EmailFlows(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="slipway-it-email-")
        cls.sink = smtp.SmtpSink(cls.tmp.name).start()
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.addClassCleanup(cls.sink.stop)
        cls.config = harness.write_concept(cls.tmp.name, CONCEPT.format(port=cls.sink.port))
        cls.data = os.path.join(cls.tmp.name, "data")
        cls.env = identity_env(cls.tmp.name)
        cls.server = harness.Server(config=cls.config, data_dir=cls.data, env=cls.env).start()
        cls.addClassCleanup(lambda: cls.server.cleanup())

    def req(self, *a, **kw):
        kw.setdefault("token", None)
        return self.server.request(*a, **kw)

    def sign_up(self, verify=True):
        """(address, the login answer after verification — or, unverified, the sign-up answer: no tokens)."""
        email = f"{uuid.uuid4().hex[:12]}@example.com"
        r = self.req("POST", "/api/v1/auth/signup", body={"email": email, "password": PASSWORD})
        self.assertEqual(r.status, 201, r)
        if not verify:
            return email, r.json()
        token = token_of(self.sink.wait_for(email)[0], "/verify-email")
        self.assertEqual(self.req("POST", "/api/v1/auth/verify-email", body={"token": token}).status, 204)
        r = self.login(email)
        self.assertEqual(r.status, 200, r)
        return email, r.json()

    def login(self, email, password=PASSWORD):
        return self.req("POST", "/api/v1/auth/login", body={"email": email, "password": password})

    def test_sign_up_mails_a_link_and_login_waits_for_it(self):
        email, signed_up = self.sign_up(verify=False)
        # `verification: required`: the sign-up makes the user but no session.
        self.assertTrue(signed_up["verification_required"])
        self.assertNotIn("access_token", signed_up)
        self.assertNotIn("refresh_token", signed_up)
        [mail] = self.sink.wait_for(email)
        self.assertEqual(mail["Subject"], "Confirm your e-mail address for letters")
        self.assertIn("no-reply@letters.example", mail["From"])
        self.assertIn("Letters", mail["From"])
        p = assert_problem(self, self.login(email), 403)
        self.assertIn("Verify your e-mail address", p["detail"])
        # A new link replaces the first; resending within a minute sends nothing more.
        self.assertEqual(self.req("POST", "/api/v1/auth/verify-email/resend", body={"email": email}).status, 202)
        self.assertEqual(self.req("POST", "/api/v1/auth/verify-email/resend", body={"email": email}).status, 202)
        token = token_of(mail, "/verify-email")
        self.assertEqual(self.req("POST", "/api/v1/auth/verify-email", body={"token": token}).status, 204)
        assert_problem(self, self.req("POST", "/api/v1/auth/verify-email", body={"token": token}), 401)  # once
        r = self.login(email)
        self.assertEqual(r.status, 200)
        assert_problem(self, self.req("POST", "/api/v1/auth/verify-email/resend",
                                      token=r.json()["access_token"]), 409)  # verified already
        self.assertEqual(len(self.sink.to(email)), 1)

    def test_password_reset_answers_alike_mails_known_addresses_and_ends_every_session(self):
        email, signed_up = self.sign_up()
        unknown = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
        a = self.req("POST", "/api/v1/auth/password/reset", body={"email": unknown})
        b = self.req("POST", "/api/v1/auth/password/reset", body={"email": email.upper()})
        self.assertEqual((a.status, a.body), (b.status, b.body))
        self.assertEqual(a.status, 202)
        [mail] = self.sink.wait_for(email, subject="Reset")
        self.assertEqual(mail["Subject"], "Reset your letters password")
        self.assertIn("30 minutes", smtp.body(mail))
        self.assertEqual(self.sink.to(unknown), [])
        token = token_of(mail, "/reset-password")
        p = assert_problem(self, self.req("POST", "/api/v1/auth/password/reset/confirm",
                                          body={"token": token, "new_password": "short"}), 422)
        self.assertEqual(p["errors"][0]["field"], "new_password")
        r = self.req("POST", "/api/v1/auth/password/reset/confirm", body={"token": token, "new_password": NEW_PASSWORD})
        self.assertEqual(r.status, 204, r)
        assert_problem(self, self.req("GET", "/api/v1/auth/me", token=signed_up["access_token"]), 401)
        assert_problem(self, self.req("POST", "/api/v1/auth/refresh",
                                      body={"refresh_token": signed_up["refresh_token"]}), 401)
        assert_problem(self, self.login(email), 401)
        self.assertEqual(self.login(email, NEW_PASSWORD).status, 200)
        assert_problem(self, self.req("POST", "/api/v1/auth/password/reset/confirm",
                                      body={"token": token, "new_password": PASSWORD}), 401)  # once

    @unittest.skipUnless(shutil.which("oathtool"), "oathtool is not installed")
    def test_a_reset_does_not_bypass_the_second_factor(self):
        email, signed_up = self.sign_up()
        secret = self.req("POST", "/api/v1/auth/mfa/totp", token=signed_up["access_token"],
                          body={"password": PASSWORD}).json()["secret"]
        code = subprocess.run(["oathtool", "--totp", "-b", secret], capture_output=True, text=True).stdout.strip()
        self.assertEqual(self.req("POST", "/api/v1/auth/mfa/totp/confirm", token=signed_up["access_token"],
                                  body={"code": code}).status, 200)
        self.assertEqual(self.req("POST", "/api/v1/auth/password/reset", body={"email": email}).status, 202)
        token = token_of(self.sink.wait_for(email, subject="Reset")[0], "/reset-password")
        self.assertEqual(self.req("POST", "/api/v1/auth/password/reset/confirm",
                                  body={"token": token, "new_password": NEW_PASSWORD}).status, 204)
        r = self.login(email, NEW_PASSWORD)
        self.assertEqual(r.status, 200)
        self.assertTrue(r.json()["mfa_required"])
        self.assertNotIn("access_token", r.json())

    def test_change_of_address_needs_the_password_tells_the_old_address_and_confirms_by_link(self):
        email, signed_up = self.sign_up()
        token = signed_up["access_token"]
        new = f"new-{uuid.uuid4().hex[:8]}@example.com"
        r = self.req("POST", "/api/v1/auth/email", token=token, body={"new_email": new, "password": "wrong " + PASSWORD})
        assert_problem(self, r, 403)
        r = self.req("POST", "/api/v1/auth/email", token=token, body={"new_email": new.upper(), "password": PASSWORD})
        self.assertEqual(r.status, 202, r)
        [confirm] = self.sink.wait_for(new)
        [notice] = self.sink.wait_for(email, subject="Your letters e-mail address is being changed")
        self.assertIn(new, smtp.body(notice))
        self.assertNotIn("token=", smtp.body(notice))
        self.assertEqual(self.req("GET", "/api/v1/auth/me", token=token).json()["user"]["email"], email)  # not yet
        link = token_of(confirm, "/confirm-email")
        self.assertEqual(self.req("POST", "/api/v1/auth/email/confirm", body={"token": link}).status, 204)
        assert_problem(self, self.req("POST", "/api/v1/auth/email/confirm", body={"token": link}), 401)
        self.assertEqual(self.req("GET", "/api/v1/auth/me", token=token).json()["user"]["email"], new)
        self.assertEqual(self.login(new).status, 200)  # the new address is verified: login does not wait
        assert_problem(self, self.login(email), 401)
        # Another account's address cannot be taken.
        other, _ = self.sign_up(verify=False)
        r = self.req("POST", "/api/v1/auth/email", token=token, body={"new_email": other, "password": PASSWORD})
        assert_problem(self, r, 409)

    def test_a_pending_change_of_address_dies_with_a_password_reset(self):
        email, signed_up = self.sign_up()
        new = f"late-{uuid.uuid4().hex[:8]}@example.com"
        self.assertEqual(self.req("POST", "/api/v1/auth/email", token=signed_up["access_token"],
                                  body={"new_email": new, "password": PASSWORD}).status, 202)
        link = token_of(self.sink.wait_for(new)[0], "/confirm-email")
        # The owner, told by the notice, resets the password: the change asked for under the old one is over.
        self.assertEqual(self.req("POST", "/api/v1/auth/password/reset", body={"email": email}).status, 202)
        reset = token_of(self.sink.wait_for(email, subject="Reset")[0], "/reset-password")
        self.assertEqual(self.req("POST", "/api/v1/auth/password/reset/confirm",
                                  body={"token": reset, "new_password": NEW_PASSWORD}).status, 204)
        assert_problem(self, self.req("POST", "/api/v1/auth/email/confirm", body={"token": link}), 401)
        self.assertEqual(self.login(email, NEW_PASSWORD).json()["user"]["email"], email)

    def test_every_flow_is_audited(self):
        email, signed_up = self.sign_up()
        uid = signed_up["user"]["id"]
        self.req("POST", "/api/v1/auth/password/reset", body={"email": email})
        token = token_of(self.sink.wait_for(email, subject="Reset")[0], "/reset-password")
        self.req("POST", "/api/v1/auth/password/reset/confirm", body={"token": token, "new_password": NEW_PASSWORD})
        r = self.server.request("GET", "/api/v1/admin/audit?limit=100&filter=" +
                                urllib.parse.quote(f"actor_id = '{uid}'"))
        actions = [e["action"] for e in r.json()["items"]]
        for a in ("auth.email.verify", "auth.password.reset.request", "auth.password.reset.use"):
            self.assertIn(a, actions)
        self.assertNotIn(token, str(r.json()))

    def test_hostile_input_gets_a_precise_problem_and_changes_nothing(self):
        email, signed_up = self.sign_up()
        token = signed_up["access_token"]
        for path in ("/api/v1/auth/verify-email", "/api/v1/auth/email/confirm"):
            for body, status in (({}, 422), ({"token": 5}, 422), ({"token": "x" * 300}, 422), ({"token": "nope"}, 401),
                                 ({"token": "' OR 1=1 --"}, 401), ({"token": "a", "extra": 1}, 422)):
                assert_problem(self, self.req("POST", path, body=body), status)
            r = self.server.request("POST", path, token=None, raw_body=b"{not json",
                                    headers={"Content-Type": "application/json"})
            assert_problem(self, r, 400)
        for body, status in (({}, 422), ({"email": "not an address"}, 422), ({"email": 7}, 422)):
            assert_problem(self, self.req("POST", "/api/v1/auth/password/reset", body=body), status)
        for body in ({}, {"token": "x"}, {"new_password": NEW_PASSWORD}):
            assert_problem(self, self.req("POST", "/api/v1/auth/password/reset/confirm", body=body), 422)
        assert_problem(self, self.req("POST", "/api/v1/auth/password/reset/confirm",
                                      body={"token": "unknown", "new_password": NEW_PASSWORD}), 401)
        assert_problem(self, self.req("POST", "/api/v1/auth/email", body={"new_email": "a@b.example",
                                                                          "password": PASSWORD}), 401)
        for body, status in (({"new_email": "bad", "password": PASSWORD}, 422), ({"new_email": email,
                             "password": PASSWORD}, 422), ({"password": PASSWORD}, 422)):
            assert_problem(self, self.req("POST", "/api/v1/auth/email", token=token, body=body), status)
        self.assertEqual(self.req("POST", "/api/v1/auth/verify-email/resend", body={"email": "x@unknown.example"}).status,
                         202)
        # Nothing changed: the same password signs in, the address is the same, and no mail went anywhere else.
        r = self.login(email)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["user"]["email"], email)
        self.assertEqual(self.sink.to("x@unknown.example"), [])


@unittest.skipUnless(smtp.interpreter(), "python3-aiosmtpd is not installed (scripts/install-deps installs it)")
class MailOutage(unittest.TestCase):
    """The SMTP server stops: requests answer as before, the circuit opens, and every mail arrives once it is back
    — across a restart of slipway too."""

    def test_an_outage_costs_requests_nothing_and_loses_no_mail(self):
        with tempfile.TemporaryDirectory(prefix="slipway-it-email-outage-") as tmp:
            sink = smtp.SmtpSink(tmp)
            config = harness.write_concept(tmp, CONCEPT.format(port=sink.port))
            data = os.path.join(tmp, "data")
            env = identity_env(tmp)
            destination = f'{{destination="smtp://127.0.0.1:{sink.port}"}}'
            server = harness.Server(config=config, data_dir=data, env=env).start()
            try:
                # No SMTP server at all: sign-ups answer, the mail waits, the circuit opens.
                emails = [f"out{i}-{uuid.uuid4().hex[:6]}@example.com" for i in range(3)]
                for e in emails[:2]:
                    r = server.request("POST", "/api/v1/auth/signup", token=None, body={"email": e, "password": PASSWORD})
                    self.assertEqual(r.status, 201, r)
                harness.wait_for(lambda: metric(server, "slipway_outbound_circuit_state", destination) == 2,
                                 what="the SMTP circuit to open")
                harness.wait_for(lambda: metric(server, "slipway_mail_queue_pending") >= 2, what="two mails pending")
                self.assertGreaterEqual(metric(server, "slipway_mail_sent_total", '{outcome="retry"}'), 1)
                # While it is open, requests still answer.
                r = server.request("POST", "/api/v1/auth/signup", token=None,
                                   body={"email": emails[2], "password": PASSWORD})
                self.assertEqual(r.status, 201, r)
                # The queued mail is sealed: its link is not readable from the database.
                rows = harness.db_json(data, "SELECT sealed FROM _slipway_mail_queue")
                self.assertTrue(rows)
                self.assertFalse(any("token=" in row["sealed"] or "app.example.com" in row["sealed"] for row in rows))
            finally:
                server.stop()
            # slipway restarts with the mail still queued, and the SMTP server comes back.
            sink.start()
            try:
                with harness.Server(config=config, data_dir=data, env=env) as again:
                    for e in emails:
                        sink.wait_for(e, timeout=60)
                    harness.wait_for(lambda: metric(again, "slipway_mail_queue_pending") == 0, timeout=30,
                                     what="the queue to empty")
                    self.assertEqual(metric(again, "slipway_outbound_circuit_state", destination), 0)
                    self.assertGreaterEqual(metric(again, "slipway_mail_sent_total", '{outcome="sent"}'), 3)
            finally:
                sink.stop()
            self.assertEqual(sorted(m["To"] for m in sink.messages()), sorted(emails))  # each once

    def test_the_circuit_closes_again_when_the_server_returns(self):
        with tempfile.TemporaryDirectory(prefix="slipway-it-email-circuit-") as tmp:
            sink = smtp.SmtpSink(tmp).start()
            config = harness.write_concept(tmp, CONCEPT.format(port=sink.port))
            destination = f'{{destination="smtp://127.0.0.1:{sink.port}"}}'
            with harness.Server(config=config, data_dir=os.path.join(tmp, "data"), env=identity_env(tmp)) as server:
                def sign_up():
                    e = f"c-{uuid.uuid4().hex[:8]}@example.com"
                    self.assertEqual(server.request("POST", "/api/v1/auth/signup", token=None,
                                                    body={"email": e, "password": PASSWORD}).status, 201)
                    return e
                sink.wait_for(sign_up())
                self.assertEqual(metric(server, "slipway_outbound_circuit_state", destination), 0)
                sink.stop()
                waiting = [sign_up(), sign_up()]
                harness.wait_for(lambda: metric(server, "slipway_outbound_circuit_state", destination) == 2,
                                 what="the SMTP circuit to open")
                sink.start()
                for e in waiting:
                    sink.wait_for(e, timeout=60)
                harness.wait_for(lambda: metric(server, "slipway_outbound_circuit_state", destination) == 0,
                                 what="the SMTP circuit to close")
                self.assertGreaterEqual(metric(server, "slipway_outbound_circuit_transitions_total",
                                               f'{{destination="smtp://127.0.0.1:{sink.port}",to="open"}}'), 1)
            sink.stop()


class EmailConfiguration(unittest.TestCase):
    def test_an_smtp_username_needs_its_password_from_the_environment(self):
        with tempfile.TemporaryDirectory(prefix="slipway-it-email-config-") as tmp:
            config = harness.write_concept(tmp, CONCEPT.format(port=2525).replace("tls: none", "tls: starttls\n  username: letters"))
            base = dict(identity_env(tmp), SLIPWAY_ADMIN_TOKEN=harness.ADMIN_TOKEN)
            args = ("serve", "--config", config, "--data", os.path.join(tmp, "data"),
                    "--listen", f"127.0.0.1:{harness.free_port()}")
            r = harness.run_cli(*args, env=base, timeout=30)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("SLIPWAY_SMTP_PASSWORD", r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
            r = harness.run_cli(*args, env=dict(base, SLIPWAY_SMTP_PASSWORD="x", SLIPWAY_SMTP_PASSWORD_FILE="/nope"),
                                timeout=30)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("not both", r.stderr)
            r = harness.run_cli(*args, env=dict(base, SLIPWAY_SMTP_PASSWORD_FILE=os.path.join(tmp, "missing")),
                                timeout=30)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("cannot read SLIPWAY_SMTP_PASSWORD_FILE", r.stderr)


if __name__ == "__main__":
    harness.main()
