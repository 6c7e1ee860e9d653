// vitest globalSetup of the `cluster` project: one control plane per test run, hookgate's CRDs
// applied, and the connection details provided to the test files (see test/helpers.ts).
import type { TestProject } from 'vitest/node';
import { installCrds } from './components.ts';
import { type ClusterInfo, startControlPlane } from './controlplane.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ClusterInfo;
  }
}

export default async function setup(project: TestProject) {
  const cp = await startControlPlane();
  try {
    await installCrds(cp);
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
