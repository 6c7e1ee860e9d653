import { createHmac } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileRule, RuleError } from '../../lib/claims.ts';
import { Outbound, OutboundError } from '../outbound/client.ts';
import { serveHttps, TestCa, type TestServer } from '../outbound/tls.test-helper.ts';
import { JwksStore, type OidcConfig, verifyOidc } from './oidc.ts';

// A stand-in for GitHub Actions' issuer on loopback: discovery and a JWKS served by jose-made keys.
const ISSUER = 'https://token.actions.githubusercontent.com';
const HOST = 'token.actions.githubusercontent.com';
const AUDIENCE = 'https://hooks.example.com/hooks/ci/deploy';
const BODY = Buffer.from('{"ref":"refs/heads/main"}');

type Key = Awaited<ReturnType<typeof generateKeyPair>>;
let ca: TestCa;
let server: TestServer;
let rsa: Key;
let ec: Key;
let ed: Key;
let rogue: Key;
let published: object[];

beforeAll(async () => {
  ca = await TestCa.create();
  [rsa, ec, ed, rogue] = await Promise.all([
    generateKeyPair('RS256'),
    generateKeyPair('ES256'),
    generateKeyPair('EdDSA'),
    generateKeyPair('RS256'),
  ]);
  published = [
    { ...(await exportJWK(rsa.publicKey)), kid: 'rsa', alg: 'RS256' },
    { ...(await exportJWK(ec.publicKey)), kid: 'ec', alg: 'ES256' },
    { ...(await exportJWK(ed.publicKey)), kid: 'ed', alg: 'EdDSA' },
  ];
  server = await serveHttps(ca, [HOST], (req, res) => {
    if (req.url === '/.well-known/openid-configuration')
      res.end(JSON.stringify({ issuer: ISSUER, jwks_uri: `${ISSUER}/.well-known/jwks` }));
    else if (req.url === '/.well-known/jwks') res.end(JSON.stringify({ keys: published }));
    else res.writeHead(404).end();
  });
});
afterAll(() => server?.close());

const claims = (over: JWTPayload = {}): JWTPayload => ({
  repository: 'acme/app',
  ref: 'refs/heads/main',
  workflow: 'deploy',
  jti: crypto.randomUUID(),
  ...over,
});

async function mint(
  over: JWTPayload = {},
  opts: {
    key?: Key;
    kid?: string;
    alg?: string;
    iss?: string;
    aud?: string;
    iat?: number;
    exp?: number;
  } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  const alg = opts.alg ?? 'RS256';
  return new SignJWT(claims(over))
    .setProtectedHeader({ alg, kid: opts.kid ?? 'rsa' })
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setIssuedAt(opts.iat ?? now)
    .setExpirationTime(opts.exp ?? now + 300)
    .sign((opts.key ?? rsa).privateKey);
}

const CONFIG: OidcConfig = {
  issuer: ISSUER,
  audiences: [AUDIENCE],
  claims: [{ claim: 'repository', value: 'acme/app' }],
  rules: [{ expression: 'claims.ref.startsWith("refs/heads/")', message: 'branches only' }],
};
const store = (port = server.port) =>
  new JwksStore(new Outbound({ testing: { ca: [ca.pem], hosts: { [HOST]: port } } }));
const run = (token: string, config = CONFIG, s = store(), body = BODY) =>
  verifyOidc({ headers: { authorization: `Bearer ${token}` }, body }, config, s, Date.now());

