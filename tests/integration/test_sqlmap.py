"""SQL injection as an attacker's tool looks for it (issue 10): Debian's sqlmap, in batch mode with every technique
at risk 3, against the real binary on loopback — the list parameters (filter, sort, fields, expand), a string inside
a filter, a record id in the path, and the JSON bodies of create and change — finds no injectable parameter, and
slipway answered every one of its requests with 2xx/4xx (never 429, never 5xx) and changed no record it was not
asked to.

A test that cannot fail proves nothing, so the same sqlmap invocation (one helper, the same flags) must find the
injection in a tiny deliberately vulnerable server (python3 http.server + sqlite3, SQL built by string
concatenation) in each shape of target used against slipway: a query parameter, a path segment, a JSON body. That
proves the tool works here and that the verdict is read correctly."""

import collections
import http.server
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import unittest
import urllib.parse

import harness

# The concept file every slipway of this file serves: the blog of the README tour (examples/blog/slipway.yaml), so
# the targets include a relation for `expand` and a list rule that is compiled into the same SQL as the filter.
#
# Rate limits stay on (the server below is started with SLIPWAY_RATE_LIMITS=on), raised for sqlmap: it sends
# thousands of requests from 127.0.0.1 in a few seconds, and with the defaults most of them would be answered 429 and
# reach no SQL — sqlmap would then "find nothing" for the wrong reason (the test also fails on any 429).
CONCEPT = """\
app: blog

rate_limits:
  read:  { address: 1000000/10s }
  write: { address: 1000000/10s }

collections:
  authors:
    fields:
      name:  { type: text, required: true, max: 100 }
      email: { type: email, unique: true }
    rules:
      list: "true"
      view: "true"

  posts:
    fields:
      title:     { type: text, required: true, max: 200 }
      body:      { type: text }
      views:     { type: int, min: 0, default: 0 }
      published: { type: bool, default: false }
      author:    { type: relation, to: authors, on_delete: cascade }
      tags:      { type: json }
      status:    { type: enum, values: [draft, live], default: draft }
    indexes: [[published, created]]
    rules:
      list: "published = true"
      view: "published = true"
"""

# sqlmap's names for the engines under test: its payloads are limited to the real one (the others' functions would
# only be parse errors, and testing all of them would multiply the run time).
DBMS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[harness.ENGINE]
SQLMAP_TIMEOUT_S = 300  # a safety net for one run; each takes seconds

NOT_INJECTABLE = "all tested parameters do not appear to be injectable"
INJECTION_FOUND = "identified the following injection point"
TESTED_RE = re.compile(r"parameter '([^']+)' does not seem to be injectable")
TRAFFIC_REQUEST_RE = re.compile(r"^HTTP request \[#\d+\]:$", re.M)
TRAFFIC_RESPONSE_RE = re.compile(r"^HTTP response \[#(\d+)\] \((\d{3})", re.M)


def require_tool(name):
    if shutil.which(name) is None:
        raise AssertionError(f"{name} is not installed: run scripts/install-deps (it installs Debian's {name})")


# injectable: the injection points sqlmap reports ("id (GET)", "#1* (URI)"), empty when none; tested: the parameters
# it tested and found clean; requests, statuses: how many requests it sent and the statuses of the answers it got (its
# traffic log); baseline: the status of its first request, the unmodified one that it compares every payload's answer
# with; output: its stdout and stderr.
Verdict = collections.namedtuple("Verdict", "injectable tested requests statuses baseline output")


