import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sign, type VerifyReason, verify } from './index.ts';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const NOW = Date.UTC(2025, 0, 1, 12);
const S = Math.floor(NOW / 1000);
const BODY = Buffer.from('token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&text=Zo%C3%AB');

// Slack's documented recipe: 'v0=' + HMAC-SHA256(signing secret, "v0:" + timestamp + ":" + body).
const v0 = (ts: number | string, secret = SECRET) =>
  `v0=${createHmac('sha256', secret).update(`v0:${ts}:`).update(BODY).digest('hex')}`;
const headers = (ts: number | string, signature = v0(ts)) => ({
  'x-slack-request-timestamp': String(ts),
  'x-slack-signature': signature,
});

const check = (h: Record<string, string>) =>
  verify({ signature: { scheme: 'slack', secrets: [{ value: SECRET }] } }, { headers: h, body: BODY }, NOW);

const cases: { name: string; headers: Record<string, string>; reason?: VerifyReason }[] = [
  { name: 'good', headers: headers(S) },
  { name: 'future at the edge', headers: headers(S + 300) },
  { name: 'timestamp with a leading zero, signed as sent', headers: headers(`0${S}`) },
  { name: 'bad secret', headers: headers(S, v0(S, 'other')), reason: 'invalid_signature' },
  { name: 'timestamp replaced', headers: headers(S, v0(S - 1)), reason: 'invalid_signature' },
  { name: 'stale', headers: headers(S - 301), reason: 'timestamp_out_of_tolerance' },
  { name: 'future', headers: headers(S + 301), reason: 'timestamp_out_of_tolerance' },
  {
    name: 'missing signature',
    headers: { 'x-slack-request-timestamp': String(S) },
    reason: 'missing_signature',
  },
  { name: 'missing timestamp', headers: { 'x-slack-signature': v0(S) }, reason: 'missing_signature' },
  { name: 'truncated', headers: headers(S, v0(S).slice(0, -1)), reason: 'malformed_signature' },
  {
    name: 'wrong version prefix',
    headers: headers(S, v0(S).replace('v0=', 'v1=')),
    reason: 'malformed_signature',
  },
  { name: 'non-numeric timestamp', headers: headers('now', v0('now')), reason: 'malformed_signature' },
];

describe('slack', () => {
  it.each(cases)('$name', ({ headers: h, reason }) => {
    expect(check(h)).toMatchObject(reason ? { ok: false, reason } : { ok: true });
  });

  it('sign() writes both headers', () => {
    expect(sign({ scheme: 'slack', secrets: [{ value: SECRET }] }, SECRET, BODY, NOW)).toEqual({
      'X-Slack-Request-Timestamp': String(S),
      'X-Slack-Signature': v0(S),
    });
  });
});
