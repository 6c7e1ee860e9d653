// The ingress app's rate limit per trigger and client address, and how the client address is read
// behind trusted proxies (over app.inject, setup in app.test-helper.ts).
import { describe, expect, it } from 'vitest';
import { closeApps, post, setup } from './app.test-helper.ts';
import { sample } from './http/fakes.test-helper.ts';

closeApps();

describe('rate limits and client addresses', () => {
  const limited = { rateLimit: { requests: 2, periodSeconds: 60 } };

  it('429 with Retry-After and RateLimit headers past the limit, until the window ends', async () => {
    const { app, registry, advance, launcher } = setup(limited);
    const [a, b] = [await post(app), await post(app)];
    expect([a.statusCode, b.statusCode]).toEqual([202, 202]);
    expect(a.headers).toMatchObject({
      'ratelimit-limit': '2',
      'ratelimit-remaining': '1',
      'ratelimit-reset': '60',
    });
    advance(20_000);
    const refused = await post(app);
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error.code).toBe('rate_limited');
    expect(refused.headers).toMatchObject({
      'retry-after': '40',
      'ratelimit-limit': '2',
      'ratelimit-remaining': '0',
      'ratelimit-reset': '40',
    });
    expect(launcher.runs.size).toBe(2);
    expect(await sample(registry, 'hookgate_ingress_rate_limited_total', { trigger: 'team-a/deploy' })).toBe(
      1,
    );
    advance(40_000);
    expect((await post(app)).statusCode).toBe(202);
  });

  it('limits per client address; a spoofed X-Forwarded-For from an untrusted peer changes nothing', async () => {
    const { app } = setup(limited);
    const from = (remoteAddress: string, xff?: string) =>
      post(app, { remoteAddress, headers: xff ? { 'x-forwarded-for': xff } : {} });
    expect((await from('203.0.113.1', '1.1.1.1')).statusCode).toBe(202);
    expect((await from('203.0.113.1', '2.2.2.2')).statusCode).toBe(202);
    expect((await from('203.0.113.1', '3.3.3.3')).statusCode).toBe(429);
    expect((await from('203.0.113.2')).statusCode).toBe(202); // another client has its own budget
  });

  it('behind a trusted proxy, the client is the right-most untrusted X-Forwarded-For entry', async () => {
    const { app } = setup(limited, { trustedProxies: ['10.0.0.0/8'] });
    const via = (xff: string) =>
      post(app, { remoteAddress: '10.0.0.5', headers: { 'x-forwarded-for': xff } });
    // Same client behind the proxy, whatever it puts on the left of the header.
    expect((await via('6.6.6.6, 198.51.100.1')).statusCode).toBe(202);
    expect((await via('7.7.7.7, 198.51.100.1')).statusCode).toBe(202);
    expect((await via('198.51.100.1, 10.0.0.9')).statusCode).toBe(429);
    // A different client through the same proxy is not limited by the first.
    expect((await via('198.51.100.2')).statusCode).toBe(202);
  });
});
