// The scale benchmark of issue 12 ("Footprint and scale"): `make bench-scale`, or
//   npm run build && npx tsx scripts/bench-scale.ts [--triggers=10000] [--runs=N] [--live-runs=1000]
//     [--concurrency=8] [--profile=DIR]
// On the local control plane (kwok), with operator and ingress as compiled JS (`node dist/...`, as
// the image runs them), in one run:
//   1. direct: a plain client (scripts/bench-scale-direct.ts, under the operator's ServiceAccount)
//      makes the minimum writes N triggers need: the trigger itself, its credentials Secret
//      (generated parts only), its route Secret and its status; in namespaces the operator does not
//      watch, route Secrets where the ingress does not look;
//   2. hookgate: the same N triggers applied at the same concurrency, until every one is Ready and
//      answered by the ingress; route propagation (apply or rotation until the ingress answers with
//      the new state) sampled during the load;
//   3. peak RSS of both components after the triggers, and after R finished runs (default R = N):
//      --live-runs of them accepted by the ingress and completed by the Job controller and kwok (about
//      13 a second on this machine, so not all 10,000 within the time bound), the rest seeded as
//      the same Jobs and input Secrets (lib/run.ts buildRun) marked finished through their status
//      (`spec.managedBy` keeps the Job controller away); the operator publishes every result;
//   4. a fresh operator on the existing triggers: the time until its first full pass, and the API
//      writes it made (kube-apiserver's apiserver_request_total) for triggers that were already right.
// N triggers over 10 namespaces, mixed schemes, half referencing user Secrets. The last lines are for
// scripts (see BENCHMARKS.md). Bounded to 15 minutes; stops everything it started.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { parseArgs } from 'node:util';
import type { KubeConfig, KubernetesObject, V1Secret } from '@kubernetes/client-node';
import {
  Annotations,
  API_VERSION,
  GROUP,
  Labels,
  ROUTE_KEY,
  type Route,
  RouteSchema,
  routePath,
  VERSION,
  WEBHOOK_TRIGGER,
  WebhookTriggerSpec,
  WORKFLOW,
  WorkflowSpec,
} from '../api/v1alpha1/index.ts';
import { Informer } from '../lib/informer.ts';
import { apiPath, JOBS, KubeClient, SECRETS } from '../lib/kube.ts';
import { loadKubeAccess } from '../lib/kubeconfig.ts';
import { createLogger } from '../lib/log.ts';
import { buildRun, finishedAs } from '../lib/run.ts';
import { RELEASE, serviceAccountKubeconfig } from '../test/harness/index.ts';
import {
  type Bench,
  CpuMeter,
  childPids,
  cpuSeconds,
  load,
  peakRssMiB,
  percentile,
  pool,
  request,
  runBench,
  SYSTEM_NS,
  sleep,
  until,
  workflowSpec,
} from './bench-common.ts';
import { writeDirect } from './bench-scale-direct.ts';

const { values: args } = parseArgs({
  options: {
    triggers: { type: 'string', default: '10000' },
    runs: { type: 'string' },
    'live-runs': { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '8' },
    /** A directory for CPU profiles (at exit) and heap snapshots (after the runs) of both components. */
    profile: { type: 'string' },
  },
});
const positive = (name: string, v: string | undefined) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
  return n;
};
const N = positive('triggers', args.triggers);
const NAMESPACES = 10;
const MAX_RUNS = NAMESPACES * 1000; // successfulRunsHistoryLimit is at most 1000 per Workflow
const RUNS = Math.min(positive('runs', args.runs ?? String(N)), MAX_RUNS);
const LIVE_RUNS = Math.min(positive('live-runs', args['live-runs']), RUNS);
const CONCURRENCY = positive('concurrency', args.concurrency);

const DIRECT_ROUTES_NS = 'scale-direct-routes';
const scaleNs = (i: number) => `scale-${i}`;
const directNs = (i: number) => `direct-${i}`;
const SCALE_NAMESPACES = Array.from({ length: NAMESPACES }, (_, i) => scaleNs(i));
const WORKFLOW_NAME = 'run';
/** Bearer only (undefined), then every signature scheme; odd triggers reference a user Secret. */
const SCHEMES = [
  undefined,
  'hmac-sha256',
  'github',
  'stripe',
  'standard-webhooks',
  'slack',
  'timestamped',
  'shared-secret',
] as const;
/** Referencing triggers share a user Secret ten at a time. */
const TRIGGERS_PER_USER_SECRET = 10;
const DEADLINE_MS = 15 * 60_000;
const PROPAGATION_SAMPLES = 40;
const ROTATION_SAMPLES = 10;
const POLL_MS = 100;
const SAMPLE_TIMEOUT_MS = 120_000;
const SEEDED_BY = 'bench.hookgate.io/seeded';
const runInput = (i: number) => ({ i, ref: 'refs/heads/main', repository: 'example/hookgate' });
const GOALS = { ratio: 1.3, propagationMs: 3000, operatorMiB: 150, ingressMiB: 100 };

