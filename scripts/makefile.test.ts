// `make help` lists every target from its `## target: what it does` comment.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');

const phony = (file: string) =>
  [...readFileSync(resolve(ROOT, file), 'utf8').matchAll(/^\.PHONY:(.*)$/gm)].flatMap((m) =>
    m[1]!.trim().split(/\s+/),
  );

describe('make help', () => {
  it('lists every target with what it does', () => {
    const out = execFileSync('make', ['-s', '--no-print-directory', 'help'], { cwd: ROOT, encoding: 'utf8' });
    const listed = new Map(
      out
        .split('\n')
        .map((l) => /^ {2}([a-z-]+) +(\S.*)$/.exec(l))
        .filter((m) => m !== null)
        .map((m) => [m[1]!, m[2]!]),
    );
    const targets = [...phony('Makefile'), ...phony('hack/kind.mk')];
    expect(targets.length).toBeGreaterThan(10);
    expect(targets.filter((t) => !listed.has(t))).toEqual([]);
    expect(listed.get('test')).toMatch(/unit tests/);
  });
});
