// The generated CRDs against a real API server: what users apply is accepted with the same
// defaults zod fills in, and what is wrong is rejected by `kubectl apply` with a message that says
// what. The global setup has applied crds/*.yaml, so a CRD the API server refused (not structural,
// CEL over its cost budget) fails every test here.
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { WebhookTriggerSpec, WorkflowSpec } from '../api/v1alpha1/index.ts';
import { kubectl, useNamespace, waitFor } from './helpers.ts';

const ns = useNamespace('crds');

type Spec = Record<string, unknown>;
const manifest = (kind: string, name: string, spec: Spec) => ({
  apiVersion: 'hookgate.io/v1alpha1',
  kind,
  metadata: { name },
  spec,
});
const apply = (obj: object) => kubectl(['apply', '-n', ns.name, '-f', '-'], { input: JSON.stringify(obj) });

async function getJson(resource: string, name: string) {
  const r = await kubectl(['get', resource, name, '-n', ns.name, '-o', 'json']);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout);
}

async function expectAccepted(kind: string, name: string, spec: Spec, schema: z.ZodType) {
  const r = await apply(manifest(kind, name, spec));
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  // The API server's defaults are zod's defaults: one source of truth.
  expect((await getJson(kind.toLowerCase(), name)).spec).toEqual(schema.parse(spec));
}

const workflowSpec = {
  jobTemplate: {
    spec: {
      backoffLimit: 0,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'run', image: 'busybox' }] } },
    },
  },
};

const trigger = (auth: Spec, more: Spec = {}) => ({ workflowRef: { name: 'wf' }, auth, ...more });

describe('Workflow CRD', () => {
  it('accepts a minimal workflow and fills in the defaults', async () => {
    await expectAccepted('Workflow', 'wf', workflowSpec, WorkflowSpec);
    const { spec } = await getJson('hgwf', 'wf');
    expect(spec).toMatchObject({
      input: { path: '/var/run/hookgate/input.json' },
      concurrencyPolicy: 'Allow',
      successfulRunsHistoryLimit: 3,
      failedRunsHistoryLimit: 1,
    });
    // The JobSpec and an input schema are kept as written.
    expect(spec.jobTemplate).toEqual(workflowSpec.jobTemplate);
  });

  it('accepts every field', async () => {
    await expectAccepted(
      'Workflow',
      'wf-full',
      {
        ...workflowSpec,
        jobTemplate: {
          ...workflowSpec.jobTemplate,
          metadata: { labels: { team: 'a' }, annotations: { a: 'b' } },
        },
        input: { path: '/in/payload.json', containers: ['run'] },
        inputSchema: { type: 'object', required: ['event'], properties: { event: { type: 'string' } } },
        concurrencyPolicy: 'Forbid',
        successfulRunsHistoryLimit: 0,
        failedRunsHistoryLimit: 10,
      },
      WorkflowSpec,
    );
  });

  it.each([
    [
      'unknown concurrency policy',
      { concurrencyPolicy: 'Sometimes' },
      'spec.concurrencyPolicy: Unsupported value: "Sometimes"',
    ],
    [
      'negative history limit',
      { successfulRunsHistoryLimit: -1 },
      'spec.successfulRunsHistoryLimit: Invalid value: -1: spec.successfulRunsHistoryLimit in body should be greater than or equal to 0',
    ],
    [
      'relative input path',
      { input: { path: 'input.json' } },
      'spec.input.path: Invalid value: "input.json"',
    ],
    ['unknown field', { retries: 3 }, 'unknown field "spec.retries"'],
  ])('rejects %s', async (_, change, message) => {
    const r = await apply(manifest('Workflow', 'bad', { ...workflowSpec, ...change }));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
    expect(WorkflowSpec.safeParse({ ...workflowSpec, ...change }).success).toBe(false);
  });

  it('rejects a workflow without a job template', async () => {
    const r = await apply(manifest('Workflow', 'bad', {}));
    expect(r.stderr).toContain('spec.jobTemplate: Required value');
  });
});