def run_sqlmap(url, *, dbms, request_id, data=None, method=None, params=None):
    """Runs sqlmap once against `url` (a `*` in it or in `data` marks the injection points; else `params` names the
    query parameters to test), as the admin, every request carrying `request_id`. Fails when sqlmap gives no verdict
    at all (it crashed, could not connect, or ran out of time)."""
    work = tempfile.mkdtemp(prefix="slipway-sqlmap-")
    try:
        traffic_path = os.path.join(work, "traffic.txt")
        cmd = ["sqlmap", "-u", url,
               "--batch",                # never ask: the default answer to every question
               "--ignore-stdin",         # a test's stdin is no terminal: sqlmap would read targets from it
               "--flush-session", f"--output-dir={work}/out", "-t", traffic_path,
               "--disable-coloring", "-v", "1",
               # Every technique: boolean and time-based blind (no output needed), error based, UNION (rows in a
               # list), stacked (several statements in one call) and inline queries. Risk 3: every payload, the
               # OR-based ones too (they would rewrite every row of a vulnerable UPDATE: see the sentinels). Level 3:
               # the common prefix/suffix boundaries (quote, parenthesis, comment, LIKE); levels 4-5 add rarer
               # nestings and double the requests, hence the run time.
               "--technique=BEUSTQ", "--level=3", "--risk=3", f"--dbms={dbms}",
               # Its WAF probe is one request, which slipway's 400s look like a WAF to; not a test of ours.
               "--skip-waf",
               "--threads=4", "--timeout=10", "--retries=1",
               "-H", f"Authorization: Bearer {harness.ADMIN_TOKEN}",
               # slipway's error bodies carry the request id; a random one in every 404 is noise that sqlmap's page
               # comparison sometimes takes for a boolean answer (a candidate its false-positive check then drops,
               # after UNION probes that can burn a minute of CPU). A fixed id keeps equal answers equal, and tells
               # sqlmap's requests apart in the access log.
               "-H", f"X-Request-Id: {request_id}"]
        if data is not None:
            cmd += ["--data", data, "-H", "Content-Type: application/json"]
        if method:
            cmd += ["--method", method]
        if params:
            cmd += ["-p", ",".join(params)]
        env = dict(os.environ, HOME=work, TERM="dumb")  # its history and cache stay in the temp dir
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
                               timeout=SQLMAP_TIMEOUT_S)
        except subprocess.TimeoutExpired as e:  # subprocess.run has killed it
            out = e.stdout.decode("utf-8", "replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
            raise AssertionError(f"sqlmap ran longer than {SQLMAP_TIMEOUT_S} s:\n{out[-3000:]}")
        output = p.stdout + p.stderr
        log_path = os.path.join(work, "out", urllib.parse.urlsplit(url).hostname, "log")  # its injection points
        log = traffic = ""
        if os.path.exists(log_path):
            with open(log_path, encoding="utf-8", errors="replace") as f:
                log = f.read()
        if os.path.exists(traffic_path):
            with open(traffic_path, encoding="utf-8", errors="replace") as f:
                traffic = f.read()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    injectable = re.findall(r"^Parameter: (.+)$", log, re.M)
    if INJECTION_FOUND in output and not injectable:
        raise AssertionError(f"sqlmap reported an injection but its log names none:\n{output[-3000:]}")
    if not injectable and NOT_INJECTABLE not in output:
        raise AssertionError(f"sqlmap gave no verdict (exit {p.returncode}):\n{output[-3000:]}")
    answers = {int(n): int(code) for n, code in TRAFFIC_RESPONSE_RE.findall(traffic)}
    return Verdict(injectable, set(TESTED_RE.findall(output)), len(TRAFFIC_REQUEST_RE.findall(traffic)),
                   collections.Counter(answers.values()), answers.get(1), output)


class VulnerableServer:
    """The positive control: a deliberately vulnerable JSON API that builds its SQL by string concatenation.
      GET /items?sort=id&q=TITLE        WHERE title = '<q>'        (a string in a query parameter)
      GET /items/ID                     WHERE id = <ID>            (a number in the path)
      POST or PATCH /items {"title":…}  WHERE title = '<title>'    (a string in a JSON body)
    A failing statement is a 500 with no detail, as a careless app that at least hides its errors would answer.
    Strings and blobs are capped at 100 kB so sqlmap's time-based probes (huge RANDOMBLOBs) fail at once instead of
    taking 20 s each: it finds this server by its boolean and UNION tests, which run against slipway unchanged."""

    def __init__(self):
        db = sqlite3.connect(":memory:", check_same_thread=False)
        db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 100_000)
        db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, title TEXT)")
        db.executemany("INSERT INTO items (title) VALUES (?)", [(f"item {i}",) for i in range(1, 6)])
        lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self, sql):
                try:
                    with lock:
                        body, status = json.dumps(db.execute(sql).fetchall()).encode(), 200
                except sqlite3.Error:
                    body, status = b'{"error":"internal"}', 500
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                if url.path.startswith("/items/"):
                    return self.answer("SELECT id, title FROM items WHERE id = " + urllib.parse.unquote(url.path[7:]))
                q = urllib.parse.parse_qs(url.query).get("q", [""])[0]
                self.answer("SELECT id, title FROM items WHERE title = '" + q + "'")

            def do_POST(self):
                try:
                    title = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))["title"]
                except (ValueError, KeyError, TypeError):
                    title = ""
                self.answer("SELECT id, title FROM items WHERE title = '" + str(title) + "'")

            do_PATCH = do_POST

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


