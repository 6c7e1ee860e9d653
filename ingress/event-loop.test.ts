// No single request of at most 1 MiB may hold the event loop (every tenant's requests) for more
// than 50 ms: the bound issue 10 asks for, measured with monitorEventLoopDelay.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import { MemoryLauncher, MemoryRoutes, TOKEN, testRoute } from './http/fakes.test-helper.ts';

const MiB = 1_048_576;
const JSON_TYPE = 'application/json';
const FORM = 'application/x-www-form-urlencoded';

const route = testRoute({
  rateLimit: { requests: 1_000_000, periodSeconds: 60 },
  workflow: {
    spec: {
      inputSchema: { type: 'object', properties: { name: { type: 'string', pattern: '^(a+)+$' } } },
    },
  },
});
// Ajv's own uniqueItems compares untyped items pairwise: a 1 MiB array stalled it for seconds.
const unique = testRoute({
  name: 'unique',
  rateLimit: { requests: 1_000_000, periodSeconds: 60 },
  workflow: {
    uid: 'wf-unique',
    spec: { inputSchema: { type: 'object', properties: { items: { type: 'array', uniqueItems: true } } } },
  },
});
const app = buildApp({
  routes: new MemoryRoutes([route, unique]),
  launcher: new MemoryLauncher(),
  registry: new Registry(),
});
afterAll(() => app.close());

const send = (body: string, type: string, url = route.path) =>
  app.inject({
    method: 'POST',
    url,
    payload: body,
    headers: { 'content-type': type, authorization: `Bearer ${TOKEN}` },
  });

/** The longest the loop was held while one request was answered, in ms. */
async function blockedMs(body: string, type: string, url?: string): Promise<{ ms: number; status: number }> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  await sleep(5);
  h.enable();
  const { statusCode } = await send(body, type, url);
  await sleep(5);
  h.disable();
  return { ms: h.max / 1e6, status: statusCode };
}

/** `{"items":[…]}` of distinct items from `item(i)`, as many as fit in `bytes`. */
function distinctItems(item: (i: number) => string, bytes: number): string {
  const parts: string[] = [];
  let size = '{"items":[]}'.length;
  for (let i = 0; size + item(i).length + 1 <= bytes; i++) {
    parts.push(item(i));
    size += item(i).length + 1;
  }
  return `{"items":[${parts.join(',')}]}`;
}

const nested = (depth: number) => `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`;
const fill = (unit: string, bytes: number) => unit.repeat(Math.floor(bytes / unit.length));

describe('one request never blocks the event loop for more than 50 ms', () => {
  it.each([
    ['a worst-case form: a&a&a… (1 MiB)', fill('a&', MiB - 2), FORM, 400],
    [
      'a form of 1000 repeats of one field, 1 MiB',
      Array(1000)
        .fill(`a=${'x'.repeat(1040)}`)
        .join('&'),
      FORM,
      202,
    ],
    ['JSON 5,000 levels deep', nested(5000), JSON_TYPE, 400],
    ['JSON 500,000 levels deep (1 MiB)', nested(MiB / 2 - 10), JSON_TYPE, 400],
    [
      'input for the pattern ^(a+)+$, 30 characters and a mismatch',
      JSON.stringify({ name: `${'a'.repeat(30)}!` }),
      JSON_TYPE,
      422,
    ],
    [
      'input for the pattern ^(a+)+$, 100,000 characters',
      JSON.stringify({ name: `${'a'.repeat(100_000)}!` }),
      JSON_TYPE,
      422,
    ],
    [
      '20,000 keys',
      JSON.stringify(Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i]))),
      JSON_TYPE,
      202,
    ],
    ['uniqueItems over 1 MiB of distinct integers', distinctItems(String, MiB), JSON_TYPE, 202, unique.path],
    [
      'uniqueItems over 1 MiB of distinct objects',
      distinctItems((i) => `{"a":${i},"b":"x"}`, MiB),
      JSON_TYPE,
      202,
      unique.path,
    ],
    [
      'uniqueItems over 1 MiB whose last item repeats the first',
      distinctItems((i) => String(i % 120_000), MiB),
      JSON_TYPE,
      422,
      unique.path,
    ],
  ])('%s', async (_, body, type, status, url = route.path) => {
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MiB);
    await send('{"name":"aaa"}', JSON_TYPE, url); // warm: schema compiled, code paths optimised
    // The least of three tries: a quadratic or backtracking path blocks every time, while a
    // neighbour's burst of CPU on a shared machine does not.
    const tries = [
      await blockedMs(body, type, url),
      await blockedMs(body, type, url),
      await blockedMs(body, type, url),
    ];
    expect(tries.map((t) => t.status)).toEqual([status, status, status]);
    expect(Math.min(...tries.map((t) => t.ms))).toBeLessThanOrEqual(50);
  });
});
