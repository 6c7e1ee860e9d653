import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { Route } from '../api/v1alpha1/index.ts';
import { type AppDeps, buildApp } from './app.ts';
import { MemoryLauncher, MemoryRoutes, SECRET, sample, TOKEN, testRoute } from './http/fakes.test-helper.ts';
import { ApiUnavailableError, InputTooLargeError, JobRejectedError, QueueFullError } from './types.ts';
import { sign } from './verify/index.ts';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const PATH = '/hooks/team-a/deploy';
const BEARER = { authorization: `Bearer ${TOKEN}` };
const GITHUB = { scheme: 'github' as const, secrets: [{ value: SECRET }] };

type Overrides = Parameters<typeof testRoute>[0];

const apps: ReturnType<typeof buildApp>[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

/** An app over one route (plus any others), with everything it did kept for assertions. */
function setup(overrides: Overrides = {}, deps: Partial<AppDeps> = {}, others: Route[] = []) {
  const route = testRoute(overrides);
  const routes = new MemoryRoutes([route, ...others]);
  const launcher = new MemoryLauncher();
  const registry = new Registry();
  const used: Route[] = [];
  const logs: Record<string, unknown>[] = [];
  const logText: string[] = [];
  const logger = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        logText.push(line);
        logs.push(JSON.parse(line));
      },
    },
  );
  let now = NOW;
  const app = buildApp({
    routes,
    launcher,
    registry,
    logger,
    clock: () => now,
    recordUse: (r) => used.push(r),
    ...deps,
  });
  apps.push(app);
  const advance = (ms: number) => {
    now += ms;
  };
  return { app, route, routes, launcher, registry, used, logs, logText, advance };
}

interface Post {
  body?: string | Buffer | Readable;
  headers?: Record<string, string>;
  path?: string;
  remoteAddress?: string;
}

/** POSTs JSON with the route's bearer token unless told otherwise. */
const post = (
  app: ReturnType<typeof buildApp>,
  { body = '{"ref":"main"}', headers = {}, path = PATH, remoteAddress }: Post = {},
) =>
  app.inject({
    method: 'POST',
    url: path,
    payload: body,
    headers: { 'content-type': 'application/json', ...BEARER, ...headers },
    ...(remoteAddress ? { remoteAddress } : {}),
  });

/** Headers a GitHub sender sets for `body`, signed for real with the route's secret. */
const githubHeaders = (body: string, id?: string): Record<string, string> => ({
  'content-type': 'application/json',
  ...sign(GITHUB, SECRET, Buffer.from(body), NOW, id),
});

describe('probes', () => {
  it('/healthz is always 200; /readyz is 200 only once the routes are loaded', async () => {
    const { app, routes } = setup();
    routes.ready = false;
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    expect((await app.inject('/readyz')).statusCode).toBe(503);
    routes.ready = true;
    expect((await app.inject('/readyz')).statusCode).toBe(200);
  });
});

