"""A real OpenID provider for the integration tests, and a browser without a screen to log in through it.
Standard library only, like harness.py.

OidcProvider runs tests/interop/oidc_provider.mjs (the npm package `oidc-provider`, installed by
scripts/install-test-deps) in a child node process: discovery, JWKS, authorization endpoint (code flow, PKCE S256
required), token endpoint (client_secret_basic or client_secret_post), ID tokens signed RS256 with kid "k1" that
carry email, email_verified and name. A login needs no form: the authorization request's `login_hint` names the
account, which is logged in and granted everything asked for; a missing or unknown one ends at the redirect_uri with
error=access_denied. Test controls alter the next ID token (next_token: wrong aud, nonce or iss, expired, unknown kid,
broken signature, alg none, key rotation) and add accounts at run time (add_account).

    from oidc import Browser, OidcProvider, node_available
    idp = OidcProvider(tmp, clients=[{"client_id": "slipway", "client_secret": "s3cret",
                                      "redirect_uris": [callback]}],
                       accounts={"ann": {"email": "ann@example.com", "email_verified": True}}).start()
    ... configure slipway with idp.issuer ...
    browser = Browser()
    r = browser.get(slipway_login_url, stop_at=idp.url("/auth?"))   # slipway redirects to the provider
    r = browser.get(r.url + "&login_hint=ann", stop_at=callback)   # the user "types" who they are; back to slipway
    r.url, r.query["code"], r.query["state"]   # the callback URL (also has iss=), not yet requested
    browser.get(r.url, follow=False)           # slipway's callback, with slipway's cookies (again: a replay)
    idp.stop()

Browser is a cookie-keeping HTTP client that follows redirects by hand across hosts, so that a test sees every hop
(Browser.hops) and can stop before one (stop_at) to request it itself, or replay it.

Self-test (needs node and tests/interop/node_modules, not slipway): python3 tests/support/oidc.py --selftest"""

import base64
import hashlib
import http.client
import json
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

SOURCE_DIR = os.environ.get("SLIPWAY_SOURCE_DIR") or \
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INTEROP_DIR = os.path.join(SOURCE_DIR, "tests", "interop")
SCRIPT = os.path.join(INTEROP_DIR, "oidc_provider.mjs")
START_TIMEOUT = 30.0

# The modes of OidcProvider.next_token (see tests/interop/oidc_provider.mjs).
TOKEN_MODES = ("normal", "aud", "nonce", "iss", "expired", "unknown_kid", "signature", "alg_none", "rotate")


def node_available():
    """True when node is on PATH and oidc-provider is installed in tests/interop (scripts/install-test-deps)."""
    return shutil.which("node") is not None and \
        os.path.isfile(os.path.join(INTEROP_DIR, "node_modules", "oidc-provider", "package.json"))