describe('WebhookTrigger CRD', () => {
  // The reference products (../shared/reference) and every scheme, as users would write them.
  it.each<[string, string, Spec]>([
    [
      'runtools',
      'the secret in X-Webhook-Secret',
      trigger({ signature: { scheme: 'shared-secret', header: 'X-Webhook-Secret' } }),
    ],
    [
      'toolplex',
      't=<ms>,v1=<hex> in X-Toolplex-Signature',
      trigger({
        signature: {
          scheme: 'timestamped',
          header: 'X-Toolplex-Signature',
          timestampUnit: 'milliseconds',
          toleranceSeconds: 300,
        },
      }),
    ],
    [
      'agentruntime',
      'bearer and sha256=<hex> in X-Agentruntime-Signature, default input',
      trigger(
        {
          bearer: {},
          signature: { scheme: 'hmac-sha256', header: 'X-Agentruntime-Signature', prefix: 'sha256=' },
        },
        { input: { defaults: { source: 'shopify', nested: { a: [1, 2] } } } },
      ),
    ],
    [
      'promptrails',
      'bearer and sha256=<hex> in X-Webhook-Signature',
      trigger({ bearer: {}, signature: { scheme: 'hmac-sha256', prefix: 'sha256=' } }),
    ],
    ['promptrails-nosecret', 'bearer only', trigger({ bearer: {} })],
    [
      'flowtrux',
      '<hex> in X-Webhook-Signature, waiting for the result',
      trigger(
        { signature: { scheme: 'hmac-sha256', header: 'X-Webhook-Signature', encoding: 'hex' } },
        { response: { mode: 'wait', timeoutSeconds: 60, statusCode: 200, headers: { 'X-Run': 'yes' } } },
      ),
    ],
    [
      'standard-webhooks',
      'with a tolerance',
      trigger({ signature: { scheme: 'standard-webhooks', toleranceSeconds: 60 } }),
    ],
    [
      'github',
      'with a replay window of a day',
      trigger({ signature: { scheme: 'github', replayWindowSeconds: 86400 } }),
    ],
    [
      'github',
      'filtered on event and branch',
      trigger(
        { signature: { scheme: 'github' } },
        {
          filter: {
            headers: { 'X-GitHub-Event': ['push'] },
            fields: [{ path: 'ref', values: ['refs/heads/main'] }],
          },
        },
      ),
    ],
    [
      'stripe',
      'delivery id from the body',
      trigger({ signature: { scheme: 'stripe' } }, { idempotency: { field: 'id' } }),
    ],
    ['slack', 'as is', trigger({ signature: { scheme: 'slack' } })],
    ['alertmanager', 'HTTP Basic, generated', trigger({ basic: {} })],
    [
      'registry',
      'a URL token from a Secret, HTTP Basic from another',
      trigger({
        urlToken: { secretRef: { name: 'reg', key: 'token' } },
        basic: { secretRef: { name: 'reg-basic' } },
      }),
    ],
    ['graph', 'a body secret', trigger({ bodySecret: { field: 'value.*.clientState' } })],
    [
      'handshakes',
      "Meta's with a referenced verify token, CloudEvents' with origins, Trello's",
      trigger(
        { signature: { scheme: 'github' } },
        {
          handshakes: [
            { name: 'meta-verify-token', verifyToken: { secretRef: { name: 'meta', key: 'verify' } } },
            { name: 'cloudevents-options', allowedOrigins: ['eventgrid.azure.net', '*'], allowedRate: 120 },
            { name: 'trello-head' },
          ],
        },
      ),
    ],
    [
      'referenced',
      'base64 hmac, referenced secrets, suspended, rate limited',
      trigger(
        {
          bearer: { secretRef: { name: 'sender', key: 'token' } },
          signature: {
            scheme: 'hmac-sha256',
            encoding: 'base64',
            secretRef: { name: 'sender', key: 'hmac' },
          },
        },
        {
          suspend: true,
          rateLimit: { requests: 5 },
          maxBodyBytes: 65536,
          input: { query: false, headers: ['X-Request-Id'] },
          idempotency: { header: 'X-Request-Id' },
        },
      ),
    ],
  ])('accepts %s (%s) with the defaults filled in', async (name, _, spec) => {
    await expectAccepted('WebhookTrigger', name, spec, WebhookTriggerSpec);
  });

  it('fills in the defaults a minimal trigger relies on', async () => {
    await apply(manifest('WebhookTrigger', 'minimal', trigger({ bearer: {} })));
    expect((await getJson('hgt', 'minimal')).spec).toEqual({
      workflowRef: { name: 'wf' },
      auth: { bearer: {} },
      suspend: false,
      rateLimit: { requests: 30, periodSeconds: 60 },
      maxBodyBytes: 1048576,
      // The query string is signed by no scheme: it reaches a run only where a trigger opts in.
      input: { query: false },
      response: { mode: 'async', timeoutSeconds: 30, deadlineSeconds: 8, includeOutput: false },
    });
  });

  const signed = (signature: Spec, more: Spec = {}) => trigger({ signature }, more);
  it.each<[string, Spec, string[]]>([
    [
      'unknown signature scheme',
      signed({ scheme: 'hmac-sha1' }),
      ['spec.auth.signature.scheme: Unsupported value: "hmac-sha1"', '"hmac-sha256"'],
    ],
    [
      'negative rate limit',
      trigger({ bearer: {} }, { rateLimit: { requests: -5 } }),
      ['spec.rateLimit.requests: Invalid value: -5', 'should be greater than or equal to 1'],
    ],
    [
      'zero rate limit period',
      trigger({ bearer: {} }, { rateLimit: { periodSeconds: 0 } }),
      ['spec.rateLimit.periodSeconds: Invalid value: 0', 'should be greater than or equal to 1'],
    ],
    ['unknown field', trigger({ bearer: { token: 'hgt_x' } }), ['unknown field "spec.auth.bearer.token"']],
    ['misspelt field', { ...trigger({ bearer: {} }), rateLimits: {} }, ['unknown field "spec.rateLimits"']],
    [
      'auth with no credential at all',
      trigger({}),
      [
        'spec.auth: Invalid value',
        'auth needs at least one of bearer, basic, urlToken, bodySecret, signature or oidc, or a provider',
      ],
    ],
    [
      'bearer and basic together',
      trigger({ bearer: {}, basic: {} }),
      ['bearer and basic both use the Authorization header: set one of them'],
    ],
    [
      'a body secret at a path that ends in *',
      trigger({ bodySecret: { field: 'value.*' } }),
      ['spec.auth.bodySecret.field'],
    ],
    [
      'the cloudevents-options handshake without allowedOrigins',
      trigger({ bearer: {} }, { handshakes: [{ name: 'cloudevents-options' }] }),
      ['the cloudevents-options handshake needs allowedOrigins'],
    ],
    [
      'a verify token on another handshake than Meta',
      trigger({ bearer: {} }, { handshakes: [{ name: 'dropbox-challenge', verifyToken: {} }] }),
      ['verifyToken applies only to the meta-verify-token handshake'],
    ],
    [
      "Zoom's handshake without a signature",
      trigger({ bearer: {} }, { handshakes: [{ name: 'zoom-url-validation' }] }),
      ['handshakes are signed: set auth.signature or auth.provider'],
    ],
    [
      "Asana's handshake with a referenced secret",
      trigger(
        { signature: { scheme: 'hmac-sha256', secretRef: { name: 's', key: 'k' } } },
        { handshakes: [{ name: 'asana-hook-secret' }] },
      ),
      ['the asana-hook-secret handshake captures the signing secret'],
    ],
    [
      'an unknown handshake',
      trigger({ bearer: {} }, { handshakes: [{ name: 'ftp' }] }),
      ['spec.handshakes[0].name: Unsupported value: "ftp"'],
    ],
    [
      'prefix on a non-hmac scheme',
      signed({ scheme: 'github', prefix: 'sha256=' }),
      ['spec.auth.signature: Invalid value', 'prefix and encoding apply only to the hmac-sha256 scheme'],
    ],
    [
      'timestamp unit on a non-timestamped scheme',
      signed({ scheme: 'hmac-sha256', timestampUnit: 'milliseconds' }),
      ['timestampUnit applies only to the timestamped scheme'],
    ],
    [
      'header on a scheme that fixes it',
      signed({ scheme: 'stripe', header: 'X-Signature' }),
      ['header is fixed by the github, stripe, slack and standard-webhooks schemes'],
    ],
    [
      'tolerance on an untimed scheme',
      signed({ scheme: 'shared-secret', toleranceSeconds: 60 }),
      ['toleranceSeconds applies only to timestamped schemes'],
    ],
    [
      'a replay window on a timestamped scheme',
      signed({ scheme: 'stripe', replayWindowSeconds: 60 }),
      ['replayWindowSeconds applies only to the github and hmac-sha256 schemes'],
    ],
    [
      'idempotency from a header and a field',
      trigger({ bearer: {} }, { idempotency: { header: 'X-Id', field: 'id' } }),
      ['spec.idempotency: Invalid value', 'set header or field, not both'],
    ],
    [
      'header name with a space',
      signed({ scheme: 'hmac-sha256', header: 'X Sig' }),
      ['spec.auth.signature.header: Invalid value: "X Sig"'],
    ],
    [
      'body limit over 1 MiB',
      trigger({ bearer: {} }, { maxBodyBytes: 2_000_000 }),
      ['spec.maxBodyBytes: Invalid value: 2000000', 'less than or equal to 1048576'],
    ],
    [
      'response header name with a space',
      trigger({ bearer: {} }, { response: { headers: { 'X Run': 'yes' } } }),
      ['spec.response.headers: Invalid value', 'each key must match'],
    ],
    [
      'filter on an empty header name',
      trigger({ bearer: {} }, { filter: { headers: { '': ['x'] } } }),
      ['spec.filter.headers: Invalid value', 'each key must match'],
    ],
    [
      '65 response headers',
      trigger(
        { bearer: {} },
        { response: { headers: Object.fromEntries([...Array(65).keys()].map((i) => [`X-${i}`, 'v'])) } },
      ),
      ['spec.response.headers: Too many: 65: must have at most 64 items'],
    ],
    ['missing workflowRef', { auth: { bearer: {} } }, ['spec.workflowRef: Required value']],
    ['missing auth', { workflowRef: { name: 'wf' } }, ['spec.auth: Required value']],
  ])('rejects %s', async (_, spec, messages) => {
    const r = await apply(manifest('WebhookTrigger', 'bad', spec));
    expect(r.code).not.toBe(0);
    for (const m of messages) expect(r.stderr).toContain(m);
    // The components check specs with zod, which must refuse them too.
    expect(WebhookTriggerSpec.safeParse(spec).success).toBe(false);
  });
});

