#!/usr/bin/env node
// Test identity provider + mock Oracle Integration backend for oic_auth.
//
//   node t/mock/idp.js --certs DIR [--clients t/mock/clients.json] [--log]
//                      [--exit-on-stdin-eof]
//
// One process, three ports on 127.0.0.1 (all ephemeral):
//   iam   HTTP : mock OCI IAM identity domain + mock Entra ID issuer + /_test/ control API
//   iams  HTTPS: the same, with DIR/server.pem + DIR/server.key
//   oic   HTTP : mock OIC backend (accepts only valid tokens of the mock IAM)
// When all three listen it prints exactly one line to stdout:
//   {"iam":P1,"iams":P2,"oic":P3}
// and runs until SIGTERM/SIGINT (or, with --exit-on-stdin-eof, until stdin closes).
//
// Node built-ins only (no npm). What real IAM / Entra do is described in
// shared/docs/protocols.md; the control API is documented in t/mock/README.md.
'use strict';

const http = require('http');
const https = require('https');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { URL, URLSearchParams } = require('url');

// ---------------------------------------------------------------- arguments

const argv = process.argv.slice(2);
const opt = { certs: null, clients: path.join(__dirname, 'clients.json'), log: !!process.env.MOCK_LOG, stdinEof: false };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--certs') opt.certs = argv[++i];
  else if (a === '--clients') opt.clients = argv[++i];
  else if (a === '--log') opt.log = true;
  else if (a === '--exit-on-stdin-eof') opt.stdinEof = true;
  else die(`unknown argument ${a}`);
}
if (!opt.certs) die('usage: idp.js --certs DIR [--clients FILE] [--log] [--exit-on-stdin-eof]');

function die(msg) { process.stderr.write(`idp.js: ${msg}\n`); process.exit(2); }
function log(...a) { if (opt.log) process.stderr.write(`[idp ${new Date().toISOString()}] ${a.join(' ')}\n`); }

// ---------------------------------------------------------------- constants / config

const IAM_ISSUER = 'https://identity.oraclecloud.com/';
const GT_CC = 'client_credentials';
const GT_JWT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const GT_TX = 'urn:ietf:params:oauth:grant-type:token-exchange';
const TT_JWT = 'urn:ietf:params:oauth:token-type:jwt';
const TT_AT = 'urn:ietf:params:oauth:token-type:access_token';
const TT_ID = 'urn:ietf:params:oauth:token-type:id_token';
const MAX_ASSERTION_AHEAD = 3600;   // RFC 7523 assertions: exp at most 1 h ahead
const SKEW = 30;                    // seconds of leeway on nbf/iat/exp-ahead checks

function readFile(p) { try { return fs.readFileSync(p); } catch (e) { die(`cannot read ${p}: ${e.message}`); } }

let cfg;
try { cfg = JSON.parse(readFile(opt.clients).toString('utf8')); } catch (e) { die(`bad clients file ${opt.clients}: ${e.message}`); }
const OIC_AUDIENCE = cfg.oic_audience;
const AUDIENCES = cfg.audiences || {};            // primary audience -> logical guid audience
const clients = new Map();
const knownScopes = new Set();
for (const set of Object.values(cfg.scope_sets || {})) set.forEach((s) => knownScopes.add(s));
for (const c of cfg.clients) {
  const scopes = typeof c.scopes === 'string' ? cfg.scope_sets[c.scopes] : c.scopes;
  if (!Array.isArray(scopes)) die(`client ${c.id}: unknown scope set ${c.scopes}`);
  scopes.forEach((s) => knownScopes.add(s));
  clients.set(c.id, Object.assign({}, c, { scopes, grants: c.grants || [GT_CC], guid: sha(c.id, 'hex').slice(0, 32) }));
}
const users = new Map(cfg.users.map((u) => [u.name, u]));

const certDir = path.resolve(opt.certs);
const tlsKey = readFile(path.join(certDir, 'server.key'));
const tlsCert = readFile(path.join(certDir, 'server.pem'));
// Certificates registered in IAM for the user assertion grant: by alias (kid) and by thumbprint.
const assertionCerts = [];
for (const [alias, file] of Object.entries(cfg.assertion_certs || {})) {
  const x = new crypto.X509Certificate(readFile(path.join(certDir, file)));
  assertionCerts.push({ alias, publicKey: x.publicKey, x5t: sha1(x.raw), x5tS256: sha256b(x.raw) });
}

// ---------------------------------------------------------------- small helpers

function b64u(buf) { return Buffer.from(buf).toString('base64url'); }
function b64uJson(o) { return b64u(Buffer.from(typeof o === 'string' ? o : JSON.stringify(o), 'utf8')); }
function sha(s, enc) { return crypto.createHash('sha256').update(s).digest(enc); }
function sha1(buf) { return b64u(crypto.createHash('sha1').update(buf).digest()); }
function sha256b(buf) { return b64u(crypto.createHash('sha256').update(buf).digest()); }
function now() { return Math.floor(Date.now() / 1000); }
function rnd(n = 16) { return crypto.randomBytes(n).toString('hex'); }
function guid(seed) {
  const h = seed ? sha(seed, 'hex') : rnd(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }
function inc(obj, key, by = 1) { obj[key] = (obj[key] || 0) + by; }
function safeEq(a, b) {
  const x = Buffer.from(String(a), 'utf8'), y = Buffer.from(String(b), 'utf8');
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}
class HttpError extends Error { constructor(status, msg) { super(msg); this.status = status; } }

// ---------------------------------------------------------------- minimal DER / X.509 (self-signed certs for x5c)

function derLen(n) {
  if (n < 128) return Buffer.from([n]);
  const b = []; while (n > 0) { b.unshift(n & 255); n = Math.floor(n / 256); }
  return Buffer.from([0x80 | b.length, ...b]);
}
function der(tag, ...parts) { const body = Buffer.concat(parts); return Buffer.concat([Buffer.from([tag]), derLen(body.length), body]); }
const dSeq = (...p) => der(0x30, ...p);
const dSet = (...p) => der(0x31, ...p);
function dOid(s) {
  const a = s.split('.').map(Number); const out = [40 * a[0] + a[1]];
  for (const v of a.slice(2)) { const t = [v & 127]; let x = v >> 7; while (x > 0) { t.unshift((x & 127) | 128); x >>= 7; } out.push(...t); }
  return der(0x06, Buffer.from(out));
}
function dInt(buf) { if (buf[0] & 0x80) buf = Buffer.concat([Buffer.from([0]), buf]); return der(0x02, buf); }
function dTime(d) {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';   // YYYYMMDDHHMMSSZ
  return d.getUTCFullYear() < 2050 ? der(0x17, Buffer.from(iso.slice(2))) : der(0x18, Buffer.from(iso));
}
function selfSignedCert(privateKey, publicKey, cn) {
  const alg = dSeq(dOid('1.2.840.113549.1.1.11'), Buffer.from([5, 0]));   // sha256WithRSAEncryption
  const name = dSeq(dSet(dSeq(dOid('2.5.4.3'), der(0x0c, Buffer.from(cn, 'utf8')))));
  const serial = crypto.randomBytes(12); serial[0] &= 0x7f; serial[0] |= 0x01;
  const nb = new Date(Date.now() - 86400e3), na = new Date(Date.now() + 3650 * 86400e3);
  const tbs = dSeq(der(0xa0, dInt(Buffer.from([2]))), dInt(serial), alg, name, dSeq(dTime(nb), dTime(na)), name,
    publicKey.export({ type: 'spki', format: 'der' }));
  const sig = crypto.sign('sha256', tbs, privateKey);
  return dSeq(tbs, alg, der(0x03, Buffer.from([0]), sig));
}

// ---------------------------------------------------------------- keys

// RSA generation costs ~200 ms of CPU. Generated keys are kept in a key bank
// (DIR/mock-keybank.pem, PKCS#8 PEMs appended by every run that needs more), so
// later runs start tenants and rotations for free. Keys are distinct within one
// process. Past the bank, a small pool is filled in the background (libuv threads).
const bankFile = path.join(certDir, 'mock-keybank.pem');
const BANK_MAX = 256;
let bank = [];
try {
  const txt = fs.readFileSync(bankFile, 'utf8');
  bank = (txt.match(/-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/g) || []).map((pem) => {
    try { const privateKey = crypto.createPrivateKey(pem); return { privateKey, publicKey: crypto.createPublicKey(privateKey) }; } catch (e) { return null; }
  }).filter((k) => k && k.privateKey.asymmetricKeyType === 'rsa');
} catch (e) { /* no bank yet */ }
let bankNext = 0;
const rsaPool = []; let poolPending = 0; const POOL_TARGET = 4;
function toBank(k) {
  if (bank.length >= BANK_MAX) return;
  bank.push(null);   // count it, so that one process does not overfill
  try { fs.appendFileSync(bankFile, k.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o644 }); } catch (e) { /* read-only: fine */ }
}
function refillPool() {
  while (rsaPool.length + poolPending < POOL_TARGET) {
    poolPending++;
    crypto.generateKeyPair('rsa', { modulusLength: 2048 }, (err, publicKey, privateKey) => {
      poolPending--;
      if (!err) { rsaPool.push({ publicKey, privateKey }); toBank({ privateKey }); }
      setImmediate(refillPool);
    });
  }
}
function takeRsa() {
  while (bankNext < bank.length) { const k = bank[bankNext++]; if (k) { if (bankNext + 2 >= bank.length) refillPool(); return k; } }
  let k = rsaPool.pop();
  if (!k) { k = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }); toBank(k); }
  refillPool();
  return k;
}