class OidcProvider:
    """tests/interop/oidc_provider.mjs in a child process. `clients`: a list of client metadata dicts (client_id,
    client_secret, redirect_uris, ...); `accounts`: account id → claims. `port` None: a free port chosen by the
    provider itself (no race); `issuer` and `port` are known once start() returns. Its log: <directory>/oidc.log."""

    def __init__(self, directory, clients, accounts, port=None):
        self.dir = directory
        self.clients = clients
        self.accounts = accounts
        self.port = port
        self.issuer = f"http://127.0.0.1:{port}" if port else None
        self.log_path = os.path.join(directory, "oidc.log")
        self.proc = None

    def start(self):
        config = os.path.join(self.dir, "oidc_config.json")
        with open(config, "w") as f:
            json.dump({"port": self.port or 0, "clients": self.clients, "accounts": self.accounts,
                       "exit_on_stdin_eof": True}, f, indent=2)
        log = open(self.log_path, "ab")
        # stdin stays open for the provider's whole life: it exits when this process goes, however it goes.
        self.proc = subprocess.Popen(["node", SCRIPT, config], cwd=INTEROP_DIR, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=log)
        log.close()
        line = self._ready_line(time.monotonic() + START_TIMEOUT)
        if not line.startswith("ready http://127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"oidc_provider.mjs did not start: {line!r}; log: {self._log_tail()}")
        self.issuer = line.split(" ", 1)[1]
        self.port = int(self.issuer.rsplit(":", 1)[1])
        return self

    def _ready_line(self, deadline):
        """The first line on the provider's stdout ("" if it exited first), waiting until `deadline`."""
        buf = b""
        fd = self.proc.stdout.fileno()
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise RuntimeError(f"oidc_provider.mjs not ready within {START_TIMEOUT}s; log: {self._log_tail()}")
            if select.select([fd], [], [], left)[0]:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break  # EOF: it exited
                buf += chunk
        return buf.split(b"\n", 1)[0].decode("utf-8", "replace").strip()

    def _log_tail(self, size=4000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-size:]
        except OSError:
            return "(no log)"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            for pipe in (self.proc.stdin, self.proc.stdout):
                if pipe:
                    pipe.close()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def url(self, path):
        return self.issuer + path

    def _control(self, path, payload):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("POST", path, json.dumps(payload), {"Content-Type": "application/json"})
            r = conn.getresponse()
            body = r.read()
        finally:
            conn.close()
        if r.status != 200:
            raise AssertionError(f"POST {path} {payload}: {r.status} {body!r}")
        return json.loads(body)

    def next_token(self, mode):
        """Alters the ID token of the next successful token response (one of TOKEN_MODES), then back to normal."""
        return self._control("/test/next-token", {"mode": mode})

    def add_account(self, account_id, claims):
        """Adds or replaces an account (its claims: email, email_verified, name, ...) from now on."""
        self.accounts[account_id] = claims
        return self._control("/test/accounts", {account_id: claims})

    def discovery(self):
        return _get_json(self.url("/.well-known/openid-configuration"))

    def jwks(self):
        return _get_json(self.url("/jwks"))


class Response:
    """One answer of Browser: status, headers (an http.client.HTTPMessage: case-insensitive, get_all for
    repeats), body (bytes) and url. After a walk stopped by stop_at, `url` is the URL it stopped at (not requested)
    and status, headers and body are those of the redirect that led there; `stopped` says so."""

    def __init__(self, status, headers, body, url, stopped=False):
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url
        self.stopped = stopped

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)

    @property
    def query(self):
        """The query parameters of `url`, one value each (the last when repeated)."""
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.url).query, keep_blank_values=True))

    def __repr__(self):
        return f"<Response {self.status} {self.url}{' (stopped)' if self.stopped else ''}>"


