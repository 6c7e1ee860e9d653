// What both benchmarks (scripts/bench.ts, scripts/bench-scale.ts) measure with: a small load
// generator, one POST, percentiles, and a process's CPU time and peak RSS from /proc.
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

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
