// The image cache of the real node's tests keeps the archives of a ref used last, not every build.
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { pruneImages } from './harness/index.ts';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('keeps the three archives of a ref used last, and those of other refs', async () => {
  dir = await mkdtemp(join(tmpdir(), 'hookgate-images-'));
  const files = ['a', 'b', 'c', 'd', 'e'].map((k) => `hookgate.local_hookgate_dev-${k}.tar`);
  for (const [i, name] of [...files, 'hookgate.local_busybox_1-x.tar'].entries()) {
    await writeFile(join(dir, name), '');
    // e, the newest, then d, c; b and a are older than the three kept.
    const at = new Date(Date.UTC(2026, 0, 1, 0, i));
    await utimes(join(dir, name), at, at);
  }
  await pruneImages(dir, 'hookgate.local_hookgate_dev-');
  expect((await readdir(dir)).sort()).toEqual([
    'hookgate.local_busybox_1-x.tar',
    'hookgate.local_hookgate_dev-c.tar',
    'hookgate.local_hookgate_dev-d.tar',
    'hookgate.local_hookgate_dev-e.tar',
  ]);
});
