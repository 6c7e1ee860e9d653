import { createHmac } from 'node:crypto';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import { describe, expect, it } from 'vitest';
import { sign, type VerifyReason, verify } from './index.ts';

const SECRET = 'whsec_c2VjcmV0LXNpZ25pbmcta2V5LWZvci1ob29rZ2F0ZS10ZXN0cw==';
const NOW = Date.UTC(2025, 0, 1);
const PAYLOAD = '{"action":"opened","pull_request":{"number":42,"title":"Zoë’s fix"}}';
const BODY = Buffer.from(PAYLOAD);

const check = (headers: Record<string, string>) =>
  verify({ signature: { scheme: 'github', secrets: [{ value: SECRET }] } }, { headers, body: BODY }, NOW);

const cases: { name: string; headers: () => Promise<Record<string, string>>; reason?: VerifyReason }[] = [
  {
    name: 'signed by @octokit/webhooks-methods',
    headers: async () => ({ 'x-hub-signature-256': await octokitSign(SECRET, PAYLOAD) }),
  },
  {
    name: 'bad secret',
    headers: async () => ({ 'x-hub-signature-256': await octokitSign('other', PAYLOAD) }),
    reason: 'invalid_signature',
  },
  {
    name: 'another payload',
    headers: async () => ({ 'x-hub-signature-256': await octokitSign(SECRET, `${PAYLOAD}\n`) }),
    reason: 'invalid_signature',
  },
  { name: 'missing header', headers: async () => ({}), reason: 'missing_signature' },
  {
    name: 'legacy SHA-1 header only',
    headers: async () => ({
      'x-hub-signature': `sha1=${createHmac('sha1', SECRET).update(BODY).digest('hex')}`,
    }),
    reason: 'missing_signature',
  },
  {
    name: 'truncated',
    headers: async () => ({ 'x-hub-signature-256': (await octokitSign(SECRET, PAYLOAD)).slice(0, -2) }),
    reason: 'malformed_signature',
  },
  {
    name: 'prefix missing',
    headers: async () => ({
      'x-hub-signature-256': (await octokitSign(SECRET, PAYLOAD)).slice('sha256='.length),
    }),
    reason: 'malformed_signature',
  },
  {
    name: 'wrong prefix',
    headers: async () => ({
      'x-hub-signature-256': (await octokitSign(SECRET, PAYLOAD)).replace('sha256=', 'sha512='),
    }),
    reason: 'malformed_signature',
  },
];

describe('github', () => {
  it.each(cases)('$name', async ({ headers, reason }) => {
    expect(check(await headers())).toMatchObject(reason ? { ok: false, reason } : { ok: true });
  });

  it('sign() matches @octokit/webhooks-methods and names the delivery', async () => {
    expect(sign({ scheme: 'github', secrets: [{ value: SECRET }] }, SECRET, BODY, NOW, 'd-1')).toEqual({
      'X-Hub-Signature-256': await octokitSign(SECRET, PAYLOAD),
      'X-GitHub-Delivery': 'd-1',
    });
  });
});
