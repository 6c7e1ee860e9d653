import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type Route, type SignatureKnobs, signatureVerifier } from '../../api/v1alpha1/index.ts';
import { decodeDigest, decodeKey, parseTimestamp } from './decode.ts';
import { MAX_SIGNATURE_ENTRIES } from './hmac.ts';
import { sign, type VerifyReason, type VerifyRequest, verify } from './index.ts';

// The generic `hmac` scheme: every knob a sender without a preset may need, and what a hostile
// sender may try against the parser.

const NOW = Date.UTC(2026, 0, 15, 12);
const SECRET = 'generic-hmac-secret-0123456789ab';
const BODY = '{"event":"deploy","ref":"main"}';
const URL = 'https://hooks.example.com/hooks/team-a/deploy';

const auth = (knobs: Omit<SignatureKnobs, 'scheme'>, secret = SECRET): Route['auth'] => ({
  signature: { verifier: signatureVerifier({ scheme: 'hmac', ...knobs }), secrets: [{ value: secret }] },
});
const check = (
  a: Route['auth'],
  headers: Record<string, string>,
  more: Partial<VerifyRequest> = {},
  now = NOW,
) => verify(a, { headers: lower(headers), body: Buffer.from(BODY), url: URL, ...more }, now);
const lower = (h: Record<string, string>) =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
const mac = (algorithm: string, key: string | Buffer, text: string) =>
  createHmac(algorithm, key).update(text);
const refused = (reason: VerifyReason) => ({ ok: false, reason });

describe('algorithms and encodings', () => {
  it.each([
    ['sha1', 'hex'],
    ['sha256', 'base64'],
    ['sha512', 'base64url'],
    ['sha512', 'hex'],
  ] as const)('%s, %s', (algorithm, encoding) => {
    const a = auth({ algorithm, encoding, prefix: `${algorithm}=` });
    const good = `${algorithm}=${mac(algorithm, SECRET, BODY).digest(encoding)}`;
    expect(check(a, { 'X-Webhook-Signature': good })).toMatchObject({ ok: true });
    // A digest of another algorithm's length is malformed, not merely wrong.
    const other = algorithm === 'sha1' ? 'sha256' : 'sha1';
    const wrongLength = `${algorithm}=${mac(other, SECRET, BODY).digest(encoding)}`;
    expect(check(a, { 'X-Webhook-Signature': wrongLength })).toEqual(refused('malformed_signature'));
  });

  it.each([
    ['utf8', SECRET, Buffer.from(SECRET)],
    ['hex', '00ff10ab'.repeat(4), Buffer.from('00ff10ab'.repeat(4), 'hex')],
    [
      'base64',
      Buffer.from('teams-token-bytes-0123456789').toString('base64'),
      Buffer.from('teams-token-bytes-0123456789'),
    ],
    ['whsec', `whsec_${Buffer.from('k'.repeat(24)).toString('base64')}`, Buffer.from('k'.repeat(24))],
  ] as const)('key encoding %s', (keyEncoding, secret, key) => {
    const a = auth({ keyEncoding }, secret);
    expect(check(a, { 'X-Webhook-Signature': mac('sha256', key, BODY).digest('hex') })).toMatchObject({
      ok: true,
    });
  });

  it('a secret that is not what its key encoding says verifies nothing (never a lenient decode)', () => {
    expect(decodeKey('not base64!', 'base64')).toBeUndefined();
    expect(decodeKey('abc', 'hex')).toBeUndefined();
    expect(decodeKey('whsec_', 'whsec')).toBeUndefined();
    const lenient = Buffer.from('not base64!', 'base64');
    const a = auth({ keyEncoding: 'base64' }, 'not base64!');
    expect(check(a, { 'X-Webhook-Signature': mac('sha256', lenient, BODY).digest('hex') })).toEqual(
      refused('invalid_signature'),
    );
  });

  it('decodes digests strictly: exact length, exact alphabet, padding or none', () => {
    const d = mac('sha256', SECRET, BODY).digest();
    expect(decodeDigest(d.toString('hex'), 'hex', 32)).toEqual(d);
    expect(decodeDigest(d.toString('hex').toUpperCase(), 'hex', 32)).toEqual(d);
    expect(decodeDigest(`${d.toString('hex')}0`, 'hex', 32)).toBeUndefined();
    expect(decodeDigest(`${d.toString('hex').slice(0, 62)}zz`, 'hex', 32)).toBeUndefined();
    expect(decodeDigest(d.toString('base64'), 'base64', 32)).toEqual(d);
    expect(decodeDigest(d.toString('base64').replace('=', ''), 'base64', 32)).toEqual(d);
    expect(decodeDigest(`${d.toString('base64').slice(0, 42)}!=`, 'base64', 32)).toBeUndefined();
    expect(decodeDigest(d.toString('base64url'), 'base64url', 32)).toEqual(d);
    expect(decodeDigest(d.toString('base64'), 'base64url', 32) === undefined).toBe(
      /[+/]/.test(d.toString('base64')),
    );
    const s512 = mac('sha512', SECRET, BODY).digest();
    expect(decodeDigest(s512.toString('base64'), 'base64', 64)).toEqual(s512);
  });
});

