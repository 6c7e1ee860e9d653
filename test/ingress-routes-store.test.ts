// The ingress's route Secret store against a real API server, running as a ServiceAccount with
// exactly the ingress RBAC of docs/design.md (set up as for test/ingress-launch.test.ts).
import { Writable } from 'node:stream';
import { CoreV1Api } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Route } from '../api/v1alpha1/index.ts';
import { RouteStore } from '../ingress/routes-store.ts';
import { waitFor } from './helpers.ts';
import {
  admin,
  app,
  asIngress,
  log,
  other,
  own,
  route,
  useIngressLaunch,
} from './ingress-launch.test-helper.ts';

useIngressLaunch();

describe('RouteStore', () => {
  const routeSecret = (namespace: string, name: string, route: Route) => ({
    metadata: { name, namespace, labels: { 'hookgate.io/route': 'true' } },
    stringData: { 'route.json': JSON.stringify(route) },
  });

  it('picks up a route Secret within seconds, drops it on delete, ignores other namespaces', async () => {
    const core = admin.makeApiClient(CoreV1Api);
    await core.createNamespacedSecret({
      namespace: own.name,
      body: routeSecret(own.name, 'hookgate-route-before', route('allow', 'before')),
    });
    const store = new RouteStore(asIngress, own.name, log);
    try {
      await store.start();
      expect(store.ready).toBe(true);
      expect(store.match(`/hooks/${app.name}/before`)?.name).toBe('before');

      const later = route('allow', 'later');
      await core.createNamespacedSecret({
        namespace: own.name,
        body: routeSecret(own.name, 'hookgate-route-later', later),
      });
      await core.createNamespacedSecret({
        namespace: other.name,
        body: routeSecret(other.name, 'hookgate-route-elsewhere', route('allow', 'elsewhere')),
      });
      await waitFor(() => store.match(later.path), { timeoutMs: 5000, what: 'the new route' });
      // Routes of one Workflow share one copy of its spec, and of every other part equal in both.
      const before = store.match(`/hooks/${app.name}/before`)!;
      const served = store.match(later.path)!;
      expect(served.workflow.spec).toEqual(before.workflow.spec);
      expect(served.workflow.spec).toBe(before.workflow.spec);
      for (const part of ['rateLimit', 'input', 'response'] as const) {
        expect(served[part]).toBeDefined();
        expect(served[part]).toBe(before[part]);
      }

      await core.deleteNamespacedSecret({ namespace: own.name, name: 'hookgate-route-later' });
      await waitFor(() => store.match(later.path) === undefined, {
        timeoutMs: 5000,
        what: 'the route to go',
      });
      expect(store.match(`/hooks/${app.name}/elsewhere`)).toBeUndefined();
      expect(store.size).toBe(1);
      // The last route of a part gives it back: the store does not keep every part it ever shared.
      await core.deleteNamespacedSecret({ namespace: own.name, name: 'hookgate-route-before' });
      await waitFor(() => store.size === 0, { timeoutMs: 5000, what: 'the last route to go' });
      // biome-ignore lint/complexity/useLiteralKeys: the store's private table, read by this test only
      expect(store['parts'].size).toBe(0);
    } finally {
      await store.stop();
    }
  });

  it('skips invalid route Secrets without logging their content, and follows changes', async () => {
    const core = admin.makeApiClient(CoreV1Api);
    const raw = (name: string, content: string) => ({
      metadata: { name, namespace: own.name, labels: { 'hookgate.io/route': 'true' } },
      stringData: { 'route.json': content },
    });
    const badJson = '{"tokens": ["hgt_leak';
    const badSchema = JSON.stringify({
      ...route('allow', 'bad-schema'),
      auth: { tokens: [{ value: 'hgt_leak' }] },
      maxBodyBytes: 'lots',
    });
    const valid = route('allow', 'valid');
    await core.createNamespacedSecret({ namespace: own.name, body: raw('hookgate-route-bad-json', badJson) });
    await core.createNamespacedSecret({
      namespace: own.name,
      body: raw('hookgate-route-bad-schema', badSchema),
    });
    await core.createNamespacedSecret({
      namespace: own.name,
      body: routeSecret(own.name, 'hookgate-route-valid', valid),
    });

    const lines: string[] = [];
    const captured = pino(
      { level: 'debug' },
      new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    );
    const store = new RouteStore(asIngress, own.name, captured);
    try {
      expect(store.ready).toBe(false);
      await store.start();
      const matched = store.match(valid.path);
      expect(matched?.name).toBe('valid');
      expect(store.match(`/hooks/${app.name}/bad-schema`)).toBeUndefined();
      const skipped = lines.filter((l) => l.includes('skipped')).map((l) => JSON.parse(l).secret);
      expect(skipped.sort()).toEqual(['hookgate-route-bad-json', 'hookgate-route-bad-schema']);

      // A change swaps in a new object; whoever matched the old one keeps it unchanged.
      const rotated = { ...valid, auth: { tokens: [{ value: 'hgt_rotated' }] } };
      await core.replaceNamespacedSecret({
        namespace: own.name,
        name: 'hookgate-route-valid',
        body: routeSecret(own.name, 'hookgate-route-valid', rotated),
      });
      await waitFor(() => store.match(valid.path)?.auth.tokens?.[0]?.value === 'hgt_rotated', {
        timeoutMs: 5000,
        what: 'the rotated route',
      });
      expect(matched?.auth.tokens?.[0]?.value).toBe('hgt_test');

      // An update that no longer parses drops the route rather than serve stale credentials.
      await core.replaceNamespacedSecret({
        namespace: own.name,
        name: 'hookgate-route-valid',
        body: raw('hookgate-route-valid', 'not json'),
      });
      await waitFor(() => store.match(valid.path) === undefined, {
        timeoutMs: 5000,
        what: 'the route to go',
      });

      const logged = lines.join('');
      expect(logged).not.toContain('hgt_');
      for (const content of [badJson, badSchema, 'not json']) {
        expect(logged).not.toContain(Buffer.from(content).toString('base64'));
      }
    } finally {
      await store.stop();
    }
  });
});
