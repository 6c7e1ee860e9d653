// `make demo`: hookgate end to end on a local control plane (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, a kwok node) plus a real node (containerd + kubelet) that
// runs the quickstart's container, with the operator and the ingress running as processes under the
// chart's ServiceAccounts and RBAC. Where a real node cannot start, kwok simulates the pods and the
// demo says so. Stops everything on exit, on errors and on Ctrl-C. With --keep it stays up after the
// tour until Ctrl-C.
import { execFile } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import {
  GROUP,
  VERSION,
  WEBHOOK_TRIGGER,
  type WebhookTrigger,
  WORKFLOW,
  type Workflow,
} from '../api/v1alpha1/index.ts';
import { main as cli } from '../cli/hookgate.ts';
import {
  type ControlPlane,
  chartRunNamespaceLabels,
  containerLog,
  type Hookgate,
  installCrds,
  REAL_NODE_POD,
  type RealNode,
  realNodeUnsupported,
  startControlPlane,
  startHookgate,
  startRealNode,
} from '../test/harness/index.ts';

const ROOT = resolve(import.meta.dirname, '..');
const SYSTEM_NS = 'hookgate-system';
const NS = 'demo';
const NAME = 'quickstart';
const STEPS = 13;
const keep = process.argv.includes('--keep');
const started = Date.now();
const execFileAsync = promisify(execFile);

const say = (line = '') => process.stdout.write(`${line}\n`);
// After Ctrl-C the tour may still be mid-step; its output would only muddle the shutdown's.
let interrupted = false;
const tourSay = (line = '') => {
  if (!interrupted) say(line);
};
const detail = (line: string) => tourSay(`      ${line}`);
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
let stepStart = Date.now();
function step(n: number, title: string) {
  stepStart = Date.now();
  tourSay(`\n[${n}/${STEPS}] ${title}`);
}
const done = (what = 'done') => detail(`✓ ${what} (${((Date.now() - stepStart) / 1000).toFixed(1)}s)`);

// --- lifecycle ------------------------------------------------------------------------------------

let cp: ControlPlane | undefined;
let hg: Hookgate | undefined;
let node: RealNode | undefined;
let logDir: string | undefined;
let stopping: Promise<void> | undefined;
let tourDone = false;

/** Stops operator and ingress, keeps the control plane's logs, then stops the control plane. */
function stopAll(): Promise<void> {
  stopping ??= (async () => {
    if (!cp && !hg) {
      // Interrupted while the control plane was starting: exiting kills whatever it had started.
      if (logDir) say('[stop] the control plane had not finished starting; exiting stops what it started');
      return;
    }
    say('\n[stop] stopping operator, ingress and the control plane');
    await hg?.stop().catch((err) => say(`[stop] operator/ingress: ${err}`));
    await node?.stop().catch((err) => say(`[stop] real node: ${err}`));
    if (cp && logDir) {
      // The control plane removes its run directory (certificates, etcd data, logs) when stopped.
      for (const f of await readdir(cp.dir).catch(() => [] as string[])) {
        if (f.endsWith('.log')) await copyFile(join(cp.dir, f), join(logDir, f)).catch(() => {});
      }
    }
    await cp?.stop().catch((err) => say(`[stop] control plane: ${err}`));
    hg = undefined;
    node = undefined;
    cp = undefined;
    if (logDir) say(`[stop] everything stopped; logs: ${logDir}/*.log`);
  })();
  return stopping;
}

