// The operator comes back (issue 20, item 13): its API server frozen for 20 s (SIGSTOP, as a hung
// server), then killed and restarted at the same address. The operator lost its Lease during the
// freeze; it must lead again on its own, without a restart: a new trigger turns Ready and a rotation
// is published within 60 s of the server's return.
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../operator/config.ts';
import { register as registerTriggers } from '../operator/controllers/webhooktrigger/index.ts';
import { register as registerWorkflows } from '../operator/controllers/workflow/index.ts';
import { Manager } from '../operator/runtime/manager.ts';
import type { ApiServer } from './harness/index.ts';
import { kubeConfig, kubectl, startApiServer, useNamespace, waitFor } from './helpers.ts';

const ns = useNamespace('op-recovery');
const system = useNamespace('op-recovery-sys');
let server: ApiServer | undefined;
let manager: Manager | undefined;
afterAll(async () => {
  await manager?.stop();
  await server?.stop();
});

const manifest = (name: string) => `
apiVersion: hookgate.io/v1alpha1
kind: Workflow
metadata: { name: ${name} }
spec:
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{ name: main, image: busybox }]
---
apiVersion: hookgate.io/v1alpha1
kind: WebhookTrigger
metadata: { name: ${name} }
spec:
  workflowRef: { name: ${name} }
  auth: { bearer: {} }
`;

const status = async (name: string) => {
  const r = await kubectl(['get', 'webhooktrigger', '-n', ns.name, name, '-o', 'json']);
  if (r.code !== 0) return undefined;
  return JSON.parse(r.stdout).status as
    | { conditions?: { type: string; status: string }[]; lastRotationTime?: string }
    | undefined;
};
const isReady = async (name: string) =>
  (await status(name))?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
const token = async (name: string) =>
  (
    await kubeConfig()
      .makeApiClient(CoreV1Api)
      .readNamespacedSecret({ namespace: ns.name, name: `${name}-credentials` })
  ).data?.token;

it('leads again after its API server was frozen 20 s and restarted: a new trigger Ready, a rotation published', async () => {
  server = await startApiServer();
  const kc = new KubeConfig();
  kc.loadFromFile(server.kubeconfigPath);
  const config = loadConfig(
    [
      '--public-base-url=https://hooks.example.test',
      `--namespaces=${ns.name}`,
      `--ingress-namespace=${system.name}`,
      `--lease-namespace=${system.name}`,
      '--identity=only-replica',
    ],
    {},
  );
  const lost: string[] = [];
  manager = new Manager({
    kubeConfig: kc,
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    namespaces: config.namespaces,
    leaderElection: {
      namespace: system.name,
      identity: 'only-replica',
      leaseDurationMs: 6_000,
      renewDeadlineMs: 4_000,
      retryPeriodMs: 500,
    },
    onLeaderLost: (reason) => lost.push(reason),
  });
  registerTriggers(manager, config);
  registerWorkflows(manager, config);
  await manager.start();
  const m = manager;
  await waitFor(() => m.isLeader, { what: 'the operator leads' });
  expect((await kubectl(['apply', '-n', ns.name, '-f', '-'], { input: manifest('before') })).code).toBe(0);
  await waitFor(() => isReady('before'), { what: 'before Ready', timeoutMs: 60_000 });
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

  expect((await kubectl(['apply', '-n', ns.name, '-f', '-'], { input: manifest('after') })).code).toBe(0);
  const rotated = await kubectl([
    'annotate',
    '-n',
    ns.name,
    'webhooktrigger',
    'before',
    'hookgate.io/rotate=after-outage',
  ]);
  expect(rotated.code, rotated.stderr).toBe(0);
  await waitFor(() => isReady('after'), { what: 'a trigger made after the outage Ready', timeoutMs: 60_000 });
  await waitFor(async () => (await token('before')) !== first, { what: 'the rotation', timeoutMs: 60_000 });
  expect(Date.now() - back).toBeLessThan(60_000);
  expect(m.isLeader).toBe(true);
}, 180_000);
