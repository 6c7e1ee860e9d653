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
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { RouteSchema } from '../api/v1alpha1/index.ts';
import { mapInput } from '../ingress/input.ts';
import { sign } from '../ingress/verify/index.ts';
import { buildRun } from '../lib/run.ts';
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
  load,
  peakRssMiB,
  percentile,
  type Result,
  request,
  until,
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
const SYSTEM_NS = 'hookgate-system';
const APP_NS = 'bench';
const TRIGGER = 'bench';
const SIGNATURE = { scheme: 'hmac-sha256' as const, prefix: 'sha256=' };
/** The same settings as `sign` sees them (the secret is passed separately). */
const SIGNING = { ...SIGNATURE, secrets: [] };

// Phase sizes: throughput phases are bounded by time, the API phases by count (and a time cap).
const HTTP_CONCURRENCY = 16;
const HTTP_WARMUP_MS = 1_500;
const HTTP_DURATION_MS = 8_000;
const HTTP_ROUNDS = 4;
const HTTP_MAX_REQUESTS = 1_000_000;
const API_CONCURRENCY = 8;
const API_WARMUP = 40;
const API_COUNT = 800;
const API_ROUNDS = 8;
const API_MAX_MS = 60_000;
/** The ingress as `childPids` names it: compiled JS, as the image runs it. */
const INGRESS = 'ingress/server.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

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

