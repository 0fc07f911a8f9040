"""Migrations: a new data dir gets the schema (recorded); a changed file makes serve refuse (exit 4, plan on stderr)
unless --migrate; plan prints SQL marked [safe]/[DESTRUCTIVE]; destructive apply needs --allow-destructive (exit 5
otherwise); status shows the history; data survives a safe migration."""

import os
import re
import shutil
import tempfile
import unittest

import harness
from harness import run_cli

V1 = """app: notes
collections:
  notes:
    fields:
      title: { type: text, required: true }
      body:  { type: text }
    rules:
      list: "true"
      view: "true"
"""

V2_ADD_FIELD = V1.replace("      body:  { type: text }\n",
                          "      body:  { type: text }\n      stars: { type: int, default: 3 }\n")
V3_DROP_FIELD = V2_ADD_FIELD.replace("      body:  { type: text }\n", "")
V4_ADD_COLLECTION_AND_INDEX = V3_DROP_FIELD + """    indexes: [[stars]]
  tags:
    fields:
      name: { type: text }
"""


class Migrations(unittest.TestCase):
    """One data directory taken through several versions of the file, in order."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="slipway-it-migrate-")
        cls.data = os.path.join(cls.tmp, "data")
        cls.config = os.path.join(cls.tmp, "slipway.yaml")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def write(self, text):
        harness.write_concept(self.tmp, text)

    def cli(self, *args):
        return run_cli(*args, "--config", self.config, "--data", self.data, env={"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN})

    def serve_exit(self, *extra):
        return run_cli("serve", "--config", self.config, "--data", self.data,
                       "--listen", f"127.0.0.1:{harness.free_port()}", *extra,
                       env={"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN}, timeout=30)

    def versions(self, status_stdout):
        return [int(v) for v in re.findall(r"^\s+version (\d+)", status_stdout, re.M)]

    def test_1_new_data_dir_gets_the_schema_and_version_1(self):
        self.write(V1)
        with harness.Server(config=self.config, data_dir=self.data) as s:
            r = s.request("POST", "/api/v1/notes", body={"title": "before migration", "body": "kept"})
            self.assertEqual(r.status, 201, r)
            type(self).note_id = r.json()["id"]
        p = self.cli("migrate", "status")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.versions(p.stdout), [1])
        self.assertIn("up to date", p.stdout)
        p = self.cli("migrate", "plan")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("nothing to do", p.stdout)

    def test_2_serve_refuses_a_changed_file_with_exit_4_and_the_plan(self):
        self.write(V2_ADD_FIELD)
        p = self.serve_exit()
        self.assertEqual(p.returncode, 4, p.stderr)
        self.assertIn("[safe]", p.stderr)
        self.assertIn("stars", p.stderr)
        p = self.cli("migrate", "status")
        self.assertEqual(p.returncode, 4, p.stdout + p.stderr)
        self.assertIn("pending", p.stdout)
        self.assertEqual(self.versions(p.stdout), [1])

    def test_3_plan_prints_the_sql_marked_safe_and_changes_nothing(self):
        p = self.cli("migrate", "plan")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("-- [safe] add field notes.stars", p.stdout)
        self.assertRegex(p.stdout, r'ALTER TABLE "notes" ADD COLUMN "stars"')
        self.assertNotIn("DESTRUCTIVE", p.stdout)
        self.assertEqual(self.versions(self.cli("migrate", "status").stdout), [1])

    def test_4_serve_with_migrate_applies_safe_steps_and_keeps_data(self):
        with harness.Server(config=self.config, data_dir=self.data, args=["--migrate"]) as s:
            r = s.request("GET", f"/api/v1/notes/{self.note_id}")
            self.assertEqual(r.status, 200, r)
            rec = r.json()
            self.assertEqual(rec["title"], "before migration")
            self.assertEqual(rec["body"], "kept")
            self.assertIn("stars", rec)
            r = s.request("POST", "/api/v1/notes", body={"title": "after"})
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.json()["stars"], 3)
        p = self.cli("migrate", "status")
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertEqual(self.versions(p.stdout), [1, 2])
        self.assertIn("up to date", p.stdout)

    def test_5_dropping_a_field_is_destructive_and_refused_without_the_flag(self):
        self.write(V3_DROP_FIELD)
        p = self.cli("migrate", "plan")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("[DESTRUCTIVE] drop field notes.body", p.stdout)
        p = self.cli("migrate", "apply")
        self.assertEqual(p.returncode, 5, p.stdout + p.stderr)
        self.assertIn("--allow-destructive", p.stderr)
        self.assertEqual(self.versions(self.cli("migrate", "status").stdout), [1, 2])
        p = self.serve_exit("--migrate")
        self.assertIn(p.returncode, (4, 5), p.stderr)
        self.assertIn("DESTRUCTIVE", p.stderr)

    def test_6_destructive_apply_with_the_flag_succeeds_and_is_recorded(self):
        p = self.cli("migrate", "apply", "--allow-destructive")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("applied", p.stdout)
        p = self.cli("migrate", "status")
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertEqual(self.versions(p.stdout), [1, 2, 3])
        self.assertIn("up to date", p.stdout)
        with harness.Server(config=self.config, data_dir=self.data) as s:
            rec = s.request("GET", f"/api/v1/notes/{self.note_id}").json()
            self.assertEqual(rec["title"], "before migration")
            self.assertNotIn("body", rec)
            self.assertEqual(rec["stars"], 3)

    def test_7_apply_adds_a_collection_and_an_index_then_nothing_to_do(self):
        self.write(V4_ADD_COLLECTION_AND_INDEX)
        p = self.cli("migrate", "plan")
        self.assertIn("[safe] create collection tags", p.stdout)
        self.assertIn("[safe] add index", p.stdout)
        p = self.cli("migrate", "apply")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        p = self.cli("migrate", "apply")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("nothing to do", p.stdout)
        p = self.cli("migrate", "status")
        self.assertEqual(self.versions(p.stdout), [1, 2, 3, 4])
        with harness.Server(config=self.config, data_dir=self.data) as s:
            self.assertEqual(s.request("POST", "/api/v1/tags", body={"name": "t"}).status, 201)
            self.assertEqual(s.request("GET", f"/api/v1/notes/{self.note_id}").status, 200)

    def test_8_migrate_with_a_broken_file_exits_3(self):
        self.write("app: notes\ncollections: [\n")
        for sub in ("plan", "apply", "status"):
            p = self.cli("migrate", sub)
            self.assertEqual(p.returncode, 3, (sub, p.stderr))
        self.write(V4_ADD_COLLECTION_AND_INDEX)


class NewFieldWithoutDefault(unittest.TestCase):
    def test_new_required_field_without_default_on_a_table_with_rows_is_not_safe(self):
        with tempfile.TemporaryDirectory(prefix="slipway-it-migrate2-") as tmp:
            data = os.path.join(tmp, "data")
            config = harness.write_concept(tmp, V1)
            with harness.Server(config=config, data_dir=data) as s:
                self.assertEqual(s.request("POST", "/api/v1/notes", body={"title": "x"}).status, 201)
            harness.write_concept(tmp, V1.replace("      body:  { type: text }\n",
                                                  "      body:  { type: text }\n      must: { type: text, required: true }\n"))
            p = run_cli("migrate", "plan", "--config", config, "--data", data)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("DESTRUCTIVE", p.stdout)
            p = run_cli("migrate", "apply", "--config", config, "--data", data)
            self.assertEqual(p.returncode, 5, p.stdout + p.stderr)


@harness.sqlite_only("one process writes a SQLite file; on PostgreSQL several instances share one database and "
                     "migrations take an advisory lock (test_scale_out.py)")
class ApplyWhileServing(unittest.TestCase):
    """Issue 6 item 3: `migrate apply` next to a running server used to leave the server answering 500 (unknown
    column) while /readyz said ready. The server now holds the database's lock: apply is refused with the holder's
    pid, the server keeps serving the schema it checked, and plan/status still work beside it (read-only)."""

    def test_apply_is_refused_while_a_server_holds_the_database(self):
        with tempfile.TemporaryDirectory(prefix="slipway-it-migrate3-") as tmp:
            data = os.path.join(tmp, "data")
            config = harness.write_concept(tmp, V1)
            with harness.Server(config=config, data_dir=data) as s:
                self.assertEqual(s.request("POST", "/api/v1/notes", body={"title": "x"}).status, 201)
                harness.write_concept(tmp, V2_ADD_FIELD)
                p = run_cli("migrate", "apply", "--config", config, "--data", data)
                self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
                self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
                self.assertIn(f"in use by another slipway process (pid {s.proc.pid})", p.stderr)
                # A second server on the same data directory is refused the same way (two writers corrupt WAL).
                p = run_cli("serve", "--config", config, "--data", data, "--listen",
                            f"127.0.0.1:{harness.free_port()}", env={"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN})
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertIn("in use by another slipway process", p.stderr)
                # Inspection works beside the server and shows the pending step.
                p = run_cli("migrate", "plan", "--config", config, "--data", data)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn("add field notes.stars", p.stdout)
                p = run_cli("migrate", "status", "--config", config, "--data", data)
                self.assertEqual(p.returncode, 4, p.stdout + p.stderr)
                # The server still serves its schema and says ready.
                self.assertEqual(s.request("GET", "/readyz", token=None).status, 200)
                self.assertEqual(s.request("GET", "/api/v1/notes").status, 200)
                self.assertEqual(s.request("POST", "/api/v1/notes", body={"title": "y"}).status, 201)
            # Once the server has stopped, apply goes through and the records keep their data plus the default.
            p = run_cli("migrate", "apply", "--config", config, "--data", data)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            with harness.Server(config=config, data_dir=data) as s:
                items = s.request("GET", "/api/v1/notes?sort=title").json()["items"]
                self.assertEqual([(i["title"], i["stars"]) for i in items], [("x", 3), ("y", 3)])


class InspectionCreatesNothing(unittest.TestCase):
    def test_plan_and_status_on_a_missing_data_directory_create_nothing(self):
        with tempfile.TemporaryDirectory(prefix="slipway-it-migrate5-") as tmp:
            data = os.path.join(tmp, "data")
            config = harness.write_concept(tmp, V1)
            p = run_cli("migrate", "plan", "--config", config, "--data", data)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("create collection notes", p.stdout)
            p = run_cli("migrate", "status", "--config", config, "--data", data)
            self.assertEqual(p.returncode, 4, p.stdout + p.stderr)
            self.assertIn("no migrations applied yet", p.stdout)
            self.assertFalse(os.path.exists(data))


    @harness.sqlite_only("a file in the data directory that is not a SQLite database")
    def test_a_file_that_is_not_a_database_fails_in_one_line_and_is_left_alone(self):
        with tempfile.TemporaryDirectory(prefix="slipway-it-migrate6-") as tmp:
            data = os.path.join(tmp, "data")
            os.makedirs(data)
            junk = os.urandom(5000)
            with open(os.path.join(data, "slipway.db"), "wb") as f:
                f.write(junk)
            config = harness.write_concept(tmp, V1)
            for cmd in ("plan", "status", "apply"):
                p = run_cli("migrate", cmd, "--config", config, "--data", data)
                self.assertEqual(p.returncode, 1, (cmd, p.stdout, p.stderr))
                self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
                self.assertIn("not a database", p.stderr)
            with open(os.path.join(data, "slipway.db"), "rb") as f:
                self.assertEqual(f.read(), junk)


class DataDependentSteps(unittest.TestCase):
    """Issue 6 item 2 end to end: a field made required over records without a value."""

    def test_required_over_nulls_names_the_records_and_a_default_backfills_them(self):
        with tempfile.TemporaryDirectory(prefix="slipway-it-migrate4-") as tmp:
            data = os.path.join(tmp, "data")
            config = harness.write_concept(tmp, V1)
            with harness.Server(config=config, data_dir=data) as s:
                for body in ({"title": "a"}, {"title": "b", "body": "text"}, {"title": "c"}):
                    self.assertEqual(s.request("POST", "/api/v1/notes", body=body).status, 201)
            harness.write_concept(tmp, V1.replace("body:  { type: text }", "body:  { type: text, required: true }"))
            p = run_cli("migrate", "apply", "--config", config, "--data", data)
            self.assertEqual(p.returncode, 5, p.stdout + p.stderr)
            self.assertIn("[DESTRUCTIVE] make notes.body required: 2 records have no value", p.stderr)
            harness.write_concept(tmp, V1.replace("body:  { type: text }",
                                                  "body:  { type: text, required: true, default: empty }"))
            p = run_cli("migrate", "apply", "--config", config, "--data", data)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("[safe] make notes.body required; records without a value get the default 'empty' "
                          "(2 records)", p.stdout)
            with harness.Server(config=config, data_dir=data) as s:
                items = s.request("GET", "/api/v1/notes?sort=title").json()["items"]
                self.assertEqual([i["body"] for i in items], ["empty", "text", "empty"])
                # ... and none of them fails its next update.
                for i in items:
                    r = s.request("PATCH", f"/api/v1/notes/{i['id']}", body={"title": i["title"] + "!"})
                    self.assertEqual(r.status, 200, r)


FIXTURE = os.path.join(harness.SOURCE_DIR, "tests", "fixtures", "data-before-identity")


@harness.sqlite_only("the fixture is a SQLite file written by the release before identity")
class UpgradeInPlace(unittest.TestCase):
    """A data directory written by the release before slipway kept versioned system tables (made with the blog
    example: one author, one published post) is upgraded in place: its records stay, the system versions are
    applied once and recorded, and `migrate status` shows them."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="slipway-it-upgrade-")
        self.data = os.path.join(self.tmp.name, "data")
        os.makedirs(self.data)
        shutil.copy(os.path.join(FIXTURE, "slipway.db"), self.data)
        self.config = os.path.join(FIXTURE, "slipway.yaml")

    def tearDown(self):
        self.tmp.cleanup()

    def status(self):
        return run_cli("migrate", "status", "--config", self.config, "--data", self.data)

    def system_lines(self, stdout):
        return re.findall(r"^\s+system (\d+)\s+(.*)$", stdout, re.M)

    def test_an_old_data_directory_is_upgraded_in_place_and_keeps_its_records(self):
        before = self.status()
        self.assertEqual(before.returncode, 0, before.stderr)
        lines = self.system_lines(before.stdout)
        self.assertEqual([v for v, _ in lines], ["1", "2", "3", "4", "5", "6"])
        self.assertTrue(all(rest.startswith("pending") for _, rest in lines), before.stdout)
        self.assertIn("version 1", before.stdout)  # the concept's own history is untouched
        with harness.Server(config=self.config, data_dir=self.data) as server:
            posts = server.request("GET", "/api/v1/posts", token=None).json()["items"]
            self.assertEqual([p["title"] for p in posts], ["Before identity"])
            authors = server.request("GET", "/api/v1/authors").json()["items"]
            self.assertEqual([a["email"] for a in authors], ["ada@example.com"])
            # Writes work on the upgraded file.
            r = server.request("POST", "/api/v1/posts", body={"title": "After identity", "author": authors[0]["id"]})
            self.assertEqual(r.status, 201, r)
        after = self.status()
        self.assertEqual(after.returncode, 0, after.stderr)
        lines = self.system_lines(after.stdout)
        self.assertEqual([v for v, _ in lines], ["1", "2", "3", "4", "5", "6"])
        for _, rest in lines:
            self.assertRegex(rest, r"^\d{4}-\d\d-\d\dT.* by slipway ")
        applied = after.stdout
        # A second start applies nothing again: the same history, the same times.
        with harness.Server(config=self.config, data_dir=self.data):
            pass
        self.assertEqual(self.status().stdout, applied)