describe('answers', () => {
  it('202 with the run, workflow, trigger and delivery id; the run exists before the answer', async () => {
    const { app, launcher } = setup();
    const res = await post(app, { headers: { 'idempotency-key': 'd-1' } });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body).toEqual({
      accepted: true,
      run: expect.any(String),
      workflow: 'build',
      trigger: 'deploy',
      deliveryId: 'd-1',
    });
    expect(launcher.runs.has(body.run)).toBe(true);
  });

  it('404 for an unknown trigger or another path, whatever the method', async () => {
    const { app } = setup();
    for (const res of [
      await post(app, { path: '/hooks/team-a/other' }),
      await post(app, { path: '/hooks/team-b/deploy' }),
      await app.inject({ method: 'GET', url: '/hooks/team-a/other' }),
      await app.inject({ method: 'POST', url: '/somewhere' }),
    ]) {
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: { code: 'not_found', message: 'no such trigger' } });
    }
  });

  it('405 with Allow: POST for another method on a trigger, starting nothing', async () => {
    const { app, launcher } = setup();
    for (const method of ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const) {
      const res = await app.inject({ method, url: PATH, headers: BEARER });
      expect(res.statusCode, method).toBe(405);
      expect(res.headers.allow).toBe('POST');
      if (method !== 'HEAD') expect(res.json().error.code).toBe('method_not_allowed');
    }
    expect(launcher.runs.size).toBe(0);
  });

  it('403 for a suspended trigger, valid token or not', async () => {
    const { app, launcher } = setup({ suspended: true });
    const res = await post(app);
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('suspended');
    expect(launcher.runs.size).toBe(0);
  });

  it('503 with a clear message and Retry-After for a trigger that cannot start runs, never 500', async () => {
    const message = 'the workflow "build" cannot run (InvalidJobTemplate); its owner must fix it';
    const { app, launcher } = setup({ unavailable: { reason: 'WorkflowNotReady', message } });
    const res = await post(app);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('60');
    expect(res.json().error).toEqual({ code: 'trigger_unavailable', message });
    expect(launcher.runs.size).toBe(0);
  });

  it('503, not 500, when a route carries an inputSchema the compiler refuses', async () => {
    for (const inputSchema of [
      { type: 'object', properties: { a: { type: 'notatype' } } },
      { type: 'object', properties: { a: { type: 'string', pattern: '(?=lookahead)' } } },
    ]) {
      const { app, launcher } = setup({ workflow: { spec: { inputSchema } } } as Overrides);
      const res = await post(app);
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('input_schema_unusable');
      expect(launcher.runs.size).toBe(0);
    }
  });

  // Each request breaks two rules; the answer is the earlier check's.
  it.each([
    [
      'unknown trigger before everything',
      { path: '/hooks/x/y', headers: { 'content-type': 'application/xml' } },
      {},
      404,
    ],
    [
      'suspended before content type',
      { headers: { 'content-type': 'application/xml' } },
      { suspended: true },
      403,
    ],
    [
      'size before content type',
      { body: 'x'.repeat(200), headers: { 'content-type': 'application/xml' } },
      { maxBodyBytes: 100 },
      413,
    ],
    [
      'content type before verification',
      { headers: { 'content-type': 'application/xml', authorization: 'Bearer x' } },
      {},
      415,
    ],
    ['verification before parsing', { body: '{nope', headers: { authorization: 'Bearer x' } }, {}, 401],
    [
      'parsing before the filter',
      { body: '{nope' },
      { filter: { fields: [{ path: 'ref', values: ['x'] }] } },
      400,
    ],
    [
      'the filter before the schema',
      { body: '{"ref":"dev"}' },
      {
        filter: { fields: [{ path: 'ref', values: ['main'] }] },
        workflow: { spec: { inputSchema: { required: ['nope'] } } },
      },
      202,
    ],
  ] as const)('order: %s', async (_, request, overrides, status) => {
    const { app } = setup(overrides as Overrides);
    expect((await post(app, request as Post)).statusCode).toBe(status);
  });

  it('409 when the workflow forbids concurrent runs and one is active', async () => {
    const { app } = setup({ workflow: { spec: { concurrencyPolicy: 'Forbid' } } });
    const first = await post(app);
    expect(first.statusCode).toBe(202);
    const res = await post(app);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ error: { code: 'run_active' }, activeRun: first.json().run });
  });

  it('503 with Retry-After when the API server is unavailable', async () => {
    const { app, launcher } = setup();
    launcher.failNext = new ApiUnavailableError('connect ECONNREFUSED 10.0.0.1:6443');
    const res = await post(app);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json().error.code).toBe('api_unavailable');
    expect(res.body).not.toContain('ECONNREFUSED');
  });

  it('413 when the mapped input is too large for a run', async () => {
    const { app, launcher } = setup();
    launcher.failNext = new InputTooLargeError('input is 1048577 bytes');
    const res = await post(app);
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('payload_too_large');
  });

  it("503 with Retry-After, without the API server's text, for a run the cluster refused", async () => {
    const { app, launcher } = setup();
    launcher.failNext = new JobRejectedError('Job.batch is invalid: x');
    const res = await post(app);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('60');
    expect(res.json().error.code).toBe('run_rejected');
    expect(res.body).not.toContain('Job.batch');
  });

  it("500 without the error's text for any other failure", async () => {
    const { app, launcher } = setup();
    const error = new Error(`leaked ${TOKEN}`);
    launcher.failNext = error;
    const res = await post(app);
    expect(res.statusCode).toBe(500);
    expect(res.json().error.code).toBe('internal_error');
    expect(res.body).not.toContain(error.message);
  });
});

