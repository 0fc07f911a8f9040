// A real OpenID provider for the integration tests: the npm package `oidc-provider` (pinned in package.json,
// installed by scripts/install-test-deps), configured from a JSON file, with browserless logins and hooks that make
// it misbehave on request. tests/support/oidc.py (OidcProvider) starts and drives it; slipway is the relying party.
//
//   node oidc_provider.mjs config.json
//
// config.json:
//   {"port": 45678,                      (0 or absent: any free port; the "ready" line tells which)
//    "clients": [{"client_id", "client_secret", "redirect_uris": [...], ...any other client metadata}],
//    "accounts": {"<account id>": {"email", "email_verified", "name", ...claims}},
//    "exit_on_stdin_eof": true}        (optional: exit when stdin closes, so it cannot outlive the test process)
//
// The issuer is http://127.0.0.1:<port> (no trailing slash); it listens on 127.0.0.1 only. Once listening it prints
// exactly one line, `ready <issuer>`, on stdout; its log goes to stderr. SIGTERM ends it.
//
// What it provides: discovery (/.well-known/openid-configuration), the JWKS (/jwks), the authorization endpoint
// (/auth, response_type=code only), the token endpoint (/token, client_secret_basic or client_secret_post),
// userinfo (/me). PKCE with S256 is required of every client. Scopes openid, email, profile; the claims email,
// email_verified and name are put in the ID token itself (conformIdTokenClaims: false), not only in userinfo.
// ID tokens are signed RS256 with an RSA key generated at start, kid "k1". No refresh tokens.
//
// Browserless logins: there is no HTML. When an authorization request needs a login, the provider redirects to its
// interaction URL (/interaction/<uid>), and there this script logs in the account named by the request's
// `login_hint` and grants every scope and claim asked for, then redirects back to the authorization endpoint, which
// redirects to the client's redirect_uri with `code` and `state`. So a client that follows redirects and keeps the
// provider's cookies goes from the authorization URL to the redirect_uri with no form to fill. A missing or unknown
// login_hint ends the flow with error=access_denied (with the state) at the redirect_uri. An authorization request
// with a login_hint is a fresh login even when the browser has a session here (its session cookie is ignored, and
// replaced); one without a login_hint from a browser with a session gets the session's account with no interaction
// (single sign-on, as with a real provider).
//
// Test controls (plain JSON over HTTP on the same port, not part of OpenID Connect):
//   POST /test/next-token {"mode": M}   the ID token of the next successful token response is altered, then the
//                                       mode returns to normal. M is one of:
//       aud          aud = "someone-else", re-signed with k1
//       nonce        nonce = "wrong-nonce", re-signed with k1
//       iss          iss = "http://evil.example", re-signed with k1
//       expired      exp = now - 600, iat = now - 1200, re-signed with k1
//       unknown_kid  re-signed with a fresh RSA key, kid "k-unknown", which the JWKS never lists
//       signature    email = "mallory@evil.example" in the payload, the original signature kept
//       alg_none     header {"alg":"none"}, original payload, empty signature
//       rotate       a new RSA key, kid "k2", joins the JWKS from now on (k1 stays) and signs this ID token:
//                    a legitimate rotation, which a relying party must accept after refetching the JWKS
//       normal       no alteration (cancels a pending mode)
//     → {"mode": M}
//   POST /test/accounts {"<account id>": {...claims}, ...}   adds or replaces accounts → {"accounts": [ids]}
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as jose from 'jose';
import Provider from 'oidc-provider';

const log = (...args) => console.error(new Date().toISOString(), ...args);

if (process.argv.length !== 3) {
  console.error('usage: node oidc_provider.mjs config.json');
  process.exit(2);
}
const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const accounts = new Map(Object.entries(config.accounts || {}));