class Browser:
    """A cookie-keeping HTTP client that follows redirects by hand (http.client), across hosts, recording each hop.

    Cookies: one jar per host:port (stricter than a browser, which shares cookies between ports of a host). A
    Set-Cookie's Path is honoured (default: the directory of the request path), Max-Age <= 0 or an Expires in the
    past deletes; Domain, Secure, HttpOnly and SameSite are ignored. `hops`: (status, url, location) of every request
    of the last get/request, location None for a non-redirect."""

    MAX_REDIRECTS = 20

    def __init__(self, timeout=30.0):
        self.timeout = timeout
        self.jar = {}  # "host:port" → {(path, name): value}
        self.hops = []

    def get(self, url, follow=True, stop_at=None, headers=None):
        return self.request("GET", url, follow=follow, stop_at=stop_at, headers=headers)

    def post(self, url, form=None, follow=True, stop_at=None, headers=None):
        """POSTs `form` (a dict) as application/x-www-form-urlencoded."""
        headers = dict(headers or {})
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return self.request("POST", url, body=body, follow=follow, stop_at=stop_at, headers=headers)

    def request(self, method, url, body=None, headers=None, follow=True, stop_at=None):
        """Requests `url`, then (follow) each redirect's Location in turn, until a non-redirect answer, which it
        returns; or, with stop_at, until a Location that starts with stop_at, which it returns unrequested (as
        Response.url). 303 (and 301/302 of a POST) go on as GET without the body; 307 and 308 repeat the request."""
        self.hops = []
        for _ in range(self.MAX_REDIRECTS + 1):
            status, resp_headers, resp_body = self._send(method, url, body, headers)
            location = resp_headers.get("Location") if 300 <= status < 400 else None
            if location is not None:
                location = urllib.parse.urljoin(url, location)
            self.hops.append((status, url, location))
            if location is None or not follow:
                return Response(status, resp_headers, resp_body, url)
            if stop_at is not None and location.startswith(stop_at):
                return Response(status, resp_headers, resp_body, location, stopped=True)
            if status == 303 or (status in (301, 302) and method == "POST"):
                method, body = "GET", None
                headers = {k: v for k, v in (headers or {}).items() if k.lower() != "content-type"}
            url = location
        raise AssertionError(f"more than {self.MAX_REDIRECTS} redirects: {self.hops}")

    def _send(self, method, url, body, headers):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise AssertionError(f"Browser cannot follow {url}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        conn_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        conn = conn_class(parts.hostname, port, timeout=self.timeout)
        path = parts.path or "/"
        target = path + ("?" + parts.query if parts.query else "")
        all_headers = dict(headers or {})
        cookie = self.cookie_header(url)
        if cookie:
            all_headers["Cookie"] = cookie
        try:
            conn.request(method, target, body, all_headers)
            r = conn.getresponse()
            data = r.read()
        finally:
            conn.close()
        for set_cookie in r.headers.get_all("Set-Cookie") or []:
            self._store(f"{parts.hostname}:{port}", path, set_cookie)
        return r.status, r.headers, data

    def _store(self, host, request_path, set_cookie):
        pair, *attributes = set_cookie.split(";")
        if "=" not in pair:
            return
        name, value = (s.strip() for s in pair.split("=", 1))
        path = request_path.rsplit("/", 1)[0] or "/"  # RFC 6265 5.1.4, the default path
        expired = False
        for attribute in attributes:
            key, _, val = attribute.strip().partition("=")
            key = key.lower()
            if key == "path" and val.startswith("/"):
                path = val
            elif key == "max-age":
                try:
                    expired = int(val) <= 0
                except ValueError:
                    pass
            elif key == "expires":
                try:
                    expired = expired or time.mktime(time.strptime(val.strip(), "%a, %d %b %Y %H:%M:%S GMT")) \
                        - time.timezone < time.time()
                except ValueError:
                    pass
        cookies = self.jar.setdefault(host, {})
        if expired:
            cookies.pop((path, name), None)
        else:
            cookies[(path, name)] = value

    def cookies(self, url):
        """The cookies this browser would send to `url`: name → value."""
        parts = urllib.parse.urlsplit(url)
        host = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
        request_path = parts.path or "/"
        found = {}
        # Longer paths first (RFC 6265 5.4): the first value of a name wins.
        for (path, name), value in sorted(self.jar.get(host, {}).items(), key=lambda kv: -len(kv[0][0])):
            matches = request_path == path or (request_path.startswith(path) and
                                                (path.endswith("/") or request_path[len(path)] == "/"))
            if matches and name not in found:
                found[name] = value
        return found

    def cookie_header(self, url):
        return "; ".join(f"{name}={value}" for name, value in self.cookies(url).items())


def _get_json(url):
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", parts.path + ("?" + parts.query if parts.query else ""))
        r = conn.getresponse()
        body = r.read()
    finally:
        conn.close()
    if r.status != 200:
        raise AssertionError(f"GET {url}: {r.status} {body!r}")
    return json.loads(body)


def pkce_pair():
    """(code_verifier, code_challenge) for PKCE S256."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def decode_jwt(token):
    """(header, payload, signature bytes) of a compact JWS, unverified: for looking, not for trusting."""
    def b64(segment):
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    h, p, s = token.split(".")
    return json.loads(b64(h)), json.loads(b64(p)), b64(s)


def _selftest():
    def check(cond, what):
        if not cond:
            raise AssertionError(what)

    if not node_available():
        sys.exit("oidc.py selftest: node or tests/interop/node_modules/oidc-provider missing "
                 "(scripts/install-test-deps)")
    t0 = time.monotonic()
    work = tempfile.mkdtemp(prefix="slipway-oidc-selftest-")
    with socket.socket() as s:  # a port nothing listens on: the redirect_uri is never requested
        s.bind(("127.0.0.1", 0))
        cb_port = s.getsockname()[1]
    callback = f"http://127.0.0.1:{cb_port}/cb"
    idp = OidcProvider(work, clients=[{"client_id": "slipway", "client_secret": "s3cret",
                                       "redirect_uris": [callback]}],
                       accounts={"ann": {"email": "ann@example.com", "email_verified": True, "name": "Ann"},
                                 "bob": {"email": "bob@example.com", "email_verified": False}})
    try:
        idp.start()
        check(idp.issuer == f"http://127.0.0.1:{idp.port}", f"issuer {idp.issuer}")
        disco = idp.discovery()
        check(disco["issuer"] == idp.issuer, f"discovery issuer {disco['issuer']}")
        for key, want in (("authorization_endpoint", "/auth"), ("token_endpoint", "/token"),
                          ("jwks_uri", "/jwks")):
            check(disco[key] == idp.url(want), f"{key}: {disco[key]}")
        check(set(disco["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post"},
              f"auth methods {disco['token_endpoint_auth_methods_supported']}")
        check(disco["id_token_signing_alg_values_supported"] == ["RS256"], "RS256 only")
        check(disco["code_challenge_methods_supported"] == ["S256"], "S256 only")
        check(disco["response_types_supported"] == ["code"], "code only")
        check([k["kid"] for k in idp.jwks()["keys"]] == ["k1"], f"jwks {idp.jwks()}")

        def authorize(browser, login_hint="ann", scope="openid email", extra=None):
            """Walks from the authorization URL to the callback: (response, state, nonce, verifier)."""
            state, nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
            verifier, challenge = pkce_pair()
            params = {"response_type": "code", "client_id": "slipway", "redirect_uri": callback, "scope": scope,
                      "state": state, "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256"}
            if login_hint is not None:
                params["login_hint"] = login_hint
            for key, value in (extra or {}).items():  # None: leave the parameter out
                if value is None:
                    params.pop(key, None)
                else:
                    params[key] = value
            r = browser.get(disco["authorization_endpoint"] + "?" + urllib.parse.urlencode(params), stop_at=callback)
            return r, state, nonce, verifier

        def token(code, verifier, auth="basic"):
            form = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
                    "redirect_uri": callback}
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            if auth == "basic":
                headers["Authorization"] = "Basic " + base64.b64encode(b"slipway:s3cret").decode()
            else:
                form.update(client_id="slipway", client_secret="s3cret")
            conn = http.client.HTTPConnection("127.0.0.1", idp.port, timeout=30)
            try:
                conn.request("POST", "/token", urllib.parse.urlencode(form), headers)
                r = conn.getresponse()
                return r.status, json.loads(r.read())
            finally:
                conn.close()

        def login(mode=None, account="ann", auth="basic"):
            """A whole flow in a fresh browser (with the next token altered by `mode`): (header, payload, sig,
            token, nonce)."""
            if mode:
                check(idp.next_token(mode) == {"mode": mode}, f"next_token {mode}")
            r, state, nonce, verifier = authorize(Browser(), login_hint=account)
            check(r.stopped and r.url.startswith(callback + "?"), f"stopped at the callback: {r} {r.text}")
            check(r.query.get("state") == state and r.query.get("code"), f"code and state: {r.url}")
            status, body = token(r.query["code"], verifier, auth)
            check(status == 200 and "id_token" in body, f"token response: {status} {body}")
            return (*decode_jwt(body["id_token"]), body["id_token"], nonce)

        # The plain flow, with every hop visible.
        browser = Browser()
        r, state, nonce, verifier = authorize(browser)
        check(r.stopped and r.status in (302, 303), f"stopped on a redirect: {r}")
        check(r.query["state"] == state and r.query.get("iss") == idp.issuer, f"callback parameters {r.query}")
        check(any("/interaction/" in hop[1] for hop in browser.hops), f"through the interaction: {browser.hops}")
        check(browser.hops[-1][2] == r.url, "the last hop leads to the callback")
        status, body = token(r.query["code"], verifier)
        check(status == 200, f"token: {status} {body}")
        header, payload, _ = decode_jwt(body["id_token"])
        check(header == {"alg": "RS256", "kid": "k1"} or (header["alg"], header["kid"]) == ("RS256", "k1"),
              f"header {header}")
        check(payload["iss"] == idp.issuer and payload["aud"] == "slipway" and payload["nonce"] == nonce
              and payload["sub"] == "ann", f"payload {payload}")
        check(payload["email"] == "ann@example.com" and payload["email_verified"] is True,
              f"email claims in the ID token: {payload}")
        check("name" not in payload, f"no profile scope, no name: {payload}")
        status, again = token(r.query["code"], verifier)
        check(status == 400 and again["error"] == "invalid_grant", f"a code is good once: {status} {again}")

        # Without PKCE: refused at the redirect_uri.
        r, state, _, _ = authorize(Browser(), extra={"code_challenge": None, "code_challenge_method": None})
        check(r.stopped and r.query.get("error") == "invalid_request" and r.query.get("state") == state,
              f"PKCE is required: {r.url}")
        # client_secret_post, profile scope, an unverified address.
        header, payload, _, _, nonce = login(account="bob", auth="post")
        check(payload["email"] == "bob@example.com" and payload["email_verified"] is False, f"bob: {payload}")
        r, _, _, verifier = authorize(Browser(), scope="openid email profile")
        _, body = token(r.query["code"], verifier)
        check(decode_jwt(body["id_token"])[1].get("name") == "Ann", "profile scope: name")

        # Unknown and missing login_hint: access_denied at the redirect_uri, with the state.
        for hint in ("nobody", None):
            r, state, _, _ = authorize(Browser(), login_hint=hint)
            check(r.stopped and r.query.get("error") == "access_denied" and r.query.get("state") == state
                  and "code" not in r.query, f"login_hint {hint!r}: {r.url}")
        # One browser, two accounts: the login_hint wins over the session; without one, the session's account.
        browser = Browser()
        for hint, want in (("ann", "ann"), ("bob", "bob"), (None, "bob")):
            r, _, _, verifier = authorize(browser, login_hint=hint)
            _, body = token(r.query["code"], verifier)
            check(decode_jwt(body["id_token"])[1]["sub"] == want, f"login_hint {hint}: {want}")

        # Accounts at run time.
        idp.add_account("carol", {"email": "carol@example.com", "email_verified": True})
        check(login(account="carol")[1]["email"] == "carol@example.com", "an account added at run time")

        # The alterations of the next ID token; each applies once.
        now = time.time()
        _, p, _, _, nonce = login("aud")
        check(p["aud"] == "someone-else" and p["nonce"] == nonce, f"aud: {p}")
        check(login()[1]["aud"] == "slipway", "the mode applies once")
        h, p, _, _, _ = login("nonce")
        check(p["nonce"] == "wrong-nonce" and h["kid"] == "k1", f"nonce: {p}")
        check(login("iss")[1]["iss"] == "http://evil.example", "iss")
        _, p, _, _, _ = login("expired")
        check(p["exp"] < now - 500 and p["iat"] < now - 1100, f"expired: {p}")
        h, p, _, _, _ = login("unknown_kid")
        check(h["kid"] == "k-unknown" and h["alg"] == "RS256", f"unknown_kid: {h}")
        check("k-unknown" not in [k["kid"] for k in idp.jwks()["keys"]], "k-unknown is never published")
        h, p, sig, raw, _ = login("signature")
        check(p["email"] == "mallory@evil.example" and h["kid"] == "k1" and len(sig) == 256,
              f"signature: {h} {p}")
        h, p, sig, raw, nonce = login("alg_none")
        check(h == {"alg": "none"} and sig == b"" and raw.endswith(".") and p["nonce"] == nonce, f"alg_none: {h}")
        h, p, _, _, nonce = login("rotate")
        check(h["kid"] == "k2" and p["nonce"] == nonce and p["aud"] == "slipway", f"rotate: {h} {p}")
        check([k["kid"] for k in idp.jwks()["keys"]] == ["k1", "k2"], f"rotated jwks: {idp.jwks()}")
        check(login()[0]["kid"] == "k1", "the provider itself still signs with k1")
        _verify_signatures(idp, work, check)
        try:
            idp.next_token("bogus")
            check(False, "an unknown mode is refused")
        except AssertionError as e:
            check("400" in str(e), f"unknown mode: {e}")
    except BaseException:
        print(f"oidc.py selftest: provider log ({idp.log_path}):\n{idp._log_tail()}", file=sys.stderr)
        raise
    finally:
        idp.stop()
    shutil.rmtree(work, ignore_errors=True)
    print(f"oidc.py selftest: ok ({time.monotonic() - t0:.1f} s)")


def _verify_signatures(idp, work, check):
    """Checks with jose (node) that the re-signed tokens verify against the JWKS and the broken ones do not."""
    script = r"""
import * as jose from 'jose';
const [jwksUrl, ...tokens] = process.argv.slice(1);
const jwks = jose.createLocalJWKSet(await (await fetch(jwksUrl)).json());
const out = [];
for (const t of tokens) {
  try { await jose.compactVerify(t, jwks); out.push('ok'); } catch (e) { out.push(e.code); }
}
console.log(JSON.stringify(out));
"""
    tokens = {}
    for mode in ("normal", "rotate", "aud", "signature", "unknown_kid", "alg_none"):
        idp.next_token(mode)
        browser = Browser()
        verifier, challenge = pkce_pair()
        params = {"response_type": "code", "client_id": "slipway", "redirect_uri": idp.clients[0]["redirect_uris"][0],
                  "scope": "openid email", "state": "s", "nonce": "n", "code_challenge": challenge,
                  "code_challenge_method": "S256", "login_hint": "ann"}
        r = browser.get(idp.url("/auth?") + urllib.parse.urlencode(params),
                        stop_at=idp.clients[0]["redirect_uris"][0])
        conn = http.client.HTTPConnection("127.0.0.1", idp.port, timeout=30)
        conn.request("POST", "/token", urllib.parse.urlencode(
            {"grant_type": "authorization_code", "code": r.query["code"], "code_verifier": verifier,
             "redirect_uri": params["redirect_uri"], "client_id": "slipway", "client_secret": "s3cret"}),
            {"Content-Type": "application/x-www-form-urlencoded"})
        tokens[mode] = json.loads(conn.getresponse().read())["id_token"]
        conn.close()
    # Run in tests/interop, so that `jose` resolves from its node_modules.
    out = subprocess.run(["node", "--input-type=module", "-e", script, idp.url("/jwks"), *tokens.values()],
                         cwd=INTEROP_DIR, capture_output=True, text=True, timeout=60)
    got = dict(zip(tokens, json.loads(out.stdout or "[]")))
    check(got == {"normal": "ok", "rotate": "ok", "aud": "ok", "signature": "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
                  "unknown_kid": "ERR_JWKS_NO_MATCHING_KEY", "alg_none": "ERR_JOSE_NOT_SUPPORTED"},
          f"jose verification: {got} {out.stderr}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--selftest"]:
        sys.exit("usage: python3 tests/support/oidc.py --selftest")
    _selftest()
