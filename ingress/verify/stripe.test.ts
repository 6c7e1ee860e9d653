import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { sign, type VerifyReason, verify } from './index.ts';

const SECRET = 'whsec_c2VjcmV0LXNpZ25pbmcta2V5LWZvci1ob29rZ2F0ZS10ZXN0cw==';
const NOW = Date.UTC(2025, 0, 1, 12);
const S = Math.floor(NOW / 1000);
const PAYLOAD = JSON.stringify({ id: 'evt_1', object: 'event', type: 'invoice.paid', data: { name: 'Zoë' } });
const BODY = Buffer.from(PAYLOAD);

const stripeHeader = (timestamp: number, secret = SECRET, scheme?: string) =>
  Stripe.webhooks.generateTestHeaderString({
    payload: PAYLOAD,
    secret,
    timestamp,
    ...(scheme && { scheme }),
  });
/** Only the `v1=...` part of a Stripe-generated header. */
const entry = (timestamp: number, secret = SECRET) => stripeHeader(timestamp, secret).split(',')[1]!;

const check = (headers: Record<string, string>, toleranceSeconds?: number) =>
  verify(
    { signature: { scheme: 'stripe', secrets: [{ value: SECRET }], toleranceSeconds } },
    { headers, body: BODY },
    NOW,
  );

const cases: { name: string; headers: Record<string, string>; tolerance?: number; reason?: VerifyReason }[] =
  [
    { name: 'signed by stripe', headers: { 'stripe-signature': stripeHeader(S) } },
    {
      name: 'several v1, one good',
      headers: { 'stripe-signature': `t=${S},${entry(S, 'old')},${entry(S)}` },
    },
    { name: 'v1 beside a v0', headers: { 'stripe-signature': `${stripeHeader(S)},v0=${'0'.repeat(64)}` } },
    { name: 'stale at the edge', headers: { 'stripe-signature': stripeHeader(S - 300) } },
    {
      name: 'bad secret',
      headers: { 'stripe-signature': stripeHeader(S, 'whsec_other') },
      reason: 'invalid_signature',
    },
    {
      name: 'stale',
      headers: { 'stripe-signature': stripeHeader(S - 301) },
      reason: 'timestamp_out_of_tolerance',
    },
    {
      name: 'future',
      headers: { 'stripe-signature': stripeHeader(S + 301) },
      reason: 'timestamp_out_of_tolerance',
    },
    {
      name: 'custom tolerance',
      headers: { 'stripe-signature': stripeHeader(S - 61) },
      tolerance: 60,
      reason: 'timestamp_out_of_tolerance',
    },
    {
      name: 'timestamp replaced',
      headers: { 'stripe-signature': `t=${S},${entry(S - 5)}` },
      reason: 'invalid_signature',
    },
    { name: 'missing header', headers: {}, reason: 'missing_signature' },
    {
      name: 'only a v0 (test-mode) signature',
      headers: { 'stripe-signature': stripeHeader(S, SECRET, 'v0') },
      reason: 'malformed_signature',
    },
    {
      name: 'truncated',
      headers: { 'stripe-signature': stripeHeader(S).slice(0, -1) },
      reason: 'malformed_signature',
    },
    { name: 'no timestamp', headers: { 'stripe-signature': entry(S) }, reason: 'malformed_signature' },
  ];

describe('stripe', () => {
  it.each(cases)('$name', ({ headers, tolerance, reason }) => {
    expect(check(headers, tolerance)).toMatchObject(reason ? { ok: false, reason } : { ok: true });
  });

  it('sign() matches stripe.webhooks.generateTestHeaderString', () => {
    expect(sign({ scheme: 'stripe', secrets: [{ value: SECRET }] }, SECRET, BODY, NOW, 'evt_1')).toEqual({
      'Stripe-Signature': stripeHeader(S),
    });
  });
});
