import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Route } from '../operator/api/v1alpha1/index.ts';
import { LastUsedRecorder } from './last-used.ts';
import { type FakeApi, fakeApi, reply, status } from './run/fake-api.test-helper.ts';

const log = pino({ level: 'silent' });
const route = (name: string) => ({ namespace: 'team', name }) as Route;

describe('LastUsedRecorder', () => {
  let api: FakeApi | undefined;
  afterEach(async () => api?.close());

  it('applies lastTriggeredTime once per used trigger per flush, on the status subresource', async () => {
    api = await fakeApi((_req, res) => reply(res, 200, {}));
    let now = new Date('2026-03-01T10:00:00.123Z');
    const recorder = new LastUsedRecorder(api.kc, log, { now: () => now });
    recorder.recordUse(route('a'));
    recorder.recordUse(route('b'));
    now = new Date('2026-03-01T10:00:05Z');
    recorder.recordUse(route('a'));
    await recorder.flush();

    expect(api.requests).toHaveLength(2);
    const a = api.requests.find((r) => r.url.pathname.endsWith('/a/status'))!;
    expect(a.method).toBe('PATCH');
    expect(a.url.pathname).toBe('/apis/hookgate.io/v1alpha1/namespaces/team/webhooktriggers/a/status');
    expect(a.headers['content-type']).toBe('application/apply-patch+yaml');
    expect(Object.fromEntries(a.url.searchParams)).toEqual({
      fieldManager: 'hookgate-ingress',
      force: 'true',
    });
    expect(JSON.parse(a.body)).toEqual({
      apiVersion: 'hookgate.io/v1alpha1',
      kind: 'WebhookTrigger',
      metadata: { namespace: 'team', name: 'a' },
      status: { lastTriggeredTime: '2026-03-01T10:00:05Z' },
    });

    await recorder.flush();
    expect(api.requests).toHaveLength(2); // nothing used since
  });

  it('retries a failed write at the next flush, drops one for a trigger that is gone, flushes on stop', async () => {
    const codes = new Map([
      ['a', [503, 200]],
      ['gone', [404]],
    ]);
    api = await fakeApi((req, res) => {
      const name = req.url.pathname.split('/').at(-2)!;
      const code = codes.get(name)?.shift() ?? 200;
      reply(res, code, code === 200 ? {} : status(code, 'x'));
    });
    const recorder = new LastUsedRecorder(api.kc, log, { intervalMs: 60_000 });
    recorder.start();
    recorder.recordUse(route('a'));
    recorder.recordUse(route('gone'));
    await recorder.flush();
    await recorder.flush();
    const names = () => api!.requests.map((r) => r.url.pathname.split('/').at(-2));
    expect(names().sort()).toEqual(['a', 'a', 'gone']);

    recorder.recordUse(route('c'));
    await recorder.stop();
    expect(names()).toContain('c');
  });
});
