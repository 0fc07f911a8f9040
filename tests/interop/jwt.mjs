// An independent JWT implementation for tests/integration/test_jwt_interop.py: the npm package `jose` (pinned in
// package.json, installed by scripts/install-test-deps) verifies slipway's access tokens against slipway's JWKS,
// and forges the tokens slipway must refuse. It holds no expectations of its own: the Python test decides what
// to forge and what the answers must be. One JSON request on stdin, one JSON answer on stdout:
//
//   node jwt.mjs verify   {"jwks_url", "token", "issuer", "audience"}
//     → {"ok": true, "header": {...}, "payload": {...}}   or   {"ok": false, "code": "ERR_JWT_...", "message"}
//   node jwt.mjs sign     {"jwks_url", "seed"?: base64 Ed25519 seed, "tokens": [spec, ...]}
//     → {"<spec.name>": "<compact token>", ...}
//
// A spec: {"name", "alg": "none"|"EdDSA"|"ES256"|"HS256", "key": "slipway"|"fresh"|"jwks-x"|"jwks-x-text"|
// "jwks-spki-pem", "kid": "slipway"|"own"|null|"<literal>", "embed_jwk": bool, "claims": {...},
// "tamper": "signature"?}.
//   key "slipway"   the Ed25519 key whose seed the test wrote into slipway's key file (imported as a private JWK
//                   with slipway's published x), i.e. the REAL signing key
//   key "fresh"     a key pair generated here, which slipway has never seen
//   key "jwks-x*"   an HMAC secret made of slipway's public key: its raw 32 bytes, its base64url text, its SPKI PEM
//   kid "slipway"   the kid of slipway's active key (the first of the JWKS); "own": the fresh key's RFC 7638
//                   thumbprint (a kid slipway does not know); null: no kid
import * as jose from 'jose';
import { createPublicKey } from 'node:crypto';

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function fetchJwks(url) {
  const r = await fetch(url);
  if (r.status !== 200) throw new Error(`GET ${url}: ${r.status}`);
  return r.json();
}

async function verify(req) {
  // createRemoteJWKSet is what a service verifying slipway's tokens would use: it fetches the JWKS over HTTP and
  // picks the key by the token's kid.
  const jwks = jose.createRemoteJWKSet(new URL(req.jwks_url));
  try {
    const { payload, protectedHeader } = await jose.jwtVerify(req.token, jwks, {
      issuer: req.issuer,
      audience: req.audience,
      algorithms: ['EdDSA'],
    });
    return { ok: true, header: protectedHeader, payload };
  } catch (e) {
    return { ok: false, code: e.code ?? e.name, message: e.message };
  }
}

function seedBytes(text) {
  const b = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (b.length !== 32) throw new Error(`the seed must be 32 bytes, got ${b.length}`);
  return b;
}

async function signingKey(spec, ctx) {
  switch (spec.key) {
    case 'slipway': {
      if (!ctx.seed) throw new Error('key "slipway" needs the seed');
      const jwk = { kty: 'OKP', crv: 'Ed25519', x: ctx.active.x, d: jose.base64url.encode(seedBytes(ctx.seed)) };
      return { key: await jose.importJWK(jwk, 'EdDSA'), publicJwk: ctx.active };
    }
    case 'fresh': {
      const { privateKey, publicKey } = await jose.generateKeyPair(spec.alg, { extractable: true });
      return { key: privateKey, publicJwk: await jose.exportJWK(publicKey) };
    }
    case 'jwks-x':
      return { key: jose.base64url.decode(ctx.active.x) };
    case 'jwks-x-text':
      return { key: new TextEncoder().encode(ctx.active.x) };
    case 'jwks-spki-pem': {
      const pem = createPublicKey({ key: ctx.active, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
      return { key: new TextEncoder().encode(pem) };
    }
    default:
      throw new Error(`unknown key ${spec.key}`);
  }
}

function tamperSignature(token) {
  const [h, p, s] = token.split('.');
  const sig = jose.base64url.decode(s);
  sig[sig.length >> 1] ^= 0x01;  // one bit in the middle: the spelling stays strict base64url, the bytes differ
  return `${h}.${p}.${jose.base64url.encode(sig)}`;
}

async function forge(spec, ctx) {
  let token;
  if (spec.alg === 'none') {
    token = new jose.UnsecuredJWT(spec.claims).encode();
    if (spec.kid === 'slipway') {  // UnsecuredJWT takes no header: spell {"alg":"none","kid":...} by hand
      const header = jose.base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT', kid: ctx.active.kid }));
      token = `${header}.${token.split('.')[1]}.`;
    }
  } else {
    const { key, publicJwk } = await signingKey(spec, ctx);
    const header = { alg: spec.alg, typ: 'JWT' };
    if (spec.kid === 'slipway') header.kid = ctx.active.kid;
    else if (spec.kid === 'own') header.kid = await jose.calculateJwkThumbprint(publicJwk);
    else if (spec.kid) header.kid = spec.kid;
    if (spec.embed_jwk) header.jwk = publicJwk;
    token = await new jose.SignJWT(spec.claims).setProtectedHeader(header).sign(key);
  }
  if (spec.tamper === 'signature') token = tamperSignature(token);
  else if (spec.tamper) throw new Error(`unknown tamper ${spec.tamper}`);
  return token;
}

async function sign(req) {
  const jwks = await fetchJwks(req.jwks_url);
  const ctx = { active: jwks.keys[0], seed: req.seed };
  const out = {};
  for (const spec of req.tokens) out[spec.name] = await forge(spec, ctx);
  return out;
}

const commands = { verify, sign };
const command = commands[process.argv[2]];
if (!command) {
  process.stderr.write(`usage: node jwt.mjs ${Object.keys(commands).join('|')} < request.json\n`);
  process.exit(2);
}
try {
  process.stdout.write(JSON.stringify(await command(await readStdin())) + '\n');
} catch (e) {
  process.stderr.write(`jwt.mjs ${process.argv[2]}: ${e.stack ?? e}\n`);
  process.exit(1);
}
