import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { RejectionOutcome, Route } from '../api/v1alpha1/index.ts';
import { buildApp } from './app.ts';
import { MemoryLauncher, MemoryRoutes, TOKEN, testRoute } from './http/fakes.test-helper.ts';
import { RejectionReporter } from './rejections.ts';

const apps: ReturnType<typeof buildApp>[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

type Seen = [string, RejectionOutcome, number, string | undefined];

function setup(overrides: Parameters<typeof testRoute>[0] = {}) {
  const seen: Seen[] = [];
  const app = buildApp({
    routes: new MemoryRoutes([testRoute(overrides)]),
    launcher: new MemoryLauncher(),
    registry: new Registry(),
    recordRejection: (route, outcome, code, reason) => seen.push([route.name, outcome, code, reason]),
  });
  apps.push(app);
  return { app, seen };
}

const post = (
  app: ReturnType<typeof buildApp>,
  headers: Record<string, string> = {},
  path = '/hooks/team-a/deploy',
) =>
  app.inject({
    method: 'POST',
    url: path,
    headers: { 'content-type': 'application/json', ...headers },
    payload: '{}',
  });

describe('the request path reports refused deliveries of known triggers', () => {
  it('with the verification reason, never for an accepted delivery or an unknown path', async () => {
    const { app, seen } = setup();
    expect((await post(app, { authorization: 'Bearer hgt_wrong' })).statusCode).toBe(401);
    expect((await post(app)).statusCode).toBe(401);
    expect((await post(app, { authorization: `Bearer ${TOKEN}` })).statusCode).toBe(202);
    expect((await post(app, {}, '/hooks/team-a/nothing')).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/hooks/team-a/deploy' })).statusCode).toBe(405);
    expect(seen).toEqual([
      ['deploy', 'unauthorized', 401, 'invalid_token'],
      ['deploy', 'unauthorized', 401, 'missing_token'],
      ['deploy', 'method_not_allowed', 405, undefined],
    ]);
  });

  it("with the trigger's not-Ready reason when it cannot run", async () => {
    const { app, seen } = setup({
      unavailable: { reason: 'WorkflowNotReady', message: 'the workflow is not Ready' },
    });
    expect((await post(app)).statusCode).toBe(503);
    expect(seen).toEqual([['deploy', 'trigger_unavailable', 503, 'WorkflowNotReady']]);
  });
});

describe('RejectionReporter', () => {
  const route = testRoute();
  const make = (now: () => number, perMinute = 30) => {
    const status: string[] = [];
    const events: string[] = [];
    const reporter = new RejectionReporter(
      { recordRejection: (r: Route, o: RejectionOutcome) => status.push(`${r.name} ${o}`) },
      { record: (_o, type, reason, note) => events.push(`${type} ${reason}: ${note}`) },
      { now, eventsPerMinute: perMinute },
    );
    return { reporter, status, events };
  };

  it('puts every rejection in the status, and only configuration-caused ones in Events', () => {
    const { reporter, status, events } = make(() => 0);
    for (const o of [
      'unauthorized',
      'rate_limited',
      'payload_too_large',
      'queue_full',
      'api_unavailable',
    ] as const)
      reporter.record(route, o, 400);
    reporter.record(route, 'invalid_input', 422);
    reporter.record(route, 'run_rejected', 503);
    reporter.record(route, 'input_schema_unusable', 503);
    expect(status).toHaveLength(8);
    expect(events.map((e) => e.split(':')[0])).toEqual([
      'Warning InvalidInput',
      'Warning RunRejected',
      'Warning InputSchemaUnusable',
    ]);
  });

  it('writes at most eventsPerMinute Events over all triggers', () => {
    let now = 0;
    const { reporter, events } = make(() => now, 2);
    for (const name of ['a', 'b', 'c', 'd']) reporter.record(testRoute({ name }), 'run_rejected', 503);
    expect(events).toHaveLength(2);
    now = 61_000;
    reporter.record(testRoute({ name: 'c' }), 'run_rejected', 503);
    expect(events).toHaveLength(3);
  });
});
