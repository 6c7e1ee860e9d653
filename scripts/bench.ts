// The ingress benchmark of issue 4 ("Speed"): `npm run build && npx tsx scripts/bench.ts` (or
// `make bench`). Starts the local control plane and hookgate, operator and ingress as compiled JS
// (`node dist/...`, as the image runs them), then measures on this machine in one run:
//   1. a bare Fastify POST route (child process) as the baseline;
//   2. the ingress rejecting deliveries with a bad HMAC signature (401);
//   3. accepted deliveries end to end (Job + input Secret in the API server), beside a plain HTTPS
//      client creating the same Jobs + Secrets directly, with the ingress's own ServiceAccount;
//   4. the ingress's peak RSS.
// `--profile=DIR` writes CPU profiles of the operator and the ingress there (at exit), and
// `--only=http|api` runs only the HTTP phases (1, 2) or the API phases (3), so that a profile is
// of one of them. All traffic goes to 127.0.0.1. The last two lines are for scripts:
//   rejected/bare ratio: <x.xx>
//   accepted/direct ratio: <x.xx>
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { Labels, ROUTE_KEY, type Route, RouteSchema } from '../api/v1alpha1/index.ts';
import { sign } from '../ingress/verify/index.ts';
import { buildRun } from '../lib/run.ts';
import {
  type ControlPlane,
  chartRunNamespaceLabels,
  RELEASE,
  serviceAccountKubeconfig,
} from '../test/harness/index.ts';
import {
  alternate,
  applyTrigger,
  type Bench,
  CpuMeter,
  childPids,
  load,
  peakRssMiB,
  percentile,
  type Result,
  request,
  runBench,
  SYSTEM_NS,
  until,
  workflowSpec,
} from './bench-common.ts';

const { values: args } = parseArgs({
  options: {
    /** A directory for CPU profiles (written at exit) of the operator and the ingress. */
    profile: { type: 'string' },
    /** Only the HTTP phases (bare, rejected) or only the API phases (accepted, direct). */
    only: { type: 'string' },
  },
});
if (args.only !== undefined && args.only !== 'http' && args.only !== 'api') {
  throw new Error(`--only must be http or api, got ${args.only}`);
}
const ROOT = resolve(import.meta.dirname, '..');
const APP_NS = 'bench';
const TRIGGER = 'bench';
const SIGNATURE = { scheme: 'hmac-sha256' as const, prefix: 'sha256=' };
/** The same settings as `sign` sees them (the secret is passed separately). */
const SIGNING = { ...SIGNATURE, secrets: [] };

// Phase sizes: throughput phases are bounded by time, the API phases by count (and a time cap).
const HTTP = { concurrency: 16, warmupMs: 1_500, durationMs: 8_000, rounds: 4, maxRequests: 1_000_000 };
const API = { concurrency: 8, warmup: 40, count: 800, rounds: 8, maxMs: 60_000 };
/** The ingress as `childPids` names it: compiled JS, as the image runs it. */
const INGRESS = 'ingress/server.js';