class SqlmapFindsTheInjectionOfADeliberatelyVulnerableServer(unittest.TestCase):
    """The positive control: the same run_sqlmap, in each shape of target, reports the injection."""

    @classmethod
    def setUpClass(cls):
        require_tool("sqlmap")
        cls.vulnerable = VulnerableServer()
        cls.addClassCleanup(cls.vulnerable.close)

    def assert_found(self, verdict, parameter):
        self.assertTrue(any(p.startswith(parameter) for p in verdict.injectable),
                        f"sqlmap missed the injection in {parameter}:\n{verdict.output[-3000:]}")

    def test_finds_a_string_injection_in_a_query_parameter(self):
        v = run_sqlmap(f"{self.vulnerable.url}/items?sort=id&q=item%201", dbms="SQLite", request_id="control-query",
                       params=["q"])
        self.assert_found(v, "q (GET)")

    def test_finds_a_number_injection_in_a_path_segment_marked_with_a_star(self):
        v = run_sqlmap(f"{self.vulnerable.url}/items/1*", dbms="SQLite", request_id="control-path")
        self.assert_found(v, "#1* (URI)")

    def test_finds_a_string_injection_in_a_json_body_marked_with_a_star(self):
        for method in ("POST", "PATCH"):
            with self.subTest(method=method):
                v = run_sqlmap(f"{self.vulnerable.url}/items", dbms="SQLite", request_id=f"control-{method}",
                               method=method, data=json.dumps({"title": "item 1*", "note": "x"}))
                self.assert_found(v, "JSON #1*")


