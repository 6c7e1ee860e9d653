import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Metrics, serveProbes } from './metrics.ts';

describe('condition gauge', () => {
  it('replaces an object’s series on set and removes them on delete', async () => {
    const registry = new Registry();
    const m = new Metrics(registry);
    const key = { namespace: 'ns', name: 't' };
    m.conditions.set('WebhookTrigger', key, [
      { type: 'Ready', status: 'False' },
      { type: 'Stalled', status: 'True' },
    ]);
    m.conditions.set('WebhookTrigger', { namespace: 'ns', name: 'other' }, [
      { type: 'Ready', status: 'True' },
    ]);
    m.conditions.set('WebhookTrigger', key, [{ type: 'Ready', status: 'True' }]);
    const series = async () =>
      (await m.condition.get()).values
        .map((v) => `${v.labels.name}:${v.labels.type}=${v.labels.status}`)
        .sort();
    expect(await series()).toEqual(['other:Ready=True', 't:Ready=True']);
    m.conditions.delete('WebhookTrigger', key);
    expect(await series()).toEqual(['other:Ready=True']);
    expect(await registry.metrics()).toContain(
      'hookgate_condition{kind="WebhookTrigger",namespace="ns",name="other"',
    );
  });
});

describe('probe server', () => {
  it('serves /metrics, /healthz and /readyz (503 until ready)', async () => {
    const registry = new Registry();
    new Metrics(registry).leader.set(1);
    let ready = false;
    const probes = await serveProbes({
      registry,
      metricsPort: 0,
      healthPort: 0,
      ready: () => ready,
      host: '127.0.0.1',
    });
    try {
      const m = await fetch(`http://127.0.0.1:${probes.ports.metrics}/metrics`);
      expect(m.status).toBe(200);
      expect(await m.text()).toContain('hookgate_leader 1');
      const base = `http://127.0.0.1:${probes.ports.health}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      ready = true;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      expect((await fetch(`${base}/metrics`)).status).toBe(404);
    } finally {
      await probes.close();
    }
  });
});