for (const [sig, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.on(sig, () => {
    // A second Ctrl-C does not wait: exiting SIGKILLs whatever is left.
    if (stopping) process.exit(code);
    interrupted = true;
    say(`\n[${sig}] interrupted`);
    // After the tour (--keep), Ctrl-C is the normal way out.
    void stopAll().finally(() => process.exit(tourDone ? 0 : code));
  });
}

// --- helpers --------------------------------------------------------------------------------------

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs / 1000}s waiting for ${what}${lastError ? ` (${lastError})` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function kubectl(args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(join(cp!.binDir, 'kubectl'), [
    '--kubeconfig',
    cp!.kubeconfigPath,
    ...args,
  ]);
  return stdout.trim();
}

/** Runs the hookgate CLI in-process; returns its exit code and output lines. */
async function hookgate(args: string[], kc: KubeConfig, fetchImpl?: typeof fetch) {
  const lines: string[] = [];
  const code = await cli(args, {
    out: (line) => lines.push(...line.split('\n')),
    kubeConfig: kc,
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
  return { code, lines };
}

/**
 * fetch over node:http from a chosen loopback source address (still to 127.0.0.1): the ingress
 * limits per client IP, so the burst gets a window of its own.
 */
function fetchFrom(localAddress: string): typeof fetch {
  return ((input: string | URL | Request, init?: RequestInit) =>
    new Promise<Response>((done, fail) => {
      const url = new URL(String(input));
      if (url.hostname !== '127.0.0.1') return fail(new Error(`refusing to send to ${url.host}`));
      const req = http.request(
        url,
        { method: init?.method ?? 'GET', headers: init?.headers as Record<string, string>, localAddress },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', fail);
          res.on('end', () => {
            const headers = new Headers();
            for (const [k, v] of Object.entries(res.headers)) {
              if (typeof v === 'string') headers.set(k, v);
            }
            done(
              new Response(Buffer.concat(chunks), {
                status: res.statusCode ?? 0,
                statusText: res.statusMessage ?? '',
                headers,
              }),
            );
          });
        },
      );
      req.on('error', fail);
      req.end(typeof init?.body === 'string' ? init.body : undefined);
    })) as typeof fetch;
}

/** fetch that replaces the bearer token the CLI set with a wrong one. */
const withWrongToken: typeof fetch = (input, init) => {
  const headers = { ...(init?.headers as Record<string, string>), Authorization: 'Bearer hgt_not-the-token' };
  return fetch(input, { ...init, headers });
};

async function metricLines(url: string, names: string[]): Promise<string[]> {
  const text = await (await fetch(url)).text();
  return text.split('\n').filter((l) => !l.startsWith('#') && names.some((n) => l.startsWith(n)));
}

/**
 * Applies an example. With a real node its Workflow's pod runs there, from the local busybox image
 * (the examples name `busybox:1.37`, which no registry can deliver here).
 */
async function applyExample(file: string): Promise<string[]> {
  let path = join(ROOT, 'examples', file);
  if (node) {
    const busybox = node.images.find((i) => i.ref.includes('/busybox:'))!.ref;
    const items = parseAllDocuments(await readFile(path, 'utf8')).map((d) => d.toJS());
    for (const o of items.filter((i) => i.kind === 'Workflow')) {
      const pod = o.spec.jobTemplate.spec.template.spec;
      Object.assign(pod, REAL_NODE_POD);
      for (const c of pod.containers) Object.assign(c, { image: busybox, imagePullPolicy: 'Never' });
    }
    path = join(logDir!, basename(file).replace(/\.yaml$/, '.json'));
    await writeFile(path, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
    detail(
      `(for the real node: image ${busybox}, imagePullPolicy Never, ${JSON.stringify(REAL_NODE_POD.nodeSelector)})`,
    );
  }
  return (await kubectl(['apply', '-n', NS, '-f', path])).split('\n');
}

/** Where the run's pod ran, its real exit code, and its stdout from the kubelet's log files. */
async function showContainer(real: RealNode, core: CoreV1Api, run: string) {
  const pods = await core.listNamespacedPod({ namespace: NS, labelSelector: `job-name=${run}` });
  const pod = pods.items[0]!;
  const status = pod.status?.containerStatuses?.[0];
  detail(`pod ${pod.metadata!.name} ran on node ${pod.spec!.nodeName}, container ${status?.containerID}`);
  detail(`exit code ${status?.state?.terminated?.exitCode}; its stdout (${real.podLogsDir}/…/main/0.log):`);
  const stdout = await containerLog(real, NS, pod.metadata!.name!, 'main');
  for (const line of (stdout ?? '').trimEnd().split('\n')) detail(`  | ${line}`);
}

// --- the tour -------------------------------------------------------------------------------------

/** What the steps after the first four use. */
interface Demo {
  cp: ControlPlane;
  hg: Hookgate;
  kc: KubeConfig;
  custom: CustomObjectsApi;
  core: CoreV1Api;
  batch: BatchV1Api;
}

const getTrigger = async (d: Demo, name = NAME) =>
  (await d.custom.getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: WEBHOOK_TRIGGER.plural,
    namespace: NS,
    name,
  })) as WebhookTrigger;

const isReady = (t: WebhookTrigger) =>
  t.status?.observedGeneration === t.metadata.generation &&
  t.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/** Steps 1–4: the control plane, a real node where one can start, the CRDs, operator and ingress. */
async function startEverything(): Promise<Demo> {
  step(
    1,
    'Building/starting the local control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok)',
  );
  detail(
    'The first run builds the binaries from source (~8 minutes on 2 cores); later runs reuse the cache.',
  );
  logDir = await mkdtemp(join(tmpdir(), 'hookgate-demo-logs-'));
  cp = await startControlPlane({ log: (line) => detail(line) });
  const kc = cp.kubeConfig();
  done(`API server ${kc.getCurrentCluster()!.server}`);

  step(2, 'Starting a real node: containerd and a kubelet, beside the kwok node');
  const unsupported = realNodeUnsupported();
  if (unsupported) {
    detail(`NO REAL NODE on this machine (${unsupported}): kwok simulates the runs' pods instead.`);
    done('skipped');
  } else {
    node = await startRealNode(cp, (line) => detail(line));
    done(`node ${node.name} Ready; images ${node.images.map((i) => i.ref).join(', ')}`);
  }

  step(3, 'Installing the CRDs (Workflow, WebhookTrigger)');
  await installCrds(cp);
  done();

  step(4, `Starting the operator and the ingress under the chart's ServiceAccounts/RBAC in "${SYSTEM_NS}"`);
  hg = await startHookgate(cp, { namespace: SYSTEM_NS, logDir });
  detail(`ingress:  ${hg.url}   (metrics ${hg.metricsUrl})`);
  detail(`operator: metrics ${hg.operatorMetricsUrl}`);
  done();
  return {
    cp,
    hg,
    kc,
    custom: kc.makeApiClient(CustomObjectsApi),
    core: kc.makeApiClient(CoreV1Api),
    batch: kc.makeApiClient(BatchV1Api),
  };
}

/** Step 5: the quickstart applied, until its trigger is Ready. */
async function applyQuickstart(d: Demo): Promise<void> {
  step(5, `Applying examples/quickstart.yaml into namespace "${NS}"`);
  await kubectl(['create', 'namespace', NS]).catch((err) => {
    if (!String(err).includes('AlreadyExists')) throw err;
  });
  const optIn = Object.entries(await chartRunNamespaceLabels()).map(([k, v]) => `${k}=${v}`);
  await kubectl(['label', 'namespace', NS, ...optIn, '--overwrite']);
  detail(`namespace ${NS} opted in to runs: kubectl label namespace ${NS} ${optIn.join(' ')}`);
  for (const line of await applyExample('quickstart.yaml')) detail(line);
  const trigger = await until('the WebhookTrigger to be Ready', 60_000, async () => {
    const t = await getTrigger(d);
    return isReady(t) ? t : undefined;
  }).catch(async (err) => {
    const t = await getTrigger(d).catch(() => undefined);
    throw new Error(`${err.message}; conditions: ${JSON.stringify(t?.status?.conditions ?? [])}`);
  });
  detail(`webhooktrigger/${NAME} is Ready`);
  detail(`URL:          ${trigger.status?.url}`);
  detail(
    `token prefix: ${trigger.status?.tokenPrefix}… (the token itself is in Secret ${trigger.status?.credentialsSecret})`,
  );
  done();
}

const PAYLOAD = JSON.stringify({ hello: 'world', sentBy: 'make demo' });

/** Step 6: one delivery with the CLI; the run's name. */
async function sendDelivery(d: Demo): Promise<string> {
  step(6, `Sending a delivery with the CLI: hookgate send ${NAME} -n ${NS} --data '…'`);
  const sent = await hookgate(['send', NAME, '-n', NS, '--data', PAYLOAD], d.kc);
  for (const line of sent.lines) detail(line);
  if (sent.code !== 0) throw new Error(`hookgate send exited with ${sent.code}`);
  const run = (JSON.parse(sent.lines.slice(1).join('\n')) as { run: string }).run;
  done(`run ${run} started`);
  return run;
}

/** Step 7: the run's Job to its end, its container's output, and its input file. */
async function watchRun(d: Demo, run: string): Promise<void> {
  step(7, `Watching job/${run} (${node ? `its container runs on the real node` : 'kwok simulates its pod'})`);
  const job = await until(`job/${run} to finish`, 60_000, async () => {
    const j = await d.batch.readNamespacedJob({ namespace: NS, name: run });
    const cond = j.status?.conditions?.find(
      (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
    );
    return cond ? { j, cond } : undefined;
  });
  detail(
    `job/${run}: ${job.cond.type}=True at ${job.cond.lastTransitionTime?.toISOString?.() ?? job.cond.lastTransitionTime}`,
  );
  if (job.cond.type !== 'Complete') throw new Error(`job/${run} failed: ${job.cond.message}`);
  if (node) await showContainer(node, d.core, run);
  const secret = await d.core.readNamespacedSecret({ namespace: NS, name: `${run}-input` });
  for (const [key, value] of Object.entries(secret.data ?? {})) {
    detail(`input file (Secret ${run}-input, key ${key}): ${Buffer.from(value, 'base64').toString('utf8')}`);
  }
  done();
}

/** Step 8: the run history, from the CLI and from the Workflow's status. */
async function runHistory(d: Demo, run: string): Promise<void> {
  step(8, `Run history of workflow/${NAME}`);
  detail(`$ hookgate runs ${NAME} -n ${NS}`);
  for (const line of (await hookgate(['runs', NAME, '-n', NS], d.kc)).lines) detail(`  ${line}`);
  const workflow = await until(`workflow/${NAME} status.recentRuns to list ${run}`, 30_000, async () => {
    const w = (await d.custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: WORKFLOW.plural,
      namespace: NS,
      name: NAME,
    })) as Workflow;
    return w.status?.recentRuns?.some((r) => r.name === run && r.result !== 'Running') ? w : undefined;
  });
  detail('status.recentRuns:');
  for (const r of workflow.status?.recentRuns ?? []) {
    detail(
      `  ${r.name}  result=${r.result}  trigger=${r.trigger ?? '-'}  start=${r.startTime ?? '-'}  completion=${r.completionTime ?? '-'}`,
    );
  }
  done();
}

