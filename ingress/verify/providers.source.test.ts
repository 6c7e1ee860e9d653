import { sign as octokitSign, verify as octokitVerify } from '@octokit/webhooks-methods';
import { describe, expect, it } from 'vitest';
import { jsonDelivery, mac, providerSuite } from './providers.test-helper.ts';

// Source control senders. GitHub signs with @octokit/webhooks-methods (GitHub's own); the others
// publish no npm signer, so their deliveries are signed as their documentation says, in node:crypto.

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const PUSH = JSON.stringify({
  ref: 'refs/heads/main',
  after: '9f8e7d',
  repository: { full_name: 'team/app' },
});

/** PUSH with the hex HMAC-SHA256 of it in `header` after `prefix`, and the sender's `other` headers. */
const signedPush = (header: string, prefix: string, other: Record<string, string>) => () => ({
  body: PUSH,
  headers: { [header]: prefix + mac('sha256', SECRET, PUSH), ...other },
});

describe("GitHub's documented example", () => {
  // docs.github.com "Validating webhook deliveries": secret "It's a Secret to Everybody",
  // payload "Hello, World!".
  it('is the signature hookgate computes', async () => {
    const expected = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    expect(await octokitSign("It's a Secret to Everybody", 'Hello, World!')).toBe(expected);
    expect(await octokitVerify("It's a Secret to Everybody", 'Hello, World!', expected)).toBe(true);
  });
});

providerSuite([
  {
    provider: 'github',
    signedBy: '@octokit/webhooks-methods sign()',
    secret: SECRET,
    sign: async () => ({
      body: PUSH,
      headers: {
        'X-Hub-Signature-256': await octokitSign(SECRET, PUSH),
        'X-GitHub-Event': 'push',
        'X-GitHub-Delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      },
    }),
  },
  {
    provider: 'gitea',
    signedBy: "Gitea's recipe (hex HMAC-SHA256 of the body in X-Gitea-Signature), node:crypto",
    secret: SECRET,
    sign: signedPush('X-Gitea-Signature', '', {
      'X-Gitea-Event': 'push',
      'X-Gitea-Delivery': 'f6266f16-1bf3-46a5-9ea4-602e06ead473',
    }),
  },
  {
    provider: 'forgejo',
    signedBy: "Forgejo's recipe (hex HMAC-SHA256 in X-Forgejo-Signature), node:crypto",
    secret: SECRET,
    sign: signedPush('X-Forgejo-Signature', '', {
      'X-Forgejo-Event': 'push',
      'X-Forgejo-Delivery': 'a1b2c3d4-0000-4000-8000-000000000001',
    }),
  },
  {
    provider: 'gitlab',
    signedBy: 'GitLab: the secret token itself in X-Gitlab-Token',
    secret: SECRET,
    sign: () => ({
      body: JSON.stringify({ object_kind: 'push', ref: 'refs/heads/main' }),
      headers: { 'X-Gitlab-Token': SECRET, 'X-Gitlab-Event': 'Push Hook', 'Idempotency-Key': 'e1b0c4a6-1' },
    }),
    tamper: (d) => ({ ...d, headers: { ...d.headers, 'X-Gitlab-Token': `${SECRET}x` } }),
  },
  {
    provider: 'bitbucket',
    signedBy: "Bitbucket's recipe (X-Hub-Signature: sha256=<hex>), node:crypto",
    secret: SECRET,
    sign: signedPush('X-Hub-Signature', 'sha256=', {
      'X-Event-Key': 'repo:push',
      'X-Request-UUID': '8c1e2c3b-0d7e-4c55-9a2b-5e0f3f2d6b9e',
    }),
  },
  {
    provider: 'bitbucket-server',
    signedBy: "Bitbucket Data Center's recipe (X-Hub-Signature: sha256=<hex>), node:crypto",
    secret: SECRET,
    sign: signedPush('X-Hub-Signature', 'sha256=', {
      'X-Event-Key': 'repo:refs_changed',
      'X-Request-Id': 'b5a1d2e3-4f56-4789-8abc-def012345678',
    }),
  },
  {
    provider: 'jira',
    signedBy: "Atlassian's recipe for admin webhooks (X-Hub-Signature: sha256=<hex>), node:crypto",
    secret: SECRET,
    sign: () =>
      jsonDelivery({ webhookEvent: 'jira:issue_created', issue: { key: 'OPS-1' } }, (body) => ({
        'X-Hub-Signature': `sha256=${mac('sha256', SECRET, body)}`,
        'X-Atlassian-Webhook-Identifier': '1234-jira',
      })),
  },
]);
