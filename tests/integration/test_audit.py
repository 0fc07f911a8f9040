"""The audit log: admin writes, denials and migrations are recorded in a hash chain; `slipway audit verify` checks
it and, after the SQLite file is edited with the `sqlite3` tool (a row edited, removed, or two reordered), names the
first bad entry and exits 6."""

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import run_cli
from itutil import assert_problem, quote


class AuditLog(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="slipway-it-audit-")
        self.data = os.path.join(self.tmp.name, "data")
        with harness.Server(data_dir=self.data) as s:
            a = s.request("POST", "/api/v1/authors", body={"name": "Ada", "email": "ada@example.com"})
            self.assertEqual(a.status, 201, a)
            self.author = a.json()["id"]
            p = s.request("POST", "/api/v1/posts", body={"title": "Audited", "author": self.author})
            self.assertEqual(p.status, 201, p)
            self.post = p.json()["id"]
            self.assertEqual(s.request("PATCH", f"/api/v1/posts/{self.post}", body={"views": 2}).status, 200)
            # An anonymous create where only the admin may create: a 403 denial, counted but not chained (anyone
            # could grow the log otherwise); a known caller's denials are chained (test_admin.py).
            denied = s.request("POST", "/api/v1/posts", body={"title": "nope"}, token=None)
            self.assertEqual(denied.status, 403, denied)
            metrics = s.request("GET", "/metrics", token=None).body.decode()
            self.assertIn('slipway_access_denied_total{caller="anonymous"} 1', metrics)
            self.assertEqual(s.request("DELETE", f"/api/v1/posts/{self.post}").status, 204)
        self.db = os.path.join(self.data, "slipway.db")

    def tearDown(self):
        self.tmp.cleanup()

    def verify(self):
        return run_cli("audit", "verify", "--config", harness.EXAMPLE, "--data", self.data)

    def sql(self, statement):
        harness.db_exec(self.data, statement)

    def rows(self):
        cols = ("seq", "actor_kind", "actor_id", "action", "collection", "record_id", "request_id")
        out = harness.db_json(self.data, f"SELECT {', '.join(cols)} FROM _slipway_audit ORDER BY seq")
        return [[str(r[c]) for c in cols] for r in out]

    def test_admin_writes_denials_and_migrations_are_recorded_in_order(self):
        rows = self.rows()
        actions = [(r[3], r[4]) for r in rows]
        self.assertEqual(actions, [("migration.apply", ""), ("record.create", "authors"), ("record.create", "posts"),
                                   ("record.update", "posts"), ("record.delete", "posts")])
        self.assertEqual([r[0] for r in rows], [str(i) for i in range(1, 6)])
        create_post, update_post, delete_post = rows[2], rows[3], rows[4]
        self.assertEqual((create_post[1], create_post[2], create_post[5]), ("admin", "admin", self.post))
        self.assertEqual(update_post[5], self.post)
        self.assertEqual(delete_post[5], self.post)

    def test_an_intact_log_verifies_and_prints_its_head(self):
        r = self.verify()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^ok: 5 entries verify; head 5 [0-9a-f]{64}\n$")

    def assert_broken_at(self, seq, why):
        r = self.verify()
        self.assertEqual(r.returncode, 6, r.stdout + r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertIn(f"audit log broken at entry {seq}:", r.stderr)
        self.assertIn(why, r.stderr)

    def test_an_edited_row_is_named(self):
        self.sql("UPDATE _slipway_audit SET actor_id = 'someone else' WHERE seq = 3")
        self.assert_broken_at(3, "edited")

    def test_an_edited_and_rehashed_row_breaks_the_next_link(self):
        # The attacker edits entry 3 and recomputes its hash (the format is public: docs/formats.md#audit-chain);
        # entry 4 still holds the old hash, so the chain breaks there.
        cols = ("seq, at, action, actor_kind, actor_id, reason, collection, record_id, address, request_id, detail, "
                "prev_hash")
        row = harness.db_json(self.data, f"SELECT {cols} FROM _slipway_audit WHERE seq = 3")[0]
        row["actor_id"] = "someone else"
        text = "slipway-audit-1;"
        for name in [c.strip() for c in cols.split(",")]:
            v = str(row[name]).encode()
            text += f"{len(v)}:" + v.decode()
        forged = hashlib.sha256(text.encode()).hexdigest()
        self.sql(f"UPDATE _slipway_audit SET actor_id = 'someone else', hash = '{forged}' WHERE seq = 3")
        self.assert_broken_at(4, "does not link")

    def test_a_removed_row_is_named(self):
        self.sql("DELETE FROM _slipway_audit WHERE seq = 4")
        self.assert_broken_at(5, "missing")

    def test_reordered_rows_are_named(self):
        # Swap the contents of entries 2 and 4 (each keeps its own hash fields): 2 no longer links to 1.
        self.sql("UPDATE _slipway_audit SET seq = -1 WHERE seq = 2;"
                 "UPDATE _slipway_audit SET seq = 2 WHERE seq = 4;"
                 "UPDATE _slipway_audit SET seq = 4 WHERE seq = -1")
        self.assert_broken_at(2, "does not link")

    def test_admins_query_the_log_with_the_records_filter_sort_and_cursor(self):
        with harness.Server(data_dir=self.data) as s:
            r = s.request("GET", "/api/v1/admin/audit?filter=" + quote("action ~ 'record.' && collection = 'posts'")
                          + "&sort=-seq&count=true")
            self.assertEqual(r.status, 200, r)
            page = r.json()
            self.assertEqual([e["action"] for e in page["items"]], ["record.delete", "record.update", "record.create"])
            self.assertEqual(page["total"], 3)
            self.assertEqual({e["record_id"] for e in page["items"]}, {self.post})
            self.assertRegex(page["items"][0]["hash"], r"^[0-9a-f]{64}$")
            # Paging by cursor walks the whole log in sequence order, each entry once.
            seqs, cursor = [], None
            while True:
                r = s.request("GET", "/api/v1/admin/audit?limit=2" + (f"&cursor={cursor}" if cursor else ""))
                self.assertEqual(r.status, 200, r)
                seqs += [e["seq"] for e in r.json()["items"]]
                cursor = r.json()["next_cursor"]
                if not cursor:
                    break
            self.assertEqual(seqs, list(range(1, len(seqs) + 1)))
            self.assertGreaterEqual(len(seqs), 5)
            assert_problem(self, s.request("GET", "/api/v1/admin/audit", token=None), 401)
            assert_problem(self, s.request("GET", "/api/v1/admin/audit?filter=" + quote("nope = 1")), 400)
            r = s.request("GET", "/api/v1/admin/audit?filter=" + quote("created > '2000-01-01' && actor_kind = 'system'"))
            self.assertEqual([e["action"] for e in r.json()["items"]], ["migration.apply"])

    def test_verify_runs_beside_a_running_server(self):
        with harness.Server(data_dir=self.data) as s:
            self.assertEqual(s.request("POST", "/api/v1/authors", body={"name": "Bo"}).status, 201)
            r = self.verify()
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("ok: 6 entries", r.stdout)

    def test_verify_without_a_database_says_so_and_creates_nothing(self):
        empty = os.path.join(self.tmp.name, "nothing")
        r = run_cli("audit", "verify", "--config", harness.EXAMPLE, "--data", empty)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("ok: 0 entries", r.stdout)
        self.assertFalse(os.path.exists(empty))

    def test_audit_needs_a_subcommand_and_knows_its_flags(self):
        r = run_cli("audit")
        self.assertEqual(r.returncode, 2)
        r = run_cli("audit", "verify", "--mode", "dev")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        h = run_cli("audit", "verify", "--help")
        self.assertEqual(h.returncode, 0)
        self.assertIn("--data", h.stdout)


AUDITED = """app: ledger
auth:
  roles: [clerk]
  default_role: clerk
collections:
  entries:
    audit: true
    fields:
      amount: { type: int, required: true }
      memo:   { type: text }
      secret: { type: text, hidden: true }
      owner:  { type: relation, to: users }
    rules:
      list: "owner = @auth.id"
      view: "owner = @auth.id"
      create: "owner = @auth.id"
      update: "owner = @auth.id"
      delete: "owner = @auth.id"
"""


class AuditedCollection(unittest.TestCase):
    def test_every_write_of_an_audited_collection_is_logged_with_before_and_after_and_hidden_fields_redacted(self):
        with tempfile.TemporaryDirectory(prefix="slipway-it-audited-") as tmp:
            config = harness.write_concept(tmp, AUDITED)
            keys = os.path.join(tmp, "jwt.keys")
            with open(keys, "w") as f:
                f.write(base64.b64encode(os.urandom(32)).decode() + "\n")
            data = os.path.join(tmp, "data")
            env = {"SLIPWAY_JWT_KEYS_FILE": keys, "SLIPWAY_DATA_KEYS": base64.b64encode(os.urandom(32)).decode()}
            with harness.Server(config=config, data_dir=data, env=env) as s:
                u = s.request("POST", "/api/v1/auth/signup", token=None,
                              body={"email": "c@example.com", "password": "correct horse battery staple"}).json()
                tok, uid = u["access_token"], u["user"]["id"]
                r = s.request("POST", "/api/v1/entries", token=tok,
                              body={"amount": 10, "memo": "first", "secret": "s3cret-value", "owner": uid})
                self.assertEqual(r.status, 201, r)
                eid = r.json()["id"]
                self.assertEqual(s.request("PATCH", f"/api/v1/entries/{eid}", token=tok, body={"amount": 12}).status, 200)
                # A failed write (a version the record does not have) leaves no entry.
                self.assertEqual(s.request("PATCH", f"/api/v1/entries/{eid}", token=tok, body={"amount": 99},
                                           headers={"If-Match": '"7"'}).status, 412)
                self.assertEqual(s.request("DELETE", f"/api/v1/entries/{eid}", token=tok).status, 204)
            rows = harness.db_json(data, "SELECT action, actor_kind, actor_id, collection, record_id, detail "
                                         "FROM _slipway_audit WHERE action LIKE 'record.%' ORDER BY seq")
            self.assertEqual([r["action"] for r in rows], ["record.create", "record.update", "record.delete"])
            for r in rows:
                self.assertEqual((r["actor_kind"], r["actor_id"], r["collection"], r["record_id"]), ("user", uid, "entries", eid))
            create, update, delete = (json.loads(r["detail"]) for r in rows)
            self.assertIsNone(create["before"])
            self.assertEqual(create["after"]["amount"], 10)
            self.assertEqual(create["after"]["secret"], "[redacted]")
            self.assertEqual((update["before"]["amount"], update["after"]["amount"]), (10, 12))
            self.assertEqual((update["before"]["version"], update["after"]["version"]), (1, 2))
            self.assertEqual(delete["before"]["amount"], 12)
            self.assertIsNone(delete["after"])
            self.assertNotIn("s3cret-value", json.dumps(rows))
            r = run_cli("audit", "verify", "--config", config, "--data", data)
            self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    harness.main()
