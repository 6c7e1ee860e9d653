// Every relative link of the docs reaches a file, and every #anchor a heading of it: docs moved
// between files must not leave readers (or the probes that read them) at a dead end.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const DOCS = [
  'README.md',
  'BENCHMARKS.md',
  'examples/README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_\- ]/gu, '')
    .replaceAll(' ', '-');

function anchors(file: string): Set<string> {
  const headings = readFileSync(file, 'utf8').matchAll(/^#+ (.*)$/gm);
  return new Set([...headings].map((m) => anchorOf(m[1]!)));
}

/** Links outside code: `[text](target)` whose target has no scheme. */
function links(text: string): string[] {
  const prose = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/.test(t));
}

function brokenLinks(file: string): string[] {
  const broken: string[] = [];
  for (const target of links(readFileSync(file, 'utf8'))) {
    const [path, fragment] = target.split('#', 2) as [string, string | undefined];
    const to = path ? resolve(dirname(file), path) : file;
    if (!existsSync(to)) broken.push(`${target}: no such file`);
    else if (fragment && to.endsWith('.md') && !anchors(to).has(fragment))
      broken.push(`${target}: no such heading`);
  }
  return broken;
}

describe('documentation links', () => {
  it.each(DOCS)('%s links only to files and headings that exist', (doc) => {
    expect(brokenLinks(join(ROOT, doc))).toEqual([]);
  });

  it('catches a missing file and a missing heading', () => {
    expect(anchorOf('Why didn’t my webhook run?')).toBe('why-didnt-my-webhook-run');
    const broken = brokenLinks(join(ROOT, 'scripts/testdata/broken-links.md'));
    expect(broken).toEqual(['nowhere.md: no such file', '../../README.md#no-such-heading: no such heading']);
  });
});
