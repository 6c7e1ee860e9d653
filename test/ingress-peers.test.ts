// A trigger's rate limit holds across ingress replicas: three ingress processes, each knowing its
// peers from the EndpointSlices of one Service, behind a client that spreads deliveries round-robin,
// admit the limit between them, not three times it.
import { randomBytes, randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Hookgate,
  type Proc,
  RELEASE,
  serviceAccountKubeconfig,
  startHookgate,
  terminate,
} from './harness/index.ts';
import { clusterInfo, kubectl, spawnIngress, useNamespace, waitFor } from './helpers.ts';
import { applyObjects, credential, triggerObject, workflowObject } from './objects.test-helper.ts';

const _ROOT = resolve(import.meta.dirname, '..');
const app = useNamespace('peers');
const system = `hookgate-system-peers-${randomBytes(3).toString('hex')}`;
const SERVICE = 'hookgate-ingress';
const ADDRESSES = ['10.99.0.1', '10.99.0.2', '10.99.0.3'];
let hg: Hookgate;
const extra: Proc[] = [];
let urls: string[] = [];

/** The EndpointSlice a Service controller would write for the ready ingress pods. */
const slice = (addresses: string[]) => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: `${SERVICE}-abcde`, labels: { 'kubernetes.io/service-name': SERVICE } },
  addressType: 'IPv4',
  endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })),
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
});

beforeAll(async () => {
  const info = clusterInfo();
  await kubectl(['create', 'namespace', system]);
  await applyObjects(system, [slice(ADDRESSES)]);
  const peerArgs = (i: number) => [`--peers-service=${SERVICE}`, `--pod-ip=${ADDRESSES[i]}`];
  hg = await startHookgate(info, { namespace: system, ingressArgs: peerArgs(0) });
  // Two more replicas of the ingress, under the same ServiceAccount.
  const kubeconfig = await serviceAccountKubeconfig(info, system, `${RELEASE}-ingress`);
  const replicas = await Promise.all(
    [1, 2].map((i) =>
      spawnIngress(`ingress-${system}-${i}`, { kubeconfig, namespace: system, args: peerArgs(i) }),
    ),
  );
  extra.push(...replicas.map((r) => r.proc));
  urls = [hg.url, ...replicas.map((r) => r.url)];
  for (const url of urls)
    await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok, {
      what: `${url} ready`,
      timeoutMs: 60_000,
    });
  await applyObjects(app.name, [
    workflowObject('build'),
    triggerObject('limited', 'build', { spec: { rateLimit: { requests: 30, periodSeconds: 600 } } }),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all(extra.map(terminate));
  await hg?.stop();
  await kubectl(['delete', 'namespace', system, '--wait=false', '--ignore-not-found']);
});

describe('rate limits across ingress replicas', () => {
  it('three replicas behind a round-robin client admit 27-33 of a limit of 30, not 90', async () => {
    const token = await credential(app.name, 'limited');
    const send = (url: string) =>
      fetch(`${url}/hooks/${app.name}/limited`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
          'idempotency-key': randomUUID(),
        },
        body: '{}',
      });
    // Every replica serves the route before the count starts (a 404 spends nothing).
    for (const url of urls)
      await waitFor(async () => (await send(url)).status === 202, { what: `${url} serves the route` });
    const counts = new Map<number, number>();
    for (let i = 0; i < 90; i++) {
      const res = await send(urls[i % urls.length]!);
      counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
    }
    // Three deliveries were accepted while waiting for the route above.
    const accepted = (counts.get(202) ?? 0) + urls.length;
    expect(accepted).toBeGreaterThanOrEqual(27);
    expect(accepted).toBeLessThanOrEqual(33);
    expect((counts.get(202) ?? 0) + (counts.get(429) ?? 0)).toBe(90);
  });
});
