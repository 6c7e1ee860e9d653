import { sign as cryptoSign, type KeyObject, randomUUID } from 'node:crypto';
import CRC32 from 'crc-32';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Outbound, OutboundError } from '../outbound/client.ts';
import { type CertificateHost, certificateHost } from '../outbound/tls.test-helper.ts';
import { CertificateStore } from './certificates.ts';
import { verifyPaypal } from './paypal.ts';

// PayPal publishes no signing code on npm; this follows its documented construction
// (developer.paypal.com/api/rest/webhooks/rest: "transmission_id|transmission_time|webhook_id|crc32")
// with CRC32 computed by the crc-32 package, independent of the zlib CRC32 the ingress uses.
const HOST = 'api-m.sandbox.paypal.com';
const CERT_URL = `https://${HOST}/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77`;
const WEBHOOK_ID = '1JE4291016473214C';
const BODY = Buffer.from(
  '{"id":"WH-2WR32451HC0233532-67976317FL4543714","event_type":"PAYMENT.CAPTURE.COMPLETED"}',
);

const SUBJECT = 'messageverificationcerts.sandbox.paypal.com';
let paypal: CertificateHost;
/** Another key of PayPal's intermediate, not the one its certificate holds. */
let other: KeyObject;

beforeAll(async () => {
  paypal = await certificateHost(HOST, SUBJECT);
  other = (await paypal.intermediate.issue(SUBJECT)).key;
});
afterAll(() => paypal?.server.close());

const crc = (b: Buffer) => CRC32.buf(b) >>> 0;
function headers(
  body = BODY,
  opts: { time?: string; signer?: KeyObject; url?: string; webhookId?: string } = {},
) {
  const id = randomUUID();
  const time = opts.time ?? new Date().toISOString();
  const message = `${id}|${time}|${opts.webhookId ?? WEBHOOK_ID}|${crc(body)}`;
  return {
    'paypal-transmission-id': id,
    'paypal-transmission-time': time,
    'paypal-cert-url': opts.url ?? CERT_URL,
    'paypal-auth-algo': 'SHA256withRSA',
    'paypal-transmission-sig': cryptoSign(
      'sha256',
      Buffer.from(message),
      opts.signer ?? paypal.leaf.key,
    ).toString('base64'),
  };
}
const run = (h: Record<string, string>, body = BODY, port = paypal.server.port) =>
  verifyPaypal(
    { headers: h, body },
    {
      store: new CertificateStore(
        new Outbound({ testing: { ca: [paypal.ca.pem], hosts: { [HOST]: port } } }),
        {
          anchors: [paypal.ca.pem],
        },
      ),
      webhookId: WEBHOOK_ID,
      now: Date.now(),
    },
  );

describe('PayPal', () => {
  it('accepts a delivery signed over id|time|webhook id|crc32(body), named by its transmission id', async () => {
    const h = headers();
    expect(await run(h)).toEqual({ ok: true, signed: `paypal:${h['paypal-transmission-id']}` });
  });
  it.each([
    [
      'one flipped byte of the body',
      () => headers(),
      Buffer.from(BODY.toString().replace('WH-', 'WI-')),
      'invalid_signature',
    ],
    [
      'signed by a key that is not the certificate’s',
      () => headers(BODY, { signer: other }),
      BODY,
      'invalid_signature',
    ],
    ['signed for another webhook', () => headers(BODY, { webhookId: 'OTHER' }), BODY, 'invalid_signature'],
    [
      'a certificate URL outside PayPal’s rule',
      () => headers(BODY, { url: 'https://evil.example/v1/notifications/certs/CERT-1' }),
      BODY,
      'untrusted_certificate',
    ],
    [
      'a certificate URL over http',
      () => headers(BODY, { url: CERT_URL.replace('https', 'http') }),
      BODY,
      'untrusted_certificate',
    ],
    [
      'a stale transmission time',
      () => headers(BODY, { time: new Date(Date.now() - 301_000).toISOString() }),
      BODY,
      'timestamp_out_of_tolerance',
    ],
  ] as const)('refuses %s', async (_name, make, body, reason) => {
    expect(await run(make(), body)).toEqual({ ok: false, reason });
  });
  it('refuses missing and malformed headers', async () => {
    const h = headers();
    const { 'paypal-transmission-sig': _, ...unsigned } = h;
    expect(await run(unsigned)).toEqual({ ok: false, reason: 'missing_signature' });
    expect(await run({ ...h, 'paypal-auth-algo': 'SHA1withRSA' })).toEqual({
      ok: false,
      reason: 'malformed_signature',
    });
    expect(await run({ ...h, 'paypal-transmission-id': 'a|b' })).toEqual({
      ok: false,
      reason: 'malformed_signature',
    });
  });
  it.each([
    ['an HTTP date', () => new Date().toUTCString()],
    ['a bare number (Date.parse reads it as a year)', () => String(new Date().getUTCFullYear())],
    ['a date without a zone (read as local time)', () => new Date().toISOString().slice(0, 19)],
  ])('refuses a transmission time that is not RFC 3339, even signed: %s', async (_name, time) => {
    expect(await run(headers(BODY, { time: time() }))).toEqual({ ok: false, reason: 'malformed_signature' });
  });
  it('throws an OutboundError (503 for the sender) when the certificate host cannot be reached', async () => {
    await expect(run(headers(), BODY, 1)).rejects.toBeInstanceOf(OutboundError);
  });
});