// Signing keys: kid → {privateKey (KeyObject), publicJwk}. k1 is the provider's own key; k2 joins on `rotate`.
async function rsaKey(kid) {
  const { privateKey, publicKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const meta = { kid, alg: 'RS256', use: 'sig' };
  return {
    privateKey,
    privateJwk: { ...(await jose.exportJWK(privateKey)), ...meta },
    publicJwk: { ...(await jose.exportJWK(publicKey)), ...meta },
  };
}
const keys = new Map([['k1', await rsaKey('k1')]]);

// Listen first (on an ephemeral port when none is configured), so that the issuer names the real port.
const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(config.port || 0, '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: (config.clients || []).map((c) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic', // client_secret_post is accepted too
    ...c,
  })),
  jwks: { keys: [keys.get('k1').privateJwk] },
  async findAccount(ctx, sub) {
    if (!accounts.has(sub)) return undefined;
    return { accountId: sub, claims: async () => ({ ...accounts.get(sub), sub }) };
  },
  scopes: ['openid', 'email', 'profile'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username', 'picture', 'locale'],
  },
  conformIdTokenClaims: false,
  responseTypes: ['code'],
  pkce: { methods: ['S256'], required: () => true },
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
  issueRefreshToken: async () => false,
  features: { devInteractions: { enabled: false } },
  interactions: { url: async (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  async renderError(ctx, out) { // errors that cannot go to a redirect_uri: JSON, readable in a test's failure
    ctx.type = 'json';
    ctx.body = out;
  },
});
provider.on('server_error', (ctx, err) => log('server_error', err));
provider.on('authorization.error', (ctx, err) => log('authorization.error', err.message, err.error_description || ''));
provider.on('grant.error', (ctx, err) => log('grant.error', err.message, err.error_description || ''));

async function readJson(ctx) {
  const chunks = [];
  for await (const chunk of ctx.req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return ctx.throw(400, `invalid JSON: ${text}`);
  }
}

// The browserless interaction: log in the account of the login_hint (login prompt), grant what is asked.
async function interaction(ctx) {
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { prompt, params, session } = details;
  let result;
  if (prompt.name === 'login') {
    const accountId = params.login_hint;
    if (accountId === undefined || !accounts.has(accountId)) {
      log('interaction', details.uid, 'denied: login_hint', JSON.stringify(accountId));
      result = { error: 'access_denied', error_description: `no account for login_hint ${JSON.stringify(accountId)}` };
    } else {
      const grant = new provider.Grant({ accountId, clientId: params.client_id });
      grantAll(grant, params);
      result = { login: { accountId }, consent: { grantId: await grant.save() } };
      // Forget the browser's session of an earlier login (ignored at /auth, see below), so that the resumed
      // authorization starts a new one instead of asking for a logout of the old account first.
      for (const name of ['_session', '_session.sig', '_session.legacy', '_session.legacy.sig']) {
        ctx.cookies.set(name, null, { path: '/', signed: false });
      }
    }
  } else if (prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    grantAll(grant, params);
    result = { consent: { grantId: await grant.save() } };
  } else {
    result = { error: 'access_denied', error_description: `unexpected prompt ${prompt.name}` };
  }
  log('interaction', details.uid, prompt.name, JSON.stringify(result));
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  ctx.status = 303;
  ctx.redirect(returnTo);
}

function grantAll(grant, params) {
  if (params.scope) grant.addOIDCScope(params.scope);
  if (params.claims) {
    const claims = JSON.parse(params.claims);
    const names = new Set([...Object.keys(claims.id_token || {}), ...Object.keys(claims.userinfo || {})]);
    if (names.size) grant.addOIDCClaims([...names]);
  }
}

// The test controls and the alterations of the next ID token.
const MODES = new Set(['normal', 'aud', 'nonce', 'iss', 'expired', 'unknown_kid', 'signature', 'alg_none', 'rotate']);
let nextMode = 'normal';

const b64json = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
const unb64json = (segment) => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));

