// The aborted-bodies attack of issue 20 (item 1), `make bench-bodies`: against the real ingress
// (compiled JS with the chart's heap flags, on the local control plane), from one address, rounds of
// 300 concurrent POSTs that declare 1 MiB, send all but the last byte and disconnect, while signed
// senders on four other addresses deliver to a GitHub trigger. Printed against the baseline of the
// same run (the same senders before the attack, the ingress's RSS then):
//   the ingress's RSS growth (target: < 128 MiB), the senders' answers and latency (target: all 202,
//   max < 2 s), and how the attacking address is answered (target: `429 flooded` at the end).
// `--rounds=N` (default 5), `--concurrency=N` (default 300). All traffic stays on 127.0.0.0/8.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sign } from '../ingress/verify/index.ts';
import { chartRunNamespaceLabels } from '../test/harness/index.ts';
import {
  applyTrigger,
  type Bench,
  percentile,
  request,
  runBench,
  sleep,
  until,
  workflowSpec,
} from './bench-common.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '300' },
    /** Internal: run the attack rounds against this URL in this process (see `attack`). */
    attack: { type: 'string' },
  },
});
const ROUNDS = Number(args.rounds);
const CONCURRENCY = Number(args.concurrency);
const MiB = 1024 * 1024;
const APP_NS = 'bench-bodies';
const TRIGGER = 'push';
const ATTACKER = '127.0.0.66';
const SENDERS = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
const SENDER_PAUSE_MS = 250;
const BASELINE_MS = 10_000;
const GITHUB = { scheme: 'github' as const, secrets: [] };

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) / 1024;
}

/** Samples a process's RSS every 50 ms until stopped; the peak. */
function rssPeak(pid: number): () => number {
  let peak = rssMiB(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMiB(pid));
  }, 50);
  return () => {
    clearInterval(timer);
    return Math.max(peak, rssMiB(pid));
  };
}

interface Senders {
  latenciesMs: number[];
  statuses: Map<number | string, number>;
  stop(): Promise<void>;
}

/** Signed GitHub deliveries, one at a time per address, until stopped. */
function startSenders(url: URL, secret: string): Senders {
  const s: Senders = { latenciesMs: [], statuses: new Map(), stop: async () => {} };
  let running = true;
  const agent = new http.Agent({ keepAlive: true });
  const loops = SENDERS.map(async (from) => {
    while (running) {
      const body = JSON.stringify({ ref: 'refs/heads/main', after: randomUUID() });
      const headers = {
        'content-type': 'application/json',
        ...sign(GITHUB, secret, Buffer.from(body), Date.now(), randomUUID()),
      };
      const t0 = performance.now();
      let status: number | string;
      try {
        status = (await request(agent, url, headers, body, from)).status;
      } catch (err) {
        status = (err as NodeJS.ErrnoException).code ?? String(err);
      }
      s.latenciesMs.push(performance.now() - t0);
      s.statuses.set(status, (s.statuses.get(status) ?? 0) + 1);
      await sleep(SENDER_PAUSE_MS);
    }
  });
  s.stop = async () => {
    running = false;
    await Promise.all(loops);
    agent.destroy();
  };
  return s;
}

const FILL = Buffer.alloc(MiB - 1, 0x20);

/**
 * One attacking request: declares 1 MiB, sends all but the last byte, disconnects. Resolves with
 * the status the ingress answered before that; else 'reset' when the ingress closed the connection
 * first (an answer that could not be read), 'none' when all was sent and we left.
 */
function abortedBody(url: URL): Promise<number | 'none' | 'reset'> {
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), localAddress: ATTACKER });
    let answer = '';
    let done = false;
    let reset = false;
    const finish = () => {
      if (done) return;
      done = true;
      socket.destroy();
      const status = Number(answer.split(' ')[1]);
      resolve(Number.isFinite(status) ? status : reset ? 'reset' : 'none');
    };
    socket.on('data', (d) => {
      answer += d;
    });
    socket.on('error', () => {
      reset = true;
      finish();
    });
    socket.on('close', finish);
    socket.on('connect', () => {
      socket.write(
        `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\n` +
          `X-Hub-Signature-256: sha256=${'0'.repeat(64)}\r\nContent-Length: ${MiB}\r\n\r\n`,
      );
      // All but the last byte, then gone: the body never completes, so it is never verified. In
      // 64 KiB pieces after a moment, so that an answer from the headers is read (once the ingress
      // has closed, the bytes written after it make the kernel reset the socket, and a reset drops
      // what was received and not yet read).
      const piece = (at: number) => {
        if (done || answer) return setTimeout(finish, 20);
        if (at >= FILL.length) return setTimeout(finish, 50);
        socket.write(FILL.subarray(at, at + 64 * 1024), () => piece(at + 64 * 1024));
      };
      setTimeout(() => piece(0), 200);
    });
  });
}

function statusLine(statuses: Map<number | string, number>): string {
  return [...statuses].map(([k, v]) => `${k}×${v}`).join(' ');
}