const quiet = createLogger('bench-scale', 'error');

// --- the triggers --------------------------------------------------------------------------------

/** Trigger j: the k-th of namespace j mod 10. */
const place = (j: number) => ({
  ns: j % NAMESPACES,
  k: Math.floor(j / NAMESPACES),
  name: `t-${Math.floor(j / NAMESPACES)}`,
});
const perNamespace = (ns: number) => Math.floor(N / NAMESPACES) + (ns < N % NAMESPACES ? 1 : 0);
const userSecretName = (k: number) => `user-${Math.floor(k / (2 * TRIGGERS_PER_USER_SECRET))}`;
/** The generated-bearer triggers other than t-0 (which carries the runs): rotation candidates. */
const rotatable = (k: number) => k > 0 && k % (2 * SCHEMES.length) === 0;

function triggerSpec(k: number) {
  const scheme = SCHEMES[Math.floor(k / 2) % SCHEMES.length];
  const ref = k % 2 === 1 ? userSecretName(k) : undefined;
  const auth =
    scheme === undefined
      ? { bearer: ref ? { secretRef: { name: ref, key: 'token' } } : {} }
      : { signature: { scheme, ...(ref ? { secretRef: { name: ref, key: 'signingSecret' } } : {}) } };
  // t-0 of each namespace carries the runs: its limit must not be what is measured.
  return {
    workflowRef: { name: WORKFLOW_NAME },
    auth,
    ...(k === 0 ? { rateLimit: { requests: 1_000_000 } } : {}),
  };
}

const newTrigger = (name: string, k: number) => ({
  apiVersion: API_VERSION,
  kind: WEBHOOK_TRIGGER.kind,
  metadata: { name },
  spec: triggerSpec(k),
});

const USER_SECRET = {
  token: `hgt_${randomBytes(32).toString('base64url')}`,
  signingSecret: `whsec_${randomBytes(32).toString('base64')}`,
};

const WORKFLOW_SPEC = {
  ...workflowSpec(['true']),
  successfulRunsHistoryLimit: 1000,
  failedRunsHistoryLimit: 1000,
};

// --- small helpers -------------------------------------------------------------------------------

type Obj = KubernetesObject & {
  spec?: unknown;
  status?: { conditions?: { type: string; status: string }[]; credentialsSecret?: string };
};

const isReady = (o: Obj) => o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/** Client addresses for requests to the ingress: rate limits count per (trigger, client address). */
let addr = 0;
const clientAddress = () => `127.0.0.${2 + (addr++ % 250)}`;

const triggersPath = (namespace: string, name?: string) =>
  apiPath({ group: GROUP, version: VERSION, plural: WEBHOOK_TRIGGER.plural, namespace, name });
const secretPath = (namespace: string, name?: string) => apiPath({ ...SECRETS, namespace, name });
const json = { 'content-type': 'application/json' };

/** Text from the API server (metrics), as the admin. */
async function apiText(kc: KubeConfig, path: string): Promise<string> {
  const opts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const url = new URL(kc.getCurrentCluster()!.server + path);
  return new Promise((done, fail) => {
    https
      .get(url, opts, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () =>
          res.statusCode === 200 ? done(text) : fail(new Error(`${path}: ${res.statusCode}`)),
        );
      })
      .on('error', fail);
  });
}

const WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'APPLY', 'DELETE']);
/** What a trigger or a run costs; the control plane's own upkeep (leases, nodes) is left out. */
const COUNTED = new Set(['webhooktriggers', 'workflows', 'secrets', 'jobs', 'events', 'pods']);

/** kube-apiserver's write counters by resource[/subresource]. */
async function apiWrites(kc: KubeConfig): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await apiText(kc, '/metrics')).split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!WRITE_VERBS.has(labels.verb ?? '') || !COUNTED.has(labels.resource ?? '')) continue;
    const key = labels.subresource ? `${labels.resource}/${labels.subresource}` : labels.resource!;
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

const diff = (a: Map<string, number>, b: Map<string, number>) =>
  new Map([...b].map(([k, v]) => [k, v - (a.get(k) ?? 0)] as const).filter(([, v]) => v > 0));
const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const show = (m: Map<string, number>) => [...m].map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
const addTo = (sum: Map<string, number>, m: Map<string, number>) => {
  for (const [k, v] of m) sum.set(k, (sum.get(k) ?? 0) + v);
};

