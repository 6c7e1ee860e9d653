// `make cluster`: the local control plane in the foreground until Ctrl-C.
import { startControlPlane } from './controlplane.ts';

const cp = await startControlPlane();
let stopping = false;
const shutdown = async () => {
  // A second Ctrl-C does not wait: exiting SIGKILLs what is left.
  if (stopping) process.exit(130);
  stopping = true;
  process.stderr.write('\n[cluster] stopping\n');
  await cp.stop();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
process.stdout.write(`export KUBECONFIG=${cp.kubeconfigPath}\n`);
process.stderr.write(
  `[cluster] binaries: ${cp.binDir}\n[cluster] logs: ${cp.dir}/*.log\n[cluster] Ctrl-C stops everything\n`,
);
