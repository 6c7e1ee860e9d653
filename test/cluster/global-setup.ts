// vitest globalSetup of the `cluster` project: one control plane per test run, hookgate's CRDs
// applied, and the connection details provided to the test files (see test/helpers.ts).
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { type ClusterInfo, startControlPlane } from './controlplane.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ClusterInfo;
  }
}

const run = promisify(execFile);

export default async function setup(project: TestProject) {
  const cp = await startControlPlane();
  try {
    const crdDir = join(project.config.root, 'crds');
    const files = (await readdir(crdDir).catch(() => [])).filter((f) => f.endsWith('.yaml'));
    if (files.length > 0) {
      const kubectl = (...args: string[]) =>
        run(join(cp.binDir, 'kubectl'), [`--kubeconfig=${cp.kubeconfigPath}`, ...args]);
      const fileArgs = files.flatMap((f) => ['-f', join(crdDir, f)]);
      await kubectl('apply', '--server-side', '--field-manager=hookgate-test', ...fileArgs);
      await kubectl('wait', '--for=condition=Established', '--timeout=60s', ...fileArgs);
    }
  } catch (err) {
    await cp.stop();
    throw err;
  }
  const info: ClusterInfo = {
    dir: cp.dir,
    binDir: cp.binDir,
    kubeconfigPath: cp.kubeconfigPath,
    etcdUrl: cp.etcdUrl,
  };
  project.provide('cluster', info);
  return () => cp.stop();
}
