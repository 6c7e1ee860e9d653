import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Controller } from './controller.ts';
import { Metrics } from './metrics.ts';
import type { Reconciler } from './types.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function setup(reconcile: Reconciler['reconcile'], workers = 1) {
  const registry = new Registry();
  const metrics = new Metrics(registry);
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l)) });
  const reconciler: Reconciler = { name: 'test', reconcile };
  const controller = new Controller(reconciler, workers, metrics, log);
  const count = async (result: string) =>
    (await registry.getSingleMetric('hookgate_reconcile_total')!.get()).values.find(
      (v) => v.labels.result === result,
    )?.value ?? 0;
  return { controller, registry, lines, count };
}

describe('Controller', () => {
  it('retries a failing key with backoff, logs only the message, and resets after success', async () => {
    const calls: number[] = [];
    let failures = 3;
    const { controller, lines, count, registry } = setup(async () => {
      calls.push(Date.now());
      if (failures-- > 0) throw new Error('boom');
      return undefined;
    });
    controller.start();
    const t0 = Date.now();
    controller.enqueue({ namespace: 'ns', name: 'a' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls.map((t) => t - t0)).toEqual([0, 5, 15, 35]);
    expect(await count('error')).toBe(3);
    expect(await count('success')).toBe(1);
    const errors = (await registry.getSingleMetric('hookgate_reconcile_errors_total')!.get()).values;
    expect(errors[0]?.value).toBe(3);
    expect(controller.queue.backoff.retries('ns/a')).toBe(0);
    const failed = lines.filter((l) => l.msg === 'reconcile failed');
    expect(failed[0]).toMatchObject({ controller: 'test', namespace: 'ns', name: 'a', err: 'boom' });
    await controller.stop();
  });

  it('gives each reconcile a logger with controller, namespace, name and its own reconcileID', async () => {
    let n = 0;
    const { controller, lines } = setup(async (_key, log) => {
      log.info({ n: ++n }, 'working');
      if (n === 1) throw new Error('boom');
      return undefined;
    });
    controller.start();
    controller.enqueue({ namespace: 'ns', name: 'a' });
    await vi.advanceTimersByTimeAsync(1000);
    const working = lines.filter((l) => l.msg === 'working');
    const failed = lines.find((l) => l.msg === 'reconcile failed');
    expect(working).toHaveLength(2);
    for (const l of [...working, failed])
      expect(l).toMatchObject({
        controller: 'test',
        namespace: 'ns',
        name: 'a',
        reconcileID: expect.any(String),
      });
    // One id per reconcile: the failed attempt's lines share it, the retry has another.
    expect(failed!.reconcileID).toBe(working[0]!.reconcileID);
    expect(working[1]!.reconcileID).not.toBe(working[0]!.reconcileID);
    await controller.stop();
  });

  it('counts a terminal (stalled) result as such and does not retry it', async () => {
    const calls: number[] = [];
    const { controller, count } = setup(async () => {
      calls.push(Date.now());
      return { terminal: 'InvalidSpec' };
    });
    controller.start();
    controller.enqueue({ namespace: 'ns', name: 'a' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(1);
    expect(await count('terminal')).toBe(1);
    expect(await count('success')).toBe(0);
    expect(await count('error')).toBe(0);
    await controller.stop();
  });

  it('honours requeueAfter', async () => {
    const calls: number[] = [];
    const { controller, count } = setup(async () => {
      calls.push(Date.now());
      return calls.length === 1 ? { requeueAfter: 60_000 } : undefined;
    });
    controller.start();
    const t0 = Date.now();
    controller.enqueue({ namespace: 'ns', name: 'a' });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(calls.map((t) => t - t0)).toEqual([0, 60_000]);
    expect(await count('requeue_after')).toBe(1);
    await controller.stop();
  });

  it('never reconciles one key in two workers at once, and reconciles again after an event during a run', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const { controller } = setup(async () => {
      runs++;
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((r) => setTimeout(r, 100));
      active--;
      return undefined;
    }, 4);
    controller.start();
    controller.enqueue({ namespace: 'ns', name: 'a' });
    await vi.advanceTimersByTimeAsync(10);
    controller.enqueue({ namespace: 'ns', name: 'a' });
    controller.enqueue({ namespace: 'ns', name: 'a' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(maxActive).toBe(1);
    expect(runs).toBe(2);
    await controller.stop();
  });

  it('stop waits for the reconcile in flight and drops queued keys', async () => {
    const seen: string[] = [];
    const { controller } = setup(async (k) => {
      seen.push(k.name);
      await new Promise((r) => setTimeout(r, 100));
      return undefined;
    });
    controller.start();
    controller.enqueue({ namespace: 'ns', name: 'a' });
    controller.enqueue({ namespace: 'ns', name: 'b' });
    await vi.advanceTimersByTimeAsync(10);
    let stopped = false;
    const stopping = controller.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(50);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    await stopping;
    expect(seen).toEqual(['a']);
  });
});