async function startBare(children: Set<ChildProcess>): Promise<{ url: URL; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', BARE_APP], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
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

async function applyTrigger(kc: KubeConfig) {
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const labels = await chartRunNamespaceLabels();
  await core.createNamespace({ body: { metadata: { name: APP_NS, labels } } });
  const base = { group: 'hookgate.io', version: 'v1alpha1', namespace: APP_NS };
  await custom.createNamespacedCustomObject({
    ...base,
    plural: 'workflows',
    body: {
      apiVersion: 'hookgate.io/v1alpha1',
      kind: 'Workflow',
      metadata: { name: TRIGGER },
      spec: {
        jobTemplate: {
          spec: {
            backoffLimit: 0,
            template: {
              spec: {
                restartPolicy: 'Never',
                containers: [
                  {
                    name: 'main',
                    image: 'busybox:1.37',
                    command: ['sh', '-c', 'cat "$HOOKGATE_INPUT_FILE"'],
                  },
                ],
              },
            },
          },
        },
      },
    },
  });
  await custom.createNamespacedCustomObject({
    ...base,
    plural: 'webhooktriggers',
    body: {
      apiVersion: 'hookgate.io/v1alpha1',
      kind: 'WebhookTrigger',
      metadata: { name: TRIGGER },
      spec: {
        workflowRef: { name: TRIGGER },
        auth: { signature: SIGNATURE },
        // High enough that the benchmark measures the work, not the limiter.
        rateLimit: { requests: 1_000_000, periodSeconds: 60 },
      },
    },
  });
  const status = await until('the WebhookTrigger Ready', 60_000, async () => {
    const t = (await custom.getNamespacedCustomObject({
      ...base,
      plural: 'webhooktriggers',
      name: TRIGGER,
    })) as {
      status?: {
        url?: string;
        credentialsSecret?: string;
        conditions?: { type: string; status: string }[];
      };
    };
    const ready = t.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    return ready && t.status?.url ? t.status : undefined;
  });
  const secret = await core.readNamespacedSecret({
    namespace: APP_NS,
    name: status.credentialsSecret ?? `${TRIGGER}-credentials`,
  });
  const signingSecret = Buffer.from(secret.data!.signingSecret!, 'base64').toString('utf8');
  return { url: new URL(status.url!), signingSecret };
}

function merge(a: Result, b: Result): Result {
  const statuses = new Map(a.statuses);
  for (const [k, v] of b.statuses) statuses.set(k, (statuses.get(k) ?? 0) + v);
  return {
    requests: a.requests + b.requests,
    elapsedMs: a.elapsedMs + b.elapsedMs,
    latenciesMs: [...a.latenciesMs, ...b.latenciesMs],
    statuses,
  };
}

const empty = (): Result => ({ requests: 0, elapsedMs: 0, latenciesMs: [], statuses: new Map() });

// --- main ----------------------------------------------------------------------------------------

async function main() {
  const children = new Set<ChildProcess>();
  let cp: ControlPlane | undefined;
  let hg: Awaited<ReturnType<typeof startHookgate>> | undefined;
  let stopping: Promise<void> | undefined;
  const cleanup = () => {
    stopping ??= (async () => {
      for (const c of children) c.kill('SIGTERM');
      await hg?.stop().catch((err) => log(`[bench] stopping hookgate: ${err}`));
      await cp?.stop().catch((err) => log(`[bench] stopping the control plane: ${err}`));
    })();
    return stopping;
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`[bench] ${sig}: stopping`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  try {
    const t0 = Date.now();
    const plane = await startControlPlane({ log });
    cp = plane;
    await installCrds(plane);
    // The rejected phase measures verifying a bad signature; the flood guard would soon answer all
    // of it (one address, hundreds of thousands of unverified requests) from the headers instead.
    hg = await startHookgate(plane, {
      namespace: SYSTEM_NS,
      compiled: true,
      ingressArgs: ['--flood-limit=1000000', '--flood-period=1s'],
      ...(args.profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${resolve(args.profile)}`] } : {}),
    });
    const admin = plane.kubeConfig();
    const { url: hookUrl, signingSecret } = await applyTrigger(admin);
    const ingressPid = hg.ingress.proc.child.pid!;
    log(`[bench] set up in ${((Date.now() - t0) / 1000).toFixed(1)} s; trigger at ${hookUrl}`);
    if (hookUrl.hostname !== '127.0.0.1') throw new Error(`the trigger URL is not on loopback: ${hookUrl}`);

    const body = Buffer.from(JSON.stringify(payload(0)));
    const json = { 'content-type': 'application/json' };
    // A well-formed signature made with the wrong secret: the ingress does the full HMAC work.
    const badHeaders = { ...json, ...sign(SIGNING, 'whsec_not-the-secret', body, Date.now()) };
    const agent = () => new http.Agent({ keepAlive: true, maxSockets: HTTP_CONCURRENCY });

    // The route reaches the ingress a moment after the trigger turns Ready.
    await until('the ingress to serve the trigger', 30_000, async () => {
      const res = await request(agent(), hookUrl, badHeaders, body);
      return res.status === 401 ? true : undefined;
    });

    console.log(`hookgate ingress benchmark — ${new Date().toISOString()}`);
    console.log(
      `body ${body.length} bytes JSON; HTTP phases: concurrency ${HTTP_CONCURRENCY}, ${HTTP_DURATION_MS / 1000} s each in ` +
        `${HTTP_ROUNDS * 2} alternating blocks after ${HTTP_WARMUP_MS / 1000} s warm-up; API phases: ${API_COUNT} runs each at concurrency ${API_CONCURRENCY} ` +
        `in ${API_ROUNDS} alternating blocks after ${API_WARMUP} warm-up runs each`,
    );

    const httpPhases = async () => {
      // 1. and 2. The bare Fastify baseline and the ingress rejecting bad signatures: both warmed up,
      // then measured in alternating blocks (A B B A ...) so that drift on a shared machine falls on both.
      const bare = await startBare(children);
      const bareAgent = agent();
      const rejAgent = agent();
      const sendBare = async () => (await request(bareAgent, bare.url, json, body)).status;
      const sendBad = async () => (await request(rejAgent, hookUrl, badHeaders, body)).status;
      await load(HTTP_CONCURRENCY, HTTP_MAX_REQUESTS, HTTP_WARMUP_MS, sendBare);
      await load(HTTP_CONCURRENCY, HTTP_MAX_REQUESTS, HTTP_WARMUP_MS, sendBad);
      const httpMeters = {
        bare: new CpuMeter(new Map([['bare', bare.child.pid!]])),
        rej: new CpuMeter(new Map([['ingress', ingressPid]])),
      };
      let bareRes = empty();
      let rejRes = empty();
      const slice = HTTP_DURATION_MS / HTTP_ROUNDS;
      for (let round = 0; round < HTTP_ROUNDS; round++) {
        const order = round % 2 === 0 ? (['bare', 'rej'] as const) : (['rej', 'bare'] as const);
        for (const kind of order) {
          const send = kind === 'bare' ? sendBare : sendBad;
          const r = await httpMeters[kind].measure(() =>
            load(HTTP_CONCURRENCY, HTTP_MAX_REQUESTS, slice, send),
          );
          if (kind === 'bare') bareRes = merge(bareRes, r);
          else rejRes = merge(rejRes, r);
        }
      }
      bare.child.kill('SIGTERM');
      const bareStats = report(
        'bare Fastify (202)',
        { ...bareRes, cpu: httpMeters.bare.line(bareRes.requests) },
        202,
      );
      const rejStats = report(
        'ingress, bad signature (401)',
        { ...rejRes, cpu: httpMeters.rej.line(rejRes.requests) },
        401,
      );
      const rejectedRatio = rejStats.rps / bareStats.rps;
      const serverCpuRatio =
        httpMeters.bare.seconds('bare') /
        bareRes.requests /
        (httpMeters.rej.seconds('ingress') / rejRes.requests);
      console.log(
        `${''.padEnd(34)} ratio to bare: ${rejectedRatio.toFixed(2)} (floor ≥ 0.60, goal ≥ 0.85); ` +
          `server CPU per request, bare/ingress: ${serverCpuRatio.toFixed(2)}`,
      );
      for (const a of [bareAgent, rejAgent]) a.destroy();
      return rejectedRatio;
    };

    const apiPhases = async () => {
      // 3a. Accepted deliveries end to end.
      const accAgent = new http.Agent({ keepAlive: true, maxSockets: API_CONCURRENCY });
      const runId = randomUUID().slice(0, 8);
      const sendGood = (prefix: string) => async (i: number) => {
        const id = `${prefix}-${runId}-${i}`;
        const b = Buffer.from(JSON.stringify(payload(i, id)));
        const headers = { ...json, ...sign(SIGNING, signingSecret, b, Date.now(), id) };
        return (await request(accAgent, hookUrl, headers, b)).status;
      };
      // 3b. The same Jobs + input Secrets created directly, as the ingress's ServiceAccount, over one
      // keep-alive HTTPS agent (what the ingress's client does).
      const routeSecret = (
        await admin.makeApiClient(CoreV1Api).listNamespacedSecret({
          namespace: SYSTEM_NS,
          labelSelector: 'hookgate.io/route=true',
        })
      ).items.find((s) => s.data?.['route.json']);
      if (!routeSecret) throw new Error('no route Secret found');
      const route = RouteSchema.parse(
        JSON.parse(Buffer.from(routeSecret.data!['route.json']!, 'base64').toString()),
      );
      const sa = JSON.parse(
        readFileSync(await serviceAccountKubeconfig(plane, SYSTEM_NS, `${RELEASE}-ingress`), 'utf8'),
      ) as {
        clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
        users: { user: { token: string } }[];
      };
      const server = new URL(sa.clusters[0]!.cluster.server);
      if (server.hostname !== '127.0.0.1') throw new Error(`the API server is not on loopback: ${server}`);
      const apiAgent = new https.Agent({
        keepAlive: true,
        maxSockets: API_CONCURRENCY,
        ca: Buffer.from(sa.clusters[0]!.cluster['certificate-authority-data'], 'base64'),
      });
      const auth = { ...json, authorization: `Bearer ${sa.users[0]!.user.token}` };
      const jobsUrl = new URL(`/apis/batch/v1/namespaces/${APP_NS}/jobs`, server);
      const secretsUrl = new URL(`/api/v1/namespaces/${APP_NS}/secrets`, server);
      const sendDirect = (prefix: string) => async (i: number) => {
        const id = `${prefix}-${runId}-${i}`;
        const input = mapInput(route, payload(i, id), {}, {});
        const run = buildRun({ route, deliveryId: id, input });
        const job = await request(apiAgent, jobsUrl, auth, JSON.stringify(run.job));
        if (job.status !== 201) return `job ${job.status}`;
        const uid = (JSON.parse(job.body) as { metadata: { uid: string } }).metadata.uid;
        const secret = await request(apiAgent, secretsUrl, auth, JSON.stringify(run.inputSecret(uid)));
        return secret.status === 201 ? 202 : `secret ${secret.status}`;
      };
      // Both warmed up, then measured in alternating blocks (A B B A ...), so that the background work
      // every Job causes (Job controller, scheduler, kwok, the operator's history pruning) and any
      // other drift falls on both alike.
      await load(API_CONCURRENCY, API_WARMUP, API_MAX_MS, sendGood('warm'));
      await load(API_CONCURRENCY, API_WARMUP, API_MAX_MS, sendDirect('dwarm'));
      const pids = childPids();
      const meters = { acc: new CpuMeter(pids), direct: new CpuMeter(pids) };
      let acc = empty();
      let direct = empty();
      const block = Math.ceil(API_COUNT / API_ROUNDS);
      for (let round = 0; round < API_ROUNDS; round++) {
        const order = round % 2 === 0 ? (['acc', 'direct'] as const) : (['direct', 'acc'] as const);
        for (const kind of order) {
          if (kind === 'acc') {
            const send = sendGood(`acc${round}`);
            acc = merge(acc, await meters.acc.measure(() => load(API_CONCURRENCY, block, API_MAX_MS, send)));
          } else {
            const send = sendDirect(`direct${round}`);
            direct = merge(
              direct,
              await meters.direct.measure(() => load(API_CONCURRENCY, block, API_MAX_MS, send)),
            );
          }
        }
      }
      const accStats = report('ingress, accepted (202)', { ...acc, cpu: meters.acc.line(acc.requests) }, 202);
      const directStats = report(
        'direct Job + Secret (201, 201)',
        { ...direct, cpu: meters.direct.line(direct.requests) },
        202,
      );
      const acceptedRatio = accStats.rps / directStats.rps;
      console.log(
        `${''.padEnd(34)} accepted/direct: ${acceptedRatio.toFixed(2)} (floor ≥ 0.80, goal ≥ 0.92)`,
      );
      const ingressCpuMs = (meters.acc.seconds(INGRESS) * 1000) / acc.requests;
      // What the same two creates cost a plain client (this process in the direct phase: building
      // the run and POSTing Job and Secret over node:https), beside the ingress's whole request.
      const directCpuMs = (meters.direct.seconds('load generator') * 1000) / direct.requests;
      console.log(
        `ingress CPU per accepted run: ${ingressCpuMs.toFixed(2)} ms (goal ≤ 1.20); ` +
          `the direct client's per run: ${directCpuMs.toFixed(2)} ms`,
      );
      for (const a of [accAgent, apiAgent]) a.destroy();
      return acceptedRatio;
    };

    const rejectedRatio = args.only === 'api' ? undefined : await httpPhases();
    const acceptedRatio = args.only === 'http' ? undefined : await apiPhases();

    // 4. Peak RSS.
    console.log(`ingress peak RSS (VmHWM): ${peakRssMiB(ingressPid).toFixed(1)} MiB`);
    if (rejectedRatio !== undefined) console.log(`rejected/bare ratio: ${rejectedRatio.toFixed(2)}`);
    if (acceptedRatio !== undefined) console.log(`accepted/direct ratio: ${acceptedRatio.toFixed(2)}`);
  } catch (err) {
    process.exitCode = 1;
    log(`[bench] failed: ${(err as Error).stack ?? err}`);
    if (hg) log(await hg.ingress.logs());
  } finally {
    await cleanup();
  }
}

await main();
process.exit(process.exitCode ?? 0);
