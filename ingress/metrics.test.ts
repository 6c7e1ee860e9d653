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

  it("has a trigger's counters at zero from the moment its route exists, and drops them when it goes", async () => {
    const registry = new Registry();
    const metrics = ingressMetrics(registry);
    const signed = { namespace: 'team-a', name: 'signed', auth: { signature: {} } };
    const token = { namespace: 'team-a', name: 'token', auth: {} };
    metrics.addTrigger(signed);
    metrics.addTrigger(token);
    const text = await registry.metrics();
    for (const line of [
      'hookgate_ingress_requests_total{trigger="team-a/signed",outcome="accepted"} 0',
      'hookgate_ingress_verification_failures_total{trigger="team-a/signed",reason="invalid_signature"} 0',
      'hookgate_ingress_verification_failures_total{trigger="team-a/token",reason="invalid_token"} 0',
      'hookgate_ingress_rate_limited_total{trigger="team-a/token"} 0',
      'hookgate_ingress_duplicates_total{trigger="team-a/token"} 0',
      'hookgate_ingress_runs_started_total{trigger="team-a/signed"} 0',
      'hookgate_ingress_runs_finished_total{trigger="team-a/signed",result="Succeeded"} 0',
      'hookgate_ingress_runs_finished_total{trigger="team-a/signed",result="Failed"} 0',
    ])
      expect(text).toContain(line);
    // Seven series per trigger, not one per outcome and reason: 10,000 triggers are a shard.
    expect(text.split('\n').filter((l) => l.includes('trigger="team-a/signed"'))).toHaveLength(7);

    metrics.request(signed, 'unauthorized', 0.001);
    metrics.removeTrigger(signed);
    metrics.request(signed, 'accepted', 0.001); // in flight when its route went: counted nowhere
    const after = await registry.metrics();
    expect(after).not.toContain('team-a/signed');
    expect(after).toContain('hookgate_ingress_requests_total{trigger="team-a/token",outcome="accepted"} 0');
  });

  it('keeps counting across a new version of the route', async () => {
    const registry = new Registry();
    const metrics = ingressMetrics(registry);
    const v1 = { namespace: 'team-a', name: 'deploy', auth: {} };
    const v2 = { namespace: 'team-a', name: 'deploy', auth: { signature: {} } };
    metrics.addTrigger(v1);
    metrics.request(v1, 'accepted', 0.001);
    metrics.addTrigger(v2);
    metrics.request(v2, 'accepted', 0.001);
    const text = await registry.metrics();
    expect(text).toContain('hookgate_ingress_requests_total{trigger="team-a/deploy",outcome="accepted"} 2');
    expect(text).toContain(
      'hookgate_ingress_verification_failures_total{trigger="team-a/deploy",reason="invalid_signature"} 0',
    );
  });
});