describe('kubectl', () => {
  it('lists triggers by short name with their columns, filled from status', async () => {
    await apply(manifest('WebhookTrigger', 'listed', trigger({ bearer: {} })));
    const status = {
      conditions: [
        {
          type: 'Ready',
          status: 'False',
          reason: 'WorkflowNotFound',
          message: 'workflow wf not found',
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
      url: 'https://hooks.example.com/hooks/x/listed',
      lastTriggeredTime: '2026-01-01T00:00:00Z',
    };
    const patch = await kubectl([
      'patch',
      'hgtrigger',
      'listed',
      '-n',
      ns.name,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status }),
    ]);
    expect(patch.stderr).toBe('');
    // Status written through the subresource gets its own defaults.
    expect((await getJson('hgt', 'listed')).status.observedGeneration).toBe(-1);

    const r = await kubectl(['get', 'hgt', 'listed', '-n', ns.name]);
    expect(r.code).toBe(0);
    const [header, row] = r.stdout.trim().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual([
      'NAME',
      'WORKFLOW',
      'READY',
      'REASON',
      'URL',
      'LAST TRIGGERED',
      'AGE',
    ]);
    expect(row!.split(/\s+/).slice(0, 5)).toEqual(['listed', 'wf', 'False', 'WorkflowNotFound', status.url]);
  });

  it('ignores status sent with the object (status subresource): it is served as not yet observed', async () => {
    await apply({
      ...manifest('Workflow', 'wf-status', workflowSpec),
      status: { lastRunTime: '2026-01-01T00:00:00Z' },
    });
    expect((await getJson('workflow', 'wf-status')).status).toEqual({ observedGeneration: -1 });
  });

  it('lists workflows by short name with their columns', async () => {
    await apply(manifest('Workflow', 'wf-listed', workflowSpec));
    const r = await kubectl(['get', 'hgwf', 'wf-listed', '-n', ns.name]);
    const [header, row] = r.stdout.trim().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual(['NAME', 'READY', 'POLICY', 'LAST RUN', 'AGE']);
    expect(row).toMatch(/^wf-listed\s+Allow\s/);
  });

  it('lists both kinds under the hookgate category', async () => {
    await apply(manifest('Workflow', 'wf-cat', workflowSpec));
    await apply(manifest('WebhookTrigger', 'hgt-cat', trigger({ bearer: {} })));
    const r = await kubectl(['get', 'hookgate', '-n', ns.name, '-o', 'name']);
    expect(r.code).toBe(0);
    const names = r.stdout.trim().split('\n');
    expect(names).toContain('workflow.hookgate.io/wf-cat');
    expect(names).toContain('webhooktrigger.hookgate.io/hgt-cat');
  });

  it('has short names no other resource on the server uses', async () => {
    const r = await kubectl(['api-resources', '--no-headers', '-o', 'wide']);
    const rows = r.stdout.trim().split('\n');
    for (const short of ['hgwf', 'hgt', 'hgtrigger']) {
      const users = rows.filter((row) => row.split(/\s+/).some((col) => col.split(',').includes(short)));
      expect(users.map((row) => row.split(/\s+/)[0])).toEqual([
        short === 'hgwf' ? 'workflows' : 'webhooktriggers',
      ]);
    }
  });

  it('explains the fields from the zod descriptions', async () => {
    // The OpenAPI document is published a moment after the CRDs are established.
    await waitFor(
      async () =>
        (await kubectl(['explain', 'webhooktriggers.spec.suspend'])).stdout.includes(
          'A suspended trigger answers 403 and starts nothing.',
        ),
      { what: 'kubectl explain with the description' },
    );
  });
});
