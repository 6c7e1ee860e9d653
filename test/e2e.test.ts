// End to end: the operator and the ingress running together as separate processes under the chart's
// ServiceAccounts and RBAC, against the local control plane. Every delivery is a real, signed HTTP
// request to the trigger's status.url; what counts is what ends up in the API server (Jobs and their
// input Secrets) and what the sender is answered.
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BatchV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, type V1Job } from '@kubernetes/client-node';
import { sign as githubSign } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  Annotations,
  CredentialKeys,
  GROUP,
  Labels,
  ROUTE_KEY,
  type Route,
  VERSION,
  WEBHOOK_TRIGGER,
  type WebhookTrigger,
} from '../api/v1alpha1/index.ts';
import { INPUT_KEY } from '../lib/run.ts';
import {
  freePorts,
  type Hookgate,
  logTail,
  type Proc,
  spawnLogged,
  startHookgate,
  terminate,
} from './harness/index.ts';
import {
  clusterInfo,
  kubeConfig,
  kubectl,
  serviceAccountKubeconfig,
  startApiServer,
  useNamespace,
  waitFor,
} from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '..');
const app = useNamespace('e2e');
const system = `hookgate-system-e2e-${randomBytes(3).toString('hex')}`;
let hg: Hookgate;

beforeAll(async () => {
  hg = await startHookgate(clusterInfo(), { namespace: system });
});
afterAll(async () => {
  await hg?.stop();
  await kubectl(['delete', 'namespace', system, '--wait=false', '--ignore-not-found']);
});

// ---------------------------------------------------------------------------------------------
// Objects and reads

type Obj = Record<string, unknown>;

async function apply(objects: Obj[]) {
  const r = await kubectl(['apply', '-n', app.name, '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  });
  if (r.code !== 0) throw new Error(`kubectl apply: ${r.stderr}`);
}

function workflow(name: string, podMeta: Obj = {}, extra: Obj = {}): Obj {
  return {
    apiVersion: 'hookgate.io/v1alpha1',
    kind: 'Workflow',
    metadata: { name },
    spec: {
      jobTemplate: {
        spec: {
          backoffLimit: 0,
          template: {
            metadata: podMeta,
            spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.37' }] },
          },
        },
      },
      ...extra,
    },
  };
}

function trigger(name: string, spec: Obj): Obj {
  return {
    apiVersion: 'hookgate.io/v1alpha1',
    kind: 'WebhookTrigger',
    metadata: { name },
    spec: { workflowRef: { name }, ...spec },
  };
}

const custom = () => kubeConfig().makeApiClient(CustomObjectsApi);
const core = () => kubeConfig().makeApiClient(CoreV1Api);
const batch = () => kubeConfig().makeApiClient(BatchV1Api);

async function getTrigger(name: string): Promise<WebhookTrigger> {
  return (await custom().getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: WEBHOOK_TRIGGER.plural,
    namespace: app.name,
    name,
  })) as WebhookTrigger;
}

/** Waits until the trigger is Ready for its current generation and has a URL. */
function ready(name: string): Promise<WebhookTrigger> {
  return waitFor(
    async () => {
      const t = await getTrigger(name);
      const cond = t.status?.conditions?.find((c) => c.type === 'Ready');
      return (
        cond?.status === 'True' &&
        t.status?.observedGeneration === t.metadata.generation &&
        t.status?.url !== undefined &&
        t
      );
    },
    { what: `${name} Ready` },
  );
}

async function secretData(name: string, namespace = app.name): Promise<Record<string, string>> {
  const s = await core().readNamespacedSecret({ namespace, name });
  return Object.fromEntries(
    Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
  );
}

const credentials = (name: string) => secretData(`${name}-credentials`);

async function jobsOf(triggerName: string): Promise<V1Job[]> {
  const list = await batch().listNamespacedJob({
    namespace: app.name,
    labelSelector: `${Labels.trigger}=${triggerName}`,
  });
  return list.items;
}

async function inputOf(job: string): Promise<unknown> {
  const data = await secretData(`${job}-input`);
  expect(Object.keys(data)).toEqual([INPUT_KEY]);
  return JSON.parse(data[INPUT_KEY]!);
}

/** The route Secret the operator publishes for the ingress. */
async function routeOf(name: string): Promise<Route> {
  const hash = createHash('sha256').update(`${app.name}/${name}`).digest('hex').slice(0, 16);
  const data = await secretData(`hookgate-route-${hash}`, system);
  return JSON.parse(data[ROUTE_KEY]!) as Route;
}

