// Summarises a V8 heap snapshot (`node --heapsnapshot-signal`, e.g. `scripts/bench-scale.ts
// --profile=DIR`): what holds the heap, as the dominator tree pruned to objects retaining at least
// `--min` MiB (each named by its constructor and the edge it is reached by), then self size by
// constructor. Retained sizes are DevTools': what would go if the object went.
//   node --max-old-space-size=4096 --import tsx scripts/heap-summary.ts FILE.heapsnapshot [--min=0.5] [--top=30]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** The snapshot as flat arrays: per node its first edge, per edge its target node (by ordinal). */
interface Graph {
  count: number;
  name: (n: number) => string;
  self: Float64Array;
  firstEdge: Uint32Array;
  edgeTo: Uint32Array;
  edgeName: (e: number) => string;
  weak: Uint8Array;
}

function graphOf(s: Snapshot): Graph {
  const { node_fields: nf, node_types, edge_fields: ef, edge_types } = s.snapshot.meta;
  const nw = nf.length;
  const ew = ef.length;
  const count = s.nodes.length / nw;
  const [fType, fName, fSelf, fEdges] = ['type', 'name', 'self_size', 'edge_count'].map((f) =>
    nf.indexOf(f),
  ) as [number, number, number, number];
  const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map((f) => ef.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const self = new Float64Array(count);
  const firstEdge = new Uint32Array(count + 1);
  for (let n = 0, e = 0; n < count; n++) {
    self[n] = s.nodes[n * nw + fSelf]!;
    firstEdge[n] = e;
    e += s.nodes[n * nw + fEdges]!;
    firstEdge[n + 1] = e;
  }
  const edges = s.edges.length / ew;
  const edgeTo = new Uint32Array(edges);
  const weak = new Uint8Array(edges);
  const eTypes = edge_types[0];
  for (let e = 0; e < edges; e++) {
    edgeTo[e] = s.edges[e * ew + eTo]! / nw;
    const t = eTypes[s.edges[e * ew + eType]!];
    weak[e] = t === 'weak' || t === 'shortcut' ? 1 : 0;
  }
  const name = (n: number) => {
    const type = node_types[0][s.nodes[n * nw + fType]!]!;
    const str = s.strings[s.nodes[n * nw + fName]!] ?? '';
    return type === 'object' || type === 'native' ? str : `(${type}) ${str.slice(0, 40)}`;
  };
  const edgeName = (e: number) => {
    const t = eTypes[s.edges[e * ew + eType]!];
    const v = s.edges[e * ew + eName]!;
    return t === 'element' || t === 'hidden' ? `[${v}]` : String(s.strings[v]);
  };
  return { count, name, self, firstEdge, edgeTo, edgeName, weak };
}

/** Nodes in postorder from the root (node 0), over strong edges. */
function postorder(g: Graph): { order: Uint32Array; index: Int32Array } {
  const index = new Int32Array(g.count).fill(-1);
  const order = new Uint32Array(g.count);
  const seen = new Uint8Array(g.count);
  const stack = [0];
  const next = [g.firstEdge[0]!];
  seen[0] = 1;
  let k = 0;
  while (stack.length > 0) {
    const n = stack[stack.length - 1]!;
    const e = next[next.length - 1]!;
    if (e < g.firstEdge[n + 1]!) {
      next[next.length - 1] = e + 1;
      const to = g.edgeTo[e]!;
      if (!g.weak[e] && !seen[to]) {
        seen[to] = 1;
        stack.push(to);
        next.push(g.firstEdge[to]!);
      }
      continue;
    }
    stack.pop();
    next.pop();
    index[n] = k;
    order[k++] = n;
  }
  return { order: order.subarray(0, k), index };
}

/** Immediate dominators (Cooper, Harvey and Kennedy's iteration), by node; -1 if unreachable. */
function dominators(g: Graph): { idom: Int32Array; reachable: Uint32Array; preds: number[][] } {
  const { order, index } = postorder(g);
  const preds: number[][] = Array.from({ length: g.count }, () => []);
  for (let n = 0; n < g.count; n++) {
    if (index[n]! < 0) continue;
    for (let e = g.firstEdge[n]!; e < g.firstEdge[n + 1]!; e++) if (!g.weak[e]) preds[g.edgeTo[e]!]!.push(n);
  }
  const idom = new Int32Array(g.count).fill(-1);
  idom[0] = 0;
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while (index[a]! < index[b]!) a = idom[a]!;
      while (index[b]! < index[a]!) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = order.length - 2; i >= 0; i--) {
      const n = order[i]!;
      let d = -1;
      for (const p of preds[n]!) if (idom[p]! >= 0) d = d < 0 ? p : intersect(p, d);
      if (d >= 0 && idom[n] !== d) {
        idom[n] = d;
        changed = true;
      }
    }
  }
  return { idom, reachable: order, preds };
}

