// Provider presets end to end: every examples/providers/*.yaml applied as it is turns Ready under
// the real operator, and deliveries signed the providers' way reach the real ingress over HTTP at
// status.url: a run for a delivery, none for a ping, none for a replay, 503 for a secret that is
// not a key of its encoding, and the API server's word for a provider's missing secretRef.
// (Credentials of senders that cannot sign, and handshakes: test/credentials.test.ts,
// test/handshakes.test.ts.)
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { BatchV1Api, CoreV1Api } from '@kubernetes/client-node';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import Stripe from 'stripe';
import twilio from 'twilio';
import { beforeAll, describe, expect, it } from 'vitest';
import { Labels, type WebhookTrigger } from '../api/v1alpha1/index.ts';
import { CliError, main } from '../cli/hookgate.ts';
import { kubeConfig, kubectl, useHookgate, useNamespace, waitFor } from './helpers.ts';
import { readTrigger, waitForReady } from './objects.test-helper.ts';

const EXAMPLES = resolve(import.meta.dirname, '../examples/providers');
const files = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const app = useNamespace('providers');
useHookgate('prov');

beforeAll(async () => {
  const r = await kubectl(['apply', '-n', app.name, '-f', EXAMPLES]);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);

const ready = (name: string) => waitForReady(app.name, name);
const readyCondition = (t: WebhookTrigger) => t.status?.conditions?.find((c) => c.type === 'Ready');

async function secretValue(name: string, key: string): Promise<string> {
  const s = await kubeConfig().makeApiClient(CoreV1Api).readNamespacedSecret({ namespace: app.name, name });
  return Buffer.from(s.data![key]!, 'base64').toString('utf8');
}
const jobs = async (trigger: string) =>
  (
    await kubeConfig()
      .makeApiClient(BatchV1Api)
      .listNamespacedJob({ namespace: app.name, labelSelector: `${Labels.trigger}=${trigger}` })
  ).items.length;

/** Posts once the ingress serves the route (a 404 creates nothing, so it is retried). */
function deliver(url: string, body: string, headers: Record<string, string>) {
  return waitFor(
    async () => {
      const res = await fetch(url, { method: 'POST', body, headers });
      return res.status !== 404 && { status: res.status, body: await res.text() };
    },
    { what: `a route for ${url}` },
  );
}

describe('examples/providers', () => {
  it('has one example per served provider', () => {
    expect(files.length).toBeGreaterThanOrEqual(45);
  });

  it.each(files)('%s applies as it is and turns Ready', async (file) => {
    const t = await ready(file.replace(/\.yaml$/, ''));
    expect(t.status?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/hooks\//);
  });
});

describe('deliveries the providers way, over HTTP', () => {
  it('github: a ping is answered 200 without a Job; a push runs; its replay does not', async () => {
    const url = (await ready('github')).status!.url!;
    const secret = await secretValue('github-credentials', 'signingSecret');
    const ping = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
    const headers = async (body: string, event: string) => ({
      'Content-Type': 'application/json',
      'X-GitHub-Event': event,
      'X-GitHub-Delivery': randomBytes(8).toString('hex'),
      'X-Hub-Signature-256': await octokitSign(secret, body),
    });
    const pong = await deliver(url, ping, await headers(ping, 'ping'));
    expect(pong.status).toBe(200);
    expect(JSON.parse(pong.body)).toMatchObject({ ping: true, run: null });
    expect(await jobs('github')).toBe(0);
    const push = JSON.stringify({ ref: 'refs/heads/main', after: 'abc' });
    const h = await headers(push, 'push');
    expect((await deliver(url, push, h)).status).toBe(202);
    expect((await deliver(url, push, h)).status).toBe(200);
    expect(await jobs('github')).toBe(1);
  });

  it('twilio: the form signed over status.url (the published URL, not Host) runs', async () => {
    const url = (await ready('twilio')).status!.url!;
    const token = await secretValue('twilio-webhook', 'signingSecret');
    const form = { Body: 'deploy', From: '+14155550100', MessageSid: 'SM1' };
    const res = await deliver(url, new URLSearchParams(form).toString(), {
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-Twilio-Signature': twilio.getExpectedTwilioSignature(token, url, form),
    });
    expect(res.status, res.body).toBe(202);
    expect(await jobs('twilio')).toBe(1);
  });

  it('stripe: signed with the placeholder in its Secret; a replay out of tolerance is 401', async () => {
    const url = (await ready('stripe')).status!.url!;
    const secret = await secretValue('stripe-webhook', 'signingSecret');
    const body = JSON.stringify({ id: 'evt_1', type: 'checkout.session.completed' });
    const header = (t: number) =>
      Stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: t });
    const now = Math.floor(Date.now() / 1000);
    expect(
      (await deliver(url, body, { 'Content-Type': 'application/json', 'Stripe-Signature': header(now) }))
        .status,
    ).toBe(202);
    const stale = await deliver(url, body, {
      'Content-Type': 'application/json',
      'Stripe-Signature': header(now - 301),
    });
    expect(stale.status).toBe(401);
    expect(await jobs('stripe')).toBe(1);
  });

  it('telegram: the generated secret is one Telegram accepts, and it verifies', async () => {
    const url = (await ready('telegram')).status!.url!;
    const secret = await secretValue('telegram-credentials', 'signingSecret');
    expect(secret).toMatch(/^hgs_[A-Za-z0-9_-]{43}$/);
    const body = JSON.stringify({ update_id: 7, message: { text: '/deploy' } });
    const headers = { 'Content-Type': 'application/json', 'X-Telegram-Bot-Api-Secret-Token': secret };
    expect((await deliver(url, body, headers)).status).toBe(202);
  });
});

