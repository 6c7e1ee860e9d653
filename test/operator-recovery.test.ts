// The operator comes back (issue 20, item 13): its API server frozen for 20 s (SIGSTOP, as a hung
// server), then killed and restarted at the same address. The operator lost its Lease during the
// freeze; it must lead again on its own, without a restart: a new trigger turns Ready and a rotation
// is published within 60 s of the server's return.
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, expect, it } from 'vitest';
import type { Manager } from '../operator/runtime/manager.ts';
import type { ApiServer } from './harness/index.ts';
import { startApiServer, useNamespace, waitFor } from './helpers.ts';
import { triggerObject, useTenant, workflowObject } from './objects.test-helper.ts';
import { startReplica } from './operator-replica.test-helper.ts';

const ns = useTenant('op-recovery');
const system = useNamespace('op-recovery-sys');
let server: ApiServer | undefined;
let manager: Manager | undefined;
afterAll(async () => {
  await manager?.stop();
  await server?.stop();
});

const apply = (name: string) => ns.apply(workflowObject(name), triggerObject(name, name));
const token = async (name: string) => (await ns.secret(`${name}-credentials`)).token;

it('leads again after its API server was frozen 20 s and restarted: a new trigger Ready, a rotation published', async () => {
  server = await startApiServer();
  const kc = new KubeConfig();
  kc.loadFromFile(server.kubeconfigPath);
  const lost: string[] = [];
  manager = await startReplica({
    kubeConfig: kc,
    namespace: ns.name,
    system: system.name,
    identity: 'only-replica',
    onLeaderLost: (reason) => lost.push(reason),
  });
  const m = manager;
  await waitFor(() => m.isLeader, { what: 'the operator leads' });
  await apply('before');
  await ns.ready('before');
  const first = await token('before');

  process.kill(server.pid, 'SIGSTOP');
  await new Promise((r) => setTimeout(r, 20_000));
  expect(lost).toEqual([expect.stringMatching(/not renewed/)]);
  expect(m.isLeader).toBe(false);
  const port = server.port;
  process.kill(server.pid, 'SIGKILL');
  await server.stop();
  server = await startApiServer({ port });
  const back = Date.now();

  await apply('after');
  await ns.rotate('before', 'after-outage');
  await ns.ready('after');
  await waitFor(async () => (await token('before')) !== first, { what: 'the rotation', timeoutMs: 60_000 });
  expect(Date.now() - back).toBeLessThan(60_000);
  expect(m.isLeader).toBe(true);
}, 180_000);
