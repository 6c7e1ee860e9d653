import type { KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeApi } from './fake-api.test-helper.ts';
import { type EventHandler, Informer } from './informer.ts';
import type { Resource } from './types.ts';

const CONFIGMAPS: Resource = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' };
const log = pino({ level: 'silent' });

function recorder(): EventHandler<KubernetesObject> & { events: string[] } {
  const events: string[] = [];
  const id = (o: KubernetesObject) => `${o.metadata?.namespace}/${o.metadata?.name}`;
  return {
    events,
    add: (o) => events.push(`add ${id(o)}`),
    update: (a, b) =>
      events.push(`update ${id(b)} ${a.metadata?.resourceVersion}->${b.metadata?.resourceVersion}`),
    delete: (o) => events.push(`delete ${id(o)}`),
  };
}

async function until(fn: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(namespaces: string[] = [], resource = CONFIGMAPS) {
  const api = new FakeApi();
  const kc = await api.listen();
  const informer = new Informer<KubernetesObject>(kc, resource, namespaces, log);
  const rec = recorder();
  informer.addEventHandler(rec);
  cleanup.push(
    () => api.close(),
    () => informer.stop(),
  );
  return { api, informer, rec };
}

describe('Informer', () => {
  it('lists, reports synced, then follows the watch with old and new objects', async () => {
    const { api, informer, rec } = await setup();
    api.put('a', 'one');
    informer.start();
    await informer.waitForSync();
    expect(informer.hasSynced()).toBe(true);
    expect(informer.get({ namespace: 'a', name: 'one' })?.metadata?.name).toBe('one');
    await until(() => api.watches.length === 1, 'watch');
    const watch = api.requests.at(-1)!;
    expect(watch.searchParams.get('resourceVersion')).toBe('101');
    expect(watch.searchParams.get('allowWatchBookmarks')).toBe('true');

    api.send('MODIFIED', api.put('a', 'one', { k: 'v' }));
    api.send('ADDED', api.put('b', 'two'));
    const two = api.objects.get('b/two')!;
    api.objects.delete('b/two');
    api.send('DELETED', two);
    await until(() => rec.events.length === 4, 'events');
    expect(rec.events).toEqual(['add a/one', 'update a/one 101->102', 'add b/two', 'delete b/two']);
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(['one']);
    expect(informer.get({ namespace: 'a', name: 'one' })?.metadata?.resourceVersion).toBe('102');
  });

  it('rewatches from the last version when the server ends the stream, without relisting', async () => {
    const { api, informer } = await setup();
    informer.start();
    await informer.waitForSync();
    await until(() => api.watches.length === 1, 'watch');
    api.send('ADDED', api.put('a', 'x'));
    api.send('BOOKMARK', { kind: 'ConfigMap', metadata: { resourceVersion: '150' } });
    await new Promise((r) => setTimeout(r, 50));
    api.endWatches();
    await until(() => api.watches.length === 1, 'second watch');
    const lists = api.requests.filter((u) => u.searchParams.get('watch') !== 'true');
    expect(lists.length).toBe(1);
    expect(api.requests.at(-1)!.searchParams.get('resourceVersion')).toBe('150');
  });

  it('relists on 410 Gone and reports what changed while it could not watch', async () => {
    const { api, informer, rec } = await setup();
    api.put('a', 'stays');
    api.put('a', 'goes');
    informer.start();
    await informer.waitForSync();
    await until(() => api.watches.length === 1, 'watch');
    // Changes the watch never delivered.
    api.objects.delete('a/goes');
    api.put('a', 'stays', { changed: 'yes' });
    api.put('a', 'new');
    api.send('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
    api.endWatches();
    await until(() => rec.events.length === 5, 'relist events');
    expect(rec.events.slice(2).sort()).toEqual(['add a/new', 'delete a/goes', 'update a/stays 101->103']);
    expect(
      informer
        .list('a')
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(['new', 'stays']);
  });

  it('retries a failing watch with backoff', async () => {
    const { api, informer } = await setup();
    api.failWatches = [500, 500];
    informer.start();
    await informer.waitForSync();
    await until(() => api.watches.length === 1, 'watch after two failures');
    expect(api.requests.filter((u) => u.searchParams.get('watch') === 'true').length).toBe(3);
  });

  it('watches a set of namespaces with a label selector, as one cache', async () => {
    const { api, informer } = await setup(['a', 'b'], { ...CONFIGMAPS, labelSelector: 'app=x' });
    api.put('a', 'one', {}, { app: 'x' });
    api.put('b', 'two', {}, { app: 'x' });
    api.put('b', 'other');
    api.put('c', 'three', {}, { app: 'x' });
    informer.start();
    await informer.waitForSync();
    const paths = api.requests.map((u) => u.pathname).sort();
    expect(paths).toEqual(['/api/v1/namespaces/a/configmaps', '/api/v1/namespaces/b/configmaps']);
    expect(api.requests.every((u) => u.searchParams.get('labelSelector') === 'app=x')).toBe(true);
    expect(
      informer
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(['one', 'two']);
    expect(informer.get({ namespace: 'b', name: 'two' })).toBeDefined();
    expect(informer.get({ namespace: 'c', name: 'three' })).toBeUndefined();
  });
});