describe('verification', () => {
  it('401 for a missing or wrong bearer token, with WWW-Authenticate', async () => {
    const { app, launcher, registry } = setup();
    const missing = await post(app, { headers: { authorization: '' } });
    const wrong = await post(app, { headers: { authorization: `Bearer ${TOKEN}x` } });
    for (const res of [missing, wrong]) {
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('unauthorized');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
    }
    expect(missing.json().error.message).toContain('missing_token');
    expect(wrong.json().error.message).toContain('invalid_token');
    expect(launcher.runs.size).toBe(0);
    const failures = { trigger: 'team-a/deploy', reason: 'invalid_token' };
    expect(await sample(registry, 'hookgate_ingress_verification_failures_total', failures)).toBe(1);
  });

  it('accepts a GitHub delivery signed for real, over the exact bytes received', async () => {
    const { app, launcher } = setup({ auth: { signature: GITHUB } });
    // Spacing and escapes a re-serialised body would lose.
    const body = '{ "ref" : "refs/heads/main",\n  "note": "Zo\\u00eb’s fix" }';
    const res = await post(app, { body, headers: { authorization: '', ...githubHeaders(body, 'gh-1') } });
    expect(res.statusCode).toBe(202);
    expect(res.json().deliveryId).toBe('gh-1');
    expect(launcher.deliveries[0]!.input).toMatchObject({ ref: 'refs/heads/main', note: 'Zoë’s fix' });
  });

  it('401 for a signature over other bytes, or a token without the required signature', async () => {
    const both = { tokens: [{ value: TOKEN }], signature: GITHUB };
    const { app, registry } = setup({ auth: both });
    const signed = githubHeaders('{"ref":"main"}');
    const tampered = await post(app, { body: '{"ref":"main" }', headers: signed });
    const tokenOnly = await post(app, { body: '{"ref":"main"}' });
    const signatureOnly = await post(app, {
      body: '{"ref":"main"}',
      headers: { ...signed, authorization: '' },
    });
    expect([tampered.statusCode, tokenOnly.statusCode, signatureOnly.statusCode]).toEqual([401, 401, 401]);
    expect(
      await sample(registry, 'hookgate_ingress_verification_failures_total', { reason: 'invalid_signature' }),
    ).toBe(1);
    expect(
      await sample(registry, 'hookgate_ingress_verification_failures_total', { reason: 'missing_signature' }),
    ).toBe(1);
    expect((await post(app, { body: '{"ref":"main"}', headers: signed })).statusCode).toBe(202);
  });

  it('never echoes the token, secret, signature or payload in an answer', async () => {
    const { app, launcher } = setup({ auth: { tokens: [{ value: TOKEN }], signature: GITHUB } });
    const body = '{"card":"4242-4242-4242-4242"}';
    const signature = githubHeaders(body)['X-Hub-Signature-256']!;
    const answers = [
      await post(app, { body, headers: { 'x-hub-signature-256': signature, authorization: 'Bearer wrong' } }),
      await post(app, { body: `${body} `, headers: { 'x-hub-signature-256': signature } }),
      await post(app, { body: '{"card":', headers: githubHeaders('{"card":') }),
    ];
    launcher.failNext = new Error(`${TOKEN} ${SECRET}`);
    answers.push(await post(app, { body, headers: githubHeaders(body) }));
    expect(answers.map((a) => a.statusCode)).toEqual([401, 401, 400, 500]);
    for (const a of answers) {
      for (const secret of [TOKEN, SECRET, signature, signature.slice(7), '4242', 'card']) {
        expect(a.body).not.toContain(secret);
        expect(JSON.stringify(a.headers)).not.toContain(secret);
      }
    }
  });

  it('records the use of each verified delivery, and only those', async () => {
    const { app, used, route } = setup();
    await post(app, { headers: { authorization: 'Bearer nope' } });
    await post(app, { body: '{nope' }); // verified, then malformed: still a use of the trigger
    await post(app);
    expect(used).toEqual([route, route]);
  });
});

