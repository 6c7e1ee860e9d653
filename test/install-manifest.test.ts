// deploy/install.yaml, the static install manifest: it is what the chart renders with its defaults
// today (scripts/gen-install.ts), and the real API server accepts every object in it.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { INSTALL, INSTALL_NAMESPACE, renderInstall } from '../scripts/gen-install.ts';
import { clusterInfo, kubectl } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '..');
let created = false;

afterAll(async () => {
  if (created) await kubectl(['delete', 'namespace', INSTALL_NAMESPACE, '--wait=false']);
});

describe('deploy/install.yaml', () => {
  it('is the chart rendered with its defaults (npm run gen:install writes it)', async () => {
    const have = await readFile(join(ROOT, INSTALL), 'utf8');
    expect(
      have === renderInstall(clusterInfo().binDir),
      `${INSTALL} is out of date: run \`npm run gen:install\``,
    ).toBe(true);
  });

  it('has the namespace first, no helm test pod, every object in that namespace or cluster-wide', async () => {
    const objs = parseAllDocuments(await readFile(join(ROOT, INSTALL), 'utf8'))
      .map((d) => d.toJS())
      .filter(Boolean);
    expect(objs[0]).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: INSTALL_NAMESPACE } });
    expect(objs.filter((o) => o.kind === 'Pod')).toEqual([]);
    for (const o of objs.slice(1)) expect([undefined, INSTALL_NAMESPACE]).toContain(o.metadata.namespace);
    expect(objs.map((o) => o.kind)).toEqual(
      expect.arrayContaining(['CustomResourceDefinition', 'Deployment']),
    );
  });

  it('is accepted by the API server, object by object (server-side dry run)', async () => {
    // Namespaced objects are judged in an existing namespace: make it for the dry run if needed.
    const exists = await kubectl(['get', 'namespace', INSTALL_NAMESPACE]);
    if (exists.code !== 0) {
      const r = await kubectl(['create', 'namespace', INSTALL_NAMESPACE]);
      expect(r.code, r.stderr).toBe(0);
      created = true;
    }
    const r = await kubectl([
      'apply',
      '--dry-run=server',
      '--server-side',
      '--field-manager=install-test',
      '-f',
      join(ROOT, INSTALL),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').length).toBeGreaterThan(20);
  });
});