/** The operator's reconcile totals and queue depths from its /metrics. */
async function operatorProgress(metricsUrl: string) {
  const text = await (await fetch(metricsUrl)).text();
  const sum = (re: RegExp) => [...text.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
  return {
    triggers: sum(/^hookgate_reconcile_total\{controller="webhooktrigger",[^}]*\} (\S+)$/gm),
    workflows: sum(/^hookgate_reconcile_total\{controller="workflow",[^}]*\} (\S+)$/gm),
    depth: sum(/^hookgate_workqueue_depth\{[^}]*\} (\S+)$/gm),
  };
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const decode = (v: string | undefined) => Buffer.from(v ?? '', 'base64').toString('utf8');

// --- what every phase uses -----------------------------------------------------------------------

/** What reading hookgate's objects and asking the ingress need. */
interface Client {
  b: Bench;
  admin: KubeClient;
  agent: http.Agent;
}

interface Scale extends Client {
  adminKc: KubeConfig;
  /** The direct client: the operator's ServiceAccount. */
  direct: KubeClient;
  pids: { operator(): number; ingress: number };
  workflowUids: string[];
  userSecrets: number;
  meters: { direct: CpuMeter; hookgate: CpuMeter };
  prop: Propagation;
  log(line: string): void;
}

/** What the ingress answers for a trigger: anything but 404 means it has the route. */
async function probe(
  s: Client,
  ns: number,
  name: string,
  headers: Record<string, string> = json,
  body = '{}',
): Promise<number> {
  const url = new URL(routePath(scaleNs(ns), name), s.b.hg.url);
  return (await request(s.agent, url, headers, body, clientAddress())).status;
}

/** The name of a trigger's credentials Secret, found as a user finds it: in its status. */
async function credentialsName(s: Client, namespace: string, name: string): Promise<string> {
  const trigger = await s.admin.request<Obj>({ method: 'GET', path: triggersPath(namespace, name) });
  const secret = trigger.status?.credentialsSecret;
  if (!secret) throw new Error(`${namespace}/${name} has no credentials Secret in its status`);
  return secret;
}

/** A key of a Secret, decoded. */
async function secretValue(s: Client, namespace: string, name: string, key: string): Promise<string> {
  const secret = await s.admin.request<V1Secret>({ method: 'GET', path: secretPath(namespace, name) });
  return decode(secret.data?.[key]);
}

/** The route Secret the operator published for a trigger, by its labels. */
async function routeSecretOf(s: Client, namespace: string, name: string): Promise<V1Secret> {
  const list = await s.admin.request<{ items: V1Secret[] }>({
    method: 'GET',
    path: secretPath(SYSTEM_NS),
    query: { labelSelector: `${Labels.trigger}=${name},${Labels.triggerNamespace}=${namespace}` },
  });
  if (!list.items[0]) throw new Error(`no route Secret for ${namespace}/${name}`);
  return list.items[0];
}

// --- set-up --------------------------------------------------------------------------------------

/** Namespaces, user Secrets (both sides), and a Ready Workflow per hookgate namespace. */
async function setUp(b: Bench): Promise<Scale> {
  const t0 = Date.now();
  const adminKc = b.cp.kubeConfig();
  const admin = new KubeClient(adminKc, 30_000);
  const operatorKc = await loadKubeAccess(
    await serviceAccountKubeconfig(b.cp, SYSTEM_NS, `${RELEASE}-operator`),
  );
  const post = (path: string, body: object) => admin.request({ method: 'POST', path, body });
  const namespaces = [...SCALE_NAMESPACES, ...Array.from({ length: NAMESPACES }, (_, i) => directNs(i))];
  for (const name of [...namespaces, DIRECT_ROUTES_NS])
    await post('/api/v1/namespaces', { metadata: { name } });
  const userSecrets: [string, string][] = [];
  for (let ns = 0; ns < NAMESPACES; ns++)
    for (let k = 1; k < perNamespace(ns); k += 2 * TRIGGERS_PER_USER_SECRET)
      for (const namespace of [scaleNs(ns), directNs(ns)]) userSecrets.push([namespace, userSecretName(k)]);
  await pool(userSecrets.length, CONCURRENCY, async (i) => {
    const [namespace, name] = userSecrets[i]!;
    await post(secretPath(namespace), { metadata: { name }, stringData: USER_SECRET });
  });
  const workflows = (namespace: string) =>
    apiPath({ group: GROUP, version: VERSION, plural: WORKFLOW.plural, namespace });
  const workflowUids: string[] = [];
  for (const namespace of SCALE_NAMESPACES) {
    const body = {
      apiVersion: API_VERSION,
      kind: WORKFLOW.kind,
      metadata: { name: WORKFLOW_NAME },
      spec: WORKFLOW_SPEC,
    };
    workflowUids.push(
      (await admin.request<Obj>({ method: 'POST', path: workflows(namespace), body })).metadata!.uid!,
    );
  }
  await until('the Workflows Ready', 120_000, async () => {
    for (const namespace of SCALE_NAMESPACES) {
      const path = `${workflows(namespace)}/${WORKFLOW_NAME}`;
      if (!isReady(await admin.request<Obj>({ method: 'GET', path }))) return undefined;
    }
    return true;
  });
  b.log(
    `set up in ${fmt(Date.now() - t0)}: ${N} triggers, ${RUNS} runs, concurrency ${CONCURRENCY}, ${userSecrets.length} user Secrets`,
  );
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  b.onStop(() => agent.destroy());
  const client = { b, admin, agent };
  return {
    ...client,
    adminKc,
    direct: new KubeClient(operatorKc),
    pids: { operator: () => b.hg.operator.proc.child.pid!, ingress: b.hg.ingress.proc.child.pid! },
    workflowUids,
    userSecrets: userSecrets.length,
    meters: { direct: new CpuMeter(childPids()), hookgate: new CpuMeter(childPids()) },
    prop: new Propagation(client),
    log: b.log,
  };
}

