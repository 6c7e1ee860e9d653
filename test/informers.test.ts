// Both list+watch informers against the real API server: what they must get right (resuming after
// an outage, relisting on 410 Gone, the server's label and namespace filtering) is the server's
// behaviour, which a fake would only restate.
import {
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Job,
  type V1Secret,
} from '@kubernetes/client-node';
import { type Logger, pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Informer as IngressInformer } from '../ingress/run/informer.ts';
import { makeClient, withSignal } from '../ingress/run/kube.ts';
import { Informer as OperatorInformer } from '../operator/runtime/informer.ts';
import type { ApiServer } from './cluster/controlplane.ts';
import { kubeConfig, startApiServer, useNamespace, waitFor } from './helpers.ts';

const ns = useNamespace('informers');
const second = useNamespace('informers-2');
const outside = useNamespace('informers-out');
const admin = kubeConfig();
const core = admin.makeApiClient(CoreV1Api);
const batch = admin.makeApiClient(BatchV1Api);
const quiet = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
// An outage lasts an API server's stop and start, and the informers' backoff grows meanwhile (to 16 s
// or more) before their next try.
const OUTAGE = { timeout: 240_000 };
const RECOVERY = { timeoutMs: 90_000 };

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const rv = (o: KubernetesObject) => o.metadata!.resourceVersion!;
const names = (objs: Iterable<KubernetesObject>) => [...objs].map((o) => o.metadata?.name).sort();
/** Each test selects its own objects, so none sees another's (or the kube-root-ca.crt ConfigMap). */
const label = (test: string) => ({ 'informers-test': test });
const selector = (test: string) => `informers-test=${test}`;

/** A logger that keeps the informers' warnings, to see them retry. */
function warnings(): { log: Logger; failures: () => number } {
  const lines: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
  return { log, failures: () => lines.filter((l) => l.includes('list/watch failed')).length };
}

/**
 * One more API server on the same etcd, for the informer under test, which we can take down and bring
 * back at the same address (what a client sees when its API server restarts). Changes meanwhile go
 * through the main one.
 */
async function restartableApiServer() {
  let api: ApiServer | undefined = await startApiServer();
  const { port } = api;
  const kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfigPath);
  cleanup.push(() => api?.stop() ?? Promise.resolve());
  return {
    kc,
    async down() {
      await api?.stop();
      api = undefined;
    },
    async up() {
      api = await startApiServer({ port });
    },
  };
}

