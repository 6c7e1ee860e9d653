// The rooms of the house and which way imports may point (docs/design.md "Layout"): api/ imports
// only zod; lib/ only api/; the components (operator/, ingress/, cli/) lib/ and api/ and never each
// other; scripts drive the product from outside, through its API, the CLI and the harness; everything
// outside test/harness/ reaches the harness through its public module.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const SKIP = new Set(['node_modules', 'dist', '.git', '.tmp']);

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    if (SKIP.has(e.name)) return [];
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports (static and dynamic). */
function specifiers(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*'([^']+)'/g))
    found.push(m[1]!);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s*'([^']+)'/g)) found.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) found.push(m[1]!);
  return found;
}

/** Each import of the tree: the importing file and, for our own modules, the imported path from the root. */
function edges(): { from: string; to: string }[] {
  const all = ['api', 'lib', 'operator', 'ingress', 'cli', 'scripts', 'test'].flatMap(sources);
  return all.flatMap((from) =>
    specifiers(readFileSync(join(ROOT, from), 'utf8')).map((spec) => ({
      from,
      to: spec.startsWith('.') ? relative(ROOT, resolve(ROOT, dirname(from), spec)) : spec,
    })),
  );
}

const room = (path: string) => path.split('/')[0]!;
const OURS = new Set(['api', 'lib', 'operator', 'ingress', 'cli', 'scripts', 'test']);

/** What each room may import of ours (besides itself). */
const ALLOWED: Record<string, (to: string) => boolean> = {
  api: () => false,
  lib: (to) => room(to) === 'api',
  operator: (to) => ['api', 'lib'].includes(room(to)),
  ingress: (to) => ['api', 'lib'].includes(room(to)),
  // The CLI signs deliveries with the ingress's own signature code, so what it sends is what the
  // ingress verifies: the one sideways import, and only of that pure module.
  cli: (to) => ['api', 'lib'].includes(room(to)) || to.startsWith('ingress/verify/'),
  // Scripts drive the product through its API (api/, the CLI, HTTP, the harness), never through the
  // controllers, the runtime or the ingress's request path. Besides: lib/ (the run builder and the
  // API client are what a plain client would write too), the signature code the CLI also uses, and
  // each component's flag table (for docs/flags.md).
  scripts: (to) =>
    ['api', 'lib', 'cli', 'scripts'].includes(room(to)) ||
    to.startsWith('ingress/verify/') ||
    ['operator/config.ts', 'ingress/http/config.ts', 'test/harness/index.ts'].includes(to),
  test: () => true,
};

describe('imports', () => {
  const all = edges();

  it('point down the rooms: api ← lib ← operator, ingress, cli ← scripts, tests', () => {
    const wrong = all.filter(({ from, to }) => {
      if (!OURS.has(room(to)) || room(to) === room(from)) return false;
      return !ALLOWED[room(from)]!(to);
    });
    expect(wrong).toEqual([]);
  });

  it('api/ imports only zod (and vitest in its tests)', () => {
    const packages = all.filter(({ from, to }) => room(from) === 'api' && !OURS.has(room(to)));
    const allowed = (p: { from: string; to: string }) =>
      p.to === 'zod' || (p.from.endsWith('.test.ts') && p.to === 'vitest');
    expect(packages.filter((p) => !allowed(p))).toEqual([]);
  });

  it('reach the harness only through test/harness/index.ts', () => {
    const inside = (path: string) => path.startsWith('test/harness/');
    expect(
      all.filter(({ from, to }) => inside(to) && !inside(from) && to !== 'test/harness/index.ts'),
    ).toEqual([]);
  });

  it('keep scripts out of the controllers, the runtime and the ingress', () => {
    const inside = all.filter(
      ({ from, to }) =>
        room(from) === 'scripts' &&
        /^(operator\/(controllers|runtime)|ingress\/(?!verify\/|http\/config\.ts$))/.test(to),
    );
    expect(inside).toEqual([]);
  });

  it('finds what it checks', () => {
    expect(specifiers("import { a } from '../x.ts';\nexport * from './y.ts';\nawait import('z');")).toEqual([
      '../x.ts',
      './y.ts',
      'z',
    ]);
    expect(all.some(({ from, to }) => from === 'lib/run.ts' && to === 'api/v1alpha1/index.ts')).toBe(true);
  });
});