function rsaKey(cn, kid) {
  const { publicKey, privateKey } = takeRsa();
  const cert = selfSignedCert(privateKey, publicKey, cn);
  const x5t = sha1(cert);
  return { kty: 'RSA', alg: 'RS256', kid: kid || x5t, x5t, x5tS256: sha256b(cert), cert, publicKey, privateKey, published: true };
}
function ecKey(kid) {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kty: 'EC', alg: 'ES256', kid, publicKey, privateKey, published: true };
}
function publicJwk(k, extra = {}) {
  const j = k.publicKey.export({ format: 'jwk' });
  if (k.kty === 'RSA') {
    return Object.assign({ kty: 'RSA', use: 'sig', kid: k.kid, x5t: k.x5t, n: j.n, e: j.e, x5c: [k.cert.toString('base64')] }, extra);
  }
  return Object.assign({ kty: 'EC', use: 'sig', kid: k.kid, alg: k.alg, crv: j.crv, x: j.x, y: j.y }, extra);
}

// IAM: kid is always SIGNING_KEY; keys differ by x5t / modulus. keys[0] signs.
const iam = {
  keys: [rsaKey('SIGNING_KEY', 'SIGNING_KEY')],
  jwksFault: { mode: 'none' },
  basicDecoding: 'rfc',          // rfc | raw | lenient   (how Basic credentials are decoded)
  behavior: new Map(),           // client id -> runtime behavior override
  authCalls: {},                 // client id -> authenticated token calls (for behavior.after)
};
function iamJwk(k) {
  const j = publicJwk(k, { alg: 'RS256' });
  j['x5t#S256'] = k.x5tS256;
  return j;
}

const foreign = { rsa: null, ec: null };
function foreignKey(kty) {
  if (kty === 'EC') return foreign.ec || (foreign.ec = ecKey('foreign-ec-' + rnd(4)));
  if (!foreign.rsa) { foreign.rsa = rsaKey('foreign'); foreign.rsa.published = false; }
  return foreign.rsa;
}

// Entra tenants, created lazily by id.
const tenants = new Map();
function tenant(tid) {
  if (!/^[A-Za-z0-9._~-]{1,100}$/.test(tid)) throw new HttpError(400, `bad tenant id ${tid}`);
  let t = tenants.get(tid);
  if (!t) {
    t = { tid, keys: [rsaKey('accounts.accesscontrol.windows.net'), rsaKey('accounts.accesscontrol.windows.net'), ecKey('ec-1')],
      ecCount: 1, jwksFault: { mode: 'none' } };
    tenants.set(tid, t);
    log('tenant', tid, 'created');
  }
  return t;
}
const issV1 = (tid) => `https://sts.windows.net/${tid}/`;
const issV2 = (tid) => `https://login.microsoftonline.com/${tid}/v2.0`;
function tenantByIssuer(iss) {
  if (typeof iss !== 'string') return null;
  let m = /^https:\/\/sts\.windows\.net\/([^/]+)\/$/.exec(iss) || /^https:\/\/login\.microsoftonline\.com\/([^/]+)\/v2\.0$/.exec(iss);
  return m && tenants.get(m[1]) || null;
}

// ---------------------------------------------------------------- stats

const stats = {
  token: { total: 0, ok: 0, by_client: {}, by_user: {}, by_grant: {}, by_status: {}, inflight: 0, max_inflight: 0 },
  jwks: { iam: 0 },
  discovery: {},
  oic: { total: 0, ok: 0, rejected: 0, by_sub: {} },
};
const tokenLog = new Map();   // client id -> last 100 token requests
function logToken(id, entry) {
  let l = tokenLog.get(id); if (!l) tokenLog.set(id, l = []);
  l.push(entry); if (l.length > 100) l.shift();
}

// ---------------------------------------------------------------- JWT

