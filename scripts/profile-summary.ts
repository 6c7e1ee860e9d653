// Summarises a V8 CPU profile (`node --cpu-prof`, e.g. `scripts/bench.ts --profile=DIR`): self and
// total time per function and self time per file, largest first.
//   npx tsx scripts/profile-summary.ts FILE.cpuprofile [--top=30] [--per=N]
// `--per=N` prints times per N units (e.g. the requests the profile covered) instead of in total.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '30' }, per: { type: 'string' } },
});
const file = positionals[0];
if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile [--top=30] [--per=N]');
const top = Number(args.top);
const per = args.per ? Number(args.per) : undefined;

const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Each sample's time is the delta to the next one (V8 records the delta before each sample).
const selfUs = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i + 1] ?? 0;
  selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + dt);
}

const shortUrl = (url: string) =>
  url
    .replace(/^file:\/\/.*?\/node_modules\//, 'npm:')
    .replace(/^file:\/\/.*?\/dist\//, '')
    .replace(/^node:/, 'node:');
const fnKey = (n: ProfileNode) =>
  `${n.callFrame.functionName || '(anonymous)'} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const fileKey = (n: ProfileNode) => shortUrl(n.callFrame.url) || `(${n.callFrame.functionName})`;

const fnSelf = new Map<string, number>();
const fnTotal = new Map<string, number>();
const fileSelf = new Map<string, number>();
const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
let all = 0;
let idle = 0;
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  all += us;
  if (node.callFrame.functionName === '(idle)') idle += us;
  add(fnSelf, fnKey(node), us);
  add(fileSelf, fileKey(node), us);
  // Total: once per function on the stack, however often it recurses.
  const seen = new Set<string>();
  for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
    const k = fnKey(byId.get(n)!);
    if (seen.has(k)) continue;
    seen.add(k);
    add(fnTotal, k, us);
  }
}

const unit = per ? `ms per ${per}` : 'ms';
const show = (us: number) => (per ? us / 1000 / per : us / 1000).toFixed(per ? 4 : 1).padStart(10);
const busy = all - idle;
console.log(`${file}: ${(all / 1e6).toFixed(1)} s sampled, busy ${(busy / 1e6).toFixed(2)} s (${unit})`);
const table = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${show(us)} ${((us / busy) * 100).toFixed(1).padStart(5)}%  ${k}`);
  }
};
table('self time by function', fnSelf);
table('total time by function', fnTotal);
table('self time by file', fileSelf);

// Where each sample's stack comes from, by the first rule that matches a frame on it (async
// callbacks start new stacks, so e.g. an API answer's parsing is under the HTTP client's socket).
const CATEGORIES: [string, RegExp][] = [
  ['informer (list/watch, cache)', /lib\/(watch|informer|cache-views)\.js|launcher\.js:\d+ (observe|forget)/],
  ['API client (requestJSON)', /lib\/kube\.js|node:_http_client|node:https|node:_http_agent/],
  ['log', /npm:(pino|sonic-boom)|thread-stream/],
  ['metrics', /npm:prom-client|ingress\/metrics\.js/],
  [
    'webhook server (fastify, stages)',
    /npm:(fastify|find-my-way|light-my-request|avvio)|node:_http_server|ingress\//,
  ],
  ['module loading', /node:internal\/modules|compileForInternalLoader/],
];
const category = new Map<string, number>();
const leaves = new Map<string, Map<string, number>>();
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  const name = node.callFrame.functionName;
  let cat: string | undefined;
  if (name === '(idle)' || name === '(garbage collector)' || name === '(program)') cat = name;
  for (let n: number | undefined = id; n !== undefined && !cat; n = parent.get(n)) {
    const k = fnKey(byId.get(n)!);
    cat = CATEGORIES.find(([, re]) => re.test(k))?.[0];
  }
  if (cat === '(idle)') continue;
  add(category, cat ?? 'other', us);
  if (!leaves.has(cat ?? 'other')) leaves.set(cat ?? 'other', new Map());
  add(leaves.get(cat ?? 'other')!, fnKey(node), us);
}
table('busy time by where its stack comes from', category);
for (const [cat, m] of leaves) {
  if (!cat.startsWith('(')) table(`  ${cat}: self time by function`, new Map([...m].slice(0, Infinity)));
}