class SystemSchemaGuards(unittest.TestCase):
    """slipway's own tables are versioned: a database written by a newer slipway, or whose recorded definition was
    edited, stops start-up in one line and is left as it was (both engines)."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="slipway-it-system-")
        self.data = os.path.join(self.tmp.name, "data")
        self.config = harness.EXAMPLE

    def tearDown(self):
        self.tmp.cleanup()

    def status(self):
        return run_cli("migrate", "status", "--config", self.config, "--data", self.data)

    def test_a_database_from_a_newer_slipway_is_refused_and_left_alone(self):
        with harness.Server(config=self.config, data_dir=self.data):
            pass
        harness.db_exec(self.data, "INSERT INTO _slipway_system_migrations VALUES (99, 'from the future', 'x', 'now', 'someone')")
        def dump():
            return [harness.db_json(self.data, f"SELECT * FROM {t} ORDER BY 1")
                    for t in ("_slipway_system_migrations", "_slipway_migrations", "posts", "authors")]
        image = dump()
        r = run_cli("serve", "--config", self.config, "--data", self.data, "--listen", f"127.0.0.1:{harness.free_port()}",
                    env={"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN}, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("newer slipway", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertEqual(dump(), image)

    def test_a_changed_system_definition_stops_start_up(self):
        with harness.Server(config=self.config, data_dir=self.data):
            pass
        harness.db_exec(self.data, "UPDATE _slipway_system_migrations SET checksum = 'edited' WHERE version = 2")
        r = run_cli("serve", "--config", self.config, "--data", self.data, "--listen", f"127.0.0.1:{harness.free_port()}",
                    env={"SLIPWAY_ADMIN_TOKEN": harness.ADMIN_TOKEN}, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("System schema version 2", r.stderr)
        s = self.status()
        self.assertNotEqual(s.returncode, 0)
        self.assertIn("System schema version 2", s.stderr)


if __name__ == "__main__":
    harness.main()
