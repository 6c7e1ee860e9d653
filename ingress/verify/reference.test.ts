import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Route } from '../../api/v1alpha1/index.ts';
import { verify } from './index.ts';

// One delivery per document in ../shared/reference, signed the way that document's sender code does
// it, against the hookgate auth a user would configure to receive it.
const NOW = Date.UTC(2025, 0, 1, 12);
const hmacHex = (secret: string, text: string) => createHmac('sha256', secret).update(text).digest('hex');

const cases: { doc: string; auth: Route['auth']; body: string; headers: Record<string, string> }[] = [
  {
    doc: '000: secret in X-Webhook-Secret',
    auth: {
      signature: { scheme: 'shared-secret', secrets: [{ value: 'replace-with-a-long-random-secret' }] },
    },
    body: '{"event":"lead.created","email":"person@example.com","company":"Acme"}',
    headers: { 'x-webhook-secret': 'replace-with-a-long-random-secret' },
  },
  (() => {
    // const timestamp = Date.now(); createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex')
    const body = JSON.stringify({ data: { message: 'Hello from webhook' } });
    const timestamp = NOW - 2_000;
    return {
      doc: '001: X-Toolplex-Signature t=<ms>,v1=<hex>',
      auth: {
        signature: {
          scheme: 'timestamped' as const,
          header: 'X-Toolplex-Signature',
          timestampUnit: 'milliseconds' as const,
          secrets: [{ value: 'your-signing-secret' }],
        },
      },
      body,
      headers: {
        'x-toolplex-signature': `t=${timestamp},v1=${hmacHex('your-signing-secret', `${timestamp}.${body}`)}`,
      },
    };
  })(),
  {
    doc: '002: Bearer pat_ and X-Agentruntime-Signature sha256=<hex>',
    auth: {
      tokens: [{ value: 'pat_0123456789' }],
      signature: {
        scheme: 'hmac-sha256',
        header: 'X-Agentruntime-Signature',
        prefix: 'sha256=',
        secrets: [{ value: 'signing-secret-shown-once' }],
      },
    },
    body: '{"order":"1001","source":"shopify"}',
    headers: {
      authorization: 'Bearer pat_0123456789',
      'x-agentruntime-signature': `sha256=${hmacHex('signing-secret-shown-once', '{"order":"1001","source":"shopify"}')}`,
    },
  },
  {
    doc: '003: Bearer wht_ and X-Webhook-Signature sha256=<hex>',
    auth: {
      tokens: [{ value: 'wht_abc123' }],
      signature: { scheme: 'hmac-sha256', prefix: 'sha256=', secrets: [{ value: 'trigger-secret' }] },
    },
    body: '{"message": "Hello"}',
    headers: {
      authorization: 'Bearer wht_abc123',
      'x-webhook-signature': `sha256=${hmacHex('trigger-secret', '{"message": "Hello"}')}`,
    },
  },
  {
    doc: '004: X-Webhook-Signature <hex>, no prefix',
    auth: { signature: { scheme: 'hmac-sha256', secrets: [{ value: 'your-webhook-secret' }] } },
    body: '{"event":"order_created","order_id":"12345"}',
    headers: {
      'x-webhook-signature': hmacHex('your-webhook-secret', '{"event":"order_created","order_id":"12345"}'),
    },
  },
];

describe('reference formats', () => {
  it.each(cases)('$doc', ({ auth, body, headers }) => {
    expect(verify(auth, { headers, body: Buffer.from(body) }, NOW)).toMatchObject({ ok: true });
    // The same delivery with one byte changed must not pass: the case checks the format, not luck.
    expect(verify(auth, { headers, body: Buffer.from(`${body} `) }, NOW).ok).toBe(
      auth.signature?.scheme === 'shared-secret',
    );
  });
});
