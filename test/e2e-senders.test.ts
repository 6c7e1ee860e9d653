// End to end, as senders sign: a delivery in each reference format of examples/formats, and the
// well-known schemes signed by those ecosystems' own libraries, each a real HTTP request to the
// trigger's status.url that starts exactly one Job with the mapped input (test/e2e.test-helper.ts).
import { randomBytes, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sign as githubSign } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  app,
  apply,
  credentials,
  deliver,
  hg,
  hmacHex,
  inputOf,
  JSON_CT,
  jobsOf,
  type Obj,
  ROOT,
  ready,
  trigger,
  useHookgate,
  workflow,
} from './e2e.test-helper.ts';
import { kubectl } from './helpers.ts';

useHookgate();

// ---------------------------------------------------------------------------------------------
// Formats: the examples, one per reference product, each signed the way its comment says senders do

interface FormatCase {
  file: string;
  trigger: string;
  body: Obj;
  query?: string;
  headers: (c: Record<string, string>, body: string) => Record<string, string>;
  expected: Obj;
  status: number;
  wait?: boolean;
}

/** The bearer token, and the body's HMAC as `sha256=<hex>` in `header`. */
const bearerAndHmac = (header: string) => (c: Record<string, string>, body: string) => ({
  ...JSON_CT,
  Authorization: `Bearer ${c.token}`,
  [header]: `sha256=${hmacHex(c.signingSecret!, body)}`,
});

const formats: FormatCase[] = [
  {
    file: 'bearer-and-hmac-with-defaults.yaml',
    trigger: 'shopify-orders',
    body: { order: 'A-1', priority: 'high' },
    headers: bearerAndHmac('X-Agentruntime-Signature'),
    expected: { source: 'shopify', priority: 'high', order: 'A-1' },
    status: 202,
  },
  {
    file: 'bearer-and-hmac.yaml',
    trigger: 'pr-review',
    body: { message: 'Server CPU usage exceeded 90%', priority: 'high' },
    headers: bearerAndHmac('X-Webhook-Signature'),
    expected: { message: 'Server CPU usage exceeded 90%', priority: 'high' },
    status: 202,
  },
  {
    file: 'hmac-hex-wait.yaml',
    trigger: 'order-created',
    body: { event: 'order_created', order_id: '12345' },
    query: '?source=crm&priority=high',
    headers: (c, body) => ({ ...JSON_CT, 'X-Webhook-Signature': hmacHex(c.signingSecret!, body) }),
    expected: {
      event: 'order_created',
      order_id: '12345',
      _query: { source: 'crm', priority: 'high' },
    },
    status: 200,
    wait: true,
  },
  {
    file: 'shared-secret.yaml',
    trigger: 'incoming-leads',
    body: { event: 'lead.created', email: 'person@example.com' },
    headers: (c) => ({ ...JSON_CT, 'X-Webhook-Secret': c.signingSecret! }),
    expected: { event: 'lead.created', email: 'person@example.com' },
    status: 202,
  },
  {
    file: 'timestamped-milliseconds.yaml',
    trigger: 'automation',
    body: { data: { message: 'hello' } },
    headers: (c, body) => {
      const t = String(Date.now());
      return { ...JSON_CT, 'X-Toolplex-Signature': `t=${t},v1=${hmacHex(c.signingSecret!, `${t}.${body}`)}` };
    },
    expected: { data: { message: 'hello' } },
    status: 202,
  },
];