// --- 1. the direct client ------------------------------------------------------------------------

interface Direct {
  ms: number;
  writes: Map<string, number>;
}

/**
 * The minimum writes of triggers from..to-1, as the operator would make them. In two halves, before
 * and after hookgate's triggers: the API server's cost per write grows with what it holds (its watch
 * cache, etcd), and a direct phase run wholly first would be measured on an emptier server.
 */
async function directHalf(s: Scale, from: number, to: number, sum: Direct): Promise<void> {
  const before = await apiWrites(s.adminKc);
  const start = performance.now();
  const stop = s.meters.direct.start();
  const workflow = { name: WORKFLOW_NAME, spec: WorkflowSpec.parse(WORKFLOW_SPEC) };
  await pool(to - from, CONCURRENCY, async (i) => {
    const { ns, k, name } = place(from + i);
    const namespace = directNs(ns);
    const created = await s.admin.request<Obj>({
      method: 'POST',
      path: triggersPath(namespace),
      body: newTrigger(name, k),
    });
    const trigger = {
      namespace,
      name,
      uid: created.metadata!.uid!,
      spec: WebhookTriggerSpec.parse(created.spec),
      referenced: k % 2 === 1 ? USER_SECRET : {},
      workflow: { ...workflow, uid: s.workflowUids[ns]! },
    };
    const url = new URL(routePath(namespace, name), s.b.hg.url).href;
    await writeDirect(s.direct, trigger, url, DIRECT_ROUTES_NS);
  });
  stop();
  sum.ms += performance.now() - start;
  addTo(sum.writes, diff(before, await apiWrites(s.adminKc)));
  s.log(`direct: triggers ${from}–${to - 1} written in ${fmt(performance.now() - start)}`);
}

// --- route propagation ---------------------------------------------------------------------------

/** Samples how long a change takes to reach the ingress (apply or rotation until it answers anew). */
class Propagation {
  readonly samples: { kind: 'apply' | 'rotation'; ms: number }[] = [];
  failed = 0;
  private readonly pending: Promise<void>[] = [];

  constructor(private readonly s: Client) {}

  /** Polls until `done` says the ingress shows the new state; records the time since `since`. */
  sample(kind: 'apply' | 'rotation', since: number, done: () => Promise<boolean>): void {
    const poll = async () => {
      while (performance.now() - since < SAMPLE_TIMEOUT_MS) {
        if (await done().catch(() => false)) {
          this.samples.push({ kind, ms: performance.now() - since });
          return;
        }
        await sleep(POLL_MS);
      }
      this.failed++;
    };
    this.pending.push(poll());
  }

  /** Rotates a trigger's credentials; done when the new token authenticates (a bad body then answers 400, not 401). */
  async rotate(ns: number, name: string, i: number): Promise<void> {
    const namespace = scaleNs(ns);
    const secret = await credentialsName(this.s, namespace, name);
    const old = await secretValue(this.s, namespace, secret, 'token');
    const since = performance.now();
    await this.s.admin.request({
      method: 'PATCH',
      path: triggersPath(namespace, name),
      contentType: 'application/merge-patch+json',
      body: { metadata: { annotations: { [Annotations.rotate]: `bench-${i}` } } },
    });
    let token: string | undefined;
    this.sample('rotation', since, async () => {
      if (!token) {
        const current = await secretValue(this.s, namespace, secret, 'token');
        if (current === old) return false;
        token = current;
      }
      return (
        (await probe(this.s, ns, name, { ...json, authorization: `Bearer ${token}` }, 'not json')) === 400
      );
    });
  }

  async done(): Promise<void> {
    await Promise.all(this.pending);
  }

  count(kind: string): number {
    return this.samples.filter((x) => x.kind === kind).length;
  }
}

// --- 2. hookgate: the same triggers applied ------------------------------------------------------

interface Applied {
  appliedMs: number;
  readyMs: number;
  servedMs: number;
  writes: Map<string, number>;
  rss: { operator: number; ingress: number };
  cpu: { operator: number; ingress: number };
}