describe('OIDC tokens (minted with jose, keys discovered from a loopback issuer)', () => {
  it.each([
    ['RS256', 'rsa'],
    ['ES256', 'ec'],
    ['EdDSA', 'ed'],
  ])('accepts a %s token', async (alg, kid) => {
    const key = { rsa, ec, ed }[kid as 'rsa' | 'ec' | 'ed'];
    const verdict = await run(await mint({}, { alg, kid, key }));
    expect(verdict.ok).toBe(true);
  });

  it('refuses a flipped byte, a key not published, none and HMAC', async () => {
    const token = await mint();
    const [h, p, sig] = token.split('.') as [string, string, string];
    const flipped = `${h}.${p}.${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
    expect(await run(flipped)).toEqual({ ok: false, reason: 'invalid_token' });
    expect(await run(await mint({}, { key: rogue }))).toEqual({ ok: false, reason: 'invalid_token' });
    expect(await run(await mint({}, { key: rogue, kid: 'unknown' }))).toEqual({
      ok: false,
      reason: 'invalid_token',
    });
    const none = new UnsecuredJWT(claims())
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .encode();
    expect(await run(none)).toEqual({ ok: false, reason: 'invalid_token' });
    // HS256 "signed" with the public key's text, the classic algorithm confusion.
    const head = Buffer.from(JSON.stringify({ alg: 'HS256', kid: 'rsa' })).toString('base64url');
    const body = Buffer.from(
      JSON.stringify({
        ...claims(),
        iss: ISSUER,
        aud: AUDIENCE,
        iat: Math.floor(Date.now() / 1000),
        exp: Math.floor(Date.now() / 1000) + 300,
      }),
    ).toString('base64url');
    const mac = createHmac('sha256', JSON.stringify(published[0]))
      .update(`${head}.${body}`)
      .digest('base64url');
    expect(await run(`${head}.${body}.${mac}`)).toEqual({ ok: false, reason: 'invalid_token' });
  });

  it('refuses a wrong audience or issuer', async () => {
    expect(await run(await mint({}, { aud: 'https://other.example/' }))).toEqual({
      ok: false,
      reason: 'invalid_audience',
    });
    expect(await run(await mint({}, { iss: 'https://evil.example' }))).toEqual({
      ok: false,
      reason: 'invalid_issuer',
    });
  });

  it('checks exp, nbf and iat with a small skew, and refuses long-lived tokens', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await run(await mint({}, { exp: now - 30 }))).ok).toBe(true); // within the 60 s skew
    expect(await run(await mint({}, { iat: now - 400, exp: now - 61 }))).toEqual({
      ok: false,
      reason: 'timestamp_out_of_tolerance',
    });
    expect(await run(await mint({ nbf: now + 120 }))).toEqual({
      ok: false,
      reason: 'timestamp_out_of_tolerance',
    });
    expect(await run(await mint({}, { iat: now + 120 }))).toEqual({
      ok: false,
      reason: 'timestamp_out_of_tolerance',
    });
    expect(await run(await mint({}, { exp: now + 7200 }))).toEqual({
      ok: false,
      reason: 'timestamp_out_of_tolerance',
    });
    expect(await run('not.a token')).toEqual({ ok: false, reason: 'missing_token' });
  });

  it('holds the claim conditions: exact values and CEL', async () => {
    expect(await run(await mint({ repository: 'acme/other' }))).toEqual({ ok: false, reason: 'not_allowed' });
    expect(await run(await mint({ ref: 'refs/tags/v1' }))).toEqual({ ok: false, reason: 'not_allowed' });
    expect(await run(await mint({ ref: 7 }))).toEqual({ ok: false, reason: 'not_allowed' });
    const groups = { ...CONFIG, rules: [{ expression: '"ops" in claims.groups', message: 'ops only' }] };
    expect((await run(await mint({ groups: ['dev', 'ops'] }), groups)).ok).toBe(true);
    expect(await run(await mint({ groups: ['dev'] }), groups)).toEqual({ ok: false, reason: 'not_allowed' });
    expect(await run(await mint(), groups)).toEqual({ ok: false, reason: 'not_allowed' });
  });

  it('bounds CEL: no nested comprehensions, no huge expressions, no syntax errors', () => {
    expect(() => compileRule('claims.groups.exists(g, claims.groups.exists(h, g == h))')).toThrow(RuleError);
    expect(() => compileRule(`claims.a == "${'x'.repeat(1100)}"`)).toThrow(RuleError);
    expect(() => compileRule('claims.a ==')).toThrow(RuleError);
    expect(() => compileRule('claims.groups.exists(g, g == "ops")')).not.toThrow();
  });

  it('names a verbatim replay the same delivery, and another body with the same token another', async () => {
    const token = await mint();
    const s = store();
    const a = await run(token, CONFIG, s);
    const b = await run(token, CONFIG, s);
    const c = await run(token, CONFIG, s, Buffer.from('{"other":true}'));
    expect(a.ok && b.ok && c.ok).toBe(true);
    expect(a.ok && b.ok && a.signed === b.signed).toBe(true);
    expect(a.ok && c.ok && a.signed !== c.signed).toBe(true);
  });

  it('caches the key set and refreshes it on an unknown kid at most once a minute', async () => {
    const s = store();
    await run(await mint(), CONFIG, s);
    const fetches = () => server.requests.filter((r) => r === '/.well-known/jwks').length;
    const before = fetches();
    await run(await mint(), CONFIG, s);
    expect(fetches()).toBe(before);
    await run(await mint({}, { key: rogue, kid: 'new' }), CONFIG, s);
    await run(await mint({}, { key: rogue, kid: 'newer' }), CONFIG, s);
    expect(fetches()).toBe(before);
    // A key that appears (a rotation) is fetched once the minute has passed.
    let clock = Date.now();
    const timed = new JwksStore(
      new Outbound({ testing: { ca: [ca.pem], hosts: { [HOST]: server.port } } }),
      () => clock,
    );
    await run(await mint(), CONFIG, timed);
    published.push({ ...(await exportJWK(rogue.publicKey)), kid: 'rotated', alg: 'RS256' });
    const rotated = await mint({}, { key: rogue, kid: 'rotated' });
    expect(await run(rotated, CONFIG, timed)).toEqual({ ok: false, reason: 'invalid_token' });
    clock += 61_000;
    const n = fetches();
    expect((await run(rotated, CONFIG, timed)).ok).toBe(true);
    expect(fetches()).toBe(n + 1);
    published.pop();
  });

  it('uses a pinned JWKS without any call', async () => {
    const before = server.requests.length;
    const pinned = { ...CONFIG, jwks: { keys: published as never } };
    expect((await run(await mint(), pinned, store(1))).ok).toBe(true);
    expect(server.requests.length).toBe(before);
  });

  it('throws (503 for the sender) when the issuer cannot be reached', async () => {
    await expect(run(await mint(), CONFIG, store(1))).rejects.toBeInstanceOf(OutboundError);
  });
});
