// Bodies in flight over real sockets (issue 20, item 1): bounded per client address and in all, and
// requests that never get an answer (aborted by the client, cut by the request timeout) count
// towards the flood guard. Deterministic: every wait is for an observable state, not for time.
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import { BodyBudget } from './body-budget.ts';
import { MemoryLauncher, MemoryRoutes, TOKEN, testRoute } from './http/fakes.test-helper.ts';
import { serverOptions } from './server.ts';

const MiB = 1024 * 1024;
const PATH = '/hooks/team-a/deploy';
const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe('BodyBudget', () => {
  it('refuses past the client share first, then past the total, and gives back what ends', () => {
    const b = new BodyBudget({ total: 3 * MiB, perClient: 2 * MiB });
    expect(b.reserve('a', MiB)).toBeUndefined();
    expect(b.reserve('a', MiB)).toBeUndefined();
    expect(b.reserve('a', 1)).toBe('client');
    expect(b.reserve('b', MiB)).toBeUndefined();
    expect(b.reserve('c', 1)).toBe('total');
    expect(b.inFlight).toBe(3 * MiB);
    b.release('a', 2 * MiB);
    expect(b.reserve('c', MiB)).toBeUndefined();
    b.release('b', MiB);
    b.release('c', MiB);
    expect([b.inFlight, b.clients]).toEqual([0, 0]);
  });
});

async function listen(opts: { floodRequests?: number; requestTimeout?: number; bodies?: BodyBudget } = {}) {
  const bodies = opts.bodies ?? new BodyBudget({ total: 3 * MiB, perClient: 2 * MiB });
  const launcher = new MemoryLauncher();
  const app = buildApp(
    {
      routes: new MemoryRoutes([testRoute()]),
      launcher,
      registry: new Registry(),
      bodies,
      floodLimit: { requests: opts.floodRequests ?? 1000, periodSeconds: 60 },
    },
    serverOptions({
      requestTimeout: opts.requestTimeout ?? 30_000,
      keepAliveTimeout: 5_000,
      maxHeaderBytes: 16_384,
    }),
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  closers.push(() => app.close());
  const { port } = app.server.address() as { port: number };
  return { app, bodies, launcher, port };
}

interface Trickle {
  socket: Socket;
  /** Everything the server sent, once it closed the connection. */
  answer: Promise<string>;
}

/** A POST from `from` that declares `declared` bytes (or is chunked) and sends only `sent` of them. */
function trickle(port: number, from: string, declared: number | 'chunked', sent: number): Trickle {
  const socket = connect({ port, host: '127.0.0.1', localAddress: from });
  closers.push(() => socket.destroy());
  const length = declared === 'chunked' ? 'Transfer-Encoding: chunked' : `Content-Length: ${declared}`;
  socket.write(
    `POST ${PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n` +
      `Content-Type: application/json\r\n${length}\r\n\r\n`,
  );
  const body = Buffer.alloc(sent, 0x20);
  if (declared === 'chunked') {
    for (let at = 0; at < sent; at += 64 * 1024) {
      const part = body.subarray(at, at + 64 * 1024);
      socket.write(`${part.length.toString(16)}\r\n`);
      socket.write(part);
      socket.write('\r\n');
    }
  } else socket.write(body);
  let text = '';
  socket.on('data', (d) => {
    text += d;
  });
  const answer = new Promise<string>((resolve) => {
    socket.on('close', () => resolve(text));
    socket.on('error', () => {});
  });
  return { socket, answer };
}

/** A whole delivery from `from`: its status and error code. */
function deliver(
  port: number,
  from: string,
): Promise<{ status: number; code?: string; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        port,
        host: '127.0.0.1',
        localAddress: from,
        path: PATH,
        method: 'POST',
        agent: false,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            code: text.includes('"error"') ? JSON.parse(text).error.code : undefined,
            retryAfter: res.headers['retry-after'],
          }),
        );
      },
    );
    req.on('error', reject);
    req.end('{"ref":"main"}');
  });
}

