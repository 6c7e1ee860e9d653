import { sign as cryptoSign, generateKeyPairSync, randomUUID } from 'node:crypto';
import { EventWebhook } from '@sendgrid/eventwebhook';
import { verifyKey } from 'discord-interactions';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { parsePublicKey } from '../../lib/public-key.ts';
import { type PublicKeyCheck, verifyDiscord, verifySendgrid, verifyStandardV1a } from './asymmetric.ts';
import type { VerifyRequest } from './common.ts';

const NOW = Date.UTC(2025, 0, 1, 12);
const S = String(Math.floor(NOW / 1000));
const BODY = Buffer.from('{"type":2,"id":"1234","data":{"name":"deploy"}}');

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const flip = (b: Buffer, at = 0) => {
  const c = Buffer.from(b);
  c[at]! ^= 1;
  return c;
};
const check = (keys: string[], alg: 'ed25519' | 'ecdsa-p256', req: VerifyRequest): PublicKeyCheck => ({
  keys: keys.map((k) => parsePublicKey(k, alg)),
  req,
  now: NOW,
});

describe('discord (signed by tweetnacl, cross-checked with discord-interactions)', () => {
  const app = nacl.sign.keyPair();
  const other = nacl.sign.keyPair();
  const pub = hex(app.publicKey);
  const signed = (body = BODY, ts = S, key = app.secretKey) => ({
    'x-signature-ed25519': hex(nacl.sign.detached(Buffer.concat([Buffer.from(ts), body]), key)),
    'x-signature-timestamp': ts,
  });

  it('accepts what discord-interactions accepts', async () => {
    const headers = signed();
    expect(await verifyKey(BODY, headers['x-signature-ed25519'], S, pub)).toBe(true);
    expect(verifyDiscord(check([pub], 'ed25519', { headers, body: BODY })).ok).toBe(true);
  });

  it('accepts during a rotation with either key pinned', () => {
    const keys = [hex(other.publicKey), pub];
    expect(verifyDiscord(check(keys, 'ed25519', { headers: signed(), body: BODY })).ok).toBe(true);
  });

  const refused: [string, Record<string, string>, Buffer, string][] = [
    ['one flipped byte of the body', signed(), flip(BODY, 5), 'invalid_signature'],
    ['signed by a key not pinned', signed(BODY, S, other.secretKey), BODY, 'invalid_signature'],
    [
      'timestamp replaced',
      { ...signed(), 'x-signature-timestamp': String(Number(S) - 1) },
      BODY,
      'invalid_signature',
    ],
    ['stale', signed(BODY, String(Number(S) - 301)), BODY, 'timestamp_out_of_tolerance'],
    ['no signature', { 'x-signature-timestamp': S }, BODY, 'missing_signature'],
    [
      'a signature that is not hex',
      { ...signed(), 'x-signature-ed25519': 'zz'.repeat(64) },
      BODY,
      'malformed_signature',
    ],
    [
      'a short signature',
      { ...signed(), 'x-signature-ed25519': 'ab'.repeat(63) },
      BODY,
      'malformed_signature',
    ],
    [
      'a timestamp that is not a number',
      { ...signed(), 'x-signature-timestamp': '1e9' },
      BODY,
      'malformed_signature',
    ],
  ];
  it.each(refused)('refuses %s', async (_name, headers, body, reason) => {
    const verdict = verifyDiscord(check([pub], 'ed25519', { headers, body }));
    expect(verdict).toEqual({ ok: false, reason });
    const lib = await verifyKey(
      body,
      headers['x-signature-ed25519'] ?? '',
      headers['x-signature-timestamp'] ?? '',
      pub,
    ).catch(() => false);
    // discord-interactions checks no timestamp tolerance; every other refusal it shares.
    if (reason !== 'timestamp_out_of_tolerance') expect(lib).toBe(false);
  });

  it('names the delivery by the signed message', () => {
    const a = verifyDiscord(check([pub], 'ed25519', { headers: signed(), body: BODY }));
    const b = verifyDiscord(
      check([pub], 'ed25519', { headers: signed(BODY, String(Number(S) + 1)), body: BODY }),
    );
    expect(a.ok && b.ok && a.signed !== b.signed && typeof a.signed === 'string').toBe(true);
  });
});

describe('standard webhooks v1a (signed with tweetnacl as the spec defines)', () => {
  const sender = nacl.sign.keyPair();
  const other = nacl.sign.keyPair();
  const whpk = `whpk_${Buffer.from(sender.publicKey).toString('base64')}`;
  const id = `msg_${randomUUID()}`;
  const entry = (key = sender.secretKey, ts = S, body = BODY) =>
    `v1a,${Buffer.from(nacl.sign.detached(Buffer.concat([Buffer.from(`${id}.${ts}.`), body]), key)).toString('base64')}`;
  const headers = (signature: string, ts = S) => ({
    'webhook-id': id,
    'webhook-timestamp': ts,
    'webhook-signature': signature,
  });
  const run = (h: Record<string, string>, body = BODY, keys = [whpk]) =>
    verifyStandardV1a(check(keys, 'ed25519', { headers: h, body }));

  it('accepts a v1a signature, and names the delivery by its signed id', () => {
    expect(run(headers(entry()))).toEqual({ ok: true, signed: id });
  });
  it('accepts v1a beside v1 entries, in either order', () => {
    const v1 = `v1,${Buffer.alloc(32, 7).toString('base64')}`;
    expect(run(headers(`${v1} ${entry()}`)).ok).toBe(true);
    expect(run(headers(`${entry(other.secretKey)} ${entry()} ${v1}`)).ok).toBe(true);
  });
  it('refuses a flipped byte, a key not pinned, a v1-only header and a stale timestamp', () => {
    expect(run(headers(entry()), flip(BODY, 3))).toEqual({ ok: false, reason: 'invalid_signature' });
    expect(run(headers(entry(other.secretKey)))).toEqual({ ok: false, reason: 'invalid_signature' });
    expect(run(headers(`v1,${Buffer.alloc(32).toString('base64')}`))).toEqual({
      ok: false,
      reason: 'malformed_signature',
    });
    const old = String(Number(S) - 301);
    expect(run(headers(entry(sender.secretKey, old), old))).toEqual({
      ok: false,
      reason: 'timestamp_out_of_tolerance',
    });
  });
});