function signWith(alg, key, data) {
  const m = /^(RS|PS|ES)(256|384|512)$/.exec(alg || '');
  if (!m) throw new HttpError(400, `cannot sign with alg ${alg}`);
  const hash = 'sha' + m[2];
  if ((m[1] === 'ES') !== (key.kty === 'EC')) throw new HttpError(400, `alg ${alg} does not fit a ${key.kty} key`);
  if (m[1] === 'RS') return crypto.sign(hash, data, key.privateKey);
  if (m[1] === 'PS') return crypto.sign(hash, data, { key: key.privateKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(m[2]) / 8 });
  return crypto.sign(hash, data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
}

function applyOverrides(base, over) {
  if (over && typeof over === 'object') {
    for (const [k, v] of Object.entries(over)) { if (v === null) delete base[k]; else base[k] = v; }
  }
  return base;
}

// Shared by every minting path. header/claims: defaults; body: the test's options.
function buildToken(header, claims, key, alg, body) {
  const hostile = body.unsigned ? 'none' : (body.hmac_with_public_key || body.hmac_secret !== undefined) ? 'HS256' : null;
  header.alg = hostile || alg;
  if (body.embed_jwk) header.jwk = publicJwk(key);
  applyOverrides(header, body.header);
  applyOverrides(claims, body.claims);
  if (body.fill) fillClaims(claims, body.fill);
  const h = body.raw_header !== undefined ? String(body.raw_header) : JSON.stringify(header);
  const p = body.raw_payload !== undefined ? String(body.raw_payload) : JSON.stringify(claims);
  const input = b64uJson(h) + '.' + b64uJson(p);
  let sig;
  if (body.unsigned) sig = '';
  else if (body.hmac_with_public_key) {
    // the classic RS256 -> HS256 confusion: the public key's own text as HMAC secret
    const v = body.hmac_with_public_key;
    const secret = v === 'pkcs1' ? key.publicKey.export({ type: 'pkcs1', format: 'pem' })
      : v === 'der' ? key.publicKey.export({ type: 'spki', format: 'der' })
        : v === 'spki_nonl' ? key.publicKey.export({ type: 'spki', format: 'pem' }).trimEnd()
          : key.publicKey.export({ type: 'spki', format: 'pem' });
    sig = b64u(crypto.createHmac('sha256', secret).update(input).digest());
  } else if (body.hmac_secret !== undefined) sig = b64u(crypto.createHmac('sha256', String(body.hmac_secret)).update(input).digest());
  else sig = b64u(signWith(alg, key, Buffer.from(input)));
  if (body.signature_from !== undefined) sig = String(body.signature_from).split('.')[2] || '';
  return { token: input + '.' + sig, header, claims };
}

// Large payloads: fill {claim, count, item} sets claims[claim] to count copies
// of item (e.g. item [] makes an array of empty arrays); fill {prefix, count,
// item} adds count claims prefix0, prefix1, ... each set to item.
function fillClaims(claims, f) {
  const count = Math.min(Number(f.count) || 0, 100000);
  const item = f.item === undefined ? 0 : f.item;
  if (f.prefix !== undefined) {
    for (let i = 0; i < count; i++) claims[String(f.prefix) + i] = item;
  } else {
    claims[f.claim || 'fill'] = Array.from({ length: count }, () => item);
  }
}

function parseJwt(tok) {
  if (typeof tok !== 'string') throw new Error('not a string');
  const parts = tok.split('.');
  if (parts.length !== 3) throw new Error('not three parts');
  const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
  const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  if (!header || typeof header !== 'object' || !payload || typeof payload !== 'object') throw new Error('not JSON objects');
  return { header, payload, input: parts[0] + '.' + parts[1], sig: Buffer.from(parts[2], 'base64url') };
}
function rs256Ok(j, publicKey) {
  try { return crypto.verify('sha256', Buffer.from(j.input), publicKey, j.sig); } catch (e) { return false; }
}

// ---------------------------------------------------------------- IAM tokens

function splitScope(s) {
  // "https://host:443urn:opc:..." -> audience "https://host:443", scope "urn:opc:..."
  let best = null;
  for (const a of Object.keys(AUDIENCES)) if (s.startsWith(a) && (!best || a.length > best.length)) best = a;
  if (best) return { aud: best, scope: s.slice(best.length) };
  const m = /^(https:\/\/[^/:]+(?::\d+)?)(.*)$/.exec(s);
  return m ? { aud: m[1], scope: m[2] } : { aud: null, scope: s };
}

function iamHeader(k) { return { alg: 'RS256', typ: 'JWT', kid: 'SIGNING_KEY', x5t: k.x5t, 'x5t#S256': k.x5tS256 }; }

function issueIamToken(claims, body = {}, key) {
  key = key || iam.keys[0];
  return buildToken(iamHeader(key), claims, key, 'RS256', body).token;
}

function audAndScope(scopes) {
  const aud = [], sc = [];
  for (const s of scopes) {
    const { aud: a, scope } = splitScope(s);
    if (a && !aud.includes(a)) { aud.push(a); if (AUDIENCES[a]) aud.push(AUDIENCES[a]); }
    if (!sc.includes(scope)) sc.push(scope);
  }
  return { aud, scope: sc.join(' ') };
}

function clientClaims(client, scopes, lifetime) {
  const t = now(); const { aud, scope } = audAndScope(scopes);
  return { iss: IAM_ISSUER, sub: client.id, sub_type: 'client', client_id: client.id, client_name: client.name || client.id,
    client_guid: client.guid, domain: 'Default', domain_id: 'ocid1.domain.oc1..mock', tenant: 'idcs-mock',
    aud, scope, iat: t, exp: t + lifetime, jti: rnd(16), tok_type: 'AT', ver: '1.0' };
}
function userClaims(client, user, scopes, lifetime) {
  const c = clientClaims(client, scopes, lifetime);
  return Object.assign(c, { sub: user.name, sub_type: 'user', user_id: user.user_id, user_displayname: user.display_name || user.name,
    user_tz: 'UTC', user_locale: 'en', jti: rnd(16) });
}

// ---------------------------------------------------------------- HTTP helpers

function send(res, status, body, headers = {}) {
  if (res.writableEnded || res.destroyed) return;
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
  const h = Object.assign({ 'Content-Type': 'application/json;charset=UTF-8', 'Content-Length': buf.length }, headers);
  res.writeHead(status, h);
  res.end(buf);
}
function oauthErr(res, status, error, desc, headers = {}) {
  send(res, status, { error, error_description: desc, ecid: 'mock-' + rnd(8) },
    Object.assign({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }, headers));
  return { status, error };
}
function jsonBody(body) {
  if (!body.length) return {};
  try { const o = JSON.parse(body.toString('utf8')); if (o && typeof o === 'object') return o; } catch (e) { /* fallthrough */ }
  throw new HttpError(400, 'body must be a JSON object');
}

// ---------------------------------------------------------------- IAM token endpoint

function formDecode(s) { return decodeURIComponent(s.replace(/\+/g, ' ')); }   // throws on bad %-escapes

// Returns {id, secret, method} or {error: [status, code, desc, headers]}
function clientAuth(req, form) {
  const ah = req.headers.authorization;
  if (ah !== undefined) {
    const basicHdr = { 'WWW-Authenticate': 'Basic realm="oauth"' };
    const m = /^Basic +([A-Za-z0-9+/]*={0,2}) *$/i.exec(ah);
    if (!m) return { error: [401, 'invalid_client', 'Client authentication failed.', basicHdr], id: '?' };
    const dec = Buffer.from(m[1], 'base64').toString('utf8');
    const i = dec.indexOf(':');
    if (i < 0) return { error: [401, 'invalid_client', 'Client authentication failed.', basicHdr], id: '?' };
    const rawId = dec.slice(0, i), rawSecret = dec.slice(i + 1);
    let id, secret;
    const mode = iam.basicDecoding;
    if (mode === 'raw') { id = rawId; secret = rawSecret; }
    else {
      try { id = formDecode(rawId); secret = formDecode(rawSecret); } catch (e) { id = null; }
      if (mode === 'lenient') {
        const c = clients.get(id);
        if (!c || !safeEq(secret, c.secret)) { id = rawId; secret = rawSecret; }
      }
      if (id === null) return { error: [401, 'invalid_client', 'Client authentication failed.', basicHdr], id: rawId };
    }
    if (form.has('client_secret')) return { error: [400, 'invalid_request', 'More than one client authentication method was used.'], id };
    if (form.has('client_id') && form.get('client_id') !== id) return { error: [401, 'invalid_client', 'Client authentication failed.', basicHdr], id };
    return { id, secret, method: 'client_secret_basic', hdr: basicHdr };
  }
  if (form.has('client_secret')) return { id: form.get('client_id') || '', secret: form.get('client_secret'), method: 'client_secret_post', hdr: {} };
  return { error: [401, 'invalid_client', 'Client authentication failed.'], id: form.get('client_id') || '?' };
}

function effectiveBehavior(client) {
  let b = iam.behavior.has(client.id) ? iam.behavior.get(client.id) : client.behavior;
  b = b || {};
  const n = iam.authCalls[client.id] || 0;   // already counts this call
  if (b.after && n > (b.after.calls || 0)) b = b.after.then || {};
  return b;
}

function checkScope(client, scopeStr) {
  if (typeof scopeStr !== 'string' || !scopeStr.trim()) return { error: ['invalid_scope', 'Required scope missing'] };
  const list = scopeStr.split(/ +/).filter(Boolean);
  for (const s of list) if (!knownScopes.has(s)) return { error: ['invalid_scope', `Invalid scope: ${s}`] };
  for (const s of list) if (!client.scopes.includes(s)) return { error: ['unauthorized_client', 'Client authorization failed.'] };
  return { scopes: list };
}

function saneLifetime(b) {
  if (b.omit_expires_in) return { lifetime: 3600, text: null };
  if (b.expires_in_raw !== undefined) {
    let v; try { v = JSON.parse(b.expires_in_raw); } catch (e) { v = NaN; }
    const ok = typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= 10 * 365 * 86400;
    return { lifetime: ok ? Math.floor(v) : 3600, text: String(b.expires_in_raw) };
  }
  if (typeof b.expires_in === 'number') return { lifetime: b.expires_in > 0 ? Math.floor(b.expires_in) : 3600, text: JSON.stringify(b.expires_in) };
  return { lifetime: 3600, text: '3600' };
}

async function tokenEndpoint(req, res, body) {
  stats.token.total++;
  // calls in flight at once (a drive reports the most during its run)
  stats.token.inflight++;
  if (stats.token.inflight > stats.token.max_inflight) stats.token.max_inflight = stats.token.inflight;
  let ended = false;
  const end = () => { if (!ended) { ended = true; stats.token.inflight--; } };
  res.on('close', end);
  res.on('finish', end);
  const entry = { t: Date.now() / 1000, method: req.method, content_type: req.headers['content-type'] || null, user_agent: req.headers['user-agent'] || null };
  const fin = (id, r) => {
    Object.assign(entry, r);
    inc(stats.token.by_status, String(r.status));
    if (r.status === 200) stats.token.ok++;
    logToken(id, entry);
    log('token', id, entry.grant_type, r.status, r.error || '');
  };
  if (req.method !== 'POST') { stats.token.by_client['?'] = (stats.token.by_client['?'] || 0) + 1; return fin('?', oauthErr(res, 405, 'invalid_request', 'Method not allowed.', { Allow: 'POST' })); }
  const ct = (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
  const form = new URLSearchParams(ct === 'application/x-www-form-urlencoded' ? body.toString('utf8') : '');
  const auth = clientAuth(req, form);
  const id = auth.id;
  inc(stats.token.by_client, id);
  entry.auth_method = auth.method || null;
  entry.grant_type = form.get('grant_type');
  entry.scope = form.get('scope');
  inc(stats.token.by_grant, String(entry.grant_type));
  if (ct !== 'application/x-www-form-urlencoded') return fin(id, oauthErr(res, 400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded.'));
  const seen = new Set();
  for (const k of form.keys()) {
    if (seen.has(k)) return fin(id, oauthErr(res, 400, 'invalid_request', `Parameter ${k} repeated.`));
    seen.add(k);
  }
  if (auth.error) { const [st, code, desc, hdr] = auth.error; return fin(id, oauthErr(res, st, code, desc, hdr)); }
  const client = clients.get(id);
  if (!client || !safeEq(auth.secret, client.secret)) return fin(id, oauthErr(res, 401, 'invalid_client', 'Client authentication failed.', auth.hdr));

  // ---- authenticated: faults of this client
  inc(iam.authCalls, id);
  const b = effectiveBehavior(client);
  entry.behavior = Object.keys(b).length ? b : undefined;
  if (b.delay_ms) await sleep(Number(b.delay_ms));
  if (b.drop) { req.socket.destroy(); return fin(id, { status: 'dropped' }); }
  if (b.status) {
    const st = Number(b.status);
    const hdr = { 'Cache-Control': 'no-store' };
    if (b.retry_after !== undefined) hdr['Retry-After'] = String(b.retry_after);
    if (b.retry_after_date !== undefined) hdr['Retry-After'] = new Date(Date.now() + Number(b.retry_after_date) * 1000).toUTCString();
    const err = st === 429 ? ['too_many_requests', 'Rate limit exceeded.'] : st === 503 ? ['temporarily_unavailable', 'Service temporarily unavailable.']
      : ['server_error', 'Internal server error.'];
    if (b.body !== undefined) { send(res, st, String(b.body), hdr); return fin(id, { status: st }); }
    return fin(id, oauthErr(res, st, err[0], err[1], hdr));
  }

  // ---- grants
  const grant = form.get('grant_type');
  if (!grant) return fin(id, oauthErr(res, 400, 'invalid_request', 'grant_type is required.'));
  if (![GT_CC, GT_JWT, GT_TX].includes(grant)) return fin(id, oauthErr(res, 400, 'unsupported_grant_type', `Unsupported grant type: ${grant}`));
  if (!client.grants.includes(grant)) return fin(id, oauthErr(res, 400, 'unauthorized_client', 'Client is not authorized for this grant type.'));
  const life = saneLifetime(b);

  let claims, extra = null;
  if (grant === GT_CC) {
    const sc = checkScope(client, form.get('scope'));
    if (sc.error) return fin(id, oauthErr(res, 400, sc.error[0], sc.error[1]));
    claims = clientClaims(client, sc.scopes, life.lifetime);
  } else {
    let user;
    if (grant === GT_JWT) {
      const r = checkAssertion(client, form.get('assertion'));
      if (r.user_claimed) { inc(stats.token.by_user, r.user_claimed); entry.user = r.user_claimed; }
      if (r.error) return fin(id, oauthErr(res, 400, r.error[0], r.error[1]));
      user = r.user;
    } else {
      const r = checkSubjectToken(form);
      if (r.user_claimed) { inc(stats.token.by_user, r.user_claimed); entry.user = r.user_claimed; }
      if (r.error) return fin(id, oauthErr(res, 400, r.error[0], r.error[1]));
      user = r.user;
      extra = `"issued_token_type":${JSON.stringify(TT_AT)}`;
    }
    const sc = checkScope(client, form.get('scope'));
    if (sc.error) return fin(id, oauthErr(res, 400, sc.error[0], sc.error[1]));
    claims = userClaims(client, user, sc.scopes, life.lifetime);
  }
  if (b.jwt_exp_in !== undefined) claims.exp = claims.iat + Number(b.jwt_exp_in);   // the token's own exp, apart from expires_in
  const tok = issueIamToken(claims);
  entry.jti = claims.jti;

  // ---- the answer, shaped by the client's behavior
  const parts = [`"access_token":${JSON.stringify(tok)}`];
  if (extra) parts.push(extra);
  parts.push(`"token_type":${JSON.stringify(b.token_type !== undefined ? b.token_type : 'Bearer')}`);
  if (life.text !== null) parts.push(`"expires_in":${life.text}`);
  let text = '{' + parts.join(',') + '}';
  let ctype = 'application/json;charset=UTF-8';
  if (b.oversized) {
    const pad = Math.max(0, Number(b.oversized) - text.length - 14);
    text = text.slice(0, -1) + `,"padding":"${'x'.repeat(pad)}"}`;
  }
  switch (b.malformed) {
    case undefined: case null: case false: break;
    case 'html': text = '<html><head><title>Error</title></head><body><h1>Service temporarily unavailable</h1></body></html>'; ctype = 'text/html'; break;
    case 'no_token': text = '{"token_type":"Bearer","expires_in":3600}'; break;
    case 'token_not_string': text = '{"access_token":12345,"token_type":"Bearer","expires_in":3600}'; break;
    case 'empty': text = ''; break;
    default: text = text.slice(0, Math.floor(text.length / 2)); break;    // 'truncated'
  }
  const hdr = { 'Content-Type': ctype, 'Cache-Control': 'no-store', Pragma: 'no-cache' };
  if (b.partial) {
    const buf = Buffer.from(text);
    res.writeHead(200, Object.assign(hdr, { 'Content-Length': buf.length }));
    res.write(buf.subarray(0, Math.floor(buf.length / 2)));
    setTimeout(() => req.socket.destroy(), 50);
    return fin(id, { status: 'partial' });
  }
  send(res, 200, text, hdr);
  return fin(id, { status: 200 });
}

function audOk(aud) {
  const good = ['https://identity.oraclecloud.com/', 'https://identity.oraclecloud.com'];
  if (typeof aud === 'string') return good.includes(aud);
  if (Array.isArray(aud)) return aud.some((a) => good.includes(a) || a === 'oauth.idm.oracle.com');
  return false;
}

// RFC 7523 user assertion. Returns {user} or {error:[code,desc]}; user_claimed for stats.
function checkAssertion(client, a) {
  if (!a) return { error: ['invalid_request', 'assertion is required.'] };
  let j; try { j = parseJwt(a); } catch (e) { return { error: ['invalid_grant', `Malformed assertion: ${e.message}`] }; }
  const p = j.payload; const uc = typeof p.sub === 'string' ? p.sub : undefined;
  const fail = (d) => ({ error: ['invalid_grant', d], user_claimed: uc });
  if (j.header.alg !== 'RS256') return fail(`Assertion algorithm ${j.header.alg} not allowed; RS256 required.`);
  let cert = null;
  if (j.header.kid !== undefined) cert = assertionCerts.find((c) => c.alias === j.header.kid);
  else if (j.header.x5t !== undefined) cert = assertionCerts.find((c) => c.x5t === j.header.x5t);
  else if (j.header['x5t#S256'] !== undefined) cert = assertionCerts.find((c) => c.x5tS256 === j.header['x5t#S256']);
  if (!cert) return fail('No trusted certificate matches the assertion kid/x5t.');
  if (!rs256Ok(j, cert.publicKey)) return fail('Assertion signature verification failed.');
  if (p.iss !== client.id) return fail('Assertion issuer must be the client id.');
  if (!audOk(p.aud)) return fail('Assertion audience is invalid.');
  const t = now();
  if (typeof p.exp !== 'number') return fail('Assertion exp is missing.');
  if (p.exp <= t) return fail('Assertion has expired.');
  if (p.exp > t + MAX_ASSERTION_AHEAD + SKEW) return fail('Assertion exp is too far in the future.');
  if (p.nbf !== undefined && !(typeof p.nbf === 'number' && p.nbf <= t + SKEW)) return fail('Assertion not yet valid.');
  if (p.iat !== undefined && !(typeof p.iat === 'number' && p.iat <= t + SKEW)) return fail('Assertion iat is in the future.');
  if (!uc) return fail('Assertion sub is missing.');
  const user = users.get(uc);
  if (!user) return fail(`Unknown user ${uc}.`);
  return { user, user_claimed: uc };
}

// RFC 8693 subject token: an Entra token of a mock tenant.
function checkSubjectToken(form) {
  const st = form.get('subject_token'), stt = form.get('subject_token_type'), rtt = form.get('requested_token_type');
  if (!st || !stt) return { error: ['invalid_request', 'subject_token and subject_token_type are required.'] };
  if (![TT_JWT, TT_AT, TT_ID].includes(stt)) return { error: ['invalid_request', `Unsupported subject_token_type ${stt}.`] };
  if (rtt && ![TT_AT, TT_JWT].includes(rtt)) return { error: ['invalid_request', `Unsupported requested_token_type ${rtt}.`] };
  let j; try { j = parseJwt(st); } catch (e) { return { error: ['invalid_grant', `Malformed subject_token: ${e.message}`] }; }
  const p = j.payload;
  const name = [p.upn, p.preferred_username, p.unique_name].find((v) => typeof v === 'string' && v);
  const fail = (d) => ({ error: ['invalid_grant', d], user_claimed: name });
  if (j.header.alg !== 'RS256') return fail(`Subject token algorithm ${j.header.alg} not allowed.`);
  const t = tenantByIssuer(p.iss);
  if (!t) return fail('Subject token issuer is not trusted.');
  const key = t.keys.find((k) => k.published && k.kty === 'RSA' && k.kid === j.header.kid);
  if (!key) return fail('Subject token signing key is unknown.');
  if (!rs256Ok(j, key.publicKey)) return fail('Subject token signature verification failed.');
  const n = now();
  if (typeof p.exp !== 'number' || p.exp <= n - SKEW) return fail('Subject token has expired.');
  if (p.nbf !== undefined && !(typeof p.nbf === 'number' && p.nbf <= n + SKEW)) return fail('Subject token not yet valid.');
  if (!name) return fail('Subject token carries no user name (upn, preferred_username, unique_name).');
  const user = users.get(name);
  if (!user) return fail(`Unknown user ${name}.`);
  return { user, user_claimed: name };
}

// ---------------------------------------------------------------- JWKS with faults

async function jwksFault(f, res, req) {
  if (!f || f.mode === 'none') return false;
  if (typeof f.times === 'number') { if (f.times <= 0) { f.mode = 'none'; return false; } f.times--; }
  switch (f.mode) {
    case 'delay': await sleep(Number(f.ms) || 0); return false;
    case 'status': send(res, Number(f.status) || 500, { error: 'server_error', error_description: 'mock JWKS fault' },
      f.retry_after !== undefined ? { 'Retry-After': String(f.retry_after) } : {}); return true;
    case 'malformed': send(res, 200, '{"keys":[{"kty":"RSA","kid":'); return true;
    case 'empty': send(res, 200, { keys: [] }); return true;
    case 'auth': {   // IAM without "client access" to the signing cert: 401 unless valid client credentials
      const a = clientAuth(req, new URLSearchParams());
      const c = !a.error && clients.get(a.id);
      if (c && safeEq(a.secret, c.secret)) return false;
      send(res, 401, { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], detail: 'This operation is not permitted.', status: '401' },
        { 'WWW-Authenticate': 'Bearer realm="IDCS"' });
      return true;
    }
    default: return false;
  }
}
function setFault(target, body) {
  const modes = ['none', 'delay', 'status', 'malformed', 'empty', 'auth'];
  if (!modes.includes(body.mode)) throw new HttpError(400, `mode must be one of ${modes.join(', ')}`);
  target.jwksFault = { mode: body.mode, ms: body.ms, status: body.status, times: body.times, retry_after: body.retry_after };
  return target.jwksFault;
}

// ---------------------------------------------------------------- Entra minting

function entraMint(t, body) {
  const ver = ['1.0', '1', 1, 'v1'].includes(body.ver) ? '1.0' : '2.0';
  const user = body.user || 'alice@example.com';
  const n = now();
  const oid = guid('oid:' + user);
  const appId = guid('app:oic-client');
  let c;
  if (ver === '2.0') {
    c = { aud: 'api://oic-gateway', iss: issV2(t.tid), iat: n, nbf: n, exp: n + 3600, aio: rnd(8), azp: appId, azpacr: '1',
      name: displayName(user), oid, preferred_username: user, rh: '0.mock.', scp: 'oic_api_HR', sub: b64u(sha('sub:' + user)).slice(0, 43),
      tid: t.tid, uti: b64u(crypto.randomBytes(16)), ver: '2.0' };
  } else {
    c = { aud: 'api://oic-gateway', iss: issV1(t.tid), iat: n, nbf: n, exp: n + 3600, acr: '1', aio: rnd(8), amr: ['pwd'], appid: appId,
      appidacr: '1', name: displayName(user), oid, scp: 'oic_api_HR', sub: b64u(sha('sub:' + user)).slice(0, 43), tid: t.tid,
      unique_name: user, upn: user, uti: b64u(crypto.randomBytes(16)), ver: '1.0' };
  }
  if (body.app_only) {
    for (const k of ['scp', 'name', 'preferred_username', 'upn', 'unique_name', 'amr', 'acr']) delete c[k];
    c.roles = ['OIC.Invoke']; c.idtyp = 'app'; c.oid = guid('sp:oic-client'); c.sub = c.oid;
  }
  if (body.exp_in !== undefined) c.exp = n + Number(body.exp_in);
  if (body.nbf_in !== undefined) c.nbf = n + Number(body.nbf_in);
  if (body.iat_in !== undefined) c.iat = n + Number(body.iat_in);

  let alg = body.alg, key;
  const wantEc = typeof alg === 'string' && alg.startsWith('ES');
  if (body.sign_with === 'foreign') key = foreignKey(wantEc ? 'EC' : 'RSA');
  else if (body.kid !== undefined) {
    key = t.keys.find((k) => k.kid === body.kid);
    if (!key) throw new HttpError(400, `tenant ${t.tid} has no key ${body.kid}`);
  } else key = t.keys.find((k) => k.published && (wantEc ? k.kty === 'EC' : k.kty === 'RSA'));
  if (!key) throw new HttpError(400, 'no suitable key');
  alg = alg || key.alg;
  const header = key.kty === 'RSA' ? { typ: 'JWT', alg, x5t: key.kid, kid: key.kid } : { typ: 'JWT', alg, kid: key.kid };
  const r = buildToken(header, c, key, alg, body);
  return { token: r.token, kid: key.kid, header: r.header, claims: r.claims };
}
function displayName(u) { const x = users.get(u); return x && x.display_name || u.split('@')[0]; }

function entraRotate(t, body) {
  const out = {};
  if (body.add) {
    const count = Number(body.add) || 1; out.added = [];
    for (let i = 0; i < count; i++) {
      let k;
      if (body.kty === 'EC') { t.ecCount++; k = ecKey(`ec-${t.ecCount}`); } else k = rsaKey('accounts.accesscontrol.windows.net');
      if (body.hidden) k.published = false;
      if (body.first) t.keys.unshift(k); else t.keys.push(k);
      out.added.push(k.kid);
    }
    out.kid = out.added[0];
  }
  for (const [field, val] of [['remove', false], ['hide', false], ['publish', true]]) {
    if (body[field] === undefined) continue;
    const kids = Array.isArray(body[field]) ? body[field] : [body[field]];
    for (const kid of kids) {
      const k = t.keys.find((x) => x.kid === kid);
      if (!k) throw new HttpError(400, `tenant ${t.tid} has no key ${kid}`);
      k.published = val;
    }
  }
  out.keys = keyList(t.keys);
  return out;
}
function keyList(keys) { return keys.map((k) => ({ kid: k.kid, kty: k.kty, alg: k.alg, x5t: k.x5t, published: k.published })); }

function iamMint(q) {
  // q: convenience fields (sub, sub_type, scope, aud, exp_in, iat_in, client_id, user_id, iss, x5t) + buildToken options
  const t = now();
  const sub = q.sub || 'finance-app';
  const user = users.get(sub);
  const subType = q.sub_type || (user && !clients.has(sub) ? 'user' : 'client');
  let aud;
  if (q.aud === undefined || q.aud === null || q.aud === '') aud = [OIC_AUDIENCE, AUDIENCES[OIC_AUDIENCE]].filter(Boolean);
  else if (Array.isArray(q.aud)) aud = q.aud;
  else aud = String(q.aud).includes(',') ? String(q.aud).split(',') : String(q.aud);
  const iat = t + (q.iat_in !== undefined ? Number(q.iat_in) : 0);
  const c = { iss: q.iss || IAM_ISSUER, sub, sub_type: subType, client_id: q.client_id || (subType === 'client' ? sub : 'exchange-app'),
    client_name: q.client_id || sub, aud, scope: q.scope !== undefined ? q.scope : 'urn:opc:resource:consumer::all',
    iat, exp: t + (q.exp_in !== undefined ? Number(q.exp_in) : 3600), jti: rnd(16), tok_type: 'AT' };
  if (subType === 'user') c.user_id = q.user_id || (user ? user.user_id : sha(sub, 'hex').slice(0, 32));
  let key = iam.keys[0];
  if (q.x5t) { key = iam.keys.find((k) => k.x5t === q.x5t); if (!key) throw new HttpError(400, `no IAM key with x5t ${q.x5t}`); }
  if (q.sign_with === 'foreign') key = foreignKey('RSA');
  const r = buildToken(iamHeader(key), c, key, 'RS256', q);
  return { token: r.token, header: r.header, claims: r.claims };
}

// ---------------------------------------------------------------- mock OIC

function verifyIam(tok) {
  let j; try { j = parseJwt(tok); } catch (e) { return { reason: 'malformed' }; }
  if (j.header.alg !== 'RS256') return { reason: 'alg' };
  if (j.header.kid !== 'SIGNING_KEY') return { reason: 'kid' };
  const pub = iam.keys.filter((k) => k.published);
  const ordered = pub.filter((k) => k.x5t === j.header.x5t).concat(pub.filter((k) => k.x5t !== j.header.x5t));
  if (!ordered.some((k) => rs256Ok(j, k.publicKey))) return { reason: 'signature' };
  const p = j.payload;
  if (p.iss !== IAM_ISSUER) return { reason: 'issuer' };
  if (typeof p.exp !== 'number' || p.exp <= now()) return { reason: 'expired' };
  const aud = Array.isArray(p.aud) ? p.aud : [p.aud];
  if (OIC_AUDIENCE && !aud.includes(OIC_AUDIENCE)) return { reason: 'audience' };
  return { claims: p };
}

async function oicHandler(req, res, body, url) {
  // a /_plain segment anywhere in the path (so that nginx locations may prefix it): no auth
  if (/\/_plain(\/|$)/.test(url.pathname)) {
    const d = /\/_delay\/(\d+)(\/|$)/.exec(url.pathname);   // a pause a test can wait through, whatever its runner
    if (d) await sleep(Number(d[1]));
    return send(res, 200, 'plain', { 'Content-Type': 'text/plain' });
  }
  stats.oic.total++;
  const reject = (reason) => {
    stats.oic.rejected++;
    send(res, 401, { error: 'invalid_token', reason }, { 'WWW-Authenticate': `Bearer error="invalid_token", error_description="${reason}"` });
  };
  const ah = req.headers.authorization;
  if (ah === undefined) return reject('missing');
  const m = /^Bearer +([^\s]+) *$/i.exec(ah);
  if (!m) return reject('not_bearer');
  const v = verifyIam(m[1]);
  if (!v.claims) return reject(v.reason);
  const p = v.claims;
  stats.oic.ok++; inc(stats.oic.by_sub, String(p.sub));
  let status = 200;
  let mm = /\/_status\/(\d{3})(\/|$)/.exec(url.pathname);
  if (mm) status = Number(mm[1]);
  mm = /\/_delay\/(\d+)(\/|$)/.exec(url.pathname);
  if (mm) await sleep(Number(mm[1]));
  const headers = {};
  for (const [k, val] of Object.entries(req.headers)) if (k.startsWith('x-') || k === 'content-type') headers[k] = val;
  send(res, status, {
    method: req.method, path: url.pathname, query: url.search ? url.search.slice(1) : '',
    sub: p.sub, sub_type: p.sub_type, scope: p.scope, client_id: p.client_id, jti: p.jti, user_id: p.user_id === undefined ? null : p.user_id,
    aud: p.aud, headers, body_length: body.length, body_sha256: body.length ? sha(body, 'hex') : null,
  });
}

// ---------------------------------------------------------------- drive: load generator against nginx

const driveAgent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
function fire(o) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const start = Date.now();
    let hdrs = {};
    const done = (status, body) => resolve({ status: String(status), body, ms: Number(process.hrtime.bigint() - t0) / 1e6, start, end: Date.now(), headers: hdrs });
    const headers = Object.assign({}, o.headers);
    if (o.auth) headers.Authorization = o.auth;
    if (o.body) headers['Content-Length'] = Buffer.byteLength(o.body);
    let finished = false, aborted = false;
    const req = http.request({ host: '127.0.0.1', port: o.port, path: o.path, method: o.method || 'GET', headers, agent: driveAgent }, (res) => {
      hdrs = { x_cache: res.headers['x-cache'] || null, x_error: res.headers['x-error'] || null, retry_after: res.headers['retry-after'] || null };
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => { if (!finished) { finished = true; done(res.statusCode, Buffer.concat(chunks).toString('utf8')); } });
      res.on('error', () => { if (!finished) { finished = true; done(aborted ? 'aborted' : 'error', null); } });
      res.on('aborted', () => { if (!finished) { finished = true; done(aborted ? 'aborted' : 'error', null); } });
    });
    req.setTimeout(o.timeout_ms, () => { if (!finished) { finished = true; req.destroy(); done('timeout', null); } });
    req.on('error', (e) => { if (!finished) { finished = true; done(aborted ? 'aborted' : 'error:' + (e.code || e.message), null); } });
    if (o.abort_ms !== undefined) setTimeout(() => { if (!finished) { aborted = true; req.destroy(new Error('aborted')); } }, o.abort_ms);
    req.end(o.body || undefined);
  });
}

