import { describe, expect, it } from 'vitest';
import { testRoute } from './http/fakes.test-helper.ts';
import {
  bodyKind,
  deliveryIdOf,
  fieldAt,
  InputSchemas,
  jsonDepth,
  MalformedBodyError,
  mapInput,
  matchesFilter,
  parseBody,
} from './input.ts';

describe('bodyKind', () => {
  it.each([
    ['application/json', 'json'],
    ['application/json; charset=utf-8', 'json'],
    ['Application/JSON', 'json'],
    ['application/vnd.github+json', 'json'],
    ['application/cloudevents+json; charset=UTF-8', 'json'],
    ['text/plain; charset=UTF-8', 'json'],
    ['application/x-www-form-urlencoded', 'form'],
    ['application/xml', undefined],
    ['multipart/form-data; boundary=x', undefined],
    ['application/jsonp', undefined],
    ['text/json+', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%j → %s', (type, kind) => {
    expect(bodyKind(type)).toBe(kind);
  });
});

describe('parseBody', () => {
  it('reads JSON, and an empty body as an empty object', () => {
    expect(parseBody('json', Buffer.from('{"a":[1,"é"]}'))).toEqual({ a: [1, 'é'] });
    expect(parseBody('json', Buffer.from('[1,2]'))).toEqual([1, 2]);
    expect(parseBody('json', Buffer.alloc(0))).toEqual({});
    expect(parseBody(undefined, undefined)).toEqual({});
  });

  it('refuses malformed JSON', () => {
    expect(() => parseBody('json', Buffer.from('{"a":'))).toThrow(MalformedBodyError);
    expect(() => parseBody('json', Buffer.from('hello'))).toThrow(MalformedBodyError);
  });

  it('reads forms; a repeated field is an array', () => {
    const body = Buffer.from('command=%2Fdeploy&text=prod+now&tag=a&tag=b');
    expect(parseBody('form', body)).toEqual({ command: '/deploy', text: 'prod now', tag: ['a', 'b'] });
  });

  it("reads Slack interactivity's payload=<json> as the JSON", () => {
    const body = Buffer.from(`payload=${encodeURIComponent('{"type":"block_actions","user":{"id":"U1"}}')}`);
    expect(parseBody('form', body)).toEqual({ type: 'block_actions', user: { id: 'U1' } });
    expect(() => parseBody('form', Buffer.from('payload=%7Bnope'))).toThrow(MalformedBodyError);
  });
});

describe('fieldAt', () => {
  const payload = JSON.parse('{"a":{"b":[{"c":"x"}]},"__proto__":{"polluted":1},"n":0}');

  it('follows dot paths through objects and arrays', () => {
    expect(fieldAt(payload, 'a.b.0.c')).toBe('x');
    expect(fieldAt(payload, 'n')).toBe(0);
    expect(fieldAt(payload, 'a.missing.c')).toBeUndefined();
  });

  it('reads own properties only', () => {
    expect(fieldAt({}, 'constructor')).toBeUndefined();
    expect(fieldAt({ a: 'x' }, 'a.length')).toBeUndefined();
    expect(fieldAt(payload, '__proto__.polluted')).toBe(1); // the sender's own key, not Object.prototype
    expect(fieldAt({}, '__proto__')).toBeUndefined();
  });
});

describe('matchesFilter', () => {
  const filter = {
    headers: { 'X-GitHub-Event': ['push', 'release'] },
    fields: [
      { path: 'ref', values: ['refs/heads/main'] },
      { path: 'forced', values: ['false'] },
    ],
  };
  const headers = { 'x-github-event': 'push' };

  it('passes when every header and field equals one of its values', () => {
    expect(matchesFilter(filter, { ref: 'refs/heads/main', forced: false }, headers)).toBe(true);
    expect(matchesFilter(undefined, 'anything', {})).toBe(true);
  });

  it.each([
    ['another header value', { ref: 'refs/heads/main', forced: false }, { 'x-github-event': 'issues' }],
    ['a missing header', { ref: 'refs/heads/main', forced: false }, {}],
    ['another field value', { ref: 'refs/heads/dev', forced: false }, headers],
    ['a missing field', { forced: false }, headers],
    [
      'an object where a scalar is expected',
      { ref: { toString: 'refs/heads/main' }, forced: false },
      headers,
    ],
  ])('fails on %s', (_, payload, h) => {
    expect(matchesFilter(filter, payload, h)).toBe(false);
  });
});

describe('mapInput', () => {
  it('merges defaults under the payload, then _query and chosen headers', () => {
    const route = testRoute({
      input: {
        defaults: { env: 'staging', source: 'default' },
        query: true,
        headers: ['X-Request-Id', 'X-Absent'],
      },
    });
    const input = mapInput(
      route,
      { env: 'prod' },
      { dry: 'true' },
      { 'x-request-id': 'r1', 'x-other': 'no' },
    );
    expect(input).toEqual({
      env: 'prod',
      source: 'default',
      _query: { dry: 'true' },
      _headers: { 'x-request-id': 'r1' },
    });
  });

  it('puts a non-object payload under "payload" and leaves _query out when off', () => {
    const route = testRoute({ input: { query: false } });
    expect(mapInput(route, [1, 2], { a: '1' }, {})).toEqual({ payload: [1, 2] });
    expect(mapInput(route, 'text', {}, {})).toEqual({ payload: 'text' });
  });

  it('never copies credentials, even when listed', () => {
    const route = testRoute({
      input: { query: false, headers: ['Authorization', 'Cookie', 'X-Webhook-Secret', 'X-Keep'] },
      auth: { signature: { scheme: 'shared-secret', secrets: [{ value: 's3cret' }] } },
    });
    const headers = {
      authorization: 'Bearer t0ken',
      cookie: 'c=1',
      'x-webhook-secret': 's3cret',
      'x-keep': 'k',
    };
    expect(mapInput(route, {}, {}, headers)).toEqual({ _headers: { 'x-keep': 'k' } });
  });
});

describe('deliveryIdOf', () => {
  it('reads the configured header or field', () => {
    expect(deliveryIdOf({ header: 'X-GitHub-Delivery' }, {}, { 'x-github-delivery': 'd1' })).toBe('d1');
    expect(deliveryIdOf({ field: 'event.id' }, { event: { id: 42 } }, {})).toBe('42');
  });

  it('falls back to Idempotency-Key, then to nothing', () => {
    expect(deliveryIdOf({ field: 'id' }, {}, { 'idempotency-key': ' k1 ' })).toBe('k1');
    expect(deliveryIdOf(undefined, {}, { 'idempotency-key': 'k2' })).toBe('k2');
    expect(deliveryIdOf({ header: 'webhook-id' }, {}, { 'webhook-id': '  ' })).toBeUndefined();
    expect(deliveryIdOf({ field: 'id' }, { id: { nested: true } }, {})).toBeUndefined();
  });
});

describe('InputSchemas', () => {
  const workflow = (uid: string, inputSchema?: Record<string, unknown>) =>
    testRoute({ workflow: { uid, spec: { inputSchema } } }).workflow;
  const schema = {
    type: 'object',
    required: ['email'],
    properties: { email: { type: 'string', format: 'email' } },
  };

  it('passes valid input and explains invalid input', () => {
    const schemas = new InputSchemas();
    expect(schemas.check(workflow('w1', schema), { email: 'a@example.com' })).toBeUndefined();
    expect(schemas.check(workflow('w1', schema), { email: 'nope' })).toBe('/email must match format "email"');
    expect(schemas.check(workflow('w1', schema), {})).toBe("/ must have required property 'email'");
  });

  it('accepts everything without a schema', () => {
    expect(new InputSchemas().check(workflow('w1'), 'anything')).toBeUndefined();
  });

  it('compiles once per workflow and schema, and recompiles a changed schema', () => {
    const schemas = new InputSchemas();
    schemas.check(workflow('w1', schema), {});
    schemas.check(workflow('w1', structuredClone(schema)), {});
    expect(schemas.size).toBe(1);
    const loose = { type: 'object' };
    expect(schemas.check(workflow('w1', loose), {})).toBeUndefined();
    expect(schemas.size).toBe(2);
  });

  it('keeps at most `max` validators', () => {
    const schemas = new InputSchemas(3);
    for (let i = 0; i < 10; i++)
      schemas.check(workflow(`w${i}`, { type: 'object', $id: 'https://example.com/same' }), {});
    expect(schemas.size).toBe(3);
    // Evicted schemas are gone from Ajv too: compiling the same $id again does not clash.
    expect(schemas.check(workflow('w0', { type: 'string', $id: 'https://example.com/same' }), {})).toBe(
      '/ must be string',
    );
  });

  it('understands draft-07 and 2020-12 schemas', () => {
    const schemas = new InputSchemas();
    const draft7 = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', required: ['a'] };
    const draft2020 = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      prefixItems: [{ type: 'number' }],
    };
    expect(schemas.check(workflow('a', draft7), {})).toMatch(/required property 'a'/);
    expect(schemas.check(workflow('b', draft2020), ['x'])).toBe('/0 must be number');
  });
});