function summary(r: Result) {
  const sorted = [...r.latenciesMs].sort((a, b) => a - b);
  return {
    rps: (r.requests / r.elapsedMs) * 1000,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}

function report(label: string, r: Result & { cpu?: string }, expected: number | string) {
  const s = summary(r);
  const statuses = [...r.statuses].map(([k, v]) => `${k}×${v}`).join(' ');
  console.log(
    `${label.padEnd(34)} ${s.rps.toFixed(0).padStart(7)} req/s   p50 ${s.p50.toFixed(2).padStart(7)} ms   ` +
      `p99 ${s.p99.toFixed(2).padStart(7)} ms   (${r.requests} requests in ${(r.elapsedMs / 1000).toFixed(1)} s; ${statuses})`,
  );
  const bad = [...r.statuses].filter(([k]) => k !== expected);
  if (r.cpu) console.log(r.cpu);
  if (bad.length) throw new Error(`${label}: expected only ${expected}, got ${statuses}`);
  return s;
}

// --- the payload ---------------------------------------------------------------------------------

/**
 * A GitHub-push-like JSON body of about 1.5 KiB. `delivery` makes each accepted delivery's body its
 * own: hmac-sha256 signs no id, so the ingress names a run after the signed body, and identical
 * bodies are one run (a replay).
 */
function payload(i: number, delivery = '') {
  return {
    delivery,
    ref: 'refs/heads/main',
    before: 'a10867b14bb761a232cd80139fbd4c0d33264240',
    after: '1481a2de7b2a7d02428ad93446ab166be7793fbb',
    sequence: i,
    repository: {
      id: 186853002,
      name: 'hookgate',
      full_name: 'example/hookgate',
      private: false,
      owner: { login: 'example', id: 21031067, type: 'Organization' },
      html_url: 'https://github.com/example/hookgate',
      description: 'Turns webhooks into Kubernetes Job runs',
      default_branch: 'main',
      topics: ['kubernetes', 'webhooks', 'operator'],
    },
    pusher: { name: 'octocat', email: 'octocat@example.com' },
    sender: { login: 'octocat', id: 583231, type: 'User', site_admin: false },
    head_commit: {
      id: '1481a2de7b2a7d02428ad93446ab166be7793fbb',
      tree_id: 'f9d2a07e9488b91af2641b26b9407fe22a451433',
      message: 'Benchmark the ingress against a bare Fastify route and direct Job creation',
      timestamp: '2026-11-23T10:00:00Z',
      author: { name: 'Octo Cat', email: 'octocat@example.com', username: 'octocat' },
      committer: { name: 'Octo Cat', email: 'octocat@example.com', username: 'octocat' },
      added: ['scripts/bench.ts', 'BENCHMARKS.md'],
      removed: [],
      modified: ['Makefile', 'README.md', 'ingress/app.ts', 'ingress/run/launcher.ts'],
    },
    commits: [
      {
        id: '1481a2de7b2a7d02428ad93446ab166be7793fbb',
        distinct: true,
        message: 'Benchmark the ingress',
        url: 'https://github.com/example/hookgate/commit/1481a2de7b2a7d02428ad93446ab166be7793fbb',
      },
    ],
    compare: 'https://github.com/example/hookgate/compare/a10867b14bb7...1481a2de7b2a',
  };
}

// --- the baseline: a bare Fastify app in its own process -----------------------------------------

const BARE_APP = `
import Fastify from 'fastify';
const app = Fastify({ logger: false });
app.post('/hook', async (_req, reply) => reply.code(202).send({ accepted: true, run: 'bare-0123456789abcdef' }));
await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(app.server.address().port + '\\n');
`;

async function startBare(b: Bench): Promise<{ url: URL; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', BARE_APP], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  b.onStop(() => child.exitCode === null && child.kill('SIGTERM'));
  const port = await new Promise<number>((done, fail) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) done(Number(out.trim()));
    });
    child.once('exit', (code) => fail(new Error(`the bare Fastify app exited (${code})`)));
  });
  return { url: new URL(`http://127.0.0.1:${port}/hook`), child };
}

// --- setup ---------------------------------------------------------------------------------------

/** What the measurements share: the trigger, a body, and the headers of a bad signature. */
interface Target {
  b: Bench;
  hookUrl: URL;
  signingSecret: string;
  ingressPid: number;
  body: Buffer;
  badHeaders: Record<string, string>;
}

const json = { 'content-type': 'application/json' };
const httpAgent = (sockets = HTTP.concurrency) => new http.Agent({ keepAlive: true, maxSockets: sockets });

async function setUp(b: Bench): Promise<Target> {
  const t0 = Date.now();
  const { url: hookUrl, signingSecret } = await applyTrigger(b.cp.kubeConfig(), {
    namespace: APP_NS,
    name: TRIGGER,
    labels: await chartRunNamespaceLabels(),
    workflow: workflowSpec(['sh', '-c', 'cat "$HOOKGATE_INPUT_FILE"']),
    // High enough that the benchmark measures the work, not the limiter.
    trigger: {
      workflowRef: { name: TRIGGER },
      auth: { signature: SIGNATURE },
      rateLimit: { requests: 1_000_000, periodSeconds: 60 },
    },
  });
  b.log(`set up in ${((Date.now() - t0) / 1000).toFixed(1)} s; trigger at ${hookUrl}`);
  if (hookUrl.hostname !== '127.0.0.1') throw new Error(`the trigger URL is not on loopback: ${hookUrl}`);
  const body = Buffer.from(JSON.stringify(payload(0)));
  // A well-formed signature made with the wrong secret: the ingress does the full HMAC work.
  const badHeaders = { ...json, ...sign(SIGNING, 'whsec_not-the-secret', body, Date.now()) };
  // The route reaches the ingress a moment after the trigger turns Ready.
  await until('the ingress to serve the trigger', 30_000, async () => {
    const res = await request(httpAgent(), hookUrl, badHeaders, body);
    return res.status === 401 ? true : undefined;
  });
  return { b, hookUrl, signingSecret, ingressPid: b.hg.ingress.proc.child.pid!, body, badHeaders };
}

// --- 1. and 2. HTTP: bare Fastify against the ingress rejecting bad signatures ----------------------