describe('signature lists', () => {
  const list = auth({
    signatureList: { separator: ';', assign: '=', key: 'h1' },
    signedContent: '{timestamp}:{body}',
    timestamp: { listKey: 'ts', format: 'seconds' },
  });
  const ts = String(NOW / 1000);
  const h1 = (secret = SECRET) => mac('sha256', secret, `${ts}:${BODY}`).digest('hex');

  it('any entry of the key verifies; other keys are ignored', () => {
    expect(check(list, { 'X-Webhook-Signature': `ts=${ts};h1=${h1('old')};h1=${h1()};h2=zz` })).toMatchObject(
      {
        ok: true,
      },
    );
  });
  it('two timestamps are ambiguous: malformed', () => {
    expect(check(list, { 'X-Webhook-Signature': `ts=${ts};ts=${ts};h1=${h1()}` })).toEqual(
      refused('malformed_signature'),
    );
  });
  it(`more than ${MAX_SIGNATURE_ENTRIES} entries: malformed, whatever else they hold`, () => {
    const junk = Array.from({ length: MAX_SIGNATURE_ENTRIES }, () => 'h1=00').join(';');
    expect(check(list, { 'X-Webhook-Signature': `ts=${ts};h1=${h1()};${junk}` })).toEqual(
      refused('malformed_signature'),
    );
  });
  it('a header of 16 KiB of separators is refused in linear time', () => {
    const start = performance.now();
    expect(check(list, { 'X-Webhook-Signature': ';'.repeat(16_384) })).toEqual(
      refused('malformed_signature'),
    );
    expect(check(list, { 'X-Webhook-Signature': '='.repeat(16_384) })).toEqual(
      refused('malformed_signature'),
    );
    expect(performance.now() - start).toBeLessThan(50);
  });
});

describe('signed content', () => {
  it('method, URL (the published one, never Host), headers and body fields', () => {
    const a = auth({ signedContent: '{method} {url} {header:X-Id} {field:ref} {body}' });
    const text = `POST ${URL}?x=1 id-7 main ${BODY}`;
    const headers = {
      'X-Webhook-Signature': mac('sha256', SECRET, text).digest('hex'),
      'X-Id': 'id-7',
      Host: 'evil.example',
    };
    expect(check(a, headers, { url: `${URL}?x=1` })).toMatchObject({ ok: true });
    expect(check(a, headers, { url: 'https://evil.example/hooks/team-a/deploy?x=1' })).toEqual(
      refused('invalid_signature'),
    );
    expect(check(a, { ...headers, 'X-Id': 'id-8' }, { url: `${URL}?x=1` })).toEqual(
      refused('invalid_signature'),
    );
    expect(
      check(a, { 'X-Webhook-Signature': headers['X-Webhook-Signature'] }, { url: `${URL}?x=1` }),
    ).toEqual(refused('missing_signature'));
  });

  it('a route without its published URL refuses URL signatures rather than guess', () => {
    const a = auth({ signedContent: '{url}{body}' });
    const headers = { 'X-Webhook-Signature': mac('sha256', SECRET, URL + BODY).digest('hex') };
    expect(check(a, headers, { url: undefined })).toEqual(refused('not_configured'));
  });
});

describe('timestamps', () => {
  it.each([
    ['seconds', String(NOW / 1000)],
    ['milliseconds', String(NOW)],
    ['rfc3339', '2026-01-15T12:00:00.123456789Z'],
    ['rfc3339', '2026-01-15T13:00:00+01:00'],
  ] as const)('%s %s', (format, ts) => {
    const a = auth({ signedContent: '{timestamp}.{body}', timestamp: { header: 'X-Ts', format } });
    const headers = {
      'X-Webhook-Signature': mac('sha256', SECRET, `${ts}.${BODY}`).digest('hex'),
      'X-Ts': ts,
    };
    expect(check(a, headers)).toMatchObject({ ok: true });
    expect(check(a, headers, {}, NOW + 301_000)).toEqual(refused('timestamp_out_of_tolerance'));
    expect(check(a, headers, {}, NOW - 301_000)).toEqual(refused('timestamp_out_of_tolerance'));
  });

  it.each(['1e9', '-1', '12345678901234567', '2026-01-15 12:00:00Z', '2026-13-45T99:99:99Z', ''])(
    'a timestamp %j is malformed',
    (ts) => {
      expect(parseTimestamp(ts, ts.includes('-') ? 'rfc3339' : 'seconds')).toBeUndefined();
    },
  );

  it('from a field of the signed body', () => {
    const body = JSON.stringify({ webhookTimestamp: NOW, data: 1 });
    const a = auth({ timestamp: { field: 'webhookTimestamp', format: 'milliseconds' } });
    const headers = lower({ 'X-Webhook-Signature': mac('sha256', SECRET, body).digest('hex') });
    expect(verify(a, { headers, body: Buffer.from(body) }, NOW)).toMatchObject({ ok: true });
    expect(verify(a, { headers, body: Buffer.from(body) }, NOW + 301_000)).toEqual(
      refused('timestamp_out_of_tolerance'),
    );
  });
});

describe('sign() writes what verify() accepts, for every knob', () => {
  it.each<Omit<SignatureKnobs, 'scheme'>>([
    { algorithm: 'sha1', encoding: 'base64', prefix: 'sha1=' },
    {
      signatureList: { separator: ',', assign: '=', key: 'v1' },
      signedContent: '{timestamp}.{body}',
      timestamp: { listKey: 't', format: 'milliseconds' },
    },
    { signatureList: { separator: ' ', assign: ',', key: 'v1' }, keyEncoding: 'whsec' },
    {
      signedContent: '{body}{timestamp}',
      timestamp: { header: 'X-Ts', format: 'rfc3339' },
      encoding: 'base64url',
    },
  ])('%j', (knobs) => {
    const secret = knobs.keyEncoding === 'whsec' ? `whsec_${Buffer.from(SECRET).toString('base64')}` : SECRET;
    const a = auth(knobs, secret);
    const headers = sign(a.signature!, secret, Buffer.from(BODY), NOW);
    expect(check(a, headers)).toMatchObject({ ok: true });
  });
});
