// The scale benchmark of issue 12 ("Footprint and scale"): `make bench-scale`, or
//   npm run build && npx tsx scripts/bench-scale.ts [--triggers=10000] [--runs=N] [--live-runs=1000]
//     [--concurrency=8] [--profile=DIR]
// On the local control plane (kwok), with operator and ingress as compiled JS (`node dist/...`, as
// the image runs them), in one run:
//   1. direct: a plain client (the operator's own API client and write calls, under the operator's
//      ServiceAccount) makes the minimum writes N triggers need: the trigger itself, its credentials
//      Secret (generated parts only), its route Secret and its status; in namespaces the operator
//      does not watch, route Secrets where the ingress does not look;
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
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import {
  Annotations,
  API_VERSION,
  ConditionType,
  GROUP,
  Labels,
  Reason,
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
import { apiPath, KubeClient } from '../lib/kube.ts';
import { loadKubeAccess } from '../lib/kubeconfig.ts';
import { createLogger } from '../lib/log.ts';
import { buildRun, finishedAs } from '../lib/run.ts';
import { findCondition, summarize } from '../operator/controllers/conditions.ts';
import { triggerApi } from '../operator/controllers/webhooktrigger/apply.ts';
import {
  credentialStatus,
  credentialsSecret,
  credentialsSecretName,
  desiredRoute,
  generatedParts,
  planCredentials,
  ROTATED_FOR,
  resolveCredentials,
  routeSecret,
  routeSecretName,
  triggerURL,
} from '../operator/controllers/webhooktrigger/desired.ts';
import { cryptoGenerators } from '../operator/controllers/webhooktrigger/generate.ts';
import {
  type ControlPlane,
  chartRunNamespaceLabels,
  installCrds,
  RELEASE,
  serviceAccountKubeconfig,
  startControlPlane,
  startHookgate,
} from '../test/harness/index.ts';
import {
  CpuMeter,
  childPids,
  cpuSeconds,
  load,
  peakRssMiB,
  percentile,
  request,
  sleep,
  until,
} from './bench-common.ts';

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

const SYSTEM_NS = 'hookgate-system';
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

const log = (line: string) => process.stderr.write(`[bench-scale] ${line}\n`);
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

const USER_SECRET = {
  token: `hgt_${randomBytes(32).toString('base64url')}`,
  signingSecret: `whsec_${randomBytes(32).toString('base64')}`,
};

const WORKFLOW_SPEC = {
  jobTemplate: {
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'main', image: 'busybox:1.37', command: ['true'] }],
        },
      },
    },
  },
  successfulRunsHistoryLimit: 1000,
  failedRunsHistoryLimit: 1000,
};

// --- small helpers -------------------------------------------------------------------------------

type Obj = KubernetesObject & {
  spec?: unknown;
  status?: { conditions?: { type: string; status: string }[] };
};

const isReady = (o: Obj) =>
  findCondition(o.status?.conditions as never, ConditionType.Ready)?.status === 'True';

