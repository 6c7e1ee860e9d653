import type http from 'node:http';
import { Writable } from 'node:stream';
import type { V1Secret } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type Route, RouteSchema } from '../operator/api/v1alpha1/index.ts';
import { RouteStore } from './routes-store.ts';
import { event, type FakeApi, fakeApi, reply, startWatch } from './run/fake-api.test-helper.ts';

const route = (name: string, token = 'hgt_secret-token'): Route =>
  RouteSchema.parse({
    namespace: 'team',
    name,
    uid: `${name}-uid`,
    generation: 1,
    path: `/hooks/team/${name}`,
    suspended: false,
    auth: { tokens: [{ value: token }] },
    rateLimit: {},
    maxBodyBytes: 100,
    input: {},
    response: {},
    workflow: { name: 'wf', uid: 'u', spec: { jobTemplate: { spec: { template: {} } } } },
  });

let rv = 1;
const secret = (name: string, content: unknown): V1Secret => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name,
    namespace: 'hookgate-system',
    resourceVersion: `${++rv}`,
    labels: { 'hookgate.io/route': 'true' },
  },
  data: {
    'route.json': Buffer.from(typeof content === 'string' ? content : JSON.stringify(content)).toString(
      'base64',
    ),
  },
});

describe('RouteStore', () => {
  let api: FakeApi | undefined;
  let store: RouteStore | undefined;
  afterEach(async () => {
    await store?.stop();
    await api?.close();
  });

  it('indexes valid routes by path, skips invalid ones without logging them, follows changes', async () => {
    let watch: http.ServerResponse | undefined;
    api = await fakeApi((req, res) => {
      expect(req.url.pathname).toBe('/api/v1/namespaces/hookgate-system/secrets');
      expect(req.url.searchParams.get('labelSelector')).toBe('hookgate.io/route=true');
      if (req.url.searchParams.get('watch') === 'true') {
        watch = res;
        return startWatch(res);
      }
      reply(res, 200, {
        kind: 'SecretList',
        metadata: { resourceVersion: '1' },
        items: [
          secret('r-a', route('a')),
          secret('r-bad-json', '{"token": "hgt_leak'),
          secret('r-bad-schema', { ...route('b', 'hgt_leak'), path: 42 }),
        ],
      });
    });
    const lines: string[] = [];
    const log = pino(
      { level: 'debug' },
      new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    );
    store = new RouteStore(api.kc, 'hookgate-system', log);
    expect(store.ready).toBe(false);
    await store.start();
    expect(store.ready).toBe(true);

    const a = store.match('/hooks/team/a');
    expect(a?.name).toBe('a');
    expect(store.size).toBe(1);
    expect(lines.join('')).not.toContain('hgt_leak');
    expect(lines.filter((l) => l.includes('skipped'))).toHaveLength(2);

    // A change swaps in a new object; whoever matched the old one keeps it unchanged.
    await until(() => watch !== undefined);
    event(watch!, 'MODIFIED', secret('r-a', route('a', 'hgt_rotated')));
    event(watch!, 'ADDED', secret('r-c', route('c')));
    await until(() => store!.match('/hooks/team/c') !== undefined);
    expect(store.match('/hooks/team/a')?.auth.tokens?.[0]?.value).toBe('hgt_rotated');
    expect(a?.auth.tokens?.[0]?.value).toBe('hgt_secret-token');

    event(watch!, 'DELETED', secret('r-a', route('a')));
    await until(() => store!.match('/hooks/team/a') === undefined);
    expect(store.size).toBe(1);

    // An update that no longer parses removes the route.
    event(watch!, 'MODIFIED', secret('r-c', 'not json'));
    await until(() => store!.match('/hooks/team/c') === undefined);
  });
});

async function until(check: () => boolean) {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}
