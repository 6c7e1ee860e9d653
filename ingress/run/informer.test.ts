import type http from 'node:http';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { event, type FakeApi, fakeApi, reply, startWatch, status } from './fake-api.test-helper.ts';
import { Informer } from './informer.ts';

const log = pino({ level: 'silent' });
const cm = (name: string, rv: string): V1ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns', resourceVersion: rv },
});
const path = '/api/v1/namespaces/ns/configmaps';

async function until(check: () => boolean, what: string) {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('Informer', () => {
  let api: FakeApi | undefined;
  let informer: Informer<V1ConfigMap> | undefined;
  afterEach(async () => {
    await informer?.stop();
    await api?.close();
  });

  function start(lists: V1ConfigMap[][], watches: ((res: http.ServerResponse) => void)[]) {
    let list = 0;
    let watch = 0;
    return fakeApi((req, res) => {
      if (req.url.pathname !== path) return reply(res, 404, status(404, 'NotFound'));
      if (req.url.searchParams.get('watch') !== 'true') {
        const items = lists[Math.min(list++, lists.length - 1)]!;
        return reply(res, 200, {
          kind: 'ConfigMapList',
          apiVersion: 'v1',
          metadata: { resourceVersion: `${list * 10}` },
          items,
        });
      }
      const script = watches[watch++];
      startWatch(res);
      script?.(res); // no script: hang like a quiet watch
    });
  }

  it('lists, watches, resumes, relists on 410 and reports what a relist removed', async () => {
    const seen: string[] = [];
    api = await start(
      [[cm('a', '1'), cm('b', '2')], [cm('a', '11')]],
      [
        (res) => {
          event(res, 'MODIFIED', cm('a', '11'));
          event(res, 'BOOKMARK', { kind: 'ConfigMap', metadata: { resourceVersion: '15' } });
          res.end(); // the server's watch timeout
        },
        (res) => {
          event(res, 'ERROR', status(410, 'Expired', 'too old resource version'));
          res.end();
        },
      ],
    );
    informer = new Informer<V1ConfigMap>(api.kc, {
      path,
      labelSelector: 'x=y',
      list: async () => {
        const res = await fetch(`${api!.kc.getCurrentCluster()!.server}${path}?labelSelector=x%3Dy`);
        return (await res.json()) as { items: V1ConfigMap[] };
      },
      log,
      onUpsert: (o) => seen.push(`upsert ${o.metadata?.name}@${o.metadata?.resourceVersion}`),
      onDelete: (o) => seen.push(`delete ${o.metadata?.name}`),
    });
    expect(informer.hasSynced).toBe(false);
    await informer.start();
    expect(informer.hasSynced).toBe(true);
    await until(() => seen.includes('delete b'), 'the relist');
    await until(
      () => api!.requests.filter((r) => r.url.searchParams.get('watch')).length === 3,
      'the third watch',
    );

    expect(seen).toEqual(['upsert a@1', 'upsert b@2', 'upsert a@11', 'delete b']);
    expect([...informer.list()].map((o) => o.metadata?.name)).toEqual(['a']);
    const watches = api.requests
      .filter((r) => r.url.searchParams.get('watch') === 'true')
      .map((r) => r.url.searchParams);
    expect(watches.map((p) => p.get('resourceVersion'))).toEqual(['10', '15', '20']);
    expect(watches[0]?.get('labelSelector')).toBe('x=y');
    expect(watches[0]?.get('allowWatchBookmarks')).toBe('true');
    expect(Number(watches[0]?.get('timeoutSeconds'))).toBeGreaterThan(0);
  });

  it('keeps retrying when the list fails, and is not synced until it works', async () => {
    let calls = 0;
    api = await fakeApi((req, res) => {
      if (req.url.searchParams.get('watch') === 'true') return startWatch(res);
      return reply(res, 200, {
        kind: 'ConfigMapList',
        metadata: { resourceVersion: '5' },
        items: [cm('a', '1')],
      });
    });
    informer = new Informer<V1ConfigMap>(api.kc, {
      path,
      labelSelector: '',
      list: async () => {
        if (++calls < 3) throw Object.assign(new Error('unavailable'), { code: 503 });
        const res = await fetch(`${api!.kc.getCurrentCluster()!.server}${path}`);
        return (await res.json()) as { items: V1ConfigMap[] };
      },
      log,
    });
    await informer.start();
    expect(calls).toBe(3);
    expect(informer.get('ns', 'a')?.metadata?.resourceVersion).toBe('1');
  });

  it('add() does not replace an object the watch already delivered', async () => {
    api = await start([[cm('a', '5')]], []);
    informer = new Informer<V1ConfigMap>(api.kc, {
      path,
      labelSelector: '',
      list: async () => ({ items: [cm('a', '5')], metadata: { resourceVersion: '5' } }),
      log,
    });
    await informer.start();
    informer.add(cm('a', '3'));
    informer.add(cm('b', '4'));
    expect(informer.get('ns', 'a')?.metadata?.resourceVersion).toBe('5');
    expect(informer.get('ns', 'b')?.metadata?.resourceVersion).toBe('4');
  });
});