async function until(what: string, check: () => boolean) {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error(`never: ${what}`);
}

const statusOf = (answer: string) => Number(answer.split(' ')[1]);

describe('bodies in flight', () => {
  it('past the client share: 429 for that address, at once; past the total: 503 with Retry-After', async () => {
    const { bodies, port } = await listen();
    const a1 = trickle(port, '127.0.0.2', MiB, 1000);
    const a2 = trickle(port, '127.0.0.2', MiB, 1000);
    await until('two bodies of 127.0.0.2 reserved', () => bodies.inFlight === 2 * MiB);
    const a3 = await trickle(port, '127.0.0.2', MiB, 1000).answer;
    expect(statusOf(a3)).toBe(429);
    expect(a3).toMatch(/"code":"too_many_bodies"/);
    expect(a3.toLowerCase()).toMatch(/retry-after: 5/);

    const b = trickle(port, '127.0.0.3', MiB, 1000);
    await until('the body of 127.0.0.3 reserved', () => bodies.inFlight === 3 * MiB);
    const c = await trickle(port, '127.0.0.4', 100, 10).answer;
    expect(statusOf(c)).toBe(503);
    expect(c).toMatch(/"code":"overloaded"/);
    expect(c.toLowerCase()).toMatch(/retry-after: 5/);

    // The client goes away: what it held is free again, and others are served.
    a1.socket.destroy();
    a2.socket.destroy();
    await until('the aborted bodies released', () => bodies.inFlight === MiB);
    expect(await deliver(port, '127.0.0.4')).toMatchObject({ status: 202 });
    b.socket.destroy();
    await until('nothing held', () => bodies.inFlight === 0 && bodies.clients === 0);
  });

  it('a chunked body is reserved as it arrives, and refused once its address passes its share', async () => {
    const { bodies, port } = await listen();
    trickle(port, '127.0.0.5', 'chunked', 900 * 1024);
    trickle(port, '127.0.0.5', 'chunked', 900 * 1024);
    await until('1800 KiB reserved', () => bodies.inFlight === 1800 * 1024);
    const third = await trickle(port, '127.0.0.5', 'chunked', 600 * 1024).answer;
    expect(statusOf(third)).toBe(429);
    expect(third).toMatch(/"code":"too_many_bodies"/);
  });

  it('a delivery that completes gives its reservation back', async () => {
    const { bodies, port } = await listen();
    for (let i = 0; i < 5; i++) expect((await deliver(port, '127.0.0.6')).status).toBe(202);
    await until('nothing held', () => bodies.inFlight === 0);
  });
});

describe('requests that never get an answer count towards the flood guard', () => {
  it('aborted by the client mid-body', async () => {
    const { bodies, port } = await listen({ floodRequests: 3 });
    for (let i = 0; i < 3; i++) {
      const t = trickle(port, '127.0.0.7', MiB, 64 * 1024);
      await until('the body reserved', () => bodies.inFlight === MiB);
      t.socket.destroy();
      // The request's end gives its reservation back and strikes its address, together.
      await until('the aborted request ended', () => bodies.inFlight === 0);
    }
    const after = await deliver(port, '127.0.0.7');
    expect(after).toMatchObject({ status: 429, code: 'flooded' });
    expect(await deliver(port, '127.0.0.8')).toMatchObject({ status: 202 });
  });

  it('cut by the request timeout (the 408 Node answers itself)', async () => {
    const { bodies, port } = await listen({ floodRequests: 2, requestTimeout: 300 });
    for (let i = 0; i < 2; i++) {
      const answer = await trickle(port, '127.0.0.9', 100, 10).answer;
      expect(statusOf(answer)).toBe(408);
      await until('the timed-out request ended', () => bodies.inFlight === 0);
    }
    expect(await deliver(port, '127.0.0.9')).toMatchObject({ status: 429, code: 'flooded' });
  });
});
