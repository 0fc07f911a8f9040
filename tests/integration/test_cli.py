"""The command line: version, init, check, usage errors, --help on every command, production start-up without a
token, and the documented exit codes (0 ok, 1 runtime, 2 usage, 3 concept invalid, 4 schema differs, 5 destructive
refused)."""

import os
import re
import shutil
import sqlite3
import tempfile
import unittest

import harness
from harness import run_cli

DIAG_RE = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): (?P<msg>.+)$")

BROKEN = """app: blog
collections:
  posts:
    fields:
      title: { type: text, requird: true }
      views: { type: integr }
      author: { type: relation, to: users }
    rules:
      list: "titel = 'x'"
"""


# No admin token from the environment of whoever runs the tests (run_cli already drops SLIPWAY_ADMIN_TOKEN).
NO_TOKEN = {"SLIPWAY_ADMIN_TOKEN_FILE": ""}


class Cli(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="slipway-it-cli-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def assert_one_line_error(self, p):
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertNotIn("Traceback", p.stderr)
        return lines[0]

    def test_version_prints_the_version_and_exits_0(self):
        p = run_cli("version")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"^slipway \d+\.\d+\.\d+")

    def test_version_names_the_sqlite_library_in_use(self):
        # Python's sqlite3 module loads the same shared libsqlite3 as slipway (Debian links both dynamically), so its
        # run-time version is the one slipway must report: the library loaded, not the headers compiled against.
        p = run_cli("version")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.splitlines()[0].split(" ", 2)[2], f"(sqlite {sqlite3.sqlite_version})", p.stdout)

    def test_help_on_every_command_exits_0(self):
        for args in (["--help"], ["init", "--help"], ["check", "--help"], ["serve", "--help"], ["migrate", "--help"],
                     ["migrate", "plan", "--help"], ["migrate", "apply", "--help"], ["migrate", "status", "--help"],
                     ["version", "--help"]):
            p = run_cli(*args)
            self.assertEqual(p.returncode, 0, (args, p.stderr))
            self.assertTrue(p.stdout.strip(), args)
        self.assertIn("--allow-destructive", run_cli("migrate", "apply", "--help").stdout)
        self.assertIn("--migrate", run_cli("serve", "--help").stdout)

    def test_no_command_is_a_usage_error(self):
        p = run_cli()
        self.assertEqual(p.returncode, 2, p.stderr)

    def test_a_database_url_is_never_printed_with_its_password(self):
        # A URL libpq cannot parse, a server that is not there, a key=value string: one line, exit 1, no secret.
        with tempfile.TemporaryDirectory() as tmp:
            for url in ("postgres://app:p%ss-w0rd@127.0.0.1:1/x", "postgres://app:s3cret-w0rd@127.0.0.1:1/x",
                        "postgres://app@127.0.0.1:1/x?password=s3cret-w0rd", "host=db password=s3cret-w0rd"):
                p = run_cli("migrate", "status", "--config", harness.EXAMPLE, "--data", tmp, "--database", url)
                self.assertEqual(p.returncode, 1, (url, p.stdout, p.stderr))
                self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
                self.assertNotIn("w0rd", p.stderr + p.stdout)

    def test_unknown_command_is_exit_2_with_one_line(self):
        p = run_cli("bogus")
        self.assertEqual(p.returncode, 2)
        self.assert_one_line_error(p)

    def test_unknown_command_is_named_on_one_line_with_exit_2(self):
        p = run_cli("frobnicate")
        self.assertEqual(p.returncode, 2, p.stderr)
        line = self.assert_one_line_error(p)
        self.assertTrue(line.startswith("slipway: unknown command 'frobnicate'"), line)
        self.assertNotIn("did you mean", line)
        self.assertNotIn("subcommand is required", line)

    def test_a_misspelt_command_gets_a_suggestion(self):
        for args, unknown, meant in ((["serv"], "serv", "serve"), (["chek", "--config", "x.yaml"], "chek", "check"),
                                     (["migrate", "aply"], "migrate aply", "apply")):
            with self.subTest(args=args):
                p = run_cli(*args)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertEqual(self.assert_one_line_error(p),
                                 f"slipway: unknown command '{unknown}' (did you mean '{meant}'?)")

    def test_a_missing_command_lists_the_commands(self):
        for args, expected in (([], "init, check, serve, migrate, version"), (["migrate"], "plan, apply, status")):
            with self.subTest(args=args):
                p = run_cli(*args)
                self.assertEqual(p.returncode, 2, p.stderr)
                line = self.assert_one_line_error(p)
                self.assertTrue(line.startswith("slipway: missing command"), line)
                self.assertIn(expected, line)

    def test_each_command_shows_only_the_flags_it_uses(self):
        server_flags = ("--listen", "--log-level", "--mode", "--threads", "--migrate ")
        for sub in ("plan", "apply", "status"):
            with self.subTest(command=f"migrate {sub}"):
                out = run_cli("migrate", sub, "--help").stdout
                for flag in ("--config", "--data"):
                    self.assertIn(flag, out)
                for flag in server_flags:
                    self.assertNotIn(flag, out)
                # Not shown, and not accepted either: a serve-only flag is a usage error here.
                p = run_cli("migrate", sub, "--mode", "dev")
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assert_one_line_error(p)
        check = run_cli("check", "--help").stdout
        for flag in ("--config", "--data", "--listen", "--log-level", "--mode", "--strict"):
            self.assertIn(flag, check)
        for flag in ("--threads", "--migrate ", "--allow-destructive"):
            self.assertNotIn(flag, check)
        serve = run_cli("serve", "--help").stdout
        for flag in ("--config", "--data", "--listen", "--log-level", "--mode", "--threads", "--migrate"):
            self.assertIn(flag, serve)
        for flag in ("--strict", "--allow-destructive"):
            self.assertNotIn(flag, serve)
        self.assertNotIn("--", run_cli("version", "--help").stdout.replace("--help", ""))

    def test_bad_flag_is_exit_2_with_one_line_on_stderr(self):
        for args in (["serve", "--bogus"], ["check", "--nope=1"], ["migrate", "plan", "--frobnicate"]):
            p = run_cli(*args)
            self.assertEqual(p.returncode, 2, (args, p.stderr))
            self.assert_one_line_error(p)

    def test_bogus_mode_is_exit_2(self):
        p = run_cli("check", "--config", harness.EXAMPLE, "--mode", "bogus", env={"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN})
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("mode", self.assert_one_line_error(p))
        p = run_cli("serve", "--config", harness.EXAMPLE, "--data", self.tmp, "--mode", "bogus",
                    env={"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN})
        self.assertEqual(p.returncode, 2, p.stderr)

    def test_bad_listen_and_log_level_are_exit_2(self):
        env = {"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN}
        for flags in (["--listen", "nonsense"], ["--listen", "127.0.0.1:99999"], ["--log-level", "loud"]):
            p = run_cli("check", "--config", harness.EXAMPLE, *flags, env=env)
            self.assertEqual(p.returncode, 2, (flags, p.stderr))
            self.assert_one_line_error(p)

    def test_init_writes_a_starter_that_check_accepts(self):
        target = os.path.join(self.tmp, "app")
        p = run_cli("init", target)
        self.assertEqual(p.returncode, 0, p.stderr)
        path = os.path.join(target, "slipway.yaml")
        self.assertTrue(os.path.isfile(path))
        with open(path) as f:
            text = f.read()
        self.assertIn("collections:", text)
        self.assertIn("#", text)
        # What the starter file tells a new user to run, on a machine without production secrets.
        p = run_cli("check", "--config", path, env=NO_TOKEN)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_init_refuses_to_overwrite_with_exit_1(self):
        harness.write_concept(self.tmp, "# mine\n")
        p = run_cli("init", self.tmp)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assert_one_line_error(p)
        with open(os.path.join(self.tmp, "slipway.yaml")) as f:
            self.assertEqual(f.read(), "# mine\n")

    def test_check_accepts_the_example(self):
        p = run_cli("check", "--config", harness.EXAMPLE, env={"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN})
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_check_without_an_admin_token_warns_on_one_line_and_exits_0(self):
        p = run_cli("check", "--config", harness.EXAMPLE, env=NO_TOKEN)
        self.assertEqual(p.returncode, 0, p.stderr)
        line = self.assert_one_line_error(p)
        self.assertTrue(line.startswith("slipway: warning: SLIPWAY_ADMIN_TOKEN is not set"), line)
        self.assertIn("serve --mode production will refuse to start", line)
        self.assertIn(": ok (", p.stdout)

    def test_check_strict_fails_with_exit_2_on_a_missing_admin_token(self):
        p = run_cli("check", "--strict", "--config", harness.EXAMPLE, env=NO_TOKEN)
        self.assertEqual(p.returncode, 2, p.stderr)
        line = self.assert_one_line_error(p)
        self.assertIn("SLIPWAY_ADMIN_TOKEN is not set", line)
        self.assertNotIn("warning", line)
        self.assertEqual(p.stdout, "")

    def test_check_strict_passes_silently_with_a_token_or_in_dev_mode(self):
        for args, env in ((["--strict"], {"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN}),
                          (["--strict", "--mode", "dev"], NO_TOKEN), (["--mode", "dev"], NO_TOKEN)):
            with self.subTest(args=args):
                p = run_cli("check", "--config", harness.EXAMPLE, *args, env=env)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertEqual(p.stderr, "")

    def test_check_refuses_a_configured_but_unusable_token_without_strict(self):
        missing = os.path.join(self.tmp, "no-such-file")
        for env, expected in (({"SLIPWAY_ADMIN_TOKEN": "short"}, "at least 32 characters"),
                              ({"SLIPWAY_ADMIN_TOKEN_FILE": missing}, "SLIPWAY_ADMIN_TOKEN_FILE")):
            for mode in ("production", "dev"):
                with self.subTest(env=env, mode=mode):
                    p = run_cli("check", "--config", harness.EXAMPLE, "--mode", mode, env=env)
                    self.assertEqual(p.returncode, 2, p.stderr)
                    line = self.assert_one_line_error(p)
                    self.assertIn(expected, line)
                    self.assertNotIn("warning", line)

    def test_check_on_a_broken_file_exits_3_with_every_error_located(self):
        path = harness.write_concept(self.tmp, BROKEN)
        p = run_cli("check", "--config", path, env={"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN})
        self.assertEqual(p.returncode, 3, p.stderr)
        diags = [DIAG_RE.match(l) for l in p.stderr.splitlines() if l.strip()]
        diags = [d for d in diags if d]
        self.assertGreaterEqual(len(diags), 4, p.stderr)
        for d in diags:
            self.assertEqual(d.group("file"), path)
        where = {(int(d.group("line")), int(d.group("col"))) for d in diags}
        self.assertIn(5, {l for l, _ in where}, p.stderr)   # requird
        self.assertIn(6, {l for l, _ in where}, p.stderr)   # integr
        self.assertIn(7, {l for l, _ in where}, p.stderr)   # users
        self.assertIn("did you mean 'required'", p.stderr)
        self.assertIn("did you mean 'title'", p.stderr)

    def test_check_on_a_yaml_syntax_error_exits_3_with_position(self):
        path = harness.write_concept(self.tmp, "app: blog\ncollections:\n  posts: { fields: [\n")
        p = run_cli("check", "--config", path, env={"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN})
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertTrue(any(DIAG_RE.match(l) for l in p.stderr.splitlines()), p.stderr)

    def test_check_on_a_missing_file_fails_with_one_line(self):
        p = run_cli("check", "--config", os.path.join(self.tmp, "missing.yaml"),
                    env={"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN})
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("missing.yaml", p.stderr)

    def test_serve_with_a_broken_file_exits_3(self):
        path = harness.write_concept(self.tmp, BROKEN)
        p = run_cli("serve", "--config", path, "--data", os.path.join(self.tmp, "d"),
                    env={"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN}, timeout=30)
        self.assertEqual(p.returncode, 3, p.stderr)

    def test_production_serve_without_admin_token_refuses_to_start(self):
        p = run_cli("serve", "--config", harness.EXAMPLE, "--data", os.path.join(self.tmp, "d"),
                    "--listen", f"127.0.0.1:{harness.free_port()}", "--mode", "production", timeout=30)
        self.assertNotEqual(p.returncode, 0)
        line = self.assert_one_line_error(p)
        self.assertIn("SLIPWAY_ADMIN_TOKEN", line)

    def test_short_admin_token_is_refused(self):
        p = run_cli("serve", "--config", harness.EXAMPLE, "--data", os.path.join(self.tmp, "d"),
                    "--listen", f"127.0.0.1:{harness.free_port()}", env={"SLIPWAY_ADMIN_TOKEN": "tok-SECRETVAL"}, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        line = self.assert_one_line_error(p)
        self.assertNotIn("SECRETVAL", line)  # never echo the secret

    def test_short_admin_token_is_refused_in_dev_mode_too(self):
        # Dev mode only generates a token when none is configured; a configured bad one is never used.
        p = run_cli("serve", "--config", harness.EXAMPLE, "--data", os.path.join(self.tmp, "d"), "--mode", "dev",
                    "--listen", f"127.0.0.1:{harness.free_port()}", env={"SLIPWAY_ADMIN_TOKEN": "short"}, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("at least 32 characters", self.assert_one_line_error(p))

    def serve_fails(self, *args, env=None):
        p = run_cli("serve", "--config", harness.EXAMPLE, "--data", os.path.join(self.tmp, "d"),
                    "--listen", f"127.0.0.1:{harness.free_port()}", *args,
                    env=dict({"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN}, **(env or {})), timeout=30)
        self.assertEqual(p.returncode, 2, p.stderr)
        return self.assert_one_line_error(p)

    def test_threads_out_of_range_or_not_a_number_is_exit_2(self):
        for bad in ("-1", "257", "abc", "99999999999999999999"):
            with self.subTest(flag=bad):
                self.serve_fails("--threads", bad)
            with self.subTest(env=bad):
                self.serve_fails(env={"SLIPWAY_THREADS": bad})

    def test_database_tuning_flags_out_of_range_or_not_a_number_are_exit_2(self):
        bad_values = {"--db-pool-size": ("0", "1025", "x"), "--db-pool-wait-ms": ("0", "60001", "1.5"),
                      "--db-statement-timeout-ms": ("-1", "600001", ""), "--db-writers": ("0", "65", "two"),
                      "--db-read-pipelines": ("-1", "17", "many")}
        for flag, values in bad_values.items():
            env_name = "SLIPWAY_" + flag[2:].upper().replace("-", "_")
            for bad in values:
                with self.subTest(flag=flag, value=bad):
                    line = self.serve_fails(flag, bad)
                    self.assertIn(flag, line)
                if bad:
                    with self.subTest(env=env_name, value=bad):
                        self.serve_fails(env={env_name: bad})

    def test_a_missing_admin_token_file_is_exit_2_naming_the_variable(self):
        line = self.serve_fails(env={"SLIPWAY_ADMIN_TOKEN": "",
                                     "SLIPWAY_ADMIN_TOKEN_FILE": os.path.join(self.tmp, "no-such-file")})
        self.assertIn("SLIPWAY_ADMIN_TOKEN_FILE", line)

    def test_token_and_token_file_together_are_refused(self):
        token_file = os.path.join(self.tmp, "token")
        with open(token_file, "w") as f:
            f.write(harness.ADMIN_TOKEN)
        line = self.serve_fails(env={"SLIPWAY_ADMIN_TOKEN_FILE": token_file})
        self.assertIn("not both", line)

    def test_admin_token_file_is_accepted(self):
        token_file = os.path.join(self.tmp, "token")
        with open(token_file, "w") as f:
            f.write(harness.ADMIN_TOKEN + "\n")
        server = harness.Server(admin_token=None, env={"SLIPWAY_ADMIN_TOKEN_FILE": token_file})
        with server:
            r = server.request("GET", "/api/v1/posts", token=harness.ADMIN_TOKEN)
            self.assertEqual(r.status, 200, r)

    def test_dev_mode_generates_and_stores_an_admin_token(self):
        data = os.path.join(self.tmp, "data")
        server = harness.Server(data_dir=data, admin_token=None, mode="dev")
        with server:
            token_path = os.path.join(data, "dev-admin-token")
            self.assertTrue(os.path.isfile(token_path))
            with open(token_path) as f:
                token = f.read().strip()
            self.assertGreaterEqual(len(token), 32)
            self.assertEqual(os.stat(token_path).st_mode & 0o077, 0, "token file must not be group/world readable")
            self.assertEqual(server.request("POST", "/api/v1/posts", body={"title": "dev"}, token=token).status, 201)
            self.assertEqual(server.request("POST", "/api/v1/posts", body={"title": "dev"}, token=None).status, 403)

    def test_data_dir_is_created_private(self):
        data = os.path.join(self.tmp, "newdata")
        with harness.Server(data_dir=data):
            self.assertEqual(os.stat(data).st_mode & 0o077, 0)

    def test_listen_on_a_port_in_use_fails_with_exit_1(self):
        with harness.Server() as server:
            p = run_cli("serve", "--config", harness.EXAMPLE, "--data", os.path.join(self.tmp, "d2"),
                        "--listen", f"127.0.0.1:{server.port}", env={"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN},
                        timeout=30)
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertTrue(p.stderr.strip())

    def test_env_config_is_used_and_flags_override_it(self):
        env = {"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN, "SLIPWAY_CONFIG": harness.EXAMPLE}
        p = run_cli("check", env=env, cwd=self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = run_cli("check", "--config", os.path.join(self.tmp, "none.yaml"), env=env, cwd=self.tmp)
        self.assertNotEqual(p.returncode, 0)

    def test_listen_precedence_is_flag_then_env_then_file_then_default(self):
        with open(harness.EXAMPLE) as f:
            text = f.read()
        config = harness.write_concept(self.tmp, text + "\nserver:\n  listen: 127.0.0.1:9999\n", "server.yaml")
        env = {"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN}
        p = run_cli("check", "--config", config, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("listen 127.0.0.1:9999", p.stdout)          # the file beats the default
        p = run_cli("check", "--config", config, env=dict(env, SLIPWAY_LISTEN="127.0.0.1:7777"))
        self.assertIn("listen 127.0.0.1:7777", p.stdout)          # env beats the file
        p = run_cli("check", "--config", config, "--listen", "127.0.0.1:6666",
                    env=dict(env, SLIPWAY_LISTEN="127.0.0.1:7777"))
        self.assertIn("listen 127.0.0.1:6666", p.stdout)          # the flag beats env
        p = run_cli("check", "--config", harness.EXAMPLE, env=env)
        self.assertIn("listen 127.0.0.1:8080", p.stdout)          # the default


if __name__ == "__main__":
    harness.main()
