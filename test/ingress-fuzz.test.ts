// Hostile input against the real ingress process (with the operator publishing its routes): about
// 20,000 requests with random methods, paths, header sets, content types, framing (chunked, bad
// chunks, Content-Length that lies either way) and bodies from issue 10's list, none of them with
// valid credentials. Nothing may answer 5xx other than 503, no run may start, and the ingress must
// be healthy afterwards.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { kubectl, useHookgate, useNamespace, waitFor } from './helpers.ts';
import { applyObjects, triggerObject, workflowObject } from './objects.test-helper.ts';

const REQUESTS = 20_000;
const CONCURRENCY = 64;
const app = useNamespace('fuzz');
// The flood guard would otherwise refuse nearly all of this from one address after 600 requests;
// the fuzz is meant to reach the stages behind it. A short request timeout ends lying lengths.
const running = useHookgate('fuzz', () => ({
  ingressArgs: ['--flood-limit=1000000', '--request-timeout=2s'],
}));
let port: number;

const SCHEMES: [string, object][] = [
  ['bearer', { bearer: {} }],
  ['github', { signature: { scheme: 'github' } }],
  ['hmac', { signature: { scheme: 'hmac-sha256', prefix: 'sha256=' } }],
  ['timestamped', { signature: { scheme: 'timestamped' } }],
  ['stripe', { signature: { scheme: 'stripe' } }],
  ['slack', { signature: { scheme: 'slack' } }],
  ['standard', { signature: { scheme: 'standard-webhooks' } }],
  ['shared', { signature: { scheme: 'shared-secret' } }],
  ['both', { bearer: {}, signature: { scheme: 'github' } }],
];

beforeAll(async () => {
  port = Number(new URL(running.hg.url).port);
  const workflow = workflowObject('target', {
    spec: { inputSchema: { type: 'object', properties: { name: { type: 'string', pattern: '^(a+)+$' } } } },
  });
  const triggers = SCHEMES.map(([name, auth]) =>
    triggerObject(name, 'target', {
      spec: {
        auth,
        // One small limit, so that streamed bodies are cut short too.
        maxBodyBytes: name === 'hmac' ? 1024 : 1_048_576,
        rateLimit: { requests: 1000, periodSeconds: 60 },
        ...(name === 'bearer' ? { response: { mode: 'wait', timeoutSeconds: 5 } } : {}),
      },
    }),
  );
  await applyObjects(app.name, [workflow, ...triggers]);
  // Every route is served once an unauthenticated POST is refused (401) rather than unknown (404).
  for (const [name] of SCHEMES) {
    await waitFor(
      async () =>
        (await fetch(`${running.hg.url}/hooks/${app.name}/${name}`, { method: 'POST' })).status === 401,
      { what: `route ${name} served`, timeoutMs: 60_000 },
    );
  }
}, 120_000);

// A small seeded generator, so a failure can be replayed by its seed.
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
let state = SEED || 1;
const rand = () => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 2 ** 32;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const chance = (p: number) => rand() < p;

const MiB = 1_048_576;
const nested = (depth: number) => `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`;
const big = {
  form: 'a&'.repeat(MiB / 2 - 1),
  deep: nested(MiB / 2 - 10),
  keys: JSON.stringify(Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i]))),
  pattern: JSON.stringify({ name: `${'a'.repeat(200_000)}!` }),
};
const small = [
  '',
  '{}',
  '{"ref":"main"}',
  '[]',
  'null',
  '"x"',
  '{nope',
  nested(5000),
  nested(65),
  'a&'.repeat(2000),
  'payload=%7B%22a%22%3A1%7D',
  'payload=%7Bnope',
  JSON.stringify({ name: `${'a'.repeat(40)}!` }),
  '{"type":"url_verification","challenge":"x"}',
  '{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}}}',
  '\uFEFF{"bom":true}',
];
function body(): Buffer {
  if (chance(0.004)) return Buffer.from(pick(Object.values(big)));
  if (chance(0.1)) return randomBytes(Math.floor(rand() * 4096));
  if (chance(0.05)) return Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x7b, 0x7d]); // invalid UTF-8
  return Buffer.from(pick(small));
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/vnd.github+json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/xml',
  'multipart/form-data; boundary=x',
  'text/html',
  '',
  ';;;',
  'application/json\t',
  `application/${'x'.repeat(300)}+json`,
];
const junkHeaders: (() => [string, string])[] = [
  () => ['authorization', pick(['Bearer wrong', 'Bearer ', 'Basic YTpi', '', `Bearer ${'t'.repeat(4000)}`])],
  () => ['x-hub-signature-256', pick(['sha256=zz', `sha256=${'0'.repeat(64)}`, 'md5=1', ''])],
  () => [
    'x-webhook-signature',
    pick(['t=1,v1=00', `t=${Date.now()},v1=${'a'.repeat(64)}`, 't=,v1=', 'garbage']),
  ],
  () => [
    'stripe-signature',
    pick(['t=abc,v1=', `t=${Math.floor(Date.now() / 1000)},v1=${'b'.repeat(64)}`, 't=1,t=2']),
  ],
  () => ['x-slack-signature', pick(['v0=00', `v0=${'c'.repeat(64)}`])],
  () => [
    'x-slack-request-timestamp',
    pick(['0', '99999999999999999999', String(Math.floor(Date.now() / 1000))]),
  ],
  () => ['webhook-id', pick(['msg_1', '$(DB_PASSWORD)', 'x'.repeat(2000)])],
  () => ['webhook-timestamp', pick(['1', 'NaN', String(Math.floor(Date.now() / 1000))])],
  () => ['webhook-signature', pick(['v1,AAAA', `v1,${'A'.repeat(43)}=`, 'v1a,xyz'])],
  () => ['x-webhook-secret', pick(['nope', '', 'x'.repeat(3000)])],
  () => ['idempotency-key', pick(['$(DB_PASSWORD)', 'k'.repeat(1500), 'k-1', '\t'])],
  () => ['x-github-delivery', pick(['d-1', '$(HOME)'])],
  () => ['x-forwarded-for', pick(['1.1.1.1', '10.0.0.1, 2001:db8::1', 'garbage, ,', '::1'])],
  () => ['expect', '100-continue'],
  () => ['x-huge', 'h'.repeat(pick([100, 8000, 20_000]))],
];

