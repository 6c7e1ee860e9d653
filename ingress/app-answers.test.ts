// The ingress app's answers (over app.inject, setup in app.test-helper.ts): the probes, each status
// code and the order of the checks that choose it, and verification of tokens and signatures.
import { describe, expect, it } from 'vitest';
import {
  BEARER,
  closeApps,
  GITHUB,
  githubHeaders,
  type Overrides,
  PATH,
  type Post,
  post,
  setup,
} from './app.test-helper.ts';
import { SECRET, sample, TOKEN } from './http/fakes.test-helper.ts';
import { ApiUnavailableError, InputTooLargeError, JobRejectedError } from './types.ts';

closeApps();

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

  // What the launcher fails with is answered in our words: never its text (an API server's, a token).
  it.each([
    [
      'api_unavailable',
      503,
      '5',
      new ApiUnavailableError('connect ECONNREFUSED 10.0.0.1:6443'),
      'ECONNREFUSED',
    ],
    ['payload_too_large', 413, undefined, new InputTooLargeError('input is 1048577 bytes'), '1048577'],
    ['run_rejected', 503, '60', new JobRejectedError('Job.batch is invalid: x'), 'Job.batch'],
    ['internal_error', 500, undefined, new Error(`leaked ${TOKEN}`), TOKEN],
  ] as const)(
    '%s: %i, Retry-After %s, without the error text',
    async (code, status, retryAfter, error, text) => {
      const { app, launcher } = setup();
      launcher.failNext = error;
      const res = await post(app);
      expect(res.statusCode).toBe(status);
      expect(res.headers['retry-after']).toBe(retryAfter);
      expect(res.json().error.code).toBe(code);
      expect(res.body).not.toContain(text);
    },
  );
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
