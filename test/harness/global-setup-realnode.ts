// vitest globalSetup of the `realnode` project: the control plane of the `cluster` project plus a
// real node (containerd + kubelet, realnode.ts) with the busybox, pause and hookgate images loaded. On a
// machine that cannot run one, the tests skip with the reason; in CI that is a failure.
import type { TestProject } from 'vitest/node';
import { installCrds } from './components.ts';
import { type ClusterInfo, startControlPlane } from './controlplane.ts';
import { hookgateImage } from './images.ts';
import { type RealNode, realNodeUnsupported, startRealNode } from './realnode.ts';

export interface RealNodeInfo {
  name: string;
  podLogsDir: string;
  /** `hookgate.local/busybox:<version>`, loaded in the node's containerd. */
  busybox: string;
  /** hookgate's own image (images.ts), loaded in the node's containerd. */
  hookgate: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ClusterInfo;
    realNode: RealNodeInfo | { skip: string };
  }
}

export default async function setup(project: TestProject) {
  const reason = realNodeUnsupported();
  if (reason) {
    if (process.env.CI === 'true') throw new Error(`real node tests cannot run here: ${reason}`);
    process.stderr.write(`[realnode] SKIPPED: no real node on this machine: ${reason}\n`);
    project.provide('realNode', { skip: reason });
    return;
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const cp = await startControlPlane({ log });
  let node: RealNode | undefined;
  try {
    await installCrds(cp);
    node = await startRealNode(cp, log);
    const image = await hookgateImage();
    await node.importImage(image);
  } catch (err) {
    await cp.stop();
    throw err;
  }
  project.provide('cluster', {
    dir: cp.dir,
    binDir: cp.binDir,
    kubeconfigPath: cp.kubeconfigPath,
    etcdUrl: cp.etcdUrl,
  });
  project.provide('realNode', {
    name: node.name,
    podLogsDir: node.podLogsDir,
    busybox: node.images.find((i) => i.ref.includes('/busybox:'))!.ref,
    hookgate: node.images.find((i) => i.ref.includes('/hookgate:'))!.ref,
  });
  return async () => {
    await node.stop();
    await cp.stop();
  };
}