describe('bodies', () => {
  it('413 from Content-Length over the trigger limit, before reading the body', async () => {
    const { app } = setup({ maxBodyBytes: 100 });
    expect((await post(app, { body: `"${'x'.repeat(98)}"` })).statusCode).toBe(202); // exactly 100 bytes
    const res = await post(app, { body: `"${'x'.repeat(99)}"` });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('payload_too_large');
  });

  it('413 for a chunked body over the trigger limit', async () => {
    const { app } = setup({ maxBodyBytes: 100 });
    const res = await post(app, { body: Readable.from([Buffer.from(`"${'x'.repeat(200)}"`)]) });
    expect(res.statusCode).toBe(413);
  });

  it('413 with our error body for a chunked body over the 1 MiB cap', async () => {
    const { app } = setup();
    const res = await post(app, { body: Readable.from([Buffer.alloc(1_048_577, 0x20)]) });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('payload_too_large');
  });

  it.each([
    ['application/xml', '<a/>'],
    ['multipart/form-data; boundary=x', '--x--'],
    ['text/html', '{}'],
  ])('415 for %s', async (type, body) => {
    const { app } = setup();
    const res = await post(app, { body, headers: { 'content-type': type } });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe('unsupported_media_type');
  });

  it('415 for a body without a content type; an empty body without one is an empty payload', async () => {
    const { app, launcher } = setup({ input: { query: false } });
    const noType = (payload?: string) =>
      app.inject({ method: 'POST', url: PATH, headers: BEARER, ...(payload ? { payload } : {}) });
    expect((await noType('{"a":1}')).statusCode).toBe(415);
    expect((await noType()).statusCode).toBe(202);
    expect(launcher.deliveries[0]!.input).toEqual({});
  });

  it('400 for malformed JSON', async () => {
    const { app } = setup();
    const res = await post(app, { body: '{"ref":' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('malformed_body');
  });

  it.each([
    ['application/vnd.github+json', '{"a":1}', { a: 1 }],
    ['text/plain; charset=UTF-8', '{"Type":"Notification"}', { Type: 'Notification' }],
    [
      'application/x-www-form-urlencoded',
      'command=%2Fdeploy&text=prod',
      { command: '/deploy', text: 'prod' },
    ],
    [
      'application/x-www-form-urlencoded',
      `payload=${encodeURIComponent('{"type":"block_actions"}')}`,
      { type: 'block_actions' },
    ],
    ['application/json', '[1,2]', { payload: [1, 2] }],
    ['application/json', '"hi"', { payload: 'hi' }],
  ])('reads %s %s', async (type, body, input) => {
    const { app, launcher } = setup({ input: { query: false } });
    expect((await post(app, { body, headers: { 'content-type': type } })).statusCode).toBe(202);
    expect(launcher.deliveries[0]!.input).toEqual(input);
  });

  it('400 for text/plain that is not JSON', async () => {
    const { app } = setup();
    expect((await post(app, { body: 'hello', headers: { 'content-type': 'text/plain' } })).statusCode).toBe(
      400,
    );
  });
});

describe('input', () => {
  it('maps defaults, payload, _query and chosen headers into the run input', async () => {
    const { app, launcher } = setup({
      input: {
        defaults: { env: 'staging', team: 'a' },
        query: true,
        headers: ['X-Request-Id', 'Authorization'],
      },
    });
    const res = await post(app, {
      path: `${PATH}?dry=1&tag=a&tag=b`,
      body: '{"env":"prod"}',
      headers: { 'x-request-id': 'r-9' },
    });
    expect(res.statusCode).toBe(202);
    expect(launcher.deliveries[0]!.input).toEqual({
      env: 'prod',
      team: 'a',
      _query: { dry: '1', tag: ['a', 'b'] },
      _headers: { 'x-request-id': 'r-9' },
    });
  });

  it('202 with no run when the filter does not match', async () => {
    const { app, launcher, registry } = setup({
      filter: { headers: { 'X-Event': ['push'] }, fields: [{ path: 'ref', values: ['main'] }] },
    });
    const res = await post(app, { body: '{"ref":"dev"}', headers: { 'x-event': 'push' } });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: true, run: null, filtered: true });
    expect(launcher.runs.size).toBe(0);
    expect(await sample(registry, 'hookgate_ingress_requests_total', { outcome: 'filtered' })).toBe(1);
    expect((await post(app, { body: '{"ref":"main"}', headers: { 'x-event': 'push' } })).json().run).toEqual(
      expect.any(String),
    );
  });

  it("422 when the input fails the workflow's inputSchema", async () => {
    const inputSchema = {
      type: 'object',
      required: ['ref'],
      properties: { ref: { type: 'string', minLength: 3 } },
    };
    const { app, launcher } = setup({ workflow: { spec: { inputSchema } } });
    const res = await post(app, { body: '{"ref":"x"}' });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toEqual({
      code: 'invalid_input',
      message: "input does not match the workflow's inputSchema: /ref must NOT have fewer than 3 characters",
    });
    expect(launcher.runs.size).toBe(0);
    expect((await post(app, { body: '{"ref":"main"}' })).statusCode).toBe(202);
  });

  it('takes the delivery id from the trigger, the scheme, Idempotency-Key, or makes one', async () => {
    const byField = setup({ idempotency: { field: 'event.id' } });
    expect((await post(byField.app, { body: '{"event":{"id":"evt_1"}}' })).json().deliveryId).toBe('evt_1');

    const byScheme = setup({ auth: { signature: GITHUB } });
    const body = '{}';
    expect((await post(byScheme.app, { body, headers: githubHeaders(body, 'gh-7') })).json().deliveryId).toBe(
      'gh-7',
    );

    const byKey = setup();
    expect((await post(byKey.app, { headers: { 'idempotency-key': 'k-1' } })).json().deliveryId).toBe('k-1');

    const random = setup();
    const [a, b] = [(await post(random.app)).json(), (await post(random.app)).json()];
    expect(a.deliveryId).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.run).not.toBe(b.run);
  });

  it('400 for a delivery id longer than 1024 characters', async () => {
    const { app } = setup();
    expect((await post(app, { headers: { 'idempotency-key': 'k'.repeat(1025) } })).statusCode).toBe(400);
  });
});