describe('operator informer', () => {
  const create = (namespace: string, name: string, labels: Record<string, string>) =>
    core.createNamespacedConfigMap({ namespace, body: { metadata: { name, labels } } });
  const change = (cm: V1ConfigMap) =>
    core.replaceNamespacedConfigMap({
      namespace: cm.metadata!.namespace!,
      name: cm.metadata!.name!,
      body: { ...cm, data: { changed: 'yes' } },
    });

  function informer(test: string, opts: { kc?: KubeConfig; namespaces?: string[]; log?: Logger } = {}) {
    const resource = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' };
    const i = new OperatorInformer<V1ConfigMap>(
      opts.kc ?? admin,
      { ...resource, labelSelector: selector(test) },
      opts.namespaces ?? [ns.name],
      opts.log ?? quiet,
    );
    const events: string[] = [];
    i.addEventHandler({
      add: (o) => events.push(`add ${o.metadata?.name}`),
      update: (a, b) => events.push(`update ${b.metadata?.name} ${rv(a)}->${rv(b)}`),
      delete: (o) => events.push(`delete ${o.metadata?.name}`),
    });
    cleanup.push(() => i.stop());
    return { informer: i, events };
  }

  it('lists, reports synced, then follows the watch with old and new objects', async () => {
    const one = await create(ns.name, 'one', label('follow'));
    const { informer: i, events } = informer('follow');
    expect(i.hasSynced()).toBe(false);
    i.start();
    await i.waitForSync();
    expect(i.hasSynced()).toBe(true);
    expect(events).toEqual(['add one']);
    expect(i.get({ namespace: ns.name, name: 'one' })?.metadata?.resourceVersion).toBe(rv(one));

    const changed = await change(one);
    await create(ns.name, 'two', label('follow'));
    await core.deleteNamespacedConfigMap({ namespace: ns.name, name: 'two' });
    await waitFor(() => events.length >= 4, { what: 'the watch events' });
    expect(events).toEqual(['add one', `update one ${rv(one)}->${rv(changed)}`, 'add two', 'delete two']);
    expect(names(i.list())).toEqual(['one']);
    expect(i.get({ namespace: ns.name, name: 'one' })?.data).toEqual({ changed: 'yes' });
    expect(i.get({ namespace: ns.name, name: 'two' })).toBeUndefined();
  });

  it('watches several namespaces with a label selector as one cache, and nothing outside them', async () => {
    await create(ns.name, 'listed-1', label('namespaces'));
    await create(second.name, 'listed-2', label('namespaces'));
    await create(second.name, 'unlabelled', {});
    await create(outside.name, 'outside', label('namespaces'));
    const { informer: i, events } = informer('namespaces', { namespaces: [ns.name, second.name] });
    i.start();
    await i.waitForSync();
    expect(names(i.list())).toEqual(['listed-1', 'listed-2']);
    expect(names(i.list(second.name))).toEqual(['listed-2']);
    expect(i.get({ namespace: second.name, name: 'listed-2' })).toBeDefined();
    expect(i.get({ namespace: outside.name, name: 'outside' })).toBeUndefined();

    // A watch delivers in order, so once the later objects are in, the ones created before them
    // would have been too, had the informer seen them.
    await create(outside.name, 'outside-later', label('namespaces'));
    await create(ns.name, 'unlabelled-later', {});
    await create(ns.name, 'watched-1', label('namespaces'));
    await create(second.name, 'watched-2', label('namespaces'));
    await waitFor(() => events.includes('add watched-1') && events.includes('add watched-2'), {
      what: 'the watched objects',
    });
    expect([...events].sort()).toEqual(['add listed-1', 'add listed-2', 'add watched-1', 'add watched-2']);
    expect(names(i.list())).toEqual(['listed-1', 'listed-2', 'watched-1', 'watched-2']);
  });

  it(
    'reports what changed while its API server was down, once it is back, and watches again',
    OUTAGE,
    async () => {
      const server = await restartableApiServer();
      const stays = await create(ns.name, 'stays', label('outage'));
      await create(ns.name, 'goes', label('outage'));
      await create(ns.name, 'same', label('outage'));
      const { informer: i, events } = informer('outage', { kc: server.kc });
      i.start();
      await i.waitForSync();
      // The watch is up, so the outage cuts it.
      await create(ns.name, 'before', label('outage'));
      await waitFor(() => events.includes('add before'), { what: 'the watch before the outage' });

      await server.down();
      const beforeOutage = events.length;
      await core.deleteNamespacedConfigMap({ namespace: ns.name, name: 'goes' });
      const changed = await change(stays);
      await create(ns.name, 'new', label('outage'));
      await server.up();

      await waitFor(() => events.length >= beforeOutage + 3, {
        ...RECOVERY,
        what: 'the changes from the outage',
      });
      expect(events.slice(beforeOutage).sort()).toEqual([
        'add new',
        'delete goes',
        `update stays ${rv(stays)}->${rv(changed)}`,
      ]);
      expect(names(i.list())).toEqual(['before', 'new', 'same', 'stays']);
      expect(i.get({ namespace: ns.name, name: 'stays' })?.metadata?.resourceVersion).toBe(rv(changed));

      await create(ns.name, 'after', label('outage'));
      await waitFor(() => events.includes('add after'), { ...RECOVERY, what: 'the watch after the outage' });
      expect(events.length).toBe(beforeOutage + 4);
    },
  );

  it(
    'retries a list that fails while the API server is down, and is not synced until one succeeds',
    OUTAGE,
    async () => {
      const server = await restartableApiServer();
      await server.down();
      await create(ns.name, 'listed', label('list-fails'));
      const { log, failures } = warnings();
      const { informer: i } = informer('list-fails', { kc: server.kc, log });
      i.start();
      await waitFor(() => failures() >= 2, { what: 'two failed lists' });
      expect(i.hasSynced()).toBe(false);
      expect(i.list()).toEqual([]);

      await server.up();
      await waitFor(() => i.hasSynced(), { ...RECOVERY, what: 'the list to succeed' });
      expect(names(i.list())).toEqual(['listed']);
    },
  );
});