interface Wire {
  bytes: Buffer;
  /** The request cannot complete (a Content-Length longer than the body): the server times it out. */
  stalls: boolean;
}

function request(paths: string[]): Wire {
  const method = chance(0.75) ? 'POST' : pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'FOO']);
  let path = pick(paths);
  if (chance(0.1)) path += pick(['?token=x', '?a=1&a=2', `?${'q'.repeat(3000)}`, '?%zz']);
  const headers: [string, string][] = [
    ['host', 'fuzz'],
    ['connection', 'close'],
  ];
  const type = pick(CONTENT_TYPES);
  if (type || chance(0.5)) headers.push(['content-type', type]);
  for (let i = Math.floor(rand() * 5); i > 0; i--) headers.push(pick(junkHeaders)());
  const payload = body();
  let framed: Buffer = payload;
  let stalls = false;
  const framing = rand();
  if (framing < 0.15) {
    headers.push(['transfer-encoding', 'chunked']);
    const size = chance(0.1) ? 'zz' : payload.length.toString(16);
    const parts = payload.length ? [Buffer.from(`${size}\r\n`), payload, Buffer.from('\r\n')] : [];
    framed = Buffer.concat([...parts, Buffer.from('0\r\n\r\n')]);
  } else if (framing < 0.2) {
    headers.push(['content-length', String(Math.max(0, payload.length - 1 - Math.floor(rand() * 10)))]);
  } else if (framing < 0.21) {
    headers.push(['content-length', String(payload.length + 10)]);
    stalls = true;
  } else if (framing < 0.23) {
    headers.push(['content-length', pick(['-1', 'abc', '1e3', '99999999999999999999'])]);
  } else if (framing < 0.25) {
    headers.push(['content-length', String(payload.length)], ['transfer-encoding', 'chunked']);
  } else {
    headers.push(['content-length', String(payload.length)]);
  }
  const head = `${method} ${path} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;
  return { bytes: Buffer.concat([Buffer.from(head, 'latin1'), framed]), stalls };
}

/** Sends raw bytes; resolves with the status of every response in what came back. */
function send(wire: Wire): Promise<number[]> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    const finish = () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      resolve([...text.matchAll(/(?:^|\r\n)HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1])));
    };
    const timer = setTimeout(() => socket.destroy(), 10_000);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', finish);
    socket.write(wire.bytes, () => {});
  });
}

describe('the ingress under hostile input', () => {
  it(`answers ${REQUESTS} hostile requests without a 5xx other than 503, starting nothing`, async () => {
    const triggers = SCHEMES.map(([name]) => `/hooks/${app.name}/${name}`);
    const paths = [
      ...triggers,
      ...triggers,
      ...triggers,
      `/hooks/${app.name}/unknown`,
      '/hooks/x/y',
      `/hooks/${app.name}`,
      `/hooks/${app.name}/bearer/extra`,
      '/hooks//',
      '/',
      '/healthz',
      '/readyz',
      '/metrics',
      `/hooks/${'n'.repeat(300)}/x`,
      '/hooks/%00/%2e%2e',
      '/hooks/../healthz',
      '*',
    ];
    const statuses = new Map<number, number>();
    let noAnswer = 0;
    let sent = 0;
    const started = performance.now();
    const worker = async () => {
      while (sent < REQUESTS) {
        sent++;
        const answers = await send(request(paths));
        if (answers.length === 0) noAnswer++;
        for (const s of answers) statuses.set(s, (statuses.get(s) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (performance.now() - started) / 1000;
    const summary = Object.fromEntries([...statuses].sort(([a], [b]) => a - b));
    console.log(`fuzz seed ${SEED}: ${REQUESTS} requests in ${seconds.toFixed(1)} s`, summary, { noAnswer });

    const fivexx = [...statuses].filter(([s]) => s >= 500 && s !== 503);
    expect(fivexx, `seed ${SEED}`).toEqual([]);
    expect(statuses.get(401) ?? 0).toBeGreaterThan(REQUESTS / 10); // the fuzz reached verification
    const jobs = await kubectl(['get', 'jobs', '-n', app.name, '-o', 'name']);
    expect(jobs.stdout.trim()).toBe('');
    expect((await fetch(`${running.hg.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${running.hg.url}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(running.hg.metricsUrl)).text();
    expect(metrics).not.toMatch(/hookgate_ingress_runs_started_total\{[^}]*\} [1-9]/);
    expect(metrics).not.toMatch(/outcome="internal_error"/);
  }, 120_000);
});