/** Step 9: a wait-mode trigger answers with the container's termination message. */
async function waitMode(d: Demo): Promise<void> {
  step(9, "A wait-mode trigger answers with the run's result (examples/wait-mode.yaml)");
  for (const line of await applyExample('wait-mode.yaml')) detail(line);
  await until('webhooktrigger/add to be Ready', 60_000, async () =>
    isReady(await getTrigger(d, 'add')) ? true : undefined,
  );
  detail(`$ hookgate send add -n ${NS} --data '{"a":2,"b":3}'   (the answer waits for the run)`);
  const added = await hookgate(['send', 'add', '-n', NS, '--data', '{"a":2,"b":3}'], d.kc);
  for (const line of added.lines) detail(line);
  const answer = JSON.parse(added.lines.slice(1).join('\n')) as { output?: string; exitCode?: number };
  if (node) {
    if (answer.output?.trim() !== '{"sum":5}')
      throw new Error(`expected output {"sum":5}, got ${answer.output}`);
    detail(
      "output is the container's own termination message (/dev/termination-log), exit code " +
        answer.exitCode,
    );
  } else {
    detail('(kwok simulates the pod: no container wrote a termination message)');
  }
  done();
}

/** Steps 10 and 11: a few lines of /metrics, and a wrong token refused. */
async function metricsAndRefusal(d: Demo): Promise<void> {
  step(10, 'A few lines of /metrics');
  const show = async (who: string, url: string, names: string[]) => {
    detail(`${who} (${url}):`);
    for (const line of await metricLines(url, names)) detail(`  ${line}`);
  };
  await show('ingress', d.hg.metricsUrl, [
    'hookgate_ingress_requests_total',
    'hookgate_ingress_runs_started_total',
    'hookgate_ingress_runs_finished_total',
  ]);
  await show('operator', d.hg.operatorMetricsUrl, [
    'hookgate_reconcile_total',
    'hookgate_reconcile_errors_total',
    'hookgate_leader',
  ]);
  done();

  step(11, 'A delivery with a wrong token is refused');
  const bad = await hookgate(['send', NAME, '-n', NS, '--data', PAYLOAD], d.kc, withWrongToken);
  for (const line of bad.lines) detail(line);
  if (!bad.lines[0]?.startsWith('401')) throw new Error(`expected 401, got: ${bad.lines[0]}`);
  done('401 as expected');
}