describe('a delivery in each reference format starts exactly one Job with the mapped input', () => {
  beforeAll(async () => {
    for (const f of formats) {
      const r = await kubectl(['apply', '-n', app.name, '-f', join(ROOT, 'examples/formats', f.file)]);
      if (r.code !== 0) throw new Error(`apply ${f.file}: ${r.stderr}`);
    }
  });

  it('every reference format has a case here', async () => {
    const files = (await readdir(join(ROOT, 'examples/formats'))).filter((f) => f.endsWith('.yaml'));
    expect(formats.map((f) => f.file).sort()).toEqual(files.sort());
    for (const f of formats) {
      const docs = parseAllDocuments(await readFile(join(ROOT, 'examples/formats', f.file), 'utf8'));
      expect(docs.map((d) => d.toJS().metadata.name)).toContain(f.trigger);
    }
  });

  it.each(formats)('$file', async (f) => {
    const t = await ready(f.trigger);
    expect(t.status?.url).toBe(`${hg.url}/hooks/${app.name}/${f.trigger}`);
    const creds = await credentials(f.trigger);
    const body = JSON.stringify(f.body);
    const answer = await deliver(`${t.status!.url}${f.query ?? ''}`, body, () => f.headers(creds, body));
    expect(answer.status, JSON.stringify(answer.body)).toBe(f.status);
    expect(answer.body).toMatchObject({ accepted: true, trigger: f.trigger, run: expect.any(String) });
    if (f.wait) {
      expect(answer.body).toMatchObject({ result: 'Succeeded', exitCode: 0 });
      expect(answer.headers.get('x-handled-by')).toBe('hookgate');
    }
    const jobs = await jobsOf(f.trigger);
    expect(jobs.map((j) => j.metadata!.name)).toEqual([answer.body.run]);
    expect(await inputOf(String(answer.body.run))).toEqual(f.expected);
  });
});

// ---------------------------------------------------------------------------------------------
// The well-known schemes, signed by those ecosystems' own libraries where there is one

const stripeSecret = `whsec_${randomBytes(24).toString('base64')}`;

interface SchemeCase {
  name: string;
  signature: Obj;
  body: Obj;
  headers: (secret: string, body: string) => Promise<Record<string, string>>;
}

const schemes: SchemeCase[] = [
  {
    name: 'github',
    signature: { scheme: 'github' },
    body: { ref: 'refs/heads/main', after: 'abc123' },
    headers: async (secret, body) => ({
      ...JSON_CT,
      'X-GitHub-Event': 'push',
      'X-GitHub-Delivery': randomUUID(),
      'X-Hub-Signature-256': await githubSign(secret, body),
    }),
  },
  {
    name: 'stripe',
    signature: { scheme: 'stripe', secretRef: { name: 'stripe-webhook', key: 'signingSecret' } },
    body: { id: `evt_${randomBytes(8).toString('hex')}`, type: 'checkout.session.completed', data: {} },
    headers: async (secret, body) => ({
      ...JSON_CT,
      'Stripe-Signature': new Stripe('sk_test_unused').webhooks.generateTestHeaderString({
        payload: body,
        secret,
      }),
    }),
  },
  {
    name: 'standard-webhooks',
    signature: { scheme: 'standard-webhooks' },
    body: { type: 'user.created', data: { id: 7 } },
    headers: async (secret, body) => {
      const id = `msg_${randomUUID()}`;
      const now = new Date();
      return {
        ...JSON_CT,
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': new Webhook(secret).sign(id, now, body),
      };
    },
  },
  {
    name: 'slack',
    signature: { scheme: 'slack' },
    body: { type: 'event_callback', event_id: `Ev${randomBytes(6).toString('hex')}`, event: { type: 'x' } },
    headers: async (secret, body) => {
      const ts = String(Math.floor(Date.now() / 1000));
      return {
        ...JSON_CT,
        'X-Slack-Request-Timestamp': ts,
        'X-Slack-Signature': `v0=${hmacHex(secret, `v0:${ts}:${body}`)}`,
      };
    },
  },
];

describe('GitHub, Stripe, Standard Webhooks and Slack deliveries', () => {
  beforeAll(async () => {
    await apply([
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'stripe-webhook' },
        stringData: { signingSecret: stripeSecret },
      },
      ...schemes.flatMap((s) => [
        workflow(`scheme-${s.name}`),
        trigger(`scheme-${s.name}`, { auth: { signature: s.signature } }),
      ]),
    ]);
  });

  it.each(schemes)('$name', async (s) => {
    const name = `scheme-${s.name}`;
    const t = await ready(name);
    const secret = s.name === 'stripe' ? stripeSecret : (await credentials(name)).signingSecret!;
    const body = JSON.stringify(s.body);
    const answer = await deliver(t.status!.url!, body, () => s.headers(secret, body));
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    expect(answer.body.run).toEqual(expect.any(String));
    const jobs = await jobsOf(name);
    expect(jobs.map((j) => j.metadata!.name)).toEqual([answer.body.run]);
    expect(await inputOf(String(answer.body.run))).toEqual(s.body);
  });
});
