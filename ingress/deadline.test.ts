// The answer deadline (issue 20, item 12) in the app: a launch that outlasts the trigger's
// `response.deadlineSeconds` is answered 503 with Retry-After at the deadline, and keeps going.
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookTriggerSpec } from '../api/v1alpha1/index.ts';
import { buildApp } from './app.ts';
import { MemoryLauncher, MemoryRoutes, TOKEN, testRoute } from './http/fakes.test-helper.ts';
import { withinDeadline } from './stages/launch.ts';
import { DeadlineExceededError, type Delivery, type LaunchResult } from './types.ts';

const apps: ReturnType<typeof buildApp>[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

const later = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe('withinDeadline', () => {
  it('passes on a launch that ends in time, result or error', async () => {
    const ok = { run: 'r', duplicate: false };
    await expect(withinDeadline(() => later(10, ok), performance.now() + 1000)).resolves.toBe(ok);
    const failing = () => Promise.reject(new Error('refused'));
    await expect(withinDeadline(failing, performance.now() + 1000)).rejects.toThrow('refused');
  });

  it('gives up at the deadline, and the launch goes on to its end', async () => {
    let ended = false;
    const slow = () => later(200, { run: 'r', duplicate: false }).finally(() => (ended = true));
    const t0 = performance.now();
    await expect(withinDeadline(slow, t0 + 50)).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(performance.now() - t0).toBeLessThan(190);
    expect(ended).toBe(false);
    await later(250, undefined);
    expect(ended).toBe(true);
  });

  it('does not start a launch once the deadline has passed', async () => {
    let started = false;
    const launch = () => {
      started = true;
      return later(0, { run: 'r', duplicate: false });
    };
    await expect(withinDeadline(launch, performance.now() - 1)).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(started).toBe(false);
  });
});

describe('the answer deadline in the app', () => {
  it('defaults to 8 s and refuses below 3 s (Slack) and above 60 s', () => {
    const parse = (response: object) =>
      WebhookTriggerSpec.safeParse({ workflowRef: { name: 'w' }, auth: { bearer: {} }, response });
    expect(parse({}).data?.response.deadlineSeconds).toBe(8);
    expect(parse({ deadlineSeconds: 3 }).success).toBe(true);
    expect(parse({ deadlineSeconds: 2 }).success).toBe(false);
    expect(parse({ deadlineSeconds: 61 }).success).toBe(false);
  });

  it('answers 503 deadline_exceeded with Retry-After when the run is not started in time', async () => {
    const route = testRoute({ response: { deadlineSeconds: 3 } });
    const hanging = new MemoryLauncher();
    let launches = 0;
    hanging.launch = (_: Delivery): Promise<LaunchResult> => {
      launches++;
      return later(10_000, { run: 'late', duplicate: false });
    };
    const app = buildApp({ routes: new MemoryRoutes([route]), launcher: hanging, registry: new Registry() });
    apps.push(app);
    const t0 = performance.now();
    const res = await app.inject({
      method: 'POST',
      url: route.path,
      payload: '{}',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    });
    const ms = performance.now() - t0;
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('deadline_exceeded');
    expect(res.headers['retry-after']).toBe('5');
    expect(ms).toBeGreaterThanOrEqual(2950);
    expect(ms).toBeLessThan(6000);
    expect(launches).toBe(1);
  }, 10_000);
});
