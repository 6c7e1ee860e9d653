import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ingressMetrics, triggerLabel } from './metrics.ts';

const route = { namespace: 'team-a', name: 'deploy' };

describe('ingressMetrics', () => {
  it('is one set of collectors per registry, so the app and the launcher share it', () => {
    const registry = new Registry();
    expect(ingressMetrics(registry)).toBe(ingressMetrics(registry));
    expect(ingressMetrics(new Registry())).not.toBe(ingressMetrics(registry));
  });

  it('records what the launcher reports: job creation time and finished runs by result', async () => {
    const registry = new Registry();
    const metrics = ingressMetrics(registry);
    metrics.jobCreated(0.02);
    metrics.runFinished(route, 'Succeeded', 12);
    metrics.runFinished(route, 'Failed');
    const text = await registry.metrics();
    expect(text).toContain('hookgate_ingress_job_create_duration_seconds_count 1');
    expect(text).toContain(
      'hookgate_ingress_runs_finished_total{trigger="team-a/deploy",result="Succeeded"} 1',
    );
    expect(text).toContain('hookgate_ingress_runs_finished_total{trigger="team-a/deploy",result="Failed"} 1');
    expect(text).toContain('hookgate_ingress_run_duration_seconds_count{result="Succeeded"} 1');
    expect(text).not.toContain('hookgate_ingress_run_duration_seconds_count{result="Failed"}');
  });

  it('names every series with the prefix, counters with _total, durations in seconds', async () => {
    const registry = new Registry();
    ingressMetrics(registry);
    const names = (await registry.getMetricsAsJSON()).map((m) => ({ name: m.name, type: String(m.type) }));
    expect(names.length).toBe(10);
    for (const { name, type } of names) {
      expect(name).toMatch(/^hookgate_ingress_/);
      if (type === 'counter') expect(name).toMatch(/_total$/);
      if (type === 'histogram') expect(name).toMatch(/_seconds$/);
    }
  });

  it('labels a missing route "unknown"', () => {
    expect(triggerLabel(undefined)).toBe('unknown');
    expect(triggerLabel(route)).toBe('team-a/deploy');
  });
});
