// The ingress app against hostile senders (over app.inject, setup in app.test-helper.ts): junk and
// floods, no work before authentication, hostile bodies, replays, and waits.
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BEARER, closeApps, GITHUB, githubHeaders, NOW, PATH, post, setup } from './app.test-helper.ts';
import type { buildApp } from './app.ts';
import { SECRET, sample, TOKEN } from './http/fakes.test-helper.ts';
import { QueueFullError } from './types.ts';
import { sign } from './verify/index.ts';

closeApps();

describe('hostile senders: junk and floods', () => {
  const unsigned = (app: ReturnType<typeof buildApp>, remoteAddress = '203.0.113.7') =>
    post(app, { remoteAddress, headers: { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` } });

  it('junk never spends the rate limit: 100 unsigned requests, then a signed delivery from the same address is 202', async () => {
    const { app, launcher } = setup({ auth: { signature: GITHUB } });
    for (let i = 0; i < 100; i++) expect((await unsigned(app)).statusCode).toBe(401);
    const body = '{"ref":"main"}';
    const res = await post(app, { body, headers: githubHeaders(body, 'gh-1'), remoteAddress: '203.0.113.7' });
    expect(res.statusCode).toBe(202);
    expect(launcher.runs.size).toBe(1);
  });

  it('the flood guard refuses an address past its unverified limit from the headers alone, with its metric', async () => {
    const { app, registry, advance } = setup(
      { auth: { signature: GITHUB }, maxBodyBytes: 20 },
      { floodLimit: { requests: 5, periodSeconds: 60 } },
    );
    for (let i = 0; i < 5; i++) expect((await unsigned(app)).statusCode).toBe(401);
    // Refused before anything else: whatever the path, size or content type, even a valid signature.
    const body = '{"ref":"main"}';
    for (const res of [
      await unsigned(app),
      await post(app, { path: '/hooks/x/y', remoteAddress: '203.0.113.7' }),
      await post(app, {
        body: 'x'.repeat(100),
        headers: { 'content-type': 'application/xml' },
        remoteAddress: '203.0.113.7',
      }),
      await post(app, { body, headers: githubHeaders(body), remoteAddress: '203.0.113.7' }),
    ]) {
      expect(res.statusCode).toBe(429);
      expect(res.json().error.code).toBe('flooded');
      expect(res.headers['retry-after']).toBe('60');
    }
    expect(await sample(registry, 'hookgate_ingress_flood_rejected_total', {})).toBe(4);
    expect((await unsigned(app, '203.0.113.8')).statusCode).toBe(401); // another address is not flooded
    advance(60_000);
    expect((await unsigned(app)).statusCode).toBe(401);
  });

  it('verified deliveries never count towards the flood guard', async () => {
    const { app } = setup(
      { auth: { signature: GITHUB } },
      { floodLimit: { requests: 2, periodSeconds: 60 } },
    );
    for (let i = 0; i < 10; i++) {
      const body = `{"n":${i}}`;
      expect((await post(app, { body, headers: githubHeaders(body) })).statusCode).toBe(202);
    }
  });

  it('IPv6 clients are counted by their /64, in the flood guard and the rate limit', async () => {
    const flood = setup({}, { floodLimit: { requests: 2, periodSeconds: 60 } });
    const wrong = (remoteAddress: string) =>
      post(flood.app, { remoteAddress, headers: { authorization: 'Bearer nope' } });
    expect((await wrong('2001:db8:1:2::1')).statusCode).toBe(401);
    expect((await wrong('2001:db8:1:2::2')).statusCode).toBe(401);
    expect((await wrong('2001:db8:1:2:ffff:1:2:3')).statusCode).toBe(429);
    expect((await wrong('2001:db8:1:3::1')).statusCode).toBe(401); // the next /64

    const { app } = setup({ rateLimit: { requests: 2, periodSeconds: 60 } });
    expect((await post(app, { remoteAddress: '2001:db8::1' })).statusCode).toBe(202);
    expect((await post(app, { remoteAddress: '2001:db8::2' })).statusCode).toBe(202);
    expect((await post(app, { remoteAddress: '2001:db8:0:0:abcd::3' })).statusCode).toBe(429);
  });

  it('behind a trusted proxy, a spoofed X-Forwarded-For from an untrusted peer changes nothing', async () => {
    const { app } = setup(
      { rateLimit: { requests: 2, periodSeconds: 60 } },
      { trustedProxies: ['10.0.0.0/8'], floodLimit: { requests: 2, periodSeconds: 60 } },
    );
    const from = (remoteAddress: string, xff: string, token = TOKEN) =>
      post(app, { remoteAddress, headers: { 'x-forwarded-for': xff, authorization: `Bearer ${token}` } });
    // The peer is not a trusted proxy: it is the client, whatever it claims.
    expect((await from('203.0.113.9', '10.0.0.1')).statusCode).toBe(202);
    expect((await from('203.0.113.9', '198.51.100.1')).statusCode).toBe(202);
    expect((await from('203.0.113.9', '198.51.100.2, 10.0.0.3')).statusCode).toBe(429);
    expect((await from('203.0.113.9', '198.51.100.3', 'bad')).statusCode).toBe(401);
    expect((await from('203.0.113.9', '198.51.100.4', 'bad')).statusCode).toBe(401);
    expect((await from('203.0.113.9', '198.51.100.5', 'bad')).statusCode).toBe(429);
    expect((await from('203.0.113.9', '198.51.100.5')).json().error.code).toBe('flooded');
    // Through the trusted proxy, the forwarded client is counted, not the proxy.
    expect((await from('10.0.0.5', '203.0.113.9')).json().error.code).toBe('flooded');
    expect((await from('10.0.0.5', '198.51.100.7')).statusCode).toBe(202);
  });
});

describe('hostile senders: no work before authentication', () => {
  /** A body that counts what is pulled from it, `size` bytes in 1 KiB chunks. */
  function countingBody(size: number) {
    const pulled = { bytes: 0 };
    let left = size;
    const stream = new Readable({
      read() {
        if (left <= 0) return void this.push(null);
        const n = Math.min(1024, left);
        left -= n;
        pulled.bytes += n;
        this.push(Buffer.alloc(n, 0x20));
      },
    });
    return { stream, pulled };
  }

  it('401 for a wrong bearer token without reading the body', async () => {
    const { app } = setup();
    const { stream, pulled } = countingBody(512 * 1024);
    const res = await post(app, { body: stream, headers: { authorization: 'Bearer wrong' } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="hookgate"');
    expect(pulled.bytes).toBeLessThan(64 * 1024);
  });

  it("413 as soon as a chunked body passes the trigger's maxBodyBytes, not at 1 MiB", async () => {
    const { app } = setup({ maxBodyBytes: 4096 });
    const { stream, pulled } = countingBody(1_000_000);
    const res = await post(app, { body: stream });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('payload_too_large');
    expect(pulled.bytes).toBeLessThan(64 * 1024);
  });

  it('400 for a body shorter or longer than its Content-Length', async () => {
    const { app, launcher } = setup();
    for (const length of ['5', '100']) {
      const res = await post(app, { body: '{"ref":"main"}', headers: { 'content-length': length } });
      expect(res.statusCode).toBe(400);
    }
    expect(launcher.runs.size).toBe(0);
  });
});

describe('hostile senders: bodies', () => {
  it('400 for JSON nested deeper than 64 levels, 202 at 64; never 500', async () => {
    const { app, launcher } = setup();
    const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    expect((await post(app, { body: `{"a":${nested(63)}}` })).statusCode).toBe(202);
    for (const depth of [65, 5000]) {
      const res = await post(app, { body: `{"a":${nested(depth)}}` });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.message).toMatch(/deeper than 64/);
    }
    expect(launcher.runs.size).toBe(1);
  });

  it('400 for a form with more than 1000 fields; a repeated field is an array', async () => {
    const { app, launcher } = setup();
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expect((await post(app, { body: Array(1001).fill('a').join('&'), headers: form })).statusCode).toBe(400);
    expect((await post(app, { body: Array(1000).fill('a=1').join('&'), headers: form })).statusCode).toBe(
      202,
    );
    expect((launcher.deliveries[0]!.input as { a: string[] }).a).toHaveLength(1000);
  });
});

describe('hostile senders: replays', () => {
  const TIMESTAMPED = { scheme: 'timestamped' as const, secrets: [{ value: SECRET }] };
  const signedPost = (
    app: ReturnType<typeof buildApp>,
    signature: Parameters<typeof sign>[0],
    body: string,
    at: number,
    extra: Record<string, string> = {},
  ) =>
    post(app, {
      body,
      headers: {
        'content-type': 'application/json',
        ...sign(signature, SECRET, Buffer.from(body), at),
        ...extra,
      },
    });

  it('a github delivery replayed verbatim or with a new X-GitHub-Delivery is the same run; a new body is a new run', async () => {
    const { app, launcher } = setup({ auth: { signature: GITHUB } });
    const body = '{"ref":"main"}';
    const first = await post(app, { body, headers: githubHeaders(body, 'gh-1') });
    expect(first.statusCode).toBe(202);
    for (const id of ['gh-1', 'gh-2', 'attacker-chosen']) {
      const again = await post(app, { body, headers: githubHeaders(body, id) });
      expect(again.statusCode).toBe(200);
      expect(again.json()).toMatchObject({ run: first.json().run, duplicate: true });
    }
    const other = await post(app, { body: '{"ref":"dev"}', headers: githubHeaders('{"ref":"dev"}', 'gh-1') });
    expect(other.statusCode).toBe(202);
    expect(launcher.runs.size).toBe(2);
    // The run is kept for the replay window (default 3600 s), and shows the sender's id.
    expect(launcher.deliveries[0]).toMatchObject({
      deliveryId: 'gh-1',
      replayUntil: new Date(NOW + 3_600_000).toISOString(),
    });
  });

  it("the replay window of a scheme without a timestamp is the trigger's replayWindowSeconds", async () => {
    const { app, launcher } = setup({ auth: { signature: { ...GITHUB, replayWindowSeconds: 86_400 } } });
    const body = '{}';
    await post(app, { body, headers: githubHeaders(body) });
    expect(launcher.deliveries[0]!.replayUntil).toBe(new Date(NOW + 86_400_000).toISOString());
  });

  it('a timestamped delivery replayed with a new Idempotency-Key within tolerance is a duplicate', async () => {
    const { app, launcher, advance } = setup({ auth: { signature: TIMESTAMPED } });
    const body = '{"ref":"main"}';
    const headers = {
      'content-type': 'application/json',
      ...sign(TIMESTAMPED, SECRET, Buffer.from(body), NOW),
    };
    const first = await post(app, { body, headers: { ...headers, 'idempotency-key': 'k-1' } });
    expect(first.statusCode).toBe(202);
    advance(200_000);
    const replay = await post(app, { body, headers: { ...headers, 'idempotency-key': 'k-2' } });
    expect(replay.json()).toMatchObject({ run: first.json().run, duplicate: true });
    // The sender's own retry, re-signed later with its same Idempotency-Key: the same delivery.
    const retry = await signedPost(app, TIMESTAMPED, body, NOW + 200_000, { 'idempotency-key': 'k-1' });
    expect(retry.json()).toMatchObject({ run: first.json().run, duplicate: true });
    // Past the tolerance the replay no longer verifies.
    advance(200_000);
    expect((await post(app, { body, headers: { ...headers, 'idempotency-key': 'k-3' } })).statusCode).toBe(
      401,
    );
    expect(launcher.runs.size).toBe(1);
    // Kept for two tolerances: a timestamp may verify up to one ahead of the receipt.
    expect(launcher.deliveries[0]!.replayUntil).toBe(new Date(NOW + 600_000).toISOString());
  });

  it('a new body, or the same body signed at another time without an id, is a new run', async () => {
    const { app, launcher } = setup({ auth: { signature: TIMESTAMPED } });
    expect((await signedPost(app, TIMESTAMPED, '{"n":1}', NOW)).statusCode).toBe(202);
    expect((await signedPost(app, TIMESTAMPED, '{"n":2}', NOW)).statusCode).toBe(202);
    expect((await signedPost(app, TIMESTAMPED, '{"n":1}', NOW + 1000)).statusCode).toBe(202);
    expect(launcher.runs.size).toBe(3);
  });

  it('standard-webhooks and stripe name a delivery by its signed id, across re-signed retries', async () => {
    const sw = { scheme: 'standard-webhooks' as const, secrets: [{ value: SECRET }] };
    const a = setup({ auth: { signature: sw } });
    const body = '{"type":"x"}';
    const at = (t: number) => ({
      'content-type': 'application/json',
      ...sign(sw, SECRET, Buffer.from(body), t, 'msg_1'),
    });
    expect((await post(a.app, { body, headers: at(NOW) })).statusCode).toBe(202);
    expect((await post(a.app, { body, headers: at(NOW + 60_000) })).statusCode).toBe(200);

    const stripe = { scheme: 'stripe' as const, secrets: [{ value: SECRET }] };
    const b = setup({ auth: { signature: stripe } });
    const event = '{"id":"evt_1","type":"x"}';
    expect((await signedPost(b.app, stripe, event, NOW)).statusCode).toBe(202);
    expect((await signedPost(b.app, stripe, event, NOW + 60_000)).statusCode).toBe(200);
    expect(b.launcher.runs.size).toBe(1);
  });

  it('bearer-only triggers sign nothing: the sender id names the delivery, and no replay window is kept', async () => {
    const { app, launcher } = setup();
    await post(app, { headers: { 'idempotency-key': 'k-1' } });
    await post(app, { headers: { 'idempotency-key': 'k-2' } });
    expect(launcher.runs.size).toBe(2);
    expect(launcher.deliveries[0]).toMatchObject({ key: 'k-1' });
    expect(launcher.deliveries[0]!.replayUntil).toBeUndefined();
  });
});

describe('hostile senders: waits', () => {
  it('a wait-mode client that disconnects frees its waiter at once', async () => {
    const { app, launcher } = setup({ response: { mode: 'wait', timeoutSeconds: 300 } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const req = httpRequest({
      port,
      host: '127.0.0.1',
      method: 'POST',
      path: PATH,
      headers: { 'content-type': 'application/json', ...BEARER },
    });
    req.on('error', () => {});
    req.end('{}');
    await expect.poll(() => launcher.waiting, { timeout: 5000 }).toBe(1);
    req.destroy();
    await expect.poll(() => launcher.waiting, { timeout: 2000 }).toBe(0);
  });

  it('503 with Retry-After when the workflow queue is full', async () => {
    const { app, launcher } = setup();
    launcher.failNext = new QueueFullError('full');
    const res = await post(app);
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('queue_full');
    expect(res.headers['retry-after']).toBe('5');
  });
});