/** Watches the triggers of hookgate's namespaces: how many are Ready. */
async function readyCount(s: Scale): Promise<() => number> {
  const ready = new Set<string>();
  const informer = new Informer<Obj>(
    s.adminKc,
    { group: GROUP, version: VERSION, plural: WEBHOOK_TRIGGER.plural },
    SCALE_NAMESPACES,
    quiet,
  );
  s.b.onStop(() => informer.stop());
  const track = (o: Obj) => {
    const key = `${o.metadata?.namespace}/${o.metadata?.name}`;
    if (isReady(o)) ready.add(key);
    else ready.delete(key);
  };
  informer.addEventHandler({ add: track, update: (_, o) => track(o), delete: () => {} });
  informer.start();
  await informer.waitForSync();
  return () => ready.size;
}

/** Until every trigger's URL answers something other than 404; the answers by status. */
async function untilServed(s: Scale, since: number): Promise<Map<number, number>> {
  let unanswered = Array.from({ length: N }, (_, j) => j);
  const statuses = new Map<number, number>();
  while (unanswered.length) {
    if (performance.now() - since > 12 * 60_000) throw new Error(`${unanswered.length} triggers not served`);
    const missing: number[] = [];
    await pool(unanswered.length, 16, async (i) => {
      const { ns, name } = place(unanswered[i]!);
      const status = await probe(s, ns, name);
      if (status === 404) missing.push(unanswered[i]!);
      else statuses.set(status, (statuses.get(status) ?? 0) + 1);
    });
    unanswered = missing;
    if (missing.length) await sleep(200);
  }
  return statuses;
}

async function applyTriggers(s: Scale): Promise<Applied> {
  const before = await apiWrites(s.adminKc);
  const ready = await readyCount(s);
  const sampleEvery = Math.max(1, Math.floor(N / PROPAGATION_SAMPLES));
  const start = performance.now();
  const stopCpu = s.meters.hookgate.start();
  await pool(N, CONCURRENCY, async (j) => {
    const { ns, k, name } = place(j);
    const since = performance.now();
    await s.admin.request({ method: 'POST', path: triggersPath(scaleNs(ns)), body: newTrigger(name, k) });
    // New state of an applied trigger: the ingress knows its route (anything but 404).
    if (j % sampleEvery === 0) s.prop.sample('apply', since, async () => (await probe(s, ns, name)) !== 404);
  });
  const appliedMs = performance.now() - start;
  await until('every trigger Ready', 10 * 60_000, async () => (ready() >= N ? true : undefined));
  const readyMs = performance.now() - start;
  const statuses = await untilServed(s, start);
  const servedMs = performance.now() - start;
  stopCpu();
  s.log(
    `hookgate: applied in ${fmt(appliedMs)}, all Ready after ${fmt(readyMs)}, all served after ${fmt(servedMs)} ` +
      `(${[...statuses].map(([st, c]) => `${st}×${c}`).join(' ')})`,
  );
  await sleep(3_000); // the operator's last Events and status writes
  const writes = diff(before, await apiWrites(s.adminKc));
  const rss = { operator: peakRssMiB(s.pids.operator()), ingress: peakRssMiB(s.pids.ingress) };
  // CPU beside RSS: a heap kept small by collecting more often costs CPU.
  const cpu = { operator: cpuSeconds(s.pids.operator()), ingress: cpuSeconds(s.pids.ingress) };
  s.log(
    `peak RSS after ${N} triggers: operator ${rss.operator.toFixed(0)} MiB, ingress ${rss.ingress.toFixed(0)} MiB`,
  );
  return { appliedMs, readyMs, servedMs, writes, rss, cpu };
}

// --- 3. runs: live through the ingress, the rest seeded -----------------------------------------

interface Runs {
  accepted: number;
  seeded: number;
  expected: number;
  perSecond: number;
  runsMs: number;
  liveWrites: Map<string, number>;
  writes: Map<string, number>;
  rss: { operator: number; ingress: number };
  cpu: { operator: number; ingress: number };
  sizes: Record<string, number>;
}

/** The token and the route of t-0 in each namespace: the trigger that carries the runs. */
async function runTriggers(s: Scale): Promise<{ tokens: string[]; routes: Route[] }> {
  const tokens: string[] = [];
  const routes: Route[] = [];
  for (let ns = 0; ns < NAMESPACES; ns++) {
    const namespace = scaleNs(ns);
    tokens.push(await secretValue(s, namespace, await credentialsName(s, namespace, 't-0'), 'token'));
    const route = await routeSecretOf(s, namespace, 't-0');
    routes.push(RouteSchema.parse(JSON.parse(decode(route.data?.[ROUTE_KEY]))));
  }
  return { tokens, routes };
}

/** Rotations sampled while the runs load the machine, one every two seconds. */
async function rotations(s: Scale): Promise<void> {
  let i = 0;
  for (let j = 0; j < N && i < ROTATION_SAMPLES; j++) {
    const p = place(j);
    if (!rotatable(p.k)) continue;
    await s.prop.rotate(p.ns, p.name, i++);
    await sleep(2_000);
  }
}