function snapshot() {
  return { by_client: Object.assign({}, stats.token.by_client), by_user: Object.assign({}, stats.token.by_user), total: stats.token.total,
    jwks: Object.values(stats.jwks).reduce((a, b) => a + b, 0), oic: stats.oic.total };
}
function delta(a, b, keys) {
  const out = {};
  const ks = keys && keys.length ? keys : Object.keys(b).filter((k) => (b[k] || 0) !== (a[k] || 0));
  for (const k of ks) out[k] = (b[k] || 0) - (a[k] || 0);
  return out;
}

// n distinct tokens for drive: mint "iam" or an Entra tenant id, mint_opts a
// JSON mint body (every option of the mint endpoints, fill included); each
// token gets a claim drive_n = its index.
function mintMany(who, opts, n) {
  let o;
  try { o = opts ? JSON.parse(opts) : {}; } catch (e) { throw new HttpError(400, 'mint_opts is not JSON'); }
  const out = [];
  for (let i = 0; i < n; i++) {
    const b = Object.assign({}, o, { claims: Object.assign({}, o.claims, { drive_n: i }) });
    out.push((who === 'iam' ? iamMint(b) : entraMint(tenant(who), b)).token);
  }
  return out;
}

// VmRSS (kB) of a process, read from /proc before, every 20 ms during, and after a run.
function rssOf(pid) {
  try { const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8')); return m ? Number(m[1]) : null; } catch (e) { return null; }
}
function rssWatch(pid) {
  if (!pid || !/^\d+$/.test(pid)) return null;
  const before = rssOf(pid);
  let max = before;
  const timer = setInterval(() => { const v = rssOf(pid); if (v !== null && (max === null || v > max)) max = v; }, 20);
  return { stop: () => { clearInterval(timer); const after = rssOf(pid); if (after !== null && (max === null || after > max)) max = after;
    return { rss_kb_before: before, rss_kb_after: after, rss_kb_max: max }; } };
}

// wait until count() >= n (checked every 10 ms, 10 s at most)
async function awaitCount(count, n) {
  const until = Date.now() + 10000;
  while (n > 0 && count() < n && Date.now() < until) await sleep(10);
}

async function drive(q) {
  const ports = q.getAll('port');
  const port = Number(ports[ports.length - 1]);   // the last one wins (a test's own port= after the proxy's)
  if (!port) throw new HttpError(400, 'port is required');
  const pth = q.get('path') || '/';
  if (!pth.startsWith('/')) throw new HttpError(400, 'path must start with /');
  const auths = q.getAll('auth');
  const headers = {};
  for (const h of q.getAll('hdr')) { const i = h.indexOf(':'); if (i > 0) headers[h.slice(0, i).trim()] = h.slice(i + 1).trim(); }
  const base = { port, method: q.get('method') || 'GET', body: q.get('body') || null, headers, timeout_ms: Number(q.get('timeout_ms')) || 30000 };
  const clientsQ = q.getAll('client'), usersQ = q.getAll('user');
  const before = snapshot(); const t0 = Date.now();
  stats.token.max_inflight = stats.token.inflight;
  const out = {};

  if (q.get('slow_path')) {
    const slowP = fire(Object.assign({}, base, { path: q.get('slow_path'), auth: q.get('slow_auth') || auths[0] }));
    await sleep(Number(q.get('gap_ms')) || 100);
    const fastP = fire(Object.assign({}, base, { path: q.get('fast_path') || pth, auth: q.get('fast_auth') || auths[0] }));
    const [slow, fast] = await Promise.all([slowP, fastP]);
    Object.assign(out, { fast_ms: Math.round(fast.ms), slow_ms: Math.round(slow.ms), fast_status: fast.status, slow_status: slow.status,
      fast_before_slow: fast.end < slow.end || (fast.end === slow.end && fast.ms < slow.ms), fast_body: fast.body, slow_body: slow.body });
  } else {
    const n = Math.min(Number(q.get('n')) || 1, 20000);
    const abort = Number(q.get('abort')) || 0, abortMs = q.get('abort_ms') !== null ? Number(q.get('abort_ms')) : 100;
    const paths = q.getAll('path').length > 1 ? q.getAll('path') : [pth];
    const minted = q.get('mint') ? mintMany(q.get('mint'), q.get('mint_opts'), n) : null;
    const conc = Number(q.get('conc')) || Infinity;
    const interval = Number(q.get('interval_ms')) || 0;
    const randClients = q.get('rand_clients') === '1' ? rnd(6) : null;
    const rss = rssWatch(q.get('pid'));
    const results = [];
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const i = next++;
        // interval_ms: request i starts at i * interval_ms, whatever the others do
        if (interval) await sleep(Math.max(0, t0 + i * interval - Date.now()));
        const ai = auths.length ? i % auths.length : -1;
        let auth = minted ? 'Bearer ' + minted[i] : ai >= 0 ? auths[ai] : null;
        // rand_clients=1: a client id nobody knows, a new one for every request
        if (randClients) auth = 'Basic ' + Buffer.from(`made-up-${randClients}-${i}:wrong-secret`).toString('base64');
        const o = Object.assign({}, base, { path: paths[i % paths.length], auth });
        if (i < abort) o.abort_ms = abortMs;
        results.push(Object.assign(await fire(o), { ai, i }));
      }
    };
    await Promise.all(Array.from({ length: interval ? n : Math.min(n, conc) }, worker));
    if (rss) Object.assign(out, rss.stop());
    const statuses = {}, bodies = new Set(), lat = [];
    const byAuth = auths.map(() => ({ statuses: {}, subs: {}, jtis: new Set() }));
    for (const r of results) {
      inc(statuses, r.status);
      if (r.body !== null) bodies.add(r.body);
      lat.push(r.ms);
      if (r.ai >= 0) {
        const ba = byAuth[r.ai]; inc(ba.statuses, r.status);
        if (r.body) { try { const j = JSON.parse(r.body); if (j && j.sub !== undefined) { inc(ba.subs, String(j.sub)); if (j.jti) ba.jtis.add(j.jti); } } catch (e) { /* not JSON */ } }
      }
    }
    lat.sort((a, b) => a - b);
    Object.assign(out, { statuses, bodies_distinct: bodies.size,
      p50_ms: Math.round(lat[Math.floor(lat.length / 2)] || 0), max_ms: Math.round(lat[lat.length - 1] || 0),
      by_auth: byAuth.map((b) => ({ statuses: b.statuses, subs: b.subs, jtis_distinct: b.jtis.size })) });
    if (q.get('bodies') === '1') out.sample_bodies = [...bodies].slice(0, 5);
    // timeline=1: each request in order: [start ms from t0, status, X-Cache, X-Error, Retry-After, jti, ms taken]
    if (q.get('timeline') === '1') {
      out.timeline = results.slice().sort((a, b) => a.i - b.i).map((r) => {
        let jti = null;
        try { const j = JSON.parse(r.body); if (j && j.jti) jti = j.jti; } catch (e) { /* not JSON */ }
        return [r.start - t0, r.status, r.headers.x_cache, r.headers.x_error, r.headers.retry_after, jti, Math.round(r.ms)];
      });
    }
  }
  // a background JWKS refresh reaches the mock after the answer that started
  // it: await_jwks=N waits (10 s at most) until the run has caused N fetches
  await awaitCount(() => snapshot().jwks - before.jwks, Number(q.get('await_jwks')) || 0);
  // token_times=1: the token calls of the client= clients during the run: [ms from t0, status, client], in order
  if (q.get('token_times') === '1' && clientsQ.length) {
    out.token_times = [].concat(...clientsQ.map((c) => (tokenLog.get(c) || []).filter((e) => e.t * 1000 >= t0)
      .map((e) => [Math.round(e.t * 1000 - t0), e.status, c]))).sort((a, b) => a[0] - b[0]);
  }
  out.token_max_inflight = stats.token.max_inflight;
  const after = snapshot();
  out.token_calls = clientsQ.length === 1 ? (after.by_client[clientsQ[0]] || 0) - (before.by_client[clientsQ[0]] || 0)
    : clientsQ.length > 1 ? delta(before.by_client, after.by_client, clientsQ) : after.total - before.total;
  out.user_calls = delta(before.by_user, after.by_user, usersQ);
  out.jwks_calls = after.jwks - before.jwks;
  out.oic_calls = after.oic - before.oic;
  out.ms = Date.now() - t0;
  return out;
}