async function sign(header, payload, kid) {
  return new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ ...header, alg: 'RS256', kid })
    .sign(keys.get(kid).privateKey);
}

async function alter(idToken, mode) {
  const [h, p, s] = idToken.split('.');
  const header = unb64json(h);
  const payload = unb64json(p);
  const now = Math.floor(Date.now() / 1000);
  switch (mode) {
    case 'aud': return sign(header, { ...payload, aud: 'someone-else' }, 'k1');
    case 'nonce': return sign(header, { ...payload, nonce: 'wrong-nonce' }, 'k1');
    case 'iss': return sign(header, { ...payload, iss: 'http://evil.example' }, 'k1');
    case 'expired': return sign(header, { ...payload, exp: now - 600, iat: now - 1200 }, 'k1');
    case 'unknown_kid': {
      const fresh = await rsaKey('k-unknown');
      return new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
        .setProtectedHeader({ ...header, alg: 'RS256', kid: 'k-unknown' })
        .sign(fresh.privateKey);
    }
    case 'signature': return `${h}.${b64json({ ...payload, email: 'mallory@evil.example' })}.${s}`;
    case 'alg_none': return `${b64json({ alg: 'none' })}.${p}.`;
    case 'rotate':
      if (!keys.has('k2')) keys.set('k2', await rsaKey('k2'));
      return sign(header, payload, 'k2');
    default: return idToken;
  }
}

provider.use(async (ctx, next) => {
  const started = Date.now();
  try {
    if (ctx.method === 'POST' && ctx.path === '/test/next-token') {
      const { mode } = await readJson(ctx);
      if (!MODES.has(mode)) {
        ctx.status = 400;
        ctx.body = { error: `unknown mode ${JSON.stringify(mode)}`, modes: [...MODES] };
        return;
      }
      nextMode = mode;
      ctx.body = { mode };
      return;
    }
    if (ctx.method === 'POST' && ctx.path === '/test/accounts') {
      const added = await readJson(ctx);
      for (const [id, claims] of Object.entries(added)) accounts.set(id, claims);
      ctx.body = { accounts: [...accounts.keys()] };
      return;
    }
    if (ctx.method === 'GET' && ctx.path === '/jwks') { // our own set: k1, and k2 once rotated in
      ctx.type = 'application/jwk-set+json; charset=utf-8';
      ctx.body = { keys: [...keys.values()].map((k) => k.publicJwk) };
      return;
    }
    if (ctx.method === 'GET' && ctx.path === '/auth' && ctx.query.login_hint !== undefined && ctx.headers.cookie) {
      // A login_hint always means a fresh login: the request goes on without the browser's session here (whose
      // replacement by another account's would otherwise need a logout form, submitted by JavaScript).
      ctx.headers.cookie = ctx.headers.cookie.split(/;\s*/).filter((c) => !c.startsWith('_session')).join('; ');
    }
    if (ctx.method === 'GET' && /^\/interaction\/[^/]+$/.test(ctx.path)) {
      try {
        await interaction(ctx);
      } catch (err) { // e.g. no interaction cookie: the client did not keep the provider's cookies
        log('interaction failed:', err);
        ctx.status = 400;
        ctx.body = { error: err.error || 'invalid_request', error_description: err.error_description || err.message };
      }
      return;
    }
    await next();
    if (ctx.method === 'POST' && ctx.path === '/token' && ctx.status === 200 && ctx.body?.id_token
        && nextMode !== 'normal') {
      log('token: id_token altered:', nextMode);
      ctx.body = { ...ctx.body, id_token: await alter(ctx.body.id_token, nextMode) };
      nextMode = 'normal';
    }
  } finally {
    log(ctx.method, ctx.originalUrl, ctx.status, `${Date.now() - started}ms`);
  }
});

server.on('request', provider.callback());
if (config.exit_on_stdin_eof) { // the test process is gone
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
process.on('SIGTERM', () => process.exit(0));
process.stdout.write(`ready ${issuer}\n`);
