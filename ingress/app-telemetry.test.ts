// The ingress app's metrics and request log (over app.inject, setup in app.test-helper.ts): bounded
// label sets, and nothing a sender sent ever logged.
import type { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { closeApps, GITHUB, githubHeaders, PATH, post, setup } from './app.test-helper.ts';
import { SECRET, sample, TOKEN } from './http/fakes.test-helper.ts';

closeApps();

describe('metrics', () => {
  const seriesCount = async (registry: Registry) =>
    (await registry.metrics()).split('\n').filter((l) => l && !l.startsWith('#')).length;

  it('1000 random unknown paths add no series and no label from the path', async () => {
    const { app, registry } = setup();
    await post(app, { path: '/hooks/warm/up' });
    await app.inject('/warm-up');
    const before = await seriesCount(registry);
    for (let i = 0; i < 1000; i++) {
      const r = Math.random().toString(36).slice(2);
      await post(app, {
        path: i % 2 ? `/hooks/${r}/${r}` : `/${r}`,
        headers: { authorization: `Bearer ${r}` },
      });
    }
    expect(await seriesCount(registry)).toBe(before);
    expect(
      await sample(registry, 'hookgate_ingress_requests_total', { trigger: 'unknown', outcome: 'not_found' }),
    ).toBe(1002);
    expect(await registry.metrics()).not.toMatch(/warm|hooks\//);
  });

  it('labels known triggers by namespace/name and outcome, and times requests in seconds', async () => {
    const { app, registry } = setup();
    await post(app);
    await post(app, { headers: { authorization: 'Bearer x' } });
    const trigger = 'team-a/deploy';
    expect(await sample(registry, 'hookgate_ingress_requests_total', { trigger, outcome: 'accepted' })).toBe(
      1,
    );
    expect(
      await sample(registry, 'hookgate_ingress_requests_total', { trigger, outcome: 'unauthorized' }),
    ).toBe(1);
    const text = await registry.metrics();
    expect(text).toMatch(/hookgate_ingress_request_duration_seconds_count\{outcome="accepted"\} 1/);
    expect(text).not.toMatch(/_milliseconds/);
  });
});

describe('request log', () => {
  it('one line per request with trigger, outcome, status, run and duration; probes are not logged', async () => {
    const { app, logs } = setup();
    const run = (await post(app)).json().run;
    await post(app, { path: '/hooks/team-a/nope' });
    await app.inject('/healthz');
    await app.inject('/readyz');
    expect(logs).toEqual([
      expect.objectContaining({
        trigger: 'team-a/deploy',
        outcome: 'accepted',
        status: 202,
        run,
        durationMs: expect.any(Number),
      }),
      expect.objectContaining({ outcome: 'not_found', status: 404 }),
    ]);
    expect(logs[1]).not.toHaveProperty('trigger');
  });

  it('never logs a header value, token, signature, query or payload', async () => {
    const { app, logText, launcher } = setup({ auth: { tokens: [{ value: TOKEN }], signature: GITHUB } });
    const body = '{"card":"4242-4242-4242-4242"}';
    const signature = githubHeaders(body)['X-Hub-Signature-256']!;
    const headers = {
      ...githubHeaders(body),
      'x-custom': 'header-value-marker',
      'user-agent': 'agent-marker',
    };
    await post(app, { body, headers, path: `${PATH}?token=query-marker` });
    await post(app, { body, headers: { ...headers, authorization: 'Bearer wrong-token-marker' } });
    launcher.failNext = new Error('launch failed');
    await post(app, { body, headers });
    await post(app, { body: '{"card":', headers: githubHeaders('{"card":') });
    const all = logText.join('\n');
    expect(logText.length).toBeGreaterThanOrEqual(4);
    for (const secret of [TOKEN, SECRET, signature.slice(7), '4242', 'marker'])
      expect(all).not.toContain(secret);
  });
});
