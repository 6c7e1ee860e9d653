import { connect } from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildApp } from './app.ts';
import { FLAGS } from './http/config.ts';
import { MemoryLauncher, MemoryRoutes, TOKEN, testRoute } from './http/fakes.test-helper.ts';
import { drain, main, serverOptions } from './server.ts';

// The server's own behaviour over real sockets: header caps, request timeouts and draining.

const silent = pino({ level: 'silent' });
const defaults = { requestTimeout: 30_000, keepAliveTimeout: 72_000, maxHeaderBytes: 16_384 };
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.allSettled(closers.splice(0).map((c) => c()));
});

async function listen(config = defaults) {
  const launcher = new MemoryLauncher();
  const routes = new MemoryRoutes([testRoute({ response: { mode: 'wait', timeoutSeconds: 30 } })]);
  const app = buildApp({ routes, launcher, registry: new Registry() }, serverOptions(config));
  await app.listen({ host: '127.0.0.1', port: 0 });
  closers.push(() => app.close());
  const { port } = app.server.address() as { port: number };
  return { app, launcher, port, url: `http://127.0.0.1:${port}/hooks/team-a/deploy` };
}

const deliver = (url: string) =>
  fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: '{}',
  });

/** Raw bytes over a socket; resolves with what came back when the server closes the connection. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    socket.on('data', (d) => {
      answer += d.toString();
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('server options', () => {
  it('431 for headers over the cap', async () => {
    const { url } = await listen({ ...defaults, maxHeaderBytes: 2048 });
    const res = await fetch(url, { method: 'POST', headers: { 'x-big': 'x'.repeat(4096) } });
    expect(res.status).toBe(431);
  });

  it('closes a connection whose request body does not arrive within the request timeout', async () => {
    const { port } = await listen({ ...defaults, requestTimeout: 300 });
    const started = Date.now();
    const answer = await raw(
      port,
      `POST /hooks/team-a/deploy HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"slow":',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe('drain', () => {
  it('lets an in-flight request finish, then refuses new connections', async () => {
    const { app, launcher, url } = await listen();
    const inFlight = deliver(url);
    while (launcher.runs.size === 0) await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    // A deadline longer than the test: passing means the drain ended when the request did.
    const drained = drain(app, 10_000, silent);
    await new Promise((r) => setTimeout(r, 100));
    const [run] = [...launcher.runs.keys()];
    launcher.finish(run!, { result: 'Succeeded', exitCode: 0 });
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ run, result: 'Succeeded' });
    await drained;
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(deliver(url)).rejects.toThrow();
  });

  it('closes connections still busy at the deadline', async () => {
    const { app, launcher, url } = await listen();
    const inFlight = deliver(url).then(
      (r) => r.status,
      () => 'closed',
    );
    while (launcher.runs.size === 0) await new Promise((r) => setTimeout(r, 10));
    const started = Date.now();
    await drain(app, 200, silent);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await inFlight).toBe('closed');
  });
});

describe('main', () => {
  it('prints the usage for --help and exits 0, starting nothing', async () => {
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
    const exitCode = process.exitCode;
    try {
      await main(['--help'], {});
    } finally {
      log.mockRestore();
    }
    expect(printed).toEqual([FLAGS.usage()]);
    for (const flag of Object.keys(FLAGS.flags)) expect(printed[0]).toContain(`--${flag} `);
    expect(process.exitCode).toBe(exitCode);
  });
});