/**
 * Patches the trigger's rate limit and waits until the ingress reports it in RateLimit-Limit on
 * verified deliveries (only those count). It probes from another loopback source address (a
 * rate-limit window of its own) with the CLI's real token but a body that is not JSON: verified,
 * counted, refused 400, so no probe starts a run.
 */
async function setRateLimit(d: Demo, limit: { requests: number; periodSeconds: number }): Promise<void> {
  await d.custom.patchNamespacedCustomObject(
    {
      group: GROUP,
      version: VERSION,
      plural: WEBHOOK_TRIGGER.plural,
      namespace: NS,
      name: NAME,
      body: { spec: { rateLimit: limit } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  detail(`patched spec.rateLimit to ${limit.requests} requests per ${limit.periodSeconds}s`);
  await until('the operator to reconcile the change', 30_000, async () =>
    isReady(await getTrigger(d)) ? true : undefined,
  );
  const probe = fetchFrom('127.0.0.2');
  let seenLimit: string | null = null;
  const malformed: typeof fetch = async (input, init) => {
    const res = await probe(input, { ...init, body: '{' });
    seenLimit = res.headers.get('ratelimit-limit');
    return res;
  };
  await until('the ingress to apply the new limit', 30_000, async () => {
    await hookgate(['send', NAME, '-n', NS, '--data', '{}'], d.kc, malformed);
    return seenLimit === String(limit.requests) ? true : undefined;
  });
  detail('the ingress answers with RateLimit-Limit: 5');
}

/** Step 12: a burst past the rate limit. */
async function burst(d: Demo): Promise<void> {
  step(12, 'A burst beyond the rate limit');
  const limit = { requests: 5, periodSeconds: 60 };
  await setRateLimit(d, limit);
  const sends = 12;
  detail(`sending ${sends} deliveries in a row with hookgate send (from a fresh client address, 127.0.0.3):`);
  const from3 = fetchFrom('127.0.0.3');
  const counts = new Map<string, number>();
  let first429: string[] | undefined;
  for (let i = 0; i < sends; i++) {
    const r = await hookgate(['send', NAME, '-n', NS, '--data', JSON.stringify({ burst: i })], d.kc, from3);
    const status = r.lines[0]?.split(' ')[0] ?? '?';
    counts.set(status, (counts.get(status) ?? 0) + 1);
    if (status === '429') first429 ??= r.lines;
  }
  detail(`results: ${[...counts].map(([s, n]) => `${n} × ${s}`).join(', ')}`);
  if (first429) detail(`a 429 answer: ${first429.join(' ')}`);
  if (counts.get('202') !== limit.requests || counts.get('429') !== sends - limit.requests) {
    throw new Error(`expected ${limit.requests} × 202 and ${sends - limit.requests} × 429`);
  }
  const limited = await metricLines(d.hg.metricsUrl, ['hookgate_ingress_rate_limited_total']);
  for (const line of limited) detail(`metrics: ${line}`);
  done();
}

/**
 * A provider's handshake: GitHub pings a new webhook. The ping is signed like any delivery, answered
 * 200 without a run, counted under its own outcome, and shown in the trigger's status.
 */
async function pingStep(d: Demo) {
  step(13, 'A GitHub ping is answered without a run (examples/providers/github.yaml)');
  for (const line of await applyExample('providers/github.yaml')) detail(line);
  const github = () => getTrigger(d, 'github');
  const url = await until(
    'webhooktrigger/github to be Ready',
    60_000,
    async () => (await github()).status?.url,
  );
  const secret = Buffer.from(
    await kubectl(['get', 'secret', '-n', NS, 'github-credentials', '-o', 'jsonpath={.data.signingSecret}']),
    'base64',
  ).toString();
  const body = JSON.stringify({ zen: 'Design for failure.', hook_id: 1 });
  const headers = {
    'Content-Type': 'application/json',
    'X-GitHub-Event': 'ping',
    'X-GitHub-Delivery': randomUUID(),
    'X-Hub-Signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
  };
  detail(`$ curl -X POST ${url} -H 'X-GitHub-Event: ping' -H 'X-Hub-Signature-256: sha256=…' -d '${body}'`);
  const res = await until('the ingress to serve it', 30_000, async () => {
    const r = await fetch(url, { method: 'POST', headers, body });
    return r.status === 404 ? undefined : r;
  });
  detail(`${res.status} ${res.statusText} ${await res.text()}`);
  const runs = await d.batch.listNamespacedJob({
    namespace: NS,
    labelSelector: 'hookgate.io/trigger=github',
  });
  detail(`runs of webhooktrigger/github: ${runs.items.length}`);
  if (res.status !== 200 || runs.items.length !== 0) throw new Error('expected 200 and no run');
  for (const line of await metricLines(d.hg.metricsUrl, [
    'hookgate_ingress_requests_total{trigger="demo/github"',
  ])) {
    detail(`metrics: ${line}`);
  }
  // The ingress writes status in batches, every 10 s.
  const entry = await until('status.handshakes', 20_000, async () =>
    (await github()).status?.handshakes?.find((h) => h.name === 'ping'),
  );
  detail(`status.handshakes: ${entry.name} at ${entry.lastAnsweredTime}`);
  done();
}

async function tour() {
  say(
    `hookgate demo: a local control plane with a real node, the operator and the ingress, and webhooks end to end`,
  );
  const d = await startEverything();
  await applyQuickstart(d);
  const run = await sendDelivery(d);
  await watchRun(d, run);
  await runHistory(d, run);
  await waitMode(d);
  await metricsAndRefusal(d);
  await burst(d);
  await pingStep(d);
  if (keep) {
    tourDone = true;
    say('\n[keep] everything stays up until Ctrl-C. To use it:');
    say(`export KUBECONFIG=${d.cp.kubeconfigPath}`);
    say(`[keep] ingress ${d.hg.url}, logs ${d.cp.dir}/*.log and ${logDir}/*.log`);
    await new Promise(() => {});
  }
}

try {
  await tour();
  await stopAll();
  say(`\nDemo finished in ${elapsed()}.`);
  process.exit(0);
} catch (err) {
  if (interrupted) await new Promise(() => {}); // the signal handler exits
  say(`\n[error] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  await stopAll();
  say(`\nDemo FAILED after ${elapsed()}.`);
  process.exit(1);
}
