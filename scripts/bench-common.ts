// What both benchmarks (scripts/bench.ts, scripts/bench-scale.ts) are built from: hookgate on the
// local control plane for the length of a run, a small load generator, one POST, measurements in
// alternating blocks, percentiles, and a process's CPU time and peak RSS from /proc.
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { resolve } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import {
  API_VERSION,
  ConditionType,
  GROUP,
  VERSION,
  WEBHOOK_TRIGGER,
  type WebhookTrigger,
  WORKFLOW,
} from '../api/v1alpha1/index.ts';
import {
  type ControlPlane,
  type Hookgate,
  installCrds,
  type StartOptions,
  startControlPlane,
  startHookgate,
} from '../test/harness/index.ts';

export const SYSTEM_NS = 'hookgate-system';

/** The Workflow the benchmarks run: one busybox container running `command` (or the image's own). */
export const workflowSpec = (command?: string[]) => ({
  jobTemplate: {
    spec: {
      backoffLimit: 0,
      template: {
        spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.37', command }] },
      },
    },
  },
});

/**
 * A namespace with a Workflow and a WebhookTrigger of one name, as a user applies them; once the
 * trigger is Ready, its URL and signing secret.
 */
export async function applyTrigger(
  kc: KubeConfig,
  o: { namespace: string; name: string; labels?: Record<string, string>; workflow: object; trigger: object },
): Promise<{ url: URL; signingSecret: string }> {
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const { namespace, name } = o;
  await core.createNamespace({ body: { metadata: { name: namespace, labels: o.labels } } });
  const at = { group: GROUP, version: VERSION, namespace };
  for (const [names, spec] of [
    [WORKFLOW, o.workflow],
    [WEBHOOK_TRIGGER, o.trigger],
  ] as const) {
    const body = { apiVersion: API_VERSION, kind: names.kind, metadata: { name }, spec };
    await custom.createNamespacedCustomObject({ ...at, plural: names.plural, body });
  }
  let last: WebhookTrigger | undefined;
  const status = await until('the WebhookTrigger Ready', 60_000, async () => {
    const t = (await custom.getNamespacedCustomObject({
      ...at,
      plural: WEBHOOK_TRIGGER.plural,
      name,
    })) as WebhookTrigger;
    last = t;
    const ready = t.status?.conditions?.some((c) => c.type === ConditionType.Ready && c.status === 'True');
    return ready && t.status?.url ? t.status : undefined;
  }).catch((err: Error) => {
    throw new Error(`${err.message}; its conditions: ${JSON.stringify(last?.status?.conditions ?? [])}`);
  });
  const secret = await core.readNamespacedSecret({
    namespace,
    name: status.credentialsSecret ?? `${name}-credentials`,
  });
  const signingSecret = Buffer.from(secret.data!.signingSecret!, 'base64').toString('utf8');
  return { url: new URL(status.url!), signingSecret };
}

export interface BenchOptions {
  /** Prefix of progress lines on stderr, e.g. `bench`. */
  name: string;
  controlPlane?: Omit<StartOptions, 'log'>;
  operatorArgs?: string[];
  ingressArgs?: string[];
  /** A directory for CPU profiles (written at exit) and heap snapshots (on SIGUSR2) of both components. */
  profile?: string;
  /** Stop, failing, after this long. */
  deadlineMs?: number;
}

export interface Bench {
  cp: ControlPlane;
  hg: Hookgate;
  log(line: string): void;
  /** Runs `fn` when the benchmark stops, however it stops, before hookgate and the control plane. */
  onStop(fn: () => unknown): void;
}

/**
 * Runs `body` against hookgate (operator and ingress as compiled JS, as the image runs them) on a
 * fresh local control plane, and stops everything when it ends, fails, is interrupted or runs past
 * the deadline. A failure prints the components' last log lines. Exits the process when done.
 */