// ---------------------------------------------------------------------------------------------
// Sending

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { text };
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/**
 * Sends once the ingress serves the route: a 404 (route not propagated yet) creates nothing, so it
 * is retried; any other answer is returned. `headers` is called per attempt (fresh timestamps).
 */
function deliver(
  url: string,
  body: string,
  headers: () => Record<string, string> | Promise<Record<string, string>>,
) {
  return waitFor(
    async () => {
      const answer = await post(url, body, await headers());
      return answer.status !== 404 && answer;
    },
    { what: `a route for ${url}` },
  );
}

const hmacHex = (key: string, data: string) => createHmac('sha256', key).update(data).digest('hex');
const JSON_CT = { 'Content-Type': 'application/json' };

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

const formats: FormatCase[] = [
  {
    file: 'bearer-and-hmac-with-defaults.yaml',
    trigger: 'shopify-orders',
    body: { order: 'A-1', priority: 'high' },
    headers: (c, body) => ({
      ...JSON_CT,
      Authorization: `Bearer ${c.token}`,
      'X-Agentruntime-Signature': `sha256=${hmacHex(c.signingSecret!, body)}`,
    }),
    expected: { source: 'shopify', priority: 'high', order: 'A-1' },
    status: 202,
  },
  {
    file: 'bearer-and-hmac.yaml',
    trigger: 'pr-review',
    body: { message: 'Server CPU usage exceeded 90%', priority: 'high' },
    headers: (c, body) => ({
      ...JSON_CT,
      Authorization: `Bearer ${c.token}`,
      'X-Webhook-Signature': `sha256=${hmacHex(c.signingSecret!, body)}`,
    }),
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
      {
        ...workflow('unrunnable'),
        spec: {
          jobTemplate: {
            spec: {
              backoffLimit: 0,
              template: {
                spec: {
                  restartPolicy: 'Never',
                  volumes: [{ name: 'scratch', emptyDir: {} }],
                  containers: [
                    {
                      name: 'main',
                      image: 'busybox:1.37',
                      volumeMounts: [{ name: 'scratch', mountPath: '/var/run/hookgate' }],
                    },
                  ],
                },
              },
            },
          },
        },
      },
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
    const { token } = await credentials('paused');
    const answer = await deliver(t.status!.url!, '{}', () => ({
      ...JSON_CT,
      Authorization: `Bearer ${token}`,
    }));
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
      const { token } = await credentials(name);
      const answer = await deliver(t.status!.url!, '{"a":1}', () => ({
        ...JSON_CT,
        Authorization: `Bearer ${token}`,
      }));
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
    const { token } = await credentials('wait-ok');
    const answer = await deliver(t.status!.url!, '{"a":1}', () => ({
      ...JSON_CT,
      Authorization: `Bearer ${token}`,
    }));
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({ accepted: true, result: 'Succeeded', exitCode: 0 });
    const [job] = await jobsOf('wait-ok');
    expect(job!.metadata!.name).toBe(answer.body.run);
    expect(job!.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True')).toBe(true);
  });

  it('answers 200 with result Failed, the exit code and the termination message of a failed run', async () => {
    const t = await ready('wait-fail');
    const { token } = await credentials('wait-fail');
    const answer = await deliver(t.status!.url!, '{}', () => ({
      ...JSON_CT,
      Authorization: `Bearer ${token}`,
    }));
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
    const extra = new KubeConfig();
    extra.loadFromFile(api.kubeconfigPath);
    const server = extra.getCurrentCluster()!.server;
    const saPath = await serviceAccountKubeconfig(system, 'hookgate-ingress');
    const sa = new KubeConfig();
    sa.loadFromFile(saPath);
    sa.loadFromOptions({
      clusters: sa.clusters.map((c) => ({ ...c, server })),
      users: sa.users,
      contexts: sa.contexts,
      currentContext: sa.currentContext,
    });
    const kubeconfig = `${saPath}.extra`;
    await writeFile(kubeconfig, sa.exportConfig());
    const [port, metricsPort] = await freePorts(2);
    ingress = spawnLogged(clusterInfo().dir, `ingress-offline-${port}`, process.execPath, [
      '--import',
      'tsx',
      join(ROOT, 'ingress/server.ts'),
      `--kubeconfig=${kubeconfig}`,
      `--namespace=${system}`,
      '--address=127.0.0.1',
      `--port=${port}`,
      `--metrics-port=${metricsPort}`,
    ]);
    const base = `http://127.0.0.1:${port}`;
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

    const r = await kubectl([
      'annotate',
      '-n',
      app.name,
      'webhooktrigger',
      'rotating',
      `${Annotations.rotate}=now-1`,
    ]);
    expect(r.code, r.stderr).toBe(0);
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