class SqlmapFindsNoInjectionInSlipway(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_tool("sqlmap")
        cls.tmp = tempfile.mkdtemp(prefix="slipway-sqlmap-concept-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.server = harness.Server(config=harness.write_concept(cls.tmp, CONCEPT),
                                    env={"SLIPWAY_RATE_LIMITS": "on"}).start()
        cls.addClassCleanup(cls.server.cleanup)
        s = cls.server
        cls.author = s.request("POST", "/api/v1/authors", body={"name": "Ada", "email": "ada@example.com"}).json()
        # The record the reads find (the unmodified list request returns it) and the one the PATCH run rewrites.
        cls.post = s.request("POST", "/api/v1/posts", body={"title": "target", "body": "b", "published": True,
                                                           "author": cls.author["id"], "status": "live"}).json()
        cls.changed = s.request("POST", "/api/v1/posts", body={"title": "changed", "author": cls.author["id"]}).json()
        # Untargeted records: an injection that widened a write (an OR 1=1 in a PATCH) or dropped a table shows here.
        cls.sentinels = [s.request("POST", "/api/v1/posts", body={"title": f"sentinel {i}", "published": True,
                                                                  "author": cls.author["id"]}).json()
                         for i in range(3)]
        cls.runs = 0

    def sqlmap(self, url, **kwargs):
        """run_sqlmap against slipway (the engine's payloads), then checks what slipway answered, from both ends: sqlmap
        got an answer to each of its requests, some hundreds of them reached slipway (its access log has a line for
        each answer), and none was a 429 or a 5xx."""
        type(self).runs += 1
        rid = f"sqlmap-run-{self.runs}"
        verdict = run_sqlmap(url, dbms=DBMS, request_id=rid, **kwargs)
        # Payloads compared with an error page prove nothing: the unmodified request must succeed. (sqlmap sends a
        # query's '+' as %2B, so a space in a target URL must be %20.)
        self.assertIn(verdict.baseline, (200, 201), f"sqlmap's unmodified request was answered {verdict.baseline}")
        got = sum(verdict.statuses.values())
        self.assertEqual(verdict.requests, got, f"slipway left some of sqlmap's requests unanswered: {verdict.statuses}")
        self.assertGreater(got, 100, f"sqlmap sent too few requests to have tested anything:\n{verdict.output[-3000:]}")

        # A request's log line is written after its response, so it can trail sqlmap's read by a moment.
        def lines():
            mine = [line for line in self.server.log_lines() if line.get("request_id") == rid]
            return mine if len(mine) >= got else None
        logged = harness.wait_for(lines, what=f"the access log lines of sqlmap's {got} requests")
        statuses = collections.Counter(line["status"] for line in logged)
        self.assertEqual(statuses, verdict.statuses, "slipway's access log and sqlmap disagree on the answers")
        self.assertNotIn(429, statuses, f"slipway rate-limited sqlmap: raise the limits in CONCEPT. {statuses}")
        errors = sorted({(line["status"], line["method"], line["route"]) for line in logged if line["status"] >= 500})
        self.assertEqual(errors, [], f"slipway answered sqlmap with 5xx: {statuses}")
        return verdict

    def assert_clean(self, verdict, tested):
        self.assertEqual(verdict.injectable, [], f"sqlmap found an injection:\n{verdict.output[-4000:]}")
        self.assertEqual(verdict.tested, set(tested), f"sqlmap did not test each target:\n{verdict.output[-3000:]}")

    def assert_sentinels_intact(self):
        for sentinel in self.sentinels:
            r = self.server.request("GET", f"/api/v1/posts/{sentinel['id']}")
            self.assertEqual(r.status, 200, r)
            self.assertEqual((r.json()["title"], r.json()["version"]), (sentinel["title"], sentinel["version"]))
        self.assertEqual(self.server.request("GET", f"/api/v1/authors/{self.author['id']}").status, 200)

    def test_list_parameters_filter_sort_fields_and_expand_are_not_injectable(self):
        query = urllib.parse.urlencode({"filter": "published = true && title ~ 'target'", "sort": "-created",
                                        "fields": "id,title,author", "expand": "author"}, quote_via=urllib.parse.quote)
        v = self.sqlmap(f"http://127.0.0.1:{self.server.port}/api/v1/posts?{query}",
                        params=["filter", "sort", "fields", "expand"])
        self.assert_clean(v, ["filter", "sort", "fields", "expand"])
        self.assert_sentinels_intact()

    def test_a_string_inside_a_filter_is_not_injectable(self):
        # The payloads land inside the quoted LIKE pattern, where the filter's own lexer, not SQL, must end them.
        query = urllib.parse.quote("title ~ 'targ*'", safe="*")
        v = self.sqlmap(f"http://127.0.0.1:{self.server.port}/api/v1/posts?filter={query}")
        self.assert_clean(v, ["#1*"])
        self.assert_sentinels_intact()

    def test_record_id_in_the_path_is_not_injectable(self):
        v = self.sqlmap(f"http://127.0.0.1:{self.server.port}/api/v1/posts/{self.post['id']}*")
        self.assert_clean(v, ["#1*"])
        self.assert_sentinels_intact()

    def test_json_body_of_a_create_is_not_injectable(self):
        # A value of each way into SQL: text (bound into the INSERT) and a relation (looked up first). Each marker
        # costs seconds: a create's answer differs every time (a new id), so sqlmap compares pages by sequence
        # matching, which is slow.
        body = json.dumps({"title": "t*", "body": "b", "author": self.author["id"] + "*", "status": "draft"})
        v = self.sqlmap(f"http://127.0.0.1:{self.server.port}/api/v1/posts", data=body)
        self.assert_clean(v, ["JSON #1*", "JSON #2*"])
        self.assert_sentinels_intact()

    def test_json_body_of_a_change_is_not_injectable(self):
        body = json.dumps({"title": "t*", "author": self.author["id"] + "*"})
        v = self.sqlmap(f"http://127.0.0.1:{self.server.port}/api/v1/posts/{self.changed['id']}", method="PATCH",
                        data=body)
        self.assert_clean(v, ["JSON #1*", "JSON #2*"])
        self.assert_sentinels_intact()


if __name__ == "__main__":
    harness.main()
