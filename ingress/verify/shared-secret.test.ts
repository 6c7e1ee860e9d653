import { describe, expect, it } from 'vitest';
import { sign } from './index.ts';
import { checker, type SchemeCase, verifiesEach } from './scheme.test-helper.ts';

const SECRET = 'replace-with-a-long-random-secret';
const NOW = Date.UTC(2025, 0, 1);
const BODY = Buffer.from('{"event":"lead.created"}');

const check = checker('shared-secret', SECRET, BODY, NOW);

const cases: SchemeCase[] = [
  { name: 'default header', headers: { 'x-webhook-secret': SECRET } },
  { name: 'custom header', sig: { header: 'X-Api-Secret' }, headers: { 'x-api-secret': SECRET } },
  {
    name: 'wrong secret',
    headers: { 'x-webhook-secret': 'replace-with-a-long-random-secreT' },
    reason: 'invalid_signature',
  },
  { name: 'truncated', headers: { 'x-webhook-secret': SECRET.slice(0, -1) }, reason: 'invalid_signature' },
  { name: 'extended', headers: { 'x-webhook-secret': `${SECRET}x` }, reason: 'invalid_signature' },
  { name: 'missing', headers: {}, reason: 'missing_signature' },
  { name: 'empty', headers: { 'x-webhook-secret': '' }, reason: 'missing_signature' },
  {
    name: 'secret in another header',
    sig: { header: 'X-Api-Secret' },
    headers: { 'x-webhook-secret': SECRET },
    reason: 'missing_signature',
  },
];

describe('shared-secret', () => {
  verifiesEach(cases, check);

  it('sign() sends the secret and the delivery id', () => {
    expect(sign({ scheme: 'shared-secret', secrets: [{ value: SECRET }] }, SECRET, BODY, NOW, 'd-1')).toEqual(
      {
        'X-Webhook-Secret': SECRET,
        'Idempotency-Key': 'd-1',
      },
    );
  });
});