describe('duplicates and responses', () => {
  it('200 with the same run and duplicate: true for a repeated delivery, starting nothing', async () => {
    const { app, launcher, registry } = setup();
    const first = await post(app, { headers: { 'idempotency-key': 'same' } });
    const again = await post(app, { headers: { 'idempotency-key': 'same' } });
    expect(first.statusCode).toBe(202);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ run: first.json().run, duplicate: true });
    expect(launcher.runs.size).toBe(1);
    const trigger = { trigger: 'team-a/deploy' };
    expect(await sample(registry, 'hookgate_ingress_runs_started_total', trigger)).toBe(1);
    expect(await sample(registry, 'hookgate_ingress_duplicates_total', trigger)).toBe(1);
    expect(
      await sample(registry, 'hookgate_ingress_requests_total', { ...trigger, outcome: 'duplicate' }),
    ).toBe(1);
  });

  it("uses the trigger's status code and headers, keeping 200 for duplicates and HTTP framing intact", async () => {
    const { app } = setup({
      response: { statusCode: 201, headers: { 'X-Run-Source': 'hookgate', 'Content-Length': '1' } },
    });
    const first = await post(app, { headers: { 'idempotency-key': 'x' } });
    expect(first.statusCode).toBe(201);
    expect(first.headers['x-run-source']).toBe('hookgate');
    expect(first.json().run).toEqual(expect.any(String)); // Content-Length was not taken from the route
    const again = await post(app, { headers: { 'idempotency-key': 'x' } });
    expect(again.statusCode).toBe(200);
    expect(again.headers['x-run-source']).toBe('hookgate');
  });
});

describe('wait mode', () => {
  const wait = { response: { mode: 'wait' as const, timeoutSeconds: 1, includeOutput: true } };

  it("200 with the run's result, exit code and termination message", async () => {
    const { app, launcher } = setup(wait);
    launcher.autoFinish = { result: 'Succeeded', exitCode: 0, message: 'deployed v2' };
    const res = await post(app);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      run: expect.any(String),
      result: 'Succeeded',
      exitCode: 0,
      output: 'deployed v2',
    });
  });

  it('200 with result Failed for a failed run: the delivery itself was accepted', async () => {
    const { app, launcher } = setup(wait);
    launcher.autoFinish = { result: 'Failed', exitCode: 3, message: 'boom' };
    const res = await post(app);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ result: 'Failed', exitCode: 3, output: 'boom' });
  });

  it('a run finishing while the sender waits', async () => {
    const { app, launcher } = setup(wait);
    const pending = post(app, { headers: { 'idempotency-key': 'w' } });
    // The run exists once the request has passed every stage: wait for that, not for a fixed time.
    while (launcher.runs.size === 0) await new Promise((r) => setTimeout(r, 5));
    const [run] = [...launcher.runs.keys()];
    launcher.finish(run!, { result: 'Succeeded', exitCode: 0 });
    expect((await pending).json()).toMatchObject({ run, result: 'Succeeded' });
  });

  it('504 with the run id at the timeout', async () => {
    const { app, launcher, registry } = setup(wait);
    const res = await post(app);
    expect(res.statusCode).toBe(504);
    const [run] = [...launcher.runs.keys()];
    expect(res.json()).toEqual({ error: { code: 'run_timeout', message: expect.any(String) }, run });
    expect(await sample(registry, 'hookgate_ingress_requests_total', { outcome: 'run_timeout' })).toBe(1);
  });
});

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
