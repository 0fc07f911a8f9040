"""`slipway user …` and `slipway apikey …` on the notes example: a first admin made from the command line can log
in; roles, disabling and keys made offline hold when the server starts; every mistake is one line and an exit code."""

import os
import re
import subprocess
import tempfile
import unittest

import harness
from test_auth import NOTES, PASSWORD, identity_env


def cli(*args, data, stdin=None, config=NOTES):
    full_env = dict(os.environ)
    full_env.pop("SLIPWAY_ADMIN_TOKEN", None)
    full_env.update(harness.engine_env(data))
    return subprocess.run([harness.BIN, *args, "--config", config, "--data", data], input=stdin,
                          capture_output=True, text=True, env=full_env, timeout=60)


class UserAndApiKeyCommands(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="slipway-it-cli-identity-")
        self.data = os.path.join(self.tmp.name, "data")
        self.env = identity_env(self.tmp.name)
        r = cli("migrate", "apply", data=self.data)
        self.assertEqual(r.returncode, 0, r.stderr)

    def tearDown(self):
        self.tmp.cleanup()

    def one_line_error(self, r, code, text):
        self.assertEqual(r.returncode, code, r.stdout + r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertTrue(r.stderr.startswith("slipway: "), r.stderr)
        self.assertIn(text, r.stderr)

    def test_a_user_made_offline_logs_in_with_its_roles(self):
        r = cli("user", "create", "--email", "Root@Example.com", "--roles", "admin,editor", "--field", "name=Root",
                data=self.data, stdin=PASSWORD + "\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        uid = r.stdout.split()[0]
        self.assertRegex(r.stdout, r"^[0-9a-f-]{36}  root@example\.com\n$")
        listed = cli("user", "list", data=self.data)
        self.assertIn(f"{uid}  root@example.com  roles: admin,editor", listed.stdout)
        with harness.Server(config=NOTES, data_dir=self.data, env=self.env) as s:
            login = s.request("POST", "/api/v1/auth/login", token=None,
                              body={"email": "root@example.com", "password": PASSWORD})
            self.assertEqual(login.status, 200, login)
            token = login.json()["access_token"]
            self.assertEqual(s.request("GET", "/api/v1/admin/users", token=token).status, 200)  # the admin role
            # On SQLite writing needs the lock the server holds; reading works beside it. (On PostgreSQL several
            # processes write one database, and the change reaches running servers: test_scale_out.py.)
            if harness.ENGINE == "sqlite":
                busy = cli("user", "set-roles", "--email", "root@example.com", "--roles", "member", data=self.data)
                self.one_line_error(busy, 1, "in use by another slipway process")
            self.assertIn("root@example.com", cli("user", "list", data=self.data).stdout)
        self.assertEqual(cli("user", "set-roles", "--email", "root@example.com", "--roles", "member", data=self.data).returncode, 0)
        self.assertEqual(cli("user", "disable", "--email", "ROOT@example.com", data=self.data).returncode, 0)
        self.assertIn("disabled", cli("user", "list", data=self.data).stdout)
        with harness.Server(config=NOTES, data_dir=self.data, env=self.env) as s:
            self.assertEqual(s.request("POST", "/api/v1/auth/login", token=None,
                                       body={"email": "root@example.com", "password": PASSWORD}).status, 401)
        self.assertEqual(cli("user", "disable", "--enable", "--email", "root@example.com", data=self.data).returncode, 0)
        self.assertIn("roles: member\n", cli("user", "list", data=self.data).stdout.split("  created")[0] + "\n")

    def test_user_mistakes_are_one_line_each(self):
        ok = cli("user", "create", "--email", "a@example.com", data=self.data, stdin=PASSWORD + "\n")
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.one_line_error(cli("user", "create", "--email", "a@example.com", data=self.data, stdin=PASSWORD + "\n"),
                            1, "exists already")
        self.one_line_error(cli("user", "create", "--email", "b@example.com", data=self.data, stdin="short\n"),
                            2, "at least 12")
        self.one_line_error(cli("user", "create", "--email", "b@example.com", "--roles", "root", data=self.data,
                                stdin=PASSWORD + "\n"), 2, "unknown role 'root'")
        self.one_line_error(cli("user", "create", "--email", "not-an-address", data=self.data, stdin=PASSWORD + "\n"),
                            2, "email")
        self.one_line_error(cli("user", "create", "--email", "b@example.com", data=self.data, stdin=""), 2, "stdin")
        self.one_line_error(cli("user", "set-roles", "--email", "nobody@example.com", "--roles", "member", data=self.data),
                            1, "no user has the address")
        self.one_line_error(cli("user", "create", data=self.data), 2, "--email")
        blog = cli("user", "list", data=os.path.join(self.tmp.name, "blog"), config=harness.EXAMPLE)
        self.one_line_error(blog, 2, "no `auth:` section")
        fresh = cli("user", "list", data=os.path.join(self.tmp.name, "fresh"))
        self.one_line_error(fresh, 1, "migrate apply")
        h = subprocess.run([harness.BIN, "user", "create", "--help"], capture_output=True, text=True)
        self.assertEqual(h.returncode, 0)
        self.assertIn("--password-file", h.stdout)
        self.assertNotIn("--listen", h.stdout)

    def test_api_keys_made_offline_work_once_the_server_starts_and_stop_when_revoked(self):
        r = cli("apikey", "create", "--name", "reports", "--roles", "admin", data=self.data)
        self.assertEqual(r.returncode, 0, r.stderr)
        m = re.match(r"^id (\S+)\nkey (slw_[a-z2-7]{8}_[A-Za-z0-9]{43})\n$", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        key_id, key = m.groups()
        self.assertIn("shown once", r.stderr)
        listed = cli("apikey", "list", data=self.data).stdout
        self.assertIn(key_id, listed)
        self.assertNotIn(key[13:], listed)
        with harness.Server(config=NOTES, data_dir=self.data, env=self.env) as s:
            self.assertEqual(s.request("GET", "/api/v1/admin/api-keys", token=key).status, 200)
        self.assertIn("last used 2", cli("apikey", "list", data=self.data).stdout)
        self.assertEqual(cli("apikey", "revoke", key_id, data=self.data).returncode, 0)
        self.one_line_error(cli("apikey", "revoke", key_id, data=self.data), 1, "no live API key")
        with harness.Server(config=NOTES, data_dir=self.data, env=self.env) as s:
            self.assertEqual(s.request("GET", "/api/v1/admin/api-keys", token=key).status, 401)
        self.one_line_error(cli("apikey", "create", "--name", "x", "--roles", "root", data=self.data), 2, "unknown role")
        self.one_line_error(cli("apikey", "create", "--name", "x", "--expires", "yesterday", data=self.data), 2, "--expires")
        self.one_line_error(cli("apikey", "revoke", data=self.data), 2, "id")


if __name__ == "__main__":
    harness.main()
