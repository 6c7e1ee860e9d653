// End to end, what a delivery is answered: duplicates, the rate limit, refusals, wait mode, an
// unreachable API server, secret rotation, and the ingress's /metrics counting all of it
// (test/e2e.test-helper.ts).
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Annotations, CredentialKeys } from '../api/v1alpha1/index.ts';
import {
  type Answer,
  app,
  apply,
  core,
  credentials,
  deliver,
  deliverWithToken,
  getTrigger,
  hg,
  hmacHex,
  JSON_CT,
  jobsOf,
  post,
  ready,
  routeOf,
  system,
  trigger,
  useHookgate,
  workflow,
} from './e2e.test-helper.ts';
import { logTail, type Proc, terminate } from './harness/index.ts';
import { kubeConfigVia, serviceAccountKubeconfig, spawnIngress, startApiServer, waitFor } from './helpers.ts';
import { requestRotation, workflowObject } from './objects.test-helper.ts';

useHookgate();

// ---------------------------------------------------------------------------------------------
// Deduplication, rate limit, refusals

describe('deliveries', () => {
  beforeAll(async () => {
    await apply([
      workflow('dedupe'),
      trigger('dedupe', {
        auth: { signature: { scheme: 'shared-secret' } },
        rateLimit: { requests: 1000, periodSeconds: 60 },
      }),
      workflow('limited'),
      trigger('limited', {
        auth: { signature: { scheme: 'shared-secret' } },
        rateLimit: { requests: 5, periodSeconds: 60 },
      }),
      workflow('guarded'),
      trigger('guarded', { auth: { bearer: {}, signature: { scheme: 'hmac-sha256', prefix: 'sha256=' } } }),
      workflow('paused'),
      trigger('paused', { suspend: true, auth: { bearer: {} } }),
      // Accepted by the CRD, refused by the API server once the ingress's input volume is added.
      workflowObject('unrunnable', {
        pod: { volumes: [{ name: 'scratch', emptyDir: {} }] },
        container: { volumeMounts: [{ name: 'scratch', mountPath: '/var/run/hookgate' }] },
      }),
      trigger('unrunnable', { auth: { bearer: {} } }),
      workflow('badschema', {}, { inputSchema: { type: 'object', properties: { a: { type: 'notatype' } } } }),
      trigger('badschema', { auth: { bearer: {} } }),
    ]);
  });

  const secretHeaders = (secret: string, id: string) => ({
    ...JSON_CT,
    'X-Webhook-Secret': secret,
    'Idempotency-Key': id,
  });

  it('the same delivery twice starts one Job; the second answer is 200 duplicate with the same run', async () => {
    const t = await ready('dedupe');
    const { signingSecret } = await credentials('dedupe');
    const id = randomUUID();
    const first = await deliver(t.status!.url!, '{"n":1}', () => secretHeaders(signingSecret!, id));
    expect(first.status).toBe(202);
    expect(first.body.duplicate).toBeUndefined();
    const second = await post(t.status!.url!, '{"n":1}', secretHeaders(signingSecret!, id));
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ duplicate: true, run: first.body.run, deliveryId: id });
    const jobs = (await jobsOf('dedupe')).filter(
      (j) => j.metadata?.annotations?.[Annotations.deliveryId] === id,
    );
    expect(jobs.map((j) => j.metadata!.name)).toEqual([first.body.run]);
  });

  it('50 concurrent copies of one delivery: one Job, one 202, 49 duplicates', async () => {
    const t = await ready('dedupe');
    const { signingSecret } = await credentials('dedupe');
    // The route is served (previous test or this probe, which starts nothing: wrong secret → 401).
    await deliver(t.status!.url!, '{}', () => secretHeaders('wrong', randomUUID()));
    const id = randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        post(t.status!.url!, '{"burst":true}', secretHeaders(signingSecret!, id)),
      ),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(49);
    expect(answers.filter((a) => a.body.duplicate === true)).toHaveLength(49);
    expect(new Set(answers.map((a) => a.body.run)).size).toBe(1);
    const jobs = (await jobsOf('dedupe')).filter(
      (j) => j.metadata?.annotations?.[Annotations.deliveryId] === id,
    );
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.metadata!.name).toBe(answers[0]!.body.run);
  });

  it('rate limit 5 per minute: of 8 deliveries exactly 5 are accepted, 3 get 429 with Retry-After', async () => {
    const t = await ready('limited');
    const { signingSecret } = await credentials('limited');
    const answers: Answer[] = [
      await deliver(t.status!.url!, '{}', () => secretHeaders(signingSecret!, randomUUID())),
    ];
    for (let i = 1; i < 8; i++)
      answers.push(await post(t.status!.url!, '{}', secretHeaders(signingSecret!, randomUUID())));
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202, 429, 429, 429]);
    for (const a of answers.slice(5)) {
      expect(Number(a.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(a.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    }
    const jobs = await jobsOf('limited');
    expect(jobs.map((j) => j.metadata!.name).sort()).toEqual(
      answers
        .slice(0, 5)
        .map((a) => a.body.run)
        .sort(),
    );
  });

  it('a bad signature is 401 and creates nothing; a good one then is accepted', async () => {
    const t = await ready('guarded');
    const { token, signingSecret } = await credentials('guarded');
    const body = '{"x":1}';
    const headers = (secret: string) => ({
      ...JSON_CT,
      Authorization: `Bearer ${token}`,
      'X-Webhook-Signature': `sha256=${hmacHex(secret, body)}`,
    });
    const bad = await deliver(t.status!.url!, body, () => headers(`${signingSecret}x`));
    expect(bad.status).toBe(401);
    expect(bad.body.run).toBeUndefined();
    const noToken = await post(t.status!.url!, body, {
      ...headers(signingSecret!),
      Authorization: 'Bearer hgt_nope',
    });
    expect(noToken.status).toBe(401);
    expect(await jobsOf('guarded')).toEqual([]);
    // The same request correctly signed is accepted: the 401s were about the signature.
    const good = await post(t.status!.url!, body, headers(signingSecret!));
    expect(good.status).toBe(202);
    expect((await jobsOf('guarded')).map((j) => j.metadata!.name)).toEqual([good.body.run]);
  });

  it('a suspended trigger answers 403 and starts nothing', async () => {
    const t = await waitFor(
      async () => {
        const got = await getTrigger('paused');
        return got.status?.url !== undefined && got;
      },
      { what: 'paused has a URL' },
    );
    expect(t.status?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('Suspended');
    const answer = await deliverWithToken(t, '{}');
    expect(answer.status).toBe(403);
    expect(await jobsOf('paused')).toEqual([]);
  });
});