describe('sendgrid (signed with node:crypto, cross-checked with @sendgrid/eventwebhook)', () => {
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  // What SendGrid's console shows: base64 of the SPKI DER.
  const consoleKey = pair.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  const events = Buffer.from('[{"email":"a@example.com","event":"delivered","sg_event_id":"e1"}]\r\n');
  const sign = (body = events, ts = S, key = pair.privateKey) => ({
    'x-twilio-email-event-webhook-signature': cryptoSign('sha256', Buffer.concat([Buffer.from(ts), body]), {
      key,
      dsaEncoding: 'der',
    }).toString('base64'),
    'x-twilio-email-event-webhook-timestamp': ts,
  });
  const run = (h: Record<string, string>, body = events, keys = [consoleKey]) =>
    verifySendgrid(check(keys, 'ecdsa-p256', { headers: h, body }));

  it('accepts what @sendgrid/eventwebhook accepts', () => {
    const h = sign();
    const lib = new EventWebhook();
    const pem = pair.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(
      lib.verifySignature(
        lib.convertPublicKeyToECDSA(pem),
        events,
        h['x-twilio-email-event-webhook-signature'],
        S,
      ),
    ).toBe(true);
    expect(run(h).ok).toBe(true);
  });
  it('accepts the key as PEM, and during a rotation', () => {
    const pem = pair.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(run(sign(), events, [pem]).ok).toBe(true);
    const otherKey = other.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    expect(run(sign(), events, [otherKey, consoleKey]).ok).toBe(true);
  });
  it('refuses a flipped byte, a key not pinned, garbage and a stale timestamp', () => {
    expect(run(sign(), flip(events, 10))).toEqual({ ok: false, reason: 'invalid_signature' });
    expect(run(sign(events, S, other.privateKey))).toEqual({ ok: false, reason: 'invalid_signature' });
    expect(
      run({ ...sign(), 'x-twilio-email-event-webhook-signature': Buffer.alloc(70, 1).toString('base64') }),
    ).toEqual({ ok: false, reason: 'invalid_signature' });
    expect(run({ ...sign(), 'x-twilio-email-event-webhook-signature': 'not base64!' })).toEqual({
      ok: false,
      reason: 'malformed_signature',
    });
    const old = String(Number(S) - 301);
    expect(run(sign(events, old))).toEqual({ ok: false, reason: 'timestamp_out_of_tolerance' });
  });
});

describe('parsePublicKey', () => {
  const ed = generateKeyPairSync('ed25519');
  const edRaw = ed.publicKey.export({ format: 'jwk' }).x!;
  const raw = Buffer.from(edRaw, 'base64url');
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = (k: typeof ed.publicKey) => k.export({ format: 'der', type: 'spki' });
  const same = (text: string, alg: 'ed25519' | 'ecdsa-p256', expected: typeof ed.publicKey) =>
    expect(parsePublicKey(text, alg).equals(expected)).toBe(true);

  it('reads every form a provider hands out', () => {
    same(raw.toString('hex'), 'ed25519', ed.publicKey);
    same(raw.toString('hex').toUpperCase(), 'ed25519', ed.publicKey);
    same(raw.toString('base64'), 'ed25519', ed.publicKey);
    same(`whpk_${raw.toString('base64')}`, 'ed25519', ed.publicKey);
    same(ed.publicKey.export({ format: 'pem', type: 'spki' }).toString(), 'ed25519', ed.publicKey);
    same(spki(ed.publicKey).toString('hex'), 'ed25519', ed.publicKey);
    same(spki(ec.publicKey).toString('base64'), 'ecdsa-p256', ec.publicKey);
    same(`  ${ec.publicKey.export({ format: 'pem', type: 'spki' })}\n`, 'ecdsa-p256', ec.publicKey);
    const point = Buffer.from(spki(ec.publicKey).subarray(-65));
    same(point.toString('hex'), 'ecdsa-p256', ec.publicKey);
    const compressed = Buffer.concat([Buffer.from([0x02 + (point[64]! & 1)]), point.subarray(1, 33)]);
    same(compressed.toString('base64'), 'ecdsa-p256', ec.publicKey);
  });

  it.each([
    ['empty', '', 'ed25519'],
    ['a stray character in hex', `${raw.toString('hex').slice(0, 63)}g`, 'ed25519'],
    ['base64 with junk', `${raw.toString('base64')}!`, 'ed25519'],
    ['31 bytes', raw.subarray(1).toString('hex'), 'ed25519'],
    ['a P-256 key where Ed25519 is asked', spki(ec.publicKey).toString('base64'), 'ed25519'],
    ['an Ed25519 key where P-256 is asked', spki(ed.publicKey).toString('base64'), 'ecdsa-p256'],
    ['a private key', ed.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'ed25519'],
    ['a point off the curve', `04${'11'.repeat(64)}`, 'ecdsa-p256'],
    ['whpk_ with junk', 'whpk_$$$', 'ed25519'],
  ] as const)('refuses %s, without echoing it', (_name, text, alg) => {
    let message = '';
    try {
      parsePublicKey(text, alg);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).not.toBe('');
    if (text.length > 8) expect(message).not.toContain(text.slice(0, 16));
  });
});