// ---------------------------------------------------------------- routing

async function iamHandler(req, res, body, url, scheme, ports) {
  const p = url.pathname;
  const base = `${scheme}://127.0.0.1:${req.socket.localPort}`;
  if (p === '/oauth2/v1/token') return tokenEndpoint(req, res, body);
  if (p === '/admin/v1/SigningCert/jwk') {
    stats.jwks.iam++;
    if (await jwksFault(iam.jwksFault, res, req)) return;
    return send(res, 200, { keys: iam.keys.filter((k) => k.published).map(iamJwk) });
  }
  if (p === '/.well-known/openid-configuration' || p === '/.well-known/oauth-authorization-server') {
    inc(stats.discovery, 'iam');
    return send(res, 200, {
      issuer: IAM_ISSUER, authorization_endpoint: `${base}/oauth2/v1/authorize`, token_endpoint: `${base}/oauth2/v1/token`,
      jwks_uri: `${base}/admin/v1/SigningCert/jwk`, grant_types_supported: [GT_CC, GT_JWT, GT_TX],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
      id_token_signing_alg_values_supported: ['RS256'], scopes_supported: [...knownScopes], response_types_supported: ['code', 'token'],
    });
  }
  if (p.startsWith('/_test/')) return control(req, res, body, url, ports);
  let m = /^\/([^/]+)\/discovery(\/v2\.0)?\/keys$/.exec(p);
  if (m && req.method === 'GET') {
    const t = tenant(m[1]); const v2 = !!m[2];
    inc(stats.jwks, t.tid);
    if (await jwksFault(t.jwksFault, res, req)) return;
    return send(res, 200, { keys: t.keys.filter((k) => k.published).map((k) => publicJwk(k, v2 ? { issuer: issV2(t.tid) } : {})) });
  }
  m = /^\/([^/]+)(\/v2\.0)?\/\.well-known\/openid-configuration$/.exec(p);
  if (m) {
    const t = tenant(m[1]); const v2 = !!m[2];
    inc(stats.discovery, t.tid);
    return send(res, 200, { issuer: v2 ? issV2(t.tid) : issV1(t.tid), jwks_uri: `${base}/${t.tid}/discovery${v2 ? '/v2.0' : ''}/keys`,
      token_endpoint: `${base}/${t.tid}/oauth2${v2 ? '/v2.0' : ''}/token`, id_token_signing_alg_values_supported: ['RS256'] });
  }
  return send(res, 404, { error: 'not_found', path: p });
}