async function httpPhases(t: Target): Promise<number> {
  const bare = await startBare(t.b);
  const bareAgent = httpAgent();
  const rejAgent = httpAgent();
  const sendBare = async () => (await request(bareAgent, bare.url, json, t.body)).status;
  const sendBad = async () => (await request(rejAgent, t.hookUrl, t.badHeaders, t.body)).status;
  await load(HTTP.concurrency, HTTP.maxRequests, HTTP.warmupMs, sendBare);
  await load(HTTP.concurrency, HTTP.maxRequests, HTTP.warmupMs, sendBad);
  const meters = {
    bare: new CpuMeter(new Map([['bare', bare.child.pid!]])),
    rej: new CpuMeter(new Map([['ingress', t.ingressPid]])),
  };
  const slice = HTTP.durationMs / HTTP.rounds;
  const block = (meter: CpuMeter, send: () => Promise<number>) => () =>
    meter.measure(() => load(HTTP.concurrency, HTTP.maxRequests, slice, send));
  const [bareRes, rejRes] = await alternate(
    HTTP.rounds,
    block(meters.bare, sendBare),
    block(meters.rej, sendBad),
  );
  bare.child.kill('SIGTERM');
  for (const a of [bareAgent, rejAgent]) a.destroy();
  const bareStats = report(
    'bare Fastify (202)',
    { ...bareRes, cpu: meters.bare.line(bareRes.requests) },
    202,
  );
  const rejStats = report(
    'ingress, bad signature (401)',
    { ...rejRes, cpu: meters.rej.line(rejRes.requests) },
    401,
  );
  const rejectedRatio = rejStats.rps / bareStats.rps;
  const serverCpuRatio =
    meters.bare.seconds('bare') / bareRes.requests / (meters.rej.seconds('ingress') / rejRes.requests);
  console.log(
    `${''.padEnd(34)} ratio to bare: ${rejectedRatio.toFixed(2)} (floor ≥ 0.60, goal ≥ 0.85); ` +
      `server CPU per request, bare/ingress: ${serverCpuRatio.toFixed(2)}`,
  );
  return rejectedRatio;
}

// --- 3. API: accepted deliveries against a plain client creating the same Job and Secret -----------

/**
 * The input the ingress maps this trigger's deliveries to: the body's fields (the WebhookTrigger's
 * default `spec.input` adds nothing: no `_query` unless `input.query`). Checked against what the
 * ingress itself wrote before anything is measured.
 */
const directInput = (body: object) => ({ ...body });

async function routeOf(kc: KubeConfig): Promise<Route> {
  const secrets = await kc.makeApiClient(CoreV1Api).listNamespacedSecret({
    namespace: SYSTEM_NS,
    labelSelector: `${Labels.route}=true,${Labels.trigger}=${TRIGGER}`,
  });
  const data = secrets.items[0]?.data?.[ROUTE_KEY];
  if (!data) throw new Error('no route Secret found');
  return RouteSchema.parse(JSON.parse(Buffer.from(data, 'base64').toString()));
}

/**
 * Creates a run's Job and input Secret directly, as the ingress's ServiceAccount, over one
 * keep-alive HTTPS agent (what the ingress's client does).
 */
async function directSender(cp: ControlPlane, route: Route, runId: string) {
  const sa = JSON.parse(
    readFileSync(await serviceAccountKubeconfig(cp, SYSTEM_NS, `${RELEASE}-ingress`), 'utf8'),
  ) as {
    clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
    users: { user: { token: string } }[];
  };
  const server = new URL(sa.clusters[0]!.cluster.server);
  if (server.hostname !== '127.0.0.1') throw new Error(`the API server is not on loopback: ${server}`);
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: API.concurrency,
    ca: Buffer.from(sa.clusters[0]!.cluster['certificate-authority-data'], 'base64'),
  });
  const auth = { ...json, authorization: `Bearer ${sa.users[0]!.user.token}` };
  const jobsUrl = new URL(`/apis/batch/v1/namespaces/${APP_NS}/jobs`, server);
  const secretsUrl = new URL(`/api/v1/namespaces/${APP_NS}/secrets`, server);
  const send = (prefix: string) => async (i: number) => {
    const id = `${prefix}-${runId}-${i}`;
    const run = buildRun({ route, deliveryId: id, input: directInput(payload(i, id)) });
    const job = await request(agent, jobsUrl, auth, JSON.stringify(run.job));
    if (job.status !== 201) return `job ${job.status}`;
    const uid = (JSON.parse(job.body) as { metadata: { uid: string } }).metadata.uid;
    const secret = await request(agent, secretsUrl, auth, JSON.stringify(run.inputSecret(uid)));
    return secret.status === 201 ? 202 : `secret ${secret.status}`;
  };
  return { send, agent };
}

/** Fails unless the ingress wrote, for a delivery, the input the direct client writes for it. */
async function checkDirectInput(kc: KubeConfig, run: string, body: object) {
  const secret = await kc
    .makeApiClient(CoreV1Api)
    .readNamespacedSecret({ namespace: APP_NS, name: `${run}-input` });
  const written = Buffer.from(secret.data!['input.json']!, 'base64').toString('utf8');
  if (written !== JSON.stringify(directInput(body)))
    throw new Error(`the direct client's input differs from the ingress's: ${written.slice(0, 200)}`);
}

