import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { sign, type VerifyReason, verify } from './index.ts';

// Generated as the operator does: whsec_ + base64(32 random bytes).
const SECRET = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
const OTHER = `whsec_${randomBytes(32).toString('base64')}`;
const NOW = Date.UTC(2025, 0, 1, 12);
const S = Math.floor(NOW / 1000);
const ID = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
const PAYLOAD = '{"type":"user.created","data":{"name":"Zoë"}}';
const BODY = Buffer.from(PAYLOAD);

const signed = (secret = SECRET, seconds = S, id = ID) =>
  new Webhook(secret).sign(id, new Date(seconds * 1000), PAYLOAD);
const headers = (signature = signed(), seconds = S, id = ID) => ({
  'webhook-id': id,
  'webhook-timestamp': String(seconds),
  'webhook-signature': signature,
});
const without = (name: string) => {
  const h: Record<string, string> = headers();
  delete h[name];
  return h;
};

const check = (h: Record<string, string>, secret = SECRET) =>
  verify(
    { signature: { scheme: 'standard-webhooks', secrets: [{ value: secret }] } },
    { headers: h, body: BODY },
    NOW,
  );

const cases: { name: string; headers: Record<string, string>; secret?: string; reason?: VerifyReason }[] = [
  { name: 'signed by standardwebhooks', headers: headers() },
  { name: 'secret configured without whsec_', headers: headers(), secret: SECRET.slice('whsec_'.length) },
  { name: 'several signatures, one good', headers: headers(`${signed(OTHER)} ${signed()}`) },
  { name: 'asymmetric entry beside v1', headers: headers(`v1a,${'A'.repeat(86)}== ${signed()}`) },
  { name: 'stale at the edge', headers: headers(signed(SECRET, S - 300), S - 300) },
  { name: 'bad secret', headers: headers(signed(OTHER)), reason: 'invalid_signature' },
  {
    name: 'a secret with an empty key verifies nothing',
    headers: headers(
      `v1,${createHmac('sha256', Buffer.alloc(0)).update(`${ID}.${S}.${PAYLOAD}`).digest('base64')}`,
    ),
    secret: 'whsec_',
    reason: 'invalid_signature',
  },
  {
    name: 'secret text used as key instead of its base64 payload',
    headers: headers(new Webhook(Buffer.from(SECRET), { format: 'raw' }).sign(ID, new Date(NOW), PAYLOAD)),
    reason: 'invalid_signature',
  },
  { name: 'id replaced', headers: headers(signed(), S, 'msg_other'), reason: 'invalid_signature' },
  { name: 'timestamp replaced', headers: headers(signed(), S - 1), reason: 'invalid_signature' },
  { name: 'stale', headers: headers(signed(SECRET, S - 301), S - 301), reason: 'timestamp_out_of_tolerance' },
  {
    name: 'future',
    headers: headers(signed(SECRET, S + 301), S + 301),
    reason: 'timestamp_out_of_tolerance',
  },
  { name: 'missing webhook-id', headers: without('webhook-id'), reason: 'missing_signature' },
  { name: 'missing webhook-timestamp', headers: without('webhook-timestamp'), reason: 'missing_signature' },
  { name: 'missing webhook-signature', headers: without('webhook-signature'), reason: 'missing_signature' },
  { name: 'truncated', headers: headers(signed().slice(0, -4)), reason: 'malformed_signature' },
  { name: 'no version', headers: headers(signed().slice(3)), reason: 'malformed_signature' },
  {
    name: 'good digest under another version',
    headers: headers(`v2${signed().slice(2)}`),
    reason: 'malformed_signature',
  },
  { name: 'hex instead of base64', headers: headers(`v1,${'ab'.repeat(32)}`), reason: 'malformed_signature' },
  { name: 'milliseconds timestamp', headers: headers(signed(), NOW), reason: 'invalid_signature' },
  {
    name: 'non-numeric timestamp',
    headers: { ...headers(), 'webhook-timestamp': '2025-01-01T12:00:00Z' },
    reason: 'malformed_signature',
  },
];

describe('standard-webhooks', () => {
  it.each(cases)('$name', ({ headers: h, secret, reason }) => {
    expect(check(h, secret)).toMatchObject(reason ? { ok: false, reason } : { ok: true });
  });

  it('sign() matches Webhook#sign', () => {
    expect(
      sign({ scheme: 'standard-webhooks', secrets: [{ value: SECRET }] }, SECRET, BODY, NOW, ID),
    ).toEqual({
      'webhook-id': ID,
      'webhook-timestamp': String(S),
      'webhook-signature': signed(),
    });
  });

  it('sign() makes up an id when none is given', () => {
    const h = sign({ scheme: 'standard-webhooks', secrets: [{ value: SECRET }] }, SECRET, BODY, NOW);
    expect(h['webhook-id']).toMatch(/^msg_/);
    expect(check(h)).toMatchObject({ ok: true });
  });
});