/** The runs' Jobs, and a wait until `count` have finished with their results published. */
async function runJobs(s: Scale, since: number) {
  const jobs = new Informer<Obj>(
    s.adminKc,
    { ...JOBS, labelSelector: Labels.workflow },
    SCALE_NAMESPACES,
    quiet,
  );
  s.b.onStop(() => jobs.stop());
  jobs.start();
  await jobs.waitForSync();
  const finished = () => {
    let done = 0;
    let published = 0;
    for (const j of jobs.list()) {
      if (!finishedAs(j as never)) continue;
      done++;
      if (j.metadata?.annotations?.[Annotations.result]) published++;
    }
    return { done, published };
  };
  let lastReport = 0;
  const allFinished = (count: number) =>
    until(`${count} runs finished with their results published`, 8 * 60_000, async () => {
      const f = finished();
      if (Date.now() - lastReport > 15_000) {
        lastReport = Date.now();
        s.log(`runs: ${f.done} finished, ${f.published} published (${fmt(performance.now() - since)})`);
      }
      return f.done >= count && f.published >= count ? f : undefined;
    });
  return { jobs, allFinished };
}

/** Finished runs written as the ingress would have (the same Job and input Secret), finished through their status. */
async function seedRuns(s: Scale, routes: Route[], runId: string, count: number): Promise<void> {
  const start = performance.now();
  // Not measured: twice the concurrency, to stay within the time bound.
  await pool(count, 2 * CONCURRENCY, async (i) => {
    const ns = i % NAMESPACES;
    const run = buildRun({ route: routes[ns]!, deliveryId: `${runId}-seed-${i}`, input: runInput(i) });
    const job = { ...run.job, spec: { ...run.job.spec!, managedBy: SEEDED_BY } };
    const jobsPath = apiPath({ ...JOBS, namespace: scaleNs(ns) });
    const created = await s.admin.request<Obj>({ method: 'POST', path: jobsPath, body: job });
    const secret = run.inputSecret(created.metadata!.uid!);
    await s.admin.request({ method: 'POST', path: secretPath(scaleNs(ns)), body: secret });
    const now = new Date().toISOString();
    const complete = (type: string) => ({
      type,
      status: 'True',
      lastTransitionTime: now,
      lastProbeTime: now,
      reason: 'CompletionsReached',
      message: 'Reached expected number of succeeded pods',
    });
    await s.admin.request({
      method: 'PATCH',
      path: `${jobsPath}/${created.metadata!.name}/status`,
      contentType: 'application/merge-patch+json',
      body: {
        status: {
          ...{ startTime: now, completionTime: now, succeeded: 1 },
          conditions: [complete('SuccessCriteriaMet'), complete('Complete')],
        },
      },
    });
  });
  if (count)
    s.log(
      `seeded runs: ${count} finished Jobs and input Secrets written in ${fmt(performance.now() - start)}`,
    );
}

async function runs(s: Scale): Promise<Runs> {
  const before = await apiWrites(s.adminKc);
  const { tokens, routes } = await runTriggers(s);
  const runAgent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const runId = randomBytes(4).toString('hex');
  const start = performance.now();
  const rotating = rotations(s);
  const live = await load(CONCURRENCY, LIVE_RUNS, 10 * 60_000, async (i) => {
    const ns = i % NAMESPACES;
    const headers = { ...json, authorization: `Bearer ${tokens[ns]}`, 'idempotency-key': `${runId}-${i}` };
    const url = new URL(routePath(scaleNs(ns), 't-0'), s.b.hg.url);
    return (await request(runAgent, url, headers, JSON.stringify(runInput(i)))).status;
  });
  runAgent.destroy();
  const accepted = live.statuses.get(202) ?? 0;
  s.log(
    `live runs: ${accepted} accepted in ${fmt(live.elapsedMs)} (${[...live.statuses].map(([st, c]) => `${st}×${c}`).join(' ')})`,
  );
  const { jobs, allFinished } = await runJobs(s, start);
  // What a delivery costs the API server, the Job controller, the scheduler and kwok included.
  await allFinished(accepted);
  const liveWrites = diff(before, await apiWrites(s.adminKc));
  const seeded = RUNS - LIVE_RUNS;
  await seedRuns(s, routes, runId, seeded);
  const expected = accepted + seeded;
  await allFinished(expected);
  const runsMs = performance.now() - start;
  await rotating;
  await s.prop.done();
  // Let the operator and the ingress settle (queues drained, the ingress's last-used flush done).
  await until('the operator idle', 120_000, async () =>
    (await operatorProgress(s.b.hg.operatorMetricsUrl)).depth === 0 ? true : undefined,
  );
  await sleep(12_000);
  const rss = { operator: peakRssMiB(s.pids.operator()), ingress: peakRssMiB(s.pids.ingress) };
  const cpu = { operator: cpuSeconds(s.pids.operator()), ingress: cpuSeconds(s.pids.ingress) };
  const writes = diff(before, await apiWrites(s.adminKc));
  const sizes = await objectSizes(s, jobs.list());
  if (args.profile) {
    for (const pid of [s.pids.operator(), s.pids.ingress]) process.kill(pid, 'SIGUSR2');
    await sleep(20_000); // a snapshot stops the process while it is written
  }
  s.log(`${expected} runs finished and published ${fmt(runsMs)} after the first delivery`);
  const perSecond = accepted / (live.elapsedMs / 1000);
  return { accepted, seeded, expected, perSecond, runsMs, liveWrites, writes, rss, cpu, sizes };
}