describe('jsonDepth', () => {
  it.each([
    ['{}', 1],
    ['[]', 1],
    ['1', 0],
    ['{"a":[{"b":[]}]}', 4],
    ['{"a":"[[[[[[","b":"\\"[[["}', 1], // brackets in strings, escaped quotes
    ['[[],[],[[]]]', 3],
    ['"\\\\"[[', 2], // an escaped backslash ends before the quote
  ])('%s → %d', (text, depth) => {
    expect(jsonDepth(text)).toBe(depth);
  });

  it('stops counting past the cap', () => {
    expect(jsonDepth('['.repeat(100_000))).toBe(65);
  });
});

describe('forms', () => {
  it('keeps a __proto__ field as a field, never a prototype', () => {
    const form = parseBody('form', Buffer.from('__proto__=x&a=1')) as Record<string, unknown>;
    expect(Object.hasOwn(form, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(form)).toBe(Object.prototype);
    expect(form.a).toBe('1');
  });

  it('refuses more than 1000 fields before parsing them', () => {
    expect(() => parseBody('form', Buffer.from('a&'.repeat(1000)))).toThrow(MalformedBodyError);
    expect(parseBody('form', Buffer.from(Array(1000).fill('a=1').join('&')))).toEqual({
      a: Array(1000).fill('1'),
    });
  });
});
