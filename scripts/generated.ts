// What every generator does with what it renders (path relative to the repository → content): with
// `--check`, exit 1 naming what differs from the checked-in files; otherwise write those that changed.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

/** A checked-in file, or undefined where there is none. */
export const readRepoFile = (path: string) => readFile(join(ROOT, path), 'utf8').catch(() => undefined);

/** The files whose checked-in text is not what was rendered, one line each. */
export async function differing(files: Map<string, string>): Promise<string[]> {
  const problems: string[] = [];
  for (const [path, want] of files) {
    const have = await readRepoFile(path);
    if (have !== want) problems.push(`${path}: ${have === undefined ? 'missing' : 'differs'}`);
  }
  return problems;
}

/**
 * Checks (`--check` on the command line) or writes `files`. `drift` finds the problems (default:
 * `differing`); `stale` says what to do about them, `fresh` that there are none.
 */
export async function checkOrWrite(
  files: Map<string, string>,
  say: { stale: string; fresh: string },
  drift: (files: Map<string, string>) => Promise<string[]> = differing,
): Promise<void> {
  if (process.argv.includes('--check')) {
    const problems = await drift(files);
    if (problems.length > 0) {
      console.error(`${say.stale}:\n  ${problems.join('\n  ')}`);
      process.exit(1);
    }
    console.log(say.fresh);
    return;
  }
  for (const [path, content] of files) {
    if ((await readRepoFile(path)) === content) continue;
    await mkdir(dirname(join(ROOT, path)), { recursive: true });
    await writeFile(join(ROOT, path), content);
    console.log(`wrote ${path}`);
  }
}
