import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { serveProbes } from './probes.ts';

describe('probe server', () => {
  it('serves /metrics, /healthz and /readyz (503 until ready)', async () => {
    const registry = new Registry();
    new Counter({ name: 'hookgate_test_total', help: 'x', registers: [registry] }).inc();
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
      expect(await m.text()).toContain('hookgate_test_total 1');
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

describe('metrics only', () => {
  it('a metrics port without a health port serves /metrics (GET and HEAD) and nothing else', async () => {
    const registry = new Registry();
    const probes = await serveProbes({ registry, metricsPort: 0, host: '127.0.0.1' });
    try {
      const base = `http://127.0.0.1:${probes.ports.metrics}`;
      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(registry.contentType);
      expect((await fetch(`${base}/metrics`, { method: 'HEAD' })).status).toBe(200);
      expect((await fetch(`${base}/healthz`)).status).toBe(404);
      expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
      expect(probes.ports.health).toBeUndefined();
    } finally {
      await probes.close();
    }
  });
});
