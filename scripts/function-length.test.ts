// Scripts a reader can follow: no function in scripts/ longer than 80 lines, its nested functions
// counted in (a 300-line main made of closures is still a 300-line main). Tests a reader can follow:
// no test file over 500 lines.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const MAX_LINES = 80;
const MAX_TEST_FILE_LINES = 500;
const ROOMS = ['api', 'lib', 'operator', 'ingress', 'cli', 'scripts', 'test'];

interface FunctionSpan {
  file: string;
  name: string;
  line: number;
  lines: number;
}

const nameOf = (node: ts.Node, sf: ts.SourceFile): string => {
  const named = (node as { name?: ts.Node }).name;
  if (named) return named.getText(sf);
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent)))
    return parent.name.getText(sf);
  return '(anonymous)';
};

/** Every function, method and arrow function of a source text, with its length in lines. */
function functionSpans(file: string, text: string): FunctionSpan[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const spans: FunctionSpan[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && (node as { body?: ts.Node }).body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      spans.push({ file, name: nameOf(node, sf), line: start + 1, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return spans;
}

const scripts = () =>
  readdirSync(join(ROOT, 'scripts')).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));

describe('scripts/', () => {
  it(`has no function over ${MAX_LINES} lines`, () => {
    const long = scripts()
      .flatMap((f) => functionSpans(`scripts/${f}`, readFileSync(join(ROOT, 'scripts', f), 'utf8')))
      .filter((s) => s.lines > MAX_LINES)
      .map((s) => `${s.file}:${s.line} ${s.name} (${s.lines} lines)`);
    expect(long).toEqual([]);
  });

  it('measures nested functions into their outer one', () => {
    const text = 'async function main() {\n  const f = () => {\n    return 1;\n  };\n  f();\n}\n';
    expect(functionSpans('x.ts', text).map((s) => [s.name, s.lines])).toEqual([
      ['main', 6],
      ['f', 3],
    ]);
  });
});

/** Every *.test.ts below `dir`, relative to the root. */
const testFiles = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : testFiles(path);
    return e.name.endsWith('.test.ts') ? [path] : [];
  });

describe('test files', () => {
  it(`are at most ${MAX_TEST_FILE_LINES} lines each`, () => {
    const files = ROOMS.flatMap(testFiles);
    expect(files.length).toBeGreaterThan(100);
    const long = files
      .map((f) => ({ f, lines: readFileSync(join(ROOT, f), 'utf8').split('\n').length - 1 }))
      .filter(({ lines }) => lines > MAX_TEST_FILE_LINES)
      .map(({ f, lines }) => `${f} (${lines} lines)`);
    expect(long).toEqual([]);
  });
});