async function control(req, res, body, url, ports) {
  const p = url.pathname, q = url.searchParams;
  const post = req.method === 'POST';
  let m;
  // wait_ms=N on any control call: answer (or start a drive) N ms later, so a
  // test can wait through the mock, whatever its runner does between requests
  if (q.get('wait_ms')) await sleep(Math.min(Number(q.get('wait_ms')) || 0, 60000));
  if (p === '/_test/health') return send(res, 200, { ok: true, ports });
  if (p === '/_test/stats') {
    // await_jwks=<tid>:<n> (repeatable): answer once that key set has been fetched n times (10 s at most)
    for (const a of q.getAll('await_jwks')) {
      const i = a.lastIndexOf(':');
      await awaitCount(() => stats.jwks[a.slice(0, i)] || 0, Number(a.slice(i + 1)));
    }
    return send(res, 200, stats);
  }
  if (p === '/_test/token_log') return send(res, 200, { client: q.get('client'), calls: tokenLog.get(q.get('client')) || [] });
  if (p === '/_test/drive') return send(res, 200, await drive(q));
  if (p === '/_test/mint_iam') {
    const o = {}; for (const k of q.keys()) o[k] = q.get(k);
    return send(res, 200, iamMint(o));
  }
  if (p === '/_test/clients') return send(res, 200, { clients: [...clients.values()].map((c) => ({ id: c.id, behavior: c.behavior || null, grants: c.grants, scopes: c.scopes })) });
  if (!post && (m = /^\/_test\/entra\/([^/]+)\/info$/.exec(p))) {
    const t = tenant(decodeURIComponent(m[1]));
    return send(res, 200, { tid: t.tid, iss_v1: issV1(t.tid), iss_v2: issV2(t.tid), keys: keyList(t.keys), jwks_fault: t.jwksFault });
  }
  if (p === '/_test/iam/info') return send(res, 200, { keys: keyList(iam.keys), jwks_fault: iam.jwksFault, basic_decoding: iam.basicDecoding,
    behavior_overrides: Object.fromEntries(iam.behavior), auth_calls: iam.authCalls });
  if (!post) throw new HttpError(405, `${p} wants POST`);
  const b = jsonBody(body);
  if (p === '/_test/iam/mint') return send(res, 200, iamMint(b));
  if (p === '/_test/iam/rotate') {
    const k = rsaKey('SIGNING_KEY', 'SIGNING_KEY');
    if (!b.keep_old) iam.keys.forEach((x) => { x.published = false; });
    iam.keys.unshift(k);
    return send(res, 200, { x5t: k.x5t, keys: keyList(iam.keys) });
  }
  if (p === '/_test/iam/jwks_fault') return send(res, 200, { fault: setFault(iam, b) });
  if (p === '/_test/iam/behavior') {
    if (!clients.has(b.client)) throw new HttpError(400, `unknown client ${b.client}`);
    if (b.behavior === null || b.behavior === undefined) iam.behavior.delete(b.client); else iam.behavior.set(b.client, b.behavior);
    if (b.reset_calls) iam.authCalls[b.client] = 0;
    return send(res, 200, { client: b.client, behavior: b.behavior || null });
  }
  if (p === '/_test/iam/config') {
    if (b.basic_decoding !== undefined) {
      if (!['rfc', 'raw', 'lenient'].includes(b.basic_decoding)) throw new HttpError(400, 'basic_decoding: rfc|raw|lenient');
      iam.basicDecoding = b.basic_decoding;
    }
    return send(res, 200, { basic_decoding: iam.basicDecoding });
  }
  if ((m = /^\/_test\/entra\/([^/]+)\/(mint|rotate|jwks_fault|info)$/.exec(p))) {
    const t = tenant(decodeURIComponent(m[1]));
    if (m[2] === 'mint') return send(res, 200, entraMint(t, b));
    if (m[2] === 'rotate') return send(res, 200, entraRotate(t, b));
    if (m[2] === 'jwks_fault') return send(res, 200, { fault: setFault(t, b) });
    return send(res, 200, { tid: t.tid, iss_v1: issV1(t.tid), iss_v2: issV2(t.tid), keys: keyList(t.keys), jwks_fault: t.jwksFault });
  }
  throw new HttpError(404, `no control endpoint ${p}`);
}