describe('a trigger whose Workflow cannot run', () => {
  // Regression: both Workflows were Ready and every delivery was answered 500.
  it.each([
    ['unrunnable', 'InvalidJobTemplate'],
    ['badschema', 'InvalidInputSchema'],
  ])(
    '%s: the trigger reports %s and answers 503 with a clear message, starting nothing',
    async (name, reason) => {
      const t = await waitFor(
        async () => {
          const got = await getTrigger(name);
          const cond = got.status?.conditions?.find((c) => c.type === 'Ready');
          return cond?.reason === 'WorkflowNotReady' && got.status?.url !== undefined && got;
        },
        { what: `${name} WorkflowNotReady` },
      );
      const conditions = Object.fromEntries((t.status?.conditions ?? []).map((c) => [c.type, c]));
      expect(conditions.Ready).toMatchObject({ status: 'False', message: expect.stringContaining(reason) });
      expect(conditions.Stalled?.status).toBe('True');
      const answer = await deliverWithToken(t, '{"a":1}');
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('60');
      expect(answer.body).toEqual({
        error: {
          code: 'trigger_unavailable',
          message: `the trigger's workflow cannot start runs (${reason}); its owner must fix it`,
        },
      });
      expect(await jobsOf(name)).toEqual([]);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// wait mode (kwok completes pods; the annotations of test/harness/kwok-stages.yaml make them fail)

describe('wait mode', () => {
  beforeAll(async () => {
    await apply([
      workflow('wait-ok'),
      trigger('wait-ok', { auth: { bearer: {} }, response: { mode: 'wait', timeoutSeconds: 60 } }),
      workflow('wait-fail', {
        annotations: { 'hookgate.io/test-fail-exit-code': '3', 'hookgate.io/test-fail-message': 'disk full' },
      }),
      trigger('wait-fail', {
        auth: { bearer: {} },
        response: { mode: 'wait', timeoutSeconds: 60, includeOutput: true },
      }),
    ]);
  });

  it('answers 200 with result Succeeded once the run completes', async () => {
    const t = await ready('wait-ok');
    const answer = await deliverWithToken(t, '{"a":1}');
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({ accepted: true, result: 'Succeeded', exitCode: 0 });
    const [job] = await jobsOf('wait-ok');
    expect(job!.metadata!.name).toBe(answer.body.run);
    expect(job!.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True')).toBe(true);
  });

  it('answers 200 with result Failed, the exit code and the termination message of a failed run', async () => {
    const t = await ready('wait-fail');
    const answer = await deliverWithToken(t, '{}');
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({ result: 'Failed', exitCode: 3, output: 'disk full' });
    expect((await jobsOf('wait-fail')).map((j) => j.metadata!.name)).toEqual([answer.body.run]);
  });
});

// ---------------------------------------------------------------------------------------------
// API server unreachable

describe('API server unreachable', () => {
  let ingress: Proc | undefined;
  let api: { kubeconfigPath: string; stop(): Promise<void> } | undefined;
  afterAll(async () => {
    if (ingress) await terminate(ingress);
    await api?.stop();
  });

  it('answers 503 with Retry-After and accepts nothing', async () => {
    await apply([
      workflow('offline'),
      trigger('offline', { auth: { signature: { scheme: 'shared-secret' } } }),
    ]);
    const t = await ready('offline');
    const { signingSecret } = await credentials('offline');

    // A second ingress, as the ingress ServiceAccount, talking to its own API server on the same etcd.
    api = await startApiServer();
    const saPath = await serviceAccountKubeconfig(system, 'hookgate-ingress');
    const kubeconfig = `${saPath}.extra`;
    await writeFile(kubeconfig, kubeConfigVia(saPath, api).exportConfig());
    const second = await spawnIngress('ingress-offline', { kubeconfig, namespace: system });
    ingress = second.proc;
    const base = second.url;
    const url = `${base}/hooks/${app.name}/offline`;
    const proc = ingress;
    await waitFor(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`ingress exited\n${await logTail(proc, 40)}`);
        return (await fetch(`${base}/readyz`)).ok;
      },
      { timeoutMs: 60_000, what: 'the second ingress ready' },
    );
    // It serves the route (a wrong secret is refused, not unknown), which starts nothing.
    const probe = await deliver(url, '{}', () => ({ ...JSON_CT, 'X-Webhook-Secret': 'wrong' }));
    expect(probe.status).toBe(401);

    await api.stop();
    const answer = await post(url, '{"offline":true}', {
      ...JSON_CT,
      'X-Webhook-Secret': signingSecret!,
      'Idempotency-Key': randomUUID(),
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(503);
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(answer.body.run).toBeUndefined();
    expect(await jobsOf('offline')).toEqual([]);
    const inputs = await core().listNamespacedSecret({ namespace: app.name });
    expect(
      inputs.items.filter(
        (s) => s.metadata?.name?.endsWith('-input') && s.metadata.name.startsWith('offline-'),
      ),
    ).toEqual([]);
    // The main ingress (its API server up) accepts the same delivery.
    const ok = await post(t.status!.url!, '{"offline":false}', {
      ...JSON_CT,
      'X-Webhook-Secret': signingSecret!,
    });
    expect(ok.status).toBe(202);
  });
});

// ---------------------------------------------------------------------------------------------
// Rotation

describe('rotation', () => {
  it('after hookgate.io/rotate both the old and the new secret are accepted', async () => {
    await apply([
      workflow('rotating'),
      trigger('rotating', { auth: { signature: { scheme: 'hmac-sha256', prefix: 'sha256=' } } }),
    ]);
    const t = await ready('rotating');
    const old = (await credentials('rotating')).signingSecret!;
    const url = t.status!.url!;
    const signed = (secret: string, body: string) => ({
      ...JSON_CT,
      'X-Webhook-Signature': `sha256=${hmacHex(secret, body)}`,
    });
    expect((await deliver(url, '{"k":"before"}', () => signed(old, '{"k":"before"}'))).status).toBe(202);

    await requestRotation(app.name, 'rotating', 'now-1');
    const route = await waitFor(
      async () => {
        const rt = await routeOf('rotating');
        return rt.auth.signature?.secrets.length === 2 && rt;
      },
      { what: 'the route holding two secrets' },
    );
    const fresh = (await credentials('rotating')).signingSecret!;
    expect(fresh).not.toBe(old);
    const secrets = route.auth.signature!.secrets;
    expect(secrets.find((s) => s.validUntil === undefined)?.value).toBe(fresh);
    expect(secrets.find((s) => s.validUntil !== undefined)?.value).toBe(old);
    expect((await credentials('rotating'))[CredentialKeys.previousSigningSecret]).toBe(old);

    // The ingress picks the route up by its watch; until then the new secret is refused (401).
    const withNew = await waitFor(
      async () => {
        const a = await post(url, '{"k":"new"}', signed(fresh, '{"k":"new"}'));
        return a.status !== 401 && a;
      },
      { what: 'the new secret accepted' },
    );
    expect(withNew.status).toBe(202);
    const withOld = await post(url, '{"k":"old"}', signed(old, '{"k":"old"}'));
    expect(withOld.status).toBe(202);
    const wrong = await post(url, '{"k":"x"}', signed('whsec_wrong', '{"k":"x"}'));
    expect(wrong.status).toBe(401);
    expect(await jobsOf('rotating')).toHaveLength(3);
  });
});

// ---------------------------------------------------------------------------------------------
// Metrics

function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const m = /\{(.*)\}\s+(\S+)$/.exec(line);
    if (!m) continue;
    const got = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[2]);
  }
  return undefined;
}

describe('/metrics of the ingress', () => {
  it('counts requests by trigger and outcome and the runs started', async () => {
    const text = await (await fetch(hg.metricsUrl)).text();
    const trig = (name: string) => `${app.name}/${name}`;
    const requests = 'hookgate_ingress_requests_total';
    // These triggers are exercised above; the counts follow from what was sent there.
    expect(sample(text, requests, { trigger: trig('limited'), outcome: 'accepted' })).toBe(5);
    expect(sample(text, requests, { trigger: trig('limited'), outcome: 'rate_limited' })).toBe(3);
    expect(sample(text, requests, { trigger: trig('dedupe'), outcome: 'duplicate' })).toBe(50);
    expect(sample(text, requests, { trigger: trig('guarded'), outcome: 'unauthorized' })).toBe(2);
    expect(sample(text, requests, { trigger: trig('paused'), outcome: 'suspended' })).toBe(1);
    expect(sample(text, 'hookgate_ingress_runs_started_total', { trigger: trig('limited') })).toBe(5);
    expect(sample(text, 'hookgate_ingress_runs_started_total', { trigger: trig('dedupe') })).toBe(2);
    expect(sample(text, 'hookgate_ingress_rate_limited_total', { trigger: trig('limited') })).toBe(3);
    expect(sample(text, 'hookgate_ingress_duplicates_total', { trigger: trig('dedupe') })).toBe(50);
  });
});
