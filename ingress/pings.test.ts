import { createHmac } from 'node:crypto';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProviderName } from '../api/v1alpha1/index.ts';
import { buildApp } from './app.ts';
import { MemoryLauncher, MemoryRoutes, testRoute } from './http/fakes.test-helper.ts';
import { providerRoute } from './verify/providers.test-helper.ts';

// A provider's ping verifies like any delivery, is answered 200 and starts nothing.

const SECRET = 'whsec_ping-secret-0123456789abcdef';
const PATH = '/hooks/team-a/deploy';
const apps: ReturnType<typeof buildApp>[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

function setup(route = providerRoute('github', SECRET)) {
  const launcher = new MemoryLauncher();
  const registry = new Registry();
  const app = buildApp({ routes: new MemoryRoutes([route]), launcher, registry });
  apps.push(app);
  const post = (body: string, headers: Record<string, string>) =>
    app.inject({
      method: 'POST',
      url: PATH,
      payload: body,
      headers: { 'content-type': 'application/json', ...headers },
    });
  const outcomes = async () =>
    Object.fromEntries(
      ((await registry.getSingleMetric('hookgate_ingress_requests_total')?.get())?.values ?? []).map((v) => [
        v.labels.outcome,
        v.value,
      ]),
    );
  return { launcher, post, outcomes };
}

const PING = JSON.stringify({ zen: 'Design for failure.', hook_id: 109948940 });
const hubSignature = (algorithm: string, prefix: string, body: string) =>
  `${prefix}${createHmac(algorithm, SECRET).update(body).digest('hex')}`;

describe('pings', () => {
  it("GitHub's ping: 200, no run, counted as its own outcome", async () => {
    const { launcher, post, outcomes } = setup();
    const res = await post(PING, {
      'X-GitHub-Event': 'ping',
      'X-Hub-Signature-256': await octokitSign(SECRET, PING),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accepted: true, run: null, ping: true });
    expect(launcher.runs.size).toBe(0);
    expect(await outcomes()).toEqual({ ping: 1 });
  });

  it('a ping is verified first: a bad signature is 401', async () => {
    const { launcher, post, outcomes } = setup();
    const res = await post(PING, {
      'X-GitHub-Event': 'ping',
      'X-Hub-Signature-256': await octokitSign('other', PING),
    });
    expect(res.statusCode).toBe(401);
    expect(launcher.runs.size).toBe(0);
    expect(await outcomes()).toEqual({ unauthorized: 1 });
  });

  it('any other event of the same provider runs', async () => {
    const { launcher, post } = setup();
    const res = await post(PING, {
      'X-GitHub-Event': 'push',
      'X-Hub-Signature-256': await octokitSign(SECRET, PING),
    });
    expect(res.statusCode).toBe(202);
    expect(launcher.runs.size).toBe(1);
  });

  it.each([
    [
      'bitbucket-server',
      PING,
      { 'X-Event-Key': 'diagnostics:ping', 'X-Hub-Signature': hubSignature('sha256', 'sha256=', PING) },
    ],
    ['gitea', PING, { 'X-Gitea-Event': 'ping', 'X-Gitea-Signature': hubSignature('sha256', '', PING) }],
    ['forgejo', PING, { 'X-Forgejo-Event': 'ping', 'X-Forgejo-Signature': hubSignature('sha256', '', PING) }],
    [
      'intercom',
      '{"type":"notification_event","topic":"ping","id":"notif_1"}',
      {
        'X-Hub-Signature': hubSignature(
          'sha1',
          'sha1=',
          '{"type":"notification_event","topic":"ping","id":"notif_1"}',
        ),
      },
    ],
  ] as [ProviderName, string, Record<string, string>][])(
    '%s ping: 200, no run',
    async (provider, body, headers) => {
      const { launcher, post } = setup(providerRoute(provider, SECRET));
      const res = await post(body, headers);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ ping: true });
      expect(launcher.runs.size).toBe(0);
    },
  );

  it('the github scheme (no provider) is unchanged: its ping is a delivery like any other', async () => {
    const route = testRoute({ auth: { signature: { scheme: 'github', secrets: [{ value: SECRET }] } } });
    const { launcher, post } = setup(route);
    const res = await post(PING, {
      'X-GitHub-Event': 'ping',
      'X-Hub-Signature-256': await octokitSign(SECRET, PING),
    });
    expect(res.statusCode).toBe(202);
    expect(launcher.runs.size).toBe(1);
  });
});
