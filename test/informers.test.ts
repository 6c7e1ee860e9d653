// The list+watch informer (the operator's caches, the ingress's routes and runs) against the real API
// server: what it must get right (resuming after an outage, relisting on 410 Gone, the server's
// label and namespace filtering) is the server's behaviour, which a fake would only restate.
import {
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Job,
} from '@kubernetes/client-node';
import { type Logger, pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Informer } from '../lib/informer.ts';
import type { ApiServer } from './harness/index.ts';
import { apiServerMetric, kubeConfig, startApiServer, useNamespace, waitFor } from './helpers.ts';

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

describe('Informer', () => {
  const create = (namespace: string, name: string, labels: Record<string, string>) =>
    core.createNamespacedConfigMap({ namespace, body: { metadata: { name, labels } } });
  const change = (cm: V1ConfigMap) =>
    core.replaceNamespacedConfigMap({
      namespace: cm.metadata!.namespace!,
      name: cm.metadata!.name!,
      body: { ...cm, data: { changed: 'yes' } },
    });

  function informer(
    test: string,
    opts: { kc?: KubeConfig; namespaces?: string[]; log?: Logger; watchTimeoutSeconds?: number } = {},
  ) {
    const resource = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' };
    const i = new Informer<V1ConfigMap>(
      opts.kc ?? admin,
      { ...resource, labelSelector: selector(test), watchTimeoutSeconds: opts.watchTimeoutSeconds },
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

  it('keeps only what its transform returns, for listed, watched and deleted objects alike', async () => {
    await core.createNamespacedConfigMap({
      namespace: ns.name,
      body: { metadata: { name: 'big', labels: label('transform') }, data: { payload: 'x'.repeat(4096) } },
    });
    const slim = (o: KubernetesObject): KubernetesObject => ({
      metadata: { name: o.metadata?.name, namespace: o.metadata?.namespace, resourceVersion: rv(o) },
    });
    const i = new Informer<V1ConfigMap>(
      admin,
      {
        group: '',
        version: 'v1',
        plural: 'configmaps',
        labelSelector: selector('transform'),
        transform: slim,
      },
      [ns.name],
      quiet,
    );
    const seen: V1ConfigMap[] = [];
    i.addEventHandler({
      add: (o) => seen.push(o),
      update: (_, o) => seen.push(o),
      delete: (o) => seen.push(o),
    });
    cleanup.push(() => i.stop());
    i.start();
    await i.waitForSync();
    await core.createNamespacedConfigMap({
      namespace: ns.name,
      body: {
        metadata: { name: 'watched', labels: label('transform') },
        data: { payload: 'y'.repeat(4096) },
      },
    });
    await core.deleteNamespacedConfigMap({ namespace: ns.name, name: 'big' });
    await waitFor(() => seen.length >= 3, { what: 'the add, add and delete' });
    expect(names(seen)).toEqual(['big', 'big', 'watched']);
    for (const o of [...seen, ...i.list()]) expect(o.data).toBeUndefined();
    expect(i.get({ namespace: ns.name, name: 'watched' })?.metadata?.resourceVersion).toBeDefined();
  });

  it('resumes a watch the server ended from its last version, without listing again', async () => {
    // An API server of its own, whose request counters then count this informer's requests.
    const server = await startApiServer();
    cleanup.push(() => server.stop());
    const own = new KubeConfig();
    own.loadFromFile(server.kubeconfigPath);
    const requests = (verb: string) =>
      apiServerMetric(own, 'apiserver_request_total', { resource: 'configmaps', scope: 'namespace', verb });
    const before = { lists: await requests('LIST'), watches: await requests('WATCH') };

    const { informer: i, events } = informer('resume', { kc: own, watchTimeoutSeconds: 1 });
    i.start();
    await i.waitForSync();
    // apiserver_request_total counts a watch when it ends: three ended means two resumes.
    await waitFor(async () => (await requests('WATCH')) - before.watches >= 3, {
      timeoutMs: 60_000,
      what: 'three watches ended by the server',
    });
    await create(ns.name, 'later', label('resume'));
    await waitFor(() => events.includes('add later'), { what: 'the event after the resumes' });
    expect((await requests('LIST')) - before.lists).toBe(1);
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

  // Regression: an operator watching more than 10 namespaces printed MaxListenersExceededWarning,
  // every reflector listening on the one stop signal.
  it('watches 15 namespaces without a listener-leak warning', async () => {
    const seen: string[] = [];
    const onWarning = (w: Error) => seen.push(w.name);
    process.on('warning', onWarning);
    cleanup.push(async () => process.off('warning', onWarning));
    const many = [ns.name, second.name, ...Array.from({ length: 13 }, (_, n) => `informers-absent-${n}`)];
    const { informer: i } = informer('many', { namespaces: many });
    i.start();
    await i.waitForSync();
    await create(ns.name, 'many-1', label('many'));
    await waitFor(() => i.get({ namespace: ns.name, name: 'many-1' }), { what: 'many-1 cached' });
    // Warnings are emitted on the next tick.
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).not.toContain('MaxListenersExceededWarning');
  });

  it('follows labelled Jobs in all namespaces (as the ingress launcher does)', async () => {
    const job = (name: string, labels: Record<string, string>) => ({
      metadata: { name, labels },
      // Suspended: nothing to run.
      spec: {
        suspend: true,
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } },
      },
    });
    await batch.createNamespacedJob({ namespace: ns.name, body: job('listed', label('jobs')) });
    const jobs = { group: 'batch', version: 'v1', plural: 'jobs', labelSelector: selector('jobs') };
    const i = new Informer<V1Job>(admin, jobs, [], quiet);
    const events: string[] = [];
    i.addEventHandler({
      add: (o) => events.push(`add ${o.metadata?.name}`),
      update: () => {},
      delete: (o) => events.push(`delete ${o.metadata?.name}`),
    });
    cleanup.push(() => i.stop());
    i.start();
    await i.waitForSync();
    expect(i.get({ namespace: ns.name, name: 'listed' })).toBeDefined();

    // Created before the labelled one, so delivered first had the selector not applied.
    await batch.createNamespacedJob({ namespace: second.name, body: job('unlabelled', {}) });
    await batch.createNamespacedJob({ namespace: second.name, body: job('watched', label('jobs')) });
    await waitFor(() => i.get({ namespace: second.name, name: 'watched' }), { what: 'the watched Job' });
    await batch.deleteNamespacedJob({ namespace: ns.name, name: 'listed', propagationPolicy: 'Background' });
    await waitFor(() => events.includes('delete listed'), { what: 'the deleted Job' });
    expect(i.get({ namespace: ns.name, name: 'listed' })).toBeUndefined();
    expect(names(i.list())).toEqual(['watched']);
    expect(names(i.list(second.name))).toEqual(['watched']);
    expect(events.filter((e) => e.includes('unlabelled'))).toEqual([]);
  });

  it('add() caches what the caller created, and keeps a newer version the watch delivered', async () => {
    const { informer: i, events } = informer('add');
    i.start();
    await i.waitForSync();
    const created = await create(ns.name, 'a', label('add'));
    const changed = await change(created);
    await waitFor(() => events.includes(`update a ${rv(created)}->${rv(changed)}`), { what: 'the change' });
    // What the launcher does with the object a create returned, after the watch has moved past it.
    i.add(created);
    expect(i.get({ namespace: ns.name, name: 'a' })?.metadata?.resourceVersion).toBe(rv(changed));

    // Unlabelled: the watch never delivers it, so only add() can have put it there.
    const unwatched = await create(ns.name, 'b', {});
    i.add(unwatched);
    expect(i.get({ namespace: ns.name, name: 'b' })?.metadata?.resourceVersion).toBe(rv(unwatched));
    expect(events.at(-1)).toBe('add b');
  });

  it('metadataOnly lists and watches PartialObjectMetadata; transform decides what is cached', async () => {
    const big = 'x'.repeat(100_000);
    const secret = (name: string) =>
      core.createNamespacedSecret({
        namespace: ns.name,
        body: { metadata: { name, labels: label('meta'), annotations: { note: big } }, stringData: { big } },
      });
    const first = await secret('first');
    const seen: KubernetesObject[] = [];
    const i = new Informer<KubernetesObject>(
      admin,
      {
        group: '',
        version: 'v1',
        plural: 'secrets',
        labelSelector: selector('meta'),
        metadataOnly: true,
        transform: (o) => {
          seen.push(o);
          return {
            metadata: { namespace: o.metadata?.namespace, name: o.metadata?.name, resourceVersion: rv(o) },
          };
        },
      },
      // The second namespace has none: an empty PartialObjectMetadataList comes with `items: null`.
      [ns.name, second.name],
      quiet,
    );
    const events: string[] = [];
    i.addEventHandler({
      add: (o) => events.push(`add ${o.metadata?.name} ${JSON.stringify(o)}`),
      update: (_, b) => events.push(`update ${b.metadata?.name}`),
      delete: (o) => events.push(`delete ${o.metadata?.name} ${Object.keys(o.metadata ?? {}).length}`),
    });
    cleanup.push(() => i.stop());
    i.start();
    await i.waitForSync();
    const later = await secret('later');
    await core.deleteNamespacedSecret({ namespace: ns.name, name: 'first' });
    await waitFor(() => events.some((e) => e.startsWith('delete first')), { what: 'the watch events' });
    const cached = (name: string, o: KubernetesObject) =>
      JSON.stringify({ metadata: { namespace: ns.name, name, resourceVersion: rv(o) } });
    expect(events).toEqual([
      `add first ${cached('first', first)}`,
      `add later ${cached('later', later)}`,
      'delete first 3',
    ]);
    expect(i.list()).toEqual([JSON.parse(cached('later', later))]);
    // From the list and from the watch, the server sent metadata only: the data never crossed the wire.
    expect(seen.map((o) => [o.metadata?.name, 'data' in o])).toEqual([
      ['first', false],
      ['later', false],
      ['first', false],
    ]);
    expect(seen[0]?.metadata?.annotations?.note).toBe(big);
  });
});
