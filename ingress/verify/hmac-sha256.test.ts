import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type SignatureConfig, sign } from './index.ts';
import { checker, type SchemeCase, verifiesEach } from './scheme.test-helper.ts';

const SECRET = 'whsec_c2VjcmV0LXNpZ25pbmcta2V5LWZvci1ob29rZ2F0ZS10ZXN0cw==';
const NOW = Date.UTC(2025, 0, 1);
const BODY = Buffer.from('{"event":"order_created","order_id":"12345","name":"Zoë"}');

// Signed the way the reference senders do it (`openssl dgst -sha256 -hmac`, Python's hmac.new(secret.encode())).
const digest = (secret: string, body: Buffer, encoding: 'hex' | 'base64' = 'hex') =>
  createHmac('sha256', secret).update(body).digest(encoding);

const check = checker('hmac-sha256', SECRET, BODY, NOW);

const hex = digest(SECRET, BODY);
const b64 = digest(SECRET, BODY, 'base64');

/** A signature in the default header that cannot be one of the configured shape. */
const malformed = (name: string, signature: string, sig?: SchemeCase['sig']): SchemeCase => ({
  name,
  sig,
  headers: { 'x-webhook-signature': signature },
  reason: 'malformed_signature',
});

const cases: SchemeCase[] = [
  { name: 'hex, no prefix, default header', headers: { 'x-webhook-signature': hex } },
  { name: 'uppercase hex', headers: { 'x-webhook-signature': hex.toUpperCase() } },
  { name: 'prefix sha256=', sig: { prefix: 'sha256=' }, headers: { 'x-webhook-signature': `sha256=${hex}` } },
  { name: 'base64', sig: { encoding: 'base64' }, headers: { 'x-webhook-signature': b64 } },
  {
    name: 'base64 without padding',
    sig: { encoding: 'base64' },
    headers: { 'x-webhook-signature': b64.slice(0, -1) },
  },
  {
    name: 'custom header with prefix and base64',
    sig: { header: 'X-Agent-Sig', prefix: 'sha256=', encoding: 'base64' },
    headers: { 'x-agent-sig': `sha256=${b64}` },
  },
  {
    name: 'bad secret',
    headers: { 'x-webhook-signature': digest('other', BODY) },
    reason: 'invalid_signature',
  },
  {
    name: 'signature of another body',
    headers: { 'x-webhook-signature': digest(SECRET, Buffer.from(`${BODY} `)) },
    reason: 'invalid_signature',
  },
  { name: 'missing header', headers: {}, reason: 'missing_signature' },
  {
    name: 'signature in another header',
    sig: { header: 'X-Agent-Sig' },
    headers: { 'x-webhook-signature': hex },
    reason: 'missing_signature',
  },
  malformed('truncated hex', hex.slice(0, 63)),
  malformed('hex plus garbage', `${hex}00`),
  malformed('non-hex characters', `${hex.slice(0, 62)}zz`),
  malformed('prefix missing', hex, { prefix: 'sha256=' }),
  malformed('wrong prefix', `sha512=${hex}`, { prefix: 'sha256=' }),
  malformed('unexpected prefix', `sha256=${hex}`),
  malformed('hex sent where base64 is configured', hex, { encoding: 'base64' }),
  malformed('base64 sent where hex is configured', b64),
  malformed('truncated base64', b64.slice(0, 40), { encoding: 'base64' }),
];

describe('hmac-sha256', () => {
  verifiesEach(cases, check);

  it('checks the exact bytes, not their text', () => {
    const latin1 = Buffer.from([0x7b, 0xe9, 0x7d]); // not valid UTF-8: a decode/re-encode would change it
    expect(check({}, { 'x-webhook-signature': digest(SECRET, latin1) }, latin1)).toMatchObject({ ok: true });
    const mangled = Buffer.from(latin1.toString('utf8'));
    expect(check({}, { 'x-webhook-signature': digest(SECRET, mangled) }, latin1)).toEqual({
      ok: false,
      reason: 'invalid_signature',
    });
  });

  it('sign() writes what senders write', () => {
    const sig: SignatureConfig = { scheme: 'hmac-sha256', secrets: [{ value: SECRET }] };
    expect(sign({ ...sig, prefix: 'sha256=', header: 'X-Agent-Sig' }, SECRET, BODY, NOW)).toEqual({
      'X-Agent-Sig': `sha256=${hex}`,
    });
    expect(sign({ ...sig, encoding: 'base64' }, SECRET, BODY, NOW)).toEqual({ 'X-Webhook-Signature': b64 });
  });
});