function main(): void {
  const { values: args, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      min: { type: 'string', default: '0.5' },
      top: { type: 'string', default: '30' },
      retainers: { type: 'string' },
    },
  });
  if (!positionals[0]) throw new Error('usage: heap-summary.ts FILE.heapsnapshot [--min=0.5] [--top=30]');
  const g = graphOf(JSON.parse(readFileSync(positionals[0], 'utf8')) as Snapshot);
  const { idom, reachable, preds } = dominators(g);
  const retained = Float64Array.from(g.self);
  for (const n of reachable) if (n !== 0) retained[idom[n]!]! += retained[n]!;
  const mib = (b: number) => (b / 2 ** 20).toFixed(1).padStart(6);
  console.log(`heap ${mib(retained[0]!)} MiB reachable, ${reachable.length} objects`);
  printTree(g, { idom, preds, retained }, Number(args.min) * 2 ** 20);
  const byName = new Map<string, { size: number; count: number }>();
  for (const n of reachable) {
    const b = byName.get(g.name(n)) ?? { size: 0, count: 0 };
    byName.set(g.name(n), { size: b.size + g.self[n]!, count: b.count + 1 });
  }
  console.log('\nself size by constructor (MiB, objects):');
  for (const [name, b] of [...byName].sort((a, b) => b[1].size - a[1].size).slice(0, Number(args.top)))
    console.log(`${mib(b.size)}  ${String(b.count).padStart(8)}  ${name}`);
  if (args.retainers) printRetainers(g, preds, reachable, args.retainers, Number(args.top));
}

/** For the objects named `name`: their retainers, as `<retainer's name>.<edge>`, most frequent first. */
function printRetainers(
  g: Graph,
  preds: number[][],
  reachable: Uint32Array,
  name: string,
  top: number,
): void {
  const counts = new Map<string, { count: number; size: number }>();
  for (const n of reachable) {
    if (g.name(n) !== name) continue;
    for (const p of new Set(preds[n])) {
      let edge = '?';
      for (let e = g.firstEdge[p]!; e < g.firstEdge[p + 1]!; e++) if (g.edgeTo[e] === n) edge = g.edgeName(e);
      const key = `${g.name(p)}.${edge.startsWith('[') ? '[]' : edge}`;
      const c = counts.get(key) ?? { count: 0, size: 0 };
      counts.set(key, { count: c.count + 1, size: c.size + g.self[n]! });
    }
  }
  console.log(`\nretainers of ${name} (objects, MiB of their self size):`);
  for (const [key, c] of [...counts].sort((a, b) => b[1].size - a[1].size).slice(0, top))
    console.log(`${String(c.count).padStart(8)} ${(c.size / 2 ** 20).toFixed(1).padStart(6)}  ${key}`);
}

/** The string a property of `n` holds, if any. */
function property(g: Graph, n: number, name: string): number | undefined {
  for (let e = g.firstEdge[n]!; e < g.firstEdge[n + 1]!; e++) if (g.edgeName(e) === name) return g.edgeTo[e];
  return undefined;
}

/** An informer's store says which resource it holds (`resource.plural`, `resource.labelSelector`). */
function resourceOf(g: Graph, n: number): string {
  const resource = property(g, n, 'resource');
  if (resource === undefined) return '';
  const text = (k: string) => {
    const v = property(g, resource, k);
    return v === undefined ? '' : g.name(v).replace(/^\(string\) /, '');
  };
  return ` [${text('plural')}${text('labelSelector') ? ` ${text('labelSelector')}` : ''}]`;
}

/**
 * The dominator tree down to objects retaining at least `min` bytes, each with the edge its
 * dominator reaches it by; siblings of the same description (an informer's store per namespace) summed.
 */
function printTree(
  g: Graph,
  { idom, preds, retained }: { idom: Int32Array; preds: number[][]; retained: Float64Array },
  min: number,
): void {
  const children = new Map<number, number[]>();
  for (let n = 1; n < g.count; n++)
    if (idom[n]! >= 0 && retained[n]! >= min / 16)
      children.set(idom[n]!, [...(children.get(idom[n]!) ?? []), n]);
  // The edge from its dominator, or else from its first retainer (named: an object reached by several).
  const edge = (from: number, to: number) => {
    for (let e = g.firstEdge[from]!; e < g.firstEdge[from + 1]!; e++)
      if (g.edgeTo[e] === to) return g.edgeName(e);
    return undefined;
  };
  const via = (from: number, to: number) => {
    const p = preds[to]![0];
    return edge(from, to) ?? (p === undefined ? '…' : `${g.name(p)}.${edge(p, to)}`);
  };
  const walk = (n: number, depth: number) => {
    const groups = new Map<string, number[]>();
    for (const k of children.get(n) ?? []) {
      const label = `${via(n, k)}: ${g.name(k)}${resourceOf(g, k)}`;
      groups.set(label, [...(groups.get(label) ?? []), k]);
    }
    const sum = (ks: number[]) => ks.reduce((t, k) => t + retained[k]!, 0);
    for (const [label, ks] of [...groups].sort((a, b) => sum(b[1]) - sum(a[1]))) {
      if (sum(ks) < min) continue;
      const times = ks.length > 1 ? `${ks.length} × ` : '';
      console.log(`${(sum(ks) / 2 ** 20).toFixed(1).padStart(6)} MiB ${'  '.repeat(depth)}${times}${label}`);
      if (ks.length === 1) walk(ks[0]!, depth + 1);
    }
  };
  walk(0, 0);
}

main();