/** Runs `fn` for 0..count-1 on `concurrency` workers; throws the first failure. */
async function pool(count: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

/** Client addresses for requests to the ingress: rate limits count per (trigger, client address). */
let addr = 0;
const clientAddress = () => `127.0.0.${2 + (addr++ % 250)}`;

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

// --- main ----------------------------------------------------------------------------------------

async function main() {
  let cp: ControlPlane | undefined;
  let hg: Awaited<ReturnType<typeof startHookgate>> | undefined;
  const informers: Informer<Obj>[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let stopping: Promise<void> | undefined;
  const cleanup = () => {
    stopping ??= (async () => {
      agent.destroy();
      await Promise.all(informers.map((i) => i.stop()));
      await hg?.stop().catch((err) => log(`stopping hookgate: ${err}`));
      await cp?.stop().catch((err) => log(`stopping the control plane: ${err}`));
    })();
    return stopping;
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      log(`${sig}: stopping`);
      void cleanup().finally(() => process.exit(130));
    });
  const deadline = setTimeout(() => {
    log(`not done after ${DEADLINE_MS / 60_000} minutes: stopping`);
    void cleanup().finally(() => process.exit(1));
  }, DEADLINE_MS);

  try {
    const t0 = Date.now();
    cp = await startControlPlane({ log, apiQps: 500 });
    await installCrds(cp);
    hg = await startHookgate(cp, {
      namespace: SYSTEM_NS,
      compiled: true,
      // The direct client's namespaces are not the operator's.
      operatorArgs: [`--namespaces=${SCALE_NAMESPACES.join(',')}`],
      // The probes are unverified requests from a few addresses: the flood guard must not answer them.
      ingressArgs: ['--flood-limit=1000000', '--flood-period=1s'],
      ...(args.profile
        ? {
            nodeArgs: [
              '--cpu-prof',
              `--cpu-prof-dir=${resolve(args.profile)}`,
              `--diagnostic-dir=${resolve(args.profile)}`,
              '--heapsnapshot-signal=SIGUSR2',
            ],
          }
        : {}),
    });
    const adminKc = cp.kubeConfig();
    const admin = new KubeClient(adminKc, 30_000);
    const operatorKc = await loadKubeAccess(
      await serviceAccountKubeconfig(cp, SYSTEM_NS, `${RELEASE}-operator`),
    );
    const direct = triggerApi(new KubeClient(operatorKc));
    const pids = { operator: () => hg!.operator.proc.child.pid!, ingress: hg.ingress.proc.child.pid! };

    // Namespaces, user Secrets (both sides), and a Ready Workflow per hookgate namespace.
    const post = (path: string, body: object) => admin.request({ method: 'POST', path, body });
    const namespaces = [
      ...SCALE_NAMESPACES,
      ...Array.from({ length: NAMESPACES }, (_, i) => directNs(i)),
      DIRECT_ROUTES_NS,
    ];
    const labels = await chartRunNamespaceLabels();
    for (const name of namespaces) await post('/api/v1/namespaces', { metadata: { name, labels } });
    const userSecrets: [string, string][] = [];
    for (let ns = 0; ns < NAMESPACES; ns++)
      for (let k = 1; k < perNamespace(ns); k += 2 * TRIGGERS_PER_USER_SECRET)
        for (const namespace of [scaleNs(ns), directNs(ns)]) userSecrets.push([namespace, userSecretName(k)]);
    await pool(userSecrets.length, CONCURRENCY, async (i) => {
      const [namespace, name] = userSecrets[i]!;
      await post(apiPath({ group: '', version: 'v1', plural: 'secrets', namespace }), {
        metadata: { name },
        stringData: USER_SECRET,
      });
    });
    const workflowUids: string[] = [];
    for (const namespace of SCALE_NAMESPACES) {
      const wf = await admin.request<Obj>({
        method: 'POST',
        path: apiPath({ group: GROUP, version: VERSION, plural: WORKFLOW.plural, namespace }),
        body: {
          apiVersion: API_VERSION,
          kind: WORKFLOW.kind,
          metadata: { name: WORKFLOW_NAME },
          spec: WORKFLOW_SPEC,
        },
      });
      workflowUids.push(wf.metadata!.uid!);
    }
    await until('the Workflows Ready', 120_000, async () => {
      for (const namespace of SCALE_NAMESPACES) {
        const wf = await admin.request<Obj>({
          method: 'GET',
          path: apiPath({
            group: GROUP,
            version: VERSION,
            plural: WORKFLOW.plural,
            namespace,
            name: WORKFLOW_NAME,
          }),
        });
        if (!isReady(wf)) return undefined;
      }
      return true;
    });
    const workflowSpec = WorkflowSpec.parse(WORKFLOW_SPEC);
    log(
      `set up in ${fmt(Date.now() - t0)}: ${N} triggers, ${RUNS} runs, concurrency ${CONCURRENCY}, ${userSecrets.length} user Secrets`,
    );
    const triggersPath = (namespace: string) =>
      apiPath({ group: GROUP, version: VERSION, plural: WEBHOOK_TRIGGER.plural, namespace });
    const newTrigger = (name: string, k: number) => ({
      apiVersion: API_VERSION,
      kind: WEBHOOK_TRIGGER.kind,
      metadata: { name },
      spec: triggerSpec(k),
    });

    // 1. The direct client: the minimum writes of N triggers, as the operator would make them. In
    // two halves, before and after hookgate's triggers: the API server's cost per write grows with
    // what it holds (its watch cache, etcd), and a direct phase run wholly first would be measured
    // on an emptier server than hookgate's.
    const meters = { direct: new CpuMeter(childPids()), hookgate: new CpuMeter(childPids()) };
    let directMs = 0;
    const directWrites = new Map<string, number>();
    const directHalf = async (from: number, to: number) => {
      const before = await apiWrites(adminKc);
      const start = performance.now();
      const stop = meters.direct.start();
      await pool(to - from, CONCURRENCY, async (i) => {
        const j = from + i;
        const { ns, k, name } = place(j);
        const namespace = directNs(ns);
        const created = await admin.request<Obj>({
          method: 'POST',
          path: triggersPath(namespace),
          body: newTrigger(name, k),
        });
        const now = new Date();
        const spec = WebhookTriggerSpec.parse(created.spec);
        const parts = generatedParts(spec);
        const owner = { namespace, name, uid: created.metadata!.uid! };
        const plan = planCredentials({
          parts,
          existing: undefined,
          rotate: undefined,
          graceMs: 0,
          now,
          generate: cryptoGenerators,
        });
        if (plan) await direct.createSecret(credentialsSecret(owner, plan));
        const resolved = resolveCredentials(parts, plan?.data, k % 2 === 1 ? USER_SECRET : {});
        const trigger = { ...owner, generation: 1, spec };
        const workflow = { name: WORKFLOW_NAME, uid: workflowUids[ns]!, spec: workflowSpec };
        await direct.applySecret(
          routeSecret(desiredRoute({ trigger, workflow, credentials: resolved }), DIRECT_ROUTES_NS),
        );
        const url = triggerURL(hg!.url, namespace, name);
        await direct.applyStatus(owner, {
          observedGeneration: 1,
          conditions: summarize(
            undefined,
            { ready: true, reason: Reason.Succeeded, message: `Serving ${url}` },
            1,
            now,
          ),
          url,
          path: routePath(namespace, name),
          ...credentialStatus(name, parts, plan, resolved, spec),
        });
      });
      stop();
      directMs += performance.now() - start;
      const writes = diff(before, await apiWrites(adminKc));
      for (const [k, v] of writes) directWrites.set(k, (directWrites.get(k) ?? 0) + v);
      log(`direct: triggers ${from}–${to - 1} written in ${fmt(performance.now() - start)}`);
    };
    await directHalf(0, Math.floor(N / 2));
    const beforeTriggers = await apiWrites(adminKc);

    // 2. hookgate: apply the same triggers; Ready and answered by the ingress.
    const ready = new Set<string>();
    const triggerInformer = new Informer<Obj>(
      adminKc,
      { group: GROUP, version: VERSION, plural: WEBHOOK_TRIGGER.plural },
      SCALE_NAMESPACES,
      quiet,
    );
    informers.push(triggerInformer);
    const track = (o: Obj) => {
      const key = `${o.metadata?.namespace}/${o.metadata?.name}`;
      if (isReady(o)) ready.add(key);
      else ready.delete(key);
    };
    triggerInformer.addEventHandler({ add: track, update: (_, o) => track(o), delete: () => {} });
    triggerInformer.start();
    await triggerInformer.waitForSync();

    const hookUrl = (ns: number, name: string) => new URL(triggerURL(hg!.url, scaleNs(ns), name));
    const json = { 'content-type': 'application/json' };
    const probe = async (url: URL) => (await request(agent, url, json, '{}', clientAddress())).status;
    const samples: { kind: 'apply' | 'rotation'; ms: number }[] = [];
    let failedSamples = 0;
    const sampling: Promise<void>[] = [];
    /** Polls until `done` says the ingress shows the new state; records the time since `since`. */
    const sample = (kind: 'apply' | 'rotation', since: number, done: () => Promise<boolean>) =>
      sampling.push(
        (async () => {
          while (performance.now() - since < SAMPLE_TIMEOUT_MS) {
            if (await done().catch(() => false)) {
              samples.push({ kind, ms: performance.now() - since });
              return;
            }
            await sleep(POLL_MS);
          }
          failedSamples++;
        })(),
      );
    const rotate = async (ns: number, name: string, i: number) => {
      const namespace = scaleNs(ns);
      const value = `bench-${i}`;
      let token: string | undefined;
      const since = performance.now();
      await admin.request({
        method: 'PATCH',
        path: `${triggersPath(namespace)}/${name}`,
        contentType: 'application/merge-patch+json',
        body: { metadata: { annotations: { [Annotations.rotate]: value } } },
      });
      // New state: the new token authenticates (an invalid body then answers 400, not 401).
      sample('rotation', since, async () => {
        if (!token) {
          const s = await admin.request<{
            metadata: { annotations?: Record<string, string> };
            data: Record<string, string>;
          }>({
            method: 'GET',
            path: apiPath({
              group: '',
              version: 'v1',
              plural: 'secrets',
              namespace,
              name: credentialsSecretName(name),
            }),
          });
          if (s.metadata.annotations?.[ROTATED_FOR] !== value) return false;
          token = Buffer.from(s.data.token!, 'base64').toString('utf8');
        }
        const headers = { ...json, authorization: `Bearer ${token}` };
        return (await request(agent, hookUrl(ns, name), headers, 'not json', clientAddress())).status === 400;
      });
    };

    const sampleEvery = Math.max(1, Math.floor(N / PROPAGATION_SAMPLES));
    const applyStart = performance.now();
    const hookgateCpu = meters.hookgate.start();
    await pool(N, CONCURRENCY, async (j) => {
      const { ns, k, name } = place(j);
      const since = performance.now();
      await admin.request({ method: 'POST', path: triggersPath(scaleNs(ns)), body: newTrigger(name, k) });
      // New state of an applied trigger: the ingress knows its route (anything but 404).
      if (j % sampleEvery === 0) sample('apply', since, async () => (await probe(hookUrl(ns, name))) !== 404);
    });
    const appliedMs = performance.now() - applyStart;
    await until('every trigger Ready', 10 * 60_000, async () => (ready.size >= N ? true : undefined));
    const readyMs = performance.now() - applyStart;
    // Answered by the ingress: every trigger's URL answers something other than 404.
    let unanswered = Array.from({ length: N }, (_, j) => j);
    const statuses = new Map<number, number>();
    while (unanswered.length) {
      if (performance.now() - applyStart > 12 * 60_000)
        throw new Error(`${unanswered.length} triggers not served`);
      const missing: number[] = [];
      await pool(unanswered.length, 16, async (i) => {
        const { ns, name } = place(unanswered[i]!);
        const status = await probe(hookUrl(ns, name));
        if (status === 404) missing.push(unanswered[i]!);
        else statuses.set(status, (statuses.get(status) ?? 0) + 1);
      });
      unanswered = missing;
      if (missing.length) await sleep(200);
    }
    const servedMs = performance.now() - applyStart;
    hookgateCpu();
    log(
      `hookgate: applied in ${fmt(appliedMs)}, all Ready after ${fmt(readyMs)}, all served after ${fmt(servedMs)} ` +
        `(${[...statuses].map(([s, c]) => `${s}×${c}`).join(' ')})`,
    );
    await sleep(3_000); // the operator's last Events and status writes
    const afterTriggers = await apiWrites(adminKc);
    const triggerWrites = diff(beforeTriggers, afterTriggers);
    const rssAfterTriggers = { operator: peakRssMiB(pids.operator()), ingress: peakRssMiB(pids.ingress) };
    // CPU beside RSS: a heap kept small by collecting more often costs CPU.
    const cpuAfterTriggers = { operator: cpuSeconds(pids.operator()), ingress: cpuSeconds(pids.ingress) };
    log(
      `peak RSS after ${N} triggers: operator ${rssAfterTriggers.operator.toFixed(0)} MiB, ingress ${rssAfterTriggers.ingress.toFixed(0)} MiB`,
    );
    await directHalf(Math.floor(N / 2), N);
    const ratio = servedMs / directMs;
    const beforeRuns = await apiWrites(adminKc);

    // 3. R finished runs on t-0 of each namespace: live through the ingress, the rest seeded.
    const tokens: string[] = [];
    const routes: Route[] = [];
    for (let ns = 0; ns < NAMESPACES; ns++) {
      const namespace = scaleNs(ns);
      const s = await admin.request<{ data: Record<string, string> }>({
        method: 'GET',
        path: apiPath({
          group: '',
          version: 'v1',
          plural: 'secrets',
          namespace,
          name: credentialsSecretName('t-0'),
        }),
      });
      tokens.push(Buffer.from(s.data.token!, 'base64').toString('utf8'));
      const r = await admin.request<{ data: Record<string, string> }>({
        method: 'GET',
        path: apiPath({
          group: '',
          version: 'v1',
          plural: 'secrets',
          namespace: SYSTEM_NS,
          name: routeSecretName(namespace, 't-0'),
        }),
      });
      routes.push(RouteSchema.parse(JSON.parse(Buffer.from(r.data[ROUTE_KEY]!, 'base64').toString('utf8'))));
    }
    const runAgent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const runId = randomBytes(4).toString('hex');
    const runsStart = performance.now();
    // Rotations sampled while the runs load the machine, one every two seconds.
    const rotating = (async () => {
      let i = 0;
      for (let j = 0; j < N && i < ROTATION_SAMPLES; j++) {
        const p = place(j);
        if (!rotatable(p.k)) continue;
        await rotate(p.ns, p.name, i++);
        await sleep(2_000);
      }
    })();
    const live = await load(CONCURRENCY, LIVE_RUNS, 10 * 60_000, async (i) => {
      const ns = i % NAMESPACES;
      const headers = { ...json, authorization: `Bearer ${tokens[ns]}`, 'idempotency-key': `${runId}-${i}` };
      return (await request(runAgent, hookUrl(ns, 't-0'), headers, JSON.stringify(runInput(i)))).status;
    });
    runAgent.destroy();
    const accepted = live.statuses.get(202) ?? 0;
    log(
      `live runs: ${accepted} accepted in ${fmt(live.elapsedMs)} (${[...live.statuses].map(([s, c]) => `${s}×${c}`).join(' ')})`,
    );
    const jobs = new Informer<Obj>(
      adminKc,
      { group: 'batch', version: 'v1', plural: 'jobs', labelSelector: Labels.workflow },
      SCALE_NAMESPACES,
      quiet,
    );
    informers.push(jobs);
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
          log(`runs: ${f.done} finished, ${f.published} published (${fmt(performance.now() - runsStart)})`);
        }
        return f.done >= count && f.published >= count ? f : undefined;
      });
    // What a delivery costs the API server, the Job controller, the scheduler and kwok included.
    await allFinished(accepted);
    const liveWrites = diff(beforeRuns, await apiWrites(adminKc));
    const seeded = RUNS - LIVE_RUNS;
    const seedStart = performance.now();
    // Not measured: twice the concurrency, to stay within the time bound.
    await pool(seeded, 2 * CONCURRENCY, async (i) => {
      const ns = i % NAMESPACES;
      const run = buildRun({ route: routes[ns]!, deliveryId: `${runId}-seed-${i}`, input: runInput(i) });
      const job = { ...run.job, spec: { ...run.job.spec!, managedBy: SEEDED_BY } };
      const jobsPath = apiPath({ group: 'batch', version: 'v1', plural: 'jobs', namespace: scaleNs(ns) });
      const created = await admin.request<Obj>({ method: 'POST', path: jobsPath, body: job });
      await post(
        apiPath({ group: '', version: 'v1', plural: 'secrets', namespace: scaleNs(ns) }),
        run.inputSecret(created.metadata!.uid!),
      );
      const now = new Date().toISOString();
      await admin.request({
        method: 'PATCH',
        path: `${jobsPath}/${created.metadata!.name}/status`,
        contentType: 'application/merge-patch+json',
        body: {
          status: {
            startTime: now,
            completionTime: now,
            succeeded: 1,
            conditions: [
              {
                type: 'SuccessCriteriaMet',
                status: 'True',
                lastTransitionTime: now,
                lastProbeTime: now,
                reason: 'CompletionsReached',
                message: 'Reached expected number of succeeded pods',
              },
              {
                type: 'Complete',
                status: 'True',
                lastTransitionTime: now,
                lastProbeTime: now,
                reason: 'CompletionsReached',
                message: 'Reached expected number of succeeded pods',
              },
            ],
          },
        },
      });
    });
    if (seeded)
      log(
        `seeded runs: ${seeded} finished Jobs and input Secrets written in ${fmt(performance.now() - seedStart)}`,
      );
    const expected = accepted + seeded;
    await allFinished(expected);
    const runsMs = performance.now() - runsStart;
    await rotating;
    await Promise.all(sampling);
    // Let the operator and the ingress settle (queues drained, the ingress's last-used flush done).
    await until('the operator idle', 120_000, async () =>
      (await operatorProgress(hg!.operatorMetricsUrl)).depth === 0 ? true : undefined,
    );
    await sleep(12_000);
    const rss = { operator: peakRssMiB(pids.operator()), ingress: peakRssMiB(pids.ingress) };
    const cpu = { operator: cpuSeconds(pids.operator()), ingress: cpuSeconds(pids.ingress) };
    const runWrites = diff(beforeRuns, await apiWrites(adminKc));
    // Object sizes as JSON from the API server (managedFields left out: etcd keeps them, the caches do not).
    const sizeOf = async (path: string) => {
      const o = await admin.request<Obj>({ method: 'GET', path });
      delete o.metadata?.managedFields;
      return JSON.stringify(o).length;
    };
    const liveJob = jobs
      .list()
      .find((j) => !j.metadata?.labels?.[Labels.delivery]?.startsWith('x') && j.metadata?.name);
    const jobName = liveJob?.metadata?.name ?? '';
    const ns0 = liveJob?.metadata?.namespace ?? scaleNs(0);
    const sizes = {
      trigger: await sizeOf(`${triggersPath(scaleNs(0))}/t-0`),
      'credentials Secret': await sizeOf(
        apiPath({
          group: '',
          version: 'v1',
          plural: 'secrets',
          namespace: scaleNs(0),
          name: credentialsSecretName('t-0'),
        }),
      ),
      'route Secret': await sizeOf(
        apiPath({
          group: '',
          version: 'v1',
          plural: 'secrets',
          namespace: SYSTEM_NS,
          name: routeSecretName(scaleNs(0), 't-0'),
        }),
      ),
      Job: await sizeOf(
        apiPath({ group: 'batch', version: 'v1', plural: 'jobs', namespace: ns0, name: jobName }),
      ),
      'input Secret': await sizeOf(
        apiPath({ group: '', version: 'v1', plural: 'secrets', namespace: ns0, name: `${jobName}-input` }),
      ),
    };
    if (args.profile) {
      for (const pid of [pids.operator(), pids.ingress]) process.kill(pid, 'SIGUSR2');
      await sleep(20_000); // a snapshot stops the process while it is written
    }
    log(`${expected} runs finished and published ${fmt(runsMs)} after the first delivery`);

    // 4. A fresh operator on the existing triggers and runs. The ingress (its last lastTriggeredTime
    // flush) and the old operator (reconciles it finishes while stopping) stop before the count, so
    // only the fresh operator's writes count.
    await hg.ingress.stop();
    await hg.operator.stop();
    const before = await apiWrites(adminKc);
    const coldStart = performance.now();
    await hg.startOperator();
    const pass = await until('the fresh operator to finish its first pass', 5 * 60_000, async () => {
      const p = await operatorProgress(hg!.operatorMetricsUrl);
      return p.triggers >= N && p.workflows >= NAMESPACES && p.depth === 0 ? p : undefined;
    });
    const coldMs = performance.now() - coldStart;
    await sleep(3_000); // writes of reconciles the pass started are counted too
    const writes = diff(before, await apiWrites(adminKc));
    const coldRss = peakRssMiB(pids.operator());
    const coldCpu = cpuSeconds(pids.operator());
    log(
      `cold start: ${pass.triggers} trigger and ${pass.workflows} workflow reconciles in ${fmt(coldMs)}; ` +
        `API writes meanwhile: ${show(writes)}; fresh operator peak RSS ${coldRss.toFixed(0)} MiB`,
    );

    const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
    const p99 = percentile(sorted, 99);
    const count = (kind: string) => samples.filter((s) => s.kind === kind).length;
    const mark = (ok: boolean) => (ok ? 'met' : 'NOT met');
    console.log(`hookgate scale benchmark — ${new Date().toISOString()}`);
    console.log(
      `${N} WebhookTriggers over ${NAMESPACES} namespaces (${SCHEMES.length} auth kinds, half referencing ${userSecrets.length / 2} user Secrets), ` +
        `${expected} finished runs, concurrency ${CONCURRENCY}; operator and ingress as compiled JS`,
    );
    console.log(`direct writes (trigger, credentials Secret, route Secret, status): ${fmt(directMs)}`);
    console.log(
      `hookgate: applied ${fmt(appliedMs)}, all Ready ${fmt(readyMs)}, all answered by the ingress ${fmt(servedMs)}`,
    );
    const perTrigger = (m: Map<string, number>) => `${(total(m) / N).toFixed(2)} (${show(m)})`;
    console.log(`API writes per trigger: direct ${perTrigger(directWrites)}`);
    console.log(`                        hookgate ${perTrigger(triggerWrites)}`);
    console.log(meters.direct.line(N, 'trigger, direct', 0).trim());
    console.log(meters.hookgate.line(N, 'trigger, hookgate', 0).trim());
    const perRun = (m: Map<string, number>, n: number) =>
      `${(total(m) / n).toFixed(2)} (${[...m].map(([k, v]) => `${k} ${(v / n).toFixed(2)}`).join(', ')})`;
    console.log(
      `runs: ${accepted} live (${(accepted / (live.elapsedMs / 1000)).toFixed(1)}/s accepted), ${seeded} seeded (finished through their status)`,
    );
    console.log(
      `API writes per live run (everyone's, to finished and published): ${perRun(liveWrites, accepted)}`,
    );
    console.log(`API writes per run, all runs: ${perRun(runWrites, expected)}`);
    console.log(
      `object sizes (JSON bytes, without managedFields): ${Object.entries(sizes)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    console.log(
      `route propagation: ${count('apply')} applies and ${count('rotation')} rotations sampled (${failedSamples} timed out), ` +
        `p50 ${percentile(sorted, 50).toFixed(0)} ms, max ${(sorted.at(-1) ?? NaN).toFixed(0)} ms`,
    );
    console.log(
      `peak RSS after the triggers: operator ${rssAfterTriggers.operator.toFixed(1)} MiB, ingress ${rssAfterTriggers.ingress.toFixed(1)} MiB; ` +
        `after ${expected} finished runs: operator ${rss.operator.toFixed(1)} MiB, ingress ${rss.ingress.toFixed(1)} MiB`,
    );
    console.log(
      `CPU s (user+system) of the triggers: operator ${cpuAfterTriggers.operator.toFixed(1)}, ingress ${cpuAfterTriggers.ingress.toFixed(1)}; ` +
        `of the runs: operator ${(cpu.operator - cpuAfterTriggers.operator).toFixed(1)}, ingress ${(cpu.ingress - cpuAfterTriggers.ingress).toFixed(1)}`,
    );
    console.log(
      `cold start: ${pass.triggers} trigger reconciles; API writes during the pass: ${total(writes)} (${show(writes)}); ` +
        `fresh operator peak RSS ${coldRss.toFixed(1)} MiB, CPU ${coldCpu.toFixed(1)} s`,
    );
    console.log(
      `triggers ready/direct ratio: ${ratio.toFixed(2)} (goal ≤ ${GOALS.ratio}: ${mark(ratio <= GOALS.ratio)})`,
    );
    console.log(
      `route propagation p99 ms: ${p99.toFixed(0)} (goal ≤ ${GOALS.propagationMs}: ${mark(p99 <= GOALS.propagationMs && failedSamples === 0)})`,
    );
    console.log(
      `operator RSS MiB: ${rss.operator.toFixed(0)} (goal ≤ ${GOALS.operatorMiB}: ${mark(rss.operator <= GOALS.operatorMiB)})`,
    );
    console.log(
      `ingress RSS MiB: ${rss.ingress.toFixed(0)} (goal ≤ ${GOALS.ingressMiB}: ${mark(rss.ingress <= GOALS.ingressMiB)})`,
    );
    console.log(
      `operator cold start s: ${(coldMs / 1000).toFixed(1)} (goal: no writes for triggers already right: ${mark(total(writes) === 0)}, ${total(writes)} writes)`,
    );
  } catch (err) {
    process.exitCode = 1;
    log(`failed: ${(err as Error).stack ?? err}`);
    if (hg) log(`operator:\n${await hg.operator.logs()}\ningress:\n${await hg.ingress.logs()}`);
  } finally {
    clearTimeout(deadline);
    await cleanup();
  }
}

await main();
process.exit(process.exitCode ?? 0);