function handler(kind, scheme, ports) {
  return (req, res) => {
    const chunks = []; let size = 0, tooBig = false;
    req.on('data', (c) => { size += c.length; if (size > 16 * 1024 * 1024) tooBig = true; else chunks.push(c); });
    req.on('error', () => {});
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      let url;
      try { url = new URL(req.url, 'http://127.0.0.1'); } catch (e) { return send(res, 400, { error: 'bad_url' }); }
      log(kind, req.method, req.url);
      try {
        if (tooBig) return send(res, 413, { error: 'too_large' });
        if (kind === 'oic') await oicHandler(req, res, body, url);
        else await iamHandler(req, res, body, url, scheme, ports);
      } catch (e) {
        const st = e instanceof HttpError ? e.status : 500;
        if (st === 500) process.stderr.write(`idp.js: ${req.method} ${req.url}: ${e.stack}\n`);
        send(res, st, { error: st === 500 ? 'server_error' : 'bad_request', error_description: e.message });
      }
    });
  };
}

// ---------------------------------------------------------------- start

process.on('uncaughtException', (e) => process.stderr.write(`idp.js: uncaught: ${e.stack}\n`));
process.on('unhandledRejection', (e) => process.stderr.write(`idp.js: unhandled: ${e && e.stack}\n`));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
process.on('SIGHUP', () => process.exit(0));
if (opt.stdinEof) { process.stdin.on('end', () => process.exit(0)); process.stdin.on('error', () => process.exit(0)); process.stdin.resume(); }
process.stdout.on('error', () => {});

const ports = {};
const servers = [
  ['iam', http.createServer({ maxHeaderSize: 65536 }, null), 'http'],
  ['iams', https.createServer({ key: tlsKey, cert: tlsCert, maxHeaderSize: 65536 }, null), 'https'],
  ['oic', http.createServer({ maxHeaderSize: 65536 }, null), 'http'],
];
let listening = 0;
for (const [name, srv, scheme] of servers) {
  srv.on('request', handler(name === 'oic' ? 'oic' : 'iam', scheme, ports));
  srv.on('clientError', (err, sock) => { if (sock.writable) sock.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'); });
  srv.keepAliveTimeout = 30000;
  srv.headersTimeout = 35000;
  srv.requestTimeout = 0;
  srv.maxConnections = Infinity;
  srv.on('error', (e) => die(`${name}: ${e.message}`));
  srv.listen(0, '127.0.0.1', 1024, () => {
    ports[name] = srv.address().port;
    if (++listening === servers.length) process.stdout.write(JSON.stringify({ iam: ports.iam, iams: ports.iams, oic: ports.oic }) + '\n');
  });
}
