import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type SignatureConfig, sign } from './index.ts';
import { checker, type SchemeCase, verifiesEach } from './scheme.test-helper.ts';

const SECRET = 'whsec_c2VjcmV0LXNpZ25pbmcta2V5LWZvci1ob29rZ2F0ZS10ZXN0cw==';
const NOW = Date.UTC(2025, 0, 1, 12);
const S = Math.floor(NOW / 1000);
const BODY = Buffer.from('{"data":{"message":"Hello from webhook","who":"Zoë"}}');

// As reference 001's sender does: createHmac('sha256', SECRET).update(`${timestamp}.${body}`).
const v1 = (t: number | string, secret = SECRET, body = BODY) =>
  createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
const header = (t: number | string, ...sigs: string[]) => ({
  'x-webhook-signature': [`t=${t}`, ...sigs.map((s) => `v1=${s}`)].join(','),
});

const check = checker('timestamped', SECRET, BODY, NOW);

const ms: Partial<SignatureConfig> = { timestampUnit: 'milliseconds' };

const cases: SchemeCase[] = [
  { name: 'seconds', headers: header(S, v1(S)) },
  { name: 'milliseconds', sig: ms, headers: header(NOW, v1(NOW)) },
  {
    name: 'custom header',
    sig: { ...ms, header: 'X-Toolplex-Signature' },
    headers: { 'x-toolplex-signature': `t=${NOW},v1=${v1(NOW)}` },
  },
  { name: 'timestamp with a leading zero, signed as sent', headers: header(`0${S}`, v1(`0${S}`)) },
  { name: 'spaces around entries', headers: { 'x-webhook-signature': `t=${S} , v1=${v1(S)}` } },
  { name: 'several v1, one good', headers: header(S, v1(S, 'old'), v1(S)) },
  { name: 'several v1, one truncated, one good', headers: header(S, v1(S).slice(0, 40), v1(S)) },
  { name: 'unknown entries ignored', headers: { 'x-webhook-signature': `t=${S},v0=abc,v1=${v1(S)}` } },
  { name: 'stale at the tolerance edge', headers: header(S - 300, v1(S - 300)) },
  { name: 'future at the tolerance edge', headers: header(S + 300, v1(S + 300)) },
  { name: 'stale', headers: header(S - 301, v1(S - 301)), reason: 'timestamp_out_of_tolerance' },
  { name: 'future', headers: header(S + 301, v1(S + 301)), reason: 'timestamp_out_of_tolerance' },
  {
    name: 'stale by milliseconds',
    sig: ms,
    headers: header(NOW - 300_001, v1(NOW - 300_001)),
    reason: 'timestamp_out_of_tolerance',
  },
  {
    name: 'custom tolerance',
    sig: { toleranceSeconds: 10 },
    headers: header(S - 11, v1(S - 11)),
    reason: 'timestamp_out_of_tolerance',
  },
  {
    name: 'milliseconds sent where seconds are configured',
    headers: header(NOW, v1(NOW)),
    reason: 'timestamp_out_of_tolerance',
  },
  { name: 'bad secret', headers: header(S, v1(S, 'other')), reason: 'invalid_signature' },
  {
    name: 'stale and bad secret',
    headers: header(S - 900, v1(S - 900, 'other')),
    reason: 'invalid_signature',
  },
  { name: 'timestamp replaced', headers: header(S, v1(S - 1)), reason: 'invalid_signature' },
  { name: 'several v1, none good', headers: header(S, v1(S, 'a'), v1(S, 'b')), reason: 'invalid_signature' },
  { name: 'missing header', headers: {}, reason: 'missing_signature' },
  { name: 'truncated signature', headers: header(S, v1(S).slice(0, 63)), reason: 'malformed_signature' },
  { name: 'no v1', headers: { 'x-webhook-signature': `t=${S}` }, reason: 'malformed_signature' },
  { name: 'no t', headers: { 'x-webhook-signature': `v1=${v1(S)}` }, reason: 'malformed_signature' },
  { name: 'non-numeric t', headers: header('12e9', v1('12e9')), reason: 'malformed_signature' },
  {
    name: 'two t',
    headers: { 'x-webhook-signature': `t=${S},t=${S},v1=${v1(S)}` },
    reason: 'malformed_signature',
  },
  { name: 'bare hex', headers: { 'x-webhook-signature': v1(S) }, reason: 'malformed_signature' },
];

describe('timestamped', () => {
  verifiesEach(cases, check);

  it('sign() uses the configured unit and header', () => {
    const sig: SignatureConfig = { scheme: 'timestamped', secrets: [{ value: SECRET }] };
    expect(sign(sig, SECRET, BODY, NOW)).toEqual({ 'X-Webhook-Signature': `t=${S},v1=${v1(S)}` });
    expect(sign({ ...sig, ...ms, header: 'X-Toolplex-Signature' }, SECRET, BODY, NOW)).toEqual({
      'X-Toolplex-Signature': `t=${NOW},v1=${v1(NOW)}`,
    });
  });
});
