// Wait-mode answers and what they may carry (issue 20): the run's output only where the trigger opts
// in, never to a duplicate; the trigger's own headers never reserved ones.
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import { MemoryLauncher, MemoryRoutes, TOKEN, testRoute } from './http/fakes.test-helper.ts';

type Overrides = Parameters<typeof testRoute>[0];
const apps: ReturnType<typeof buildApp>[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

function setup(overrides: Overrides) {
  const launcher = new MemoryLauncher();
  launcher.autoFinish = { result: 'Failed', exitCode: 3, message: 'db password is hunter2' };
  const app = buildApp({
    routes: new MemoryRoutes([testRoute(overrides)]),
    launcher,
    registry: new Registry(),
    logger: pino({ level: 'silent' }),
  });
  apps.push(app);
  const post = (id: string) =>
    app.inject({
      method: 'POST',
      url: '/hooks/team-a/deploy',
      payload: '{}',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${TOKEN}`,
        'idempotency-key': id,
      },
    });
  return { app, post };
}

const wait = (more: object = {}) => ({ response: { mode: 'wait' as const, timeoutSeconds: 1, ...more } });

describe('a wait-mode answer', () => {
  it('carries result and exit code, but no output unless the trigger sets includeOutput', async () => {
    const { post } = setup(wait());
    const res = await post('a');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ result: 'Failed', exitCode: 3 });
    expect(res.json()).not.toHaveProperty('output');
    expect(res.body).not.toContain('hunter2');
  });

  it('carries the output where the trigger opts in, and never to a duplicate', async () => {
    const { post } = setup(wait({ includeOutput: true }));
    const first = await post('b');
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ result: 'Failed', exitCode: 3, output: 'db password is hunter2' });
    const replay = await post('b');
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toMatchObject({
      run: first.json().run,
      duplicate: true,
      result: 'Failed',
      exitCode: 3,
    });
    expect(replay.json()).not.toHaveProperty('output');
    expect(replay.body).not.toContain('hunter2');
  });
});

describe("a trigger's response headers", () => {
  it('are sent, but never ones that frame the answer or act on the shared origin (a route from before the CRD refused them)', async () => {
    const headers = {
      'X-Run-Source': 'hookgate',
      'Set-Cookie': 'session=evil; Domain=example.com',
      'Strict-Transport-Security': 'max-age=0',
      'Content-Security-Policy': "default-src 'none'",
      'Access-Control-Allow-Origin': '*',
      'Cross-Origin-Resource-Policy': 'cross-origin',
      'Clear-Site-Data': '"*"',
      'Content-Type': 'text/html',
    };
    const { post } = setup({ response: { headers } });
    const res = await post('c');
    expect(res.statusCode).toBe(202);
    expect(res.headers['x-run-source']).toBe('hookgate');
    const dropped = Object.keys(headers).filter((h) => !['X-Run-Source', 'Content-Type'].includes(h));
    for (const name of dropped) expect(res.headers, name).not.toHaveProperty(name.toLowerCase());
    expect(res.headers['content-type']).toMatch(/^application\/json/);
  });
});