/** Object sizes as JSON from the API server (managedFields left out: etcd keeps them, the caches do not). */
async function objectSizes(s: Scale, jobs: Obj[]): Promise<Record<string, number>> {
  const sizeOf = async (path: string) => {
    const o = await s.admin.request<Obj>({ method: 'GET', path });
    delete o.metadata?.managedFields;
    return JSON.stringify(o).length;
  };
  const liveJob = jobs.find(
    (j) => !j.metadata?.labels?.[Labels.delivery]?.startsWith('x') && j.metadata?.name,
  );
  const jobName = liveJob?.metadata?.name ?? '';
  const ns0 = liveJob?.metadata?.namespace ?? scaleNs(0);
  const route = await routeSecretOf(s, scaleNs(0), 't-0');
  return {
    trigger: await sizeOf(triggersPath(scaleNs(0), 't-0')),
    'credentials Secret': await sizeOf(secretPath(scaleNs(0), await credentialsName(s, scaleNs(0), 't-0'))),
    'route Secret': await sizeOf(secretPath(SYSTEM_NS, route.metadata!.name)),
    Job: await sizeOf(apiPath({ ...JOBS, namespace: ns0, name: jobName })),
    'input Secret': await sizeOf(secretPath(ns0, `${jobName}-input`)),
  };
}

// --- 4. a fresh operator on the existing triggers and runs ---------------------------------------

interface Cold {
  ms: number;
  triggers: number;
  writes: Map<string, number>;
  rss: number;
  cpu: number;
}

/**
 * The ingress (its last lastTriggeredTime flush) and the old operator (reconciles it finishes while
 * stopping) stop before the count, so only the fresh operator's writes count.
 */
async function coldStart(s: Scale): Promise<Cold> {
  const { hg } = s.b;
  await hg.ingress.stop();
  await hg.operator.stop();
  const before = await apiWrites(s.adminKc);
  const start = performance.now();
  await hg.startOperator();
  const pass = await until('the fresh operator to finish its first pass', 5 * 60_000, async () => {
    const p = await operatorProgress(hg.operatorMetricsUrl);
    return p.triggers >= N && p.workflows >= NAMESPACES && p.depth === 0 ? p : undefined;
  });
  const ms = performance.now() - start;
  await sleep(3_000); // writes of reconciles the pass started are counted too
  const writes = diff(before, await apiWrites(s.adminKc));
  const cold = {
    ms,
    triggers: pass.triggers,
    writes,
    rss: peakRssMiB(s.pids.operator()),
    cpu: cpuSeconds(s.pids.operator()),
  };
  s.log(
    `cold start: ${pass.triggers} trigger and ${pass.workflows} workflow reconciles in ${fmt(ms)}; ` +
      `API writes meanwhile: ${show(writes)}; fresh operator peak RSS ${cold.rss.toFixed(0)} MiB`,
  );
  return cold;
}

// --- the report (the last lines are for scripts) -------------------------------------------------

interface Report {
  s: Scale;
  direct: Direct;
  applied: Applied;
  runs: Runs;
  cold: Cold;
}

