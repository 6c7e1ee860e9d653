// The local cluster harness, product-grade and shared by the tests, `make demo` and both benchmarks:
// a control plane built from source, an optional real node, and hookgate's components run as the
// chart runs them. This module is its public surface; nothing outside test/harness/ imports the
// files behind it.
export {
  type Component,
  chartNodeOptions,
  chartRunNamespaceLabels,
  checkBuild,
  type Hookgate,
  installChartRbac,
  installCrds,
  RELEASE,
  startHookgate,
  untilAdmissionEnforced,
} from './components.ts';
export {
  type ApiServer,
  apiServerPid,
  type ClusterInfo,
  type ControlPlane,
  freePorts,
  logTail,
  NODE_NAME,
  type Proc,
  pinnedVersions,
  type StartOptions,
  serviceAccountKubeconfig,
  spawnLogged,
  startApiServer,
  startControlPlane,
  terminate,
} from './controlplane.ts';
export type { RealNodeInfo } from './global-setup-realnode.ts';
export {
  busyboxImage,
  hookgateImage,
  type Image,
  nodeImages,
  PAUSE_IMAGE,
  pauseImage,
  pruneImages,
} from './images.ts';
export {
  containerLog,
  REAL_NODE,
  REAL_NODE_KEY,
  REAL_NODE_POD,
  type RealNode,
  realNodeUnsupported,
  startRealNode,
} from './realnode.ts';
export { type RunResult, runProcess } from './run.ts';