function latencyLine(latenciesMs: number[]): string {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${(sorted.at(-1) ?? 0).toFixed(1)} ms`;
}

/** The attack rounds in this process: one line of JSON per round, `{status: count}`, on stdout. */
async function attackRounds(url: URL) {
  for (let r = 0; r < ROUNDS; r++) {
    const answers = await Promise.all(Array.from({ length: CONCURRENCY }, () => abortedBody(url)));
    const counts: Record<string, number> = {};
    for (const a of answers) counts[a] = (counts[a] ?? 0) + 1;
    process.stdout.write(`${JSON.stringify(counts)}\n`);
  }
}

/**
 * The attack in a process of its own, so that the senders' latencies are the ingress's and not
 * this load generator's (300 sockets writing megabytes keep an event loop busy too).
 */
async function attack(url: URL, pid: number, log: (line: string) => void) {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', self, `--attack=${url}`, `--rounds=${ROUNDS}`, `--concurrency=${CONCURRENCY}`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const rounds: Map<number | string, number>[] = [];
  let pending = '';
  child.stdout.on('data', (d: Buffer) => {
    pending += d;
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const counts = new Map(Object.entries(JSON.parse(pending.slice(0, nl)) as Record<string, number>));
      pending = pending.slice(nl + 1);
      rounds.push(counts);
      log(`round ${rounds.length}: answers ${statusLine(counts)}; RSS now ${rssMiB(pid).toFixed(0)} MiB`);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the attacker exited with ${code}`);
  // What the attacking address gets now, for a request the flood guard would refuse from its headers.
  const probe = await request(new http.Agent(), url, { 'content-type': 'application/json' }, '{}', ATTACKER);
  const error =
    probe.status === 429 ? (JSON.parse(probe.body) as { error: { code: string } }).error.code : '';
  return { rounds, probe: `${probe.status}${error ? ` ${error}` : ''}` };
}

/** The baseline, the attack and the verdict, against hookgate on a fresh control plane. */
async function measure({ cp, hg, log }: Bench) {
  const { url, signingSecret: secret } = await applyTrigger(cp.kubeConfig(), {
    namespace: APP_NS,
    name: TRIGGER,
    labels: await chartRunNamespaceLabels(),
    workflow: { ...workflowSpec(), successfulRunsHistoryLimit: 5 },
    trigger: {
      workflowRef: { name: TRIGGER },
      auth: { signature: { scheme: 'github' } },
      rateLimit: { requests: 100_000, periodSeconds: 60 },
    },
  });
  const target = new URL(`${hg.url}${url.pathname}`);
  const pid = hg.ingress.proc.child.pid!;
  // The route is served once a signed delivery is accepted.
  await until('the route served', 30_000, async () => {
    const body = '{"warm":true}';
    const headers = {
      'content-type': 'application/json',
      ...sign(GITHUB, secret, Buffer.from(body), Date.now()),
    };
    const res = await request(new http.Agent(), target, headers, body, SENDERS[0]);
    return res.status === 202 || res.status === 200 ? true : undefined;
  });

  log(`baseline: ${SENDERS.length} signed senders for ${BASELINE_MS / 1000} s, no attack`);
  const baseline = startSenders(target, secret);
  const baselinePeak = rssPeak(pid);
  await sleep(BASELINE_MS);
  await baseline.stop();
  const before = rssMiB(pid);
  const beforePeak = baselinePeak();

  log(`attack: ${ROUNDS} rounds of ${CONCURRENCY} aborted 1 MiB bodies from ${ATTACKER}`);
  const during = startSenders(target, secret);
  const attackPeak = rssPeak(pid);
  const result = await attack(target, pid, log);
  await during.stop();
  const peak = attackPeak();

  const growth = peak - before;
  const slow = during.latenciesMs.filter((ms) => ms >= 2000).length;
  const all202 = [...during.statuses.keys()].every((k) => k === 202);
  console.log('\naborted-bodies attack on the ingress (issue 20, item 1)');
  console.log(
    `  baseline senders (no attack):  ${statusLine(baseline.statuses)}; ${latencyLine(baseline.latenciesMs)}`,
  );
  console.log(
    `  baseline RSS:                  ${before.toFixed(0)} MiB (peak ${beforePeak.toFixed(0)} MiB)`,
  );
  for (const [i, counts] of result.rounds.entries())
    console.log(`  attack round ${String(i + 1).padEnd(2)} answers:        ${statusLine(counts)}`);
  console.log(
    `  senders during the attack:     ${statusLine(during.statuses)}; ${latencyLine(during.latenciesMs)}`,
  );
  console.log(
    `  ingress RSS during the attack: peak ${peak.toFixed(0)} MiB, +${growth.toFixed(0)} MiB over the baseline`,
  );
  console.log(`  the attacking address now:     ${result.probe}`);
  console.log(`  RSS growth < 128 MiB:          ${growth < 128 ? 'yes' : 'NO'}`);
  console.log(`  senders all 202 within 2 s:    ${all202 && slow === 0 ? 'yes' : `NO (${slow} ≥ 2 s)`}`);
  console.log(`  attacker answered 429 flooded: ${result.probe === '429 flooded' ? 'yes' : 'NO'}`);
  if (growth >= 128 || !all202 || slow > 0 || result.probe !== '429 flooded') process.exitCode = 1;
}

if (args.attack) {
  await attackRounds(new URL(args.attack));
  process.exit(process.exitCode ?? 0);
}
await runBench({ name: 'bench-bodies' }, measure);