export async function runBench(o: BenchOptions, body: (b: Bench) => Promise<void>): Promise<never> {
  const log = (line: string) => process.stderr.write(`[${o.name}] ${line}\n`);
  const stops: (() => unknown)[] = [];
  let cp: ControlPlane | undefined;
  let hg: Hookgate | undefined;
  let stopping: Promise<void> | undefined;
  const cleanup = () => {
    stopping ??= (async () => {
      for (const fn of stops.reverse()) await Promise.resolve(fn()).catch((err) => log(`stopping: ${err}`));
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
  const deadline =
    o.deadlineMs &&
    setTimeout(() => {
      log(`not done after ${o.deadlineMs! / 60_000} minutes: stopping`);
      void cleanup().finally(() => process.exit(1));
    }, o.deadlineMs);
  try {
    cp = await startControlPlane({ ...o.controlPlane, log });
    await installCrds(cp);
    hg = await startHookgate(cp, {
      namespace: SYSTEM_NS,
      compiled: true,
      operatorArgs: o.operatorArgs,
      ingressArgs: o.ingressArgs,
      ...(o.profile ? { nodeArgs: profileArgs(o.profile) } : {}),
    });
    await body({ cp, hg, log, onStop: (fn) => stops.push(fn) });
  } catch (err) {
    process.exitCode = 1;
    log(`failed: ${(err as Error).stack ?? err}`);
    if (hg) log(`operator:\n${await hg.operator.logs()}\ningress:\n${await hg.ingress.logs()}`);
  } finally {
    clearTimeout(deadline || undefined);
    await cleanup();
  }
  process.exit(process.exitCode ?? 0);
}

const profileArgs = (dir: string) => [
  '--cpu-prof',
  `--cpu-prof-dir=${resolve(dir)}`,
  `--diagnostic-dir=${resolve(dir)}`,
  '--heapsnapshot-signal=SIGUSR2',
];

export interface Result {
  requests: number;
  elapsedMs: number;
  latenciesMs: number[];
  statuses: Map<number | string, number>;
}

/**
 * Runs `concurrency` workers, each sending one request after another, until `count` requests have
 * been started or `durationMs` has passed. `send` resolves with the status (or throws).
 */
export async function load(
  concurrency: number,
  count: number,
  durationMs: number,
  send: (i: number) => Promise<number | string>,
): Promise<Result> {
  const latenciesMs: number[] = [];
  const statuses = new Map<number | string, number>();
  let next = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  const worker = async () => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      const t0 = performance.now();
      let status: number | string;
      try {
        status = await send(i);
      } catch (err) {
        status = (err as NodeJS.ErrnoException).code ?? String(err);
      }
      latenciesMs.push(performance.now() - t0);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { requests: latenciesMs.length, elapsedMs: performance.now() - started, latenciesMs, statuses };
}

const merge = (a: Result, b: Result): Result => {
  const statuses = new Map(a.statuses);
  for (const [k, v] of b.statuses) statuses.set(k, (statuses.get(k) ?? 0) + v);
  return {
    requests: a.requests + b.requests,
    elapsedMs: a.elapsedMs + b.elapsedMs,
    latenciesMs: [...a.latenciesMs, ...b.latenciesMs],
    statuses,
  };
};

/**
 * Measures `a` and `b` in alternating blocks (a b, b a, a b, ...), so that drift on a shared machine,
 * and the background work one side leaves behind, falls on both alike; each side's blocks merged.
 */
export async function alternate(
  rounds: number,
  a: (round: number) => Promise<Result>,
  b: (round: number) => Promise<Result>,
): Promise<[Result, Result]> {
  const empty = (): Result => ({ requests: 0, elapsedMs: 0, latenciesMs: [], statuses: new Map() });
  const merged = [empty(), empty()] as [Result, Result];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ([0, 1] as const) : ([1, 0] as const);
    for (const side of order) merged[side] = merge(merged[side], await [a, b][side]!(round));
  }
  return merged;
}

/** Runs `fn` for 0..count-1 on `concurrency` workers; throws the first failure. */
export async function pool(
  count: number,
  concurrency: number,
  fn: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

/** One POST; `localAddress` picks the client address (127.0.0.x), as rate limits count per client. */
export function request(
  agent: http.Agent,
  url: URL,
  headers: Record<string, string>,
  body: Buffer | string,
  localAddress?: string,
): Promise<{ status: number; body: string }> {
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((done, fail) => {
    const req = mod.request(
      url,
      {
        method: 'POST',
        agent,
        localAddress,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => done({ status: res.statusCode ?? 0, body: text }));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

export const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(
  what: string,
  timeoutMs: number,
  fn: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
}

/** CPU seconds (user + system) a process has used so far; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ (100)
  } catch {
    return 0;
  }
}

/** This process's children by command name (the control plane's servers, hookgate, the baseline). */
export function childPids(): Map<string, number> {
  const pids = new Map<string, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const script = cmd.find((a) => /\.[jt]s$/.test(a));
      const name = script ? script.split('/').slice(-2).join('/') : cmd[0]!.split('/').pop()!;
      pids.set(name === 'setpriv' ? cmd[3]!.split('/').pop()! : name, Number(entry));
    } catch {}
  }
  return pids;
}

/** The CPU the named processes (and this one) spend while measuring, summed over calls. */
export class CpuMeter {
  readonly #used = new Map<string, number>();
  constructor(readonly pids: Map<string, number>) {}

  async measure<T>(fn: () => Promise<T>): Promise<T> {
    const stop = this.start();
    const r = await fn();
    stop();
    return r;
  }

  /** Starts measuring; call the returned function to stop. */
  start(): () => void {
    const before = new Map([...this.pids].map(([k, pid]) => [k, cpuSeconds(pid)]));
    const self = process.cpuUsage();
    return () => {
      const me = process.cpuUsage(self);
      for (const [k, pid] of this.pids) this.#add(k, cpuSeconds(pid) - before.get(k)!);
      this.#add('load generator', (me.user + me.system) / 1e6);
    };
  }

  #add(k: string, s: number) {
    this.#used.set(k, (this.#used.get(k) ?? 0) + s);
  }

  seconds(k: string): number {
    return this.#used.get(k) ?? 0;
  }

  line(count: number, per = 'request', indent = 34): string {
    const parts = [...this.#used]
      .filter(([, s]) => s > 0)
      .map(([k, s]) => `${k} ${((s * 1000) / count).toFixed(2)}`);
    const total = [...this.#used.values()].reduce((a, b) => a + b, 0);
    return `${''.padEnd(indent)} CPU ms/${per}: ${parts.join(', ')}; total ${((total * 1000) / count).toFixed(2)}`;
  }
}

export function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]);
  return kb / 1024;
}
