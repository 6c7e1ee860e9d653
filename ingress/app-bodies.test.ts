// The ingress app's reading of a body (over app.inject, setup in app.test-helper.ts): size limits,
// content types and parsing, and the run input mapped from it: defaults, query, headers, filter,
// inputSchema and the delivery id.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BEARER, closeApps, GITHUB, githubHeaders, PATH, post, setup } from './app.test-helper.ts';
import { sample } from './http/fakes.test-helper.ts';

closeApps();

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