/** The CLI in-process; a thrown CliError becomes its exit code, as bin/hookgate.js does. */
async function cli(...argv: string[]): Promise<{ code: number; out: string[]; error?: string }> {
  const out: string[] = [];
  try {
    return { code: await main(argv, { out: (line) => out.push(line), kubeConfig: kubeConfig() }), out };
  } catch (err) {
    if (err instanceof CliError) return { code: err.exitCode, out, error: err.message };
    throw err;
  }
}

describe('hookgate send signs as the provider does', () => {
  it.each(['github', 'hubspot', 'svix', 'paddle', 'teams', 'alertmanager', 'telegram'])(
    '%s: 202 and a run',
    async (provider) => {
      await ready(provider);
      const before = await jobs(provider);
      const r = await waitFor(
        async () => {
          const r = await cli('send', provider, '-n', app.name, '--data', `{"n":"${provider}"}`);
          return !r.out[0]?.startsWith('404') && r;
        },
        { what: `hookgate send ${provider}` },
      );
      expect(r.out[0], r.out.join('\n')).toMatch(/^202\b/);
      expect(await jobs(provider)).toBe(before + 1);
    },
  );

  it('mailgun signs a field of its body: the CLI says it cannot', async () => {
    await ready('mailgun');
    const r = await cli('send', 'mailgun', '-n', app.name, '--data', '{}');
    expect(r.code).toBe(1);
    expect(r.error).toContain('signs a field of its body');
  });
});

describe('what cannot be served says so', () => {
  it('a Teams token that is not base64 stalls the trigger (InvalidSecret) and its URL answers 503', async () => {
    const r = await kubectl(['apply', '-n', app.name, '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: 'bad-teams' },
            stringData: { t: 'not base64 at all!!' },
          },
          {
            apiVersion: 'hookgate.io/v1alpha1',
            kind: 'WebhookTrigger',
            metadata: { name: 'bad-teams' },
            spec: {
              workflowRef: { name: 'teams' },
              auth: { provider: 'teams', signature: { secretRef: { name: 'bad-teams', key: 't' } } },
            },
          },
        ],
      }),
    });
    expect(r.code, r.stderr).toBe(0);
    const t = await waitFor(
      async () => {
        const t = await readTrigger(app.name, 'bad-teams');
        return readyCondition(t)?.reason === 'InvalidSecret' && t;
      },
      { what: 'bad-teams InvalidSecret' },
    );
    expect(readyCondition(t)?.message).toBe(
      'Secret bad-teams key "t" is not a base64 key, which this trigger\'s signatures need: put the secret there as the provider shows it',
    );
    expect(t.status?.conditions?.find((c) => c.type === 'Stalled')?.status).toBe('True');
    const res = await deliver(t.status!.url!, '{}', { 'Content-Type': 'application/json' });
    expect(res.status).toBe(503);
  });

  it('a provider that issues its secret needs secretRef: the message names it', async () => {
    const r = await kubectl(['apply', '-n', app.name, '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'hookgate.io/v1alpha1',
        kind: 'WebhookTrigger',
        metadata: { name: 'no-ref' },
        spec: { workflowRef: { name: 'github' }, auth: { provider: 'shopify' } },
      }),
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'provider shopify issues its own signing secret: set auth.signature.secretRef',
    );
  });
});