describe('ingress informer', () => {
  const secret = (name: string, labels: Record<string, string>) => ({
    metadata: { name, labels },
    stringData: { k: 'v' },
  });
  const create = (name: string, labels: Record<string, string>) =>
    core.createNamespacedSecret({ namespace: ns.name, body: secret(name, labels) });
  const change = (s: V1Secret) =>
    core.replaceNamespacedSecret({
      namespace: ns.name,
      name: s.metadata!.name!,
      body: { ...s, stringData: { k: 'changed' } },
    });
  const remove = (name: string) => core.deleteNamespacedSecret({ namespace: ns.name, name });

  function recorder() {
    const seen: string[] = [];
    return {
      seen,
      onUpsert: (o: KubernetesObject) => seen.push(`upsert ${o.metadata?.name}@${rv(o)}`),
      onDelete: (o: KubernetesObject) => seen.push(`delete ${o.metadata?.name}`),
    };
  }

  /** Route Secrets in one namespace, built as ingress/routes-store.ts builds it. */
  function secrets(test: string, opts: { kc?: KubeConfig; log?: Logger } = {}) {
    const kc = opts.kc ?? admin;
    const lists = makeClient(kc, CoreV1Api, 60_000);
    const namespace = ns.name;
    const labelSelector = selector(test);
    const { seen, onUpsert, onDelete } = recorder();
    const informer = new IngressInformer<V1Secret>(kc, {
      path: `/api/v1/namespaces/${namespace}/secrets`,
      labelSelector,
      list: (signal) => lists.listNamespacedSecret({ namespace, labelSelector }, withSignal(signal)),
      log: opts.log ?? quiet,
      onUpsert,
      onDelete,
    });
    cleanup.push(() => informer.stop());
    return { informer, seen };
  }

  it('lists, reports synced, then follows the watch (Secrets, as the route store)', async () => {
    const one = await create('one', label('follow'));
    const { informer, seen } = secrets('follow');
    expect(informer.hasSynced).toBe(false);
    await informer.start();
    expect(informer.hasSynced).toBe(true);
    expect(seen).toEqual([`upsert one@${rv(one)}`]);

    const changed = await change(one);
    const two = await create('two', label('follow'));
    await remove('two');
    await waitFor(() => seen.length >= 4, { what: 'the watch events' });
    expect(seen).toEqual([
      `upsert one@${rv(one)}`,
      `upsert one@${rv(changed)}`,
      `upsert two@${rv(two)}`,
      'delete two',
    ]);
    expect(names(informer.list())).toEqual(['one']);
    expect(informer.get(ns.name, 'one')?.metadata?.resourceVersion).toBe(rv(changed));
    expect(informer.get(ns.name, 'two')).toBeUndefined();
  });

  it('follows labelled Jobs in all namespaces (as the launcher)', async () => {
    const job = (name: string, labels: Record<string, string>) => ({
      metadata: { name, labels },
      // Suspended: nothing to run.
      spec: {
        suspend: true,
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } },
      },
    });
    await batch.createNamespacedJob({ namespace: ns.name, body: job('listed', label('jobs')) });
    const lists = makeClient(admin, BatchV1Api, 60_000);
    const labelSelector = selector('jobs');
    const { seen, onUpsert, onDelete } = recorder();
    const informer = new IngressInformer<V1Job>(admin, {
      path: '/apis/batch/v1/jobs',
      labelSelector,
      list: (signal) => lists.listJobForAllNamespaces({ labelSelector }, withSignal(signal)),
      log: quiet,
      onUpsert,
      onDelete,
    });
    cleanup.push(() => informer.stop());
    await informer.start();
    expect(informer.get(ns.name, 'listed')).toBeDefined();

    // Created before the labelled one, so delivered first had the selector not applied.
    await batch.createNamespacedJob({ namespace: second.name, body: job('unlabelled', {}) });
    await batch.createNamespacedJob({ namespace: second.name, body: job('watched', label('jobs')) });
    await waitFor(() => informer.get(second.name, 'watched'), { what: 'the watched Job' });
    await batch.deleteNamespacedJob({ namespace: ns.name, name: 'listed', propagationPolicy: 'Background' });
    await waitFor(() => seen.includes('delete listed'), { what: 'the deleted Job' });
    expect(informer.get(ns.name, 'listed')).toBeUndefined();
    expect(names(informer.list())).toEqual(['watched']);
    expect(seen.filter((s) => s.includes('unlabelled'))).toEqual([]);
  });

  it(
    'reports what changed while its API server was down, once it is back, and watches again',
    OUTAGE,
    async () => {
      const server = await restartableApiServer();
      const stays = await create('stays', label('outage'));
      await create('goes', label('outage'));
      await create('same', label('outage'));
      const { informer, seen } = secrets('outage', { kc: server.kc });
      await informer.start();
      const before = await create('before', label('outage'));
      await waitFor(() => seen.includes(`upsert before@${rv(before)}`), {
        what: 'the watch before the outage',
      });

      await server.down();
      const beforeOutage = seen.length;
      await remove('goes');
      const changed = await change(stays);
      const added = await create('new', label('outage'));
      await server.up();

      await waitFor(() => seen.length >= beforeOutage + 3, {
        ...RECOVERY,
        what: 'the changes from the outage',
      });
      expect(seen.slice(beforeOutage).sort()).toEqual([
        'delete goes',
        `upsert new@${rv(added)}`,
        `upsert stays@${rv(changed)}`,
      ]);
      expect(names(informer.list())).toEqual(['before', 'new', 'same', 'stays']);

      const after = await create('after', label('outage'));
      await waitFor(() => seen.includes(`upsert after@${rv(after)}`), {
        ...RECOVERY,
        what: 'the watch after the outage',
      });
      expect(seen.length).toBe(beforeOutage + 4);
    },
  );

  it(
    'retries a list that fails while the API server is down, and is not synced until one succeeds',
    OUTAGE,
    async () => {
      const server = await restartableApiServer();
      await server.down();
      await create('listed', label('list-fails'));
      const { log, failures } = warnings();
      const { informer } = secrets('list-fails', { kc: server.kc, log });
      let synced = false;
      void informer.start().then(() => {
        synced = true;
      });
      await waitFor(() => failures() >= 2, { what: 'two failed lists' });
      expect(synced).toBe(false);
      expect(informer.hasSynced).toBe(false);

      await server.up();
      await waitFor(() => synced, { ...RECOVERY, what: 'the list to succeed' });
      expect(names(informer.list())).toEqual(['listed']);
    },
  );

  it('add() keeps an object the watch already delivered in a newer version', async () => {
    const { informer, seen } = secrets('add');
    await informer.start();
    const created = await create('a', label('add'));
    const changed = await change(created);
    await waitFor(() => seen.includes(`upsert a@${rv(changed)}`), { what: 'the change' });
    // What the launcher does with the object a create returned, after the watch has moved past it.
    informer.add(created);
    expect(informer.get(ns.name, 'a')?.metadata?.resourceVersion).toBe(rv(changed));

    // Unlabelled: the watch never delivers it, so only add() can have put it there.
    const unwatched = await create('b', {});
    informer.add(unwatched);
    expect(informer.get(ns.name, 'b')?.metadata?.resourceVersion).toBe(rv(unwatched));
  });
});