function printFigures({ s, direct, applied, runs: r, cold }: Report): void {
  console.log(`hookgate scale benchmark — ${new Date().toISOString()}`);
  console.log(
    `${N} WebhookTriggers over ${NAMESPACES} namespaces (${SCHEMES.length} auth kinds, half referencing ${s.userSecrets / 2} user Secrets), ` +
      `${r.expected} finished runs, concurrency ${CONCURRENCY}; operator and ingress as compiled JS`,
  );
  console.log(`direct writes (trigger, credentials Secret, route Secret, status): ${fmt(direct.ms)}`);
  console.log(
    `hookgate: applied ${fmt(applied.appliedMs)}, all Ready ${fmt(applied.readyMs)}, all answered by the ingress ${fmt(applied.servedMs)}`,
  );
  const perTrigger = (m: Map<string, number>) => `${(total(m) / N).toFixed(2)} (${show(m)})`;
  console.log(`API writes per trigger: direct ${perTrigger(direct.writes)}`);
  console.log(`                        hookgate ${perTrigger(applied.writes)}`);
  console.log(s.meters.direct.line(N, 'trigger, direct', 0).trim());
  console.log(s.meters.hookgate.line(N, 'trigger, hookgate', 0).trim());
  const perRun = (m: Map<string, number>, n: number) =>
    `${(total(m) / n).toFixed(2)} (${[...m].map(([k, v]) => `${k} ${(v / n).toFixed(2)}`).join(', ')})`;
  console.log(
    `runs: ${r.accepted} live (${r.perSecond.toFixed(1)}/s accepted), ${r.seeded} seeded (finished through their status)`,
  );
  console.log(
    `API writes per live run (everyone's, to finished and published): ${perRun(r.liveWrites, r.accepted)}`,
  );
  console.log(`API writes per run, all runs: ${perRun(r.writes, r.expected)}`);
  console.log(
    `object sizes (JSON bytes, without managedFields): ${Object.entries(r.sizes)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  const sorted = s.prop.samples.map((x) => x.ms).sort((a, b) => a - b);
  console.log(
    `route propagation: ${s.prop.count('apply')} applies and ${s.prop.count('rotation')} rotations sampled (${s.prop.failed} timed out), ` +
      `p50 ${percentile(sorted, 50).toFixed(0)} ms, max ${(sorted.at(-1) ?? NaN).toFixed(0)} ms`,
  );
  console.log(
    `peak RSS after the triggers: operator ${applied.rss.operator.toFixed(1)} MiB, ingress ${applied.rss.ingress.toFixed(1)} MiB; ` +
      `after ${r.expected} finished runs: operator ${r.rss.operator.toFixed(1)} MiB, ingress ${r.rss.ingress.toFixed(1)} MiB`,
  );
  console.log(
    `CPU s (user+system) of the triggers: operator ${applied.cpu.operator.toFixed(1)}, ingress ${applied.cpu.ingress.toFixed(1)}; ` +
      `of the runs: operator ${(r.cpu.operator - applied.cpu.operator).toFixed(1)}, ingress ${(r.cpu.ingress - applied.cpu.ingress).toFixed(1)}`,
  );
  console.log(
    `cold start: ${cold.triggers} trigger reconciles; API writes during the pass: ${total(cold.writes)} (${show(cold.writes)}); ` +
      `fresh operator peak RSS ${cold.rss.toFixed(1)} MiB, CPU ${cold.cpu.toFixed(1)} s`,
  );
}

function printGoals({ s, direct, applied, runs: r, cold }: Report): void {
  const mark = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const ratio = applied.servedMs / direct.ms;
  const p99 = percentile(
    s.prop.samples.map((x) => x.ms).sort((a, b) => a - b),
    99,
  );
  console.log(
    `triggers ready/direct ratio: ${ratio.toFixed(2)} (goal ≤ ${GOALS.ratio}: ${mark(ratio <= GOALS.ratio)})`,
  );
  console.log(
    `route propagation p99 ms: ${p99.toFixed(0)} (goal ≤ ${GOALS.propagationMs}: ${mark(p99 <= GOALS.propagationMs && s.prop.failed === 0)})`,
  );
  console.log(
    `operator RSS MiB: ${r.rss.operator.toFixed(0)} (goal ≤ ${GOALS.operatorMiB}: ${mark(r.rss.operator <= GOALS.operatorMiB)})`,
  );
  console.log(
    `ingress RSS MiB: ${r.rss.ingress.toFixed(0)} (goal ≤ ${GOALS.ingressMiB}: ${mark(r.rss.ingress <= GOALS.ingressMiB)})`,
  );
  console.log(
    `operator cold start s: ${(cold.ms / 1000).toFixed(1)} (goal: no writes for triggers already right: ${mark(total(cold.writes) === 0)}, ${total(cold.writes)} writes)`,
  );
}

// --- main ----------------------------------------------------------------------------------------

await runBench(
  {
    name: 'bench-scale',
    controlPlane: { apiQps: 500 },
    // The direct client's namespaces are not the operator's.
    operatorArgs: [`--namespaces=${SCALE_NAMESPACES.join(',')}`],
    // The probes are unverified requests from a few addresses: the flood guard must not answer them.
    ingressArgs: ['--flood-limit=1000000', '--flood-period=1s'],
    profile: args.profile,
    deadlineMs: DEADLINE_MS,
  },
  async (b) => {
    const s = await setUp(b);
    const direct: Direct = { ms: 0, writes: new Map() };
    await directHalf(s, 0, Math.floor(N / 2), direct);
    const applied = await applyTriggers(s);
    await directHalf(s, Math.floor(N / 2), N, direct);
    const report = { s, direct, applied, runs: await runs(s), cold: await coldStart(s) };
    printFigures(report);
    printGoals(report);
  },
);