async function apiPhases(t: Target): Promise<number> {
  const kc = t.b.cp.kubeConfig();
  const accAgent = httpAgent(API.concurrency);
  const runId = randomUUID().slice(0, 8);
  const deliver = async (id: string, i: number) => {
    const b = Buffer.from(JSON.stringify(payload(i, id)));
    return request(accAgent, t.hookUrl, { ...json, ...sign(SIGNING, t.signingSecret, b, Date.now(), id) }, b);
  };
  const sendGood = (prefix: string) => async (i: number) =>
    (await deliver(`${prefix}-${runId}-${i}`, i)).status;
  const first = await deliver(`check-${runId}`, 0);
  if (first.status !== 202) throw new Error(`a delivery was answered ${first.status}: ${first.body}`);
  await checkDirectInput(kc, (JSON.parse(first.body) as { run: string }).run, payload(0, `check-${runId}`));
  const direct = await directSender(t.b.cp, await routeOf(kc), runId);
  // Both warmed up, then measured in alternating blocks, so that the background work every Job
  // causes (Job controller, scheduler, kwok, the operator's history pruning) falls on both alike.
  await load(API.concurrency, API.warmup, API.maxMs, sendGood('warm'));
  await load(API.concurrency, API.warmup, API.maxMs, direct.send('dwarm'));
  const pids = childPids();
  const meters = { acc: new CpuMeter(pids), direct: new CpuMeter(pids) };
  const block = Math.ceil(API.count / API.rounds);
  const [acc, dir] = await alternate(
    API.rounds,
    (round) => meters.acc.measure(() => load(API.concurrency, block, API.maxMs, sendGood(`acc${round}`))),
    (round) =>
      meters.direct.measure(() => load(API.concurrency, block, API.maxMs, direct.send(`direct${round}`))),
  );
  for (const a of [accAgent, direct.agent]) a.destroy();
  return reportApi(acc, dir, meters);
}

function reportApi(acc: Result, direct: Result, meters: { acc: CpuMeter; direct: CpuMeter }): number {
  const accStats = report('ingress, accepted (202)', { ...acc, cpu: meters.acc.line(acc.requests) }, 202);
  const directStats = report(
    'direct Job + Secret (201, 201)',
    { ...direct, cpu: meters.direct.line(direct.requests) },
    202,
  );
  const acceptedRatio = accStats.rps / directStats.rps;
  console.log(`${''.padEnd(34)} accepted/direct: ${acceptedRatio.toFixed(2)} (floor ≥ 0.80, goal ≥ 0.92)`);
  const ingressCpuMs = (meters.acc.seconds(INGRESS) * 1000) / acc.requests;
  // What the same two creates cost a plain client (this process in the direct phase: building the
  // run and POSTing Job and Secret over node:https), beside the ingress's whole request.
  const directCpuMs = (meters.direct.seconds('load generator') * 1000) / direct.requests;
  console.log(
    `ingress CPU per accepted run: ${ingressCpuMs.toFixed(2)} ms (goal ≤ 1.20); ` +
      `the direct client's per run: ${directCpuMs.toFixed(2)} ms`,
  );
  return acceptedRatio;
}

// --- main ----------------------------------------------------------------------------------------

await runBench(
  {
    name: 'bench',
    // The rejected phase measures verifying a bad signature; the flood guard would soon answer all
    // of it (one address, hundreds of thousands of unverified requests) from the headers instead.
    ingressArgs: ['--flood-limit=1000000', '--flood-period=1s'],
    profile: args.profile,
  },
  async (b) => {
    const t = await setUp(b);
    console.log(`hookgate ingress benchmark — ${new Date().toISOString()}`);
    console.log(
      `body ${t.body.length} bytes JSON; HTTP phases: concurrency ${HTTP.concurrency}, ${HTTP.durationMs / 1000} s each in ` +
        `${HTTP.rounds * 2} alternating blocks after ${HTTP.warmupMs / 1000} s warm-up; API phases: ${API.count} runs each at concurrency ${API.concurrency} ` +
        `in ${API.rounds} alternating blocks after ${API.warmup} warm-up runs each`,
    );
    const rejectedRatio = args.only === 'api' ? undefined : await httpPhases(t);
    const acceptedRatio = args.only === 'http' ? undefined : await apiPhases(t);
    // 4. Peak RSS.
    console.log(`ingress peak RSS (VmHWM): ${peakRssMiB(t.ingressPid).toFixed(1)} MiB`);
    if (rejectedRatio !== undefined) console.log(`rejected/bare ratio: ${rejectedRatio.toFixed(2)}`);
    if (acceptedRatio !== undefined) console.log(`accepted/direct ratio: ${acceptedRatio.toFixed(2)}`);
  },
);
