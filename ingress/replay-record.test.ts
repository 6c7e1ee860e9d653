// What records a delivery against replays, through the app: a future-dated timestamp is covered
// for as long as it verifies, and the unsigned query string reaches a run only where the trigger
// opts in (issue 20, item 8).
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookTriggerSpec } from '../api/v1alpha1/index.ts';
import { buildApp } from './app.ts';
import { MemoryLauncher, MemoryRoutes, SECRET, TOKEN, testRoute } from './http/fakes.test-helper.ts';
import { sign } from './verify/index.ts';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const TIMESTAMPED = { scheme: 'timestamped' as const, secrets: [{ value: SECRET }] };
const apps: ReturnType<typeof buildApp>[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

function setup(overrides: Parameters<typeof testRoute>[0]) {
  const route = testRoute(overrides);
  const launcher = new MemoryLauncher();
  let now = NOW;
  const app = buildApp({
    routes: new MemoryRoutes([route]),
    launcher,
    registry: new Registry(),
    clock: () => now,
  });
  apps.push(app);
  return { app, route, launcher, advance: (ms: number) => (now += ms) };
}

describe('replay record', () => {
  it('a timestamp one tolerance in the future is a duplicate until it stops verifying', async () => {
    const { app, route, launcher, advance } = setup({ auth: { signature: TIMESTAMPED } });
    const body = '{"ref":"main"}';
    // Signed 300 s ahead of our clock: within the tolerance, so it verifies until NOW + 600 s.
    const headers = {
      'content-type': 'application/json',
      ...sign(TIMESTAMPED, SECRET, Buffer.from(body), NOW + 300_000),
    };
    const send = () => app.inject({ method: 'POST', url: route.path, payload: body, headers });
    const first = await send();
    expect(first.statusCode).toBe(202);
    expect(launcher.deliveries[0]!.replayUntil).toBe(new Date(NOW + 600_000).toISOString());
    expect(launcher.deliveries[0]!.replayWindowSeconds).toBe(600);
    // At 1.5 tolerances after receipt the replay still verifies: the record must still hold.
    advance(450_000);
    const replay = await send();
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toMatchObject({ run: first.json().run, duplicate: true });
    advance(150_001);
    expect((await send()).statusCode).toBe(401);
  });
});

describe('query parameters', () => {
  it('are off by default: a trigger that does not opt in never puts _query in a run', async () => {
    const spec = WebhookTriggerSpec.parse({ workflowRef: { name: 'wf' }, auth: { bearer: {} } });
    expect(spec.input.query).toBe(false);
    const { app, route, launcher } = setup({ input: spec.input });
    const res = await app.inject({
      method: 'POST',
      url: `${route.path}?admin=true`,
      payload: '{"ref":"main"}',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    });
    expect(res.statusCode).toBe(202);
    expect(launcher.deliveries[0]!.input).toEqual({ ref: 'main' });
  });

  it('reach the run as _query where the trigger opts in', async () => {
    const { app, route, launcher } = setup({ input: { query: true } });
    await app.inject({
      method: 'POST',
      url: `${route.path}?source=crm`,
      payload: '{"ref":"main"}',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    });
    expect(launcher.deliveries[0]!.input).toEqual({ ref: 'main', _query: { source: 'crm' } });
  });
});
